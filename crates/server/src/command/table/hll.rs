//! The HyperLogLog commands (group `Hyperloglog`).

use super::*;
use crate::cmd::hll as h;

const A_HLL: Acl = Acl::HYPERLOGLOG;
const A_DEBUG: Acl = A_W
    .with(A_HLL)
    .with(Acl::ADMIN)
    .with(A_S)
    .with(Acl::DANGEROUS);
const PFADD_KEYS: &[K] = &[K::one(1, RW_INS)];
const PFCOUNT_KEYS: &[K] = &[K::range(1, -1, 1, &["RW", "access"]).note(
    "RW because it may change the internal representation of the key, and propagate to replicas",
)];
const PFMERGE_KEYS: &[K] = &[
    K::one(1, &["RW", "access", "insert"]),
    K::range(2, -1, 1, RO_AC),
];
const PFDEBUG_KEYS: &[K] = &[K::one(2, &["RW", "access"])];

/// The HyperLogLog commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "pfadd",
        -2,
        DW.with(F),
        A_W.with(A_HLL).with(A_F),
        Group::Hyperloglog,
        "2.8.9",
        "O(1) to add every element.",
        "Adds elements to a HyperLogLog sketch, creating it when missing.",
        "key [element...]",
        Some(h::pfadd),
    )
    .keys(PFADD_KEYS),
    C::new(
        "pfcount",
        -2,
        R,
        A_R.with(A_HLL).with(A_S),
        Group::Hyperloglog,
        "2.8.9",
        "O(1) with a cached estimate for one key; O(N) for N keys, with large constant times.",
        "Estimates the number of distinct elements of a sketch, or of the union of several.",
        "key...",
        Some(h::pfcount),
    )
    .keys(PFCOUNT_KEYS),
    C::new(
        "pfmerge",
        -2,
        DW,
        A_W.with(A_HLL).with(A_S),
        Group::Hyperloglog,
        "2.8.9",
        "O(N) for N sketches, with large constant times.",
        "Stores the union of HyperLogLog sketches.",
        "destkey:key sourcekey:key...",
        Some(h::pfmerge),
    )
    .keys(PFMERGE_KEYS),
    C::new(
        "pfdebug",
        3,
        DW.with(Flags::ADMIN),
        A_DEBUG,
        Group::Hyperloglog,
        "2.8.9",
        "N/A",
        "Internal commands inspecting and converting a HyperLogLog sketch.",
        "subcommand:string key",
        Some(h::pfdebug),
    )
    .keys(PFDEBUG_KEYS),
    C::new(
        "pfselftest",
        1,
        Flags::ADMIN,
        A_HLL.with(Acl::ADMIN).with(A_S).with(Acl::DANGEROUS),
        Group::Hyperloglog,
        "2.8.9",
        "N/A",
        "An internal self-test of the HyperLogLog implementation.",
        "",
        Some(h::pfselftest),
    ),
];
