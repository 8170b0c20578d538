//! File compatibility tests against the reference `redis-server` (7.0): the manifests and
//! command streams it writes are read back, and the manifest is rewritten byte for byte.
//! Skipped, with a note, when `redis-server`/`redis-cli` are not on `PATH`, unless
//! `FERRODIS_REQUIRE_REFERENCE=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// The path of `program` on `PATH`; `None` (with a note) when missing, a panic when missing
/// and `FERRODIS_REQUIRE_REFERENCE=1`.
fn reference_tool(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("FERRODIS_REQUIRE_REFERENCE").as_deref() != Ok("1"),
            "{program} is not on PATH and FERRODIS_REQUIRE_REFERENCE=1"
        );
        eprintln!("skipping: {program} is not on PATH (set FERRODIS_REQUIRE_REFERENCE=1 to fail)");
    }
    found
}

/// A reference server on a Unix socket in a temp dir, killed (by its own pid) on drop.
struct Reference {
    child: Child,
    cli: PathBuf,
    sock: PathBuf,
    dir: tempfile::TempDir,
}

impl Reference {
    fn start(extra: &[&str]) -> Option<Reference> {
        let server = reference_tool("redis-server")?;
        let cli = reference_tool("redis-cli")?;
        let dir = tempfile::tempdir().expect("temp dir");
        let sock = dir.path().join("redis.sock");
        let mut args = vec!["--port", "0", "--save", "", "--appendonly", "yes"];
        args.extend_from_slice(extra);
        let child = Command::new(server)
            .args(&args)
            .arg("--unixsocket")
            .arg(&sock)
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let r = Reference {
            child,
            cli,
            sock,
            dir,
        };
        wait_for("redis-server to answer", || r.cli(&["PING"]) == "PONG");
        Some(r)
    }

    /// Runs one command through `redis-cli`, returning its trimmed output.
    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(&self.cli)
            .arg("-s")
            .arg(&self.sock)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn aof_dir(&self) -> PathBuf {
        self.dir.path().join("appendonlydir")
    }

    fn manifest_text(&self) -> String {
        let path = self
            .aof_dir()
            .join(Manifest::manifest_name("appendonly.aof"));
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// BGREWRITEAOF, then waits until the manifest lists base `seq`.
    fn rewrite(&self, seq: u64) {
        assert!(self.cli(&["BGREWRITEAOF"]).contains("rewriting"));
        let want = format!("seq {seq} type b");
        wait_for("the rewrite to finish", || {
            self.manifest_text().contains(&want)
        });
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.cli(&["SHUTDOWN", "NOSAVE"]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every command of an AOF file, checking that it reads (and scans) to its end.
fn commands_of(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).expect("read an AOF file");
    let report = scan(&bytes[..], 0);
    assert!(
        report.error.is_none(),
        "{}: {:?}",
        path.display(),
        report.error
    );
    assert_eq!(
        (report.valid_up_to, report.total),
        (bytes.len() as u64, bytes.len() as u64)
    );
    let mut r = CommandReader::new(&bytes[..], 0);
    let mut out = Vec::new();
    while let Some(cmd) = r.next_command().expect("a valid command stream") {
        out.push(
            cmd.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
        );
    }
    out
}

fn strings(cmds: &[&[&str]]) -> Vec<Vec<String>> {
    cmds.iter()
        .map(|c| c.iter().map(|s| (*s).to_owned()).collect())
        .collect()
}

#[test]
fn manifest_and_streams_written_by_redis() {
    let Some(redis) = Reference::start(&[
        "--aof-disable-auto-gc",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--aof-timestamp-enabled",
        "yes",
    ]) else {
        return;
    };
    let name = "appendonly.aof";
    let mut model = Manifest::default();
    model.new_base(name, false);
    model.new_incr(name);
    wait_for("the first manifest", || !redis.manifest_text().is_empty());
    assert_eq!(redis.manifest_text(), model.to_text());

    assert_eq!(redis.cli(&["SET", "a", "1"]), "OK");
    assert_eq!(redis.cli(&["RPUSH", "l", "x", "y z"]), "2");
    let incr1 = commands_of(&redis.aof_dir().join("appendonly.aof.1.incr.aof"));
    assert_eq!(
        incr1,
        strings(&[
            &["SELECT", "0"],
            &["SET", "a", "1"],
            &["RPUSH", "l", "x", "y z"]
        ])
    );
    for seq in [2, 3] {
        redis.rewrite(seq);
        model.new_incr(name);
        model.new_base(name, false);
        model.mark_rewritten(true);
        assert_eq!(redis.cli(&["SET", "b", &seq.to_string()]), "OK");
    }
    let text = redis.manifest_text();
    assert_eq!(text, model.to_text(), "the manifest after two rewrites");
    let parsed = Manifest::parse(&text).expect("Redis' manifest parses");
    assert_eq!(parsed.to_text(), text);
    assert_eq!(parsed, model);

    // The newest base is the dataset as commands; the incr after it has what came since.
    let base = commands_of(&redis.aof_dir().join("appendonly.aof.3.base.aof"));
    assert!(
        base.contains(&strings(&[&["SET", "b", "2"]])[0]),
        "{base:?}"
    );
    assert!(
        base.iter().any(|c| c[0] == "RPUSH" && c[1] == "l"),
        "{base:?}"
    );
    let incr3 = commands_of(&redis.aof_dir().join("appendonly.aof.3.incr.aof"));
    assert_eq!(incr3, strings(&[&["SELECT", "0"], &["SET", "b", "3"]]));
    // A rewrite starts its base with a timestamp annotation; writes get one only when the
    // second changed since the last annotation (of any file), so the base is the sure case.
    let raw = std::fs::read(redis.aof_dir().join("appendonly.aof.3.base.aof")).expect("read");
    assert!(
        raw.starts_with(b"#TS:"),
        "aof-timestamp-enabled annotates the base"
    );
}

#[test]
fn rdb_preamble_base_names() {
    let Some(redis) = Reference::start(&["--aof-disable-auto-gc", "no"]) else {
        return;
    };
    wait_for("the first manifest", || !redis.manifest_text().is_empty());
    assert_eq!(redis.cli(&["SET", "k", "v"]), "OK");
    redis.rewrite(2);
    // With auto GC the history is deleted once the rewrite is done.
    wait_for("history removal", || {
        !redis.manifest_text().contains("type h")
    });
    let text = redis.manifest_text();
    let mut model = Manifest::default();
    model.new_base("appendonly.aof", true);
    model.new_incr("appendonly.aof");
    model.new_incr("appendonly.aof");
    model.new_base("appendonly.aof", true);
    model.mark_rewritten(true);
    model.history.clear();
    assert_eq!(text, model.to_text());
    assert_eq!(Manifest::parse(&text).expect("parses").to_text(), text);
    let base = std::fs::read(redis.aof_dir().join("appendonly.aof.2.base.rdb")).expect("read");
    assert!(base.starts_with(b"REDIS"));
}

/// `ok_up_to` and validity as `redis-check-aof` reports them for a single-file AOF.
fn check_aof(tool: &Path, file: &Path) -> (u64, bool) {
    let out = Command::new(tool)
        .arg(file)
        .output()
        .expect("run redis-check-aof");
    let text = String::from_utf8_lossy(&out.stdout);
    let ok_up_to = text
        .split("ok_up_to=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no ok_up_to in {text}"));
    (ok_up_to, out.status.success())
}

#[test]
fn scan_agrees_with_redis_check_aof_at_every_cut() {
    let Some(tool) = reference_tool("redis-check-aof") else {
        return;
    };
    let mut bytes = Vec::new();
    encode_command(&mut bytes, &[b"SELECT", b"0"]);
    encode_command(&mut bytes, &[b"MULTI"]);
    encode_command(&mut bytes, &[b"SET", b"a", b"1"]);
    encode_command(&mut bytes, &[b"EXEC"]);
    encode_command(&mut bytes, &[b"SET", b"bb", b"two words"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cut.aof");
    for cut in 1..=bytes.len() {
        std::fs::write(&file, &bytes[..cut]).expect("write the cut file");
        let report = scan(&bytes[..cut], 0);
        let (ok_up_to, valid) = check_aof(&tool, &file);
        assert_eq!(report.valid_up_to, ok_up_to, "cut at {cut}");
        assert_eq!(
            report.error.is_none(),
            valid,
            "cut at {cut}: {:?}",
            report.error
        );
    }
}
