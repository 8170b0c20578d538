//! The append-only file against the real `ferrodis-server` and the reference `redis-server`
//! (7.0): each loads the AOF directory the other writes (RDB-preamble and command bases, after
//! rewrites); a legacy single-file AOF is loaded and moved into the directory; the commands that
//! depend on the time or on chance replay to the same data; a SIGKILL loses no acknowledged
//! write with `appendfsync always` and at most about two seconds with `everysec`; a kill during
//! a rewrite or a BGSAVE leaves loadable files; a truncated tail is cut, corruption refused.
//!
//! Every test needs `redis-server` on `PATH` (it is the reference, and the harness starts it);
//! without it the tests are skipped with a note, unless `FERRODIS_REQUIRE_REFERENCE=1`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::*;
use common::{reference_tool, wait_until, RawConn, ServerKind, ServerProcess, Shutdown, DEADLINE};
use ferrodis::Frame;

fn have_reference() -> bool {
    reference_tool("redis-server").is_some()
}

const FERRODIS: ServerKind = ServerKind::Ferrodis;
const REFERENCE: ServerKind = ServerKind::Reference;

/// The AOF directory of a server started in `dir` with the default `appenddirname`.
fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// The incr file the manifest in `dir` lists last.
fn last_incr(dir: &Path) -> PathBuf {
    let manifest = std::fs::read_to_string(aof_dir(dir).join("appendonly.aof.manifest"))
        .expect("the manifest");
    let name = manifest
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split(' ').nth(1))
        .expect("an incr file in the manifest")
        .to_owned();
    aof_dir(dir).join(name)
}

/// Waits until no AOF rewrite runs.
fn wait_rewrite_done(c: &mut RawConn) {
    wait_until("the AOF rewrite to finish", DEADLINE, || {
        info_field(c, "persistence", "aof_rewrite_in_progress") == "0"
            && info_field(c, "persistence", "aof_rewrite_scheduled") == "0"
    });
    assert_eq!(
        info_field(c, "persistence", "aof_last_bgrewrite_status"),
        "ok"
    );
}

/// Writes after the data set that exercise how commands are logged: relative expires
/// (logged absolute), chance (SPOP, logged as SREM/DEL), floats (logged as the value),
/// transactions, deletes and overwrites, several dbs.
fn logged_writes(c: &mut RawConn) {
    select(c, 0);
    let cmds: &[&[&str]] = &[
        &["SET", "t:ex", "v", "EX", "1000"],
        &["SET", "t:px", "v", "PX", "2000000"],
        &["SETEX", "t:setex", "1000", "v"],
        &["PSETEX", "t:psetex", "2000000", "v"],
        &["SET", "t:exp", "v"],
        &["EXPIRE", "t:exp", "1000"],
        &["SET", "t:pexp", "v"],
        &["PEXPIRE", "t:pexp", "2000000"],
        &["SET", "t:getex", "v"],
        &["GETEX", "t:getex", "EX", "1000"],
        &["SET", "t:persist", "v", "EX", "1000"],
        &["GETEX", "t:persist", "PERSIST"],
        &["SET", "t:getdel", "v"],
        &["GETDEL", "t:getdel"],
        &["SET", "t:gone", "v"],
        &["EXPIRE", "t:gone", "-1"],
        &["INCRBYFLOAT", "t:float", "10.5"],
        &["INCRBYFLOAT", "t:float", "0.1"],
        &["HINCRBYFLOAT", "t:hfloat", "f", "3.0e-1"],
        &["SADD", "t:spop", "a", "b", "c", "d", "e", "f", "g", "h"],
        &["SPOP", "t:spop"],
        &["SPOP", "t:spop", "3"],
        &["SADD", "t:spopall", "1", "2", "3"],
        &["SPOP", "t:spopall", "10"],
        &["RPUSH", "t:list", "a", "b", "c"],
        &["LPOP", "t:list"],
        &["DEL", "t:none", "t:list"],
        &["RPUSH", "t:list2", "x", "y"],
        &["BLPOP", "t:list2", "1"],
        &["RPUSH", "t:l3", "a", "b", "c", "d", "e", "f"],
        &["BLMOVE", "t:l3", "t:l4", "LEFT", "RIGHT", "1"],
        &["BRPOPLPUSH", "t:l3", "t:l4", "1"],
        &["LMPOP", "1", "t:l3", "LEFT", "COUNT", "2"],
        &["BLMPOP", "1", "1", "t:l3", "RIGHT"],
        &["ZADD", "t:z", "1", "a", "2", "b", "3", "c", "4", "d"],
        &["BZPOPMIN", "t:z", "1"],
        &["ZMPOP", "1", "t:z", "MAX", "COUNT", "2"],
        &["BZMPOP", "1", "1", "t:z", "MIN"],
    ];
    select(c, 5);
    for args in cmds {
        let reply = c.command(args);
        assert!(!matches!(reply, Frame::Error(_)), "{args:?} -> {reply:?}");
    }
    // FLUSHDB in a db of its own (db 0 holds the data set).
    select(c, 6);
    cmd_ok(c, &["SET", "flushed", "1"]);
    cmd_ok(c, &["FLUSHDB"]);
    cmd_ok(c, &["SET", "after:flush", "1"]);
    select(c, 5);
    for args in [
        vec!["MULTI"],
        vec!["SET", "t:tx1", "1"],
        vec!["INCR", "t:tx1"],
        vec!["SET", "t:tx2", "x", "EX", "1000"],
        vec!["EXEC"],
    ] {
        let reply = c.command(&args);
        assert!(!matches!(reply, Frame::Error(_)), "{args:?} -> {reply:?}");
    }
    // A payload restored with a relative TTL (logged with ABSTTL).
    let payload = c.command(&["DUMP", "t:tx1"]);
    let Frame::Bulk(payload) = payload else {
        panic!("DUMP: {payload:?}")
    };
    let reply = c.command(&[&b"RESTORE"[..], b"t:restored", b"1000000", &payload]);
    assert_eq!(reply, Frame::Simple("OK".into()));
    // A key expired by time and found by a lookup (logged as a DEL).
    cmd_ok(c, &["SET", "t:short", "v", "PX", "30"]);
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.command(&["GET", "t:short"]), Frame::Null);
    select(c, 0);
    cmd_ok(c, &["SET", "db0:last", "1"]);
}

/// `from` writes the data set with `appendonly yes` (rewrites and writes after them), stops;
/// `to` starts on the AOF directory and holds the same data.
fn aof_loads_across(from: ServerKind, to: ServerKind, preamble: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
    let mut source = ServerProcess::start_in(from, dir.path(), &args);
    let mut c = source.connect();
    build_data_set(&mut c);
    assert!(matches!(c.command(&["BGREWRITEAOF"]), Frame::Simple(_)));
    wait_rewrite_done(&mut c);
    logged_writes(&mut c);
    let expected = snapshot(&mut c);
    source.shutdown(Shutdown::NoSave);

    let target = ServerProcess::start_in(to, dir.path(), &args);
    let actual = snapshot(&mut target.connect());
    assert_same(
        &format!(
            "{} loading the AOF of {} (aof-use-rdb-preamble {preamble})",
            to.name(),
            from.name()
        ),
        &expected,
        &actual,
    );
}

#[test]
fn reference_aof_loads_in_ferrodis() {
    if !have_reference() {
        return;
    }
    aof_loads_across(REFERENCE, FERRODIS, "yes");
    aof_loads_across(REFERENCE, FERRODIS, "no");
}

#[test]
fn ferrodis_aof_loads_in_reference() {
    if !have_reference() {
        return;
    }
    aof_loads_across(FERRODIS, REFERENCE, "yes");
    aof_loads_across(FERRODIS, REFERENCE, "no");
}

#[test]
fn ferrodis_aof_replays_to_the_same_data() {
    if !have_reference() {
        return;
    }
    aof_loads_across(FERRODIS, FERRODIS, "yes");
}

/// A pre-7.0 single-file AOF (`appendfilename` in `dir`, with an RDB preamble) is loaded and
/// moved into the AOF directory, which the reference then loads too.
#[test]
fn legacy_single_file_aof_is_loaded_and_migrated() {
    if !have_reference() {
        return;
    }
    // The reference writes a base (RDB) and an incr; glued together they are a legacy AOF.
    let made = tempfile::tempdir().expect("temp dir");
    let mut r = ServerProcess::start_in(REFERENCE, made.path(), &["--appendonly", "yes"]);
    let mut c = r.connect();
    cmd_ok(&mut c, &["SET", "before", "1"]);
    assert!(matches!(c.command(&["BGREWRITEAOF"]), Frame::Simple(_)));
    wait_rewrite_done(&mut c);
    cmd_ok(&mut c, &["SET", "after", "2"]);
    assert_eq!(int(c.command(&["RPUSH", "list", "a", "b"])), 2);
    let expected = snapshot(&mut c);
    r.shutdown(Shutdown::NoSave);
    let mut legacy = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(aof_dir(made.path()))
        .expect("the AOF directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.to_string_lossy().ends_with("manifest"))
        .collect();
    names.sort_by_key(|p| !p.to_string_lossy().contains("base"));
    for p in &names {
        legacy.extend(std::fs::read(p).expect("an AOF file"));
    }

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("appendonly.aof"), &legacy).expect("write the legacy AOF");
    let mut f = ServerProcess::start_in(FERRODIS, dir.path(), &["--appendonly", "yes"]);
    assert_same(
        "the legacy AOF loaded",
        &expected,
        &snapshot(&mut f.connect()),
    );
    f.shutdown(Shutdown::NoSave);
    assert!(
        aof_dir(dir.path()).join("appendonly.aof").is_file(),
        "the legacy file moved into the AOF directory"
    );
    assert!(!dir.path().join("appendonly.aof").exists());
    let r = ServerProcess::start_in(REFERENCE, dir.path(), &["--appendonly", "yes"]);
    assert_same(
        "the reference loading the migrated AOF",
        &expected,
        &snapshot(&mut r.connect()),
    );
}

/// Writes `SET k:i i` one at a time until the connection breaks; `acked` holds the highest i
/// the server acknowledged (-1 none), `acked_at` the elapsed milliseconds of that ack since
/// `start`.
fn write_until_killed(
    mut c: RawConn,
    acked: Arc<AtomicI64>,
    acked_at: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    start: Instant,
) {
    let mut i = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let k = format!("k:{i}");
        let v = i.to_string();
        let cmd = common::multibulk(&["SET", &k, &v]);
        if c.send(&cmd).is_err() {
            return;
        }
        match c.try_read_frame() {
            Some(Frame::Simple(s)) if &s[..] == b"OK" => {
                acked.store(i, Ordering::SeqCst);
                acked_at.store(start.elapsed().as_millis() as i64, Ordering::SeqCst);
            }
            _ => return,
        }
        i += 1;
    }
}

/// Kills a server under a sequential write load and returns (highest acknowledged i, its ack
/// time, the kill time), both times in milliseconds since the load began, and the dir.
fn kill_under_load(fsync: &str, run: Duration) -> (i64, i64, i64, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(
        FERRODIS,
        dir.path(),
        &["--appendonly", "yes", "--appendfsync", fsync],
    );
    let acked = Arc::new(AtomicI64::new(-1));
    let acked_at = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let writer = {
        let (c, a, t, s) = (
            server.connect(),
            acked.clone(),
            acked_at.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || write_until_killed(c, a, t, s, start))
    };
    std::thread::sleep(run);
    server.kill();
    let killed_at = start.elapsed().as_millis() as i64;
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    (
        acked.load(Ordering::SeqCst),
        acked_at.load(Ordering::SeqCst),
        killed_at,
        dir,
    )
}

/// The highest n such that k:0 ..= k:n all hold their values after a restart (-1: none), and
/// whether any key beyond it exists.
fn restart_and_count(dir: &Path) -> (i64, i64) {
    let server = ServerProcess::start_in(FERRODIS, dir, &["--appendonly", "yes"]);
    let mut c = server.connect();
    let size = int(c.command(&["DBSIZE"]));
    let mut ok_upto = -1i64;
    for i in 0..size {
        let v = c.command(&["GET", &format!("k:{i}")]);
        if v != Frame::Bulk(i.to_string().into()) {
            break;
        }
        ok_upto = i;
    }
    (ok_upto, size)
}

#[test]
fn sigkill_with_appendfsync_always_loses_no_acknowledged_write() {
    if !have_reference() {
        return;
    }
    let (acked, _, _, dir) = kill_under_load("always", Duration::from_millis(1500));
    assert!(acked > 100, "the load ran ({acked} writes acknowledged)");
    let (ok_upto, size) = restart_and_count(dir.path());
    assert!(
        ok_upto >= acked,
        "acknowledged k:0..=k:{acked}, but after the restart only k:0..=k:{ok_upto} are intact"
    );
    assert_eq!(size, ok_upto + 1, "keys beyond the intact prefix");
}

#[test]
fn sigkill_with_appendfsync_everysec_loses_at_most_two_seconds() {
    if !have_reference() {
        return;
    }
    let (acked, _, killed_at, dir) = kill_under_load("everysec", Duration::from_millis(3500));
    assert!(acked > 100, "the load ran ({acked} writes acknowledged)");
    let (ok_upto, size) = restart_and_count(dir.path());
    assert_eq!(size, ok_upto + 1, "keys beyond the intact prefix");
    // Replay the load's ack times: the writes acknowledged more than 2 s before the kill must
    // all be there. The ack time of k:ok_upto is unknown here, so bound by rate: the writer
    // acknowledged `acked + 1` writes in `killed_at` ms.
    let rate_per_ms = (acked + 1) as f64 / killed_at.max(1) as f64;
    let lost_ms = (acked - ok_upto) as f64 / rate_per_ms;
    assert!(
        lost_ms <= 2_500.0,
        "lost {} acknowledged writes, about {lost_ms:.0} ms of the load",
        acked - ok_upto
    );
}

/// A kill during BGREWRITEAOF leaves an AOF that loads every key; a kill during BGSAVE or SAVE
/// leaves the previous RDB file intact (or the new one whole).
#[test]
fn sigkill_during_rewrite_or_bgsave_keeps_loadable_files() {
    if !have_reference() {
        return;
    }
    const KEYS: usize = 200_000;
    let load = |c: &mut RawConn, tag: &str| {
        for chunk in (0..KEYS).collect::<Vec<_>>().chunks(1000) {
            let mut mset = vec!["MSET".to_owned()];
            for i in chunk {
                mset.push(format!("{tag}:{i}"));
                mset.push(i.to_string());
            }
            cmd_ok(c, &mset);
        }
    };
    // AOF rewrite.
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--appendonly", "yes", "--appendfsync", "always"];
    let mut server = ServerProcess::start_in(FERRODIS, dir.path(), &args);
    let mut c = server.connect();
    load(&mut c, "a");
    assert!(matches!(c.command(&["BGREWRITEAOF"]), Frame::Simple(_)));
    cmd_ok(&mut c, &["SET", "during", "rewrite"]);
    server.kill();
    let server = ServerProcess::start_in(FERRODIS, dir.path(), &args);
    let mut c = server.connect();
    assert_eq!(int(c.command(&["DBSIZE"])), KEYS as i64 + 1);
    assert_eq!(bytes(c.command(&["GET", "during"])), b"rewrite");
    assert_eq!(bytes(c.command(&["GET", "a:77777"])), b"77777");
    drop(server);

    // BGSAVE.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(FERRODIS, dir.path(), &[]);
    let mut c = server.connect();
    load(&mut c, "b");
    cmd_ok(&mut c, &["SAVE"]);
    let saved = std::fs::read(dir.path().join("dump.rdb")).expect("the saved file");
    cmd_ok(&mut c, &["SET", "later", "1"]);
    assert!(matches!(c.command(&["BGSAVE"]), Frame::Simple(_)));
    server.kill();
    let now = std::fs::read(dir.path().join("dump.rdb")).expect("the RDB file");
    let mut server = ServerProcess::start_in(FERRODIS, dir.path(), &[]);
    let mut c = server.connect();
    let size = int(c.command(&["DBSIZE"]));
    if now == saved {
        assert_eq!(size, KEYS as i64, "the previous file loads");
    } else {
        assert_eq!(size, KEYS as i64 + 1, "the new file is whole");
    }

    // A foreground SAVE killed while it writes.
    cmd_ok(&mut c, &["SET", "latest", "1"]);
    let before = int(c.command(&["DBSIZE"]));
    c.send(&common::multibulk(&["SAVE"])).expect("send SAVE");
    std::thread::sleep(Duration::from_millis(5));
    server.kill();
    let server = ServerProcess::start_in(FERRODIS, dir.path(), &[]);
    let size = int(server.connect().command(&["DBSIZE"]));
    assert!(
        size == before || size == before - 1 || size == KEYS as i64,
        "a whole file loads after a kill during SAVE ({size} keys)"
    );
}

/// Writes a few keys with `appendonly yes` and stops; returns the dir.
fn small_aof() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(FERRODIS, dir.path(), &["--appendonly", "yes"]);
    let mut c = server.connect();
    for i in 0..10 {
        cmd_ok(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    server.shutdown(Shutdown::NoSave);
    dir
}

#[test]
fn truncated_aof_tail_is_cut_or_refused() {
    if !have_reference() {
        return;
    }
    let dir = small_aof();
    let incr = last_incr(dir.path());
    let whole = std::fs::read(&incr).expect("the incr file");
    let mut cut = whole.clone();
    cut.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nx");
    std::fs::write(&incr, &cut).expect("append a partial command");

    // aof-load-truncated no: refused, file untouched.
    let refused = ServerProcess::try_start_within(
        FERRODIS,
        dir.path(),
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
        Duration::from_secs(10),
    );
    let Err(failure) = refused else {
        panic!("a truncated AOF loaded with aof-load-truncated no")
    };
    assert!(failure.status.is_some_and(|s| !s.success()));
    assert!(
        failure.output.contains("Unexpected end of file"),
        "{}",
        failure.output
    );
    assert_eq!(std::fs::read(&incr).expect("the incr file"), cut);

    // aof-load-truncated yes (default): loads, the tail is cut.
    let server = ServerProcess::start_in(FERRODIS, dir.path(), &["--appendonly", "yes"]);
    let mut c = server.connect();
    assert_eq!(int(c.command(&["DBSIZE"])), 10);
    assert_eq!(c.command(&["GET", "x"]), Frame::Null);
    assert_eq!(std::fs::read(&incr).expect("the incr file"), whole);
    drop(server);

    // The reference loads what is left.
    let r = ServerProcess::start_in(REFERENCE, dir.path(), &["--appendonly", "yes"]);
    assert_eq!(int(r.connect().command(&["DBSIZE"])), 10);
}

#[test]
fn corrupt_aof_stops_the_start() {
    if !have_reference() {
        return;
    }
    let dir = small_aof();
    let incr = last_incr(dir.path());
    let mut bytes_ = std::fs::read(&incr).expect("the incr file");
    let mid = bytes_.len() / 2;
    let at = (mid..bytes_.len())
        .find(|&i| bytes_[i] == b'*')
        .expect("a command header");
    bytes_[at] = b'?';
    std::fs::write(&incr, &bytes_).expect("corrupt the incr file");
    let refused = ServerProcess::try_start_within(
        FERRODIS,
        dir.path(),
        &["--appendonly", "yes"],
        Duration::from_secs(10),
    );
    let Err(failure) = refused else {
        panic!("a corrupt AOF loaded")
    };
    assert!(failure.status.is_some_and(|s| !s.success()));
    assert!(
        failure.output.contains(&format!("offset {at}")),
        "the error names the offset {at}: {}",
        failure.output
    );
    assert_eq!(std::fs::read(&incr).expect("the incr file"), bytes_);
}

/// CONFIG SET appendonly yes at runtime writes a base of the data already there and logs what
/// follows; a SIGKILL then loses nothing (appendfsync always).
#[test]
fn appendonly_turned_on_at_runtime() {
    if !have_reference() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(FERRODIS, dir.path(), &[]);
    let mut c = server.connect();
    for i in 0..1000 {
        cmd_ok(&mut c, &["SET", &format!("before:{i}"), "v"]);
    }
    cmd_ok(&mut c, &["CONFIG", "SET", "appendfsync", "always"]);
    cmd_ok(&mut c, &["CONFIG", "SET", "appendonly", "yes"]);
    wait_rewrite_done(&mut c);
    for i in 0..1000 {
        cmd_ok(&mut c, &["SET", &format!("after:{i}"), "v"]);
    }
    assert_eq!(info_field(&mut c, "persistence", "aof_enabled"), "1");
    server.kill();
    let server = ServerProcess::start_in(FERRODIS, dir.path(), &["--appendonly", "yes"]);
    assert_eq!(int(server.connect().command(&["DBSIZE"])), 2000);
}

/// `auto-aof-rewrite-percentage` rewrites once the AOF has grown enough.
#[test]
fn aof_rewrites_itself_when_it_grows() {
    if !have_reference() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start_in(
        FERRODIS,
        dir.path(),
        &[
            "--appendonly",
            "yes",
            "--auto-aof-rewrite-min-size",
            "100kb",
            "--auto-aof-rewrite-percentage",
            "100",
        ],
    );
    let mut c = server.connect();
    let value = "x".repeat(1000);
    for i in 0..300 {
        cmd_ok(&mut c, &["SET", &format!("k{}", i % 10), &value]);
    }
    wait_until("an automatic rewrite", DEADLINE, || {
        info_field(&mut c, "persistence", "aof_rewrites") != "0"
    });
    wait_rewrite_done(&mut c);
    let size: u64 = info_field(&mut c, "persistence", "aof_current_size")
        .parse()
        .expect("a size");
    assert!(
        size < 100_000,
        "the rewritten AOF holds 10 keys: {size} bytes"
    );
}

/// `aof-timestamp-enabled yes` annotates the log with `#TS:` lines, which both servers skip
/// when loading.
#[test]
fn timestamp_annotations_load_in_both_servers() {
    if !have_reference() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--appendonly", "yes", "--aof-timestamp-enabled", "yes"];
    let mut server = ServerProcess::start_in(FERRODIS, dir.path(), &args);
    let mut c = server.connect();
    cmd_ok(&mut c, &["SET", "a", "1"]);
    std::thread::sleep(Duration::from_millis(1100));
    cmd_ok(&mut c, &["SET", "b", "2"]);
    server.shutdown(Shutdown::NoSave);
    let log =
        String::from_utf8_lossy(&std::fs::read(last_incr(dir.path())).expect("incr")).into_owned();
    assert_eq!(log.matches("#TS:").count(), 2, "{log}");
    for kind in [FERRODIS, REFERENCE] {
        let s = ServerProcess::start_in(kind, dir.path(), &args);
        let mut c = s.connect();
        assert_eq!(int(c.command(&["DBSIZE"])), 2, "{}", kind.name());
    }
}
