//! Family tests through an in-process harness: commands run through the real dispatch
//! (`Server::execute_at`) without sockets, on an injected clock so expiry needs no sleeping.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use bytes::Bytes;
use ferrodis_keyspace::Now;
use ferrodis_resp::Frame;

use crate::client::{Client, ClientKind};
use crate::config::Config;
use crate::server::Server;

/// A server and one in-process client; the family test modules (`sets::tests`, ...) share it
/// and add their own helper methods.
pub(crate) struct H {
    pub(crate) server: Arc<Server>,
    pub(crate) client: Client,
    now_ms: u64,
}

impl H {
    pub(crate) fn new() -> H {
        let server = Server::new(Config::default());
        let client = server
            .clients
            .register(ClientKind::Local, "t:0".into(), "t:0".into(), -1);
        H {
            server,
            client,
            now_ms: 1_700_000_000_000,
        }
    }

    pub(crate) fn run(&mut self, args: &[&str]) -> Frame {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        self.server
            .execute_at(&mut self.client, &args, Now::from_unix_ms(self.now_ms))
    }

    fn advance_ms(&mut self, ms: u64) {
        self.now_ms += ms;
    }
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn err(s: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn set_with_expire_disappears_when_the_clock_passes() {
    let mut h = H::new();
    assert_eq!(h.run(&["SET", "k", "v", "PX", "1500"]), Frame::ok());
    assert_eq!(h.run(&["PTTL", "k"]), int(1500));
    h.advance_ms(1499);
    assert_eq!(h.run(&["GET", "k"]), bulk("v"));
    h.advance_ms(1);
    assert_eq!(h.run(&["GET", "k"]), Frame::Null);
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
    assert_eq!(h.server.keyspace.stats().expired_keys, 1);
}

#[test]
fn ttl_rounds_and_keepttl_keeps() {
    let mut h = H::new();
    h.run(&["SET", "k", "v", "EX", "100"]);
    h.advance_ms(400);
    assert_eq!(h.run(&["TTL", "k"]), int(100), "99.6 s rounds to 100");
    h.run(&["SET", "k", "w", "KEEPTTL"]);
    assert_eq!(h.run(&["PTTL", "k"]), int(99_600));
    h.run(&["SET", "k", "x"]);
    assert_eq!(h.run(&["TTL", "k"]), int(-1));
    assert_eq!(h.run(&["TTL", "missing"]), int(-2));
}

#[test]
fn expire_conditions() {
    let mut h = H::new();
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(
        h.run(&["EXPIRE", "k", "100", "GT"]),
        int(0),
        "no TTL counts as infinite"
    );
    assert_eq!(h.run(&["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(h.run(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(h.run(&["EXPIRE", "k", "50", "LT"]), int(1));
    assert_eq!(h.run(&["TTL", "k"]), int(50));
    assert_eq!(
        h.run(&["EXPIRE", "k", "10", "NX", "GT"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(h.run(&["EXPIRE", "k", "-1"]), int(1), "a past time deletes");
    assert_eq!(h.run(&["EXISTS", "k"]), int(0));
    let at = (h.now_ms / 1000 + 30).to_string();
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["EXPIREAT", "k", &at]), int(1));
    assert_eq!(
        h.run(&["EXPIRETIME", "k"]),
        Frame::Integer(at.parse().unwrap())
    );
    assert_eq!(h.run(&["PERSIST", "k"]), int(1));
    assert_eq!(h.run(&["PERSIST", "k"]), int(0));
}

#[test]
fn string_encodings_follow_redis() {
    let mut h = H::new();
    let enc = |h: &mut H, k: &str| h.run(&["OBJECT", "ENCODING", k]);
    h.run(&["SET", "i", "12345"]);
    assert_eq!(enc(&mut h, "i"), bulk("int"));
    h.run(&["SET", "e", &"x".repeat(44)]);
    assert_eq!(enc(&mut h, "e"), bulk("embstr"));
    h.run(&["SET", "r", &"x".repeat(45)]);
    assert_eq!(enc(&mut h, "r"), bulk("raw"));
    h.run(&["APPEND", "i", "6"]);
    assert_eq!(enc(&mut h, "i"), bulk("raw"));
    h.run(&["INCR", "i"]);
    assert_eq!(enc(&mut h, "i"), bulk("int"));
    assert_eq!(h.run(&["GET", "i"]), bulk("123457"));
    h.run(&["INCRBYFLOAT", "f", "1"]);
    assert_eq!(enc(&mut h, "f"), bulk("embstr"));
    assert_eq!(h.run(&["OBJECT", "REFCOUNT", "f"]), int(1));
    h.run(&["SET", "s", "42"]);
    assert_eq!(
        h.run(&["OBJECT", "REFCOUNT", "s"]),
        int(i64::from(i32::MAX))
    );
    assert_eq!(enc(&mut h, "missing"), Frame::Null);
}

#[test]
fn incr_family_errors_and_overflow() {
    let mut h = H::new();
    assert_eq!(
        h.run(&["INCRBY", "n", "9223372036854775807"]),
        int(i64::MAX)
    );
    assert_eq!(
        h.run(&["INCR", "n"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        h.run(&["DECRBY", "m", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    h.run(&["SET", "s", "abc"]);
    assert_eq!(
        h.run(&["INCR", "s"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        h.run(&["INCRBYFLOAT", "s", "1"]),
        err("ERR value is not a valid float")
    );
}

#[test]
fn incrbyfloat_uses_extended_precision_like_redis() {
    let mut h = H::new();
    h.run(&["SET", "f", "0.1"]);
    assert_eq!(h.run(&["INCRBYFLOAT", "f", "0.2"]), bulk("0.3"));
    h.run(&["SET", "g", "10.5"]);
    assert_eq!(h.run(&["INCRBYFLOAT", "g", "0.1"]), bulk("10.6"));
    assert_eq!(h.run(&["INCRBYFLOAT", "h", "5.0e3"]), bulk("5000"));
    assert_eq!(
        h.run(&["INCRBYFLOAT", "h", "inf"]),
        err("ERR increment would produce NaN or Infinity")
    );
}

#[test]
fn ranges_and_lcs() {
    let mut h = H::new();
    h.run(&["SET", "s", "Hello World"]);
    assert_eq!(h.run(&["GETRANGE", "s", "-5", "-1"]), bulk("World"));
    assert_eq!(h.run(&["SETRANGE", "s", "6", "Redis"]), int(11));
    assert_eq!(h.run(&["GET", "s"]), bulk("Hello Redis"));
    assert_eq!(h.run(&["SETRANGE", "z", "3", "x"]), int(4));
    assert_eq!(h.run(&["GET", "z"]), bulk("\0\0\0x"));
    h.run(&["SET", "a", "ohmytext"]);
    h.run(&["SET", "b", "mynewtext"]);
    assert_eq!(h.run(&["LCS", "a", "b"]), bulk("mytext"));
    assert_eq!(h.run(&["LCS", "a", "b", "LEN"]), int(6));
}

#[test]
fn rename_copy_move_keep_ttl_and_dbs() {
    let mut h = H::new();
    h.run(&["SET", "a", "1", "EX", "100"]);
    assert_eq!(h.run(&["RENAME", "a", "b"]), Frame::ok());
    assert_eq!(h.run(&["TTL", "b"]), int(100));
    assert_eq!(h.run(&["RENAME", "a", "c"]), err("ERR no such key"));
    assert_eq!(h.run(&["COPY", "b", "c", "DB", "3"]), int(1));
    h.run(&["SELECT", "3"]);
    assert_eq!(h.run(&["TTL", "c"]), int(100));
    assert_eq!(h.run(&["MOVE", "c", "0"]), int(1));
    assert_eq!(h.run(&["EXISTS", "c"]), int(0));
    h.run(&["SELECT", "0"]);
    assert_eq!(h.run(&["GET", "c"]), bulk("1"));
    assert_eq!(h.run(&["SWAPDB", "0", "3"]), Frame::ok());
    assert_eq!(h.run(&["DBSIZE"]), int(0));
    h.run(&["SELECT", "3"]);
    assert_eq!(h.run(&["DBSIZE"]), int(2));
}

#[test]
fn scan_returns_keys_present_throughout_while_keys_are_added() {
    let mut h = H::new();
    for i in 0..1000 {
        h.run(&["SET", &format!("stable:{i}"), "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let reply = h.run(&["SCAN", &cursor, "COUNT", "50"]);
        let Frame::Array(parts) = reply else {
            panic!("bad reply {reply:?}")
        };
        let (Frame::Bulk(c), Frame::Array(keys)) = (&parts[0], &parts[1]) else {
            panic!("bad reply")
        };
        for k in keys {
            if let Frame::Bulk(k) = k {
                seen.insert(k.clone());
            }
        }
        // Grow the keyspace while the scan runs.
        for j in 0..100 {
            h.run(&["SET", &format!("new:{round}:{j}"), "v"]);
        }
        round += 1;
        cursor = String::from_utf8(c.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..1000 {
        assert!(
            seen.contains(format!("stable:{i}").as_bytes()),
            "stable:{i} missed"
        );
    }
}

#[test]
fn unknown_commands_and_arity_errors_have_redis_texts() {
    let mut h = H::new();
    assert_eq!(
        h.run(&["NOPE", "a", "b"]),
        err("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        h.run(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        h.run(&["CONFIG", "GET"]),
        err("ERR wrong number of arguments for 'config|get' command")
    );
    assert_eq!(
        h.run(&["CONFIG", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.")
    );
    assert_eq!(
        h.run(&["MSET", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let h = H::new();
    let ks = &h.server.keyspace;
    {
        let mut g = ks.lock_all(Now::from_unix_ms(h.now_ms));
        for i in 0..300 {
            let k = format!("v{i}");
            g.set(
                0,
                k.as_bytes(),
                ferrodis_keyspace::Value::string(b"x"),
                false,
            )
            .unwrap();
            g.set_expire(0, k.as_bytes(), Some(h.now_ms + 10)).unwrap();
        }
    }
    let mut rounds = 0;
    while ks.db_info()[0].keys > 0 && rounds < 1000 {
        ks.active_expire_cycle(
            h.now_ms + 11,
            std::time::Duration::from_millis(50),
            |_, _| {},
        );
        rounds += 1;
    }
    assert_eq!(ks.db_info()[0].keys, 0);
}
