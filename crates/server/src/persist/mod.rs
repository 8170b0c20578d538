//! Persistence in the server: RDB snapshots (SAVE, BGSAVE, save rules, loading at start) and
//! their INFO state. The file formats live in the `ferrodis-persistence` crate; this module
//! decides when to save and load, where, and what a client sees meanwhile.
//!
//! # Layout
//!
//! - [`rdb`]: writing the keyspace to `dir`/`dbfilename` (foreground and background) and
//!   loading it at start.

pub mod aof;
pub mod rdb;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

/// RDB state shared by the SAVE/BGSAVE commands, the cron and INFO persistence.
#[derive(Debug)]
pub struct Persistence {
    /// [`ferrodis_keyspace::Keyspace::dirty`] covered by the last successful save (INFO
    /// `rdb_changes_since_last_save` is the difference).
    dirty_at_last_save: AtomicU64,
    /// A BGSAVE is running (INFO `rdb_bgsave_in_progress`).
    bgsave_in_progress: AtomicBool,
    /// When the running BGSAVE started.
    bgsave_started: Mutex<Option<Instant>>,
    /// A BGSAVE was asked for with SCHEDULE while another save ran.
    bgsave_scheduled: AtomicBool,
    /// The last BGSAVE (or SAVE) succeeded (INFO `rdb_last_bgsave_status`).
    last_bgsave_ok: AtomicBool,
    /// Seconds the last BGSAVE took, -1 before the first (INFO `rdb_last_bgsave_time_sec`).
    last_bgsave_secs: AtomicI64,
    /// Unix seconds of the last BGSAVE attempt (failed ones are retried only after
    /// [`BGSAVE_RETRY_DELAY_SECS`]).
    last_bgsave_try_secs: AtomicU64,
    /// Successful saves (INFO `rdb_saves`).
    rdb_saves: AtomicU64,
    /// Keys loaded and keys skipped as expired by the last load (INFO
    /// `rdb_last_load_keys_loaded`, `rdb_last_load_keys_expired`).
    last_load: [AtomicU64; 2],
    /// Keys written by the running save and the total it will write (INFO
    /// `current_save_keys_processed`, `current_save_keys_total`).
    save_progress: [AtomicU64; 2],
    /// The shutdown save ran (or was declined), so it runs once.
    pub(crate) shutdown_prepared: AtomicBool,
}

/// Seconds before a failed BGSAVE is retried by the save rules (Redis
/// `CONFIG_BGSAVE_RETRY_DELAY`).
pub const BGSAVE_RETRY_DELAY_SECS: u64 = 5;

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            dirty_at_last_save: AtomicU64::new(0),
            bgsave_in_progress: AtomicBool::new(false),
            bgsave_started: Mutex::new(None),
            bgsave_scheduled: AtomicBool::new(false),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            last_bgsave_try_secs: AtomicU64::new(0),
            rdb_saves: AtomicU64::new(0),
            last_load: [AtomicU64::new(0), AtomicU64::new(0)],
            save_progress: [AtomicU64::new(0), AtomicU64::new(0)],
            shutdown_prepared: AtomicBool::new(false),
        }
    }
}

/// A snapshot of [`Persistence`] for INFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RdbInfo {
    /// `rdb_bgsave_in_progress`.
    pub bgsave_in_progress: bool,
    /// `rdb_last_bgsave_status` is `ok`.
    pub last_bgsave_ok: bool,
    /// `rdb_last_bgsave_time_sec`.
    pub last_bgsave_secs: i64,
    /// `rdb_current_bgsave_time_sec` (-1 when none runs).
    pub current_bgsave_secs: i64,
    /// `rdb_saves`.
    pub rdb_saves: u64,
    /// `rdb_last_load_keys_loaded`.
    pub last_load_keys_loaded: u64,
    /// `rdb_last_load_keys_expired`.
    pub last_load_keys_expired: u64,
    /// `current_save_keys_processed`.
    pub save_keys_processed: u64,
    /// `current_save_keys_total`.
    pub save_keys_total: u64,
    /// `rdb_bgsave_scheduled` (not an INFO field in 7.0; drives the cron).
    pub bgsave_scheduled: bool,
}

impl Persistence {
    /// The state INFO persistence reports.
    pub fn info(&self) -> RdbInfo {
        let current = self
            .bgsave_started
            .lock()
            .map_or(-1, |t| t.elapsed().as_secs() as i64);
        RdbInfo {
            bgsave_in_progress: self.bgsave_in_progress.load(Ordering::Relaxed),
            last_bgsave_ok: self.last_bgsave_ok.load(Ordering::Relaxed),
            last_bgsave_secs: self.last_bgsave_secs.load(Ordering::Relaxed),
            current_bgsave_secs: current,
            rdb_saves: self.rdb_saves.load(Ordering::Relaxed),
            last_load_keys_loaded: self.last_load[0].load(Ordering::Relaxed),
            last_load_keys_expired: self.last_load[1].load(Ordering::Relaxed),
            save_keys_processed: self.save_progress[0].load(Ordering::Relaxed),
            save_keys_total: self.save_progress[1].load(Ordering::Relaxed),
            bgsave_scheduled: self.bgsave_scheduled.load(Ordering::Relaxed),
        }
    }

    /// Changes since the last successful save, given the keyspace's current dirty count.
    pub fn changes_since_save(&self, dirty_now: u64) -> u64 {
        dirty_now.saturating_sub(self.dirty_at_last_save.load(Ordering::Relaxed))
    }

    /// Whether a BGSAVE is running.
    pub fn bgsave_in_progress(&self) -> bool {
        self.bgsave_in_progress.load(Ordering::Relaxed)
    }

    /// Whether the last background save failed (drives `stop-writes-on-bgsave-error`).
    pub fn last_bgsave_failed(&self) -> bool {
        !self.last_bgsave_ok.load(Ordering::Relaxed)
    }
}

/// Lowers the calling thread's scheduling priority (the snapshot and rewrite threads): they
/// are background work, so on a busy machine client commands run first and the snapshot
/// takes longer, as a forked Redis child competes less with its parent when niced.
pub(crate) fn background_priority() {
    use thread_priority::{set_current_thread_priority, ThreadPriority};
    if let Err(e) = set_current_thread_priority(ThreadPriority::Min) {
        tracing::debug!("Can't lower the background thread's priority: {e:?}");
    }
}
