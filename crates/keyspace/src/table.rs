//! The per-shard, per-db hash table.
//!
//! Layout: `buckets` is a power-of-two array of singly linked chains of boxed nodes (key, entry,
//! next); the key is an [`Elem`], stored in the node itself when it is at most 22 bytes, so a
//! typical key costs one allocation (its node). The load factor is kept between 1/10 and 1: the table doubles when it holds more keys
//! than buckets and halves (to the next power of two above its length) when it falls under 10%
//! fill, like Redis' dict. Because a shard holds only a slice of the keyspace, a resize rehashes a
//! small table at once; no incremental rehashing is needed to keep latency flat.
//!
//! SCAN uses Redis' reverse-binary cursor over bucket indexes: a key present for the whole scan
//! is returned at least once even if the table grows or shrinks between calls.
//!
//! Keys with an expire are also listed in `volatile` (the entry remembers its slot), so the
//! active expire cycle samples only keys that can expire, as Redis samples its `expires` dict.

use ahash::RandomState;
use bytes::Bytes;

use crate::elem::Elem;

use crate::value::Value;

/// A key's value and metadata.
#[derive(Debug)]
pub struct Entry {
    /// The stored value.
    pub value: Value,
    /// Absolute expire in Unix milliseconds; 0 = no expire. Changed only through the table.
    expire_ms: u64,
    /// Access field (24 bits, Redis `robj.lru`): the LRU clock of the last access, or under an
    /// LFU policy the minute of the last decrement and the counter (see [`crate::evict`]).
    lru: u32,
    /// Slot in the table's volatile list when `expire_ms != 0`.
    vol_idx: u32,
}

impl Entry {
    /// A new entry without expire, last accessed at LRU clock `lru`.
    pub fn new(value: Value, lru: u32) -> Entry {
        Entry {
            value,
            expire_ms: 0,
            lru,
            vol_idx: 0,
        }
    }

    /// The absolute expire (Unix milliseconds), if any.
    pub fn expire_ms(&self) -> Option<u64> {
        (self.expire_ms != 0).then_some(self.expire_ms)
    }

    /// The access field: LRU clock of the last access, or LFU time + counter
    /// ([`crate::evict`]).
    pub fn lru(&self) -> u32 {
        self.lru
    }

    /// Stores a new access field (computed by [`crate::evict::AccessPolicy::on_access`]).
    pub fn touch(&mut self, lru: u32) {
        self.lru = lru;
    }
}

struct Node {
    /// The key, inline when at most 22 bytes (most keys): no allocation of its own.
    key: Elem,
    entry: Entry,
    next: Option<Box<Node>>,
}

/// Bytes one key costs the table beside its value (MEMORY USAGE): its node (key inline up to
/// [`crate::elem::ELEM_INLINE_MAX`] bytes, entry, chain link), a longer key's own allocation,
/// and its bucket slot at full load.
pub fn key_overhead_bytes(key_len: usize) -> usize {
    let heap_key = if key_len > crate::elem::ELEM_INLINE_MAX {
        key_len
    } else {
        0
    };
    std::mem::size_of::<Node>() + heap_key + std::mem::size_of::<Option<Box<Node>>>()
}

/// One db's keys within one shard.
#[derive(Default)]
pub struct Table {
    buckets: Vec<Option<Box<Node>>>,
    len: usize,
    volatile: Vec<Bytes>,
}

const MIN_BUCKETS: usize = 4;

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

    /// Looks `key` up (hash computed by the caller with the shard's hasher).
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(node) = cur {
            if node.key.as_bytes() == key {
                return Some(&node.entry);
            }
            cur = node.next.as_deref();
        }
        None
    }

    /// Looks `key` up for modification.
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Entry> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.index(hash);
        let mut cur = self.buckets[idx].as_deref_mut();
        while let Some(node) = cur {
            if node.key.as_bytes() == key {
                return Some(&mut node.entry);
            }
            cur = node.next.as_deref_mut();
        }
        None
    }

    /// Looks `key` up and returns the stored key too.
    pub fn get_key_value(&self, hash: u64, key: &[u8]) -> Option<(&[u8], &Entry)> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(node) = cur {
            if node.key.as_bytes() == key {
                return Some((node.key.as_bytes(), &node.entry));
            }
            cur = node.next.as_deref();
        }
        None
    }

    /// Inserts a key that is not present (callers check first). The entry's expire is dropped;
    /// set it with [`Table::set_expire`].
    pub fn insert_new(&mut self, hasher: &RandomState, hash: u64, key: &[u8], mut entry: Entry) {
        let key = Elem::new(key);
        if self.len >= self.buckets.len() {
            let target = (self.buckets.len() * 2).max(MIN_BUCKETS);
            self.resize(hasher, target);
        }
        entry.expire_ms = 0;
        let idx = self.index(hash);
        let next = self.buckets[idx].take();
        self.buckets[idx] = Some(Box::new(Node { key, entry, next }));
        self.len += 1;
    }

    /// Removes `key`, returning the stored key and entry.
    pub fn remove(&mut self, hasher: &RandomState, hash: u64, key: &[u8]) -> Option<(Elem, Entry)> {
        let removed = self.unlink(hash, key)?;
        let Node { key, entry, .. } = *removed;
        self.len -= 1;
        if entry.expire_ms != 0 {
            // The detached entry keeps its expire (RENAME and MOVE carry it over).
            self.volatile_remove(hasher, entry.vol_idx);
        }
        self.maybe_shrink(hasher);
        Some((key, entry))
    }

    fn unlink(&mut self, hash: u64, key: &[u8]) -> Option<Box<Node>> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.index(hash);
        let mut link = &mut self.buckets[idx];
        while link.as_ref().is_some_and(|n| n.key.as_bytes() != key) {
            link = &mut link.as_mut()?.next;
        }
        let mut node = link.take()?;
        *link = node.next.take();
        Some(node)
    }

    /// Sets or clears the expire (Unix milliseconds) of an existing key. Returns false when the
    /// key is missing.
    pub fn set_expire(
        &mut self,
        hasher: &RandomState,
        hash: u64,
        key: &[u8],
        expire_ms: Option<u64>,
    ) -> bool {
        let vol_len = self.volatile.len() as u32;
        let Some(entry) = self.get_mut(hash, key) else {
            return false;
        };
        let was = entry.expire_ms;
        let new = expire_ms.unwrap_or(0);
        entry.expire_ms = new;
        match (was != 0, new != 0) {
            (false, true) => {
                entry.vol_idx = vol_len;
                if let Some((k, _)) = self.get_key_value(hash, key) {
                    let k = Bytes::copy_from_slice(k);
                    self.volatile.push(k);
                }
            }
            (true, false) => {
                let idx = entry.vol_idx;
                self.volatile_remove(hasher, idx);
            }
            _ => {}
        }
        true
    }

    /// Removes slot `idx` of the volatile list, fixing the slot of the key moved into it.
    fn volatile_remove(&mut self, hasher: &RandomState, idx: u32) {
        let idx = idx as usize;
        if idx >= self.volatile.len() {
            return;
        }
        self.volatile.swap_remove(idx);
        if let Some(moved) = self.volatile.get(idx).cloned() {
            if let Some(e) = self.get_mut(hasher.hash_one(&moved[..]), &moved) {
                e.vol_idx = idx as u32;
            }
        }
    }

    fn maybe_shrink(&mut self, hasher: &RandomState) {
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
        let mut new: Vec<Option<Box<Node>>> = Vec::with_capacity(target);
        new.resize_with(target, || None);
        let mask = target - 1;
        for bucket in self.buckets.iter_mut() {
            let mut cur = bucket.take();
            while let Some(mut node) = cur {
                cur = node.next.take();
                let idx = (hasher.hash_one(&node.key[..]) as usize) & mask;
                node.next = new[idx].take();
                new[idx] = Some(node);
            }
        }
        self.buckets = new;
    }

    /// Visits the keys of the bucket at `cursor` and returns the next cursor (0 when the scan is
    /// complete), with Redis' reverse-binary increment.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &Entry)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(node) = cur {
            f(node.key.as_bytes(), &node.entry);
            cur = node.next.as_deref();
        }
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
            let mut cur = self.buckets[idx].as_deref();
            while let Some(node) = cur {
                chain.push(node.key.as_bytes());
                cur = node.next.as_deref();
            }
            if !chain.is_empty() {
                return Some(chain[fastrand::usize(..chain.len())]);
            }
        }
    }

    /// Visits up to `count` keys from consecutive buckets starting at a random one, visiting at
    /// most `count * 10` buckets (Redis `dictGetSomeKeys`, the eviction sampler). Keys may
    /// repeat only if the table has fewer than `count` keys.
    pub fn sample(&self, count: usize, mut f: impl FnMut(&[u8], &Entry)) {
        if self.len == 0 || count == 0 {
            return;
        }
        let n = self.buckets.len();
        let count = count.min(self.len);
        let mut idx = fastrand::usize(..n);
        let mut found = 0;
        for _ in 0..count.saturating_mul(10).max(n.min(64)) {
            let mut cur = self.buckets[idx].as_deref();
            while let Some(node) = cur {
                f(node.key.as_bytes(), &node.entry);
                found += 1;
                if found == count {
                    return;
                }
                cur = node.next.as_deref();
            }
            idx = (idx + 1) & (n - 1);
        }
    }

    /// A random key among those with an expire.
    pub fn random_volatile(&self) -> Option<&Bytes> {
        if self.volatile.is_empty() {
            return None;
        }
        self.volatile.get(fastrand::usize(..self.volatile.len()))
    }

    /// Iterates every key and entry (order unspecified).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> {
        self.buckets.iter().flat_map(|b| {
            let mut cur = b.as_deref();
            std::iter::from_fn(move || {
                let node = cur?;
                cur = node.next.as_deref();
                Some((node.key.as_bytes(), &node.entry))
            })
        })
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // Unlink chains iteratively so a long chain cannot overflow the stack.
        for bucket in self.buckets.iter_mut() {
            let mut cur = bucket.take();
            while let Some(mut node) = cur {
                cur = node.next.take();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
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
                t.set_expire(&rs, hh, k.as_bytes(), Some(1000 + i));
                expected.insert(k, 1000 + i);
            }
        }
        // Clear some, remove some.
        for i in (0..200u64).step_by(6) {
            let k = format!("k{i}");
            t.set_expire(&rs, h(&rs, k.as_bytes()), k.as_bytes(), None);
            expected.remove(&k);
        }
        for i in (0..200u64).step_by(5) {
            let k = format!("k{i}");
            t.remove(&rs, h(&rs, k.as_bytes()), k.as_bytes());
            expected.remove(&k);
        }
        assert_eq!(t.volatile_len(), expected.len());
        let listed: HashSet<_> = t.volatile.iter().cloned().collect();
        for (k, exp) in &expected {
            assert!(listed.contains(k.as_bytes()));
            let e = t.get(h(&rs, k.as_bytes()), k.as_bytes()).unwrap();
            assert_eq!(e.expire_ms(), Some(*exp));
            assert_eq!(&t.volatile[e.vol_idx as usize][..], k.as_bytes());
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
