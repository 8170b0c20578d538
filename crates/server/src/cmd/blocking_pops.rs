//! Blocking list and sorted-set pops (Redis 7.0 `t_list.c` `blockingPopGenericCommand`,
//! `blmoveGenericCommand`, `t_zset.c` `blockingGenericZpopCommand`; parking in
//! [`crate::blocking`]).
//!
//! ```text
//! BLPOP key [key ...] timeout                BRPOP key [key ...] timeout
//! BRPOPLPUSH source destination timeout
//! BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
//! BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
//! BZPOPMIN key [key ...] timeout             BZPOPMAX key [key ...] timeout
//! BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
//! ```
//!
//! Each handler first serves from the keys at once, exactly as its non-blocking twin (LPOP,
//! LMOVE, LMPOP, ZPOPMIN, ZMPOP: the same code, so the same keyspace events); a key of another
//! type met before a non-empty one is `WRONGTYPE` at once. When nothing can be served it calls
//! [`block_on`]: the client waits until a write gives one of the keys data (the command is then
//! re-run for it), its timeout, or CLIENT UNBLOCK. Timeout replies are a null array (`*-1`,
//! RESP3 `_`) for every one of them, BLMOVE and BRPOPLPUSH included. Inside MULTI/EXEC they
//! do not block: the same null array, but a null bulk (`$-1`) for BLMOVE and BRPOPLPUSH.
//!
//! Argument order of the checks follows Redis: BLMOVE's LEFT|RIGHT, and BLMPOP/BZMPOP's
//! numkeys, direction and COUNT, are checked before the timeout; the timeout before any key.

use bytes::Bytes;
use ferrodis_keyspace::list::End;
use ferrodis_resp::Frame;

use crate::blocking::block_on;
use crate::client::ClientKind;
use crate::cmd::lists::{move_generic, parse_end, parse_mpop, pop_first};
use crate::cmd::zsets::pop::{parse_zmpop, pop_first as zpop_first, zmpop_reply};
use crate::command::strtod::{is_c_space, strtod};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};

/// A timeout that is not a number (Redis `getTimeoutFromObjectOrReply`).
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// A timeout below zero, or too large to be held in milliseconds.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";

/// Parses a timeout in seconds as Redis 7.0's `getTimeoutFromObjectOrReply` (`UNIT_SECONDS`):
/// a float (`strtold` on the whole argument: no leading space, nothing left over, not NaN),
/// rounded up to whole milliseconds. Returns the deadline, Unix milliseconds `now_ms + ms`, or
/// `None` for 0 (block forever; also `-0.0001`, which rounds to 0 as in Redis).
///
/// Errors: `ERR timeout is not a float or out of range`, `ERR timeout is negative` (also for
/// values whose milliseconds do not fit a signed 64-bit integer, such as `inf` or `1e30`: Redis'
/// conversion turns those into `LLONG_MIN`).
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<Option<u64>, CommandError> {
    let not_float = || CommandError::msg(TIMEOUT_NOT_FLOAT);
    if arg.is_empty() || is_c_space(arg[0]) {
        return Err(not_float());
    }
    let r = strtod(arg);
    if r.used != arg.len() || r.value.is_nan() {
        return Err(not_float());
    }
    let mut secs = r.value;
    if r.out_of_range && secs == 0.0 {
        // Below f64's range but within a long double's: a tiny non-zero timeout.
        secs = if arg.first() == Some(&b'-') {
            -f64::MIN_POSITIVE
        } else {
            f64::MIN_POSITIVE
        };
    }
    let ms = (secs * 1000.0).ceil();
    // Not NaN (rejected above). i64::MAX is not an f64: 2^63 is the first value that does not
    // fit; ±inf land on one side or the other.
    if !(0.0..9_223_372_036_854_775_808.0).contains(&ms) {
        return Err(CommandError::msg(TIMEOUT_NEGATIVE));
    }
    let ms = ms as u64;
    Ok((ms > 0).then(|| now_ms.saturating_add(ms)))
}

/// The keys to pop from: all of `keys` in order, or, when the command is re-run for a parked
/// client because one of its keys became ready, that key only (Redis serves the ready key, not
/// the first non-empty one: `BLPOP k1 k2` woken by a push to k2 pops from k2).
fn pop_order<'a>(ctx: &Ctx, keys: &'a [Bytes]) -> &'a [Bytes] {
    match &ctx.client.serving {
        Some(ready) => keys
            .iter()
            .position(|k| k == ready)
            .map_or(keys, |i| &keys[i..=i]),
        None => keys,
    }
}

/// The timeout (last argument) of BLPOP-style commands, as a deadline.
fn last_arg_timeout(ctx: &Ctx) -> Result<Option<u64>, CommandError> {
    let args = ctx.args;
    parse_timeout(&args[args.len() - 1], ctx.ks.now().ms)
}

/// BLPOP/BRPOP: `[key, element]` from the first non-empty list, else block.
fn bpop(ctx: &mut Ctx, end: End) -> Reply {
    let deadline = last_arg_timeout(ctx)?;
    let args = ctx.args;
    let keys = &args[1..args.len() - 1];
    if let Some((key, popped)) = pop_first(ctx, pop_order(ctx, keys), end, 1)? {
        let mut out = vec![Frame::Bulk(key)];
        out.extend(popped.into_iter().map(Frame::Bulk));
        return Ok(Frame::Array(out));
    }
    block_on(ctx, keys.to_vec(), "list", deadline, Frame::NullArray)
}

/// `BLPOP key [key ...] timeout`: `[key, element]` popped from the head of the first non-empty
/// list; blocks while all are empty; a null array on timeout.
pub fn blpop(ctx: &mut Ctx) -> Reply {
    bpop(ctx, End::Head)
}

/// `BRPOP key [key ...] timeout`: as BLPOP, from the tail.
pub fn brpop(ctx: &mut Ctx) -> Reply {
    bpop(ctx, End::Tail)
}

/// BLMOVE/BRPOPLPUSH: LMOVE when the source exists (a destination of another type is then
/// `WRONGTYPE`), else block on the source. Redis 7.0 replies a null *array* on timeout (and
/// CLIENT UNBLOCK), but a null bulk inside MULTI/EXEC, where it may not block.
fn bmove(ctx: &mut Ctx, from: End, to: End) -> Reply {
    let deadline = last_arg_timeout(ctx)?;
    let reply = move_generic(ctx, from, to)?;
    if !matches!(reply, Frame::Null) {
        // Logged as the non-blocking move it was (LMOVE / RPOPLPUSH).
        let args = ctx.args;
        let argv = if args.len() == 4 {
            vec![
                Bytes::from_static(b"RPOPLPUSH"),
                args[1].clone(),
                args[2].clone(),
            ]
        } else {
            let mut v = vec![Bytes::from_static(b"LMOVE")];
            v.extend(args[1..5].iter().cloned());
            v
        };
        ctx.propagate_as(argv);
        return Ok(reply);
    }
    if ctx.client.in_exec || ctx.client.shared.kind == ClientKind::Local {
        // Redis 7.0 answers a null bulk when it may not block, a null array on timeout.
        return Ok(Frame::Null);
    }
    let source = ctx.args[1].clone();
    block_on(ctx, vec![source], "list", deadline, Frame::NullArray)
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`: the moved element. `ERR syntax
/// error` for a bad direction (checked before the timeout).
pub fn blmove(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let (from, to) = (parse_end(&args[3])?, parse_end(&args[4])?);
    bmove(ctx, from, to)
}

/// `BRPOPLPUSH source destination timeout`: BLMOVE source destination RIGHT LEFT timeout.
pub fn brpoplpush(ctx: &mut Ctx) -> Reply {
    bmove(ctx, End::Tail, End::Head)
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`: `[key, [elements]]`.
pub fn blmpop(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let m = parse_mpop(args, 2)?;
    let deadline = parse_timeout(&args[1], ctx.ks.now().ms)?;
    let keys = &args[m.keys];
    if let Some((key, popped)) = pop_first(ctx, pop_order(ctx, keys), m.end, m.count)? {
        return Ok(Frame::Array(vec![
            Frame::Bulk(key),
            Frame::Array(popped.into_iter().map(Frame::Bulk).collect()),
        ]));
    }
    block_on(ctx, keys.to_vec(), "list", deadline, Frame::NullArray)
}

/// BZPOPMIN/BZPOPMAX: `[key, member, score]` (the score a double: a bulk string in RESP2).
fn bzpop(ctx: &mut Ctx, max: bool) -> Reply {
    let deadline = last_arg_timeout(ctx)?;
    let args = ctx.args;
    let keys = &args[1..args.len() - 1];
    if let Some((key, popped)) = zpop_first(ctx, pop_order(ctx, keys), max, 1)? {
        let mut out = vec![Frame::Bulk(key)];
        for (member, score) in popped {
            out.push(Frame::Bulk(member));
            out.push(Frame::Double(score));
        }
        return Ok(Frame::Array(out));
    }
    block_on(ctx, keys.to_vec(), "zset", deadline, Frame::NullArray)
}

/// `BZPOPMIN key [key ...] timeout`: the lowest-scored member of the first non-empty sorted
/// set, as `[key, member, score]`; blocks while all are empty.
pub fn bzpopmin(ctx: &mut Ctx) -> Reply {
    bzpop(ctx, false)
}

/// `BZPOPMAX key [key ...] timeout`: as BZPOPMIN, the highest-scored member.
pub fn bzpopmax(ctx: &mut Ctx) -> Reply {
    bzpop(ctx, true)
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`: `[key, [[member, score],
/// ...]]`.
pub fn bzmpop(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let z = parse_zmpop(args, 2)?;
    let deadline = parse_timeout(&args[1], ctx.ks.now().ms)?;
    let keys = &args[z.keys];
    if let Some(popped) = zpop_first(ctx, pop_order(ctx, keys), z.max, z.count)? {
        return Ok(zmpop_reply(popped));
    }
    let keys: Vec<Bytes> = keys.to_vec();
    block_on(ctx, keys, "zset", deadline, Frame::NullArray)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::tests::H;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn in_process_clients_get_the_non_blocking_reply_at_once() {
        let mut h = H::new();
        assert_eq!(h.run(&["BLPOP", "a", "b", "0"]), Frame::NullArray);
        assert_eq!(h.run(&["BZMPOP", "0", "1", "z", "MIN"]), Frame::NullArray);
        assert_eq!(
            h.run(&["BLMOVE", "a", "b", "LEFT", "LEFT", "0"]),
            Frame::Null
        );
        assert_eq!(h.run(&["BRPOPLPUSH", "a", "b", "0"]), Frame::Null);
        h.run(&["RPUSH", "b", "x", "y", "z"]);
        let served = Frame::Array(vec![bulk("b"), bulk("z")]);
        assert_eq!(h.run(&["BRPOP", "a", "b", "0"]), served);
        let served = Frame::Array(vec![bulk("b"), Frame::Array(vec![bulk("x"), bulk("y")])]);
        assert_eq!(
            h.run(&["BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "5"]),
            served
        );
        h.run(&["ZADD", "z", "2", "m", "1", "n"]);
        let served = Frame::Array(vec![bulk("z"), bulk("m"), Frame::Double(2.0)]);
        assert_eq!(h.run(&["BZPOPMAX", "z", "0"]), served);
        h.run(&["SET", "s", "v"]);
        let wrongtype = h.run(&["BZPOPMIN", "s", "z", "0"]);
        assert!(matches!(wrongtype, Frame::Error(e) if e.starts_with(b"WRONGTYPE")));
    }

    #[test]
    fn timeouts_parse_as_redis_7_0() {
        let now = 1_000_000;
        assert_eq!(parse_timeout(b"0", now), Ok(None));
        assert_eq!(parse_timeout(b"-0.0001", now), Ok(None));
        assert_eq!(parse_timeout(b"1.5", now), Ok(Some(now + 1500)));
        assert_eq!(parse_timeout(b"0.0001", now), Ok(Some(now + 1)));
        assert_eq!(parse_timeout(b"1e-400", now), Ok(Some(now + 1)));
        assert_eq!(parse_timeout(b"0x10", now), Ok(Some(now + 16_000)));
        let not_float = Err(CommandError::msg(TIMEOUT_NOT_FLOAT));
        for bad in [&b"abc"[..], b"", b" 1", b"1 ", b"nan"] {
            assert_eq!(parse_timeout(bad, now), not_float);
        }
        let negative = Err(CommandError::msg(TIMEOUT_NEGATIVE));
        for bad in [&b"-1"[..], b"inf", b"-inf", b"1e30", b"9.3e15"] {
            assert_eq!(parse_timeout(bad, now), negative);
        }
    }
}
