//! Reading RDB: files of RDB versions 1 to 12 (Redis 2.x to 7.4) and single values (DUMP).
//!
//! [`Decoder`] reads through its own buffer over any `std::io::Read`, so it knows the byte
//! offset of every item (errors name it) and computes the file's CRC-64 without a second pass.
//! Lengths read from the input never size an allocation beyond what the input has actually
//! delivered, so a corrupt length fails as truncation instead of exhausting memory.
//!
//! Values are built in the encodings Redis 7.0's loader gives them: compact blobs (listpacks,
//! intsets, quicklist nodes) are validated and kept as they are, or converted when they exceed
//! the current `*-max-listpack-*` / `set-max-intset-entries` limits; the encodings of older
//! versions (ziplist, zipmap, linked lists, text scores) are converted to Redis 7.0's.

use std::collections::HashSet;
use std::io::{self, Read};

use bytes::Bytes;
use ferrodis_keyspace::intset::IntSet;
use ferrodis_keyspace::listpack::Listpack;
use ferrodis_keyspace::{lzf, EncodingLimits, Hash, List, Set, Value, ZSet};

use super::legacy::{self, ZiplistEntry};
use super::{container, enc, kind, opcode, RDB_MAX_READ_VERSION};
use crate::crc64::Crc64;

/// Why reading RDB failed, and where.
#[derive(Debug, thiserror::Error)]
#[error("{kind} (at offset {offset})")]
pub struct RdbError {
    /// Byte offset from the start of the input where the problem was found.
    pub offset: u64,
    /// What went wrong.
    pub kind: RdbErrorKind,
}

/// The kinds of [`RdbError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RdbErrorKind {
    /// The input ended inside an item.
    #[error("unexpected end of file: the RDB is truncated")]
    Truncated,
    /// Reading failed.
    #[error("read error: {0}")]
    Io(io::Error),
    /// The file does not start with `REDIS`.
    #[error("wrong signature trying to load DB from file")]
    BadMagic,
    /// An RDB version this reader does not know.
    #[error("can't handle RDB format version {0}")]
    Version(u32),
    /// A byte that is neither an opcode nor a known value type.
    #[error("unknown RDB opcode or value type {0}")]
    UnknownType(u8),
    /// A value of a type Ferrodis does not implement yet.
    #[error("the RDB holds a {name} value (type {byte}), which Ferrodis cannot load yet")]
    Unsupported {
        /// The type's name.
        name: String,
        /// The type byte.
        byte: u8,
    },
    /// A length or encoding that makes no sense.
    #[error("corrupt RDB: {0}")]
    Corrupt(String),
    /// The checksum after EOF does not match the content.
    #[error("wrong RDB checksum: expected {expected:#018x}, got {computed:#018x}")]
    Checksum {
        /// The checksum stored in the file.
        expected: u64,
        /// The checksum of the bytes read.
        computed: u64,
    },
}

/// Shorthand for results of this module.
pub type Result<T> = std::result::Result<T, RdbError>;

/// Size of [`Decoder`]'s read buffer, bytes.
const BUF_BYTES: usize = 256 * 1024;
/// Most bytes a string may reserve before its bytes have been read.
const MAX_RESERVE: u64 = 1 << 20;

/// A length as stored: a plain length, or the marker of a specially encoded string.
enum Len {
    Plain(u64),
    Encoded(u8),
}

/// Reads RDB items from `R`, tracking the offset and, when asked, the CRC-64.
pub struct Decoder<R: Read> {
    r: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Offset of `buf[0]` in the input.
    base: u64,
    crc: Option<Crc64>,
    /// Bytes of `buf` already added to `crc`.
    crc_upto: usize,
    limits: EncodingLimits,
    version: u32,
}

impl<R: Read> Decoder<R> {
    /// A decoder at the start of `r`; values are built with `limits`.
    pub fn new(r: R, limits: EncodingLimits) -> Decoder<R> {
        Decoder {
            r,
            buf: vec![0u8; BUF_BYTES].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            crc: None,
            crc_upto: 0,
            limits,
            version: u32::from(super::RDB_VERSION),
        }
    }

    /// Starts computing the CRC-64 of everything read from now on.
    pub fn track_crc(&mut self) {
        self.crc = Some(Crc64::new());
        self.crc_upto = self.pos;
    }

    /// The CRC-64 of the bytes read since [`Decoder::track_crc`].
    fn crc_value(&mut self) -> u64 {
        if let Some(c) = &mut self.crc {
            c.update(&self.buf[self.crc_upto..self.pos]);
            self.crc_upto = self.pos;
            c.value()
        } else {
            0
        }
    }

    /// Offset of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Sets the RDB version whose rules apply to the values read (DUMP payloads give it in their
    /// footer).
    pub fn set_version(&mut self, v: u32) {
        self.version = v;
    }

    fn err(&self, kind: RdbErrorKind) -> RdbError {
        RdbError {
            offset: self.offset(),
            kind,
        }
    }

    fn corrupt(&self, why: impl Into<String>) -> RdbError {
        self.err(RdbErrorKind::Corrupt(why.into()))
    }

    /// Refills the buffer; false at the end of the input.
    fn fill(&mut self) -> Result<bool> {
        if let Some(c) = &mut self.crc {
            c.update(&self.buf[self.crc_upto..self.end]);
        }
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        self.crc_upto = 0;
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.err(RdbErrorKind::Io(e))),
            }
        }
    }

    /// Whether the input has no more bytes.
    pub fn at_end(&mut self) -> Result<bool> {
        Ok(self.pos == self.end && !self.fill()?)
    }

    fn u8(&mut self) -> Result<u8> {
        if self.pos == self.end && !self.fill()? {
            return Err(self.err(RdbErrorKind::Truncated));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// Reads exactly `out.len()` bytes.
    fn bytes(&mut self, out: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.end && !self.fill()? {
                return Err(self.err(RdbErrorKind::Truncated));
            }
            let n = (out.len() - done).min(self.end - self.pos);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    /// Reads `n` bytes into a new vector, reserving no more than the input has delivered.
    fn vec(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(n.min(MAX_RESERVE) as usize);
        let mut left = n;
        while left > 0 {
            if self.pos == self.end && !self.fill()? {
                return Err(self.err(RdbErrorKind::Truncated));
            }
            let k = (left.min((self.end - self.pos) as u64)) as usize;
            v.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            left -= k as u64;
        }
        Ok(v)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.bytes(&mut a)?;
        Ok(a)
    }

    /// A length or a special-encoding marker (Redis `rdbLoadLenByRef`).
    fn len_or_enc(&mut self) -> Result<Len> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3F)),
            1 => Len::Plain((u64::from(b & 0x3F) << 8) | u64::from(self.u8()?)),
            2 if b == 0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
            2 if b == 0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
            2 => return Err(self.corrupt(format!("unknown length encoding {b:#04x}"))),
            _ => Len::Encoded(b & 0x3F),
        })
    }

    /// A plain length (an encoded-string marker here is corruption).
    pub fn read_len(&mut self) -> Result<u64> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(self.corrupt("encoded string where a length was expected")),
        }
    }

    /// A length that counts items held in memory, bounded by what `usize` holds.
    fn count(&mut self) -> Result<usize> {
        let n = self.read_len()?;
        usize::try_from(n).map_err(|_| self.corrupt(format!("length {n} out of range")))
    }

    /// A string (raw, integer-encoded or LZF-compressed), as bytes.
    pub fn string(&mut self) -> Result<Vec<u8>> {
        match self.len_or_enc()? {
            Len::Plain(n) => self.vec(n),
            Len::Encoded(e) => match e {
                enc::INT8 => Ok(int_text(i64::from(self.u8()? as i8))),
                enc::INT16 => Ok(int_text(i64::from(i16::from_le_bytes(self.array()?)))),
                enc::INT32 => Ok(int_text(i64::from(i32::from_le_bytes(self.array()?)))),
                enc::LZF => {
                    let clen = self.read_len()?;
                    let len = self.read_len()?;
                    let data = self.vec(clen)?;
                    let len = usize::try_from(len).map_err(|_| self.corrupt("LZF length"))?;
                    lzf::decompress(&data, len)
                        .filter(|d| d.len() == len)
                        .ok_or_else(|| self.corrupt("invalid LZF compressed string"))
                }
                other => Err(self.corrupt(format!("unknown string encoding {other}"))),
            },
        }
    }

    /// A double in text form (`RDB_TYPE_ZSET` scores): a length byte, 253 = NaN, 254 = +inf,
    /// 255 = -inf.
    fn text_double(&mut self) -> Result<f64> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let mut b = vec![0u8; usize::from(n)];
                self.bytes(&mut b)?;
                std::str::from_utf8(&b)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .ok_or_else(|| self.corrupt("invalid text score"))
            }
        }
    }

    fn binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// Skips a string (aux data of modules, functions).
    fn skip_string(&mut self) -> Result<()> {
        self.string().map(drop)
    }

    /// A value of type byte `t` (Redis `rdbLoadObject`).
    pub fn value(&mut self, t: u8) -> Result<Value> {
        let limits = self.limits;
        match t {
            kind::STRING => Ok(Value::string(&self.string()?)),
            kind::LIST => {
                let n = self.count()?;
                let mut l = List::with_limits(&limits);
                for _ in 0..n {
                    l.push_back(&self.string()?, &limits);
                }
                self.nonempty(Value::List(Box::new(l)))
            }
            kind::SET => self.set_of_strings(),
            kind::ZSET | kind::ZSET_2 => self.zset_of_pairs(t == kind::ZSET_2),
            kind::HASH => self.hash_of_pairs(),
            kind::HASH_ZIPMAP => {
                let blob = self.string()?;
                let pairs = legacy::zipmap_pairs(&blob).map_err(|e| self.corrupt(e.to_string()))?;
                self.hash_from_pairs(pairs.into_iter())
            }
            kind::LIST_ZIPLIST => {
                let blob = self.string()?;
                let mut l = List::with_limits(&limits);
                self.ziplist_into_list(&blob, &mut l)?;
                self.nonempty(Value::List(Box::new(l)))
            }
            kind::LIST_QUICKLIST => {
                let n = self.count()?;
                let mut l = List::with_limits(&limits);
                for _ in 0..n {
                    let blob = self.string()?;
                    self.ziplist_into_list(&blob, &mut l)?;
                }
                self.nonempty(Value::List(Box::new(l)))
            }
            kind::LIST_QUICKLIST_2 => self.quicklist2(),
            kind::SET_INTSET => {
                let blob = self.string()?;
                let ints = IntSet::from_bytes(blob).map_err(|e| self.corrupt(e.to_string()))?;
                let set = if ints.len() > limits.set_max_intset_entries {
                    let texts: Vec<Vec<u8>> = ints.iter().map(int_text).collect();
                    Set::from_members(texts.iter().map(|t| &t[..]), &limits)
                } else {
                    Set::from_intset(ints)
                };
                self.nonempty(Value::Set(set))
            }
            kind::SET_LISTPACK => {
                let lp = self.listpack()?;
                let texts: Vec<Bytes> = lp.iter().map(|v| v.to_bytes()).collect();
                let set = Set::from_members(texts.iter().map(|t| &t[..]), &limits);
                if set.len() != texts.len() {
                    return Err(self.corrupt("duplicate set members"));
                }
                self.nonempty(Value::Set(set))
            }
            kind::ZSET_ZIPLIST => {
                let blob = self.string()?;
                let entries =
                    legacy::ziplist_entries(&blob).map_err(|e| self.corrupt(e.to_string()))?;
                if entries.len() % 2 != 0 {
                    return Err(self.corrupt("sorted set ziplist with an odd number of entries"));
                }
                let mut pairs = Vec::with_capacity(entries.len() / 2);
                for p in entries.chunks_exact(2) {
                    let member = zl_bytes(&p[0]);
                    let score = match &p[1] {
                        ZiplistEntry::Int(v) => *v as f64,
                        ZiplistEntry::Bytes(b) => parse_score(b)
                            .ok_or_else(|| self.corrupt("invalid score in sorted set ziplist"))?,
                    };
                    pairs.push((member, score));
                }
                self.zset_from_pairs(pairs)
            }
            kind::HASH_ZIPLIST => {
                let blob = self.string()?;
                let entries =
                    legacy::ziplist_entries(&blob).map_err(|e| self.corrupt(e.to_string()))?;
                if entries.len() % 2 != 0 {
                    return Err(self.corrupt("hash ziplist with an odd number of entries"));
                }
                let texts: Vec<Vec<u8>> = entries.iter().map(zl_bytes).collect();
                self.hash_from_pairs(texts.chunks_exact(2).map(|p| (&p[0][..], &p[1][..])))
            }
            kind::HASH_LISTPACK => {
                let lp = self.listpack()?;
                let h = Hash::from_listpack(lp, &limits).map_err(|e| self.corrupt(e))?;
                self.nonempty(Value::Hash(h))
            }
            kind::ZSET_LISTPACK => {
                let lp = self.listpack()?;
                let z = ZSet::from_listpack(lp, &limits).map_err(|e| self.corrupt(e))?;
                self.nonempty(Value::ZSet(z))
            }
            kind::MODULE_PRE_GA | kind::MODULE_2 => {
                let id = self.read_len()?;
                Err(self.err(RdbErrorKind::Unsupported {
                    name: format!("module ({})", module_name(id)),
                    byte: t,
                }))
            }
            kind::STREAM_LISTPACKS
            | kind::STREAM_LISTPACKS_2
            | kind::STREAM_LISTPACKS_3
            | kind::HASH_METADATA_PRE_GA
            | kind::HASH_LISTPACK_EX_PRE_GA
            | kind::HASH_METADATA
            | kind::HASH_LISTPACK_EX => Err(self.err(RdbErrorKind::Unsupported {
                name: kind::name(t).to_string(),
                byte: t,
            })),
            other => Err(self.err(RdbErrorKind::UnknownType(other))),
        }
    }

    /// Empty aggregates are corruption (Redis refuses them: "empty keys skipped" only for
    /// emptied listpacks in old versions; 7.0 errors).
    fn nonempty(&self, v: Value) -> Result<Value> {
        let empty = match &v {
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            _ => false,
        };
        if empty {
            return Err(self.corrupt("empty aggregate value"));
        }
        Ok(v)
    }

    /// A listpack blob, validated.
    fn listpack(&mut self) -> Result<Listpack> {
        let blob = self.string()?;
        Listpack::from_bytes(blob).map_err(|e| self.corrupt(format!("invalid listpack: {e}")))
    }

    fn ziplist_into_list(&self, blob: &[u8], l: &mut List) -> Result<()> {
        let entries = legacy::ziplist_entries(blob).map_err(|e| self.corrupt(e.to_string()))?;
        for e in &entries {
            match e {
                ZiplistEntry::Int(v) => l.push_back(&int_text(*v), &self.limits),
                ZiplistEntry::Bytes(b) => l.push_back(b, &self.limits),
            }
        }
        Ok(())
    }

    fn quicklist2(&mut self) -> Result<Value> {
        let limits = self.limits;
        let n = self.count()?;
        let mut l = List::with_limits(&limits);
        for _ in 0..n {
            let c = self.read_len()?;
            match c {
                container::PLAIN => {
                    let v = self.string()?;
                    l.push_back(&v, &limits);
                }
                container::PACKED => {
                    let lp = self.listpack()?;
                    if lp.is_empty() {
                        return Err(self.corrupt("empty quicklist node"));
                    }
                    l.push_listpack(lp);
                }
                other => return Err(self.corrupt(format!("unknown quicklist container {other}"))),
            }
        }
        self.nonempty(Value::List(Box::new(l)))
    }

    fn set_of_strings(&mut self) -> Result<Value> {
        let n = self.count()?;
        let mut set = Set::new();
        for _ in 0..n {
            let m = self.string()?;
            if !set.insert(&m, &self.limits) {
                return Err(self.corrupt("duplicate set members"));
            }
        }
        self.nonempty(Value::Set(set))
    }

    fn zset_of_pairs(&mut self, binary: bool) -> Result<Value> {
        let n = self.count()?;
        let mut pairs = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let m = self.string()?;
            let s = if binary {
                self.binary_double()?
            } else {
                self.text_double()?
            };
            if s.is_nan() {
                return Err(self.corrupt("sorted set score is NaN"));
            }
            pairs.push((m, s));
        }
        self.zset_from_pairs(pairs)
    }

    fn zset_from_pairs(&self, pairs: Vec<(Vec<u8>, f64)>) -> Result<Value> {
        let mut seen = HashSet::with_capacity(pairs.len());
        if !pairs.iter().all(|(m, _)| seen.insert(&m[..])) {
            return Err(self.corrupt("duplicate sorted set members"));
        }
        drop(seen);
        self.nonempty(Value::ZSet(ZSet::from_entries(pairs, &self.limits)))
    }

    fn hash_of_pairs(&mut self) -> Result<Value> {
        let n = self.count()?;
        let mut h = Hash::new();
        for _ in 0..n {
            let f = self.string()?;
            let v = self.string()?;
            if !h.set(&f, &v, &self.limits) {
                return Err(self.corrupt("duplicate hash fields"));
            }
        }
        self.nonempty(Value::Hash(h))
    }

    fn hash_from_pairs<'p>(
        &self,
        pairs: impl Iterator<Item = (&'p [u8], &'p [u8])>,
    ) -> Result<Value> {
        let mut h = Hash::new();
        for (f, v) in pairs {
            if !h.set(f, v, &self.limits) {
                return Err(self.corrupt("duplicate hash fields"));
            }
        }
        self.nonempty(Value::Hash(h))
    }
}

/// The decimal text of `v`.
fn int_text(v: i64) -> Vec<u8> {
    itoa::Buffer::new().format(v).as_bytes().to_vec()
}

/// A ziplist entry as text.
fn zl_bytes(e: &ZiplistEntry<'_>) -> Vec<u8> {
    match e {
        ZiplistEntry::Int(v) => int_text(*v),
        ZiplistEntry::Bytes(b) => b.to_vec(),
    }
}

/// A score stored as text in a ziplist (Redis `zzlStrtod`).
fn parse_score(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok().filter(|v| !v.is_nan()),
    }
}

/// A module's 9-character name from its 64-bit type id (the top 54 bits are 9 six-bit
/// characters of Redis' module name charset; the low 10 bits are the encoding version).
pub fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut name = String::with_capacity(9);
    let mut bits = id >> 10;
    let mut chars = [0u8; 9];
    for c in chars.iter_mut().rev() {
        *c = CHARSET[(bits & 63) as usize];
        bits >>= 6;
    }
    name.push_str(std::str::from_utf8(&chars).unwrap_or("?"));
    name
}

/// One key read from a file.
#[derive(Debug)]
pub struct LoadedKey {
    /// Its db.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// The value.
    pub value: Value,
    /// Its expire, Unix milliseconds.
    pub expire_ms: Option<u64>,
    /// LRU idle seconds recorded with it (IDLE opcode).
    pub idle_secs: Option<u64>,
    /// LFU counter recorded with it (FREQ opcode).
    pub freq: Option<u8>,
}

/// What a file load feeds its caller, item by item.
pub trait Loader {
    /// An aux field (`redis-ver`, `ctime`, `repl-id`, `aof-base`, …).
    fn aux(&mut self, _name: &[u8], _value: &[u8]) {}
    /// The key count hint of the db that follows (RESIZEDB).
    fn resize_db(&mut self, _db: usize, _keys: u64, _expires: u64) {}
    /// A SELECTDB item: the keys that follow belong to `db`.
    fn select_db(&mut self, _db: usize) {}
    /// Called before each item (opcode or key) is read, with its offset, which is also the
    /// offset just past the previous item: lets a tool report where each item ends, as
    /// `redis-check-rdb` does.
    fn item_start(&mut self, _offset: u64) {}
    /// A function library (FUNCTION2 payload, Lua code), which has no home until scripting
    /// exists; the default drops it.
    fn function(&mut self, _code: &[u8]) {}
    /// A key. An error (e.g. a duplicate key, a db out of range) stops the load; its text is
    /// reported with the offset.
    fn key(&mut self, key: LoadedKey) -> std::result::Result<(), String>;
}

/// Counts of a finished load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// The file's RDB version.
    pub version: u32,
    /// Keys read.
    pub keys: u64,
    /// Bytes read, checksum included.
    pub bytes: u64,
    /// Whether a checksum was verified (false when the file stored 0 or predates RDB 5).
    pub checksum_verified: bool,
}

/// Reads a whole RDB file from `r`, handing keys and aux fields to `loader` (Redis
/// `rdbLoadRio`). Values get the encodings `limits` allow.
///
/// Errors: anything malformed, a checksum mismatch, an unsupported type (streams, modules,
/// hash field expiry), or the loader's refusal, each with the byte offset.
pub fn load<R: Read>(r: R, limits: EncodingLimits, loader: &mut dyn Loader) -> Result<LoadSummary> {
    let mut d = Decoder::new(r, limits);
    d.track_crc();
    load_from(&mut d, loader)
}

/// [`load`] on a decoder positioned at the start of a file (the AOF loader continues with
/// the same decoder after an RDB preamble).
pub fn load_from<R: Read>(d: &mut Decoder<R>, loader: &mut dyn Loader) -> Result<LoadSummary> {
    let magic: [u8; 9] = d.array()?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError {
            offset: 0,
            kind: RdbErrorKind::BadMagic,
        });
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u32>().ok())
        .ok_or(RdbError {
            offset: 5,
            kind: RdbErrorKind::BadMagic,
        })?;
    if !(1..=u32::from(RDB_MAX_READ_VERSION)).contains(&version) {
        return Err(RdbError {
            offset: 5,
            kind: RdbErrorKind::Version(version),
        });
    }
    d.set_version(version);
    let mut summary = LoadSummary {
        version,
        ..LoadSummary::default()
    };
    let mut db = 0usize;
    let (mut expire_ms, mut idle_secs, mut freq) = (None, None, None);
    loop {
        let item_start = d.offset();
        loader.item_start(item_start);
        let t = d.u8()?;
        match t {
            opcode::EXPIRETIME => {
                let secs = i32::from_le_bytes(d.array()?);
                expire_ms = Some(u64::try_from(i64::from(secs) * 1000).unwrap_or(0));
                continue;
            }
            opcode::EXPIRETIME_MS => {
                let ms = i64::from_le_bytes(d.array()?);
                expire_ms = Some(u64::try_from(ms).unwrap_or(0));
                continue;
            }
            opcode::FREQ => {
                freq = Some(d.u8()?);
                continue;
            }
            opcode::IDLE => {
                idle_secs = Some(d.read_len()?);
                continue;
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                let n = d.read_len()?;
                db = usize::try_from(n).map_err(|_| d.corrupt("db number out of range"))?;
                loader.select_db(db);
                continue;
            }
            opcode::RESIZEDB => {
                let keys = d.read_len()?;
                let expires = d.read_len()?;
                loader.resize_db(db, keys, expires);
                continue;
            }
            opcode::SLOT_INFO => {
                d.read_len()?;
                d.read_len()?;
                d.read_len()?;
                continue;
            }
            opcode::AUX => {
                let name = d.string()?;
                let value = d.string()?;
                loader.aux(&name, &value);
                continue;
            }
            opcode::MODULE_AUX => {
                let id = d.read_len()?;
                return Err(RdbError {
                    offset: item_start,
                    kind: RdbErrorKind::Unsupported {
                        name: format!("module aux data ({})", module_name(id)),
                        byte: t,
                    },
                });
            }
            opcode::FUNCTION_PRE_GA => {
                d.skip_string()?; // name
                d.skip_string()?; // engine
                if d.read_len()? != 0 {
                    d.skip_string()?; // description
                }
                let code = d.string()?;
                loader.function(&code);
                continue;
            }
            opcode::FUNCTION2 => {
                let code = d.string()?;
                loader.function(&code);
                continue;
            }
            t if !kind::is_value_type(t) => {
                return Err(RdbError {
                    offset: item_start,
                    kind: RdbErrorKind::UnknownType(t),
                });
            }
            _ => {}
        }
        let key = Bytes::from(d.string()?);
        let value = d.value(t)?;
        summary.keys += 1;
        let k = LoadedKey {
            db,
            key,
            value,
            expire_ms: expire_ms.take(),
            idle_secs: idle_secs.take(),
            freq: freq.take(),
        };
        loader.key(k).map_err(|why| RdbError {
            offset: item_start,
            kind: RdbErrorKind::Corrupt(why),
        })?;
    }
    if version >= 5 {
        let computed = d.crc_value();
        let expected = u64::from_le_bytes(d.array()?);
        if expected != 0 && expected != computed {
            return Err(RdbError {
                offset: d.offset() - 8,
                kind: RdbErrorKind::Checksum { expected, computed },
            });
        }
        summary.checksum_verified = expected != 0;
    }
    summary.bytes = d.offset();
    Ok(summary)
}

/// The decoder and its remaining input, for callers that go on reading after an RDB (an AOF
/// with an RDB preamble).
impl<R: Read> Decoder<R> {
    /// Bytes read into the buffer but not consumed, followed by the rest of the input.
    pub fn into_rest(self) -> io::Chain<io::Cursor<Vec<u8>>, R> {
        let rest = self.buf[self.pos..self.end].to_vec();
        io::Cursor::new(rest).chain(self.r)
    }

    /// Reads one byte (for callers that parse items around RDB values).
    pub fn read_u8(&mut self) -> Result<u8> {
        self.u8()
    }

    /// Reads a key/element string (for DUMP payload framing and tools).
    pub fn read_string(&mut self) -> Result<Vec<u8>> {
        self.string()
    }
}

/// Re-exported for callers that name the source type.
pub use std::io::Read as RdbSource;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_decode() {
        // "ReJSON-RL" with encoding version 3, as RedisJSON registers it.
        let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut id = 0u64;
        for c in b"ReJSON-RL" {
            let i = charset.iter().position(|x| x == c).unwrap_or(0) as u64;
            id = (id << 6) | i;
        }
        id = (id << 10) | 3;
        assert_eq!(module_name(id), "ReJSON-RL");
    }

    #[test]
    fn lengths_and_strings_decode() {
        let mut d = Decoder::new(
            &[0x3Fu8, 0x40, 0x40, 0x80, 0, 1, 0, 0][..],
            EncodingLimits::default(),
        );
        assert_eq!(d.read_len().ok(), Some(63));
        assert_eq!(d.read_len().ok(), Some(64));
        assert_eq!(d.read_len().ok(), Some(65536));
        let mut d = Decoder::new(
            &[0xC0u8, 0xFF, 0xC1, 0x2C, 0x01, 0x02, b'h', b'i'][..],
            EncodingLimits::default(),
        );
        assert_eq!(d.string().ok(), Some(b"-1".to_vec()));
        assert_eq!(d.string().ok(), Some(b"300".to_vec()));
        assert_eq!(d.string().ok(), Some(b"hi".to_vec()));
        let e = d
            .string()
            .err()
            .map(|e| (e.offset, matches!(e.kind, RdbErrorKind::Truncated)));
        assert_eq!(e, Some((8, true)));
    }

    #[test]
    fn a_huge_length_is_truncation_not_an_allocation() {
        let bytes = [0x81u8, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, b'x'];
        let mut d = Decoder::new(&bytes[..], EncodingLimits::default());
        let e = d
            .string()
            .err()
            .map(|e| matches!(e.kind, RdbErrorKind::Truncated));
        assert_eq!(e, Some(true));
    }
}
