//! String commands.
//!
//! ```text
//! GET key                      SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
//! SETNX key value              SETEX key seconds value          PSETEX key milliseconds value
//! MGET key [key ...]           MSET key value [key value ...]   MSETNX key value [key value ...]
//! GETSET key value             GETDEL key                       GETEX key [EX|PX|EXAT|PXAT t|PERSIST]
//! APPEND key value             STRLEN key
//! INCR key  DECR key  INCRBY key n  DECRBY key n  INCRBYFLOAT key f
//! GETRANGE key start end       SUBSTR key start end             SETRANGE key offset value
//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
//! ```
//!
//! SET, SETNX, SETEX, PSETEX and GETEX share one parser of the expire options and one write path
//! ([`set_generic`]).

use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferrodis_keyspace::value::EMBSTR_MAX_BYTES;
use ferrodis_keyspace::{StrValue, Value, ValueMut, ValueRef};
use ferrodis_resp::{Frame, LongDouble};

use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{msg, CommandError, Reply};
use crate::notify::class;

/// The string at `key` (None if missing), WRONGTYPE for other types. Counts a hit/miss.
fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<StrValue>, CommandError> {
    let db = ctx.db();
    let found = match ctx.ks.lookup_read(db, key)? {
        None => None,
        Some(e) => match e.value() {
            ValueRef::String(s) => Some(s.to_owned_value()),
            #[allow(unreachable_patterns)]
            _ => return Err(CommandError::WrongType),
        },
    };
    if found.is_none() {
        ctx.notify_miss(key);
    }
    Ok(found)
}

fn bulk_of(s: &StrValue) -> Frame {
    Frame::Bulk(s.to_bytes())
}

/// `GET key`: bulk string or null.
pub fn get(ctx: &mut Ctx) -> Reply {
    // Reply straight from the stored value: no clone of the value, none of the key.
    let db = ctx.db();
    let args = ctx.args;
    match ctx.ks.lookup_read(db, &args[1])? {
        None => {
            ctx.notify_miss(&args[1]);
            Ok(Frame::Null)
        }
        Some(e) => match e.value() {
            ValueRef::String(s) => Ok(Frame::Bulk(s.to_bytes())),
            #[allow(unreachable_patterns)]
            _ => Err(CommandError::WrongType),
        },
    }
}

/// How an expire option was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpireUnit {
    /// EX / SETEX: relative seconds.
    Secs,
    /// PX / PSETEX: relative milliseconds.
    Millis,
    /// EXAT: absolute Unix seconds.
    AtSecs,
    /// PXAT: absolute Unix milliseconds.
    AtMillis,
}

/// Converts an expire argument into an absolute Unix time in milliseconds, with Redis' checks
/// (`ERR invalid expire time in '<cmd>' command` for ≤ 0 and overflow).
fn expire_at_ms(raw: &[u8], unit: ExpireUnit, now_ms: u64, cmd: &str) -> Result<u64, CommandError> {
    let v = parse_i64(raw)?;
    let invalid = || CommandError::InvalidExpire(cmd.to_string());
    if v <= 0 {
        return Err(invalid());
    }
    let ms = match unit {
        ExpireUnit::Secs | ExpireUnit::AtSecs => v.checked_mul(1000).ok_or_else(invalid)?,
        ExpireUnit::Millis | ExpireUnit::AtMillis => v,
    };
    let ms = match unit {
        ExpireUnit::Secs | ExpireUnit::Millis => {
            ms.checked_add(now_ms as i64).ok_or_else(invalid)?
        }
        _ => ms,
    };
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms as u64)
}

/// Options of SET-like commands.
#[derive(Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    expire: Option<(ExpireUnit, Bytes)>,
    persist: bool,
}

/// Parses SET/GETEX options from `ctx.args[start..]` (Redis `parseExtendedStringArgumentsOrReply`):
/// an option may repeat (the last value wins) but not combine with a conflicting one.
fn parse_set_options(ctx: &Ctx, start: usize, getex: bool) -> Result<SetOptions, CommandError> {
    let mut o = SetOptions::default();
    let mut cur = ctx.cursor(start);
    while let Some(opt) = cur.next() {
        let has_next = !cur.is_empty();
        let unit = if eq_ic(opt, "ex") {
            Some(ExpireUnit::Secs)
        } else if eq_ic(opt, "px") {
            Some(ExpireUnit::Millis)
        } else if eq_ic(opt, "exat") {
            Some(ExpireUnit::AtSecs)
        } else if eq_ic(opt, "pxat") {
            Some(ExpireUnit::AtMillis)
        } else {
            None
        };
        if let Some(unit) = unit {
            let conflicting = o.expire.as_ref().is_some_and(|(e, _)| *e != unit);
            if o.keep_ttl || o.persist || conflicting || !has_next {
                return Err(CommandError::Syntax);
            }
            o.expire = Some((unit, cur.required()?.clone()));
        } else if !getex && eq_ic(opt, "nx") && !o.xx {
            o.nx = true;
        } else if !getex && eq_ic(opt, "xx") && !o.nx {
            o.xx = true;
        } else if !getex && eq_ic(opt, "get") {
            o.get = true;
        } else if !getex && eq_ic(opt, "keepttl") && o.expire.is_none() {
            o.keep_ttl = true;
        } else if getex && eq_ic(opt, "persist") && o.expire.is_none() {
            o.persist = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(o)
}

/// The shared write path of SET, SETNX, SETEX and PSETEX (Redis `setGenericCommand`).
/// Returns `Ok(None)` when an NX/XX condition stopped the write.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    opts: &SetOptions,
    cmd: &str,
) -> Result<(bool, Option<StrValue>), CommandError> {
    let db = ctx.db();
    let now_ms = ctx.ks.now().ms;
    let expire = match &opts.expire {
        Some((unit, raw)) => Some(expire_at_ms(raw, *unit, now_ms, cmd)?),
        None => None,
    };
    let old = if opts.get {
        read_string(ctx, key)?
    } else {
        None
    };
    let exists = ctx.ks.lookup_write(db, key)?.is_some();
    if (opts.nx && exists) || (opts.xx && !exists) {
        return Ok((false, old));
    }
    let v = Value::string(value);
    match expire {
        // An expire in the past is stored as it is, as Redis does: the key counts in DBSIZE
        // until a lookup or the expire cycle deletes it (with its `expired` event).
        Some(at) => {
            ctx.set_key_with_expire(key, v, at)?;
            ctx.notify(class::STRING, "set", key);
            ctx.notify(class::GENERIC, "expire", key);
            // Logged with the absolute expire, as Redis' `SET key value PXAT ms`.
            if !matches!(opts.expire, Some((ExpireUnit::AtMillis, _))) {
                ctx.propagate_as(vec![
                    Bytes::from_static(b"SET"),
                    Bytes::copy_from_slice(key),
                    Bytes::copy_from_slice(value),
                    Bytes::from_static(b"PXAT"),
                    Bytes::from(at.to_string()),
                ]);
            }
        }
        None => {
            ctx.set_key(key, v, opts.keep_ttl)?;
            ctx.notify(class::STRING, "set", key);
        }
    }
    Ok((true, old))
}

/// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t | KEEPTTL]`: `+OK`, null when NX/XX
/// prevented the write, or with GET the old value. `ERR syntax error` for bad combinations,
/// `ERR invalid expire time in 'set' command`.
pub fn set(ctx: &mut Ctx) -> Reply {
    let opts = parse_set_options(ctx, 3, false)?;
    // `args` is a copy of the shared slice reference: borrowing from it leaves `ctx` free.
    let args = ctx.args;
    let (written, old) = set_generic(ctx, &args[1], &args[2], &opts, "set")?;
    if opts.get {
        return Ok(old.map_or(Frame::Null, |s| bulk_of(&s)));
    }
    Ok(if written { Frame::ok() } else { Frame::Null })
}

/// `SETNX key value`: 1 if set, 0 if the key existed.
pub fn setnx(ctx: &mut Ctx) -> Reply {
    let opts = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    let (key, value) = (ctx.arg(1).clone(), ctx.arg(2).clone());
    let (written, _) = set_generic(ctx, &key, &value, &opts, "setnx")?;
    Ok(Frame::Integer(i64::from(written)))
}

fn setex_generic(ctx: &mut Ctx, unit: ExpireUnit, cmd: &str) -> Reply {
    let opts = SetOptions {
        expire: Some((unit, ctx.arg(2).clone())),
        ..SetOptions::default()
    };
    let (key, value) = (ctx.arg(1).clone(), ctx.arg(3).clone());
    set_generic(ctx, &key, &value, &opts, cmd)?;
    Ok(Frame::ok())
}

/// `SETEX key seconds value`.
pub fn setex(ctx: &mut Ctx) -> Reply {
    setex_generic(ctx, ExpireUnit::Secs, "setex")
}

/// `PSETEX key milliseconds value`.
pub fn psetex(ctx: &mut Ctx) -> Reply {
    setex_generic(ctx, ExpireUnit::Millis, "psetex")
}

/// `MGET key [key ...]`: one bulk per key, null for missing keys and non-strings.
pub fn mget(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let mut out = Vec::with_capacity(ctx.args.len() - 1);
    let args = ctx.args;
    for key in &args[1..] {
        let f = match ctx.ks.lookup_read(db, key)? {
            Some(e) => match e.value() {
                ValueRef::String(s) => Frame::Bulk(s.to_bytes()),
                #[allow(unreachable_patterns)]
                _ => Frame::Null,
            },
            None => {
                ctx.notify_miss(key);
                Frame::Null
            }
        };
        out.push(f);
    }
    Ok(Frame::Array(out))
}

fn check_pairs(ctx: &Ctx, name: &str) -> Result<(), CommandError> {
    if ctx.args.len() % 2 == 0 {
        return Err(CommandError::WrongArity(name.into()));
    }
    Ok(())
}

/// `MSET key value [key value ...]`: `+OK`; clears TTLs like SET.
pub fn mset(ctx: &mut Ctx) -> Reply {
    check_pairs(ctx, "mset")?;
    let args = ctx.args;
    for pair in args[1..].chunks(2) {
        ctx.set_key(&pair[0], Value::string(&pair[1]), false)?;
        ctx.notify(class::STRING, "set", &pair[0]);
    }
    Ok(Frame::ok())
}

/// `MSETNX key value [key value ...]`: 1 if all were set, 0 (nothing written) if any existed.
pub fn msetnx(ctx: &mut Ctx) -> Reply {
    check_pairs(ctx, "msetnx")?;
    let db = ctx.db();
    for pair in ctx.args[1..].chunks(2) {
        if ctx.ks.lookup_write(db, &pair[0])?.is_some() {
            return Ok(Frame::Integer(0));
        }
    }
    let args = ctx.args;
    for pair in args[1..].chunks(2) {
        ctx.set_key(&pair[0], Value::string(&pair[1]), false)?;
        ctx.notify(class::STRING, "set", &pair[0]);
    }
    Ok(Frame::Integer(1))
}

/// `GETSET key value`: the old value (or null); the new value has no TTL.
pub fn getset(ctx: &mut Ctx) -> Reply {
    let (key, value) = (ctx.arg(1).clone(), ctx.arg(2).clone());
    let old = read_string(ctx, &key)?;
    ctx.set_key(&key, Value::string(&value), false)?;
    ctx.notify(class::STRING, "set", &key);
    Ok(old.map_or(Frame::Null, |s| bulk_of(&s)))
}

/// `GETDEL key`: the value (or null), and the key is deleted.
pub fn getdel(ctx: &mut Ctx) -> Reply {
    let key = ctx.arg(1).clone();
    let Some(v) = read_string(ctx, &key)? else {
        return Ok(Frame::Null);
    };
    ctx.delete_key(&key)?;
    ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key]);
    Ok(bulk_of(&v))
}

/// `GETEX key [EX|PX|EXAT|PXAT t | PERSIST]`: the value, changing the expire.
pub fn getex(ctx: &mut Ctx) -> Reply {
    let opts = parse_set_options(ctx, 2, true)?;
    let key = ctx.arg(1).clone();
    let Some(v) = read_string(ctx, &key)? else {
        return Ok(Frame::Null);
    };
    let db = ctx.db();
    let now_ms = ctx.ks.now().ms;
    if let Some((unit, raw)) = &opts.expire {
        let at = expire_at_ms(raw, *unit, now_ms, "getex")?;
        if at <= now_ms {
            ctx.delete_key(&key)?;
            ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
        } else {
            ctx.ks.set_expire(db, &key, Some(at))?;
            ctx.notify(class::GENERIC, "expire", &key);
            ctx.propagate_as(vec![
                Bytes::from_static(b"PEXPIREAT"),
                key.clone(),
                Bytes::from(at.to_string()),
            ]);
        }
    } else if opts.persist {
        let had_ttl = ctx
            .ks
            .peek(db, &key)?
            .is_some_and(|e| e.expire_ms().is_some());
        if had_ttl {
            ctx.ks.set_expire(db, &key, None)?;
            ctx.notify(class::GENERIC, "persist", &key);
            ctx.propagate_as(vec![Bytes::from_static(b"PERSIST"), key.clone()]);
        }
    }
    Ok(bulk_of(&v))
}

fn max_len(ctx: &Ctx) -> u64 {
    ctx.server.hot.proto_max_bulk_len.load(Ordering::Relaxed)
}

/// `APPEND key value`: the new length. `ERR string exceeds maximum allowed size
/// (proto-max-bulk-len)` past the limit.
pub fn append(ctx: &mut Ctx) -> Reply {
    let (key, data) = (ctx.arg(1).clone(), ctx.arg(2).clone());
    let limit = max_len(ctx);
    let db = ctx.db();
    match ctx.ks.lookup_write(db, &key)? {
        None => {
            // A new key gets the value as SET would store it (int/embstr/raw).
            ctx.set_key(&key, Value::string(&data), false)?;
            ctx.notify(class::STRING, "append", &key);
            Ok(Frame::Integer(data.len() as i64))
        }
        Some(e) => {
            let ValueMut::String(mut s) = e.into_value_mut() else {
                return Err(CommandError::WrongType);
            };
            if (s.len() + data.len()) as u64 > limit {
                return Err(CommandError::StringTooLong);
            }
            s.append(&data);
            let len = s.len();
            drop(s);
            ctx.notify(class::STRING, "append", &key);
            Ok(Frame::Integer(len as i64))
        }
    }
}

/// `STRLEN key`: the length, 0 for a missing key.
pub fn strlen(ctx: &mut Ctx) -> Reply {
    let key = ctx.arg(1).clone();
    Ok(Frame::Integer(
        read_string(ctx, &key)?.map_or(0, |s| s.len() as i64),
    ))
}

/// Adds `delta` to the integer at `key` (Redis `incrDecrCommand`): keeps the TTL.
fn incr_by(ctx: &mut Ctx, delta: i64) -> Reply {
    let args = ctx.args;
    let key = &args[1];
    let db = ctx.db();
    match ctx.ks.lookup_write(db, key)? {
        None => {
            ctx.set_key(key, Value::String(StrValue::Int(delta)), false)?;
            ctx.notify(class::STRING, "incrby", key);
            Ok(Frame::Integer(delta))
        }
        Some(e) => {
            let ValueMut::String(mut s) = e.into_value_mut() else {
                return Err(CommandError::WrongType);
            };
            let cur = s.as_i64().ok_or(CommandError::NotInteger)?;
            let new = cur.checked_add(delta).ok_or(CommandError::Overflow)?;
            *s = StrValue::Int(new);
            drop(s);
            ctx.notify(class::STRING, "incrby", key);
            Ok(Frame::Integer(new))
        }
    }
}

/// `INCR key`.
pub fn incr(ctx: &mut Ctx) -> Reply {
    incr_by(ctx, 1)
}

/// `DECR key`.
pub fn decr(ctx: &mut Ctx) -> Reply {
    incr_by(ctx, -1)
}

/// `INCRBY key increment`.
pub fn incrby(ctx: &mut Ctx) -> Reply {
    let d = parse_i64(ctx.arg(2))?;
    incr_by(ctx, d)
}

/// `DECRBY key decrement` (`ERR decrement would overflow` for the minimum i64).
pub fn decrby(ctx: &mut Ctx) -> Reply {
    let d = parse_i64(ctx.arg(2))?;
    let d = d
        .checked_neg()
        .ok_or(CommandError::msg(msg::DECREMENT_OVERFLOW))?;
    incr_by(ctx, d)
}

/// `INCRBYFLOAT key increment`: computed in x87 extended precision and formatted like Redis
/// (`%.17Lf` without trailing zeros). `ERR value is not a valid float`,
/// `ERR increment would produce NaN or Infinity`. Keeps the TTL.
pub fn incrbyfloat(ctx: &mut Ctx) -> Reply {
    let key = ctx.arg(1).clone();
    let incr = LongDouble::parse(ctx.arg(2)).ok_or(CommandError::NotFloat)?;
    let db = ctx.db();
    let current = match ctx.ks.lookup_write(db, &key)? {
        None => LongDouble::ZERO,
        Some(e) => match e.value() {
            ValueRef::String(s) => s
                .with_bytes(LongDouble::parse)
                .ok_or(CommandError::NotFloat)?,
            #[allow(unreachable_patterns)]
            _ => return Err(CommandError::WrongType),
        },
    };
    let sum = current + incr;
    if !sum.is_finite() {
        return Err(CommandError::msg(msg::NAN_OR_INF));
    }
    let mut text = Vec::new();
    sum.format_human(&mut text);
    // Redis stores the formatted text as a fresh string object: embstr when short, never int.
    let stored = if text.len() <= EMBSTR_MAX_BYTES {
        StrValue::Emb(ferrodis_keyspace::Elem::new(&text))
    } else {
        StrValue::Raw(Bytes::from(text.clone()))
    };
    match ctx.ks.lookup_write(db, &key)? {
        Some(mut e) => {
            if let Some(old) = e.replace(Value::String(stored)) {
                ctx.ks.free_value(old);
            }
        }
        None => {
            ctx.set_key(&key, Value::String(stored), false)?;
        }
    }
    ctx.notify(class::STRING, "incrbyfloat", &key);
    // Logged as the value it produced, so a replay cannot round differently.
    let text = Bytes::from(text);
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        key,
        text.clone(),
        Bytes::from_static(b"KEEPTTL"),
    ]);
    Ok(Frame::Bulk(text))
}

/// `GETRANGE key start end` (and `SUBSTR`): inclusive, negative indexes from the end.
pub fn getrange(ctx: &mut Ctx) -> Reply {
    let start = parse_i64(ctx.arg(2))?;
    let end = parse_i64(ctx.arg(3))?;
    let key = ctx.arg(1).clone();
    let Some(s) = read_string(ctx, &key)? else {
        return Ok(Frame::Bulk(Bytes::new()));
    };
    Ok(s.with_bytes(|b| Frame::Bulk(Bytes::copy_from_slice(substr(b, start, end)))))
}

fn substr(b: &[u8], mut start: i64, mut end: i64) -> &[u8] {
    let len = b.len() as i64;
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return &[];
    }
    &b[start as usize..=end as usize]
}

/// `SETRANGE key offset value`: the new length. `ERR offset is out of range` for negative
/// offsets, `ERR string exceeds maximum allowed size (proto-max-bulk-len)`.
pub fn setrange(ctx: &mut Ctx) -> Reply {
    let offset = parse_i64(ctx.arg(2))?;
    if offset < 0 {
        return Err(CommandError::msg(msg::OFFSET_OUT_OF_RANGE));
    }
    let (key, data) = (ctx.arg(1).clone(), ctx.arg(3).clone());
    let limit = max_len(ctx);
    let db = ctx.db();
    let too_long = |len: u64| len > limit;
    match ctx.ks.lookup_write(db, &key)? {
        None => {
            if data.is_empty() {
                return Ok(Frame::Integer(0));
            }
            if too_long(offset as u64 + data.len() as u64) {
                return Err(CommandError::StringTooLong);
            }
            let mut s = StrValue::Raw(Bytes::new());
            s.set_range(offset as usize, &data);
            let len = s.len();
            ctx.set_key(&key, Value::String(s), false)?;
            ctx.notify(class::STRING, "setrange", &key);
            Ok(Frame::Integer(len as i64))
        }
        Some(e) => {
            let ValueMut::String(mut s) = e.into_value_mut() else {
                return Err(CommandError::WrongType);
            };
            if data.is_empty() {
                return Ok(Frame::Integer(s.len() as i64));
            }
            if too_long(offset as u64 + data.len() as u64) {
                return Err(CommandError::StringTooLong);
            }
            s.set_range(offset as usize, &data);
            let len = s.len();
            drop(s);
            ctx.notify(class::STRING, "setrange", &key);
            Ok(Frame::Integer(len as i64))
        }
    }
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`.
/// Errors: `ERR The specified keys must contain string values`,
/// `ERR If you want both the length and indexes, please just use IDX.`
pub fn lcs(ctx: &mut Ctx) -> Reply {
    let (mut want_len, mut want_idx, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut cur = ctx.cursor(3);
    while let Some(opt) = cur.next() {
        if eq_ic(opt, "len") {
            want_len = true;
        } else if eq_ic(opt, "idx") {
            want_idx = true;
        } else if eq_ic(opt, "withmatchlen") {
            with_len = true;
        } else if eq_ic(opt, "minmatchlen") && !cur.is_empty() {
            min_len = cur.required_i64()?.max(0);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let db = ctx.db();
    let mut strs = Vec::with_capacity(2);
    for i in 1..=2 {
        let key = ctx.arg(i).clone();
        let s = match ctx.ks.lookup_read(db, &key)? {
            None => {
                ctx.notify_miss(&key);
                Bytes::new()
            }
            Some(e) => match e.value() {
                ValueRef::String(s) => s.to_bytes(),
                #[allow(unreachable_patterns)]
                _ => {
                    return Err(CommandError::msg(
                        "ERR The specified keys must contain string values",
                    ))
                }
            },
        };
        strs.push(s);
    }
    if want_len && want_idx {
        return Err(CommandError::msg(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (a, b) = (&strs[0][..], &strs[1][..]);
    let table = LcsTable::new(a, b).ok_or(CommandError::msg(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
    ))?;
    let total = table.at(a.len(), b.len());
    if want_len {
        return Ok(Frame::Integer(i64::from(total)));
    }
    let (text, ranges) = table.backtrack(a, b, min_len as usize, with_len);
    if !want_idx {
        return Ok(Frame::Bulk(Bytes::from(text)));
    }
    let b = |s: &str| Frame::bulk_from_slice(s.as_bytes());
    Ok(Frame::Map(vec![
        (b("matches"), Frame::Array(ranges)),
        (b("len"), Frame::Integer(i64::from(total))),
    ]))
}

/// The dynamic-programming table of LCS lengths, `(|a|+1) × (|b|+1)` u32 cells.
struct LcsTable {
    cols: usize,
    cells: Vec<u32>,
}

impl LcsTable {
    fn new(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let cols = b.len() + 1;
        let n = (a.len() + 1).checked_mul(cols)?;
        if n.checked_mul(4)? > u32::MAX as usize {
            return None;
        }
        let mut cells = vec![0u32; n];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * cols + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * cols + j - 1] + 1
                } else {
                    cells[(i - 1) * cols + j].max(cells[i * cols + j - 1])
                };
            }
        }
        Some(LcsTable { cols, cells })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.cols + j]
    }

    /// Walks back from the end: the common subsequence and the matching ranges (last first),
    /// as Redis reports them.
    fn backtrack(
        &self,
        a: &[u8],
        b: &[u8],
        min_len: usize,
        with_len: bool,
    ) -> (Vec<u8>, Vec<Frame>) {
        let total = self.at(a.len(), b.len()) as usize;
        let mut text = vec![0u8; total];
        let mut idx = total;
        let mut ranges = Vec::new();
        let (mut i, mut j) = (a.len(), b.len());
        let none = a.len();
        let (mut a_start, mut a_end, mut b_start, mut b_end) = (none, 0, 0, 0);
        while i > 0 && j > 0 {
            let mut emit = false;
            if a[i - 1] == b[j - 1] {
                text[idx - 1] = a[i - 1];
                if a_start == none {
                    (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
                } else if a_start == i && b_start == j {
                    a_start -= 1;
                    b_start -= 1;
                } else {
                    emit = true;
                }
                if a_start == 0 || b_start == 0 {
                    emit = true;
                }
                idx -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                if a_start != none {
                    emit = true;
                }
            }
            if emit {
                let len = a_end - a_start + 1;
                if min_len == 0 || len >= min_len {
                    let pair = |s: usize, e: usize| {
                        Frame::Array(vec![Frame::Integer(s as i64), Frame::Integer(e as i64)])
                    };
                    let mut m = vec![pair(a_start, a_end), pair(b_start, b_end)];
                    if with_len {
                        m.push(Frame::Integer(len as i64));
                    }
                    ranges.push(Frame::Array(m));
                }
                a_start = none;
            }
        }
        (text, ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::substr;

    #[test]
    fn substr_follows_getrange_rules() {
        let s = b"This is a string";
        assert_eq!(substr(s, 0, 3), b"This");
        assert_eq!(substr(s, -3, -1), b"ing");
        assert_eq!(substr(s, 0, -1), s);
        assert_eq!(substr(s, 10, 100), b"string");
        assert_eq!(substr(s, 5, 3), b"");
        assert_eq!(substr(s, -1, -5), b"");
        assert_eq!(substr(b"", 0, 0), b"");
    }
}
