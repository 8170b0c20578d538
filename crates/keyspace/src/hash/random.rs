//! Random fields of a [`Hash`](struct@Hash), for `HRANDFIELD` (Redis' `hrandfieldWithCountCommand`).
//!
//! Both encodings are first indexed so that the i-th pair is O(1) to reach: a hashtable's dense
//! arena already is, a listpack gets a vector of its fields' offsets (one walk). Picks are then
//! uniform over pairs.

use std::collections::HashSet;

use super::{Hash, Repr};
use crate::dict::Dict;
use crate::elem::Elem;
use crate::listpack::{Listpack, LpValue};

/// A hash's pairs addressable by position in `0..len`.
enum PairIndex<'a> {
    /// A listpack and the offset of every field.
    Listpack(&'a Listpack, Vec<usize>),
    /// A hashtable (dense indexes).
    Table(&'a Dict<(Elem, Elem)>),
}

impl<'a> PairIndex<'a> {
    fn new(hash: &'a Hash) -> PairIndex<'a> {
        match &hash.repr {
            Repr::Listpack(lp) => {
                let mut fields = Vec::with_capacity(lp.len() / 2);
                let mut off = lp.first();
                while let Some(field) = off {
                    let Some(value) = lp.next(field) else { break };
                    fields.push(field);
                    off = lp.next(value);
                }
                PairIndex::Listpack(lp, fields)
            }
            Repr::Table { dict, .. } => PairIndex::Table(dict),
        }
    }

    fn len(&self) -> usize {
        match self {
            PairIndex::Listpack(_, fields) => fields.len(),
            PairIndex::Table(dict) => dict.len(),
        }
    }

    /// The pair at `i` (`i < len()`).
    fn pair(&self, i: usize) -> Option<(LpValue<'a>, LpValue<'a>)> {
        match self {
            PairIndex::Listpack(lp, fields) => {
                let field = *fields.get(i)?;
                Some((lp.get(field), lp.get(lp.next(field)?)))
            }
            PairIndex::Table(dict) => {
                let (f, v) = dict.get_index(i)?;
                Some((LpValue::Str(f.as_bytes()), LpValue::Str(v.as_bytes())))
            }
        }
    }
}

impl Hash {
    /// A uniformly random `(field, value)` pair (`HRANDFIELD key`), `None` when empty.
    pub fn random_pair(&self) -> Option<(LpValue<'_>, LpValue<'_>)> {
        match &self.repr {
            Repr::Table { dict, .. } => dict
                .random()
                .map(|(f, v)| (LpValue::Str(f.as_bytes()), LpValue::Str(v.as_bytes()))),
            Repr::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let field = lp.seek(2 * fastrand::usize(..n) as i64)?;
                Some((lp.get(field), lp.get(lp.next(field)?)))
            }
        }
    }

    /// Calls `f` with `count` pairs picked uniformly and independently, so possibly repeated, in
    /// random order (`HRANDFIELD key -count`). Nothing when the hash is empty.
    pub fn random_pairs(&self, count: usize, mut f: impl FnMut(LpValue<'_>, LpValue<'_>)) {
        let index = PairIndex::new(self);
        let n = index.len();
        if n == 0 {
            return;
        }
        for _ in 0..count {
            if let Some((field, value)) = index.pair(fastrand::usize(..n)) {
                f(field, value);
            }
        }
    }

    /// Calls `f` with `min(count, len)` distinct pairs, each subset equally likely
    /// (`HRANDFIELD key count`). When `count` covers the hash, every pair in [`Hash::iter`]
    /// order (insertion order for a listpack, as Redis replies); otherwise, as Redis, a listpack
    /// sampled sparsely (`3 × count ≤ len`) gives its pairs in listpack order, other cases in
    /// random order.
    pub fn random_distinct_pairs(&self, count: usize, mut f: impl FnMut(LpValue<'_>, LpValue<'_>)) {
        let n = self.len();
        if count >= n {
            for (field, value) in self.iter() {
                f(field, value);
            }
            return;
        }
        let index = PairIndex::new(self);
        let picks = if count.saturating_mul(3) > n {
            shuffled_prefix(n, count)
        } else {
            let mut picks = sparse_sample(n, count);
            if matches!(index, PairIndex::Listpack(..)) {
                picks.sort_unstable();
            }
            picks
        };
        for i in picks {
            if let Some((field, value)) = index.pair(i) {
                f(field, value);
            }
        }
    }
}

/// `count` distinct indexes of `0..n` in random order: a partial Fisher–Yates shuffle, O(n)
/// (for `count` close to `n`).
fn shuffled_prefix(n: usize, count: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..count {
        let j = fastrand::usize(i..n);
        all.swap(i, j);
    }
    all.truncate(count);
    all
}

/// `count` distinct indexes of `0..n` (`count ≤ n`), Floyd's algorithm, O(count).
fn sparse_sample(n: usize, count: usize) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    for j in n - count..n {
        let t = fastrand::usize(..=j);
        let pick = if seen.insert(t) { t } else { j };
        if pick == j {
            seen.insert(j);
        }
        out.push(pick);
    }
    out
}
