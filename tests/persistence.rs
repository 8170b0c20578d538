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

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{
    error, multibulk, reference_tool, show, wait_until, RawConn, ServerKind, ServerProcess,
    Shutdown, DEADLINE,
};
use ferrodis::Frame;

/// Set to `reference` to test a second `redis-server` in place of `ferrodis-server`.
const SUBJECT_ENV: &str = "FERRODIS_PERSISTENCE_SUBJECT";
/// The dbs [`build_data_set`] writes to.
const DBS: [u32; 3] = [0, 1, 9];
/// How far two PTTLs of the same key may be apart (time passes between the two reads).
const PTTL_SLACK_MS: i64 = 5_000;
/// `PEXPIREAT` target for the data set: 2100-01-01T00:00:00Z.
const FAR_FUTURE_MS: i64 = 4_102_444_800_000;
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
// Small reply helpers
// ---------------------------------------------------------------------------------------------

fn ok(frame: Frame, what: &str) {
    assert_eq!(frame, Frame::Simple("OK".into()), "{what}");
}

fn int(frame: Frame) -> i64 {
    match frame {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// The bytes of a bulk, simple or verbatim reply.
fn bytes(frame: Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => b.to_vec(),
        Frame::Verbatim { text, .. } => text.to_vec(),
        other => panic!("expected a string, got {other:?}"),
    }
}

fn text(frame: Frame) -> String {
    String::from_utf8_lossy(&bytes(frame)).into_owned()
}

/// The elements of an array (or set) reply of strings.
fn strings(frame: Frame) -> Vec<Vec<u8>> {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items.into_iter().map(bytes).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Runs `args` and asserts an `OK` reply.
fn cmd_ok<A: AsRef<[u8]>>(c: &mut RawConn, args: &[A]) {
    let reply = c.command(args);
    let shown: Vec<String> = args.iter().map(|a| show(a.as_ref())).collect();
    ok(reply, &shown.join(" "));
}

fn select(c: &mut RawConn, db: u32) {
    cmd_ok(c, &["SELECT", &db.to_string()]);
}

/// One section of INFO as `field -> value`.
fn info(c: &mut RawConn, section: &str) -> BTreeMap<String, String> {
    text(c.command(&["INFO", section]))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

fn info_field(c: &mut RawConn, section: &str, field: &str) -> String {
    info(c, section)
        .remove(field)
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// Sends `commands` as one pipeline and checks every reply with `check`.
fn pipeline(c: &mut RawConn, commands: &[Vec<Vec<u8>>], check: impl Fn(&Frame) -> bool) {
    let mut buf = Vec::new();
    for args in commands {
        buf.extend(multibulk(args));
    }
    c.send(&buf).expect("send a pipeline");
    for args in commands {
        let reply = c.read_frame();
        let shown = show(&args.join(&b' '));
        let shown = shown.get(..200).unwrap_or(&shown);
        assert!(check(&reply), "{shown} -> {reply:?}");
    }
}

/// `args` as owned byte vectors, for [`pipeline`].
fn argv<A: AsRef<[u8]>>(args: &[A]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_ref().to_vec()).collect()
}

// ---------------------------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------------------------

/// A deterministic xorshift64* generator: the same "random" bytes on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// Writes the data set through plain commands: in each of [`DBS`], every type in every
/// encoding the reference has (7.0: strings int/embstr/raw, lists quicklist (plain and with
/// compressed interior nodes), sets intset/hashtable, sorted sets listpack/skiplist, hashes
/// listpack/hashtable), small and large, with odd values (integer limits, non-canonical
/// numbers, binary, empty, LZF-compressible, incompressible 100 KB, infinite scores), and
/// keys with TTLs set by EX, PX and PEXPIREAT. Leaves db 0 selected and
/// `list-compress-depth` at 0.
fn build_data_set(c: &mut RawConn) {
    for db in DBS {
        select(c, db);
        let tag = format!("db{db}");
        build_strings(c, db, &tag);
        build_lists(c, &tag);
        build_sets(c, &tag);
        build_zsets(c, &tag);
        build_hashes(c, &tag);
        build_ttls(c, &tag);
    }
    select(c, 0);
}

fn build_strings(c: &mut RawConn, db: u32, tag: &str) {
    let min = i64::MIN.to_string();
    let max = i64::MAX.to_string();
    let raw = format!("{}-{tag}", "r".repeat(60));
    let mut binary = b"\0a\r\nb\xff\0\xfe".to_vec();
    binary.extend_from_slice(tag.as_bytes());
    let compressible: Vec<u8> = format!("{tag}:")
        .bytes()
        .chain(b"abcdefgh".iter().copied().cycle())
        .take(1000)
        .collect();
    let random = XorShift(0x9E37_79B9_7F4A_7C15 ^ u64::from(db + 1)).bytes(100 * 1024);
    let strings: Vec<(&[u8], &[u8])> = vec![
        (b"str:int", b"12345"),
        (b"str:int:small", b"7"),
        (b"str:int:neg", b"-42"),
        (b"str:int:zero", b"0"),
        (b"str:int:32bit", b"2147483648"),
        (b"str:int:min", min.as_bytes()),
        (b"str:int:max", max.as_bytes()),
        (b"str:noncanonical", b"0012"),
        (b"str:plus", b"+5"),
        (b"str:float", b"3.14"),
        (b"str:embstr", tag.as_bytes()),
        (b"str:raw", raw.as_bytes()),
        (b"str:empty", b""),
        (b"str:binary", &binary),
        (b"str:compressible", &compressible),
        (b"str:random", &random),
        (b"key:\0bin\r\n\xff", b"a binary key name"),
    ];
    for (key, value) in strings {
        cmd_ok(c, &[&b"SET"[..], key, value]);
    }
}

fn build_lists(c: &mut RawConn, tag: &str) {
    let small = argv(&["RPUSH", "list:small", "a", "b", "", "1", "-3", tag]);
    // 300 × ~80 bytes: several 8 KB quicklist nodes.
    let mut large = argv(&["RPUSH", "list:large"]);
    large.extend((0..300).map(|i| format!("{tag}-element-{i:04}-{}", "z".repeat(64)).into_bytes()));
    large.extend(argv(&["12", "-7", "9223372036854775807"]));
    // With depth 1 every node but the head and the tail is stored LZF-compressed, in memory,
    // in the RDB and in DUMP payloads.
    let mut compressed = argv(&["RPUSH", "list:compressed"]);
    compressed.extend((0..400).map(|i| format!("{tag}-{i:04}-{}", "abc".repeat(40)).into_bytes()));
    pipeline(
        c,
        &[small, large],
        |r| matches!(r, Frame::Integer(n) if *n > 0),
    );
    cmd_ok(c, &["CONFIG", "SET", "list-compress-depth", "1"]);
    pipeline(c, &[compressed], |r| *r == Frame::Integer(400));
    cmd_ok(c, &["CONFIG", "SET", "list-compress-depth", "0"]);
}

fn build_sets(c: &mut RawConn, tag: &str) {
    let min = i64::MIN.to_string();
    let max = i64::MAX.to_string();
    let intset = argv(&["SADD", "set:intset", "1", "2", "3", "-5", "0", &min, &max]);
    let strings = argv(&["SADD", "set:hashtable", "a", "b", "", "longer member", tag]);
    let mut many = argv(&["SADD", "set:manyints"]);
    many.extend((0..600).map(|i| (i * 7 - 1000).to_string().into_bytes()));
    pipeline(
        c,
        &[intset, strings, many],
        |r| matches!(r, Frame::Integer(n) if *n > 0),
    );
}

fn build_zsets(c: &mut RawConn, tag: &str) {
    let small = argv(&[
        "ZADD",
        "zset:small",
        "inf",
        "plus-inf",
        "-inf",
        "minus-inf",
        "-2.5",
        "negative",
        "0.125",
        "fraction",
        "1e300",
        "huge",
        "3",
        tag,
        "0",
        "",
    ]);
    // Over zset-max-listpack-entries (128): a skiplist.
    let mut large = argv(&["ZADD", "zset:large"]);
    for i in 0..200 {
        large.push((f64::from(i) * 1.5 - 100.0).to_string().into_bytes());
        large.push(format!("{tag}-member-{i}").into_bytes());
    }
    large.extend(argv(&[
        "inf", "top", "-inf", "bottom", "1e300", "huge", "-0.001", "tiny", "-1e-300", "subtiny",
    ]));
    pipeline(
        c,
        &[small, large],
        |r| matches!(r, Frame::Integer(n) if *n > 0),
    );
}

fn build_hashes(c: &mut RawConn, tag: &str) {
    let small = argv(&[
        "HSET",
        "hash:small",
        "f1",
        "v1",
        "f2",
        "2",
        "f3",
        "",
        "",
        "empty field",
        "tag",
        tag,
    ]);
    // Over hash-max-listpack-entries (512): a hashtable.
    let mut large = argv(&["HSET", "hash:large"]);
    for i in 0..600 {
        large.push(format!("field-{i}").into_bytes());
        large.push(
            if i % 3 == 0 {
                i.to_string()
            } else {
                format!("{tag}-value-{i}")
            }
            .into_bytes(),
        );
    }
    // A value over hash-max-listpack-value (64 bytes): a hashtable though small.
    let long = format!("{tag}-{}", "L".repeat(100));
    let long_value = argv(&["HSET", "hash:longvalue", "short", "s", "long", &long]);
    pipeline(
        c,
        &[small, large, long_value],
        |r| matches!(r, Frame::Integer(n) if *n > 0),
    );
}

fn build_ttls(c: &mut RawConn, tag: &str) {
    let far = FAR_FUTURE_MS.to_string();
    cmd_ok(c, &["SET", "ttl:ex", tag, "EX", "1000"]);
    cmd_ok(c, &["SET", "ttl:px", "12", "PX", "3600000"]);
    let commands = [
        argv(&["HSET", "ttl:pexpireat", "f", tag]),
        argv(&["PEXPIREAT", "ttl:pexpireat", &far]),
        argv(&["RPUSH", "ttl:list", "a", "b", tag]),
        argv(&["EXPIRE", "ttl:list", "1000"]),
        argv(&["SADD", "ttl:set", "1", "2", "3"]),
        argv(&["PEXPIRE", "ttl:set", "3600000"]),
        argv(&["ZADD", "ttl:zset", "1", "a", "inf", tag]),
        argv(&["PEXPIREAT", "ttl:zset", &far]),
    ];
    pipeline(c, &commands, |r| {
        *r == Frame::Integer(1) || *r == Frame::Integer(2) || *r == Frame::Integer(3)
    });
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

/// What a server holds for one key.
#[derive(Debug, Clone, PartialEq)]
struct KeyState {
    /// TYPE.
    kind: String,
    /// GET; LRANGE 0 -1; sorted SMEMBERS; ZRANGE 0 -1 WITHSCORES (member, score, ...); HGETALL
    /// sorted by field (field, value, ...).
    value: Vec<Vec<u8>>,
    /// OBJECT ENCODING.
    encoding: String,
    /// PTTL: -1 without an expire.
    pttl_ms: i64,
}

/// Every key of dbs 0..16 by `(db, key)`.
type Snapshot = BTreeMap<(u32, Vec<u8>), KeyState>;

/// Reads every key of every db (SCAN) with its type, value, encoding and PTTL; leaves db 0
/// selected.
fn snapshot(c: &mut RawConn) -> Snapshot {
    let mut snap = Snapshot::new();
    for db in 0..16 {
        select(c, db);
        for key in scan_keys(c) {
            let state = key_state(c, &key);
            snap.insert((db, key), state);
        }
    }
    select(c, 0);
    snap
}

/// Every key of the selected db (a key SCAN returns twice is kept once).
fn scan_keys(c: &mut RawConn) -> BTreeSet<Vec<u8>> {
    let mut keys = BTreeSet::new();
    let mut cursor = b"0".to_vec();
    loop {
        let reply = c.command(&[&b"SCAN"[..], &cursor, b"COUNT", b"1000"]);
        let Frame::Array(mut parts) = reply else {
            panic!("SCAN: {reply:?}")
        };
        assert_eq!(parts.len(), 2, "SCAN reply");
        keys.extend(strings(parts.pop().expect("keys")));
        cursor = bytes(parts.pop().expect("cursor"));
        if cursor == b"0" {
            return keys;
        }
    }
}

/// Reads one key. An error reply (a command the server lacks) becomes the value or encoding
/// `<error ...>`, so that it shows as a difference instead of stopping the snapshot.
fn key_state(c: &mut RawConn, key: &[u8]) -> KeyState {
    let kind = text(c.command(&[&b"TYPE"[..], key]));
    let read = |c: &mut RawConn, args: &[&[u8]]| match c.command(args) {
        Frame::Error(e) => vec![format!("<error {}>", show(&e)).into_bytes()],
        Frame::Array(items) | Frame::Set(items) => items.into_iter().map(bytes).collect(),
        other => vec![bytes(other)],
    };
    let value = match kind.as_str() {
        "string" => read(c, &[b"GET", key]),
        "list" => read(c, &[b"LRANGE", key, b"0", b"-1"]),
        "set" => {
            let mut members = read(c, &[b"SMEMBERS", key]);
            members.sort();
            members
        }
        "zset" => read(c, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]),
        "hash" => {
            let flat = read(c, &[b"HGETALL", key]);
            let mut pairs: Vec<&[Vec<u8>]> = flat.chunks(2).collect();
            pairs.sort();
            pairs.concat()
        }
        other => vec![format!("<type {other}>").into_bytes()],
    };
    let encoding =
        String::from_utf8_lossy(&read(c, &[b"OBJECT", b"ENCODING", key]).concat()).into_owned();
    let pttl_ms = int(c.command(&[&b"PTTL"[..], key]));
    KeyState {
        kind,
        value,
        encoding,
        pttl_ms,
    }
}

/// Every way `actual` differs from `expected`, one readable line each.
fn differences(expected: &Snapshot, actual: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for ((db, key), want) in expected {
        let name = format!("db {db} key {}", show(key));
        let Some(got) = actual.get(&(*db, key.clone())) else {
            out.push(format!("{name}: missing ({} {})", want.kind, want.encoding));
            continue;
        };
        if got.kind != want.kind {
            out.push(format!(
                "{name}: type {} instead of {}",
                got.kind, want.kind
            ));
            continue;
        }
        if got.value != want.value {
            out.push(format!(
                "{name}: {}",
                value_difference(&want.value, &got.value)
            ));
        }
        if got.encoding != want.encoding {
            out.push(format!(
                "{name}: encoding {} instead of {}",
                got.encoding, want.encoding
            ));
        }
        let pttl_ok = if want.pttl_ms < 0 || got.pttl_ms < 0 {
            want.pttl_ms == got.pttl_ms
        } else {
            (want.pttl_ms - got.pttl_ms).abs() <= PTTL_SLACK_MS
        };
        if !pttl_ok {
            out.push(format!(
                "{name}: PTTL {} instead of {}",
                got.pttl_ms, want.pttl_ms
            ));
        }
    }
    for (db, key) in actual.keys() {
        if !expected.contains_key(&(*db, key.clone())) {
            out.push(format!("db {db} key {}: unexpected", show(key)));
        }
    }
    out
}

/// Where two values first differ, shortened.
fn value_difference(want: &[Vec<u8>], got: &[Vec<u8>]) -> String {
    fn short(b: &[u8]) -> String {
        let s = show(&b[..b.len().min(40)]);
        if b.len() > 40 {
            format!("{s}... ({} bytes)", b.len())
        } else {
            s
        }
    }
    if want.len() != got.len() {
        return format!("{} elements instead of {}", got.len(), want.len());
    }
    let i = want
        .iter()
        .zip(got)
        .position(|(w, g)| w != g)
        .unwrap_or_default();
    format!(
        "element {i} is {} instead of {}",
        short(&got[i]),
        short(&want[i])
    )
}

/// How many keys of each type and encoding a snapshot holds, e.g. `string/int: 21`.
fn encoding_summary(snap: &Snapshot) -> String {
    let mut counts = BTreeMap::<String, usize>::new();
    for state in snap.values() {
        *counts
            .entry(format!("{}/{}", state.kind, state.encoding))
            .or_default() += 1;
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    parts.join(", ")
}

/// Panics with the first few differences when `actual` is not `expected`.
fn assert_same(what: &str, expected: &Snapshot, actual: &Snapshot) {
    let diffs = differences(expected, actual);
    assert!(
        diffs.is_empty(),
        "{what}: {} difference(s) over {} keys, the first ones:\n  {}",
        diffs.len(),
        expected.len(),
        diffs
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
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
