//! One quicklist node: a [`Listpack`] of consecutive list elements, stored plain or
//! LZF-compressed, and the fill rules that say how big a node may grow (Redis `quicklist.c`).
//!
//! # Fill rules (`list-max-listpack-size`, Redis 7.0)
//!
//! The fill is clamped to `-5..=32768`. A negative fill limits a node's listpack to 4, 8, 16, 32
//! or 64 KiB (-1 .. -5); a positive one to that many entries, and also to 8 KiB
//! (`SIZE_SAFETY_LIMIT`), so a node of huge elements stays small. Whether one more element fits
//! is estimated as Redis' `_quicklistNodeAllowInsert` does: the node's bytes plus the element's
//! length plus a per-entry overhead (1 or 5 bytes of back length, 1, 2 or 5 of header). A node
//! always takes its first element, however big.

use std::borrow::Cow;

use crate::listpack::Listpack;

use crate::lzf;

/// Node size limits of fills -1 .. -5, in bytes (Redis' `optimization_level`).
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// The most a positive fill lets a node grow, in bytes (Redis' `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Largest fill accepted (Redis' `FILL_MAX`).
pub(super) const FILL_MAX: i64 = 1 << 15;
/// Nodes smaller than this are never compressed (Redis' `MIN_COMPRESS_BYTES`), in bytes.
const MIN_COMPRESS_BYTES: usize = 48;
/// Compression must save at least this much to be kept (Redis' `MIN_COMPRESS_IMPROVE`), bytes.
const MIN_COMPRESS_IMPROVE: usize = 8;
/// Bytes of a listpack's header and terminator, counted once when two nodes merge.
const LISTPACK_OVERHEAD: usize = 7;
/// Bytes before the LZF data in a compressed node: entry count and listpack size, u32 LE each.
const LZF_HEADER: usize = 8;

/// A node's storage.
#[derive(Clone, Debug)]
pub(super) enum Node {
    /// A plain listpack.
    Raw(Listpack),
    /// An LZF-compressed listpack: entry count (u32 LE), listpack bytes (u32 LE), LZF stream.
    Lzf(Box<[u8]>),
}

impl Node {
    /// A node holding `v` alone.
    pub(super) fn with(v: &[u8]) -> Node {
        let mut lp = Listpack::new();
        lp.push_back(v);
        Node::Raw(lp)
    }

    /// Number of elements.
    pub(super) fn count(&self) -> usize {
        match self {
            Node::Raw(lp) => lp.len(),
            Node::Lzf(b) => header_field(b, 0),
        }
    }

    /// Size of the (uncompressed) listpack, in bytes (Redis' `node->sz`).
    pub(super) fn sz(&self) -> usize {
        match self {
            Node::Raw(lp) => lp.bytes_len(),
            Node::Lzf(b) => header_field(b, 4),
        }
    }

    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Node::Raw(lp) => lp.heap_bytes(),
            Node::Lzf(b) => b.len(),
        }
    }

    /// Whether the node is stored compressed.
    pub(super) fn is_compressed(&self) -> bool {
        matches!(self, Node::Lzf(_))
    }

    /// The listpack, decompressed into a temporary copy when the node is compressed.
    pub(super) fn listpack(&self) -> Cow<'_, Listpack> {
        match self {
            Node::Raw(lp) => Cow::Borrowed(lp),
            Node::Lzf(b) => Cow::Owned(inflate(b)),
        }
    }

    /// The listpack for modification, decompressing the node in place first.
    pub(super) fn lp_mut(&mut self) -> &mut Listpack {
        self.decompress();
        match self {
            Node::Raw(lp) => lp,
            Node::Lzf(_) => unreachable!("decompressed just above"),
        }
    }

    /// The listpack by value.
    pub(super) fn into_listpack(self) -> Listpack {
        match self {
            Node::Raw(lp) => lp,
            Node::Lzf(b) => inflate(&b),
        }
    }

    /// Stores the node plain (Redis' `__quicklistDecompressNode`).
    pub(super) fn decompress(&mut self) {
        if let Node::Lzf(b) = self {
            *self = Node::Raw(inflate(b));
        }
    }

    /// Stores the node LZF-compressed when it is big enough and compression saves enough
    /// (Redis' `__quicklistCompressNode`); otherwise leaves it plain.
    pub(super) fn compress(&mut self) {
        let Node::Raw(lp) = self else { return };
        let sz = lp.bytes_len();
        if sz < MIN_COMPRESS_BYTES || u32::try_from(sz).is_err() {
            return;
        }
        // Redis compresses into a buffer of the node's size, then keeps the result only when it
        // saves more than MIN_COMPRESS_IMPROVE bytes.
        let Some(data) = lzf::compress(lp.as_bytes(), sz) else {
            return;
        };
        if data.len() + MIN_COMPRESS_IMPROVE >= sz {
            return;
        }
        let mut b = Vec::with_capacity(LZF_HEADER + data.len());
        b.extend_from_slice(&(lp.len() as u32).to_le_bytes());
        b.extend_from_slice(&(sz as u32).to_le_bytes());
        b.extend_from_slice(&data);
        *self = Node::Lzf(b.into_boxed_slice());
    }

    /// The compressed form, `(lzf stream, listpack bytes)`, when the node is compressed.
    pub(super) fn lzf(&self) -> Option<(&[u8], usize)> {
        match self {
            Node::Raw(_) => None,
            Node::Lzf(b) => Some((&b[LZF_HEADER..], header_field(b, 4))),
        }
    }
}

/// A u32 LE field of a compressed node's header.
fn header_field(b: &[u8], at: usize) -> usize {
    let mut f = [0u8; 4];
    f.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(f) as usize
}

/// The listpack of a compressed node. The data was compressed by [`Node::compress`] from a
/// valid listpack, so this cannot fail short of a bug; should it, the node reads as empty
/// rather than taking the server down.
fn inflate(b: &[u8]) -> Listpack {
    let raw = lzf::decompress(&b[LZF_HEADER..], header_field(b, 4));
    match raw.map(Listpack::from_bytes) {
        Some(Ok(lp)) => lp,
        _ => {
            debug_assert!(false, "corrupt compressed quicklist node");
            Listpack::new()
        }
    }
}

/// Clamps a `list-max-listpack-size` value the way Redis' `quicklistSetFill` does.
pub(super) fn clamp_fill(fill: i64) -> i32 {
    fill.clamp(-5, FILL_MAX) as i32
}

/// Whether a node of `sz` bytes and `count` elements is within `fill` once it holds `new_sz`
/// bytes and `new_count` elements (Redis' size-then-count checks).
fn within(fill: i32, new_sz: usize, new_count: usize) -> bool {
    if fill < 0 {
        let level = SIZE_LEVELS[(-fill - 1) as usize];
        return new_sz <= level;
    }
    new_sz <= SIZE_SAFETY_LIMIT && new_count <= fill as usize
}

/// Whether an element of `len` bytes may join a node of `sz` bytes and `count` elements
/// (Redis' `_quicklistNodeAllowInsert`, with its ziplist-era overhead estimate).
pub(super) fn allow_insert(fill: i32, sz: usize, count: usize, len: usize) -> bool {
    let mut overhead = if len < 254 { 1 } else { 5 };
    overhead += match len {
        0..=63 => 1,
        64..=16383 => 2,
        _ => 5,
    };
    within(fill, sz + len + overhead, count + 1)
}

/// Whether two nodes may merge into one (Redis' `_quicklistNodeAllowMerge`).
pub(super) fn allow_merge(fill: i32, a: &Node, b: &Node) -> bool {
    within(
        fill,
        (a.sz() + b.sz()).saturating_sub(LISTPACK_OVERHEAD),
        a.count() + b.count(),
    )
}

/// Whether the element of `old_bytes` encoded bytes in a node of `sz` bytes and `count`
/// elements may be replaced by one of `len` bytes without outgrowing `fill` (Redis 7.2's
/// `_quicklistNodeAllowReplace`; 7.0 replaced in place whatever the size).
pub(super) fn allow_replace(
    fill: i32,
    sz: usize,
    count: usize,
    old_bytes: usize,
    len: usize,
) -> bool {
    count <= 1 || allow_insert(fill, sz.saturating_sub(old_bytes), count - 1, len)
}

/// Whether `node` respects `fill`: a single element always does. The insert estimate counts
/// strings of 126..=253 bytes one byte short (as Redis' does), so a node may be 1 byte over.
#[cfg(test)]
pub(super) fn fits(fill: i32, node: &Node) -> bool {
    node.count() <= 1 || within(fill, node.sz().saturating_sub(1), node.count())
}

/// Appends every element of `from` to `to`.
pub(super) fn append_all(to: &mut Listpack, from: &Listpack) {
    for v in from.iter() {
        match v {
            crate::listpack::LpValue::Int(i) => to.push_back_int(i),
            crate::listpack::LpValue::Str(s) => to.push_back(s),
        }
    }
}
