//! Tests of [`Set`]: a model check against `BTreeSet` across encoding conversions, the intset
//! bytes, the SSCAN guarantee, and the random operations.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;

use super::*;

fn limits(max_intset: usize) -> EncodingLimits {
    EncodingLimits {
        set_max_intset_entries: max_intset,
        ..EncodingLimits::default()
    }
}

fn members(set: &Set) -> Vec<Vec<u8>> {
    set.iter().map(|m| m.to_bytes().to_vec()).collect()
}

fn set_of(items: &[&str], max_intset: usize) -> Set {
    Set::from_members(items.iter().map(|s| s.as_bytes()), &limits(max_intset))
}

/// A member too long to be stored inline in an [`Elem`].
const LONG: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// Members the model test draws from: canonical integers (small and wide), and strings that look
/// like integers but are not canonical, so they must not enter an intset.
fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
        1 => prop::sample::select(vec![
            i64::MIN, i64::MAX, 70_000, -70_000, 5_000_000_000, i64::from(i16::MAX),
        ])
        .prop_map(|n| n.to_string().into_bytes()),
        2 => prop::sample::select(vec!["a", "b", "007", "-0", " 1", "+1", "", "1.0", LONG])
            .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Insert(Vec<u8>),
    Remove(Vec<u8>),
    Pop,
    PopMany(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => member().prop_map(Op::Insert),
        3 => member().prop_map(Op::Remove),
        1 => Just(Op::Pop),
        1 => (1usize..6).prop_map(Op::PopMany),
    ]
}

/// The serialization Redis gives an intset of the sorted, unique `values`.
fn intset_bytes(values: &[i64]) -> Vec<u8> {
    let width = values.iter().map(|&v| width_of(v)).max().unwrap_or(2);
    let mut out = (width as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

fn width_of(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Checks `set` against the model: same members, the encoding Redis would have, and for an
/// intset ascending order and (while no member was ever removed) Redis' exact bytes.
fn check(set: &Set, model: &BTreeSet<Vec<u8>>, is_table: bool) -> Result<(), TestCaseError> {
    prop_assert_eq!(set.len(), model.len());
    prop_assert_eq!(set.is_empty(), model.is_empty());
    let got: BTreeSet<Vec<u8>> = members(set).into_iter().collect();
    prop_assert_eq!(&got, model);
    for m in model {
        prop_assert!(set.contains(m));
    }
    prop_assert_eq!(
        set.encoding_name(),
        if is_table { "hashtable" } else { "intset" }
    );
    if let Some(ints) = set.as_intset() {
        let values: Vec<i64> = ints.iter().collect();
        prop_assert!(
            values.windows(2).all(|w| w[0] < w[1]),
            "intset not ascending"
        );
        let bytes: Vec<Vec<u8>> = values.iter().map(|v| v.to_string().into_bytes()).collect();
        prop_assert_eq!(members(set), bytes);
        let len = u32::from_le_bytes(ints.as_bytes()[4..8].try_into().unwrap());
        prop_assert_eq!(len as usize, values.len());
    }
    Ok(())
}

proptest! {
    #[test]
    fn behaves_like_a_btreeset(
        max_intset in 0usize..8,
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let limits = limits(max_intset);
        let mut set = Set::new();
        let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut is_table = false;
        for op in ops {
            match op {
                Op::Insert(m) => {
                    prop_assert_eq!(set.insert(&m, &limits), model.insert(m.clone()));
                    if parse_i64(&m).is_none() || model.len() > max_intset {
                        is_table = true;
                    }
                }
                Op::Remove(m) => {
                    prop_assert_eq!(set.remove(&m), model.remove(&m));
                }
                Op::Pop => {
                    let popped = set.pop_random();
                    match popped {
                        Some(b) => prop_assert!(model.remove(&b[..])),
                        None => prop_assert!(model.is_empty()),
                    }
                }
                Op::PopMany(n) => {
                    if n < set.len() {
                        let remaining = set.len() - n;
                        let popped = set.pop_many(n, &limits);
                        prop_assert_eq!(popped.len(), n);
                        for b in &popped {
                            prop_assert!(model.remove(&b[..]));
                        }
                        if remaining * 5 <= n {
                            // Rebuilt from the members that stay, as Redis' SPOP case 3.
                            is_table = model.iter().any(|m| parse_i64(m).is_none())
                                || model.len() > max_intset;
                        }
                    }
                }
            }
            check(&set, &model, is_table)?;
        }
    }

    #[test]
    fn from_members_encodes_like_redis_set_type_create(
        max_intset in 0usize..8,
        items in proptest::collection::vec(member(), 0..12),
    ) {
        let limits = limits(max_intset);
        let set = Set::from_members(items.iter().map(|m| &m[..]), &limits);
        let model: BTreeSet<Vec<u8>> = items.iter().cloned().collect();
        let all_ints = model.iter().all(|m| parse_i64(m).is_some());
        check(&set, &model, !(all_ints && model.len() <= max_intset))?;
    }
}

#[test]
fn intset_bytes_are_redis_bytes_in_ascending_order() {
    let set = set_of(&["5", "-3", "70000", "1"], 512);
    assert_eq!(set.encoding_name(), "intset");
    assert_eq!(
        set.as_intset().unwrap().as_bytes(),
        intset_bytes(&[-3, 1, 5, 70_000]).as_slice()
    );
    assert_eq!(
        members(&set),
        [
            b"-3".to_vec(),
            b"1".to_vec(),
            b"5".to_vec(),
            b"70000".to_vec()
        ]
    );
    let mut s = Vec::new();
    set.for_each(|m| s.push(String::from_utf8_lossy(m).into_owned()));
    assert_eq!(s, ["-3", "1", "5", "70000"]);
    let set = set_of(&["-9223372036854775808", "9223372036854775807"], 512);
    assert_eq!(
        set.as_intset().unwrap().as_bytes(),
        intset_bytes(&[i64::MIN, i64::MAX]).as_slice()
    );
}

#[test]
fn conversion_thresholds_follow_set_max_intset_entries() {
    let l = limits(3);
    let mut set = Set::new();
    for m in ["1", "2", "3"] {
        assert!(set.insert(m.as_bytes(), &l));
    }
    assert!(!set.insert(b"3", &l));
    assert_eq!(set.encoding_name(), "intset");
    assert!(set.insert(b"4", &l));
    assert_eq!(set.encoding_name(), "hashtable");
    // Never back, even when small again.
    assert!(set.remove(b"4"));
    assert!(set.remove(b"3"));
    assert_eq!(set.encoding_name(), "hashtable");
    assert!(set.contains(b"1") && !set.contains(b"3"));
    // A non-canonical integer converts at once.
    let mut set = Set::new();
    set.insert(b"1", &l);
    set.insert(b"01", &l);
    assert_eq!(set.encoding_name(), "hashtable");
    assert_eq!(set.len(), 2);
    // Limit 0: the first member already converts.
    let mut set = Set::new();
    set.insert(b"1", &limits(0));
    assert_eq!(set.encoding_name(), "hashtable");
    assert_eq!(set.free_effort(), 1);
    assert_eq!(Set::new().free_effort(), 1);
}

#[test]
fn member_lookups_across_encodings() {
    let ints = set_of(&["1", "2", "300"], 512);
    let strs = set_of(&["1", "a", "300"], 512);
    for m in ints.iter() {
        assert_eq!(strs.contains_member(m), m != Member::Int(2));
    }
    for m in strs.iter() {
        assert_eq!(ints.contains_member(m), m.with_bytes(|b| b != b"a"));
    }
    assert!(!ints.contains(b"a"));
    assert!(!ints.contains(b"01"));
    let mut s = strs.clone();
    assert!(s.remove_member(Member::Int(300)));
    assert!(!s.remove_member(Member::Int(300)));
    assert!(s.insert_member(Member::Int(7), &limits(512)));
    assert!(s.contains(b"7"));
}

#[test]
fn mem_bytes_tracks_long_members() {
    let l = limits(512);
    let mut set = Set::new();
    set.insert(b"a", &l);
    let base = set.mem_bytes();
    let long = vec![b'x'; 100];
    set.insert(&long, &l);
    let with_long = set.mem_bytes();
    assert!(with_long >= base + 100);
    set.remove(&long);
    assert!(with_long - set.mem_bytes() >= 100);
    assert!(set.pop_random().is_some());
    assert!(set.is_empty());
}

/// Runs a full SSCAN while `mutate(step, set)` changes the set between calls; returns the union
/// of what the scan returned.
fn scan_while(
    set: &mut Set,
    count: usize,
    mut mutate: impl FnMut(usize, &mut Set),
) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        cursor = set.scan(cursor, count, |m| {
            seen.insert(m.to_bytes().to_vec());
        });
        if cursor == 0 {
            return seen;
        }
        step += 1;
        assert!(step < 100_000, "scan does not terminate");
        mutate(step, set);
    }
}

#[test]
fn sscan_returns_every_stable_member_while_the_set_grows_shrinks_and_converts() {
    let l = limits(16);
    // Starts as an intset: one call returns everything, with cursor 0.
    let mut set = set_of(&["3", "1", "2"], 16);
    let mut out = Vec::new();
    assert_eq!(set.scan(12345, 1, |m| out.push(m.to_bytes())), 0);
    assert_eq!(out, ["1", "2", "3"]);
    // An intset that converts to a hashtable mid-scan: the first call already returned all.
    let seen = scan_while(&mut set, 1, |_, _| {});
    assert_eq!(seen.len(), 3);
    // A hashtable that grows a lot, then shrinks a lot, during the scan.
    let mut set = Set::new();
    for i in 0..200 {
        set.insert(format!("stable{i}").as_bytes(), &l);
    }
    let seen = scan_while(&mut set, 5, |step, set| {
        if step < 40 {
            for j in 0..50 {
                set.insert(format!("tmp{step}:{j}").as_bytes(), &l);
            }
        } else {
            let tmp: Vec<Vec<u8>> = set
                .iter()
                .filter(|m| m.with_bytes(|b| b.starts_with(b"tmp")))
                .map(|m| m.to_bytes().to_vec())
                .collect();
            for t in tmp.iter().take(400) {
                set.remove(t);
            }
        }
    });
    for i in 0..200 {
        assert!(
            seen.contains(format!("stable{i}").as_bytes()),
            "missed stable{i}"
        );
    }
    // SPOP's rebuild (case 3) in the middle of a scan: the kept members are still returned.
    let mut set = Set::new();
    for i in 0..300 {
        set.insert(i.to_string().as_bytes(), &l);
    }
    let mut kept = Vec::new();
    let seen = scan_while(&mut set, 10, |step, set| {
        if step == 3 {
            set.pop_many(290, &l);
            kept = members(set);
        }
    });
    assert_eq!(
        set.encoding_name(),
        "intset",
        "10 integers stay: rebuilt as an intset"
    );
    for k in &kept {
        assert!(seen.contains(k));
    }
}

#[test]
fn sscan_count_bounds_a_hashtable_step() {
    let l = limits(0);
    let mut set = Set::new();
    for i in 0..1000 {
        set.insert(format!("m{i}").as_bytes(), &l);
    }
    let mut n = 0;
    let cursor = set.scan(0, 10, |_| n += 1);
    assert_ne!(cursor, 0);
    assert!((10..40).contains(&n), "one step returned {n}");
    let seen = scan_while(&mut set, 10, |_, _| {});
    assert_eq!(seen.len(), 1000);
}

#[test]
fn spop_and_srandmember_reach_every_member() {
    for max_intset in [512, 0] {
        let l = limits(max_intset);
        let items: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let set = Set::from_members(items.iter().map(|s| s.as_bytes()), &l);
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            seen.insert(set.random().unwrap().to_bytes());
        }
        assert_eq!(seen.len(), 10, "random, {}", set.encoding_name());
        for count in [1, 2, 4, 9] {
            let mut seen = HashSet::new();
            for _ in 0..500 {
                let got = set.random_distinct(count);
                assert_eq!(got.len(), count);
                let distinct: HashSet<_> = got.iter().collect();
                assert_eq!(distinct.len(), count, "distinct members");
                seen.extend(got);
            }
            assert_eq!(
                seen.len(),
                10,
                "random_distinct({count}), {}",
                set.encoding_name()
            );
        }
        assert_eq!(set.random_distinct(10).len(), 10);
        assert_eq!(set.random_distinct(100).len(), 10);
        if max_intset > 0 {
            assert_eq!(
                set.random_distinct(50),
                ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
            );
        }
        for count in [1, 3, 9] {
            let mut seen = HashSet::new();
            for _ in 0..300 {
                let mut s = set.clone();
                let popped = s.pop_many(count, &l);
                assert_eq!(popped.len(), count);
                assert_eq!(s.len(), 10 - count);
                for p in &popped {
                    assert!(!s.contains(p));
                }
                seen.extend(popped);
            }
            assert_eq!(seen.len(), 10, "pop_many({count})");
        }
        let mut s = set.clone();
        let mut seen = HashSet::new();
        while let Some(m) = s.pop_random() {
            assert!(seen.insert(m));
        }
        assert_eq!(seen.len(), 10);
    }
}

#[test]
fn empty_set_edge_cases() {
    let mut set = Set::default();
    assert!(set.random().is_none());
    assert!(set.pop_random().is_none());
    assert_eq!(set.scan(0, 10, |_| panic!("empty")), 0);
    assert!(set.random_distinct(3).is_empty());
    assert!(set.pop_many(3, &limits(512)).is_empty());
    assert_eq!(set.iter().len(), 0);
    assert!(set.get_index(0).is_none());
}
