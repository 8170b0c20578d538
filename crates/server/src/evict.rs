//! `maxmemory` eviction: Redis' approximated LRU/LFU/TTL and random policies (`evict.c`,
//! `performEvictions`).
//!
//! # Layout
//!
//! - [`Policy`]: the eight `maxmemory-policy` values.
//! - [`Evictor`]: the eviction pool of the best [`EVPOOL_SIZE`] candidates seen so far (sorted
//!   by score, best last), the round-robin cursors, the "budget ran out, continue in the cron"
//!   flag and the time spent over the limit.
//! - `impl Server`: [`Server::perform_evictions`] (run before every command while `maxmemory`
//!   is set, by CONFIG SET maxmemory and by the cron while an eviction is unfinished) and
//!   [`Server::oom_check`], dispatch's OOM rule.
//!
//! # Algorithm
//!
//! While `used_memory` is above `maxmemory`: sample `maxmemory-samples` keys of every db from one
//! shard (round-robin over the shards, so successive rounds cover the keyspace like Redis'
//! per-db `dictGetSomeKeys`), score them — idle time (LRU), `255 - counter` (LFU), or `u64::MAX -
//! expire` (volatile-ttl: sooner = better) — merge them into the pool, then delete the best pool
//! entry that still exists. Random policies delete a random key instead, rotating the starting
//! db like Redis' `next_db`. The bytes freed are estimated per key and the real `used_memory` is
//! re-read every 16 keys; every 16 keys the time budget (`maxmemory-eviction-tenacity`, Redis'
//! `evictionTimeLimitUs`) is checked too, and when it runs out the eviction is left to the cron
//! and to the next commands (result [`EvictResult::Running`], not a failure).
//!
//! Locking: one shard lock at a time, never while reading `used_memory`; the pool mutex
//! serialises evictors (a writer arriving while another evicts waits for it and then re-checks
//! the memory). Never called while the calling command holds a keyspace guard.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrodis_keyspace::evict::lfu_decr_and_return;
use ferrodis_keyspace::{EvictionCandidate, Now, SHARD_COUNT};
use parking_lot::Mutex;

use crate::client::Client;
use crate::command::dispatch::Resolved;
use crate::command::Flags;
use crate::error::{msg, CommandError};
use crate::notify::class;
use crate::server::Server;

/// Size of the eviction pool (Redis `EVPOOL_SIZE`).
pub const EVPOOL_SIZE: usize = 16;

/// A `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    /// `noeviction`: never evict; denyoom commands fail with OOM.
    NoEviction = 0,
    /// `volatile-lru`: approximated LRU among keys with an expire.
    VolatileLru,
    /// `volatile-lfu`: approximated LFU among keys with an expire.
    VolatileLfu,
    /// `volatile-random`: a random key with an expire.
    VolatileRandom,
    /// `volatile-ttl`: the key with the nearest expire (approximated).
    VolatileTtl,
    /// `allkeys-lru`: approximated LRU among all keys.
    AllkeysLru,
    /// `allkeys-lfu`: approximated LFU among all keys.
    AllkeysLfu,
    /// `allkeys-random`: a random key.
    AllkeysRandom,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::NoEviction,
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
    ];

    /// The policy named `name` (the CONFIG value), `None` when unknown.
    pub fn parse(name: &str) -> Option<Policy> {
        Some(match name {
            "noeviction" => Policy::NoEviction,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => return None,
        })
    }

    /// The policy stored as `v` by [`HotConfig`](crate::server::HotConfig).
    pub fn from_u8(v: u8) -> Policy {
        Policy::ALL
            .get(usize::from(v))
            .copied()
            .unwrap_or(Policy::NoEviction)
    }

    /// Whether the policy is an LRU one (Redis `MAXMEMORY_FLAG_LRU`: RDB files record idle
    /// times).
    pub fn is_lru(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::AllkeysLru)
    }

    /// Whether keys' access fields hold LFU counters (Redis `MAXMEMORY_FLAG_LFU`).
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    /// Whether only keys with an expire are candidates.
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn is_random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// Outcome of [`Server::perform_evictions`] (Redis `EVICT_OK`, `EVICT_RUNNING`, `EVICT_FAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictResult {
    /// Under the limit (or no limit).
    Ok,
    /// Still over the limit, but the time budget ran out: the cron and the next commands go on.
    Running,
    /// Over the limit and nothing (more) can be evicted: denyoom commands are refused.
    Fail,
}

/// The eviction directives as typed values, read from the config on start and CONFIG SET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvictionConfig {
    /// `maxmemory`, bytes (0 = no limit).
    pub maxmemory_bytes: u64,
    /// `maxmemory-policy`.
    pub policy: Policy,
    /// `maxmemory-samples`.
    pub samples: u32,
    /// `maxmemory-eviction-tenacity`.
    pub tenacity: u32,
    /// `lfu-log-factor`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`, minutes.
    pub lfu_decay_time_min: u32,
    /// `lazyfree-lazy-eviction`.
    pub lazyfree_lazy_eviction: bool,
}

impl EvictionConfig {
    /// The values in `c` (validated by the config table; defaults if unreadable).
    pub fn from_config(c: &crate::config::Config) -> EvictionConfig {
        let text = |name: &str| c.get_str(name).unwrap_or_default();
        let num = |name: &str, default: u64| text(name).parse::<u64>().unwrap_or(default);
        let small = |name: &str, default: u32| {
            u32::try_from(num(name, u64::from(default))).unwrap_or(u32::MAX)
        };
        EvictionConfig {
            maxmemory_bytes: num("maxmemory", 0),
            policy: Policy::parse(&text("maxmemory-policy")).unwrap_or(Policy::NoEviction),
            samples: small("maxmemory-samples", 5),
            tenacity: small("maxmemory-eviction-tenacity", 10),
            lfu_log_factor: small("lfu-log-factor", 10),
            lfu_decay_time_min: small("lfu-decay-time", 1),
            lazyfree_lazy_eviction: text("lazyfree-lazy-eviction") == "yes",
        }
    }
}

/// Time budget of one eviction run for `maxmemory-eviction-tenacity` (Redis
/// `evictionTimeLimitUs`): 50 µs per step up to 10, then growing by 15% per step, unlimited at
/// 100.
pub fn eviction_time_limit(tenacity: u32) -> Option<Duration> {
    if tenacity <= 10 {
        Some(Duration::from_micros(50 * u64::from(tenacity)))
    } else if tenacity < 100 {
        Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        ))
    } else {
        None
    }
}

#[derive(Debug)]
struct PoolEntry {
    score: u64,
    db: usize,
    key: Bytes,
}

/// The eviction pool and cursors, behind [`Evictor`]'s mutex.
#[derive(Debug, Default)]
struct Pool {
    /// Sorted by ascending score: the best candidate is last.
    entries: Vec<PoolEntry>,
    /// Next shard to sample.
    shard_cursor: usize,
    /// Next db the random policies start from (Redis `next_db`).
    next_db: usize,
}

impl Pool {
    /// Merges a scored candidate (Redis `evictionPoolPopulate`): skipped when the pool is full
    /// and it is worse than every entry, else inserted in order, dropping the worst entry when
    /// full. A key already pooled gets the new score.
    fn insert(&mut self, score: u64, db: usize, key: Bytes) {
        if let Some(p) = self.entries.iter().position(|e| e.db == db && e.key == key) {
            self.entries.remove(p);
        }
        let k = self.entries.partition_point(|e| e.score < score);
        if self.entries.len() >= EVPOOL_SIZE {
            if k == 0 {
                return;
            }
            self.entries.remove(0);
            self.entries.insert(k - 1, PoolEntry { score, db, key });
        } else {
            self.entries.insert(k, PoolEntry { score, db, key });
        }
    }
}

/// Eviction state shared by all evictors (see the module docs).
#[derive(Debug, Default)]
pub struct Evictor {
    pool: Mutex<Pool>,
    /// An eviction ran out of time while over the limit: the cron continues it.
    running: AtomicBool,
    /// Unix ms since when memory is over the limit; 0 when it is not.
    exceeded_since_ms: AtomicU64,
    /// Milliseconds spent over the limit in finished episodes (INFO
    /// `total_eviction_exceeded_time`).
    exceeded_total_ms: AtomicU64,
}

impl Evictor {
    /// INFO `total_eviction_exceeded_time` and `current_eviction_exceeded_time`, milliseconds.
    pub fn exceeded_times_ms(&self, now_ms: u64) -> (u64, u64) {
        let since = self.exceeded_since_ms.load(Ordering::Relaxed);
        let current = if since == 0 {
            0
        } else {
            now_ms.saturating_sub(since)
        };
        (
            self.exceeded_total_ms.load(Ordering::Relaxed) + current,
            current,
        )
    }

    /// Forgets the accumulated over-the-limit time (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        self.exceeded_total_ms.store(0, Ordering::Relaxed);
    }

    fn mark(&self, over: bool, now_ms: u64) {
        let since = self.exceeded_since_ms.load(Ordering::Relaxed);
        if over && since == 0 {
            self.exceeded_since_ms
                .store(now_ms.max(1), Ordering::Relaxed);
        } else if !over && since != 0 {
            self.exceeded_since_ms.store(0, Ordering::Relaxed);
            self.exceeded_total_ms
                .fetch_add(now_ms.saturating_sub(since), Ordering::Relaxed);
        }
    }
}

/// Keys between checks of the real memory use and of the time budget (Redis: 16).
const CHECK_EVERY: u64 = 16;

impl Server {
    /// `used_memory` as eviction counts it: [`Server::used_memory_for_maxmemory`] (client
    /// output waiting to be written is left out, as Redis leaves out replica and AOF buffers in
    /// `freeMemoryGetNotCountedMemory`).
    fn used_memory_for_eviction(&self) -> u64 {
        self.used_memory_for_maxmemory()
    }

    /// Frees memory by evicting keys per `maxmemory-policy` until `used_memory` is at most
    /// `maxmemory` or the time budget runs out (Redis `performEvictions`). Must not be called
    /// while the caller holds a keyspace guard.
    pub fn perform_evictions(&self) -> EvictResult {
        let maxmemory = self.hot.maxmemory.load(Ordering::Relaxed);
        if maxmemory == 0 {
            return EvictResult::Ok;
        }
        if self.used_memory_for_eviction() <= maxmemory {
            self.finish_episode();
            return EvictResult::Ok;
        }
        warn_rss_fallback_once(self);
        let now_ms = ferrodis_keyspace::clock::unix_ms();
        let policy = Policy::from_u8(self.hot.maxmemory_policy.load(Ordering::Relaxed));
        self.evictor.mark(true, now_ms);
        if policy == Policy::NoEviction {
            return EvictResult::Fail;
        }
        let mut pool = self.evictor.pool.lock();
        // Another evictor may have done the work while this one waited for the pool.
        let used = self.used_memory_for_eviction();
        if used <= maxmemory {
            self.finish_episode();
            return EvictResult::Ok;
        }
        let to_free = used - maxmemory;
        let lazy = self.hot.lazyfree_lazy_eviction.load(Ordering::Relaxed);
        let limit =
            eviction_time_limit(self.hot.maxmemory_eviction_tenacity.load(Ordering::Relaxed));
        let start = Instant::now();
        let out_of_time = || limit.is_some_and(|l| start.elapsed() > l);
        let (mut freed, mut keys) = (0u64, 0u64);
        let mut misses = 0u32;
        let mut result = EvictResult::Ok;
        while freed < to_free {
            let Some((db, key)) = self.pick_victim(&mut pool, policy) else {
                result = EvictResult::Fail;
                break;
            };
            let Some(bytes) = self
                .keyspace
                .evict(db, &key, lazy, || self.propagate_deletion(db, &key))
            else {
                // Deleted or evicted since it was sampled.
                misses += 1;
                if misses > 10_000 {
                    result = EvictResult::Fail;
                    break;
                }
                continue;
            };
            misses = 0;
            freed += bytes as u64;
            keys += 1;
            self.stats.evicted_keys.fetch_add(1, Ordering::Relaxed);
            self.watches.touch(db, &key);
            self.notify_keyspace_event(class::EVICTED, "evicted", &key, db);
            if keys % CHECK_EVERY == 0 {
                if self.used_memory_for_eviction() <= maxmemory {
                    break;
                }
                if out_of_time() {
                    result = EvictResult::Running;
                    break;
                }
            }
        }
        drop(pool);
        if result == EvictResult::Fail && lazy {
            // Values freed in the background may still bring memory under the limit.
            let budget = limit.unwrap_or(Duration::from_millis(1));
            while start.elapsed() < budget {
                if self.used_memory_for_eviction() <= maxmemory {
                    result = EvictResult::Ok;
                    break;
                }
                std::thread::sleep(budget.min(Duration::from_millis(1)));
            }
        }
        self.evictor
            .running
            .store(result == EvictResult::Running, Ordering::Relaxed);
        result
    }

    /// Back under the limit: stops the cron's eviction and closes the over-the-limit period.
    /// Only loads on the fast path (no shared cache line is written per command).
    fn finish_episode(&self) {
        let ev = &self.evictor;
        if ev.running.load(Ordering::Relaxed) {
            ev.running.store(false, Ordering::Relaxed);
        }
        if ev.exceeded_since_ms.load(Ordering::Relaxed) != 0 {
            ev.mark(false, ferrodis_keyspace::clock::unix_ms());
        }
    }

    /// Dispatch's OOM rule (Redis `processCommand`): with `maxmemory` set, every command first
    /// runs [`Server::perform_evictions`]; if memory stays over the limit, `denyoom` commands,
    /// EXEC with a queued `denyoom` command, and anything but EXEC/DISCARD/QUIT/RESET inside
    /// MULTI are refused with `OOM command not allowed when used memory > 'maxmemory'.`.
    pub(crate) fn oom_check(&self, client: &Client, cmd: Resolved) -> Result<(), CommandError> {
        let top_level = self.commands.entry(cmd.idx).parent.is_none();
        let name = if top_level { cmd.spec.name } else { "" };
        let denyoom =
            cmd.spec.flags.has(Flags::DENYOOM) || (name == "exec" && client.tx.queued_denyoom());
        let multi_reject =
            client.tx.in_multi() && !matches!(name, "exec" | "discard" | "quit" | "reset");
        if self.perform_evictions() == EvictResult::Fail && (denyoom || multi_reject) {
            return Err(CommandError::msg(msg::OOM));
        }
        Ok(())
    }

    /// After CONFIG SET maxmemory (Redis `updateMaxmemory`): warns when the new limit is below
    /// the current use and leaves the eviction to the caller (the CONFIG SET handler, when it
    /// holds no shard lock) or else to the cron.
    pub(crate) fn maxmemory_changed(&self) {
        let maxmemory = self.hot.maxmemory.load(Ordering::Relaxed);
        if maxmemory == 0 {
            self.finish_episode();
            return;
        }
        let used = self.used_memory_for_eviction();
        if maxmemory < used {
            tracing::warn!(
                "maxmemory set by CONFIG SET ({maxmemory}) is below the memory in use ({used}): \
                 keys will be evicted, or writes refused, per maxmemory-policy"
            );
            self.evictor.running.store(true, Ordering::Relaxed);
        }
    }

    /// Continues an eviction whose time budget ran out (Redis' eviction time proc), from the
    /// server cron.
    pub(crate) fn eviction_cron(&self) {
        if self.evictor.running.load(Ordering::Relaxed) {
            // Keep going budget after budget for up to a quarter of the tick (Redis' timer proc
            // runs on every event loop turn; commands arriving meanwhile evict too).
            let hz = self.hot.hz.load(Ordering::Relaxed).max(1);
            let tick = Duration::from_micros(250_000 / u64::from(hz));
            let start = Instant::now();
            while start.elapsed() < tick {
                if self.perform_evictions() != EvictResult::Running {
                    break;
                }
            }
        }
    }

    /// The next key to evict: `None` when no key is a candidate.
    fn pick_victim(&self, pool: &mut Pool, policy: Policy) -> Option<(usize, Bytes)> {
        let volatile = policy.volatile_only();
        let dbs = self.keyspace.databases();
        if policy.is_random() {
            pool.next_db = (pool.next_db + 1) % dbs;
            let first = fastrand::usize(..SHARD_COUNT);
            return (0..SHARD_COUNT).find_map(|i| {
                let shard = (first + i) % SHARD_COUNT;
                (0..dbs).find_map(|d| {
                    let db = (pool.next_db + d) % dbs;
                    self.keyspace
                        .random_for_eviction(shard, db, volatile)
                        .map(|k| (db, k))
                })
            });
        }
        let samples = (self.hot.maxmemory_samples.load(Ordering::Relaxed) as usize).max(1);
        let mut found: Vec<EvictionCandidate> = Vec::new();
        for _ in 0..SHARD_COUNT {
            let shard = pool.shard_cursor;
            pool.shard_cursor = (shard + 1) % SHARD_COUNT;
            self.keyspace
                .sample_for_eviction(shard, volatile, samples, &mut found);
            if !found.is_empty() {
                break;
            }
        }
        let now = Now::system();
        let decay = self.keyspace.access_policy().lfu_decay_time_min;
        for c in found {
            let score = match policy {
                Policy::VolatileTtl => u64::MAX - c.expire_ms.unwrap_or(u64::MAX),
                p if p.is_lfu() => 255 - u64::from(lfu_decr_and_return(c.access, now.ms, decay)),
                _ => now.idle_ms(c.access),
            };
            pool.insert(score, c.db, c.key);
        }
        pool.entries.pop().map(|e| (e.db, e.key))
    }
}

/// Eviction against the RSS fallback (no [`ferrodis_keyspace::alloc::CountingAlloc`] installed,
/// e.g. an embedding program) cannot see freed memory come back: says so once.
fn warn_rss_fallback_once(server: &Server) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !server.memory_is_allocator_level() && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "maxmemory is set but memory is measured as RSS (the counting allocator is not \
             installed as #[global_allocator]): RSS does not shrink when keys are freed, so \
             eviction may remove far more keys than needed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limit_follows_tenacity() {
        assert_eq!(eviction_time_limit(0), Some(Duration::ZERO));
        assert_eq!(eviction_time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(eviction_time_limit(11), Some(Duration::from_micros(575)));
        assert!(eviction_time_limit(99).is_some_and(|d| d > Duration::from_secs(1)));
        assert_eq!(eviction_time_limit(100), None);
    }

    #[test]
    fn pool_keeps_the_best_sixteen_in_order() {
        let mut pool = Pool::default();
        for i in 0..40u64 {
            let score = (i * 7) % 40;
            pool.insert(score, 0, Bytes::from(format!("k{score}")));
        }
        let scores: Vec<u64> = pool.entries.iter().map(|e| e.score).collect();
        assert_eq!(scores, (24..40).collect::<Vec<_>>());
        pool.insert(5, 0, Bytes::from_static(b"worse"));
        assert_eq!(pool.entries.len(), EVPOOL_SIZE);
        assert!(pool.entries.iter().all(|e| e.key != "worse"));
        // Re-sampling a pooled key updates its score instead of duplicating it.
        pool.insert(100, 0, Bytes::from_static(b"k30"));
        assert_eq!(pool.entries.len(), EVPOOL_SIZE);
        assert_eq!(pool.entries.last().map(|e| &e.key[..]), Some(&b"k30"[..]));
    }

    #[test]
    fn policy_names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(Policy::from_u8(p as u8), p);
        }
        assert_eq!(Policy::parse("allkeys-lfu"), Some(Policy::AllkeysLfu));
        assert!(Policy::AllkeysLfu.is_lfu() && !Policy::VolatileTtl.is_lfu());
        assert!(Policy::VolatileTtl.volatile_only() && !Policy::AllkeysRandom.volatile_only());
        assert_eq!(Policy::parse("lru"), None);
    }
}
