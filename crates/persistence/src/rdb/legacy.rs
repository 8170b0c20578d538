//! The ziplist and zipmap encodings of RDB files written by Redis before 7.0: value types `10`,
//! `12`, `13` and the nodes of `14` are ziplists, type `9` is a zipmap. Each arrives as one RDB
//! string (the blob); these functions decode a blob into its entries, validating it the way
//! Redis' deep sanitisation does (`ziplistValidateIntegrity`, `zipmapValidateIntegrity`), and
//! encode entries into exactly the bytes Redis would write.
//!
//! # Ziplist layout (all integers little endian)
//!
//! | bytes           | what                                                               |
//! |-----------------|--------------------------------------------------------------------|
//! | `zlbytes` u32   | size of the whole blob, header and end byte included               |
//! | `zltail` u32    | offset of the last entry (`10`, the end byte, when empty)          |
//! | `zllen` u16     | number of entries; `65535` means "count them"                      |
//! | entry …         | `prevlen` `encoding` `data`, one per element                       |
//! | `FF`            | end byte, always the last byte                                     |
//!
//! **prevlen**: the size in bytes of the previous entry (`0` for the first): one byte when below
//! `254`, else `FE` and a u32. Redis may keep the five-byte form for a small size (cascade
//! updates never shrink), so both forms are accepted for any size.
//!
//! **encoding** (first byte, then any length bytes; `data` follows):
//!
//! | first byte  | entry                                              | data                 |
//! |-------------|----------------------------------------------------|----------------------|
//! | `00pppppp`  | string, 6-bit length `p`                           | `p` bytes            |
//! | `01pppppp` q| string, 14-bit big-endian length `p:q`             | that many bytes      |
//! | `10xxxxxx`  | string, 32-bit big-endian length in 4 more bytes   | that many bytes      |
//! | `C0`        | int16                                              | 2 bytes              |
//! | `D0`        | int32                                              | 4 bytes              |
//! | `E0`        | int64                                              | 8 bytes              |
//! | `F0`        | int24                                              | 3 bytes              |
//! | `FE`        | int8                                               | 1 byte               |
//! | `F1`–`FD`   | immediate integer `0`–`12` (low nibble minus one)  | none                 |
//!
//! Redis ignores the low six bits of a `10xxxxxx` byte; so does this module.
//!
//! # Zipmap layout (Redis < 2.6 small hashes)
//!
//! | bytes              | what                                                            |
//! |--------------------|-----------------------------------------------------------------|
//! | `zmlen` u8         | number of pairs; `254` means "count them"                       |
//! | `len` key          | key length (below) then the key bytes                           |
//! | `len` `free` value | value length, a byte of unused space after the value, the value |
//! | `free` bytes       | unused space, skipped                                           |
//! | `FF`               | end byte, always the last byte                                  |
//!
//! **len**: one byte when below `254`, else `FE` and a u32 little endian (`FF` is the end).
//!
//! Duplicate keys are not checked here: that is the caller's business (the RDB reader refuses
//! duplicate hash fields like Redis does).

use thiserror::Error;

/// Size of the ziplist header (`zlbytes`, `zltail`, `zllen`).
const ZL_HEADER: usize = 10;
/// The end byte of ziplists and zipmaps.
const END: u8 = 0xFF;
/// First prevlen byte announcing a five-byte prevlen.
const ZL_BIG_PREVLEN: u8 = 0xFE;
/// `zllen` value meaning "too many entries to count in the header".
const ZL_LEN_UNKNOWN: u16 = u16::MAX;
/// Zipmap length byte announcing a five-byte length; also the "count them" `zmlen`.
const ZM_BIGLEN: u8 = 254;

const ENC_INT16: u8 = 0xC0;
const ENC_INT32: u8 = 0xD0;
const ENC_INT64: u8 = 0xE0;
const ENC_INT24: u8 = 0xF0;
const ENC_INT8: u8 = 0xFE;
const ENC_IMM_MIN: u8 = 0xF1;
const ENC_IMM_MAX: u8 = 0xFD;

/// One ziplist entry, as [`ziplist_entries`] returns it and [`encode_ziplist`] takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZiplistEntry<'a> {
    /// An integer-encoded entry (immediate, int8/16/24/32/64).
    Int(i64),
    /// A string entry: its bytes, borrowed from the blob.
    Bytes(&'a [u8]),
}

/// One zipmap (key, value) pair, borrowed from the blob.
pub type ZipmapPair<'a> = (&'a [u8], &'a [u8]);

/// Which legacy encoding a [`LegacyError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyFormat {
    /// A ziplist blob.
    Ziplist,
    /// A zipmap blob.
    Zipmap,
}

impl std::fmt::Display for LegacyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LegacyFormat::Ziplist => "ziplist",
            LegacyFormat::Zipmap => "zipmap",
        })
    }
}

/// A ziplist or zipmap blob that is not valid. Displays as
/// `invalid ziplist at byte 12: entry runs past the end`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {format} at byte {offset}: {reason}")]
#[non_exhaustive]
pub struct LegacyError {
    /// The encoding being decoded.
    pub format: LegacyFormat,
    /// Byte offset inside the blob where the problem was found.
    pub offset: usize,
    /// What is wrong, in a few words.
    pub reason: &'static str,
}

fn zl_err(offset: usize, reason: &'static str) -> LegacyError {
    LegacyError {
        format: LegacyFormat::Ziplist,
        offset,
        reason,
    }
}

fn zm_err(offset: usize, reason: &'static str) -> LegacyError {
    LegacyError {
        format: LegacyFormat::Zipmap,
        offset,
        reason,
    }
}

/// `N` bytes of `buf` at `at`, or `None` when they run past its end.
fn bytes_at<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    let end = at.checked_add(N)?;
    buf.get(at..end)?.try_into().ok()
}

/// Every entry of the ziplist blob `buf`, in order.
///
/// Errors (a [`LegacyError`] with the offset of the problem) when the header disagrees with
/// the blob (`zlbytes` ≠ length, `zltail` not at the last entry, `zllen` ≠ count unless
/// `65535`), an entry's prevlen is not the previous entry's size, an encoding byte is unknown,
/// an entry runs past the end, or the `FF` end byte is missing or not last. Never panics.
///
/// Source: Redis `ziplist.c` (`ziplistValidateIntegrity`, `zipEntrySafe`).
pub fn ziplist_entries(buf: &[u8]) -> Result<Vec<ZiplistEntry<'_>>, LegacyError> {
    let (Some(zlbytes), Some(zltail), Some(zllen)) = (
        bytes_at::<4>(buf, 0),
        bytes_at::<4>(buf, 4),
        bytes_at::<2>(buf, 8),
    ) else {
        return Err(zl_err(0, "shorter than the header"));
    };
    let zlbytes = u32::from_le_bytes(zlbytes) as usize;
    let zltail = u32::from_le_bytes(zltail) as usize;
    let zllen = u16::from_le_bytes(zllen);
    if zlbytes != buf.len() {
        return Err(zl_err(0, "zlbytes is not the blob's length"));
    }
    if buf.len() < ZL_HEADER + 1 {
        return Err(zl_err(ZL_HEADER, "missing end byte"));
    }
    let mut entries = Vec::with_capacity(usize::from(zllen).min(buf.len() / 2));
    let mut pos = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last_entry = ZL_HEADER;
    while buf[pos] != END {
        let (entry, size) = ziplist_entry(buf, pos, prev_size)?;
        entries.push(entry);
        last_entry = pos;
        prev_size = size;
        pos += size;
        if pos >= buf.len() {
            return Err(zl_err(pos, "missing end byte"));
        }
    }
    if pos != buf.len() - 1 {
        return Err(zl_err(pos, "end byte is not the last byte"));
    }
    if zltail != last_entry {
        return Err(zl_err(4, "zltail does not point at the last entry"));
    }
    if zllen != ZL_LEN_UNKNOWN && usize::from(zllen) != entries.len() {
        return Err(zl_err(8, "zllen is not the number of entries"));
    }
    Ok(entries)
}

/// The entry at `pos` and its size in bytes; `prev_size` is what its prevlen must say.
fn ziplist_entry(
    buf: &[u8],
    pos: usize,
    prev_size: usize,
) -> Result<(ZiplistEntry<'_>, usize), LegacyError> {
    let past_end = || zl_err(pos, "entry runs past the end");
    let first = *buf.get(pos).ok_or_else(past_end)?;
    let (prevlen, prevlen_size) = if first == ZL_BIG_PREVLEN {
        let b = bytes_at::<4>(buf, pos + 1).ok_or_else(past_end)?;
        (u32::from_le_bytes(b) as usize, 5)
    } else {
        (usize::from(first), 1)
    };
    if prevlen != prev_size {
        return Err(zl_err(pos, "prevlen is not the previous entry's size"));
    }
    let enc_pos = pos + prevlen_size;
    let enc = *buf.get(enc_pos).ok_or_else(past_end)?;
    let data = |header: usize, len: usize| -> Result<(usize, usize), LegacyError> {
        let start = enc_pos + header;
        let end = start.checked_add(len).ok_or_else(past_end)?;
        // The entry must leave room for at least the end byte.
        if end >= buf.len() {
            return Err(past_end());
        }
        Ok((start, end))
    };
    let int = |header: usize, width: usize| -> Result<(i64, usize), LegacyError> {
        let (start, end) = data(header, width)?;
        // Sign-extend a little-endian integer of `width` bytes.
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(&buf[start..end]);
        let shift = 64 - 8 * width as u32;
        Ok(((i64::from_le_bytes(le) << shift) >> shift, end))
    };
    let (entry, end) = match enc {
        0x00..=0x3F => {
            let (s, e) = data(1, usize::from(enc & 0x3F))?;
            (ZiplistEntry::Bytes(&buf[s..e]), e)
        }
        0x40..=0x7F => {
            let b = *buf.get(enc_pos + 1).ok_or_else(past_end)?;
            let len = (usize::from(enc & 0x3F) << 8) | usize::from(b);
            let (s, e) = data(2, len)?;
            (ZiplistEntry::Bytes(&buf[s..e]), e)
        }
        0x80..=0xBF => {
            let b = bytes_at::<4>(buf, enc_pos + 1).ok_or_else(past_end)?;
            let (s, e) = data(5, u32::from_be_bytes(b) as usize)?;
            (ZiplistEntry::Bytes(&buf[s..e]), e)
        }
        ENC_INT8 => int(1, 1).map(|(v, e)| (ZiplistEntry::Int(v), e))?,
        ENC_INT16 => int(1, 2).map(|(v, e)| (ZiplistEntry::Int(v), e))?,
        ENC_INT24 => int(1, 3).map(|(v, e)| (ZiplistEntry::Int(v), e))?,
        ENC_INT32 => int(1, 4).map(|(v, e)| (ZiplistEntry::Int(v), e))?,
        ENC_INT64 => int(1, 8).map(|(v, e)| (ZiplistEntry::Int(v), e))?,
        ENC_IMM_MIN..=ENC_IMM_MAX => {
            let (_, e) = data(1, 0)?;
            (ZiplistEntry::Int(i64::from(enc & 0x0F) - 1), e)
        }
        _ => return Err(zl_err(enc_pos, "unknown entry encoding")),
    };
    Ok((entry, end - pos))
}

/// The ziplist Redis would write for `entries`, in order: smallest prevlen and length forms,
/// integers in the smallest integer encoding (immediate for `0..=12`). Entries are encoded as
/// given: Redis stores integer-looking strings as integers, so a caller mimicking it passes
/// [`ZiplistEntry::Int`] for those.
///
/// Source: Redis `ziplist.c` (`__ziplistInsert`, `zipTryEncoding`, `zipStoreEntryEncoding`).
pub fn encode_ziplist(entries: &[ZiplistEntry<'_>]) -> Vec<u8> {
    let mut out = vec![0u8; ZL_HEADER];
    let mut prev_size = 0usize;
    let mut last_entry = ZL_HEADER;
    for entry in entries {
        let start = out.len();
        last_entry = start;
        // Entry sizes are bounded by the blob, which Redis keeps under 4 GiB.
        match u8::try_from(prev_size) {
            Ok(p) if p < ZL_BIG_PREVLEN => out.push(p),
            _ => {
                out.push(ZL_BIG_PREVLEN);
                out.extend_from_slice(&(prev_size as u32).to_le_bytes());
            }
        }
        match *entry {
            ZiplistEntry::Int(v) => encode_ziplist_int(&mut out, v),
            ZiplistEntry::Bytes(b) => {
                let len = b.len();
                if len <= 0x3F {
                    out.push(len as u8);
                } else if len <= 0x3FFF {
                    out.push(0x40 | (len >> 8) as u8);
                    out.push(len as u8);
                } else {
                    out.push(0x80);
                    out.extend_from_slice(&(len as u32).to_be_bytes());
                }
                out.extend_from_slice(b);
            }
        }
        prev_size = out.len() - start;
    }
    out.push(END);
    let zlbytes = out.len() as u32;
    // `u16::try_from` already refuses 65536 and above; 65535 itself means "count them" too.
    let zllen = u16::try_from(entries.len()).unwrap_or(ZL_LEN_UNKNOWN);
    out[0..4].copy_from_slice(&zlbytes.to_le_bytes());
    out[4..8].copy_from_slice(&(last_entry as u32).to_le_bytes());
    out[8..10].copy_from_slice(&zllen.to_le_bytes());
    out
}

/// Appends the encoding byte and data of integer `v` in its smallest ziplist form.
fn encode_ziplist_int(out: &mut Vec<u8>, v: i64) {
    const INT24_MIN: i64 = -(1 << 23);
    const INT24_MAX: i64 = (1 << 23) - 1;
    let le = v.to_le_bytes();
    let (enc, width) = match v {
        0..=12 => (ENC_IMM_MIN + v as u8, 0),
        _ if i8::try_from(v).is_ok() => (ENC_INT8, 1),
        _ if i16::try_from(v).is_ok() => (ENC_INT16, 2),
        INT24_MIN..=INT24_MAX => (ENC_INT24, 3),
        _ if i32::try_from(v).is_ok() => (ENC_INT32, 4),
        _ => (ENC_INT64, 8),
    };
    out.push(enc);
    out.extend_from_slice(&le[..width]);
}

/// Every (key, value) pair of the zipmap blob `buf`, in order.
///
/// Errors (a [`LegacyError`] with the offset of the problem) when a length, value or its free
/// space runs past the end, a key has no value, `zmlen` (when below `254`) is not the number of
/// pairs, or the `FF` end byte is missing or not last. Never panics.
///
/// Source: Redis `zipmap.c` (`zipmapValidateIntegrity`).
pub fn zipmap_pairs(buf: &[u8]) -> Result<Vec<ZipmapPair<'_>>, LegacyError> {
    let Some(&zmlen) = buf.first() else {
        return Err(zm_err(0, "empty blob"));
    };
    let mut pairs = Vec::with_capacity(usize::from(zmlen).min(buf.len() / 4));
    let mut pos = 1;
    loop {
        match buf.get(pos) {
            None => return Err(zm_err(pos, "missing end byte")),
            Some(&END) => break,
            Some(_) => {}
        }
        let (key, after_key) = zipmap_string(buf, pos, 0)?;
        if buf.get(after_key) == Some(&END) {
            return Err(zm_err(after_key, "key without a value"));
        }
        let (value, end) = zipmap_string(buf, after_key, 1)?;
        pairs.push((key, value));
        pos = end;
    }
    if pos != buf.len() - 1 {
        return Err(zm_err(pos, "end byte is not the last byte"));
    }
    if zmlen < ZM_BIGLEN && usize::from(zmlen) != pairs.len() {
        return Err(zm_err(0, "zmlen is not the number of pairs"));
    }
    Ok(pairs)
}

/// The string whose length starts at `pos` (followed by a free byte when `free_byte` is 1)
/// and the offset just past it (and past its free space).
fn zipmap_string(buf: &[u8], pos: usize, free_byte: usize) -> Result<(&[u8], usize), LegacyError> {
    let past_end = || zm_err(pos, "entry runs past the end");
    let first = *buf.get(pos).ok_or_else(past_end)?;
    let (len, len_size) = match first {
        ZM_BIGLEN => {
            let b = bytes_at::<4>(buf, pos + 1).ok_or_else(past_end)?;
            (u32::from_le_bytes(b) as usize, 5)
        }
        END => return Err(zm_err(pos, "invalid length byte")),
        n => (usize::from(n), 1),
    };
    let mut start = pos + len_size;
    let mut free = 0;
    if free_byte == 1 {
        free = usize::from(*buf.get(start).ok_or_else(past_end)?);
        start += 1;
    }
    let end = start.checked_add(len).ok_or_else(past_end)?;
    let next = end.checked_add(free).ok_or_else(past_end)?;
    // Leave room for at least the end byte.
    if next >= buf.len() {
        return Err(past_end());
    }
    Ok((&buf[start..end], next))
}

/// The zipmap Redis would write for `pairs`, in order (no free space after values; `zmlen`
/// is `254` from 254 pairs on).
///
/// Source: Redis `zipmap.c` (`zipmapSet`, `zipmapEncodeLength`).
pub fn encode_zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let zmlen = u8::try_from(pairs.len()).map_or(ZM_BIGLEN, |n| n.min(ZM_BIGLEN));
    let mut out = vec![zmlen];
    let len = |out: &mut Vec<u8>, n: usize| match u8::try_from(n) {
        Ok(b) if b < ZM_BIGLEN => out.push(b),
        _ => {
            out.push(ZM_BIGLEN);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
    };
    for (key, value) in pairs {
        len(&mut out, key.len());
        out.extend_from_slice(key);
        len(&mut out, value.len());
        out.push(0);
        out.extend_from_slice(value);
    }
    out.push(END);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ZiplistEntry::{Bytes, Int};

    /// A ziplist blob from hand-written entry bytes: header computed, end byte appended.
    fn zl(entry_bytes: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0u8; ZL_HEADER];
        let mut tail = ZL_HEADER;
        for e in entry_bytes {
            tail = out.len();
            out.extend_from_slice(e);
        }
        out.push(0xFF);
        let n = out.len() as u32;
        out[0..4].copy_from_slice(&n.to_le_bytes());
        out[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        out[8..10].copy_from_slice(&(entry_bytes.len() as u16).to_le_bytes());
        out
    }

    #[test]
    fn empty_ziplist_is_eleven_bytes() {
        let blob = encode_ziplist(&[]);
        assert_eq!(blob, [11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0xFF]);
        assert_eq!(ziplist_entries(&blob), Ok(vec![]));
    }

    #[test]
    fn each_integer_encoding() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00, 0xF1]),
            (12, &[0x00, 0xFD]),
            (13, &[0x00, 0xFE, 13]),
            (-1, &[0x00, 0xFE, 0xFF]),
            (-128, &[0x00, 0xFE, 0x80]),
            (128, &[0x00, 0xC0, 0x80, 0x00]),
            (-32768, &[0x00, 0xC0, 0x00, 0x80]),
            (32768, &[0x00, 0xF0, 0x00, 0x80, 0x00]),
            (-8_388_608, &[0x00, 0xF0, 0x00, 0x00, 0x80]),
            (8_388_608, &[0x00, 0xD0, 0x00, 0x00, 0x80, 0x00]),
            (i64::from(i32::MIN), &[0x00, 0xD0, 0x00, 0x00, 0x00, 0x80]),
            (1 << 31, &[0x00, 0xE0, 0, 0, 0, 0x80, 0, 0, 0, 0]),
            (i64::MIN, &[0x00, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0x80]),
        ];
        for &(v, entry) in cases {
            let blob = zl(&[entry]);
            assert_eq!(encode_ziplist(&[Int(v)]), blob, "encoding {v}");
            assert_eq!(ziplist_entries(&blob), Ok(vec![Int(v)]), "decoding {v}");
        }
    }

    #[test]
    fn each_string_length_encoding() {
        let s63 = vec![b'a'; 63];
        let s64 = vec![b'b'; 64];
        let s16384 = vec![b'c'; 16384];
        let mut e63 = vec![0x00, 0x3F];
        e63.extend_from_slice(&s63);
        let mut e64 = vec![0x00, 0x40, 0x40];
        e64.extend_from_slice(&s64);
        let mut e16384 = vec![0x00, 0x80, 0x00, 0x00, 0x40, 0x00];
        e16384.extend_from_slice(&s16384);
        for (s, e) in [(&s63, &e63), (&s64, &e64), (&s16384, &e16384)] {
            let blob = zl(&[e]);
            assert_eq!(encode_ziplist(&[Bytes(s)]), blob);
            assert_eq!(ziplist_entries(&blob), Ok(vec![Bytes(s)]));
        }
        // A 32-bit length with stray low bits in the first byte: Redis masks them off.
        let blob = zl(&[&[0x00, 0x85, 0, 0, 0, 1, b'x']]);
        assert_eq!(ziplist_entries(&blob), Ok(vec![Bytes(b"x")]));
    }

    #[test]
    fn prevlen_forms() {
        // Second entry follows a 300-byte entry: five-byte prevlen.
        let big = vec![b'z'; 297];
        let blob = encode_ziplist(&[Bytes(&big), Int(1)]);
        let second = 10 + 300;
        assert_eq!(&blob[second..second + 6], &[0xFE, 0x2C, 0x01, 0, 0, 0xF2]);
        assert_eq!(ziplist_entries(&blob), Ok(vec![Bytes(&big), Int(1)]));
        // A five-byte prevlen holding a small size (left by a cascade update) is valid.
        let blob = zl(&[&[0x00, 0xF2], &[0xFE, 2, 0, 0, 0, 0xF3]]);
        assert_eq!(ziplist_entries(&blob), Ok(vec![Int(1), Int(2)]));
    }

    #[test]
    fn header_checks() {
        let good = encode_ziplist(&[Int(1), Bytes(b"ab")]);
        fn reason(b: &[u8]) -> Result<Vec<ZiplistEntry<'_>>, &'static str> {
            ziplist_entries(b).map_err(|e| e.reason)
        }
        let mut bad = good.clone();
        bad[0] += 1;
        assert_eq!(reason(&bad), Err("zlbytes is not the blob's length"));
        let mut bad = good.clone();
        bad[4] = 10;
        assert_eq!(reason(&bad), Err("zltail does not point at the last entry"));
        let mut bad = good.clone();
        bad[8] = 3;
        assert_eq!(reason(&bad), Err("zllen is not the number of entries"));
        let mut unknown = good.clone();
        unknown[8..10].copy_from_slice(&[0xFF, 0xFF]);
        assert_eq!(reason(&unknown), Ok(vec![Int(1), Bytes(b"ab")]));
        let mut bad = good.clone();
        bad[12] = 5; // the second entry's prevlen
        assert_eq!(
            reason(&bad),
            Err("prevlen is not the previous entry's size")
        );
        let mut bad = good.clone();
        bad[11] = 0xC5;
        assert_eq!(reason(&bad), Err("unknown entry encoding"));
        assert_eq!(reason(&good[..5]), Err("shorter than the header"));
        let err = ziplist_entries(&bad).expect_err("bad encoding");
        assert_eq!(
            err.to_string(),
            "invalid ziplist at byte 11: unknown entry encoding"
        );
    }

    #[test]
    fn zipmap_byte_literals() {
        let blob = encode_zipmap(&[(b"foo", b"bar"), (b"k", b"")]);
        assert_eq!(blob, b"\x02\x03foo\x03\x00bar\x01k\x00\x00\xFF");
        assert_eq!(
            zipmap_pairs(&blob),
            Ok(vec![(&b"foo"[..], &b"bar"[..]), (b"k", b"")])
        );
        assert_eq!(encode_zipmap(&[]), [0x00, 0xFF]);
        // Free space after a value is skipped.
        let blob = b"\x01\x01a\x01\x02b..\xFF";
        assert_eq!(zipmap_pairs(blob), Ok(vec![(&b"a"[..], &b"b"[..])]));
        // Five-byte length.
        let long = vec![b'v'; 300];
        let blob = encode_zipmap(&[(b"a", &long)]);
        assert_eq!(&blob[..9], b"\x01\x01a\xFE\x2C\x01\x00\x00\x00");
        assert_eq!(zipmap_pairs(&blob), Ok(vec![(&b"a"[..], &long[..])]));
        // zmlen 254 means "count them".
        let blob = b"\xFE\x01a\x01\x00b\xFF";
        assert_eq!(zipmap_pairs(blob), Ok(vec![(&b"a"[..], &b"b"[..])]));
        let err = zipmap_pairs(b"\x02\x01a\x01\x00b\xFF").expect_err("wrong zmlen");
        assert_eq!(
            err.to_string(),
            "invalid zipmap at byte 0: zmlen is not the number of pairs"
        );
        assert!(zipmap_pairs(b"\x01\x01a\xFF").is_err());
        assert!(zipmap_pairs(b"\x01\x01a\x01\x00b\xFF\xFF").is_err());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let big = vec![b'q'; 400];
        let zl = encode_ziplist(&[
            Int(7),
            Bytes(b"hello"),
            Bytes(&big),
            Int(-70000),
            Int(1 << 40),
        ]);
        for cut in 0..zl.len() {
            assert!(ziplist_entries(&zl[..cut]).is_err(), "ziplist cut at {cut}");
        }
        let zm = encode_zipmap(&[(b"f", b"v"), (&big, b"x"), (b"", &big)]);
        for cut in 0..zm.len() {
            assert!(zipmap_pairs(&zm[..cut]).is_err(), "zipmap cut at {cut}");
        }
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..300)
    }

    fn entry() -> impl Strategy<Value = (bool, i64, Vec<u8>)> {
        let len = prop_oneof![0usize..70, 250usize..260, 16380usize..16390];
        (
            any::<bool>(),
            any::<i64>(),
            len.prop_flat_map(|n| prop::collection::vec(any::<u8>(), n)),
        )
    }

    proptest! {
        #[test]
        fn ziplist_round_trip(raw in prop::collection::vec(entry(), 0..20), small in -20i64..20) {
            let mut entries: Vec<ZiplistEntry<'_>> = raw
                .iter()
                .map(|(is_int, v, b)| if *is_int { Int(*v) } else { Bytes(b) })
                .collect();
            entries.push(Int(small));
            let blob = encode_ziplist(&entries);
            prop_assert_eq!(ziplist_entries(&blob), Ok(entries));
        }

        #[test]
        fn zipmap_round_trip(raw in prop::collection::vec((bytes(), bytes()), 0..10)) {
            let pairs: Vec<(&[u8], &[u8])> =
                raw.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
            let blob = encode_zipmap(&pairs);
            prop_assert_eq!(zipmap_pairs(&blob), Ok(pairs));
        }

        #[test]
        fn random_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = ziplist_entries(&bytes);
            let _ = zipmap_pairs(&bytes);
            // Also with a plausible header, so the entry parser gets exercised.
            if bytes.len() >= 11 {
                let n = bytes.len() as u32;
                bytes[0..4].copy_from_slice(&n.to_le_bytes());
                let last = bytes.len() - 1;
                bytes[last] = 0xFF;
                let _ = ziplist_entries(&bytes);
                let _ = zipmap_pairs(&bytes);
            }
        }
    }
}
