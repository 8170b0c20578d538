//! A real client library (the `redis` crate, async on tokio) against an in-process Ferrodis,
//! plus the in-process [`ferrodis::LocalClient`] API and graceful shutdown.
//!
//! Each test starts its own server on `127.0.0.1:0` inside the test's runtime; the runtime
//! ends with the test (also on panic), taking the server with it.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferrodis::{Ferrodis, Frame};
use ferrodis_resp::decode_frame;
use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{bulk, error, simple, test_config, DEADLINE};

async fn start() -> Ferrodis {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    Ferrodis::start_on(test_config(), addr)
        .await
        .expect("start the in-process server")
}

fn url(server: &Ferrodis, path: &str) -> String {
    let addr = server.local_addr().expect("the server listens on TCP");
    format!("redis://{addr}/{path}")
}

async fn connect_url(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .expect("a valid URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect with the redis crate")
}

async fn connect(server: &Ferrodis) -> MultiplexedConnection {
    connect_url(&url(server, "")).await
}

/// Polls an async condition until it holds; panics with `what` after [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_and_expiry_through_the_redis_crate() -> redis::RedisResult<()> {
    let server = start().await;
    let mut con = connect(&server).await;

    let () = con.set("greeting", "hello").await?;
    let got: String = con.get("greeting").await?;
    assert_eq!(got, "hello");
    let missing: Option<String> = con.get("missing").await?;
    assert_eq!(missing, None);

    assert_eq!(con.incr::<_, _, i64>("n", 1).await?, 1);
    assert_eq!(con.incr::<_, _, i64>("n", 41).await?, 42);
    let err = con
        .incr::<_, _, i64>("greeting", 1)
        .await
        .expect_err("INCR of a non-integer fails");
    assert_eq!(err.code(), Some("ERR"));
    assert!(
        err.to_string()
            .contains("value is not an integer or out of range"),
        "{err}"
    );

    let () = con.mset(&[("a", "1"), ("b", "2"), ("c", "3")]).await?;
    let values: Vec<Option<String>> = con.mget(&["a", "missing", "c"]).await?;
    assert_eq!(values, [Some("1".into()), None, Some("3".into())]);

    assert_eq!(con.ttl::<_, i64>("a").await?, -1);
    assert_eq!(con.ttl::<_, i64>("missing").await?, -2);
    assert!(con.expire::<_, bool>("a", 100).await?);
    assert!(!con.expire::<_, bool>("missing", 100).await?);
    let ttl: i64 = con.ttl("a").await?;
    assert!((99..=100).contains(&ttl), "TTL {ttl}");
    let pttl: i64 = con.pttl("a").await?;
    assert!((99_000..=100_000).contains(&pttl), "PTTL {pttl}");
    assert!(con.persist::<_, bool>("a").await?);
    assert_eq!(con.ttl::<_, i64>("a").await?, -1);

    // A key whose deadline has passed is gone (PEXPIRE in the past deletes at once).
    assert!(con.pexpire::<_, bool>("b", -1).await?);
    assert_eq!(con.exists::<_, i64>("b").await?, 0);

    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_iterates_over_every_key() -> redis::RedisResult<()> {
    const KEYS: usize = 2000;
    let server = start().await;
    let mut con = connect(&server).await;
    let mut pipe = redis::pipe();
    for i in 0..KEYS {
        pipe.set(format!("key:{i}"), i).ignore();
    }
    pipe.set("other", 1).ignore();
    let () = pipe.query_async(&mut con).await?;

    let mut seen = HashSet::new();
    let mut iter = con.scan_match::<_, String>("key:*").await?;
    while let Some(key) = iter.next_item().await {
        seen.insert(key);
    }
    drop(iter);
    let want: HashSet<String> = (0..KEYS).map(|i| format!("key:{i}")).collect();
    assert_eq!(seen, want);

    // A manual cursor loop with COUNT sees every key at least once, and ends on cursor 0.
    let (mut cursor, mut all, mut rounds) = (0u64, HashSet::new(), 0);
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(100)
            .query_async(&mut con)
            .await?;
        all.extend(batch);
        rounds += 1;
        assert!(rounds < 10 * KEYS, "SCAN does not terminate");
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(all.len(), KEYS + 1);
    assert_eq!(
        con.scan_match::<_, String>("nomatch:*")
            .await?
            .next_item()
            .await,
        None
    );

    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_of_1000_commands_answers_each_in_order() -> redis::RedisResult<()> {
    let server = start().await;
    let mut con = connect(&server).await;
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        match i % 4 {
            0 => pipe.incr("counter", 1),
            1 => pipe.set(format!("k{i}"), i),
            2 => pipe.get(format!("k{}", i - 1)),
            _ => pipe.cmd("ECHO").arg(format!("echo {i}")),
        };
    }
    let replies: Vec<Value> = pipe.query_async(&mut con).await?;
    assert_eq!(replies.len(), 1000);
    for (i, reply) in replies.iter().enumerate() {
        let want = match i % 4 {
            0 => Value::Int(i as i64 / 4 + 1),
            1 => Value::Okay,
            2 => Value::BulkString((i - 1).to_string().into_bytes()),
            _ => Value::BulkString(format!("echo {i}").into_bytes()),
        };
        assert_eq!(reply, &want, "reply {i}");
    }
    let n: i64 = con.get("counter").await?;
    assert_eq!(n, 250);

    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_from_the_url_is_selected() -> redis::RedisResult<()> {
    let server = start().await;
    let mut db2 = connect_url(&url(&server, "2")).await;
    let mut db0 = connect(&server).await;

    let () = db2.set("only-in-2", "yes").await?;
    assert_eq!(db2.get::<_, String>("only-in-2").await?, "yes");
    assert_eq!(db0.get::<_, Option<String>>("only-in-2").await?, None);
    assert_eq!(db0.exists::<_, i64>("only-in-2").await?, 0);
    let info: String = redis::cmd("CLIENT")
        .arg("INFO")
        .query_async(&mut db2)
        .await?;
    assert!(info.contains(" db=2 "), "{info}");
    let sizes: (i64, i64) = (
        redis::cmd("DBSIZE").query_async(&mut db0).await?,
        redis::cmd("DBSIZE").query_async(&mut db2).await?,
    );
    assert_eq!(sizes, (0, 1));

    // The in-process client sees it after SELECT too.
    let mut local = server.client();
    assert_eq!(local.run(["SELECT", "2"]), simple("OK"));
    assert_eq!(local.run(["GET", "only-in-2"]), bulk("yes"));

    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp3_after_hello_3() -> redis::RedisResult<()> {
    let server = start().await;

    // Through the crate: `protocol=resp3` makes it send HELLO 3 when connecting.
    let mut con = connect_url(&url(&server, "?protocol=resp3")).await;
    let hello: Value = redis::cmd("HELLO").arg(3).query_async(&mut con).await?;
    let Value::Map(pairs) = &hello else {
        panic!("HELLO 3 did not return a map: {hello:?}");
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == Value::BulkString(name.as_bytes().to_vec()))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("proto"), Some(Value::Int(3)), "{hello:?}");
    assert_eq!(
        field("mode"),
        Some(Value::BulkString(b"standalone".to_vec()))
    );
    let missing: Value = redis::cmd("GET")
        .arg("missing")
        .query_async(&mut con)
        .await?;
    assert_eq!(missing, Value::Nil);
    let config: Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("databases")
        .query_async(&mut con)
        .await?;
    assert_eq!(
        config,
        Value::Map(vec![(
            Value::BulkString(b"databases".to_vec()),
            Value::BulkString(b"16".to_vec())
        )])
    );

    // On the wire: the map and null types of RESP3.
    let addr = server.local_addr().expect("TCP address");
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    raw.write_all(b"HELLO 3\r\nGET missing\r\nHELLO 2\r\nGET missing\r\n")
        .await
        .expect("send");
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while frames.len() < 4 {
        assert!(Instant::now() < deadline, "replies: {frames:?}");
        while let Some(frame) = decode_frame(&mut buf).expect("a well-formed reply") {
            frames.push(frame);
        }
        if frames.len() < 4 {
            let n = tokio::time::timeout(DEADLINE, raw.read_buf(&mut buf))
                .await
                .expect("a reply in time")
                .expect("read");
            assert!(n > 0, "closed; replies: {frames:?}");
        }
    }
    assert!(matches!(frames[0], Frame::Map(_)), "{:?}", frames[0]);
    assert_eq!(frames[1], Frame::Null);
    assert!(matches!(frames[2], Frame::Array(_)), "{:?}", frames[2]);
    assert_eq!(frames[3], Frame::Null);

    server.shutdown().await;
    Ok(())
}

/// RESP3's null is `_\r\n` and its map `%`: checked byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp3_wire_bytes() {
    let server = start().await;
    let addr = server.local_addr().expect("TCP address");
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    raw.write_all(b"HELLO 3\r\n").await.expect("send");
    let mut buf = BytesMut::new();
    while decode_frame(&mut buf.clone())
        .expect("a well-formed reply")
        .is_none()
    {
        let n = tokio::time::timeout(DEADLINE, raw.read_buf(&mut buf))
            .await
            .expect("a reply in time")
            .expect("read");
        assert!(n > 0, "closed");
    }
    assert!(buf.starts_with(b"%7\r\n"), "{}", common::show(&buf));
    buf.clear();
    raw.write_all(b"GET missing\r\nCONFIG GET databases\r\n")
        .await
        .expect("send");
    let want = b"_\r\n%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n";
    while buf.len() < want.len() {
        let n = tokio::time::timeout(DEADLINE, raw.read_buf(&mut buf))
            .await
            .expect("a reply in time")
            .expect("read");
        assert!(n > 0, "closed");
    }
    assert_eq!(common::show(&buf), common::show(want));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_incr_from_8_connections_loses_nothing() -> redis::RedisResult<()> {
    let server = start().await;
    let url = url(&server, "");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let url = url.clone();
        tasks.spawn(async move {
            let mut con = connect_url(&url).await;
            for _ in 0..500 {
                let _: i64 = con.incr("shared", 1).await?;
            }
            redis::RedisResult::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task")?;
    }
    let mut con = connect(&server).await;
    assert_eq!(con.get::<_, i64>("shared").await?, 4000);
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_distinct_keys_all_land() -> redis::RedisResult<()> {
    let server = start().await;
    let url = url(&server, "");
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let url = url.clone();
        tasks.spawn(async move {
            let mut con = connect_url(&url).await;
            for i in 0..250 {
                let () = con.set(format!("t{t}:k{i}"), format!("{t}/{i}")).await?;
            }
            redis::RedisResult::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task")?;
    }
    let mut con = connect(&server).await;
    let size: i64 = redis::cmd("DBSIZE").query_async(&mut con).await?;
    assert_eq!(size, 2000);
    assert_eq!(con.get::<_, String>("t7:k249").await?, "7/249");
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_setname_list_and_kill() -> redis::RedisResult<()> {
    let server = start().await;
    let mut alpha = connect(&server).await;
    let mut beta = connect(&server).await;

    let () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("alpha")
        .query_async(&mut alpha)
        .await?;
    let () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("beta")
        .query_async(&mut beta)
        .await?;
    let name: String = redis::cmd("CLIENT")
        .arg("GETNAME")
        .query_async(&mut alpha)
        .await?;
    assert_eq!(name, "alpha");
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut beta)
        .await?;
    let names: HashSet<&str> = list
        .lines()
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("name=")))
        .collect();
    assert_eq!(names, HashSet::from(["alpha", "beta"]), "{list}");
    let err = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("has space")
        .query_async::<()>(&mut alpha)
        .await
        .expect_err("a name with a space is refused");
    assert!(
        err.to_string()
            .contains("Client names cannot contain spaces, newlines or special characters."),
        "{err}"
    );

    let alpha_id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut alpha)
        .await?;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(alpha_id)
        .query_async(&mut beta)
        .await?;
    assert_eq!(killed, 1);
    let after = redis::cmd("PING").query_async::<String>(&mut alpha).await;
    assert!(
        after.is_err(),
        "the killed connection still answers: {after:?}"
    );
    eventually("the killed client to leave CLIENT LIST", || {
        let mut beta = beta.clone();
        async move {
            let list: String = redis::cmd("CLIENT")
                .arg("LIST")
                .query_async(&mut beta)
                .await
                .expect("CLIENT LIST");
            !list.contains(&format!("id={alpha_id} "))
        }
    })
    .await;
    let again = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(alpha_id)
        .query_async::<i64>(&mut beta)
        .await?;
    assert_eq!(again, 0);
    assert_eq!(
        redis::cmd("PING").query_async::<String>(&mut beta).await?,
        "PONG"
    );

    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_client_keeps_its_state_between_commands() {
    let server = start().await;
    let mut one = server.client();
    let mut two = server.client();

    assert_eq!(one.run(["SET", "k", "v0"]), simple("OK"));
    assert_eq!(one.run(["SELECT", "3"]), simple("OK"));
    assert_eq!(one.run(["GET", "k"]), Frame::Null);
    assert_eq!(one.run(["SET", "k", "v3"]), simple("OK"));
    assert_eq!(one.run(["GET", "k"]), bulk("v3"));
    assert_eq!(
        two.run(["GET", "k"]),
        bulk("v0"),
        "another client stays in db 0"
    );
    assert_eq!(one.run(["CLIENT", "SETNAME", "local-one"]), simple("OK"));
    assert_eq!(one.run(["CLIENT", "GETNAME"]), bulk("local-one"));
    assert_eq!(two.run(["CLIENT", "GETNAME"]), Frame::Null);
    assert_eq!(
        one.run(["GET"]),
        error("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        one.run(["INCR", "k"]),
        error("ERR value is not an integer or out of range")
    );
    assert_eq!(
        one.run(["NOSUCH", "a"]),
        error("ERR unknown command 'NOSUCH', with args beginning with: 'a' ")
    );
    assert_eq!(
        one.run([&b"APPEND"[..], b"bin", b"\xff\x00"]),
        Frame::Integer(2)
    );
    assert_eq!(one.run(["GET", "bin"]), Frame::Bulk(vec![0xff, 0].into()));

    // What a local client writes, a network client reads.
    let mut con = connect_url(&url(&server, "3")).await;
    assert_eq!(con.get::<_, String>("k").await.expect("GET"), "v3");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connected_clients_and_the_listener() {
    let server = start().await;
    let addr = server.local_addr().expect("TCP address");
    let mut con = connect(&server).await;
    let () = con.set("k", "v").await.expect("SET");
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    raw.write_all(b"PING\r\n").await.expect("send");
    let mut buf = [0u8; 64];
    let n = raw.read(&mut buf).await.expect("read");
    assert_eq!(&buf[..n], b"+PONG\r\n");

    tokio::time::timeout(DEADLINE, server.shutdown())
        .await
        .expect("shutdown completes");

    let n = tokio::time::timeout(DEADLINE, raw.read(&mut buf))
        .await
        .expect("the raw connection is closed in time")
        .unwrap_or(0);
    assert_eq!(n, 0, "got {:?} instead of a close", &buf[..n]);
    let after = redis::cmd("PING").query_async::<String>(&mut con).await;
    assert!(after.is_err(), "a client still got an answer: {after:?}");
    eventually("the listener to close", || async {
        TcpStream::connect(addr).await.is_err()
    })
    .await;
}
