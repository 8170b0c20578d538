//! Set commands (Redis `t_set.c`).
//!
//! ```text
//! SADD key member [member ...]          SREM key member [member ...]
//! SCARD key                             SISMEMBER key member
//! SMISMEMBER key member [member ...]    SMEMBERS key
//! SMOVE source destination member       SSCAN key cursor [MATCH pattern] [COUNT count]
//! SRANDMEMBER key [count]               SPOP key [count]                       (random.rs)
//! SINTER key [key ...]                  SINTERCARD numkeys key [key ...] [LIMIT limit]
//! SINTERSTORE destination key [key ...] SUNION key [key ...]
//! SUNIONSTORE destination key [key ...] SDIFF key [key ...]
//! SDIFFSTORE destination key [key ...]                                         (algebra.rs)
//! ```
//!
//! Replies follow Redis 7.0: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count answer a
//! RESP3 set (an array in RESP2); SRANDMEMBER with a count an array. A set left empty is deleted.
//! Encodings (`intset` / `hashtable`) and their conversions live in [`ferrodis_keyspace::Set`].

mod algebra;
mod random;
#[cfg(test)]
mod tests;

pub use algebra::{sdiff, sdiffstore, sinter, sintercard, sinterstore, sunion, sunionstore};
pub use random::{spop, srandmember};

use bytes::Bytes;
use ferrodis_keyspace::set::Member;
use ferrodis_keyspace::{EncodingLimits, Set, ValueRef};
use ferrodis_resp::Frame;

use super::{delete_if_empty, read_set, set_or_create, write_set};
use crate::command::args::parse_cursor;
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// The encoding thresholds for this command (read once).
fn limits(ctx: &Ctx) -> EncodingLimits {
    ctx.server.encoding_limits()
}

/// A member as a bulk string reply.
fn bulk(m: Member<'_>) -> Frame {
    Frame::Bulk(m.to_bytes())
}

/// Every member of `set` in its iteration order, as a RESP3 set reply (an array in RESP2).
fn set_reply(set: &Set) -> Frame {
    Frame::Set(set.iter().map(bulk).collect())
}

/// The set at `key` without counting a hit or miss or touching it (for keys a command already
/// looked up once; Redis looks each key up once and keeps the pointer). `WRONGTYPE` for other
/// types.
fn peek_set<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Set>, CommandError> {
    let db = ctx.db();
    match ctx.ks.peek(db, key)? {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::Set(s) => Ok(Some(s)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// `SADD key member [member ...]`: the number of members added. Creates the key.
pub fn sadd(ctx: &mut Ctx) -> Reply {
    let limits = limits(ctx);
    let args = ctx.args;
    let set = set_or_create(ctx, &args[1], Set::new)?;
    let added = args[2..].iter().filter(|m| set.insert(m, &limits)).count();
    if added > 0 {
        ctx.notify(class::SET, "sadd", &args[1]);
    }
    Ok(Frame::Integer(added as i64))
}

/// `SREM key member [member ...]`: the number of members removed; the key is deleted when
/// emptied.
pub fn srem(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let Some(set) = write_set(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    let mut removed = 0;
    for m in &args[2..] {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let empty = set.is_empty();
    if removed > 0 {
        ctx.notify(class::SET, "srem", &args[1]);
    }
    delete_if_empty(ctx, &args[1], empty)?;
    Ok(Frame::Integer(removed))
}

/// `SCARD key`: the number of members, 0 for a missing key.
pub fn scard(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let n = read_set(ctx, &args[1])?.map_or(0, Set::len);
    Ok(Frame::Integer(n as i64))
}

/// `SISMEMBER key member`: 1 or 0.
pub fn sismember(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let found = read_set(ctx, &args[1])?.is_some_and(|s| s.contains(&args[2]));
    Ok(Frame::Integer(i64::from(found)))
}

/// `SMISMEMBER key member [member ...]`: an array of 1/0, one per member (all 0 for a missing
/// key).
pub fn smismember(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let set = read_set(ctx, &args[1])?;
    let flags = args[2..]
        .iter()
        .map(|m| Frame::Integer(i64::from(set.is_some_and(|s| s.contains(m)))))
        .collect();
    Ok(Frame::Array(flags))
}

/// `SMEMBERS key`: every member (an intset ascending), as a set reply; empty for a missing key.
pub fn smembers(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    Ok(match read_set(ctx, &args[1])? {
        Some(set) => set_reply(set),
        None => Frame::Set(Vec::new()),
    })
}

/// `SMOVE source destination member`: 1 when moved, 0 when `source` is missing or lacks the
/// member. `WRONGTYPE` when either key holds another type (not checked when `source` is
/// missing, as in Redis). Moving within one key answers whether the member is there.
pub fn smove(ctx: &mut Ctx) -> Reply {
    let limits = limits(ctx);
    let args = ctx.args;
    let (src, dst, member) = (&args[1], &args[2], &args[3]);
    if write_set(ctx, src)?.is_none() {
        return Ok(Frame::Integer(0));
    }
    write_set(ctx, dst)?;
    let Some(set) = write_set(ctx, src)? else {
        return Ok(Frame::Integer(0));
    };
    if src == dst {
        return Ok(Frame::Integer(i64::from(set.contains(member))));
    }
    if !set.remove(member) {
        return Ok(Frame::Integer(0));
    }
    let empty = set.is_empty();
    ctx.notify(class::SET, "srem", src);
    delete_if_empty(ctx, src, empty)?;
    if set_or_create(ctx, dst, Set::new)?.insert(member, &limits) {
        ctx.notify(class::SET, "sadd", dst);
    }
    Ok(Frame::Integer(1))
}

/// The options of SSCAN (Redis' `scanGenericCommand`): `COUNT` (≥ 1, default 10) and `MATCH`.
fn parse_scan_options(ctx: &Ctx, start: usize) -> Result<(usize, Option<Bytes>), CommandError> {
    let mut count = 10usize;
    let mut pattern = None;
    let mut cur = ctx.cursor(start);
    while let Some(opt) = cur.next() {
        if cur.is_empty() {
            return Err(CommandError::Syntax);
        }
        if eq_ic(opt, "count") {
            let n = parse_i64(cur.required()?)?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(opt, "match") {
            let p = cur.required()?.clone();
            // A lone `*` matches everything: no filtering, as Redis does.
            pattern = (&p[..] != b"*").then_some(p);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((count, pattern))
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`: `[next-cursor, [members...]]`. An intset
/// is returned whole with cursor 0; a hashtable bucket by bucket (see [`Set::scan`]). A missing
/// key answers `["0", []]` before the options are checked, as in Redis.
pub fn sscan(ctx: &mut Ctx) -> Reply {
    let cursor = parse_cursor(&ctx.args[2])?;
    let args = ctx.args;
    if read_set(ctx, &args[1])?.is_none() {
        return Ok(scan_reply(0, Vec::new()));
    }
    let (count, pattern) = parse_scan_options(ctx, 3)?;
    let Some(set) = peek_set(ctx, &args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let mut items = Vec::new();
    let next = set.scan(cursor, count, |m| {
        m.with_bytes(|b| {
            let keep = pattern
                .as_ref()
                .is_none_or(|p| ferrodis_keyspace::glob::glob_match(p, b, false));
            if keep {
                items.push(Frame::Bulk(Bytes::copy_from_slice(b)));
            }
        })
    });
    Ok(scan_reply(next, items))
}

/// The two-element reply of the SCAN family.
fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(items),
    ])
}
