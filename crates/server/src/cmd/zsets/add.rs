//! ZADD, ZINCRBY, ZREM and the point reads ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK.

use bytes::Bytes;
use ferrodis_keyspace::zset::{AddFlags, AddOutcome};
use ferrodis_keyspace::ZSet;
use ferrodis_resp::Frame;

use super::parse::parse_score;
use super::{GT_LT_NX, INCR_ONE_PAIR, SCORE_NAN, XX_AND_NX};
use crate::cmd::{delete_if_empty, read_zset, write_zset, zset_or_create};
use crate::command::args::eq_ic;
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// ZADD's parsed arguments.
struct ZaddArgs {
    flags: AddFlags,
    ch: bool,
    pairs: Vec<(f64, Bytes)>,
}

/// Parses `[NX|XX] [GT|LT] [CH] [INCR] score member ...` from argument 2 with Redis' checks in
/// Redis' order (`zaddGenericCommand`). ZINCRBY goes through the same parser with INCR set, so
/// `ZINCRBY k nx m` is a syntax error there too.
fn parse_zadd(ctx: &Ctx, incr: bool) -> Result<ZaddArgs, CommandError> {
    let mut flags = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut i = 2;
    while let Some(opt) = ctx.args.get(i) {
        match () {
            _ if eq_ic(opt, "nx") => flags.nx = true,
            _ if eq_ic(opt, "xx") => flags.xx = true,
            _ if eq_ic(opt, "ch") => ch = true,
            _ if eq_ic(opt, "incr") => flags.incr = true,
            _ if eq_ic(opt, "gt") => flags.gt = true,
            _ if eq_ic(opt, "lt") => flags.lt = true,
            _ => break,
        }
        i += 1;
    }
    let rest = &ctx.args[i..];
    if rest.is_empty() || rest.len() % 2 != 0 {
        return Err(CommandError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CommandError::msg(XX_AND_NX));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CommandError::msg(GT_LT_NX));
    }
    if flags.incr && rest.len() > 2 {
        return Err(CommandError::msg(INCR_ONE_PAIR));
    }
    let pairs = rest
        .chunks(2)
        .map(|p| {
            Ok((
                parse_score(&p[0]).ok_or(CommandError::NotFloat)?,
                p[1].clone(),
            ))
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    Ok(ZaddArgs { flags, ch, pairs })
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...`: the number of members added (with
/// CH, added or updated); with INCR the new score, or null when NX/XX/GT/LT skipped it.
pub fn zadd(ctx: &mut Ctx) -> Reply {
    zadd_generic(ctx, false)
}

/// `ZINCRBY key increment member`: the member's new score (ZADD INCR).
pub fn zincrby(ctx: &mut Ctx) -> Reply {
    zadd_generic(ctx, true)
}

fn zadd_generic(ctx: &mut Ctx, incr: bool) -> Reply {
    let a = parse_zadd(ctx, incr)?;
    let limits = ctx.server.encoding_limits();
    let key = ctx.args[1].clone();
    let first_len = a.pairs.first().map_or(0, |p| p.1.len());
    let z = if a.flags.xx {
        // XX never creates the key.
        match write_zset(ctx, &key)? {
            Some(z) => z,
            None if a.flags.incr => return Ok(Frame::Null),
            None => return Ok(Frame::Integer(0)),
        }
    } else {
        zset_or_create(ctx, &key, || ZSet::new_for_add(first_len, &limits))?
    };
    let (mut added, mut updated, mut last) = (0i64, 0i64, None);
    let mut nan = false;
    for (score, member) in &a.pairs {
        match z.add(member, *score, a.flags, &limits) {
            AddOutcome::Added(s) => {
                added += 1;
                last = Some(s);
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                last = Some(s);
            }
            AddOutcome::Unchanged(s) => last = Some(s),
            AddOutcome::Skipped => {}
            AddOutcome::NotANumber => {
                nan = true;
                break;
            }
        }
    }
    // Redis notifies what was applied, also when a NaN stopped the command.
    if added + updated > 0 {
        let event = if a.flags.incr { "zincr" } else { "zadd" };
        ctx.notify(class::ZSET, event, &key);
    }
    if nan {
        return Err(CommandError::msg(SCORE_NAN));
    }
    if a.flags.incr {
        return Ok(last.map_or(Frame::Null, Frame::Double));
    }
    Ok(Frame::Integer(if a.ch { added + updated } else { added }))
}

/// `ZREM key member ...`: how many members were removed; the key goes when emptied.
pub fn zrem(ctx: &mut Ctx) -> Reply {
    let key = ctx.args[1].clone();
    let args = ctx.args;
    let Some(z) = write_zset(ctx, &key)? else {
        return Ok(Frame::Integer(0));
    };
    let removed = args[2..].iter().filter(|m| z.remove(m)).count();
    let empty = z.is_empty();
    if removed > 0 {
        ctx.notify(class::ZSET, "zrem", &key);
    }
    delete_if_empty(ctx, &key, empty)?;
    Ok(Frame::Integer(removed as i64))
}

/// `ZCARD key`: the number of members (0 for a missing key).
pub fn zcard(ctx: &mut Ctx) -> Reply {
    let key = ctx.args[1].clone();
    Ok(Frame::Integer(
        read_zset(ctx, &key)?.map_or(0, |z| z.len() as i64),
    ))
}

/// `ZSCORE key member`: the score, or null.
pub fn zscore(ctx: &mut Ctx) -> Reply {
    let (key, member) = (ctx.args[1].clone(), ctx.args[2].clone());
    let score = read_zset(ctx, &key)?.and_then(|z| z.score(&member));
    Ok(score.map_or(Frame::Null, Frame::Double))
}

/// `ZMSCORE key member ...`: each member's score or null.
pub fn zmscore(ctx: &mut Ctx) -> Reply {
    let key = ctx.args[1].clone();
    let args = ctx.args;
    let z = read_zset(ctx, &key)?;
    Ok(Frame::Array(
        args[2..]
            .iter()
            .map(|m| {
                z.and_then(|z| z.score(m))
                    .map_or(Frame::Null, Frame::Double)
            })
            .collect(),
    ))
}

fn rank_generic(ctx: &mut Ctx, rev: bool) -> Reply {
    let (key, member) = (ctx.args[1].clone(), ctx.args[2].clone());
    let rank = read_zset(ctx, &key)?.and_then(|z| z.rank(&member, rev));
    Ok(rank.map_or(Frame::Null, |r| Frame::Integer(r as i64)))
}

/// `ZRANK key member`: the 0-based rank by ascending score, or null.
pub fn zrank(ctx: &mut Ctx) -> Reply {
    rank_generic(ctx, false)
}

/// `ZREVRANK key member`: the 0-based rank by descending score, or null.
pub fn zrevrank(ctx: &mut Ctx) -> Reply {
    rank_generic(ctx, true)
}
