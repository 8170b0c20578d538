//! LZF compression, the format of Marc Lehmann's liblzf that Redis uses for compressed quicklist
//! nodes (`list-compress-depth`) and for compressed strings in RDB files.
//!
//! # Format
//!
//! A stream is a sequence of items, each starting with a control byte `c`:
//!
//! | control byte      | item                                                               |
//! |-------------------|--------------------------------------------------------------------|
//! | `000LLLLL`        | literal run: the next `L + 1` bytes (1..=32) are copied as they are |
//! | `LLLOOOOO` (L<7)  | back reference of `L + 2` bytes; one more byte `o`: the copy starts |
//! |                   | `((OOOOO << 8) | o) + 1` bytes back in the output                   |
//! | `111OOOOO`        | long back reference: one byte `e`, then `o`; length `e + 9`         |
//!
//! A back reference may overlap the bytes it produces (it is copied byte by byte), so a run of
//! one byte compresses to a literal and one reference. Offsets reach 8192 bytes back; a
//! reference copies 3 to 264 bytes.
//!
//! [`compress`] produces liblzf's exact output (Redis' build of it), so compressed RDB strings,
//! DUMP payloads and quicklist nodes are the bytes Redis writes; [`decompress`] reads any valid
//! stream and rejects malformed ones without panicking.

/// Longest literal run one control byte describes.
const MAX_LITERAL: usize = 32;
/// Farthest a back reference reaches, in bytes.
const MAX_OFFSET: usize = 1 << 13;
/// Longest back reference the compressor searches for, in bytes (`7 + 255 + 2`).
const MAX_MATCH: usize = (1 << 8) + (1 << 3);
/// Bits of the match-finder hash table (liblzf's `HLOG` as Redis builds it).
const HASH_BITS: u32 = 16;
/// Most output bytes one input byte can yield: a long back reference takes 3 bytes for
/// [`MAX_MATCH`] (264) bytes.
const MAX_EXPANSION: usize = MAX_MATCH / 3;

/// liblzf's `IDX` with `VERY_FAST`: the slot of the 3 bytes whose big-endian value ends `h`.
fn slot(h: u32) -> usize {
    ((h >> (24 - HASH_BITS)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HASH_BITS) - 1)) as usize
}

/// Compresses `input` into at most `max_out` bytes, or `None` when it does not fit (Redis
/// passes `len - 4` for RDB strings and the node size for quicklist nodes, then judges the
/// gain). The output is byte for byte what liblzf 3.6 (as Redis builds it: 16-bit hash,
/// `VERY_FAST`, zeroed table) produces for the same input and bound: the same greedy parse,
/// the same hash slots, the same conservative space checks, and, like liblzf, never a match
/// starting at the input's first byte.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let in_end = input.len();
    if in_end == 0 || max_out == 0 {
        return None;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        compress_with(input, max_out, &mut t)
    })
}

/// The match finder's hash table, reused by every compression on a thread: 2^16 slots of
/// (call stamp << 32 | offset). A slot written by an earlier call has an older stamp and reads
/// as empty, so no call pays for clearing 2^16 slots (compressing a 100-byte string would
/// otherwise zero 256 KiB).
struct HashTable {
    slots: Vec<u64>,
    stamp: u64,
}

impl HashTable {
    fn begin(&mut self) {
        if self.slots.is_empty() {
            self.slots = vec![0; 1 << HASH_BITS];
        }
        self.stamp += 1;
        if self.stamp >> 32 != 0 {
            // 2^32 calls on this thread: start over with a clean table.
            self.slots.fill(0);
            self.stamp = 1;
        }
    }

    /// The offset last stored in `slot` by this call; 0 (never a usable match) when none.
    fn get(&self, slot: usize) -> usize {
        let v = self.slots[slot];
        if v >> 32 == self.stamp {
            (v & 0xFFFF_FFFF) as usize
        } else {
            0
        }
    }

    fn set(&mut self, slot: usize, offset: usize) {
        self.slots[slot] = (self.stamp << 32) | offset as u64;
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<HashTable> = const {
        std::cell::RefCell::new(HashTable { slots: Vec::new(), stamp: 0 })
    };
}

fn compress_with(input: &[u8], max_out: usize, table: &mut HashTable) -> Option<Vec<u8>> {
    let in_end = input.len();
    if u32::try_from(in_end).is_err() {
        return None;
    }
    table.begin();
    let out_end = max_out;
    let mut out = vec![0u8; out_end];
    let (mut ip, mut op, mut lit) = (0usize, 1usize, 0usize);
    let first = |i: usize| (u32::from(input[i]) << 8) | u32::from(input[i + 1]);
    let mut h = if in_end >= 2 { first(0) } else { 0 };
    while ip + 2 < in_end {
        h = (h << 8) | u32::from(input[ip + 2]);
        let sl = slot(h);
        let r = table.get(sl);
        table.set(sl, ip);
        let is_match = r > 0
            && ip - r - 1 < MAX_OFFSET
            && input[r + 2] == input[ip + 2]
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1];
        if !is_match {
            if op >= out_end {
                return None;
            }
            push_literal(&mut out, &mut op, &mut lit, input[ip]);
            ip += 1;
            continue;
        }
        let off = ip - r - 1;
        let maxlen = (in_end - ip - 2).min(MAX_MATCH);
        if op + 4 >= out_end && op - usize::from(lit == 0) + 4 >= out_end {
            return None;
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        let mut len = 2;
        let mut unrolled_all = true;
        if maxlen > 16 {
            // liblzf compares 16 bytes unrolled before its bounded loop.
            for _ in 0..16 {
                len += 1;
                if input[r + len] != input[ip + len] {
                    unrolled_all = false;
                    break;
                }
            }
        }
        if maxlen <= 16 || unrolled_all {
            loop {
                len += 1;
                if !(len < maxlen && input[r + len] == input[ip + len]) {
                    break;
                }
            }
        }
        len -= 2;
        ip += 1;
        if len < 7 {
            out[op] = ((off >> 8) + (len << 5)) as u8;
            op += 1;
        } else {
            out[op] = ((off >> 8) + (7 << 5)) as u8;
            out[op + 1] = (len - 7) as u8;
            op += 2;
        }
        out[op] = off as u8;
        op += 2;
        lit = 0;
        ip += len + 1;
        if ip + 2 >= in_end {
            break;
        }
        // Hash the two positions before the next one (liblzf's VERY_FAST).
        ip -= 2;
        h = first(ip);
        for _ in 0..2 {
            h = (h << 8) | u32::from(input[ip + 2]);
            table.set(slot(h), ip);
            ip += 1;
        }
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < in_end {
        push_literal(&mut out, &mut op, &mut lit, input[ip]);
        ip += 1;
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Appends one literal byte at `op` to the open run of `lit` bytes, closing the run (its
/// control byte written in front of it) when it reaches [`MAX_LITERAL`] and opening the next.
fn push_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, b: u8) {
    *lit += 1;
    out[*op] = b;
    *op += 1;
    if *lit == MAX_LITERAL {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes (Redis stores the
/// uncompressed size beside the data); `None` when the stream is malformed or of another size.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // `out_len` comes from the file or payload: refuse a size `input` cannot reach before
    // reserving it, so a corrupt size fails instead of aborting on the allocation.
    if out_len > input.len().saturating_mul(MAX_EXPANSION) {
        return None;
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < MAX_LITERAL {
            let run = input.get(ip..ip + ctrl + 1)?;
            if out.len() + run.len() > out_len {
                return None;
            }
            out.extend_from_slice(run);
            ip += run.len();
            continue;
        }
        let mut len = ctrl >> 5;
        if len == 7 {
            len += usize::from(*input.get(ip)?);
            ip += 1;
        }
        let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip)?) + 1;
        ip += 1;
        len += 2;
        if back > out.len() || out.len() + len > out_len {
            return None;
        }
        let start = out.len() - back;
        for k in start..start + len {
            let b = out[k];
            out.push(b);
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A listpack node of `hello-hello-hello-1` .. `-4` as redis-server 7.0.15 compressed it
    /// in a `DUMP` reply (liblzf output).
    const REDIS_BLOB: [u8; 37] = [
        0x0c, 0x5b, 0x00, 0x00, 0x00, 0x04, 0x00, 0x93, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2d, 0xe0,
        0x03, 0x05, 0x01, 0x31, 0x14, 0xe0, 0x0a, 0x14, 0x00, 0x32, 0xe0, 0x0b, 0x14, 0x00, 0x33,
        0xe0, 0x0b, 0x14, 0x02, 0x34, 0x14, 0xff,
    ];

    #[test]
    fn reads_what_liblzf_wrote() {
        let mut lp = crate::listpack::Listpack::new();
        for i in 1..=4 {
            lp.push_back(format!("hello-hello-hello-{i}").as_bytes());
        }
        let raw = decompress(&REDIS_BLOB, 91).unwrap();
        assert_eq!(raw, lp.as_bytes());
        assert_eq!(decompress(&REDIS_BLOB, 90), None, "size must match");
        // Redis compresses a node into a buffer of its own size: the same bytes come out.
        let ours = compress(lp.as_bytes(), 91).unwrap();
        assert_eq!(ours, REDIS_BLOB);
    }

    #[test]
    fn runs_long_matches_and_limits() {
        let data = vec![b'x'; 5000];
        let c = compress(&data, 4999).unwrap();
        assert!(c.len() < 80, "{} bytes", c.len());
        assert_eq!(decompress(&c, 5000).unwrap(), data);
        // Short inputs come out as one literal run, as from liblzf.
        assert_eq!(compress(b"abc", 100), Some(b"\x02abc".to_vec()));
        assert_eq!(compress(b"abc", 3), None);
        assert_eq!(compress(b"", 10), None);
        let random: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(
            compress(&random, 150),
            None,
            "incompressible input stays under the bound"
        );
    }

    #[test]
    fn malformed_streams_are_rejected() {
        assert_eq!(decompress(&[0x05, b'a'], 6), None, "literal past the end");
        assert_eq!(
            decompress(&[0x20, 0x00], 3),
            None,
            "reference before the start"
        );
        assert_eq!(decompress(&[0xe0], 10), None, "truncated long reference");
        assert_eq!(
            decompress(&[0x00, b'a', 0x20, 0x00], 2),
            None,
            "overlong output"
        );
        assert_eq!(decompress(&[], 0), Some(Vec::new()));
    }

    /// Found by the `dump_restore` fuzz target: an LZF string in a RESTORE payload claiming
    /// 0x8181818181818181 bytes made `Vec::with_capacity` panic (capacity overflow).
    #[test]
    fn an_impossible_size_is_rejected_before_allocating() {
        assert_eq!(decompress(&[0x81], 0x8181_8181_8181_8181), None);
        assert_eq!(decompress(&[0x00, b'a'], usize::MAX), None);
        // The longest expansion there is still decodes: one literal, one 264-byte reference.
        let mut long = vec![0x00, b'a'];
        for _ in 0..10 {
            long.extend_from_slice(&[0xe0, 0xff, 0x00]);
        }
        assert_eq!(
            decompress(&long, 1 + 10 * MAX_MATCH),
            Some(vec![b'a'; 2641])
        );
    }

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..20_000)) {
            if let Some(c) = compress(&data, data.len()) {
                prop_assert!(c.len() <= data.len());
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300),
                                   len in 0usize..1000) {
            let _ = decompress(&data, len);
        }
    }
}
