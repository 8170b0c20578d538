//! The append-only file: Redis 7's multi-part AOF in `appenddirname` (a base, incremental
//! files and a manifest, see `ferrodis_persistence::aof`).
//!
//! # Writing
//!
//! Every write command that changed the data is propagated by dispatch as the commands that
//! replay it ([`crate::command::Propagate`]) while the command still holds its shard locks, and
//! [`Aof::feed`] appends them to a buffer (with `SELECT` when the db changes, `MULTI`/`EXEC`
//! around several commands, `#TS:` lines with `aof-timestamp-enabled`). So the buffer's order is
//! the order writes applied in for any two commands that touched the same key.
//!
//! The buffer reaches the incr file before the writing client gets its reply: a connection
//! calls [`Aof::ensure_durable`] with the offset its last write reached before it writes
//! replies (Redis writes the AOF buffer in `beforeSleep`, before replies). With `appendfsync
//! always` that call also fsyncs, one fsync covering every client waiting (group commit); with
//! `everysec` a background thread writes and fsyncs once a second through its own file handle,
//! so no client waits on a disk flush; with `no` the kernel decides.
//!
//! # Rewriting
//!
//! BGREWRITEAOF begins a point-in-time snapshot of the keyspace and switches writes to a new
//! incr file at the same instant, under every shard lock, then writes the snapshot as the new
//! base on a thread (RDB with `aof-use-rdb-preamble yes`, else commands). When the base is
//! complete it is renamed into place and the manifest is replaced: the old base and incrs become
//! history and are deleted. Every step leaves a manifest that loads to the right data.
//!
//! # Loading
//!
//! At start, with `appendonly yes`, the files the manifest lists are replayed in order through a
//! client of the server (a legacy single-file `appendfilename` in `dir` is loaded and moved into
//! `appenddirname`). A truncated last file is cut at its last whole command with
//! `aof-load-truncated yes`; anything else malformed stops the start with the file and offset.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrodis_keyspace::clock::unix_ms;
use ferrodis_keyspace::{Guard, Now};
use ferrodis_persistence::aof::{
    encode_command, AofFileType, CommandReader, Manifest, StreamError,
};
use ferrodis_persistence::rdb::{self, Decoder, RdbWriter};
use parking_lot::Mutex;

use super::rdb::{begin_snapshot_with, walk_snapshot, write_aux, SnapFormat, Snapshot};
use crate::client::{Client, ClientKind};
use crate::server::Server;

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Never fsync; the kernel flushes when it likes.
    No = 0,
    /// fsync once a second on a background thread.
    EverySec = 1,
    /// fsync before replying to the writing client.
    Always = 2,
}

impl FsyncPolicy {
    /// From the directive's value.
    pub fn parse(s: &str) -> FsyncPolicy {
        match s {
            "always" => FsyncPolicy::Always,
            "no" => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }

    fn from_u8(v: u8) -> FsyncPolicy {
        match v {
            0 => FsyncPolicy::No,
            2 => FsyncPolicy::Always,
            _ => FsyncPolicy::EverySec,
        }
    }
}

/// Commands fed but not yet written.
#[derive(Default)]
struct FeedBuf {
    data: Vec<u8>,
    /// The db the log's last SELECT chose.
    db: Option<usize>,
    /// Unix seconds of the last `#TS:` annotation.
    last_ts: u64,
    /// Bytes ever fed.
    total: u64,
}

/// The open incr file and the manifest.
struct AofIo {
    file: Option<File>,
    /// A second handle on the incr file for the fsync thread.
    sync_file: Option<Arc<File>>,
    manifest: Manifest,
    incr_size: u64,
    base_size: u64,
    /// `aof_current_size` right after the last rewrite (auto-aof-rewrite-percentage's base).
    rewrite_base_size: u64,
}

/// The AOF state of a server (see the module docs).
pub struct Aof {
    on: AtomicBool,
    fsync: AtomicU8,
    buf: Mutex<FeedBuf>,
    io: Mutex<AofIo>,
    written: AtomicU64,
    synced: AtomicU64,
    sync_lock: Mutex<()>,
    fsync_thread: AtomicBool,
    rewrite_in_progress: AtomicBool,
    rewrite_scheduled: AtomicBool,
    rewrite_started: Mutex<Option<Instant>>,
    last_rewrite_secs: AtomicI64,
    last_rewrite_ok: AtomicBool,
    rewrites: AtomicU64,
    consecutive_failures: AtomicU64,
    last_write_ok: AtomicBool,
    /// The error of the last failed write, for MISCONF.
    last_write_error: Mutex<String>,
    /// A legacy single-file AOF was loaded and is moved into the directory at start.
    legacy_loaded: AtomicBool,
}

impl std::fmt::Debug for Aof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aof")
            .field("on", &self.is_on())
            .field("written", &self.written.load(Ordering::Relaxed))
            .finish()
    }
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            on: AtomicBool::new(false),
            fsync: AtomicU8::new(FsyncPolicy::EverySec as u8),
            buf: Mutex::new(FeedBuf::default()),
            io: Mutex::new(AofIo {
                file: None,
                sync_file: None,
                manifest: Manifest::default(),
                incr_size: 0,
                base_size: 0,
                rewrite_base_size: 0,
            }),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            sync_lock: Mutex::new(()),
            fsync_thread: AtomicBool::new(false),
            rewrite_in_progress: AtomicBool::new(false),
            rewrite_scheduled: AtomicBool::new(false),
            rewrite_started: Mutex::new(None),
            last_rewrite_secs: AtomicI64::new(-1),
            last_rewrite_ok: AtomicBool::new(true),
            rewrites: AtomicU64::new(0),
            consecutive_failures: AtomicU64::new(0),
            last_write_ok: AtomicBool::new(true),
            last_write_error: Mutex::new(String::new()),
            legacy_loaded: AtomicBool::new(false),
        }
    }
}

/// INFO persistence's `aof_*` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AofStatus {
    /// `aof_enabled`.
    pub enabled: bool,
    /// `aof_rewrite_in_progress`.
    pub rewrite_in_progress: bool,
    /// `aof_rewrite_scheduled`.
    pub rewrite_scheduled: bool,
    /// `aof_last_rewrite_time_sec`.
    pub last_rewrite_secs: i64,
    /// `aof_current_rewrite_time_sec`.
    pub current_rewrite_secs: i64,
    /// `aof_last_bgrewrite_status` is ok.
    pub last_rewrite_ok: bool,
    /// `aof_rewrites`.
    pub rewrites: u64,
    /// `aof_rewrites_consecutive_failures`.
    pub consecutive_failures: u64,
    /// `aof_last_write_status` is ok.
    pub last_write_ok: bool,
    /// `aof_current_size`, bytes.
    pub current_size: u64,
    /// `aof_base_size`, bytes.
    pub base_size: u64,
    /// `aof_buffer_length`, bytes.
    pub buffer_length: u64,
}

impl Aof {
    /// Whether commands are being logged.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Sets `appendfsync`.
    pub fn set_fsync(&self, p: FsyncPolicy) {
        self.fsync.store(p as u8, Ordering::Relaxed);
    }

    fn fsync_policy(&self) -> FsyncPolicy {
        FsyncPolicy::from_u8(self.fsync.load(Ordering::Relaxed))
    }

    /// The last AOF write's error while it is unresolved (writes are then refused with
    /// `MISCONF Errors writing to the AOF file: <error>`, as Redis does).
    pub fn write_error(&self) -> Option<String> {
        if self.last_write_ok.load(Ordering::Relaxed) || !self.is_on() {
            return None;
        }
        Some(self.last_write_error.lock().clone())
    }

    /// Whether the last write to the AOF file succeeded (one atomic load, on every command).
    pub fn last_write_ok(&self) -> bool {
        self.last_write_ok.load(Ordering::Relaxed)
    }

    /// Whether a rewrite is running.
    pub fn rewrite_in_progress(&self) -> bool {
        self.rewrite_in_progress.load(Ordering::Relaxed)
    }

    /// Appends `cmds` (each with the db it runs in) to the log and returns the log offset
    /// they reach. Several commands are wrapped in `MULTI`/`EXEC` so a replay applies them
    /// together or not at all. Callers hold the shard locks of the keys involved.
    pub fn feed(&self, cmds: &[(usize, Vec<Bytes>)], timestamps: bool) -> u64 {
        let mut b = self.buf.lock();
        let before = b.data.len();
        if timestamps {
            let now = unix_ms() / 1000;
            if now != b.last_ts {
                b.last_ts = now;
                let line = format!("#TS:{now}\r\n");
                b.data.extend_from_slice(line.as_bytes());
            }
        }
        let wrap = cmds.len() > 1;
        for (i, (db, argv)) in cmds.iter().enumerate() {
            if b.db != Some(*db) {
                let mut n = itoa::Buffer::new();
                encode_command(&mut b.data, &[b"SELECT", n.format(*db).as_bytes()]);
                b.db = Some(*db);
            }
            if wrap && i == 0 {
                encode_command(&mut b.data, &[b"MULTI"]);
            }
            let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
            encode_command(&mut b.data, &args);
        }
        if wrap {
            encode_command(&mut b.data, &[b"EXEC"]);
        }
        let added = (b.data.len() - before) as u64;
        b.total += added;
        b.total
    }

    /// Writes the buffer to the incr file (not synced). Errors are logged and the data kept
    /// for the next try.
    fn write_out(&self) -> io::Result<()> {
        let mut io = self.io.lock();
        let (data, total) = {
            let mut b = self.buf.lock();
            (std::mem::take(&mut b.data), b.total)
        };
        if data.is_empty() {
            return Ok(());
        }
        let Some(file) = io.file.as_mut() else {
            self.put_back(data);
            return Ok(());
        };
        match file.write_all(&data) {
            Ok(()) => {
                io.incr_size += data.len() as u64;
                self.written.store(total, Ordering::Release);
                if !self.last_write_ok.swap(true, Ordering::Relaxed) {
                    tracing::warn!("AOF write error looks solved, Ferrodis can write again.");
                }
                Ok(())
            }
            Err(e) => {
                *self.last_write_error.lock() = io_error_text(&e);
                if self.last_write_ok.swap(false, Ordering::Relaxed) {
                    tracing::warn!("Error writing to the AOF file: {e}");
                }
                self.put_back(data);
                Err(e)
            }
        }
    }

    /// Puts unwritten bytes back in front of the buffer.
    fn put_back(&self, mut data: Vec<u8>) {
        let mut b = self.buf.lock();
        data.extend_from_slice(&b.data);
        b.data = data;
    }

    /// Makes the log durable up to `upto` (an offset [`Aof::feed`] returned) as `appendfsync`
    /// promises, before a reply goes out: written to the file, and with `always` fsynced.
    pub fn ensure_durable(&self, upto: u64) {
        if upto == 0 || !self.is_on() {
            return;
        }
        if self.written.load(Ordering::Acquire) < upto && self.write_out().is_err() {
            return;
        }
        if self.fsync_policy() == FsyncPolicy::Always && self.synced.load(Ordering::Acquire) < upto
        {
            self.sync_to(upto);
        }
    }

    /// fsyncs the incr file so that at least `upto` bytes of the log are on disk; one fsync
    /// serves every caller waiting meanwhile.
    fn sync_to(&self, upto: u64) {
        let _one = self.sync_lock.lock();
        if self.synced.load(Ordering::Acquire) >= upto {
            return;
        }
        let target = self.written.load(Ordering::Acquire);
        let file = self.io.lock().sync_file.clone();
        if let Some(f) = file {
            match f.sync_data() {
                Ok(()) => {
                    self.synced.fetch_max(target, Ordering::AcqRel);
                }
                Err(e) => tracing::warn!("Can't fsync the AOF file: {e}"),
            }
        }
    }

    /// The log offset fed so far.
    pub fn fed(&self) -> u64 {
        self.buf.lock().total
    }

    /// INFO persistence's AOF fields.
    pub fn status(&self) -> AofStatus {
        let io = self.io.lock();
        let buffer_length = self.buf.lock().data.len() as u64;
        AofStatus {
            enabled: self.is_on(),
            rewrite_in_progress: self.rewrite_in_progress(),
            rewrite_scheduled: self.rewrite_scheduled.load(Ordering::Relaxed),
            last_rewrite_secs: self.last_rewrite_secs.load(Ordering::Relaxed),
            current_rewrite_secs: self
                .rewrite_started
                .lock()
                .map_or(-1, |t| t.elapsed().as_secs() as i64),
            last_rewrite_ok: self.last_rewrite_ok.load(Ordering::Relaxed),
            rewrites: self.rewrites.load(Ordering::Relaxed),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            last_write_ok: self.last_write_ok.load(Ordering::Relaxed),
            current_size: io.base_size + io.incr_size,
            base_size: io.base_size,
            buffer_length,
        }
    }
}

/// The AOF directory and file names from the config.
struct AofPaths {
    dir: PathBuf,
    fname: String,
}

impl AofPaths {
    fn manifest(&self) -> PathBuf {
        self.dir.join(Manifest::manifest_name(&self.fname))
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Server {
    fn aof_paths(&self) -> AofPaths {
        self.with_config(|c| AofPaths {
            dir: PathBuf::from(c.get_str("appenddirname").unwrap_or_default()),
            fname: c.get_str("appendfilename").unwrap_or_default(),
        })
    }

    /// Whether `aof-timestamp-enabled` is on.
    pub fn aof_timestamps(&self) -> bool {
        self.hot.aof_timestamps.load(Ordering::Relaxed)
    }

    /// Loads the AOF at start (`appendonly yes`): the manifest's files in order, or a legacy
    /// single file. `Ok(false)` when there is no AOF. Errors name the file and offset.
    pub fn load_aof_at_start(&self) -> Result<bool, String> {
        let paths = self.aof_paths();
        let manifest_path = paths.manifest();
        let truncated_ok =
            self.with_config(|c| c.get_str("aof-load-truncated").as_deref() != Some("no"));
        let mut client = self
            .clients
            .register(ClientKind::Local, String::new(), String::new(), -1);
        client.replaying = true;
        let start = Instant::now();
        let files: Vec<PathBuf> = match fs::read_to_string(&manifest_path) {
            Ok(text) => {
                let m = Manifest::parse(&text)
                    .map_err(|e| format!("Bad AOF manifest {}: {e}", manifest_path.display()))?;
                m.base
                    .iter()
                    .chain(m.incrs.iter())
                    .map(|i| paths.file(&i.file_name))
                    .collect()
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let legacy = PathBuf::from(&paths.fname);
                if !legacy.is_file() {
                    return Ok(false);
                }
                self.aof.legacy_loaded.store(true, Ordering::Relaxed);
                vec![legacy]
            }
            Err(e) => {
                return Err(format!(
                    "Can't read the AOF manifest {}: {e}",
                    manifest_path.display()
                ))
            }
        };
        let mut commands = 0u64;
        let last = files.len().saturating_sub(1);
        for (i, path) in files.iter().enumerate() {
            commands += self.load_aof_file(&mut client, path, i == last && truncated_ok)?;
        }
        tracing::info!(
            "DB loaded from append only file: {:.3} seconds ({commands} commands)",
            start.elapsed().as_secs_f64()
        );
        Ok(true)
    }

    /// Replays one AOF file (an RDB base, a command stream, or an RDB preamble followed by
    /// commands). Returns the commands replayed.
    fn load_aof_file(
        &self,
        client: &mut Client,
        path: &Path,
        truncate_ok: bool,
    ) -> Result<u64, String> {
        let file = File::open(path).map_err(|e| {
            format!(
                "The AOF file {} doesn't exist or can't be opened: {e}",
                path.display()
            )
        })?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Ok(0);
        }
        let mut r = BufReader::with_capacity(1 << 20, file);
        let is_rdb = r
            .fill_buf()
            .map(|b| b.starts_with(b"REDIS"))
            .unwrap_or(false);
        if !is_rdb {
            let reader = CommandReader::new(r, 0);
            return self.replay(client, reader, path, truncate_ok);
        }
        let mut d = Decoder::new(r, self.encoding_limits());
        d.track_crc();
        let mut loader = super::rdb::KeyspaceLoader::new(self);
        rdb::read::load_from(&mut d, &mut loader).map_err(|e| {
            format!(
                "Error loading the RDB in the AOF file {}: {e}",
                path.display()
            )
        })?;
        let offset = d.offset();
        let rest = BufReader::new(d.into_rest());
        let reader = CommandReader::new(rest, offset);
        self.replay(client, reader, path, truncate_ok)
    }

    /// Runs every command of `reader` as `client`. A truncated end (when `truncate_ok`) or a
    /// transaction left open at the end is cut from the file; anything else stops the load.
    fn replay<R: BufRead>(
        &self,
        client: &mut Client,
        mut reader: CommandReader<R>,
        path: &Path,
        truncate_ok: bool,
    ) -> Result<u64, String> {
        let mut count = 0u64;
        let mut multi_start: Option<u64> = None;
        let cut_at = loop {
            let before = reader.valid_up_to();
            match reader.next_command() {
                Ok(Some(args)) => {
                    let Some(name) = args.first() else { continue };
                    if self.commands.lookup(name).is_none() {
                        return Err(format!(
                            "Unknown command '{}' reading the append only file {}",
                            String::from_utf8_lossy(name),
                            path.display()
                        ));
                    }
                    if name.eq_ignore_ascii_case(b"multi") {
                        multi_start = Some(before);
                    } else if name.eq_ignore_ascii_case(b"exec") {
                        multi_start = None;
                    }
                    let _ = self.execute(client, &args);
                    count += 1;
                }
                Ok(None) => match multi_start {
                    None => break None,
                    Some(at) => {
                        if !truncate_ok {
                            return Err(format!(
                                "Unexpected end of file reading the append only file {}: a \
                                 MULTI/EXEC transaction is not complete",
                                path.display()
                            ));
                        }
                        tracing::warn!("Revert incomplete MULTI/EXEC transaction in AOF file");
                        break Some(at);
                    }
                },
                Err(StreamError::Truncated { valid_up_to }) => {
                    if !truncate_ok {
                        return Err(format!(
                            "Unexpected end of file reading the append only file {} (offset \
                             {valid_up_to}). You can: 1) Make a backup of your AOF file, then use \
                             ferrodis-check-aof --fix <filename.manifest>. 2) Alternatively you \
                             can set the 'aof-load-truncated' configuration option to yes and \
                             restart the server.",
                            path.display()
                        ));
                    }
                    tracing::warn!(
                        "!!! Warning: short read while loading the AOF file {}!!!",
                        path.display()
                    );
                    break Some(multi_start.unwrap_or(valid_up_to));
                }
                Err(StreamError::Corrupt { offset, reason }) => {
                    return Err(format!(
                        "Bad file format reading the append only file {} at offset {offset}: \
                         {reason}. Make a backup of your AOF file, then use ferrodis-check-aof \
                         --fix <filename.manifest>",
                        path.display()
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "Error reading the append only file {}: {e}",
                        path.display()
                    ))
                }
            }
        };
        if client.tx.in_multi() {
            let _ = self.execute(client, &[Bytes::from_static(b"DISCARD")]);
        }
        if let Some(at) = cut_at {
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| format!("Can't open {} to cut it: {e}", path.display()))?;
            f.set_len(at)
                .and_then(|()| f.sync_all())
                .map_err(|e| format!("Can't truncate {}: {e}", path.display()))?;
            tracing::warn!(
                "AOF {} loaded anyway because aof-load-truncated is enabled; cut to {at} bytes",
                path.display()
            );
        }
        Ok(count)
    }

    /// Starts logging (at start after loading, or CONFIG SET appendonly yes): opens the last
    /// incr of an existing AOF, moves a loaded legacy file into the directory, or, with no AOF
    /// yet, writes a base of the current data and a first incr. Also starts the fsync thread.
    pub fn start_aof(self: &Arc<Server>) -> Result<(), String> {
        let paths = self.prepare_aof_dir()?;
        let manifest_path = paths.manifest();
        let existing = match fs::read_to_string(&manifest_path) {
            Ok(text) => Some(Manifest::parse(&text).map_err(|e| e.to_string())?),
            Err(_) => None,
        };
        if let Some(mut m) = existing {
            if m.incrs.is_empty() {
                m.new_incr(&paths.fname);
                write_manifest(&paths, &m).map_err(|e| e.to_string())?;
            }
            self.open_incr(&paths, m)?;
        } else if self.aof.legacy_loaded.load(Ordering::Relaxed) {
            // Redis 7's upgrade: the legacy file becomes the base of a new directory.
            let mut m = Manifest::default();
            fs::rename(&paths.fname, paths.file(&paths.fname))
                .map_err(|e| format!("Can't move the legacy AOF into place: {e}"))?;
            m.base = Some(ferrodis_persistence::aof::AofInfo {
                file_name: paths.fname.clone(),
                file_seq: 1,
                file_type: AofFileType::Base,
            });
            m.curr_base_file_seq = 1;
            m.new_incr(&paths.fname);
            write_manifest(&paths, &m).map_err(|e| e.to_string())?;
            self.open_incr(&paths, m)?;
            tracing::info!("Successfully migrated an old-style AOF into the AOF directory");
        } else {
            // No AOF yet: a base of the current data (under every lock, as nothing else may
            // write meanwhile), then an empty incr.
            let mut guard = self.keyspace.lock_all(Now::system());
            let mut m = Manifest::default();
            let preamble = self.aof_rdb_preamble();
            let base = m.new_base(&paths.fname, preamble).file_name.clone();
            self.write_base_now(&paths.file(&base), &mut guard, preamble)
                .map_err(|e| format!("Can't write the AOF base: {e}"))?;
            m.new_incr(&paths.fname);
            write_manifest(&paths, &m).map_err(|e| e.to_string())?;
            self.open_incr(&paths, m)?;
            drop(guard);
            tracing::info!("Creating AOF base file {base} on server start");
        }
        self.aof.on.store(true, Ordering::Release);
        self.start_fsync_thread();
        Ok(())
    }

    /// CONFIG SET appendonly yes (Redis `startAppendOnly`): logging starts into memory at once
    /// and a background rewrite creates the base and the incr the log continues in (whatever
    /// was logged before the rewrite's snapshot is in the base and dropped from memory).
    pub fn enable_aof_at_runtime(self: &Arc<Server>) -> Result<(), String> {
        let paths = self.prepare_aof_dir()?;
        {
            let mut io = self.aof.io.lock();
            // Files left by an earlier run are stale now: numbering goes on after them and
            // the rewrite turns them into history.
            if let Ok(text) = fs::read_to_string(paths.manifest()) {
                if let Ok(m) = Manifest::parse(&text) {
                    io.manifest = m;
                }
            }
            io.file = None;
            io.sync_file = None;
        }
        self.aof.buf.lock().db = None;
        self.aof.on.store(true, Ordering::Release);
        self.start_fsync_thread();
        if let Err(e) = self.bgrewriteaof(None) {
            self.aof.on.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(())
    }

    /// Creates `appenddirname` when missing and applies `appendfsync`; returns the paths.
    fn prepare_aof_dir(&self) -> Result<AofPaths, String> {
        let paths = self.aof_paths();
        fs::create_dir_all(&paths.dir).map_err(|e| {
            format!(
                "Can't create the append only file directory {}: {e}",
                paths.dir.display()
            )
        })?;
        self.aof.set_fsync(FsyncPolicy::parse(
            &self
                .with_config(|c| c.get_str("appendfsync"))
                .unwrap_or_default(),
        ));
        Ok(paths)
    }

    fn aof_rdb_preamble(&self) -> bool {
        self.with_config(|c| c.get_str("aof-use-rdb-preamble").as_deref() != Some("no"))
    }

    /// Opens the last incr `m` lists for appending and installs `m` as the current manifest
    /// (sizes from the files on disk).
    fn open_incr(&self, paths: &AofPaths, m: Manifest) -> Result<(), String> {
        let name = m
            .incrs
            .last()
            .map(|i| i.file_name.clone())
            .ok_or("the AOF manifest lists no incr file")?;
        let base_size = m
            .base
            .as_ref()
            .and_then(|b| fs::metadata(paths.file(&b.file_name)).ok())
            .map_or(0, |md| md.len());
        let path = paths.file(&name);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))?;
        let sync = file
            .try_clone()
            .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))?;
        let incr_size = file.metadata().map_or(0, |md| md.len());
        let mut io = self.aof.io.lock();
        io.file = Some(file);
        io.sync_file = Some(Arc::new(sync));
        io.manifest = m;
        io.incr_size = incr_size;
        io.base_size = base_size;
        io.rewrite_base_size = base_size + incr_size;
        Ok(())
    }

    /// Writes a base file of the whole keyspace held by `guard` (every shard): RDB with the
    /// `aof-base` aux field, or commands. Returns its size.
    fn write_base_now(
        &self,
        path: &Path,
        guard: &mut Guard<'_>,
        preamble: bool,
    ) -> io::Result<u64> {
        super::rdb::write_file_atomically(path, |tmp| {
            let file = File::create(tmp)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            if preamble {
                let mut w = RdbWriter::new(&mut out, self.rdb_save_options());
                super::rdb::write_rdb_body(self, guard, &mut w, true)?;
                w.finish()?;
            } else {
                super::rdb::write_commands_body(guard, &mut out)?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(file.metadata()?.len())
        })
    }

    /// Stops logging (CONFIG SET appendonly no): what is buffered is written and synced first.
    pub fn stop_aof(&self) {
        if !self.aof.on.swap(false, Ordering::AcqRel) {
            return;
        }
        let _ = self.aof.write_out();
        let mut io = self.aof.io.lock();
        if let Some(f) = io.file.take() {
            let _ = f.sync_all();
        }
        io.sync_file = None;
        self.aof.buf.lock().db = None;
    }

    /// Writes and syncs what is buffered (shutdown).
    pub fn flush_aof(&self) {
        if !self.aof.is_on() {
            return;
        }
        let _ = self.aof.write_out();
        let f = self.aof.io.lock().sync_file.clone();
        if let Some(f) = f {
            let _ = f.sync_data();
        }
    }

    fn start_fsync_thread(self: &Arc<Server>) {
        if self.aof.fsync_thread.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("ferrodis-aof-fsync".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(1));
                let Some(server) = weak.upgrade() else { return };
                let aof = &server.aof;
                if !aof.is_on() {
                    continue;
                }
                let _ = aof.write_out();
                if aof.fsync_policy() != FsyncPolicy::No {
                    let target = aof.written.load(Ordering::Acquire);
                    if aof.synced.load(Ordering::Acquire) < target {
                        aof.sync_to(target);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("Can't start the AOF fsync thread: {e}");
            self.aof.fsync_thread.store(false, Ordering::Release);
        }
    }

    /// BGREWRITEAOF: begins a snapshot and switches the log to a new incr file at once (under
    /// every shard lock: `guard` when the caller holds them all, e.g. inside EXEC; otherwise the
    /// caller must hold none), then writes the new base on a thread. `Ok(false)` when a BGSAVE
    /// runs: the rewrite is scheduled. Error: `ERR Background append only file rewriting
    /// already in progress`.
    pub fn bgrewriteaof(self: &Arc<Server>, guard: Option<&mut Guard<'_>>) -> Result<bool, String> {
        if self.aof.rewrite_in_progress() {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        if self.persist.bgsave_in_progress() {
            self.aof.rewrite_scheduled.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        if self
            .aof
            .rewrite_in_progress
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        self.aof.rewrite_scheduled.store(false, Ordering::Relaxed);
        *self.aof.rewrite_started.lock() = Some(Instant::now());
        let paths = self.aof_paths();
        let preamble = self.aof_rdb_preamble();
        let format = if preamble {
            SnapFormat::Rdb {
                compress: self.rdb_save_options().compression,
            }
        } else {
            SnapFormat::Commands
        };
        let begun = self.with_all_locked(guard, |g| {
            let snap = begin_snapshot_with(self, g, format);
            let switched = if self.aof.is_on() {
                self.switch_incr(&paths)
            } else {
                Ok(())
            };
            match switched {
                Ok(()) => Ok(snap),
                Err(e) => {
                    g.end_snapshot();
                    Err(e)
                }
            }
        });
        let snap = match begun {
            Ok(s) => s,
            Err(e) => {
                self.end_rewrite(false, Duration::ZERO);
                return Err(format!("ERR Can't open a new AOF file: {e}"));
            }
        };
        self.spawn_snapshot_writer(
            "ferrodis-aof-rewrite",
            move |server| server.finish_rewrite(&paths, &snap, preamble),
            |server, ok, took| {
                if ok {
                    tracing::info!("Background AOF rewrite finished successfully");
                } else {
                    tracing::warn!("Background AOF rewrite failed");
                }
                server.end_rewrite(ok, took);
            },
        )
        .map(|()| {
            tracing::info!("Background append only file rewriting started");
            true
        })
        .map_err(|e| format!("ERR Can't start the AOF rewrite: {e}"))
    }

    fn end_rewrite(&self, ok: bool, took: Duration) {
        let aof = &self.aof;
        aof.last_rewrite_ok.store(ok, Ordering::Relaxed);
        aof.last_rewrite_secs
            .store(took.as_secs() as i64, Ordering::Relaxed);
        if ok {
            aof.rewrites.fetch_add(1, Ordering::Relaxed);
            aof.consecutive_failures.store(0, Ordering::Relaxed);
        } else {
            aof.consecutive_failures.fetch_add(1, Ordering::Relaxed);
        }
        *aof.rewrite_started.lock() = None;
        aof.rewrite_in_progress.store(false, Ordering::Release);
    }

    /// Under every shard lock: writes what is buffered to the current incr, opens the next
    /// incr and records it in the manifest (so a crash during the rewrite still loads the old
    /// base and every incr).
    fn switch_incr(&self, paths: &AofPaths) -> io::Result<()> {
        self.aof.write_out()?;
        let mut io = self.aof.io.lock();
        if let Some(f) = io.file.as_ref() {
            f.sync_data()?;
        } else {
            // Nothing was ever written (AOF just turned on): the snapshot holds it all.
            let mut b = self.aof.buf.lock();
            b.data.clear();
        }
        let mut m = io.manifest.clone();
        let name = m.new_incr(&paths.fname).file_name.clone();
        let path = paths.file(&name);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let sync = file.try_clone()?;
        write_manifest(paths, &m)?;
        io.file = Some(file);
        io.sync_file = Some(Arc::new(sync));
        io.manifest = m;
        io.incr_size = 0;
        let written = self.aof.buf.lock().total;
        self.aof.written.store(written, Ordering::Release);
        self.aof.synced.fetch_max(written, Ordering::AcqRel);
        // The new file starts without a selected db.
        self.aof.buf.lock().db = None;
        Ok(())
    }

    /// The rewrite thread: writes the snapshot as the new base, then installs it in the
    /// manifest and deletes the files it replaces.
    fn finish_rewrite(
        &self,
        paths: &AofPaths,
        snap: &Snapshot,
        preamble: bool,
    ) -> Result<(), String> {
        fs::create_dir_all(&paths.dir).map_err(|e| e.to_string())?;
        let tmp = paths
            .dir
            .join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
        let size = (|| -> io::Result<u64> {
            let file = File::create(&tmp)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            if preamble {
                let mut w = RdbWriter::new(&mut out, self.rdb_save_options());
                write_aux(self, &mut w, snap.now, true)?;
                walk_snapshot(self, &mut |b| w.raw(b), snap)?;
                w.finish()?;
            } else {
                walk_snapshot(self, &mut |b| out.write_all(b), snap)?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            file.metadata().map(|m| m.len())
        })()
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            e.to_string()
        })?;
        let mut io = self.aof.io.lock();
        let mut m = io.manifest.clone();
        let base = m.new_base(&paths.fname, preamble).file_name.clone();
        fs::rename(&tmp, paths.file(&base)).map_err(|e| e.to_string())?;
        m.mark_rewritten(self.aof.is_on());
        write_manifest(paths, &m).map_err(|e| e.to_string())?;
        let keep_history =
            self.with_config(|c| c.get_str("aof-disable-auto-gc").as_deref() == Some("yes"));
        if !keep_history {
            for h in std::mem::take(&mut m.history) {
                let _ = fs::remove_file(paths.file(&h.file_name));
            }
            write_manifest(paths, &m).map_err(|e| e.to_string())?;
        }
        io.manifest = m;
        io.base_size = size;
        io.rewrite_base_size = size + io.incr_size;
        Ok(())
    }

    /// The AOF's part of the cron: a scheduled rewrite once no BGSAVE runs, and
    /// `auto-aof-rewrite-percentage` / `auto-aof-rewrite-min-size`.
    pub fn aof_cron(self: &Arc<Server>) {
        let aof = &self.aof;
        if aof.rewrite_in_progress() || self.persist.bgsave_in_progress() {
            return;
        }
        if aof.rewrite_scheduled.load(Ordering::Relaxed) {
            let _ = self.bgrewriteaof(None);
            return;
        }
        if !aof.is_on() {
            return;
        }
        let (pct, min) = self.with_config(|c| {
            (
                c.get_str("auto-aof-rewrite-percentage")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0),
                c.get_str("auto-aof-rewrite-min-size")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(64 << 20),
            )
        });
        if pct == 0 {
            return;
        }
        let (current, base) = {
            let io = aof.io.lock();
            (io.base_size + io.incr_size, io.rewrite_base_size.max(1))
        };
        if current > min && (current - base.min(current)) * 100 / base >= pct {
            tracing::info!(
                "Starting automatic rewriting of AOF on {}% growth",
                (current - base.min(current)) * 100 / base
            );
            let _ = self.bgrewriteaof(None);
        }
    }
}

/// Writes the manifest through a temporary file and a rename.
fn write_manifest(paths: &AofPaths, m: &Manifest) -> io::Result<()> {
    let path = paths.manifest();
    let tmp = paths
        .dir
        .join(format!("temp-{}.manifest", std::process::id()));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(m.to_text().as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, &path)?;
    if let Ok(d) = File::open(&paths.dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// An I/O error as C's `strerror` words it (`No space left on device`), without Rust's
/// ` (os error N)` suffix.
fn io_error_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}
