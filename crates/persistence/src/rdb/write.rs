//! Writing RDB: lengths, strings, values in Redis 7.0's encodings, and whole files.
//!
//! Values are written in the encoding they are stored in, as Redis does: a listpack hash or
//! sorted set, an intset, and every quicklist node go out as the blob they are in memory (a
//! compressed quicklist node as its LZF stream), so a small aggregate costs in the file what it
//! costs in memory. Strings that are canonical 32-bit integers are written as 1, 2 or 5-byte
//! integers; with `rdbcompression yes`, strings longer than 20 bytes are LZF-compressed when
//! that saves at least 4 bytes (Redis `rdbSaveRawString`).
//!
//! [`RdbWriter`] writes a file through any `std::io::Write`, computing the CRC-64 as it goes.

use std::io::{self, Write};

use ferrodis_keyspace::list::NodeRef;
use ferrodis_keyspace::{lzf, Hash, List, Set, StrRef, ValueRef, ZSet};

use super::{container, enc, kind, opcode, RDB_VERSION};
use crate::crc64::Crc64;

/// Options of a save (`rdbcompression`, `rdbchecksum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it pays.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC-64 after EOF (0 otherwise, which loaders skip checking).
    pub checksum: bool,
}

impl Default for SaveOptions {
    /// Redis' defaults: both on.
    fn default() -> Self {
        SaveOptions {
            compression: true,
            checksum: true,
        }
    }
}

/// Appends an RDB length (6, 14, 32 or 64-bit form, the shortest that fits).
pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends `v` as an integer-encoded string when it fits in 32 bits (Redis
/// `rdbEncodeInteger`); returns false (nothing written) otherwise.
fn put_encoded_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0 | enc::INT8, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC0 | enc::INT16);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC0 | enc::INT32);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// The value of `s` when it is the canonical decimal of an integer of at most 11 characters
/// (Redis `rdbTryIntegerEncoding`: what it turns back into the same bytes).
fn canonical_small_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    ferrodis_keyspace::listpack::canonical_int(s)
}

/// Appends a string: as an integer when it is a canonical 32-bit one, LZF-compressed when
/// `compress` and it is longer than 20 bytes and compression saves at least 4 bytes, else raw.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if let Some(v) = canonical_small_int(s) {
        if put_encoded_int(out, v) {
            return;
        }
    }
    if compress && s.len() > 20 && put_lzf(out, s) {
        return;
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends `s` LZF-compressed (`C3`, compressed length, original length, data) when that is at
/// least 4 bytes shorter (Redis `rdbSaveLzfStringObject`).
fn put_lzf(out: &mut Vec<u8>, s: &[u8]) -> bool {
    let Some(c) = lzf::compress(s, s.len() - 4) else {
        return false;
    };
    put_lzf_blob(out, &c, s.len());
    true
}

/// Appends an already compressed LZF stream of `original_len` bytes.
fn put_lzf_blob(out: &mut Vec<u8>, compressed: &[u8], original_len: usize) {
    out.push(0xC0 | enc::LZF);
    put_len(out, compressed.len() as u64);
    put_len(out, original_len as u64);
    out.extend_from_slice(compressed);
}

/// Appends an integer as a string (integer-encoded when it fits 32 bits, else its decimal).
pub fn put_int_string(out: &mut Vec<u8>, v: i64) {
    if !put_encoded_int(out, v) {
        let mut b = itoa::Buffer::new();
        let s = b.format(v).as_bytes();
        put_len(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}

/// Appends a double as 8 little-endian bytes (`RDB_TYPE_ZSET_2` scores).
fn put_binary_double(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The type byte Redis 7.0 writes for a value in its current encoding.
pub fn value_type(v: &ValueRef<'_>) -> u8 {
    match v {
        ValueRef::String(_) => kind::STRING,
        ValueRef::List(_) => kind::LIST_QUICKLIST_2,
        ValueRef::Set(s) if s.as_intset().is_some() => kind::SET_INTSET,
        ValueRef::Set(_) => kind::SET,
        ValueRef::ZSet(z) if z.as_listpack().is_some() => kind::ZSET_LISTPACK,
        ValueRef::ZSet(_) => kind::ZSET_2,
        ValueRef::Hash(h) if h.listpack().is_some() => kind::HASH_LISTPACK,
        ValueRef::Hash(_) => kind::HASH,
    }
}

/// Appends a value's payload (what follows the type byte and, in a file, the key).
pub fn put_value(out: &mut Vec<u8>, v: &ValueRef<'_>, compress: bool) {
    match v {
        ValueRef::String(s) => put_str_ref(out, s, compress),
        ValueRef::List(l) => put_list(out, l, compress),
        ValueRef::Set(s) => put_set(out, s, compress),
        ValueRef::ZSet(z) => put_zset(out, z, compress),
        ValueRef::Hash(h) => put_hash(out, h, compress),
    }
}

fn put_str_ref(out: &mut Vec<u8>, s: &StrRef<'_>, compress: bool) {
    match s {
        StrRef::Int(v) => put_int_string(out, *v),
        other => other.with_bytes(|b| put_string(out, b, compress)),
    }
}

fn put_list(out: &mut Vec<u8>, l: &List, compress: bool) {
    put_len(out, l.node_count() as u64);
    for node in l.nodes() {
        put_len(out, container::PACKED);
        match node {
            NodeRef::Listpack(lp) => put_string(out, lp.as_bytes(), compress),
            NodeRef::Compressed {
                lzf,
                listpack_bytes,
            } => put_lzf_blob(out, lzf, listpack_bytes),
        }
    }
}

fn put_set(out: &mut Vec<u8>, s: &Set, compress: bool) {
    if let Some(ints) = s.as_intset() {
        put_string(out, ints.as_bytes(), compress);
        return;
    }
    put_len(out, s.len() as u64);
    s.for_each(|m| put_string(out, m, compress));
}

fn put_zset(out: &mut Vec<u8>, z: &ZSet, compress: bool) {
    if let Some(lp) = z.as_listpack() {
        put_string(out, lp.as_bytes(), compress);
        return;
    }
    put_len(out, z.len() as u64);
    // Tail first, as Redis writes it, so a loader inserting at the head never walks the list.
    z.visit(0, true, |m, score| {
        put_string(out, m, compress);
        put_binary_double(out, score);
        true
    });
}

fn put_hash(out: &mut Vec<u8>, h: &Hash, compress: bool) {
    if let Some(lp) = h.listpack() {
        put_string(out, lp.as_bytes(), compress);
        return;
    }
    put_len(out, h.len() as u64);
    h.for_each(|f, v| {
        put_string(out, f, compress);
        put_string(out, v, compress);
    });
}

/// What precedes a key's type byte in a file: its expire and its LRU/LFU metadata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyMeta {
    /// Absolute expire, Unix milliseconds.
    pub expire_ms: Option<u64>,
    /// LRU idle time in seconds (written under an LRU `maxmemory-policy`).
    pub idle_secs: Option<u64>,
    /// LFU counter (written under an LFU `maxmemory-policy`).
    pub freq: Option<u8>,
}

/// Appends one key as a file holds it: expire, LRU/LFU opcodes, type, key, value.
pub fn put_key(out: &mut Vec<u8>, key: &[u8], v: &ValueRef<'_>, meta: KeyMeta, compress: bool) {
    if let Some(ms) = meta.expire_ms {
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&ms.to_le_bytes());
    }
    if let Some(idle) = meta.idle_secs {
        out.push(opcode::IDLE);
        put_len(out, idle);
    }
    if let Some(freq) = meta.freq {
        out.push(opcode::FREQ);
        out.push(freq);
    }
    out.push(value_type(v));
    put_string(out, key, compress);
    put_value(out, v, compress);
}

/// Appends a SELECTDB opcode for `db`.
pub fn put_select_db(out: &mut Vec<u8>, db: usize) {
    out.push(opcode::SELECTDB);
    put_len(out, db as u64);
}

/// Buffer size at which [`RdbWriter`] hands bytes to the underlying writer.
const FLUSH_BYTES: usize = 64 * 1024;

/// Writes an RDB file: header, aux fields, dbs of keys, EOF and checksum, through `W`.
///
/// Items are encoded into an internal buffer that is written out in 64 KiB pieces; the CRC-64
/// covers every byte written. Errors are the underlying writer's.
pub struct RdbWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    crc: Crc64,
    opts: SaveOptions,
    written: u64,
}

impl<W: Write> RdbWriter<W> {
    /// Starts a file: writes the `REDIS0010` header.
    pub fn new(out: W, opts: SaveOptions) -> RdbWriter<W> {
        let mut w = RdbWriter {
            out,
            buf: Vec::with_capacity(FLUSH_BYTES * 2),
            crc: Crc64::new(),
            opts,
            written: 0,
        };
        w.buf
            .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        w
    }

    /// Writes an aux field (`redis-ver`, `ctime` ...).
    pub fn aux(&mut self, name: &str, value: &[u8]) -> io::Result<()> {
        self.buf.push(opcode::AUX);
        put_string(&mut self.buf, name.as_bytes(), false);
        put_string(&mut self.buf, value, false);
        self.maybe_flush()
    }

    /// Starts db `db` with its size hints (RESIZEDB: keys, keys with an expire).
    pub fn select_db(&mut self, db: usize, keys: usize, expires: usize) -> io::Result<()> {
        put_select_db(&mut self.buf, db);
        self.buf.push(opcode::RESIZEDB);
        put_len(&mut self.buf, keys as u64);
        put_len(&mut self.buf, expires as u64);
        self.maybe_flush()
    }

    /// Switches to db `db` without size hints (a snapshot written shard by shard switches db
    /// many times; RESIZEDB is only a hint).
    pub fn select_db_only(&mut self, db: usize) -> io::Result<()> {
        put_select_db(&mut self.buf, db);
        self.maybe_flush()
    }

    /// Writes one key of the current db.
    pub fn key(&mut self, key: &[u8], v: &ValueRef<'_>, meta: KeyMeta) -> io::Result<()> {
        put_key(&mut self.buf, key, v, meta, self.opts.compression);
        self.maybe_flush()
    }

    /// Appends bytes already encoded as whole items (keys serialised elsewhere, e.g. by a
    /// snapshot's copy-on-write path).
    pub fn raw(&mut self, items: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(items);
        self.maybe_flush()
    }

    /// Bytes handed to the writer so far plus those buffered.
    pub fn len(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    /// Whether nothing has been written (never: the header is written at creation).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The save options.
    pub fn options(&self) -> SaveOptions {
        self.opts
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_BYTES {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.crc.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes EOF and the checksum and returns the writer (flushed, not synced).
    pub fn finish(mut self) -> io::Result<W> {
        self.buf.push(opcode::EOF);
        self.flush_buf()?;
        let crc = if self.opts.checksum {
            self.crc.value()
        } else {
            0
        };
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_shortest_form() {
        let enc = |n| {
            let mut v = Vec::new();
            put_len(&mut v, n);
            v
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(63), [0x3F]);
        assert_eq!(enc(64), [0x40, 0x40]);
        assert_eq!(enc(16383), [0x7F, 0xFF]);
        assert_eq!(enc(16384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(enc(u64::from(u32::MAX)), [0x80, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(enc(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn strings_pick_integer_lzf_or_raw() {
        let enc = |s: &[u8], c| {
            let mut v = Vec::new();
            put_string(&mut v, s, c);
            v
        };
        assert_eq!(enc(b"12", true), [0xC0, 12]);
        assert_eq!(enc(b"-1", true), [0xC0, 0xFF]);
        assert_eq!(enc(b"300", true), [0xC1, 0x2C, 0x01]);
        assert_eq!(enc(b"70000", true), [0xC2, 0x70, 0x11, 0x01, 0x00]);
        // Not canonical, or too wide for 32 bits: raw.
        assert_eq!(enc(b"012", true), [0x03, b'0', b'1', b'2']);
        assert_eq!(enc(b"4294967296", true)[0], 10);
        assert_eq!(enc(b"", true), [0x00]);
        // 21 bytes of one letter: compressed.
        let long = [b'a'; 21];
        assert_eq!(enc(&long, true)[0], 0xC3);
        assert_eq!(enc(&long, false)[0], 21);
        // Incompressible: raw even with compression on.
        let noise: Vec<u8> = (0..64u32).map(|i| (i * 97 % 251) as u8).collect();
        assert_eq!(enc(&noise, true)[0], 64);
    }
}
