//! RDB snapshots of the keyspace: SAVE (under every shard lock), BGSAVE (a background thread),
//! the save rules (`save <seconds> <changes>`), and loading `dir`/`dbfilename` at start.
//!
//! A save writes `temp-<pid>-<n>.rdb` in `dir`, fsyncs it, renames it over `dbfilename` and
//! fsyncs the directory, so a crash at any point leaves either the previous file or the new
//! one, never a partial file under the real name.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ferrodis_keyspace::clock::unix_ms;
use ferrodis_keyspace::{EntryRef, Guard, Now, SnapshotSink, SHARD_COUNT};
use ferrodis_persistence::aof::rewrite as aof_rewrite;
use ferrodis_persistence::rdb::write::{put_key, put_select_db};
use ferrodis_persistence::rdb::{self, KeyMeta, LoadedKey, Loader, RdbWriter, SaveOptions};

use crate::cmd::connection::REDIS_COMPAT_VERSION;
use crate::evict::Policy;
use crate::server::Server;

/// What a finished save wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaveReport {
    /// Keys written.
    pub keys: u64,
    /// File size, bytes.
    pub bytes: u64,
}

/// What a finished load read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys added to the keyspace.
    pub loaded: u64,
    /// Keys skipped because their expire had passed.
    pub expired: u64,
    /// The file's RDB version.
    pub version: u32,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Server {
    /// The RDB file's path: `dbfilename` in `dir` (the process' working directory, which
    /// `dir` sets).
    pub fn rdb_path(&self) -> PathBuf {
        PathBuf::from(
            self.with_config(|c| c.get_str("dbfilename"))
                .unwrap_or_default(),
        )
    }

    /// `rdbcompression` and `rdbchecksum` as they are now.
    pub(crate) fn rdb_save_options(&self) -> SaveOptions {
        self.with_config(|c| SaveOptions {
            compression: c.get_str("rdbcompression").as_deref() != Some("no"),
            checksum: c.get_str("rdbchecksum").as_deref() != Some("no"),
        })
    }

    /// Writes the keyspace to the RDB file through `guard` (every shard held: SAVE,
    /// SHUTDOWN; or lazy: one shard at a time), then records the save. `dirty` is the change
    /// count the snapshot covers.
    pub(crate) fn save_rdb_with(
        &self,
        guard: &mut Guard<'_>,
        dirty: u64,
    ) -> Result<SaveReport, String> {
        let path = self.rdb_path();
        let report = write_rdb_file(self, guard, &path).map_err(|e| {
            tracing::warn!("Failed saving the DB: {e}");
            e.to_string()
        })?;
        self.persist.saved(dirty);
        self.lastsave_unix_secs
            .store(unix_ms() / 1000, Ordering::Relaxed);
        tracing::info!("DB saved on disk");
        Ok(report)
    }

    /// SAVE: a foreground save under `guard`, which holds every shard. Errors: `ERR Background
    /// save already in progress` while a BGSAVE runs (as Redis refuses SAVE while its child
    /// saves), otherwise the save's own error text.
    pub fn save_rdb(&self, guard: &mut Guard<'_>) -> Result<SaveReport, String> {
        if self.persist.bgsave_in_progress() {
            return Err("ERR Background save already in progress".into());
        }
        let dirty = guard.dirty().unwrap_or_else(|| self.keyspace.dirty());
        self.save_rdb_with(guard, dirty)
    }

    /// The save at shutdown: waits for a running BGSAVE to finish, then saves under every
    /// shard lock.
    pub fn save_rdb_for_shutdown(&self) -> Result<SaveReport, String> {
        if self.persist.bgsave_in_progress() {
            tracing::info!("Waiting for the background save to finish before the final save");
            while self.persist.bgsave_in_progress() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        let mut guard = self.keyspace.lock_all(Now::system());
        let dirty = guard.dirty().unwrap_or(0);
        self.save_rdb_with(&mut guard, dirty)
    }

    /// The save before exiting (Redis `prepareForShutdown`): saves when save rules exist or
    /// `save` is asked, never with `nosave`. Runs once: a later call (the binary after SHUTDOWN
    /// already saved) does nothing. Error: the save failed (logged).
    pub fn prepare_for_shutdown(&self, save: bool, nosave: bool) -> Result<(), String> {
        if self.persist.shutdown_prepared.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let rules = !self.with_config(|c| c.save_params()).is_empty();
        if nosave || !(save || rules) {
            return Ok(());
        }
        tracing::info!("Saving the final RDB snapshot before exiting.");
        match self.save_rdb_for_shutdown() {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!("Error trying to save the DB, can't exit.");
                // Let a retried SHUTDOWN (or a later signal) try again.
                self.persist
                    .shutdown_prepared
                    .store(false, Ordering::Release);
                Err(e)
            }
        }
    }

    /// BGSAVE: takes a point-in-time snapshot now (the moment Redis forks), then writes it on
    /// a background thread while clients keep running; see
    /// [`Keyspace::begin_snapshot`](ferrodis_keyspace::Keyspace::begin_snapshot). `guard` is
    /// the caller's when it holds every shard (BGSAVE inside EXEC); otherwise the caller must
    /// hold no shard. Errors: `ERR Background save already in progress` (the caller handles
    /// SCHEDULE), or a thread that cannot start.
    pub fn bgsave(self: &Arc<Server>, guard: Option<&mut Guard<'_>>) -> Result<(), String> {
        if self.aof.rewrite_in_progress() {
            return Err(
                "ERR Another child process is active (AOF?): can't BGSAVE right now.".into(),
            );
        }
        if self.persist.begin_bgsave().is_err() {
            return Err("ERR Background save already in progress".into());
        }
        let format = SnapFormat::Rdb {
            compress: self.rdb_save_options().compression,
        };
        let snap = self.with_all_locked(guard, |g| begin_snapshot_with(self, g, format));
        self.spawn_snapshot_writer(
            "ferrodis-bgsave",
            move |server| server.save_snapshot(&snap).map(drop),
            |server, ok, took| {
                if ok {
                    tracing::info!("Background saving terminated with success");
                } else {
                    tracing::warn!("Background saving error");
                }
                server.persist.end_bgsave(ok, took);
            },
        )
        .map(|()| tracing::info!("Background saving started"))
        .map_err(|e| format!("ERR Can't start the background save: {e}"))
    }

    /// Runs `write` (writing a begun snapshot) on a low-priority thread named `name`, then
    /// `done(server, ok, duration)`; a failed write first drops what is left of the snapshot.
    /// When the thread cannot start, the snapshot is dropped, `done` runs at once and the
    /// error is returned.
    pub(crate) fn spawn_snapshot_writer(
        self: &Arc<Server>,
        name: &str,
        write: impl FnOnce(&Server) -> Result<(), String> + Send + 'static,
        done: impl Fn(&Server, bool, std::time::Duration) + Send + Sync + 'static,
    ) -> Result<(), std::io::Error> {
        let done = Arc::new(done);
        let on_thread = done.clone();
        let server = self.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                super::background_priority();
                let start = Instant::now();
                let result = write(&server);
                if let Err(e) = &result {
                    server.keyspace.end_snapshot();
                    tracing::warn!("{e}");
                }
                on_thread(&server, result.is_ok(), start.elapsed());
            });
        spawned.map(drop).inspect_err(|_| {
            self.keyspace.end_snapshot();
            done(self, false, std::time::Duration::ZERO);
        })
    }

    /// Writes a begun snapshot to the RDB file (the BGSAVE thread).
    fn save_snapshot(&self, snap: &Snapshot) -> Result<SaveReport, String> {
        let path = self.rdb_path();
        let report = write_file_atomically(&path, |tmp| {
            let file = File::create(tmp)?;
            let mut w = RdbWriter::new(
                BufWriter::with_capacity(1 << 20, file),
                self.rdb_save_options(),
            );
            write_aux(self, &mut w, snap.now, false)?;
            let keys = walk_snapshot(self, &mut |b| w.raw(b), snap)?;
            let bytes = w.len() + 8;
            let out = w.finish()?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(SaveReport { keys, bytes })
        })
        .map_err(|e| {
            tracing::warn!("Failed saving the DB: {e}");
            e.to_string()
        })?;
        self.persist.saved(snap.dirty);
        self.lastsave_unix_secs
            .store(unix_ms() / 1000, Ordering::Relaxed);
        tracing::info!("DB saved on disk");
        Ok(report)
    }

    /// Runs `f` under every shard lock: `guard` when it holds them all (a command inside EXEC),
    /// else a fresh lock of every shard (the caller holds none).
    pub(crate) fn with_all_locked<R>(
        &self,
        guard: Option<&mut Guard<'_>>,
        f: impl FnOnce(&mut Guard<'_>) -> R,
    ) -> R {
        match guard {
            Some(g) if g.holds_all() => f(g),
            _ => {
                let mut g = self.keyspace.lock_all(Now::system());
                f(&mut g)
            }
        }
    }

    /// The save rules' part of the cron: starts a BGSAVE when a `save <seconds> <changes>`
    /// rule is met (Redis `serverCron`), or when one was scheduled. A failed BGSAVE is retried
    /// after [`super::BGSAVE_RETRY_DELAY_SECS`].
    pub fn save_cron(self: &Arc<Server>) {
        let info = self.persist.info();
        if info.bgsave_in_progress || self.aof.rewrite_in_progress() {
            return;
        }
        if info.bgsave_scheduled {
            self.persist
                .bgsave_scheduled
                .store(false, Ordering::Relaxed);
            let _ = self.bgsave(None);
            return;
        }
        let rules = self.with_config(|c| c.save_params());
        if rules.is_empty() {
            return;
        }
        let now_secs = unix_ms() / 1000;
        let changes = self.persist.changes_since_save(self.keyspace.dirty());
        let since_save = now_secs.saturating_sub(self.lastsave_unix_secs.load(Ordering::Relaxed));
        let since_try =
            now_secs.saturating_sub(self.persist.last_bgsave_try_secs.load(Ordering::Relaxed));
        let retry_ok =
            !self.persist.last_bgsave_failed() || since_try > super::BGSAVE_RETRY_DELAY_SECS;
        if let Some((secs, min_changes)) = rules
            .iter()
            .find(|(secs, min)| changes >= *min && since_save >= *secs)
        {
            if retry_ok {
                tracing::info!("{min_changes} changes in {secs} seconds. Saving...");
                let _ = self.bgsave(None);
            }
        }
    }

    /// Loads the RDB file at start when it exists (a missing file is an empty start). Errors:
    /// the file cannot be read or is invalid; the message names the offset.
    pub fn load_rdb_at_start(&self) -> Result<Option<LoadReport>, String> {
        let path = self.rdb_path();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("Can't open the RDB file {}: {e}", path.display())),
        };
        let start = Instant::now();
        let report = self
            .load_rdb_from(BufReader::with_capacity(1 << 20, file))
            .map_err(|e| format!("Error loading the RDB file {}: {e}", path.display()))?;
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            report.loaded,
            report.expired
        );
        tracing::info!(
            "DB loaded from disk: {:.3} seconds",
            start.elapsed().as_secs_f64()
        );
        Ok(Some(report))
    }

    /// Loads an RDB stream into the keyspace (keys must not exist yet) and records the counts
    /// for INFO.
    pub fn load_rdb_from(&self, r: impl io::Read) -> Result<LoadReport, rdb::RdbError> {
        let mut loader = KeyspaceLoader::new(self);
        let summary = rdb::load(r, self.encoding_limits(), &mut loader)?;
        let mut report = loader.report;
        report.version = summary.version;
        self.persist.loaded(report.loaded, report.expired);
        Ok(report)
    }
}

/// Feeds loaded keys into the keyspace.
pub(crate) struct KeyspaceLoader<'a> {
    server: &'a Server,
    now: Now,
    report: LoadReport,
}

impl<'a> KeyspaceLoader<'a> {
    /// A loader adding keys to `server`'s keyspace, skipping those already expired.
    pub(crate) fn new(server: &'a Server) -> KeyspaceLoader<'a> {
        KeyspaceLoader {
            server,
            now: Now::system(),
            report: LoadReport::default(),
        }
    }
}

impl Loader for KeyspaceLoader<'_> {
    fn aux(&mut self, name: &[u8], value: &[u8]) {
        tracing::debug!(
            "RDB aux field {}: {}",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(value)
        );
    }

    fn function(&mut self, _code: &[u8]) {
        tracing::warn!("The RDB holds a function library; Ferrodis has no scripting yet: skipped");
    }

    fn key(&mut self, k: LoadedKey) -> Result<(), String> {
        let ks = &self.server.keyspace;
        if k.db >= ks.databases() {
            return Err(format!(
                "Data file was created with a Redis server configured to handle more than {} \
                 databases",
                ks.databases()
            ));
        }
        if k.expire_ms.is_some_and(|at| at <= self.now.ms) {
            self.report.expired += 1;
            return Ok(());
        }
        let mut g = ks.lock_keys([&k.key[..]], self.now);
        let added = g
            .restore(
                k.db,
                &k.key,
                k.value,
                k.expire_ms,
                (k.idle_secs, k.freq),
                false,
            )
            .map_err(|e| e.to_string())?;
        if !added {
            return Err(format!(
                "duplicate key '{}' in db {}",
                String::from_utf8_lossy(&k.key),
                k.db
            ));
        }
        self.report.loaded += 1;
        Ok(())
    }
}

/// Writes the whole keyspace to `path` through a temporary file (see the module docs).
fn write_rdb_file(server: &Server, guard: &mut Guard<'_>, path: &Path) -> io::Result<SaveReport> {
    write_file_atomically(path, |tmp| write_rdb_to(server, guard, tmp))
}

/// Runs `write` on a fresh temporary file next to `path` (which `write` must fsync), then
/// renames it over `path` and fsyncs the directory; on error the temporary file is removed and
/// `path` is untouched.
pub(crate) fn write_file_atomically<T>(
    path: &Path,
    write: impl FnOnce(&Path) -> io::Result<T>,
) -> io::Result<T> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let tmp = dir.join(format!(
        "temp-{}-{}.rdb",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write(&tmp).and_then(|out| {
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(out)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_rdb_to(server: &Server, guard: &mut Guard<'_>, tmp: &Path) -> io::Result<SaveReport> {
    let file = File::create(tmp)?;
    let mut w = RdbWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        server.rdb_save_options(),
    );
    write_rdb_body(server, guard, &mut w, false)?;
    let bytes = w.len() + 8;
    let keys = server.persist.save_progress[0].load(Ordering::Relaxed);
    let out = w.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(SaveReport { keys, bytes })
}

/// What the RDB records besides a key's value, under the current `maxmemory-policy`: its
/// expire, and its idle time (LRU policies) or LFU counter (LFU policies), as Redis'
/// `rdbSaveKeyValuePair` does.
#[derive(Clone, Copy)]
struct MetaRule {
    save_lru: bool,
    save_lfu: bool,
    access: ferrodis_keyspace::evict::AccessPolicy,
    now: Now,
}

impl MetaRule {
    fn of(server: &Server, now: Now) -> MetaRule {
        let policy = Policy::from_u8(server.hot.maxmemory_policy.load(Ordering::Relaxed));
        MetaRule {
            save_lru: policy.is_lru(),
            save_lfu: policy.is_lfu(),
            access: server.access_policy(),
            now,
        }
    }

    fn meta(&self, e: &EntryRef<'_>) -> KeyMeta {
        let (idle_secs, freq) = if self.save_lru || self.save_lfu {
            self.access.saved(e.lru(), self.now)
        } else {
            (None, None)
        };
        KeyMeta {
            expire_ms: e.expire_ms(),
            idle_secs: idle_secs.filter(|_| self.save_lru),
            freq: freq.filter(|_| self.save_lfu),
        }
    }
}

/// How a snapshot encodes keys: as RDB items (BGSAVE, an RDB-preamble AOF base) or as the
/// commands that rebuild them (an AOF base with `aof-use-rdb-preamble no`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum SnapFormat {
    /// RDB items (`rdbcompression` when `compress`).
    Rdb {
        /// LZF-compress long strings.
        compress: bool,
    },
    /// RESP commands.
    Commands,
}

impl SnapFormat {
    fn select(self, out: &mut Vec<u8>, db: usize) {
        match self {
            SnapFormat::Rdb { .. } => put_select_db(out, db),
            SnapFormat::Commands => aof_rewrite::put_select(out, db),
        }
    }

    fn key(self, out: &mut Vec<u8>, key: &[u8], e: &EntryRef<'_>, rule: &MetaRule) {
        match self {
            SnapFormat::Rdb { compress } => put_key(out, key, &e.value(), rule.meta(e), compress),
            SnapFormat::Commands => aof_rewrite::put_key(out, key, &e.value(), e.expire_ms()),
        }
    }
}

/// The copy-on-write side of a snapshot: buckets written while the snapshot runs are encoded
/// here (under their shard lock) and appended to the file by the snapshot thread.
pub(crate) struct PendingSink {
    pending: parking_lot::Mutex<Vec<u8>>,
    keys: AtomicU64,
    format: SnapFormat,
    rule: MetaRule,
}

impl SnapshotSink for PendingSink {
    fn save_entries(&self, db: usize, entries: &mut dyn Iterator<Item = (&[u8], EntryRef<'_>)>) {
        let mut out = self.pending.lock();
        let before = out.len();
        self.format.select(&mut out, db);
        let mut n = 0;
        for (k, e) in entries {
            self.format.key(&mut out, k, &e, &self.rule);
            n += 1;
        }
        if n == 0 {
            out.truncate(before);
        }
        self.keys.fetch_add(n, Ordering::Relaxed);
    }
}

/// Keys the snapshot walker encodes per shard lock hold.
const SNAPSHOT_STEP_KEYS: usize = 256;

/// A point-in-time snapshot begun by BGSAVE or BGREWRITEAOF, handed to the thread that writes
/// it.
pub(crate) struct Snapshot {
    sink: Arc<PendingSink>,
    epoch: u64,
    /// The change count it covers.
    pub(crate) dirty: u64,
    /// When it was taken.
    pub(crate) now: Now,
}

/// Begins a snapshot through `guard`, which holds every shard (the moment Redis forks).
pub(crate) fn begin_snapshot_with(
    server: &Server,
    guard: &mut Guard<'_>,
    format: SnapFormat,
) -> Snapshot {
    let now = Now::system();
    let rule = MetaRule::of(server, now);
    let sink = Arc::new(PendingSink {
        pending: parking_lot::Mutex::new(Vec::new()),
        keys: AtomicU64::new(0),
        format,
        rule,
    });
    let total: usize = guard
        .db_info_at(now.ms)
        .unwrap_or_default()
        .iter()
        .map(|d| d.keys)
        .sum();
    server.persist.save_progress[0].store(0, Ordering::Relaxed);
    server.persist.save_progress[1].store(total as u64, Ordering::Relaxed);
    let (epoch, dirty) = guard
        .begin_snapshot(sink.clone())
        .unwrap_or((0, guard.dirty().unwrap_or(0)));
    Snapshot {
        sink,
        epoch,
        dirty,
        now,
    }
}

/// Writes a begun snapshot's keys through `emit`, shard by shard, holding one shard lock at a
/// time and only while encoding a few hundred keys; the buckets writers recorded meanwhile are
/// emitted between steps. Returns the keys written.
pub(crate) fn walk_snapshot(
    server: &Server,
    emit: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    snap: &Snapshot,
) -> io::Result<u64> {
    let sink = &snap.sink;
    let (format, rule) = (sink.format, sink.rule);
    let mut chunk = Vec::with_capacity(64 * 1024);
    let mut walked = 0u64;
    for shard in 0..SHARD_COUNT {
        loop {
            let mut cur_db = None;
            let more = server.keyspace.snapshot_step(
                shard,
                snap.epoch,
                SNAPSHOT_STEP_KEYS,
                &mut |db, k, e| {
                    if cur_db != Some(db) {
                        format.select(&mut chunk, db);
                        cur_db = Some(db);
                    }
                    format.key(&mut chunk, k, &e, &rule);
                    walked += 1;
                },
            );
            emit(&chunk)?;
            chunk.clear();
            let pending = std::mem::take(&mut *sink.pending.lock());
            emit(&pending)?;
            server.persist.save_progress[0].store(
                walked + sink.keys.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
            if !more {
                break;
            }
        }
    }
    // Every table's snapshot state has ended (the walker passed each one's last bucket); what
    // writers recorded since the last drain is still pending.
    let pending = std::mem::take(&mut *sink.pending.lock());
    emit(&pending)?;
    Ok(walked + sink.keys.load(Ordering::Relaxed))
}

/// The aux fields Redis 7.0 writes first (`aof-base` 1 in an AOF base).
pub(crate) fn write_aux<W: io::Write>(
    server: &Server,
    w: &mut RdbWriter<W>,
    now: Now,
    aof_base: bool,
) -> io::Result<()> {
    w.aux("redis-ver", REDIS_COMPAT_VERSION.as_bytes())?;
    w.aux("redis-bits", b"64")?;
    w.aux("ctime", (now.ms / 1000).to_string().as_bytes())?;
    w.aux("used-mem", server.used_memory().to_string().as_bytes())?;
    w.aux("aof-base", if aof_base { b"1" } else { b"0" })
}

/// Writes every key held by `guard` (every shard) as commands (an AOF base without an RDB
/// preamble).
pub(crate) fn write_commands_body<W: io::Write>(
    guard: &mut Guard<'_>,
    out: &mut W,
) -> io::Result<()> {
    let dbs = guard.keyspace().databases();
    let mut chunk = Vec::with_capacity(64 * 1024);
    for db in 0..dbs {
        let mut selected = false;
        for shard in 0..SHARD_COUNT {
            guard
                .visit_shard_db(shard, db, |key, e| {
                    if !selected {
                        aof_rewrite::put_select(&mut chunk, db);
                        selected = true;
                    }
                    aof_rewrite::put_key(&mut chunk, key, &e.value(), e.expire_ms());
                })
                .map_err(|e| io::Error::other(e.to_string()))?;
            out.write_all(&chunk)?;
            chunk.clear();
        }
    }
    Ok(())
}

/// Writes aux fields and every db (Redis `rdbSaveRio` without the header and the footer).
pub(crate) fn write_rdb_body<W: io::Write>(
    server: &Server,
    guard: &mut Guard<'_>,
    w: &mut RdbWriter<W>,
    aof_base: bool,
) -> io::Result<()> {
    let now = guard.now();
    write_aux(server, w, now, aof_base)?;
    let rule = MetaRule::of(server, now);
    let info = match guard.db_info_at(now.ms) {
        Some(i) => i,
        None => server.keyspace.db_info_at(now.ms),
    };
    let total: usize = info.iter().map(|d| d.keys).sum();
    server.persist.save_progress[0].store(0, Ordering::Relaxed);
    server.persist.save_progress[1].store(total as u64, Ordering::Relaxed);
    let mut written = 0u64;
    for (db, d) in info.iter().enumerate() {
        if d.keys == 0 {
            continue;
        }
        w.select_db(db, d.keys, d.expires)?;
        for shard in 0..SHARD_COUNT {
            let mut err = None;
            guard
                .visit_shard_db(shard, db, |key, e| {
                    if err.is_some() {
                        return;
                    }
                    if let Err(x) = w.key(key, &e.value(), rule.meta(&e)) {
                        err = Some(x);
                    }
                    written += 1;
                })
                .map_err(|e| io::Error::other(e.to_string()))?;
            if let Some(e) = err {
                return Err(e);
            }
            server.persist.save_progress[0].store(written, Ordering::Relaxed);
        }
    }
    Ok(())
}

impl super::Persistence {
    /// Marks a BGSAVE as started; `Err` when one already runs.
    fn begin_bgsave(&self) -> Result<(), ()> {
        if self
            .bgsave_in_progress
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Err(());
        }
        *self.bgsave_started.lock() = Some(Instant::now());
        self.last_bgsave_try_secs
            .store(unix_ms() / 1000, Ordering::Relaxed);
        Ok(())
    }

    fn end_bgsave(&self, ok: bool, took: std::time::Duration) {
        self.last_bgsave_ok.store(ok, Ordering::Relaxed);
        self.last_bgsave_secs
            .store(took.as_secs() as i64, Ordering::Relaxed);
        *self.bgsave_started.lock() = None;
        self.bgsave_in_progress.store(false, Ordering::Release);
    }

    /// Asks for a BGSAVE as soon as the running one ends (BGSAVE SCHEDULE).
    pub fn schedule_bgsave(&self) {
        self.bgsave_scheduled.store(true, Ordering::Relaxed);
    }

    fn saved(&self, dirty: u64) {
        self.dirty_at_last_save.store(dirty, Ordering::Relaxed);
        self.rdb_saves.fetch_add(1, Ordering::Relaxed);
        self.last_bgsave_ok.store(true, Ordering::Relaxed);
    }

    fn loaded(&self, keys: u64, expired: u64) {
        self.last_load[0].store(keys, Ordering::Relaxed);
        self.last_load[1].store(expired, Ordering::Relaxed);
    }
}
