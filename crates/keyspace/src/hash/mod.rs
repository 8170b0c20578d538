//! [`Hash`](struct@Hash): the hash type, in Redis 7.0's two encodings (`OBJECT ENCODING`).
//!
//! | encoding    | when                                                    | storage                 |
//! |-------------|---------------------------------------------------------|-------------------------|
//! | `listpack`  | at most `hash-max-listpack-entries` fields, every field | one [`Listpack`]: field, |
//! |             | and value at most `hash-max-listpack-value` bytes       | value, field, value … in |
//! |             |                                                         | insertion order          |
//! | `hashtable` | otherwise                                               | a [`Dict`] of            |
//! |             |                                                         | `(field, value)` [`Elem`]s |
//!
//! A new hash is a listpack. Writes convert it the way Redis' `hashTypeTryConversion` and
//! `hashTypeSet` do: before inserting, when a field or value is longer than the value limit (or
//! the listpack would pass 1 GiB), and after inserting, when there are more fields than the
//! entries limit. A hashtable never converts back (Redis 7.0 does not either).
//!
//! The listpack keeps Redis' exact bytes (canonical integers stored as listpack integers), so an
//! integer field or value reads back as its decimal text, and a small hash's order (HGETALL,
//! HKEYS, HSCAN) is the insertion order, as in Redis; overwriting a field's value keeps its place.
//!
//! Values are read as [`LpValue`]s borrowed from the hash: an integer (listpack only) or bytes.

mod random;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use crate::dict::Dict;
use crate::elem::Elem;
use crate::encoding::EncodingLimits;
use crate::listpack::{Listpack, LpValue};

/// A hash value: fields mapped to values, both byte strings.
#[derive(Clone, Debug, Default)]
pub struct Hash {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// `listpack`: field, value, field, value … in insertion order.
    Listpack(Listpack),
    /// `hashtable`, with the heap bytes its elements own (for [`Hash::mem_bytes`]).
    Table {
        /// Boxed so that a hash is 32 bytes and lives inline in the key's entry.
        dict: Box<Dict<(Elem, Elem)>>,
        elem_heap_bytes: usize,
    },
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Listpack(Listpack::new())
    }
}

/// Heap bytes owned by a stored pair.
fn pair_heap(pair: &(Elem, Elem)) -> usize {
    pair.0.heap_bytes() + pair.1.heap_bytes()
}

/// A pair built from two listpack values.
fn pair_of(field: LpValue<'_>, value: LpValue<'_>) -> (Elem, Elem) {
    (field.with_bytes(Elem::new), value.with_bytes(Elem::new))
}

impl Hash {
    /// An empty hash, `listpack` encoded (Redis' `createHashObject`).
    pub fn new() -> Hash {
        Hash::default()
    }

    /// A hash from a listpack read from RDB or `RESTORE` (field, value, field, value …), in
    /// the encoding Redis 7.0's loader gives it: kept as a listpack, converted to a hashtable
    /// when it has more than `hash-max-listpack-entries` fields or an entry longer than
    /// `hash-max-listpack-value` bytes. Error (the reason) when the entry count is odd.
    pub fn from_listpack(lp: Listpack, limits: &EncodingLimits) -> Result<Hash, &'static str> {
        if lp.len() % 2 != 0 {
            return Err("hash listpack with an odd number of entries");
        }
        let too_long = lp.iter().any(|v| match v {
            LpValue::Str(s) => s.len() > limits.hash_max_listpack_value,
            LpValue::Int(_) => false,
        });
        let mut h = Hash {
            repr: Repr::Listpack(lp),
        };
        if too_long || h.len() > limits.hash_max_listpack_entries {
            h.convert();
        }
        Ok(h)
    }

    /// The `OBJECT ENCODING` name: `listpack` or `hashtable`.
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table { .. } => "hashtable",
        }
    }

    /// The listpack of a `listpack`-encoded hash (field, value, … in order), for RDB and DUMP;
    /// `None` for a `hashtable`.
    pub fn listpack(&self) -> Option<&Listpack> {
        match &self.repr {
            Repr::Listpack(lp) => Some(lp),
            Repr::Table { .. } => None,
        }
    }

    /// Approximate heap bytes used: the listpack's buffer, or the table's arena and buckets plus
    /// the elements' own heap bytes (kept up to date, so this is O(1)).
    pub fn mem_bytes(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.heap_bytes(),
            Repr::Table {
                dict,
                elem_heap_bytes,
            } => dict.table_bytes() + elem_heap_bytes,
        }
    }

    /// How much work freeing the hash is (Redis' `lazyfreeGetFreeEffort`): 1 for a listpack (one
    /// allocation), the number of fields for a hashtable.
    pub fn free_effort(&self) -> usize {
        match &self.repr {
            Repr::Listpack(_) => 1,
            Repr::Table { dict, .. } => dict.len(),
        }
    }

    /// Number of fields (`HLEN`).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.len() / 2,
            Repr::Table { dict, .. } => dict.len(),
        }
    }

    /// Whether the hash has no fields (a stored hash never is: the key is deleted with its last
    /// field).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`, copied (`HGET`; SORT's `BY`/`GET` `key->field` patterns).
    pub fn get(&self, field: &[u8]) -> Option<Bytes> {
        self.get_ref(field).map(|v| v.to_bytes())
    }

    /// The value of `field`, borrowed: an integer (listpack integers) or bytes.
    pub fn get_ref(&self, field: &[u8]) -> Option<LpValue<'_>> {
        match &self.repr {
            Repr::Listpack(lp) => {
                let value = lp_value_offset(lp, lp_find_field(lp, field)?)?;
                Some(lp.get(value))
            }
            Repr::Table { dict, .. } => dict.get(field).map(|(_, v)| LpValue::Str(v)),
        }
    }

    /// Whether `field` exists (`HEXISTS`).
    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Listpack(lp) => lp_find_field(lp, field).is_some(),
            Repr::Table { dict, .. } => dict.contains(field),
        }
    }

    /// Converts a listpack to a hashtable when any of `args` (the fields and values about to be
    /// written) is longer than `hash-max-listpack-value`, or when their total would take the
    /// listpack past 1 GiB (Redis' `hashTypeTryConversion`, run by HSET, HMSET and HSETNX before
    /// writing).
    pub fn try_conversion<B: AsRef<[u8]>>(&mut self, args: &[B], limits: &EncodingLimits) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let mut sum = 0usize;
        for a in args {
            let len = a.as_ref().len();
            if len > limits.hash_max_listpack_value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(len);
        }
        if !lp.safe_to_add(sum) {
            self.convert();
        }
    }

    /// Sets `field` to `value` and returns whether the field is new (Redis' `hashTypeSet`): a
    /// listpack first converts when the field or value is longer than `hash-max-listpack-value`
    /// (or would take it past 1 GiB), overwrites an existing field's value in place or appends
    /// the pair, then converts when it holds more than `hash-max-listpack-entries` fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &EncodingLimits) -> bool {
        if let Repr::Listpack(lp) = &self.repr {
            let max = limits.hash_max_listpack_value;
            let add = field.len().saturating_add(value.len());
            if field.len() > max || value.len() > max || !lp.safe_to_add(add) {
                self.convert();
            }
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let inserted = lp_set(lp, field, value);
                if lp.len() / 2 > limits.hash_max_listpack_entries {
                    self.convert();
                }
                inserted
            }
            Repr::Table {
                dict,
                elem_heap_bytes,
            } => {
                let pair = (Elem::new(field), Elem::new(value));
                *elem_heap_bytes += pair_heap(&pair);
                match dict.insert(pair) {
                    Some(old) => {
                        *elem_heap_bytes -= pair_heap(&old);
                        false
                    }
                    None => true,
                }
            }
        }
    }

    /// Removes `field`; returns whether it existed (Redis' `hashTypeDelete`, `HDEL`). The caller
    /// deletes the key when the hash becomes empty.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => match lp_find_field(lp, field) {
                Some(off) => {
                    lp.delete_range(off, 2);
                    true
                }
                None => false,
            },
            Repr::Table {
                dict,
                elem_heap_bytes,
            } => match dict.remove(field) {
                Some(old) => {
                    *elem_heap_bytes -= pair_heap(&old);
                    true
                }
                None => false,
            },
        }
    }

    /// Every `(field, value)` pair: in insertion order for a listpack, in table order for a
    /// hashtable (`HGETALL`, `HKEYS`, `HVALS`).
    pub fn iter(&self) -> Iter<'_> {
        Iter(match &self.repr {
            Repr::Listpack(lp) => IterRepr::Listpack(lp.iter()),
            Repr::Table { dict, .. } => IterRepr::Table { dict, next: 0 },
        })
    }

    /// Calls `f` with every field and value as bytes, in [`Hash::iter`] order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        for (field, value) in self.iter() {
            field.with_bytes(|fb| value.with_bytes(|vb| f(fb, vb)));
        }
    }

    /// One step of `HSCAN` from `cursor`; returns the next cursor (0 when the scan is done).
    ///
    /// A listpack hands every pair over at once and returns 0, whatever the cursor, as Redis
    /// does. A hashtable is walked with Redis' reverse-binary bucket cursor ([`Dict::scan`]) the
    /// way `scanGenericCommand` does it: bucket after bucket until `count` items were handed
    /// over (a field and its value count as two items, as Redis 7.0 counts them), the table is
    /// done, or `10 × count` more buckets were visited. Every pair present for the whole scan
    /// is handed over at least once, even when the table grows, shrinks or the hash converts
    /// between calls; some may come twice.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(LpValue<'_>, LpValue<'_>),
    ) -> u64 {
        match &self.repr {
            Repr::Listpack(_) => {
                for (field, value) in self.iter() {
                    f(field, value);
                }
                0
            }
            Repr::Table { dict, .. } => {
                let mut items = 0usize;
                let mut budget = count.saturating_mul(10);
                let mut cursor = cursor;
                loop {
                    cursor = dict.scan(cursor, |(field, value)| {
                        items += 2;
                        f(LpValue::Str(field), LpValue::Str(value));
                    });
                    if cursor == 0 || budget == 0 || items >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }

    /// Rebuilds a listpack as a hashtable (Redis' `hashTypeConvertListpack`); a hashtable stays.
    fn convert(&mut self) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let mut dict = Dict::with_capacity(lp.len() / 2);
        let mut elem_heap_bytes = 0;
        let mut entries = lp.iter();
        while let (Some(field), Some(value)) = (entries.next(), entries.next()) {
            let pair = pair_of(field, value);
            elem_heap_bytes += pair_heap(&pair);
            if let Some(old) = dict.insert(pair) {
                // A duplicate field (only a hand-made listpack could hold one): the last wins.
                elem_heap_bytes -= pair_heap(&old);
            }
        }
        self.repr = Repr::Table {
            dict: Box::new(dict),
            elem_heap_bytes,
        };
    }
}

/// Offset of the entry holding `field` (a field, not a value) in a hash listpack.
fn lp_find_field(lp: &Listpack, field: &[u8]) -> Option<usize> {
    lp.find(lp.first()?, field, 1)
}

/// Offset of the value that follows the field at `field_off`.
fn lp_value_offset(lp: &Listpack, field_off: usize) -> Option<usize> {
    lp.next(field_off)
}

/// Overwrites the value of `field` in place or appends the pair; returns whether it is new.
fn lp_set(lp: &mut Listpack, field: &[u8], value: &[u8]) -> bool {
    match lp_find_field(lp, field).and_then(|off| lp_value_offset(lp, off)) {
        Some(value_off) => {
            lp.replace(value_off, value);
            false
        }
        None => {
            lp.push_back(field);
            lp.push_back(value);
            true
        }
    }
}

/// Iterator over a hash's `(field, value)` pairs ([`Hash::iter`]).
#[derive(Clone, Debug)]
pub struct Iter<'a>(IterRepr<'a>);

#[derive(Clone, Debug)]
enum IterRepr<'a> {
    Listpack(crate::listpack::Iter<'a>),
    Table {
        dict: &'a Dict<(Elem, Elem)>,
        next: usize,
    },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Listpack(it) => Some((it.next()?, it.next()?)),
            IterRepr::Table { dict, next } => {
                let (f, v) = dict.get_index(*next)?;
                *next += 1;
                Some((LpValue::Str(f.as_bytes()), LpValue::Str(v.as_bytes())))
            }
        }
    }
}
