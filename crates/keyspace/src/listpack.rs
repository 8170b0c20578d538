//! [`Listpack`]: Redis' listpack, a compact list of strings and integers in one buffer, byte-exact
//! with Redis 7.0 so that RDB can write [`Listpack::as_bytes`] verbatim and adopt a blob Redis
//! wrote ([`Listpack::from_bytes`]).
//!
//! # Byte layout
//!
//! | offset        | size | field                                                             |
//! |---------------|------|-------------------------------------------------------------------|
//! | 0             | 4    | total bytes, u32 LE (header and terminator included)              |
//! | 4             | 2    | number of entries, u16 LE; 65535 = "unknown, count by walking"    |
//! | 6             | …    | entries, each `encoding [data] backlen`                           |
//! | total − 1     | 1    | terminator `0xFF`                                                 |
//!
//! An entry starts with its encoding byte, which also says how long the rest is:
//!
//! | first byte(s)          | kind                  | then                  | holds              |
//! |------------------------|-----------------------|-----------------------|--------------------|
//! | `0xxxxxxx`             | 7-bit unsigned int    | –                     | 0..=127            |
//! | `10LLLLLL`             | string, 6-bit length  | L bytes               | 0..=63 bytes       |
//! | `110xxxxx yyyyyyyy`    | 13-bit int            | –                     | −4096..=4095       |
//! | `1110LLLL LLLLLLLL`    | string, 12-bit length | L bytes               | 64..=4095 bytes    |
//! | `0xF0` + u32 LE length | string, 32-bit length | L bytes               | ≥ 4096 bytes       |
//! | `0xF1`                 | 16-bit int            | 2 bytes LE            | i16                |
//! | `0xF2`                 | 24-bit int            | 3 bytes LE            | i24                |
//! | `0xF3`                 | 32-bit int            | 4 bytes LE            | i32                |
//! | `0xF4`                 | 64-bit int            | 8 bytes LE            | i64                |
//! | `0xF5`..=`0xFE`        | invalid               |                       |                    |
//!
//! The 13-bit int keeps its top 5 bits in the first byte; ints are two's complement. The 12-bit
//! length keeps its top 4 bits in the first byte.
//!
//! The **backlen** ends every entry: the size of the encoding plus data (not itself) in 1 to 5
//! bytes, so the list can be walked backwards. It is written most significant 7-bit group first;
//! every byte but the first has its top bit set, so a reader going backwards stops at the byte
//! whose top bit is clear. Sizes up to 127 take 1 byte, below 16383 2, below 2097151 3, below
//! 268435455 4, and otherwise 5 (Redis' thresholds, which put 16383 in 3 bytes).
//!
//! # Encoding choices
//!
//! A string that is the canonical decimal of an `i64` ([`canonical_int`]: no sign but `-`, no
//! leading zero, not `-0`) is stored as the smallest int encoding that holds it, other strings as
//! the smallest string encoding, as Redis' `lpInsertString` does, so the same operations give the
//! same bytes as Redis. The entry count saturates at 65535 and then stays "unknown" until the
//! listpack is rebuilt, as in Redis (whose `lpLength` also rewrites the field once the count is
//! back under 65535; [`Listpack::len`] cannot, as it takes `&self`).
//!
//! # Memory
//!
//! The buffer grows by at most an eighth (at least 16 bytes) beyond what it needs and shrinks back
//! when more than a quarter is unused, so [`Listpack::heap_bytes`] stays close to
//! [`Listpack::bytes_len`] (Redis reallocates to the exact size on every change).
//!
//! Source: Redis `listpack.c` and the listpack specification (`listpack.md`).

use bytes::Bytes;

/// Size of the header (total bytes and entry count), in bytes.
const HEADER_BYTES: usize = 6;
/// The terminator byte, also never the first byte of an entry.
const TERMINATOR: u8 = 0xFF;
/// Entry count meaning "unknown: walk the entries to count them".
const COUNT_UNKNOWN: u16 = u16::MAX;
/// Largest serialized size the header's u32 total can describe.
const MAX_BYTES: usize = u32::MAX as usize;
/// The size above which callers should switch to another encoding (Redis'
/// `LISTPACK_MAX_SAFETY_SIZE`, 1 GiB); see [`Listpack::safe_to_add`].
pub const SAFETY_BYTES: usize = 1 << 30;

/// Why [`Listpack::from_bytes`] refused a buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListpackError {
    /// The buffer cannot even hold a header and a terminator.
    #[error("listpack of {len} bytes is shorter than the 7-byte minimum")]
    TooShort {
        /// Length of the buffer, in bytes.
        len: usize,
    },
    /// The header's total-bytes field disagrees with the buffer length.
    #[error("listpack header says {header} total bytes but the buffer holds {actual}")]
    TotalBytesMismatch {
        /// The header's total-bytes field.
        header: u32,
        /// Length of the buffer, in bytes.
        actual: usize,
    },
    /// The last byte is not the terminator `0xFF`.
    #[error("listpack does not end with the 0xFF terminator")]
    MissingTerminator,
    /// A terminator appears before the last byte.
    #[error("listpack terminator at offset {offset}, before the end of the buffer")]
    EarlyTerminator {
        /// Byte offset of the early terminator.
        offset: usize,
    },
    /// An entry starts with one of the unused encoding bytes `0xF5..=0xFE`.
    #[error("invalid listpack entry encoding {byte:#04x} at offset {offset}")]
    BadEncoding {
        /// Byte offset of the entry.
        offset: usize,
        /// The encoding byte.
        byte: u8,
    },
    /// An entry (its length bytes, data or backlen) runs past the terminator.
    #[error("listpack entry at offset {offset} runs past the end of the buffer")]
    EntryOutOfBounds {
        /// Byte offset of the entry.
        offset: usize,
    },
    /// An entry's backlen is not the canonical encoding of its size.
    #[error("listpack entry at offset {offset} has a backlen that does not match its size")]
    BadBacklen {
        /// Byte offset of the entry.
        offset: usize,
    },
    /// The header's entry count (when not 65535) disagrees with the entries found.
    #[error("listpack header counts {header} entries but {actual} were found")]
    CountMismatch {
        /// The header's count field.
        header: u16,
        /// Entries found by walking the buffer.
        actual: usize,
    },
}

/// One entry's value: an integer (stored in an int encoding) or a byte string.
///
/// Entries written through [`Listpack`] hold canonical integers as [`LpValue::Int`], so an
/// `Int(5)` and a `Str(b"5")` only meet in listpacks written by hand; compare with client
/// strings through [`LpValue::eq_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LpValue<'a> {
    /// An integer entry.
    Int(i64),
    /// A string entry, borrowed from the listpack.
    Str(&'a [u8]),
}

impl LpValue<'_> {
    /// The value as an owned string: the decimal text of an integer, a copy of a string.
    pub fn to_bytes(&self) -> Bytes {
        self.with_bytes(Bytes::copy_from_slice)
    }

    /// Calls `f` with the value as a string (the decimal text of an integer, formatted on the
    /// stack) and returns its result.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            LpValue::Int(v) => f(itoa::Buffer::new().format(v).as_bytes()),
            LpValue::Str(s) => f(s),
        }
    }

    /// Whether the value equals the client string `other`, without allocating: an integer equals
    /// its canonical decimal text only (`5` equals `"5"`, not `"05"` or `"+5"`), as Redis'
    /// `lpCompare` does.
    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        match *self {
            LpValue::Int(v) => canonical_int(other) == Some(v),
            LpValue::Str(s) => s == other,
        }
    }
}

/// Parses `s` if it is the canonical decimal text of an `i64`: an optional `-`, then `0` alone
/// or digits not starting with `0`, in range, nothing else (so not `-0`, `+1`, `01`, `1 `).
/// These are the strings a listpack stores as integers (Redis' `lpStringToInt64`, the same rule
/// as `string2ll`); the text of the result is `s` again.
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits {
        [b'0'] if !negative => return Some(0),
        [b'1'..=b'9', ..] if digits.len() <= 19 => {}
        _ => return None,
    }
    // 19 decimal digits always fit a u64, so only the final range check can fail.
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude * 10 + u64::from(d - b'0');
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A Redis listpack. Entries are addressed by their byte offset in the buffer, as returned by
/// [`first`](Listpack::first), [`next`](Listpack::next), [`seek`](Listpack::seek), etc.; an
/// offset is valid until the next modification, except for what the modifying call returns.
///
/// Methods taking an offset panic if it is not the offset of an entry (a caller bug, never a
/// property of the data); a buffer accepted by [`from_bytes`](Listpack::from_bytes) never makes
/// any method panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listpack {
    /// The serialized listpack, always valid.
    buf: Vec<u8>,
}

impl Default for Listpack {
    fn default() -> Self {
        Listpack::new()
    }
}

impl Listpack {
    /// An empty listpack: `[7, 0, 0, 0, 0, 0, 0xFF]` (Redis' `lpNew`).
    pub fn new() -> Listpack {
        let mut buf = Vec::with_capacity(HEADER_BYTES + 1);
        buf.extend_from_slice(&[7, 0, 0, 0, 0, 0, TERMINATOR]);
        Listpack { buf }
    }

    /// Adopts a serialized listpack (from RDB or `DUMP`/`RESTORE`) after checking all of it: the
    /// header's total bytes, every entry's encoding, length and backlen, the terminator, and the
    /// entry count unless it is 65535 (Redis' `lpValidateIntegrity` in deep mode, stricter on
    /// backlens, which must be canonical). Never panics.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`ListpackError`] naming its byte offset.
    pub fn from_bytes(buf: Vec<u8>) -> Result<Listpack, ListpackError> {
        validate(&buf)?;
        let mut lp = Listpack { buf };
        lp.shrink_if_oversized();
        Ok(lp)
    }

    /// The serialized listpack.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The serialized listpack, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Number of entries: the header's count, or a walk over the entries when it is 65535.
    pub fn len(&self) -> usize {
        match self.header_count() {
            COUNT_UNKNOWN => self.iter().count(),
            n => usize::from(n),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.buf[HEADER_BYTES] == TERMINATOR
    }

    /// Total serialized size, in bytes (the header's total-bytes field).
    pub fn bytes_len(&self) -> usize {
        self.buf.len()
    }

    /// Heap memory held by the buffer (its capacity), in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether `add_bytes` more bytes keep the listpack under [`SAFETY_BYTES`] (Redis'
    /// `lpSafeToAdd`). Callers convert to another encoding before growing past it; the hard
    /// limit, 4 GiB, panics.
    pub fn safe_to_add(&self, add_bytes: usize) -> bool {
        self.buf.len().saturating_add(add_bytes) <= SAFETY_BYTES
    }

    /// Releases unused capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Offset of the first entry, `None` when empty.
    pub fn first(&self) -> Option<usize> {
        (!self.is_empty()).then_some(HEADER_BYTES)
    }

    /// Offset of the last entry, `None` when empty.
    pub fn last(&self) -> Option<usize> {
        entry_before(&self.buf, self.terminator())
    }

    /// Offset of the entry after the one at `off`, `None` if that was the last.
    pub fn next(&self, off: usize) -> Option<usize> {
        let next = off + read_entry(&self.buf, off).1;
        (self.buf[next] != TERMINATOR).then_some(next)
    }

    /// Offset of the entry before the one at `off`, `None` if that was the first.
    pub fn prev(&self, off: usize) -> Option<usize> {
        entry_before(&self.buf, off)
    }

    /// The value of the entry at `off`.
    pub fn get(&self, off: usize) -> LpValue<'_> {
        read_entry(&self.buf, off).0
    }

    /// Offset of the entry at `index`: 0 is the first, −1 the last (Redis' `lpSeek`); `None` when
    /// out of range. Walks from the nearer end when the count is known, from the tail for
    /// negative indexes otherwise.
    pub fn seek(&self, index: i64) -> Option<usize> {
        let count = self.header_count();
        let from_head = if count == COUNT_UNKNOWN {
            index
        } else {
            let count = i64::from(count);
            let index = if index < 0 { index + count } else { index };
            if !(0..count).contains(&index) {
                return None;
            }
            if index > count / 2 {
                index - count
            } else {
                index
            }
        };
        if from_head >= 0 {
            let mut off = self.first();
            for _ in 0..from_head {
                off = self.next(off?);
            }
            off
        } else {
            // -1 is the last entry: (-from_head - 1) steps back from it, without overflow.
            let steps = (-(from_head + 1)) as u64;
            let mut off = self.last();
            for _ in 0..steps {
                off = self.prev(off?);
            }
            off
        }
    }

    /// Appends `v` (stored as an integer when it is a canonical one, see [`canonical_int`]).
    ///
    /// # Panics
    ///
    /// If the listpack would exceed 4 GiB; see [`Listpack::safe_to_add`].
    pub fn push_back(&mut self, v: &[u8]) {
        self.insert_entry(self.terminator(), &Encoded::string(v));
    }

    /// Prepends `v` (stored as an integer when it is a canonical one).
    ///
    /// # Panics
    ///
    /// If the listpack would exceed 4 GiB.
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_entry(HEADER_BYTES, &Encoded::string(v));
    }

    /// Appends the integer `v` (Redis' `lpAppendInteger`).
    pub fn push_back_int(&mut self, v: i64) {
        self.insert_entry(self.terminator(), &Encoded::int(v));
    }

    /// Prepends the integer `v`.
    pub fn push_front_int(&mut self, v: i64) {
        self.insert_entry(HEADER_BYTES, &Encoded::int(v));
    }

    /// Inserts `v` before the entry at `off` (or appends it when `off` is the terminator's
    /// offset, [`bytes_len`](Listpack::bytes_len) − 1) and returns the new entry's offset, which
    /// is `off`.
    ///
    /// # Panics
    ///
    /// If the listpack would exceed 4 GiB.
    pub fn insert_before(&mut self, off: usize, v: &[u8]) -> usize {
        if off != self.terminator() {
            read_entry(&self.buf, off); // Checks `off` is an entry, before modifying anything.
        }
        self.insert_entry(off, &Encoded::string(v));
        off
    }

    /// Inserts `v` after the entry at `off` and returns the new entry's offset.
    ///
    /// # Panics
    ///
    /// If the listpack would exceed 4 GiB.
    pub fn insert_after(&mut self, off: usize, v: &[u8]) -> usize {
        let at = off + read_entry(&self.buf, off).1;
        self.insert_entry(at, &Encoded::string(v));
        at
    }

    /// Replaces the entry at `off` with `v` and returns its offset, which is `off` (Redis'
    /// `lpReplace`).
    ///
    /// # Panics
    ///
    /// If the listpack would exceed 4 GiB.
    pub fn replace(&mut self, off: usize, v: &[u8]) -> usize {
        let old = read_entry(&self.buf, off).1;
        let new = Encoded::string(v);
        self.reshape(off, old, new.len());
        new.write(&mut self.buf[off..]);
        off
    }

    /// Deletes the entry at `off` and returns the offset of the entry that followed it, now at
    /// `off`, or `None` if it was the last.
    pub fn delete(&mut self, off: usize) -> Option<usize> {
        let len = read_entry(&self.buf, off).1;
        self.reshape(off, len, 0);
        self.add_to_count(-1);
        (self.buf[off] != TERMINATOR).then_some(off)
    }

    /// Deletes `count` entries starting at `off`, fewer if the listpack ends first (Redis'
    /// `lpDeleteRangeWithEntry`). `off` may be the terminator's offset (nothing is deleted).
    pub fn delete_range(&mut self, off: usize, count: usize) {
        let mut end = off;
        let mut deleted = 0;
        while deleted < count && self.buf[end] != TERMINATOR {
            end += read_entry(&self.buf, end).1;
            deleted += 1;
        }
        if deleted > 0 {
            self.reshape(off, end - off, 0);
            self.add_to_count(-(deleted as i64));
        }
    }

    /// Offset of the first entry equal to `v` (see [`LpValue::eq_bytes`]) among the entry at
    /// `start` and every `(skip + 1)`-th one after it, `None` if there is none (Redis' `lpFind`).
    /// `skip` = 1 looks up the fields of field/value pairs.
    pub fn find(&self, start: usize, v: &[u8], skip: usize) -> Option<usize> {
        let wanted_int = canonical_int(v);
        let mut off = start;
        let mut to_skip = 0;
        while self.buf[off] != TERMINATOR {
            let (value, len) = read_entry(&self.buf, off);
            if to_skip == 0 {
                let found = match value {
                    LpValue::Int(i) => wanted_int == Some(i),
                    LpValue::Str(s) => s == v,
                };
                if found {
                    return Some(off);
                }
                to_skip = skip;
            } else {
                to_skip -= 1;
            }
            off += len;
        }
        None
    }

    /// The entries' values, first to last (or last to first with `.rev()`).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: HEADER_BYTES,
            back: self.terminator(),
        }
    }

    /// Offset of the terminator.
    fn terminator(&self) -> usize {
        self.buf.len() - 1
    }

    /// The header's entry count field.
    fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.buf[4], self.buf[5]])
    }

    /// Adds `delta` to a known entry count (an unknown count stays unknown, a count reaching
    /// 65535 becomes unknown), as Redis' `lpInsert` does.
    fn add_to_count(&mut self, delta: i64) {
        let count = self.header_count();
        if count != COUNT_UNKNOWN {
            let new = (i64::from(count) + delta).clamp(0, i64::from(COUNT_UNKNOWN));
            let new = u16::try_from(new).unwrap_or(COUNT_UNKNOWN);
            self.buf[4..6].copy_from_slice(&new.to_le_bytes());
        }
    }

    /// Inserts an encoded entry at byte offset `at` (an entry's offset or the terminator's).
    fn insert_entry(&mut self, at: usize, entry: &Encoded<'_>) {
        self.reshape(at, 0, entry.len());
        entry.write(&mut self.buf[at..]);
        self.add_to_count(1);
    }

    /// Replaces the `remove` bytes at `at` with `insert` bytes of room (left for the caller to
    /// fill), moving the tail, and updates the total-bytes field.
    fn reshape(&mut self, at: usize, remove: usize, insert: usize) {
        let old_len = self.buf.len();
        let new_len = old_len - remove + insert;
        assert!(new_len <= MAX_BYTES, "listpack would exceed 4 GiB");
        if insert > remove {
            reserve_for_growth(&mut self.buf, insert - remove);
            self.buf.resize(new_len, 0);
            self.buf.copy_within(at + remove..old_len, at + insert);
        } else if insert < remove {
            self.buf.copy_within(at + remove..old_len, at + insert);
            self.buf.truncate(new_len);
            self.shrink_if_oversized();
        }
        let total = u32::try_from(new_len).unwrap_or(u32::MAX);
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
    }

    /// Gives back capacity once more than a quarter of the buffer is unused.
    fn shrink_if_oversized(&mut self) {
        shrink_if_oversized(&mut self.buf);
    }
}

/// Makes room for `additional` more bytes in `buf`. Small buffers (the listpacks of small
/// hashes, sets and sorted sets, one per key) grow to the end of the allocator's 16-byte chunk
/// and no further, so they cost what Redis' exact-size listpacks cost; bigger ones (list nodes)
/// get an eighth of their length as slack so that a run of appends does not reallocate each
/// time. Shared with [`crate::intset`].
pub(crate) fn reserve_for_growth(buf: &mut Vec<u8>, additional: usize) {
    if buf.capacity() - buf.len() < additional {
        let need = buf.len() + additional;
        let target = if need < 512 {
            // malloc chunks are 16-byte multiples with an 8-byte header: use the whole chunk.
            ((need + 8 + 15) & !15) - 8
        } else {
            need + buf.len() / 8
        };
        buf.reserve_exact(target - buf.len());
    }
}

/// Shrinks `buf` to its length when more than a quarter of its capacity (plus 64 bytes) is
/// unused; the gap with [`reserve_for_growth`]'s slack keeps push/pop pairs from reallocating.
pub(crate) fn shrink_if_oversized(buf: &mut Vec<u8>) {
    let len = buf.len();
    if buf.capacity() > len + len / 4 + 64 {
        buf.shrink_to_fit();
    }
}

impl<'a> IntoIterator for &'a Listpack {
    type Item = LpValue<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over a [`Listpack`]'s values, from either end ([`Listpack::iter`]).
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    /// The listpack's buffer.
    buf: &'a [u8],
    /// Offset of the next entry from the front.
    front: usize,
    /// Offset just past the next entry from the back; `front == back` when done.
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        if self.front >= self.back {
            return None;
        }
        let (value, len) = read_entry(self.buf, self.front);
        self.front += len;
        Some(value)
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back = entry_before(self.buf, self.back)?;
        Some(read_entry(self.buf, self.back).0)
    }
}

impl std::iter::FusedIterator for Iter<'_> {}

/// Number of bytes of the backlen of an entry whose encoding and data take `size` bytes.
fn backlen_size(size: u64) -> usize {
    match size {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// The backlen of an entry whose encoding and data take `size` bytes, and its length.
fn encode_backlen(size: u64) -> ([u8; 5], usize) {
    let n = backlen_size(size);
    let mut out = [0u8; 5];
    for (i, byte) in out[..n].iter_mut().enumerate() {
        let group = ((size >> (7 * (n - 1 - i))) & 0x7F) as u8;
        *byte = if i == 0 { group } else { group | 0x80 };
    }
    (out, n)
}

/// Reads the backlen whose last byte is at `last`, walking backwards: the size it encodes and
/// how many bytes it took. `None` if it runs off the buffer or past 5 bytes.
fn decode_backlen(buf: &[u8], last: usize) -> Option<(u64, usize)> {
    let mut size = 0u64;
    for i in 0..5 {
        let byte = *buf.get(last.checked_sub(i)?)?;
        size |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((size, i + 1));
        }
    }
    None
}

/// Offset of the entry ending just before `off` (an entry's or the terminator's offset), `None`
/// at the first entry.
fn entry_before(buf: &[u8], off: usize) -> Option<usize> {
    if off <= HEADER_BYTES {
        return None;
    }
    let (size, backlen) = decode_backlen(buf, off - 1)?;
    let size = usize::try_from(size).ok()?;
    off.checked_sub(size + backlen)
}

/// Copies `N` bytes of `buf` from `at`.
fn array<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[at..at + N]);
    out
}

/// Decodes the entry at `off` of a valid listpack: its value and its full length (encoding, data
/// and backlen).
///
/// # Panics
///
/// If `off` is not the offset of an entry.
fn read_entry(buf: &[u8], off: usize) -> (LpValue<'_>, usize) {
    let first = buf[off];
    let string = |at: usize, len: usize| LpValue::Str(&buf[at..at + len]);
    let (value, size) = match first {
        0x00..=0x7F => (LpValue::Int(i64::from(first)), 1),
        0x80..=0xBF => {
            let len = usize::from(first & 0x3F);
            (string(off + 1, len), 1 + len)
        }
        0xC0..=0xDF => {
            let raw = (u16::from(first & 0x1F) << 8) | u16::from(buf[off + 1]);
            // Move the 13-bit two's complement to the top of an i16 and shift it back down.
            (LpValue::Int(i64::from(((raw << 3) as i16) >> 3)), 2)
        }
        0xE0..=0xEF => {
            let len = (usize::from(first & 0x0F) << 8) | usize::from(buf[off + 1]);
            (string(off + 2, len), 2 + len)
        }
        0xF0 => {
            let len = u32::from_le_bytes(array(buf, off + 1)) as usize;
            (string(off + 5, len), 5 + len)
        }
        0xF1 => (
            LpValue::Int(i64::from(i16::from_le_bytes(array(buf, off + 1)))),
            3,
        ),
        0xF2 => {
            let [a, b, c] = array(buf, off + 1);
            // Little-endian i24: place it in the top of an i32 and shift to sign-extend.
            (
                LpValue::Int(i64::from(i32::from_le_bytes([0, a, b, c]) >> 8)),
                4,
            )
        }
        0xF3 => (
            LpValue::Int(i64::from(i32::from_le_bytes(array(buf, off + 1)))),
            5,
        ),
        0xF4 => (LpValue::Int(i64::from_le_bytes(array(buf, off + 1))), 9),
        _ => panic!("listpack offset {off} is not an entry (byte {first:#04x})"),
    };
    (value, size + backlen_size(size as u64))
}

/// Size of the encoding and data of the entry at `off`, which must end before `end` (the
/// terminator's offset), checking every byte read is in bounds.
fn checked_entry_size(buf: &[u8], off: usize, end: usize) -> Result<usize, ListpackError> {
    let out_of_bounds = ListpackError::EntryOutOfBounds { offset: off };
    let length_bytes = |n: usize| buf.get(off + 1..off + 1 + n).filter(|_| off + n < end);
    let first = buf[off];
    match first {
        0x00..=0x7F => Ok(1),
        0x80..=0xBF => Ok(1 + usize::from(first & 0x3F)),
        0xC0..=0xDF => Ok(2),
        0xE0..=0xEF => {
            let low = length_bytes(1).ok_or(out_of_bounds)?[0];
            Ok(2 + ((usize::from(first & 0x0F) << 8) | usize::from(low)))
        }
        0xF0 => {
            let bytes = length_bytes(4).ok_or(out_of_bounds.clone())?;
            let len = u32::from_le_bytes(array(bytes, 0));
            usize::try_from(len)
                .ok()
                .and_then(|l| l.checked_add(5))
                .ok_or(out_of_bounds)
        }
        0xF1 => Ok(3),
        0xF2 => Ok(4),
        0xF3 => Ok(5),
        0xF4 => Ok(9),
        _ => Err(ListpackError::BadEncoding {
            offset: off,
            byte: first,
        }),
    }
}

/// Checks that `buf` is a whole, valid listpack (see [`Listpack::from_bytes`]).
fn validate(buf: &[u8]) -> Result<(), ListpackError> {
    if buf.len() < HEADER_BYTES + 1 {
        return Err(ListpackError::TooShort { len: buf.len() });
    }
    let header = u32::from_le_bytes(array(buf, 0));
    if usize::try_from(header).ok() != Some(buf.len()) {
        return Err(ListpackError::TotalBytesMismatch {
            header,
            actual: buf.len(),
        });
    }
    let end = buf.len() - 1;
    if buf[end] != TERMINATOR {
        return Err(ListpackError::MissingTerminator);
    }
    let mut off = HEADER_BYTES;
    let mut count = 0usize;
    while off < end {
        if buf[off] == TERMINATOR {
            return Err(ListpackError::EarlyTerminator { offset: off });
        }
        let size = checked_entry_size(buf, off, end)?;
        let (backlen, backlen_len) = encode_backlen(size as u64);
        let next = off
            .checked_add(size)
            .and_then(|n| n.checked_add(backlen_len))
            .filter(|&n| n <= end)
            .ok_or(ListpackError::EntryOutOfBounds { offset: off })?;
        if buf[next - backlen_len..next] != backlen[..backlen_len] {
            return Err(ListpackError::BadBacklen { offset: off });
        }
        count += 1;
        off = next;
    }
    let header_count = u16::from_le_bytes(array(buf, 4));
    if header_count != COUNT_UNKNOWN && usize::from(header_count) != count {
        return Err(ListpackError::CountMismatch {
            header: header_count,
            actual: count,
        });
    }
    Ok(())
}

/// One entry, encoded and ready to be written: encoding (with an integer's data), string data,
/// backlen.
struct Encoded<'a> {
    /// Encoding byte(s), and an integer's bytes.
    head: [u8; 9],
    /// Bytes of `head` in use.
    head_len: usize,
    /// A string's bytes (empty for integers).
    data: &'a [u8],
    /// The backlen.
    backlen: [u8; 5],
    /// Bytes of `backlen` in use.
    backlen_len: usize,
}

impl<'a> Encoded<'a> {
    /// The smallest integer encoding of `v` (Redis' `lpEncodeIntegerGetType`).
    fn int(v: i64) -> Encoded<'a> {
        let mut head = [0u8; 9];
        let head_len = if (0..=127).contains(&v) {
            head[0] = v as u8;
            1
        } else if (-4096..=4095).contains(&v) {
            let raw = (v as u16) & 0x1FFF;
            head[0] = 0xC0 | (raw >> 8) as u8;
            head[1] = raw as u8;
            2
        } else if let Ok(v) = i16::try_from(v) {
            head[0] = 0xF1;
            head[1..3].copy_from_slice(&v.to_le_bytes());
            3
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            head[0] = 0xF2;
            head[1..4].copy_from_slice(&(v as i32).to_le_bytes()[..3]);
            4
        } else if let Ok(v) = i32::try_from(v) {
            head[0] = 0xF3;
            head[1..5].copy_from_slice(&v.to_le_bytes());
            5
        } else {
            head[0] = 0xF4;
            head[1..9].copy_from_slice(&v.to_le_bytes());
            9
        };
        Encoded::finish(head, head_len, &[])
    }

    /// `s` as an integer when it is a canonical one, else in the smallest string encoding
    /// (Redis' `lpEncodeGetType` and `lpEncodeString`).
    ///
    /// # Panics
    ///
    /// If `s` is 4 GiB or longer.
    fn string(s: &'a [u8]) -> Encoded<'a> {
        if let Some(v) = canonical_int(s) {
            return Encoded::int(v);
        }
        let mut head = [0u8; 9];
        let len = s.len();
        let head_len = if len < 64 {
            head[0] = 0x80 | len as u8;
            1
        } else if len < 4096 {
            head[0] = 0xE0 | (len >> 8) as u8;
            head[1] = len as u8;
            2
        } else {
            let len = u32::try_from(len).unwrap_or_else(|_| panic!("listpack would exceed 4 GiB"));
            head[0] = 0xF0;
            head[1..5].copy_from_slice(&len.to_le_bytes());
            5
        };
        Encoded::finish(head, head_len, s)
    }

    /// Adds the backlen.
    fn finish(head: [u8; 9], head_len: usize, data: &'a [u8]) -> Encoded<'a> {
        let (backlen, backlen_len) = encode_backlen((head_len + data.len()) as u64);
        Encoded {
            head,
            head_len,
            data,
            backlen,
            backlen_len,
        }
    }

    /// Length of the whole entry, in bytes.
    fn len(&self) -> usize {
        self.head_len + self.data.len() + self.backlen_len
    }

    /// Writes the entry at the start of `dst`.
    fn write(&self, dst: &mut [u8]) {
        let (head, rest) = dst.split_at_mut(self.head_len);
        head.copy_from_slice(&self.head[..self.head_len]);
        let (data, rest) = rest.split_at_mut(self.data.len());
        data.copy_from_slice(self.data);
        rest[..self.backlen_len].copy_from_slice(&self.backlen[..self.backlen_len]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    /// A listpack holding `items`, pushed at the back one by one.
    fn lp_of(items: &[&[u8]]) -> Listpack {
        let mut lp = Listpack::new();
        for item in items {
            lp.push_back(item);
        }
        lp
    }

    /// The values of `lp` as strings, front to back.
    fn strings(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_bytes().to_vec()).collect()
    }

    /// A serialized listpack: header for `count` entries, `entries`, terminator.
    fn framed(count: u16, entries: &[u8]) -> Vec<u8> {
        let total = (HEADER_BYTES + entries.len() + 1) as u32;
        let mut out = total.to_le_bytes().to_vec();
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(entries);
        out.push(TERMINATOR);
        out
    }

    #[test]
    fn empty_listpack_bytes() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), [7, 0, 0, 0, 0, 0, 0xFF]);
        assert_eq!(Listpack::default(), lp);
        assert!(lp.is_empty());
        assert_eq!(lp.len(), 0);
        assert_eq!(lp.first(), None);
        assert_eq!(lp.last(), None);
        assert_eq!(lp.seek(0), None);
        assert_eq!(lp.seek(-1), None);
        assert_eq!(lp.iter().next(), None);
        assert_eq!(lp.iter().next_back(), None);
        assert_eq!(Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap(), lp);
    }

    #[test]
    fn push_a_single_string() {
        let lp = lp_of(&[b"a"]);
        assert_eq!(lp.as_bytes(), [10, 0, 0, 0, 1, 0, 0x81, b'a', 2, 0xFF]);
        assert_eq!(lp.get(6), LpValue::Str(b"a"));
        assert_eq!(lp.len(), 1);
        assert_eq!(lp.bytes_len(), 10);
    }

    #[test]
    fn integer_encodings_match_redis_bytes() {
        // (value, entry bytes without the backlen)
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0xC0, 0x80]),
            (-1, &[0xDF, 0xFF]),
            (4095, &[0xCF, 0xFF]),
            (-4096, &[0xD0, 0x00]),
            (4096, &[0xF1, 0x00, 0x10]),
            (-4097, &[0xF1, 0xFF, 0xEF]),
            (32767, &[0xF1, 0xFF, 0x7F]),
            (-32768, &[0xF1, 0x00, 0x80]),
            (32768, &[0xF2, 0x00, 0x80, 0x00]),
            (8388607, &[0xF2, 0xFF, 0xFF, 0x7F]),
            (-8388608, &[0xF2, 0x00, 0x00, 0x80]),
            (8388608, &[0xF3, 0x00, 0x00, 0x80, 0x00]),
            (i32::MAX as i64, &[0xF3, 0xFF, 0xFF, 0xFF, 0x7F]),
            (i32::MAX as i64 + 1, &[0xF4, 0, 0, 0, 0x80, 0, 0, 0, 0]),
            (
                i32::MIN as i64 - 1,
                &[0xF4, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF],
            ),
            (i64::MIN, &[0xF4, 0, 0, 0, 0, 0, 0, 0, 0x80]),
            (
                i64::MAX,
                &[0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            ),
        ];
        for &(v, entry) in cases {
            let mut expected_entry = entry.to_vec();
            expected_entry.push(entry.len() as u8);
            let expected = framed(1, &expected_entry);
            let text = v.to_string();
            let from_text = lp_of(&[text.as_bytes()]);
            assert_eq!(from_text.as_bytes(), expected, "{v} pushed as text");
            let mut from_int = Listpack::new();
            from_int.push_back_int(v);
            assert_eq!(from_int.as_bytes(), expected, "{v} pushed as int");
            assert_eq!(from_int.get(6), LpValue::Int(v));
            assert!(from_int.get(6).eq_bytes(text.as_bytes()));
            assert_eq!(from_int.iter().next_back(), Some(LpValue::Int(v)));
        }
    }

    #[test]
    fn string_encodings_at_the_length_boundaries() {
        // (length, encoding bytes, backlen bytes)
        let cases: &[(usize, &[u8], &[u8])] = &[
            (0, &[0x80], &[1]),
            (63, &[0xBF], &[64]),
            (64, &[0xE0, 64], &[66]),
            (125, &[0xE0, 125], &[127]),
            (126, &[0xE0, 126], &[1, 0x80]),
            (4095, &[0xEF, 0xFF], &[0x20, 0x81]),
            (4096, &[0xF0, 0x00, 0x10, 0x00, 0x00], &[0x20, 0x85]),
            (16378, &[0xF0, 0xFA, 0x3F, 0, 0], &[0x00, 0xFF, 0xFF]),
        ];
        for &(len, encoding, backlen) in cases {
            let s = vec![b'x'; len];
            let lp = lp_of(&[&s, b"z"]);
            let mut entry = encoding.to_vec();
            entry.extend_from_slice(&s);
            entry.extend_from_slice(backlen);
            entry.extend_from_slice(&[0x81, b'z', 2]);
            assert_eq!(lp.as_bytes(), framed(2, &entry), "length {len}");
            assert_eq!(lp.get(6), LpValue::Str(&s));
            assert_eq!(lp.last().and_then(|z| lp.prev(z)), Some(6), "length {len}");
            assert_eq!(strings(&lp), vec![s.clone(), b"z".to_vec()]);
            assert_eq!(lp.iter().rev().nth(1), Some(LpValue::Str(&s)));
        }
    }

    #[test]
    fn strings_that_look_like_integers() {
        let lp = lp_of(&[
            b"-0", b"007", b"+1", b"", b"1a", b" 1", b"1 ", b"-", b"0", b"-12",
        ]);
        let values: Vec<_> = lp.iter().collect();
        assert_eq!(
            values,
            [
                LpValue::Str(b"-0"),
                LpValue::Str(b"007"),
                LpValue::Str(b"+1"),
                LpValue::Str(b""),
                LpValue::Str(b"1a"),
                LpValue::Str(b" 1"),
                LpValue::Str(b"1 "),
                LpValue::Str(b"-"),
                LpValue::Int(0),
                LpValue::Int(-12),
            ]
        );
        assert_eq!(canonical_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(canonical_int(b"9223372036854775808"), None);
        assert_eq!(canonical_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(canonical_int(b"-9223372036854775809"), None);
        assert_eq!(canonical_int(b"99999999999999999999"), None);
        assert_eq!(canonical_int(b"-00"), None);
    }

    #[test]
    fn lp_value_helpers() {
        assert_eq!(LpValue::Int(-42).to_bytes(), Bytes::from_static(b"-42"));
        assert_eq!(LpValue::Str(b"hi").to_bytes(), Bytes::from_static(b"hi"));
        assert_eq!(LpValue::Int(7).with_bytes(|b| b.len()), 1);
        assert!(LpValue::Int(5).eq_bytes(b"5"));
        assert!(!LpValue::Int(5).eq_bytes(b"05"));
        assert!(!LpValue::Int(5).eq_bytes(b"+5"));
        assert!(!LpValue::Int(0).eq_bytes(b"-0"));
        assert!(LpValue::Str(b"05").eq_bytes(b"05"));
        assert!(!LpValue::Str(b"5").eq_bytes(b"6"));
    }

    #[test]
    fn backlen_round_trips() {
        let sizes = [
            0u64,
            1,
            127,
            128,
            16382,
            16383,
            16384,
            2097150,
            2097151,
            2097152,
            268435454,
            268435455,
            268435456,
            u32::MAX as u64,
        ];
        let expected_lens = [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5];
        for (&size, &expected_len) in sizes.iter().zip(&expected_lens) {
            let (bytes, n) = encode_backlen(size);
            assert_eq!(n, expected_len, "size {size}");
            assert_eq!(
                bytes[0] & 0x80,
                0,
                "size {size}: first byte has no continuation bit"
            );
            assert!(bytes[1..n].iter().all(|b| b & 0x80 != 0), "size {size}");
            assert_eq!(
                decode_backlen(&bytes[..n], n - 1),
                Some((size, n)),
                "size {size}"
            );
        }
        assert_eq!(encode_backlen(128).0[..2], [1, 0x80]);
        assert_eq!(encode_backlen(16383).0[..3], [0x00, 0xFF, 0xFF]);
        assert_eq!(decode_backlen(&[0x80; 6], 5), None);
    }

    /// `RPUSH l a 1 300 -5 hello` then `DUMP l` on redis-server 7.0.15 started with
    /// `--rdbcompression no`: RDB type 18 (quicklist 2), 1 node, container 2 (packed), then
    /// this listpack as a string of 0x19 bytes.
    const REDIS_LIST: &[u8] = &[
        0x19, 0x00, 0x00, 0x00, 0x05, 0x00, 0x81, 0x61, 0x02, 0x01, 0x01, 0xC1, 0x2C, 0x02, 0xDF,
        0xFB, 0x02, 0x85, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x06, 0xFF,
    ];

    /// `HSET h f v` then `DUMP h` (same server): RDB type 16 (hash listpack), this string.
    const REDIS_HASH: &[u8] = &[
        0x0D, 0x00, 0x00, 0x00, 0x02, 0x00, 0x81, 0x66, 0x02, 0x81, 0x76, 0x02, 0xFF,
    ];

    /// The elements of [`REDIS_INTS`], in order.
    const REDIS_INTS_ITEMS: &[&str] = &[
        "0",
        "127",
        "128",
        "-1",
        "4095",
        "-4096",
        "4096",
        "-4097",
        "32767",
        "-32768",
        "32768",
        "8388607",
        "-8388608",
        "8388608",
        "2147483647",
        "2147483648",
        "-2147483649",
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "-0",
        "007",
        "+1",
        "",
        "1a",
    ];

    /// `RPUSH l2` of [`REDIS_INTS_ITEMS`] then `DUMP l2` (same server), the listpack of its one
    /// quicklist node (0x92 bytes), as hex.
    const REDIS_INTS: &str = "92000000190000017f01c08002dfff02cfff02d00002f1001003f1ffef03f1ff7f\
        03f1008003f200800004f2ffff7f04f200008004f30000800005f3ffffff7f05f4000000800000000009f4ffff\
        ff7fffffffff09f4000000000000008009f4ffffffffffffff7f0993393232333337323033363835343737353\
        8303814822d30038330303704822b3103800182316103ff";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn matches_listpacks_written_by_redis() {
        let list = Listpack::from_bytes(REDIS_LIST.to_vec()).unwrap();
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            [
                LpValue::Str(b"a"),
                LpValue::Int(1),
                LpValue::Int(300),
                LpValue::Int(-5),
                LpValue::Str(b"hello")
            ]
        );
        assert_eq!(
            lp_of(&[b"a", b"1", b"300", b"-5", b"hello"]).as_bytes(),
            REDIS_LIST
        );

        let hash = Listpack::from_bytes(REDIS_HASH.to_vec()).unwrap();
        assert_eq!(hash.find(6, b"f", 1), Some(6));
        assert_eq!(hash.find(6, b"v", 1), None);
        assert_eq!(lp_of(&[b"f", b"v"]).as_bytes(), REDIS_HASH);

        let ints = unhex(&REDIS_INTS.split_whitespace().collect::<String>());
        let items: Vec<&[u8]> = REDIS_INTS_ITEMS.iter().map(|s| s.as_bytes()).collect();
        assert_eq!(lp_of(&items).as_bytes(), ints);
        let adopted = Listpack::from_bytes(ints).unwrap();
        assert_eq!(strings(&adopted), items);
    }

    #[test]
    fn navigation_and_seek() {
        let lp = lp_of(&[b"a", b"1000", b"ccc", b"-7", b"eeeee"]);
        let offsets: Vec<usize> = std::iter::successors(lp.first(), |&off| lp.next(off)).collect();
        assert_eq!(offsets.len(), 5);
        let back: Vec<usize> = std::iter::successors(lp.last(), |&off| lp.prev(off)).collect();
        assert_eq!(back, offsets.iter().rev().copied().collect::<Vec<_>>());
        for (i, &off) in offsets.iter().enumerate() {
            assert_eq!(lp.seek(i as i64), Some(off));
            assert_eq!(lp.seek(i as i64 - 5), Some(off));
        }
        assert_eq!(lp.seek(5), None);
        assert_eq!(lp.seek(-6), None);
        assert_eq!(lp.seek(i64::MIN), None);
        assert_eq!(lp.seek(i64::MAX), None);
        assert_eq!(lp.get(offsets[1]), LpValue::Int(1000));
    }

    #[test]
    fn edits_return_offsets() {
        let mut lp = lp_of(&[b"a", b"b", b"c"]);
        let b = lp.seek(1).unwrap();
        let x = lp.insert_before(b, b"x");
        assert_eq!(x, b);
        let y = lp.insert_after(x, b"12");
        assert_eq!(lp.get(y), LpValue::Int(12));
        assert_eq!(strings(&lp), [&b"a"[..], b"x", b"12", b"b", b"c"]);
        let end = lp.insert_before(lp.bytes_len() - 1, b"tail");
        assert_eq!(lp.get(end), LpValue::Str(b"tail"));
        let r = lp.replace(y, b"a much longer value than before");
        assert_eq!(r, y);
        assert_eq!(lp.get(lp.next(r).unwrap()), LpValue::Str(b"b"));
        assert_eq!(lp.delete(r), Some(r));
        assert_eq!(lp.get(r), LpValue::Str(b"b"));
        assert_eq!(lp.delete(lp.last().unwrap()), None);
        assert_eq!(strings(&lp), [&b"a"[..], b"x", b"b", b"c"]);
        lp.delete_range(lp.seek(1).unwrap(), 2);
        assert_eq!(strings(&lp), [&b"a"[..], b"c"]);
        lp.delete_range(lp.first().unwrap(), 100);
        assert_eq!(lp, Listpack::new());
        lp.delete_range(lp.bytes_len() - 1, 3);
        assert_eq!(lp, Listpack::new());
        lp.push_front_int(-3);
        lp.push_front(b"first");
        assert_eq!(strings(&lp), [&b"first"[..], b"-3"]);
    }

    #[test]
    fn find_with_skip() {
        let lp = lp_of(&[b"f1", b"v1", b"10", b"f1", b"v3", b"007"]);
        assert_eq!(lp.find(6, b"f1", 1), Some(6));
        assert_eq!(lp.find(6, b"10", 1), lp.seek(2));
        assert_eq!(lp.find(6, b"f1", 0), Some(6));
        let second = lp.seek(1).unwrap();
        // From the second entry with skip 1 the candidates are v1, f1, 007.
        assert_eq!(lp.find(second, b"f1", 1), lp.seek(3));
        assert_eq!(lp.find(second, b"10", 1), None);
        assert_eq!(lp.find(6, b"007", 0), lp.seek(5));
        assert_eq!(lp.find(6, b"7", 0), None);
        assert_eq!(lp.find(6, b"010", 0), None);
        assert_eq!(lp.find(lp.bytes_len() - 1, b"f1", 0), None);
    }

    #[test]
    fn count_saturates_at_65535() {
        let mut lp = Listpack::new();
        for i in 0..65_534 {
            lp.push_back_int(i % 100);
        }
        assert_eq!(lp.as_bytes()[4..6], [0xFE, 0xFF]);
        lp.push_back(b"x");
        assert_eq!(lp.as_bytes()[4..6], [0xFF, 0xFF]);
        lp.push_back(b"y");
        assert_eq!(lp.as_bytes()[4..6], [0xFF, 0xFF]);
        assert_eq!(lp.len(), 65_536);
        assert_eq!(lp.seek(-1).map(|off| lp.get(off)), Some(LpValue::Str(b"y")));
        assert_eq!(
            lp.seek(65_535).map(|off| lp.get(off)),
            Some(LpValue::Str(b"y"))
        );
        assert_eq!(lp.seek(65_536), None);
        let again = Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap();
        assert_eq!(again.len(), 65_536);
        lp.delete_range(lp.first().unwrap(), 10);
        assert_eq!(
            lp.as_bytes()[4..6],
            [0xFF, 0xFF],
            "stays unknown, as in Redis"
        );
        assert_eq!(lp.len(), 65_526);
    }

    #[test]
    fn capacity_stays_close_to_length() {
        let mut lp = Listpack::new();
        for i in 0..10_000 {
            lp.push_back(format!("value-{i}").as_bytes());
            assert!(lp.heap_bytes() <= lp.bytes_len() + lp.bytes_len() / 4 + 64);
        }
        lp.delete_range(lp.first().unwrap(), 9_990);
        assert!(lp.heap_bytes() <= lp.bytes_len() + lp.bytes_len() / 4 + 64);
        lp.shrink_to_fit();
        assert_eq!(lp.heap_bytes(), lp.bytes_len());
        assert!(lp.safe_to_add(1000));
        assert!(!lp.safe_to_add(SAFETY_BYTES));
    }

    #[test]
    fn from_bytes_rejects_each_kind_of_damage() {
        use ListpackError::*;
        let good = lp_of(&[b"a", b"300"]).into_bytes();
        let err = |bytes: Vec<u8>| Listpack::from_bytes(bytes).unwrap_err();
        assert_eq!(err(vec![6, 0, 0, 0, 0, 0]), TooShort { len: 6 });
        assert_eq!(err(framed(0, &[])[..6].to_vec()), TooShort { len: 6 });
        let mut long = good.clone();
        long.push(0xFF);
        assert_eq!(
            err(long),
            TotalBytesMismatch {
                header: 13,
                actual: 14
            }
        );
        let mut no_end = good.clone();
        *no_end.last_mut().unwrap() = 0;
        assert_eq!(err(no_end), MissingTerminator);
        assert_eq!(err(framed(1, &[0xFF, 0xFF])), EarlyTerminator { offset: 6 });
        assert_eq!(
            err(framed(1, &[0xF5, 1])),
            BadEncoding {
                offset: 6,
                byte: 0xF5
            }
        );
        assert_eq!(
            err(framed(1, &[0x83, b'a', 4])),
            EntryOutOfBounds { offset: 6 }
        );
        assert_eq!(err(framed(1, &[0xE0])), EntryOutOfBounds { offset: 6 });
        assert_eq!(
            err(framed(1, &[0xF0, 0xFF, 0xFF, 0xFF])),
            EntryOutOfBounds { offset: 6 }
        );
        assert_eq!(
            err(framed(1, &[0xF0, 1, 0, 0, 0, b'a', 7])),
            BadBacklen { offset: 6 }
        );
        assert_eq!(err(framed(2, &[0x81, b'a', 3])), BadBacklen { offset: 6 });
        assert_eq!(
            err(framed(2, &[0x81, b'a', 2])),
            CountMismatch {
                header: 2,
                actual: 1
            }
        );
        assert!(Listpack::from_bytes(framed(COUNT_UNKNOWN, &[0x81, b'a', 2])).is_ok());
        // A 16383-byte entry written with a 2-byte backlen (valid for Redis' reader) is refused:
        // Redis always writes 3 bytes there.
        let mut entry = vec![0xF0, 0xFA, 0x3F, 0, 0];
        entry.extend_from_slice(&[b'x'; 16378]);
        entry.extend_from_slice(&[0x7F, 0xFF, 0x01, 0x01]);
        assert_eq!(err(framed(2, &entry)), BadBacklen { offset: 6 });
        // Non-canonical encodings Redis would read are accepted.
        let lp = Listpack::from_bytes(framed(
            2,
            &[0xE0, 1, b'a', 3, 0xF4, 5, 0, 0, 0, 0, 0, 0, 0, 9],
        ))
        .unwrap();
        assert_eq!(
            lp.iter().collect::<Vec<_>>(),
            [LpValue::Str(b"a"), LpValue::Int(5)]
        );
        assert!(Listpack::from_bytes(good).is_ok());
        assert_eq!(
            EntryOutOfBounds { offset: 9 }.to_string(),
            "listpack entry at offset 9 runs past the end of the buffer"
        );
    }

    /// A value for the model tests: short and long strings, canonical and near-canonical ints.
    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => any::<i64>().prop_map(|v| v.to_string().into_bytes()),
            4 => (-5000i64..5000).prop_map(|v| v.to_string().into_bytes()),
            4 => proptest::collection::vec(any::<u8>(), 0..80),
            1 => prop::sample::select(vec![&b"-0"[..], b"007", b"+1", b"", b"-", b"1 "])
                .prop_map(|s| s.to_vec()),
            1 => (0usize..3, any::<u8>()).prop_map(|(which, b)| {
                vec![b; [4094, 4096, 16378][which] + usize::from(b % 3)]
            }),
        ]
    }

    #[derive(Clone, Debug)]
    enum Op {
        PushBack(Vec<u8>),
        PushFront(Vec<u8>),
        PushBackInt(i64),
        PushFrontInt(i64),
        InsertBefore(usize, Vec<u8>),
        InsertAfter(usize, Vec<u8>),
        Replace(usize, Vec<u8>),
        Delete(usize),
        DeleteRange(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => value().prop_map(Op::PushBack),
            2 => value().prop_map(Op::PushFront),
            1 => any::<i64>().prop_map(Op::PushBackInt),
            1 => any::<i64>().prop_map(Op::PushFrontInt),
            2 => (any::<usize>(), value()).prop_map(|(i, v)| Op::InsertBefore(i, v)),
            2 => (any::<usize>(), value()).prop_map(|(i, v)| Op::InsertAfter(i, v)),
            2 => (any::<usize>(), value()).prop_map(|(i, v)| Op::Replace(i, v)),
            2 => any::<usize>().prop_map(Op::Delete),
            1 => (any::<usize>(), 0usize..6).prop_map(|(i, n)| Op::DeleteRange(i, n)),
        ]
    }

    /// Applies `op` to both the listpack and the model.
    fn apply(lp: &mut Listpack, model: &mut VecDeque<Vec<u8>>, op: Op) {
        let len = model.len();
        let at = |i: usize| i % len.max(1);
        match op {
            Op::PushBack(v) => {
                lp.push_back(&v);
                model.push_back(v);
            }
            Op::PushFront(v) => {
                lp.push_front(&v);
                model.push_front(v);
            }
            Op::PushBackInt(v) => {
                lp.push_back_int(v);
                model.push_back(v.to_string().into_bytes());
            }
            Op::PushFrontInt(v) => {
                lp.push_front_int(v);
                model.push_front(v.to_string().into_bytes());
            }
            Op::InsertBefore(_, _)
            | Op::InsertAfter(_, _)
            | Op::Replace(_, _)
            | Op::Delete(_)
            | Op::DeleteRange(_, _)
                if model.is_empty() => {}
            Op::InsertBefore(i, v) => {
                let off = lp.seek(at(i) as i64).unwrap();
                let new = lp.insert_before(off, &v);
                assert!(lp.get(new).eq_bytes(&v));
                model.insert(at(i), v);
            }
            Op::InsertAfter(i, v) => {
                let off = lp.seek(at(i) as i64).unwrap();
                let new = lp.insert_after(off, &v);
                assert!(lp.get(new).eq_bytes(&v));
                model.insert(at(i) + 1, v);
            }
            Op::Replace(i, v) => {
                let off = lp.seek(at(i) as i64).unwrap();
                assert_eq!(lp.replace(off, &v), off);
                assert!(lp.get(off).eq_bytes(&v));
                model[at(i)] = v;
            }
            Op::Delete(i) => {
                let off = lp.seek(at(i) as i64).unwrap();
                let next = lp.delete(off);
                model.remove(at(i));
                assert_eq!(next.is_some(), (at(i)) < model.len());
                if let Some(next) = next {
                    assert!(lp.get(next).eq_bytes(&model[at(i)]));
                }
            }
            Op::DeleteRange(i, n) => {
                let start = at(i);
                lp.delete_range(lp.seek(start as i64).unwrap(), n);
                let end = (start + n).min(model.len());
                model.drain(start..end);
            }
        }
    }

    fn check(lp: &Listpack, model: &VecDeque<Vec<u8>>) {
        let forward = strings(lp);
        assert_eq!(forward, model.iter().cloned().collect::<Vec<_>>());
        let mut backward: Vec<Vec<u8>> = lp.iter().rev().map(|v| v.to_bytes().to_vec()).collect();
        backward.reverse();
        assert_eq!(backward, forward);
        assert_eq!(lp.len(), model.len());
        assert_eq!(lp.is_empty(), model.is_empty());
        // The bytes depend only on the contents: the same as appending them all in order.
        let items: Vec<&[u8]> = model.iter().map(Vec::as_slice).collect();
        assert_eq!(lp.as_bytes(), lp_of(&items).as_bytes());
        assert_eq!(&Listpack::from_bytes(lp.as_bytes().to_vec()).unwrap(), lp);
        let n = model.len() as i64;
        for i in [0, n / 2, n - 1, -1, -n] {
            if let Some(off) = lp.seek(i) {
                let idx = (if i < 0 { n + i } else { i }) as usize;
                assert!(lp.get(off).eq_bytes(&model[idx]));
            } else {
                assert!(n == 0);
            }
        }
        assert!(lp.heap_bytes() <= lp.bytes_len() + lp.bytes_len() / 4 + 64);
    }

    /// Exercises every read path of a listpack `from_bytes` accepted; none may panic.
    fn read_everything(lp: &Listpack) {
        let n = lp.len();
        assert_eq!(lp.iter().count(), n);
        assert_eq!(lp.iter().rev().count(), n);
        let mut off = lp.first();
        while let Some(o) = off {
            lp.get(o).to_bytes();
            off = lp.next(o);
        }
        let mut off = lp.last();
        while let Some(o) = off {
            off = lp.prev(o);
        }
        lp.seek(n as i64 / 2);
        lp.seek(-1);
        if let Some(first) = lp.first() {
            lp.find(first, b"12", 1);
            lp.clone().delete(first);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn behaves_like_a_deque(ops in proptest::collection::vec(op(), 0..60)) {
            let mut lp = Listpack::new();
            let mut model = VecDeque::new();
            for op in ops {
                apply(&mut lp, &mut model, op);
                check(&lp, &model);
            }
        }

        #[test]
        fn find_matches_the_model(
            items in proptest::collection::vec(value(), 0..20),
            needle in value(),
            skip in 0usize..3,
        ) {
            let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
            let lp = lp_of(&refs);
            let expected = items.iter().step_by(skip + 1).position(|v| *v == needle);
            let found = lp.first().and_then(|first| lp.find(first, &needle, skip));
            prop_assert_eq!(found, expected.and_then(|i| lp.seek((i * (skip + 1)) as i64)));
        }

        #[test]
        fn from_bytes_never_panics_on_random_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            if let Ok(lp) = Listpack::from_bytes(bytes) {
                read_everything(&lp);
            }
        }

        #[test]
        fn from_bytes_never_panics_on_framed_random_entries(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            count in prop_oneof![Just(COUNT_UNKNOWN), 0u16..8],
        ) {
            if let Ok(lp) = Listpack::from_bytes(framed(count, &body)) {
                read_everything(&lp);
            }
        }

        #[test]
        fn from_bytes_never_panics_on_damaged_listpacks(
            items in proptest::collection::vec(value(), 0..8),
            damage in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 1..4),
        ) {
            let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
            let mut bytes = lp_of(&refs).into_bytes();
            for (at, byte, kind) in damage {
                if bytes.is_empty() {
                    break;
                }
                let at = at % bytes.len();
                match kind {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    2 => { bytes.remove(at); }
                    _ => bytes.truncate(at),
                }
                // Keep the total-bytes field right half the time so the entries get checked.
                if byte % 2 == 0 && bytes.len() >= 4 {
                    let total = (bytes.len() as u32).to_le_bytes();
                    bytes[..4].copy_from_slice(&total);
                }
            }
            if let Ok(lp) = Listpack::from_bytes(bytes) {
                read_everything(&lp);
            }
        }
    }
}
