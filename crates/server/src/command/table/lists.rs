//! The lists commands (group `List`), with Redis 7.0's flags, ACL categories and key specs.

use super::*;
use crate::cmd::lists as l;

const A_LIST: Acl = Acl::LIST;
const RW_DEL: &[&str] = &["RW", "delete"];

const KEY1_RW_INS: &[K] = &[K::one(1, RW_INS)];
const KEY1_RW_AC_DEL: &[K] = &[K::one(1, RW_AC_DEL)];
const KEY1_RW_DEL: &[K] = &[K::one(1, RW_DEL)];
/// LMOVE, RPOPLPUSH: pop from the source, push to the destination.
const MOVE_KEYS: &[K] = &[K::one(1, RW_AC_DEL), K::one(2, RW_INS)];

const PUSH_COMPLEXITY: &str = "O(1) per element pushed.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements popped.";
const PUSH_HISTORY: &[(&str, &str)] = &[("2.4.0", "Accepts several elements.")];
const PUSHX_HISTORY: &[(&str, &str)] = &[("4.0.0", "Accepts several elements.")];
const POP_HISTORY: &[(&str, &str)] = &[("6.2.0", "The count argument.")];

/// The lists commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "lpush",
        -3,
        DW.with(F),
        A_W.with(A_LIST).with(A_F),
        Group::List,
        "1.0.0",
        PUSH_COMPLEXITY,
        "Adds elements at the head of a list, creating it if needed.",
        "key element...",
        Some(l::lpush),
    )
    .history(PUSH_HISTORY)
    .keys(KEY1_RW_INS),
    C::new(
        "rpush",
        -3,
        DW.with(F),
        A_W.with(A_LIST).with(A_F),
        Group::List,
        "1.0.0",
        PUSH_COMPLEXITY,
        "Adds elements at the tail of a list, creating it if needed.",
        "key element...",
        Some(l::rpush),
    )
    .history(PUSH_HISTORY)
    .keys(KEY1_RW_INS),
    C::new(
        "lpushx",
        -3,
        DW.with(F),
        A_W.with(A_LIST).with(A_F),
        Group::List,
        "2.2.0",
        PUSH_COMPLEXITY,
        "Adds elements at the head of a list only if the list exists.",
        "key element...",
        Some(l::lpushx),
    )
    .history(PUSHX_HISTORY)
    .keys(KEY1_RW_INS),
    C::new(
        "rpushx",
        -3,
        DW.with(F),
        A_W.with(A_LIST).with(A_F),
        Group::List,
        "2.2.0",
        PUSH_COMPLEXITY,
        "Adds elements at the tail of a list only if the list exists.",
        "key element...",
        Some(l::rpushx),
    )
    .history(PUSHX_HISTORY)
    .keys(KEY1_RW_INS),
    C::new(
        "lpop",
        -2,
        W.with(F),
        A_W.with(A_LIST).with(A_F),
        Group::List,
        "1.0.0",
        POP_COMPLEXITY,
        "Removes and returns the first elements of a list.",
        "key [count^6.2.0]",
        Some(l::lpop),
    )
    .history(POP_HISTORY)
    .keys(KEY1_RW_AC_DEL),
    C::new(
        "rpop",
        -2,
        W.with(F),
        A_W.with(A_LIST).with(A_F),
        Group::List,
        "1.0.0",
        POP_COMPLEXITY,
        "Removes and returns the last elements of a list.",
        "key [count^6.2.0]",
        Some(l::rpop),
    )
    .history(POP_HISTORY)
    .keys(KEY1_RW_AC_DEL),
    C::new(
        "llen",
        2,
        R.with(F),
        A_R.with(A_LIST).with(A_F),
        Group::List,
        "1.0.0",
        O1,
        "Returns the number of elements of a list.",
        "key",
        Some(l::llen),
    )
    .keys(KEY1_RO),
    C::new(
        "lrange",
        4,
        R,
        A_R.with(A_LIST).with(A_S),
        Group::List,
        "1.0.0",
        "O(S+N) where S is the distance of start from the nearer end and N the number of \
         elements returned.",
        "Returns a range of elements of a list.",
        "key start stop:integer",
        Some(l::lrange),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "lindex",
        3,
        R,
        A_R.with(A_LIST).with(A_S),
        Group::List,
        "1.0.0",
        "O(N) where N is the distance of the index from the nearer end.",
        "Returns the element at an index of a list.",
        "key index",
        Some(l::lindex),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "lset",
        4,
        DW,
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "1.0.0",
        "O(N) where N is the distance of the index from the nearer end.",
        "Replaces the element at an index of a list.",
        "key index element",
        Some(l::lset),
    )
    .keys(KEY1_RW_UP),
    C::new(
        "linsert",
        5,
        DW,
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "2.2.0",
        "O(N) where N is the number of elements before the pivot.",
        "Inserts an element before or after the first occurrence of another.",
        "key (BEFORE | AFTER){where} pivot element",
        Some(l::linsert),
    )
    .keys(KEY1_RW_INS),
    C::new(
        "lrem",
        4,
        W,
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "1.0.0",
        "O(N+M) where N is the length of the list and M the number of elements removed.",
        "Removes occurrences of an element from a list.",
        "key count element",
        Some(l::lrem),
    )
    .keys(KEY1_RW_DEL),
    C::new(
        "ltrim",
        4,
        W,
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "1.0.0",
        "O(N) where N is the number of elements removed.",
        "Keeps only a range of elements of a list.",
        "key start stop:integer",
        Some(l::ltrim),
    )
    .keys(KEY1_RW_DEL),
    C::new(
        "lpos",
        -3,
        R,
        A_R.with(A_LIST).with(A_S),
        Group::List,
        "6.0.6",
        "O(N) where N is the number of elements scanned; MAXLEN bounds it.",
        "Returns the indexes of the elements equal to a value.",
        "key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len]",
        Some(l::lpos),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "lmove",
        5,
        DW,
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "6.2.0",
        O1,
        "Pops an element from one end of a list and pushes it at an end of another.",
        "source destination (LEFT | RIGHT){wherefrom} (LEFT | RIGHT){whereto}",
        Some(l::lmove),
    )
    .keys(MOVE_KEYS),
    C::new(
        "rpoplpush",
        3,
        DW,
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "1.2.0",
        O1,
        "Pops the last element of a list and pushes it at the head of another.",
        "source destination",
        Some(l::rpoplpush),
    )
    .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments")
    .keys(MOVE_KEYS),
    C::new(
        "lmpop",
        -4,
        W.with(Flags::MOVABLEKEYS),
        A_W.with(A_LIST).with(A_S),
        Group::List,
        "7.0.0",
        "O(N+M) where N is the number of keys given and M the number of elements popped.",
        "Pops elements from the first non-empty list among several keys.",
        "numkeys:integer key... (LEFT | RIGHT){where} [COUNT count]",
        Some(l::lmpop),
    )
    .keys(&[K::keynum(1, 0, 1, 1, RW_AC_DEL)]),
];
