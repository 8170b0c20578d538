//! Freeing large values off the command path (Redis' lazyfree: UNLINK, FLUSHALL ASYNC).
//!
//! One background thread receives values and tables over a channel and drops them. Small values
//! are dropped inline: sending them would cost more than freeing them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, OnceLock};
use std::thread;

use crate::table::Table;
use crate::value::Value;

/// Values whose estimated size is at least this many bytes are freed in the background.
pub const LAZYFREE_THRESHOLD_BYTES: usize = 64 * 1024;

/// Anything to drop on the background thread.
type Garbage = Box<dyn Send>;

/// The background freeing thread's inbox. The thread is started on first use; if it cannot be
/// started, garbage is dropped inline.
pub(crate) struct LazyFree {
    tx: OnceLock<Option<Sender<Garbage>>>,
    /// `[sent, freed]` garbage counts (INFO `lazyfree_pending_objects` = sent - freed,
    /// `lazyfreed_objects` = freed).
    counts: Arc<[AtomicU64; 2]>,
}

impl LazyFree {
    pub(crate) fn new() -> LazyFree {
        LazyFree {
            tx: OnceLock::new(),
            counts: Arc::default(),
        }
    }

    /// `(pending, freed)`: garbage queued and not yet dropped, and garbage dropped so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let freed = self.counts[1].load(Ordering::Relaxed);
        let sent = self.counts[0].load(Ordering::Relaxed);
        (sent.saturating_sub(freed), freed)
    }

    /// Frees `value` in the background when it is large, inline otherwise.
    pub(crate) fn free_value(&self, value: Value) {
        if value.mem_bytes() >= LAZYFREE_THRESHOLD_BYTES
            || value.free_effort() > crate::value::LAZYFREE_THRESHOLD
        {
            self.send(Box::new(value));
        }
    }

    /// Frees whole tables in the background (FLUSHDB/FLUSHALL ASYNC).
    pub(crate) fn free_tables(&self, tables: Vec<Table>) {
        if !tables.is_empty() {
            self.send(Box::new(tables));
        }
    }

    fn send(&self, garbage: Garbage) {
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = channel::<Garbage>();
            let counts = self.counts.clone();
            thread::Builder::new()
                .name("ferrodis-lazyfree".into())
                .spawn(move || {
                    rx.into_iter().for_each(|g| {
                        drop(g);
                        counts[1].fetch_add(1, Ordering::Relaxed);
                    })
                })
                .ok()
                .map(|_| tx)
        });
        if let Some(tx) = tx {
            self.counts[0].fetch_add(1, Ordering::Relaxed);
            // A send error hands the garbage back inside the error, which drops it here.
            let _ = tx.send(garbage);
        }
    }
}
