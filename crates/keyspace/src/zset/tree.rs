//! [`Tree`]: the order-statistic index of a `skiplist`-encoded sorted set, a counted B+tree of
//! [`Key`]s (a score and the member's id in the set's [`Dict`](crate::dict::Dict)).
//!
//! # Layout
//!
//! | node    | holds                                                         | size                  |
//! |---------|---------------------------------------------------------------|-----------------------|
//! | leaf    | up to [`LEAF_CAP`] keys, scores and ids in two arrays         | 8 + 12 × 64 bytes     |
//! | inner   | up to [`INNER_CAP`] children, each with its key count and the | 40 bytes per child    |
//! |         | first key below it                                            |                       |
//!
//! Every leaf is at the same depth. Nodes other than the root stay at least half full (merged
//! with or refilled from a sibling when a removal leaves them below), and a split caused by an
//! append at the very end keeps the left node full, so a set built in order (a conversion, a
//! STORE result, increasing timestamps) fills its leaves completely. A key costs 12 bytes in a
//! leaf, 17 on average at the ~70% fill random insertion gives; inner nodes add about 1 byte.
//!
//! The tree does not know members: [`Tree::count_while`] takes the ordering as a predicate, so
//! the caller compares members through the ids. Positions are ranks; every operation descends
//! one path, O(log N), choosing children by their counts (ranks) or their first keys (searches).

use std::fmt;

/// Most keys in a leaf.
pub const LEAF_CAP: usize = 64;
/// Fewest keys in a leaf other than the root.
const LEAF_MIN: usize = LEAF_CAP / 2;
/// Most children of an inner node.
pub const INNER_CAP: usize = 32;
/// Fewest children of an inner node other than the root.
const INNER_MIN: usize = INNER_CAP / 2;

/// One entry of the index: a score and the id of its member.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Key {
    /// The member's score.
    pub score: f64,
    /// The member's index in the set's dict.
    pub id: u32,
}

#[derive(Clone)]
struct Leaf {
    len: usize,
    scores: [f64; LEAF_CAP],
    ids: [u32; LEAF_CAP],
}

#[derive(Clone)]
struct Child {
    /// Keys below this child.
    count: usize,
    /// The first of those keys.
    first: Key,
    node: Node,
}

#[derive(Clone)]
struct Inner {
    children: Vec<Child>,
}

#[derive(Clone)]
enum Node {
    Leaf(Box<Leaf>),
    Inner(Box<Inner>),
}

/// A counted B+tree of keys, ordered by the caller (see the module docs).
#[derive(Clone)]
pub struct Tree {
    root: Node,
    len: usize,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree")
            .field("len", &self.len)
            .field("nodes", &self.node_count())
            .finish()
    }
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Leaf {
    fn new() -> Box<Leaf> {
        Box::new(Leaf {
            len: 0,
            scores: [0.0; LEAF_CAP],
            ids: [0; LEAF_CAP],
        })
    }

    fn key(&self, i: usize) -> Key {
        Key {
            score: self.scores[i],
            id: self.ids[i],
        }
    }

    fn insert_at(&mut self, i: usize, key: Key) {
        let n = self.len;
        self.scores.copy_within(i..n, i + 1);
        self.ids.copy_within(i..n, i + 1);
        self.scores[i] = key.score;
        self.ids[i] = key.id;
        self.len += 1;
    }

    fn remove_at(&mut self, i: usize) -> Key {
        let key = self.key(i);
        let n = self.len;
        self.scores.copy_within(i + 1..n, i);
        self.ids.copy_within(i + 1..n, i);
        self.len -= 1;
        key
    }

    /// Moves keys `at..` into a new leaf.
    fn split_off(&mut self, at: usize) -> Box<Leaf> {
        let mut right = Leaf::new();
        let moved = self.len - at;
        right.scores[..moved].copy_from_slice(&self.scores[at..self.len]);
        right.ids[..moved].copy_from_slice(&self.ids[at..self.len]);
        right.len = moved;
        self.len = at;
        right
    }

    /// Inserts at `i`, splitting when full; returns the new right sibling. `append`: the key
    /// goes after every key of the tree.
    fn insert(&mut self, i: usize, key: Key, append: bool) -> Option<Box<Leaf>> {
        if self.len < LEAF_CAP {
            self.insert_at(i, key);
            return None;
        }
        // Appending to the tree keeps this leaf full (ordered loads fill leaves completely).
        let at = if append { LEAF_CAP } else { LEAF_CAP / 2 };
        let mut right = self.split_off(at);
        if i <= self.len && i < LEAF_CAP {
            self.insert_at(i, key);
        } else {
            right.insert_at(i - self.len, key);
        }
        Some(right)
    }

    /// Appends every key of `other` (the caller checked they fit).
    fn append(&mut self, other: &mut Leaf) {
        let (n, m) = (self.len, other.len);
        self.scores[n..n + m].copy_from_slice(&other.scores[..m]);
        self.ids[n..n + m].copy_from_slice(&other.ids[..m]);
        self.len += m;
        other.len = 0;
    }

    /// Moves keys between two neighbours so that both hold about half.
    fn even_out(left: &mut Leaf, right: &mut Leaf) {
        let total = left.len + right.len;
        let target = total / 2;
        if left.len < target {
            let k = target - left.len;
            let (n, m) = (left.len, right.len);
            left.scores[n..n + k].copy_from_slice(&right.scores[..k]);
            left.ids[n..n + k].copy_from_slice(&right.ids[..k]);
            right.scores.copy_within(k..m, 0);
            right.ids.copy_within(k..m, 0);
            left.len += k;
            right.len -= k;
        } else if left.len > target {
            let k = left.len - target;
            let m = right.len;
            right.scores.copy_within(0..m, k);
            right.ids.copy_within(0..m, k);
            right.scores[..k].copy_from_slice(&left.scores[target..left.len]);
            right.ids[..k].copy_from_slice(&left.ids[target..left.len]);
            left.len = target;
            right.len += k;
        }
    }
}

impl Node {
    /// Keys (leaf) or children (inner) held directly.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len,
            Node::Inner(n) => n.children.len(),
        }
    }

    fn min_width(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_MIN,
            Node::Inner(_) => INNER_MIN,
        }
    }

    /// Keys below this node.
    fn count(&self) -> usize {
        match self {
            Node::Leaf(l) => l.len,
            Node::Inner(n) => n.children.iter().map(|c| c.count).sum(),
        }
    }

    /// The first key below this node (a zero key when empty: only an empty root is).
    fn first(&self) -> Key {
        match self {
            Node::Leaf(l) if l.len > 0 => l.key(0),
            Node::Leaf(_) => Key { score: 0.0, id: 0 },
            Node::Inner(n) => n
                .children
                .first()
                .map_or(Key { score: 0.0, id: 0 }, |c| c.first),
        }
    }

    fn into_child(self) -> Child {
        Child {
            count: self.count(),
            first: self.first(),
            node: self,
        }
    }

    fn count_while(&self, pred: &mut impl FnMut(Key) -> bool) -> usize {
        match self {
            Node::Leaf(l) => {
                let (mut lo, mut hi) = (0, l.len);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if pred(l.key(mid)) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            }
            Node::Inner(n) => {
                let k = n.children.partition_point(|c| pred(c.first));
                if k == 0 {
                    return 0;
                }
                let before: usize = n.children[..k - 1].iter().map(|c| c.count).sum();
                before + n.children[k - 1].node.count_while(pred)
            }
        }
    }

    fn get(&self, rank: usize) -> Key {
        match self {
            Node::Leaf(l) => l.key(rank),
            Node::Inner(n) => {
                let (i, r) = locate(&n.children, rank);
                n.children[i].node.get(r)
            }
        }
    }

    /// Inserts `key` at `rank`; returns the new right sibling when this node split.
    fn insert(&mut self, rank: usize, key: Key, append: bool) -> Option<Node> {
        match self {
            Node::Leaf(l) => l.insert(rank, key, append).map(Node::Leaf),
            Node::Inner(n) => n.insert(rank, key, append).map(Node::Inner),
        }
    }

    fn remove(&mut self, rank: usize) -> Key {
        match self {
            Node::Leaf(l) => l.remove_at(rank),
            Node::Inner(n) => n.remove(rank),
        }
    }

    fn set_id(&mut self, rank: usize, id: u32) {
        match self {
            Node::Leaf(l) => l.ids[rank] = id,
            Node::Inner(n) => {
                let (i, r) = locate(&n.children, rank);
                let c = &mut n.children[i];
                c.node.set_id(r, id);
                c.first = c.node.first();
            }
        }
    }

    fn visit_forward(&self, start: usize, f: &mut impl FnMut(Key) -> bool) -> bool {
        match self {
            Node::Leaf(l) => (start..l.len).all(|i| f(l.key(i))),
            Node::Inner(n) => {
                let (i, mut r) = locate(&n.children, start);
                for c in &n.children[i..] {
                    if !c.node.visit_forward(r, f) {
                        return false;
                    }
                    r = 0;
                }
                true
            }
        }
    }

    fn visit_backward(&self, start: usize, f: &mut impl FnMut(Key) -> bool) -> bool {
        match self {
            Node::Leaf(l) => (0..=start).rev().all(|i| f(l.key(i))),
            Node::Inner(n) => {
                let (i, r) = locate(&n.children, start);
                if !n.children[i].node.visit_backward(r, f) {
                    return false;
                }
                n.children[..i]
                    .iter()
                    .rev()
                    .all(|c| c.node.visit_backward(c.count - 1, f))
            }
        }
    }

    fn node_count(&self) -> usize {
        match self {
            Node::Leaf(_) => 1,
            Node::Inner(n) => {
                1 + n
                    .children
                    .iter()
                    .map(|c| c.node.node_count())
                    .sum::<usize>()
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Node::Leaf(_) => std::mem::size_of::<Leaf>(),
            Node::Inner(n) => {
                std::mem::size_of::<Inner>()
                    + n.children.capacity() * std::mem::size_of::<Child>()
                    + n.children
                        .iter()
                        .map(|c| c.node.heap_bytes())
                        .sum::<usize>()
            }
        }
    }
}

/// The child holding `rank` (< the total) and the rank within it.
fn locate(children: &[Child], mut rank: usize) -> (usize, usize) {
    for (i, c) in children.iter().enumerate() {
        if rank < c.count {
            return (i, rank);
        }
        rank -= c.count;
    }
    // Past the end: the end of the last child (callers only ask within range).
    let last = children.len().saturating_sub(1);
    (last, children.get(last).map_or(0, |c| c.count + rank))
}

impl Inner {
    fn insert(&mut self, mut rank: usize, key: Key, append: bool) -> Option<Box<Inner>> {
        // Where `rank` falls between two children, insert at the end of the left one.
        let mut i = 0;
        while i + 1 < self.children.len() && rank > self.children[i].count {
            rank -= self.children[i].count;
            i += 1;
        }
        let c = &mut self.children[i];
        let split = c.node.insert(rank, key, append);
        c.count += 1;
        c.first = c.node.first();
        if let Some(right) = split {
            let right = right.into_child();
            self.children[i].count -= right.count;
            self.children.insert(i + 1, right);
        }
        if self.children.len() <= INNER_CAP {
            return None;
        }
        let at = if append { INNER_CAP } else { INNER_CAP / 2 };
        let mut rest = Vec::with_capacity(INNER_CAP + 1);
        rest.extend(self.children.drain(at..));
        Some(Box::new(Inner { children: rest }))
    }

    fn remove(&mut self, rank: usize) -> Key {
        let (i, r) = locate(&self.children, rank);
        let c = &mut self.children[i];
        let key = c.node.remove(r);
        c.count -= 1;
        if c.count > 0 {
            c.first = c.node.first();
        }
        if c.node.width() < c.node.min_width() {
            self.rebalance(i);
        }
        key
    }

    /// Merges child `i` (too small) with a neighbour, or moves entries over from it.
    fn rebalance(&mut self, i: usize) {
        if self.children.len() < 2 {
            return;
        }
        let l = if i + 1 < self.children.len() {
            i
        } else {
            i - 1
        };
        let (head, tail) = self.children.split_at_mut(l + 1);
        let (left, right) = (&mut head[l], &mut tail[0]);
        let merged = match (&mut left.node, &mut right.node) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                if a.len + b.len <= LEAF_CAP {
                    a.append(b);
                    true
                } else {
                    Leaf::even_out(a, b);
                    false
                }
            }
            (Node::Inner(a), Node::Inner(b)) => {
                if a.children.len() + b.children.len() <= INNER_CAP {
                    a.children.append(&mut b.children);
                    true
                } else {
                    let target = (a.children.len() + b.children.len()) / 2;
                    if a.children.len() < target {
                        let k = target - a.children.len();
                        a.children.extend(b.children.drain(..k));
                    } else {
                        let moved: Vec<Child> = a.children.drain(target..).collect();
                        b.children.splice(0..0, moved);
                    }
                    false
                }
            }
            // Siblings are always at the same depth.
            _ => return,
        };
        if merged {
            left.count += right.count;
            self.children.remove(l + 1);
            let left = &mut self.children[l];
            left.first = left.node.first();
        } else {
            left.count = left.node.count();
            left.first = left.node.first();
            right.count = right.node.count();
            right.first = right.node.first();
        }
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree {
            root: Node::Leaf(Leaf::new()),
            len: 0,
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many leading keys satisfy `pred`, which must hold for a prefix of the keys in order
    /// and fail for the rest (a lower bound: "key < x"). O(log N) calls of `pred`.
    pub fn count_while(&self, mut pred: impl FnMut(Key) -> bool) -> usize {
        self.root.count_while(&mut pred)
    }

    /// The key at `rank`, `None` past the end.
    pub fn get(&self, rank: usize) -> Option<Key> {
        (rank < self.len).then(|| self.root.get(rank))
    }

    /// Inserts `key` at `rank` (at most `len()`; larger ranks append).
    pub fn insert(&mut self, rank: usize, key: Key) {
        let rank = rank.min(self.len);
        if let Some(right) = self.root.insert(rank, key, rank == self.len) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Leaf::new()));
            let mut children = Vec::with_capacity(INNER_CAP + 1);
            children.push(left.into_child());
            children.push(right.into_child());
            self.root = Node::Inner(Box::new(Inner { children }));
        }
        self.len += 1;
    }

    /// Removes and returns the key at `rank`, `None` past the end.
    pub fn remove(&mut self, rank: usize) -> Option<Key> {
        if rank >= self.len {
            return None;
        }
        let key = self.root.remove(rank);
        self.len -= 1;
        while let Node::Inner(n) = &mut self.root {
            if n.children.len() != 1 {
                break;
            }
            let only = n.children.pop().map(|c| c.node);
            if let Some(node) = only {
                self.root = node;
            }
        }
        Some(key)
    }

    /// Changes the id of the key at `rank` (when its member moved in the dict).
    pub fn set_id(&mut self, rank: usize, id: u32) {
        if rank < self.len {
            self.root.set_id(rank, id);
        }
    }

    /// Calls `f` with the keys from `start` on, towards the end (`rev` false) or the front
    /// (`rev` true; `start` is still a rank from the front), until it returns false.
    pub fn visit(&self, start: usize, rev: bool, mut f: impl FnMut(Key) -> bool) {
        if start >= self.len {
            return;
        }
        if rev {
            self.root.visit_backward(start, &mut f);
        } else {
            self.root.visit_forward(start, &mut f);
        }
    }

    /// Number of nodes (allocations).
    pub fn node_count(&self) -> usize {
        self.root.node_count()
    }

    /// Heap bytes of all nodes.
    pub fn heap_bytes(&self) -> usize {
        self.root.heap_bytes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Checks counts, first keys, fill (only the rightmost path may be underfull, after
    /// appends) and equal leaf depth; returns the keys in order.
    fn check(t: &Tree) -> Vec<Key> {
        fn walk(
            n: &Node,
            (root, rightmost): (bool, bool),
            depth: usize,
            depths: &mut Vec<usize>,
            out: &mut Vec<Key>,
        ) {
            if !root && !rightmost {
                assert!(n.width() >= n.min_width(), "underfull node");
            }
            match n {
                Node::Leaf(l) => {
                    assert!(l.len <= LEAF_CAP);
                    depths.push(depth);
                    out.extend((0..l.len).map(|i| l.key(i)));
                }
                Node::Inner(i) => {
                    assert!(i.children.len() <= INNER_CAP);
                    assert!(!root || i.children.len() >= 2);
                    for (j, c) in i.children.iter().enumerate() {
                        let before = out.len();
                        let last = rightmost && j + 1 == i.children.len();
                        walk(&c.node, (false, last), depth + 1, depths, out);
                        assert_eq!(out.len() - before, c.count, "stale count");
                        assert_eq!(out[before], c.first, "stale first key");
                    }
                }
            }
        }
        let mut depths = Vec::new();
        let mut out = Vec::new();
        walk(&t.root, (true, true), 0, &mut depths, &mut out);
        assert!(
            depths.windows(2).all(|w| w[0] == w[1]),
            "leaves at different depths"
        );
        assert_eq!(out.len(), t.len());
        out
    }

    fn key(n: u32) -> Key {
        Key {
            score: f64::from(n),
            id: n,
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize, u32),
        Remove(usize),
        SetId(usize, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<usize>(), any::<u32>()).prop_map(|(r, v)| Op::Insert(r, v)),
            3 => any::<usize>().prop_map(Op::Remove),
            1 => (any::<usize>(), any::<u32>()).prop_map(|(r, v)| Op::SetId(r, v)),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(ops in proptest::collection::vec(op(), 0..3000)) {
            let mut t = Tree::new();
            let mut v: Vec<Key> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(r, x) => {
                        let r = r % (v.len() + 1);
                        t.insert(r, key(x));
                        v.insert(r, key(x));
                    }
                    Op::Remove(r) => {
                        if v.is_empty() {
                            prop_assert_eq!(t.remove(r), None);
                        } else {
                            let r = r % v.len();
                            prop_assert_eq!(t.remove(r), Some(v.remove(r)));
                        }
                    }
                    Op::SetId(r, id) => {
                        if !v.is_empty() {
                            let r = r % v.len();
                            t.set_id(r, id);
                            v[r].id = id;
                        }
                    }
                }
            }
            prop_assert_eq!(check(&t), v.clone());
            for (r, k) in v.iter().enumerate() {
                prop_assert_eq!(t.get(r), Some(*k));
            }
        }
    }

    #[test]
    fn ordered_loads_fill_leaves_and_searches_count() {
        let mut t = Tree::new();
        for i in 0..10_000u32 {
            t.insert(t.len(), key(i * 2));
        }
        assert_eq!(check(&t).len(), 10_000);
        let leaves = 10_000usize.div_ceil(LEAF_CAP);
        assert!(
            t.node_count() <= leaves + leaves / 8 + 2,
            "{}",
            t.node_count()
        );
        for x in [0u32, 1, 2, 999, 10_000, 19_998, 19_999, 30_000] {
            let n = t.count_while(|k| k.score < f64::from(x));
            assert_eq!(n, (x as usize).div_ceil(2).min(10_000), "count below {x}");
        }
        let mut seen = Vec::new();
        t.visit(9_997, false, |k| {
            seen.push(k.id);
            true
        });
        assert_eq!(seen, vec![19_994, 19_996, 19_998]);
        seen.clear();
        t.visit(70, true, |k| {
            seen.push(k.id);
            seen.len() < 3
        });
        assert_eq!(seen, vec![140, 138, 136]);
        for _ in 0..10_000 {
            t.remove(t.len() / 2).unwrap();
        }
        assert!(t.is_empty());
        assert_eq!(t.node_count(), 1);
    }
}
