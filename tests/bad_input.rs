//! Malformed and hostile input over raw TCP against an in-process Ferrodis.
//!
//! Every error text and the decision to close the connection are compared byte for byte with
//! the reference redis-server 7.0 (over its Unix socket) when it is installed; the expected bytes
//! are also written out here, as observed on redis-server 7.0.15, so the tests still check
//! Ferrodis without it.
//!
//! A case whose connection stays open is followed by a marker request (`ECHO end-of-case!`):
//! the bytes before the marker's reply are the case's reply, and no timing is involved.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use common::{
    bulk, multibulk, show, simple, wait_until, BackgroundServer, Outcome, RawConn, Reference,
    DEADLINE,
};
use ferrodis::Frame;

/// Sent after a case whose connection stays open.
const MARKER: &[u8] = b"*2\r\n$4\r\nECHO\r\n$12\r\nend-of-case!\r\n";
/// The reply to [`MARKER`].
const MARKER_REPLY: &[u8] = b"$12\r\nend-of-case!\r\n";

/// One input and what redis-server 7.0.15 answers to it.
struct Case {
    name: &'static str,
    input: Vec<u8>,
    reply: Vec<u8>,
    closes: bool,
}

fn closes(name: &'static str, input: impl Into<Vec<u8>>, reply: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        input: input.into(),
        reply: reply.into(),
        closes: true,
    }
}

fn stays_open(name: &'static str, input: impl Into<Vec<u8>>, reply: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        input: input.into(),
        reply: reply.into(),
        closes: false,
    }
}

/// Sends the case's input on `conn` and reads what the server does.
fn run_case(mut conn: RawConn, case: &Case) -> Outcome {
    // The server may close before everything is written (oversized input): that is expected.
    let _ = conn.send(&case.input);
    if case.closes {
        conn.read_outcome(None)
    } else {
        let _ = conn.send(MARKER);
        conn.read_outcome(Some(MARKER_REPLY))
    }
}

/// Runs every case against Ferrodis and, when installed, the reference; panics listing every
/// case where either differs from the expected bytes.
fn check_cases(cases: &[Case]) {
    let server = BackgroundServer::start();
    let reference = Reference::start();
    let mut failures = Vec::new();
    for case in cases {
        let expected = Outcome {
            reply: case.reply.clone(),
            closed: case.closes,
        };
        let got = run_case(server.connect(), case);
        if got != expected {
            failures.push(format!(
                "{}: Ferrodis replied {} (closed: {}), redis-server replies {} (closed: {})",
                case.name,
                show(&got.reply),
                got.closed,
                show(&expected.reply),
                expected.closed
            ));
        }
        if let Some(reference) = &reference {
            let got = run_case(reference.connect(), case);
            if got != expected {
                failures.push(format!(
                    "{}: the reference now replies {} (closed: {}); this test expects {} \
                     (closed: {})",
                    case.name,
                    show(&got.reply),
                    got.closed,
                    show(&expected.reply),
                    expected.closed
                ));
            }
        }
        // Whatever a case did, the server still serves new connections.
        assert_eq!(
            server.connect().command(&["PING"]),
            simple("PONG"),
            "after {}",
            case.name
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const INVALID_MULTIBULK: &[u8] = b"-ERR Protocol error: invalid multibulk length\r\n";
const INVALID_BULK: &[u8] = b"-ERR Protocol error: invalid bulk length\r\n";

#[test]
fn protocol_errors_reply_like_redis_and_close() {
    check_cases(&[
        closes("non-numeric count", "*abc\r\n", INVALID_MULTIBULK),
        closes("empty count", "*\r\n", INVALID_MULTIBULK),
        closes(
            "count with plus sign",
            "*+1\r\n$4\r\nPING\r\n",
            INVALID_MULTIBULK,
        ),
        closes(
            "count with leading zero",
            "*01\r\n$4\r\nPING\r\n",
            INVALID_MULTIBULK,
        ),
        closes(
            "count with trailing space",
            "*1 \r\n$4\r\nPING\r\n",
            INVALID_MULTIBULK,
        ),
        closes("count over INT_MAX", "*2147483648\r\n", INVALID_MULTIBULK),
        closes(
            "null bulk inside a multibulk",
            "*2\r\n$-1\r\n",
            INVALID_BULK,
        ),
        closes("negative bulk length", "*1\r\n$-5\r\n", INVALID_BULK),
        closes("non-numeric bulk length", "*1\r\n$abc\r\n", INVALID_BULK),
        closes(
            "bulk length with plus sign",
            "*1\r\n$+4\r\nPING\r\n",
            INVALID_BULK,
        ),
        closes("huge bulk length", "*1\r\n$999999999999\r\n", INVALID_BULK),
        closes(
            "bulk of proto-max-bulk-len + 1",
            "*1\r\n$536870913\r\n",
            INVALID_BULK,
        ),
        closes("1 GB bulk announced", "*1\r\n$1073741824\r\n", INVALID_BULK),
        closes(
            "simple string instead of bulk",
            "*1\r\n+foo\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        closes(
            "error after a good command",
            "*1\r\n$4\r\nPING\r\n*1\r\n-x\r\n",
            "+PONG\r\n-ERR Protocol error: expected '$', got '-'\r\n",
        ),
        closes(
            "multibulk with LF-only line ends",
            "*1\r\n$4\r\nPING\r\n*1\n$4\nPING\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n",
            [b"+PONG\r\n".as_slice(), INVALID_MULTIBULK].concat(),
        ),
        closes(
            "unbalanced double quote",
            "SET \"a b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        closes(
            "unbalanced single quote",
            "foo bar 'baz\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        closes(
            "closing quote not followed by a space",
            "GET 'a'b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        closes(
            "inline line over 64 KiB without newline",
            vec![b'x'; 70_000],
            "-ERR Protocol error: too big inline request\r\n",
        ),
        closes(
            "NUL then 64 KiB of garbage",
            [b"\0garbage\r\n".as_slice(), &[b'x'; 70_000]].concat(),
            "-ERR Protocol error: too big inline request\r\n",
        ),
        closes(
            "multibulk count line over 64 KiB",
            [b"*".as_slice(), &[b'1'; 70_000]].concat(),
            "-ERR Protocol error: too big mbulk count string\r\n",
        ),
        closes(
            "bulk length line over 64 KiB",
            [b"*1\r\n$".as_slice(), &[b'1'; 70_000]].concat(),
            "-ERR Protocol error: too big bulk count string\r\n",
        ),
        closes(
            "QUIT in a pipeline",
            [
                multibulk(&["SET", "k", "v"]),
                multibulk(&["GET", "k"]),
                multibulk(&["QUIT"]),
                multibulk(&["PING"]),
            ]
            .concat(),
            "+OK\r\n$1\r\nv\r\n+OK\r\n",
        ),
    ]);
}

#[test]
fn recoverable_input_replies_like_redis_and_keeps_the_connection() {
    let long_name = "x".repeat(200);
    let long_arg = "y".repeat(200);
    check_cases(&[
        stays_open("negative count", "*-5\r\n", ""),
        stays_open("zero count", "*0\r\n", ""),
        stays_open("empty lines", "\r\n\r\n", ""),
        stays_open("blank line", "  \r\n", ""),
        stays_open(
            "printable garbage",
            "\x01\x02\x03garbage\x7f\r\n",
            "-ERR unknown command '\x01\x02\x03garbage\x7f', with args beginning with: \r\n",
        ),
        stays_open(
            "UTF-8 command name",
            "été\r\n",
            "-ERR unknown command 'été', with args beginning with: \r\n",
        ),
        stays_open(
            "unknown inline command with args",
            "foo a b\r\n",
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
        ),
        stays_open(
            "inline arity error",
            "get\r\n",
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
        stays_open(
            "bulk header sent as a command",
            "$4\r\nPING\r\n",
            "-ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n",
        ),
        stays_open(
            "bulk longer than announced",
            "*2\r\n$4\r\nECHO\r\n$3\r\nabcde\r\n",
            "$3\r\nabc\r\n",
        ),
        stays_open("bulk CRLF replaced", "*1\r\n$4\r\nPINGxx\r\n", "+PONG\r\n"),
        stays_open("empty command name", "*1\r\n$0\r\n\r\n", {
            "-ERR unknown command '', with args beginning with: \r\n"
        }),
        stays_open(
            "CR LF inside arguments of an error",
            "*2\r\n$3\r\nfoo\r\n$4\r\na\r\nb\r\n",
            "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n",
        ),
        stays_open(
            "inline hex escapes",
            "ECHO \"\\x41\\x4\"\r\n",
            "$3\r\nAx4\r\n",
        ),
        stays_open("inline escaped quote", "ECHO 'a\\'b'\r\n", "$3\r\na'b\r\n"),
        stays_open(
            "60 KB inline line",
            format!("ECHO {}\r\n", "z".repeat(60_000)),
            format!("$60000\r\n{}\r\n", "z".repeat(60_000)),
        ),
        stays_open(
            "long unknown command name is cut at 128 bytes",
            format!("{long_name}\r\n"),
            format!(
                "-ERR unknown command '{}', with args beginning with: \r\n",
                &long_name[..128]
            ),
        ),
        stays_open(
            "long argument of an unknown command is cut at 128 bytes",
            format!("foo {long_arg}\r\n"),
            format!(
                "-ERR unknown command 'foo', with args beginning with: '{}' \r\n",
                &long_arg[..128]
            ),
        ),
        stays_open(
            "binary value round trip",
            [
                multibulk(&[&b"SET"[..], &b"k"[..], &b"\xff\0\r\n"[..]]),
                multibulk(&["GET", "k"]),
            ]
            .concat(),
            b"+OK\r\n$4\r\n\xff\0\r\n\r\n".as_slice(),
        ),
    ]);
}

#[test]
fn non_utf8_command_names_and_args_are_echoed_raw_like_redis() {
    check_cases(&[
        stays_open(
            "non-UTF-8 command name",
            b"\xff\xfe\r\n".as_slice(),
            b"-ERR unknown command '\xff\xfe', with args beginning with: \r\n".as_slice(),
        ),
        stays_open(
            "non-UTF-8 argument",
            b"foo \xff\xfe\r\n".as_slice(),
            b"-ERR unknown command 'foo', with args beginning with: '\xff\xfe' \r\n".as_slice(),
        ),
    ]);
}

/// Redis formats the name with `%s`, so it ends at the first NUL byte.
#[test]
fn unknown_command_name_with_nul_is_cut_at_the_nul_like_redis() {
    check_cases(&[stays_open(
        "NUL in a multibulk command name",
        b"*1\r\n$3\r\nf\0o\r\n".as_slice(),
        "-ERR unknown command 'f', with args beginning with: \r\n",
    )]);
}

/// Connected clients as INFO reports them.
fn connected_clients(conn: &mut RawConn) -> usize {
    let Frame::Bulk(info) = conn.command(&["INFO", "clients"]) else {
        panic!("INFO did not return a bulk string");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connected_clients in {info}"))
}

#[test]
fn one_gigabyte_bulk_announced_is_refused_and_the_connection_closed() {
    let server = BackgroundServer::start();
    let mut conn = server.connect();
    conn.send(b"*1\r\n$1073741824\r\n")
        .expect("send the header");
    assert_eq!(show(&conn.read_to_close()), show(INVALID_BULK));
    let mut other = server.connect();
    assert_eq!(other.command(&["SET", "after", "1"]), simple("OK"));
    assert_eq!(other.command(&["GET", "after"]), bulk("1"));
}

/// Resident memory of this process (the server runs in it), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A 500 MB bulk is within proto-max-bulk-len, so the server must wait for it: it must not
/// allocate it up front, and must keep serving everyone else meanwhile.
#[test]
fn announced_500mb_bulk_never_sent_does_not_take_memory_or_block_others() {
    const PAYLOAD_BYTES: usize = 4 << 20;
    let server = BackgroundServer::start();
    let mut big = server.connect();
    assert_eq!(big.command(&["CLIENT", "SETNAME", "big"]), simple("OK"));
    let before = rss_kib();
    big.send(b"*2\r\n$4\r\nECHO\r\n$524288000\r\n")
        .expect("send the header");
    big.send(&vec![b'a'; PAYLOAD_BYTES])
        .expect("send part of the bulk");

    let mut other = server.connect();
    // Wait until the server has read what was sent, so the memory check means something.
    wait_until("the server to read the partial bulk", DEADLINE, || {
        let Frame::Bulk(list) = other.command(&["CLIENT", "LIST"]) else {
            panic!("CLIENT LIST did not return a bulk string");
        };
        let list = String::from_utf8_lossy(&list).into_owned();
        let line = list
            .lines()
            .find(|l| l.contains(" name=big "))
            .unwrap_or_else(|| panic!("no client named big in {list}"));
        let field = |name: &str| -> u64 {
            line.split(' ')
                .find_map(|f| f.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        field("qbuf=") + field("argv-mem=") >= PAYLOAD_BYTES as u64
    });
    assert_eq!(other.command(&["PING"]), simple("PONG"));
    assert_eq!(other.command(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(other.command(&["GET", "k"]), bulk("v"));
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(
        grown_mib < 200,
        "RSS grew by {grown_mib} MiB after a 500 MB bulk was announced and 4 MiB sent"
    );

    drop(big);
    wait_until("the big client to go away", DEADLINE, || {
        connected_clients(&mut other) == 1
    });
    assert_eq!(other.command(&["PING"]), simple("PONG"));
}

#[test]
fn half_sent_frame_then_close_leaves_no_trace() {
    let server = BackgroundServer::start();
    let mut observer = server.connect();
    for partial in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n"[..],
        b"*3\r\n$3\r\nSET\r\n$1\r\nk",
        b"*3\r\n$3\r\nSE",
        b"*3\r",
        b"SET k v",
    ] {
        let mut conn = server.connect();
        conn.send(partial).expect("send a partial frame");
        drop(conn);
        wait_until("the half-sent client to go away", DEADLINE, || {
            connected_clients(&mut observer) == 1
        });
        assert_eq!(
            observer.command(&["EXISTS", "k"]),
            Frame::Integer(0),
            "after {}",
            show(partial)
        );
    }
    assert_eq!(observer.command(&["DBSIZE"]), Frame::Integer(0));
}

/// What a misbehaving client sends, and the reply it gets before being disconnected (`None`:
/// it disconnects itself without reading).
fn garbage(i: usize) -> (Vec<u8>, Option<&'static [u8]>) {
    match i % 5 {
        0 => (b"*abc\r\n".to_vec(), Some(INVALID_MULTIBULK)),
        1 => {
            // Deterministic pseudo-random bytes (a 64-bit LCG), different per client.
            let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let bytes = (0..4096)
                .map(|_| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (x >> 56) as u8
                })
                .collect();
            (bytes, None)
        }
        2 => (
            vec![b'x'; 70_000],
            Some(b"-ERR Protocol error: too big inline request\r\n"),
        ),
        3 => (
            b"SET \"a b\r\n".to_vec(),
            Some(b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        ),
        _ => (b"*1\r\n$1073741824\r\n".to_vec(), Some(INVALID_BULK)),
    }
}

/// Counts a finished client thread when dropped, also when the thread panics.
struct Finished(Arc<AtomicUsize>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn hundred_garbage_clients_at_once_do_not_disturb_a_well_behaved_client() {
    const CLIENTS: usize = 100;
    let server = BackgroundServer::start();
    let addr = server.addr();
    let mut good = server.connect();
    assert_eq!(good.command(&["SET", "counter", "0"]), simple("OK"));

    let start = Arc::new(Barrier::new(CLIENTS));
    let done = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (start, done) = (start.clone(), done.clone());
            thread::spawn(move || {
                start.wait();
                let _done = Finished(done);
                let mut conn = RawConn::tcp(addr);
                let (input, reply) = garbage(i);
                let _ = conn.send(&input);
                let result = match reply {
                    Some(expected) => {
                        let got = conn.read_outcome(None);
                        let want = Outcome {
                            reply: expected.to_vec(),
                            closed: true,
                        };
                        (got == want).then_some(()).ok_or_else(|| {
                            format!(
                                "client {i}: got {} (closed: {}), want {} and a close",
                                show(&got.reply),
                                got.closed,
                                show(expected)
                            )
                        })
                    }
                    None => Ok(()),
                };
                result
            })
        })
        .collect();

    let mut n = 0i64;
    let deadline = Instant::now() + 3 * DEADLINE;
    while done.load(Ordering::SeqCst) < CLIENTS || n < 100 {
        assert!(
            Instant::now() < deadline,
            "only {} of {CLIENTS} garbage clients finished",
            done.load(Ordering::SeqCst)
        );
        n += 1;
        assert_eq!(good.command(&["INCR", "counter"]), Frame::Integer(n));
        let key = format!("key:{n}");
        assert_eq!(good.command(&["SET", &key, &key]), simple("OK"));
        assert_eq!(good.command(&["GET", &key]), bulk(&key));
    }
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|h| h.join().expect("garbage client thread").err())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    wait_until("every garbage client to be gone", DEADLINE, || {
        connected_clients(&mut good) == 1
    });
    assert_eq!(good.command(&["GET", "counter"]), bulk(&n.to_string()));
    assert_eq!(good.command(&["DBSIZE"]), Frame::Integer(n + 1));
    assert_eq!(
        good.command(&["GET", "a b"]),
        Frame::Null,
        "no garbage was executed as a command"
    );
}
