//! The Ferrodis keyspace engine: numbered dbs of keys with values, expires and access metadata,
//! safe and fast from many threads.
//!
//! # Layout
//!
//! - [`value`]: the data types and their encodings (`OBJECT ENCODING`): strings there, and
//!   [`list`], [`hash`], [`set`], [`zset`] in their own modules, built from the compact
//!   encodings [`listpack`] and [`intset`] (byte-exact with Redis) and the [`dict`] hash table of
//!   [`elem`] elements; [`encoding`] holds the thresholds between them.
//! - [`table`]: one db's keys within one shard: a chained hash table with power-of-two bucket
//!   counts, Redis' reverse-binary SCAN cursor, and an index of keys with an expire.
//! - [`keyspace`]: [`Keyspace`], [`SHARD_COUNT`] mutex-protected shards each holding one table
//!   per db; [`Guard`], the locks one command holds and the operations it runs through.
//! - [`clock`]: the per-command time ([`Now`]) and the 24-bit LRU clock.
//! - [`evict`]: what a key's 24-bit access field means under LRU and LFU policies (Redis
//!   `robj.lru`), and the sampling/deleting primitives the server's eviction uses.
//! - [`alloc`]: [`alloc::CountingAlloc`], the global-allocator wrapper behind `used_memory`.
//! - [`glob`]: Redis glob patterns (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE).
//! - [`lzf`]: LZF compression (compressed quicklist nodes, compressed RDB strings).
//!
//! # Concurrency design
//!
//! A key belongs to the shard named by the top bits of its (randomly seeded) hash, in every db:
//! shard *i* holds a table per db, so `MOVE` and `SWAPDB` never move keys between shards. Each
//! shard is behind its own `parking_lot::Mutex`: single-key commands on different keys run in
//! parallel on all worker threads and contend only when they hit the same shard, for the few
//! hundred nanoseconds a command takes. No lock is ever held across an `.await`; the network
//! layer parses a batch of commands, and each command locks, runs and unlocks.
//!
//! **Multi-key commands** (MSET, RENAME, COPY, DEL k1 k2 …) take the locks of every shard their
//! keys map to, in ascending shard order, before running ([`Keyspace::lock_keys`]); a fixed order
//! makes deadlock impossible, and holding all of them makes the command atomic. The keys come from
//! the command table's key specification, so handlers cannot forget to lock: touching a key
//! outside the locked set is refused with [`KeyspaceError::KeyNotLocked`] rather than locked late
//! out of order.
//!
//! **MULTI/EXEC** computes the union of the key sets of all queued commands and locks those shards
//! once, in order, for the whole EXEC; if any queued command has no key specification (KEYS,
//! FLUSHALL, SWAPDB, …) EXEC takes every shard ([`Keyspace::lock_all`]). Other clients therefore
//! observe the transaction as one step. **Lua scripts** (later) run the same way: the declared
//! keys' shards, or every shard when the script may touch undeclared keys (Redis also forbids
//! that in cluster mode; standalone scripts get the all-shards lock).
//!
//! **Key-less scans** (SCAN, KEYS, DBSIZE, RANDOMKEY outside a transaction) use
//! [`Keyspace::lock_lazily`], which holds one shard at a time, so a KEYS over millions of keys
//! never stops the other shards.
//!
//! **Point-in-time snapshots** (BGSAVE, later) will not stop the world or fork: the snapshotter
//! records an epoch and walks shards one at a time; every table bucket carries the epoch of its
//! last write, and a writer about to modify a bucket whose epoch is older than an in-progress
//! snapshot first serialises that bucket's entries into the snapshot stream (copy-on-write at
//! bucket granularity, as Dragonfly does per segment). Memory overhead is bounded by the buckets
//! written during the snapshot, never a copy of the whole data set.
//!
//! # Expiry
//!
//! An expire is an absolute Unix time in milliseconds. Every lookup deletes an expired key first
//! (lazy expiry, the deleted keys are reported through [`Guard::take_expired`] for
//! propagation and notifications). [`Keyspace::active_expire_cycle`] samples keys with an expire
//! like Redis' `activeExpireCycle`, driven `hz` times a second by the server, within a time
//! budget.

pub mod alloc;
pub mod clock;
pub mod dict;
pub mod elem;
pub mod encoding;
pub mod evict;
pub mod glob;
pub mod hash;
pub mod intset;
pub mod keyspace;
mod lazyfree;
pub mod list;
pub mod listpack;
pub mod lzf;
mod node;
pub mod set;
pub mod table;
pub mod value;
pub mod zset;

pub use bytes::Bytes;
pub use clock::Now;
pub use dict::Dict;
pub use elem::Elem;
pub use encoding::EncodingLimits;
pub use hash::Hash;
pub use keyspace::{
    DbInfo, EvictionCandidate, ExpireCycleStats, Guard, Keyspace, KeyspaceError, SetCondition,
    SetOutcome, ShardStats, SHARD_COUNT,
};
pub use list::List;
pub use set::Set;
pub use table::{Entry, EntryMut, EntryRef, SnapshotSink, StrMut};
pub use value::{StrRef, StrValue, Value, ValueMut, ValueRef};
pub use zset::ZSet;
