//! The sharded keyspace and the lock guard commands run under.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::RandomState;
use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;

use crate::clock::Now;
use crate::evict::{AccessPolicy, AtomicAccessPolicy};
use crate::glob::glob_match;
use crate::lazyfree::LazyFree;
use crate::table::{Entry, EntryMut, EntryRef, SnapshotSink, Table};
use crate::value::Value;

/// Number of shards; a power of two. Keys map to shards by the top bits of their hash.
pub const SHARD_COUNT: usize = 256;
const SHARD_BITS: u32 = SHARD_COUNT.trailing_zeros();

/// Counters kept per shard under its lock (summed for INFO), so hot paths share no cache line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Keys deleted because their expire passed (lazily or by the active cycle).
    pub expired_keys: u64,
    /// Successful read lookups (INFO `keyspace_hits`).
    pub keyspace_hits: u64,
    /// Failed read lookups (INFO `keyspace_misses`).
    pub keyspace_misses: u64,
}

impl std::ops::AddAssign for ShardStats {
    fn add_assign(&mut self, o: ShardStats) {
        self.expired_keys += o.expired_keys;
        self.keyspace_hits += o.keyspace_hits;
        self.keyspace_misses += o.keyspace_misses;
    }
}

/// One shard: a table per db and its counters.
pub struct Shard {
    dbs: Box<[Table]>,
    stats: ShardStats,
    /// Changes made by commands holding this shard (Redis `server.dirty`, summed over shards;
    /// never reset, so a save records the sum it covered).
    dirty: u64,
}

impl Shard {
    fn new(databases: usize) -> Shard {
        Shard {
            dbs: (0..databases).map(|_| Table::default()).collect(),
            stats: ShardStats::default(),
            dirty: 0,
        }
    }
}

/// Per-db summary for INFO keyspace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DbInfo {
    /// Number of keys.
    pub keys: usize,
    /// Number of keys with an expire.
    pub expires: usize,
    /// Average remaining time to live of the keys with an expire, milliseconds (estimated from
    /// up to 16 random keys per shard), 0 when none (INFO `avg_ttl`).
    pub avg_ttl_ms: u64,
}

/// Result of one active expire cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpireCycleStats {
    /// Keys sampled.
    pub sampled: u64,
    /// Keys deleted.
    pub expired: u64,
    /// Whether the cycle stopped because its time budget ran out.
    pub timed_out: bool,
}

/// Errors from keyspace operations that a client can observe.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyspaceError {
    /// The db index is out of range. Redis: `ERR DB index is out of range`.
    #[error("ERR DB index is out of range")]
    DbOutOfRange,
    /// A command touched a key that its key specification did not declare (a bug in the
    /// command table); reported instead of risking a lock-order deadlock.
    #[error("ERR internal error: key not covered by the command's key specification")]
    KeyNotLocked,
    /// An invariant of the keyspace did not hold (a bug); reported rather than panicking.
    #[error("ERR internal error: {0}")]
    Internal(&'static str),
}

/// The data store: `databases` numbered dbs spread over [`SHARD_COUNT`] mutex-protected shards.
pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    databases: usize,
    expire_cursor: AtomicUsize,
    /// The last snapshot epoch handed out.
    snapshot_epoch: AtomicU64,
    /// Changes counted by guards that held no shard (FLUSHALL-like commands hold every shard,
    /// so this is rare).
    dirty_unsharded: AtomicU64,
    lazyfree: LazyFree,
    access: AtomicAccessPolicy,
}

impl Keyspace {
    /// A keyspace with `databases` empty dbs (Redis `databases`, at least 1).
    pub fn new(databases: usize) -> Keyspace {
        let databases = databases.max(1);
        Keyspace {
            shards: (0..SHARD_COUNT)
                .map(|_| Mutex::new(Shard::new(databases)))
                .collect(),
            hasher: RandomState::new(),
            databases,
            expire_cursor: AtomicUsize::new(0),
            dirty_unsharded: AtomicU64::new(0),
            snapshot_epoch: AtomicU64::new(0),
            lazyfree: LazyFree::new(),
            access: AtomicAccessPolicy::new(AccessPolicy::default()),
        }
    }

    /// `(pending, freed)` counts of values and tables handed to the background freeing thread
    /// (INFO `lazyfree_pending_objects`, `lazyfreed_objects`).
    pub fn lazyfree_counts(&self) -> (u64, u64) {
        self.lazyfree.counts()
    }

    /// How accesses update keys' access field from now on (set from `maxmemory-policy`,
    /// `lfu-log-factor` and `lfu-decay-time` at start and on CONFIG SET).
    pub fn set_access_policy(&self, policy: AccessPolicy) {
        self.access.store(policy);
    }

    /// The current [`AccessPolicy`].
    pub fn access_policy(&self) -> AccessPolicy {
        self.access.load()
    }

    /// Number of dbs.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Hash of a key with this keyspace's seed.
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Shard index of a key.
    pub fn shard_of(&self, key: &[u8]) -> usize {
        shard_of_hash(self.hash(key))
    }

    /// Locks the shards of `keys` (ascending order, each once) for a command on those keys.
    pub fn lock_keys<'a, I, K>(&'a self, keys: I, now: Now) -> Guard<'a>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let mut hashes = HashCache::new();
        let mut idx: SmallVec<[usize; 4]> = keys
            .into_iter()
            .map(|k| {
                let k = k.as_ref();
                let h = self.hash(k);
                hashes.remember(k, h);
                shard_of_hash(h)
            })
            .collect();
        if idx.len() > 1 {
            idx.sort_unstable();
            idx.dedup();
        }
        let mut guard = self.lock_shards(&idx, now);
        guard.hashes = hashes;
        guard
    }

    /// Locks the given shard indexes, which must be sorted and distinct.
    pub fn lock_shards<'a>(&'a self, sorted: &[usize], now: Now) -> Guard<'a> {
        let held = sorted.iter().map(|&i| (i, self.shards[i].lock())).collect();
        Guard::new(self, held, Mode::Keys, now)
    }

    /// Locks every shard (commands without key specifications inside MULTI, FLUSHALL, SWAPDB).
    pub fn lock_all(&self, now: Now) -> Guard<'_> {
        let held = self
            .shards
            .iter()
            .enumerate()
            .map(|(i, m)| (i, m.lock()))
            .collect();
        Guard::new(self, held, Mode::All, now)
    }

    /// A guard that locks one shard at a time on demand (SCAN, KEYS, DBSIZE outside MULTI):
    /// each shard is consistent, the whole is not a snapshot.
    pub fn lock_lazily(&self, now: Now) -> Guard<'_> {
        Guard::new(self, SmallVec::new(), Mode::Lazy, now)
    }

    /// Summed counters of all shards.
    pub fn stats(&self) -> ShardStats {
        let mut total = ShardStats::default();
        for s in self.shards.iter() {
            total += s.lock().stats;
        }
        total
    }

    /// Changes made to the data since start (Redis `server.dirty`): the sum of what commands
    /// counted with [`Guard::add_dirty`]. Locks one shard at a time.
    pub fn dirty(&self) -> u64 {
        let sharded: u64 = self.shards.iter().map(|s| s.lock().dirty).sum();
        sharded + self.dirty_unsharded.load(Ordering::Relaxed)
    }

    /// Begins a point-in-time snapshot (BGSAVE): under every shard lock at once, every
    /// non-empty table starts recording through `sink` (see [`Table`]'s copy-on-write). Returns
    /// the snapshot's epoch for [`Keyspace::snapshot_step`] and the [`Keyspace::dirty`] count
    /// it covers. The pause is one pass over the tables, allocating a bit per bucket.
    pub fn begin_snapshot(&self, sink: Arc<dyn SnapshotSink>) -> (u64, u64) {
        let mut locked: Vec<_> = self.shards.iter().map(|m| m.lock()).collect();
        self.begin_snapshot_locked(locked.iter_mut().map(|g| &mut **g), sink)
    }

    fn begin_snapshot_locked<'s>(
        &self,
        shards: impl Iterator<Item = &'s mut Shard>,
        sink: Arc<dyn SnapshotSink>,
    ) -> (u64, u64) {
        let epoch = self.snapshot_epoch.fetch_add(1, Ordering::Relaxed) + 1;
        let mut dirty = self.dirty_unsharded.load(Ordering::Relaxed);
        for shard in shards {
            dirty += shard.dirty;
            for (db, t) in shard.dbs.iter_mut().enumerate() {
                t.begin_snapshot(epoch, db, &sink);
            }
        }
        (epoch, dirty)
    }

    /// One step of snapshot `epoch` in shard `shard`: under that shard's lock, calls `f(db, key,
    /// entry)` for up to about `max_keys` keys no writer has recorded yet. Returns false when
    /// the shard has nothing left for the snapshot.
    pub fn snapshot_step(
        &self,
        shard: usize,
        epoch: u64,
        max_keys: usize,
        f: &mut dyn FnMut(usize, &[u8], EntryRef<'_>),
    ) -> bool {
        let Some(m) = self.shards.get(shard) else {
            return false;
        };
        let mut s = m.lock();
        let mut budget = max_keys;
        for t in s.dbs.iter_mut() {
            if !t.snapshot_active() {
                continue;
            }
            let mut visited = 0;
            let more = t.snapshot_step(epoch, budget, &mut |db, k, e| {
                visited += 1;
                f(db, k, e);
            });
            if more {
                return true;
            }
            budget = budget.saturating_sub(visited);
            if budget == 0 {
                return s.dbs.iter().any(Table::snapshot_active);
            }
        }
        false
    }

    /// Ends any snapshot state left (a snapshot abandoned part-way, e.g. on a write error).
    pub fn end_snapshot(&self) {
        for m in self.shards.iter() {
            for t in m.lock().dbs.iter_mut() {
                t.end_snapshot();
            }
        }
    }

    /// Resets the counters (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        for s in self.shards.iter() {
            s.lock().stats = ShardStats::default();
        }
    }

    /// Keys, expires and average TTL per db at time `now_ms` (INFO keyspace). Locks one shard
    /// at a time.
    pub fn db_info_at(&self, now_ms: u64) -> Vec<DbInfo> {
        let mut acc = DbInfoAcc::new(self.databases);
        for s in self.shards.iter() {
            acc.add(&s.lock(), now_ms);
        }
        acc.finish()
    }

    /// Keys and expires per db now (see [`Keyspace::db_info_at`]).
    pub fn db_info(&self) -> Vec<DbInfo> {
        self.db_info_at(crate::clock::unix_ms())
    }

    /// One run of the active expire cycle (Redis `activeExpireCycle`, slow mode): walks shards
    /// from where the last run stopped, samples up to 20 volatile keys per db table and deletes
    /// the expired ones, repeating while more than 10% of a sample was expired, until `budget`
    /// is spent. `on_expired(db, key)` is called for each deleted key.
    pub fn active_expire_cycle(
        &self,
        now_ms: u64,
        budget: Duration,
        mut on_expired: impl FnMut(usize, &Bytes),
    ) -> ExpireCycleStats {
        const SAMPLE: usize = 20;
        let start = Instant::now();
        let mut stats = ExpireCycleStats::default();
        let first = self.expire_cursor.load(Ordering::Relaxed) % SHARD_COUNT;
        for step in 0..SHARD_COUNT {
            let idx = (first + step) % SHARD_COUNT;
            if start.elapsed() >= budget {
                self.expire_cursor.store(idx, Ordering::Relaxed);
                stats.timed_out = true;
                return stats;
            }
            let mut shard = self.shards[idx].lock();
            let shard = &mut *shard;
            for (db, table) in shard.dbs.iter_mut().enumerate() {
                loop {
                    let n = table.volatile_len().min(SAMPLE);
                    if n == 0 {
                        break;
                    }
                    let mut expired = Vec::new();
                    for _ in 0..n {
                        if let Some(e) = table.random_volatile() {
                            if e.expire_ms().is_some_and(|t| t <= now_ms) {
                                let k = Bytes::copy_from_slice(e.key());
                                expired.push((self.hasher.hash_one(&k[..]), k));
                            }
                        }
                    }
                    stats.sampled += n as u64;
                    expired.sort_unstable();
                    expired.dedup();
                    for (h, k) in &expired {
                        if let Some(entry) = table.remove(&self.hasher, *h, k) {
                            shard.stats.expired_keys += 1;
                            stats.expired += 1;
                            on_expired(db, k);
                            self.lazyfree.free_value(entry.value);
                        }
                    }
                    if expired.len() * 10 <= n || start.elapsed() >= budget {
                        break;
                    }
                }
            }
        }
        self.expire_cursor.store(first, Ordering::Relaxed);
        stats
    }
}

/// What a write does to the key's expire.
#[derive(Clone, Copy)]
enum Ttl {
    /// Keep the expire the key has (none for a new key).
    Keep,
    /// Set it (Unix ms) or clear it.
    Set(Option<u64>),
}

/// A key sampled for eviction ([`Keyspace::sample_for_eviction`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvictionCandidate {
    /// Its db.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// Its access field at sampling time (LRU clock or LFU time + counter, see
    /// [`crate::evict`]).
    pub access: u32,
    /// Its expire (Unix ms), if any.
    pub expire_ms: Option<u64>,
}

/// Rough bytes a key costs besides its key and value bytes (node head, lengths, bucket slot),
/// used to estimate what an eviction frees when the allocator cannot tell yet (lazy free).
const KEY_OVERHEAD_BYTES: usize = crate::table::KEY_OVERHEAD_BYTES;

impl Keyspace {
    /// Samples up to `count` keys of every db of shard `shard` (only keys with an expire when
    /// `volatile`) into `out`: one lock, held only while sampling (Redis `evictionPoolPopulate`
    /// samples `maxmemory-samples` keys per db; a shard's table is a uniform slice of the db).
    pub fn sample_for_eviction(
        &self,
        shard: usize,
        volatile: bool,
        count: usize,
        out: &mut Vec<EvictionCandidate>,
    ) {
        let Some(m) = self.shards.get(shard) else {
            return;
        };
        let s = m.lock();
        for (db, t) in s.dbs.iter().enumerate() {
            if volatile {
                for _ in 0..t.volatile_len().min(count) {
                    let Some(e) = t.random_volatile() else { break };
                    out.push(EvictionCandidate {
                        db,
                        key: Bytes::copy_from_slice(e.key()),
                        access: e.lru(),
                        expire_ms: e.expire_ms(),
                    });
                }
            } else {
                t.sample(count, |k, e| {
                    out.push(EvictionCandidate {
                        db,
                        key: Bytes::copy_from_slice(k),
                        access: e.lru(),
                        expire_ms: e.expire_ms(),
                    })
                });
            }
        }
    }

    /// A random key of `db` in shard `shard` (only among keys with an expire when `volatile`),
    /// for the random eviction policies.
    pub fn random_for_eviction(&self, shard: usize, db: usize, volatile: bool) -> Option<Bytes> {
        let s = self.shards.get(shard)?.lock();
        let t = s.dbs.get(db)?;
        if volatile {
            t.random_volatile().map(|e| Bytes::copy_from_slice(e.key()))
        } else {
            t.random_key().map(Bytes::copy_from_slice)
        }
    }

    /// Deletes `key` from `db` for eviction if it still exists; returns an estimate of the bytes
    /// freed (key, value and per-key overhead), `None` when it was gone. The value is freed on
    /// the background thread when `lazy` (`lazyfree-lazy-eviction yes`) and it is large, else
    /// here after the shard lock is released. Locks only the key's shard; `on_deleted` runs
    /// under it right after the deletion (propagating the DEL).
    pub fn evict(
        &self,
        db: usize,
        key: &[u8],
        lazy: bool,
        on_deleted: impl FnOnce(),
    ) -> Option<usize> {
        let hash = self.hash(key);
        let entry = {
            let mut s = self.shards[shard_of_hash(hash)].lock();
            let entry = s.dbs.get_mut(db)?.remove(&self.hasher, hash, key)?;
            // Under the shard lock, so a DEL propagated here is ordered with other writes of
            // the key.
            on_deleted();
            entry
        };
        let size = key.len() + entry.value.mem_bytes() + KEY_OVERHEAD_BYTES;
        if lazy {
            self.lazyfree.free_value(entry.value);
        }
        Some(size)
    }
}

fn shard_of_hash(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// The sum of `shards`' counters.
fn sum_stats<'s>(shards: impl Iterator<Item = &'s Shard>) -> ShardStats {
    let mut total = ShardStats::default();
    for s in shards {
        total += s.stats;
    }
    total
}

/// Per-db key counts and a sampled average TTL, summed shard by shard.
struct DbInfoAcc {
    out: Vec<DbInfo>,
    ttl_sum: Vec<(u128, u64)>,
}

impl DbInfoAcc {
    fn new(databases: usize) -> DbInfoAcc {
        DbInfoAcc {
            out: vec![DbInfo::default(); databases],
            ttl_sum: vec![(0, 0); databases],
        }
    }

    /// Adds one shard: its keys and expires, and up to 16 sampled TTLs per db.
    fn add(&mut self, s: &Shard, now_ms: u64) {
        for (db, t) in s.dbs.iter().enumerate() {
            self.out[db].keys += t.len();
            self.out[db].expires += t.volatile_len();
            for _ in 0..t.volatile_len().min(16) {
                let Some(e) = t.random_volatile() else { break };
                if let Some(at) = e.expire_ms() {
                    self.ttl_sum[db].0 += u128::from(at.saturating_sub(now_ms));
                    self.ttl_sum[db].1 += 1;
                }
            }
        }
    }

    fn finish(mut self) -> Vec<DbInfo> {
        for (info, (sum, n)) in self.out.iter_mut().zip(self.ttl_sum) {
            if n > 0 {
                info.avg_ttl_ms = (sum / u128::from(n)) as u64;
            }
        }
        self.out
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Keys,
    All,
    Lazy,
}

/// Hashes computed while locking, so the command's lookups of the same key buffers do not
/// hash them again. Entries are identified by the key's address and length: a command looks
/// its keys up from the very argument buffers it was locked with.
#[derive(Default)]
struct HashCache {
    entries: SmallVec<[(usize, usize, u64); 2]>,
}

impl HashCache {
    fn new() -> HashCache {
        HashCache::default()
    }

    fn remember(&mut self, key: &[u8], hash: u64) {
        if self.entries.len() < 2 {
            self.entries.push((key.as_ptr() as usize, key.len(), hash));
        }
    }

    fn get(&self, key: &[u8]) -> Option<u64> {
        let (ptr, len) = (key.as_ptr() as usize, key.len());
        self.entries
            .iter()
            .find(|(p, l, _)| *p == ptr && *l == len)
            .map(|(_, _, h)| *h)
    }
}

/// The shard locks a guard holds, inline for the common one- and two-shard cases.
type Held<'a> = SmallVec<[(usize, MutexGuard<'a, Shard>); 2]>;

/// Outcome of [`Guard::set`] and friends: whether the key existed before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOutcome {
    /// The key was created.
    Added,
    /// An existing value was replaced.
    Replaced,
}

/// Conditions of a SET-like write (`NX`/`XX`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SetCondition {
    /// Always write.
    #[default]
    Always,
    /// Only if the key does not exist (`NX`).
    IfMissing,
    /// Only if the key exists (`XX`).
    IfExists,
}

/// Access to the keyspace for one command (or one MULTI/EXEC, later one script), holding the
/// locks of the shards it may touch. Every lookup first applies lazy expiry, like Redis'
/// `lookupKey*` → `expireIfNeeded`.
pub struct Guard<'a> {
    ks: &'a Keyspace,
    held: Held<'a>,
    mode: Mode,
    now: Now,
    no_touch: bool,
    access: AccessPolicy,
    expired: Vec<(usize, Bytes)>,
    /// The same keys, kept for propagation (DEL in the AOF) until the command ends.
    expired_log: Vec<(usize, Bytes)>,
    hashes: HashCache,
    /// Tables emptied by a synchronous FLUSHDB/FLUSHALL, freed when the guard drops, after its
    /// locks are released: the flushing client waits for the free, other clients do not.
    garbage: Vec<Table>,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.held.clear();
        drop(std::mem::take(&mut self.garbage));
    }
}

impl<'a> Guard<'a> {
    fn new(ks: &'a Keyspace, held: Held<'a>, mode: Mode, now: Now) -> Self {
        Guard {
            ks,
            held,
            mode,
            now,
            no_touch: false,
            access: ks.access.load(),
            expired: Vec::new(),
            expired_log: Vec::new(),
            hashes: HashCache::new(),
            garbage: Vec::new(),
        }
    }

    /// The keyspace this guard belongs to.
    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    /// The time the command runs at.
    pub fn now(&self) -> Now {
        self.now
    }

    /// Whether this guard holds no shard lock right now (a lazy guard between shards): only
    /// then may the caller run work that locks shards itself, such as eviction.
    pub fn holds_none(&self) -> bool {
        self.held.is_empty()
    }

    /// Whether this guard holds every shard ([`Keyspace::lock_all`]).
    pub fn holds_all(&self) -> bool {
        matches!(self.mode, Mode::All)
    }

    /// Summed counters of all shards, read under this guard; `None` unless it holds every
    /// shard (a command inside EXEC cannot lock shards its transaction already holds).
    pub fn stats(&self) -> Option<ShardStats> {
        self.holds_all()
            .then(|| sum_stats(self.held.iter().map(|(_, g)| &**g)))
    }

    /// [`Keyspace::db_info_at`] under this guard; `None` unless it holds every shard.
    pub fn db_info_at(&self, now_ms: u64) -> Option<Vec<DbInfo>> {
        if !self.holds_all() {
            return None;
        }
        let mut acc = DbInfoAcc::new(self.ks.databases);
        for (_, g) in self.held.iter() {
            acc.add(g, now_ms);
        }
        Some(acc.finish())
    }

    /// [`Keyspace::reset_stats`] under this guard; false (nothing reset) unless it holds every
    /// shard.
    pub fn reset_stats(&mut self) -> bool {
        if !self.holds_all() {
            return false;
        }
        for (_, g) in self.held.iter_mut() {
            g.stats = ShardStats::default();
        }
        true
    }

    /// [`Keyspace::begin_snapshot`] through a guard that holds every shard (BGSAVE inside
    /// EXEC); `None` when it does not.
    pub fn begin_snapshot(&mut self, sink: Arc<dyn SnapshotSink>) -> Option<(u64, u64)> {
        if !self.holds_all() {
            return None;
        }
        let ks = self.ks;
        Some(ks.begin_snapshot_locked(self.held.iter_mut().map(|(_, g)| &mut **g), sink))
    }

    /// [`Keyspace::end_snapshot`] through a guard that holds every shard (a snapshot begun
    /// under it that cannot go on); does nothing otherwise.
    pub fn end_snapshot(&mut self) {
        if !self.holds_all() {
            return;
        }
        for (_, g) in self.held.iter_mut() {
            for t in g.dbs.iter_mut() {
                t.end_snapshot();
            }
        }
    }

    /// Counts `n` changes to the data (Redis `server.dirty += n`), against a shard this guard
    /// holds, so no shared counter is written.
    pub fn add_dirty(&mut self, n: u64) {
        match self.held.first_mut() {
            Some((_, g)) => g.dirty += n,
            None => {
                self.ks.dirty_unsharded.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// [`Keyspace::dirty`] under this guard; `None` unless it holds every shard.
    pub fn dirty(&self) -> Option<u64> {
        self.holds_all().then(|| {
            self.held.iter().map(|(_, g)| g.dirty).sum::<u64>()
                + self.ks.dirty_unsharded.load(Ordering::Relaxed)
        })
    }

    /// When set, lookups do not update the LRU clock of keys (`CLIENT NO-TOUCH`).
    pub fn set_no_touch(&mut self, no_touch: bool) {
        self.no_touch = no_touch;
    }

    /// Keys deleted by lazy expiry during this guard's life, as (db, key), drained (for
    /// notifications and WATCH; propagation has its own copy, [`Guard::take_expired_log`]).
    pub fn take_expired(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.expired)
    }

    /// Keys deleted by lazy expiry since the last call, as (db, key), drained: each is
    /// propagated as a DEL before the command that found it expired (Redis
    /// `deleteExpiredKeyAndPropagate`).
    pub fn take_expired_log(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.expired_log)
    }

    fn check_db(&self, db: usize) -> Result<(), KeyspaceError> {
        if db < self.ks.databases {
            Ok(())
        } else {
            Err(KeyspaceError::DbOutOfRange)
        }
    }

    fn shard_mut(&mut self, idx: usize) -> Result<&mut Shard, KeyspaceError> {
        match self.mode {
            Mode::All => Ok(&mut self.held[idx].1),
            Mode::Keys => match self.held.iter().position(|(i, _)| *i == idx) {
                Some(p) => Ok(&mut self.held[p].1),
                None => Err(KeyspaceError::KeyNotLocked),
            },
            Mode::Lazy => {
                if self.held.first().map(|(i, _)| *i) != Some(idx) {
                    // Release before acquiring: a lazy guard never holds two shards.
                    self.held.clear();
                    self.held.push((idx, self.ks.shards[idx].lock()));
                }
                Ok(&mut self.held[0].1)
            }
        }
    }

    /// The shard and hash for `key` in `db`, after lazy expiry of the key.
    fn locate(&mut self, db: usize, key: &[u8]) -> Result<(&mut Shard, u64), KeyspaceError> {
        self.check_db(db)?;
        let ks = self.ks;
        let hash = self.hashes.get(key).unwrap_or_else(|| ks.hash(key));
        let idx = shard_of_hash(hash);
        let now_ms = self.now.ms;
        let shard = self.shard_mut(idx)?;
        let table = &mut shard.dbs[db];
        let is_expired = table
            .get(hash, key)
            .and_then(|e| e.expire_ms())
            .is_some_and(|t| t <= now_ms);
        if is_expired {
            if let Some(entry) = table.remove(&ks.hasher, hash, key) {
                shard.stats.expired_keys += 1;
                ks.lazyfree.free_value(entry.value);
                let k = Bytes::copy_from_slice(key);
                self.expired_log.push((db, k.clone()));
                self.expired.push((db, k));
            }
        }
        Ok((self.shard_mut(idx)?, hash))
    }

    /// Read lookup (`lookupKeyRead`): counts a hit or miss and touches the key.
    pub fn lookup_read(
        &mut self,
        db: usize,
        key: &[u8],
    ) -> Result<Option<EntryRef<'_>>, KeyspaceError> {
        let (now, access) = (self.now, self.access);
        let touch = !self.no_touch;
        let (shard, hash) = self.locate(db, key)?;
        let found = shard.dbs[db].get_touched(hash, key, |lru| {
            if touch {
                access.on_access(lru, now)
            } else {
                lru
            }
        });
        match found {
            Some(e) => {
                shard.stats.keyspace_hits += 1;
                Ok(Some(e))
            }
            None => {
                shard.stats.keyspace_misses += 1;
                Ok(None)
            }
        }
    }

    /// Lookup without counting hits/misses and without touching (`LOOKUP_NOTOUCH|NOSTATS`), e.g.
    /// for TYPE-like introspection of a key by commands that do not read it.
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Result<Option<EntryRef<'_>>, KeyspaceError> {
        let (shard, hash) = self.locate(db, key)?;
        Ok(shard.dbs[db].get(hash, key))
    }

    /// Like [`Guard::lookup_read`] but without touching the key (EXISTS, OBJECT).
    pub fn lookup_read_no_touch(
        &mut self,
        db: usize,
        key: &[u8],
    ) -> Result<Option<EntryRef<'_>>, KeyspaceError> {
        let (shard, hash) = self.locate(db, key)?;
        let found = shard.dbs[db].get(hash, key);
        if found.is_some() {
            shard.stats.keyspace_hits += 1;
        } else {
            shard.stats.keyspace_misses += 1;
        }
        Ok(found)
    }

    /// Write lookup (`lookupKeyWrite`): no stats, touches the key.
    pub fn lookup_write(
        &mut self,
        db: usize,
        key: &[u8],
    ) -> Result<Option<EntryMut<'_>>, KeyspaceError> {
        let (now, access) = (self.now, self.access);
        let touch = !self.no_touch;
        let (shard, hash) = self.locate(db, key)?;
        let found = shard.dbs[db].get_mut(hash, key);
        if let Some(mut e) = found {
            if touch {
                e.touch(access.on_access(e.lru(), now));
            }
            return Ok(Some(e));
        }
        Ok(None)
    }

    /// Write lookup that creates the key with `make()` (no expire) when it is missing, as
    /// the aggregate write commands do (LPUSH, HSET, SADD, ZADD ...). Returns the entry and
    /// whether it was created. Touches the key.
    pub fn lookup_write_or_add(
        &mut self,
        db: usize,
        key: &[u8],
        make: impl FnOnce() -> Value,
    ) -> Result<(EntryMut<'_>, bool), KeyspaceError> {
        let (now, access) = (self.now, self.access);
        let touch = !self.no_touch;
        let hasher = &self.ks.hasher;
        let (shard, hash) = self.locate(db, key)?;
        let table = &mut shard.dbs[db];
        if table.get(hash, key).is_none() {
            let e = table.insert_new(hasher, hash, key, Entry::new(make(), access.initial(now)));
            return Ok((e, true));
        }
        match table.get_mut(hash, key) {
            Some(mut e) => {
                if touch {
                    e.touch(access.on_access(e.lru(), now));
                }
                Ok((e, false))
            }
            None => Err(KeyspaceError::Internal("key vanished after lookup")),
        }
    }

    /// Writes `value` at `key` (Redis `setKey`): creates or replaces; the expire is kept only
    /// when `keep_ttl`, otherwise cleared.
    pub fn set(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        keep_ttl: bool,
    ) -> Result<SetOutcome, KeyspaceError> {
        let ttl = if keep_ttl { Ttl::Keep } else { Ttl::Set(None) };
        self.write(db, key, value, ttl)
    }

    /// Writes `value` at `key` with the expire `expire_ms` (Unix ms), as SET ... EX/PX and
    /// SETEX do: one write of the key, whatever expire it had.
    pub fn set_with_expire(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_ms: u64,
    ) -> Result<SetOutcome, KeyspaceError> {
        self.write(db, key, value, Ttl::Set(Some(expire_ms)))
    }

    fn write(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        ttl: Ttl,
    ) -> Result<SetOutcome, KeyspaceError> {
        let (now, access, no_touch) = (self.now, self.access, self.no_touch);
        let hasher = &self.ks.hasher;
        let (shard, hash) = self.locate(db, key)?;
        let table = &mut shard.dbs[db];
        if let Some(mut e) = table.get_mut(hash, key) {
            let expire_ms = match ttl {
                Ttl::Keep => e.expire_ms(),
                Ttl::Set(at) => at,
            };
            let old = e.replace_with_expire(value, expire_ms);
            // Redis' setKey: lookupKeyWrite updates the access field (unless NO-TOUCH); under
            // LFU the new value inherits the counter, under LRU it is a new object stamped now.
            if !(no_touch && access.lfu) {
                e.touch(access.on_access(e.lru(), now));
            }
            if let Some(old) = old {
                self.ks.lazyfree.free_value(old);
            }
            Ok(SetOutcome::Replaced)
        } else {
            let expire_ms = match ttl {
                Ttl::Keep => None,
                Ttl::Set(at) => at,
            };
            let entry = Entry::new(value, access.initial(now)).with_expire(expire_ms);
            table.insert_new(hasher, hash, key, entry);
            Ok(SetOutcome::Added)
        }
    }

    /// Adds `key` with `value` and optional expire (Unix ms); the key must not exist.
    /// Returns false (and writes nothing) when it exists.
    pub fn add(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_ms: Option<u64>,
    ) -> Result<bool, KeyspaceError> {
        // A new key's access field is the one a restore without saved metadata gives.
        self.restore(db, key, value, expire_ms, (None, None), false)
    }

    /// Visits every key of db `db` stored in shard `shard` (locking it first when this guard
    /// is lazy, so a save walking shard after shard holds one lock at a time). Expired keys are
    /// visited too: a snapshot keeps them, as Redis' does, and loading drops them.
    pub fn visit_shard_db(
        &mut self,
        shard: usize,
        db: usize,
        mut f: impl FnMut(&[u8], EntryRef<'_>),
    ) -> Result<(), KeyspaceError> {
        self.check_db(db)?;
        if shard >= SHARD_COUNT {
            return Err(KeyspaceError::Internal("shard index out of range"));
        }
        let s = self.shard_mut(shard)?;
        for (k, e) in s.dbs[db].iter() {
            f(k, e);
        }
        Ok(())
    }

    /// Adds `key` restored from saved data (RDB loading, `RESTORE`): `value`, its expire (Unix
    /// ms) and its access field from the saved LRU idle seconds or LFU counter (see
    /// [`AccessPolicy::restored`](crate::evict::AccessPolicy::restored)). With `replace`, an
    /// existing key is overwritten; otherwise nothing is written and false is returned when it
    /// exists.
    pub fn restore(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_ms: Option<u64>,
        saved: (Option<u64>, Option<u8>),
        replace: bool,
    ) -> Result<bool, KeyspaceError> {
        let lru = self.access.restored(self.now, saved.0, saved.1);
        let hasher = &self.ks.hasher;
        let (shard, hash) = self.locate(db, key)?;
        let table = &mut shard.dbs[db];
        if !replace && table.get(hash, key).is_some() {
            return Ok(false);
        }
        if let Some(mut e) = table.get_mut(hash, key) {
            let old = e.replace_with_expire(value, expire_ms);
            e.touch(lru);
            if let Some(old) = old {
                self.ks.lazyfree.free_value(old);
            }
            return Ok(true);
        }
        table.insert_new(
            hasher,
            hash,
            key,
            Entry::new(value, lru).with_expire(expire_ms),
        );
        Ok(true)
    }

    /// Deletes `key`, returning its value and expire. Large values are freed in the background.
    pub fn remove(
        &mut self,
        db: usize,
        key: &[u8],
    ) -> Result<Option<(Value, Option<u64>)>, KeyspaceError> {
        let hasher = &self.ks.hasher;
        let (shard, hash) = self.locate(db, key)?;
        Ok(shard.dbs[db].remove(hasher, hash, key).map(|e| {
            let exp = e.expire_ms();
            (e.value, exp)
        }))
    }

    /// Frees a value taken out of the keyspace: large ones on the lazy-free thread.
    pub fn free_value(&self, value: Value) {
        self.ks.lazyfree.free_value(value);
    }

    /// Deletes `key`; returns whether it existed (DEL, UNLINK).
    pub fn delete(&mut self, db: usize, key: &[u8]) -> Result<bool, KeyspaceError> {
        match self.remove(db, key)? {
            Some((value, _)) => {
                self.ks.lazyfree.free_value(value);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Sets (Some) or clears (None) the expire of an existing key, in Unix milliseconds.
    /// Returns whether the key exists.
    pub fn set_expire(
        &mut self,
        db: usize,
        key: &[u8],
        expire_ms: Option<u64>,
    ) -> Result<bool, KeyspaceError> {
        let (shard, hash) = self.locate(db, key)?;
        Ok(shard.dbs[db].set_expire(hash, key, expire_ms))
    }

    /// Number of keys in `db` (DBSIZE).
    pub fn db_len(&mut self, db: usize) -> Result<usize, KeyspaceError> {
        self.check_db(db)?;
        let mut n = 0;
        for idx in 0..SHARD_COUNT {
            n += self.shard_mut(idx)?.dbs[db].len();
        }
        Ok(n)
    }

    /// Removes every key of `db` (FLUSHDB). With `lazy`, the memory is freed in the background.
    pub fn flush_db(&mut self, db: usize, lazy: bool) -> Result<(), KeyspaceError> {
        self.check_db(db)?;
        let mut old = Vec::new();
        for idx in 0..SHARD_COUNT {
            let mut t = std::mem::take(&mut self.shard_mut(idx)?.dbs[db]);
            // A running snapshot records the keys before they go.
            t.record_rest_of_snapshot();
            if !t.is_empty() {
                old.push(t);
            }
        }
        self.free_tables(old, lazy);
        Ok(())
    }

    /// Removes every key of every db (FLUSHALL).
    pub fn flush_all(&mut self, lazy: bool) -> Result<(), KeyspaceError> {
        let mut old = Vec::new();
        for idx in 0..SHARD_COUNT {
            for t in self.shard_mut(idx)?.dbs.iter_mut() {
                t.record_rest_of_snapshot();
                if !t.is_empty() {
                    old.push(std::mem::take(t));
                }
            }
        }
        self.free_tables(old, lazy);
        Ok(())
    }

    fn free_tables(&mut self, tables: Vec<Table>, lazy: bool) {
        if lazy {
            self.ks.lazyfree.free_tables(tables);
        } else {
            self.garbage.extend(tables);
        }
    }

    /// Swaps two dbs (SWAPDB); needs a guard from [`Keyspace::lock_all`] to be atomic.
    pub fn swap_db(&mut self, a: usize, b: usize) -> Result<(), KeyspaceError> {
        self.check_db(a)?;
        self.check_db(b)?;
        for idx in 0..SHARD_COUNT {
            self.shard_mut(idx)?.dbs.swap(a, b);
        }
        Ok(())
    }

    /// One SCAN step over `db`: visits keys from `cursor` until at least `count` keys were
    /// emitted or `count * 10` buckets were visited, and returns the next cursor (0 = done).
    /// Cursor layout: bucket cursor of the shard's table in the high bits, shard index in the
    /// low [`SHARD_COUNT`] bits. Expired keys are skipped (and deleted).
    pub fn scan(
        &mut self,
        db: usize,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(&[u8], EntryRef<'_>),
    ) -> Result<u64, KeyspaceError> {
        self.check_db(db)?;
        let mut shard_idx = (cursor & (SHARD_COUNT as u64 - 1)) as usize;
        let mut bucket = cursor >> SHARD_BITS;
        let now_ms = self.now.ms;
        let mut emitted = 0usize;
        let mut visits = count.saturating_mul(10).max(1);
        let mut stale = Vec::new();
        loop {
            let shard = self.shard_mut(shard_idx)?;
            let table = &shard.dbs[db];
            // An empty table has no bucket to visit: it costs nothing against COUNT, so an
            // empty db completes in one call with cursor 0, as in Redis.
            let visited = !table.is_empty();
            bucket = table.scan(bucket, |k, e| {
                if e.expire_ms().is_some_and(|t| t <= now_ms) {
                    stale.push(Bytes::copy_from_slice(k));
                } else {
                    emitted += 1;
                    f(k, e);
                }
            });
            for k in stale.drain(..) {
                // lookup applies lazy expiry
                self.peek(db, &k)?;
            }
            if visited {
                visits -= 1;
            }
            if bucket == 0 {
                shard_idx += 1;
                if shard_idx == SHARD_COUNT {
                    return Ok(0);
                }
            }
            if emitted >= count || visits == 0 {
                return Ok((bucket << SHARD_BITS) | shard_idx as u64);
            }
        }
    }

    /// Every live key of `db` matching `pattern` (KEYS); `None` pattern = all.
    pub fn keys(&mut self, db: usize, pattern: Option<&[u8]>) -> Result<Vec<Bytes>, KeyspaceError> {
        self.check_db(db)?;
        let now_ms = self.now.ms;
        let mut out = Vec::new();
        for idx in 0..SHARD_COUNT {
            let shard = self.shard_mut(idx)?;
            for (k, e) in shard.dbs[db].iter() {
                if e.expire_ms().is_some_and(|t| t <= now_ms) {
                    continue;
                }
                if pattern.is_none_or(|p| glob_match(p, k, false)) {
                    out.push(Bytes::copy_from_slice(k));
                }
            }
        }
        Ok(out)
    }

    /// A random live key of `db` (RANDOMKEY), or None when the db is empty.
    pub fn random_key(&mut self, db: usize) -> Result<Option<Bytes>, KeyspaceError> {
        self.check_db(db)?;
        // Tries random shards first, then falls back to a full pass so that a sparse db still
        // answers; expired keys met on the way are deleted as Redis does.
        for _ in 0..(SHARD_COUNT * 2) {
            let idx = fastrand::usize(..SHARD_COUNT);
            let key = self.shard_mut(idx)?.dbs[db]
                .random_key()
                .map(Bytes::copy_from_slice);
            if let Some(k) = key {
                if self.peek(db, &k)?.is_some() {
                    return Ok(Some(k));
                }
            }
        }
        let start = fastrand::usize(..SHARD_COUNT);
        for step in 0..SHARD_COUNT {
            let idx = (start + step) % SHARD_COUNT;
            loop {
                let key = self.shard_mut(idx)?.dbs[db]
                    .random_key()
                    .map(Bytes::copy_from_slice);
                match key {
                    Some(k) => {
                        if self.peek(db, &k)?.is_some() {
                            return Ok(Some(k));
                        }
                    }
                    None => break,
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::Now;
    use std::collections::HashSet;

    fn now(ms: u64) -> Now {
        Now::from_unix_ms(ms)
    }

    /// A recorded key: (db, key, value text, expire).
    type Recorded = (usize, Vec<u8>, Vec<u8>, Option<u64>);

    /// A key as the snapshot tests compare it.
    fn recorded(db: usize, k: &[u8], e: EntryRef<'_>) -> Recorded {
        let v = e
            .value()
            .as_str()
            .map(|s| s.to_bytes().to_vec())
            .unwrap_or_default();
        (db, k.to_vec(), v, e.expire_ms())
    }

    /// Records what a snapshot sink receives.
    #[derive(Default)]
    struct Recorder(parking_lot::Mutex<Vec<Recorded>>);

    impl SnapshotSink for Recorder {
        fn save_entries(
            &self,
            db: usize,
            entries: &mut dyn Iterator<Item = (&[u8], EntryRef<'_>)>,
        ) {
            let mut out = self.0.lock();
            out.extend(entries.map(|(k, e)| recorded(db, k, e)));
        }
    }

    /// Everything in the keyspace as (db, key, value, expire), sorted.
    fn contents(ks: &Keyspace) -> Vec<Recorded> {
        let mut out = Vec::new();
        let mut g = ks.lock_all(now(1000));
        for db in 0..ks.databases() {
            for shard in 0..SHARD_COUNT {
                g.visit_shard_db(shard, db, |k, e| out.push(recorded(db, k, e)))
                    .unwrap();
            }
        }
        out.sort();
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// A snapshot records exactly the keys, values and expires present when it began,
        /// whatever writes (overwrites, deletes, new keys, expires, FLUSHDB, SWAPDB) run
        /// between the walker's steps.
        #[test]
        fn snapshot_is_point_in_time(
            initial in 0usize..3000,
            ops in proptest::collection::vec((0u8..7, 0usize..4000, 0usize..3), 0..400),
            step in 1usize..64,
        ) {
            let ks = Keyspace::new(3);
            {
                let mut g = ks.lock_all(now(1000));
                for i in 0..initial {
                    let k = format!("k{i}");
                    g.set(i % 3, k.as_bytes(), Value::string(format!("v{i}").as_bytes()), false)
                        .unwrap();
                    if i % 5 == 0 {
                        g.set_expire(i % 3, k.as_bytes(), Some(1_000_000 + i as u64)).unwrap();
                    }
                }
            }
            let before = contents(&ks);
            let sink = Arc::new(Recorder::default());
            let (epoch, _) = ks.begin_snapshot(sink.clone());
            let walked = parking_lot::Mutex::new(Vec::new());
            let mut ops = ops.into_iter();
            for shard in 0..SHARD_COUNT {
                loop {
                    let more = ks.snapshot_step(shard, epoch, step, &mut |db, k, e| {
                        walked.lock().push(recorded(db, k, e));
                    });
                    // Some writes between steps.
                    for (op, i, db) in ops.by_ref().take(3) {
                        let k = format!("k{i}");
                        let mut g = ks.lock_all(now(1000));
                        match op {
                            0 => { g.set(db, k.as_bytes(), Value::string(b"new"), false).unwrap(); }
                            1 => { g.delete(db, k.as_bytes()).unwrap(); }
                            2 => { g.set_expire(db, k.as_bytes(), Some(5_000_000)).unwrap(); }
                            3 => { g.set_expire(db, k.as_bytes(), None).unwrap(); }
                            4 => { g.add(db, format!("n{i}").as_bytes(), Value::string(b"x"), None).unwrap(); }
                            5 if i % 50 == 0 => { g.flush_db(db, false).unwrap(); }
                            6 if i % 50 == 0 => { g.swap_db(db, (db + 1) % 3).unwrap(); }
                            _ => { let _ = g.lookup_read(db, k.as_bytes()).unwrap(); }
                        }
                    }
                    if !more {
                        break;
                    }
                }
            }
            let mut got = walked.into_inner();
            got.extend(sink.0.lock().drain(..));
            got.sort();
            proptest::prop_assert_eq!(got, before);
            let g = ks.lock_all(now(1000));
            for (_, shard) in g.held.iter() {
                proptest::prop_assert!(shard.dbs.iter().all(|t| !t.snapshot_active()));
            }
        }
    }

    #[test]
    fn set_get_delete_across_shards() {
        let ks = Keyspace::new(16);
        let mut g = ks.lock_all(now(1000));
        for i in 0..1000 {
            g.set(0, format!("k{i}").as_bytes(), Value::string(b"v"), false)
                .unwrap();
        }
        assert_eq!(g.db_len(0).unwrap(), 1000);
        assert_eq!(g.db_len(1).unwrap(), 0);
        assert!(g.delete(0, b"k5").unwrap());
        assert!(!g.delete(0, b"k5").unwrap());
        assert_eq!(g.db_len(0).unwrap(), 999);
        assert_eq!(
            g.set(16, b"x", Value::string(b"v"), false),
            Err(KeyspaceError::DbOutOfRange)
        );
    }

    #[test]
    fn keys_guard_refuses_unlocked_keys() {
        let ks = Keyspace::new(1);
        let mut g = ks.lock_keys([&b"a"[..]], now(0));
        g.set(0, b"a", Value::string(b"1"), false).unwrap();
        let other = (0..100)
            .map(|i| format!("o{i}"))
            .find(|k| ks.shard_of(k.as_bytes()) != ks.shard_of(b"a"))
            .unwrap();
        assert_eq!(
            g.set(0, other.as_bytes(), Value::string(b"1"), false),
            Err(KeyspaceError::KeyNotLocked)
        );
    }

    #[test]
    fn lazy_expiry_on_lookup() {
        let ks = Keyspace::new(1);
        {
            let mut g = ks.lock_all(now(1000));
            g.set(0, b"k", Value::string(b"v"), false).unwrap();
            g.set_expire(0, b"k", Some(1500)).unwrap();
            assert!(g.lookup_read(0, b"k").unwrap().is_some());
        }
        let mut g = ks.lock_all(now(1500));
        assert!(g.lookup_read(0, b"k").unwrap().is_none());
        assert_eq!(g.take_expired(), vec![(0, Bytes::from_static(b"k"))]);
        drop(g);
        assert_eq!(ks.stats().expired_keys, 1);
        assert_eq!(ks.stats().keyspace_misses, 1);
        assert_eq!(ks.stats().keyspace_hits, 1);
    }

    #[test]
    fn set_clears_or_keeps_ttl() {
        let ks = Keyspace::new(1);
        let mut g = ks.lock_all(now(0));
        g.set(0, b"k", Value::string(b"v"), false).unwrap();
        g.set_expire(0, b"k", Some(10_000)).unwrap();
        g.set(0, b"k", Value::string(b"w"), true).unwrap();
        assert_eq!(g.peek(0, b"k").unwrap().unwrap().expire_ms(), Some(10_000));
        g.set(0, b"k", Value::string(b"x"), false).unwrap();
        assert_eq!(g.peek(0, b"k").unwrap().unwrap().expire_ms(), None);
        drop(g);
        assert_eq!(
            ks.db_info()[0],
            DbInfo {
                keys: 1,
                expires: 0,
                avg_ttl_ms: 0
            }
        );
    }

    #[test]
    fn active_expire_removes_expired_keys_only() {
        let ks = Keyspace::new(2);
        {
            let mut g = ks.lock_all(now(0));
            for i in 0..500 {
                let k = format!("k{i}");
                g.set(i % 2, k.as_bytes(), Value::string(b"v"), false)
                    .unwrap();
                if i % 5 != 0 {
                    g.set_expire(i % 2, k.as_bytes(), Some(100)).unwrap();
                }
            }
        }
        let mut seen = Vec::new();
        let mut total = 0;
        for _ in 0..100 {
            let s = ks.active_expire_cycle(200, Duration::from_secs(10), |db, k| {
                seen.push((db, k.clone()))
            });
            total += s.expired;
            if s.expired == 0 {
                break;
            }
        }
        assert_eq!(total, 400);
        assert_eq!(seen.len(), 400);
        let info = ks.db_info();
        assert_eq!(info[0].keys + info[1].keys, 100);
        assert_eq!(info[0].expires + info[1].expires, 0);
    }

    #[test]
    fn scan_covers_every_key_once_without_changes() {
        let ks = Keyspace::new(1);
        let mut g = ks.lock_lazily(now(0));
        for i in 0..5000 {
            g.set(0, format!("k{i}").as_bytes(), Value::string(b"v"), false)
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = g
                .scan(0, cursor, 10, |k, _| seen.push(Bytes::copy_from_slice(k)))
                .unwrap();
            if cursor == 0 {
                break;
            }
        }
        let set: HashSet<_> = seen.iter().cloned().collect();
        assert_eq!(set.len(), 5000);
        assert_eq!(
            seen.len(),
            5000,
            "no duplicates when the table does not change"
        );
    }

    #[test]
    fn lfu_access_updates_and_eviction_primitives() {
        use crate::evict::{lfu_counter, AccessPolicy, LFU_INIT_VAL};
        let ks = Keyspace::new(2);
        ks.set_access_policy(AccessPolicy {
            lfu: true,
            lfu_log_factor: 0,
            lfu_decay_time_min: 1,
        });
        let counter = |g: &mut Guard<'_>, db: usize, k: &[u8]| {
            lfu_counter(g.peek(db, k).unwrap().unwrap().lru())
        };
        let mut g = ks.lock_all(now(600_000));
        g.set(0, b"a", Value::string(b"v"), false).unwrap();
        assert_eq!(counter(&mut g, 0, b"a"), LFU_INIT_VAL);
        g.lookup_read(0, b"a").unwrap();
        assert_eq!(counter(&mut g, 0, b"a"), LFU_INIT_VAL + 1);
        g.set_no_touch(true);
        g.lookup_read(0, b"a").unwrap();
        g.set(0, b"a", Value::string(b"w"), false).unwrap();
        assert_eq!(counter(&mut g, 0, b"a"), LFU_INIT_VAL + 1, "NO-TOUCH");
        g.set(1, b"v", Value::string(b"x"), false).unwrap();
        g.set_expire(1, b"v", Some(1 << 50)).unwrap();
        drop(g);

        let mut all = Vec::new();
        let mut volatile = Vec::new();
        for shard in 0..SHARD_COUNT {
            ks.sample_for_eviction(shard, false, 5, &mut all);
            ks.sample_for_eviction(shard, true, 5, &mut volatile);
        }
        assert_eq!(all.len(), 2);
        assert_eq!(volatile.len(), 1);
        assert_eq!((volatile[0].db, &volatile[0].key[..]), (1, &b"v"[..]));
        assert_eq!(volatile[0].expire_ms, Some(1 << 50));
        let shard = ks.shard_of(b"v");
        assert_eq!(
            ks.random_for_eviction(shard, 1, true),
            Some(Bytes::from_static(b"v"))
        );
        assert_eq!(ks.random_for_eviction(shard, 0, true), None);
        assert!(ks.evict(1, b"v", false, || {}).is_some());
        assert_eq!(ks.evict(1, b"v", true, || {}), None, "already gone");
        assert_eq!(ks.db_info()[1].keys, 0);
        assert_eq!(ks.db_info()[0].keys, 1);
    }

    #[test]
    fn flush_and_swap() {
        let ks = Keyspace::new(3);
        let mut g = ks.lock_all(now(0));
        g.set(0, b"a", Value::string(b"1"), false).unwrap();
        g.set(1, b"b", Value::string(b"2"), false).unwrap();
        g.swap_db(0, 1).unwrap();
        assert!(g.peek(0, b"b").unwrap().is_some());
        assert!(g.peek(1, b"a").unwrap().is_some());
        g.flush_db(0, false).unwrap();
        assert_eq!(g.db_len(0).unwrap(), 0);
        assert_eq!(g.db_len(1).unwrap(), 1);
        g.flush_all(true).unwrap();
        assert_eq!(g.db_len(1).unwrap(), 0);
        assert!(g.random_key(1).unwrap().is_none());
    }
}
