//! `maxmemory` and the eviction policies against the real `ferrodis-server` binary (its own
//! process, so `used_memory` counts only the server's allocations).
//!
//! Each test starts a server, reads its start-up `used_memory` and sets `maxmemory` a few MB
//! above it with CONFIG SET, then writes more than fits. Memory bounds are asserted with
//! [`SLACK_BYTES`]: eviction runs before each command, so usage can exceed the limit by what one
//! pipeline of commands allocates (its query and reply buffers, at most ~200 KB here) plus the
//! allocator counter's per-thread error (32 KiB per thread) and background frees in flight.

mod common;

use std::time::{Duration, Instant};

use common::{error, multibulk, wait_until, RawConn, ServerKind, ServerProcess, DEADLINE};
use ferrodis::Frame;

/// How far above `maxmemory` `used_memory` may be when sampled between pipelines.
const SLACK_BYTES: u64 = 1024 * 1024;
/// Redis' OOM error.
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
const MB: u64 = 1024 * 1024;

/// A `ferrodis-server` process on a free port in a temp dir of its own, killed on drop.
struct Spawned(ServerProcess);

impl Spawned {
    fn start() -> Spawned {
        Spawned(ServerProcess::start(ServerKind::Ferrodis, &[]))
    }

    fn connect(&self) -> RawConn {
        self.0.connect()
    }
}

fn ok(frame: Frame) {
    assert_eq!(frame, Frame::Simple("OK".into()));
}

fn int(frame: Frame) -> i64 {
    match frame {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// One numeric field of INFO.
fn info_field(c: &mut RawConn, section: &str, field: &str) -> u64 {
    let text = match c.command(&["INFO", section]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO: {other:?}"),
    };
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no numeric {field} in INFO {section}"))
}

fn used_memory(c: &mut RawConn) -> u64 {
    info_field(c, "memory", "used_memory")
}

/// Sets `maxmemory` to the current `used_memory` plus `extra` bytes, and `policy`; returns the
/// limit.
fn limit_above_usage(c: &mut RawConn, extra: u64, policy: &str) -> u64 {
    ok(c.command(&["CONFIG", "SET", "maxmemory-policy", policy]));
    let max = used_memory(c) + extra;
    ok(c.command(&["CONFIG", "SET", "maxmemory", &max.to_string()]));
    max
}

/// Writes `SET <prefix><i> <value> [EX 100000]` for `i` in `range`, in pipelines of 100, and
/// returns the replies; after each pipeline calls `between`.
fn write_keys(
    c: &mut RawConn,
    prefix: &str,
    range: std::ops::Range<usize>,
    value_len: usize,
    with_ttl: bool,
    mut between: impl FnMut(&mut RawConn),
) -> Vec<Frame> {
    let value = "v".repeat(value_len);
    let mut replies = Vec::with_capacity(range.len());
    let keys: Vec<usize> = range.collect();
    for chunk in keys.chunks(100) {
        let mut buf = Vec::new();
        for i in chunk {
            let key = format!("{prefix}{i}");
            if with_ttl {
                buf.extend(multibulk(&["SET", &key, &value, "EX", "100000"]));
            } else {
                buf.extend(multibulk(&["SET", &key, &value]));
            }
        }
        c.send(&buf).expect("send a pipeline");
        for _ in chunk {
            replies.push(c.read_frame());
        }
        between(c);
    }
    replies
}

fn count_existing(c: &mut RawConn, prefix: &str, range: std::ops::Range<usize>) -> usize {
    let keys: Vec<String> = range.map(|i| format!("{prefix}{i}")).collect();
    let mut n = 0;
    for chunk in keys.chunks(500) {
        let mut args = vec!["EXISTS"];
        args.extend(chunk.iter().map(String::as_str));
        n += int(c.command(&args)) as usize;
    }
    n
}

#[test]
fn allkeys_lru_keeps_memory_under_the_limit_and_accepts_every_write() {
    let server = Spawned::start();
    let mut c = server.connect();
    let max = limit_above_usage(&mut c, 8 * MB, "allkeys-lru");
    // 5 × maxmemory of 1 KB values.
    let n = (5 * max / 1024) as usize;
    let mut peak = 0;
    let replies = write_keys(&mut c, "k:", 0..n, 1024, false, |c| {
        peak = peak.max(used_memory(c));
    });
    assert!(replies.iter().all(|r| *r == Frame::Simple("OK".into())));
    assert!(
        peak <= max + SLACK_BYTES,
        "used_memory peaked at {peak}, maxmemory {max}"
    );
    // Lift the limit first: every command, reads too, may evict while over it.
    ok(c.command(&["CONFIG", "SET", "maxmemory", "0"]));
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    let dbsize = int(c.command(&["DBSIZE"])) as u64;
    assert!(evicted > 0);
    assert_eq!(dbsize + evicted, n as u64, "every key is stored or evicted");
    assert_eq!(info_field(&mut c, "stats", "evicted_clients"), 0);
    assert_eq!(c.command(&["PING"]), Frame::Simple("PONG".into()));
}

#[test]
fn lazy_eviction_of_large_values_keeps_memory_bounded() {
    let server = Spawned::start();
    let mut c = server.connect();
    ok(c.command(&["CONFIG", "SET", "lazyfree-lazy-eviction", "yes"]));
    let max = limit_above_usage(&mut c, 8 * MB, "allkeys-lru");
    // Lists of 200 elements: freed on the background thread when evicted.
    let element = "e".repeat(100);
    let n = (5 * max / (200 * 100)) as usize;
    let mut peak = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(20) {
        let mut buf = Vec::new();
        for i in chunk {
            let key = format!("list:{i}");
            let mut args = vec!["RPUSH", key.as_str()];
            args.extend(std::iter::repeat_n(element.as_str(), 200));
            buf.extend(multibulk(&args));
        }
        c.send(&buf).expect("send a pipeline");
        for _ in chunk {
            assert_eq!(int(c.read_frame()), 200);
        }
        peak = peak.max(used_memory(&mut c));
    }
    assert!(
        peak <= max + SLACK_BYTES,
        "used_memory peaked at {peak}, maxmemory {max}"
    );
    assert!(info_field(&mut c, "stats", "evicted_keys") > 0);
}

/// Persistent keys survive a volatile policy; once no key with an expire is left, writes fail
/// with OOM while reads and DEL keep working.
fn volatile_policy_evicts_only_volatile_keys(policy: &str) {
    let server = Spawned::start();
    let mut c = server.connect();
    ok(c.command(&["CONFIG", "SET", "maxmemory-policy", policy]));
    let persistent = 1000;
    write_keys(&mut c, "p:", 0..persistent, 1024, false, |_| {});
    let max = limit_above_usage(&mut c, 4 * MB, policy);
    // 3 × the room in volatile keys: all accepted, the oldest evicted.
    let volatile = (12 * MB / 1024) as usize;
    let replies = write_keys(&mut c, "v:", 0..volatile, 1024, true, |c| {
        let used = used_memory(c);
        assert!(used <= max + SLACK_BYTES, "{policy}: used {used} > {max}");
    });
    assert!(
        replies.iter().all(|r| *r == Frame::Simple("OK".into())),
        "{policy}: a volatile write failed"
    );
    assert_eq!(count_existing(&mut c, "p:", 0..persistent), persistent);
    // Persistent writes now: they evict the remaining volatile keys, then fail.
    let replies = write_keys(
        &mut c,
        "q:",
        0..(8 * MB / 1024) as usize,
        1024,
        false,
        |_| {},
    );
    let first_oom = replies
        .iter()
        .position(|r| *r == error(OOM))
        .unwrap_or_else(|| panic!("{policy}: no OOM error"));
    assert!(replies[..first_oom]
        .iter()
        .all(|r| *r == Frame::Simple("OK".into())));
    assert_eq!(count_existing(&mut c, "p:", 0..persistent), persistent);
    assert_eq!(count_existing(&mut c, "q:", 0..first_oom), first_oom);
    assert_eq!(int(c.command(&["EXISTS", "v:0"])), 0);
    assert_eq!(c.command(&["SET", "another", "x"]), error(OOM));
    assert_eq!(
        c.command(&["GET", "p:1"]),
        Frame::Bulk("v".repeat(1024).into())
    );
    assert_eq!(int(c.command(&["DEL", "p:1"])), 1);
}

#[test]
fn volatile_lru_evicts_only_keys_with_a_ttl() {
    volatile_policy_evicts_only_volatile_keys("volatile-lru");
}

#[test]
fn volatile_lfu_evicts_only_keys_with_a_ttl() {
    volatile_policy_evicts_only_volatile_keys("volatile-lfu");
}

#[test]
fn volatile_random_evicts_only_keys_with_a_ttl() {
    volatile_policy_evicts_only_volatile_keys("volatile-random");
}

#[test]
fn volatile_ttl_evicts_only_keys_with_a_ttl() {
    volatile_policy_evicts_only_volatile_keys("volatile-ttl");
}

#[test]
fn noeviction_refuses_writes_but_reads_and_del_work() {
    let server = Spawned::start();
    let mut c = server.connect();
    let max = limit_above_usage(&mut c, 2 * MB, "noeviction");
    let n = (4 * MB / 1024) as usize;
    let replies = write_keys(&mut c, "k:", 0..n, 1024, false, |_| {});
    let first_oom = replies
        .iter()
        .position(|r| *r == error(OOM))
        .expect("an OOM error");
    assert!(first_oom > 0);
    assert!(replies[first_oom..].iter().all(|r| *r == error(OOM)));
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    assert_eq!(int(c.command(&["DBSIZE"])), first_oom as i64);
    assert!(used_memory(&mut c) <= max + SLACK_BYTES);
    // denyoom commands are refused; reads, DEL and non-denyoom commands run.
    assert_eq!(c.command(&["LPUSH", "l", "x"]), error(OOM));
    assert_eq!(
        c.command(&["GET", "k:0"]),
        Frame::Bulk("v".repeat(1024).into())
    );
    assert_eq!(int(c.command(&["EXPIRE", "k:0", "100"])), 1);
    // Inside MULTI every command is refused while over the limit, and EXEC aborts.
    ok(c.command(&["MULTI"]));
    assert_eq!(c.command(&["GET", "k:0"]), error(OOM));
    assert_eq!(
        c.command(&["EXEC"]),
        error("EXECABORT Transaction discarded because of previous errors.")
    );
    let all: Vec<String> = (0..first_oom).map(|i| format!("k:{i}")).collect();
    let mut del = vec!["DEL"];
    del.extend(all.iter().map(String::as_str));
    assert_eq!(int(c.command(&del)), first_oom as i64);
    // Back under the limit: writes work again.
    wait_until("memory back under maxmemory", DEADLINE, || {
        c.command(&["SET", "again", "x"]) == Frame::Simple("OK".into())
    });
}

#[test]
fn lowering_maxmemory_at_runtime_evicts_down() {
    let server = Spawned::start();
    let mut c = server.connect();
    ok(c.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]));
    let base = used_memory(&mut c);
    write_keys(&mut c, "k:", 0..20_000, 1024, false, |_| {});
    assert!(used_memory(&mut c) > base + 16 * MB);
    let max = base + 4 * MB;
    ok(c.command(&["CONFIG", "SET", "maxmemory", &max.to_string()]));
    // CONFIG SET evicts within its time budget; the cron finishes the job.
    wait_until("used_memory under the new maxmemory", DEADLINE, || {
        used_memory(&mut c) <= max + SLACK_BYTES
    });
    assert!(info_field(&mut c, "stats", "evicted_keys") > 10_000);
    assert!(int(c.command(&["DBSIZE"])) < 5_000);
}

#[test]
fn evicted_keys_are_notified_and_counted() {
    let server = Spawned::start();
    let mut c = server.connect();
    ok(c.command(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]));
    let mut sub = server.connect();
    sub.command(&["PSUBSCRIBE", "__keyevent@*__:evicted"]);
    limit_above_usage(&mut c, 2 * MB, "allkeys-lru");
    write_keys(&mut c, "k:", 0..4000, 1024, false, |_| {});
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(evicted > 0);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..evicted {
        match sub.read_frame() {
            Frame::Array(parts) | Frame::Push(parts) => {
                assert_eq!(parts[0], Frame::Bulk("pmessage".into()));
                assert_eq!(parts[2], Frame::Bulk("__keyevent@0__:evicted".into()));
                let Frame::Bulk(key) = &parts[3] else {
                    panic!("key: {:?}", parts[3])
                };
                seen.insert(key.clone());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen.len() as u64, evicted, "one event per evicted key");
    for key in &seen {
        assert_eq!(int(c.command(&[&b"EXISTS"[..], &key[..]])), 0);
    }
}

#[test]
fn allkeys_lru_keeps_recently_read_keys() {
    let server = Spawned::start();
    let mut c = server.connect();
    let hot = 2000;
    write_keys(&mut c, "hot:", 0..hot, 1024, false, |_| {});
    let mut last_round_secs = server_secs(&mut c);
    limit_above_usage(&mut c, 6 * MB, "allkeys-lru");
    let hot_keys: Vec<String> = (0..hot).map(|i| format!("hot:{i}")).collect();
    let per_round = 3000;
    let rounds = 6;
    let started = Instant::now();
    for round in 0..rounds {
        // The LRU clock has a one-second resolution: wait for it to tick so that this round's
        // writes are younger than the previous round's.
        wait_until("the LRU clock to tick", DEADLINE, || {
            let now = server_secs(&mut c);
            now > last_round_secs
        });
        last_round_secs = server_secs(&mut c);
        let mut touch = vec!["TOUCH"];
        touch.extend(hot_keys.iter().map(String::as_str));
        int(c.command(&touch));
        let from = round * per_round;
        write_keys(&mut c, "cold:", from..from + per_round, 1024, false, |_| {});
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    let hot_left = count_existing(&mut c, "hot:", 0..hot) as f64 / hot as f64;
    let cold_left =
        count_existing(&mut c, "cold:", 0..rounds * per_round) as f64 / (rounds * per_round) as f64;
    eprintln!("allkeys-lru: hot keys kept {hot_left:.2}, cold keys kept {cold_left:.2}");
    assert!(
        hot_left >= 0.75 && hot_left > cold_left + 0.3,
        "hot keys kept: {hot_left:.2}, cold keys kept: {cold_left:.2}"
    );
}

/// The server's clock in whole seconds (TIME), the unit of the LRU clock.
fn server_secs(c: &mut RawConn) -> u64 {
    match c.command(&["TIME"]) {
        Frame::Array(parts) => match parts.first() {
            Some(Frame::Bulk(s)) => String::from_utf8_lossy(s).parse().unwrap_or(0),
            other => panic!("TIME: {other:?}"),
        },
        other => panic!("TIME: {other:?}"),
    }
}
