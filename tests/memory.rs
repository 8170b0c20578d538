//! Memory accounting of the real `ferrodis-server` binary, which installs the counting global
//! allocator: `used_memory` follows the data written and freed, and MEMORY USAGE estimates
//! keys sensibly.
//!
//! The binary is built with `cargo build -p ferrodis-server` into this test's target directory
//! (a no-op when it is fresh), then started on a free port and stopped when the test ends.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferrodis::Frame;

use common::{multibulk, wait_until, ChildGuard, RawConn};

/// `target/<profile>/ferrodis-server` next to this test binary, rebuilt if needed.
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/memory-<hash> → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf();
    let target_dir = profile_dir
        .parent()
        .expect("target/<profile> has a parent")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "-p", "ferrodis-server", "--bin", "ferrodis-server"])
        .env("CARGO_TARGET_DIR", &target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p ferrodis-server failed");
    let bin = profile_dir.join("ferrodis-server");
    assert!(bin.exists(), "{} was not built", bin.display());
    bin
}

/// A `ferrodis-server` child process on a free local port.
struct Child {
    _guard: ChildGuard,
    addr: SocketAddr,
}

fn start_server() -> Child {
    let bin = server_binary();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ferrodis-server");
    let guard = ChildGuard(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    wait_until(
        "ferrodis-server accepts connections",
        Duration::from_secs(20),
        || std::net::TcpStream::connect(addr).is_ok(),
    );
    Child {
        _guard: guard,
        addr,
    }
}

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(&text).into_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

fn int(f: Frame) -> i64 {
    match f {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn info_field(c: &mut RawConn, field: &str) -> u64 {
    let info = text(c.command(&["INFO", "memory"]));
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO memory has no numeric {field}:\n{info}"))
}

/// Sends `n` pipelined SETs of `value_len`-byte values and reads every reply.
fn load(c: &mut RawConn, prefix: &str, n: usize, value_len: usize) {
    let value = vec![b'v'; value_len];
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut req = Vec::new();
        for i in chunk {
            req.extend(multibulk(&[
                &b"SET"[..],
                format!("{prefix}{i:08}").as_bytes(),
                &value[..],
            ]));
        }
        c.send(&req).expect("send SETs");
        for _ in chunk {
            assert_eq!(c.read_frame(), Frame::Simple("OK".into()));
        }
    }
}

#[test]
fn used_memory_follows_the_data_and_flushall() {
    let server = start_server();
    let mut c = RawConn::tcp(server.addr);
    let startup = info_field(&mut c, "used_memory_startup");
    assert!(startup > 0, "used_memory_startup is measured");
    let before = info_field(&mut c, "used_memory");
    load(&mut c, "key:", 100_000, 100);
    let loaded = info_field(&mut c, "used_memory");
    let growth = loaded.saturating_sub(before);
    assert!(
        (10_000_000..=40_000_000).contains(&growth),
        "100k keys x 100 bytes grew used_memory by {growth} bytes ({before} -> {loaded})"
    );
    assert!(info_field(&mut c, "used_memory_peak") >= loaded);
    assert!(info_field(&mut c, "used_memory_dataset") > 0);

    assert_eq!(c.command(&["FLUSHALL"]), Frame::Simple("OK".into()));
    // Values may be freed in the background: poll until the memory is back.
    let mut after = loaded;
    wait_until(
        "used_memory drops after FLUSHALL",
        Duration::from_secs(10),
        || {
            after = info_field(&mut c, "used_memory");
            loaded.saturating_sub(after) >= growth * 8 / 10
        },
    );
    assert_eq!(c.command(&["MEMORY", "PURGE"]), Frame::Simple("OK".into()));
}

#[test]
fn memory_usage_estimates_keys() {
    let server = start_server();
    let mut c = RawConn::tcp(server.addr);
    let value = "x".repeat(100);
    assert_eq!(c.command(&["SET", "s", &value]), Frame::Simple("OK".into()));
    let usage = int(c.command(&["MEMORY", "USAGE", "s"]));
    assert!(
        (100..=300).contains(&usage),
        "MEMORY USAGE of a 100-byte string: {usage}"
    );
    assert_eq!(c.command(&["MEMORY", "USAGE", "missing"]), Frame::Null);

    let mut last = 0;
    for size in [10usize, 1_000, 10_000] {
        let mut args = vec!["HSET".to_string(), format!("h{size}")];
        for i in 0..size {
            args.push(format!("field:{i}"));
            args.push(format!("value:{i}"));
        }
        assert_eq!(int(c.command(&args)), size as i64);
        let usage = int(c.command(&["MEMORY", "USAGE", &format!("h{size}"), "SAMPLES", "0"]));
        assert!(
            usage > last,
            "a hash of {size} fields uses {usage}, not more than {last}"
        );
        assert!(
            usage >= (size * 10) as i64,
            "{size} fields of ~16 bytes cost {usage}"
        );
        last = usage;
    }
    // Sampling still answers for every element count.
    let sampled = int(c.command(&["MEMORY", "USAGE", "h10000"]));
    assert!(sampled > 0);
    // The server's own figures are consistent.
    let stats = c.command(&["MEMORY", "STATS"]);
    let Frame::Array(items) = stats else {
        panic!("MEMORY STATS is a flat map under RESP2: {stats:?}");
    };
    assert_eq!(items[0], Frame::Bulk("peak.allocated".into()));
}
