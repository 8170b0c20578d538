//! SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE (Redis
//! `sinterGenericCommand` and `sunionDiffGenericCommand`).
//!
//! Every source key is looked up once for reading (a missing key is an empty set, another type
//! answers `WRONGTYPE` before anything is computed). The keyspace hands out one value at a time,
//! so where Redis walks one set while probing the others, the members of the set walked (the
//! smallest for SINTER, the first for SDIFF) are copied first and then filtered set by set: the
//! same O(N·M) work, and the same result order.
//!
//! Results follow Redis' construction so that replies and `OBJECT ENCODING` agree: SINTER
//! answers in the iteration order of its smallest set; SUNION and SDIFF build a fresh set (an
//! intset while every member is an integer within `set-max-intset-entries`) and answer in its
//! order. The STORE variants overwrite the destination whatever its type (clearing its TTL),
//! delete it when the result is empty, and answer the result's size.

use crate::error::msg::LIMIT_NEGATIVE;
use crate::error::msg::NUMKEYS_POSITIVE as NUMKEYS_NOT_POSITIVE;
use bytes::Bytes;
use ferrodis_keyspace::{Set, Value};
use ferrodis_resp::Frame;

use super::{limits, peek_set, read_set, set_reply};
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// SINTERCARD's error for a key count larger than the arguments that follow.
const NUMKEYS_TOO_MANY: &str = "ERR Number of keys can't be greater than number of args";

/// The sizes of the sets at `keys` (`None` for a missing key), each looked up once for reading.
/// `WRONGTYPE` as soon as a key holds another type, even after a missing key, as in Redis.
fn sizes(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Option<usize>>, CommandError> {
    keys.iter()
        .map(|k| Ok(read_set(ctx, k)?.map(Set::len)))
        .collect()
}

/// The members of the set at `key`, copied in its iteration order (empty when missing).
fn members_of(ctx: &mut Ctx, key: &[u8]) -> Result<Vec<Bytes>, CommandError> {
    Ok(peek_set(ctx, key)?.map_or_else(Vec::new, |s| s.iter().map(|m| m.to_bytes()).collect()))
}

/// Keeps the `candidates` that are (`keep_members`) or are not in the set at `key`.
fn filter_by(
    ctx: &mut Ctx,
    key: &[u8],
    candidates: &mut Vec<Bytes>,
    keep_members: bool,
) -> Result<(), CommandError> {
    match peek_set(ctx, key)? {
        Some(set) => candidates.retain(|m| set.contains(m) == keep_members),
        None if keep_members => candidates.clear(),
        None => {}
    }
    Ok(())
}

/// The intersection of the sets at `keys`, in the iteration order of the smallest (the first of
/// equal sizes). Empty when any key is missing.
fn intersect(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Bytes>, CommandError> {
    let sizes = sizes(ctx, keys)?;
    if sizes.iter().any(Option::is_none) {
        return Ok(Vec::new());
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let Some((&first, rest)) = order.split_first() else {
        return Ok(Vec::new());
    };
    let mut candidates = members_of(ctx, &keys[first])?;
    for &j in rest {
        if candidates.is_empty() {
            break;
        }
        if keys[j] != keys[first] {
            filter_by(ctx, &keys[j], &mut candidates, true)?;
        }
    }
    Ok(candidates)
}

/// Stores `result` at `dst` (overwriting any value and its TTL) or deletes `dst` when the result
/// is empty; answers the result's size (Redis' `setKey` / `dbDelete` at the end of the STORE
/// variants).
fn store(ctx: &mut Ctx, dst: &[u8], result: Set, event: &str) -> Reply {
    let n = result.len();
    if n == 0 {
        ctx.delete_key(dst)?;
    } else {
        ctx.set_key(dst, Value::Set(result), false)?;
        ctx.notify(class::SET, event, dst);
    }
    Ok(Frame::Integer(n as i64))
}

/// `SINTER key [key ...]`: the members common to every set, as a set reply.
pub fn sinter(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let members = intersect(ctx, &args[1..])?;
    Ok(Frame::Set(members.into_iter().map(Frame::Bulk).collect()))
}

/// `SINTERSTORE destination key [key ...]`: stores the intersection; its size.
pub fn sinterstore(ctx: &mut Ctx) -> Reply {
    let limits = limits(ctx);
    let args = ctx.args;
    let members = intersect(ctx, &args[2..])?;
    let result = Set::from_members(members.iter().map(|m| &m[..]), &limits);
    store(ctx, &args[1], result, "sinterstore")
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`: the size of the intersection, at most
/// `limit` when it is not 0. Errors: `ERR numkeys should be greater than 0`, `ERR Number of keys
/// can't be greater than number of args`, `ERR LIMIT can't be negative`, `ERR syntax error`.
pub fn sintercard(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let numkeys = parse_i64(&args[1])
        .ok()
        .filter(|&n| n >= 1)
        .ok_or(CommandError::msg(NUMKEYS_NOT_POSITIVE))?;
    let numkeys = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if numkeys > args.len() - 2 {
        return Err(CommandError::msg(NUMKEYS_TOO_MANY));
    }
    let mut limit = 0usize;
    let mut cur = ctx.cursor(2 + numkeys);
    while let Some(opt) = cur.next() {
        if !eq_ic(opt, "limit") || cur.is_empty() {
            return Err(CommandError::Syntax);
        }
        limit = parse_i64(cur.required()?)
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(CommandError::msg(LIMIT_NEGATIVE))?;
    }
    let n = intersect(ctx, &args[2..2 + numkeys])?.len();
    let n = if limit > 0 { n.min(limit) } else { n };
    Ok(Frame::Integer(n as i64))
}

/// SUNION or SDIFF.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// The union or difference of the sets at `keys`, built as a fresh set the way Redis'
/// `sunionDiffGenericCommand` builds it (so its encoding and order are Redis').
fn union_diff(ctx: &mut Ctx, keys: &[Bytes], op: Op) -> Result<Set, CommandError> {
    let limits = limits(ctx);
    let sizes = sizes(ctx, keys)?;
    let mut result = Set::new();
    match op {
        Op::Union => {
            for (key, _) in keys.iter().zip(&sizes).filter(|(_, s)| s.is_some()) {
                if let Some(set) = peek_set(ctx, key)? {
                    set.iter().for_each(|m| {
                        result.insert_member(m, &limits);
                    });
                }
            }
        }
        Op::Diff => diff_into(ctx, keys, &sizes, &mut result)?,
    }
    Ok(result)
}

/// SDIFF into the empty `result`, choosing Redis' algorithm: 1 (walk the first set and keep the
/// members no other set has, others probed largest first) when `|first| × sets / 2` is at most
/// the total size, else 2 (add the first set, remove every other set's members).
fn diff_into(
    ctx: &mut Ctx,
    keys: &[Bytes],
    sizes: &[Option<usize>],
    result: &mut Set,
) -> Result<(), CommandError> {
    let limits = limits(ctx);
    let Some(first) = sizes.first().copied().flatten() else {
        return Ok(());
    };
    let others: Vec<usize> = (1..keys.len()).filter(|&j| sizes[j].is_some()).collect();
    if others.iter().any(|&j| keys[j] == keys[0]) {
        return Ok(()); // The first set minus itself.
    }
    let total: usize = sizes.iter().flatten().sum();
    let algo_one_work = first.saturating_mul(others.len() + 1) / 2;
    if algo_one_work <= total {
        let mut others = others;
        others.sort_by_key(|&j| std::cmp::Reverse(sizes[j]));
        let mut candidates = members_of(ctx, &keys[0])?;
        for j in others {
            if candidates.is_empty() {
                break;
            }
            filter_by(ctx, &keys[j], &mut candidates, false)?;
        }
        for m in &candidates {
            result.insert(m, &limits);
        }
        return Ok(());
    }
    if let Some(set) = peek_set(ctx, &keys[0])? {
        set.iter().for_each(|m| {
            result.insert_member(m, &limits);
        });
    }
    for j in others {
        if let Some(set) = peek_set(ctx, &keys[j])? {
            set.iter().for_each(|m| {
                result.remove_member(m);
            });
        }
        if result.is_empty() {
            break;
        }
    }
    Ok(())
}

/// `SUNION key [key ...]`: the members of any of the sets, as a set reply.
pub fn sunion(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    Ok(set_reply(&union_diff(ctx, &args[1..], Op::Union)?))
}

/// `SUNIONSTORE destination key [key ...]`: stores the union; its size.
pub fn sunionstore(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let result = union_diff(ctx, &args[2..], Op::Union)?;
    store(ctx, &args[1], result, "sunionstore")
}

/// `SDIFF key [key ...]`: the members of the first set that no other set has, as a set reply.
pub fn sdiff(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    Ok(set_reply(&union_diff(ctx, &args[1..], Op::Diff)?))
}

/// `SDIFFSTORE destination key [key ...]`: stores the difference; its size.
pub fn sdiffstore(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let result = union_diff(ctx, &args[2..], Op::Diff)?;
    store(ctx, &args[1], result, "sdiffstore")
}
