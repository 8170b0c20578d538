//! The MEMORY container (group `Server`).

use super::*;
use crate::cmd::memory as m;

const ALL_SHARDS_OK: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];
const ND_ALL_SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

/// The MEMORY container.
pub static COMMANDS: &[C] = &[C::new(
    "memory",
    -2,
    Flags::NONE,
    A_S,
    Group::Server,
    "4.0.0",
    "Depends on the subcommand.",
    "Container for memory introspection subcommands.",
    "",
    None,
)
.subs(SUBCOMMANDS)];

static SUBCOMMANDS: &[C] = &[
    C::new(
        "purge",
        2,
        Flags::NONE,
        A_S,
        Group::Server,
        "4.0.0",
        "Depends on how much free memory the allocator holds.",
        "Asks the allocator to return free memory to the system.",
        "",
        Some(m::memory_purge),
    )
    .tips(ALL_SHARDS_OK),
    C::new(
        "usage",
        -3,
        R,
        A_R.with(A_S),
        Group::Server,
        "4.0.0",
        "O(N) for N sampled elements.",
        "Estimates the bytes a key and its value use.",
        "key [SAMPLES count:integer]",
        Some(m::memory_usage),
    )
    .keys(KEY2_RO),
    C::new(
        "stats",
        2,
        Flags::NONE,
        A_S,
        Group::Server,
        "4.0.0",
        O1,
        "Reports the server's memory usage in detail.",
        "",
        Some(m::memory_stats),
    )
    .tips(ND_ALL_SPECIAL),
    C::new(
        "doctor",
        2,
        Flags::NONE,
        A_S,
        Group::Server,
        "4.0.0",
        O1,
        "Reports likely memory problems.",
        "",
        Some(m::memory_doctor),
    )
    .tips(ND_ALL_SPECIAL),
    C::new(
        "malloc-stats",
        2,
        Flags::NONE,
        A_S,
        Group::Server,
        "4.0.0",
        "Depends on how much memory is allocated.",
        "Reports the allocator's own statistics.",
        "",
        Some(m::memory_malloc_stats),
    )
    .tips(ND_ALL_SPECIAL),
    C::new(
        "help",
        2,
        LS,
        A_S,
        Group::Server,
        "4.0.0",
        O1,
        "Lists the MEMORY subcommands.",
        "",
        Some(m::memory_help),
    ),
];
