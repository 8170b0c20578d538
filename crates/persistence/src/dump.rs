//! DUMP/RESTORE payloads (Redis `createDumpPayload` / `verifyDumpPayload`).
//!
//! # Layout
//!
//! | bytes      | what                                                                   |
//! |------------|------------------------------------------------------------------------|
//! | 1          | the value's RDB type byte                                              |
//! | n          | the value in RDB encoding (as in a file, without the key)              |
//! | 2          | the RDB version that wrote it, little endian (10 from Ferrodis and Redis 7.0) |
//! | 8          | CRC-64 of everything before, little endian                             |
//!
//! A payload from Redis 7.0 restores in Ferrodis and the reverse. Ferrodis also accepts
//! payloads of RDB versions 11 and 12 (Redis 7.2 and 7.4), which Redis 7.0 refuses, as long as
//! the value's type is one it can load.

use ferrodis_keyspace::{EncodingLimits, Value, ValueRef};

use crate::crc64;
use crate::rdb::read::Decoder;
use crate::rdb::write::{put_value, value_type};
use crate::rdb::{RDB_MAX_READ_VERSION, RDB_VERSION};

/// Why a payload cannot be restored; the texts are Redis' RESTORE errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// Too short, a newer RDB version, or a checksum mismatch.
    #[error("ERR DUMP payload version or checksum are wrong")]
    VersionOrChecksum,
    /// The value does not decode.
    #[error("ERR Bad data format")]
    BadData,
}

/// The DUMP payload of a value (`compress`: `rdbcompression`).
pub fn dump(v: &ValueRef<'_>, compress: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(value_type(v));
    put_value(&mut out, v, compress);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the footer of `payload` and returns the RDB version it names (Redis
/// `verifyDumpPayload`): at least 10 bytes, version at most 12, CRC-64 matching.
pub fn verify(payload: &[u8]) -> Result<u16, DumpError> {
    if payload.len() < 10 {
        return Err(DumpError::VersionOrChecksum);
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_MAX_READ_VERSION {
        return Err(DumpError::VersionOrChecksum);
    }
    let stored = u64::from_le_bytes(footer[2..10].try_into().map_err(|_| DumpError::BadData)?);
    if crc64::checksum(&payload[..payload.len() - 8]) != stored {
        return Err(DumpError::VersionOrChecksum);
    }
    Ok(version)
}

/// The value a payload holds, with the encodings `limits` allow (RESTORE). Errors: see
/// [`DumpError`].
pub fn restore(payload: &[u8], limits: EncodingLimits) -> Result<Value, DumpError> {
    let version = verify(payload)?;
    let body = &payload[..payload.len() - 10];
    let mut d = Decoder::new(body, limits);
    d.set_version(u32::from(version));
    let t = d.read_u8().map_err(|_| DumpError::BadData)?;
    d.value(t).map_err(|_| DumpError::BadData)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrodis_keyspace::{Hash, List, Set, ZSet};

    /// `DUMP` of these values in redis-server 7.0.15 (`SET s hello`, `SET n 123`, `RPUSH l a b`),
    /// byte for byte, as `redis-cli --no-raw DUMP` prints them.
    #[test]
    fn payloads_match_redis_7_0() {
        let s = Value::string(b"hello");
        assert_eq!(
            dump(&ValueRef::of(&s), true),
            b"\x00\x05hello\n\x00cr\xdfve4 \n".to_vec()
        );
        let n = Value::string(b"123");
        assert_eq!(
            dump(&ValueRef::of(&n), true),
            b"\x00\xc0{\n\x00H\xe2S\xe1\x00zg\xb9".to_vec()
        );
        let limits = EncodingLimits::default();
        let mut l = List::with_limits(&limits);
        l.push_back(b"a", &limits);
        l.push_back(b"b", &limits);
        let expected: &[u8] = b"\x12\x01\x02\r\r\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff\n\x00h\xeb\n\x89\x13A\xbb\xb1";
        assert_eq!(
            dump(&ValueRef::of(&Value::List(Box::new(l))), true),
            expected
        );
    }

    fn round_trip(v: Value) -> Value {
        let p = dump(&ValueRef::of(&v), true);
        match restore(&p, EncodingLimits::default()) {
            Ok(r) => r,
            Err(e) => panic!("restore failed: {e}"),
        }
    }

    #[test]
    fn every_type_round_trips() {
        let limits = EncodingLimits::default();
        let mut l = List::with_limits(&limits);
        for i in 0..1000 {
            l.push_back(format!("element-{i}").as_bytes(), &limits);
        }
        let r = round_trip(Value::List(Box::new(l.clone())));
        let Value::List(r) = r else {
            panic!("not a list")
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        l.for_each(|v| a.push(v.to_vec()));
        r.for_each(|v| b.push(v.to_vec()));
        assert_eq!(a, b);

        let mut h = Hash::new();
        for i in 0..600 {
            h.set(
                format!("f{i}").as_bytes(),
                format!("{i}").as_bytes(),
                &limits,
            );
        }
        let Value::Hash(rh) = round_trip(Value::Hash(h.clone())) else {
            panic!("not a hash")
        };
        assert_eq!(rh.len(), 600);
        assert_eq!(rh.encoding_name(), "hashtable");
        assert_eq!(rh.get(b"f599").as_deref(), Some(&b"599"[..]));

        let set = Set::from_members([&b"1"[..], b"2", b"-3"], &limits);
        let Value::Set(rs) = round_trip(Value::Set(set)) else {
            panic!("not a set")
        };
        assert_eq!(rs.encoding_name(), "intset");
        assert!(rs.contains(b"-3"));

        let z = ZSet::from_entries(vec![(&b"a"[..], 1.5), (b"b", f64::INFINITY)], &limits);
        let Value::ZSet(rz) = round_trip(Value::ZSet(z)) else {
            panic!("not a zset")
        };
        assert_eq!(rz.score(b"b"), Some(f64::INFINITY));
        assert_eq!(rz.encoding_name(), "listpack");
    }

    /// Found by the `dump_restore` fuzz target: a listpack set whose LZF string claims
    /// 0x8181818181818181 uncompressed bytes aborted on the allocation instead of failing.
    #[test]
    fn an_impossible_lzf_size_is_bad_data() {
        let mut p = vec![0x14, 0xC3, 0x01, 0x81];
        p.extend_from_slice(&[0x81; 8]);
        p.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64::checksum(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            restore(&p, EncodingLimits::default()).err(),
            Some(DumpError::BadData)
        );
    }

    #[test]
    fn damaged_payloads_are_refused() {
        let v = Value::string(b"hello world");
        let p = dump(&ValueRef::of(&v), true);
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i] ^= 0x20;
            assert!(
                restore(&bad, EncodingLimits::default()).is_err(),
                "flip at {i}"
            );
        }
        for n in 0..p.len() {
            assert!(
                restore(&p[..n], EncodingLimits::default()).is_err(),
                "cut at {n}"
            );
        }
    }
}
