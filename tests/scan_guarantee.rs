//! The SCAN guarantee for SCAN, HSCAN, SSCAN and ZSCAN, through a real client: an element
//! present for the whole of a full iteration is returned at least once, even while the
//! collection grows (and converts from its compact encoding to a hash table), shrinks and
//! rehashes between the calls (Redis' SCAN documentation, "Scan guarantees").
//!
//! Each test keeps `STABLE` elements for the whole scan and, between every two calls, adds a
//! batch of temporary elements (first half of the scan) or removes them all again (second half),
//! from a second connection. Stable elements must all be seen; elements may repeat.

use std::collections::HashSet;
use std::net::SocketAddr;

use ferrodis::{Config, Ferrodis};
use redis::aio::MultiplexedConnection;
use redis::Value;

const STABLE: usize = 300;
const BATCH: usize = 60;

async fn start() -> (Ferrodis, MultiplexedConnection, MultiplexedConnection) {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    let server = Ferrodis::start_on(
        Config::from_str("save \"\"\n", "test config").expect("a valid config"),
        addr,
    )
    .await
    .expect("start the in-process server");
    let url = format!(
        "redis://{}/",
        server.local_addr().expect("the server listens on TCP")
    );
    let client = redis::Client::open(url).expect("a valid URL");
    let a = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let b = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    (server, a, b)
}

async fn cmd(conn: &mut MultiplexedConnection, args: &[String]) -> Value {
    let mut c = redis::cmd(&args[0]);
    for a in &args[1..] {
        c.arg(a);
    }
    c.query_async(conn).await.expect("command succeeds")
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("expected a string, got {other:?}"),
    }
}

/// One SCAN-family call: the next cursor and the returned names (members, fields or keys;
/// for HSCAN/ZSCAN every other item).
async fn scan_step(
    conn: &mut MultiplexedConnection,
    command: &str,
    key: Option<&str>,
    cursor: &str,
    pairs: bool,
) -> (String, Vec<String>) {
    let mut args = vec![command.to_string()];
    args.extend(key.map(String::from));
    args.extend([cursor.to_string(), "COUNT".into(), "10".into()]);
    let Value::Array(reply) = cmd(conn, &args).await else {
        panic!("{command} did not return an array");
    };
    let [next, Value::Array(items)] = reply.as_slice() else {
        panic!("{command}: unexpected reply shape {reply:?}");
    };
    let step = if pairs { 2 } else { 1 };
    let names = items.iter().step_by(step).map(text).collect();
    (text(next), names)
}

/// Scans while a second connection grows then shrinks the collection; returns what was seen.
async fn scan_while_mutating(
    command: &str,
    key: Option<&str>,
    pairs: bool,
    add: impl Fn(usize) -> Vec<String>,
    remove: impl Fn(usize) -> Vec<String>,
    setup: &[Vec<String>],
) -> HashSet<String> {
    let (_server, mut scanner, mut writer) = start().await;
    for line in setup {
        cmd(&mut writer, line).await;
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0usize;
    let mut added = 0usize;
    loop {
        let (next, names) = scan_step(&mut scanner, command, key, &cursor, pairs).await;
        seen.extend(names);
        cursor = next;
        if cursor == "0" {
            break;
        }
        step += 1;
        if step < 15 {
            cmd(&mut writer, &add(added)).await;
            added += 1;
        } else if added > 0 {
            added -= 1;
            cmd(&mut writer, &remove(added)).await;
        }
        assert!(step < 100_000, "{command} never finished");
    }
    seen
}

fn batch(prefix: &str, b: usize) -> Vec<String> {
    (0..BATCH).map(|i| format!("{prefix}{b}:{i}")).collect()
}

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

fn stable() -> Vec<String> {
    (0..STABLE).map(|i| format!("stable:{i}")).collect()
}

fn assert_all_stable_seen(what: &str, seen: &HashSet<String>) {
    let missing: Vec<String> = stable().into_iter().filter(|s| !seen.contains(s)).collect();
    assert!(missing.is_empty(), "{what} missed {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_returns_every_stable_key() {
    let setup: Vec<Vec<String>> = stable()
        .into_iter()
        .map(|k| vec!["SET".into(), k, "v".into()])
        .collect();
    let seen = scan_while_mutating(
        "SCAN",
        None,
        false,
        |b| {
            let mut line = vec!["MSET".to_string()];
            for k in batch("tmp:", b) {
                line.extend([k, "v".into()]);
            }
            line
        },
        |b| [vec!["DEL".to_string()], batch("tmp:", b)].concat(),
        &setup,
    )
    .await;
    assert_all_stable_seen("SCAN", &seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sscan_returns_every_stable_member() {
    // Starts as an intset-sized set of strings (hashtable) and grows/shrinks.
    let setup = vec![[vec!["SADD".to_string(), "s".into()], stable()].concat()];
    let seen = scan_while_mutating(
        "SSCAN",
        Some("s"),
        false,
        |b| [words("SADD s"), batch("tmp:", b)].concat(),
        |b| [words("SREM s"), batch("tmp:", b)].concat(),
        &setup,
    )
    .await;
    assert_all_stable_seen("SSCAN", &seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hscan_returns_every_stable_field_across_conversion() {
    // 300 fields exceed a lowered hash-max-listpack-entries: the hash converts on the first
    // write of the setup, then grows and shrinks as a hash table during the scan.
    let mut hset = words("HSET h");
    for f in stable() {
        hset.extend([f, "v".into()]);
    }
    let setup = vec![words("CONFIG SET hash-max-listpack-entries 100"), hset];
    let seen = scan_while_mutating(
        "HSCAN",
        Some("h"),
        true,
        |b| {
            let mut line = words("HSET h");
            for f in batch("tmp:", b) {
                line.extend([f, "v".into()]);
            }
            line
        },
        |b| [words("HDEL h"), batch("tmp:", b)].concat(),
        &setup,
    )
    .await;
    assert_all_stable_seen("HSCAN", &seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zscan_returns_every_stable_member() {
    let mut zadd = words("ZADD z");
    for (i, m) in stable().into_iter().enumerate() {
        zadd.extend([i.to_string(), m]);
    }
    let seen = scan_while_mutating(
        "ZSCAN",
        Some("z"),
        true,
        |b| {
            let mut line = words("ZADD z");
            for (i, m) in batch("tmp:", b).into_iter().enumerate() {
                line.extend([i.to_string(), m]);
            }
            line
        },
        |b| [words("ZREM z"), batch("tmp:", b)].concat(),
        &[zadd],
    )
    .await;
    assert_all_stable_seen("ZSCAN", &seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_collections_scan_in_one_call() {
    // Compact encodings (listpack, intset) return everything with cursor 0, as Redis does.
    let (_server, mut conn, _) = start().await;
    cmd(&mut conn, &words("SADD si 1 2 3")).await;
    cmd(&mut conn, &words("HSET hs a 1 b 2")).await;
    cmd(&mut conn, &words("ZADD zs 1 a 2 b")).await;
    for (command, key, want) in [("SSCAN", "si", 3), ("HSCAN", "hs", 4), ("ZSCAN", "zs", 4)] {
        let Value::Array(reply) =
            cmd(&mut conn, &words(&format!("{command} {key} 0 COUNT 1"))).await
        else {
            panic!("{command}: not an array");
        };
        assert_eq!(text(&reply[0]), "0", "{command} finished in one call");
        let Value::Array(items) = &reply[1] else {
            panic!("{command}: items not an array");
        };
        assert_eq!(items.len(), want, "{command} returned everything");
    }
}
