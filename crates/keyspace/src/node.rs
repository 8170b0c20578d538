//! A key's node: one heap block holding the chain link, the access field, the expire, the key
//! and, for integers and strings of at most [`INLINE_STR_MAX`] bytes, the value itself.
//!
//! # Layout (byte offsets; multi-byte fields little-endian, unaligned except `next`)
//!
//! | offset | size | field                                                                |
//! |-------:|-----:|----------------------------------------------------------------------|
//! | 0      | 8    | `next`: the chain link (`Option<NonNull<u8>>`, 8-aligned)            |
//! | 8      | 4    | `meta`: access field (bits 0-23), payload kind (24-25), raw (26), expire (27) |
//! | 12     | 8    | expire, Unix ms (only with the expire flag)                          |
//! | 20     | 4    | slot in the table's volatile list (only with the expire flag)        |
//! | h      | 1-5  | key length, LEB128                                                   |
//! | h+n    | klen | key bytes                                                            |
//! | then   |      | payload: string = LEB128 length + bytes; int = `i64`; boxed = `*mut Value` |
//!
//! A key of 13 bytes with a 16-byte string value is a 43-byte block (a 48-byte size class), with
//! a 100-byte value 127 bytes (128): Redis spends a dict entry, an object header and one or two
//! sds allocations on the same key. Nothing stores the block's size: it is recomputed from the
//! lengths when the block is freed.
//!
//! Every function here is `unsafe`: the caller passes a live node built by [`build`] and not
//! yet freed, and borrows what it returns no longer than the node lives unchanged.

// The node is a hand-laid-out block; each unsafe operation's contract is stated where it is used.
#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};

use crate::value::Value;

/// A node's address.
pub(crate) type NodePtr = NonNull<u8>;
/// A chain link: a bucket slot or a node's `next` field.
pub(crate) type Link = Option<NodePtr>;

/// Longest string value stored inside the node, in bytes; longer strings are boxed (so that
/// reading them hands out the shared `Bytes` without a copy).
pub(crate) const INLINE_STR_MAX: usize = 512;

/// The 24-bit access field's bits in `meta`.
pub(crate) const LRU_MASK: u32 = 0x00FF_FFFF;
const KIND_SHIFT: u32 = 24;
const KIND_MASK: u32 = 0b11 << KIND_SHIFT;
const KIND_STR: u32 = 0;
const KIND_INT: u32 = 1;
const KIND_BOXED: u32 = 2;
const FLAG_RAW: u32 = 1 << 26;
const FLAG_EXPIRE: u32 = 1 << 27;

const OFF_META: usize = 8;
const OFF_EXPIRE: usize = 12;
const OFF_VOL: usize = 20;
/// Node head without / with an expire, bytes.
pub(crate) const HEAD: usize = 12;
/// Node head with an expire, bytes.
pub(crate) const HEAD_EXPIRE: usize = 24;
const ALIGN: usize = 8;

/// A value as the node stores it.
pub(crate) enum Payload<'a> {
    /// String bytes inside the node; `raw` keeps `OBJECT ENCODING` (embstr vs raw).
    Str { bytes: &'a [u8], raw: bool },
    /// An `int`-encoded string.
    Int(i64),
    /// Any other value, on the heap.
    Boxed(Box<Value>),
}

/// A view of a node's payload.
pub(crate) enum PayloadRef {
    /// String bytes inside the node (address, length) and whether the encoding is raw.
    Str(*const u8, usize, bool),
    /// An `int`-encoded string.
    Int(i64),
    /// A boxed value.
    Boxed(*mut Value),
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// # Safety
/// `p` has room for `varint_len(n)` bytes.
unsafe fn write_varint(p: *mut u8, mut n: usize) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        // SAFETY: within the room the caller reserved.
        unsafe { p.add(i).write((n as u8 & 0x7f) | 0x80) };
        n >>= 7;
        i += 1;
    }
    // SAFETY: as above.
    unsafe { p.add(i).write(n as u8) };
    i + 1
}

/// # Safety
/// `p` points at a varint written by [`write_varint`].
unsafe fn read_varint(p: *const u8) -> (usize, usize) {
    let (mut n, mut shift, mut i) = (0usize, 0u32, 0usize);
    loop {
        // SAFETY: a written varint ends with a byte below 0x80.
        let b = unsafe { p.add(i).read() };
        n |= usize::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (n, i);
        }
        shift += 7;
    }
}

fn payload_len(p: &Payload<'_>) -> usize {
    match p {
        Payload::Str { bytes, .. } => varint_len(bytes.len()) + bytes.len(),
        Payload::Int(_) | Payload::Boxed(_) => 8,
    }
}

fn layout(size: usize) -> Layout {
    match Layout::from_size_align(size, ALIGN) {
        Ok(l) => l,
        // Sizes come from lengths already in memory: they cannot exceed isize::MAX.
        Err(_) => handle_alloc_error(Layout::new::<u64>()),
    }
}

/// The block size a node with these contents takes, in bytes.
pub(crate) fn node_size(has_expire: bool, key_len: usize, payload: &Payload<'_>) -> usize {
    let head = if has_expire { HEAD_EXPIRE } else { HEAD };
    head + varint_len(key_len) + key_len + payload_len(payload)
}

/// Allocates a node. `lru` is the 24-bit access field; `expire` is (Unix ms, volatile slot).
pub(crate) fn build(
    next: Link,
    lru: u32,
    expire: Option<(u64, u32)>,
    key: &[u8],
    payload: Payload<'_>,
) -> NodePtr {
    let size = node_size(expire.is_some(), key.len(), &payload);
    let lay = layout(size);
    // SAFETY: `lay` has a non-zero size (at least HEAD + 2 bytes).
    let raw = unsafe { alloc(lay) };
    let Some(node) = NonNull::new(raw) else {
        handle_alloc_error(lay)
    };
    let mut meta = lru & LRU_MASK;
    // SAFETY: every write below stays within the `size` bytes just allocated, as computed by
    // `node_size` from the same lengths; `next` is at offset 0 of an 8-aligned block.
    unsafe {
        raw.cast::<Link>().write(next);
        let mut off = HEAD;
        if let Some((at, slot)) = expire {
            meta |= FLAG_EXPIRE;
            ptr::write_unaligned(raw.add(OFF_EXPIRE).cast::<u64>(), at);
            ptr::write_unaligned(raw.add(OFF_VOL).cast::<u32>(), slot);
            off = HEAD_EXPIRE;
        }
        off += write_varint(raw.add(off), key.len());
        ptr::copy_nonoverlapping(key.as_ptr(), raw.add(off), key.len());
        off += key.len();
        match payload {
            Payload::Str { bytes, raw: is_raw } => {
                meta |= KIND_STR << KIND_SHIFT;
                if is_raw {
                    meta |= FLAG_RAW;
                }
                off += write_varint(raw.add(off), bytes.len());
                ptr::copy_nonoverlapping(bytes.as_ptr(), raw.add(off), bytes.len());
            }
            Payload::Int(n) => {
                meta |= KIND_INT << KIND_SHIFT;
                ptr::write_unaligned(raw.add(off).cast::<i64>(), n);
            }
            Payload::Boxed(b) => {
                meta |= KIND_BOXED << KIND_SHIFT;
                ptr::write_unaligned(raw.add(off).cast::<*mut Value>(), Box::into_raw(b));
            }
        }
        ptr::write_unaligned(raw.add(OFF_META).cast::<u32>(), meta);
    }
    node
}

/// The node's link field (its `next`), to splice the chain through.
///
/// # Safety
/// `node` is live.
pub(crate) unsafe fn next_link(node: NodePtr) -> *mut Link {
    node.as_ptr().cast::<Link>()
}

/// # Safety
/// `node` is live.
pub(crate) unsafe fn next(node: NodePtr) -> Link {
    // SAFETY: offset 0 of a live, 8-aligned node holds its link.
    unsafe { next_link(node).read() }
}

/// # Safety
/// `node` is live.
unsafe fn meta(node: NodePtr) -> u32 {
    // SAFETY: a live node has its meta word at OFF_META.
    unsafe { ptr::read_unaligned(node.as_ptr().add(OFF_META).cast::<u32>()) }
}

/// # Safety
/// `node` is live and not borrowed elsewhere.
unsafe fn set_meta(node: NodePtr, meta: u32) {
    // SAFETY: as for `meta`.
    unsafe { ptr::write_unaligned(node.as_ptr().add(OFF_META).cast::<u32>(), meta) }
}

/// The 24-bit access field.
///
/// # Safety
/// `node` is live.
pub(crate) unsafe fn lru(node: NodePtr) -> u32 {
    // SAFETY: caller's contract.
    unsafe { meta(node) & LRU_MASK }
}

/// Stores the 24-bit access field.
///
/// # Safety
/// `node` is live and not borrowed elsewhere.
pub(crate) unsafe fn set_lru(node: NodePtr, lru: u32) {
    // SAFETY: caller's contract.
    unsafe {
        let m = meta(node);
        set_meta(node, (m & !LRU_MASK) | (lru & LRU_MASK));
    }
}

/// The expire (Unix ms) and volatile slot, when the node has an expire.
///
/// # Safety
/// `node` is live.
pub(crate) unsafe fn expire(node: NodePtr) -> Option<(u64, u32)> {
    // SAFETY: the expire fields exist exactly when the flag is set.
    unsafe {
        if meta(node) & FLAG_EXPIRE == 0 {
            return None;
        }
        let p = node.as_ptr();
        Some((
            ptr::read_unaligned(p.add(OFF_EXPIRE).cast::<u64>()),
            ptr::read_unaligned(p.add(OFF_VOL).cast::<u32>()),
        ))
    }
}

/// Overwrites the expire of a node that has one.
///
/// # Safety
/// `node` is live, has an expire, and is not borrowed elsewhere.
pub(crate) unsafe fn set_expire_at(node: NodePtr, at: u64) {
    // SAFETY: caller's contract.
    unsafe { ptr::write_unaligned(node.as_ptr().add(OFF_EXPIRE).cast::<u64>(), at) }
}

/// Overwrites the volatile slot of a node that has an expire.
///
/// # Safety
/// `node` is live, has an expire, and is not borrowed elsewhere.
pub(crate) unsafe fn set_vol_slot(node: NodePtr, slot: u32) {
    // SAFETY: caller's contract.
    unsafe { ptr::write_unaligned(node.as_ptr().add(OFF_VOL).cast::<u32>(), slot) }
}

/// # Safety
/// `node` is live.
unsafe fn key_parts(node: NodePtr) -> (*const u8, usize) {
    // SAFETY: the key length follows the head, whose size the expire flag gives.
    unsafe {
        let head = if meta(node) & FLAG_EXPIRE != 0 {
            HEAD_EXPIRE
        } else {
            HEAD
        };
        let p = node.as_ptr().add(head);
        let (len, n) = read_varint(p);
        (p.add(n), len)
    }
}

/// The key's bytes.
///
/// # Safety
/// `node` is live for `'a` and its key is not changed meanwhile (keys never are).
pub(crate) unsafe fn key<'a>(node: NodePtr) -> &'a [u8] {
    // SAFETY: `key_parts` points at `len` initialised bytes inside the node.
    unsafe {
        let (p, len) = key_parts(node);
        std::slice::from_raw_parts(p, len)
    }
}

/// # Safety
/// `node` is live.
unsafe fn payload_ptr(node: NodePtr) -> *mut u8 {
    // SAFETY: the payload follows the key.
    unsafe {
        let (p, len) = key_parts(node);
        p.add(len).cast_mut()
    }
}

/// The payload.
///
/// # Safety
/// `node` is live.
pub(crate) unsafe fn payload(node: NodePtr) -> PayloadRef {
    // SAFETY: the kind bits say which payload was written after the key.
    unsafe {
        let m = meta(node);
        let p = payload_ptr(node);
        match (m & KIND_MASK) >> KIND_SHIFT {
            KIND_INT => PayloadRef::Int(ptr::read_unaligned(p.cast::<i64>())),
            KIND_BOXED => PayloadRef::Boxed(ptr::read_unaligned(p.cast::<*mut Value>())),
            _ => {
                let (len, n) = read_varint(p);
                PayloadRef::Str(p.add(n), len, m & FLAG_RAW != 0)
            }
        }
    }
}

/// Overwrites an `int` payload in place.
///
/// # Safety
/// `node` is live, holds an `int` payload, and is not borrowed elsewhere.
pub(crate) unsafe fn set_int(node: NodePtr, n: i64) {
    // SAFETY: caller's contract.
    unsafe { ptr::write_unaligned(payload_ptr(node).cast::<i64>(), n) }
}

/// The node's block size in bytes.
///
/// # Safety
/// `node` is live.
pub(crate) unsafe fn size(node: NodePtr) -> usize {
    // SAFETY: recomputed from the lengths stored in the node.
    unsafe {
        let (kp, klen) = key_parts(node);
        let head = kp.offset_from(node.as_ptr()) as usize + klen;
        head + match payload(node) {
            PayloadRef::Str(_, len, _) => varint_len(len) + len,
            PayloadRef::Int(_) | PayloadRef::Boxed(_) => 8,
        }
    }
}

/// Frees the block and hands back its boxed payload, if any (the caller drops or keeps it).
///
/// # Safety
/// `node` is live and unlinked; it is dangling afterwards.
pub(crate) unsafe fn free(node: NodePtr) -> Option<Box<Value>> {
    // SAFETY: the block was allocated by `build` with `layout(size(node))`; a boxed payload
    // came from `Box::into_raw` and is owned by this node alone.
    unsafe {
        let boxed = match payload(node) {
            PayloadRef::Boxed(b) => Some(Box::from_raw(b)),
            _ => None,
        };
        dealloc(node.as_ptr(), layout(size(node)));
        boxed
    }
}

/// Builds a copy of `node` with another expire and/or payload, and frees `node`. Returns the
/// new node and the old boxed payload when `payload` replaced it.
///
/// # Safety
/// `node` is live; the caller relinks the returned node in its place (and in the volatile
/// list) before anything else reads the old address.
pub(crate) unsafe fn rebuild(
    node: NodePtr,
    expire: Option<(u64, u32)>,
    payload_new: Option<Payload<'_>>,
) -> (NodePtr, Option<Box<Value>>) {
    // SAFETY: reads of the live node; the old block is freed only after the copy, and a moved
    // boxed payload is owned by the new node from then on (not dropped with the old one).
    unsafe {
        let nx = next(node);
        let lru = lru(node);
        let key = key(node);
        let (new, old_box) = match payload_new {
            Some(p) => {
                let old_box = match payload(node) {
                    PayloadRef::Boxed(b) => Some(Box::from_raw(b)),
                    _ => None,
                };
                (build(nx, lru, expire, key, p), old_box)
            }
            None => {
                let p = match payload(node) {
                    PayloadRef::Str(b, len, raw) => Payload::Str {
                        bytes: std::slice::from_raw_parts(b, len),
                        raw,
                    },
                    PayloadRef::Int(n) => Payload::Int(n),
                    PayloadRef::Boxed(b) => Payload::Boxed(Box::from_raw(b)),
                };
                (build(nx, lru, expire, key, p), None)
            }
        };
        dealloc(node.as_ptr(), layout(size(node)));
        (new, old_box)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn str_of(node: NodePtr) -> Vec<u8> {
        match unsafe { payload(node) } {
            PayloadRef::Str(p, len, _) => unsafe { std::slice::from_raw_parts(p, len).to_vec() },
            _ => panic!("not a string payload"),
        }
    }

    #[test]
    fn varints_round_trip() {
        for n in [0usize, 1, 127, 128, 300, 16383, 16384, 1 << 28, 512 << 20] {
            let mut buf = [0u8; 10];
            let w = unsafe { write_varint(buf.as_mut_ptr(), n) };
            assert_eq!(w, varint_len(n));
            assert_eq!(unsafe { read_varint(buf.as_ptr()) }, (n, w));
        }
    }

    #[test]
    fn node_fields_round_trip_and_sizes_match() {
        let k = b"string:123456";
        let val = [7u8; 100];
        let n = build(
            None,
            0x12_3456,
            None,
            k,
            Payload::Str {
                bytes: &val,
                raw: true,
            },
        );
        unsafe {
            assert_eq!(key(n), k);
            assert_eq!(lru(n), 0x12_3456);
            assert_eq!(expire(n), None);
            assert_eq!(str_of(n), val);
            assert_eq!(size(n), 127);
            set_lru(n, 0xFF_FFFF);
            assert_eq!(lru(n), 0xFF_FFFF);
            assert!(matches!(payload(n), PayloadRef::Str(_, 100, true)));
            let (m, old) = rebuild(n, Some((99, 3)), None);
            assert!(old.is_none());
            assert_eq!(expire(m), Some((99, 3)));
            assert_eq!(key(m), k);
            assert_eq!(str_of(m), val);
            assert_eq!(lru(m), 0xFF_FFFF);
            let (m2, old) = rebuild(m, Some((99, 3)), Some(Payload::Int(-5)));
            assert!(old.is_none());
            assert!(matches!(payload(m2), PayloadRef::Int(-5)));
            set_int(m2, 42);
            assert!(matches!(payload(m2), PayloadRef::Int(42)));
            let (m3, _) = rebuild(
                m2,
                None,
                Some(Payload::Boxed(Box::new(Value::string(b"x")))),
            );
            assert_eq!(expire(m3), None);
            let boxed = free(m3).unwrap();
            assert_eq!(boxed.type_name(), "string");
        }
    }

    #[test]
    fn long_keys_and_values_use_multibyte_lengths() {
        let k = vec![b'k'; 300];
        let val = vec![b'v'; INLINE_STR_MAX];
        let n = build(
            None,
            1,
            Some((5, 0)),
            &k,
            Payload::Str {
                bytes: &val,
                raw: false,
            },
        );
        unsafe {
            assert_eq!(key(n), &k[..]);
            assert_eq!(str_of(n), val);
            assert_eq!(size(n), HEAD_EXPIRE + 2 + 300 + 2 + INLINE_STR_MAX);
            assert!(free(n).is_none());
        }
    }
}
