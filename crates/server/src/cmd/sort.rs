//! SORT and SORT_RO: sort the elements of a list, set or sorted set, optionally by external
//! weights, fetching external values, storing the result as a list.
//!
//! ```text
//! SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
//!          [ALPHA] [STORE destination]
//! SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA]
//! ```
//!
//! Semantics follow Redis' `sortCommandGeneric`: options in any order (the last one of a kind
//! wins); a BY pattern without `*` means "do not sort" (native order of lists and sorted sets,
//! ASC/DESC and LIMIT still applied); numeric sorting breaks ties by comparing elements
//! byte-wise; a weight that is not a number fails the whole command with
//! `ERR One or more scores can't be converted into double`; missing weights count as 0 (numeric)
//! or sort first (ALPHA); `GET #` is the element itself; `pattern->field` reads a hash field.
//! Because BY/GET read keys named by the data, SORT with such patterns runs with every shard
//! locked (see [`sort_keys`]).

use bytes::Bytes;
use ferrodis_keyspace::{List, Value, ValueMut, ValueRef};
use ferrodis_resp::Frame;

use crate::command::args::{eq_ic, parse_i64};
use crate::command::strtod::strtod;
use crate::command::{Ctx, KeyPositions};
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// `ERR One or more scores can't be converted into double`.
pub const SCORES_NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// Parsed SORT options.
#[derive(Debug, Default)]
struct SortArgs {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<Bytes>,
    /// BY without `*`: keep the native order.
    dont_sort: bool,
    gets: Vec<Bytes>,
    store: Option<Bytes>,
}

impl SortArgs {
    fn parse(args: &[Bytes], readonly: bool) -> Result<SortArgs, CommandError> {
        let mut s = SortArgs::default();
        let mut j = 2;
        while j < args.len() {
            let left = args.len() - j - 1;
            let a = &args[j];
            if eq_ic(a, "asc") {
                s.desc = false;
            } else if eq_ic(a, "desc") {
                s.desc = true;
            } else if eq_ic(a, "alpha") {
                s.alpha = true;
            } else if eq_ic(a, "limit") && left >= 2 {
                s.limit = Some((parse_i64(&args[j + 1])?, parse_i64(&args[j + 2])?));
                j += 2;
            } else if !readonly && eq_ic(a, "store") && left >= 1 {
                s.store = Some(args[j + 1].clone());
                j += 1;
            } else if eq_ic(a, "by") && left >= 1 {
                s.dont_sort = !args[j + 1].contains(&b'*');
                s.by = Some(args[j + 1].clone());
                j += 1;
            } else if eq_ic(a, "get") && left >= 1 {
                s.gets.push(args[j + 1].clone());
                j += 1;
            } else {
                return Err(CommandError::Syntax);
            }
            j += 1;
        }
        Ok(s)
    }
}

/// SORT's key extraction (Redis `sortGetKeys`): the sorted key and the last STORE destination;
/// BY/GET patterns with a `*` (other than `GET #`) read keys named by the data, so the command
/// then runs with every shard locked.
pub fn sort_keys(args: &[Bytes]) -> KeyPositions {
    let mut found = KeyPositions {
        keys: vec![1],
        unnamed: false,
    };
    let mut store = None;
    let mut j = 2;
    while j < args.len() {
        let a = &args[j];
        let has_arg = j + 1 < args.len();
        if eq_ic(a, "limit") {
            j += 2;
        } else if (eq_ic(a, "get") || eq_ic(a, "by")) && has_arg {
            let p = &args[j + 1];
            if p.contains(&b'*') && &p[..] != b"#" {
                found.unnamed = true;
            }
            j += 1;
        } else if eq_ic(a, "store") && has_arg {
            store = Some(j + 1);
            j += 1;
        }
        j += 1;
    }
    if let Some(s) = store {
        if args[0].eq_ignore_ascii_case(b"sort") {
            found.keys.push(s);
        }
    }
    found
}

/// `SORT key ...`: the sorted elements (or GET values), or with STORE the number stored.
pub fn sort(ctx: &mut Ctx) -> Reply {
    sort_generic(ctx, false)
}

/// `SORT_RO key ...`: SORT without STORE (a read-only command).
pub fn sort_ro(ctx: &mut Ctx) -> Reply {
    sort_generic(ctx, true)
}

/// One element to sort with its weight.
struct Item {
    elem: Bytes,
    score: f64,
    /// The BY value for ALPHA sorting by pattern (`None` when missing).
    cmp: Option<Bytes>,
}

/// The kinds of value SORT reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> Reply {
    let mut opts = SortArgs::parse(ctx.args, readonly)?;
    let key = ctx.arg(1).clone();
    let (kind, elems) = load(ctx, &key)?;
    if opts.dont_sort && kind == Kind::Set && opts.store.is_some() {
        // A set has no native order: with STORE Redis sorts it (ALPHA) so replicas agree.
        opts.dont_sort = false;
        opts.alpha = true;
        opts.by = None;
    }
    let n = elems.len() as i64;
    let (start, end) = limits(opts.limit, n);
    let mut items: Vec<Item> = if opts.dont_sort && kind != Kind::Set {
        // Native order, ASC/DESC and LIMIT applied directly.
        let mut v = elems;
        if opts.desc {
            v.reverse();
        }
        let range = if end >= start {
            &v[start as usize..=end as usize]
        } else {
            &[]
        };
        range.iter().map(|e| item(e.clone())).collect()
    } else {
        elems.into_iter().map(item).collect()
    };
    let (start, end) = if opts.dont_sort && kind != Kind::Set {
        (0, items.len() as i64 - 1)
    } else {
        (start, end)
    };
    if !opts.dont_sort {
        let ok = weigh(ctx, &opts, &mut items)?;
        sort_items(&mut items, &opts);
        if !ok {
            return Err(CommandError::msg(SCORES_NOT_DOUBLE));
        }
    }
    let chosen: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let mut out: Vec<Option<Bytes>> = Vec::new();
    for it in chosen {
        if opts.gets.is_empty() {
            out.push(Some(it.elem.clone()));
        }
        for g in &opts.gets {
            out.push(lookup_by_pattern(ctx, g, &it.elem)?);
        }
    }
    match opts.store.take() {
        None => Ok(Frame::Array(
            out.into_iter()
                .map(|v| v.map_or(Frame::Null, Frame::Bulk))
                .collect(),
        )),
        Some(dst) => store(ctx, &dst, out),
    }
}

fn item(elem: Bytes) -> Item {
    Item {
        elem,
        score: 0.0,
        cmp: None,
    }
}

/// `(start, end)` inclusive after Redis' LIMIT clamping; `end < start` means empty.
fn limits(limit: Option<(i64, i64)>, n: i64) -> (i64, i64) {
    let (ls, lc) = limit.unwrap_or((0, -1));
    let mut start = ls.max(0).min(n);
    let count = lc.max(-1).min(n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    if end >= n {
        end = n - 1;
    }
    (start, end)
}

/// The elements of the value at `key`: lists head to tail, sorted sets by rank, sets in their
/// own order. A missing key is an empty list; other types are `WRONGTYPE`.
fn load(ctx: &mut Ctx, key: &[u8]) -> Result<(Kind, Vec<Bytes>), CommandError> {
    let db = ctx.db();
    let mut out = Vec::new();
    // Redis converts a listpack sorted set to a skiplist when it sorts it ("destructively
    // convert encoded sorted sets for SORT"); OBJECT ENCODING shows it, so do the same.
    if let Some(e) = ctx.ks.peek(db, key)? {
        if matches!(e.value(), ValueRef::ZSet(z) if z.encoding_name() == "listpack") {
            if let Some(mut e) = ctx.ks.lookup_write(db, key)? {
                if let ValueMut::ZSet(z) = e.value_mut() {
                    z.convert_to_skiplist();
                }
            }
        }
    }
    let mut missing = false;
    let kind = match ctx.ks.lookup_read(db, key)?.map(|e| e.value()) {
        None => {
            missing = true;
            Kind::List
        }
        Some(ValueRef::List(l)) => {
            out.reserve(l.len());
            l.for_each(|e| out.push(Bytes::copy_from_slice(e)));
            Kind::List
        }
        Some(ValueRef::Set(s)) => {
            out.reserve(s.len());
            s.for_each(|e| out.push(Bytes::copy_from_slice(e)));
            Kind::Set
        }
        Some(ValueRef::ZSet(z)) => {
            out.reserve(z.len());
            z.for_each(|e, _| out.push(Bytes::copy_from_slice(e)));
            Kind::ZSet
        }
        Some(_) => return Err(CommandError::WrongType),
    };
    if missing {
        ctx.notify_miss(key);
    }
    Ok((kind, out))
}

/// Loads each item's weight (BY pattern or the element itself). Returns false when a weight
/// is not a double (the command then fails after sorting, as Redis does).
fn weigh(ctx: &mut Ctx, opts: &SortArgs, items: &mut [Item]) -> Result<bool, CommandError> {
    let mut ok = true;
    for it in items.iter_mut() {
        let by = match &opts.by {
            Some(p) => match lookup_by_pattern(ctx, p, &it.elem)? {
                Some(v) => v,
                None => continue,
            },
            None => it.elem.clone(),
        };
        if opts.alpha {
            if opts.by.is_some() {
                it.cmp = Some(by);
            }
        } else {
            match parse_weight(&by) {
                Some(s) => it.score = s,
                None => ok = false,
            }
        }
    }
    Ok(ok)
}

/// C `strtod` as SORT uses it: leading white space allowed, the rest must be consumed (up to a
/// NUL byte), no NaN, no overflow or underflow (ERANGE); the empty string is 0.
fn parse_weight(b: &[u8]) -> Option<f64> {
    let r = strtod(b);
    let rest = &b[r.used..];
    let whole = rest.first().is_none_or(|&c| c == 0);
    (whole && !r.value.is_nan() && !r.out_of_range).then_some(r.value)
}

fn sort_items(items: &mut [Item], opts: &SortArgs) {
    let by_pattern = opts.by.is_some();
    items.sort_by(|a, b| {
        let ord = if !opts.alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.elem.cmp(&b.elem))
        } else if by_pattern {
            match (&a.cmp, &b.cmp) {
                (Some(x), Some(y)) => x.cmp(y),
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
            }
        } else {
            a.elem.cmp(&b.elem)
        };
        if opts.desc {
            ord.reverse()
        } else {
            ord
        }
    });
}

/// Redis' `lookupKeyByPattern`: `#` is the element; otherwise the first `*` of `pattern` is
/// replaced by the element to name a key, and `key->field` (a non-empty field after the `*`)
/// reads a hash field. Strings (and hash fields) give a value; anything else gives `None`.
fn lookup_by_pattern(
    ctx: &mut Ctx,
    pattern: &[u8],
    elem: &Bytes,
) -> Result<Option<Bytes>, CommandError> {
    if pattern == b"#" {
        return Ok(Some(elem.clone()));
    }
    let Some(star) = pattern.iter().position(|&c| c == b'*') else {
        return Ok(None);
    };
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&p| p + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(p) => (&after[..p], Some(&after[p + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let db = ctx.db();
    let found = match ctx.ks.lookup_read(db, &key)?.map(|e| e.value()) {
        None => None,
        Some(ValueRef::String(s)) if field.is_none() => Some(Some(s.to_bytes())),
        Some(ValueRef::Hash(h)) => Some(field.and_then(|f| h.get(f))),
        Some(_) => Some(None),
    };
    if found.is_none() {
        ctx.notify_miss(&key);
    }
    Ok(found.flatten())
}

/// STORE: the result replaces `dst` as a list (missing GET values stored as empty strings), or
/// deletes it when empty; replies with the number of elements stored.
fn store(ctx: &mut Ctx, dst: &[u8], out: Vec<Option<Bytes>>) -> Reply {
    let n = out.len();
    if n == 0 {
        ctx.delete_key(dst)?;
        return Ok(Frame::Integer(0));
    }
    let limits = ctx.server.encoding_limits();
    let mut list = List::default();
    for v in &out {
        list.push_back(v.as_deref().unwrap_or(b""), &limits);
    }
    ctx.set_key(dst, Value::List(Box::new(list)), false)?;
    ctx.notify(class::LIST, "sortstore", dst);
    Ok(Frame::Integer(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn keys_of_sort_lines() {
        let k = sort_keys(&args("sort a"));
        assert_eq!(k.keys, vec![1]);
        assert!(!k.unnamed);
        let k = sort_keys(&args("sort a limit 0 1 store d get # by nosort"));
        assert_eq!(k.keys, vec![1, 6]);
        assert!(!k.unnamed);
        let k = sort_keys(&args("sort a by w_* store x store y"));
        assert_eq!(k.keys, vec![1, 7]);
        assert!(k.unnamed);
        let k = sort_keys(&args("sort_ro a get o_*->f"));
        assert_eq!(k.keys, vec![1]);
        assert!(k.unnamed);
    }

    #[test]
    fn limit_clamping_matches_redis() {
        assert_eq!(limits(None, 5), (0, 4));
        assert_eq!(limits(Some((1, 2)), 5), (1, 2));
        assert_eq!(limits(Some((-3, 2)), 5), (0, 1));
        assert_eq!(limits(Some((7, 2)), 5), (4, 3));
        assert_eq!(limits(Some((2, -5)), 5), (2, 4));
        assert_eq!(limits(Some((0, 0)), 5), (0, -1));
        assert_eq!(limits(None, 0), (-1, -2));
    }

    #[test]
    fn weights_parse_like_strtod() {
        assert_eq!(parse_weight(b"1.5"), Some(1.5));
        assert_eq!(parse_weight(b"  -2"), Some(-2.0));
        assert_eq!(parse_weight(b""), Some(0.0));
        assert_eq!(parse_weight(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_weight(b"1e400"), None);
        assert_eq!(parse_weight(b"1e-400"), None);
        assert_eq!(parse_weight(b"0e5"), Some(0.0));
        assert_eq!(parse_weight(b"nan"), None);
        assert_eq!(parse_weight(b"12abc"), None);
        assert_eq!(parse_weight(b"3 "), None);
        assert_eq!(parse_weight(b"0x10"), Some(16.0));
        assert_eq!(parse_weight(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_weight(b"0x"), None);
    }
}
