//! Every command Ferrodis implements, declared once.
//!
//! Flags, arities, key specifications and ACL categories follow Redis 7.0 (`COMMAND INFO` answers
//! the same); summaries and complexities are in our words. Adding a command means adding a line
//! here and its handler: dispatch, arity errors, `COMMAND`, `COMMAND DOCS` and (later) ACL follow.

use crate::cmd::{connection as conn, introspect, keys, server, sort, strings};
use crate::command::spec::{Acl, CommandSpec as C, Flags, Group, KeySpec as K};

mod bitmaps;
mod blocking;
mod hashes;
mod hll;
mod lists;
mod memory;
mod persistence;
mod pubsub;
mod sets;
mod transactions;
mod zsets;

/// Every command family's table; [`crate::command::CommandTable`] indexes them all.
pub static FAMILIES: &[&[C]] = &[
    COMMANDS,
    lists::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    bitmaps::COMMANDS,
    hll::COMMANDS,
    transactions::COMMANDS,
    blocking::COMMANDS,
    pubsub::COMMANDS,
    memory::COMMANDS,
    persistence::COMMANDS,
];

// Flag shorthands.
const W: Flags = Flags::WRITE;
const R: Flags = Flags::READONLY;
const DW: Flags = Flags::WRITE.with(Flags::DENYOOM);
const F: Flags = Flags::FAST;
const LS: Flags = Flags::LOADING.with(Flags::STALE);
const ADM: Flags = Flags::ADMIN.with(Flags::NOSCRIPT).with(LS);
const CONN_FLAGS: Flags = Flags::NOSCRIPT
    .with(LS)
    .with(Flags::FAST)
    .with(Flags::NO_AUTH)
    .with(Flags::ALLOW_BUSY);
const NS_LS: Flags = Flags::NOSCRIPT.with(LS);

// ACL category shorthands.
const A_KS: Acl = Acl::KEYSPACE;
const A_R: Acl = Acl::READ;
const A_W: Acl = Acl::WRITE;
const A_STR: Acl = Acl::STRING;
const A_F: Acl = Acl::FAST;
const A_S: Acl = Acl::SLOW;
const A_C: Acl = Acl::CONNECTION;
const A_ADMIN: Acl = Acl::ADMIN.with(Acl::SLOW).with(Acl::DANGEROUS);

// Key spec flag sets.
const RO: &[&str] = &["RO"];
const RO_AC: &[&str] = &["RO", "access"];
const RW_AC_UP: &[&str] = &["RW", "access", "update"];
const RW_AC_DEL: &[&str] = &["RW", "access", "delete"];
const RW_UP: &[&str] = &["RW", "update"];
const RW_INS: &[&str] = &["RW", "insert"];
const OW_UP: &[&str] = &["OW", "update"];
const OW_INS: &[&str] = &["OW", "insert"];
const RM_DEL: &[&str] = &["RM", "delete"];

const KEY1_RO: &[K] = &[K::one(1, RO)];
const KEY1_RO_AC: &[K] = &[K::one(1, RO_AC)];
const KEY1_RW_AC_UP: &[K] = &[K::one(1, RW_AC_UP)];
const KEY1_RW_UP: &[K] = &[K::one(1, RW_UP)];
const KEY1_OW_UP: &[K] = &[K::one(1, OW_UP)];
const KEY2_RO: &[K] = &[K::one(2, RO)];

const MULTI_SHARD_SUM: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];
const ND: &[&str] = &["nondeterministic_output"];

const O1: &str = "O(1)";

const SORT_TYPES: Acl = Acl::SET
    .with(Acl::SORTEDSET)
    .with(Acl::LIST)
    .with(Acl::SLOW)
    .with(Acl::DANGEROUS);
const SORT_COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements to sort and M the \
     number returned; O(N) when nothing is sorted.";
const SORT_SYNTAX: &str = "key [BY pattern:pattern@1] [LIMIT offset count]{offset_count} \
     [GET pattern:pattern@1].... [ASC | DESC]{order} [ALPHA]{sorting} [STORE destination@2]";
const SORT_RO_SYNTAX: &str = "key [BY pattern:pattern@1] [LIMIT offset count]{offset_count} \
     [GET pattern:pattern@1].... [ASC | DESC]{order} [ALPHA]{sorting}";
/// SORT's BY/GET key spec; the notes are Redis' (`COMMAND INFO` shows them).
const SORT_BY_GET: K = K::unknown(RO_AC).note(
    "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from \
     the content of the key we sort",
);
const SORT_RO_KEYS: &[K] = &[K::one(1, RO_AC), SORT_BY_GET];
const SORT_KEYS: &[K] = &[
    K::one(1, RO_AC),
    SORT_BY_GET,
    K::unknown(OW_UP).note(
        "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear \
         anywhere in the argument array",
    ),
];
const EXPIRE_SYNTAX: &str = "key seconds [NX | XX | GT | LT]{condition}^7.0.0";

/// Connection, server, generic (keyspace) and string commands.
pub static COMMANDS: &[C] = &[
    // ---- sorting ----
    C::new(
        "sort",
        -2,
        DW.with(Flags::MOVABLEKEYS),
        A_W.with(SORT_TYPES),
        Group::Generic,
        "1.0.0",
        SORT_COMPLEXITY,
        "Sorts the elements of a list, set or sorted set, optionally storing the result.",
        SORT_SYNTAX,
        Some(sort::sort),
    )
    .keys(SORT_KEYS)
    .getkeys(sort::sort_keys),
    C::new(
        "sort_ro",
        -2,
        R.with(Flags::MOVABLEKEYS),
        A_R.with(SORT_TYPES),
        Group::Generic,
        "7.0.0",
        SORT_COMPLEXITY,
        "Sorts the elements of a list, set or sorted set (read-only SORT, without STORE).",
        SORT_RO_SYNTAX,
        Some(sort::sort_ro),
    )
    .keys(SORT_RO_KEYS)
    .getkeys(sort::sort_keys),
    // ---- connection ----
    C::new(
        "ping",
        -1,
        F,
        A_F.with(A_C),
        Group::Connection,
        "1.0.0",
        O1,
        "Answers PONG, or echoes the given message.",
        "[message]",
        Some(conn::ping),
    )
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    C::new(
        "echo",
        2,
        LS.with(F),
        A_F.with(A_C),
        Group::Connection,
        "1.0.0",
        O1,
        "Replies with the given message.",
        "message",
        Some(conn::echo),
    ),
    C::new(
        "quit",
        -1,
        CONN_FLAGS,
        A_F.with(A_C),
        Group::Connection,
        "1.0.0",
        O1,
        "Closes the connection after replying OK.",
        "",
        Some(conn::quit),
    ),
    C::new(
        "reset",
        1,
        CONN_FLAGS,
        A_F.with(A_C),
        Group::Connection,
        "6.2.0",
        O1,
        "Returns the connection to its initial state.",
        "",
        Some(conn::reset),
    ),
    C::new(
        "hello",
        -1,
        CONN_FLAGS,
        A_F.with(A_C),
        Group::Connection,
        "6.0.0",
        O1,
        "Negotiates the protocol version and returns server and connection facts.",
        "[protover [AUTH username password]{username_password} [SETNAME clientname]]{arguments}",
        Some(conn::hello),
    )
    .history(&[(
        "6.2.0",
        "protover became optional; HELLO alone reports the connection.",
    )]),
    C::new(
        "select",
        2,
        LS.with(F),
        A_F.with(A_C),
        Group::Connection,
        "1.0.0",
        O1,
        "Switches the connection to another numbered db.",
        "index",
        Some(conn::select),
    ),
    C::new(
        "client",
        -2,
        Flags::NONE,
        A_S,
        Group::Connection,
        "2.4.0",
        "Depends on the subcommand.",
        "Container for connection management subcommands.",
        "",
        None,
    )
    .subs(CLIENT_SUBCOMMANDS),
    // ---- strings ----
    C::new(
        "get",
        2,
        R.with(F),
        A_R.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Returns the string stored at a key.",
        "key",
        Some(strings::get),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "set",
        -3,
        DW,
        A_W.with(A_STR).with(A_S),
        Group::String,
        "1.0.0",
        O1,
        "Stores a string at a key, with optional conditions and expiry.",
        "key value [NX | XX]{condition}^2.6.12 [GET^6.2.0] [EX seconds^2.6.12 | \
         PX milliseconds^2.6.12 | EXAT unix-time-seconds^6.2.0 | \
         PXAT unix-time-milliseconds^6.2.0 | KEEPTTL^6.0.0]{expiration}",
        Some(strings::set),
    )
    .history(&[
        ("2.6.12", "EX, PX, NX and XX options."),
        ("6.0.0", "KEEPTTL option."),
        ("6.2.0", "GET, EXAT and PXAT options."),
        ("7.0.0", "NX and GET may be combined."),
    ])
    .keys(&[K::one(1, &["RW", "access", "update", "variable_flags"])
        .note("RW and ACCESS due to the optional `GET` argument")]),
    C::new(
        "setnx",
        3,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Stores a string only when the key does not exist.",
        "key value",
        Some(strings::setnx),
    )
    .keys(&[K::one(1, OW_INS)]),
    C::new(
        "setex",
        4,
        DW,
        A_W.with(A_STR).with(A_S),
        Group::String,
        "2.0.0",
        O1,
        "Stores a string with an expiry in seconds.",
        "key seconds value",
        Some(strings::setex),
    )
    .keys(KEY1_OW_UP),
    C::new(
        "psetex",
        4,
        DW,
        A_W.with(A_STR).with(A_S),
        Group::String,
        "2.6.0",
        O1,
        "Stores a string with an expiry in milliseconds.",
        "key milliseconds value",
        Some(strings::psetex),
    )
    .keys(KEY1_OW_UP),
    C::new(
        "mget",
        -2,
        R.with(F),
        A_R.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        "O(N) for N keys.",
        "Returns the strings stored at several keys.",
        "key ...",
        Some(strings::mget),
    )
    .keys(&[K::range(1, -1, 1, RO_AC)])
    .tips(&["request_policy:multi_shard"]),
    C::new(
        "mset",
        -3,
        DW,
        A_W.with(A_STR).with(A_S),
        Group::String,
        "1.0.1",
        "O(N) for N keys.",
        "Stores several strings at once.",
        "(key value) ...",
        Some(strings::mset),
    )
    .keys(&[K::range(1, -1, 2, OW_UP)])
    .tips(&[
        "request_policy:multi_shard",
        "response_policy:all_succeeded",
    ]),
    C::new(
        "msetnx",
        -3,
        DW,
        A_W.with(A_STR).with(A_S),
        Group::String,
        "1.0.1",
        "O(N) for N keys.",
        "Stores several strings only if none of the keys exists.",
        "(key value) ...",
        Some(strings::msetnx),
    )
    .keys(&[K::range(1, -1, 2, OW_INS)])
    .tips(&["request_policy:multi_shard", "response_policy:agg_min"]),
    C::new(
        "getset",
        3,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Stores a string and returns the previous one.",
        "key value",
        Some(strings::getset),
    )
    .deprecated("6.2.0", "`SET` with the `!GET` argument")
    .keys(KEY1_RW_AC_UP),
    C::new(
        "getdel",
        2,
        W.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "6.2.0",
        O1,
        "Returns the string at a key and deletes the key.",
        "key",
        Some(strings::getdel),
    )
    .keys(&[K::one(1, RW_AC_DEL)]),
    C::new(
        "getex",
        -2,
        W.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "6.2.0",
        O1,
        "Returns the string at a key and changes its expiry.",
        "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | \
         PXAT unix-time-milliseconds | PERSIST]{expiration}",
        Some(strings::getex),
    )
    .keys(&[K::one(1, RW_AC_UP).note("RW and UPDATE because it changes the TTL")]),
    C::new(
        "append",
        3,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "2.0.0",
        "O(1) amortized.",
        "Appends to the string at a key.",
        "key value",
        Some(strings::append),
    )
    .keys(&[K::one(1, RW_INS)]),
    C::new(
        "strlen",
        2,
        R.with(F),
        A_R.with(A_STR).with(A_F),
        Group::String,
        "2.2.0",
        O1,
        "Returns the length of the string at a key.",
        "key",
        Some(strings::strlen),
    )
    .keys(KEY1_RO),
    C::new(
        "incr",
        2,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Adds one to the integer at a key.",
        "key",
        Some(strings::incr),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "decr",
        2,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Subtracts one from the integer at a key.",
        "key",
        Some(strings::decr),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "incrby",
        3,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Adds an integer to the integer at a key.",
        "key increment",
        Some(strings::incrby),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "decrby",
        3,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "1.0.0",
        O1,
        "Subtracts an integer from the integer at a key.",
        "key decrement",
        Some(strings::decrby),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "incrbyfloat",
        3,
        DW.with(F),
        A_W.with(A_STR).with(A_F),
        Group::String,
        "2.6.0",
        O1,
        "Adds a floating-point number to the number at a key.",
        "key increment:double",
        Some(strings::incrbyfloat),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "getrange",
        4,
        R,
        A_R.with(A_STR).with(A_S),
        Group::String,
        "2.4.0",
        "O(N) in the length of the returned substring.",
        "Returns a substring of the string at a key.",
        "key start end",
        Some(strings::getrange),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "setrange",
        4,
        DW,
        A_W.with(A_STR).with(A_S),
        Group::String,
        "2.2.0",
        "O(1) plus the cost of growing the string.",
        "Overwrites part of the string at a key from an offset.",
        "key offset value",
        Some(strings::setrange),
    )
    .keys(KEY1_RW_UP),
    C::new(
        "substr",
        4,
        R,
        A_R.with(A_STR).with(A_S),
        Group::String,
        "1.0.0",
        "O(N) in the length of the returned substring.",
        "Returns a substring of the string at a key (old name of GETRANGE).",
        "key start end",
        Some(strings::getrange),
    )
    .deprecated("2.0.0", "`GETRANGE`")
    .keys(KEY1_RO_AC),
    C::new(
        "lcs",
        -3,
        R,
        A_R.with(A_STR).with(A_S),
        Group::String,
        "7.0.0",
        "O(N*M) for strings of lengths N and M.",
        "Finds the longest common subsequence of two strings.",
        "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
        Some(strings::lcs),
    )
    .keys(&[K::range(1, 1, 1, RO_AC)]),
    // ---- keyspace ----
    C::new(
        "del",
        -2,
        W,
        A_KS.with(A_W).with(A_S),
        Group::Generic,
        "1.0.0",
        "O(N) for N keys, plus the size of each value.",
        "Deletes keys.",
        "key ...",
        Some(keys::del),
    )
    .keys(&[K::range(1, -1, 1, RM_DEL)])
    .tips(MULTI_SHARD_SUM),
    C::new(
        "unlink",
        -2,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "4.0.0",
        "O(1) per key; values are freed in the background.",
        "Deletes keys, freeing large values in the background.",
        "key ...",
        Some(keys::unlink),
    )
    .keys(&[K::range(1, -1, 1, RM_DEL)])
    .tips(MULTI_SHARD_SUM),
    C::new(
        "exists",
        -2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "1.0.0",
        "O(N) for N keys.",
        "Counts how many of the given keys exist.",
        "key ...",
        Some(keys::exists),
    )
    .history(&[("3.0.3", "Several keys may be given.")])
    .keys(&[K::range(1, -1, 1, RO)])
    .tips(MULTI_SHARD_SUM),
    C::new(
        "type",
        2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "1.0.0",
        O1,
        "Returns the type of the value at a key.",
        "key",
        Some(keys::type_),
    )
    .keys(KEY1_RO),
    C::new(
        "keys",
        2,
        R,
        A_KS.with(A_R).with(A_S).with(Acl::DANGEROUS),
        Group::Generic,
        "1.0.0",
        "O(N) in the number of keys in the db.",
        "Returns every key matching a pattern.",
        "pattern",
        Some(keys::keys),
    )
    .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    C::new(
        "scan",
        -2,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "2.8.0",
        "O(1) per call, O(N) for a complete iteration.",
        "Iterates over the keys of the db with a cursor.",
        "cursor [MATCH pattern] [COUNT count] [TYPE type^6.0.0]",
        Some(keys::scan),
    )
    .history(&[("6.0.0", "TYPE option.")])
    .tips(&["nondeterministic_output", "request_policy:special"]),
    C::new(
        "randomkey",
        1,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "1.0.0",
        O1,
        "Returns a random key of the db.",
        "",
        Some(keys::randomkey),
    )
    .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    C::new(
        "rename",
        3,
        W,
        A_KS.with(A_W).with(A_S),
        Group::Generic,
        "1.0.0",
        O1,
        "Renames a key, replacing the destination.",
        "key newkey",
        Some(keys::rename),
    )
    .keys(&[K::one(1, RW_AC_DEL), K::one(2, OW_UP)]),
    C::new(
        "renamenx",
        3,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "1.0.0",
        O1,
        "Renames a key only if the new name is free.",
        "key newkey",
        Some(keys::renamenx),
    )
    .history(&[("3.2.0", "Renaming a key to itself no longer fails.")])
    .keys(&[K::one(1, RW_AC_DEL), K::one(2, OW_INS)]),
    C::new(
        "copy",
        -3,
        DW,
        A_KS.with(A_W).with(A_S),
        Group::Generic,
        "6.2.0",
        "O(N) in the size of the value.",
        "Copies the value of a key to another key.",
        "source destination [DB destination-db] [REPLACE]",
        Some(keys::copy),
    )
    .keys(&[K::one(1, RO_AC), K::one(2, OW_UP)]),
    C::new(
        "move",
        3,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "1.0.0",
        O1,
        "Moves a key to another db.",
        "key db",
        Some(keys::move_),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "swapdb",
        3,
        W.with(F),
        A_KS.with(A_W).with(A_F).with(Acl::DANGEROUS),
        Group::Server,
        "4.0.0",
        "O(N) in the number of shards; no key is copied.",
        "Swaps the contents of two dbs.",
        "index1 index2",
        Some(keys::swapdb),
    )
    .all_shards(),
    C::new(
        "dbsize",
        1,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Server,
        "1.0.0",
        O1,
        "Returns the number of keys in the db.",
        "",
        Some(keys::dbsize),
    )
    .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    C::new(
        "flushdb",
        -1,
        W,
        A_KS.with(A_W).with(A_S).with(Acl::DANGEROUS),
        Group::Server,
        "1.0.0",
        "O(N) in the number of keys; O(1) with ASYNC.",
        "Deletes every key of the selected db.",
        "[ASYNC^4.0.0 | SYNC^6.2.0]{async}",
        Some(keys::flushdb),
    )
    .history(&[("4.0.0", "ASYNC option."), ("6.2.0", "SYNC option.")])
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .all_shards(),
    C::new(
        "flushall",
        -1,
        W,
        A_KS.with(A_W).with(A_S).with(Acl::DANGEROUS),
        Group::Server,
        "1.0.0",
        "O(N) in the number of keys; O(1) with ASYNC.",
        "Deletes every key of every db.",
        "[ASYNC^4.0.0 | SYNC^6.2.0]{async}",
        Some(keys::flushall),
    )
    .history(&[("4.0.0", "ASYNC option."), ("6.2.0", "SYNC option.")])
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
    .all_shards(),
    C::new(
        "expire",
        -3,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "1.0.0",
        O1,
        "Sets a key's time to live in seconds.",
        EXPIRE_SYNTAX,
        Some(keys::expire),
    )
    .history(&[("7.0.0", "NX, XX, GT and LT options.")])
    .keys(KEY1_RW_UP),
    C::new(
        "pexpire",
        -3,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "2.6.0",
        O1,
        "Sets a key's time to live in milliseconds.",
        "key milliseconds [NX | XX | GT | LT]{condition}^7.0.0",
        Some(keys::pexpire),
    )
    .history(&[("7.0.0", "NX, XX, GT and LT options.")])
    .keys(KEY1_RW_UP),
    C::new(
        "expireat",
        -3,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "1.2.0",
        O1,
        "Sets a key's expiry as a Unix time in seconds.",
        "key unix-time-seconds [NX | XX | GT | LT]{condition}^7.0.0",
        Some(keys::expireat),
    )
    .history(&[("7.0.0", "NX, XX, GT and LT options.")])
    .keys(KEY1_RW_UP),
    C::new(
        "pexpireat",
        -3,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "2.6.0",
        O1,
        "Sets a key's expiry as a Unix time in milliseconds.",
        "key unix-time-milliseconds [NX | XX | GT | LT]{condition}^7.0.0",
        Some(keys::pexpireat),
    )
    .history(&[("7.0.0", "NX, XX, GT and LT options.")])
    .keys(KEY1_RW_UP),
    C::new(
        "ttl",
        2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "1.0.0",
        O1,
        "Returns a key's remaining time to live in seconds.",
        "key",
        Some(keys::ttl),
    )
    .history(&[(
        "2.8.0",
        "A missing key answers -2, a key without expire -1.",
    )])
    .keys(KEY1_RO_AC)
    .tips(ND),
    C::new(
        "pttl",
        2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "2.6.0",
        O1,
        "Returns a key's remaining time to live in milliseconds.",
        "key",
        Some(keys::pttl),
    )
    .history(&[(
        "2.8.0",
        "A missing key answers -2, a key without expire -1.",
    )])
    .keys(KEY1_RO_AC)
    .tips(ND),
    C::new(
        "expiretime",
        2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "7.0.0",
        O1,
        "Returns a key's expiry as a Unix time in seconds.",
        "key",
        Some(keys::expiretime),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "pexpiretime",
        2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "7.0.0",
        O1,
        "Returns a key's expiry as a Unix time in milliseconds.",
        "key",
        Some(keys::pexpiretime),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "persist",
        2,
        W.with(F),
        A_KS.with(A_W).with(A_F),
        Group::Generic,
        "2.2.0",
        O1,
        "Removes a key's expiry.",
        "key",
        Some(keys::persist),
    )
    .keys(KEY1_RW_UP),
    C::new(
        "touch",
        -2,
        R.with(F),
        A_KS.with(A_R).with(A_F),
        Group::Generic,
        "3.2.1",
        "O(N) for N keys.",
        "Updates the last access time of keys and counts existing ones.",
        "key ...",
        Some(keys::touch),
    )
    .keys(&[K::range(1, -1, 1, RO)])
    .tips(MULTI_SHARD_SUM),
    C::new(
        "object",
        -2,
        Flags::NONE,
        A_S,
        Group::Generic,
        "2.2.3",
        "Depends on the subcommand.",
        "Container for object introspection subcommands.",
        "",
        None,
    )
    .subs(OBJECT_SUBCOMMANDS),
    // ---- server ----
    C::new(
        "info",
        -1,
        LS,
        A_S.with(Acl::DANGEROUS),
        Group::Server,
        "1.0.0",
        O1,
        "Returns server information and statistics.",
        "[section ...]",
        Some(server::info),
    )
    .history(&[("7.0.0", "Several sections may be given.")])
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ])
    .all_shards(),
    C::new(
        "time",
        1,
        LS.with(F),
        A_F,
        Group::Server,
        "2.6.0",
        O1,
        "Returns the server time as seconds and microseconds.",
        "",
        Some(server::time),
    )
    .tips(ND),
    C::new(
        "lastsave",
        1,
        LS.with(F),
        Acl::ADMIN.with(A_F).with(Acl::DANGEROUS),
        Group::Server,
        "1.0.0",
        O1,
        "Returns the Unix time of the last successful save.",
        "",
        Some(server::lastsave),
    )
    .tips(ND),
    C::new(
        "shutdown",
        -1,
        ADM.with(Flags::NO_MULTI).with(Flags::ALLOW_BUSY),
        A_ADMIN,
        Group::Server,
        "1.0.0",
        "O(N) in the data to save when saving.",
        "Stops the server.",
        "[NOSAVE | SAVE] [NOW^7.0.0] [FORCE^7.0.0] [ABORT^7.0.0]",
        Some(server::shutdown),
    )
    .history(&[("7.0.0", "NOW, FORCE and ABORT options.")]),
    C::new(
        "config",
        -2,
        Flags::NONE,
        A_S,
        Group::Server,
        "2.0.0",
        "Depends on the subcommand.",
        "Container for configuration subcommands.",
        "",
        None,
    )
    .subs(CONFIG_SUBCOMMANDS),
    C::new(
        "command",
        -1,
        LS,
        A_S.with(A_C),
        Group::Server,
        "2.8.13",
        "O(N) in the number of commands.",
        "Returns details about every command.",
        "",
        Some(introspect::command),
    )
    .tips(&["nondeterministic_output_order"])
    .subs(COMMAND_SUBCOMMANDS),
];

static CLIENT_SUBCOMMANDS: &[C] = &[
    C::new(
        "id",
        2,
        NS_LS,
        A_S.with(A_C),
        Group::Connection,
        "5.0.0",
        O1,
        "Returns the connection's unique id.",
        "",
        Some(conn::client_id),
    ),
    C::new(
        "getname",
        2,
        NS_LS,
        A_S.with(A_C),
        Group::Connection,
        "2.6.9",
        O1,
        "Returns the connection's name.",
        "",
        Some(conn::client_getname),
    ),
    C::new(
        "setname",
        3,
        NS_LS,
        A_S.with(A_C),
        Group::Connection,
        "2.6.9",
        O1,
        "Names the connection.",
        "connection-name",
        Some(conn::client_setname),
    ),
    C::new(
        "info",
        2,
        NS_LS,
        A_S.with(A_C),
        Group::Connection,
        "6.2.0",
        O1,
        "Describes the current connection.",
        "",
        Some(conn::client_info),
    )
    .tips(ND),
    C::new(
        "list",
        -2,
        ADM,
        A_ADMIN.with(A_C),
        Group::Connection,
        "2.4.0",
        "O(N) in the number of connections.",
        "Describes every connection.",
        "[TYPE (NORMAL | MASTER | REPLICA | PUBSUB){normal_master_replica_pubsub}]^5.0.0 \
         [ID client-id ...]^6.2.0",
        Some(conn::client_list),
    )
    .history(&[
        ("2.8.12", "id field."),
        ("5.0.0", "TYPE filter."),
        ("6.0.0", "user field."),
        (
            "6.2.0",
            "argv-mem, tot-mem, laddr and redir fields; ID filter.",
        ),
        ("7.0.0", "resp, multi-mem, rbs and rbp fields."),
        ("7.0.3", "ssub field."),
    ])
    .tips(ND),
    C::new(
        "kill",
        -3,
        ADM,
        A_ADMIN.with(A_C),
        Group::Connection,
        "2.4.0",
        "O(N) in the number of connections.",
        "Closes connections matching filters.",
        "(ip:port!2.8.12 | ([ID client-id^2.8.12] | \
         [TYPE (NORMAL | MASTER^3.2.0 | SLAVE | REPLICA^5.0.0 | PUBSUB)]\
         {normal_master_slave_pubsub}^2.8.12 | [USER username] | [ADDR ip:port] | \
         [LADDR ip:port^6.2.0] | [SKIPME yes/no]){new-format} ...){filter}",
        Some(conn::client_kill),
    )
    .history(&[
        ("2.8.12", "Filters by option and value."),
        ("2.8.12", "ID filter."),
        ("3.2.0", "TYPE master."),
        ("5.0.0", "TYPE replica, with slave kept as an alias."),
        ("6.2.0", "LADDR filter."),
    ]),
    C::new(
        "no-evict",
        3,
        ADM,
        A_ADMIN.with(A_C),
        Group::Connection,
        "7.0.0",
        O1,
        "Excludes the connection from client eviction.",
        "(ON | OFF){enabled}",
        Some(conn::client_no_evict),
    ),
    C::new(
        "no-touch",
        3,
        NS_LS,
        A_S.with(A_C),
        Group::Connection,
        "7.2.0",
        O1,
        "Stops the connection's commands from updating keys' access times.",
        "(ON | OFF){enabled}",
        Some(conn::client_no_touch),
    ),
    C::new(
        "reply",
        3,
        NS_LS,
        A_S.with(A_C),
        Group::Connection,
        "3.2.0",
        O1,
        "Turns replies to this connection on, off, or off for the next command.",
        "(ON | OFF | SKIP)",
        Some(conn::client_reply),
    ),
    C::new(
        "unblock",
        -3,
        ADM,
        A_ADMIN.with(A_C),
        Group::Connection,
        "5.0.0",
        "O(log N) for N connections.",
        "Unblocks a connection blocked in a blocking command, as a timeout or with an error.",
        "client-id:integer [(TIMEOUT | ERROR){timeout_error}]",
        Some(conn::client_unblock),
    ),
    C::new(
        "help",
        2,
        LS,
        A_S.with(A_C),
        Group::Connection,
        "5.0.0",
        O1,
        "Lists the CLIENT subcommands.",
        "",
        Some(conn::client_help),
    ),
];

static OBJECT_SUBCOMMANDS: &[C] = &[
    C::new(
        "encoding",
        3,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "2.2.3",
        O1,
        "Returns the internal encoding of a value.",
        "key",
        Some(keys::object_encoding),
    )
    .keys(KEY2_RO)
    .tips(ND),
    C::new(
        "refcount",
        3,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "2.2.3",
        O1,
        "Returns the reference count of a value.",
        "key",
        Some(keys::object_refcount),
    )
    .keys(KEY2_RO)
    .tips(ND),
    C::new(
        "idletime",
        3,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "2.2.3",
        O1,
        "Returns the seconds since a key was last accessed.",
        "key",
        Some(keys::object_idletime),
    )
    .keys(KEY2_RO)
    .tips(ND),
    C::new(
        "freq",
        3,
        R,
        A_KS.with(A_R).with(A_S),
        Group::Generic,
        "4.0.0",
        O1,
        "Returns the access frequency counter of a key.",
        "key",
        Some(keys::object_freq),
    )
    .keys(KEY2_RO)
    .tips(ND),
    C::new(
        "help",
        2,
        LS,
        A_KS.with(A_S),
        Group::Generic,
        "6.2.0",
        O1,
        "Lists the OBJECT subcommands.",
        "",
        Some(keys::object_help),
    ),
];

static CONFIG_SUBCOMMANDS: &[C] = &[
    C::new(
        "get",
        -3,
        ADM,
        A_ADMIN,
        Group::Server,
        "2.0.0",
        "O(N) in the number of directives.",
        "Returns directives matching patterns.",
        "<parameter>{parameter} ...",
        Some(server::config_get),
    )
    .history(&[("7.0.0", "Several patterns may be given.")]),
    C::new(
        "set",
        -4,
        ADM,
        A_ADMIN,
        Group::Server,
        "2.0.0",
        "O(N) in the number of directives set.",
        "Changes directives at runtime.",
        "(parameter value) ...",
        Some(server::config_set),
    )
    .history(&[("7.0.0", "Several directives may be set at once.")])
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    C::new(
        "resetstat",
        2,
        ADM,
        A_ADMIN,
        Group::Server,
        "2.0.0",
        O1,
        "Resets the statistics INFO reports.",
        "",
        Some(server::config_resetstat),
    )
    .all_shards(),
    C::new(
        "help",
        2,
        LS,
        A_S,
        Group::Server,
        "5.0.0",
        O1,
        "Lists the CONFIG subcommands.",
        "",
        Some(server::config_help),
    ),
];

static COMMAND_SUBCOMMANDS: &[C] = &[
    C::new(
        "count",
        2,
        LS,
        A_S.with(A_C),
        Group::Server,
        "2.8.13",
        O1,
        "Returns the number of commands.",
        "",
        Some(introspect::command_count),
    ),
    C::new(
        "info",
        -2,
        LS,
        A_S.with(A_C),
        Group::Server,
        "2.8.13",
        "O(N) in the number of commands asked for.",
        "Describes commands.",
        "[command-name ...]",
        Some(introspect::command_info),
    )
    .history(&[("7.0.0", "Without names, describes every command.")])
    .tips(&["nondeterministic_output_order"]),
    C::new(
        "docs",
        -2,
        LS,
        A_S.with(A_C),
        Group::Server,
        "7.0.0",
        "O(N) in the number of commands asked for.",
        "Documents commands.",
        "[command-name ...]",
        Some(introspect::command_docs),
    )
    .tips(&["nondeterministic_output_order"]),
    C::new(
        "list",
        -2,
        LS,
        A_S.with(A_C),
        Group::Server,
        "7.0.0",
        "O(N) in the number of commands.",
        "Lists command names, optionally filtered.",
        "[FILTERBY (MODULE module-name | ACLCAT category | PATTERN pattern){filterby}]",
        Some(introspect::command_list),
    )
    .tips(&["nondeterministic_output_order"]),
    C::new(
        "getkeys",
        -4,
        LS,
        A_S.with(A_C),
        Group::Server,
        "2.8.13",
        "O(N) in the number of arguments.",
        "Extracts the keys from a full command line.",
        "",
        Some(introspect::command_getkeys),
    ),
    C::new(
        "getkeysandflags",
        -4,
        LS,
        A_S.with(A_C),
        Group::Server,
        "7.0.0",
        "O(N) in the number of arguments.",
        "Extracts the keys and their access flags from a full command line.",
        "",
        Some(introspect::command_getkeysandflags),
    ),
    C::new(
        "help",
        2,
        LS,
        A_S.with(A_C),
        Group::Server,
        "5.0.0",
        O1,
        "Lists the COMMAND subcommands.",
        "",
        Some(introspect::command_help),
    ),
];

#[cfg(test)]
mod tests {
    use super::FAMILIES;
    use crate::command::docs::parse_syntax;
    use crate::command::spec::{Acl, CommandSpec, Flags};
    use crate::command::CommandTable;

    fn all() -> Vec<(String, &'static CommandSpec)> {
        let mut out = Vec::new();
        for c in FAMILIES.iter().flat_map(|f| f.iter()) {
            out.push((c.name.to_string(), c));
            for s in c.subcommands {
                out.push((format!("{}|{}", c.name, s.name), s));
            }
        }
        out
    }

    #[test]
    fn every_command_has_a_handler_or_subcommands() {
        for (name, spec) in all() {
            assert!(
                spec.handler.is_some() || spec.is_container(),
                "{name} has neither a handler nor subcommands"
            );
            assert!(spec.arity != 0, "{name}: arity 0");
            assert!(
                !spec.summary.is_empty() && !spec.since.is_empty(),
                "{name}: docs"
            );
        }
    }

    #[test]
    fn names_are_unique_and_lowercase() {
        let names: Vec<String> = all().into_iter().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate command names");
        assert!(names.iter().all(|n| n.to_ascii_lowercase() == *n));
        let t = CommandTable::new();
        for n in &names {
            assert!(t.lookup_full(n.as_bytes()).is_some(), "{n} not indexed");
            assert!(t.lookup_full(n.to_uppercase().as_bytes()).is_some());
        }
    }

    #[test]
    fn acl_categories_agree_with_flags() {
        // Redis derives these categories from flags; ours are declared, so check they agree.
        let implied = [
            (Flags::WRITE, Acl::WRITE),
            (Flags::READONLY, Acl::READ),
            (Flags::ADMIN, Acl::ADMIN.with(Acl::DANGEROUS)),
            (Flags::PUBSUB, Acl::PUBSUB),
            (Flags::FAST, Acl::FAST),
            (Flags::BLOCKING, Acl::BLOCKING),
        ];
        for (name, spec) in all() {
            for (flag, acl) in implied {
                if spec.flags.has(flag) {
                    assert!(spec.acl.has(acl), "{name}: flag implies {acl:?}");
                }
            }
            assert_eq!(
                spec.acl.has(Acl::FAST),
                !spec.acl.has(Acl::SLOW),
                "{name}: exactly one of @fast/@slow"
            );
        }
    }

    #[test]
    fn syntax_lines_parse_and_declare_the_keys() {
        for (name, spec) in all() {
            let args = parse_syntax(spec.syntax).unwrap_or_else(|e| panic!("{name}: {e}"));
            let key_args = count_keys(&args);
            // `not_key` specs (SSUBSCRIBE's shard channels) name arguments that are not keys.
            if spec.keys.iter().all(|k| k.flags.contains(&"not_key")) {
                assert_eq!(key_args, 0, "{name}: key arguments without a key spec");
            } else {
                assert!(key_args > 0, "{name}: key spec without key arguments");
            }
        }
    }

    fn count_keys(args: &[crate::command::docs::Arg]) -> usize {
        args.iter()
            .map(|a| usize::from(a.kind == "key") + count_keys(&a.args))
            .sum()
    }

    #[test]
    fn key_positions_follow_specs() {
        let t = CommandTable::new();
        let keys = |line: &[&str]| -> Vec<usize> {
            let idx = t
                .lookup_full(line[0].as_bytes())
                .unwrap_or_else(|| panic!("{}", line[0]));
            t.entry(idx)
                .spec
                .keys
                .iter()
                .flat_map(|k| k.positions(line))
                .collect()
        };
        assert_eq!(keys(&["get", "k"]), vec![1]);
        assert_eq!(keys(&["mset", "a", "1", "b", "2"]), vec![1, 3]);
        assert_eq!(keys(&["del", "a", "b", "c"]), vec![1, 2, 3]);
        assert_eq!(keys(&["rename", "a", "b"]), vec![1, 2]);
        assert_eq!(keys(&["lcs", "a", "b", "LEN"]), vec![1, 2]);
        assert_eq!(keys(&["object|encoding", "x", "k"]), vec![2]);
        assert_eq!(keys(&["set", "k", "v", "EX", "10"]), vec![1]);
    }
}
