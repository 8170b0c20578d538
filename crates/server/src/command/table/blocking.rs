//! The blocking pops (groups `List` and `SortedSet`), with Redis 7.0's flags, ACL categories and
//! key specs. Handlers in [`crate::cmd::blocking_pops`].

use super::*;
use crate::cmd::blocking_pops as b;

const NS_B: Flags = Flags::NOSCRIPT.with(Flags::BLOCKING);
const A_BLOCK: Acl = Acl::BLOCKING;
const A_LIST_W: Acl = A_W.with(Acl::LIST).with(A_S).with(A_BLOCK);
const A_ZSET_W: Acl = A_W.with(Acl::SORTEDSET).with(A_BLOCK);

/// BLPOP, BRPOP, BZPOPMIN, BZPOPMAX: every argument but the last (the timeout) is a key.
const KEYS_BEFORE_TIMEOUT: &[K] = &[K::range(1, -2, 1, RW_AC_DEL)];
/// BLMOVE, BRPOPLPUSH: pop from the source, push to the destination.
const MOVE_KEYS: &[K] = &[K::one(1, RW_AC_DEL), K::one(2, RW_INS)];
/// BLMPOP, BZMPOP: numkeys at 2, keys after it.
const MPOP_KEYS: &[K] = &[K::keynum(2, 0, 1, 1, RW_AC_DEL)];

const TIMEOUT_HISTORY: &[(&str, &str)] = &[(
    "6.0.0",
    "`timeout` is interpreted as a double instead of an integer.",
)];
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of keys given and M the number of elements popped.";
const ZPOP_COMPLEXITY: &str = "O(log(N)) for N members.";
const ZMPOP_COMPLEXITY: &str = "O(K)+O(M*log(N)) for K keys given, N members in the sorted set \
                                and M members popped.";

/// The blocking pops.
pub static COMMANDS: &[C] = &[
    C::new(
        "blpop",
        -3,
        W.with(NS_B),
        A_LIST_W,
        Group::List,
        "2.0.0",
        "O(N) for N keys given.",
        "Pops the first element of the first non-empty list, blocking until one has data.",
        "key... timeout:double",
        Some(b::blpop),
    )
    .history(TIMEOUT_HISTORY)
    .keys(KEYS_BEFORE_TIMEOUT),
    C::new(
        "brpop",
        -3,
        W.with(NS_B),
        A_LIST_W,
        Group::List,
        "2.0.0",
        "O(N) for N keys given.",
        "Pops the last element of the first non-empty list, blocking until one has data.",
        "key... timeout:double",
        Some(b::brpop),
    )
    .history(TIMEOUT_HISTORY)
    .keys(KEYS_BEFORE_TIMEOUT),
    C::new(
        "brpoplpush",
        4,
        DW.with(NS_B),
        A_LIST_W,
        Group::List,
        "2.2.0",
        O1,
        "Pops the last element of a list and pushes it at the head of another, blocking until \
         the source has data.",
        "source destination timeout:double",
        Some(b::brpoplpush),
    )
    .history(TIMEOUT_HISTORY)
    .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments")
    .keys(MOVE_KEYS),
    C::new(
        "blmove",
        6,
        DW.with(NS_B),
        A_LIST_W,
        Group::List,
        "6.2.0",
        O1,
        "Pops an element from one end of a list and pushes it at an end of another, blocking \
         until the source has data.",
        "source destination (LEFT | RIGHT){wherefrom} (LEFT | RIGHT){whereto} timeout:double",
        Some(b::blmove),
    )
    .keys(MOVE_KEYS),
    C::new(
        "blmpop",
        -5,
        W.with(Flags::BLOCKING).with(Flags::MOVABLEKEYS),
        A_LIST_W,
        Group::List,
        "7.0.0",
        MPOP_COMPLEXITY,
        "Pops elements from the first non-empty list among several keys, blocking until one \
         has data.",
        "timeout:double numkeys:integer key... (LEFT | RIGHT){where} [COUNT count:integer]",
        Some(b::blmpop),
    )
    .keys(MPOP_KEYS),
    C::new(
        "bzpopmin",
        -3,
        W.with(NS_B).with(F),
        A_ZSET_W.with(A_F),
        Group::SortedSet,
        "5.0.0",
        ZPOP_COMPLEXITY,
        "Pops the lowest-scored member of the first non-empty sorted set, blocking until one \
         has members.",
        "key... timeout:double",
        Some(b::bzpopmin),
    )
    .history(TIMEOUT_HISTORY)
    .keys(KEYS_BEFORE_TIMEOUT),
    C::new(
        "bzpopmax",
        -3,
        W.with(NS_B).with(F),
        A_ZSET_W.with(A_F),
        Group::SortedSet,
        "5.0.0",
        ZPOP_COMPLEXITY,
        "Pops the highest-scored member of the first non-empty sorted set, blocking until one \
         has members.",
        "key... timeout:double",
        Some(b::bzpopmax),
    )
    .history(TIMEOUT_HISTORY)
    .keys(KEYS_BEFORE_TIMEOUT),
    C::new(
        "bzmpop",
        -5,
        W.with(Flags::BLOCKING).with(Flags::MOVABLEKEYS),
        A_ZSET_W.with(A_S),
        Group::SortedSet,
        "7.0.0",
        ZMPOP_COMPLEXITY,
        "Pops members from the first non-empty sorted set among several keys, blocking until \
         one has members.",
        "timeout:double numkeys:integer key... (MIN | MAX){where} [COUNT count:integer]",
        Some(b::bzmpop),
    )
    .keys(MPOP_KEYS),
];
