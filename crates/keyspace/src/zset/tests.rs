//! [`ZSet`] against a model (a map of member → score, sorted on demand), across conversions.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::*;

/// The model: members and scores, plus the encoding Redis would have.
#[derive(Debug, Default)]
struct Model {
    members: BTreeMap<Vec<u8>, f64>,
    skiplist: bool,
}

impl Model {
    fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> =
            self.members.iter().map(|(m, s)| (m.clone(), *s)).collect();
        v.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
        v
    }

    /// Redis' `zsetAdd`.
    fn add(&mut self, m: &[u8], score: f64, f: AddFlags, limits: &EncodingLimits) -> AddOutcome {
        let Some(&cur) = self.members.get(m) else {
            if f.xx {
                return AddOutcome::Skipped;
            }
            if self.members.len() + 1 > limits.zset_max_listpack_entries
                || m.len() > limits.zset_max_listpack_value
            {
                self.skiplist = true;
            }
            self.members.insert(m.to_vec(), score);
            return AddOutcome::Added(score);
        };
        if f.nx {
            return AddOutcome::Skipped;
        }
        let score = if f.incr { score + cur } else { score };
        if score.is_nan() {
            return AddOutcome::NotANumber;
        }
        if (f.lt && score >= cur) || (f.gt && score <= cur) {
            return AddOutcome::Skipped;
        }
        if score == cur {
            return AddOutcome::Unchanged(score);
        }
        self.members.insert(m.to_vec(), score);
        AddOutcome::Updated(score)
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<u8>, f64, AddFlags),
    Remove(Vec<u8>),
    RemoveRange(usize, usize),
    Pop(bool),
    Rebuild,
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'c')], 0..4),
        1 => (0i64..200).prop_map(|n| n.to_string().into_bytes()),
        1 => proptest::collection::vec(b'a'..=b'z', 0..30),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => (-3i32..4).prop_map(f64::from),
        1 => Just(-0.0),
        1 => Just(0.1),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e20),
        1 => any::<f64>().prop_filter("not NaN", |v| !v.is_nan()),
    ]
}

fn flags() -> impl Strategy<Value = AddFlags> {
    prop_oneof![
        4 => Just(AddFlags::default()),
        1 => (any::<bool>(), any::<bool>(), 0u8..3, any::<bool>()).prop_map(|(incr, nx, cmp, xx)| {
            AddFlags { incr, nx: nx && cmp == 0, xx, gt: cmp == 1, lt: cmp == 2 }
        }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (member(), score(), flags()).prop_map(|(m, s, f)| Op::Add(m, s, f)),
        3 => member().prop_map(Op::Remove),
        1 => (0usize..10, 0usize..4).prop_map(|(a, b)| Op::RemoveRange(a, b)),
        1 => any::<bool>().prop_map(Op::Pop),
        1 => Just(Op::Rebuild),
    ]
}

fn score_range() -> impl Strategy<Value = ScoreRange> {
    (score(), score(), any::<bool>(), any::<bool>()).prop_map(|(min, max, a, b)| ScoreRange {
        min,
        max,
        min_exclusive: a,
        max_exclusive: b,
    })
}

fn lex_bound() -> impl Strategy<Value = LexBound> {
    prop_oneof![
        1 => Just(LexBound::Min),
        1 => Just(LexBound::Max),
        4 => (member(), any::<bool>()).prop_map(|(m, exclusive)| LexBound::Value {
            value: Bytes::from(m),
            exclusive,
        }),
    ]
}

fn model_span(
    sorted: &[(Vec<u8>, f64)],
    rev: bool,
    empty: bool,
    lo: impl Fn(&(Vec<u8>, f64)) -> bool,
    hi: impl Fn(&(Vec<u8>, f64)) -> bool,
) -> (usize, usize) {
    let idx: Vec<usize> = (0..sorted.len())
        .filter(|&i| lo(&sorted[i]) && hi(&sorted[i]))
        .collect();
    match (empty, idx.first(), idx.last()) {
        (false, Some(_), Some(&b)) if rev => (sorted.len() - 1 - b, idx.len()),
        (false, Some(&a), Some(_)) => (a, idx.len()),
        _ => (0, 0),
    }
}

fn check(z: &ZSet, m: &Model, limits: &EncodingLimits) -> Result<(), TestCaseError> {
    let sorted = m.sorted();
    let mut got = Vec::new();
    z.for_each(|mb, s| got.push((mb.to_vec(), s)));
    prop_assert_eq!(got.len(), sorted.len());
    for (g, w) in got.iter().zip(&sorted) {
        prop_assert_eq!(&g.0, &w.0);
        prop_assert!(g.1 == w.1, "score {} != {}", g.1, w.1);
    }
    prop_assert_eq!(z.len(), sorted.len());
    let want = if m.skiplist { "skiplist" } else { "listpack" };
    prop_assert_eq!(z.encoding_name(), want);
    if z.encoding_name() == "listpack" {
        prop_assert!(sorted.len() <= limits.zset_max_listpack_entries);
    }
    for (i, (mb, s)) in sorted.iter().enumerate() {
        prop_assert_eq!(z.rank(mb, false), Some(i));
        prop_assert_eq!(z.rank(mb, true), Some(sorted.len() - 1 - i));
        prop_assert!(z.score(mb) == Some(*s));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn behaves_like_the_model(
        entries in 0usize..8,
        value in 1usize..5,
        ops in proptest::collection::vec(op(), 1..120),
        ranges in proptest::collection::vec((score_range(), any::<bool>()), 4),
        lexes in proptest::collection::vec((lex_bound(), lex_bound(), any::<bool>()), 4),
        windows in proptest::collection::vec((0usize..12, 0usize..12, any::<bool>()), 4),
    ) {
        let limits = EncodingLimits {
            zset_max_listpack_entries: entries,
            zset_max_listpack_value: value,
            ..EncodingLimits::default()
        };
        let mut z: Option<ZSet> = None;
        let mut m = Model::default();
        for op in ops {
            match op {
                Op::Add(mb, s, f) => {
                    if z.is_none() {
                        if f.xx {
                            continue;
                        }
                        z = Some(ZSet::new_for_add(mb.len(), &limits));
                        m = Model {
                            skiplist: entries == 0 || mb.len() > value,
                            ..Model::default()
                        };
                    }
                    let zs = z.as_mut().unwrap();
                    prop_assert_eq!(zs.add(&mb, s, f, &limits), m.add(&mb, s, f, &limits));
                }
                Op::Remove(mb) => {
                    if let Some(zs) = z.as_mut() {
                        prop_assert_eq!(zs.remove(&mb), m.members.remove(&mb).is_some());
                    }
                }
                Op::RemoveRange(start, count) => {
                    if let Some(zs) = z.as_mut() {
                        let sorted = m.sorted();
                        let n = zs.remove_range(start, count);
                        let gone: Vec<_> = sorted.iter().skip(start).take(count).collect();
                        prop_assert_eq!(n, gone.len());
                        for (mb, _) in gone {
                            m.members.remove(mb);
                        }
                    }
                }
                Op::Pop(max) => {
                    if let Some(zs) = z.as_mut() {
                        let sorted = m.sorted();
                        let want = if max { sorted.last() } else { sorted.first() };
                        let got = zs.pop(max);
                        prop_assert_eq!(got.as_ref().map(|g| g.0.to_vec()), want.map(|w| w.0.clone()));
                        if let Some((mb, _)) = want {
                            m.members.remove(mb);
                        }
                    }
                }
                Op::Rebuild => {
                    let sorted = m.sorted();
                    let fits = sorted.len() <= entries
                        && sorted.iter().all(|(mb, _)| mb.len() <= value);
                    z = Some(ZSet::from_entries(sorted, &limits));
                    m.skiplist = !fits;
                }
            }
            if let Some(zs) = &z {
                check(zs, &m, &limits)?;
                if zs.is_empty() {
                    z = None;
                }
            }
        }
        let Some(zs) = z else { return Ok(()) };
        let sorted = m.sorted();
        for (r, rev) in ranges {
            let want = model_span(&sorted, rev, r.is_empty(), |e| r.above_min(e.1), |e| r.below_max(e.1));
            prop_assert_eq!(zs.score_span(&r, rev), want, "{:?}", r);
        }
        if sorted.windows(2).all(|w| w[0].1 == w[1].1) {
            for (lo, hi, rev) in lexes {
                let r = LexRange { min: lo, max: hi };
                let want = model_span(&sorted, rev, r.is_empty(), |e| r.above_min(&e.0), |e| r.below_max(&e.0));
                prop_assert_eq!(zs.lex_span(&r, rev), want, "{:?}", r);
            }
        }
        for (start, count, rev) in windows {
            let got: Vec<Vec<u8>> = zs.range(start, count, rev).into_iter().map(|(mb, _)| mb.to_vec()).collect();
            let mut order: Vec<Vec<u8>> = sorted.iter().map(|e| e.0.clone()).collect();
            if rev {
                order.reverse();
            }
            let want: Vec<Vec<u8>> = order.into_iter().skip(start).take(count).collect();
            prop_assert_eq!(got, want);
        }
        let distinct = zs.random_distinct(3);
        let names: HashSet<Vec<u8>> = distinct.iter().map(|d| d.0.to_vec()).collect();
        prop_assert_eq!(names.len(), distinct.len());
        prop_assert_eq!(distinct.len(), sorted.len().min(3));
        for (mb, s) in &distinct {
            prop_assert!(m.members.get(&mb[..]) == Some(s));
        }
    }
}

fn big_op() -> impl Strategy<Value = Op> {
    let m = || (0u32..600).prop_map(|n| format!("member:{n}").into_bytes());
    prop_oneof![
        8 => (m(), -20i32..20, flags()).prop_map(|(mb, s, f)| Op::Add(mb, f64::from(s), f)),
        4 => m().prop_map(Op::Remove),
        1 => (0usize..500, 0usize..40).prop_map(|(a, b)| Op::RemoveRange(a, b)),
        1 => any::<bool>().prop_map(Op::Pop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Sets of hundreds of members: trees several nodes deep, dict nodes moving on removal.
    #[test]
    fn big_sets_behave_like_the_model(ops in proptest::collection::vec(big_op(), 1..2500)) {
        let limits = EncodingLimits { zset_max_listpack_entries: 16, ..EncodingLimits::default() };
        let mut z = ZSet::new_for_add(0, &limits);
        let mut m = Model::default();
        for op in ops {
            match op {
                Op::Add(mb, s, f) => {
                    prop_assert_eq!(z.add(&mb, s, f, &limits), m.add(&mb, s, f, &limits));
                }
                Op::Remove(mb) => prop_assert_eq!(z.remove(&mb), m.members.remove(&mb).is_some()),
                Op::RemoveRange(start, count) => {
                    let sorted = m.sorted();
                    prop_assert_eq!(z.remove_range(start, count), sorted.iter().skip(start).take(count).count());
                    for (mb, _) in sorted.iter().skip(start).take(count) {
                        m.members.remove(mb);
                    }
                }
                Op::Pop(max) => {
                    let sorted = m.sorted();
                    let want = if max { sorted.last() } else { sorted.first() };
                    prop_assert_eq!(z.pop(max).map(|g| g.0.to_vec()), want.map(|w| w.0.clone()));
                    if let Some((mb, _)) = want {
                        m.members.remove(mb);
                    }
                }
                Op::Rebuild => {}
            }
        }
        check(&z, &m, &limits)?;
    }
}

fn big(n: usize) -> ZSet {
    let limits = EncodingLimits::default();
    let mut z = ZSet::new();
    for i in 0..n {
        z.add(
            format!("m{i}").as_bytes(),
            (i % 97) as f64,
            AddFlags::default(),
            &limits,
        );
    }
    z
}

#[test]
fn zscan_returns_members_present_throughout_while_the_set_changes() {
    let limits = EncodingLimits::default();
    let mut z = big(300);
    assert_eq!(z.encoding_name(), "skiplist");
    let mut seen = HashSet::new();
    let (mut cursor, mut step) = (0u64, 0);
    loop {
        cursor = z.scan(cursor, 10, |m, _| {
            seen.insert(m.to_vec());
        });
        step += 1;
        if step < 20 {
            for j in 0..50 {
                z.add(
                    format!("tmp{step}:{j}").as_bytes(),
                    1.0,
                    AddFlags::default(),
                    &limits,
                );
            }
        } else {
            let mut tmp = Vec::new();
            z.for_each(|m, _| {
                if m.starts_with(b"tmp") {
                    tmp.push(m.to_vec());
                }
            });
            for m in tmp.iter().take(200) {
                z.remove(m);
            }
        }
        if cursor == 0 {
            break;
        }
    }
    for i in 0..300 {
        assert!(seen.contains(format!("m{i}").as_bytes()), "missed m{i}");
    }
}

#[test]
fn zscan_of_a_listpack_is_one_call_and_conversion_keeps_members() {
    let limits = EncodingLimits::default();
    let mut z = big(100);
    assert_eq!(z.encoding_name(), "listpack");
    let mut n = 0;
    assert_eq!(z.scan(12345, 10, |_, _| n += 1), 0);
    assert_eq!(n, 100);
    for i in 100..200 {
        z.add(
            format!("m{i}").as_bytes(),
            5.0,
            AddFlags::default(),
            &limits,
        );
    }
    assert_eq!(z.encoding_name(), "skiplist");
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        cursor = z.scan(cursor, 7, |m, _| {
            seen.insert(m.to_vec());
        });
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 200);
}

#[test]
fn big_encoding_keeps_ranks_through_many_removals() {
    let mut z = big(5000);
    let mut want: Vec<(Vec<u8>, f64)> = Vec::new();
    z.for_each(|m, s| want.push((m.to_vec(), s)));
    for i in (0..5000).step_by(3) {
        assert!(z.remove(format!("m{i}").as_bytes()));
    }
    want.retain(|(m, _)| {
        let i: usize = std::str::from_utf8(&m[1..]).unwrap().parse().unwrap();
        i % 3 != 0
    });
    for (r, (m, _)) in want.iter().enumerate().step_by(37) {
        assert_eq!(z.rank(m, false), Some(r));
    }
    assert_eq!(z.len(), want.len());
    assert!(z.mem_bytes() > 0 && z.free_effort() == want.len());
}

#[test]
#[ignore = "prints memory per member; run with --ignored --nocapture"]
fn memory_per_member() {
    let limits = EncodingLimits::default();
    for (n, ordered) in [(1_000_000usize, false), (1_000_000, true)] {
        let mut z = ZSet::new();
        for i in 0..n {
            let score = if ordered {
                i as f64
            } else {
                ((i * 7919) % n) as f64
            };
            z.add(
                format!("element-{i}").as_bytes(),
                score,
                AddFlags::default(),
                &limits,
            );
        }
        println!(
            "{n} members (ordered {ordered}): {:.1} bytes each",
            z.mem_bytes() as f64 / n as f64
        );
    }
}
