//! The per-shard, per-db hash table.
//!
//! Layout: `buckets` is a power-of-two array of singly linked chains of nodes. A node
//! ([`crate::node`]) is one block holding the link, the 24-bit access field, the expire when
//! there is one, the key, and the value itself when it is an integer or a string of at most
//! 512 bytes; other values hang off the node in a box. So a typical cache key costs one
//! allocation sized to its bytes plus its share of a bucket slot (8 bytes).
//!
//! The load factor is kept between 1/10 and 1: the table doubles when it holds more keys than
//! buckets and halves (to the next power of two above its length) when it falls under 10% fill,
//! like Redis' dict. Because a shard holds only a slice of the keyspace, a resize rehashes a
//! small table at once; no incremental rehashing is needed to keep latency flat.
//!
//! SCAN uses Redis' reverse-binary cursor over bucket indexes: a key present for the whole scan
//! is returned at least once even if the table grows or shrinks between calls.
//!
//! Keys with an expire are also listed in `volatile` (node addresses; a node remembers its
//! slot), so the active expire cycle samples only keys that can expire, as Redis samples its
//! `expires` dict.
//!
//! Lookups hand out [`EntryRef`] (read) and [`EntryMut`] (write) handles borrowing the table.

// The table owns raw nodes (see `crate::node`); the handles below borrow them for the
// lifetime of a borrow of the table.
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use ahash::RandomState;

use crate::node::{self, Link, NodePtr, Payload, PayloadRef, INLINE_STR_MAX};
use crate::value::{StrRef, StrValue, Value, ValueMut, ValueRef};

/// An owned key entry: a value with its expire and access field, as inserted into or removed
/// from a table.
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Absolute expire in Unix milliseconds; 0 = no expire.
    expire_ms: u64,
    /// Access field (24 bits, Redis `robj.lru`): the LRU clock of the last access, or under an
    /// LFU policy the minute of the last decrement and the counter (see [`crate::evict`]).
    lru: u32,
}

impl Entry {
    /// A new entry without expire, last accessed at LRU clock `lru`.
    pub fn new(value: Value, lru: u32) -> Entry {
        Entry {
            value,
            expire_ms: 0,
            lru,
        }
    }

    /// The same entry with expire `expire_ms` (Unix milliseconds; `None` = no expire).
    pub fn with_expire(mut self, expire_ms: Option<u64>) -> Entry {
        self.expire_ms = expire_ms.unwrap_or(0);
        self
    }

    /// The absolute expire (Unix milliseconds), if any.
    pub fn expire_ms(&self) -> Option<u64> {
        (self.expire_ms != 0).then_some(self.expire_ms)
    }

    /// The access field ([`crate::evict`]).
    pub fn lru(&self) -> u32 {
        self.lru
    }
}

/// Calls `f` with `value` laid out as a node payload: in place for an `int` or a string of at
/// most [`INLINE_STR_MAX`] bytes, boxed otherwise.
fn with_payload<R>(value: Value, f: impl FnOnce(Payload<'_>) -> R) -> R {
    match &value {
        Value::String(StrValue::Int(n)) => f(Payload::Int(*n)),
        Value::String(StrValue::Emb(e)) => f(Payload::Str {
            bytes: e.as_bytes(),
            raw: false,
        }),
        Value::String(StrValue::Raw(b)) if b.len() <= INLINE_STR_MAX => f(Payload::Str {
            bytes: b,
            raw: true,
        }),
        _ => f(Payload::Boxed(Box::new(value))),
    }
}

/// Reads a node's value.
///
/// # Safety
/// `n` is live for `'a` and not mutated meanwhile.
unsafe fn value_ref<'a>(n: NodePtr) -> ValueRef<'a> {
    // SAFETY: caller's contract; inline bytes and the box live as long as the node.
    unsafe {
        match node::payload(n) {
            PayloadRef::Int(i) => ValueRef::String(StrRef::Int(i)),
            PayloadRef::Str(p, len, raw) => ValueRef::String(StrRef::Inline {
                bytes: std::slice::from_raw_parts(p, len),
                raw,
            }),
            PayloadRef::Boxed(b) => ValueRef::of(&*b),
        }
    }
}

/// Takes a node's value out as an owned [`Value`] and frees the node.
///
/// # Safety
/// `n` is live and unlinked; it is dangling afterwards.
unsafe fn into_value(n: NodePtr) -> Value {
    // SAFETY: caller's contract. An in-place value is copied out before the node is freed; a
    // boxed one comes back from `free` without a copy.
    unsafe {
        let in_place = match node::payload(n) {
            PayloadRef::Boxed(_) => None,
            _ => Some(value_ref(n).to_value()),
        };
        match node::free(n) {
            Some(boxed) => *boxed,
            None => in_place.unwrap_or(Value::String(StrValue::Int(0))),
        }
    }
}

/// Bytes one key costs the table besides a boxed value (MEMORY USAGE): its node, including an
/// inline string value, and its bucket slot at full load.
///
/// # Safety
/// `n` is live.
unsafe fn node_cost(n: NodePtr) -> usize {
    // SAFETY: caller's contract.
    unsafe { node::size(n) + std::mem::size_of::<Link>() }
}

/// A read handle on a key in a table: valid while the table is borrowed.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    node: NodePtr,
    _table: PhantomData<&'a Table>,
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRef")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("expire_ms", &self.expire_ms())
            .finish()
    }
}

impl<'a> EntryRef<'a> {
    /// The key.
    pub fn key(&self) -> &'a [u8] {
        // SAFETY: the node lives while the table is borrowed for `'a`.
        unsafe { node::key(self.node) }
    }

    /// The value.
    pub fn value(&self) -> ValueRef<'a> {
        // SAFETY: as above; a shared borrow of the table forbids mutation.
        unsafe { value_ref(self.node) }
    }

    /// The absolute expire (Unix milliseconds), if any.
    pub fn expire_ms(&self) -> Option<u64> {
        // SAFETY: as above.
        unsafe { node::expire(self.node) }.map(|(at, _)| at)
    }

    /// The access field: LRU clock of the last access, or LFU time + counter
    /// ([`crate::evict`]).
    pub fn lru(&self) -> u32 {
        // SAFETY: as above.
        unsafe { node::lru(self.node) }
    }

    /// Estimated bytes this key costs for `MEMORY USAGE` (Redis' `objectComputeSize` plus the
    /// key's own overhead): the node, its bucket slot, and a boxed value with lists estimated
    /// from `samples` nodes (0 = all).
    pub fn usage_bytes(&self, samples: usize) -> usize {
        // SAFETY: as above.
        let own = unsafe { node_cost(self.node) };
        // SAFETY: as above.
        match unsafe { node::payload(self.node) } {
            PayloadRef::Boxed(b) => {
                // SAFETY: the box lives as long as the node.
                own + std::mem::size_of::<Value>() + unsafe { &*b }.usage_bytes(samples)
            }
            _ => own,
        }
    }
}

/// A write handle on a key in a table: valid while the table is mutably borrowed.
pub struct EntryMut<'a> {
    /// The link that holds the node (a bucket slot or the previous node's `next`). The node is
    /// read through it, so a rebuilt node is seen at once.
    link: *mut Link,
    /// The table's volatile list, to move a rebuilt node's slot along.
    volatile: *mut Vec<NodePtr>,
    _table: PhantomData<&'a mut Table>,
}

impl std::fmt::Debug for EntryMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl<'a> EntryMut<'a> {
    fn node(&self) -> NodePtr {
        // SAFETY: `link` is a live link of the mutably borrowed table.
        match unsafe { *self.link } {
            Some(n) => n,
            None => unreachable!("an entry handle's link holds its node"),
        }
    }

    /// A handle for a shorter borrow.
    fn reborrow(&mut self) -> EntryMut<'_> {
        EntryMut {
            link: self.link,
            volatile: self.volatile,
            _table: PhantomData,
        }
    }

    /// A read handle for the rest of the table's borrow.
    pub fn into_ref(self) -> EntryRef<'a> {
        EntryRef {
            node: self.node(),
            _table: PhantomData,
        }
    }

    /// A read handle.
    pub fn as_ref(&self) -> EntryRef<'_> {
        EntryRef {
            node: self.node(),
            _table: PhantomData,
        }
    }

    /// The key.
    pub fn key(&self) -> &[u8] {
        self.as_ref().key()
    }

    /// The value.
    pub fn value(&self) -> ValueRef<'_> {
        self.as_ref().value()
    }

    /// The absolute expire (Unix milliseconds), if any.
    pub fn expire_ms(&self) -> Option<u64> {
        self.as_ref().expire_ms()
    }

    /// The access field ([`crate::evict`]).
    pub fn lru(&self) -> u32 {
        self.as_ref().lru()
    }

    /// Stores a new access field (computed by [`crate::evict::AccessPolicy::on_access`]).
    pub fn touch(&mut self, lru: u32) {
        // SAFETY: the table is mutably borrowed through this handle.
        unsafe { node::set_lru(self.node(), lru) }
    }

    /// The value for modification.
    pub fn value_mut(&mut self) -> ValueMut<'_> {
        self.reborrow().into_value_mut()
    }

    /// The value for modification, for the rest of the table's borrow.
    pub fn into_value_mut(self) -> ValueMut<'a> {
        let n = self.node();
        // SAFETY: the handle is consumed, so nothing else reaches the node during `'a`; a boxed
        // value is owned by the node.
        unsafe {
            match node::payload(n) {
                PayloadRef::Boxed(b) => match &mut *b {
                    Value::String(s) => ValueMut::String(StrMut(StrMutRepr::Boxed(s))),
                    Value::List(l) => ValueMut::List(l),
                    Value::Hash(h) => ValueMut::Hash(h),
                    Value::Set(s) => ValueMut::Set(s),
                    Value::ZSet(z) => ValueMut::ZSet(z),
                },
                _ => {
                    let value = match value_ref(n) {
                        ValueRef::String(s) => s.to_owned_value(),
                        _ => StrValue::Int(0),
                    };
                    ValueMut::String(StrMut(StrMutRepr::InPlace {
                        entry: self,
                        value,
                        dirty: false,
                    }))
                }
            }
        }
    }

    /// Replaces the value, keeping the expire and access field. Returns the old value when it
    /// was boxed (to be freed, lazily if large); an inline one is freed with the old node.
    pub fn replace(&mut self, value: Value) -> Option<Value> {
        let expire_ms = self.expire_ms();
        self.replace_with_expire(value, expire_ms)
    }

    /// Replaces the value and sets the expire (Unix ms; `None` = no expire) in one rebuild of
    /// the node, keeping the access field (SET with or without EX, SETEX). Returns the old
    /// value when it was boxed.
    pub fn replace_with_expire(&mut self, value: Value, expire_ms: Option<u64>) -> Option<Value> {
        // SAFETY: the link and volatile list belong to the table this handle borrows mutably,
        // and the node is reached only through this handle.
        let old = unsafe {
            let volatile = &mut *self.volatile;
            with_payload(value, |p| {
                rebuild_at(self.link, volatile, expire_ms, Some(p))
            })
        };
        old.map(|b| *b)
    }
}

/// Rebuilds the node at `link` with the expire `expire_ms` (Unix ms, `None` = none) and, when
/// given, a new payload, keeping `volatile` in step: the one place a node changes size.
/// Returns the old boxed payload when `payload` replaced it.
///
/// # Safety
/// `link` is a link of the mutably borrowed table whose volatile list is `volatile`, and holds
/// a live node that nothing else references.
unsafe fn rebuild_at(
    link: *mut Link,
    volatile: &mut Vec<NodePtr>,
    expire_ms: Option<u64>,
    payload: Option<Payload<'_>>,
) -> Option<Box<Value>> {
    // SAFETY: caller's contract; the new node takes the old one's place in the chain and in
    // the volatile list before anything else can read either.
    unsafe {
        let n = (*link)?;
        let expire = match (node::expire(n), expire_ms) {
            (Some((_, slot)), Some(at)) => Some((at, slot)),
            (None, Some(at)) => Some((at, volatile.len() as u32)),
            (Some((_, slot)), None) => {
                volatile_remove(volatile, slot);
                None
            }
            (None, None) => None,
        };
        let (new, old) = node::rebuild(n, expire, payload);
        *link = Some(new);
        if let Some((_, slot)) = expire {
            match volatile.get_mut(slot as usize) {
                Some(v) => *v = new,
                None => volatile.push(new),
            }
        }
        old
    }
}

/// Removes slot `slot` of a volatile list, fixing the slot of the node moved into it.
fn volatile_remove(volatile: &mut Vec<NodePtr>, slot: u32) {
    let slot = slot as usize;
    if slot >= volatile.len() {
        return;
    }
    volatile.swap_remove(slot);
    if let Some(&moved) = volatile.get(slot) {
        // SAFETY: nodes listed in `volatile` are live and have an expire.
        unsafe { node::set_vol_slot(moved, slot as u32) };
    }
}

/// A string value being modified. Derefs to [`StrValue`]; a string kept inside the key's node
/// is edited as an owned copy and stored back (inline if it still fits, boxed otherwise) when
/// the handle is dropped.
pub struct StrMut<'a>(StrMutRepr<'a>);

enum StrMutRepr<'a> {
    Boxed(&'a mut StrValue),
    /// A copy of a string stored in the node, written back through `entry` when `dirty`.
    InPlace {
        entry: EntryMut<'a>,
        value: StrValue,
        dirty: bool,
    },
}

impl std::fmt::Debug for StrMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StrMut").field(&**self).finish()
    }
}

impl Deref for StrMut<'_> {
    type Target = StrValue;
    fn deref(&self) -> &StrValue {
        match &self.0 {
            StrMutRepr::Boxed(s) => s,
            StrMutRepr::InPlace { value, .. } => value,
        }
    }
}

impl DerefMut for StrMut<'_> {
    fn deref_mut(&mut self) -> &mut StrValue {
        match &mut self.0 {
            StrMutRepr::Boxed(s) => s,
            StrMutRepr::InPlace { value, dirty, .. } => {
                *dirty = true;
                value
            }
        }
    }
}

impl Drop for StrMut<'_> {
    fn drop(&mut self) {
        let StrMutRepr::InPlace {
            entry,
            value,
            dirty: true,
        } = &mut self.0
        else {
            return;
        };
        let value = std::mem::replace(value, StrValue::Int(0));
        if let StrValue::Int(i) = value {
            let n = entry.node();
            // SAFETY: the node is reached only through this handle; an `int` payload is
            // overwritten in place (same size).
            unsafe {
                if let PayloadRef::Int(_) = node::payload(n) {
                    node::set_int(n, i);
                    return;
                }
            }
        }
        // The old payload was in the node: nothing boxed comes back.
        let _ = entry.replace(Value::String(value));
    }
}

/// Receives the keys a point-in-time snapshot must record before they change (see
/// [`Table`]'s copy-on-write): implemented by the server, which serialises them into the RDB
/// being written.
pub trait SnapshotSink: Send + Sync {
    /// Records `entries` (every key of one bucket, as they are at the snapshot's point in time)
    /// as keys of db `db` (the db the table belonged to when the snapshot began). Called with
    /// the shard lock held, so it should only encode and buffer.
    fn save_entries(&self, db: usize, entries: &mut dyn Iterator<Item = (&[u8], EntryRef<'_>)>);
}

/// A snapshot in progress over one table: which buckets are already recorded.
struct TableSnap {
    /// The snapshot this state belongs to.
    epoch: u64,
    /// The db of the table when the snapshot began (SWAPDB moves tables afterwards).
    db: usize,
    /// One bit per bucket: recorded (by the snapshot walker or by a writer's copy-on-write).
    done: Vec<u64>,
    /// The walker's next bucket.
    next: usize,
    sink: Arc<dyn SnapshotSink>,
}

impl TableSnap {
    fn is_done(&self, idx: usize) -> bool {
        self.done[idx / 64] & (1 << (idx % 64)) != 0
    }

    fn mark(&mut self, idx: usize) {
        self.done[idx / 64] |= 1 << (idx % 64);
    }
}

/// One db's keys within one shard.
///
/// # Point-in-time snapshots (copy-on-write per bucket)
///
/// While a snapshot runs, the table keeps a bit per bucket saying whether the bucket's keys are
/// already recorded. A write to a bucket not yet recorded (modifying, adding, expiring or
/// deleting any key in it) first hands the whole bucket, unchanged, to the snapshot's
/// [`SnapshotSink`] and marks it; the snapshot walker records the buckets nobody wrote and skips
/// the marked ones. So every key is recorded exactly once, as it was when the snapshot began,
/// and the only extra memory is the encoded form of the buckets written during the snapshot.
/// Bucket membership must not change meanwhile: growing is deferred (chains lengthen) until the
/// load factor reaches [`SNAPSHOT_MAX_LOAD`], when the remaining buckets are recorded first;
/// shrinking waits for the end.
#[derive(Default)]
pub struct Table {
    buckets: Vec<Link>,
    len: usize,
    volatile: Vec<NodePtr>,
    snap: Option<Box<TableSnap>>,
}

/// Keys per bucket at which a table grows during a snapshot after recording every bucket left.
pub const SNAPSHOT_MAX_LOAD: usize = 4;

// SAFETY: a table owns its nodes (and their boxed values, which are `Send`) exclusively; moving
// it to another thread moves that ownership (the lazy-free thread drops whole tables).
unsafe impl Send for Table {}

const MIN_BUCKETS: usize = 4;

/// Bytes a key costs the table beside its key and value bytes (MEMORY STATS
/// `overhead.hashtable.main`, per key): the node head, two length bytes and a bucket slot.
pub const KEY_OVERHEAD_BYTES: usize = node::HEAD + 2 + std::mem::size_of::<Link>();

/// Extra bytes a key with an expire costs (`overhead.hashtable.expires`, per key): the expire
/// and volatile slot in its node and its entry in the volatile list.
pub const EXPIRE_OVERHEAD_BYTES: usize =
    node::HEAD_EXPIRE - node::HEAD + std::mem::size_of::<NodePtr>();

impl Table {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with an expire.
    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    fn index(&self, hash: u64) -> usize {
        (hash as usize) & (self.buckets.len() - 1)
    }

    fn entry_ref(&self, node: NodePtr) -> EntryRef<'_> {
        EntryRef {
            node,
            _table: PhantomData,
        }
    }

    /// `key`'s node.
    fn find(&self, hash: u64, key: &[u8]) -> Option<NodePtr> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)];
        // SAFETY: nodes in a chain are live while the table is borrowed.
        unsafe {
            while let Some(n) = cur {
                if node::key(n) == key {
                    return Some(n);
                }
                cur = node::next(n);
            }
        }
        None
    }

    /// The link holding `key`'s node (a bucket slot or the previous node's `next`), and the
    /// node.
    fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<(*mut Link, NodePtr)> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.index(hash);
        let mut link: *mut Link = &mut self.buckets[idx];
        // SAFETY: `link` is a bucket slot or a live node's `next`; nodes in the chain are live.
        unsafe {
            while let Some(n) = *link {
                if node::key(n) == key {
                    return Some((link, n));
                }
                link = node::next_link(n);
            }
        }
        None
    }

    /// Looks `key` up (hash computed by the caller with the shard's hasher).
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<EntryRef<'_>> {
        self.find(hash, key).map(|n| self.entry_ref(n))
    }

    /// Looks `key` up for modification.
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<EntryMut<'_>> {
        self.before_write(hash);
        let (link, _) = self.find_mut(hash, key)?;
        Some(EntryMut {
            link,
            volatile: &mut self.volatile,
            _table: PhantomData,
        })
    }

    /// Looks `key` up for a read that updates its access field only (`lookupKeyRead`): unlike
    /// [`Table::get_mut`] it is not a write, so a running snapshot does not record the bucket.
    pub fn get_touched(
        &mut self,
        hash: u64,
        key: &[u8],
        lru: impl FnOnce(u32) -> u32,
    ) -> Option<EntryRef<'_>> {
        let n = self.find(hash, key)?;
        // SAFETY: `n` is live and the table is mutably borrowed; the access field is not part
        // of what a snapshot records as the key's content.
        unsafe { node::set_lru(n, lru(node::lru(n))) };
        Some(self.entry_ref(n))
    }

    /// Inserts a key that is not present (callers check first), with the entry's expire, and
    /// returns a handle on it.
    pub fn insert_new(
        &mut self,
        hasher: &RandomState,
        hash: u64,
        key: &[u8],
        entry: Entry,
    ) -> EntryMut<'_> {
        if self.len >= self.buckets.len() {
            let grow = match &self.snap {
                None => true,
                Some(_) if self.len >= self.buckets.len() * SNAPSHOT_MAX_LOAD => {
                    self.record_rest_of_snapshot();
                    true
                }
                Some(_) => false,
            };
            if grow {
                let target = (self.buckets.len() * 2).max(MIN_BUCKETS);
                self.resize(hasher, target);
            }
        }
        self.before_write(hash);
        let idx = self.index(hash);
        let expire = entry.expire_ms().map(|at| (at, self.volatile.len() as u32));
        let next = self.buckets[idx].take();
        let n = with_payload(entry.value, |p| {
            node::build(next, entry.lru, expire, key, p)
        });
        self.buckets[idx] = Some(n);
        if expire.is_some() {
            self.volatile.push(n);
        }
        self.len += 1;
        EntryMut {
            link: &mut self.buckets[idx],
            volatile: &mut self.volatile,
            _table: PhantomData,
        }
    }

    /// Removes `key`, returning its entry (value, expire, access field).
    pub fn remove(&mut self, hasher: &RandomState, hash: u64, key: &[u8]) -> Option<Entry> {
        self.before_write(hash);
        let (link, n) = self.find_mut(hash, key)?;
        // SAFETY: `n` is live at `link`; it is unlinked before being freed.
        let entry = unsafe {
            *link = node::next(n);
            let exp = node::expire(n);
            if let Some((_, slot)) = exp {
                volatile_remove(&mut self.volatile, slot);
            }
            let lru = node::lru(n);
            Entry {
                value: into_value(n),
                expire_ms: exp.map_or(0, |(at, _)| at),
                lru,
            }
        };
        self.len -= 1;
        self.maybe_shrink(hasher);
        Some(entry)
    }

    /// Sets or clears the expire (Unix milliseconds) of an existing key. Returns false when the
    /// key is missing.
    pub fn set_expire(&mut self, hash: u64, key: &[u8], expire_ms: Option<u64>) -> bool {
        self.before_write(hash);
        let Some((link, n)) = self.find_mut(hash, key) else {
            return false;
        };
        let new = expire_ms.filter(|&at| at != 0);
        // SAFETY: `n` is live at `link` and reached only from here.
        unsafe {
            match (node::expire(n), new) {
                // Same node size: overwrite in place.
                (Some(_), Some(at)) => node::set_expire_at(n, at),
                (None, None) => {}
                _ => {
                    rebuild_at(link, &mut self.volatile, new, None);
                }
            }
        }
        true
    }

    fn maybe_shrink(&mut self, hasher: &RandomState) {
        if self.snap.is_some() {
            // Bucket membership is frozen while a snapshot runs.
            return;
        }
        let size = self.buckets.len();
        if size > MIN_BUCKETS && self.len * 10 < size {
            let target = self.len.next_power_of_two().max(MIN_BUCKETS);
            self.resize(hasher, target);
        } else if self.len == 0 && size > 0 {
            self.buckets = Vec::new();
            self.volatile = Vec::new();
        }
    }

    fn resize(&mut self, hasher: &RandomState, target: usize) {
        let mut new: Vec<Link> = vec![None; target];
        let mask = target - 1;
        for bucket in self.buckets.iter_mut() {
            let mut cur = bucket.take();
            // SAFETY: every node in a chain is live; each is moved to exactly one new chain.
            unsafe {
                while let Some(n) = cur {
                    cur = node::next(n);
                    let idx = (hasher.hash_one(node::key(n)) as usize) & mask;
                    *node::next_link(n) = new[idx];
                    new[idx] = Some(n);
                }
            }
        }
        self.buckets = new;
    }

    /// Calls `f` for each node of bucket `idx`.
    fn chain<'s>(&'s self, idx: usize, mut f: impl FnMut(EntryRef<'s>) -> bool) {
        let mut cur = self.buckets[idx];
        while let Some(n) = cur {
            if !f(self.entry_ref(n)) {
                return;
            }
            // SAFETY: nodes in a chain are live while the table is borrowed.
            cur = unsafe { node::next(n) };
        }
    }

    /// Visits the keys of the bucket at `cursor` and returns the next cursor (0 when the scan is
    /// complete), with Redis' reverse-binary increment.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], EntryRef<'_>)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        self.chain((cursor & mask) as usize, |e| {
            f(e.key(), e);
            true
        });
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A random key (uniform over buckets, then over the chain), as Redis' `dictGetRandomKey`.
    pub fn random_key(&self) -> Option<&[u8]> {
        if self.len == 0 {
            return None;
        }
        let n = self.buckets.len();
        loop {
            let idx = fastrand::usize(..n);
            let mut chain = Vec::new();
            self.chain(idx, |e| {
                chain.push(e.key());
                true
            });
            if !chain.is_empty() {
                return Some(chain[fastrand::usize(..chain.len())]);
            }
        }
    }

    /// Visits up to `count` keys from consecutive buckets starting at a random one, visiting at
    /// most `count * 10` buckets (Redis `dictGetSomeKeys`, the eviction sampler). Keys may
    /// repeat only if the table has fewer than `count` keys.
    pub fn sample(&self, count: usize, mut f: impl FnMut(&[u8], EntryRef<'_>)) {
        if self.len == 0 || count == 0 {
            return;
        }
        let n = self.buckets.len();
        let count = count.min(self.len);
        let mut idx = fastrand::usize(..n);
        let mut found = 0;
        for _ in 0..count.saturating_mul(10).max(n.min(64)) {
            self.chain(idx, |e| {
                f(e.key(), e);
                found += 1;
                found < count
            });
            if found == count {
                return;
            }
            idx = (idx + 1) & (n - 1);
        }
    }

    /// A random key among those with an expire.
    pub fn random_volatile(&self) -> Option<EntryRef<'_>> {
        if self.volatile.is_empty() {
            return None;
        }
        let n = *self.volatile.get(fastrand::usize(..self.volatile.len()))?;
        Some(self.entry_ref(n))
    }

    /// Before a write to the bucket of `hash`: when a snapshot runs and has not recorded that
    /// bucket, records it now (copy-on-write).
    #[inline]
    fn before_write(&mut self, hash: u64) {
        if let Some(snap) = &self.snap {
            let idx = self.index(hash);
            if !snap.is_done(idx) {
                self.record_bucket(idx);
            }
        }
    }

    #[cold]
    fn record_bucket(&mut self, idx: usize) {
        let Some(mut snap) = self.snap.take() else {
            return;
        };
        let mut cur = self.buckets[idx];
        let mut it = std::iter::from_fn(|| {
            let n = cur?;
            // SAFETY: nodes in a chain are live while the table is borrowed.
            cur = unsafe { node::next(n) };
            let e = self.entry_ref(n);
            Some((e.key(), e))
        });
        snap.sink.save_entries(snap.db, &mut it);
        snap.mark(idx);
        self.snap = Some(snap);
    }

    /// Records every bucket the snapshot has not recorded yet and ends it for this table (before
    /// a resize, a FLUSHDB, or when the walker gives up).
    pub fn record_rest_of_snapshot(&mut self) {
        let Some(snap) = &self.snap else {
            return;
        };
        let start = snap.next;
        for idx in start..self.buckets.len() {
            if self.snap.as_ref().is_some_and(|s| !s.is_done(idx)) {
                self.record_bucket(idx);
            }
        }
        self.snap = None;
    }

    /// Starts snapshot `epoch` over this table, recording through `sink` as db `db`. An empty
    /// table needs nothing: keys added later are not part of the snapshot, and the walker skips
    /// tables without state for its epoch.
    pub fn begin_snapshot(&mut self, epoch: u64, db: usize, sink: &Arc<dyn SnapshotSink>) {
        self.snap = None;
        if self.len == 0 {
            return;
        }
        self.snap = Some(Box::new(TableSnap {
            epoch,
            db,
            done: vec![0; self.buckets.len().div_ceil(64)],
            next: 0,
            sink: sink.clone(),
        }));
    }

    /// The walker's step for snapshot `epoch`: calls `f` with the table's snapshot db and each
    /// key of the next buckets not yet recorded, marking them, until at least `max_keys` keys
    /// were visited. Returns false when this table has nothing left for the epoch (then its
    /// snapshot state is gone).
    pub fn snapshot_step(
        &mut self,
        epoch: u64,
        max_keys: usize,
        f: &mut dyn FnMut(usize, &[u8], EntryRef<'_>),
    ) -> bool {
        let Some(mut snap) = self.snap.take() else {
            return false;
        };
        if snap.epoch != epoch {
            self.snap = Some(snap);
            return false;
        }
        let mut visited = 0;
        while snap.next < self.buckets.len() && visited < max_keys {
            let idx = snap.next;
            snap.next += 1;
            if snap.is_done(idx) {
                continue;
            }
            snap.mark(idx);
            let mut cur = self.buckets[idx];
            while let Some(n) = cur {
                // SAFETY: nodes in a chain are live while the table is borrowed.
                cur = unsafe { node::next(n) };
                let e = self.entry_ref(n);
                f(snap.db, e.key(), e);
                visited += 1;
            }
        }
        if snap.next < self.buckets.len() {
            self.snap = Some(snap);
            true
        } else {
            false
        }
    }

    /// Drops any snapshot state (an aborted snapshot).
    pub fn end_snapshot(&mut self) {
        self.snap = None;
    }

    /// Whether a snapshot is recording this table.
    pub fn snapshot_active(&self) -> bool {
        self.snap.is_some()
    }

    /// Iterates every key and entry (order unspecified).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], EntryRef<'_>)> {
        self.buckets.iter().flat_map(move |b| {
            let mut cur = *b;
            std::iter::from_fn(move || {
                let n = cur?;
                // SAFETY: nodes in a chain are live while the table is borrowed.
                cur = unsafe { node::next(n) };
                let e = self.entry_ref(n);
                Some((e.key(), e))
            })
        })
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        for bucket in self.buckets.iter_mut() {
            let mut cur = bucket.take();
            // SAFETY: each node is owned by exactly one chain; it is freed once, after its
            // successor was read.
            unsafe {
                while let Some(n) = cur {
                    cur = node::next(n);
                    drop(node::free(n));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::collections::{HashMap, HashSet};

    fn h(s: &RandomState, k: &[u8]) -> u64 {
        s.hash_one(k)
    }

    #[test]
    fn insert_get_remove_and_resize() {
        let rs = RandomState::new();
        let mut t = Table::default();
        for i in 0..1000u32 {
            let k = format!("k{i}");
            t.insert_new(
                &rs,
                h(&rs, k.as_bytes()),
                k.as_bytes(),
                Entry::new(Value::string(&i.to_le_bytes()), 0),
            );
        }
        assert_eq!(t.len(), 1000);
        assert!(t.buckets.len() >= 1000);
        for i in 0..1000u32 {
            let k = format!("k{i}");
            assert!(t.get(h(&rs, k.as_bytes()), k.as_bytes()).is_some());
        }
        for i in 0..990u32 {
            let k = format!("k{i}");
            assert!(t.remove(&rs, h(&rs, k.as_bytes()), k.as_bytes()).is_some());
        }
        assert_eq!(t.len(), 10);
        assert!(t.buckets.len() <= 16, "shrunk to {}", t.buckets.len());
        assert_eq!(t.iter().count(), 10);
    }

    #[test]
    fn volatile_index_tracks_expires() {
        let rs = RandomState::new();
        let mut t = Table::default();
        let mut expected = HashMap::new();
        for i in 0..200u64 {
            let k = format!("k{i}");
            let hh = h(&rs, k.as_bytes());
            t.insert_new(&rs, hh, k.as_bytes(), Entry::new(Value::string(b"v"), 0));
            if i % 2 == 0 {
                t.set_expire(hh, k.as_bytes(), Some(1000 + i));
                expected.insert(k, 1000 + i);
            }
        }
        // Clear some, remove some.
        for i in (0..200u64).step_by(6) {
            let k = format!("k{i}");
            t.set_expire(h(&rs, k.as_bytes()), k.as_bytes(), None);
            expected.remove(&k);
        }
        for i in (0..200u64).step_by(5) {
            let k = format!("k{i}");
            t.remove(&rs, h(&rs, k.as_bytes()), k.as_bytes());
            expected.remove(&k);
        }
        assert_eq!(t.volatile_len(), expected.len());
        let listed: HashSet<Vec<u8>> = t
            .volatile
            .iter()
            .map(|&n| unsafe { node::key(n) }.to_vec())
            .collect();
        for (k, exp) in &expected {
            assert!(listed.contains(k.as_bytes()));
            let e = t.get(h(&rs, k.as_bytes()), k.as_bytes()).unwrap();
            assert_eq!(e.expire_ms(), Some(*exp));
            let slot = unsafe { node::expire(e.node) }.unwrap().1;
            assert_eq!(
                unsafe { node::key(t.volatile[slot as usize]) },
                k.as_bytes()
            );
        }
    }

    #[test]
    fn scan_returns_every_stable_key_across_resizes() {
        let rs = RandomState::new();
        let mut t = Table::default();
        let add = |t: &mut Table, k: String| {
            let hh = h(&rs, k.as_bytes());
            if t.get(hh, k.as_bytes()).is_none() {
                t.insert_new(&rs, hh, k.as_bytes(), Entry::new(Value::string(b"v"), 0));
            }
        };
        for i in 0..100 {
            add(&mut t, format!("stable{i}"));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = t.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            step += 1;
            // Grow hard, then shrink, while the scan is in progress.
            if step < 20 {
                for j in 0..50 {
                    add(&mut t, format!("tmp{step}-{j}"));
                }
            } else if step == 20 {
                let tmp: Vec<Bytes> = t
                    .iter()
                    .filter(|(k, _)| k.starts_with(b"tmp"))
                    .map(|(k, _)| Bytes::copy_from_slice(k))
                    .collect();
                for k in tmp {
                    t.remove(&rs, h(&rs, &k), &k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(
                seen.contains(format!("stable{i}").as_bytes()),
                "stable{i} missed"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod model_tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        SetInt(u8, i64),
        SetList(u8),
        Append(u8, Vec<u8>),
        /// APPEND through `value_mut` on a handle that is used again afterwards.
        AppendThenTouch(u8, Vec<u8>, u32),
        SetEx(u8, Vec<u8>, Option<u64>),
        Incr(u8),
        Expire(u8, Option<u64>),
        Touch(u8, u32),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        let val = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            proptest::collection::vec(any::<u8>(), 400..700),
        ];
        prop_oneof![
            (any::<u8>(), val.clone()).prop_map(|(k, v)| Op::Set(k, v)),
            (any::<u8>(), any::<i64>()).prop_map(|(k, v)| Op::SetInt(k, v)),
            any::<u8>().prop_map(Op::SetList),
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..300))
                .prop_map(|(k, v)| Op::Append(k, v)),
            (
                any::<u8>(),
                proptest::collection::vec(any::<u8>(), 0..300),
                0u32..(1 << 24)
            )
                .prop_map(|(k, v, l)| Op::AppendThenTouch(k, v, l)),
            (
                any::<u8>(),
                val.clone(),
                proptest::option::of(1u64..u64::MAX)
            )
                .prop_map(|(k, v, e)| Op::SetEx(k, v, e)),
            any::<u8>().prop_map(Op::Incr),
            (any::<u8>(), proptest::option::of(1u64..u64::MAX)).prop_map(|(k, e)| Op::Expire(k, e)),
            (any::<u8>(), 0u32..(1 << 24)).prop_map(|(k, l)| Op::Touch(k, l)),
            any::<u8>().prop_map(Op::Remove),
        ]
    }

    /// What the model remembers per key: the string bytes (or "list"), expire, access field.
    #[derive(Debug, Clone, PartialEq)]
    struct M {
        s: Option<Vec<u8>>,
        exp: Option<u64>,
        lru: u32,
    }

    fn key(k: u8) -> Vec<u8> {
        // Some keys long enough for a multi-byte length.
        if k % 7 == 0 {
            vec![k; 200]
        } else {
            format!("key:{k}").into_bytes()
        }
    }

    fn check(t: &Table, rs: &RandomState, model: &HashMap<u8, M>) {
        assert_eq!(t.len(), model.len());
        let vol = model.values().filter(|m| m.exp.is_some()).count();
        assert_eq!(t.volatile_len(), vol);
        for (k, m) in model {
            let kb = key(*k);
            let e = t.get(rs.hash_one(&kb[..]), &kb).unwrap();
            assert_eq!(e.key(), &kb[..]);
            assert_eq!(e.expire_ms(), m.exp);
            assert_eq!(e.lru(), m.lru);
            match (&m.s, e.value()) {
                (Some(s), ValueRef::String(v)) => assert_eq!(v.with_bytes(|b| b.to_vec()), *s),
                (None, ValueRef::List(_)) => {}
                (want, got) => panic!("{want:?} vs {got:?}"),
            }
        }
        for (i, &n) in t.volatile.iter().enumerate() {
            let (_, slot) = unsafe { node::expire(n) }.unwrap();
            assert_eq!(slot as usize, i);
        }
    }

    proptest! {
        #[test]
        fn table_matches_a_model(ops in proptest::collection::vec(op(), 1..300)) {
            let rs = RandomState::new();
            let mut t = Table::default();
            let mut model: HashMap<u8, M> = HashMap::new();
            for op in ops {
                match op {
                    Op::Set(k, v) => {
                        let kb = key(k);
                        let h = rs.hash_one(&kb[..]);
                        let value = Value::string(&v);
                        match t.get_mut(h, &kb) {
                            Some(mut e) => { e.replace(value); }
                            None => { t.insert_new(&rs, h, &kb, Entry::new(value, 0)); }
                        }
                        let m = model.entry(k).or_insert(M { s: None, exp: None, lru: 0 });
                        m.s = Some(v);
                    }
                    Op::SetInt(k, n) => {
                        let kb = key(k);
                        let h = rs.hash_one(&kb[..]);
                        let value = Value::String(StrValue::Int(n));
                        match t.get_mut(h, &kb) {
                            Some(mut e) => { e.replace(value); }
                            None => { t.insert_new(&rs, h, &kb, Entry::new(value, 0)); }
                        }
                        let m = model.entry(k).or_insert(M { s: None, exp: None, lru: 0 });
                        m.s = Some(n.to_string().into_bytes());
                    }
                    Op::SetList(k) => {
                        let kb = key(k);
                        let h = rs.hash_one(&kb[..]);
                        let value = Value::List(Box::default());
                        match t.get_mut(h, &kb) {
                            Some(mut e) => { e.replace(value); }
                            None => { t.insert_new(&rs, h, &kb, Entry::new(value, 0)); }
                        }
                        let m = model.entry(k).or_insert(M { s: None, exp: None, lru: 0 });
                        m.s = None;
                    }
                    Op::Append(k, v) => {
                        let kb = key(k);
                        if let Some(e) = t.get_mut(rs.hash_one(&kb[..]), &kb) {
                            if let ValueMut::String(mut s) = e.into_value_mut() {
                                s.append(&v);
                                if let Some(ms) = &mut model.get_mut(&k).unwrap().s {
                                    ms.extend_from_slice(&v);
                                }
                            }
                        }
                    }
                    Op::AppendThenTouch(k, v, l) => {
                        let kb = key(k);
                        if let Some(mut e) = t.get_mut(rs.hash_one(&kb[..]), &kb) {
                            if let ValueMut::String(mut s) = e.value_mut() {
                                s.append(&v);
                                if let Some(ms) = &mut model.get_mut(&k).unwrap().s {
                                    ms.extend_from_slice(&v);
                                }
                            }
                            e.touch(l);
                            model.get_mut(&k).unwrap().lru = l;
                            prop_assert_eq!(e.expire_ms(), model[&k].exp);
                        }
                    }
                    Op::SetEx(k, v, at) => {
                        let kb = key(k);
                        let h = rs.hash_one(&kb[..]);
                        let value = Value::string(&v);
                        match t.get_mut(h, &kb) {
                            Some(mut e) => { e.replace_with_expire(value, at); }
                            None => {
                                t.insert_new(&rs, h, &kb, Entry::new(value, 0).with_expire(at));
                            }
                        }
                        let m = model.entry(k).or_insert(M { s: None, exp: None, lru: 0 });
                        m.s = Some(v);
                        m.exp = at;
                    }
                    Op::Incr(k) => {
                        let kb = key(k);
                        if let Some(e) = t.get_mut(rs.hash_one(&kb[..]), &kb) {
                            if let ValueMut::String(mut s) = e.into_value_mut() {
                                if let Some(n) = s.as_i64().and_then(|n| n.checked_add(1)) {
                                    *s = StrValue::Int(n);
                                    model.get_mut(&k).unwrap().s = Some(n.to_string().into_bytes());
                                }
                            }
                        }
                    }
                    Op::Expire(k, at) => {
                        let kb = key(k);
                        let found = t.set_expire(rs.hash_one(&kb[..]), &kb, at);
                        prop_assert_eq!(found, model.contains_key(&k));
                        if let Some(m) = model.get_mut(&k) {
                            m.exp = at;
                        }
                    }
                    Op::Touch(k, l) => {
                        let kb = key(k);
                        if let Some(mut e) = t.get_mut(rs.hash_one(&kb[..]), &kb) {
                            e.touch(l);
                            model.get_mut(&k).unwrap().lru = l;
                        }
                    }
                    Op::Remove(k) => {
                        let kb = key(k);
                        let got = t.remove(&rs, rs.hash_one(&kb[..]), &kb);
                        let want = model.remove(&k);
                        prop_assert_eq!(got.is_some(), want.is_some());
                        if let (Some(g), Some(w)) = (got, want) {
                            prop_assert_eq!(g.expire_ms(), w.exp);
                            prop_assert_eq!(g.lru(), w.lru);
                            if let Some(s) = w.s {
                                let Value::String(gs) = g.value else { panic!("not a string") };
                                prop_assert_eq!(gs.with_bytes(|b| b.to_vec()), s);
                            }
                        }
                    }
                }
                check(&t, &rs, &model);
            }
        }
    }
}
