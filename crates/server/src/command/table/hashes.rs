//! The hashes commands (group `Hash`): flags, ACL categories and key specs as Redis 7.0's
//! `COMMAND INFO` reports them.

use super::*;
use crate::cmd::hashes as h;

const A_H: Acl = Acl::HASH;
/// `@write @hash @fast`.
const A_WHF: Acl = A_W.with(A_H).with(A_F);
/// `@read @hash @fast`.
const A_RHF: Acl = A_R.with(A_H).with(A_F);
/// `@read @hash @slow`.
const A_RHS: Acl = A_R.with(A_H).with(A_S);

const KEY1_RW_INS: &[K] = &[K::one(1, RW_INS)];
const KEY1_RW_DEL: &[K] = &[K::one(1, &["RW", "delete"])];

const NDO: &[&str] = &["nondeterministic_output_order"];
const ON: &str = "O(N) where N is the size of the hash.";
const FIELD_VALUES: &str = "key (field value) ...";

/// The hashes commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "hset",
        -4,
        DW.with(F),
        A_WHF,
        Group::Hash,
        "2.0.0",
        "O(1) for each field/value pair added.",
        "Sets fields of a hash, creating the key; replies how many fields are new.",
        FIELD_VALUES,
        Some(h::hset),
    )
    .history(&[("4.0.0", "Several field/value pairs may be given.")])
    .keys(KEY1_RW_UP),
    C::new(
        "hsetnx",
        4,
        DW.with(F),
        A_WHF,
        Group::Hash,
        "2.0.0",
        O1,
        "Sets a field of a hash only if it does not exist yet.",
        "key field value",
        Some(h::hsetnx),
    )
    .keys(KEY1_RW_INS),
    C::new(
        "hmset",
        -4,
        DW.with(F),
        A_WHF,
        Group::Hash,
        "2.0.0",
        "O(N) for N field/value pairs.",
        "Sets fields of a hash and replies OK.",
        FIELD_VALUES,
        Some(h::hmset),
    )
    .deprecated("4.0.0", "`HSET` with multiple field-value pairs")
    .keys(KEY1_RW_UP),
    C::new(
        "hget",
        3,
        R.with(F),
        A_RHF,
        Group::Hash,
        "2.0.0",
        O1,
        "Returns the value of a field of a hash.",
        "key field",
        Some(h::hget),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "hmget",
        -3,
        R.with(F),
        A_RHF,
        Group::Hash,
        "2.0.0",
        "O(N) for N requested fields.",
        "Returns the values of several fields of a hash.",
        "key field ...",
        Some(h::hmget),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "hgetall",
        2,
        R,
        A_RHS,
        Group::Hash,
        "2.0.0",
        ON,
        "Returns every field and value of a hash.",
        "key",
        Some(h::hgetall),
    )
    .keys(KEY1_RO_AC)
    .tips(NDO),
    C::new(
        "hkeys",
        2,
        R,
        A_RHS,
        Group::Hash,
        "2.0.0",
        ON,
        "Returns every field of a hash.",
        "key",
        Some(h::hkeys),
    )
    .keys(KEY1_RO_AC)
    .tips(NDO),
    C::new(
        "hvals",
        2,
        R,
        A_RHS,
        Group::Hash,
        "2.0.0",
        ON,
        "Returns every value of a hash.",
        "key",
        Some(h::hvals),
    )
    .keys(KEY1_RO_AC)
    .tips(NDO),
    C::new(
        "hdel",
        -3,
        W.with(F),
        A_WHF,
        Group::Hash,
        "2.0.0",
        "O(N) for N fields to remove.",
        "Removes fields of a hash, deleting the key with its last field.",
        "key field ...",
        Some(h::hdel),
    )
    .history(&[("2.4.0", "Several fields may be given.")])
    .keys(KEY1_RW_DEL),
    C::new(
        "hlen",
        2,
        R.with(F),
        A_RHF,
        Group::Hash,
        "2.0.0",
        O1,
        "Returns the number of fields of a hash.",
        "key",
        Some(h::hlen),
    )
    .keys(KEY1_RO),
    C::new(
        "hexists",
        3,
        R.with(F),
        A_RHF,
        Group::Hash,
        "2.0.0",
        O1,
        "Tells whether a field of a hash exists.",
        "key field",
        Some(h::hexists),
    )
    .keys(KEY1_RO),
    C::new(
        "hstrlen",
        3,
        R.with(F),
        A_RHF,
        Group::Hash,
        "3.2.0",
        O1,
        "Returns the length in bytes of the value of a field of a hash.",
        "key field",
        Some(h::hstrlen),
    )
    .keys(KEY1_RO),
    C::new(
        "hincrby",
        4,
        DW.with(F),
        A_WHF,
        Group::Hash,
        "2.0.0",
        O1,
        "Adds an integer to the integer value of a field of a hash.",
        "key field increment",
        Some(h::hincrby),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "hincrbyfloat",
        4,
        DW.with(F),
        A_WHF,
        Group::Hash,
        "2.6.0",
        O1,
        "Adds a float to the numeric value of a field of a hash.",
        "key field increment:double",
        Some(h::hincrbyfloat),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "hrandfield",
        -2,
        R,
        A_RHS,
        Group::Hash,
        "6.2.0",
        "O(N) for N returned fields.",
        "Returns random fields of a hash, distinct or not, with or without their values.",
        "key [count [WITHVALUES]]{options}",
        Some(h::hrandfield),
    )
    .keys(KEY1_RO_AC)
    .tips(ND),
    C::new(
        "hscan",
        -3,
        R,
        A_RHS,
        Group::Hash,
        "2.8.0",
        "O(1) per call, O(N) for a complete iteration.",
        "Iterates over the fields and values of a hash with a cursor.",
        "key cursor [MATCH pattern] [COUNT count]",
        Some(h::hscan),
    )
    .keys(KEY1_RO_AC)
    .tips(ND),
];
