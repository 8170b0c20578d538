//! Pub/Sub over real sockets against an in-process Ferrodis: slow subscribers are cut off by
//! `client-output-buffer-limit pubsub` without stalling publishers or growing memory; many
//! subscribers each get every message of every concurrent publisher in that publisher's order;
//! a subscription's confirmation precedes the messages published after it; PSUBSCRIBE globs.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{wait_until, BackgroundServer, RawConn, DEADLINE};
use ferrodis::Frame;

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

/// The items of a message frame (RESP2 array or RESP3 push), as strings.
fn items(f: &Frame) -> Vec<String> {
    let v = match f {
        Frame::Array(v) | Frame::Push(v) => v,
        other => panic!("expected a message, got {other:?}"),
    };
    v.iter()
        .map(|x| match x {
            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            Frame::Integer(n) => n.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// `PUBSUB NUMSUB channel`'s count.
fn numsub(c: &mut RawConn, channel: &str) -> i64 {
    match c.command(&["PUBSUB", "NUMSUB", channel]) {
        Frame::Array(v) if v.len() == 2 => match v[1] {
            Frame::Integer(n) => n,
            _ => panic!("NUMSUB count is not an integer: {v:?}"),
        },
        other => panic!("unexpected NUMSUB reply {other:?}"),
    }
}

/// An `INFO memory` field as a number.
fn info_memory(c: &mut RawConn, field: &str) -> u64 {
    let Frame::Bulk(text) = c.command(&["INFO", "memory"]) else {
        panic!("INFO is a bulk string");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO memory has no numeric {field}"))
}

/// A subscriber that never reads: subscribes to `channel` and returns the connection.
fn idle_subscriber(server: &BackgroundServer, channel: &str) -> RawConn {
    let mut sub = server.connect();
    let confirm = sub.command(&["SUBSCRIBE", channel]);
    assert_eq!(items(&confirm), ["subscribe", channel, "1"]);
    sub
}

/// Publishes `count` messages of `size` bytes; returns the slowest PUBLISH round trip.
fn flood(publisher: &mut RawConn, channel: &str, count: usize, size: usize) -> Duration {
    let payload = "x".repeat(size);
    let mut slowest = Duration::ZERO;
    for _ in 0..count {
        let t = Instant::now();
        let reply = publisher.command(&["PUBLISH", channel, &payload]);
        assert!(matches!(reply, Frame::Integer(0 | 1)), "PUBLISH: {reply:?}");
        slowest = slowest.max(t.elapsed());
    }
    slowest
}

#[test]
fn output_limit_set_at_runtime_applies_to_the_next_publish() {
    let server = BackgroundServer::start();
    let mut publisher = server.connect();
    let set = |p: &mut RawConn, v: &str| {
        assert_eq!(
            p.command(&["CONFIG", "SET", "client-output-buffer-limit", v]),
            Frame::ok()
        );
    };
    set(&mut publisher, "pubsub 0 0 0");
    let _sub = idle_subscriber(&server, "slow");
    // 30 MB queue up for a subscriber that never reads (more than the kernel's socket buffers
    // hold): without a limit it stays subscribed.
    flood(&mut publisher, "slow", 3000, 10 * 1024);
    assert_eq!(numsub(&mut publisher, "slow"), 1);
    // The new limit applies to the very next message.
    set(&mut publisher, "pubsub 1mb 512kb 1");
    flood(&mut publisher, "slow", 1, 10);
    wait_until("the slow subscriber to be closed", DEADLINE, || {
        numsub(&mut publisher, "slow") == 0
    });
    assert_eq!(publisher.command(&["PING"]), Frame::simple("PONG"));
}

#[test]
fn a_subscriber_that_never_reads_is_cut_off_and_publishers_never_wait() {
    let server = BackgroundServer::start();
    let mut publisher = server.connect();
    assert_eq!(
        publisher.command(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 512kb 1"
        ]),
        Frame::ok()
    );
    let rss_before = info_memory(&mut publisher, "used_memory_rss");
    let mut sub = idle_subscriber(&server, "flood");
    // 200 MB of 10 KB messages.
    let slowest = flood(&mut publisher, "flood", 20_000, 10 * 1024);
    assert!(
        slowest < Duration::from_secs(2),
        "a PUBLISH waited on the subscriber: {slowest:?}"
    );
    assert_eq!(
        numsub(&mut publisher, "flood"),
        0,
        "the subscriber was not cut off"
    );
    let rss_after = info_memory(&mut publisher, "used_memory_rss");
    let growth = rss_after.saturating_sub(rss_before);
    assert!(
        growth < 200 << 20,
        "RSS grew by {growth} bytes while flooding a dead subscriber"
    );
    // The subscriber gets what the kernel buffered, then the close.
    let outcome = sub.read_outcome(None);
    assert!(
        outcome.closed,
        "the server did not close the slow subscriber"
    );
    assert!(outcome.reply.len() < 200 << 20);
    assert_eq!(publisher.command(&["PING"]), Frame::simple("PONG"));
    assert_eq!(publisher.command(&["PUBLISH", "flood", "after"]), int(0));
}

/// `(publisher, sequence)` of a `p<publisher>:<sequence>` payload.
fn parse_payload(s: &str) -> (usize, usize) {
    let (p, n) = s
        .strip_prefix('p')
        .and_then(|s| s.split_once(':'))
        .unwrap_or_else(|| panic!("unexpected payload {s:?}"));
    (
        p.parse().expect("publisher number"),
        n.parse().expect("sequence number"),
    )
}

#[test]
fn every_subscriber_gets_every_message_in_each_publishers_order() {
    const SUBSCRIBERS: usize = 50;
    const PUBLISHERS: usize = 4;
    const PER_PUBLISHER: usize = 500;
    let server = BackgroundServer::start();
    let mut subs: Vec<RawConn> = (0..SUBSCRIBERS)
        .map(|i| {
            let mut c = server.connect();
            if i % 2 == 1 {
                // Half of them speak RESP3: messages arrive as pushes.
                assert!(matches!(c.command(&["HELLO", "3"]), Frame::Map(_)));
            }
            assert_eq!(items(&c.command(&["SUBSCRIBE", "fan"]))[2], "1");
            c
        })
        .collect();
    let addr = server.addr();
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = RawConn::tcp(addr);
                for n in 0..PER_PUBLISHER {
                    let reply = c.command(&["PUBLISH", "fan", &format!("p{p}:{n}")]);
                    assert_eq!(reply, int(SUBSCRIBERS as i64));
                }
            })
        })
        .collect();
    for t in publishers {
        t.join().expect("publisher thread");
    }
    for (i, sub) in subs.iter_mut().enumerate() {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * PER_PUBLISHER {
            let msg = items(&sub.read_frame());
            assert_eq!(msg[..2], ["message", "fan"], "subscriber {i}");
            let (p, n) = parse_payload(&msg[2]);
            assert_eq!(n, next[p], "subscriber {i}: publisher {p} out of order");
            next[p] += 1;
        }
        assert!(next.iter().all(|&n| n == PER_PUBLISHER));
    }
}

#[test]
fn confirmation_precedes_messages_published_concurrently() {
    const CHANNELS: usize = 200;
    let server = BackgroundServer::start();
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr();
    // Two publishers pipelining PUBLISH race in batches keep messages flowing while the
    // subscriber's SUBSCRIBE runs.
    let publishers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = RawConn::tcp(addr);
                let batch: Vec<u8> = (0..50)
                    .flat_map(|n| common::multibulk(&["PUBLISH", "race", &n.to_string()]))
                    .collect();
                while !stop.load(Ordering::Relaxed) {
                    c.send(&batch).expect("send PUBLISH batch");
                    for _ in 0..50 {
                        c.read_frame();
                    }
                }
            })
        })
        .collect();
    let mut args = vec!["SUBSCRIBE".to_string(), "race".to_string()];
    args.extend((1..CHANNELS).map(|i| format!("other{i}")));
    for _ in 0..20 {
        let mut sub = server.connect();
        sub.send(&common::multibulk(&args)).expect("send SUBSCRIBE");
        for (i, name) in args[1..].iter().enumerate() {
            let confirm = items(&sub.read_frame());
            assert_eq!(confirm, ["subscribe", name.as_str(), &(i + 1).to_string()]);
        }
        assert_eq!(items(&sub.read_frame())[..2], ["message", "race"]);
    }
    stop.store(true, Ordering::Relaxed);
    for t in publishers {
        t.join().expect("publisher thread");
    }
}

#[test]
fn psubscribe_glob_patterns() {
    let server = BackgroundServer::start();
    let mut sub = server.connect();
    let patterns = ["h?llo", "n[a-c]x", "x[^a]", "s\\*", "esc\\?", "*end"];
    for (i, p) in patterns.iter().enumerate() {
        let confirm = sub.command(&["PSUBSCRIBE", p]);
        assert_eq!(items(&confirm), ["psubscribe", p, &(i + 1).to_string()]);
    }
    let mut publisher = server.connect();
    let cases: &[(&str, &[&str])] = &[
        ("hello", &["h?llo"]),
        ("hallo", &["h?llo"]),
        ("hllo", &[]),
        ("heello", &[]),
        ("nax", &["n[a-c]x"]),
        ("ncx", &["n[a-c]x"]),
        ("ndx", &[]),
        ("xb", &["x[^a]"]),
        ("xa", &[]),
        ("xbb", &[]),
        ("s*", &["s\\*"]),
        ("sx", &[]),
        ("esc?", &["esc\\?"]),
        ("escx", &[]),
    ];
    let mut expected = HashMap::new();
    for (channel, matching) in cases {
        let n = publisher.command(&["PUBLISH", channel, "m"]);
        assert_eq!(n, int(matching.len() as i64), "PUBLISH {channel}");
        for p in *matching {
            *expected
                .entry((p.to_string(), channel.to_string()))
                .or_insert(0) += 1;
        }
    }
    assert_eq!(publisher.command(&["PUBLISH", "the-end", "m"]), int(1));
    let mut got = HashMap::new();
    loop {
        let msg = items(&sub.read_frame());
        assert_eq!(msg[0], "pmessage");
        if msg[2] == "the-end" {
            break;
        }
        *got.entry((msg[1].clone(), msg[2].clone())).or_insert(0) += 1;
    }
    assert_eq!(got, expected);
    assert_eq!(
        publisher.command(&["PUBSUB", "NUMPAT"]),
        int(patterns.len() as i64)
    );
    assert_eq!(
        publisher.command(&["PUBSUB", "CHANNELS"]),
        Frame::Array(vec![])
    );
}

#[test]
fn client_list_shows_subscriptions() {
    let server = BackgroundServer::start();
    let mut sub = server.connect();
    assert!(matches!(sub.command(&["HELLO", "3"]), Frame::Map(_)));
    sub.command(&["SUBSCRIBE", "a", "b"]);
    // SUBSCRIBE a b answers twice; the second confirmation is still unread.
    assert_eq!(items(&sub.read_frame()), ["subscribe", "b", "2"]);
    assert_eq!(
        items(&sub.command(&["PSUBSCRIBE", "p*"])),
        ["psubscribe", "p*", "3"]
    );
    assert_eq!(
        items(&sub.command(&["SSUBSCRIBE", "s"])),
        ["ssubscribe", "s", "1"]
    );
    let mut other = server.connect();
    let Frame::Bulk(list) = other.command(&["CLIENT", "LIST", "TYPE", "pubsub"]) else {
        panic!("CLIENT LIST is a bulk string in RESP2");
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(
        list.contains(" flags=P db=0 sub=2 psub=1 ssub=1 "),
        "{list}"
    );
    let Frame::Bulk(normal) = other.command(&["CLIENT", "LIST", "TYPE", "normal"]) else {
        panic!("CLIENT LIST is a bulk string in RESP2");
    };
    let normal = String::from_utf8_lossy(&normal).into_owned();
    assert!(
        normal.contains(" flags=N db=0 sub=0 psub=0 ssub=0 "),
        "{normal}"
    );
    assert!(!normal.contains("sub=2"), "{normal}");
    let Frame::Bulk(info) = other.command(&["INFO", "stats"]) else {
        panic!("INFO is a bulk string");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    for line in [
        "pubsub_channels:2",
        "pubsub_patterns:1",
        "pubsubshard_channels:1",
    ] {
        assert!(info.contains(line), "INFO stats lacks {line}");
    }
}
