//! List commands (Redis 7.0 `t_list.c` semantics; the blocking ones are in
//! [`crate::cmd::blocking_pops`], on top of `pop_first` and `move_generic`).
//!
//! ```text
//! LPUSH key element [element ...]       RPUSH key element [element ...]
//! LPUSHX key element [element ...]      RPUSHX key element [element ...]
//! LPOP key [count]   RPOP key [count]   LLEN key
//! LRANGE key start stop                 LINDEX key index      LSET key index element
//! LINSERT key BEFORE|AFTER pivot element
//! LREM key count element                LTRIM key start stop
//! LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
//! LMOVE source destination LEFT|RIGHT LEFT|RIGHT                 RPOPLPUSH source destination
//! LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
//! ```
//!
//! A list left empty is deleted. New lists take `list-max-listpack-size` and
//! `list-compress-depth` from the config at creation, as in Redis.

use crate::error::msg::COUNT_POSITIVE;
use crate::error::msg::MUST_BE_POSITIVE;
use crate::error::msg::NUMKEYS_POSITIVE;
use bytes::Bytes;
use ferrodis_keyspace::list::End;
use ferrodis_keyspace::List;
use ferrodis_resp::Frame;

use super::{delete_if_empty, list_or_create, read_list, write_list};
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// LSET beyond the list.
const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
/// LPOS RANK 0.
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                         the second ... or use negative to start from the end of the list";
/// LPOS COUNT that is not a non-negative integer.
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
/// LPOS MAXLEN that is not a non-negative integer.
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

/// Parses an integer in `min..` with one error text for malformed and out-of-range values
/// (Redis' `getRangeLongFromObjectOrReply` with a message).
pub(crate) fn parse_at_least(arg: &[u8], min: i64, err: &'static str) -> Result<i64, CommandError> {
    match parse_i64(arg) {
        Ok(v) if v >= min => Ok(v),
        _ => Err(CommandError::msg(err)),
    }
}

/// `LEFT` or `RIGHT` (case-insensitive), else `ERR syntax error`.
pub(crate) fn parse_end(arg: &[u8]) -> Result<End, CommandError> {
    if eq_ic(arg, "left") {
        Ok(End::Head)
    } else if eq_ic(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(CommandError::Syntax)
    }
}

/// A new list under the current config's node options.
fn new_list(ctx: &Ctx) -> impl FnOnce() -> List {
    let limits = ctx.server.encoding_limits();
    move || List::with_limits(&limits)
}

fn len_reply(list: &List) -> Frame {
    Frame::Integer(list.len() as i64)
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX: pushes every element in order; replies with the new length
/// (0 for the X forms on a missing key).
fn push_generic(ctx: &mut Ctx, end: End, only_existing: bool) -> Reply {
    let args = ctx.args;
    let make = new_list(ctx);
    let list = if only_existing {
        match write_list(ctx, &args[1])? {
            Some(l) => l,
            None => return Ok(Frame::Integer(0)),
        }
    } else {
        list_or_create(ctx, &args[1], make)?
    };
    for e in &args[2..] {
        list.push(end, e);
    }
    let reply = len_reply(list);
    ctx.notify(class::LIST, push_event(end), &args[1]);
    Ok(reply)
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// `LPUSH key element [element ...]`: the new length.
pub fn lpush(ctx: &mut Ctx) -> Reply {
    push_generic(ctx, End::Head, false)
}

/// `RPUSH key element [element ...]`: the new length.
pub fn rpush(ctx: &mut Ctx) -> Reply {
    push_generic(ctx, End::Tail, false)
}

/// `LPUSHX key element [element ...]`: the new length, 0 when the key is missing.
pub fn lpushx(ctx: &mut Ctx) -> Reply {
    push_generic(ctx, End::Head, true)
}

/// `RPUSHX key element [element ...]`: the new length, 0 when the key is missing.
pub fn rpushx(ctx: &mut Ctx) -> Reply {
    push_generic(ctx, End::Tail, true)
}

/// LPOP/RPOP (Redis `popGenericCommand`): without count a bulk or null; with count an array
/// (empty for 0) or, for a missing key, a null array. The count is checked first:
/// `ERR value is out of range, must be positive`.
fn pop_generic(ctx: &mut Ctx, end: End, name: &str) -> Reply {
    let args = ctx.args;
    if args.len() > 3 {
        return Err(CommandError::WrongArity(name.to_string()));
    }
    let count = match args.get(2) {
        Some(c) => Some(parse_at_least(c, 0, MUST_BE_POSITIVE)? as u64),
        None => None,
    };
    let Some(list) = write_list(ctx, &args[1])? else {
        return Ok(if count.is_some() {
            Frame::NullArray
        } else {
            Frame::Null
        });
    };
    let reply = match count {
        None => list.pop(end).map_or(Frame::Null, Frame::Bulk),
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(list.len());
            Frame::Array(
                (0..n)
                    .filter_map(|_| list.pop(end))
                    .map(Frame::Bulk)
                    .collect(),
            )
        }
    };
    let empty = list.is_empty();
    if count != Some(0) {
        ctx.notify(class::LIST, pop_event(end), &args[1]);
    }
    delete_if_empty(ctx, &args[1], empty)?;
    Ok(reply)
}

/// `LPOP key [count]`.
pub fn lpop(ctx: &mut Ctx) -> Reply {
    pop_generic(ctx, End::Head, "lpop")
}

/// `RPOP key [count]`.
pub fn rpop(ctx: &mut Ctx) -> Reply {
    pop_generic(ctx, End::Tail, "rpop")
}

/// `LLEN key`: the length, 0 for a missing key.
pub fn llen(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    Ok(read_list(ctx, &args[1])?.map_or(Frame::Integer(0), len_reply))
}

/// Start index and length of `start..=end` (negative from the tail) clamped to a list of `len`
/// elements, as Redis' LRANGE and LTRIM compute it; `None` when empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { start + llen } else { start }.max(0);
    let end = if end < 0 { end + llen } else { end };
    if start > end || start >= llen {
        return None;
    }
    let end = end.min(llen - 1);
    Some((start as usize, (end - start + 1) as usize))
}

/// `LRANGE key start stop`: the elements of the range (indexes parsed before the lookup).
pub fn lrange(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let (start, end) = (parse_i64(&args[2])?, parse_i64(&args[3])?);
    let Some(list) = read_list(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let Some((start, n)) = clamp_range(start, end, list.len()) else {
        return Ok(Frame::Array(Vec::new()));
    };
    Ok(Frame::Array(range_frames(list, start, n)))
}

/// Bulk frames of `n` elements from `start`: the elements are copied into one buffer that
/// every frame slices, one allocation instead of one per element.
fn range_frames(list: &List, start: usize, n: usize) -> Vec<Frame> {
    let mut buf = Vec::new();
    let mut ends = Vec::with_capacity(n);
    list.for_range(start, n, |v| {
        v.with_bytes(|b| buf.extend_from_slice(b));
        ends.push(buf.len());
    });
    let buf = Bytes::from(buf);
    let mut from = 0;
    ends.into_iter()
        .map(|end| Frame::Bulk(buf.slice(std::mem::replace(&mut from, end)..end)))
        .collect()
}

/// `LINDEX key index`: the element or null (the index is parsed after the lookup, as Redis).
pub fn lindex(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let Some(list) = read_list(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    let index = parse_i64(&args[2])?;
    Ok(list.get(index).map_or(Frame::Null, Frame::Bulk))
}

/// `LSET key index element`: `+OK`; `ERR no such key`, `ERR index out of range`.
pub fn lset(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let Some(list) = write_list(ctx, &args[1])? else {
        return Err(CommandError::NoSuchKey);
    };
    let index = parse_i64(&args[2])?;
    if list.set(index, &args[3]) {
        ctx.notify(class::LIST, "lset", &args[1]);
        Ok(Frame::ok())
    } else {
        Err(CommandError::msg(INDEX_OUT_OF_RANGE))
    }
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length, -1 when the pivot is missing, 0
/// when the key is.
pub fn linsert(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let after = if eq_ic(&args[2], "after") {
        true
    } else if eq_ic(&args[2], "before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let Some(list) = write_list(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    if list.insert_at_pivot(&args[3], &args[4], after) {
        let reply = len_reply(list);
        ctx.notify(class::LIST, "linsert", &args[1]);
        Ok(reply)
    } else {
        Ok(Frame::Integer(-1))
    }
}

/// `LREM key count element`: how many were removed (from the head for count > 0, from the
/// tail for count < 0, all for 0).
pub fn lrem(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let count = parse_i64(&args[2])?;
    let Some(list) = write_list(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    let removed = list.remove(&args[3], count);
    let empty = list.is_empty();
    if removed > 0 {
        ctx.notify(class::LIST, "lrem", &args[1]);
    }
    delete_if_empty(ctx, &args[1], empty)?;
    Ok(Frame::Integer(removed as i64))
}

/// `LTRIM key start stop`: `+OK`; an empty range deletes the key.
pub fn ltrim(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let (start, end) = (parse_i64(&args[2])?, parse_i64(&args[3])?);
    let Some(list) = write_list(ctx, &args[1])? else {
        return Ok(Frame::ok());
    };
    let len = list.len();
    let (keep_from, keep) = clamp_range(start, end, len).unwrap_or((len, 0));
    list.delete_range(keep_from + keep, len);
    list.delete_range(0, keep_from);
    let empty = list.is_empty();
    ctx.notify(class::LIST, "ltrim", &args[1]);
    delete_if_empty(ctx, &args[1], empty)?;
    Ok(Frame::ok())
}

/// LPOS options: RANK (0 refused), COUNT and MAXLEN (non-negative); the last given wins.
struct LposOptions {
    rank: i64,
    count: Option<i64>,
    maxlen: i64,
}

fn parse_lpos(args: &[Bytes]) -> Result<LposOptions, CommandError> {
    let mut o = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut i = 3;
    while i < args.len() {
        let (opt, value) = (&args[i], args.get(i + 1));
        match value {
            Some(v) if eq_ic(opt, "rank") => {
                o.rank = parse_i64(v)?;
                if o.rank == 0 {
                    return Err(CommandError::msg(RANK_ZERO));
                }
            }
            Some(v) if eq_ic(opt, "count") => o.count = Some(parse_at_least(v, 0, COUNT_NEGATIVE)?),
            Some(v) if eq_ic(opt, "maxlen") => o.maxlen = parse_at_least(v, 0, MAXLEN_NEGATIVE)?,
            _ => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    Ok(o)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`: the index of the
/// `rank`-th match (negative ranks search from the tail), null when none; with COUNT an array
/// of up to `num-matches` indexes (0 = all).
pub fn lpos(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let o = parse_lpos(args)?;
    // Redis negates the rank with C overflow semantics: RANK -9223372036854775808 stays
    // negative, so every match qualifies.
    let (from_tail, rank) = if o.rank < 0 {
        (true, o.rank.wrapping_neg())
    } else {
        (false, o.rank)
    };
    let Some(list) = read_list(ctx, &args[1])? else {
        return Ok(if o.count.is_some() {
            Frame::Array(Vec::new())
        } else {
            Frame::Null
        });
    };
    let llen = list.len() as i64;
    let (mut index, mut matches) = (0i64, 0i64);
    let (mut found, mut first) = (Vec::new(), None);
    list.walk(from_tail, |v| {
        if o.maxlen != 0 && index >= o.maxlen {
            return false;
        }
        if v.eq_bytes(&args[2]) {
            matches += 1;
            if matches >= rank {
                let at = if from_tail { llen - index - 1 } else { index };
                let Some(count) = o.count else {
                    first = Some(at);
                    return false;
                };
                found.push(Frame::Integer(at));
                if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                    return false;
                }
            }
        }
        index += 1;
        true
    });
    Ok(match o.count {
        Some(_) => Frame::Array(found),
        None => first.map_or(Frame::Null, Frame::Integer),
    })
}

/// LMOVE/RPOPLPUSH (Redis `lmoveGenericCommand`): pops from `from` of the source and pushes at
/// `to` of the destination; null when the source is missing. A destination of another type is
/// `WRONGTYPE` before anything is popped; source = destination rotates the list.
pub(crate) fn move_generic(ctx: &mut Ctx, from: End, to: End) -> Reply {
    let args = ctx.args;
    let (src, dst) = (&args[1], &args[2]);
    let make = new_list(ctx);
    if write_list(ctx, src)?.is_none() {
        return Ok(Frame::Null);
    }
    if src != dst {
        write_list(ctx, dst)?;
    }
    let Some(value) = write_list(ctx, src)?.and_then(|l| l.pop(from)) else {
        return Ok(Frame::Null);
    };
    // Redis order: the push (and `new`) on the destination, then the pop, then `del`.
    list_or_create(ctx, dst, make)?.push(to, &value);
    ctx.notify(class::LIST, push_event(to), dst);
    ctx.notify(class::LIST, pop_event(from), src);
    if src != dst {
        let empty = write_list(ctx, src)?.is_none_or(|l| l.is_empty());
        delete_if_empty(ctx, src, empty)?;
    }
    Ok(Frame::Bulk(value))
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: the moved element or null.
pub fn lmove(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let (from, to) = (parse_end(&args[3])?, parse_end(&args[4])?);
    move_generic(ctx, from, to)
}

/// `RPOPLPUSH source destination`: LMOVE source destination RIGHT LEFT.
pub fn rpoplpush(ctx: &mut Ctx) -> Reply {
    move_generic(ctx, End::Tail, End::Head)
}

/// The arguments LMPOP and BLMPOP share, from `numkeys` on.
pub(crate) struct MpopArgs {
    /// Argument positions of the keys.
    pub(crate) keys: std::ops::Range<usize>,
    /// The end to pop from.
    pub(crate) end: End,
    /// How many elements to pop at most (1 without COUNT).
    pub(crate) count: usize,
}

/// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` starting at `numkeys_at` (Redis
/// `lmpopGenericCommand`): `ERR numkeys should be greater than 0`, `ERR count should be greater
/// than 0`, `ERR syntax error` (also when numkeys exceeds the arguments).
pub(crate) fn parse_mpop(args: &[Bytes], numkeys_at: usize) -> Result<MpopArgs, CommandError> {
    let numkeys = parse_at_least(&args[numkeys_at], 1, NUMKEYS_POSITIVE)? as u64;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&i| i < args.len())
        .ok_or(CommandError::Syntax)?;
    let end = parse_end(&args[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        match args.get(i + 1) {
            Some(v) if count.is_none() && eq_ic(&args[i], "count") => {
                count = Some(parse_at_least(v, 1, COUNT_POSITIVE)? as u64);
            }
            _ => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    Ok(MpopArgs {
        keys: numkeys_at + 1..where_at,
        end,
        count: usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX),
    })
}

/// Pops up to `count` elements at `end` of the first non-empty list among `keys` (a key of
/// another type met before it is `WRONGTYPE`); that key and the elements in pop order. Shared
/// by LMPOP, BLPOP, BRPOP and BLMPOP (Redis `mpopGenericCommand`); emits `lpop`/`rpop`.
pub(crate) fn pop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    end: End,
    count: usize,
) -> Result<Option<(Bytes, Vec<Bytes>)>, CommandError> {
    for key in keys {
        let Some(list) = write_list(ctx, key)? else {
            continue;
        };
        let n = count.min(list.len());
        let popped: Vec<Bytes> = (0..n).filter_map(|_| list.pop(end)).collect();
        if popped.is_empty() {
            continue;
        }
        let empty = list.is_empty();
        // Redis `listPopRangeAndReplyWithKey`: the pop event, then `del` for an emptied list.
        ctx.notify(class::LIST, pop_event(end), key);
        delete_if_empty(ctx, key, empty)?;
        // Logged as the plain pop of the key it served (BLPOP, BLMPOP and LMPOP as
        // LPOP/RPOP key [count]), as Redis rewrites them.
        let cmd: &'static [u8] = if end == End::Head { b"LPOP" } else { b"RPOP" };
        ctx.propagate_as(pop_argv(cmd, key, count));
        return Ok(Some((key.clone(), popped)));
    }
    Ok(None)
}

/// `cmd key` (a single pop) or `cmd key count`, as a pop of several elements is logged.
pub(crate) fn pop_argv(cmd: &'static [u8], key: &Bytes, count: usize) -> Vec<Bytes> {
    let mut argv = vec![Bytes::from_static(cmd), key.clone()];
    if count > 1 {
        argv.push(Bytes::from(count.to_string()));
    }
    argv
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: `[key, [elements]]` from the first
/// non-empty list, or a null array. Errors: `ERR numkeys should be greater than 0`, `ERR count
/// should be greater than 0`, `ERR syntax error` (also when numkeys exceeds the arguments).
pub fn lmpop(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let m = parse_mpop(args, 1)?;
    Ok(match pop_first(ctx, &args[m.keys], m.end, m.count)? {
        Some((key, popped)) => Frame::Array(vec![
            Frame::Bulk(key),
            Frame::Array(popped.into_iter().map(Frame::Bulk).collect()),
        ]),
        None => Frame::NullArray,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_like_lrange_and_ltrim() {
        assert_eq!(clamp_range(0, -1, 10), Some((0, 10)));
        assert_eq!(clamp_range(-3, -1, 10), Some((7, 3)));
        assert_eq!(clamp_range(-100, 2, 10), Some((0, 3)));
        assert_eq!(clamp_range(5, 100, 10), Some((5, 5)));
        assert_eq!(clamp_range(10, 20, 10), None);
        assert_eq!(clamp_range(5, 2, 10), None);
        assert_eq!(clamp_range(-1, -2, 10), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 10), Some((0, 10)));
        assert_eq!(clamp_range(i64::MAX, i64::MIN, 10), None);
        assert_eq!(clamp_range(0, -1, 0), None);
    }

    #[test]
    fn counts_and_ends_parse_with_the_commands_texts() {
        let e = CommandError::msg(MUST_BE_POSITIVE);
        assert_eq!(parse_at_least(b"0", 0, MUST_BE_POSITIVE), Ok(0));
        assert_eq!(parse_at_least(b"-1", 0, MUST_BE_POSITIVE), Err(e.clone()));
        assert_eq!(parse_at_least(b"x", 0, MUST_BE_POSITIVE), Err(e));
        assert_eq!(parse_end(b"LeFt"), Ok(End::Head));
        assert_eq!(parse_end(b"right"), Ok(End::Tail));
        assert_eq!(parse_end(b"up"), Err(CommandError::Syntax));
    }
}
