//! MULTI/EXEC/WATCH under concurrency, with a real client (the `redis` crate) against an
//! in-process Ferrodis on a multi-threaded runtime: optimistic locking loses no update, and
//! other clients never observe half of a transaction.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{connect_async, start_async};
use redis::aio::MultiplexedConnection;

/// Read-modify-write of `key` (GET, then SET value+1 in MULTI/EXEC under WATCH), retried until
/// EXEC succeeds; returns how many EXECs were aborted by a concurrent write.
async fn watched_increment(con: &mut MultiplexedConnection, key: &str) -> u64 {
    let mut aborted = 0;
    loop {
        let _: () = redis::cmd("WATCH")
            .arg(key)
            .query_async(con)
            .await
            .expect("WATCH");
        let current: Option<i64> = redis::cmd("GET")
            .arg(key)
            .query_async(con)
            .await
            .expect("GET");
        let next = current.unwrap_or(0) + 1;
        let done: Option<()> = redis::pipe()
            .atomic()
            .set(key, next)
            .ignore()
            .query_async(con)
            .await
            .expect("MULTI/SET/EXEC");
        if done.is_some() {
            return aborted;
        }
        aborted += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_retry_loops_lose_no_update() {
    const TASKS: u64 = 8;
    const PER_TASK: u64 = 50;
    let server = start_async().await;
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let mut con = connect_async(&server).await;
        handles.push(tokio::spawn(async move {
            let mut aborted = 0;
            for _ in 0..PER_TASK {
                aborted += watched_increment(&mut con, "counter").await;
            }
            aborted
        }));
    }
    let mut aborted = 0;
    for h in handles {
        aborted += h.await.expect("an incrementing task");
    }
    let mut con = connect_async(&server).await;
    let total: i64 = redis::cmd("GET")
        .arg("counter")
        .query_async(&mut con)
        .await
        .expect("GET");
    // Every successful EXEC added exactly one: nothing was lost to a concurrent write.
    assert_eq!(total, i64::try_from(TASKS * PER_TASK).expect("small count"));
    println!("{aborted} EXECs aborted by concurrent writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_half_a_transaction() {
    const ROUNDS: i64 = 300;
    let server = start_async().await;
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut con = connect_async(&server).await;
        let done = done.clone();
        readers.push(tokio::spawn(async move {
            let mut reads = 0u64;
            while !done.load(Ordering::Acquire) {
                let (a, b): (Option<i64>, Option<i64>) = redis::cmd("MGET")
                    .arg("a")
                    .arg("b")
                    .query_async(&mut con)
                    .await
                    .expect("MGET");
                assert_eq!(a, b, "a reader saw a transaction half applied");
                reads += 1;
            }
            reads
        }));
    }
    let mut con = connect_async(&server).await;
    for _ in 0..ROUNDS {
        let (a, b): (i64, i64) = redis::pipe()
            .atomic()
            .incr("a", 1)
            .incr("b", 1)
            .query_async(&mut con)
            .await
            .expect("MULTI/INCR/INCR/EXEC");
        assert_eq!(a, b);
    }
    done.store(true, Ordering::Release);
    for r in readers {
        r.await.expect("a reader task");
    }
    let (a, b): (i64, i64) = redis::cmd("MGET")
        .arg("a")
        .arg("b")
        .query_async(&mut con)
        .await
        .expect("MGET");
    assert_eq!((a, b), (ROUNDS, ROUNDS));
}
