//! [`Elem`]: one element of an aggregate (a set member, hash field or value, sorted-set member)
//! stored in 24 bytes, inline when short.
//!
//! Layout:
//!
//! | variant  | when               | storage                                    |
//! |----------|--------------------|--------------------------------------------|
//! | `Inline` | ≤ 22 bytes         | length byte + 22 bytes in the element      |
//! | `Heap`   | longer             | an exact-size `Box<[u8]>`                  |
//!
//! Most members and fields are short, so the common case costs no allocation at all, where Redis
//! pays an sds allocation (at least 16 bytes with jemalloc) per element.

use std::fmt;

/// Longest element stored inline, in bytes.
pub const ELEM_INLINE_MAX: usize = 22;

/// A byte string of an aggregate, compared, hashed and ordered by its bytes.
#[derive(Clone)]
pub struct Elem(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; ELEM_INLINE_MAX] },
    Heap(Box<[u8]>),
}

impl Elem {
    /// Copies `bytes` into an element.
    pub fn new(bytes: &[u8]) -> Elem {
        if bytes.len() <= ELEM_INLINE_MAX {
            let mut buf = [0u8; ELEM_INLINE_MAX];
            buf[..bytes.len()].copy_from_slice(bytes);
            Elem(Repr::Inline {
                len: bytes.len() as u8,
                buf,
            })
        } else {
            Elem(Repr::Heap(bytes.into()))
        }
    }

    /// The canonical decimal text of `n` as an element (no allocation: at most 20 bytes).
    pub fn from_i64(n: i64) -> Elem {
        Elem::new(itoa::Buffer::new().format(n).as_bytes())
    }

    /// The element's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(b) => b,
        }
    }

    /// Heap bytes owned by this element (0 when inline).
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => b.len(),
        }
    }

    /// The bytes as a `Bytes` (copied).
    pub fn to_bytes(&self) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(self.as_bytes())
    }
}

impl std::ops::Deref for Elem {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Elem {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for Elem {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&[u8]> for Elem {
    fn from(b: &[u8]) -> Elem {
        Elem::new(b)
    }
}

impl PartialEq for Elem {
    fn eq(&self, other: &Elem) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Elem {}

impl PartialOrd for Elem {
    fn partial_cmp(&self, other: &Elem) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Elem {
    fn cmp(&self, other: &Elem) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for Elem {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl fmt::Debug for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Elem({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_24_bytes() {
        assert_eq!(std::mem::size_of::<Elem>(), 24);
    }

    #[test]
    fn inline_and_heap_round_trip() {
        for len in [0, 1, 21, 22, 23, 100] {
            let v: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let e = Elem::new(&v);
            assert_eq!(e.as_bytes(), &v[..]);
            assert_eq!(e.heap_bytes(), if len > ELEM_INLINE_MAX { len } else { 0 });
        }
        assert_eq!(Elem::from_i64(-42).as_bytes(), b"-42");
        assert!(Elem::new(b"a") < Elem::new(b"b"));
        assert!(Elem::new(b"a") < Elem::new(b"aa"));
    }
}
