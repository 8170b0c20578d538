//! The sets commands (group `Set`).

use super::*;
use crate::cmd::sets;

const A_SET_W: Acl = A_W.with(Acl::SET);
const A_SET_R: Acl = A_R.with(Acl::SET);
const RW_DEL: &[&str] = &["RW", "delete"];
const RW_INS_KEY1: &[K] = &[K::one(1, RW_INS)];
const RO_AC_ALL: &[K] = &[K::range(1, -1, 1, RO_AC)];
const ORDER_ND: &[&str] = &["nondeterministic_output_order"];
const STORE_RW: &[K] = &[K::one(1, RW_UP), K::range(2, -1, 1, RO_AC)];
const STORE_OW: &[K] = &[K::one(1, OW_UP), K::range(2, -1, 1, RO_AC)];
const INTER_COMPLEXITY: &str = "O(N*M) at worst, for N members in the smallest set and M sets.";
const UNION_COMPLEXITY: &str = "O(N) for N members in all the given sets together.";
const SEVERAL_MEMBERS: &[(&str, &str)] = &[("2.4.0", "Several members may be given.")];

/// The sets commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "sadd",
        -3,
        DW.with(F),
        A_SET_W.with(A_F),
        Group::Set,
        "1.0.0",
        "O(1) per member added.",
        "Adds members to a set, creating it if needed.",
        "key member ...",
        Some(sets::sadd),
    )
    .history(SEVERAL_MEMBERS)
    .keys(RW_INS_KEY1),
    C::new(
        "srem",
        -3,
        W.with(F),
        A_SET_W.with(A_F),
        Group::Set,
        "1.0.0",
        "O(N) for N members to remove.",
        "Removes members from a set, deleting it when emptied.",
        "key member ...",
        Some(sets::srem),
    )
    .history(SEVERAL_MEMBERS)
    .keys(&[K::one(1, RW_DEL)]),
    C::new(
        "scard",
        2,
        R.with(F),
        A_SET_R.with(A_F),
        Group::Set,
        "1.0.0",
        O1,
        "Returns the number of members of a set.",
        "key",
        Some(sets::scard),
    )
    .keys(KEY1_RO),
    C::new(
        "sismember",
        3,
        R.with(F),
        A_SET_R.with(A_F),
        Group::Set,
        "1.0.0",
        O1,
        "Tells whether a value is a member of a set.",
        "key member",
        Some(sets::sismember),
    )
    .keys(KEY1_RO),
    C::new(
        "smismember",
        -3,
        R.with(F),
        A_SET_R.with(A_F),
        Group::Set,
        "6.2.0",
        "O(N) for N values checked.",
        "Tells, for each of several values, whether it is a member of a set.",
        "key member ...",
        Some(sets::smismember),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "smembers",
        2,
        R,
        A_SET_R.with(A_S),
        Group::Set,
        "1.0.0",
        "O(N) for a set of N members.",
        "Returns every member of a set.",
        "key",
        Some(sets::smembers),
    )
    .keys(KEY1_RO_AC)
    .tips(ORDER_ND),
    C::new(
        "srandmember",
        -2,
        R,
        A_SET_R.with(A_S),
        Group::Set,
        "1.0.0",
        "O(1) without a count, else O(N) for N = |count|.",
        "Returns random members of a set without removing them.",
        "key [count^2.6.0]",
        Some(sets::srandmember),
    )
    .history(&[("2.6.0", "The optional count.")])
    .keys(KEY1_RO_AC)
    .tips(ND),
    C::new(
        "spop",
        -2,
        W.with(F),
        A_SET_W.with(A_F),
        Group::Set,
        "1.0.0",
        "O(1) without a count, else O(N) for N = count.",
        "Removes and returns random members of a set.",
        "key [count^3.2.0]",
        Some(sets::spop),
    )
    .history(&[("3.2.0", "The optional count.")])
    .keys(&[K::one(1, RW_AC_DEL)])
    .tips(ND),
    C::new(
        "smove",
        4,
        W.with(F),
        A_SET_W.with(A_F),
        Group::Set,
        "1.0.0",
        O1,
        "Moves a member from one set to another.",
        "source destination member",
        Some(sets::smove),
    )
    .keys(&[K::one(1, RW_AC_DEL), K::one(2, RW_INS)]),
    C::new(
        "sinter",
        -2,
        R,
        A_SET_R.with(A_S),
        Group::Set,
        "1.0.0",
        INTER_COMPLEXITY,
        "Returns the members common to all the given sets.",
        "key ...",
        Some(sets::sinter),
    )
    .keys(RO_AC_ALL)
    .tips(ORDER_ND),
    C::new(
        "sintercard",
        -3,
        R.with(Flags::MOVABLEKEYS),
        A_SET_R.with(A_S),
        Group::Set,
        "7.0.0",
        INTER_COMPLEXITY,
        "Counts the members common to all the given sets, optionally up to a limit.",
        "numkeys:integer key ... [LIMIT limit:integer]",
        Some(sets::sintercard),
    )
    .keys(&[K::keynum(1, 0, 1, 1, RO_AC)]),
    C::new(
        "sinterstore",
        -3,
        DW,
        A_SET_W.with(A_S),
        Group::Set,
        "1.0.0",
        INTER_COMPLEXITY,
        "Stores the members common to all the given sets in a key.",
        "destination key ...",
        Some(sets::sinterstore),
    )
    .keys(STORE_RW),
    C::new(
        "sunion",
        -2,
        R,
        A_SET_R.with(A_S),
        Group::Set,
        "1.0.0",
        UNION_COMPLEXITY,
        "Returns the members of any of the given sets.",
        "key ...",
        Some(sets::sunion),
    )
    .keys(RO_AC_ALL)
    .tips(ORDER_ND),
    C::new(
        "sunionstore",
        -3,
        DW,
        A_SET_W.with(A_S),
        Group::Set,
        "1.0.0",
        UNION_COMPLEXITY,
        "Stores the members of any of the given sets in a key.",
        "destination key ...",
        Some(sets::sunionstore),
    )
    .keys(STORE_OW),
    C::new(
        "sdiff",
        -2,
        R,
        A_SET_R.with(A_S),
        Group::Set,
        "1.0.0",
        UNION_COMPLEXITY,
        "Returns the members of the first set that none of the other sets has.",
        "key ...",
        Some(sets::sdiff),
    )
    .keys(RO_AC_ALL)
    .tips(ORDER_ND),
    C::new(
        "sdiffstore",
        -3,
        DW,
        A_SET_W.with(A_S),
        Group::Set,
        "1.0.0",
        UNION_COMPLEXITY,
        "Stores the members of the first set that none of the other sets has in a key.",
        "destination key ...",
        Some(sets::sdiffstore),
    )
    .keys(STORE_OW),
    C::new(
        "sscan",
        -3,
        R,
        A_SET_R.with(A_S),
        Group::Set,
        "2.8.0",
        "O(1) per call, O(N) for a complete iteration over N members.",
        "Iterates over the members of a set with a cursor.",
        "key cursor [MATCH pattern] [COUNT count]",
        Some(sets::sscan),
    )
    .keys(KEY1_RO_AC)
    .tips(ND),
];
