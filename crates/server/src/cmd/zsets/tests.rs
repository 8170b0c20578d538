//! Sorted-set commands through the in-process dispatch (no sockets): what the differential
//! scripts cannot check against Redis (requests that would hang or crash the reference, memory
//! bounds, a ZSCAN over a set changing between calls).

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use bytes::Bytes;
use ferrodis_resp::Frame;

use super::VALUE_OUT_OF_RANGE;
use crate::cmd::tests::H;

impl H {
    fn zadd_many(&mut self, key: &str, n: usize) {
        for i in 0..n {
            let (s, m) = ((i % 50).to_string(), format!("m{i}"));
            self.run(&["ZADD", key, &s, &m]);
        }
    }
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn err(s: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn absurd_counts_are_refused_not_attempted() {
    let mut h = H::new();
    h.run(&["ZADD", "z", "1", "a", "2", "b"]);
    // Redis would try to send 2^63 replies; Ferrodis refuses.
    assert_eq!(
        h.run(&["ZRANDMEMBER", "z", "-9223372036854775807"]),
        err(VALUE_OUT_OF_RANGE)
    );
    assert!(matches!(h.run(&["ZRANDMEMBER", "z", "-3"]), Frame::Array(a) if a.len() == 3));
    // A key count that overflows the argument index is a syntax error, not a crash.
    assert_eq!(
        h.run(&["ZMPOP", "9223372036854775807", "z", "MIN"]),
        err("ERR syntax error")
    );
    assert_eq!(
        h.run(&["ZUNION", "9223372036854775807", "z"]),
        err("ERR syntax error")
    );
    // Counts far beyond the size pop everything.
    let popped = h.run(&["ZPOPMIN", "z", "9223372036854775807"]);
    assert_eq!(
        popped,
        Frame::Array(vec![
            bulk("a"),
            Frame::Double(1.0),
            bulk("b"),
            Frame::Double(2.0)
        ])
    );
    assert_eq!(h.run(&["EXISTS", "z"]), Frame::Integer(0));
}

#[test]
fn zscan_returns_every_stable_member_while_the_set_changes() {
    let mut h = H::new();
    h.zadd_many("z", 400);
    assert_eq!(h.run(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    for round in 0.. {
        let Frame::Array(reply) = h.run(&["ZSCAN", "z", &cursor, "COUNT", "20"]) else {
            panic!("ZSCAN reply")
        };
        let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
            panic!("ZSCAN shape")
        };
        for pair in items.chunks(2) {
            if let Frame::Bulk(m) = &pair[0] {
                seen.insert(m.to_vec());
            }
        }
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if round % 2 == 0 {
            for j in 0..30 {
                h.run(&["ZADD", "z", "7", &format!("tmp{round}:{j}")]);
            }
        } else {
            h.run(&["ZREMRANGEBYSCORE", "z", "7", "7"]);
        }
        if cursor == "0" {
            break;
        }
    }
    for i in 0..400 {
        if i % 50 != 7 {
            assert!(seen.contains(format!("m{i}").as_bytes()), "missed m{i}");
        }
    }
}

#[test]
fn store_results_take_the_encoding_redis_gives_them() {
    let mut h = H::new();
    h.zadd_many("big", 200);
    assert_eq!(
        h.run(&["ZRANGESTORE", "small", "big", "0", "9"]),
        Frame::Integer(10)
    );
    assert_eq!(h.run(&["OBJECT", "ENCODING", "small"]), bulk("listpack"));
    assert_eq!(
        h.run(&["ZUNIONSTORE", "copy", "1", "big"]),
        Frame::Integer(200)
    );
    assert_eq!(h.run(&["OBJECT", "ENCODING", "copy"]), bulk("skiplist"));
    assert_eq!(
        h.run(&["ZRANGE", "copy", "0", "2"]),
        h.run(&["ZRANGE", "big", "0", "2"])
    );
    // A sorted set is a big value for lazy freeing; UNLINK hands it to the background.
    assert_eq!(h.run(&["UNLINK", "copy", "big"]), Frame::Integer(2));
}

#[test]
fn scores_render_like_redis_in_both_protocols() {
    let mut h = H::new();
    h.run(&["ZADD", "z", "0.1", "a", "-0", "b", "1e20", "c"]);
    assert_eq!(h.run(&["ZSCORE", "z", "a"]), Frame::Double(0.1));
    // The listpack stores -0 as the integer 0, as Redis' d2string does.
    assert_eq!(h.run(&["ZSCORE", "z", "b"]), Frame::Double(0.0));
    let Frame::Array(scan) = h.run(&["ZSCAN", "z", "0"]) else {
        panic!()
    };
    assert_eq!(
        scan[1],
        Frame::Array(vec![
            bulk("b"),
            bulk("0"),
            bulk("a"),
            bulk("0.10000000000000001"),
            bulk("c"),
            bulk("1e+20"),
        ])
    );
}
