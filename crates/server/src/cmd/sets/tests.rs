//! Set command tests through the in-process dispatch (no sockets).

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use bytes::Bytes;
use ferrodis_resp::Frame;

use crate::cmd::tests::H;

impl H {
    /// The bulk strings of an array or set reply.
    fn strings(&mut self, args: &[&str]) -> Vec<String> {
        match self.run(args) {
            Frame::Array(items) | Frame::Set(items) => items
                .into_iter()
                .map(|f| match f {
                    Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                    other => panic!("not a bulk: {other:?}"),
                })
                .collect(),
            other => panic!("not an array: {other:?}"),
        }
    }
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn sadd_srem_scard_and_encodings() {
    let mut h = H::new();
    assert_eq!(h.run(&["SADD", "s", "3", "1", "2", "2"]), int(3));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), bulk("intset"));
    assert_eq!(h.strings(&["SMEMBERS", "s"]), ["1", "2", "3"]);
    assert_eq!(h.run(&["SADD", "s", "a"]), int(1));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    assert_eq!(h.run(&["SCARD", "s"]), int(4));
    assert_eq!(h.run(&["SREM", "s", "1", "x", "a"]), int(2));
    assert_eq!(h.run(&["SISMEMBER", "s", "2"]), int(1));
    assert_eq!(h.run(&["SISMEMBER", "s", "1"]), int(0));
    assert_eq!(
        h.run(&["SMISMEMBER", "s", "2", "1", "3"]),
        Frame::Array(vec![int(1), int(0), int(1)])
    );
    assert_eq!(h.run(&["SREM", "s", "2", "3", "9"]), int(2));
    assert_eq!(h.run(&["EXISTS", "s"]), int(0));
    h.run(&["SET", "str", "v"]);
    let wrong = h.run(&["SADD", "str", "1"]);
    assert!(matches!(wrong, Frame::Error(e) if e.starts_with(b"WRONGTYPE")));
}

#[test]
fn smove_moves_and_checks_types() {
    let mut h = H::new();
    h.run(&["SADD", "a", "1", "2"]);
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SMOVE", "missing", "str", "1"]), int(0));
    assert!(matches!(
        h.run(&["SMOVE", "a", "str", "1"]),
        Frame::Error(_)
    ));
    assert_eq!(h.run(&["SMOVE", "a", "a", "1"]), int(1));
    assert_eq!(h.run(&["SMOVE", "a", "a", "9"]), int(0));
    assert_eq!(h.run(&["SMOVE", "a", "b", "1"]), int(1));
    assert_eq!(h.run(&["SMOVE", "a", "b", "2"]), int(1));
    assert_eq!(h.run(&["EXISTS", "a"]), int(0));
    assert_eq!(h.strings(&["SMEMBERS", "b"]), ["1", "2"]);
}

#[test]
fn set_algebra_and_store_encodings() {
    let mut h = H::new();
    h.run(&["SADD", "a", "1", "2", "3", "x"]);
    h.run(&["SADD", "b", "2", "3", "4"]);
    h.run(&["SADD", "c", "3", "4", "5"]);
    assert_eq!(h.strings(&["SINTER", "b", "a"]), ["2", "3"]);
    assert_eq!(h.strings(&["SINTER", "a", "b", "c"]), ["3"]);
    assert!(h.strings(&["SINTER", "a", "missing"]).is_empty());
    assert_eq!(h.run(&["SINTERCARD", "2", "a", "b"]), int(2));
    assert_eq!(h.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
    assert_eq!(
        sorted(h.strings(&["SUNION", "a", "c"])),
        ["1", "2", "3", "4", "5", "x"]
    );
    assert_eq!(h.strings(&["SUNION", "b", "c"]), ["2", "3", "4", "5"]);
    assert_eq!(sorted(h.strings(&["SDIFF", "a", "b"])), ["1", "x"]);
    assert_eq!(h.strings(&["SDIFF", "b", "a", "c"]), Vec::<String>::new());
    assert_eq!(h.run(&["SDIFFSTORE", "d", "a", "b"]), int(2));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "d"]), bulk("hashtable"));
    assert_eq!(h.run(&["SINTERSTORE", "d", "a", "b"]), int(2));
    assert_eq!(h.run(&["OBJECT", "ENCODING", "d"]), bulk("intset"));
    h.run(&["SET", "str", "v"]);
    assert_eq!(h.run(&["SUNIONSTORE", "str", "b", "c"]), int(4));
    assert_eq!(
        h.run(&["TYPE", "str"]),
        Frame::Simple(Bytes::from_static(b"set"))
    );
    assert_eq!(h.run(&["SINTERSTORE", "str", "a", "missing"]), int(0));
    assert_eq!(h.run(&["EXISTS", "str"]), int(0));
}

#[test]
fn spop_and_srandmember() {
    let mut h = H::new();
    h.run(&["SADD", "s", "1", "2", "3", "4", "5"]);
    assert_eq!(
        h.strings(&["SRANDMEMBER", "s", "10"]),
        ["1", "2", "3", "4", "5"]
    );
    assert_eq!(h.strings(&["SRANDMEMBER", "s", "-20"]).len(), 20);
    let three = h.strings(&["SRANDMEMBER", "s", "3"]);
    assert_eq!(three.iter().collect::<HashSet<_>>().len(), 3);
    assert_eq!(h.run(&["SRANDMEMBER", "s", "0"]), Frame::Array(vec![]));
    let popped = h.strings(&["SPOP", "s", "2"]);
    assert_eq!(popped.len(), 2);
    assert_eq!(h.run(&["SCARD", "s"]), int(3));
    let mut rest = h.strings(&["SPOP", "s", "3"]);
    rest.extend(popped);
    assert_eq!(sorted(rest), ["1", "2", "3", "4", "5"]);
    assert_eq!(h.run(&["EXISTS", "s"]), int(0));
    assert_eq!(h.run(&["SPOP", "s"]), Frame::Null);
    assert_eq!(h.run(&["SPOP", "s", "1"]), Frame::Set(vec![]));
}

#[test]
fn sscan_walks_a_hashtable_to_the_end() {
    let mut h = H::new();
    for i in 0..600 {
        h.run(&["SADD", "s", &format!("{i}")]);
    }
    assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(reply) = h.run(&["SSCAN", "s", &cursor, "COUNT", "50", "MATCH", "*1*"])
        else {
            panic!("not an array");
        };
        let [Frame::Bulk(next), Frame::Array(items)] = &reply[..] else {
            panic!("bad reply {reply:?}");
        };
        for i in items {
            if let Frame::Bulk(b) = i {
                seen.insert(String::from_utf8(b.to_vec()).unwrap());
            }
        }
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    let want: HashSet<String> = (0..600)
        .map(|i| i.to_string())
        .filter(|s| s.contains('1'))
        .collect();
    assert_eq!(seen, want);
}
