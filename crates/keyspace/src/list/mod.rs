//! [`List`]: Redis 7.0's quicklist, a deque of nodes each holding a [`Listpack`] of
//! consecutive elements (`OBJECT ENCODING` is always `quicklist`).
//!
//! # Layout
//!
//! | part                | what                                                               |
//! |---------------------|--------------------------------------------------------------------|
//! | `nodes`             | `VecDeque` of nodes, head first: O(1) push and pop at both ends    |
//! | a node              | a listpack of 1 or more elements (never empty), plain or LZF-      |
//! |                     | compressed (`lzf`), sized by `list-max-listpack-size` (`node`)     |
//! | `len`               | the element count, so `LLEN` is O(1)                               |
//! | `fill`, `depth`     | `list-max-listpack-size` and `list-compress-depth`, fixed when the |
//! |                     | list is created, as Redis' `quicklistSetOptions` does              |
//!
//! Elements are byte strings; those that are the canonical decimal of an `i64` are stored as
//! listpack integers, as in Redis, and read back as the same text.
//!
//! **Compression**: with a depth `d > 0`, the `d` nodes at each end stay plain and every node
//! between them is stored LZF-compressed when that saves at least 8 bytes (Redis'
//! `__quicklistCompress`). A compressed node is decompressed to be changed and compressed again
//! afterwards; reads decompress into a temporary copy.
//!
//! **Merging**: after deletions in the middle (LREM, LTRIM, splits by LINSERT and LSET)
//! neighbouring nodes are merged when the result still respects the fill (Redis'
//! `_quicklistMergeNodes` rules), so a list thinned out by LREM does not keep many tiny nodes.
//!
//! Elements of 1 GiB and more (Redis' "plain" nodes) are stored in ordinary one-element nodes.

mod node;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use bytes::Bytes;

use crate::encoding::EncodingLimits;
use crate::listpack::{Listpack, LpValue};
use node::{allow_insert, allow_merge, allow_replace, append_all, clamp_fill, Node};

/// Most nodes kept plain at each end (Redis' `COMPRESS_MAX`).
const COMPRESS_MAX: i64 = 1 << 16;

/// One end of a list: `LEFT` / `RIGHT` in LMOVE, LMPOP (Redis' `LIST_HEAD` / `LIST_TAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The first element (`LEFT`, LPUSH, LPOP).
    Head,
    /// The last element (`RIGHT`, RPUSH, RPOP).
    Tail,
}

/// One node as stored, for writing RDB files (Redis writes compressed nodes as LZF blobs).
#[derive(Clone, Copy, Debug)]
pub enum NodeRef<'a> {
    /// A plain node: its listpack.
    Listpack(&'a Listpack),
    /// A compressed node: the LZF stream and the size of the listpack it expands to, in bytes.
    Compressed {
        /// The LZF stream.
        lzf: &'a [u8],
        /// Size of the decompressed listpack, in bytes.
        listpack_bytes: usize,
    },
}

/// A Redis list: a quicklist of listpack nodes (see the module docs).
#[derive(Clone, Debug)]
pub struct List {
    /// The nodes, head first; none is empty.
    nodes: VecDeque<Node>,
    /// Number of elements.
    len: usize,
    /// `list-max-listpack-size`, clamped to `-5..=32768`.
    fill: i32,
    /// `list-compress-depth`: nodes kept plain at each end, 0 = no compression.
    depth: usize,
}

impl Default for List {
    /// An empty list with Redis' default options (fill -2, no compression).
    fn default() -> Self {
        List::with_limits(&EncodingLimits::default())
    }
}

impl List {
    /// An empty list whose nodes follow `limits.list_max_listpack_size` and
    /// `limits.list_compress_depth` for its whole life (Redis fixes both at creation).
    pub fn with_limits(limits: &EncodingLimits) -> List {
        List {
            nodes: VecDeque::new(),
            len: 0,
            fill: clamp_fill(limits.list_max_listpack_size),
            depth: limits.list_compress_depth.clamp(0, COMPRESS_MAX) as usize,
        }
    }

    /// The `OBJECT ENCODING` name: always `quicklist` (Redis 7.0).
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate bytes used: the node table plus every node's buffer.
    pub fn mem_bytes(&self) -> usize {
        std::mem::size_of::<List>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(Node::heap_bytes).sum::<usize>()
    }

    /// [`List::mem_bytes`] estimated from the first `samples` nodes (all when `samples` is 0 or
    /// at least the node count), extrapolated to every node, as Redis' `objectComputeSize`
    /// samples a quicklist from its head (MEMORY USAGE ... SAMPLES).
    pub fn sampled_mem_bytes(&self, samples: usize) -> usize {
        let n = self.nodes.len();
        if samples == 0 || samples >= n {
            return self.mem_bytes();
        }
        let sampled: usize = self.nodes.iter().take(samples).map(Node::heap_bytes).sum();
        std::mem::size_of::<List>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + sampled * n / samples
    }

    /// Redis' `lazyfreeGetFreeEffort` for a quicklist: its number of nodes.
    pub fn free_effort(&self) -> usize {
        self.nodes.len()
    }

    /// Number of nodes (`ql_nodes` of `DEBUG OBJECT`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of compressed nodes.
    pub fn compressed_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_compressed()).count()
    }

    /// The nodes as stored, head first (for RDB).
    pub fn nodes(&self) -> impl Iterator<Item = NodeRef<'_>> {
        self.nodes.iter().map(|n| match n {
            Node::Raw(lp) => NodeRef::Listpack(lp),
            Node::Lzf(_) => {
                let (lzf, listpack_bytes) = n.lzf().unwrap_or_default();
                NodeRef::Compressed {
                    lzf,
                    listpack_bytes,
                }
            }
        })
    }

    /// Appends `lp` as a whole node at the tail, as loaded from an RDB file (Redis'
    /// `quicklistAppendListpack`); an empty listpack is dropped.
    pub fn push_listpack(&mut self, lp: Listpack) {
        if lp.is_empty() {
            return;
        }
        self.len += lp.len();
        self.nodes.push_back(Node::Raw(lp));
        self.settle();
        let last = self.nodes.len() - 1;
        self.compress_interior(last.saturating_sub(1)..last + 1);
    }

    /// Adds `v` at `end` (LPUSH / RPUSH): into the end node when it has room under the fill,
    /// else in a new node. O(1).
    pub fn push(&mut self, end: End, v: &[u8]) {
        let fill = self.fill;
        let node = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        match node {
            Some(n) if allow_insert(fill, n.sz(), n.count(), v.len()) => {
                let lp = n.lp_mut();
                match end {
                    End::Head => lp.push_front(v),
                    End::Tail => lp.push_back(v),
                }
            }
            Some(full) => {
                // The end node is full and stops growing: give back its growth headroom.
                if let Node::Raw(lp) = full {
                    lp.shrink_to_fit();
                }
                self.push_new_node(end, v);
            }
            None => self.push_new_node(end, v),
        }
        self.len += 1;
    }

    /// Pushes a node holding `v` alone at `end`.
    fn push_new_node(&mut self, end: End, v: &[u8]) {
        if self.nodes.is_empty() {
            // Most lists are one node: no room for four (VecDeque's first growth).
            self.nodes.reserve_exact(1);
        }
        match end {
            End::Head => self.nodes.push_front(Node::with(v)),
            End::Tail => self.nodes.push_back(Node::with(v)),
        }
        self.settle();
    }

    /// Removes and returns the element at `end` (LPOP / RPOP), `None` when empty. O(1).
    pub fn pop(&mut self, end: End) -> Option<Bytes> {
        let node = match end {
            End::Head => self.nodes.front_mut()?,
            End::Tail => self.nodes.back_mut()?,
        };
        let lp = node.lp_mut();
        let off = match end {
            End::Head => lp.first()?,
            End::Tail => lp.last()?,
        };
        let v = lp.get(off).to_bytes();
        lp.delete(off);
        if lp.is_empty() {
            match end {
                End::Head => self.nodes.pop_front(),
                End::Tail => self.nodes.pop_back(),
            };
            self.settle();
            self.shrink_node_table();
        }
        self.len -= 1;
        Some(v)
    }

    /// The element at `index` (0 = head, -1 = tail), `None` when out of range (LINDEX).
    /// O(nodes + node size), walking from the nearer end.
    pub fn get(&self, index: i64) -> Option<Bytes> {
        let i = self.normalize(index)?;
        let (ni, k) = self.locate(i);
        let lp = self.nodes[ni].listpack();
        let off = lp.seek(k as i64)?;
        Some(lp.get(off).to_bytes())
    }

    /// Replaces the element at `index` (0 = head, -1 = tail) with `v`; `false` when out of
    /// range (LSET answers `ERR index out of range`). A node that would outgrow the fill is
    /// split around the new element.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some(i) = self.normalize(index) else {
            return false;
        };
        let (ni, k) = self.locate(i);
        let (fill, sz, count) = (self.fill, self.nodes[ni].sz(), self.nodes[ni].count());
        let lp = self.nodes[ni].lp_mut();
        let Some(off) = lp.seek(k as i64) else {
            return false;
        };
        let old_bytes = lp.next(off).unwrap_or(lp.bytes_len() - 1) - off;
        if allow_replace(fill, sz, count, old_bytes, v.len()) {
            lp.replace(off, v);
            self.compress_interior(ni..ni + 1);
        } else {
            // Too big for this node: delete the old element, insert the new one as LINSERT would.
            lp.delete(off);
            self.len -= 1;
            self.insert_in_node(ni, k, v);
        }
        true
    }

    /// Inserts `v` before (or with `after`, after) the first element equal to `pivot`, head
    /// first (LINSERT); `false` when there is no such element. O(N) to find the pivot.
    pub fn insert_at_pivot(&mut self, pivot: &[u8], v: &[u8], after: bool) -> bool {
        let Some((ni, k)) = self.find_first(pivot) else {
            return false;
        };
        self.insert_in_node(ni, k + usize::from(after), v);
        true
    }

    /// Inserts `v` so that it becomes the element at `index` (`0..=len`; beyond `len` appends).
    pub fn insert(&mut self, index: usize, v: &[u8]) {
        if index == 0 || self.nodes.is_empty() {
            return self.push(End::Head, v);
        }
        if index >= self.len {
            return self.push(End::Tail, v);
        }
        let (ni, k) = self.locate(index);
        self.insert_in_node(ni, k, v);
    }

    /// Removes up to `count` elements equal to `v` (LREM): from the head when `count > 0`, from
    /// the tail when `count < 0`, all when 0. Returns how many were removed. O(N).
    pub fn remove(&mut self, v: &[u8], count: i64) -> usize {
        let limit = match count {
            0 => usize::MAX,
            c => usize::try_from(c.unsigned_abs()).unwrap_or(usize::MAX),
        };
        let from_tail = count < 0;
        let (mut removed, mut touched) = (0, None::<(usize, usize)>);
        // Visit nodes head to tail (or tail to head) by position; `next` is the next to visit.
        let mut next = if from_tail { self.nodes.len() } else { 0 };
        while removed < limit {
            let ni = if from_tail {
                match next.checked_sub(1) {
                    Some(i) => i,
                    None => break,
                }
            } else if next < self.nodes.len() {
                next
            } else {
                break;
            };
            next = if from_tail { ni } else { ni + 1 };
            if !self.nodes[ni].listpack().iter().any(|e| e.eq_bytes(v)) {
                continue;
            }
            let lp = self.nodes[ni].lp_mut();
            removed += remove_in(lp, v, limit - removed, from_tail);
            if lp.is_empty() {
                self.nodes.remove(ni);
                next = ni;
            }
            touched = Some(touched.map_or((ni, ni), |(lo, hi)| (lo.min(ni), hi.max(ni))));
        }
        self.len -= removed;
        if let Some((lo, hi)) = touched {
            self.after_deletion(lo, hi);
        }
        removed
    }

    /// Removes `count` elements starting at index `start` (fewer when the list ends first);
    /// LTRIM removes a prefix and a suffix with it. O(removed + nodes).
    pub fn delete_range(&mut self, start: usize, count: usize) {
        if start >= self.len {
            return;
        }
        let count = count.min(self.len - start);
        if count == 0 {
            return;
        }
        let (first, k0) = self.locate(start);
        let (mut ni, mut k, mut left) = (first, k0, count);
        while left > 0 && ni < self.nodes.len() {
            let c = self.nodes[ni].count();
            if k == 0 && left >= c {
                self.nodes.remove(ni);
                left -= c;
                continue;
            }
            let del = left.min(c - k);
            let lp = self.nodes[ni].lp_mut();
            if let Some(off) = lp.seek(k as i64) {
                lp.delete_range(off, del);
            }
            left -= del;
            ni += 1;
            k = 0;
        }
        self.len -= count;
        self.after_deletion(first, first + 1);
    }

    /// Calls `f` with up to `count` elements from index `start`, head to tail (LRANGE). Starts
    /// from the node holding `start`, found from the nearer end: O(nodes + count).
    pub fn for_range(&self, start: usize, count: usize, mut f: impl FnMut(LpValue<'_>)) {
        if start >= self.len {
            return;
        }
        let mut left = count.min(self.len - start);
        let (mut ni, k) = self.locate(start);
        let mut first = Some(k);
        while left > 0 && ni < self.nodes.len() {
            let lp = self.nodes[ni].listpack();
            let mut off = match first.take() {
                Some(k) => lp.seek(k as i64),
                None => lp.first(),
            };
            while let Some(o) = off.filter(|_| left > 0) {
                f(lp.get(o));
                left -= 1;
                off = lp.next(o);
            }
            ni += 1;
        }
    }

    /// Calls `f` with every element from the head (or with `from_tail`, from the tail) until it
    /// returns `false` (LPOS).
    pub fn walk(&self, from_tail: bool, mut f: impl FnMut(LpValue<'_>) -> bool) {
        let mut visit = |node: &Node| -> bool {
            let lp = node.listpack();
            if from_tail {
                lp.iter().rev().all(&mut f)
            } else {
                lp.iter().all(&mut f)
            }
        };
        if from_tail {
            self.nodes.iter().rev().all(&mut visit);
        } else {
            self.nodes.iter().all(&mut visit);
        }
    }

    /// Index of `index` (negative counts from the tail) when it is in range.
    fn normalize(&self, index: i64) -> Option<usize> {
        let len = i64::try_from(self.len).ok()?;
        let i = if index < 0 {
            index.checked_add(len)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The node holding element `index` (< len) and the element's index within it, walking
    /// from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.len / 2 {
            let mut before = 0;
            for (ni, n) in self.nodes.iter().enumerate() {
                let c = n.count();
                if index < before + c {
                    return (ni, index - before);
                }
                before += c;
            }
        } else {
            let mut before = self.len;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                before -= n.count();
                if index >= before {
                    return (ni, index - before);
                }
            }
        }
        (self.nodes.len().saturating_sub(1), 0)
    }

    /// The node and in-node index of the first element equal to `v`.
    fn find_first(&self, v: &[u8]) -> Option<(usize, usize)> {
        self.nodes.iter().enumerate().find_map(|(ni, n)| {
            let k = n.listpack().iter().position(|e| e.eq_bytes(v))?;
            Some((ni, k))
        })
    }

    /// Inserts `v` as element `k` (`0..=count`) of node `ni`, as Redis' `_quicklistInsert`:
    /// into the node when it has room, else into the neighbour at that edge, else a new node
    /// at the edge, else (mid-node) by splitting the node around a new one-element node, which
    /// is then merged with a neighbour when the fill allows.
    fn insert_in_node(&mut self, ni: usize, k: usize, v: &[u8]) {
        let fill = self.fill;
        self.len += 1;
        let (sz, count) = (self.nodes[ni].sz(), self.nodes[ni].count());
        if allow_insert(fill, sz, count, v.len()) {
            let lp = self.nodes[ni].lp_mut();
            match lp.seek(k as i64).filter(|_| k < count) {
                Some(off) => {
                    lp.insert_before(off, v);
                }
                None => lp.push_back(v),
            }
            return self.compress_interior(ni..ni + 1);
        }
        let neighbour = match k {
            0 => ni.checked_sub(1),
            k if k >= count => Some(ni + 1).filter(|&n| n < self.nodes.len()),
            _ => None,
        };
        if let Some(nb) = neighbour {
            let n = &self.nodes[nb];
            if allow_insert(fill, n.sz(), n.count(), v.len()) {
                let lp = self.nodes[nb].lp_mut();
                if nb < ni {
                    lp.push_back(v);
                } else {
                    lp.push_front(v);
                }
                return self.compress_interior(nb..nb + 1);
            }
        }
        let at = match k {
            0 => ni,
            k if k >= count => ni + 1,
            k => {
                self.split(ni, k);
                ni + 1
            }
        };
        self.nodes.insert(at, Node::with(v));
        let at = self.merge_around(at);
        self.settle();
        self.compress_interior(at.saturating_sub(1)..at + 2);
    }

    /// Splits node `ni` so that its elements from `k` on (0 < k < count) form a new node after
    /// it (Redis' `_quicklistSplitNode`).
    fn split(&mut self, ni: usize, k: usize) {
        let lp = self.nodes[ni].lp_mut();
        let mut tail = lp.clone();
        if let Some(off) = lp.seek(k as i64) {
            lp.delete_range(off, usize::MAX);
        }
        if let Some(first) = tail.first() {
            tail.delete_range(first, k);
        }
        self.nodes.insert(ni + 1, Node::Raw(tail));
    }

    /// Merges node `a + 1` into node `a` when the fill allows; returns whether it did.
    fn try_merge(&mut self, a: usize) -> bool {
        let (Some(x), Some(y)) = (self.nodes.get(a), self.nodes.get(a + 1)) else {
            return false;
        };
        if !allow_merge(self.fill, x, y) {
            return false;
        }
        let Some(b) = self.nodes.remove(a + 1) else {
            return false;
        };
        append_all(self.nodes[a].lp_mut(), &b.into_listpack());
        true
    }

    /// Merges node `i` with its previous, then with its next neighbour, where the fill allows
    /// (Redis' `_quicklistMergeNodes`); returns the index of the node now holding `i`'s
    /// elements.
    fn merge_around(&mut self, i: usize) -> usize {
        let i = if i > 0 && self.try_merge(i - 1) {
            i - 1
        } else {
            i
        };
        self.try_merge(i);
        i
    }

    /// After elements were deleted from nodes `lo..=hi` (indexes as they are now, possibly past
    /// the end): merges neighbours that fit together and restores compression.
    fn after_deletion(&mut self, lo: usize, hi: usize) {
        let Some(last) = self.nodes.len().checked_sub(1) else {
            return;
        };
        let mut i = lo.saturating_sub(1);
        let mut end = hi.saturating_add(1).min(last);
        while i < end {
            if self.try_merge(i) {
                end -= 1;
            } else {
                i += 1;
            }
        }
        self.settle();
        self.compress_interior(lo.saturating_sub(1)..end + 1);
        self.shrink_node_table();
    }

    /// Gives back node-table capacity once it is 4 times what the nodes need (a list trimmed
    /// from millions of elements to a few does not keep its big table).
    fn shrink_node_table(&mut self) {
        let n = self.nodes.len();
        if self.nodes.capacity() > 64 && self.nodes.capacity() / 4 > n {
            self.nodes.shrink_to(n * 2);
        }
    }

    /// Keeps the `depth` nodes at each end plain and compresses the first node past them on
    /// each side (Redis' `__quicklistCompress`). A no-op without compression.
    fn settle(&mut self) {
        let (n, d) = (self.nodes.len(), self.depth);
        if d == 0 {
            return;
        }
        for i in 0..d.min(n) {
            self.nodes[i].decompress();
            self.nodes[n - 1 - i].decompress();
        }
        if n > 2 * d {
            self.nodes[d].compress();
            self.nodes[n - 1 - d].compress();
        }
    }

    /// Compresses the nodes of `range` that lie beyond the plain ends.
    fn compress_interior(&mut self, range: std::ops::Range<usize>) {
        let (n, d) = (self.nodes.len(), self.depth);
        if d == 0 || n <= 2 * d {
            return;
        }
        for i in range.start.max(d)..range.end.min(n - d) {
            self.nodes[i].compress();
        }
    }
}

/// Deletes up to `limit` entries equal to `v` from `lp`, from the head or the tail; returns how
/// many it deleted.
fn remove_in(lp: &mut Listpack, v: &[u8], limit: usize, from_tail: bool) -> usize {
    let mut removed = 0;
    let mut off = if from_tail { lp.last() } else { lp.first() };
    while let Some(o) = off.filter(|_| removed < limit) {
        let hit = lp.get(o).eq_bytes(v);
        off = match (hit, from_tail) {
            (true, false) => lp.delete(o),
            (true, true) => {
                // Entries before `o` keep their offsets when it is deleted.
                let prev = lp.prev(o);
                lp.delete(o);
                prev
            }
            (false, false) => lp.next(o),
            (false, true) => lp.prev(o),
        };
        removed += usize::from(hit);
    }
    removed
}

// Cross-family API (used by SORT, COPY and other families); keep these signatures.
impl List {
    /// An empty list with Redis' default node options; see [`List::with_limits`].
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements (`LLEN`), O(1).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f` with every element, head to tail (integers as their decimal text).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.walk(false, |v| {
            v.with_bytes(&mut f);
            true
        });
    }

    /// Appends `v` at the tail. An empty list first adopts `limits`' node options, so that
    /// `List::new()` followed by pushes behaves like a list created under `limits`.
    pub fn push_back(&mut self, v: &[u8], limits: &EncodingLimits) {
        if self.nodes.is_empty() {
            *self = List::with_limits(limits);
        }
        self.push(End::Tail, v);
    }
}
