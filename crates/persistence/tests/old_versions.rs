//! Loading RDB files in the formats older (and newer) Redis versions write: each file here is
//! built byte by byte the way that version lays it out (RDB 6: Redis 2.8 ziplists and zipmaps,
//! seconds expires, no aux fields; RDB 7–9: quicklists of ziplists, LRU/LFU opcodes; RDB 11
//! and 12: listpack sets), then loaded, and every key is checked.

use ferrodis_keyspace::listpack::Listpack;
use ferrodis_keyspace::{EncodingLimits, Value};
use ferrodis_persistence::crc64;
use ferrodis_persistence::rdb::legacy::{encode_ziplist, encode_zipmap, ZiplistEntry};
use ferrodis_persistence::rdb::write::{put_len, put_string};
use ferrodis_persistence::rdb::{kind, load, opcode, LoadedKey, Loader, RdbErrorKind};

/// Collects what a load produces.
#[derive(Default)]
struct Collect {
    keys: Vec<LoadedKey>,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    functions: usize,
}

impl Loader for Collect {
    fn aux(&mut self, name: &[u8], value: &[u8]) {
        self.aux.push((name.to_vec(), value.to_vec()));
    }

    fn function(&mut self, _code: &[u8]) {
        self.functions += 1;
    }

    fn key(&mut self, key: LoadedKey) -> Result<(), String> {
        self.keys.push(key);
        Ok(())
    }
}

impl Collect {
    fn get(&self, key: &str) -> &LoadedKey {
        self.keys
            .iter()
            .find(|k| &k.key[..] == key.as_bytes())
            .unwrap_or_else(|| panic!("{key} was not loaded"))
    }
}

/// A file of RDB `version`: header, `body`, EOF and (version ≥ 5) the CRC-64.
fn file(version: u32, body: &[u8]) -> Vec<u8> {
    let mut f = format!("REDIS{version:04}").into_bytes();
    f.extend_from_slice(body);
    f.push(opcode::EOF);
    if version >= 5 {
        let crc = crc64::checksum(&f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    f
}

fn key(out: &mut Vec<u8>, t: u8, k: &str) {
    out.push(t);
    put_string(out, k.as_bytes(), false);
}

fn blob(out: &mut Vec<u8>, b: &[u8]) {
    put_len(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn load_ok(bytes: &[u8]) -> Collect {
    let mut c = Collect::default();
    match load(bytes, EncodingLimits::default(), &mut c) {
        Ok(_) => c,
        Err(e) => panic!("load failed: {e}"),
    }
}

fn list_items(v: &Value) -> Vec<Vec<u8>> {
    let Value::List(l) = v else {
        panic!("not a list: {v:?}")
    };
    let mut out = Vec::new();
    l.for_each(|e| out.push(e.to_vec()));
    out
}

fn int(v: i64) -> ZiplistEntry<'static> {
    ZiplistEntry::Int(v)
}

fn s(b: &'static [u8]) -> ZiplistEntry<'static> {
    ZiplistEntry::Bytes(b)
}

/// Redis 2.8 (RDB 6): SELECTDB, seconds expires, ziplist list/zset/hash, zipmap hash, intset,
/// linked list, sets of strings, sorted sets with text scores, no aux fields.
#[test]
fn rdb6_every_old_encoding() {
    let mut b = Vec::new();
    b.push(opcode::SELECTDB);
    put_len(&mut b, 0);
    // A string expiring in 2030 (the seconds opcode holds a signed 32-bit time, as in Redis).
    b.push(opcode::EXPIRETIME);
    b.extend_from_slice(&1_900_000_000i32.to_le_bytes());
    key(&mut b, kind::STRING, "str");
    put_string(&mut b, b"hello", false);
    // Ziplist list with integer and string entries.
    key(&mut b, kind::LIST_ZIPLIST, "zl-list");
    blob(
        &mut b,
        &encode_ziplist(&[s(b"a"), int(7), int(-300), int(1 << 40), s(b"zz")]),
    );
    // Linked list.
    key(&mut b, kind::LIST, "ll");
    put_len(&mut b, 2);
    put_string(&mut b, b"x", false);
    put_string(&mut b, b"y", false);
    // Zipmap hash.
    key(&mut b, kind::HASH_ZIPMAP, "zm");
    blob(&mut b, &encode_zipmap(&[(b"f1", b"v1"), (b"f2", b"22")]));
    // Ziplist hash.
    key(&mut b, kind::HASH_ZIPLIST, "zl-hash");
    blob(
        &mut b,
        &encode_ziplist(&[s(b"f"), s(b"v"), s(b"n"), int(5)]),
    );
    // Ziplist sorted set: member, score (integer or text).
    key(&mut b, kind::ZSET_ZIPLIST, "zl-zset");
    blob(
        &mut b,
        &encode_ziplist(&[s(b"a"), int(1), s(b"b"), s(b"2.5")]),
    );
    // Sorted set with text scores (type 3), including infinity.
    key(&mut b, kind::ZSET, "zs-text");
    put_len(&mut b, 2);
    put_string(&mut b, b"m", false);
    b.push(3);
    b.extend_from_slice(b"1.5");
    put_string(&mut b, b"inf", false);
    b.push(254);
    // Intset and set of strings.
    let mut ints = ferrodis_keyspace::intset::IntSet::new();
    for v in [3, -1, 100_000] {
        ints.insert(v);
    }
    key(&mut b, kind::SET_INTSET, "ints");
    blob(&mut b, ints.as_bytes());
    key(&mut b, kind::SET, "strs");
    put_len(&mut b, 2);
    put_string(&mut b, b"p", false);
    put_string(&mut b, b"q", false);
    // Db 3.
    b.push(opcode::SELECTDB);
    put_len(&mut b, 3);
    key(&mut b, kind::STRING, "in3");
    put_string(&mut b, b"123", false);

    let c = load_ok(&file(6, &b));
    assert_eq!(c.keys.len(), 10);
    assert_eq!(c.get("str").expire_ms, Some(1_900_000_000_000));
    assert_eq!(
        list_items(&c.get("zl-list").value),
        [&b"a"[..], b"7", b"-300", b"1099511627776", b"zz"]
    );
    assert_eq!(list_items(&c.get("ll").value), [b"x", b"y"]);
    let Value::Hash(h) = &c.get("zm").value else {
        panic!("zipmap not a hash")
    };
    assert_eq!(h.get(b"f2").as_deref(), Some(&b"22"[..]));
    assert_eq!(h.encoding_name(), "listpack");
    let Value::Hash(h) = &c.get("zl-hash").value else {
        panic!("not a hash")
    };
    assert_eq!(h.get(b"n").as_deref(), Some(&b"5"[..]));
    let Value::ZSet(z) = &c.get("zl-zset").value else {
        panic!("not a zset")
    };
    assert_eq!(z.score(b"b"), Some(2.5));
    let Value::ZSet(z) = &c.get("zs-text").value else {
        panic!("not a zset")
    };
    assert_eq!(z.score(b"inf"), Some(f64::INFINITY));
    let Value::Set(st) = &c.get("ints").value else {
        panic!("not a set")
    };
    assert!(st.contains(b"100000") && st.encoding_name() == "intset");
    let Value::Set(st) = &c.get("strs").value else {
        panic!("not a set")
    };
    assert!(st.contains(b"q"));
    assert_eq!(c.get("in3").db, 3);
}

/// Redis 3.2–6.2 (RDB 7–9): aux fields, RESIZEDB, millisecond expires, LRU idle and LFU
/// frequency opcodes, quicklists of ziplists.
#[test]
fn rdb9_quicklist_and_metadata() {
    let mut b = Vec::new();
    for (k, v) in [("redis-ver", "6.2.14"), ("redis-bits", "64")] {
        b.push(opcode::AUX);
        put_string(&mut b, k.as_bytes(), false);
        put_string(&mut b, v.as_bytes(), false);
    }
    b.push(opcode::SELECTDB);
    put_len(&mut b, 0);
    b.push(opcode::RESIZEDB);
    put_len(&mut b, 2);
    put_len(&mut b, 1);
    b.push(opcode::EXPIRETIME_MS);
    b.extend_from_slice(&4_102_444_800_123u64.to_le_bytes());
    b.push(opcode::IDLE);
    put_len(&mut b, 3600);
    key(&mut b, kind::LIST_QUICKLIST, "ql");
    put_len(&mut b, 2);
    blob(&mut b, &encode_ziplist(&[s(b"n1a"), s(b"n1b")]));
    blob(&mut b, &encode_ziplist(&[int(42)]));
    b.push(opcode::FREQ);
    b.push(77);
    key(&mut b, kind::STRING, "hot");
    put_string(&mut b, b"v", false);

    let c = load_ok(&file(9, &b));
    assert_eq!(c.aux[0], (b"redis-ver".to_vec(), b"6.2.14".to_vec()));
    let ql = c.get("ql");
    assert_eq!(list_items(&ql.value), [&b"n1a"[..], b"n1b", b"42"]);
    assert_eq!(ql.expire_ms, Some(4_102_444_800_123));
    assert_eq!(ql.idle_secs, Some(3600));
    assert_eq!(c.get("hot").freq, Some(77));
}

/// Redis 7.2 (RDB 11) and 7.4 (RDB 12): listpack sets load; streams, modules and hashes with
/// field expiry are refused with an error naming the type and the offset.
#[test]
fn rdb11_and_12() {
    let mut lp = Listpack::new();
    for m in [&b"a"[..], b"5", b"b"] {
        lp.push_back(m);
    }
    let mut b = Vec::new();
    b.push(opcode::SELECTDB);
    put_len(&mut b, 0);
    key(&mut b, kind::SET_LISTPACK, "lpset");
    blob(&mut b, lp.as_bytes());
    // A function library (7.0+): skipped, reported to the loader.
    b.push(opcode::FUNCTION2);
    put_string(
        &mut b,
        b"#!lua name=lib\nredis.register_function('f', function() end)",
        false,
    );
    for version in [11, 12] {
        let c = load_ok(&file(version, &b));
        let Value::Set(st) = &c.get("lpset").value else {
            panic!("not a set")
        };
        assert_eq!(st.len(), 3);
        assert!(st.contains(b"5"));
        assert_eq!(c.functions, 1);
    }

    for (t, name) in [
        (kind::STREAM_LISTPACKS_3, "stream"),
        (kind::HASH_LISTPACK_EX, "hash with field expiration"),
        (kind::HASH_METADATA, "hash with field expiration"),
    ] {
        let mut b = Vec::new();
        key(&mut b, t, "k");
        b.extend_from_slice(&[0; 16]);
        let mut c = Collect::default();
        let e = load(&file(12, &b)[..], EncodingLimits::default(), &mut c)
            .expect_err("an unsupported type is refused");
        let text = e.to_string();
        assert!(text.contains(name), "{text}");
        assert!(text.contains("offset"), "{text}");
        assert!(matches!(e.kind, RdbErrorKind::Unsupported { .. }));
    }
}

/// Files with a version beyond 12, a bad checksum or an unknown opcode are refused, naming
/// the offset; a checksum of 0 (rdbchecksum no) is not checked.
#[test]
fn refusals() {
    let mut c = Collect::default();
    let e =
        load(&file(13, &[])[..], EncodingLimits::default(), &mut c).expect_err("RDB 13 is refused");
    assert!(matches!(e.kind, RdbErrorKind::Version(13)));

    let mut body = Vec::new();
    key(&mut body, kind::STRING, "k");
    put_string(&mut body, b"v", false);
    let mut f = file(10, &body);
    let n = f.len();
    f[n - 1] ^= 1;
    let e = load(&f[..], EncodingLimits::default(), &mut c).expect_err("a bad checksum is refused");
    assert!(matches!(e.kind, RdbErrorKind::Checksum { .. }));
    assert_eq!(e.offset, (n - 8) as u64);
    let zero = [&f[..n - 8], &[0u8; 8][..]].concat();
    assert_eq!(load_ok(&zero).keys.len(), 1);

    let mut bad = b"REDIS0010".to_vec();
    bad.push(240);
    let e = load(&bad[..], EncodingLimits::default(), &mut c)
        .expect_err("an unknown opcode is refused");
    assert!(matches!(e.kind, RdbErrorKind::UnknownType(240)));
    assert_eq!(e.offset, 9);
}
