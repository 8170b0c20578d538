//! Allocator-level memory accounting: the bytes behind INFO `used_memory`.
//!
//! [`CountingAlloc`] wraps a global allocator and keeps a running total of the live bytes it
//! handed out, as Redis' `zmalloc` does around jemalloc (`used_memory` there is the sum of
//! jemalloc's usable sizes). The binary installs it:
//!
//! ```text
//! #[global_allocator]
//! static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc(std::alloc::System);
//! ```
//!
//! # Layout and cost
//!
//! Each thread adds its allocations and frees to a `const`-initialised thread-local
//! `Cell<isize>` (no destructor, no registration: one TLS access). When the thread's pending
//! delta reaches ±[`FLUSH_BYTES`] it is moved into one global `AtomicIsize` with a single
//! relaxed `fetch_add`, so two worker threads touch the shared cache line about once per 32 KiB
//! allocated rather than on every allocation.
//!
//! # Error bound
//!
//! [`allocated_bytes`] reads only the global counter, so it may miss up to `FLUSH_BYTES - 1`
//! bytes (either sign) per thread that ever allocated: with the server's handful of long-lived
//! threads (main, workers, lazy-free) that is a few hundred KiB at most. A thread that exits
//! leaves its pending delta unflushed (flushing from a TLS destructor could itself allocate).
//!
//! # Sizes counted
//!
//! The *usable* size of each block, as Redis counts it: on glibc `malloc_usable_size` (a couple
//! of loads from the chunk header, a few nanoseconds), elsewhere the requested size (an
//! under-estimate by the allocator's rounding, typically < 16 bytes per block). Chunk headers
//! and free pages are not counted; they show up in RSS and `mem_fragmentation_ratio`.

// A `GlobalAlloc` implementation is unsafe by definition; every unsafe block below only forwards
// the caller's own guarantees to the inner allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU8, Ordering};

/// A thread's pending delta is published once it reaches this many bytes (either sign).
pub const FLUSH_BYTES: isize = 32 * 1024;

/// Live bytes published by all threads.
static ALLOCATED: AtomicIsize = AtomicIsize::new(0);
/// Set by the first allocation through a [`CountingAlloc`]: the wrapper is in use.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The installed wrapper's inner allocator ([`UsableSize::KIND`]), valid once `INSTALLED`.
static KIND: AtomicU8 = AtomicU8::new(Kind::System as u8);

/// Which allocator a [`CountingAlloc`] wraps: decides what MEMORY PURGE, MEMORY MALLOC-STATS
/// and INFO `allocator_*`/`mem_allocator` ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// The C library's `malloc` (glibc on Linux).
    System = 0,
    /// jemalloc (`tikv-jemallocator`), as Redis ships by default.
    Jemalloc = 1,
}

/// The allocator behind the installed [`CountingAlloc`], `None` when none is installed.
pub fn installed_kind() -> Option<Kind> {
    INSTALLED.load(Ordering::Relaxed).then(|| {
        if KIND.load(Ordering::Relaxed) == Kind::Jemalloc as u8 {
            Kind::Jemalloc
        } else {
            Kind::System
        }
    })
}

thread_local! {
    /// This thread's unpublished delta, bytes.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// How an allocator reports the usable size of a block it returned.
///
/// # Safety
///
/// `usable_size` must return at least `layout.size()` for a live block `ptr` allocated by `self`
/// with `layout`, and the same value for the same block until it is freed or reallocated.
pub unsafe trait UsableSize {
    /// Which allocator this is.
    const KIND: Kind;

    /// Usable bytes of the live block `ptr` allocated with `layout`.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block returned by this allocator for `layout`.
    unsafe fn usable_size(&self, ptr: *mut u8, layout: Layout) -> usize;
}

// SAFETY: on glibc, `System` hands out blocks from `malloc`/`posix_memalign`, for which
// `malloc_usable_size` is defined and at least the requested size.
unsafe impl UsableSize for System {
    const KIND: Kind = Kind::System;

    #[inline]
    unsafe fn usable_size(&self, ptr: *mut u8, layout: Layout) -> usize {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            let _ = layout;
            // SAFETY: `ptr` is a live block from glibc's allocator (the caller's contract).
            unsafe { libc::malloc_usable_size(ptr.cast()) }
        }
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        {
            let _ = ptr;
            layout.size()
        }
    }
}

/// A global allocator that counts the live bytes its inner allocator `A` hands out.
///
/// Shape: a transparent wrapper; install it with `#[global_allocator]`. Read the total with
/// [`allocated_bytes`]. Source: Redis' `zmalloc` `used_memory` accounting (zmalloc.c).
#[derive(Debug, Default)]
pub struct CountingAlloc<A>(pub A);

#[inline]
fn record(delta: isize) {
    // `try_with` cannot fail for a const-initialised Cell without destructor; fall back to the
    // global counter anyway rather than lose bytes.
    let flushed = PENDING.try_with(|p| {
        let v = p.get() + delta;
        if v >= FLUSH_BYTES || v <= -FLUSH_BYTES {
            ALLOCATED.fetch_add(v, Ordering::Relaxed);
            p.set(0);
        } else {
            p.set(v);
        }
    });
    if flushed.is_err() {
        ALLOCATED.fetch_add(delta, Ordering::Relaxed);
    }
}

#[inline]
fn mark_installed(kind: Kind) {
    if !INSTALLED.load(Ordering::Relaxed) {
        KIND.store(kind as u8, Ordering::Relaxed);
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

// SAFETY: jemalloc's `malloc_usable_size` is defined for every live block it returned and is at
// least the requested size.
#[cfg(feature = "jemalloc")]
unsafe impl UsableSize for tikv_jemallocator::Jemalloc {
    const KIND: Kind = Kind::Jemalloc;

    #[inline]
    unsafe fn usable_size(&self, ptr: *mut u8, _layout: Layout) -> usize {
        // SAFETY: `ptr` is a live block from jemalloc (the caller's contract).
        unsafe { tikv_jemallocator::usable_size(ptr) }
    }
}

impl<A: GlobalAlloc + UsableSize> CountingAlloc<A> {
    /// Counts a block the inner allocator just returned for `layout` (null: nothing to count).
    ///
    /// # Safety
    /// `p` is null or a live block just returned by `self.0` for `layout`.
    #[inline]
    unsafe fn counted(&self, p: *mut u8, layout: Layout) -> *mut u8 {
        if !p.is_null() {
            mark_installed(A::KIND);
            // SAFETY: the caller's contract.
            record(unsafe { self.0.usable_size(p, layout) } as isize);
        }
        p
    }
}

// SAFETY: every method forwards to the inner allocator with the caller's arguments unchanged;
// the accounting only reads sizes and touches counters, and never allocates.
unsafe impl<A: GlobalAlloc + UsableSize> GlobalAlloc for CountingAlloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract; `counted` gets the block just returned for `layout`.
        unsafe { self.counted(self.0.alloc(layout), layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe { self.counted(self.0.alloc_zeroed(layout), layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is live until the call below (forwarded contract).
        let size = unsafe { self.0.usable_size(ptr, layout) };
        // SAFETY: forwarded contract.
        unsafe { self.0.dealloc(ptr, layout) };
        record(-(size as isize));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is live until the call below (forwarded contract).
        let old = unsafe { self.0.usable_size(ptr, layout) };
        // SAFETY: forwarded contract.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // SAFETY: `new_size` is non-zero and fits `isize` with this alignment (the caller's
            // contract), so the layout is valid; `p` is live for it.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: `p` was just returned for `new_layout`.
            let new = unsafe { self.0.usable_size(p, new_layout) };
            record(new as isize - old as isize);
        }
        p
    }
}

/// Live bytes allocated through the installed [`CountingAlloc`] (usable sizes, published
/// deltas only: see the module's error bound); `None` when no `CountingAlloc` is in use (test
/// binaries, embedders with their own allocator).
pub fn allocated_bytes() -> Option<usize> {
    INSTALLED
        .load(Ordering::Relaxed)
        .then(|| usize::try_from(ALLOCATED.load(Ordering::Relaxed)).unwrap_or(0))
}

/// Publishes this thread's pending delta now (e.g. before reading [`allocated_bytes`] for a
/// start-up baseline). Cheap; other threads' deltas stay pending.
pub fn flush_thread_delta() {
    let _ = PENDING.try_with(|p| {
        ALLOCATED.fetch_add(p.replace(0), Ordering::Relaxed);
    });
}

/// Returns unused heap memory to the operating system (MEMORY PURGE): jemalloc purges every
/// arena's dirty pages (as Redis' `jemalloc_purge`), glibc runs `malloc_trim(0)`. Returns
/// whether the allocator was asked; `false` where neither applies.
pub fn purge() -> bool {
    #[cfg(feature = "jemalloc")]
    if installed_kind() == Some(Kind::Jemalloc) {
        return jemalloc::purge();
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` has no preconditions.
        unsafe { libc::malloc_trim(0) != 0 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// What the allocator itself reports, bytes unless named otherwise: the figures behind INFO
/// `allocator_*` and MEMORY STATS. From jemalloc's `stats.*` when it is the allocator (the
/// glibc-only fields are then 0), else glibc's `mallinfo2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes in blocks handed out (jemalloc `stats.allocated`; glibc `uordblks + hblkhd`,
    /// chunk headers included).
    pub allocated: u64,
    /// Bytes in pages the allocator uses for blocks (jemalloc `stats.active`; glibc
    /// `arena + hblkhd`, its free chunks included).
    pub active: u64,
    /// Bytes of physically resident allocator pages (jemalloc `stats.resident`; glibc: 0,
    /// unknown).
    pub resident: u64,
    /// Free bytes inside the heaps (`fordblks`).
    pub free: u64,
    /// Free chunks in the heaps (`ordblks`).
    pub free_chunks: u64,
    /// Free bytes in fastbins (`fsmblks`) and their chunk count (`smblks`).
    pub fastbin_bytes: u64,
    /// Free fastbin chunks (`smblks`).
    pub fastbin_chunks: u64,
    /// Bytes in blocks served by their own `mmap` (`hblkhd`).
    pub mmapped: u64,
    /// Blocks served by their own `mmap` (`hblks`).
    pub mmapped_blocks: u64,
    /// Free bytes at the top of the main heap that `malloc_trim` could release (`keepcost`).
    pub releasable: u64,
}

/// The allocator's own statistics (glibc `mallinfo2`, which walks every arena: call it for
/// INFO and MEMORY, not per command); `None` on other allocators.
pub fn allocator_stats() -> Option<AllocatorStats> {
    #[cfg(feature = "jemalloc")]
    if installed_kind() == Some(Kind::Jemalloc) {
        return jemalloc::stats();
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallinfo2` has no preconditions and returns a plain struct.
        let m = unsafe { libc::mallinfo2() };
        let n = |v: usize| v as u64;
        Some(AllocatorStats {
            allocated: n(m.uordblks) + n(m.hblkhd),
            active: n(m.arena) + n(m.hblkhd),
            resident: 0,
            free: n(m.fordblks),
            free_chunks: n(m.ordblks),
            fastbin_bytes: n(m.fsmblks),
            fastbin_chunks: n(m.smblks),
            mmapped: n(m.hblkhd),
            mmapped_blocks: n(m.hblks),
            releasable: n(m.keepcost),
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// The allocator's name for INFO `mem_allocator`: `jemalloc-<version>` or `libc`, as Redis
/// names its builds.
pub fn allocator_name() -> String {
    #[cfg(feature = "jemalloc")]
    if installed_kind() == Some(Kind::Jemalloc) {
        return jemalloc::name();
    }
    "libc".to_string()
}

/// The allocator's own report for MEMORY MALLOC-STATS when it writes one (jemalloc's
/// `malloc_stats_print`, as Redis prints); `None` otherwise.
pub fn allocator_report() -> Option<String> {
    #[cfg(feature = "jemalloc")]
    if installed_kind() == Some(Kind::Jemalloc) {
        return jemalloc::report();
    }
    None
}

/// jemalloc's control interface (`mallctl`), through `tikv-jemalloc-ctl`.
#[cfg(feature = "jemalloc")]
mod jemalloc {
    use super::AllocatorStats;
    use tikv_jemalloc_ctl::{epoch, stats, stats_print, version};

    pub(super) fn name() -> String {
        let v = version::read().unwrap_or("unknown");
        // "5.3.0-0-g54eaed1..." → "jemalloc-5.3.0", as Redis prints it.
        format!("jemalloc-{}", v.split('-').next().unwrap_or(v))
    }

    pub(super) fn stats() -> Option<AllocatorStats> {
        // The statistics are a snapshot refreshed by advancing the epoch.
        epoch::advance().ok()?;
        let n = |r: tikv_jemalloc_ctl::Result<usize>| r.map(|v| v as u64).unwrap_or(0);
        Some(AllocatorStats {
            allocated: n(stats::allocated::read()),
            active: n(stats::active::read()),
            resident: n(stats::resident::read()),
            mmapped: n(stats::mapped::read()),
            ..AllocatorStats::default()
        })
    }

    pub(super) fn report() -> Option<String> {
        let mut out = Vec::new();
        stats_print::stats_print(&mut out, stats_print::Options::default()).ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    pub(super) fn purge() -> bool {
        // "arena.<MALLCTL_ARENAS_ALL>.purge" takes and returns nothing.
        const NAME: &[u8] = b"arena.4096.purge\0";
        // SAFETY: a NUL-terminated control name with null old/new pointers, as this control
        // requires.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                NAME.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        rc == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inner allocator reporting exactly the requested size, so expectations are exact.
    struct Exact;

    // SAFETY: returns the requested size, which `System` provides at least.
    unsafe impl UsableSize for Exact {
        const KIND: Kind = Kind::System;
        unsafe fn usable_size(&self, _ptr: *mut u8, layout: Layout) -> usize {
            layout.size()
        }
    }

    // SAFETY: forwards to `System`.
    unsafe impl GlobalAlloc for Exact {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// Published plus this thread's pending bytes: the exact total for this thread's activity
    /// (no other test thread allocates through a `CountingAlloc`).
    fn exact_total() -> isize {
        ALLOCATED.load(Ordering::Relaxed) + PENDING.with(Cell::get)
    }

    fn published() -> isize {
        ALLOCATED.load(Ordering::Relaxed)
    }

    // One test function: the counters are process-wide, and this is the only test using them.
    #[test]
    fn counts_batches_and_reallocs() {
        let a = CountingAlloc(Exact);
        flush_thread_delta();
        let base = exact_total();
        let base_published = published();

        // Small allocations stay in the thread's pending delta.
        let l = Layout::from_size_align(100, 8).expect("layout");
        let p = unsafe { a.alloc(l) };
        assert!(!p.is_null());
        assert_eq!(exact_total() - base, 100);
        assert_eq!(
            published(),
            base_published,
            "below the threshold nothing is published"
        );
        assert!(
            allocated_bytes().is_some(),
            "first use marks the wrapper installed"
        );

        // Growing by realloc counts the difference only.
        let p = unsafe { a.realloc(p, l, 1000) };
        assert!(!p.is_null());
        assert_eq!(exact_total() - base, 1000);
        let l1000 = Layout::from_size_align(1000, 8).expect("layout");
        let p = unsafe { a.realloc(p, l1000, 10) };
        assert_eq!(exact_total() - base, 10);

        // A big allocation crosses the threshold and is published with the pending bytes.
        let big = Layout::from_size_align(FLUSH_BYTES as usize * 2, 8).expect("layout");
        let q = unsafe { a.alloc_zeroed(big) };
        assert!(!q.is_null());
        assert_eq!(published() - base_published, 10 + FLUSH_BYTES * 2);
        assert_eq!(PENDING.with(Cell::get), 0);

        // Freeing brings both back.
        unsafe { a.dealloc(q, big) };
        assert_eq!(
            published() - base_published,
            10,
            "the big free is published too"
        );
        let l10 = Layout::from_size_align(10, 8).expect("layout");
        unsafe { a.dealloc(p, l10) };
        assert_eq!(exact_total(), base);

        // Many small allocations publish in batches: the published total never lags by more
        // than the threshold.
        let small = Layout::from_size_align(64, 8).expect("layout");
        let ptrs: Vec<*mut u8> = (0..2000).map(|_| unsafe { a.alloc(small) }).collect();
        let lag = exact_total() - published();
        assert!(lag.abs() < FLUSH_BYTES, "lag {lag}");
        assert_eq!(exact_total() - base, 2000 * 64);
        for p in ptrs {
            unsafe { a.dealloc(p, small) };
        }
        assert_eq!(exact_total(), base);
    }

    #[test]
    fn allocator_stats_are_consistent() {
        if let Some(st) = allocator_stats() {
            assert!(st.active >= st.allocated, "{st:?}");
            assert!(st.allocated > 0, "{st:?}");
        }
    }

    #[test]
    fn system_usable_size_covers_the_request() {
        let l = Layout::from_size_align(100, 8).expect("layout");
        let p = unsafe { System.alloc(l) };
        assert!(!p.is_null());
        let usable = unsafe { System.usable_size(p, l) };
        assert!((100..=200).contains(&usable), "usable {usable}");
        unsafe { System.dealloc(p, l) };
    }
}
