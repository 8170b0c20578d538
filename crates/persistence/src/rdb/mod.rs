//! RDB, Redis' snapshot format: files written by SAVE/BGSAVE, the base of an AOF, and (one value
//! at a time) DUMP payloads.
//!
//! # File layout
//!
//! | bytes                 | what                                                           |
//! |-----------------------|----------------------------------------------------------------|
//! | `REDIS0010`           | magic and the 4-digit RDB version (Ferrodis writes 10, reads 1–12) |
//! | `FA` str str …        | aux fields: `redis-ver`, `redis-bits`, `ctime`, `used-mem`, `aof-base` … |
//! | `FE` len              | SELECTDB: the db the following keys belong to                  |
//! | `FB` len len          | RESIZEDB: keys and keys-with-expire in that db (a sizing hint)  |
//! | `FC` u64le / `FD` u32le | expire of the next key, Unix milliseconds / seconds          |
//! | `F8` len / `F9` u8    | LRU idle seconds / LFU counter of the next key                 |
//! | type key value        | one key: a type byte (below), the key as a string, the value  |
//! | `F7`, `F5`, `F6`, `F4`| module aux data, functions, slot info (skipped or refused)     |
//! | `FF` u64le            | EOF and the CRC-64 of everything before it (0 = not computed)  |
//!
//! **Lengths** (`len`): the top two bits of the first byte say how long the length is: `00` six
//! bits, `01` fourteen bits (big endian with the next byte), `10` then `0x80` a 32-bit or `0x81` a
//! 64-bit big-endian length; `11` marks a specially encoded string: `C0`/`C1`/`C2` an 8/16/32-bit
//! little-endian integer, `C3` an LZF-compressed string (compressed length, original length, data).
//!
//! **Value types** Ferrodis writes (what Redis 7.0 writes): `0` string, `18` quicklist v2 list,
//! `11` intset and `2` hashtable set, `17` listpack and `5` skiplist sorted set (member and binary
//! double, tail first), `16` listpack and `4` hashtable hash. Read besides: `1` linked list, `3`
//! sorted set with text scores, `9` zipmap hash, `10` ziplist list, `12` ziplist sorted set,
//! `13` ziplist hash, `14` quicklist of ziplists, `20` listpack set (Redis 7.2). Streams (`15`,
//! `19`, `21`), modules (`6`, `7`) and hashes with field expiry (`22`–`25`, Redis 7.4) are
//! refused with an error naming the type.

pub mod legacy;
pub mod read;
pub mod write;

pub use read::{load, Decoder, LoadSummary, LoadedKey, Loader, RdbError, RdbErrorKind};
pub use write::{KeyMeta, RdbWriter, SaveOptions};

/// The RDB version Ferrodis writes (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u16 = 10;
/// The newest RDB version Ferrodis reads (Redis 7.4).
pub const RDB_MAX_READ_VERSION: u16 = 12;

/// Opcodes: the byte before each item of the file that is not a key.
pub mod opcode {
    /// Slot ownership (Redis cluster, 7.4+); skipped.
    pub const SLOT_INFO: u8 = 244;
    /// A library of functions (Redis 7.0+).
    pub const FUNCTION2: u8 = 245;
    /// A function in 7.0 release candidates' format.
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle time of the next key, seconds.
    pub const IDLE: u8 = 248;
    /// LFU counter of the next key.
    pub const FREQ: u8 = 249;
    /// An aux field: two strings.
    pub const AUX: u8 = 250;
    /// Key counts of the current db.
    pub const RESIZEDB: u8 = 251;
    /// Expire of the next key, milliseconds (u64 little endian).
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expire of the next key, seconds (u32 little endian; RDB < 3).
    pub const EXPIRETIME: u8 = 253;
    /// Switch db.
    pub const SELECTDB: u8 = 254;
    /// End of file, followed by the checksum (RDB ≥ 5).
    pub const EOF: u8 = 255;
}

/// Value type bytes (Redis `RDB_TYPE_*`).
pub mod kind {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list as a plain sequence of strings (RDB < 7).
    pub const LIST: u8 = 1;
    /// A set as a sequence of strings.
    pub const SET: u8 = 2;
    /// A sorted set with scores as text.
    pub const ZSET: u8 = 3;
    /// A hash as field/value strings.
    pub const HASH: u8 = 4;
    /// A sorted set with binary double scores.
    pub const ZSET_2: u8 = 5;
    /// A module value (4.0 release candidates).
    pub const MODULE_PRE_GA: u8 = 6;
    /// A module value.
    pub const MODULE_2: u8 = 7;
    /// A hash as a zipmap (Redis < 2.6).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list as one ziplist.
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set as an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set as a ziplist.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash as a ziplist.
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list as a quicklist of ziplists (Redis 3.2–6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream (Redis 5.0–6.2).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash as a listpack (Redis 7.0+).
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack (Redis 7.0+).
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as a quicklist of listpacks, each node plain or packed (Redis 7.0+).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream (Redis 7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// A set as a listpack (Redis 7.2+).
    pub const SET_LISTPACK: u8 = 20;
    /// A stream (Redis 7.2+).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// A hash with field expiry (7.4 release candidates).
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    /// A listpack hash with field expiry (7.4 release candidates).
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    /// A hash with field expiry (Redis 7.4+).
    pub const HASH_METADATA: u8 = 24;
    /// A listpack hash with field expiry (Redis 7.4+).
    pub const HASH_LISTPACK_EX: u8 = 25;

    /// Whether `t` is a value type byte some Redis version writes (0–7, 9–25).
    pub fn is_value_type(t: u8) -> bool {
        t <= MODULE_2 || (HASH_ZIPMAP..=HASH_LISTPACK_EX).contains(&t)
    }

    /// A readable name for a type byte, for error messages.
    pub fn name(t: u8) -> &'static str {
        match t {
            STRING => "string",
            LIST => "list (linked list)",
            SET => "set",
            ZSET => "zset (text scores)",
            HASH => "hash",
            ZSET_2 => "zset",
            MODULE_PRE_GA | MODULE_2 => "module",
            HASH_ZIPMAP => "hash (zipmap)",
            LIST_ZIPLIST => "list (ziplist)",
            SET_INTSET => "set (intset)",
            ZSET_ZIPLIST => "zset (ziplist)",
            HASH_ZIPLIST => "hash (ziplist)",
            LIST_QUICKLIST => "list (quicklist)",
            STREAM_LISTPACKS | STREAM_LISTPACKS_2 | STREAM_LISTPACKS_3 => "stream",
            HASH_LISTPACK => "hash (listpack)",
            ZSET_LISTPACK => "zset (listpack)",
            LIST_QUICKLIST_2 => "list (quicklist v2)",
            SET_LISTPACK => "set (listpack)",
            HASH_METADATA_PRE_GA | HASH_METADATA | HASH_LISTPACK_EX_PRE_GA | HASH_LISTPACK_EX => {
                "hash with field expiration"
            }
            _ => "unknown",
        }
    }
}

/// Special string encodings after a `11` length prefix (Redis `RDB_ENC_*`).
pub mod enc {
    /// 8-bit integer.
    pub const INT8: u8 = 0;
    /// 16-bit little-endian integer.
    pub const INT16: u8 = 1;
    /// 32-bit little-endian integer.
    pub const INT32: u8 = 2;
    /// LZF-compressed string.
    pub const LZF: u8 = 3;
}

/// Quicklist v2 node containers (Redis `QUICKLIST_NODE_CONTAINER_*`).
pub mod container {
    /// A node holding one large element as plain bytes.
    pub const PLAIN: u64 = 1;
    /// A node holding a listpack.
    pub const PACKED: u64 = 2;
}
