//! List tests: a proptest against a `VecDeque` model across fills and compression depths, node
//! invariants after every step, and a few targeted cases.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;

use proptest::prelude::*;

use super::node::fits;
use super::*;

/// Limits with the given fill and compression depth.
fn limits(fill: i64, depth: i64) -> EncodingLimits {
    EncodingLimits {
        list_max_listpack_size: fill,
        list_compress_depth: depth,
        ..EncodingLimits::default()
    }
}

/// The list's elements, head to tail.
fn contents(l: &List) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    l.for_each(|v| out.push(v.to_vec()));
    out
}

/// Checks the node invariants: counts add up, no empty node, every node within the fill, and
/// with compression the ends plain.
fn check_nodes(l: &List) {
    let total: usize = l.nodes.iter().map(Node::count).sum();
    assert_eq!(total, l.len, "node counts add up to len");
    for (i, n) in l.nodes.iter().enumerate() {
        assert!(n.count() > 0, "node {i} is empty");
        assert!(
            fits(l.fill, n),
            "node {i} ({} bytes, {} elements) over fill {}",
            n.sz(),
            n.count(),
            l.fill
        );
        assert_eq!(n.listpack().len(), n.count());
    }
    let (n, d) = (l.nodes.len(), l.depth);
    for i in 0..d.min(n) {
        assert!(
            !l.nodes[i].is_compressed() && !l.nodes[n - 1 - i].is_compressed(),
            "end {i} compressed"
        );
    }
}

#[derive(Clone, Debug)]
enum Op {
    Push(End, Vec<u8>),
    Pop(End),
    Get(i64),
    Set(i64, Vec<u8>),
    InsertPivot(Vec<u8>, Vec<u8>, bool),
    Insert(usize, Vec<u8>),
    Remove(Vec<u8>, i64),
    DeleteRange(usize, usize),
    Range(usize, usize),
    Walk(bool),
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop_oneof![Just(b"a".to_vec()), Just(b"b".to_vec()), Just(b"17".to_vec()),
                         Just(b"-3".to_vec()), Just(b"".to_vec())],
        2 => proptest::collection::vec(b'a'..=b'c', 0..40),
        1 => (0usize..300, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        1 => (1usize..2000).prop_map(|n| (0..n).map(|i| (i * 7 % 251) as u8).collect()),
        1 => any::<i64>().prop_map(|i| i.to_string().into_bytes()),
    ]
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![Just(End::Head), Just(End::Tail)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (end(), value()).prop_map(|(e, v)| Op::Push(e, v)),
        3 => end().prop_map(Op::Pop),
        1 => (-30i64..30).prop_map(Op::Get),
        2 => (-30i64..30, value()).prop_map(|(i, v)| Op::Set(i, v)),
        2 => (value(), value(), any::<bool>()).prop_map(|(p, v, a)| Op::InsertPivot(p, v, a)),
        2 => (0usize..40, value()).prop_map(|(i, v)| Op::Insert(i, v)),
        2 => (value(), -3i64..3).prop_map(|(v, c)| Op::Remove(v, c)),
        1 => (0usize..30, 0usize..30).prop_map(|(s, c)| Op::DeleteRange(s, c)),
        1 => (0usize..40, 0usize..40).prop_map(|(s, c)| Op::Range(s, c)),
        1 => any::<bool>().prop_map(Op::Walk),
    ]
}

/// Applies `op` to the list and the model and compares what they answer.
fn apply(l: &mut List, m: &mut VecDeque<Vec<u8>>, op: &Op) {
    match op {
        Op::Push(End::Head, v) => {
            l.push(End::Head, v);
            m.push_front(v.clone());
        }
        Op::Push(End::Tail, v) => {
            l.push(End::Tail, v);
            m.push_back(v.clone());
        }
        Op::Pop(e) => {
            let want = match e {
                End::Head => m.pop_front(),
                End::Tail => m.pop_back(),
            };
            assert_eq!(l.pop(*e).map(|b| b.to_vec()), want);
        }
        Op::Get(i) => {
            assert_eq!(
                l.get(*i).map(|b| b.to_vec()),
                model_index(m, *i).map(|i| m[i].clone())
            );
        }
        Op::Set(i, v) => {
            let at = model_index(m, *i);
            assert_eq!(l.set(*i, v), at.is_some());
            if let Some(at) = at {
                m[at] = v.clone();
            }
        }
        Op::InsertPivot(p, v, after) => {
            let at = m.iter().position(|e| e == p);
            assert_eq!(l.insert_at_pivot(p, v, *after), at.is_some());
            if let Some(at) = at {
                m.insert(at + usize::from(*after), v.clone());
            }
        }
        Op::Insert(i, v) => {
            l.insert(*i, v);
            m.insert((*i).min(m.len()), v.clone());
        }
        Op::Remove(v, count) => {
            let removed = l.remove(v, *count);
            assert_eq!(removed, model_remove(m, v, *count));
        }
        Op::DeleteRange(s, c) => {
            l.delete_range(*s, *c);
            if *s < m.len() {
                let end = (*s + *c).min(m.len());
                m.drain(*s..end);
            }
        }
        Op::Range(s, c) => {
            let mut got = Vec::new();
            l.for_range(*s, *c, |v| got.push(v.to_bytes().to_vec()));
            let want: Vec<Vec<u8>> = m.iter().skip(*s).take(*c).cloned().collect();
            assert_eq!(got, want);
        }
        Op::Walk(rev) => {
            let mut got = Vec::new();
            l.walk(*rev, |v| {
                got.push(v.to_bytes().to_vec());
                got.len() < 5
            });
            let want: Vec<Vec<u8>> = if *rev {
                m.iter().rev().take(5).cloned().collect()
            } else {
                m.iter().take(5).cloned().collect()
            };
            assert_eq!(got, want);
        }
    }
}

fn model_index(m: &VecDeque<Vec<u8>>, i: i64) -> Option<usize> {
    let len = m.len() as i64;
    let i = if i < 0 { i + len } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

fn model_remove(m: &mut VecDeque<Vec<u8>>, v: &[u8], count: i64) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut idx: Vec<usize> = (0..m.len()).filter(|&i| m[i] == v).collect();
    if count < 0 {
        idx.reverse();
    }
    idx.truncate(limit);
    idx.sort_unstable();
    for &i in idx.iter().rev() {
        m.remove(i);
    }
    idx.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn behaves_like_a_deque(
        fill in prop_oneof![-5i64..=-1, 0i64..=8],
        depth in 0i64..=2,
        ops in proptest::collection::vec(op(), 1..250),
    ) {
        let mut l = List::with_limits(&limits(fill, depth));
        let mut m = VecDeque::new();
        for op in &ops {
            apply(&mut l, &mut m, op);
            check_nodes(&l);
            prop_assert_eq!(l.len(), m.len());
        }
        prop_assert_eq!(contents(&l), m.iter().cloned().collect::<Vec<_>>());
    }
}

#[test]
fn fills_nodes_as_redis_does() {
    // 128 entries per node at fill 128; the 8 KiB safety limit caps big elements.
    let mut l = List::with_limits(&limits(128, 0));
    for i in 0..1000 {
        l.push(End::Tail, i.to_string().as_bytes());
    }
    assert_eq!(l.node_count(), 8);
    let mut l = List::with_limits(&limits(128, 0));
    for _ in 0..10 {
        l.push(End::Tail, &[b'x'; 3000]);
    }
    assert_eq!(l.node_count(), 5, "two 3000-byte elements per 8 KiB node");
    // Fill -2: 8 KiB nodes. 100-byte strings take 103 bytes with the estimate (1 + 2 bytes).
    let mut l = List::new();
    for _ in 0..1000 {
        l.push(End::Head, &[b'y'; 100]);
    }
    let first = l.nodes[l.nodes.len() - 1].count();
    assert_eq!(first, (8192 - 7) / 103);
    // Fill 0 and fills below -5 are clamped like Redis' quicklistSetFill.
    let mut l = List::with_limits(&limits(0, 0));
    l.push(End::Tail, b"a");
    l.push(End::Tail, b"b");
    assert_eq!(l.node_count(), 2);
    assert_eq!(List::with_limits(&limits(-100, 0)).fill, -5);
}

#[test]
fn compresses_interior_nodes() {
    let mut l = List::with_limits(&limits(4, 1));
    for i in 0..40 {
        l.push(End::Tail, format!("hello-hello-hello-{i}").as_bytes());
    }
    assert_eq!(l.node_count(), 10);
    assert_eq!(l.compressed_nodes(), 8, "all but the two end nodes");
    assert_eq!(
        l.get(17).unwrap(),
        Bytes::from_static(b"hello-hello-hello-17")
    );
    assert!(l.set(17, b"changed"));
    assert_eq!(l.compressed_nodes(), 8, "recompressed after the change");
    let mem_compressed = l.mem_bytes();
    let mut plain = List::with_limits(&limits(4, 0));
    l.for_each(|v| plain.push(End::Tail, v));
    assert!(mem_compressed < plain.mem_bytes());
    assert_eq!(contents(&l), contents(&plain));
    while l.len() > 12 {
        l.pop(End::Head);
    }
    check_nodes(&l);
    assert!(l.nodes().any(|n| matches!(n, NodeRef::Compressed { .. })));
}

#[test]
fn lrem_merges_thinned_nodes() {
    let mut l = List::with_limits(&limits(8, 0));
    for i in 0..800 {
        l.push(End::Tail, if i % 8 == 0 { b"keep" } else { b"drop" });
    }
    assert_eq!(l.node_count(), 100);
    assert_eq!(l.remove(b"drop", 0), 700);
    assert_eq!(l.len(), 100);
    assert_eq!(l.node_count(), 13, "merged back to 8 per node");
    check_nodes(&l);
}

#[test]
fn range_starts_at_the_nearest_node() {
    let mut l = List::new();
    for i in 0..600 {
        l.push(End::Tail, i.to_string().as_bytes());
    }
    let mut got = Vec::new();
    l.for_range(590, 100, |v| got.push(v.to_bytes()));
    assert_eq!(got.len(), 10);
    assert_eq!(got[0], Bytes::from_static(b"590"));
    assert_eq!(
        l.locate(599),
        (l.node_count() - 1, l.nodes.back().unwrap().count() - 1)
    );
}

#[test]
fn push_back_adopts_limits_when_empty() {
    let mut l = List::new();
    l.push_back(b"a", &limits(1, 0));
    l.push_back(b"b", &limits(-2, 0));
    assert_eq!(l.node_count(), 2, "fill 1 adopted by the first push");
    assert_eq!(l.free_effort(), 2);
    assert_eq!(l.encoding_name(), "quicklist");
}

#[test]
fn trimming_gives_back_the_node_table() {
    let mut l = List::with_limits(&limits(1, 0));
    for i in 0..10_000 {
        l.push(End::Tail, i.to_string().as_bytes());
    }
    let big = l.mem_bytes();
    l.delete_range(10, usize::MAX);
    assert_eq!(l.len(), 10);
    assert!(l.mem_bytes() * 50 < big, "{} vs {big}", l.mem_bytes());
    for _ in 0..5 {
        l.pop(End::Head);
    }
    assert_eq!(
        contents(&l),
        (5..10)
            .map(|i: i32| i.to_string().into_bytes())
            .collect::<Vec<_>>()
    );
}
