//! Blocking commands under concurrency, with a real client (the `redis` crate) against an
//! in-process Ferrodis on a multi-threaded runtime: every pushed element reaches exactly one
//! waiter or stays in the list (no loss, no duplication, also when timeouts race with pushes),
//! waiters on a key are served first come first served, a waiter that hangs up, is killed or
//! is unblocked (CLIENT UNBLOCK) is forgotten, commands pipelined behind a blocked one wait
//! their turn, and BLMOVE chains keep every element.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{connect_async, start_async};
use redis::aio::MultiplexedConnection;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

/// No test may take longer than this (a stuck waiter fails the test instead of hanging it).
const LIMIT: Duration = Duration::from_secs(5);

/// `INFO clients` field `name`, as a number.
async fn info_clients(con: &mut MultiplexedConnection, name: &str) -> usize {
    let info: String = redis::cmd("INFO")
        .arg("clients")
        .query_async(con)
        .await
        .expect("INFO clients");
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO clients has no {name}: {info}"))
}

/// Polls `INFO clients` until `blocked_clients` is `n`.
async fn wait_blocked(con: &mut MultiplexedConnection, n: usize) {
    for _ in 0..500 {
        if info_clients(con, "blocked_clients").await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("blocked_clients never reached {n}");
}

async fn rpush(con: &mut MultiplexedConnection, key: &str, values: &[String]) {
    let _: i64 = redis::cmd("RPUSH")
        .arg(key)
        .arg(values)
        .query_async(con)
        .await
        .expect("RPUSH");
}

async fn lrange(con: &mut MultiplexedConnection, key: &str) -> Vec<String> {
    redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async(con)
        .await
        .expect("LRANGE")
}

/// Counts of each value: equal multisets have equal counts.
fn multiset(values: impl IntoIterator<Item = String>) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for v in values {
        *out.entry(v).or_default() += 1;
    }
    out
}

/// BLPOP `keys` with `timeout_secs`: the popped value, `None` on timeout.
async fn blpop(
    con: &mut MultiplexedConnection,
    keys: &[&str],
    timeout_secs: f64,
) -> Option<String> {
    let got: Option<(String, String)> = redis::cmd("BLPOP")
        .arg(keys)
        .arg(timeout_secs)
        .query_async(con)
        .await
        .expect("BLPOP");
    got.map(|(_, v)| v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_waiters_get_every_element_exactly_once() {
    const WAITERS: usize = 20;
    const PUSHERS: usize = 4;
    const PER_PUSHER: usize = 100;
    let server = start_async().await;
    let mut waiters = Vec::new();
    for _ in 0..WAITERS {
        let mut con = connect_async(&server).await;
        waiters.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                match blpop(&mut con, &["q1", "q2"], 0.0).await {
                    Some(v) if v == "stop" => return got,
                    Some(v) => got.push(v),
                    None => panic!("BLPOP with timeout 0 timed out"),
                }
            }
        }));
    }
    let mut admin = connect_async(&server).await;
    wait_blocked(&mut admin, WAITERS).await;
    let mut pushers = Vec::new();
    let mut pushed = Vec::new();
    for p in 0..PUSHERS {
        let mut con = connect_async(&server).await;
        let values: Vec<String> = (0..PER_PUSHER).map(|i| format!("p{p}-{i}")).collect();
        pushed.extend(values.clone());
        pushers.push(tokio::spawn(async move {
            let key = if p % 2 == 0 { "q1" } else { "q2" };
            for chunk in values.chunks(3) {
                rpush(&mut con, key, chunk).await;
            }
        }));
    }
    let run = async {
        for p in pushers {
            p.await.expect("a pusher");
        }
        // One stop per waiter, after every element: a waiter that reads it has nothing more
        // to take from q1 (elements left in q2 stay there).
        let stops: Vec<String> = (0..WAITERS).map(|_| "stop".to_string()).collect();
        rpush(&mut admin, "q1", &stops).await;
        let mut received = Vec::new();
        for w in waiters {
            received.extend(w.await.expect("a waiter"));
        }
        received
    };
    let mut all = timeout(LIMIT, run).await.expect("a waiter got stuck");
    all.extend(lrange(&mut admin, "q1").await);
    all.extend(lrange(&mut admin, "q2").await);
    assert_eq!(multiset(all), multiset(pushed));
    assert_eq!(info_clients(&mut admin, "blocked_clients").await, 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiters_are_served_in_arrival_order() {
    const WAITERS: usize = 6;
    let server = start_async().await;
    let mut admin = connect_async(&server).await;
    let mut waiters = Vec::new();
    for i in 0..WAITERS {
        let mut con = connect_async(&server).await;
        // Half of them with a deadline: clients_in_timeout_table counts those.
        let secs = if i % 2 == 0 { 0.0 } else { 30.0 };
        waiters.push(tokio::spawn(async move {
            blpop(&mut con, &["fifo"], secs).await
        }));
        // Confirmed parked before the next one arrives.
        wait_blocked(&mut admin, i + 1).await;
    }
    assert_eq!(
        info_clients(&mut admin, "clients_in_timeout_table").await,
        WAITERS / 2
    );
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut admin)
        .await
        .expect("CLIENT LIST");
    let flagged = list.lines().filter(|l| l.contains(" flags=b ")).count();
    assert_eq!(flagged, WAITERS, "blocked clients show flag b: {list}");
    let values: Vec<String> = (0..WAITERS).map(|i| i.to_string()).collect();
    rpush(&mut admin, "fifo", &values).await;
    for (i, w) in waiters.into_iter().enumerate() {
        let got = timeout(LIMIT, w).await.expect("a waiter got stuck");
        assert_eq!(got.expect("a waiter"), Some(i.to_string()));
    }
    assert_eq!(info_clients(&mut admin, "blocked_clients").await, 0);
    assert_eq!(
        info_clients(&mut admin, "clients_in_timeout_table").await,
        0
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timeouts_racing_with_pushes_lose_nothing() {
    const WAITERS: usize = 8;
    const ROUNDS: usize = 60;
    const PUSHERS: usize = 2;
    const PER_PUSHER: usize = 150;
    let server = start_async().await;
    let mut waiters = Vec::new();
    for _ in 0..WAITERS {
        let mut con = connect_async(&server).await;
        waiters.push(tokio::spawn(async move {
            let (mut got, mut timeouts) = (Vec::new(), 0usize);
            for _ in 0..ROUNDS {
                match blpop(&mut con, &["race"], 0.01).await {
                    Some(v) => got.push(v),
                    None => timeouts += 1,
                }
            }
            (got, timeouts)
        }));
    }
    let mut pushers = Vec::new();
    let mut pushed = Vec::new();
    for p in 0..PUSHERS {
        let mut con = connect_async(&server).await;
        let values: Vec<String> = (0..PER_PUSHER).map(|i| format!("p{p}-{i}")).collect();
        pushed.extend(values.clone());
        pushers.push(tokio::spawn(async move {
            for (i, v) in values.iter().enumerate() {
                rpush(&mut con, "race", std::slice::from_ref(v)).await;
                if i % 2 == 0 {
                    // Let some waiters time out between pushes.
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            }
        }));
    }
    let run = async {
        for p in pushers {
            p.await.expect("a pusher");
        }
        let (mut received, mut timeouts) = (Vec::new(), 0);
        for w in waiters {
            let (got, t) = w.await.expect("a waiter");
            received.extend(got);
            timeouts += t;
        }
        (received, timeouts)
    };
    let (mut all, timeouts) = timeout(LIMIT, run).await.expect("a waiter got stuck");
    // The race was run: some waits ended by timeout, some by a push.
    assert!(
        timeouts > 0 && !all.is_empty(),
        "{timeouts} timeouts, {} received",
        all.len()
    );
    let mut admin = connect_async(&server).await;
    all.extend(lrange(&mut admin, "race").await);
    assert_eq!(multiset(all), multiset(pushed));
    assert_eq!(info_clients(&mut admin, "blocked_clients").await, 0);
    server.shutdown().await;
}

/// A plain TCP connection to `server`, for exact request bytes and hang-ups.
async fn raw_client(server: &ferrodis::Ferrodis) -> tokio::net::TcpStream {
    let addr = server.local_addr().expect("the server listens on TCP");
    tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect a raw client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_waiter_that_hangs_up_is_forgotten() {
    let server = start_async().await;
    let mut admin = connect_async(&server).await;
    let mut raw = raw_client(&server).await;
    raw.write_all(b"*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n")
        .await
        .expect("send BLPOP");
    wait_blocked(&mut admin, 1).await;
    drop(raw);
    wait_blocked(&mut admin, 0).await;
    // The push is not delivered to the departed client: it stays in the list.
    rpush(&mut admin, "gone", &["kept".to_string()]).await;
    assert_eq!(lrange(&mut admin, "gone").await, ["kept"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blmove_chains_keep_every_element() {
    const MOVERS: usize = 5;
    const ELEMENTS: usize = 200;
    let server = start_async().await;
    let mut movers = Vec::new();
    for (from, to) in [("a", "b"), ("b", "c")] {
        for _ in 0..MOVERS {
            let mut con = connect_async(&server).await;
            movers.push(tokio::spawn(async move {
                let mut moved = 0usize;
                loop {
                    let got: Option<String> = redis::cmd("BLMOVE")
                        .arg(from)
                        .arg(to)
                        .arg("LEFT")
                        .arg("RIGHT")
                        .arg(0.2)
                        .query_async(&mut con)
                        .await
                        .expect("BLMOVE");
                    match got {
                        Some(_) => moved += 1,
                        None => return moved,
                    }
                }
            }));
        }
    }
    let mut admin = connect_async(&server).await;
    wait_blocked(&mut admin, 2 * MOVERS).await;
    let pushed: Vec<String> = (0..ELEMENTS).map(|i| format!("e{i}")).collect();
    let mut pusher = connect_async(&server).await;
    let values = pushed.clone();
    let push = tokio::spawn(async move {
        for chunk in values.chunks(4) {
            rpush(&mut pusher, "a", chunk).await;
        }
    });
    let run = async {
        push.await.expect("the pusher");
        let mut moved = 0;
        for m in movers {
            moved += m.await.expect("a mover");
        }
        moved
    };
    let moved = timeout(LIMIT, run).await.expect("a mover got stuck");
    let mut all = lrange(&mut admin, "a").await;
    all.extend(lrange(&mut admin, "b").await);
    let c = lrange(&mut admin, "c").await;
    all.extend(c.iter().cloned());
    assert_eq!(multiset(all), multiset(pushed));
    // Every element that reached c was moved twice.
    assert!(moved >= 2 * c.len(), "moved {moved}, c holds {}", c.len());
    assert_eq!(info_clients(&mut admin, "blocked_clients").await, 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_pipelined_after_a_blocked_one_wait_their_turn() {
    use tokio::io::AsyncReadExt;
    let server = start_async().await;
    let mut admin = connect_async(&server).await;
    let mut raw = raw_client(&server).await;
    raw.write_all(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
        .await
        .expect("send BLPOP and PING");
    wait_blocked(&mut admin, 1).await;
    rpush(&mut admin, "k", &["v".to_string()]).await;
    let want = b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n+PONG\r\n";
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 64];
        while got.len() < want.len() {
            let n = raw.read(&mut buf).await.expect("read the replies");
            assert!(n > 0, "the server closed the connection");
            got.extend_from_slice(&buf[..n]);
        }
    };
    timeout(LIMIT, read).await.expect("the replies never came");
    assert_eq!(got, want);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_kill_and_unblock_end_a_wait() {
    let server = start_async().await;
    let mut admin = connect_async(&server).await;
    let mut waiter = connect_async(&server).await;
    let id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut waiter)
        .await
        .expect("CLIENT ID");
    let blocked = tokio::spawn(async move {
        let r: redis::RedisResult<Option<(String, String)>> = redis::cmd("BLPOP")
            .arg("k")
            .arg(0)
            .query_async(&mut waiter)
            .await;
        (r, waiter)
    });
    wait_blocked(&mut admin, 1).await;
    let unblocked: i64 = redis::cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(id)
        .arg("ERROR")
        .query_async(&mut admin)
        .await
        .expect("CLIENT UNBLOCK");
    assert_eq!(unblocked, 1);
    let (r, mut waiter) = timeout(LIMIT, blocked)
        .await
        .expect("still blocked")
        .expect("task");
    let e = r.expect_err("an UNBLOCKED error");
    assert_eq!(e.code(), Some("UNBLOCKED"), "{e}");
    // Blocked again, then killed: the registry forgets it and the push stays in the list.
    let blocked = tokio::spawn(async move {
        let _: redis::RedisResult<Option<(String, String)>> = redis::cmd("BLPOP")
            .arg("k")
            .arg(0)
            .query_async(&mut waiter)
            .await;
    });
    wait_blocked(&mut admin, 1).await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut admin)
        .await
        .expect("CLIENT KILL");
    assert_eq!(killed, 1);
    wait_blocked(&mut admin, 0).await;
    rpush(&mut admin, "k", &["kept".to_string()]).await;
    assert_eq!(lrange(&mut admin, "k").await, ["kept"]);
    blocked.abort();
    server.shutdown().await;
}
