//! The range commands: ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and
//! ZREMRANGEBYRANK/SCORE/LEX. They share Redis 7.0's `zrangeGenericCommand` parser and turn
//! every range into a span of ranks ([`ZSet::score_span`], [`ZSet::lex_span`]).

use bytes::Bytes;
use ferrodis_keyspace::zset::{LexRange, ScoreRange};
use ferrodis_keyspace::ZSet;
use ferrodis_resp::Frame;

use super::parse::{parse_lex_range, parse_score_range};
use super::{
    resp3, scored_reply, store_result, LIMIT_NEEDS_BY, MIN_MAX_NOT_FLOAT, MIN_MAX_NOT_LEX,
    WITHSCORES_BYLEX,
};
use crate::cmd::{delete_if_empty, read_zset, write_zset};
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// What a range is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range.
#[derive(Clone, Debug)]
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// A parsed ZRANGE-family command.
struct RangeArgs {
    range: Range,
    rev: bool,
    withscores: bool,
    /// LIMIT offset and count (count -1 = all).
    offset: i64,
    limit: i64,
}

/// Parses `<min> <max> [options]` starting at the source key `ctx.args[src]`, like Redis'
/// `zrangeGenericCommand`: `by`/`rev` preset by the older commands (which then refuse BYSCORE,
/// BYLEX and REV), WITHSCORES refused when storing.
fn parse_range(
    ctx: &Ctx,
    src: usize,
    store: bool,
    by: Option<By>,
    rev: Option<bool>,
) -> Result<RangeArgs, CommandError> {
    let (mut by, mut rev) = (by, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let args = ctx.args;
    let mut j = src + 3;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            offset = parse_i64(&args[j + 1])?;
            limit = parse_i64(&args[j + 2])?;
            j += 2;
        } else if rev.is_none() && eq_ic(a, "rev") {
            rev = Some(true);
        } else if by.is_none() && eq_ic(a, "bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && eq_ic(a, "byscore") {
            by = Some(By::Score);
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let by = by.unwrap_or(By::Rank);
    let rev = rev.unwrap_or(false);
    if limit != -1 && by == By::Rank {
        return Err(CommandError::msg(LIMIT_NEEDS_BY));
    }
    if withscores && by == By::Lex {
        return Err(CommandError::msg(WITHSCORES_BYLEX));
    }
    let (mut lo, mut hi) = (&args[src + 1], &args[src + 2]);
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let range = match by {
        By::Rank => Range::Rank(parse_i64(lo)?, parse_i64(hi)?),
        By::Score => {
            Range::Score(parse_score_range(lo, hi).ok_or(CommandError::msg(MIN_MAX_NOT_FLOAT))?)
        }
        By::Lex => Range::Lex(parse_lex_range(lo, hi).ok_or(CommandError::msg(MIN_MAX_NOT_LEX))?),
    };
    Ok(RangeArgs {
        range,
        rev,
        withscores,
        offset,
        limit,
    })
}

/// Clamps `start..=end` (negative = from the end) to `len` members, as Redis does: `None`
/// when empty, else `(start, count)`.
fn rank_window(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, (end - start + 1) as usize))
}

/// The members a parsed range selects, in reply order.
fn select(z: &ZSet, a: &RangeArgs) -> Vec<(Bytes, f64)> {
    let (start, count) = match &a.range {
        Range::Rank(s, e) => match rank_window(*s, *e, z.len()) {
            Some(w) => w,
            None => return Vec::new(),
        },
        Range::Score(r) => limit_span(z.score_span(r, a.rev), a, z.len()),
        Range::Lex(r) => limit_span(z.lex_span(r, a.rev), a, z.len()),
    };
    z.range(start, count, a.rev)
}

/// Applies LIMIT to a span, as Redis' walk does: a negative offset skips everything, a
/// negative count takes everything left.
fn limit_span((start, count): (usize, usize), a: &RangeArgs, len: usize) -> (usize, usize) {
    if a.offset < 0 || (a.offset > 0 && a.offset as u64 >= len as u64) {
        return (0, 0);
    }
    let skip = (a.offset as u64).min(count as u64) as usize;
    let left = count - skip;
    let take = if a.limit < 0 {
        left
    } else {
        left.min(usize::try_from(a.limit).unwrap_or(usize::MAX))
    };
    (start + skip, take)
}

fn range_generic(ctx: &mut Ctx, by: Option<By>, rev: Option<bool>) -> Reply {
    let a = parse_range(ctx, 1, false, by, rev)?;
    let resp3 = resp3(ctx);
    let key = ctx.args[1].clone();
    let items = match read_zset(ctx, &key)? {
        Some(z) => select(z, &a),
        None => Vec::new(),
    };
    Ok(scored_reply(items, a.withscores, resp3))
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`.
pub fn zrange(ctx: &mut Ctx) -> Reply {
    range_generic(ctx, None, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]`.
pub fn zrevrange(ctx: &mut Ctx) -> Reply {
    range_generic(ctx, Some(By::Rank), Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`.
pub fn zrangebyscore(ctx: &mut Ctx) -> Reply {
    range_generic(ctx, Some(By::Score), Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`.
pub fn zrevrangebyscore(ctx: &mut Ctx) -> Reply {
    range_generic(ctx, Some(By::Score), Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`.
pub fn zrangebylex(ctx: &mut Ctx) -> Reply {
    range_generic(ctx, Some(By::Lex), Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`.
pub fn zrevrangebylex(ctx: &mut Ctx) -> Reply {
    range_generic(ctx, Some(By::Lex), Some(true))
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`: stores the
/// selected members with their scores at `dst` (deleted when none) and replies their count.
pub fn zrangestore(ctx: &mut Ctx) -> Reply {
    let a = parse_range(ctx, 2, true, None, None)?;
    let limits = ctx.server.encoding_limits();
    let (dst, src) = (ctx.args[1].clone(), ctx.args[2].clone());
    let items = match read_zset(ctx, &src)? {
        Some(z) => select(z, &a),
        None => Vec::new(),
    };
    store_result(ctx, &dst, ZSet::from_entries(items, &limits), "zrangestore")
}

/// `ZCOUNT key min max`: how many members have a score in the range.
pub fn zcount(ctx: &mut Ctx) -> Reply {
    let range = parse_score_range(&ctx.args[2], &ctx.args[3])
        .ok_or(CommandError::msg(MIN_MAX_NOT_FLOAT))?;
    let key = ctx.args[1].clone();
    let n = read_zset(ctx, &key)?.map_or(0, |z| z.score_span(&range, false).1);
    Ok(Frame::Integer(n as i64))
}

/// `ZLEXCOUNT key min max`: how many members are in the lexicographic range.
pub fn zlexcount(ctx: &mut Ctx) -> Reply {
    let range =
        parse_lex_range(&ctx.args[2], &ctx.args[3]).ok_or(CommandError::msg(MIN_MAX_NOT_LEX))?;
    let key = ctx.args[1].clone();
    let n = read_zset(ctx, &key)?.map_or(0, |z| z.lex_span(&range, false).1);
    Ok(Frame::Integer(n as i64))
}

/// Removes the members of a range (Redis' `zremrangeGenericCommand`): the range is parsed before
/// the key is looked up; the key goes when emptied.
fn remrange(ctx: &mut Ctx, range: Range) -> Reply {
    let key = ctx.args[1].clone();
    let Some(z) = write_zset(ctx, &key)? else {
        return Ok(Frame::Integer(0));
    };
    let (start, count) = match &range {
        Range::Rank(s, e) => rank_window(*s, *e, z.len()).unwrap_or((0, 0)),
        Range::Score(r) => z.score_span(r, false),
        Range::Lex(r) => z.lex_span(r, false),
    };
    let removed = z.remove_range(start, count);
    let empty = z.is_empty();
    if removed > 0 {
        let event = match range {
            Range::Rank(..) => "zremrangebyrank",
            Range::Score(_) => "zremrangebyscore",
            Range::Lex(_) => "zremrangebylex",
        };
        ctx.notify(class::ZSET, event, &key);
    }
    delete_if_empty(ctx, &key, empty)?;
    Ok(Frame::Integer(removed as i64))
}

/// `ZREMRANGEBYRANK key start stop`.
pub fn zremrangebyrank(ctx: &mut Ctx) -> Reply {
    let range = Range::Rank(parse_i64(&ctx.args[2])?, parse_i64(&ctx.args[3])?);
    remrange(ctx, range)
}

/// `ZREMRANGEBYSCORE key min max`.
pub fn zremrangebyscore(ctx: &mut Ctx) -> Reply {
    let range = parse_score_range(&ctx.args[2], &ctx.args[3])
        .ok_or(CommandError::msg(MIN_MAX_NOT_FLOAT))?;
    remrange(ctx, Range::Score(range))
}

/// `ZREMRANGEBYLEX key min max`.
pub fn zremrangebylex(ctx: &mut Ctx) -> Reply {
    let range =
        parse_lex_range(&ctx.args[2], &ctx.args[3]).ok_or(CommandError::msg(MIN_MAX_NOT_LEX))?;
    remrange(ctx, Range::Lex(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_windows_clamp_like_redis() {
        assert_eq!(rank_window(0, -1, 3), Some((0, 3)));
        assert_eq!(rank_window(-100, 100, 3), Some((0, 3)));
        assert_eq!(rank_window(2, 1, 3), None);
        assert_eq!(rank_window(3, 5, 3), None);
        assert_eq!(rank_window(-1, -1, 3), Some((2, 1)));
        assert_eq!(rank_window(0, -4, 3), None);
        assert_eq!(rank_window(i64::MIN, i64::MAX, 3), Some((0, 3)));
        assert_eq!(rank_window(0, 0, 0), None);
    }
}
