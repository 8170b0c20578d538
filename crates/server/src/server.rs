//! The server: configuration, keyspace, clients, command table and statistics, shared by every
//! connection, the embedding API and (later) AOF replay and replication.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrodis_keyspace::clock::unix_ms;
use ferrodis_keyspace::{EncodingLimits, Keyspace};
use parking_lot::RwLock;
use tokio::sync::watch;

use crate::blocking::Blocking;
use crate::client::ClientRegistry;
use crate::cmd::transactions::WatchRegistry;
use crate::command::CommandTable;
use crate::config::{Config, ConfigSetError, LogLevel};
use crate::mailbox::OutputLimit;
use crate::pubsub::PubSub;

/// Config values read on hot paths, mirrored from [`Config`] into atomics so that connections
/// never take the config lock per command.
#[derive(Debug)]
pub struct HotConfig {
    /// `timeout`, seconds; 0 = never close idle clients.
    pub timeout_secs: AtomicU64,
    /// `tcp-keepalive`, seconds; 0 = off.
    pub tcp_keepalive_secs: AtomicU64,
    /// `hz`.
    pub hz: AtomicU32,
    /// `maxclients`.
    pub maxclients: AtomicU32,
    /// `proto-max-bulk-len`, bytes.
    pub proto_max_bulk_len: AtomicU64,
    /// `protected-mode`.
    pub protected_mode: AtomicBool,
    /// The aggregate encoding thresholds (see [`EncodingLimits`]), one atomic per field in
    /// declaration order: read on every aggregate write, so no lock (a reader racing CONFIG SET
    /// may see a mix of old and new thresholds for one command, which is harmless).
    pub encoding: [AtomicI64; 7],
    /// `notify-keyspace-events` bits (see [`crate::notify::class`]).
    pub notify_flags: AtomicU32,
    /// `client-output-buffer-limit pubsub`: hard bytes, soft bytes, soft seconds.
    pub pubsub_limit: [AtomicU64; 3],
    /// `maxmemory`, bytes; 0 = no limit (then dispatch's eviction check is this one load).
    pub maxmemory: AtomicU64,
    /// `maxmemory-policy` as a [`crate::evict::Policy`] discriminant.
    pub maxmemory_policy: AtomicU8,
    /// `maxmemory-samples`: keys sampled per db per eviction round.
    pub maxmemory_samples: AtomicU32,
    /// `maxmemory-eviction-tenacity`, 0..=100 (see [`crate::evict::eviction_time_limit`]).
    pub maxmemory_eviction_tenacity: AtomicU32,
    /// `lfu-log-factor`.
    pub lfu_log_factor: AtomicU32,
    /// `lfu-decay-time`, minutes.
    pub lfu_decay_time: AtomicU32,
    /// `lazyfree-lazy-eviction`.
    pub lazyfree_lazy_eviction: AtomicBool,
    /// `aof-timestamp-enabled`.
    pub aof_timestamps: AtomicBool,
}

impl HotConfig {
    fn from_config(c: &Config) -> HotConfig {
        HotConfig {
            timeout_secs: AtomicU64::new(c.timeout_secs()),
            tcp_keepalive_secs: AtomicU64::new(c.tcp_keepalive_secs()),
            hz: AtomicU32::new(c.hz()),
            maxclients: AtomicU32::new(c.maxclients()),
            proto_max_bulk_len: AtomicU64::new(c.proto_max_bulk_len_bytes()),
            protected_mode: AtomicBool::new(c.protected_mode()),
            encoding: encoding_atomics(c.encoding_limits()),
            notify_flags: AtomicU32::new(u32::from(c.notify_keyspace_events())),
            pubsub_limit: {
                let l = c.pubsub_output_limit();
                [
                    AtomicU64::new(l.hard_bytes),
                    AtomicU64::new(l.soft_bytes),
                    AtomicU64::new(l.soft_secs),
                ]
            },
            maxmemory: AtomicU64::new(0),
            maxmemory_policy: AtomicU8::new(0),
            maxmemory_samples: AtomicU32::new(5),
            maxmemory_eviction_tenacity: AtomicU32::new(10),
            lfu_log_factor: AtomicU32::new(10),
            lfu_decay_time: AtomicU32::new(1),
            lazyfree_lazy_eviction: AtomicBool::new(false),
            aof_timestamps: AtomicBool::new(
                c.get_str("aof-timestamp-enabled").as_deref() == Some("yes"),
            ),
        }
        .with_eviction(c)
    }

    fn with_eviction(self, c: &Config) -> HotConfig {
        self.refresh_eviction(c);
        self
    }

    /// Mirrors the eviction directives (see [`crate::evict::EvictionConfig`]).
    fn refresh_eviction(&self, c: &Config) {
        let e = crate::evict::EvictionConfig::from_config(c);
        self.maxmemory.store(e.maxmemory_bytes, Ordering::Relaxed);
        self.maxmemory_policy
            .store(e.policy as u8, Ordering::Relaxed);
        self.maxmemory_samples.store(e.samples, Ordering::Relaxed);
        self.maxmemory_eviction_tenacity
            .store(e.tenacity, Ordering::Relaxed);
        self.lfu_log_factor
            .store(e.lfu_log_factor, Ordering::Relaxed);
        self.lfu_decay_time
            .store(e.lfu_decay_time_min, Ordering::Relaxed);
        self.lazyfree_lazy_eviction
            .store(e.lazyfree_lazy_eviction, Ordering::Relaxed);
    }

    /// How keys' access fields are updated under the current policy.
    pub fn access_policy(&self) -> ferrodis_keyspace::evict::AccessPolicy {
        ferrodis_keyspace::evict::AccessPolicy {
            lfu: crate::evict::Policy::from_u8(self.maxmemory_policy.load(Ordering::Relaxed))
                .is_lfu(),
            lfu_log_factor: self.lfu_log_factor.load(Ordering::Relaxed),
            lfu_decay_time_min: self.lfu_decay_time.load(Ordering::Relaxed),
        }
    }

    fn refresh(&self, c: &Config) {
        self.timeout_secs.store(c.timeout_secs(), Ordering::Relaxed);
        self.tcp_keepalive_secs
            .store(c.tcp_keepalive_secs(), Ordering::Relaxed);
        self.hz.store(c.hz(), Ordering::Relaxed);
        self.maxclients.store(c.maxclients(), Ordering::Relaxed);
        self.proto_max_bulk_len
            .store(c.proto_max_bulk_len_bytes(), Ordering::Relaxed);
        self.protected_mode
            .store(c.protected_mode(), Ordering::Relaxed);
        for (slot, v) in self
            .encoding
            .iter()
            .zip(encoding_atomics(c.encoding_limits()))
        {
            slot.store(v.into_inner(), Ordering::Relaxed);
        }
        self.notify_flags
            .store(u32::from(c.notify_keyspace_events()), Ordering::Relaxed);
        let l = c.pubsub_output_limit();
        for (slot, v) in self
            .pubsub_limit
            .iter()
            .zip([l.hard_bytes, l.soft_bytes, l.soft_secs])
        {
            slot.store(v, Ordering::Relaxed);
        }
        self.refresh_eviction(c);
        self.aof_timestamps.store(
            c.get_str("aof-timestamp-enabled").as_deref() == Some("yes"),
            Ordering::Relaxed,
        );
    }
}

/// [`EncodingLimits`] as the atomics [`HotConfig::encoding`] holds (sizes saturate at
/// `i64::MAX`).
fn encoding_atomics(l: EncodingLimits) -> [AtomicI64; 7] {
    let size = |v: usize| AtomicI64::new(i64::try_from(v).unwrap_or(i64::MAX));
    [
        AtomicI64::new(l.list_max_listpack_size),
        AtomicI64::new(l.list_compress_depth),
        size(l.hash_max_listpack_entries),
        size(l.hash_max_listpack_value),
        size(l.set_max_intset_entries),
        size(l.zset_max_listpack_entries),
        size(l.zset_max_listpack_value),
    ]
}

/// Server-wide counters (INFO stats). Connections add to them once per read batch.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub total_connections_received: AtomicU64,
    /// Commands executed.
    pub total_commands_processed: AtomicU64,
    /// Connections refused because of `maxclients`.
    pub rejected_connections: AtomicU64,
    /// Bytes read from clients.
    pub total_net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub total_net_output_bytes: AtomicU64,
    /// Error replies sent.
    pub total_error_replies: AtomicU64,
    /// Socket reads.
    pub total_reads_processed: AtomicU64,
    /// Socket writes.
    pub total_writes_processed: AtomicU64,
    /// Active expire cycles that ran out of time.
    pub expired_time_cap_reached_count: AtomicU64,
    /// CPU time spent in active expiry, microseconds.
    pub expire_cycle_cpu_us: AtomicU64,
    /// Commands per second over the last sampling window (INFO `instantaneous_ops_per_sec`).
    pub instantaneous_ops_per_sec: AtomicU64,
    /// Keys evicted because of `maxmemory` (INFO `evicted_keys`).
    pub evicted_keys: AtomicU64,
    /// Input kilobytes per second ×100 over the last window.
    pub instantaneous_input_kbps_x100: AtomicU64,
    /// Output kilobytes per second ×100 over the last window.
    pub instantaneous_output_kbps_x100: AtomicU64,
}

impl Stats {
    pub(crate) fn reset(&self) {
        for a in [
            &self.total_connections_received,
            &self.total_commands_processed,
            &self.rejected_connections,
            &self.total_net_input_bytes,
            &self.total_net_output_bytes,
            &self.total_error_replies,
            &self.total_reads_processed,
            &self.total_writes_processed,
            &self.expired_time_cap_reached_count,
            &self.expire_cycle_cpu_us,
            &self.evicted_keys,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// A callback that applies a new log level (installed by the binary's logging set-up).
pub type LogLevelHook = Box<dyn Fn(LogLevel) + Send + Sync>;

/// Everything a running Ferrodis holds.
pub struct Server {
    config: RwLock<Config>,
    /// Hot config values.
    pub hot: HotConfig,
    /// The data.
    pub keyspace: Keyspace,
    /// Connected clients.
    pub clients: ClientRegistry,
    /// Keys watched by clients (WATCH), signalled by every write.
    pub watches: Arc<WatchRegistry>,
    /// Clients parked in blocking commands.
    pub blocking: Blocking,
    /// Pub/Sub subscriptions.
    pub pubsub: PubSub,
    /// The command table.
    pub commands: CommandTable,
    /// `maxmemory` eviction state.
    pub evictor: crate::evict::Evictor,
    /// Statistics.
    pub stats: Stats,
    /// RDB snapshot state (SAVE, BGSAVE, save rules, INFO persistence).
    pub persist: crate::persist::Persistence,
    /// The append-only file.
    pub aof: crate::persist::aof::Aof,
    /// Random 40-hex-digit id of this run (INFO `run_id`).
    pub run_id: String,
    /// Start instant (uptime).
    pub started: Instant,
    /// Unix seconds of the last successful save; the start time until persistence exists, as
    /// Redis reports it after a start without loading.
    pub lastsave_unix_secs: AtomicU64,
    /// TCP port actually listened on (INFO `tcp_port`), 0 when none.
    pub tcp_port: AtomicU32,
    shutdown_tx: watch::Sender<bool>,
    log_level_hook: RwLock<Option<LogLevelHook>>,
    peak_memory: AtomicU64,
    startup_memory: AtomicU64,
    rebind_tx: parking_lot::Mutex<Option<RebindSender>>,
    /// This server's own `Arc`, for work handed to other threads (BGSAVE).
    me: std::sync::Weak<Server>,
}

/// Sends freshly bound TCP listeners to the serving loop (CONFIG SET port/bind).
pub type RebindSender = tokio::sync::mpsc::UnboundedSender<Vec<std::net::TcpListener>>;

impl Server {
    /// The `pubsub` class of `client-output-buffer-limit`, as CONFIG SET left it.
    pub fn pubsub_limit(&self) -> OutputLimit {
        let l = &self.hot.pubsub_limit;
        OutputLimit {
            hard_bytes: l[0].load(Ordering::Relaxed),
            soft_bytes: l[1].load(Ordering::Relaxed),
            soft_secs: l[2].load(Ordering::Relaxed),
        }
    }

    /// How keys' access fields are updated under the current `maxmemory-policy`,
    /// `lfu-log-factor` and `lfu-decay-time` (see [`ferrodis_keyspace::evict`]).
    pub fn access_policy(&self) -> ferrodis_keyspace::evict::AccessPolicy {
        self.hot.access_policy()
    }

    /// The current aggregate encoding thresholds (CONFIG SET applies to the next command).
    pub fn encoding_limits(&self) -> EncodingLimits {
        let e = &self.hot.encoding;
        let get = |i: usize| e[i].load(Ordering::Relaxed);
        let size = |i: usize| usize::try_from(get(i)).unwrap_or(usize::MAX);
        EncodingLimits {
            list_max_listpack_size: get(0),
            list_compress_depth: get(1),
            hash_max_listpack_entries: size(2),
            hash_max_listpack_value: size(3),
            set_max_intset_entries: size(4),
            zset_max_listpack_entries: size(5),
            zset_max_listpack_value: size(6),
        }
    }

    /// A server for `config` (nothing is bound yet; see [`crate::net`]).
    pub fn new(config: Config) -> Arc<Server> {
        let (shutdown_tx, _) = watch::channel(false);
        let run_id: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
            .collect();
        let server = Arc::new_cyclic(|me| Server {
            hot: HotConfig::from_config(&config),
            keyspace: Keyspace::new(config.databases()),
            config: RwLock::new(config),
            clients: ClientRegistry::default(),
            watches: Arc::default(),
            blocking: Blocking::default(),
            pubsub: PubSub::default(),
            commands: CommandTable::new(),
            evictor: crate::evict::Evictor::default(),
            stats: Stats::default(),
            run_id,
            started: Instant::now(),
            lastsave_unix_secs: AtomicU64::new(unix_ms() / 1000),
            tcp_port: AtomicU32::new(0),
            shutdown_tx,
            log_level_hook: RwLock::new(None),
            peak_memory: AtomicU64::new(0),
            startup_memory: AtomicU64::new(0),
            rebind_tx: parking_lot::Mutex::new(None),
            me: me.clone(),
            persist: crate::persist::Persistence::default(),
            aof: crate::persist::aof::Aof::default(),
        });
        server
            .keyspace
            .set_access_policy(server.hot.access_policy());
        ferrodis_keyspace::alloc::flush_thread_delta();
        let startup = server.used_memory();
        server.startup_memory.store(startup, Ordering::Relaxed);
        server
    }

    /// This server's `Arc` (`None` only while it is being dropped).
    pub fn arc(&self) -> Option<Arc<Server>> {
        self.me.upgrade()
    }

    /// Runs `f` with read access to the configuration.
    pub fn with_config<R>(&self, f: impl FnOnce(&Config) -> R) -> R {
        f(&self.config.read())
    }

    /// Applies CONFIG SET pairs atomically and their side effects (re-listening on a new
    /// `port`/`bind`, changing directory for `dir`); returns Redis' error text. When a side
    /// effect fails, every value is restored.
    pub fn config_set(
        &self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<(), String> {
        let mut cfg = self.config.write();
        let before = cfg.clone();
        let changed = cfg
            .set_for_client(pairs, client_is_local)
            .map_err(|e| e.to_string())?;
        if let Err(e) = self.apply_config_effects(&cfg, &changed) {
            *cfg = before;
            return Err(e.to_string());
        }
        self.hot.refresh(&cfg);
        self.keyspace.set_access_policy(self.hot.access_policy());
        if changed.contains(&"maxmemory") {
            self.maxmemory_changed();
        }
        if changed.contains(&"loglevel") {
            if let Some(hook) = self.log_level_hook.read().as_ref() {
                hook(cfg.loglevel());
            }
        }
        let appendonly = cfg.appendonly();
        let fsync = cfg.get_str("appendfsync").unwrap_or_default();
        drop(cfg);
        self.aof
            .set_fsync(crate::persist::aof::FsyncPolicy::parse(&fsync));
        if changed.contains(&"appendonly") && appendonly != self.aof.is_on() {
            if appendonly {
                // Redis `startAppendOnly`: a rewrite creates the files from a snapshot.
                let started = self.arc().map(|me| me.enable_aof_at_runtime());
                if let Some(Err(e)) = started {
                    tracing::warn!("Can't turn on the AOF: {e}");
                    let mut cfg = self.config.write();
                    let _ = cfg.set(&[(b"appendonly", b"no")]);
                    return Err(
                        "ERR CONFIG SET failed (possibly related to argument 'appendonly') - \
                         Unable to turn on AOF. Check server logs."
                            .into(),
                    );
                }
            } else {
                self.stop_aof();
            }
        }
        Ok(())
    }

    fn apply_config_effects(
        &self,
        cfg: &Config,
        changed: &[&'static str],
    ) -> Result<(), ConfigSetError> {
        if changed.contains(&"dir") {
            std::env::set_current_dir(cfg.dir())
                .map_err(|e| ConfigSetError::apply_failed("dir", &e.to_string()))?;
        }
        let rebind = changed.iter().find(|n| **n == "port" || **n == "bind");
        if let Some(name) = rebind {
            let tx = self.rebind_tx.lock().clone();
            if let Some(tx) = tx {
                let unable = || {
                    ConfigSetError::apply_failed(
                        name,
                        "Unable to listen on this port. Check server logs.",
                    )
                };
                let listeners = crate::net::bind_tcp_std(cfg).map_err(|e| {
                    tracing::warn!("CONFIG SET {name}: {e}");
                    unable()
                })?;
                if listeners.is_empty() && cfg.port() != 0 {
                    tracing::warn!("CONFIG SET {name}: no address could be bound");
                    return Err(unable());
                }
                let port = listeners
                    .first()
                    .and_then(|l| l.local_addr().ok())
                    .map_or(0, |a| a.port());
                self.tcp_port.store(u32::from(port), Ordering::Relaxed);
                let _ = tx.send(listeners);
            }
        }
        Ok(())
    }

    /// Registers the channel on which [`crate::net::serve`] receives new TCP listeners after
    /// CONFIG SET port/bind.
    pub fn set_rebind_channel(&self, tx: RebindSender) {
        *self.rebind_tx.lock() = Some(tx);
    }

    /// Installs the hook CONFIG SET loglevel calls.
    pub fn set_log_level_hook(&self, hook: LogLevelHook) {
        *self.log_level_hook.write() = Some(hook);
    }

    /// Asks the server to shut down (SHUTDOWN, SIGTERM, the embedding handle).
    pub fn request_shutdown(&self) {
        self.shutdown_tx.send_replace(true);
    }

    /// A receiver that turns `true` when shutdown is requested.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }

    /// Resets INFO statistics (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        self.stats.reset();
        self.keyspace.reset_stats();
        self.evictor.reset_stats();
    }

    /// Seconds since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Resident set size of the process in bytes (0 where /proc is unavailable).
    pub fn rss_bytes(&self) -> u64 {
        let pages = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| {
                s.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .unwrap_or(0);
        pages * 4096
    }

    /// Memory in use, bytes (INFO `used_memory`, Redis' `zmalloc_used_memory`): the live bytes
    /// of the counting global allocator ([`ferrodis_keyspace::alloc`], installed by the
    /// `ferrodis-server` binary; one atomic load), or the resident set size when it is not
    /// installed (tests, embedders). Also tracks the peak.
    pub fn used_memory(&self) -> u64 {
        let used = match ferrodis_keyspace::alloc::allocated_bytes() {
            Some(b) => b as u64,
            None => self.rss_bytes(),
        };
        // Read before writing: the peak's cache line is written only when it moves.
        if used > self.peak_memory.load(Ordering::Relaxed) {
            self.peak_memory.fetch_max(used, Ordering::Relaxed);
        }
        used
    }

    /// Whether [`Server::used_memory`] is allocator-level (the counting allocator is installed)
    /// rather than the RSS fallback.
    pub fn memory_is_allocator_level(&self) -> bool {
        ferrodis_keyspace::alloc::allocated_bytes().is_some()
    }

    /// [`Server::used_memory`] right after start-up, before any client (INFO
    /// `used_memory_startup`, MEMORY STATS `startup.allocated`), bytes.
    pub fn startup_memory(&self) -> u64 {
        self.startup_memory.load(Ordering::Relaxed)
    }

    /// Memory that does not count against `maxmemory`, bytes (Redis'
    /// `freeMemoryGetNotCountedMemory`, INFO `mem_not_counted_for_evict`): Redis leaves out
    /// replica output buffers and the AOF buffer; Ferrodis leaves out all client output waiting
    /// to be written (Pub/Sub mailboxes and write buffers being flushed,
    /// [`crate::mailbox::output_bytes`]).
    pub fn not_counted_memory(&self) -> u64 {
        crate::mailbox::output_bytes() as u64
    }

    /// The memory `maxmemory` is compared with, bytes: [`Server::used_memory`] minus
    /// [`Server::not_counted_memory`] (Redis' `getMaxmemoryState`).
    pub fn used_memory_for_maxmemory(&self) -> u64 {
        self.used_memory().saturating_sub(self.not_counted_memory())
    }

    /// Peak of [`Server::used_memory`].
    pub fn peak_memory(&self) -> u64 {
        self.peak_memory.load(Ordering::Relaxed)
    }

    /// One tick of the server cron (`hz` times a second): active expiry with a budget of 25% of
    /// the tick, as Redis' slow expire cycle, then an unfinished `maxmemory` eviction, then the
    /// save rules.
    pub fn cron_tick(&self) {
        // Samples used_memory so the peak is kept between INFO calls (Redis' serverCron).
        self.used_memory();
        let hz = self.hot.hz.load(Ordering::Relaxed).max(1);
        let budget = Duration::from_micros(250_000 / u64::from(hz));
        let start = Instant::now();
        let stats = self
            .keyspace
            .active_expire_cycle(unix_ms(), budget, |db, key| {
                // Under the key's shard lock: the DEL is ordered with other writes of it.
                self.propagate_deletion(db, key);
                self.watches.touch(db, key);
                self.notify_keyspace_event(crate::notify::class::EXPIRED, "expired", key, db);
            });
        if stats.timed_out {
            self.stats
                .expired_time_cap_reached_count
                .fetch_add(1, Ordering::Relaxed);
        }
        self.stats
            .expire_cycle_cpu_us
            .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.eviction_cron();
        if let Some(me) = self.arc() {
            me.save_cron();
            me.aof_cron();
        }
    }
}
