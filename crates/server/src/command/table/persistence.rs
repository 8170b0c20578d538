//! Persistence commands: DUMP and RESTORE (group `Generic`), SAVE, BGSAVE and BGREWRITEAOF
//! (group `Server`).

use super::*;
use crate::cmd::persistence as p;

const ADMIN_NO_LOAD: Flags = Flags::ADMIN
    .with(Flags::NOSCRIPT)
    .with(Flags::NO_ASYNC_LOADING);

/// The persistence commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "dump",
        2,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "2.6.0",
        "O(1) to find the key, O(N) in the size of the value to serialize it.",
        "Returns the serialization of a key's value (the RDB encoding Redis uses).",
        "key",
        Some(p::dump),
    )
    .tips(ND)
    .keys(KEY1_RO_AC),
    C::new(
        "restore",
        -4,
        DW,
        A_KS.with(A_W).with(A_S).with(Acl::DANGEROUS),
        Group::Generic,
        "2.6.0",
        "O(1) to create the key, O(N) in the size of the value to decode it (O(N log N) for \
         sorted sets).",
        "Creates a key from a DUMP payload.",
        "key ttl:integer serialized-value [REPLACE^3.0.0] [ABSTTL^5.0.0] \
         [IDLETIME seconds:integer^5.0.0] [FREQ frequency:integer^5.0.0]",
        Some(p::restore),
    )
    .history(&[
        ("3.0.0", "Added the `REPLACE` modifier."),
        ("5.0.0", "Added the `ABSTTL` modifier."),
        ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
    ])
    .keys(&[K::one(1, OW_UP)]),
    C::new(
        "save",
        1,
        ADMIN_NO_LOAD.with(Flags::NO_MULTI),
        A_ADMIN,
        Group::Server,
        "1.0.0",
        "O(N) in the number of keys of every db.",
        "Writes the data set to the RDB file now, blocking every client.",
        "",
        Some(p::save),
    )
    .all_shards(),
    C::new(
        "bgsave",
        -1,
        ADMIN_NO_LOAD,
        A_ADMIN,
        Group::Server,
        "1.0.0",
        O1,
        "Writes the data set to the RDB file in the background.",
        "[SCHEDULE^3.2.2]",
        Some(p::bgsave),
    )
    .history(&[("3.2.2", "Added the `SCHEDULE` option.")]),
    C::new(
        "bgrewriteaof",
        1,
        ADMIN_NO_LOAD,
        A_ADMIN,
        Group::Server,
        "1.0.0",
        O1,
        "Rewrites the append-only file in the background from a point-in-time snapshot.",
        "",
        Some(p::bgrewriteaof),
    ),
];
