//! [`ZSet`]: the sorted set type, in Redis 7.0's two encodings.
//!
//! # Layout
//!
//! | encoding   | when                                                  | storage                 |
//! |------------|-------------------------------------------------------|-------------------------|
//! | `listpack` | ≤ `zset-max-listpack-entries` members, each ≤         | one Redis [`Listpack`]: |
//! |            | `zset-max-listpack-value` bytes                       | `member, score, ...`    |
//! | `skiplist` | otherwise                                             | [`sorted::Sorted`]      |
//!
//! Members are ordered by score, then by their bytes. The listpack is byte-identical to the one
//! Redis keeps ([`lp`]: scores written as `d2string` text). The big encoding keeps Redis' name
//! for `OBJECT ENCODING` but is a dict of members plus a counted B+tree over `(score, member
//! id)` ([`tree`]), which gives the skiplist's O(log N) insert, delete, rank and seek by score
//! or member, and O(1) member → score.
//!
//! **Memory per member** in the big encoding, for members of at most 22 bytes: 40 bytes of dict
//! node (grown by halves, ~48 on average) and a 4-byte bucket or two, plus 12 bytes in a tree
//! leaf (17 at the ~70% fill random inserts give, 12 for ordered loads): 75–77 bytes measured
//! over a million members (`memory_per_member` test), and longer members add their bytes once.
//! Redis 7.0 spends a skiplist node (24 + 16 bytes per level, ~53 bytes after jemalloc
//! rounding), a 32-byte `dictEntry`, an 8-byte bucket or two and an sds of at least 16 bytes:
//! about 110–130 bytes.
//!
//! **Conversions** follow Redis 7.0: a new key starts as a listpack unless
//! `zset-max-listpack-entries` is 0 or the first member is too long ([`ZSet::new_for_add`]); an
//! add that would pass either limit converts to `skiplist` first ([`ZSet::add`]); nothing
//! converts back, except the results the STORE commands build ([`ZSet::from_entries`], Redis'
//! `zsetConvertToListpackIfNeeded`).

pub mod lp;
pub mod range;
pub mod sorted;
pub mod tree;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use bytes::Bytes;

use crate::elem::Elem;
use crate::encoding::EncodingLimits;
use crate::listpack::{Listpack, LpValue};

pub use range::{LexBound, LexRange, ScoreRange};
use sorted::Sorted;

/// A sorted set value (see the module docs).
#[derive(Clone, Debug)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Listpack),
    Skiplist(Box<Sorted>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

/// ZADD's options (Redis' `ZADD_IN_*` flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    /// `INCR`: add the score to the current one (ZINCRBY).
    pub incr: bool,
    /// `NX`: only add new members.
    pub nx: bool,
    /// `XX`: only update existing members.
    pub xx: bool,
    /// `GT`: only update when the new score is greater.
    pub gt: bool,
    /// `LT`: only update when the new score is less.
    pub lt: bool,
}

/// What [`ZSet::add`] did (Redis' `ZADD_OUT_*` flags and `newscore`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    /// A new member with this score.
    Added(f64),
    /// An existing member now has this (different) score.
    Updated(f64),
    /// An existing member already had this score.
    Unchanged(f64),
    /// Nothing done because of NX, XX, GT or LT.
    Skipped,
    /// The score, or the sum with `INCR`, is NaN: nothing done ("ERR resulting score is not a
    /// number (NaN)").
    NotANumber,
}

impl ZSet {
    /// An empty `listpack` sorted set.
    pub fn new() -> ZSet {
        ZSet {
            repr: Repr::Listpack(Listpack::new()),
        }
    }

    /// The empty set ZADD and ZINCRBY create for a missing key whose first member is
    /// `first_member_len` bytes (Redis 7.0's `zaddGenericCommand`): `skiplist` when
    /// `zset-max-listpack-entries` is 0 or the member is longer than `zset-max-listpack-value`.
    pub fn new_for_add(first_member_len: usize, limits: &EncodingLimits) -> ZSet {
        if limits.zset_max_listpack_entries == 0
            || first_member_len > limits.zset_max_listpack_value
        {
            ZSet {
                repr: Repr::Skiplist(Box::default()),
            }
        } else {
            ZSet::new()
        }
    }

    /// A set of these distinct members (any order), encoded as Redis encodes a STORE command's
    /// result (`zsetConvertToListpackIfNeeded`): `listpack` when it has at most
    /// `zset-max-listpack-entries` members of at most `zset-max-listpack-value` bytes each.
    pub fn from_entries<M: AsRef<[u8]>>(
        mut entries: Vec<(M, f64)>,
        limits: &EncodingLimits,
    ) -> ZSet {
        entries.sort_by(|a, b| cmp_entry(a.1, a.0.as_ref(), b.1, b.0.as_ref()));
        let longest = entries
            .iter()
            .map(|e| e.0.as_ref().len())
            .max()
            .unwrap_or(0);
        if entries.len() <= limits.zset_max_listpack_entries
            && longest <= limits.zset_max_listpack_value
        {
            let mut l = Listpack::new();
            for (m, s) in &entries {
                lp::push(&mut l, m.as_ref(), *s);
            }
            return ZSet {
                repr: Repr::Listpack(l),
            };
        }
        let mut s = Sorted::with_capacity(entries.len());
        for (m, score) in entries {
            s.push(Elem::new(m.as_ref()), score);
        }
        ZSet {
            repr: Repr::Skiplist(Box::new(s)),
        }
    }

    /// A sorted set from a listpack read from RDB or `RESTORE` (member, score, … in score
    /// order), kept as a listpack, or converted to a skiplist when it has more than
    /// `zset-max-listpack-entries` members or a member longer than `zset-max-listpack-value`
    /// bytes (Redis 7.0's loader). Error (the reason) when the entry count is odd.
    pub fn from_listpack(l: Listpack, limits: &EncodingLimits) -> Result<ZSet, &'static str> {
        if l.len() % 2 != 0 {
            return Err("sorted set listpack with an odd number of entries");
        }
        let too_long = lp::pairs(&l).any(|(m, _)| match m {
            LpValue::Str(s) => s.len() > limits.zset_max_listpack_value,
            LpValue::Int(_) => false,
        });
        let mut z = ZSet {
            repr: Repr::Listpack(l),
        };
        if too_long || z.len() > limits.zset_max_listpack_entries {
            z.convert_to_skiplist();
        }
        Ok(z)
    }

    /// The `OBJECT ENCODING` name: `listpack` or `skiplist`.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    /// Approximate heap bytes used.
    pub fn mem_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(l) => l.heap_bytes(),
            Repr::Skiplist(s) => std::mem::size_of::<Sorted>() + s.mem_bytes(),
        }
    }

    /// Redis' `lazyfreeGetFreeEffort`: 1 for a listpack, the member count for a skiplist.
    pub fn free_effort(&self) -> usize {
        match &self.repr {
            Repr::Listpack(_) => 1,
            Repr::Skiplist(s) => s.len(),
        }
    }

    /// Number of members (ZCARD).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(l) => lp::len(l),
            Repr::Skiplist(s) => s.len(),
        }
    }

    /// Whether the sorted set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every member and score in rank order (score, then member bytes).
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        self.visit(0, false, |m, s| {
            f(m, s);
            true
        });
    }

    /// The score of `member` (ZSCORE).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(l) => lp::find(l, member).map(|(_, s)| s),
            Repr::Skiplist(s) => s.score(member),
        }
    }

    /// Whether `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.score(member).is_some()
    }

    /// Adds or updates `member` as ZADD does with `flags` (Redis' `zsetAdd`), converting to
    /// `skiplist` first when a new member would pass `limits`.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: &EncodingLimits,
    ) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::NotANumber;
        }
        let Some(current) = self.score(member) else {
            if flags.xx {
                return AddOutcome::Skipped;
            }
            self.insert_new(member, score, limits);
            return AddOutcome::Added(score);
        };
        if flags.nx {
            return AddOutcome::Skipped;
        }
        let score = if flags.incr { score + current } else { score };
        if score.is_nan() {
            return AddOutcome::NotANumber;
        }
        if (flags.lt && score >= current) || (flags.gt && score <= current) {
            return AddOutcome::Skipped;
        }
        if score == current {
            return AddOutcome::Unchanged(score);
        }
        match &mut self.repr {
            Repr::Listpack(l) => {
                if let Some((off, _)) = lp::find(l, member) {
                    lp::delete(l, off);
                }
                lp::insert(l, member, score);
            }
            Repr::Skiplist(s) => {
                s.update(member, score);
            }
        }
        AddOutcome::Updated(score)
    }

    fn insert_new(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) {
        if let Repr::Listpack(l) = &self.repr {
            if lp::len(l) + 1 > limits.zset_max_listpack_entries
                || member.len() > limits.zset_max_listpack_value
                || !l.safe_to_add(member.len())
            {
                self.convert_to_skiplist();
            }
        }
        match &mut self.repr {
            Repr::Listpack(l) => lp::insert(l, member, score),
            Repr::Skiplist(s) => s.insert_new(member, score),
        }
    }

    /// Converts a listpack to the big encoding (Redis' `zsetConvert`).
    pub fn convert_to_skiplist(&mut self) {
        let Repr::Listpack(l) = &self.repr else {
            return;
        };
        let mut s = Sorted::with_capacity(lp::len(l));
        for (m, score) in lp::pairs(l) {
            s.push(m.with_bytes(Elem::new), score);
        }
        self.repr = Repr::Skiplist(Box::new(s));
    }

    /// Removes `member` (ZREM); returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(l) => match lp::find(l, member) {
                Some((off, _)) => {
                    lp::delete(l, off);
                    true
                }
                None => false,
            },
            Repr::Skiplist(s) => s.remove(member).is_some(),
        }
    }

    /// The rank of `member`: 0 is the lowest score, or with `rev` the highest (ZRANK, ZREVRANK).
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let r = match &self.repr {
            Repr::Listpack(l) => lp::rank(l, member)?,
            Repr::Skiplist(s) => s.rank(member)?,
        };
        Some(if rev { self.len() - 1 - r } else { r })
    }

    /// Calls `f` with the members from rank `start` on (rank 0 = lowest score, or with `rev`
    /// the highest), in that direction, until it returns false.
    pub fn visit(&self, start: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        let len = self.len();
        if start >= len {
            return;
        }
        match &self.repr {
            Repr::Listpack(l) => {
                let pairs: Box<dyn Iterator<Item = _>> = if rev {
                    Box::new(lp::pairs(l).rev().skip(start))
                } else {
                    Box::new(lp::pairs(l).skip(start))
                };
                for (m, s) in pairs {
                    if !m.with_bytes(|m| f(m, s)) {
                        break;
                    }
                }
            }
            Repr::Skiplist(s) => {
                let from = if rev { len - 1 - start } else { start };
                s.visit(from, rev, f);
            }
        }
    }

    /// `count` members from rank `start` in the direction `rev` gives, with their scores.
    pub fn range(&self, start: usize, count: usize, rev: bool) -> Vec<(Bytes, f64)> {
        let mut out = Vec::with_capacity(count.min(self.len()));
        if count > 0 {
            self.visit(start, rev, |m, s| {
                out.push((Bytes::copy_from_slice(m), s));
                out.len() < count
            });
        }
        out
    }

    /// Where the members with scores in `range` are: `(rank of the first, count)`, ranks
    /// counted from the lowest score, or with `rev` from the highest (then "first" is the
    /// highest in range); `(0, 0)` when none is. Redis' `zzlFirstInRange`/`zslFirstInRange` (`Last` with `rev`).
    pub fn score_span(&self, range: &ScoreRange, rev: bool) -> (usize, usize) {
        nonempty(match &self.repr {
            Repr::Listpack(l) => lp::score_span(l, range, rev),
            Repr::Skiplist(s) => s.score_span(range, rev),
        })
    }

    /// Like [`ZSet::score_span`] for members in a lexicographic range (meaningful when all
    /// scores are equal, as Redis documents; otherwise the listpack answers exactly as Redis'
    /// linear walk does).
    pub fn lex_span(&self, range: &LexRange, rev: bool) -> (usize, usize) {
        nonempty(match &self.repr {
            Repr::Listpack(l) => lp::lex_span(l, range, rev),
            Repr::Skiplist(s) => s.lex_span(range, rev),
        })
    }

    /// Removes `count` members from forward rank `start` (ZREMRANGEBY*); returns how many.
    /// O(M log N) for M of N members, O(N) when M is at least half of N.
    pub fn remove_range(&mut self, start: usize, count: usize) -> usize {
        let count = count.min(self.len().saturating_sub(start));
        if count == 0 {
            return 0;
        }
        match &mut self.repr {
            Repr::Listpack(l) => {
                if let Some(off) = l.seek(2 * start as i64) {
                    l.delete_range(off, 2 * count);
                }
            }
            Repr::Skiplist(s) if count.saturating_mul(2) >= s.len() => {
                // Removing most of the set: rebuilding from the survivors is O(N), where one
                // removal at a time costs O(log N) each.
                let mut rest = Sorted::with_capacity(s.len() - count);
                let mut rank = 0;
                s.visit(0, false, |m, score| {
                    if rank < start || rank >= start + count {
                        rest.push(Elem::new(m), score);
                    }
                    rank += 1;
                    true
                });
                **s = rest;
            }
            Repr::Skiplist(s) => {
                for _ in 0..count {
                    s.remove_rank(start);
                }
            }
        }
        count
    }

    /// Removes and returns the member with the lowest score, or the highest with `max`
    /// (ZPOPMIN, ZPOPMAX).
    pub fn pop(&mut self, max: bool) -> Option<(Bytes, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        match &mut self.repr {
            Repr::Listpack(l) => {
                let off = l.seek(if max { -2 } else { 0 })?;
                let m = l.get(off).to_bytes();
                let s = lp::score_of(l.get(l.next(off)?));
                lp::delete(l, off);
                Some((m, s))
            }
            Repr::Skiplist(s) => s
                .remove_rank(if max { len - 1 } else { 0 })
                .map(|(m, score)| (m.to_bytes(), score)),
        }
    }

    /// A uniformly random member and its score (ZRANDMEMBER).
    pub fn random(&self) -> Option<(Bytes, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let i = fastrand::usize(..len);
        match &self.repr {
            Repr::Listpack(_) => self.range(i, 1, false).pop(),
            Repr::Skiplist(s) => s.at_index(i).map(|(m, sc)| (Bytes::copy_from_slice(m), sc)),
        }
    }

    /// `count` distinct random members (fewer when the set is smaller), in random order
    /// (ZRANDMEMBER with a positive count smaller than the set).
    pub fn random_distinct(&self, count: usize) -> Vec<(Bytes, f64)> {
        let picked = sample_indices(self.len(), count);
        match &self.repr {
            Repr::Listpack(l) => {
                let all: Vec<(LpValue<'_>, f64)> = lp::pairs(l).collect();
                picked
                    .into_iter()
                    .filter_map(|i| all.get(i))
                    .map(|(m, s)| (m.to_bytes(), *s))
                    .collect()
            }
            Repr::Skiplist(s) => picked
                .into_iter()
                .filter_map(|i| s.at_index(i))
                .map(|(m, sc)| (Bytes::copy_from_slice(m), sc))
                .collect(),
        }
    }

    /// The listpack of a `listpack`-encoded set (for RDB, which writes it verbatim), `None` for
    /// the big encoding.
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match &self.repr {
            Repr::Listpack(l) => Some(l),
            Repr::Skiplist(_) => None,
        }
    }

    /// One ZSCAN call from `cursor` (Redis' `scanGenericCommand`): a listpack reports every
    /// member and returns cursor 0; the big encoding scans dict buckets until it has reported
    /// at least `count` / 2 members (Redis counts the member and the score), or visited
    /// `count` × 10 buckets, and returns the next cursor (0 when done).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Listpack(_) => {
                self.for_each(f);
                0
            }
            Repr::Skiplist(s) => {
                let mut cursor = cursor;
                let mut reported = 0usize;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = s.scan_step(cursor, |m, sc| {
                        reported += 2;
                        f(m, sc);
                    });
                    if cursor == 0 || budget == 0 || reported >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }
}

/// An empty span is `(0, 0)`.
fn nonempty((start, count): (usize, usize)) -> (usize, usize) {
    if count == 0 {
        (0, 0)
    } else {
        (start, count)
    }
}

/// `count` distinct indexes in `0..len` (all of them when `count >= len`), in random order:
/// a partial shuffle when many are wanted, rejection sampling when few (Redis' ZRANDMEMBER
/// cases 3 and 4).
fn sample_indices(len: usize, count: usize) -> Vec<usize> {
    let count = count.min(len);
    if count.saturating_mul(3) > len {
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = fastrand::usize(i..len);
            all.swap(i, j);
        }
        all.truncate(count);
        return all;
    }
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let i = fastrand::usize(..len);
        if seen.insert(i) {
            out.push(i);
        }
    }
    out
}

/// The sorted-set order: score, then member bytes (-0 and 0 are the same score).
pub fn cmp_entry(score_a: f64, a: &[u8], score_b: f64, b: &[u8]) -> Ordering {
    score_a
        .partial_cmp(&score_b)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.cmp(b))
}
