//! RDB and DUMP/RESTORE compatibility between `ferrodis-server` and the reference
//! `redis-server` (7.0): each reads the files and payloads the other writes, with the same
//! values, encodings and TTLs; damaged files are refused; SAVE, BGSAVE, SHUTDOWN and INFO
//! persistence behave as the reference's.
//!
//! # Running
//! Every test needs `redis-server` on `PATH` and is skipped (with a note) without it, unless
//! `FERRODIS_REQUIRE_REFERENCE=1`, which makes a missing reference a failure.
//!
//! `FERRODIS_PERSISTENCE_SUBJECT=reference` replaces `ferrodis-server` with a second
//! `redis-server` everywhere: the reference is then tested against itself, which checks that
//! the tests themselves are sound (every test passes that way). The default subject is this
//! build's `ferrodis-server`.
//!
//! ```text
//! FERRODIS_PERSISTENCE_SUBJECT=reference cargo test -p ferrodis-tests --test persistence
//! cargo test -p ferrodis-tests --test persistence
//! ```
//!
//! # Layout
//! - [`build_data_set`]: every type in every encoding, small and large, in dbs 0, 1 and 9,
//!   some with TTLs, written with plain commands.
//! - [`snapshot`] / [`assert_same`]: a canonical description of a whole server (type, value,
//!   OBJECT ENCODING and PTTL of every key of every db) and a readable comparison.
//! - The tests, one per guarantee.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::dataset::*;
use common::{
    error, reference_tool, show, wait_until, RawConn, ServerKind, ServerProcess, Shutdown, DEADLINE,
};
use ferrodis::Frame;

/// Set to `reference` to test a second `redis-server` in place of `ferrodis-server`.
const SUBJECT_ENV: &str = "FERRODIS_PERSISTENCE_SUBJECT";
/// Redis' reply to RESTORE of a payload whose version or CRC does not match.
const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
/// Redis' reply to RESTORE onto an existing key without REPLACE.
const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// The server under test: `ferrodis-server`, or `redis-server` when
/// `FERRODIS_PERSISTENCE_SUBJECT=reference`.
fn subject() -> ServerKind {
    match std::env::var(SUBJECT_ENV).as_deref() {
        Ok("reference") => ServerKind::Reference,
        Ok("ferrodis") | Err(_) => ServerKind::Ferrodis,
        Ok(other) => panic!("{SUBJECT_ENV}={other}: expected `reference` or `ferrodis`"),
    }
}

/// Whether the reference is installed (see [`reference_tool`] for the skip / fail rule).
fn have_reference() -> bool {
    reference_tool("redis-server").is_some()
}

// ---------------------------------------------------------------------------------------------
// RDB files both ways
// ---------------------------------------------------------------------------------------------

/// `from` builds the data set and SAVEs it to `<dir>/compat.rdb`; `to` starts on that file;
/// both hold the same keys, values, encodings and TTLs.
fn rdb_loads_across(from: ServerKind, to: ServerKind) {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--dbfilename", "compat.rdb"];
    let mut source = ServerProcess::start_in(from, dir.path(), &args);
    let mut c = source.connect();
    build_data_set(&mut c);
    let expected = snapshot(&mut c);
    eprintln!("{}: {}", from.name(), encoding_summary(&expected));
    cmd_ok(&mut c, &["SAVE"]);
    source.shutdown(Shutdown::NoSave);
    let before = std::fs::read(dir.path().join("compat.rdb")).expect("the saved file");

    let target = ServerProcess::start_in(to, dir.path(), &args);
    let actual = snapshot(&mut target.connect());
    assert_same(
        &format!("{} loading the RDB of {}", to.name(), from.name()),
        &expected,
        &actual,
    );
    let after = std::fs::read(dir.path().join("compat.rdb")).expect("the saved file");
    assert!(before == after, "loading modified the file");
}

#[test]
fn reference_rdb_loads_in_ferrodis() {
    if !have_reference() {
        return;
    }
    rdb_loads_across(ServerKind::Reference, subject());
}

#[test]
fn ferrodis_rdb_loads_in_reference() {
    if !have_reference() {
        return;
    }
    rdb_loads_across(subject(), ServerKind::Reference);
}

// ---------------------------------------------------------------------------------------------
// DUMP / RESTORE both ways
// ---------------------------------------------------------------------------------------------

/// `from` builds the data set; every key is DUMPed there and RESTOREd on `to` with its PTTL;
/// `to` then holds what `from` holds.
fn cross_restore(from: &ServerProcess, to: &ServerProcess) {
    let mut src = from.connect();
    let mut dst = to.connect();
    cmd_ok(&mut src, &["FLUSHALL"]);
    cmd_ok(&mut dst, &["FLUSHALL"]);
    build_data_set(&mut src);
    let expected = snapshot(&mut src);
    let mut selected = (u32::MAX, u32::MAX);
    for ((db, key), state) in &expected {
        if selected != (*db, *db) {
            select(&mut src, *db);
            select(&mut dst, *db);
            selected = (*db, *db);
        }
        let payload = match src.command(&[&b"DUMP"[..], key]) {
            Frame::Bulk(payload) => payload,
            other => panic!(
                "DUMP on {} of db {db} key {} ({} {}): {other:?}",
                from.kind().name(),
                show(key),
                state.kind,
                state.encoding
            ),
        };
        let ttl = state.pttl_ms.max(0).to_string();
        let reply = dst.command(&[&b"RESTORE"[..], key, ttl.as_bytes(), &payload]);
        assert_eq!(
            reply,
            Frame::Simple("OK".into()),
            "RESTORE on {} of db {db} key {} ({} {}) dumped by {}",
            to.kind().name(),
            show(key),
            state.kind,
            state.encoding,
            from.kind().name()
        );
    }
    select(&mut dst, 0);
    let actual = snapshot(&mut dst);
    assert_same(
        &format!(
            "{} after RESTORE of payloads DUMPed by {}",
            to.kind().name(),
            from.kind().name()
        ),
        &expected,
        &actual,
    );
}

/// On `server`: a payload of `server`'s own with a byte flipped is refused with
/// [`BAD_PAYLOAD`], and RESTORE onto an existing key with [`BUSYKEY`]. `payload` is a valid
/// DUMP of some value (from either server).
fn restore_refusals(server: &ServerProcess, payload: &[u8]) {
    let name = server.kind().name();
    let mut c = server.connect();
    cmd_ok(&mut c, &["SET", "existing", "v"]);
    assert_eq!(
        c.command(&[&b"RESTORE"[..], b"existing", b"0", payload]),
        error(BUSYKEY),
        "{name}: RESTORE onto an existing key"
    );
    let mut flipped = payload.to_vec();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    assert_eq!(
        c.command(&[&b"RESTORE"[..], b"fresh", b"0", &flipped]),
        error(BAD_PAYLOAD),
        "{name}: RESTORE of a payload with byte {middle} of {} flipped",
        flipped.len()
    );
    assert_eq!(int(c.command(&["EXISTS", "fresh"])), 0);
}

#[test]
fn dump_payloads_cross_restore() {
    if !have_reference() {
        return;
    }
    let reference = ServerProcess::start(ServerKind::Reference, &[]);
    let subject = ServerProcess::start(subject(), &[]);
    cross_restore(&reference, &subject);
    cross_restore(&subject, &reference);

    for dumper in [&reference, &subject] {
        let mut c = dumper.connect();
        let long = "s".repeat(60);
        cmd_ok(&mut c, &["SET", "payload:string", &long]);
        assert_eq!(
            int(c.command(&["RPUSH", "payload:list", "a", "b", "c", "d e f"])),
            4
        );
        let list = bytes(c.command(&["DUMP", "payload:list"]));
        let string = bytes(c.command(&["DUMP", "payload:string"]));
        for server in [&reference, &subject] {
            cmd_ok(&mut server.connect(), &["FLUSHALL"]);
            restore_refusals(server, &list);
            restore_refusals(server, &string);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Damaged files
// ---------------------------------------------------------------------------------------------

/// How long a server may take to refuse a damaged file.
const REFUSE_DEADLINE: Duration = Duration::from_secs(10);

/// What a server did when started on a damaged file.
#[derive(Debug)]
enum Outcome {
    /// It answered PING: it served with the damaged file.
    Served,
    /// It exited with this status.
    Exited(std::process::ExitStatus),
    /// It neither served nor exited within [`REFUSE_DEADLINE`] (it was killed).
    Hung,
}

/// Starts `kind` in a fresh dir holding `file` as `dump.rdb`; returns what it did, its output,
/// and whether the file is still byte for byte `file`.
fn start_on_file(kind: ServerKind, file: &[u8]) -> (Outcome, String, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dump.rdb");
    std::fs::write(&path, file).expect("write the damaged file");
    let (outcome, output) =
        match ServerProcess::try_start_within(kind, dir.path(), &[], REFUSE_DEADLINE) {
            Ok(mut server) => {
                server.kill();
                (Outcome::Served, server.output())
            }
            Err(failure) => match failure.status {
                Some(status) => (Outcome::Exited(status), failure.output),
                None => (Outcome::Hung, failure.output),
            },
        };
    let unchanged = std::fs::read(&path).map(|b| b == file).unwrap_or(false);
    (outcome, output, unchanged)
}

/// The last lines of a server's output, for messages.
fn tail(output: &str, lines: usize) -> String {
    let all: Vec<&str> = output.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n    ")
}

#[test]
fn truncated_and_corrupt_rdb_refused() {
    if !have_reference() {
        return;
    }
    let kind = subject();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut source = ServerProcess::start_in(kind, dir.path(), &[]);
    let mut c = source.connect();
    build_data_set(&mut c);
    cmd_ok(&mut c, &["SAVE"]);
    source.shutdown(Shutdown::NoSave);
    let good = std::fs::read(dir.path().join("dump.rdb")).expect("the saved file");
    let len = good.len();
    assert!(len > 1000, "the data set's RDB is only {len} bytes");

    // Cut inside the header, right after it, in the middle of the data, in the EOF opcode's
    // neighbourhood and inside the checksum.
    let mut damaged: Vec<(String, Vec<u8>)> =
        [5, 9, 20, len / 3, len / 2, len - 9, len - 4, len - 1]
            .into_iter()
            .map(|at| {
                (
                    format!("truncated to {at} of {len} bytes"),
                    good[..at].to_vec(),
                )
            })
            .collect();
    let mut flipped = good.clone();
    flipped[len / 2] ^= 0x55;
    damaged.push((format!("byte {} of {len} flipped", len / 2), flipped));

    let mut failures = Vec::new();
    for (what, file) in &damaged {
        let (outcome, output, unchanged) = start_on_file(kind, file);
        eprintln!(
            "{} on a file {what}: {outcome:?}\n    {}",
            kind.name(),
            tail(&output, 12)
        );
        let refused = matches!(&outcome, Outcome::Exited(status) if !status.success());
        if !refused {
            failures.push(format!("{what}: {outcome:?} instead of a non-zero exit"));
        } else if !output.to_lowercase().contains("offset") {
            failures.push(format!(
                "{what}: the output names no offset: {}",
                tail(&output, 12)
            ));
        }
        if !unchanged {
            failures.push(format!("{what}: the file was modified"));
        }
    }
    // The reference, to learn what it does (not asserted).
    if kind != ServerKind::Reference {
        for (what, file) in &damaged {
            let (outcome, output, unchanged) = start_on_file(ServerKind::Reference, file);
            eprintln!(
                "redis-server on a file {what}: {outcome:?}, file unchanged: {unchanged}\n    {}",
                tail(&output, 12)
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} on damaged files:\n  {}",
        kind.name(),
        failures.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// BGSAVE is a point-in-time snapshot
// ---------------------------------------------------------------------------------------------

const BGSAVE_KEYS: usize = 200_000;

#[test]
fn bgsave_while_writing_is_point_in_time() {
    if !have_reference() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(subject(), dir.path(), &[]);
    let mut c = server.connect();
    let keys: Vec<usize> = (0..BGSAVE_KEYS).collect();
    for chunk in keys.chunks(1000) {
        let mut mset = argv(&["MSET"]);
        for i in chunk {
            mset.push(format!("k:{i}").into_bytes());
            mset.push(i.to_string().into_bytes());
        }
        pipeline(&mut c, &[mset], |r| *r == Frame::Simple("OK".into()));
    }
    let reply = c.command(&["BGSAVE"]);
    assert_eq!(reply, Frame::Simple("Background saving started".into()));

    // Every write is sent after the BGSAVE reply, so none may be in the file.
    let mut writer = server.connect();
    let mut rng = XorShift(42);
    let mut rounds = 0;
    let mut in_progress_rounds = 0;
    loop {
        let mut commands = Vec::new();
        for n in 0..100 {
            let i = rng.next() as usize % BGSAVE_KEYS;
            let key = format!("k:{i}");
            commands.push(match n % 3 {
                0 => argv(&["SET", &key, "overwritten"]),
                1 => argv(&["DEL", &key]),
                _ => argv(&["SET", &format!("new:{rounds}:{n}"), "new"]),
            });
        }
        pipeline(&mut writer, &commands, |r| !matches!(r, Frame::Error(_)));
        rounds += 1;
        if info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "0" {
            break;
        }
        in_progress_rounds += 1;
        assert!(rounds < 1_000_000, "BGSAVE never finished");
    }
    eprintln!(
        "{}: {rounds} rounds of 100 writes after BGSAVE, {in_progress_rounds} seen while it ran",
        server.kind().name()
    );
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    server.shutdown(Shutdown::NoSave);

    let reference = ServerProcess::start_in(ServerKind::Reference, dir.path(), &[]);
    let mut r = reference.connect();
    assert_eq!(
        int(r.command(&["DBSIZE"])),
        BGSAVE_KEYS as i64,
        "the file holds exactly the keys that existed when BGSAVE started"
    );
    for chunk in keys.chunks(1000) {
        let mut mget = vec!["MGET".to_owned()];
        mget.extend(chunk.iter().map(|i| format!("k:{i}")));
        let values = r.command(&mget);
        let Frame::Array(values) = values else {
            panic!("MGET: {values:?}")
        };
        for (i, v) in chunk.iter().zip(values) {
            assert_eq!(
                v,
                Frame::Bulk(i.to_string().into()),
                "k:{i} in the file is not its value at BGSAVE"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SHUTDOWN and save points
// ---------------------------------------------------------------------------------------------

/// Starts the subject with `save` in a fresh dir, writes keys, stops it with `how`; returns
/// whether `dump.rdb` exists and, if so, checks a restart on it has the keys.
fn shutdown_saves(save: &str, how: Shutdown) -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(subject(), dir.path(), &["--save", save]);
    let mut c = server.connect();
    cmd_ok(&mut c, &["SET", "a", "1"]);
    cmd_ok(&mut c, &["SET", "b", "two"]);
    assert_eq!(int(c.command(&["RPUSH", "l", "x", "y"])), 2);
    server.shutdown(how);
    let saved = dir.path().join("dump.rdb").exists();
    if saved {
        let restarted = ServerProcess::start_in(subject(), dir.path(), &[]);
        let mut c = restarted.connect();
        assert_eq!(
            c.command(&["MGET", "a", "b"]),
            Frame::Array(vec![Frame::Bulk("1".into()), Frame::Bulk("two".into())]),
            "--save {save:?}, {how:?}: keys after a restart"
        );
        assert_eq!(int(c.command(&["LLEN", "l"])), 2);
    }
    saved
}

#[test]
fn save_on_shutdown_with_save_rules() {
    if !have_reference() {
        return;
    }
    assert!(
        shutdown_saves("3600 1", Shutdown::Default),
        "SHUTDOWN with save points saves"
    );
    assert!(
        !shutdown_saves("", Shutdown::Default),
        "SHUTDOWN with --save \"\" saves nothing"
    );
    assert!(
        shutdown_saves("", Shutdown::Save),
        "SHUTDOWN SAVE saves even with --save \"\""
    );
    assert!(
        !shutdown_saves("3600 1", Shutdown::NoSave),
        "SHUTDOWN NOSAVE never saves"
    );
}

// ---------------------------------------------------------------------------------------------
// LASTSAVE and INFO persistence
// ---------------------------------------------------------------------------------------------

/// The server's clock in milliseconds (TIME).
fn server_ms(c: &mut RawConn) -> i64 {
    let parts = strings(c.command(&["TIME"]));
    let number = |b: &[u8]| -> i64 { String::from_utf8_lossy(b).parse().expect("a TIME number") };
    number(&parts[0]) * 1000 + number(&parts[1]) / 1000
}

fn field_names(c: &mut RawConn) -> BTreeSet<String> {
    info(c, "persistence").into_keys().collect()
}

#[test]
fn lastsave_and_info_persistence() {
    if !have_reference() {
        return;
    }
    let server = ServerProcess::start(subject(), &[]);
    let mut c = server.connect();
    // The same field names as the reference's.
    {
        let reference = ServerProcess::start(ServerKind::Reference, &[]);
        let want = field_names(&mut reference.connect());
        let got = field_names(&mut c);
        let missing: Vec<&String> = want.difference(&got).collect();
        let extra: Vec<&String> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "INFO persistence of {}: missing {missing:?}, extra {extra:?}",
            server.kind().name()
        );
    }
    let started = int(c.command(&["LASTSAVE"]));
    let fields = info(&mut c, "persistence");
    for (field, want) in [
        ("rdb_bgsave_in_progress", "0"),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", "-1"),
        ("aof_enabled", "0"),
    ] {
        assert_eq!(
            fields.get(field).map(String::as_str),
            Some(want),
            "{field} at start"
        );
    }
    assert_eq!(fields.get("rdb_last_save_time"), Some(&started.to_string()));

    cmd_ok(&mut c, &["SET", "k", "v"]);
    let changes = info_field(&mut c, "persistence", "rdb_changes_since_last_save");
    assert_eq!(changes, "1", "rdb_changes_since_last_save after one write");
    // LASTSAVE has a one-second resolution: wait for the clock to pass the start-up save time.
    // The margin covers the reference's `time()`, a coarse clock that lags TIME by a few ms.
    wait_until("the server clock to tick", DEADLINE, || {
        server_ms(&mut c) > (started + 1) * 1000 + 50
    });
    cmd_ok(&mut c, &["SAVE"]);
    let saved = int(c.command(&["LASTSAVE"]));
    assert!(
        saved > started,
        "LASTSAVE {saved} after SAVE, {started} before"
    );
    let fields = info(&mut c, "persistence");
    assert_eq!(
        fields
            .get("rdb_changes_since_last_save")
            .map(String::as_str),
        Some("0")
    );
    assert_eq!(fields.get("rdb_last_save_time"), Some(&saved.to_string()));
    cmd_ok(&mut c, &["SET", "k", "w"]);
    cmd_ok(&mut c, &["SET", "k2", "w"]);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "2"
    );

    assert_eq!(
        c.command(&["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    wait_until("BGSAVE to finish", Duration::from_secs(30), || {
        info_field(&mut c, "persistence", "rdb_bgsave_in_progress") == "0"
    });
    let fields = info(&mut c, "persistence");
    assert_eq!(
        fields.get("rdb_last_bgsave_status").map(String::as_str),
        Some("ok")
    );
    let took: i64 = fields["rdb_last_bgsave_time_sec"]
        .parse()
        .expect("a number");
    assert!(took >= 0, "rdb_last_bgsave_time_sec {took} after a BGSAVE");
    assert_eq!(
        fields
            .get("rdb_changes_since_last_save")
            .map(String::as_str),
        Some("0")
    );
}
