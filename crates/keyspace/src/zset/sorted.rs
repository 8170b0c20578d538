//! [`Sorted`]: the `skiplist` encoding of a sorted set (Redis' `zset`: a dict and a skiplist),
//! here a [`Dict`] of `(member, score)` and a counted B+tree ([`Tree`]) of `(score, id)`.
//!
//! # Layout
//!
//! | part   | per member                                   | gives                             |
//! |--------|----------------------------------------------|-----------------------------------|
//! | `dict` | `(Elem, f64)` + hash + link = 40 bytes, plus | member → score in O(1); the       |
//! |        | a 4-byte bucket                              | member's id is its dense index    |
//! | `tree` | `(f64, u32)` = 12 bytes in a leaf            | rank, seek by score or member,    |
//! |        |                                              | insert, delete in O(log N)        |
//!
//! The member's bytes live once, in the dict (inline when ≤ 22 bytes); the tree refers to a
//! member by its index in the dict's dense node array and compares members through it. The dict
//! keeps its nodes dense: an insert appends at index `len`, and a removal moves the last node
//! into the hole, so [`Sorted::detach`] re-points that node's tree key first (one more O(log N)
//! search).

use crate::dict::Dict;
use crate::elem::Elem;

use super::range::{LexRange, ScoreRange};
use super::tree::{Key, Tree};

/// The `skiplist` encoding: see the module docs.
#[derive(Clone, Debug, Default)]
pub struct Sorted {
    dict: Dict<(Elem, f64)>,
    tree: Tree,
    /// Heap bytes of members longer than the inline size, kept for `mem_bytes`.
    member_heap_bytes: usize,
}

impl Sorted {
    /// An empty set sized for `n` members.
    pub fn with_capacity(n: usize) -> Sorted {
        Sorted {
            dict: Dict::with_capacity(n),
            tree: Tree::new(),
            member_heap_bytes: 0,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.dict.get(member).map(|e| e.1)
    }

    fn member(&self, id: u32) -> &[u8] {
        self.dict
            .get_index(id as usize)
            .map_or(&[], |e| e.0.as_bytes())
    }

    /// How many members sort before `(score, member)`.
    fn rank_of(&self, score: f64, member: &[u8]) -> usize {
        self.tree
            .count_while(|k| k.score < score || (k.score == score && self.member(k.id) < member))
    }

    /// Forward rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.rank_of(score, member))
    }

    /// Adds a member that is not present.
    pub fn insert_new(&mut self, member: &[u8], score: f64) {
        let rank = self.rank_of(score, member);
        self.push_at(rank, Elem::new(member), score);
    }

    /// Appends a member that sorts after every present one (ordered loads).
    pub fn push(&mut self, member: Elem, score: f64) {
        self.push_at(self.tree.len(), member, score);
    }

    /// Adds an absent member at `rank` (a member already present is left alone).
    fn push_at(&mut self, rank: usize, member: Elem, score: f64) {
        let id = self.dict.len() as u32;
        let heap = member.heap_bytes();
        if self.dict.insert_new((member, score)) {
            self.member_heap_bytes += heap;
            self.tree.insert(rank, Key { score, id });
        }
    }

    /// Changes the score of a present member (Redis' `zslUpdateScore`); false if absent.
    pub fn update(&mut self, member: &[u8], score: f64) -> bool {
        let Some(old) = self.score(member) else {
            return false;
        };
        let Some(key) = self.tree.remove(self.rank_of(old, member)) else {
            return false;
        };
        if let Some(e) = self.dict.get_mut(member) {
            e.1 = score;
        }
        let rank = self.rank_of(score, member);
        self.tree.insert(rank, Key { score, id: key.id });
        true
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.score(member)?;
        let key = self.tree.remove(self.rank_of(score, member))?;
        Some(self.detach(key.id).1)
    }

    /// Removes the member at forward `rank`.
    pub fn remove_rank(&mut self, rank: usize) -> Option<(Elem, f64)> {
        let key = self.tree.remove(rank)?;
        Some(self.detach(key.id))
    }

    /// Takes dict node `id` (already out of the tree) out of the dict. The dict moves its last
    /// node into the hole, so that node's tree key gets the new id first.
    fn detach(&mut self, id: u32) -> (Elem, f64) {
        let last = self.dict.len() - 1;
        if id as usize != last {
            let rank = match self.dict.get_index(last) {
                Some((m, s)) => self.rank_of(*s, m),
                None => usize::MAX,
            };
            debug_assert_eq!(self.tree.get(rank).map(|k| k.id), Some(last as u32));
            self.tree.set_id(rank, id);
        }
        let (member, score) = self.dict.swap_remove_index(id as usize);
        self.member_heap_bytes -= member.heap_bytes();
        (member, score)
    }

    /// The member and score at forward `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        let key = self.tree.get(rank)?;
        Some((self.member(key.id), key.score))
    }

    /// Calls `f` with members from forward rank `start` on, towards the end (or the front when
    /// `rev`), until it returns false.
    pub fn visit(&self, start: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        self.tree
            .visit(start, rev, |k| f(self.member(k.id), k.score));
    }

    /// See [`super::ZSet::score_span`].
    pub fn score_span(&self, range: &ScoreRange, rev: bool) -> (usize, usize) {
        if range.is_empty() {
            return (0, 0);
        }
        let start = self.tree.count_while(|k| !range.above_min(k.score));
        let end = self.tree.count_while(|k| range.below_max(k.score));
        self.span(start, end, rev)
    }

    /// See [`super::ZSet::lex_span`].
    pub fn lex_span(&self, range: &LexRange, rev: bool) -> (usize, usize) {
        let (Some(first), Some(last)) = (self.get(0), self.get(self.len().wrapping_sub(1))) else {
            return (0, 0);
        };
        if range.is_empty() || !range.above_min(last.0) || !range.below_max(first.0) {
            return (0, 0);
        }
        let start = self
            .tree
            .count_while(|k| !range.above_min(self.member(k.id)));
        let end = self
            .tree
            .count_while(|k| range.below_max(self.member(k.id)));
        self.span(start, end, rev)
    }

    fn span(&self, start: usize, end: usize, rev: bool) -> (usize, usize) {
        let count = end.saturating_sub(start);
        if rev {
            (self.len() - end.max(start), count)
        } else {
            (start, count)
        }
    }

    /// The member and score at dense dict index `i` (`0..len()`, an arbitrary order), for
    /// random sampling.
    pub fn at_index(&self, i: usize) -> Option<(&[u8], f64)> {
        self.dict.get_index(i).map(|(m, s)| (m.as_bytes(), *s))
    }

    /// One step of a dict scan (see [`Dict::scan`]).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        self.dict.scan(cursor, |(m, s)| f(m, *s))
    }

    /// Number of allocations (tree nodes, the dict's two arrays, long members).
    pub fn node_count(&self) -> usize {
        self.tree.node_count() + 2
    }

    /// Heap bytes: dict arrays, tree nodes and out-of-line members.
    pub fn mem_bytes(&self) -> usize {
        self.dict.table_bytes() + self.tree.heap_bytes() + self.member_heap_bytes
    }
}
