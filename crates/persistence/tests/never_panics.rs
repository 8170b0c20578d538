//! The four entry points the cargo-fuzz targets (`crates/persistence/fuzz`) exercise, fed
//! random and mutated-valid inputs on stable, so CI covers them without nightly: the RDB
//! loader, RESTORE, the AOF command stream and the AOF manifest never panic, and what loads
//! or parses round-trips.

use std::io::BufReader;

use ferrodis_keyspace::{EncodingLimits, Hash, List, Set, Value, ValueRef, ZSet};
use ferrodis_persistence::aof::stream::{encode_command, scan, CommandReader};
use ferrodis_persistence::aof::Manifest;
use ferrodis_persistence::rdb::{self, KeyMeta, LoadedKey, Loader, RdbWriter, SaveOptions};
use ferrodis_persistence::{crc64, dump};
use proptest::prelude::*;

/// Counts the keys a load hands over.
#[derive(Default)]
struct Counting(u64);

impl Loader for Counting {
    fn key(&mut self, _key: LoadedKey) -> Result<(), String> {
        self.0 += 1;
        Ok(())
    }
}

/// A value of kind `kind % 5` holding `items` (values that would be empty get one item).
fn value(kind: u8, items: &[Vec<u8>]) -> Value {
    let limits = EncodingLimits::default();
    let one = [b"x".to_vec()];
    let items = if items.is_empty() { &one[..] } else { items };
    match kind % 5 {
        0 => Value::string(&items.concat()),
        1 => {
            let mut l = List::with_limits(&limits);
            for i in items {
                l.push_back(i, &limits);
            }
            Value::List(Box::new(l))
        }
        2 => Value::Set(Set::from_members(items.iter().map(|i| &i[..]), &limits)),
        3 => {
            let mut h = Hash::new();
            for (n, i) in items.iter().enumerate() {
                let _ = h.set(i, n.to_string().as_bytes(), &limits);
            }
            Value::Hash(h)
        }
        _ => {
            let mut entries: Vec<(&[u8], f64)> = Vec::new();
            for (n, i) in items.iter().enumerate() {
                if !entries.iter().any(|(m, _)| *m == &i[..]) {
                    entries.push((i, n as f64 / 3.0));
                }
            }
            Value::ZSet(ZSet::from_entries(entries, &limits))
        }
    }
}

/// A value's type and contents in a canonical order.
fn contents(v: &Value) -> (&'static str, Vec<Vec<u8>>) {
    let mut items = Vec::new();
    match v {
        Value::String(s) => items.push(s.to_bytes().to_vec()),
        Value::List(l) => l.for_each(|e| items.push(e.to_vec())),
        Value::Hash(h) => {
            h.for_each(|f, v| items.push([f, b"\0", v].concat()));
            items.sort();
        }
        Value::Set(s) => {
            s.for_each(|m| items.push(m.to_vec()));
            items.sort();
        }
        Value::ZSet(z) => z.for_each(|m, s| items.push([m, &s.to_bits().to_le_bytes()].concat())),
        _ => {}
    }
    (v.type_name(), items)
}

/// Applies `flips` (index modulo the length, xor mask) and cuts at `cut` (modulo length + 1).
fn mutate(mut bytes: Vec<u8>, flips: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    if !bytes.is_empty() {
        for &(i, mask) in flips {
            let n = bytes.len();
            bytes[i % n] ^= mask;
        }
    }
    if let Some(c) = cut {
        bytes.truncate(c % (bytes.len() + 1));
    }
    bytes
}

/// Replaces the last 8 bytes with the CRC-64 of the rest, so a mutation reaches the decoder.
fn fix_crc(bytes: &mut [u8]) {
    if bytes.len() >= 8 {
        let body = bytes.len() - 8;
        let crc = crc64::checksum(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Whether a file name has a `'`: Redis writes such a name unquoted (`sdsneedsrepr` does not
/// look for it) and then cannot split the line; Ferrodis writes the same bytes.
fn has_single_quote(m: &Manifest) -> bool {
    let mut all = m.base.iter().chain(&m.history).chain(&m.incrs);
    all.any(|i| i.file_name.contains('\''))
}

fn items() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..12),
            (0i64..100_000).prop_map(|n| n.to_string().into_bytes()),
            Just(vec![b'r'; 70]),
        ],
        0..20,
    )
}

fn flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), 1u8..=255), 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rdb_loader(
        keys in prop::collection::vec((any::<u8>(), items(), any::<bool>()), 0..6),
        flips in flips(),
        cut in prop::option::of(any::<usize>()),
        compression in any::<bool>(),
    ) {
        let mut w = RdbWriter::new(Vec::new(), SaveOptions { compression, checksum: true });
        w.aux("redis-ver", b"7.0.15").expect("in memory");
        w.select_db(0, keys.len(), 0).expect("in memory");
        for (n, (kind, items, expires)) in keys.iter().enumerate() {
            let v = value(*kind, items);
            let meta = KeyMeta { expire_ms: expires.then_some(1_700_000_000_000), ..KeyMeta::default() };
            w.key(format!("key{n}").as_bytes(), &ValueRef::of(&v), meta).expect("in memory");
        }
        let good = w.finish().expect("in memory");
        let mut loader = Counting::default();
        let summary = rdb::load(&good[..], EncodingLimits::default(), &mut loader);
        prop_assert_eq!(summary.map(|s| s.keys).ok(), Some(keys.len() as u64));
        let mut bad = mutate(good, &flips, cut);
        let _ = rdb::load(&bad[..], EncodingLimits::default(), &mut Counting::default());
        fix_crc(&mut bad);
        let _ = rdb::load(&bad[..], EncodingLimits::default(), &mut Counting::default());
    }

    #[test]
    fn dump_restore(
        kind in any::<u8>(),
        items in items(),
        flips in flips(),
        cut in prop::option::of(any::<usize>()),
        random in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let limits = EncodingLimits::default();
        let v = value(kind, &items);
        let payload = dump::dump(&ValueRef::of(&v), true);
        let restored = dump::restore(&payload, limits).expect("a dump restores");
        prop_assert_eq!(contents(&restored), contents(&v));
        let mut bad = mutate(payload, &flips, cut);
        fix_crc(&mut bad);
        for input in [&bad[..], &random[..]] {
            if let Ok(r) = dump::restore(input, limits) {
                let again = dump::dump(&ValueRef::of(&r), true);
                let back = dump::restore(&again, limits).expect("a dump restores");
                prop_assert_eq!(contents(&back), contents(&r));
            }
        }
    }

    #[test]
    fn aof_stream(
        cmds in prop::collection::vec(items(), 0..8),
        flips in flips(),
        cut in prop::option::of(any::<usize>()),
        cap in 1usize..64,
    ) {
        let mut good = Vec::new();
        for c in cmds.iter().filter(|c| !c.is_empty()) {
            let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            encode_command(&mut good, &args);
        }
        let bad = mutate(good, &flips, cut);
        let mut reader = CommandReader::new(BufReader::with_capacity(cap, &bad[..]), 0);
        while let Ok(Some(args)) = reader.next_command() {
            prop_assert!(!args.is_empty());
        }
        prop_assert!(reader.position() <= bad.len() as u64);
        let report = scan(BufReader::with_capacity(cap, &bad[..]), 0);
        prop_assert_eq!(report.total, bad.len() as u64);
        prop_assert!(report.valid_up_to <= report.total);
    }

    #[test]
    fn aof_manifest(
        incrs in 0u64..4,
        name in "[a-z .\"\\\\\t]{0,12}",
        flips in flips(),
        cut in prop::option::of(any::<usize>()),
    ) {
        let mut m = Manifest::default();
        m.new_base(&name, true);
        for _ in 0..incrs {
            m.new_incr(&name);
        }
        let text = m.to_text();
        if !name.contains(['/', '\\']) {
            prop_assert_eq!(Manifest::parse(&text), Ok(m.clone()));
        }
        let bad = String::from_utf8_lossy(&mutate(text.into_bytes(), &flips, cut)).into_owned();
        if let Ok(parsed) = Manifest::parse(&bad) {
            let written = parsed.to_text();
            if !written.is_empty() && !has_single_quote(&parsed) {
                prop_assert_eq!(Manifest::parse(&written), Ok(parsed));
            }
        }
    }
}
