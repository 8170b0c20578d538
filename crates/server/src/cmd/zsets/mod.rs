//! Sorted set commands (Redis 7.0 `t_zset.c`).
//!
//! ```text
//! ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
//! ZINCRBY key increment member      ZREM key member [member ...]     ZCARD key
//! ZSCORE key member                 ZMSCORE key member [member ...]
//! ZRANK key member                  ZREVRANK key member
//! ZCOUNT key min max                ZLEXCOUNT key min max
//! ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
//! ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
//! ZRANGEBYSCORE / ZREVRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
//! ZRANGEBYLEX / ZREVRANGEBYLEX key min max [LIMIT offset count]
//! ZREVRANGE key start stop [WITHSCORES]
//! ZREMRANGEBYRANK key start stop    ZREMRANGEBYSCORE key min max    ZREMRANGEBYLEX key min max
//! ZPOPMIN / ZPOPMAX key [count]     ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
//! ZRANDMEMBER key [count [WITHSCORES]]
//! ZUNION / ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
//! ZUNIONSTORE / ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
//! ZDIFF numkeys key [key ...] [WITHSCORES]    ZDIFFSTORE dst numkeys key [key ...]
//! ZINTERCARD numkeys key [key ...] [LIMIT limit]
//! ZSCAN key cursor [MATCH pattern] [COUNT count]
//! ```
//!
//! Layout: [`add`] (ZADD, ZINCRBY, ZREM and the point reads), [`ranges`] (everything taking a
//! rank, score or lexicographic range), [`pop`] (pops, ZRANDMEMBER, ZSCAN), [`setops`] (union,
//! intersection, difference); [`parse`] reads doubles and ranges as Redis does.
//!
//! Scores are replied as doubles ([`Frame::Double`]: a bulk string of the `%.17g` text in RESP2);
//! with WITHSCORES, RESP2 gets a flat `member, score, ...` array and RESP3 an array of
//! `[member, score]` pairs, as Redis 7.0 does. A sorted set emptied by a command is deleted with
//! its key; the STORE commands overwrite their destination whatever it held and delete it when
//! the result is empty.

pub mod add;
pub mod parse;
pub mod pop;
pub mod ranges;
pub mod setops;

pub use add::{zadd, zcard, zincrby, zmscore, zrank, zrem, zrevrank, zscore};
pub use pop::{zmpop, zpopmax, zpopmin, zrandmember, zscan};
pub use ranges::{
    zcount, zlexcount, zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex,
    zremrangebyrank, zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};
pub use setops::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};

pub use crate::error::msg::COUNT_POSITIVE;
pub use crate::error::msg::I64_COUNT_RANGE as COUNT_OUT_OF_RANGE;
pub use crate::error::msg::LIMIT_NEGATIVE;
pub use crate::error::msg::MUST_BE_POSITIVE;
pub use crate::error::msg::NUMKEYS_POSITIVE;
pub use crate::error::msg::VALUE_OUT_OF_RANGE;
use bytes::Bytes;
use ferrodis_keyspace::{Value, ZSet};
use ferrodis_resp::{Frame, Protocol};

use crate::command::Ctx;
use crate::error::CommandError;

/// ZADD with both NX and XX.
pub const XX_AND_NX: &str = "ERR XX and NX options at the same time are not compatible";
/// ZADD with two of GT, LT and NX.
pub const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
/// ZADD INCR with several pairs.
pub const INCR_ONE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
/// An increment that makes a score NaN (`inf` + `-inf`).
pub const SCORE_NAN: &str = "ERR resulting score is not a number (NaN)";
/// A score range end that is not a float.
pub const MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
/// A lexicographic range end that is not `-`, `+`, `[x` or `(x`.
pub const MIN_MAX_NOT_LEX: &str = "ERR min or max not valid string range item";
/// ZRANGE LIMIT with a rank range.
pub const LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
/// ZRANGE WITHSCORES with BYLEX.
pub const WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
/// A WEIGHTS value that is not a float.
pub const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
/// Most members a ZRANDMEMBER with a negative count (repetitions allowed) replies, 2^27. Redis
/// has no bound and runs out of memory; Ferrodis answers [`VALUE_OUT_OF_RANGE`].
pub const MAX_RANDOM_REPLY: u64 = 1 << 27;

/// Whether the client speaks RESP3 (WITHSCORES pairs, ZPOPMIN with a count).
fn resp3(ctx: &Ctx) -> bool {
    ctx.client.protocol == Protocol::Resp3
}

/// Members with optional scores as Redis 7.0 replies them: members only; or with scores a flat
/// `member, score, ...` array (RESP2) or `[member, score]` pairs (RESP3).
fn scored_reply(items: Vec<(Bytes, f64)>, withscores: bool, resp3: bool) -> Frame {
    match (withscores, resp3) {
        (false, _) => Frame::Array(items.into_iter().map(|(m, _)| Frame::Bulk(m)).collect()),
        (true, false) => Frame::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Frame::Bulk(m), Frame::Double(s)])
                .collect(),
        ),
        (true, true) => Frame::Array(
            items
                .into_iter()
                .map(|(m, s)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(s)]))
                .collect(),
        ),
    }
}

/// Writes a STORE command's result at `dst` (Redis' `setKey`, clearing any expire), or deletes
/// `dst` when the result is empty (publishing `new` + `event`, or `del`); the reply is the
/// result's size.
fn store_result(
    ctx: &mut Ctx,
    dst: &[u8],
    result: ZSet,
    event: &str,
) -> Result<Frame, CommandError> {
    let len = result.len();
    if len == 0 {
        ctx.delete_key(dst)?;
    } else {
        ctx.set_key(dst, Value::ZSet(result), false)?;
        ctx.notify(crate::notify::class::ZSET, event, dst);
    }
    Ok(Frame::Integer(len as i64))
}

#[cfg(test)]
mod tests;
