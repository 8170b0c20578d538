//! ZPOPMIN, ZPOPMAX, ZMPOP (Redis' `genericZpopCommand`), ZRANDMEMBER and ZSCAN.

use bytes::Bytes;
use ferrodis_keyspace::glob::glob_match;
use ferrodis_keyspace::ValueRef;
use ferrodis_resp::{format_double, Frame};

use super::{
    resp3, scored_reply, COUNT_OUT_OF_RANGE, COUNT_POSITIVE, MAX_RANDOM_REPLY, MUST_BE_POSITIVE,
    NUMKEYS_POSITIVE, VALUE_OUT_OF_RANGE,
};
use crate::cmd::{delete_if_empty, read_zset, write_zset};
use crate::command::args::parse_cursor;
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// Parses a count that must be ≥ `min`, replying `err` both when it is not an integer and when
/// it is too small (Redis' `getRangeLongFromObjectOrReply` with a message).
fn count_at_least(arg: &[u8], min: i64, err: &'static str) -> Result<i64, CommandError> {
    match parse_i64(arg) {
        Ok(n) if n >= min => Ok(n),
        _ => Err(CommandError::msg(err)),
    }
}

/// A key and the members popped from it, in pop order.
pub(crate) type Popped = (Bytes, Vec<(Bytes, f64)>);

/// Pops up to `count` members from the first existing key of `keys` (a key of another type
/// before it is `WRONGTYPE`); returns that key and the members in pop order.
pub(crate) fn pop_first(
    ctx: &mut Ctx,
    keys: &[Bytes],
    max: bool,
    count: usize,
) -> Result<Option<Popped>, CommandError> {
    for key in keys {
        let Some(z) = write_zset(ctx, key)? else {
            continue;
        };
        let mut out = Vec::with_capacity(count.min(z.len()));
        while out.len() < count {
            match z.pop(max) {
                Some(p) => out.push(p),
                None => break,
            }
        }
        let empty = z.is_empty();
        if !out.is_empty() {
            ctx.notify(class::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
            // BZPOPMIN, BZMPOP and ZMPOP are logged as ZPOPMIN/ZPOPMAX key [count].
            let cmd: &'static [u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            ctx.propagate_as(crate::cmd::lists::pop_argv(cmd, key, count));
        }
        delete_if_empty(ctx, key, empty)?;
        return Ok(Some((key.clone(), out)));
    }
    Ok(None)
}

fn zpop(ctx: &mut Ctx, max: bool) -> Reply {
    if ctx.args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match ctx.args.get(2) {
        Some(c) => Some(count_at_least(c, 0, MUST_BE_POSITIVE)?),
        None => None,
    };
    let resp3 = resp3(ctx);
    let n = count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let keys = [ctx.args[1].clone()];
    let popped = if n == 0 {
        // Still checks the type, as Redis does before looking at the count.
        write_zset(ctx, &keys[0])?;
        Vec::new()
    } else {
        pop_first(ctx, &keys, max, n)?.map_or_else(Vec::new, |(_, items)| items)
    };
    if resp3 && count.is_some() {
        return Ok(scored_reply(popped, true, true));
    }
    Ok(scored_reply(popped, true, false))
}

/// `ZPOPMIN key [count]`: the lowest-scored members with their scores (RESP3 with a count:
/// `[member, score]` pairs).
pub fn zpopmin(ctx: &mut Ctx) -> Reply {
    zpop(ctx, false)
}

/// `ZPOPMAX key [count]`: the highest-scored members with their scores.
pub fn zpopmax(ctx: &mut Ctx) -> Reply {
    zpop(ctx, true)
}

/// The arguments ZMPOP and BZMPOP share, from `numkeys` on.
pub(crate) struct ZmpopArgs {
    /// Argument positions of the keys.
    pub(crate) keys: std::ops::Range<usize>,
    /// MAX (true) or MIN.
    pub(crate) max: bool,
    /// How many members to pop at most (1 without COUNT).
    pub(crate) count: usize,
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` from `numkeys_at` (Redis
/// `zmpopGenericCommand`): `ERR numkeys should be greater than 0`, `ERR count should be greater
/// than 0`, `ERR syntax error`.
pub(crate) fn parse_zmpop(args: &[Bytes], numkeys_at: usize) -> Result<ZmpopArgs, CommandError> {
    let numkeys = count_at_least(&args[numkeys_at], 1, NUMKEYS_POSITIVE)?;
    let where_at = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
        .filter(|&w| w < args.len())
        .ok_or(CommandError::Syntax)?;
    let max = match &args[where_at] {
        w if eq_ic(w, "min") => false,
        w if eq_ic(w, "max") => true,
        _ => return Err(CommandError::Syntax),
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && eq_ic(&args[j], "count") && j + 1 < args.len() {
            count = Some(count_at_least(&args[j + 1], 1, COUNT_POSITIVE)?);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(ZmpopArgs {
        keys: numkeys_at + 1..where_at,
        max,
        count: usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX),
    })
}

/// The ZMPOP/BZMPOP reply: `[key, [[member, score], ...]]`.
pub(crate) fn zmpop_reply((key, items): Popped) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(key),
        Frame::Array(
            items
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)]))
                .collect(),
        ),
    ])
}

/// `ZMPOP numkeys key ... MIN|MAX [COUNT count]`: `[key, [[member, score], ...]]` from the first
/// non-empty sorted set, or a null array.
pub fn zmpop(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let z = parse_zmpop(args, 1)?;
    Ok(pop_first(ctx, &args[z.keys], z.max, z.count)?.map_or(Frame::NullArray, zmpop_reply))
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`: one random member (or null); with a count, that many
/// distinct members (the whole set, highest score first, when it is not larger), or with a
/// negative count that many picks with repetition.
pub fn zrandmember(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let key = args[1].clone();
    if args.len() == 2 {
        let pick = read_zset(ctx, &key)?.and_then(|z| z.random());
        return Ok(pick.map_or(Frame::Null, |(m, _)| Frame::Bulk(m)));
    }
    let count = parse_i64(&args[2])?;
    if count == i64::MIN {
        return Err(CommandError::msg(COUNT_OUT_OF_RANGE));
    }
    if args.len() > 4 || (args.len() == 4 && !eq_ic(&args[3], "withscores")) {
        return Err(CommandError::Syntax);
    }
    let withscores = args.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::msg(VALUE_OUT_OF_RANGE));
    }
    let resp3 = resp3(ctx);
    let Some(z) = read_zset(ctx, &key)? else {
        return Ok(Frame::Array(Vec::new()));
    };
    let len = z.len() as u64;
    let wanted = count.unsigned_abs();
    let items = if count == 0 {
        Vec::new()
    } else if count < 0 || wanted == 1 {
        if wanted > MAX_RANDOM_REPLY {
            return Err(CommandError::msg(VALUE_OUT_OF_RANGE));
        }
        (0..wanted).filter_map(|_| z.random()).collect()
    } else if wanted >= len {
        // Redis walks the whole set from its tail.
        z.range(0, z.len(), true)
    } else {
        z.random_distinct(wanted as usize)
    };
    Ok(scored_reply(items, withscores, resp3))
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: `[next cursor, [member, score, ...]]`,
/// scores as bulk strings in both protocols. A listpack is returned whole with cursor 0.
pub fn zscan(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let cursor = parse_cursor(&args[2])?;
    let key = args[1].clone();
    let empty = || {
        Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"0")),
            Frame::Array(Vec::new()),
        ])
    };
    // The key is looked up (and its type checked) before the options are parsed.
    if read_zset(ctx, &key)?.is_none() {
        return Ok(empty());
    }
    let (mut count, mut pattern) = (10usize, None);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if eq_ic(&args[j], "count") && more {
            let n = parse_i64(&args[j + 1])?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(&args[j], "match") && more {
            let p = &args[j + 1];
            pattern = (&p[..] != b"*").then_some(p);
        } else {
            return Err(CommandError::Syntax);
        }
        j += 2;
    }
    let db = ctx.db();
    let Some(ValueRef::ZSet(z)) = ctx.ks.peek(db, &key)?.map(|e| e.value()) else {
        return Ok(empty());
    };
    let mut out = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            let mut text = Vec::with_capacity(24);
            format_double(s, &mut text);
            out.push(Frame::Bulk(Bytes::copy_from_slice(m)));
            out.push(Frame::Bulk(Bytes::from(text)));
        }
    });
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from(next.to_string())),
        Frame::Array(out),
    ]))
}
