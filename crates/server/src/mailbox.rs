//! A client's mailbox: out-of-band replies (pub/sub messages, keyspace notifications) that other
//! connections queue for it, bounded by `client-output-buffer-limit`.
//!
//! Layout: a mutex-protected queue of already encoded RESP frames plus a [`Notify`] that wakes
//! the owning connection task. Publishers only append and never wait on the subscriber's socket;
//! the connection task drains the queue into its write buffer (at most
//! [`Mailbox::drain_into`]'s byte budget at a time), so a subscriber's memory is the mailbox
//! (bounded by the hard/soft limits below) plus one write chunk.
//!
//! Limits follow Redis' `checkClientOutputBufferLimits`: the hard limit closes the client as
//! soon as its pending output reaches it; the soft limit closes it once it stayed at or above the
//! limit for more than `soft_secs` seconds. A closed mailbox drops everything queued (the memory
//! is released at once) and refuses later messages.
//!
//! Every byte queued in a mailbox or being written by [`crate::net`] is also counted in one
//! process-wide total, [`output_bytes`]: the client output memory that, as Redis leaves replica
//! and AOF buffers out (`freeMemoryGetNotCountedMemory`), does not count against `maxmemory`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Bytes queued in all mailboxes plus output being written ([`OutputHold`]), process-wide.
static OUTPUT_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Client output bytes in memory right now, process-wide: every mailbox's queue plus the write
/// buffers being flushed. INFO `mem_not_counted_for_evict`; excluded from `maxmemory`.
pub fn output_bytes() -> usize {
    OUTPUT_BYTES.load(Ordering::Relaxed)
}

/// Counts `bytes` of output in [`output_bytes`] while alive (a write buffer being flushed).
#[derive(Debug)]
pub struct OutputHold(usize);

impl OutputHold {
    /// Adds `bytes` to [`output_bytes`] until dropped.
    pub fn new(bytes: usize) -> OutputHold {
        OUTPUT_BYTES.fetch_add(bytes, Ordering::Relaxed);
        OutputHold(bytes)
    }
}

impl Drop for OutputHold {
    fn drop(&mut self) {
        OUTPUT_BYTES.fetch_sub(self.0, Ordering::Relaxed);
    }
}

/// One `client-output-buffer-limit` class (`normal`, `replica` or `pubsub`): 0 disables a
/// limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    /// Hard limit, bytes.
    pub hard_bytes: u64,
    /// Soft limit, bytes.
    pub soft_bytes: u64,
    /// How long the soft limit may be exceeded, seconds.
    pub soft_secs: u64,
}

/// What [`Mailbox::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued for the client.
    Queued,
    /// The mailbox was already closed: dropped.
    Dropped,
    /// This message took the client over its output limit: the mailbox is now closed and the
    /// caller must close the client.
    OverLimit,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Bytes>,
    bytes: usize,
    soft_since: Option<Instant>,
    closed: bool,
}

/// Out-of-band output waiting for a connection.
#[derive(Debug, Default)]
pub struct Mailbox {
    inner: Mutex<Inner>,
    /// Set while the queue is non-empty: the connection checks it after every command without
    /// taking the lock.
    pending: AtomicBool,
    /// Wakes the connection task when something is queued.
    pub notify: Notify,
}

impl Mailbox {
    /// Queues one encoded frame. `in_flight_bytes` is the output the connection is already
    /// writing (its write buffer), which counts towards `limit` as Redis counts its reply list.
    pub fn push(&self, frame: Bytes, in_flight_bytes: usize, limit: OutputLimit) -> Delivery {
        let mut g = self.inner.lock();
        if g.closed {
            return Delivery::Dropped;
        }
        g.bytes += frame.len();
        OUTPUT_BYTES.fetch_add(frame.len(), Ordering::Relaxed);
        g.queue.push_back(frame);
        let used = (g.bytes + in_flight_bytes) as u64;
        let over_hard = limit.hard_bytes > 0 && used >= limit.hard_bytes;
        let over_soft = if limit.soft_bytes > 0 && used >= limit.soft_bytes {
            let since = *g.soft_since.get_or_insert_with(Instant::now);
            since.elapsed().as_secs() > limit.soft_secs
        } else {
            g.soft_since = None;
            false
        };
        if over_hard || over_soft {
            close_locked(&mut g);
            drop(g);
            self.pending.store(false, Ordering::Release);
            return Delivery::OverLimit;
        }
        drop(g);
        self.pending.store(true, Ordering::Release);
        self.notify.notify_one();
        Delivery::Queued
    }

    /// Whether anything is queued (one atomic load).
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Bytes queued.
    pub fn queued_bytes(&self) -> usize {
        self.inner.lock().bytes
    }

    /// Moves queued frames into `out`, in order, until about `budget_bytes` were moved (at least
    /// one frame when any is queued). Returns whether frames remain.
    pub fn drain_into(&self, out: &mut BytesMut, budget_bytes: usize) -> bool {
        let mut g = self.inner.lock();
        let mut moved = 0;
        while let Some(f) = g.queue.pop_front() {
            moved += f.len();
            out.extend_from_slice(&f);
            if moved >= budget_bytes {
                break;
            }
        }
        g.bytes -= moved;
        OUTPUT_BYTES.fetch_sub(moved, Ordering::Relaxed);
        if g.bytes == 0 {
            g.soft_since = None;
        }
        let more = !g.queue.is_empty();
        self.pending.store(more, Ordering::Release);
        more
    }

    /// Drops everything queued and refuses later messages (the client is closing).
    pub fn close(&self) {
        close_locked(&mut self.inner.lock());
        self.pending.store(false, Ordering::Release);
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        OUTPUT_BYTES.fetch_sub(self.inner.get_mut().bytes, Ordering::Relaxed);
    }
}

fn close_locked(g: &mut Inner) {
    OUTPUT_BYTES.fetch_sub(g.bytes, Ordering::Relaxed);
    g.closed = true;
    g.queue = VecDeque::new();
    g.bytes = 0;
    g.soft_since = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[test]
    fn queues_in_order_and_drains_within_budget() {
        let m = Mailbox::default();
        let lim = OutputLimit::default();
        assert_eq!(m.push(Bytes::from_static(b"a"), 0, lim), Delivery::Queued);
        assert_eq!(m.push(Bytes::from_static(b"bc"), 0, lim), Delivery::Queued);
        assert_eq!(m.push(Bytes::from_static(b"d"), 0, lim), Delivery::Queued);
        assert!(m.has_pending());
        let mut out = BytesMut::new();
        assert!(m.drain_into(&mut out, 2));
        assert_eq!(&out[..], b"abc");
        assert!(!m.drain_into(&mut out, 100));
        assert_eq!(&out[..], b"abcd");
        assert!(!m.has_pending());
        assert_eq!(m.queued_bytes(), 0);
    }

    #[test]
    fn hard_limit_closes_and_frees() {
        let m = Mailbox::default();
        let lim = OutputLimit {
            hard_bytes: 100,
            ..OutputLimit::default()
        };
        assert_eq!(m.push(b(60), 0, lim), Delivery::Queued);
        // In-flight output counts towards the limit.
        assert_eq!(m.push(b(10), 30, lim), Delivery::OverLimit);
        assert_eq!(m.queued_bytes(), 0);
        assert!(!m.has_pending());
        assert_eq!(m.push(b(1), 0, lim), Delivery::Dropped);
    }

    #[test]
    fn soft_limit_needs_time_above_it() {
        let m = Mailbox::default();
        let lim = OutputLimit {
            hard_bytes: 0,
            soft_bytes: 10,
            soft_secs: 0,
        };
        // First time above the soft limit starts the clock; 0 s elapsed is not "more than 0 s".
        assert_eq!(m.push(b(20), 0, lim), Delivery::Queued);
        let mut out = BytesMut::new();
        m.drain_into(&mut out, usize::MAX);
        // Back under the limit: the clock resets.
        assert_eq!(m.push(b(1), 0, lim), Delivery::Queued);
        assert_eq!(m.queued_bytes(), 1);
    }
}
