//! The persistence tests' data set and server snapshots (used by `persistence.rs`): the
//! data set builder writes every type in every encoding through plain commands, and
//! [`snapshot`] / [`assert_same`] describe and compare whole servers.

use std::collections::{BTreeMap, BTreeSet};

use ferrodis::Frame;

use super::{multibulk, show, RawConn};

/// The dbs [`build_data_set`] writes to.
pub const DBS: [u32; 3] = [0, 1, 9];
/// How far two PTTLs of the same key may be apart (time passes between the two reads).
pub const PTTL_SLACK_MS: i64 = 5_000;
/// `PEXPIREAT` target for the data set: 2100-01-01T00:00:00Z.
pub const FAR_FUTURE_MS: i64 = 4_102_444_800_000;

// ---------------------------------------------------------------------------------------------
// Small reply helpers
// ---------------------------------------------------------------------------------------------

pub fn ok(frame: Frame, what: &str) {
    assert_eq!(frame, Frame::Simple("OK".into()), "{what}");
}

pub fn int(frame: Frame) -> i64 {
    match frame {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// The bytes of a bulk, simple or verbatim reply.
pub fn bytes(frame: Frame) -> Vec<u8> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => b.to_vec(),
        Frame::Verbatim { text, .. } => text.to_vec(),
        other => panic!("expected a string, got {other:?}"),
    }
}

pub fn text(frame: Frame) -> String {
    String::from_utf8_lossy(&bytes(frame)).into_owned()
}

/// The elements of an array (or set) reply of strings.
pub fn strings(frame: Frame) -> Vec<Vec<u8>> {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items.into_iter().map(bytes).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Runs `args` and asserts an `OK` reply.
pub fn cmd_ok<A: AsRef<[u8]>>(c: &mut RawConn, args: &[A]) {
    let reply = c.command(args);
    let shown: Vec<String> = args.iter().map(|a| show(a.as_ref())).collect();
    ok(reply, &shown.join(" "));
}

pub fn select(c: &mut RawConn, db: u32) {
    cmd_ok(c, &["SELECT", &db.to_string()]);
}

/// One section of INFO as `field -> value`.
pub fn info(c: &mut RawConn, section: &str) -> BTreeMap<String, String> {
    text(c.command(&["INFO", section]))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

pub fn info_field(c: &mut RawConn, section: &str, field: &str) -> String {
    info(c, section)
        .remove(field)
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// Sends `commands` as one pipeline and checks every reply with `check`.
pub fn pipeline(c: &mut RawConn, commands: &[Vec<Vec<u8>>], check: impl Fn(&Frame) -> bool) {
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
pub fn argv<A: AsRef<[u8]>>(args: &[A]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_ref().to_vec()).collect()
}

// ---------------------------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------------------------

/// A deterministic xorshift64* generator: the same "random" bytes on every run.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
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
pub fn build_data_set(c: &mut RawConn) {
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

pub fn build_strings(c: &mut RawConn, db: u32, tag: &str) {
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

pub fn build_lists(c: &mut RawConn, tag: &str) {
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

pub fn build_sets(c: &mut RawConn, tag: &str) {
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

pub fn build_zsets(c: &mut RawConn, tag: &str) {
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

pub fn build_hashes(c: &mut RawConn, tag: &str) {
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

pub fn build_ttls(c: &mut RawConn, tag: &str) {
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
pub struct KeyState {
    /// TYPE.
    pub kind: String,
    /// GET; LRANGE 0 -1; sorted SMEMBERS; ZRANGE 0 -1 WITHSCORES (member, score, ...); HGETALL
    /// sorted by field (field, value, ...).
    pub value: Vec<Vec<u8>>,
    /// OBJECT ENCODING.
    pub encoding: String,
    /// PTTL: -1 without an expire.
    pub pttl_ms: i64,
}

/// Every key of dbs 0..16 by `(db, key)`.
pub type Snapshot = BTreeMap<(u32, Vec<u8>), KeyState>;

/// Reads every key of every db (SCAN) with its type, value, encoding and PTTL; leaves db 0
/// selected.
pub fn snapshot(c: &mut RawConn) -> Snapshot {
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
pub fn scan_keys(c: &mut RawConn) -> BTreeSet<Vec<u8>> {
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
pub fn key_state(c: &mut RawConn, key: &[u8]) -> KeyState {
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
pub fn differences(expected: &Snapshot, actual: &Snapshot) -> Vec<String> {
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
pub fn value_difference(want: &[Vec<u8>], got: &[Vec<u8>]) -> String {
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
pub fn encoding_summary(snap: &Snapshot) -> String {
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
pub fn assert_same(what: &str, expected: &Snapshot, actual: &Snapshot) {
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
