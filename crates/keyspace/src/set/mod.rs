//! [`Set`]: the set type, encoded as Redis 7.0 encodes sets (`OBJECT ENCODING`).
//!
//! Layout:
//!
//! | encoding    | when                                                    | storage              |
//! |-------------|---------------------------------------------------------|----------------------|
//! | `intset`    | every member is the canonical decimal of an `i64`, and  | one [`IntSet`] (the  |
//! |             | there are at most `set-max-intset-entries` of them      | exact Redis bytes)   |
//! | `hashtable` | otherwise                                               | a [`Dict`] of [`Elem`] |
//!
//! A set starts as an empty intset (Redis' `createIntsetObject`; `setTypeCreate` picks the
//! hashtable for a non-integer first member, which ends the same way) and converts to the
//! hashtable, never back, when a non-integer member is added or an insert takes the size past
//! `set-max-intset-entries` (`setTypeAdd`). Only commands that build a fresh set (the STORE
//! variants, SPOP with a count close to the size) can produce an intset again, through
//! [`Set::from_members`], as Redis' do.
//!
//! Orders clients can observe: an intset iterates its members in ascending numeric order (SMEMBERS,
//! SSCAN, SRANDMEMBER with a count covering the set); a hashtable in the order of its arena.
//!
//! Source: Redis `t_set.c`, `intset.c`.

use bytes::Bytes;

use crate::dict::Dict;
use crate::elem::Elem;
use crate::encoding::EncodingLimits;
use crate::intset::IntSet;
use crate::value::parse_i64;

#[cfg(test)]
mod tests;

/// Redis caps `set-max-intset-entries` at 2^30 entries "due to intset internals" (`setTypeAdd`).
const INTSET_MAX_CAP: usize = 1 << 30;

/// SRANDMEMBER with a positive count copies the whole set and removes random members when the
/// set has at most this many times `count` members (Redis' `SRANDMEMBER_SUB_STRATEGY_MUL`).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

/// SPOP with a count rebuilds the set from the members that stay when at most a fifth of the
/// set stays (Redis' `SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// A set value (see the module docs for the encodings).
#[derive(Clone, Debug)]
pub struct Set {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// `intset`.
    Ints(IntSet),
    /// `hashtable`; `heap_bytes` is the sum of the members' own heap bytes (long members), kept
    /// so that [`Set::mem_bytes`] is O(1).
    /// The dict is boxed so that a set is 32 bytes and lives inline in the key's entry.
    Table {
        dict: Box<Dict<Elem>>,
        heap_bytes: usize,
    },
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

/// One member as the set stores it: an integer of an intset, or the bytes of a hashtable member.
/// Either way it stands for a byte string (the integer's canonical decimal text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    /// An intset element.
    Int(i64),
    /// A hashtable member's bytes (which may also spell an integer).
    Str(&'a [u8]),
}

impl Member<'_> {
    /// Calls `f` with the member's bytes without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
            Member::Str(b) => f(b),
        }
    }

    /// The member's bytes, copied into a `Bytes` (for replies).
    pub fn to_bytes(&self) -> Bytes {
        self.with_bytes(Bytes::copy_from_slice)
    }

    /// The member as an owned [`Elem`].
    pub fn to_elem(&self) -> Elem {
        match self {
            Member::Int(n) => Elem::from_i64(*n),
            Member::Str(b) => Elem::new(b),
        }
    }

    /// The member as an `i64` if it spells one canonically (Redis' `string2ll`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Member::Int(n) => Some(*n),
            Member::Str(b) => parse_i64(b),
        }
    }
}

/// The effective `set-max-intset-entries` (capped at 2^30 as Redis does).
fn intset_cap(limits: &EncodingLimits) -> usize {
    limits.set_max_intset_entries.min(INTSET_MAX_CAP)
}

impl Set {
    /// An empty `intset`-encoded set (Redis' `createIntsetObject`). Callers never store an empty
    /// set: a set is created just before its first member is added.
    pub fn new() -> Set {
        Set {
            repr: Repr::Ints(IntSet::new()),
        }
    }

    /// A set of `members` (duplicates ignored) encoded the way Redis encodes a set it builds by
    /// adding them one by one to a fresh intset (`createIntsetObject` + `setTypeAdd`, as the STORE
    /// variants of SINTER/SUNION/SDIFF do): an intset when every member is an integer and there
    /// are at most `set-max-intset-entries` distinct ones, a hashtable otherwise.
    pub fn from_members<'m>(
        members: impl IntoIterator<Item = &'m [u8]>,
        limits: &EncodingLimits,
    ) -> Set {
        let mut set = Set::new();
        for m in members {
            set.insert(m, limits);
        }
        set
    }

    /// Wraps an intset read from RDB or `RESTORE` (its elements become the members as is).
    pub fn from_intset(ints: IntSet) -> Set {
        Set {
            repr: Repr::Ints(ints),
        }
    }

    /// The intset when the set is `intset`-encoded (for RDB, which writes it byte for byte).
    pub fn as_intset(&self) -> Option<&IntSet> {
        match &self.repr {
            Repr::Ints(s) => Some(s),
            Repr::Table { .. } => None,
        }
    }

    /// The `OBJECT ENCODING` name: `intset` or `hashtable`.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table { .. } => "hashtable",
        }
    }

    /// Approximate bytes used by the value (inline and heap), for `MEMORY USAGE` and lazy free.
    pub fn mem_bytes(&self) -> usize {
        let own = std::mem::size_of::<Set>();
        match &self.repr {
            Repr::Ints(s) => own + s.heap_bytes(),
            Repr::Table { dict, heap_bytes } => own + dict.table_bytes() + heap_bytes,
        }
    }

    /// Redis' `lazyfreeGetFreeEffort`: 1 for an intset (one allocation), the number of members
    /// for a hashtable.
    pub fn free_effort(&self) -> usize {
        match &self.repr {
            Repr::Ints(_) => 1,
            Repr::Table { dict, .. } => dict.len(),
        }
    }

    /// Converts an intset to a hashtable presized for its members (Redis' `setTypeConvert`).
    fn convert_to_table(&mut self) {
        if let Repr::Ints(ints) = &self.repr {
            let mut dict: Dict<Elem> = Dict::with_capacity(ints.len() + 1);
            for v in ints.iter() {
                dict.insert_new(Elem::from_i64(v));
            }
            // Integers are at most 20 bytes: always inline, no heap bytes.
            self.repr = Repr::Table {
                dict: Box::new(dict),
                heap_bytes: 0,
            };
        }
    }

    /// Adds `member`; returns whether it was new (Redis' `setTypeAdd`). Converts an intset to a
    /// hashtable when `member` is not an integer or the size passes `set-max-intset-entries`.
    pub fn insert(&mut self, member: &[u8], limits: &EncodingLimits) -> bool {
        self.insert_member(Member::Str(member), limits)
    }

    /// [`Set::insert`] of a member taken from another set (no re-parsing of intset integers).
    pub fn insert_member(&mut self, member: Member<'_>, limits: &EncodingLimits) -> bool {
        if let Repr::Ints(ints) = &mut self.repr {
            match member.as_i64() {
                Some(v) => {
                    if !ints.insert(v) {
                        return false;
                    }
                    if ints.len() > intset_cap(limits) {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match &mut self.repr {
            Repr::Table { dict, heap_bytes } => {
                let elem = member.to_elem();
                let extra = elem.heap_bytes();
                let added = dict.insert_new(elem);
                if added {
                    *heap_bytes += extra;
                }
                added
            }
            Repr::Ints(_) => false,
        }
    }

    /// Removes `member`; returns whether it was there (Redis' `setTypeRemove`). The encoding
    /// stays, as in Redis.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        self.remove_member(Member::Str(member))
    }

    /// [`Set::remove`] of a member taken from another set.
    pub fn remove_member(&mut self, member: Member<'_>) -> bool {
        match &mut self.repr {
            Repr::Ints(ints) => member.as_i64().is_some_and(|v| ints.remove(v)),
            Repr::Table { dict, heap_bytes } => match member.with_bytes(|b| dict.remove(b)) {
                Some(e) => {
                    *heap_bytes -= e.heap_bytes();
                    true
                }
                None => false,
            },
        }
    }

    /// Whether `member` (taken from another set) is in this set (Redis' `setTypeIsMember`).
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match &self.repr {
            Repr::Ints(ints) => member.as_i64().is_some_and(|v| ints.contains(v)),
            Repr::Table { dict, .. } => member.with_bytes(|b| dict.contains(b)),
        }
    }

    /// The member at position `i` in `0..len()`: the `i`-th smallest of an intset, the `i`-th
    /// arena slot of a hashtable (positions change when members are removed).
    pub fn get_index(&self, i: usize) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Ints(ints) => ints.get(i).map(Member::Int),
            Repr::Table { dict, .. } => dict.get_index(i).map(|e| Member::Str(e.as_bytes())),
        }
    }

    /// The members in iteration order (intset: ascending; hashtable: arena order).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            next: 0,
            len: self.len(),
        }
    }

    /// A uniformly random member, `None` when empty (Redis' `setTypeRandomElement`).
    pub fn random(&self) -> Option<Member<'_>> {
        match self.len() {
            0 => None,
            n => self.get_index(fastrand::usize(..n)),
        }
    }

    /// Removes and returns a uniformly random member (SPOP without a count).
    pub fn pop_random(&mut self) -> Option<Bytes> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        Some(self.take_index(fastrand::usize(..n)))
    }

    /// Removes the member at position `i` (which must be in `0..len()`) and returns it.
    fn take_index(&mut self, i: usize) -> Bytes {
        match &mut self.repr {
            Repr::Ints(ints) => match ints.get(i) {
                Some(v) => {
                    ints.remove(v);
                    Member::Int(v).to_bytes()
                }
                None => Bytes::new(),
            },
            Repr::Table { dict, heap_bytes } => {
                let e = dict.swap_remove_index(i);
                *heap_bytes -= e.heap_bytes();
                e.to_bytes()
            }
        }
    }

    /// Removes `count` random members, `count < len()`, and returns them (SPOP with a count,
    /// Redis' `spopWithCountCommand` cases 2 and 3). When few members stay (`remaining × 5 ≤
    /// count`) the set is rebuilt from the members that stay, through [`Set::from_members`], so
    /// an all-integer hashtable can become an intset again, as in Redis; the popped members then
    /// come in the old set's iteration order.
    pub fn pop_many(&mut self, count: usize, limits: &EncodingLimits) -> Vec<Bytes> {
        let count = count.min(self.len());
        let remaining = self.len() - count;
        if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) > count {
            return (0..count).filter_map(|_| self.pop_random()).collect();
        }
        let kept: Vec<Bytes> = (0..remaining).filter_map(|_| self.pop_random()).collect();
        let popped = self.iter().map(|m| m.to_bytes()).collect();
        *self = Set::from_members(kept.iter().map(|b| &b[..]), limits);
        popped
    }

    /// `count` distinct random members, `count ≥ 1` (SRANDMEMBER with a positive count, Redis'
    /// `srandmemberWithCountCommand` cases 2 to 4): the whole set in iteration order when `count`
    /// covers it; otherwise a random subset in random order.
    pub fn random_distinct(&self, count: usize) -> Vec<Bytes> {
        let size = self.len();
        if count >= size {
            return self.iter().map(|m| m.to_bytes()).collect();
        }
        let picked: Vec<usize> = if count.saturating_mul(SRANDMEMBER_SUB_STRATEGY_MUL) > size {
            // Close to the size: start from every position and drop random ones.
            let mut all: Vec<usize> = (0..size).collect();
            while all.len() > count {
                all.swap_remove(fastrand::usize(..all.len()));
            }
            all
        } else {
            // Small next to the size: draw until `count` distinct positions came up.
            let mut seen = std::collections::HashSet::with_capacity(count);
            let mut order = Vec::with_capacity(count);
            while order.len() < count {
                let i = fastrand::usize(..size);
                if seen.insert(i) {
                    order.push(i);
                }
            }
            order
        };
        picked
            .into_iter()
            .filter_map(|i| self.get_index(i).map(|m| m.to_bytes()))
            .collect()
    }

    /// One SSCAN step (Redis' `scanGenericCommand` for a set): calls `f` with the members
    /// visited and returns the next cursor (0 when done). An intset visits every member and
    /// returns 0 whatever the cursor. A hashtable visits buckets from `cursor` with Redis'
    /// reverse-binary cursor until at least `count` members came up, the cursor wrapped to 0,
    /// or `10 × count` more buckets were visited. Members present for a whole scan are visited
    /// at least once, whatever inserts, removals and resizes happen between steps.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.repr {
            Repr::Ints(ints) => {
                ints.iter().for_each(|v| f(Member::Int(v)));
                0
            }
            Repr::Table { dict, .. } => {
                let mut cursor = cursor;
                let mut visited = 0usize;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = dict.scan(cursor, |e| {
                        visited += 1;
                        f(Member::Str(e.as_bytes()));
                    });
                    if cursor == 0 || budget == 0 || visited >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }
}

// Cross-family API (used by SORT, ZUNIONSTORE & co. and other families); keep these signatures.
impl Set {
    /// Number of members (SCARD).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(s) => s.len(),
            Repr::Table { dict, .. } => dict.len(),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `member` is in the set (SISMEMBER).
    pub fn contains(&self, member: &[u8]) -> bool {
        self.contains_member(Member::Str(member))
    }

    /// Calls `f` with every member's bytes (intset: ascending; hashtable: arena order).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for m in self.iter() {
            m.with_bytes(&mut f);
        }
    }
}

/// Iterator over a [`Set`]'s members in iteration order ([`Set::iter`]).
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    set: &'a Set,
    next: usize,
    len: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        if self.next >= self.len {
            return None;
        }
        let m = self.set.get_index(self.next);
        self.next += 1;
        m
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Set {
    type Item = Member<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
