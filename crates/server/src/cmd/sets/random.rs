//! SPOP and SRANDMEMBER (Redis `spopCommand`, `spopWithCountCommand`,
//! `srandmemberWithCountCommand`).

use crate::error::msg::I64_COUNT_RANGE as COUNT_OUT_OF_RANGE;
use crate::error::msg::MUST_BE_POSITIVE as COUNT_NOT_POSITIVE;
use bytes::Bytes;
use ferrodis_keyspace::Set;
use ferrodis_resp::Frame;

use super::{bulk, limits, read_set, set_reply, write_set};
use crate::command::args::parse_i64;
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// Preallocate at most this many reply slots for SRANDMEMBER with a negative count: the count
/// comes from the client and may be far larger than anything a reply can hold.
const MAX_PREALLOC: usize = 1 << 16;

/// `SPOP key [count]`: without a count, a random member removed (bulk, or null for a missing
/// key); with one, see [`spop_count`]. More arguments: `ERR syntax error`. The key is deleted
/// when emptied.
pub fn spop(ctx: &mut Ctx) -> Reply {
    match ctx.args.len() {
        2 => spop_one(ctx),
        3 => spop_count(ctx),
        _ => Err(CommandError::Syntax),
    }
}

fn spop_one(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let Some(set) = write_set(ctx, &args[1])? else {
        return Ok(Frame::Null);
    };
    let popped = set.pop_random();
    let empty = set.is_empty();
    if let Some(m) = &popped {
        ctx.notify(class::SET, "spop", &args[1]);
        // The member chance picked is logged, so a replay removes the same one.
        ctx.propagate_as(vec![
            Bytes::from_static(b"SREM"),
            args[1].clone(),
            m.clone(),
        ]);
    }
    super::delete_if_empty(ctx, &args[1], empty)?;
    Ok(popped.map_or(Frame::Null, Frame::Bulk))
}

/// `SPOP key count`: up to `count` random distinct members removed, as a set reply (empty for a
/// missing key or a count of 0). A count covering the set pops all of it, answered the way
/// Redis answers it (through a union of the one set: an all-integer result within
/// `set-max-intset-entries` comes ascending) and deletes the key. `ERR value is out of range,
/// must be positive` for a negative or non-integer count, checked before the key.
fn spop_count(ctx: &mut Ctx) -> Reply {
    let limits = limits(ctx);
    let args = ctx.args;
    let count = parse_i64(&args[2])
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CommandError::msg(COUNT_NOT_POSITIVE))?;
    let Some(set) = write_set(ctx, &args[1])? else {
        return Ok(Frame::Set(Vec::new()));
    };
    if count == 0 {
        return Ok(Frame::Set(Vec::new()));
    }
    if count < set.len() {
        let popped = set.pop_many(count, &limits);
        ctx.notify(class::SET, "spop", &args[1]);
        // As Redis: one SREM per batch of members popped.
        for batch in popped.chunks(SREM_BATCH) {
            let mut argv = Vec::with_capacity(batch.len() + 2);
            argv.push(Bytes::from_static(b"SREM"));
            argv.push(args[1].clone());
            argv.extend(batch.iter().cloned());
            ctx.propagate_push(argv);
        }
        return Ok(Frame::Set(popped.into_iter().map(Frame::Bulk).collect()));
    }
    let mut all = Set::new();
    set.iter().for_each(|m| {
        all.insert_member(m, &limits);
    });
    ctx.notify(class::SET, "spop", &args[1]);
    ctx.delete_key(&args[1])?;
    ctx.propagate_as(vec![Bytes::from_static(b"DEL"), args[1].clone()]);
    Ok(set_reply(&all))
}

/// Members per SREM that SPOP with a count is logged as (Redis `SPOP_MOVE_STRATEGY_MUL`'s
/// batches of 1024).
const SREM_BATCH: usize = 1024;

/// `SRANDMEMBER key [count]`: without a count, a random member (bulk, or null for a missing
/// key); with one, see [`srandmember_count`]. More arguments: `ERR syntax error`.
pub fn srandmember(ctx: &mut Ctx) -> Reply {
    match ctx.args.len() {
        2 => {
            let args = ctx.args;
            let set = read_set(ctx, &args[1])?;
            Ok(set.and_then(Set::random).map_or(Frame::Null, bulk))
        }
        3 => srandmember_count(ctx),
        _ => Err(CommandError::Syntax),
    }
}

/// `SRANDMEMBER key count`: an array (in RESP3 too). A positive count gives distinct members
/// (the whole set in its order when the count covers it); a negative one `|count|` members
/// drawn independently, so possibly repeated. Empty for a missing key or a count of 0.
/// `ERR value is not an integer or out of range`; `i64::MIN` is out of range.
fn srandmember_count(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let l = parse_i64(&args[2])?;
    if l == i64::MIN {
        return Err(CommandError::msg(COUNT_OUT_OF_RANGE));
    }
    let Some(set) = read_set(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let count = usize::try_from(l.unsigned_abs()).unwrap_or(usize::MAX);
    if count == 0 || set.is_empty() {
        return Ok(Frame::Array(Vec::new()));
    }
    if l < 0 || count == 1 {
        let mut out = Vec::with_capacity(count.min(MAX_PREALLOC));
        for _ in 0..count {
            out.extend(set.random().map(bulk));
        }
        return Ok(Frame::Array(out));
    }
    let picked = set.random_distinct(count);
    Ok(Frame::Array(picked.into_iter().map(Frame::Bulk).collect()))
}
