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
//! [`compress`] is a greedy single-pass compressor with a 3-byte hash (its output differs from
//! liblzf's byte for byte, as any LZF encoder's may, but every LZF decoder reads it);
//! [`decompress`] reads any valid stream, liblzf's included, and rejects malformed ones without
//! panicking.

/// Longest literal run one control byte describes.
const MAX_LITERAL: usize = 32;
/// Farthest a back reference reaches, in bytes.
const MAX_OFFSET: usize = 1 << 13;
/// Longest back reference, in bytes (`7 + 255 + 2`).
const MAX_MATCH: usize = (1 << 8) + (1 << 3);
/// Shortest back reference worth emitting, in bytes.
const MIN_MATCH: usize = 3;
/// Bits of the match-finder hash table.
const HASH_BITS: u32 = 13;

/// Compresses `input`; `None` when the result would be longer than `max_out` bytes (the
/// caller's "not worth it" bound, as Redis passes to `lzf_compress`) or `input` is shorter than
/// 4 bytes.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n < 4 {
        return None;
    }
    let mut out = Vec::with_capacity(max_out.min(n) + 1);
    // Positions + 1 of the last occurrence of each 3-byte hash (0 = none).
    let mut table = vec![0u32; 1 << HASH_BITS];
    let mut literal_start = 0;
    let mut i = 0;
    while i + MIN_MATCH <= n {
        let h = hash3(&input[i..]);
        let candidate = table[h] as usize;
        table[h] = (i + 1) as u32;
        let len = match candidate.checked_sub(1) {
            Some(r) if i - r - 1 < MAX_OFFSET => match_len(input, r, i),
            _ => 0,
        };
        if len < MIN_MATCH {
            i += 1;
            continue;
        }
        let r = candidate - 1;
        push_literals(&mut out, &input[literal_start..i]);
        push_match(&mut out, len, i - r - 1);
        if out.len() > max_out {
            return None;
        }
        for j in (i + 1)..(i + len).min(n.saturating_sub(MIN_MATCH - 1)) {
            table[hash3(&input[j..])] = (j + 1) as u32;
        }
        i += len;
        literal_start = i;
    }
    push_literals(&mut out, &input[literal_start..]);
    (out.len() <= max_out).then_some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes (Redis stores the
/// uncompressed size beside the data); `None` when the stream is malformed or of another size.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
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

/// Hash of the 3 bytes at the start of `b`.
fn hash3(b: &[u8]) -> usize {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

/// Length of the common run of `input[r..]` and `input[i..]` (`r < i`), at most
/// [`MAX_MATCH`] and never past the end.
fn match_len(input: &[u8], r: usize, i: usize) -> usize {
    let max = (input.len() - i).min(MAX_MATCH);
    let mut len = 0;
    while len < max && input[r + len] == input[i + len] {
        len += 1;
    }
    len
}

/// Appends literal runs for `lit`, at most [`MAX_LITERAL`] bytes per control byte.
fn push_literals(out: &mut Vec<u8>, lit: &[u8]) {
    for chunk in lit.chunks(MAX_LITERAL) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Appends a back reference of `len` bytes starting `offset + 1` bytes back.
fn push_match(out: &mut Vec<u8>, len: usize, offset: usize) {
    let l = len - 2;
    let high = (offset >> 8) as u8;
    if l < 7 {
        out.push(((l as u8) << 5) | high);
    } else {
        out.push((7 << 5) | high);
        out.push((l - 7) as u8);
    }
    out.push(offset as u8);
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
        let ours = compress(lp.as_bytes(), 90).unwrap();
        assert!(ours.len() < 60, "{} bytes", ours.len());
        assert_eq!(decompress(&ours, 91).unwrap(), lp.as_bytes());
    }

    #[test]
    fn runs_long_matches_and_limits() {
        let data = vec![b'x'; 5000];
        let c = compress(&data, 4999).unwrap();
        assert!(c.len() < 60);
        assert_eq!(decompress(&c, 5000).unwrap(), data);
        assert_eq!(compress(b"abc", 100), None);
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
