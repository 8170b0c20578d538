#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;

use super::*;

fn limits(entries: usize, value: usize) -> EncodingLimits {
    EncodingLimits {
        hash_max_listpack_entries: entries,
        hash_max_listpack_value: value,
        ..EncodingLimits::default()
    }
}

fn pairs(h: &Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    h.for_each(|f, v| out.push((f.to_vec(), v.to_vec())));
    out
}

/// Fields and values: canonical integers (listpack ints), near-integers and strings of 0..12
/// bytes, so both limits are crossed.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-3i64..20).prop_map(|n| n.to_string().into_bytes()),
        Just(b"01".to_vec()),
        Just(b"-0".to_vec()),
        Just(i64::MIN.to_string().into_bytes()),
        proptest::collection::vec(b'a'..=b'e', 0..12),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Set(Vec<u8>, Vec<u8>),
    SetMany(Vec<(Vec<u8>, Vec<u8>)>),
    Remove(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (bytes(), bytes()).prop_map(|(f, v)| Op::Set(f, v)),
        1 => proptest::collection::vec((bytes(), bytes()), 1..4).prop_map(Op::SetMany),
        2 => bytes().prop_map(Op::Remove),
    ]
}

/// The model: a map, the listpack order (insertion order, updates in place) and whether the
/// hash must have converted.
#[derive(Default)]
struct Model {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    order: Vec<Vec<u8>>,
    table: bool,
}

impl Model {
    fn set(&mut self, f: &[u8], v: &[u8], l: &EncodingLimits) -> bool {
        let max = l.hash_max_listpack_value;
        if f.len() > max || v.len() > max {
            self.table = true;
        }
        let new = self.map.insert(f.to_vec(), v.to_vec()).is_none();
        if new {
            self.order.push(f.to_vec());
        }
        if self.map.len() > l.hash_max_listpack_entries {
            self.table = true;
        }
        new
    }

    fn remove(&mut self, f: &[u8]) -> bool {
        self.order.retain(|x| x != f);
        self.map.remove(f).is_some()
    }
}

fn check(h: &Hash, m: &Model, l: &EncodingLimits) -> Result<(), TestCaseError> {
    prop_assert_eq!(h.len(), m.map.len());
    prop_assert_eq!(h.is_empty(), m.map.is_empty());
    prop_assert_eq!(
        h.encoding_name(),
        if m.table { "hashtable" } else { "listpack" }
    );
    for (f, v) in &m.map {
        let got = h.get(f);
        prop_assert_eq!(got.as_deref(), Some(&v[..]));
        prop_assert!(h.contains(f));
    }
    let got = pairs(h);
    if m.table {
        let got: BTreeMap<_, _> = got.into_iter().collect();
        prop_assert_eq!(&got, &m.map);
        prop_assert_eq!(h.free_effort(), m.map.len());
    } else {
        let want: Vec<_> = m
            .order
            .iter()
            .map(|f| (f.clone(), m.map[f].clone()))
            .collect();
        prop_assert_eq!(got, want, "listpack keeps insertion order");
        for (f, v) in &m.map {
            prop_assert!(f.len() <= l.hash_max_listpack_value);
            prop_assert!(v.len() <= l.hash_max_listpack_value);
        }
        prop_assert_eq!(h.free_effort(), 1);
    }
    Ok(())
}

proptest! {
    #[test]
    fn behaves_like_a_map_across_conversions(
        entries in 0usize..8,
        value in 0usize..8,
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let l = limits(entries, value);
        let mut h = Hash::new();
        let mut m = Model::default();
        for op in ops {
            match op {
                Op::Set(f, v) => prop_assert_eq!(h.set(&f, &v, &l), m.set(&f, &v, &l)),
                Op::SetMany(items) => {
                    let args: Vec<&[u8]> =
                        items.iter().flat_map(|(f, v)| [&f[..], &v[..]]).collect();
                    h.try_conversion(&args, &l);
                    if args.iter().any(|a| a.len() > l.hash_max_listpack_value) {
                        m.table = true;
                    }
                    for (f, v) in &items {
                        prop_assert_eq!(h.set(f, v, &l), m.set(f, v, &l));
                    }
                }
                Op::Remove(f) => prop_assert_eq!(h.remove(&f), m.remove(&f)),
            }
            check(&h, &m, &l)?;
            if m.map.is_empty() && m.table {
                // An emptied hash is deleted in the keyspace; start a fresh one like a new key.
                h = Hash::new();
                m = Model::default();
            }
        }
    }
}

#[test]
fn listpack_keeps_insertion_order_and_updates_in_place() {
    let l = EncodingLimits::default();
    let mut h = Hash::new();
    assert!(h.set(b"b", b"1", &l));
    assert!(h.set(b"a", b"x", &l));
    assert!(h.set(b"c", b"-7", &l));
    assert!(!h.set(b"b", b"new", &l), "an existing field is updated");
    assert_eq!(
        pairs(&h),
        vec![
            (b"b".to_vec(), b"new".to_vec()),
            (b"a".to_vec(), b"x".to_vec()),
            (b"c".to_vec(), b"-7".to_vec()),
        ]
    );
    assert_eq!(
        h.get_ref(b"c"),
        Some(LpValue::Int(-7)),
        "stored as a listpack int"
    );
    assert!(h.remove(b"a"));
    assert!(!h.remove(b"a"));
    assert!(h.set(b"a", b"y", &l));
    let fields: Vec<Vec<u8>> = pairs(&h).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, vec![b"b".to_vec(), b"c".to_vec(), b"a".to_vec()]);
    // The listpack bytes are Redis': 3 pairs, "b" then "new" ...
    let lp = h.listpack().unwrap();
    assert_eq!(lp.len(), 6);
    assert_eq!(&lp.as_bytes()[6..8], &[0x81, b'b']);
}

#[test]
fn conversion_thresholds_follow_redis() {
    let l = limits(2, 3);
    let mut h = Hash::new();
    h.set(b"a", b"abc", &l);
    h.set(b"b", b"1", &l);
    assert_eq!(h.encoding_name(), "listpack", "at the limits");
    h.set(b"c", b"1", &l);
    assert_eq!(h.encoding_name(), "hashtable", "3 fields > 2");
    h.remove(b"c");
    h.remove(b"b");
    assert_eq!(h.encoding_name(), "hashtable", "never converts back");

    let mut h = Hash::new();
    h.set(b"a", b"abcd", &l);
    assert_eq!(h.encoding_name(), "hashtable", "a 4-byte value > 3");
    let mut h = Hash::new();
    h.try_conversion(&[&b"f"[..], b"abcd"], &l);
    assert_eq!(
        h.encoding_name(),
        "hashtable",
        "try_conversion checks before writing"
    );
    let mut h = Hash::new();
    h.try_conversion(&[&b"f"[..], b"abc"], &l);
    assert_eq!(h.encoding_name(), "listpack");
    let mut h = Hash::new();
    h.set(b"a", b"1", &limits(0, 64));
    assert_eq!(
        h.encoding_name(),
        "hashtable",
        "entries 0 converts on the first field"
    );
}

#[test]
fn mem_bytes_tracks_heap_elements() {
    let l = limits(0, 64);
    let mut h = Hash::new();
    let long = vec![b'x'; 100];
    h.set(b"f", &long, &l);
    let with_long = h.mem_bytes();
    h.set(b"f", b"short", &l);
    assert_eq!(with_long - h.mem_bytes(), 100);
    h.remove(b"f");
    assert_eq!(h.mem_bytes(), 0);
}

/// A full HSCAN (from cursor 0 until 0 again) with `count`, calling `between` after each step.
fn full_scan(
    h: &mut Hash,
    count: usize,
    mut between: impl FnMut(&mut Hash, usize),
) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        cursor = h.scan(cursor, count, |f, _| {
            seen.insert(f.to_bytes().to_vec());
        });
        step += 1;
        if cursor == 0 {
            return seen;
        }
        between(h, step);
    }
}

#[test]
fn scan_returns_stable_fields_while_the_hash_grows_shrinks_and_converts() {
    let l = limits(16, 64);
    // A listpack hands everything over in one call, whatever the cursor.
    let mut h = Hash::new();
    for i in 0..10 {
        h.set(format!("stable{i}").as_bytes(), b"v", &l);
    }
    let mut all = HashSet::new();
    let cursor = h.scan(12345, 1, |f, _| {
        all.insert(f.to_bytes());
    });
    assert_eq!(cursor, 0);
    assert_eq!(all.len(), 10);

    // A scan only spans several calls on a hashtable (a listpack hash converted before the
    // scan began); the table then grows, shrinks and grows again between calls.
    for count in [1, 3, 10] {
        let mut h = Hash::new();
        for i in 0..10 {
            h.set(format!("stable{i}").as_bytes(), b"v", &l);
        }
        for i in 0..10 {
            h.set(format!("early{i}").as_bytes(), b"v", &l);
        }
        assert_eq!(h.encoding_name(), "hashtable");
        let seen = full_scan(&mut h, count, |h, step| {
            let tmp = |j: usize| format!("tmp{step}:{j}").into_bytes();
            if step % 7 < 4 {
                for j in 0..30 {
                    h.set(&tmp(j), b"v", &l);
                }
            } else {
                let drop: Vec<Vec<u8>> = pairs(h)
                    .into_iter()
                    .map(|(f, _)| f)
                    .filter(|f| !f.starts_with(b"stable"))
                    .collect();
                for f in drop {
                    h.remove(&f);
                }
            }
        });
        for i in 0..10 {
            assert!(
                seen.contains(format!("stable{i}").as_bytes()),
                "missed stable{i}"
            );
        }
    }
}

#[test]
fn scan_counts_fields_and_values_as_items() {
    let l = limits(0, 64);
    let mut h = Hash::new();
    for i in 0..1000 {
        h.set(format!("f{i}").as_bytes(), b"v", &l);
    }
    let mut n = 0;
    let cursor = h.scan(0, 10, |_, _| n += 1);
    assert_ne!(cursor, 0);
    assert!((5..15).contains(&n), "about 5 pairs for COUNT 10, got {n}");
}

#[test]
fn random_pairs_are_uniform_and_distinct_when_asked() {
    for entries in [128, 0] {
        let l = limits(entries, 64);
        let mut h = Hash::new();
        for i in 0..20 {
            h.set(format!("f{i}").as_bytes(), i.to_string().as_bytes(), &l);
        }
        let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
        h.random_pairs(4000, |f, v| {
            assert_eq!(h.get(&f.to_bytes()).unwrap(), v.to_bytes());
            *counts.entry(f.to_bytes().to_vec()).or_default() += 1;
        });
        assert_eq!(counts.len(), 20);
        assert!(counts.values().all(|&c| c > 100), "{counts:?}");
        for count in [0, 1, 5, 7, 15, 19, 20, 25] {
            let mut got = Vec::new();
            h.random_distinct_pairs(count, |f, _| got.push(f.to_bytes()));
            assert_eq!(got.len(), count.min(20));
            let set: HashSet<_> = got.iter().collect();
            assert_eq!(set.len(), got.len(), "distinct");
        }
        let mut order = Vec::new();
        h.random_distinct_pairs(20, |f, _| order.push(f.to_bytes()));
        let all: Vec<_> = h.iter().map(|(f, _)| f.to_bytes()).collect();
        assert_eq!(order, all, "the whole hash in iteration order");
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            seen.insert(h.random_pair().unwrap().0.to_bytes());
        }
        assert_eq!(seen.len(), 20);
    }
    let empty = Hash::new();
    assert!(empty.random_pair().is_none());
    empty.random_pairs(10, |_, _| panic!("empty"));
}
