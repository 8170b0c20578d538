//! [`Dict`]: the `hashtable` encoding of hashes, sets and sorted sets.
//!
//! Layout: a chained hash table whose nodes live in one `Vec` (an arena) and are linked by `u32`
//! indexes instead of pointers:
//!
//! | part      | per element / bucket                   | notes                               |
//! |-----------|----------------------------------------|-------------------------------------|
//! | `nodes`   | the item + 32-bit hash + 32-bit `next`  | dense, no allocation per element   |
//! | `buckets` | 4 bytes per bucket (head node index)   | power of two, load factor ≤ 1       |
//!
//! Compared with Redis' `dict` (a 24-byte `dictEntry` allocation per element plus an 8-byte
//! bucket pointer) this saves the per-element allocation and its allocator overhead.
//!
//! Removing swaps the last node into the hole (O(1) plus the moved node's chain walk), so node
//! indexes are dense and a uniformly random element is one `fastrand` call away (`SPOP`,
//! `SRANDMEMBER`, `HRANDFIELD`), where Redis samples buckets.
//!
//! [`Dict::scan`] uses Redis' reverse-binary bucket cursor (`dictScan`), so an element present
//! for the whole of a SCAN is returned at least once even when the table grows or shrinks
//! between calls. The table grows at load factor 1 and shrinks below 10% fill, as Redis does;
//! resizing rehashes the nodes in place, in one step, with no allocation per node.

use std::sync::OnceLock;

/// An item stored in a [`Dict`]: it has a key of bytes that identifies it.
pub trait DictItem {
    /// The key bytes the item is hashed and compared by. Must not change while stored.
    fn key(&self) -> &[u8];
}

impl DictItem for crate::elem::Elem {
    fn key(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl<V> DictItem for (crate::elem::Elem, V) {
    fn key(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

const NIL: u32 = u32::MAX;
const MIN_BUCKETS: usize = 4;

#[derive(Clone, Debug)]
struct Node<T> {
    item: T,
    hash: u32,
    next: u32,
}

/// A hash table of items keyed by bytes (see the module docs for the layout).
#[derive(Clone, Debug)]
pub struct Dict<T> {
    nodes: Vec<Node<T>>,
    buckets: Box<[u32]>,
}

impl<T> Default for Dict<T> {
    fn default() -> Self {
        Dict {
            nodes: Vec::new(),
            buckets: Box::default(),
        }
    }
}

fn hasher() -> &'static ahash::RandomState {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new)
}

/// The 32-bit hash of `key` used for bucket selection (seeded randomly once per process).
pub fn hash32(key: &[u8]) -> u32 {
    hasher().hash_one(key) as u32
}

impl<T: DictItem> Dict<T> {
    /// An empty table (no allocation).
    pub fn new() -> Dict<T> {
        Dict::default()
    }

    /// An empty table sized for `n` elements.
    pub fn with_capacity(n: usize) -> Dict<T> {
        let mut d = Dict {
            nodes: Vec::with_capacity(n),
            buckets: Box::default(),
        };
        d.rehash(n.next_power_of_two().max(MIN_BUCKETS));
        d
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Number of buckets (a power of two, or 0 before the first insert).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    fn find(&self, key: &[u8], hash: u32) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut i = self.buckets[hash as usize & self.mask()];
        while i != NIL {
            let n = &self.nodes[i as usize];
            if n.hash == hash && n.item.key() == key {
                return Some(i as usize);
            }
            i = n.next;
        }
        None
    }

    /// The item with `key`.
    pub fn get(&self, key: &[u8]) -> Option<&T> {
        self.find(key, hash32(key)).map(|i| &self.nodes[i].item)
    }

    /// The item with `key`, mutably. The caller must not change the item's key.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        self.find(key, hash32(key))
            .map(move |i| &mut self.nodes[i].item)
    }

    /// Whether an item with `key` exists.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.find(key, hash32(key)).is_some()
    }

    /// Inserts `item`, replacing and returning an item with the same key.
    pub fn insert(&mut self, item: T) -> Option<T> {
        let hash = hash32(item.key());
        if let Some(i) = self.find(item.key(), hash) {
            return Some(std::mem::replace(&mut self.nodes[i].item, item));
        }
        self.push_new(item, hash);
        None
    }

    /// Inserts `item` unless its key exists; returns whether it was inserted.
    pub fn insert_new(&mut self, item: T) -> bool {
        let hash = hash32(item.key());
        if self.find(item.key(), hash).is_some() {
            return false;
        }
        self.push_new(item, hash);
        true
    }

    fn push_new(&mut self, item: T, hash: u32) {
        if self.nodes.len() >= self.buckets.len() {
            self.rehash((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        if self.nodes.len() == self.nodes.capacity() {
            // Grow by half rather than doubling: at most a third of the arena is slack.
            let extra = (self.nodes.len() / 2).max(4);
            self.nodes.reserve_exact(extra);
        }
        let b = hash as usize & self.mask();
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node {
            item,
            hash,
            next: self.buckets[b],
        });
        self.buckets[b] = idx;
    }

    /// Removes and returns the item with `key`.
    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        let i = self.find(key, hash32(key))?;
        let item = self.remove_at(i);
        self.maybe_shrink();
        Some(item)
    }

    /// Removes and returns the item at dense index `i` (see [`Dict::get_index`]).
    ///
    /// # Panics
    /// If `i >= len()` (a caller bug, never client input).
    pub fn swap_remove_index(&mut self, i: usize) -> T {
        let item = self.remove_at(i);
        self.maybe_shrink();
        item
    }

    fn remove_at(&mut self, i: usize) -> T {
        let mask = self.mask();
        let idx = i as u32;
        // Unlink node i from its chain.
        let b = self.nodes[i].hash as usize & mask;
        let next = self.nodes[i].next;
        self.relink(b, idx, next);
        // Move the last node into the hole and repoint whoever pointed at it.
        let last = (self.nodes.len() - 1) as u32;
        if idx != last {
            let lb = self.nodes[last as usize].hash as usize & mask;
            self.relink(lb, last, idx);
        }
        self.nodes.swap_remove(i).item
    }

    /// In the chain of bucket `b`, replaces the link to `from` by `to`.
    fn relink(&mut self, b: usize, from: u32, to: u32) {
        if self.buckets[b] == from {
            self.buckets[b] = to;
            return;
        }
        let mut cur = self.buckets[b];
        while cur != NIL {
            let n = &mut self.nodes[cur as usize];
            if n.next == from {
                n.next = to;
                return;
            }
            cur = n.next;
        }
    }

    fn maybe_shrink(&mut self) {
        let n = self.nodes.len();
        if self.buckets.len() > MIN_BUCKETS && n * 10 < self.buckets.len() {
            self.rehash(n.next_power_of_two().max(MIN_BUCKETS));
            if self.nodes.capacity() > n * 2 + 8 {
                self.nodes.shrink_to(n + n / 2);
            }
        }
        if n == 0 {
            *self = Dict::default();
        }
    }

    fn rehash(&mut self, size: usize) {
        let mut buckets = vec![NIL; size].into_boxed_slice();
        let mask = size - 1;
        for (i, n) in self.nodes.iter_mut().enumerate() {
            let b = n.hash as usize & mask;
            n.next = buckets[b];
            buckets[b] = i as u32;
        }
        self.buckets = buckets;
    }

    /// The item at dense index `i` in `0..len()` (indexes change when items are removed).
    pub fn get_index(&self, i: usize) -> Option<&T> {
        self.nodes.get(i).map(|n| &n.item)
    }

    /// A uniformly random item.
    pub fn random(&self) -> Option<&T> {
        if self.nodes.is_empty() {
            return None;
        }
        self.get_index(fastrand::usize(..self.nodes.len()))
    }

    /// Visits the chain of the bucket named by `cursor` and returns the next cursor (0 when
    /// done), with Redis' reverse-binary cursor (`dictScan`).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&T)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut i = self.buckets[(cursor & mask) as usize];
        while i != NIL {
            let n = &self.nodes[i as usize];
            f(&n.item);
            i = n.next;
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Every item, in dense-index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &T> + DoubleEndedIterator {
        self.nodes.iter().map(|n| &n.item)
    }

    /// Every item mutably (keys must not change).
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = &mut T> {
        self.nodes.iter_mut().map(|n| &mut n.item)
    }

    /// Consumes the table into its items.
    pub fn into_items(self) -> impl ExactSizeIterator<Item = T> {
        self.nodes.into_iter().map(|n| n.item)
    }

    /// Bytes of the arena and bucket array (not counting heap bytes owned by items).
    pub fn table_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<T>>() + self.buckets.len() * 4
    }
}

impl<T: DictItem> FromIterator<T> for Dict<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut d = Dict::with_capacity(iter.size_hint().0);
        for item in iter {
            d.insert(item);
        }
        d
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::elem::Elem;
    use proptest::prelude::*;
    use std::collections::{HashMap, HashSet};

    fn check_invariants<T: DictItem>(d: &Dict<T>) {
        // Every node is reachable from exactly its own bucket.
        let mut seen = vec![false; d.nodes.len()];
        for (b, &head) in d.buckets.iter().enumerate() {
            let mut i = head;
            while i != NIL {
                let n = &d.nodes[i as usize];
                assert_eq!(n.hash as usize & d.mask(), b);
                assert!(!seen[i as usize], "node linked twice");
                seen[i as usize] = true;
                i = n.next;
            }
        }
        assert!(seen.iter().all(|&s| s), "unlinked node");
        if !d.buckets.is_empty() {
            assert!(d.len() <= d.buckets.len());
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u8),
        Remove(u16),
        SwapRemove(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u16..300, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (0u16..300).prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::SwapRemove),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_hashmap(ops in proptest::collection::vec(op(), 0..600)) {
            let mut d: Dict<(Elem, u8)> = Dict::new();
            let mut m: HashMap<Vec<u8>, u8> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        let key = format!("key:{k}").into_bytes();
                        let old = d.insert((Elem::new(&key), v)).map(|(_, v)| v);
                        prop_assert_eq!(old, m.insert(key, v));
                    }
                    Op::Remove(k) => {
                        let key = format!("key:{k}").into_bytes();
                        prop_assert_eq!(d.remove(&key).map(|(_, v)| v), m.remove(&key));
                    }
                    Op::SwapRemove(i) => {
                        if !d.is_empty() {
                            let (k, v) = d.swap_remove_index(i % d.len());
                            prop_assert_eq!(m.remove(k.as_bytes()), Some(v));
                        }
                    }
                }
                check_invariants(&d);
                prop_assert_eq!(d.len(), m.len());
            }
            for (k, v) in &m {
                prop_assert_eq!(d.get(k).map(|x| x.1), Some(*v));
            }
        }
    }

    #[test]
    fn scan_returns_stable_elements_while_growing_and_shrinking() {
        let mut d: Dict<Elem> = Dict::new();
        for i in 0..200 {
            d.insert(Elem::new(format!("stable{i}").as_bytes()));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |e| {
                seen.insert(e.as_bytes().to_vec());
            });
            step += 1;
            if step < 30 {
                for j in 0..40 {
                    d.insert(Elem::new(format!("tmp{step}:{j}").as_bytes()));
                }
            } else {
                let tmp: Vec<Vec<u8>> = d
                    .iter()
                    .filter(|e| e.starts_with(b"tmp"))
                    .map(|e| e.to_vec())
                    .collect();
                for k in tmp {
                    d.remove(&k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..200 {
            assert!(
                seen.contains(format!("stable{i}").as_bytes()),
                "missed stable{i}"
            );
        }
    }

    #[test]
    fn random_covers_every_element_and_shrinks_to_empty() {
        let mut d: Dict<Elem> = (0..10).map(Elem::from_i64).collect();
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            seen.insert(d.random().unwrap().to_vec());
        }
        assert_eq!(seen.len(), 10);
        for i in 0..10 {
            assert!(d.remove(Elem::from_i64(i).as_bytes()).is_some());
        }
        assert!(d.is_empty());
        assert_eq!(d.bucket_count(), 0);
        assert!(d.random().is_none());
        assert_eq!(d.scan(0, |_| panic!("empty")), 0);
    }
}
