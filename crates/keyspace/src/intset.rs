//! [`IntSet`]: Redis' intset, a sorted array of unique integers in one buffer, byte-exact with
//! Redis 7.0 so that RDB can write [`IntSet::as_bytes`] verbatim and adopt a blob Redis wrote
//! ([`IntSet::from_bytes`]).
//!
//! # Byte layout
//!
//! | offset | size         | field                                                        |
//! |--------|--------------|--------------------------------------------------------------|
//! | 0      | 4            | width: bytes per element, u32 LE, 2, 4 or 8                  |
//! | 4      | 4            | number of elements, u32 LE                                   |
//! | 8      | width × len  | the elements, strictly ascending, little-endian two's complement |
//!
//! The width starts at 2 and grows to the smallest that holds a new element (4 for values
//! outside `i16`, 8 outside `i32`), converting every element; it never shrinks, even when the
//! element that needed it is removed, as in Redis.
//!
//! Source: Redis `intset.c`.

use crate::listpack::{reserve_for_growth, shrink_if_oversized};

/// Size of the header (width and length), in bytes.
const HEADER_BYTES: usize = 8;

/// Why [`IntSet::from_bytes`] refused a buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntSetError {
    /// The buffer cannot hold the 8-byte header.
    #[error("intset of {len} bytes is shorter than its 8-byte header")]
    TooShort {
        /// Length of the buffer, in bytes.
        len: usize,
    },
    /// The width field (offset 0) is not 2, 4 or 8.
    #[error("intset width {width} at offset 0 is not 2, 4 or 8")]
    BadWidth {
        /// The width field.
        width: u32,
    },
    /// The length field (offset 4) disagrees with the buffer size.
    #[error(
        "intset length {len} at offset 4 needs {expected} bytes but the buffer holds {actual}"
    )]
    LengthMismatch {
        /// The length field.
        len: u32,
        /// Bytes the header implies: 8 + width × length.
        expected: u64,
        /// Length of the buffer, in bytes.
        actual: usize,
    },
    /// An element is not greater than the one before it.
    #[error("intset element {index} at offset {offset} is not greater than the one before")]
    NotSorted {
        /// Position of the element.
        index: usize,
        /// Byte offset of the element.
        offset: usize,
    },
}

/// A Redis intset: a set of `i64` kept sorted, in the narrowest width its values ever needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntSet {
    /// The serialized intset, always valid.
    buf: Vec<u8>,
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::new()
    }
}

/// The narrowest intset width (2, 4 or 8 bytes) that holds `v` (Redis' `_intsetValueEncoding`).
fn width_for(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Reads the element of width `width` at byte offset `at`.
fn read(buf: &[u8], width: usize, at: usize) -> i64 {
    let bytes = &buf[at..at + width];
    match width {
        2 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        4 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        _ => {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(bytes);
            i64::from_le_bytes(raw)
        }
    }
}

/// Writes `v` at byte offset `at` in width `width`, which must hold it.
fn write(buf: &mut [u8], width: usize, at: usize, v: i64) {
    let dst = &mut buf[at..at + width];
    match width {
        2 => dst.copy_from_slice(&(v as i16).to_le_bytes()),
        4 => dst.copy_from_slice(&(v as i32).to_le_bytes()),
        _ => dst.copy_from_slice(&v.to_le_bytes()),
    }
}

impl IntSet {
    /// An empty intset of width 2: `[2, 0, 0, 0, 0, 0, 0, 0]` (Redis' `intsetNew`).
    pub fn new() -> IntSet {
        IntSet {
            buf: vec![2, 0, 0, 0, 0, 0, 0, 0],
        }
    }

    /// Adopts a serialized intset (from RDB or `DUMP`/`RESTORE`) after checking the width, that
    /// the length matches the buffer, and that the elements are strictly ascending (Redis'
    /// `intsetValidateIntegrity` in deep mode; an empty intset is accepted here, the RDB loader
    /// refuses empty keys itself). Never panics.
    ///
    /// # Errors
    ///
    /// The first problem found, as an [`IntSetError`].
    pub fn from_bytes(buf: Vec<u8>) -> Result<IntSet, IntSetError> {
        if buf.len() < HEADER_BYTES {
            return Err(IntSetError::TooShort { len: buf.len() });
        }
        let width = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if !matches!(width, 2 | 4 | 8) {
            return Err(IntSetError::BadWidth { width });
        }
        let width = width as usize;
        let len = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let expected = HEADER_BYTES as u64 + u64::from(len) * width as u64;
        if expected != buf.len() as u64 {
            return Err(IntSetError::LengthMismatch {
                len,
                expected,
                actual: buf.len(),
            });
        }
        let mut previous = None;
        for (index, at) in (HEADER_BYTES..buf.len()).step_by(width).enumerate() {
            let v = read(&buf, width, at);
            if previous.is_some_and(|p| p >= v) {
                return Err(IntSetError::NotSorted { index, offset: at });
            }
            previous = Some(v);
        }
        let mut buf = buf;
        shrink_if_oversized(&mut buf);
        Ok(IntSet { buf })
    }

    /// The serialized intset.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The serialized intset, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        u32::from_le_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_BYTES
    }

    /// Bytes per element: 2, 4 or 8.
    pub fn width(&self) -> usize {
        usize::from(self.buf[0])
    }

    /// Total serialized size, in bytes.
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Heap memory held by the buffer (its capacity), in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The element at sorted position `index` (0 is the smallest), `None` past the end; for
    /// SRANDMEMBER, SPOP and SSCAN (Redis' `intsetGet`).
    pub fn get(&self, index: usize) -> Option<i64> {
        (index < self.len()).then(|| read(&self.buf, self.width(), self.offset(index)))
    }

    /// The smallest element, `None` when empty.
    pub fn min_value(&self) -> Option<i64> {
        self.get(0)
    }

    /// The largest element, `None` when empty.
    pub fn max_value(&self) -> Option<i64> {
        self.len().checked_sub(1).and_then(|last| self.get(last))
    }

    /// Whether `v` is an element (binary search; Redis' `intsetFind`).
    pub fn contains(&self, v: i64) -> bool {
        width_for(v) <= self.width() && self.search(v).is_ok()
    }

    /// Adds `v`; `true` if it was not there (Redis' `intsetAdd`). A value wider than the current
    /// width converts every element to the wider width first.
    ///
    /// # Panics
    ///
    /// If the set already holds `u32::MAX` elements.
    pub fn insert(&mut self, v: i64) -> bool {
        let needed = width_for(v);
        if needed > self.width() {
            self.widen_and_add(needed, v);
            return true;
        }
        let Err(index) = self.search(v) else {
            return false;
        };
        let width = self.width();
        let at = self.offset(index);
        let old_len = self.buf.len();
        reserve_for_growth(&mut self.buf, width);
        self.buf.resize(old_len + width, 0);
        self.buf.copy_within(at..old_len, at + width);
        write(&mut self.buf, width, at, v);
        self.set_len(self.len() + 1);
        true
    }

    /// Removes `v`; `true` if it was there (Redis' `intsetRemove`). The width stays.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_for(v) > self.width() {
            return false;
        }
        let Ok(index) = self.search(v) else {
            return false;
        };
        let width = self.width();
        let at = self.offset(index);
        self.buf.copy_within(at + width.., at);
        self.buf.truncate(self.buf.len() - width);
        shrink_if_oversized(&mut self.buf);
        self.set_len(self.len() - 1);
        true
    }

    /// The elements in ascending order (or descending with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            front: 0,
            back: self.len(),
        }
    }

    /// Byte offset of the element at `index`.
    fn offset(&self, index: usize) -> usize {
        HEADER_BYTES + index * self.width()
    }

    /// Writes the length field.
    fn set_len(&mut self, len: usize) {
        let len = u32::try_from(len).unwrap_or_else(|_| panic!("intset holds at most 2^32-1"));
        self.buf[4..8].copy_from_slice(&len.to_le_bytes());
    }

    /// The position of `v` (`Ok`), or where it would go (`Err`); `v` must fit the width.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let width = self.width();
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let x = read(&self.buf, width, self.offset(mid));
            match x.cmp(&v) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(low)
    }

    /// Converts every element to `width` and adds `v`, which needs it and so is below (when
    /// negative) or above every element (Redis' `intsetUpgradeAndAdd`).
    fn widen_and_add(&mut self, width: usize, v: i64) {
        let old_width = self.width();
        let len = self.len();
        let shift = usize::from(v < 0);
        let new_bytes = HEADER_BYTES + (len + 1) * width;
        let additional = new_bytes - self.buf.len();
        reserve_for_growth(&mut self.buf, additional);
        self.buf.resize(new_bytes, 0);
        // From the back, so that no element is overwritten before it is read: element i moves
        // from 8 + i × old_width to 8 + (i + shift) × width, never lower.
        for i in (0..len).rev() {
            let x = read(&self.buf, old_width, HEADER_BYTES + i * old_width);
            write(&mut self.buf, width, HEADER_BYTES + (i + shift) * width, x);
        }
        let at = if v < 0 { 0 } else { len };
        write(&mut self.buf, width, HEADER_BYTES + at * width, v);
        self.buf[..4].copy_from_slice(&(width as u32).to_le_bytes());
        self.set_len(len + 1);
    }
}

impl<'a> IntoIterator for &'a IntSet {
    type Item = i64;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over an [`IntSet`]'s elements in ascending order, from either end ([`IntSet::iter`]).
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    /// The set.
    set: &'a IntSet,
    /// Position of the next element from the front.
    front: usize,
    /// Position just past the next element from the back.
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        if self.front >= self.back {
            return None;
        }
        let v = read(&self.set.buf, self.set.width(), self.set.offset(self.front));
        self.front += 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<i64> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        Some(read(
            &self.set.buf,
            self.set.width(),
            self.set.offset(self.back),
        ))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn set_of(values: &[i64]) -> IntSet {
        let mut set = IntSet::new();
        for &v in values {
            set.insert(v);
        }
        set
    }

    /// The serialization of the sorted, unique `values` at `width`.
    fn serialized(width: usize, values: &[i64]) -> Vec<u8> {
        let mut out = (width as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for &v in values {
            out.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        out
    }

    #[test]
    fn empty_intset_bytes() {
        let set = IntSet::new();
        assert_eq!(set.as_bytes(), [2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(IntSet::default(), set);
        assert!(set.is_empty());
        assert_eq!(set.len(), 0);
        assert_eq!(set.width(), 2);
        assert_eq!(set.get(0), None);
        assert_eq!(set.min_value(), None);
        assert_eq!(set.max_value(), None);
        assert!(!set.contains(0));
        assert_eq!(IntSet::from_bytes(set.as_bytes().to_vec()).unwrap(), set);
    }

    /// `SADD s 5 -3`, `SADD s2 5 -3 70000` and `SADD s3 5 -3 70000 5000000000`, each followed by
    /// `DUMP` on redis-server 7.0.15: RDB type 11 (set intset), then these strings.
    #[test]
    fn matches_intsets_written_by_redis() {
        let s: &[u8] = &[2, 0, 0, 0, 2, 0, 0, 0, 0xFD, 0xFF, 0x05, 0x00];
        let s2: &[u8] = &[
            4, 0, 0, 0, 3, 0, 0, 0, 0xFD, 0xFF, 0xFF, 0xFF, 0x05, 0, 0, 0, 0x70, 0x11, 0x01, 0,
        ];
        let s3: &[u8] = &[
            8, 0, 0, 0, 4, 0, 0, 0, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x05, 0, 0, 0,
            0, 0, 0, 0, 0x70, 0x11, 0x01, 0, 0, 0, 0, 0, 0x00, 0xF2, 0x05, 0x2A, 0x01, 0, 0, 0,
        ];
        assert_eq!(set_of(&[5, -3]).as_bytes(), s);
        assert_eq!(set_of(&[5, -3, 70000]).as_bytes(), s2);
        assert_eq!(set_of(&[5, -3, 70000, 5_000_000_000]).as_bytes(), s3);
        for (bytes, values) in [
            (s, &[-3, 5][..]),
            (s2, &[-3, 5, 70000]),
            (s3, &[-3, 5, 70000, 5_000_000_000]),
        ] {
            let set = IntSet::from_bytes(bytes.to_vec()).unwrap();
            assert_eq!(set.iter().collect::<Vec<_>>(), values);
        }
    }

    #[test]
    fn widening_converts_every_element_and_never_narrows() {
        let mut set = set_of(&[1, -2, 3]);
        assert_eq!(set.as_bytes(), serialized(2, &[-2, 1, 3]));
        assert!(set.insert(-40_000)); // Below everything: prepended.
        assert_eq!(set.as_bytes(), serialized(4, &[-40_000, -2, 1, 3]));
        assert!(set.insert(i64::MAX)); // Above everything: appended.
        assert_eq!(
            set.as_bytes(),
            serialized(8, &[-40_000, -2, 1, 3, i64::MAX])
        );
        assert!(set.remove(i64::MAX));
        assert!(set.remove(-40_000));
        assert_eq!(set.width(), 8);
        assert_eq!(set.as_bytes(), serialized(8, &[-2, 1, 3]));
        assert!(!set.insert(1));
        assert!(!set.remove(100));
        let mut small = set_of(&[7]);
        assert!(!small.contains(1 << 40));
        assert!(!small.remove(1 << 40));
        assert!(small.insert(i64::MIN));
        assert_eq!(small.as_bytes(), serialized(8, &[i64::MIN, 7]));
        assert_eq!(small.min_value(), Some(i64::MIN));
        assert_eq!(small.max_value(), Some(7));
    }

    #[test]
    fn boundaries_of_each_width() {
        for (v, width) in [
            (i16::MAX as i64, 2),
            (i16::MIN as i64, 2),
            (i16::MAX as i64 + 1, 4),
            (i16::MIN as i64 - 1, 4),
            (i32::MAX as i64, 4),
            (i32::MIN as i64, 4),
            (i32::MAX as i64 + 1, 8),
            (i32::MIN as i64 - 1, 8),
        ] {
            let set = set_of(&[v]);
            assert_eq!(set.width(), width, "{v}");
            assert_eq!(set.as_bytes(), serialized(width, &[v]), "{v}");
            assert!(set.contains(v));
        }
    }

    #[test]
    fn from_bytes_rejects_each_kind_of_damage() {
        use IntSetError::*;
        let err = |bytes: Vec<u8>| IntSet::from_bytes(bytes).unwrap_err();
        assert_eq!(err(vec![2, 0, 0, 0, 0, 0, 0]), TooShort { len: 7 });
        assert_eq!(err(vec![3, 0, 0, 0, 0, 0, 0, 0]), BadWidth { width: 3 });
        assert_eq!(
            err(vec![2, 0, 0, 1, 0, 0, 0, 0]),
            BadWidth { width: 0x0100_0002 }
        );
        assert_eq!(
            err(vec![2, 0, 0, 0, 1, 0, 0, 0]),
            LengthMismatch {
                len: 1,
                expected: 10,
                actual: 8
            }
        );
        let mut extra = serialized(2, &[1]);
        extra.push(0);
        assert_eq!(
            err(extra),
            LengthMismatch {
                len: 1,
                expected: 10,
                actual: 11
            }
        );
        assert_eq!(
            err(serialized(2, &[1, 1])),
            NotSorted {
                index: 1,
                offset: 10
            }
        );
        assert_eq!(
            err(serialized(4, &[1, 5, 2])),
            NotSorted {
                index: 2,
                offset: 16
            }
        );
        // Elements narrower than the width are fine: Redis never narrows.
        assert!(IntSet::from_bytes(serialized(8, &[1, 2])).is_ok());
        assert_eq!(
            NotSorted {
                index: 1,
                offset: 10
            }
            .to_string(),
            "intset element 1 at offset 10 is not greater than the one before"
        );
    }

    #[test]
    fn capacity_stays_close_to_length() {
        let mut set = IntSet::new();
        for v in 0..5000 {
            set.insert(v * 7 - 10_000);
            assert!(set.heap_bytes() <= set.bytes_len() + set.bytes_len() / 4 + 64);
        }
        for v in 0..4900 {
            set.remove(v * 7 - 10_000);
        }
        assert!(set.heap_bytes() <= set.bytes_len() + set.bytes_len() / 4 + 64);
    }

    /// Values spread over all three widths, so that widening happens at random moments.
    fn value() -> impl Strategy<Value = i64> {
        prop_oneof![
            4 => -20i64..20,
            2 => any::<i16>().prop_map(i64::from),
            1 => any::<i32>().prop_map(i64::from),
            1 => any::<i64>(),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(
            ops in proptest::collection::vec((any::<bool>(), value()), 0..200),
        ) {
            let mut set = IntSet::new();
            let mut model = BTreeSet::new();
            let mut width = 2;
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(set.insert(v), model.insert(v));
                    width = width.max(width_for(v));
                } else {
                    prop_assert_eq!(set.remove(v), model.remove(&v));
                }
                prop_assert!(set.contains(v) == model.contains(&v));
            }
            let values: Vec<i64> = model.iter().copied().collect();
            prop_assert_eq!(set.as_bytes(), serialized(width, &values));
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), values.clone());
            prop_assert_eq!(set.iter().rev().collect::<Vec<_>>(),
                values.iter().rev().copied().collect::<Vec<_>>());
            prop_assert_eq!(set.iter().len(), values.len());
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(set.get(i), Some(*v));
            }
            prop_assert_eq!(set.get(values.len()), None);
            prop_assert_eq!(set.min_value(), values.first().copied());
            prop_assert_eq!(set.max_value(), values.last().copied());
            prop_assert_eq!(IntSet::from_bytes(set.as_bytes().to_vec()).unwrap(), set);
        }

        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            if let Ok(set) = IntSet::from_bytes(bytes) {
                let values: Vec<i64> = set.iter().collect();
                prop_assert!(values.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(values.len(), set.len());
            }
        }

        #[test]
        fn from_bytes_never_panics_on_plausible_headers(
            width in prop::sample::select(vec![2u8, 4, 8, 3]),
            len in 0u32..6,
            body in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut bytes = vec![width, 0, 0, 0];
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&body);
            if let Ok(mut set) = IntSet::from_bytes(bytes) {
                let values: Vec<i64> = set.iter().collect();
                prop_assert!(values.windows(2).all(|w| w[0] < w[1]));
                set.insert(0);
                set.remove(1);
            }
        }
    }
}
