//! Values stored in the keyspace and their encodings.
//!
//! Layout: a [`Value`] is one of the Redis data types, 40 bytes: hashes, sets and sorted sets
//! live inline (their compact encodings are one buffer, their big ones a box), lists are boxed;
//! their encodings live in their own modules ([`crate::list`], [`crate::hash`],
//! [`crate::set`], [`crate::zset`]). In the keyspace an `int` or a string of at most 512 bytes
//! is stored inside the key's node (`crate::node`) and read through [`ValueRef`]/[`StrRef`];
//! any other value is boxed beside the node. A string is stored in one of three encodings, chosen the way Redis' `tryObjectEncoding` chooses them so that
//! `OBJECT ENCODING` answers the same:
//!
//! | encoding | when                                                      | storage            |
//! |----------|-----------------------------------------------------------|--------------------|
//! | `int`    | canonical decimal of an `i64`, at most 20 bytes           | the `i64` inline   |
//! | `embstr` | at most 44 bytes, written whole (SET, MSET, GETSET, ...)  | inline ≤ 22 bytes, else one exact-size box |
//! | `raw`    | longer, or modified in place (APPEND, SETRANGE)           | `Bytes`            |

use bytes::Bytes;

use crate::elem::Elem;

use crate::hash::Hash;
use crate::list::List;
use crate::set::Set;
use crate::zset::ZSet;

/// Longest string Redis stores as `embstr` (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`), in bytes.
pub const EMBSTR_MAX_BYTES: usize = 44;

/// Integers in `0..SHARED_INTEGERS` are shared objects in Redis (`OBJ_SHARED_INTEGERS`);
/// `OBJECT REFCOUNT` reports [`SHARED_REFCOUNT`] for them.
pub const SHARED_INTEGERS: i64 = 10_000;

/// The refcount Redis reports for shared objects (`OBJ_SHARED_REFCOUNT`, `INT_MAX`).
pub const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Free effort above which a value is freed in the background (Redis' `LAZYFREE_THRESHOLD`).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// A value of one of the Redis data types.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Value {
    /// A string (also integers and bitmaps).
    String(StrValue),
    /// A list (`quicklist` of listpack nodes).
    List(Box<List>),
    /// A hash (`listpack` or `hashtable`), inline: a small hash costs its listpack only.
    Hash(Hash),
    /// A set (`intset` or `hashtable`), inline.
    Set(Set),
    /// A sorted set (`listpack` or `skiplist`), inline.
    ZSet(ZSet),
}

impl Value {
    /// The type name `TYPE` replies with (e.g. `string`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The encoding name `OBJECT ENCODING` replies with (e.g. `int`, `embstr`, `raw`).
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::String(s) => s.encoding_name(),
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
        }
    }

    /// Builds a string value from client bytes, choosing the encoding as SET does.
    pub fn string(bytes: &[u8]) -> Value {
        Value::String(StrValue::from_bytes(bytes))
    }

    /// Approximate heap and inline bytes used by this value (for `MEMORY USAGE`, later eviction).
    pub fn mem_bytes(&self) -> usize {
        match self {
            Value::String(StrValue::Int(_)) => 0,
            Value::String(StrValue::Emb(b)) => b.len(),
            Value::String(StrValue::Raw(b)) => b.len(),
            Value::List(l) => l.mem_bytes(),
            Value::Hash(h) => h.mem_bytes(),
            Value::Set(s) => s.mem_bytes(),
            Value::ZSet(z) => z.mem_bytes(),
        }
    }

    /// Estimated bytes this value costs for `MEMORY USAGE` (Redis' `objectComputeSize`): the
    /// value's storage, with lists estimated from `samples` nodes (0 = all). Hashes, sets and
    /// sorted sets keep a running byte count, so they are exact whatever `samples` is. Strings
    /// count their bytes (an `int` costs nothing beyond the entry).
    pub fn usage_bytes(&self, samples: usize) -> usize {
        match self {
            Value::List(l) => l.sampled_mem_bytes(samples),
            other => other.mem_bytes(),
        }
    }

    /// How much work freeing this value is (Redis' `lazyfreeGetFreeEffort`): 1 for strings and
    /// compact encodings, the number of allocations otherwise. Values with an effort above
    /// [`LAZYFREE_THRESHOLD`] are freed on the background thread (DEL, UNLINK, FLUSHALL ASYNC).
    pub fn free_effort(&self) -> usize {
        match self {
            Value::String(_) => 1,
            Value::List(l) => l.free_effort(),
            Value::Hash(h) => h.free_effort(),
            Value::Set(s) => s.free_effort(),
            Value::ZSet(z) => z.free_effort(),
        }
    }
}

/// A string value in one of Redis' three string encodings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrValue {
    /// `int`: the canonical decimal text of this integer.
    Int(i64),
    /// `embstr`: an immutable short string (at most [`EMBSTR_MAX_BYTES`] bytes), stored inside
    /// the value itself up to [`crate::elem::ELEM_INLINE_MAX`] bytes (no allocation: the common
    /// small cache value), else in one exact-size box.
    Emb(Elem),
    /// `raw`: any other string, or one that was modified in place.
    Raw(Bytes),
}

impl StrValue {
    /// Encodes `bytes` like Redis' `tryObjectEncoding` on a freshly written string.
    pub fn from_bytes(bytes: &[u8]) -> StrValue {
        if bytes.len() <= 20 {
            if let Some(n) = parse_i64(bytes) {
                return StrValue::Int(n);
            }
        }
        if bytes.len() <= EMBSTR_MAX_BYTES {
            StrValue::Emb(Elem::new(bytes))
        } else {
            StrValue::Raw(Bytes::copy_from_slice(bytes))
        }
    }

    /// A borrowed view, which holds the accessors below.
    pub fn as_str_ref(&self) -> StrRef<'_> {
        match self {
            StrValue::Int(n) => StrRef::Int(*n),
            StrValue::Emb(e) => StrRef::Inline {
                bytes: e.as_bytes(),
                raw: false,
            },
            StrValue::Raw(b) => StrRef::Shared(b),
        }
    }

    /// The `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        self.as_str_ref().encoding_name()
    }

    /// The `OBJECT REFCOUNT` reply: shared small integers report `INT_MAX`, others 1.
    pub fn refcount(&self) -> i64 {
        self.as_str_ref().refcount()
    }

    /// The string's bytes as a cheaply cloneable `Bytes` (copies short encodings).
    pub fn to_bytes(&self) -> Bytes {
        self.as_str_ref().to_bytes()
    }

    /// Calls `f` with the string's bytes without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        self.as_str_ref().with_bytes(f)
    }

    /// Length in bytes (`STRLEN`).
    pub fn len(&self) -> usize {
        self.as_str_ref().len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an `i64` if it is the canonical decimal text of one (`INCR` and friends).
    pub fn as_i64(&self) -> Option<i64> {
        self.as_str_ref().as_i64()
    }

    /// Appends `data` (`APPEND`); the result is `raw` encoded as in Redis.
    pub fn append(&mut self, data: &[u8]) {
        let mut v = self.take_vec(data.len());
        v.extend_from_slice(data);
        *self = StrValue::Raw(Bytes::from(v));
    }

    /// Overwrites bytes from `offset`, zero-padding as needed (`SETRANGE`); result is `raw`.
    /// The caller checks the final length against `proto-max-bulk-len`.
    pub fn set_range(&mut self, offset: usize, data: &[u8]) {
        let end = offset + data.len();
        let mut v = self.take_vec(end.saturating_sub(self.len()));
        if v.len() < end {
            v.resize(end, 0);
        }
        v[offset..end].copy_from_slice(data);
        *self = StrValue::Raw(Bytes::from(v));
    }

    /// Moves the bytes out into a `Vec`, reserving `extra` bytes, leaving an empty raw string.
    fn take_vec(&mut self, extra: usize) -> Vec<u8> {
        let old = std::mem::replace(self, StrValue::Raw(Bytes::new()));
        let mut v = match old {
            StrValue::Raw(b) => match b.try_into_mut() {
                Ok(m) => Vec::from(m),
                Err(b) => b.to_vec(),
            },
            other => other.with_bytes(|b| b.to_vec()),
        };
        v.reserve(extra);
        v
    }
}

/// A borrowed view of a stored value (what a table lookup hands out): strings kept inside
/// the key's node are read in place, other values through their box.
#[derive(Clone, Copy, Debug)]
pub enum ValueRef<'a> {
    /// A string.
    String(StrRef<'a>),
    /// A list.
    List(&'a List),
    /// A hash.
    Hash(&'a Hash),
    /// A set.
    Set(&'a Set),
    /// A sorted set.
    ZSet(&'a ZSet),
}

impl<'a> ValueRef<'a> {
    /// Views an owned value.
    pub fn of(v: &'a Value) -> ValueRef<'a> {
        match v {
            Value::String(s) => ValueRef::String(s.as_str_ref()),
            Value::List(l) => ValueRef::List(l),
            Value::Hash(h) => ValueRef::Hash(h),
            Value::Set(s) => ValueRef::Set(s),
            Value::ZSet(z) => ValueRef::ZSet(z),
        }
    }

    /// The type name `TYPE` replies with (e.g. `string`).
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueRef::String(_) => "string",
            ValueRef::List(_) => "list",
            ValueRef::Hash(_) => "hash",
            ValueRef::Set(_) => "set",
            ValueRef::ZSet(_) => "zset",
        }
    }

    /// The encoding name `OBJECT ENCODING` replies with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ValueRef::String(s) => s.encoding_name(),
            ValueRef::List(l) => l.encoding_name(),
            ValueRef::Hash(h) => h.encoding_name(),
            ValueRef::Set(s) => s.encoding_name(),
            ValueRef::ZSet(z) => z.encoding_name(),
        }
    }

    /// An owned copy (COPY, RENAME's source, MOVE).
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::String(s) => Value::String(s.to_owned_value()),
            ValueRef::List(l) => Value::List(Box::new((*l).clone())),
            ValueRef::Hash(h) => Value::Hash((*h).clone()),
            ValueRef::Set(s) => Value::Set((*s).clone()),
            ValueRef::ZSet(z) => Value::ZSet((*z).clone()),
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<StrRef<'a>> {
        match self {
            ValueRef::String(s) => Some(*s),
            _ => None,
        }
    }
}

/// A borrowed string value in one of the string encodings: an `int`, bytes inside the key's
/// node (or an `embstr`), or a shared `raw` buffer.
#[derive(Clone, Copy, Debug)]
pub enum StrRef<'a> {
    /// `int` encoding.
    Int(i64),
    /// Bytes stored in place; `raw` selects the `raw` encoding name over `embstr`.
    Inline {
        /// The string's bytes.
        bytes: &'a [u8],
        /// Whether `OBJECT ENCODING` says `raw`.
        raw: bool,
    },
    /// A `raw` string in its own shared buffer (long, or built by APPEND/SETRANGE/SETBIT).
    Shared(&'a Bytes),
}

impl StrRef<'_> {
    /// The `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            StrRef::Int(_) => "int",
            StrRef::Inline { raw: false, .. } => "embstr",
            StrRef::Inline { raw: true, .. } | StrRef::Shared(_) => "raw",
        }
    }

    /// The `OBJECT REFCOUNT` reply: shared small integers report `INT_MAX`, others 1.
    pub fn refcount(&self) -> i64 {
        match self {
            StrRef::Int(n) if (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
            _ => 1,
        }
    }

    /// The bytes as `Bytes`: one copy for strings stored in place, a reference-count bump for
    /// shared ones.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            StrRef::Shared(b) => Bytes::clone(b),
            other => other.with_bytes(Bytes::copy_from_slice),
        }
    }

    /// Calls `f` with the string's bytes without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrRef::Int(n) => f(itoa::Buffer::new().format(*n).as_bytes()),
            StrRef::Inline { bytes, .. } => f(bytes),
            StrRef::Shared(b) => f(b),
        }
    }

    /// Length in bytes (`STRLEN`).
    pub fn len(&self) -> usize {
        match self {
            StrRef::Int(n) => itoa::Buffer::new().format(*n).len(),
            StrRef::Inline { bytes, .. } => bytes.len(),
            StrRef::Shared(b) => b.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an `i64` if it is the canonical decimal text of one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrRef::Int(n) => Some(*n),
            other => other.with_bytes(parse_i64),
        }
    }

    /// An owned copy in the same encoding.
    pub fn to_owned_value(&self) -> StrValue {
        match self {
            StrRef::Int(n) => StrValue::Int(*n),
            StrRef::Inline { bytes, raw: false } => StrValue::Emb(Elem::new(bytes)),
            StrRef::Inline { bytes, raw: true } => StrValue::Raw(Bytes::copy_from_slice(bytes)),
            StrRef::Shared(b) => StrValue::Raw(Bytes::clone(b)),
        }
    }
}

/// A mutable view of a stored value (what a write lookup hands out). A string is edited
/// through [`crate::table::StrMut`], which stores it back into the key's node when dropped.
#[derive(Debug)]
pub enum ValueMut<'a> {
    /// A string.
    String(crate::table::StrMut<'a>),
    /// A list.
    List(&'a mut List),
    /// A hash.
    Hash(&'a mut Hash),
    /// A set.
    Set(&'a mut Set),
    /// A sorted set.
    ZSet(&'a mut ZSet),
}

/// Parses the canonical decimal text of an `i64` exactly as Redis' `string2ll`: no sign other
/// than a leading `-`, no leading zeros, no spaces, no `-0`, at most 20 bytes.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_aggregates_are_freed_in_the_background() {
        // DEL/UNLINK/FLUSH hand a value to the lazy-free thread when its free effort exceeds
        // LAZYFREE_THRESHOLD (Redis' lazyfreeGetFreeEffort): big aggregates do, compact ones not.
        let limits = crate::EncodingLimits::default();
        let mut big = crate::Set::new();
        let mut small = crate::Set::new();
        for i in 0..10_000 {
            big.insert(format!("m{i}").as_bytes(), &limits);
        }
        for i in 0..10 {
            small.insert(format!("{i}").as_bytes(), &limits);
        }
        assert!(Value::Set(big).free_effort() > LAZYFREE_THRESHOLD);
        assert!(Value::Set(small).free_effort() <= LAZYFREE_THRESHOLD);
        let mut list = crate::List::new();
        for i in 0..200_000 {
            list.push_back(format!("element-{i}").as_bytes(), &limits);
        }
        assert!(Value::List(Box::new(list)).free_effort() > LAZYFREE_THRESHOLD);
        assert_eq!(Value::string(b"x").free_effort(), 1);
    }

    #[test]
    fn values_stay_small() {
        // Per-key memory: aggregates live inline (or boxed) without growing the entry.
        assert_eq!(std::mem::size_of::<Value>(), 40);
        assert!(std::mem::size_of::<crate::Hash>() <= 32);
        assert!(std::mem::size_of::<crate::Set>() <= 32);
        assert!(std::mem::size_of::<crate::ZSet>() <= 32);
    }

    #[test]
    fn parse_i64_is_strict_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"123456789012345678901",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn encodings_follow_redis_thresholds() {
        assert_eq!(StrValue::from_bytes(b"123").encoding_name(), "int");
        assert_eq!(StrValue::from_bytes(b"0123").encoding_name(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 44]).encoding_name(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 45]).encoding_name(), "raw");
        assert_eq!(StrValue::from_bytes(b"5").refcount(), SHARED_REFCOUNT);
        assert_eq!(StrValue::from_bytes(b"10000").refcount(), 1);
    }

    #[test]
    fn append_and_set_range_make_raw() {
        let mut s = StrValue::from_bytes(b"12");
        s.append(b"ab");
        assert_eq!(s, StrValue::Raw(Bytes::from_static(b"12ab")));
        let mut s = StrValue::from_bytes(b"hello");
        s.set_range(7, b"xy");
        assert_eq!(s.to_bytes(), Bytes::from_static(b"hello\0\0xy"));
        s.set_range(0, b"J");
        assert_eq!(s.to_bytes(), Bytes::from_static(b"Jello\0\0xy"));
        assert_eq!(s.len(), 9);
    }
}
