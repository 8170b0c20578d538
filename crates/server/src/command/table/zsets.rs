//! The sorted set commands (group `SortedSet`).

use super::*;
use crate::cmd::zsets as z;

const MK: Flags = Flags::MOVABLEKEYS;
const A_Z_W: Acl = A_W.with(Acl::SORTEDSET);
const A_Z_R: Acl = A_R.with(Acl::SORTEDSET);
const RW_DEL: &[&str] = &["RW", "delete"];
const KEY1_RW_AC_DEL: &[K] = &[K::one(1, RW_AC_DEL)];
const NUMKEYS_RO: &[K] = &[K::keynum(1, 0, 1, 1, RO_AC)];
const STORE_KEYS: &[K] = &[K::one(1, OW_UP), K::keynum(2, 0, 1, 1, RO_AC)];

const LOG_N: &str = "O(log(N)) for N members.";
const RANGE_LOG: &str = "O(log(N)+M) for N members and M members returned.";
const REMRANGE_LOG: &str = "O(log(N)+M) for N members and M members removed.";
const POP_LOG: &str = "O(log(N)*M) for N members and M members popped.";
const UNION_COMPLEXITY: &str =
    "O(N)+O(M*log(M)) for N members in all the inputs and M members in the result.";
const INTER_COMPLEXITY: &str = "O(N*K)+O(M*log(M)) for N members in the smallest of K inputs \
                                and M members in the result.";
const DIFF_COMPLEXITY: &str = "O(L + (N-K)log(N)) for L members in all the inputs, N in the \
                               first one and K in the result.";

/// The sorted set commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "zadd",
        -4,
        DW.with(F),
        A_Z_W.with(A_F),
        Group::SortedSet,
        "1.2.0",
        "O(log(N)) per member added or updated, for N members.",
        "Adds members with scores to a sorted set, or updates their scores.",
        "key [NX | XX]{condition}^3.0.2 [GT | LT]{comparison}^6.2.0 [CH]{change}^3.0.2 \
         [INCR]{increment}^3.0.2 (score:double member) ...",
        Some(z::zadd),
    )
    .history(&[
        ("2.4.0", "Several members may be given."),
        ("3.0.2", "XX, NX, CH and INCR options."),
        ("6.2.0", "GT and LT options."),
    ])
    .keys(KEY1_RW_UP),
    C::new(
        "zincrby",
        4,
        DW.with(F),
        A_Z_W.with(A_F),
        Group::SortedSet,
        "1.2.0",
        LOG_N,
        "Adds an increment to the score of a member of a sorted set.",
        "key increment member",
        Some(z::zincrby),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "zrem",
        -3,
        W.with(F),
        A_Z_W.with(A_F),
        Group::SortedSet,
        "1.2.0",
        "O(M*log(N)) for M members removed from N.",
        "Removes members from a sorted set.",
        "key member ...",
        Some(z::zrem),
    )
    .history(&[("2.4.0", "Several members may be given.")])
    .keys(&[K::one(1, RW_DEL)]),
    C::new(
        "zcard",
        2,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "1.2.0",
        O1,
        "Returns the number of members of a sorted set.",
        "key",
        Some(z::zcard),
    )
    .keys(KEY1_RO),
    C::new(
        "zscore",
        3,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "1.2.0",
        O1,
        "Returns the score of a member of a sorted set.",
        "key member",
        Some(z::zscore),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "zmscore",
        -3,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "6.2.0",
        "O(N) for N members asked.",
        "Returns the scores of several members of a sorted set.",
        "key member ...",
        Some(z::zmscore),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "zrank",
        3,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "2.0.0",
        LOG_N,
        "Returns the rank of a member of a sorted set, by ascending score.",
        "key member",
        Some(z::zrank),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "zrevrank",
        3,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "2.0.0",
        LOG_N,
        "Returns the rank of a member of a sorted set, by descending score.",
        "key member",
        Some(z::zrevrank),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "zcount",
        4,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "2.0.0",
        LOG_N,
        "Counts the members of a sorted set with scores in a range.",
        "key min:double max:double",
        Some(z::zcount),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "zlexcount",
        4,
        R.with(F),
        A_Z_R.with(A_F),
        Group::SortedSet,
        "2.8.9",
        LOG_N,
        "Counts the members of a sorted set in a lexicographic range.",
        "key min max",
        Some(z::zlexcount),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "zrange",
        -4,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "1.2.0",
        RANGE_LOG,
        "Returns the members of a sorted set in a range of ranks, scores or strings.",
        "key start:string stop [BYSCORE | BYLEX]{sortby}^6.2.0 [REV^6.2.0] \
         [LIMIT offset count]{offset_count}^6.2.0 [WITHSCORES]",
        Some(z::zrange),
    )
    .history(&[("6.2.0", "REV, BYSCORE, BYLEX and LIMIT options.")])
    .keys(KEY1_RO_AC),
    C::new(
        "zrangestore",
        -5,
        DW,
        A_Z_W.with(A_S),
        Group::SortedSet,
        "6.2.0",
        "O(log(N)+M) for N members and M members stored.",
        "Stores a range of members of a sorted set in another key.",
        concat!(
            "dst:key src:key min max ",
            "[BYSCORE | BYLEX]{sortby} [REV] ",
            "[LIMIT offset count]{offset_count}"
        ),
        Some(z::zrangestore),
    )
    .keys(&[K::one(1, OW_UP), K::one(2, RO_AC)]),
    C::new(
        "zrangebyscore",
        -4,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "1.0.5",
        RANGE_LOG,
        "Returns the members of a sorted set with scores in a range.",
        "key min:double max:double [WITHSCORES^2.0.0] [LIMIT offset count]{offset_count}",
        Some(z::zrangebyscore),
    )
    .history(&[("2.0.0", "WITHSCORES option.")])
    .deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument")
    .keys(KEY1_RO_AC),
    C::new(
        "zrevrangebyscore",
        -4,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "2.2.0",
        RANGE_LOG,
        "Returns the members of a sorted set with scores in a range, highest first.",
        "key max:double min:double [WITHSCORES] [LIMIT offset count]{offset_count}",
        Some(z::zrevrangebyscore),
    )
    .history(&[("2.1.6", "min and max may be exclusive.")])
    .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments")
    .keys(KEY1_RO_AC),
    C::new(
        "zrangebylex",
        -4,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "2.8.9",
        RANGE_LOG,
        "Returns the members of a sorted set in a lexicographic range.",
        "key min max [LIMIT offset count]{offset_count}",
        Some(z::zrangebylex),
    )
    .deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument")
    .keys(KEY1_RO_AC),
    C::new(
        "zrevrangebylex",
        -4,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "2.8.9",
        RANGE_LOG,
        "Returns the members of a sorted set in a lexicographic range, highest first.",
        "key max min [LIMIT offset count]{offset_count}",
        Some(z::zrevrangebylex),
    )
    .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments")
    .keys(KEY1_RO_AC),
    C::new(
        "zrevrange",
        -4,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "1.2.0",
        RANGE_LOG,
        "Returns the members of a sorted set in a range of ranks, highest score first.",
        "key start stop:integer [WITHSCORES]",
        Some(z::zrevrange),
    )
    .deprecated("6.2.0", "`ZRANGE` with the `REV` argument")
    .keys(KEY1_RO_AC),
    C::new(
        "zremrangebyrank",
        4,
        W,
        A_Z_W.with(A_S),
        Group::SortedSet,
        "2.0.0",
        REMRANGE_LOG,
        "Removes the members of a sorted set in a range of ranks.",
        "key start stop:integer",
        Some(z::zremrangebyrank),
    )
    .keys(&[K::one(1, RW_DEL)]),
    C::new(
        "zremrangebyscore",
        4,
        W,
        A_Z_W.with(A_S),
        Group::SortedSet,
        "1.2.0",
        REMRANGE_LOG,
        "Removes the members of a sorted set with scores in a range.",
        "key min:double max:double",
        Some(z::zremrangebyscore),
    )
    .keys(&[K::one(1, RW_DEL)]),
    C::new(
        "zremrangebylex",
        4,
        W,
        A_Z_W.with(A_S),
        Group::SortedSet,
        "2.8.9",
        REMRANGE_LOG,
        "Removes the members of a sorted set in a lexicographic range.",
        "key min max",
        Some(z::zremrangebylex),
    )
    .keys(&[K::one(1, RW_DEL)]),
    C::new(
        "zpopmin",
        -2,
        W.with(F),
        A_Z_W.with(A_F),
        Group::SortedSet,
        "5.0.0",
        POP_LOG,
        "Removes and returns the members of a sorted set with the lowest scores.",
        "key [count]",
        Some(z::zpopmin),
    )
    .keys(KEY1_RW_AC_DEL),
    C::new(
        "zpopmax",
        -2,
        W.with(F),
        A_Z_W.with(A_F),
        Group::SortedSet,
        "5.0.0",
        POP_LOG,
        "Removes and returns the members of a sorted set with the highest scores.",
        "key [count]",
        Some(z::zpopmax),
    )
    .keys(KEY1_RW_AC_DEL),
    C::new(
        "zmpop",
        -4,
        W.with(MK),
        A_Z_W.with(A_S),
        Group::SortedSet,
        "7.0.0",
        "O(K)+O(M*log(N)) for K keys, N members and M members popped.",
        "Removes and returns members with the lowest or highest scores from the first \
         non-empty sorted set.",
        "numkeys:integer key ... (MIN | MAX){where} [COUNT count]",
        Some(z::zmpop),
    )
    .keys(&[K::keynum(1, 0, 1, 1, RW_AC_DEL)]),
    C::new(
        "zrandmember",
        -2,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "6.2.0",
        "O(N) for N members returned.",
        "Returns random members of a sorted set.",
        "key [count [WITHSCORES]]{options}",
        Some(z::zrandmember),
    )
    .keys(KEY1_RO_AC)
    .tips(ND),
    C::new(
        "zinter",
        -3,
        R.with(MK),
        A_Z_R.with(A_S),
        Group::SortedSet,
        "6.2.0",
        INTER_COMPLEXITY,
        "Returns the intersection of sorted sets (and sets).",
        concat!(
            "numkeys:integer key ... [WEIGHTS weight:integer]... ",
            "[AGGREGATE (SUM | MIN | MAX)]{aggregate} [WITHSCORES]"
        ),
        Some(z::zinter),
    )
    .keys(NUMKEYS_RO),
    C::new(
        "zintercard",
        -3,
        R.with(MK),
        A_Z_R.with(A_S),
        Group::SortedSet,
        "7.0.0",
        "O(N*K) for N members in the smallest of K inputs.",
        "Returns the size of the intersection of sorted sets (and sets).",
        "numkeys:integer key ... [LIMIT limit:integer]",
        Some(z::zintercard),
    )
    .keys(NUMKEYS_RO),
    C::new(
        "zinterstore",
        -4,
        DW.with(MK),
        A_Z_W.with(A_S),
        Group::SortedSet,
        "2.0.0",
        INTER_COMPLEXITY,
        "Stores the intersection of sorted sets (and sets) in a key.",
        concat!(
            "destination numkeys:integer key ... [WEIGHTS weight:integer]... ",
            "[AGGREGATE (SUM | MIN | MAX)]{aggregate}"
        ),
        Some(z::zinterstore),
    )
    .keys(STORE_KEYS),
    C::new(
        "zunion",
        -3,
        R.with(MK),
        A_Z_R.with(A_S),
        Group::SortedSet,
        "6.2.0",
        UNION_COMPLEXITY,
        "Returns the union of sorted sets (and sets).",
        concat!(
            "numkeys:integer key ... [WEIGHTS weight:integer]... ",
            "[AGGREGATE (SUM | MIN | MAX)]{aggregate} [WITHSCORES]"
        ),
        Some(z::zunion),
    )
    .keys(NUMKEYS_RO),
    C::new(
        "zunionstore",
        -4,
        DW.with(MK),
        A_Z_W.with(A_S),
        Group::SortedSet,
        "2.0.0",
        UNION_COMPLEXITY,
        "Stores the union of sorted sets (and sets) in a key.",
        concat!(
            "destination numkeys:integer key ... [WEIGHTS weight:integer]... ",
            "[AGGREGATE (SUM | MIN | MAX)]{aggregate}"
        ),
        Some(z::zunionstore),
    )
    .keys(STORE_KEYS),
    C::new(
        "zdiff",
        -3,
        R.with(MK),
        A_Z_R.with(A_S),
        Group::SortedSet,
        "6.2.0",
        DIFF_COMPLEXITY,
        "Returns the members of the first sorted set (or set) that are in none of the others.",
        "numkeys:integer key ... [WITHSCORES]",
        Some(z::zdiff),
    )
    .keys(NUMKEYS_RO),
    C::new(
        "zdiffstore",
        -4,
        DW.with(MK),
        A_Z_W.with(A_S),
        Group::SortedSet,
        "6.2.0",
        DIFF_COMPLEXITY,
        "Stores the members of the first sorted set (or set) that are in none of the others.",
        "destination numkeys:integer key ...",
        Some(z::zdiffstore),
    )
    .keys(STORE_KEYS),
    C::new(
        "zscan",
        -3,
        R,
        A_Z_R.with(A_S),
        Group::SortedSet,
        "2.8.0",
        "O(1) per call, O(N) for a complete iteration.",
        "Iterates over the members and scores of a sorted set with a cursor.",
        "key cursor [MATCH pattern] [COUNT count]",
        Some(z::zscan),
    )
    .keys(KEY1_RO_AC)
    .tips(ND),
];
