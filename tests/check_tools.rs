//! `ferrodis-check-rdb` and `ferrodis-check-aof` against files written by the reference
//! redis-server (SAVE, `appendonly yes`) and by hand (truncated copies, flipped bytes, garbage
//! tails), side by side with `redis-check-rdb` / `redis-check-aof`: good files pass with the
//! same output, bad ones fail naming the offset, `--fix` repairs a truncated AOF so that
//! redis-server loads it again, and a good file is never modified.
//!
//! Tests that need redis-server skip with a note when it is missing, unless
//! `FERRODIS_REQUIRE_REFERENCE=1`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{multibulk, reference_tool, wait_until, ServerKind, ServerProcess, Shutdown};
use ferrodis::Frame;

/// The directory of this build's binaries, with both check tools brought up to date first when
/// run under cargo (as [`common::server_binary`] does for the server).
fn tool(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps")
            .to_path_buf();
        if let Ok(cargo) = std::env::var("CARGO") {
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--quiet", "-p", "ferrodis-server"]);
            cmd.args(["--bin", "ferrodis-check-rdb", "--bin", "ferrodis-check-aof"]);
            if dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("run cargo build");
            assert!(status.success(), "cargo build of the check tools failed");
        }
        dir
    })
    .join(name)
}

/// What a tool run printed and how it exited.
#[derive(Debug)]
struct Run {
    code: i32,
    out: String,
}

/// Runs `program args` in `dir` with `stdin` as its standard input.
fn run(program: &Path, dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
    let mut input = child.stdin.take().expect("stdin is piped");
    // The tool may exit without reading: a broken pipe is fine.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let output = child.wait_with_output().expect("wait for the tool");
    let mut out = String::from_utf8_lossy(&output.stdout).into_owned();
    out.push_str(&String::from_utf8_lossy(&output.stderr));
    Run {
        code: output.status.code().unwrap_or(-1),
        out,
    }
}

fn check_rdb(dir: &Path, args: &[&str]) -> Run {
    run(&tool("ferrodis-check-rdb"), dir, args, "")
}

fn check_aof(dir: &Path, args: &[&str], stdin: &str) -> Run {
    run(&tool("ferrodis-check-aof"), dir, args, stdin)
}

/// The reference tool's run, `None` (skipped) when it is not installed.
fn reference(program: &str, dir: &Path, args: &[&str], stdin: &str) -> Option<Run> {
    let path = reference_tool(program)?;
    Some(run(&path, dir, args, stdin))
}

fn ok(frame: Frame) {
    assert_eq!(frame, Frame::Simple("OK".into()));
}

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    u64::try_from(since.expect("after 1970").as_millis()).expect("fits")
}

/// Saves a dataset with the reference redis-server into `dir/dump.rdb`: every type, keys with
/// an expire, one already expired (active expiry off), keys in db 0 and db 2. `None` (skipped)
/// without redis-server.
fn reference_rdb(dir: &Path) -> Option<Vec<u8>> {
    reference_tool("redis-server")?;
    let mut server = ServerProcess::start_in(
        ServerKind::Reference,
        dir,
        &["--enable-debug-command", "yes"],
    );
    let mut c = server.connect();
    ok(c.command(&["SET", "s", "hello"]));
    ok(c.command(&["SET", "n", "12345"]));
    ok(c.command(&["SET", "e", "soon", "EX", "1000"]));
    c.command(&["RPUSH", "l", "a", "b", "c"]);
    c.command(&["HSET", "h", "f", "v", "g", "w"]);
    c.command(&["SADD", "set", "1", "2", "3"]);
    c.command(&["ZADD", "z", "1.5", "a", "2", "b"]);
    ok(c.command(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]));
    let set_at = now_ms();
    ok(c.command(&["SET", "gone", "v", "PX", "1"]));
    ok(c.command(&["SELECT", "2"]));
    ok(c.command(&["SET", "x", "in db 2"]));
    wait_until("the 1 ms expire passes", Duration::from_secs(1), || {
        now_ms() > set_at + 2
    });
    ok(c.command(&["SAVE"]));
    server.shutdown(Shutdown::NoSave);
    Some(std::fs::read(dir.join("dump.rdb")).expect("dump.rdb"))
}

#[test]
fn rdb_check_matches_redis_check_rdb_on_a_saved_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    if reference_rdb(dir.path()).is_none() {
        return;
    }
    let ours = check_rdb(dir.path(), &["dump.rdb"]);
    let Some(theirs) = reference("redis-check-rdb", dir.path(), &["dump.rdb"], "") else {
        return;
    };
    assert_eq!(ours.code, 0, "{}", ours.out);
    assert_eq!(theirs.code, 0, "{}", theirs.out);
    assert_eq!(ours.out, theirs.out);
    for line in [
        "[offset 0] Checking RDB file dump.rdb",
        "AUX FIELD redis-ver = '7.",
        "Selecting DB ID 0",
        "Selecting DB ID 2",
        "Checksum OK",
        "\\o/ RDB looks OK! \\o/",
        "[info] 9 keys read",
        "[info] 2 expires",
        "[info] 1 already expired",
    ] {
        assert!(ours.out.contains(line), "no {line:?} in:\n{}", ours.out);
    }
}

/// The offset in the `[offset N] <error>` line after `--- RDB ERROR DETECTED ---`.
fn rdb_error(run: &Run) -> (u64, String) {
    assert_eq!(run.code, 1, "{}", run.out);
    let mut lines = run
        .out
        .lines()
        .skip_while(|l| *l != "--- RDB ERROR DETECTED ---");
    assert!(lines.next().is_some(), "no error banner in:\n{}", run.out);
    let line = lines.next().expect("an error line");
    let rest = line.strip_prefix("[offset ").expect("an offset");
    let (n, what) = rest.split_once("] ").expect("[offset N] what");
    (n.parse().expect("a number"), what.to_owned())
}

#[test]
fn rdb_check_names_the_offset_of_damaged_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(good) = reference_rdb(dir.path()) else {
        return;
    };
    let len = good.len() as u64;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).expect("write the copy");
    };
    // Truncated anywhere: an unexpected end at or before the cut.
    for cut in [0, 5, 9, 30, good.len() / 2, good.len() - 9, good.len() - 1] {
        write("cut.rdb", &good[..cut]);
        let (at, what) = rdb_error(&check_rdb(dir.path(), &["cut.rdb"]));
        assert!(at <= cut as u64, "cut {cut}: offset {at}");
        assert_eq!(what, "Unexpected EOF reading RDB file", "cut {cut}");
        if let Some(r) = reference("redis-check-rdb", dir.path(), &["cut.rdb"], "") {
            assert_eq!(r.code, 1, "redis-check-rdb accepts a cut at {cut}");
        }
    }
    // A flipped byte inside a value: the checksum, stored in the last 8 bytes, catches it.
    let at = good
        .windows(5)
        .position(|w| w == b"hello")
        .expect("the string value");
    let mut flipped = good.clone();
    flipped[at] ^= 0x20;
    write("flip.rdb", &flipped);
    let (offset, what) = rdb_error(&check_rdb(dir.path(), &["flip.rdb"]));
    assert_eq!((offset, what.as_str()), (len - 8, "RDB CRC error"));
    // A type byte that is no type: named at the key it starts.
    let key_at = good
        .windows(3)
        .position(|w| w == b"\x01n\xc1")
        .expect("key n, then 12345 as a 16-bit integer");
    let mut bad_type = good.clone();
    bad_type[key_at - 1] = 88;
    write("type.rdb", &bad_type);
    let (offset, what) = rdb_error(&check_rdb(dir.path(), &["type.rdb"]));
    assert_eq!(what, "Invalid object type: 88");
    assert!(
        (key_at as u64 - 1..=key_at as u64 + 2).contains(&offset),
        "offset {offset}, type byte at {}",
        key_at - 1
    );
    // A version this reader does not know.
    let mut version = good.clone();
    version[5..9].copy_from_slice(b"0099");
    write("version.rdb", &version);
    let (offset, what) = rdb_error(&check_rdb(dir.path(), &["version.rdb"]));
    assert_eq!(
        (offset, what.as_str()),
        (5, "can't handle RDB format version 99")
    );
    // Missing file and wrong arguments.
    assert_eq!(check_rdb(dir.path(), &["missing.rdb"]).code, 1);
    assert_eq!(check_rdb(dir.path(), &[]).code, 1);
}

/// Writes a multi-part AOF with the reference redis-server into `dir/appendonlydir`:
/// an RDB base and an incr with plain writes and a transaction. `None` without redis-server.
fn reference_aof(dir: &Path) -> Option<PathBuf> {
    reference_tool("redis-server")?;
    let mut server = ServerProcess::start_in(
        ServerKind::Reference,
        dir,
        &["--appendonly", "yes", "--appendfsync", "always"],
    );
    let mut c = server.connect();
    for i in 0..20 {
        ok(c.command(&["SET", &format!("k{i}"), &format!("value {i}")]));
    }
    c.command(&["RPUSH", "l", "a", "b"]);
    ok(c.command(&["MULTI"]));
    c.command(&["INCR", "counter"]);
    c.command(&["HSET", "h", "f", "v"]);
    c.command(&["EXEC"]);
    ok(c.command(&["SET", "last", "one"]));
    server.shutdown(Shutdown::NoSave);
    Some(dir.join("appendonlydir"))
}

/// Every file of `dir`, name and bytes, for before/after comparisons.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read the dir")
        .map(|e| {
            let e = e.expect("a dir entry");
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("read a file"))
        })
        .collect();
    files.sort();
    files
}

/// The `key=value` fields of the `AOF analyzed:` lines of `out`.
fn analyzed(out: &str) -> Vec<Vec<(String, String)>> {
    out.lines()
        .filter_map(|l| l.strip_prefix("AOF analyzed: "))
        .map(|l| {
            l.split(", ")
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn field(fields: &[(String, String)], key: &str) -> u64 {
    let (_, v) = fields.iter().find(|(k, _)| k == key).expect("the field");
    v.parse().expect("a number")
}

#[test]
fn aof_check_matches_redis_check_aof_on_good_files_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(aof_dir) = reference_aof(dir.path()) else {
        return;
    };
    let names: Vec<String> = snapshot(&aof_dir).into_iter().map(|(n, _)| n).collect();
    let base = names
        .iter()
        .find(|n| n.ends_with(".base.rdb"))
        .expect("an RDB base");
    let incr = names
        .iter()
        .find(|n| n.ends_with(".incr.aof"))
        .expect("an incr");
    // A legacy single-file AOF: an RDB preamble followed by commands.
    let mut legacy = std::fs::read(aof_dir.join(base)).expect("base");
    legacy.extend(std::fs::read(aof_dir.join(incr)).expect("incr"));
    std::fs::write(aof_dir.join("legacy.aof"), legacy).expect("write legacy.aof");
    let before = snapshot(&aof_dir);
    for file in ["appendonly.aof.manifest", base, incr, "legacy.aof"] {
        let ours = check_aof(&aof_dir, &[file], "");
        let Some(theirs) = reference("redis-check-aof", &aof_dir, &[file], "") else {
            return;
        };
        assert_eq!((ours.code, theirs.code), (0, 0), "{file}:\n{}", ours.out);
        assert_eq!(ours.out, theirs.out, "{file}");
        let fixed = check_aof(&aof_dir, &["--fix", "--yes", file], "");
        assert_eq!(fixed.code, 0, "{}", fixed.out);
    }
    let manifest = check_aof(&aof_dir, &["appendonly.aof.manifest"], "").out;
    assert!(manifest.contains("Start to check BASE AOF (RDB format)."));
    assert!(manifest.contains("All AOF files and manifest are valid"));
    assert_eq!(snapshot(&aof_dir), before, "a good file was modified");
}

#[test]
fn fix_repairs_a_truncated_aof_so_that_redis_server_loads_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(aof_dir) = reference_aof(dir.path()) else {
        return;
    };
    let incr = snapshot(&aof_dir)
        .into_iter()
        .find(|(n, _)| n.ends_with(".incr.aof"))
        .expect("an incr");
    // Cut inside the last command (SET last one).
    let last = multibulk(&["SET", "last", "one"]);
    assert!(incr.1.ends_with(&last), "the incr ends with the last write");
    let whole = incr.1.len() - last.len();
    let path = aof_dir.join(&incr.0);
    std::fs::write(&path, &incr.1[..incr.1.len() - 5]).expect("truncate");
    let args = ["appendonly.aof.manifest"];
    let ours = check_aof(&aof_dir, &args, "");
    assert_eq!(ours.code, 1, "{}", ours.out);
    assert!(ours.out.contains("is not valid. Use the --fix option"));
    let report = analyzed(&ours.out);
    let fields = report.last().expect("an AOF analyzed line");
    assert_eq!(field(fields, "ok_up_to"), whole as u64);
    assert_eq!(field(fields, "diff"), last.len() as u64 - 5);
    if let Some(theirs) = reference("redis-check-aof", &aof_dir, &args, "") {
        assert_eq!(theirs.code, 1);
        let theirs = analyzed(&theirs.out);
        let theirs = theirs.last().expect("redis-check-aof's analysis");
        for key in ["size", "ok_up_to", "diff"] {
            assert_eq!(field(fields, key), field(theirs, key), "{key}");
        }
    }
    // Answering no changes nothing; yes cuts the tail.
    let no = check_aof(&aof_dir, &["--fix", "appendonly.aof.manifest"], "n\n");
    assert_eq!(no.code, 1, "{}", no.out);
    assert!(no.out.contains("Aborting..."));
    assert_eq!(
        std::fs::metadata(&path).expect("incr").len(),
        incr.1.len() as u64 - 5
    );
    let yes = check_aof(&aof_dir, &["--fix", "appendonly.aof.manifest"], "y\n");
    assert_eq!(yes.code, 0, "{}", yes.out);
    assert!(yes.out.contains(&format!(
        "This will shrink the AOF {} from {} bytes, with {} bytes, to {whole} bytes",
        incr.0,
        incr.1.len() - 5,
        last.len() - 5
    )));
    assert!(yes
        .out
        .contains(&format!("Successfully truncated AOF {}", incr.0)));
    assert_eq!(std::fs::read(&path).expect("incr"), &incr.1[..whole]);
    assert_eq!(check_aof(&aof_dir, &args, "").code, 0);
    if let Some(theirs) = reference("redis-check-aof", &aof_dir, &args, "") {
        assert_eq!(theirs.code, 0, "{}", theirs.out);
    }
    // redis-server loads the repaired AOF: everything but the cut write.
    let mut server =
        ServerProcess::start_in(ServerKind::Reference, dir.path(), &["--appendonly", "yes"]);
    let mut c = server.connect();
    assert_eq!(c.command(&["GET", "k19"]), Frame::Bulk("value 19".into()));
    assert_eq!(c.command(&["GET", "counter"]), Frame::Bulk("1".into()));
    assert_eq!(c.command(&["EXISTS", "last"]), Frame::Integer(0));
    server.shutdown(Shutdown::NoSave);
}

/// An AOF of `SET k<i> v<i>` for `i` in `range`, written by hand.
fn commands(range: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    for i in range {
        out.extend(multibulk(&["SET", &format!("k{i}"), &format!("v{i}")]));
    }
    out
}

#[test]
fn fix_cuts_a_garbage_tail_but_not_a_corruption_followed_by_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let good = commands(0..10);
    // A tail of zeros (space allocated but never written before a crash).
    let mut zeros = good.clone();
    zeros.extend([0u8; 100]);
    std::fs::write(d.join("zeros.aof"), &zeros).expect("write");
    let run = check_aof(d, &["zeros.aof"], "");
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains(&format!(
        "AOF analyzed: filename=zeros.aof, size={}, ok_up_to={}, ok_up_to_line=71, diff=100",
        zeros.len(),
        good.len()
    )));
    let run = check_aof(d, &["--fix", "--yes", "zeros.aof"], "");
    assert_eq!(run.code, 0, "{}", run.out);
    assert_eq!(std::fs::read(d.join("zeros.aof")).expect("read"), good);
    // A corrupt byte in the middle: cutting there would drop the commands after it.
    let mut middle = good.clone();
    let third = commands(0..2).len();
    middle[third] = b'X';
    std::fs::write(d.join("middle.aof"), &middle).expect("write");
    let run = check_aof(d, &["--fix", "--yes", "middle.aof"], "");
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run
        .out
        .contains(&format!("0x{third:>16x}: expected '*' or '#'")));
    assert!(run.out.contains("commands follow"), "{}", run.out);
    assert_eq!(std::fs::read(d.join("middle.aof")).expect("read"), middle);
    // Only the last file of a multi-part AOF is cut.
    std::fs::write(d.join("a.1.base.aof"), &zeros).expect("write");
    std::fs::write(d.join("a.1.incr.aof"), &good).expect("write");
    std::fs::write(
        d.join("a.manifest"),
        "file a.1.base.aof seq 1 type b\nfile a.1.incr.aof seq 1 type i\n",
    )
    .expect("write");
    let run = check_aof(d, &["--fix", "--yes", "a.manifest"], "");
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run
        .out
        .contains("Failed to truncate AOF a.1.base.aof because it is not the last file"));
    assert_eq!(std::fs::read(d.join("a.1.base.aof")).expect("read"), zeros);
    // Empty and missing files, wrong arguments.
    std::fs::write(d.join("empty.aof"), b"").expect("write");
    let run = check_aof(d, &["empty.aof"], "");
    assert_eq!(
        (run.code, run.out.contains("AOF empty.aof is empty")),
        (0, true)
    );
    let run = check_aof(d, &["missing.aof"], "");
    assert_eq!(run.code, 1);
    assert!(run
        .out
        .contains("Cannot open file missing.aof: No such file or directory"));
    assert_eq!(check_aof(d, &[], "").code, 1);
    assert_eq!(
        check_aof(d, &["--fix", "--truncate-to-timestamp", "1", "x"], "").code,
        1
    );
    // redis-check-aof agrees on the file it can fix.
    std::fs::write(d.join("zeros.aof"), &zeros).expect("write");
    if let Some(r) = reference("redis-check-aof", d, &["--fix", "zeros.aof"], "y\n") {
        assert_eq!(r.code, 0, "{}", r.out);
        assert_eq!(std::fs::read(d.join("zeros.aof")).expect("read"), good);
    }
}

#[test]
fn truncate_to_timestamp_cuts_at_the_first_later_annotation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let mut aof = Vec::new();
    let mut cut_at = 0;
    for (i, ts) in [100, 200, 300].into_iter().enumerate() {
        if ts == 300 {
            cut_at = aof.len();
        }
        aof.extend(format!("#TS:{ts}\r\n").into_bytes());
        aof.extend(commands(i..i + 1));
    }
    for name in ["ours.aof", "theirs.aof"] {
        std::fs::write(d.join(name), &aof).expect("write");
    }
    let run = check_aof(d, &["--truncate-to-timestamp", "250", "ours.aof"], "");
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run
        .out
        .contains("Successfully truncated AOF ours.aof to timestamp 250"));
    assert_eq!(
        std::fs::read(d.join("ours.aof")).expect("read"),
        &aof[..cut_at]
    );
    if let Some(r) = reference(
        "redis-check-aof",
        d,
        &["--truncate-to-timestamp", "250", "theirs.aof"],
        "",
    ) {
        assert_eq!(r.code, 0, "{}", r.out);
        assert_eq!(
            std::fs::read(d.join("theirs.aof")).expect("read"),
            &aof[..cut_at]
        );
    }
    // Nothing before the timestamp: refused, nothing changes.
    let run = check_aof(d, &["--truncate-to-timestamp", "50", "ours.aof"], "");
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("has nothing before timestamp 50"));
    assert_eq!(
        std::fs::read(d.join("ours.aof")).expect("read"),
        &aof[..cut_at]
    );
    // Nothing after it: nothing to cut.
    let run = check_aof(d, &["--truncate-to-timestamp", "1000", "ours.aof"], "");
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run
        .out
        .contains("Truncate nothing in AOF ours.aof to timestamp 1000"));
}
