//! Keyspace (generic) commands.
//!
//! ```text
//! DEL key [key ...]          UNLINK key [key ...]       EXISTS key [key ...]   TYPE key
//! KEYS pattern               SCAN cursor [MATCH p] [COUNT n] [TYPE t]           RANDOMKEY
//! RENAME key newkey          RENAMENX key newkey        COPY src dst [DB n] [REPLACE]
//! MOVE key db                SWAPDB a b                 DBSIZE
//! FLUSHDB [ASYNC|SYNC]       FLUSHALL [ASYNC|SYNC]
//! EXPIRE key s [NX|XX|GT|LT] PEXPIRE key ms [..]        EXPIREAT key ts [..]   PEXPIREAT key ms-ts [..]
//! TTL key  PTTL key  EXPIRETIME key  PEXPIRETIME key  PERSIST key  TOUCH key [key ...]
//! OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key | OBJECT HELP
//! ```

use bytes::Bytes;
use ferrodis_keyspace::EntryRef;
use ferrodis_resp::Frame;

use crate::cmd::connection::help_reply;
use crate::cmd::transactions;
use crate::command::args::parse_cursor;
use crate::command::args::{eq_ic, parse_i32, parse_i64};
use crate::command::Ctx;
use crate::error::{msg, CommandError, Reply};
use crate::notify::class;

/// `DEL key [key ...]`: number of keys removed.
pub fn del(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let mut n = 0;
    for key in &args[1..] {
        if ctx.delete_key(key)? {
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

/// `UNLINK key [key ...]`: like DEL; large values are always freed in the background.
pub fn unlink(ctx: &mut Ctx) -> Reply {
    del(ctx)
}

/// `EXISTS key [key ...]`: how many of the arguments exist (repeats count again).
pub fn exists(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let args = ctx.args;
    let mut n = 0;
    for key in &args[1..] {
        if ctx.ks.lookup_read_no_touch(db, key)?.is_some() {
            n += 1;
        } else {
            ctx.notify_miss(key);
        }
    }
    Ok(Frame::Integer(n))
}

/// `TYPE key`: `+string`, ..., or `+none`.
pub fn type_(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let args = ctx.args;
    let t = ctx
        .ks
        .lookup_read_no_touch(db, &args[1])?
        .map(|e| e.value().type_name());
    if t.is_none() {
        ctx.notify_miss(&args[1]);
    }
    Ok(Frame::simple(t.unwrap_or("none")))
}

/// `KEYS pattern`: every matching key (order unspecified).
pub fn keys(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let pattern = &ctx.args[1];
    let pattern = (&pattern[..] != b"*").then_some(&pattern[..]);
    let keys = ctx.ks.keys(db, pattern)?;
    Ok(Frame::Array(keys.into_iter().map(Frame::Bulk).collect()))
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`: `[next-cursor, [keys...]]`.
pub fn scan(ctx: &mut Ctx) -> Reply {
    let cursor = parse_cursor(&ctx.args[1])?;
    let mut count = 10usize;
    let mut pattern: Option<Bytes> = None;
    let mut type_filter: Option<String> = None;
    let mut cur = ctx.cursor(2);
    while let Some(opt) = cur.next() {
        if cur.is_empty() {
            return Err(CommandError::Syntax);
        }
        if eq_ic(opt, "count") {
            let n = cur.required_i64()?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(opt, "match") {
            let p = cur.required()?.clone();
            pattern = (&p[..] != b"*").then_some(p);
        } else if eq_ic(opt, "type") {
            type_filter = Some(String::from_utf8_lossy(cur.required()?).to_ascii_lowercase());
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let db = ctx.db();
    let mut keys = Vec::new();
    let next = ctx.ks.scan(db, cursor, count, |k, e: EntryRef<'_>| {
        if let Some(p) = &pattern {
            if !ferrodis_keyspace::glob::glob_match(p, k, false) {
                return;
            }
        }
        if let Some(t) = &type_filter {
            if e.value().type_name() != t {
                return;
            }
        }
        keys.push(Frame::Bulk(Bytes::copy_from_slice(k)));
    })?;
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(keys),
    ]))
}

/// `RANDOMKEY`: a random key or null.
pub fn randomkey(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    Ok(ctx.ks.random_key(db)?.map_or(Frame::Null, Frame::Bulk))
}

fn rename_generic(ctx: &mut Ctx, nx: bool) -> Reply {
    let db = ctx.db();
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    if ctx.ks.lookup_write(db, &src)?.is_none() {
        return Err(CommandError::NoSuchKey);
    }
    if src == dst {
        return Ok(if nx { Frame::Integer(0) } else { Frame::ok() });
    }
    if ctx.ks.lookup_write(db, &dst)?.is_some() {
        if nx {
            return Ok(Frame::Integer(0));
        }
        ctx.ks.delete(db, &dst)?;
    }
    if let Some((value, expire)) = ctx.ks.remove(db, &src)? {
        ctx.ks.add(db, &dst, value, expire)?;
        ctx.notify_new(&dst);
        ctx.notify(class::GENERIC, "rename_from", &src);
        ctx.notify(class::GENERIC, "rename_to", &dst);
    }
    Ok(if nx { Frame::Integer(1) } else { Frame::ok() })
}

/// `RENAME key newkey`: `+OK`; `ERR no such key`. The TTL moves with the value.
pub fn rename(ctx: &mut Ctx) -> Reply {
    rename_generic(ctx, false)
}

/// `RENAMENX key newkey`: 1, or 0 when `newkey` exists.
pub fn renamenx(ctx: &mut Ctx) -> Reply {
    rename_generic(ctx, true)
}

fn parse_db(ctx: &Ctx, arg: &[u8]) -> Result<usize, CommandError> {
    let v = parse_i32(arg)?;
    usize::try_from(v)
        .ok()
        .filter(|&d| d < ctx.server.keyspace.databases())
        .ok_or(CommandError::DbOutOfRange)
}

/// `COPY source destination [DB destination-db] [REPLACE]`: 1 if copied, 0 otherwise.
pub fn copy(ctx: &mut Ctx) -> Reply {
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut cur = ctx.cursor(3);
    while let Some(opt) = cur.next() {
        if eq_ic(opt, "replace") {
            replace = true;
        } else if eq_ic(opt, "db") && !cur.is_empty() {
            let arg = cur.required()?;
            dst_db = parse_db(ctx, arg)?;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    if src == dst && src_db == dst_db {
        return Err(CommandError::SameObject);
    }
    let Some(e) = ctx.ks.lookup_read_no_touch(src_db, &src)? else {
        ctx.notify_miss(&src);
        return Ok(Frame::Integer(0));
    };
    let (value, expire) = (e.value().to_value(), e.expire_ms());
    if ctx.ks.lookup_write(dst_db, &dst)?.is_some() {
        if !replace {
            return Ok(Frame::Integer(0));
        }
        ctx.ks.delete(dst_db, &dst)?;
    }
    ctx.ks.add(dst_db, &dst, value, expire)?;
    ctx.notify_in(class::NEW, "new", &dst, dst_db);
    ctx.notify_in(class::GENERIC, "copy_to", &dst, dst_db);
    if dst_db != src_db {
        // Dispatch signals the keys in the selected db; another destination db is ours.
        ctx.server.watches.touch(dst_db, &dst);
        ctx.server.blocking.signal(dst_db, &dst);
    }
    Ok(Frame::Integer(1))
}

/// `MOVE key db`: 1 if moved, 0 if missing here or present there.
pub fn move_(ctx: &mut Ctx) -> Reply {
    let dst_db = parse_db(ctx, &ctx.args[2])?;
    let src_db = ctx.db();
    if src_db == dst_db {
        return Err(CommandError::SameObject);
    }
    let key = ctx.args[1].clone();
    if ctx.ks.lookup_write(src_db, &key)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    if ctx.ks.lookup_write(dst_db, &key)?.is_some() {
        return Ok(Frame::Integer(0));
    }
    if let Some((value, expire)) = ctx.ks.remove(src_db, &key)? {
        ctx.ks.add(dst_db, &key, value, expire)?;
        ctx.notify_in(class::NEW, "new", &key, dst_db);
        ctx.notify_in(class::GENERIC, "move_from", &key, src_db);
        ctx.notify_in(class::GENERIC, "move_to", &key, dst_db);
        // Dispatch signals the key in the source db; the destination is ours to signal.
        ctx.server.watches.touch(dst_db, &key);
        ctx.server.blocking.signal(dst_db, &key);
    }
    Ok(Frame::Integer(1))
}

/// `SWAPDB index1 index2`.
pub fn swapdb(ctx: &mut Ctx) -> Reply {
    let a = parse_i64(&ctx.args[1])
        .ok()
        .filter(|v| (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(v))
        .ok_or(CommandError::msg("ERR invalid first DB index"))?;
    let b = parse_i64(&ctx.args[2])
        .ok()
        .filter(|v| (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(v))
        .ok_or(CommandError::msg("ERR invalid second DB index"))?;
    let n = ctx.server.keyspace.databases() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CommandError::DbOutOfRange);
    }
    let (a, b) = (a as usize, b as usize);
    transactions::touch_flushed(ctx, a, Some(b))?;
    transactions::touch_flushed(ctx, b, Some(a))?;
    ctx.server.blocking.signal_db(a);
    ctx.server.blocking.signal_db(b);
    ctx.ks.swap_db(a, b)?;
    ctx.dirty += 1;
    Ok(Frame::ok())
}

/// `DBSIZE`.
pub fn dbsize(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    Ok(Frame::Integer(ctx.ks.db_len(db)? as i64))
}

/// Parses the optional `ASYNC|SYNC` of FLUSHDB/FLUSHALL; `ERR syntax error` otherwise.
fn flush_lazy(ctx: &Ctx) -> Result<bool, CommandError> {
    match ctx.args.len() {
        1 => Ok(false),
        2 if eq_ic(&ctx.args[1], "async") => Ok(true),
        2 if eq_ic(&ctx.args[1], "sync") => Ok(false),
        _ => Err(CommandError::Syntax),
    }
}

/// `FLUSHDB [ASYNC|SYNC]`.
pub fn flushdb(ctx: &mut Ctx) -> Reply {
    let lazy = flush_lazy(ctx)?;
    let db = ctx.db();
    transactions::touch_flushed(ctx, db, None)?;
    ctx.ks.flush_db(db, lazy)?;
    ctx.dirty += 1;
    Ok(Frame::ok())
}

/// `FLUSHALL [ASYNC|SYNC]`. With save rules configured, the now empty data set is saved at
/// once (Redis `flushAllDataAndResetRDB`), so a restart does not bring the keys back.
pub fn flushall(ctx: &mut Ctx) -> Reply {
    let lazy = flush_lazy(ctx)?;
    for db in 0..ctx.server.keyspace.databases() {
        transactions::touch_flushed(ctx, db, None)?;
    }
    ctx.ks.flush_all(lazy)?;
    if !ctx.server.with_config(|c| c.save_params()).is_empty() {
        // A failure is logged by the save; FLUSHALL itself succeeded.
        let _ = ctx.server.save_rdb(ctx.ks);
    }
    ctx.dirty += 1;
    Ok(Frame::ok())
}

/// How the EXPIRE family reads its time argument.
#[derive(Clone, Copy)]
enum When {
    RelSecs,
    RelMillis,
    AbsSecs,
    AbsMillis,
}

/// The EXPIRE family (Redis `expireGenericCommand`): 1 if the expire was set (or the key
/// deleted because the time is in the past), 0 if the key is missing or a condition failed.
fn expire_generic(ctx: &mut Ctx, when_kind: When, cmd: &str) -> Reply {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &ctx.args[3..] {
        if eq_ic(opt, "nx") {
            nx = true;
        } else if eq_ic(opt, "xx") {
            xx = true;
        } else if eq_ic(opt, "gt") {
            gt = true;
        } else if eq_ic(opt, "lt") {
            lt = true;
        } else {
            return Err(CommandError::owned(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CommandError::msg(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CommandError::msg(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let mut when = parse_i64(&ctx.args[2])?;
    let invalid = || CommandError::InvalidExpire(cmd.to_string());
    if matches!(when_kind, When::RelSecs | When::AbsSecs) {
        when = when.checked_mul(1000).ok_or_else(invalid)?;
    }
    let now_ms = ctx.ks.now().ms as i64;
    if matches!(when_kind, When::RelSecs | When::RelMillis) {
        when = when.checked_add(now_ms).ok_or_else(invalid)?;
    }
    let db = ctx.db();
    let key = ctx.args[1].clone();
    let Some(e) = ctx.ks.lookup_write(db, &key)? else {
        return Ok(Frame::Integer(0));
    };
    let current = e.expire_ms().map(|t| t as i64);
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(Frame::Integer(0));
    }
    if when <= now_ms {
        ctx.delete_key(&key)?;
        ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key]);
    } else {
        ctx.ks.set_expire(db, &key, Some(when as u64))?;
        ctx.notify(class::GENERIC, "expire", &key);
        // Logged as an absolute expire (Redis propagates every form as PEXPIREAT).
        ctx.propagate_as(vec![
            Bytes::from_static(b"PEXPIREAT"),
            key,
            Bytes::from(when.to_string()),
        ]);
    }
    Ok(Frame::Integer(1))
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`.
pub fn expire(ctx: &mut Ctx) -> Reply {
    expire_generic(ctx, When::RelSecs, "expire")
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`.
pub fn pexpire(ctx: &mut Ctx) -> Reply {
    expire_generic(ctx, When::RelMillis, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]`.
pub fn expireat(ctx: &mut Ctx) -> Reply {
    expire_generic(ctx, When::AbsSecs, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]`.
pub fn pexpireat(ctx: &mut Ctx) -> Reply {
    expire_generic(ctx, When::AbsMillis, "pexpireat")
}

/// The expire of `key` for TTL-like commands: `Err(-2)` missing, `Err(-1)` no expire.
fn key_expire(ctx: &mut Ctx) -> Result<Result<u64, i64>, CommandError> {
    let db = ctx.db();
    let args = ctx.args;
    let found = match ctx.ks.lookup_read_no_touch(db, &args[1])? {
        None => Err(-2),
        Some(e) => e.expire_ms().ok_or(-1),
    };
    if found == Err(-2) {
        ctx.notify_miss(&args[1]);
    }
    Ok(found)
}

fn ttl_generic(ctx: &mut Ctx, millis: bool) -> Reply {
    let now = ctx.ks.now().ms;
    Ok(Frame::Integer(match key_expire(ctx)? {
        Err(code) => code,
        Ok(at) => {
            let left = at.saturating_sub(now) as i64;
            if millis {
                left
            } else {
                (left + 500) / 1000
            }
        }
    }))
}

/// `TTL key`: seconds left (rounded), -1 without expire, -2 when missing.
pub fn ttl(ctx: &mut Ctx) -> Reply {
    ttl_generic(ctx, false)
}

/// `PTTL key`: milliseconds left, -1 without expire, -2 when missing.
pub fn pttl(ctx: &mut Ctx) -> Reply {
    ttl_generic(ctx, true)
}

/// `EXPIRETIME key`: the expire as Unix seconds (rounded to the nearest), -1 / -2.
pub fn expiretime(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Integer(match key_expire(ctx)? {
        Err(code) => code,
        Ok(at) => ((at + 500) / 1000) as i64,
    }))
}

/// `PEXPIRETIME key`: the expire as Unix milliseconds, -1 / -2.
pub fn pexpiretime(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Integer(match key_expire(ctx)? {
        Err(code) => code,
        Ok(at) => at as i64,
    }))
}

/// `PERSIST key`: 1 if an expire was removed.
pub fn persist(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let key = ctx.args[1].clone();
    let had = ctx
        .ks
        .lookup_write(db, &key)?
        .is_some_and(|e| e.expire_ms().is_some());
    if had {
        ctx.ks.set_expire(db, &key, None)?;
        ctx.notify(class::GENERIC, "persist", &key);
    }
    Ok(Frame::Integer(i64::from(had)))
}

/// `TOUCH key [key ...]`: updates access times; the number of existing keys.
pub fn touch(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let args = ctx.args;
    let mut n = 0;
    for key in &args[1..] {
        if ctx.ks.lookup_read(db, key)?.is_some() {
            n += 1;
        } else {
            ctx.notify_miss(key);
        }
    }
    Ok(Frame::Integer(n))
}

/// What OBJECT reports about a key, read without copying its value.
struct ObjectInfo {
    encoding: &'static str,
    /// The string's refcount ([`ferrodis_keyspace::StrRef::refcount`]); `None` for other types.
    str_refcount: Option<i64>,
    /// The access field.
    lru: u32,
}

fn object_value(ctx: &mut Ctx) -> Result<Option<ObjectInfo>, CommandError> {
    let db = ctx.db();
    Ok(ctx
        .ks
        .lookup_read_no_touch(db, &ctx.args[2])?
        .map(|e| ObjectInfo {
            encoding: e.value().encoding_name(),
            str_refcount: e.value().as_str().map(|s| s.refcount()),
            lru: e.lru(),
        }))
}

/// Whether an LFU `maxmemory-policy` is selected (Redis `MAXMEMORY_FLAG_LFU`), whatever
/// `maxmemory` is.
fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.server.access_policy().lfu
}

/// `OBJECT ENCODING key`: `int`, `embstr`, `raw`, ...; null when missing.
pub fn object_encoding(ctx: &mut Ctx) -> Reply {
    Ok(object_value(ctx)?.map_or(Frame::Null, |o| {
        Frame::bulk_from_slice(o.encoding.as_bytes())
    }))
}

/// `OBJECT REFCOUNT key`: 2147483647 for shared small integers, else 1; null when missing.
/// As in Redis, integers are not shared under a `maxmemory` with an LRU or LFU policy (each
/// key needs its own access metadata).
pub fn object_refcount(ctx: &mut Ctx) -> Reply {
    let shared_ints = ctx.server.with_config(|c| {
        let maxmemory = c.get_str("maxmemory").unwrap_or_default();
        let policy = c.get_str("maxmemory-policy").unwrap_or_default();
        maxmemory == "0" || !(policy.contains("lru") || policy.contains("lfu"))
    });
    Ok(object_value(ctx)?.map_or(Frame::Null, |o| {
        Frame::Integer(match o.str_refcount {
            Some(r) if !shared_ints => r.min(1),
            Some(r) => r,
            None => 1,
        })
    }))
}

/// `OBJECT IDLETIME key`: seconds since the last access (Redis `estimateObjectIdleTime`, on
/// the 24-bit LRU clock); null when missing; under an LFU policy `ERR An LFU maxmemory policy
/// is selected, idle time not tracked. ...`.
pub fn object_idletime(ctx: &mut Ctx) -> Reply {
    let now = ctx.ks.now();
    let Some(ObjectInfo { lru, .. }) = object_value(ctx)? else {
        return Ok(Frame::Null);
    };
    if lfu_policy(ctx) {
        return Err(CommandError::msg(msg::IDLE_NOT_TRACKED));
    }
    Ok(Frame::Integer((now.idle_ms(lru) / 1000) as i64))
}

/// `OBJECT FREQ key`: the logarithmic access counter 0..=255 after decay (Redis
/// `LFUDecrAndReturn`, not stored); null when missing; `ERR An LFU maxmemory policy is not
/// selected, access frequency not tracked. ...` unless an LFU `maxmemory-policy` is set.
pub fn object_freq(ctx: &mut Ctx) -> Reply {
    let now = ctx.ks.now();
    let Some(ObjectInfo { lru: field, .. }) = object_value(ctx)? else {
        return Ok(Frame::Null);
    };
    let access = ctx.server.access_policy();
    if !access.lfu {
        return Err(CommandError::msg(msg::FREQ_NOT_TRACKED));
    }
    let counter =
        ferrodis_keyspace::evict::lfu_decr_and_return(field, now.ms, access.lfu_decay_time_min);
    Ok(Frame::Integer(i64::from(counter)))
}

/// `OBJECT HELP`.
pub fn object_help(_ctx: &mut Ctx) -> Reply {
    help_reply(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Reply with the internal encoding of the value at <key>.",
            "FREQ <key>",
            "    Reply with the logarithmic access frequency counter of <key> (LFU policies).",
            "IDLETIME <key>",
            "    Reply with the seconds since <key> was last accessed.",
            "REFCOUNT <key>",
            "    Reply with the reference count of the value at <key>.",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursor_parsing_matches_strtoull() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b""), Ok(0), "strtoull of nothing is 0");
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert!(parse_cursor(b"18446744073709551616").is_err());
        assert!(parse_cursor(b"x").is_err());
    }
}
