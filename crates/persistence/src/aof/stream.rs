//! The command stream of an AOF file: an incr file, a `.base.aof`, or the tail of a legacy
//! single-file AOF after its RDB preamble.
//!
//! # Byte layout
//!
//! | bytes                  | what                                                          |
//! |------------------------|---------------------------------------------------------------|
//! | `*<n>\r\n`             | a command of `n ≥ 1` arguments (decimal)                      |
//! | `$<len>\r\n<bytes>\r\n`| one argument, `len` bytes, binary safe; `n` of these follow   |
//! | `#<text>\r\n`          | an annotation between commands, skipped                       |
//!
//! `aof-timestamp-enabled yes` writes `#TS:<unix secs>\r\n` annotations.
//!
//! Redis writes `SELECT <db>` before the first command of a db switch and wraps transactions in
//! `MULTI` … `EXEC`. A file cut short inside a command is *truncated* (Redis loads it anyway
//! with `aof-load-truncated yes`, up to the last whole command); anything else that does not
//! fit the layout is *corrupt* ("Bad file format reading the append only file").
//!
//! Differences from Redis' loader, which parses with `atoi`/`strtol` and skips the two bytes
//! after an argument unchecked: here the counts must be plain decimal followed by `\r\n`, and
//! the bytes after an argument must be `\r\n`. Files Redis writes always satisfy both.
//!
//! Source: Redis 7.0 `aof.c` (`loadSingleAppendOnlyFile`, `catAppendOnlyGenericCommand`) and
//! `redis-check-aof.c` (`process`, `readArgc`, `readString`).

use std::io::{self, BufRead};

use bytes::Bytes;
use thiserror::Error;

/// Longest `*<n>` / `$<len>` line accepted, `\r\n` included (Redis reads them into a 128-byte
/// buffer).
pub const MAX_HEADER_LINE: usize = 128;
/// Most arguments one command may have (Redis parses the count as a C `int`).
pub const MAX_ARGS: u64 = i32::MAX as u64;
/// Longest argument accepted, bytes (Redis keeps lengths in a C `long`).
pub const MAX_ARG_LEN: u64 = i64::MAX as u64;
/// Most argument slots reserved before the arguments are read.
const PREALLOC_ARGS: usize = 1024;
/// Most bytes reserved for an argument before its bytes are read.
const PREALLOC_ARG_BYTES: usize = 1 << 20;

/// Why a command stream could not be read to its end.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream ends inside a command: everything up to `valid_up_to` is whole (what
    /// `aof-load-truncated yes` keeps and `redis-check-aof --fix` truncates to).
    #[error(
        "Unexpected end of file reading the append only file (valid up to byte {valid_up_to})"
    )]
    Truncated {
        /// Offset from the file start just past the last whole command.
        valid_up_to: u64,
    },
    /// Bytes that are not a command at `offset` ("Bad file format reading the append only
    /// file").
    #[error("Bad file format reading the append only file at byte {offset}: {reason}")]
    Corrupt {
        /// Offset from the file start of the offending byte or line.
        offset: u64,
        /// What was expected.
        reason: String,
    },
    /// Reading failed.
    #[error("Unrecoverable error reading the append only file: {0}")]
    Io(#[from] io::Error),
}

/// Reads commands one at a time from a buffered reader positioned `start_offset` bytes into
/// the file. After an error, stop calling [`next_command`](Self::next_command).
#[derive(Debug)]
pub struct CommandReader<R: BufRead> {
    r: R,
    /// Offset from the file start of the next unread byte.
    pos: u64,
    /// Offset just past the last whole command returned.
    valid_up_to: u64,
}

/// One header line read by [`CommandReader::header`].
enum Header {
    /// The number after the prefix.
    Value(u64),
    /// The stream ended before the line did.
    Eof,
}

impl<R: BufRead> CommandReader<R> {
    /// A reader over `r`, whose first byte is byte `start_offset` of the file (0 for an incr
    /// file, the end of the RDB preamble for a file that has one).
    pub fn new(r: R, start_offset: u64) -> Self {
        CommandReader {
            r,
            pos: start_offset,
            valid_up_to: start_offset,
        }
    }

    /// Byte offset (from the file start) just past the last whole command returned.
    pub fn valid_up_to(&self) -> u64 {
        self.valid_up_to
    }

    /// Byte offset (from the file start) of the next unread byte.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The reader, positioned at [`position`](Self::position).
    pub fn into_inner(self) -> R {
        self.r
    }

    /// The next command's arguments (at least one), `Ok(None)` at a clean end (including an
    /// annotation line cut short at the end, as Redis treats it). Skips `#…\r\n` annotation
    /// lines. Allocates as bytes arrive, never on the strength of a count alone.
    ///
    /// Errors: [`StreamError::Truncated`] when the stream ends inside a command,
    /// [`StreamError::Corrupt`] when the bytes are not a command, [`StreamError::Io`].
    pub fn next_command(&mut self) -> Result<Option<Vec<Bytes>>, StreamError> {
        loop {
            let first = self.fill()?.first().copied();
            match first {
                None => return Ok(None),
                Some(b'#') => {
                    if !self.skip_line()? {
                        return Ok(None);
                    }
                }
                Some(b'*') => break,
                Some(_) => return Err(self.corrupt(self.pos, "expected '*' or '#'")),
            }
        }
        let start = self.pos;
        let argc = match self.header(b'*')? {
            Header::Value(n) => n,
            Header::Eof => return Err(self.truncated()),
        };
        if argc == 0 || argc > MAX_ARGS {
            return Err(self.corrupt(start, "invalid argument count"));
        }
        let mut args = Vec::with_capacity((argc as usize).min(PREALLOC_ARGS));
        for _ in 0..argc {
            let at = self.pos;
            if self.fill()?.is_empty() {
                return Err(self.truncated());
            }
            let len = match self.header(b'$')? {
                Header::Value(n) => n,
                Header::Eof => return Err(self.truncated()),
            };
            if len > MAX_ARG_LEN {
                return Err(self.corrupt(at, "invalid argument length"));
            }
            let Some(arg) = self.read_bytes(len)? else {
                return Err(self.truncated());
            };
            let crlf_at = self.pos;
            match self.read_bytes(2)? {
                None => return Err(self.truncated()),
                Some(b) if b == b"\r\n" => {}
                Some(_) => return Err(self.corrupt(crlf_at, "expected \\r\\n after an argument")),
            }
            args.push(Bytes::from(arg));
        }
        self.valid_up_to = self.pos;
        Ok(Some(args))
    }

    fn truncated(&self) -> StreamError {
        StreamError::Truncated {
            valid_up_to: self.valid_up_to,
        }
    }

    fn corrupt(&self, offset: u64, reason: &str) -> StreamError {
        StreamError::Corrupt {
            offset,
            reason: reason.to_owned(),
        }
    }

    /// The buffered bytes, refilled when empty; empty only at the end of the stream.
    fn fill(&mut self) -> io::Result<&[u8]> {
        loop {
            match self.r.fill_buf() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(_) => break,
            }
        }
        // The data is buffered now: this call does not read again.
        self.r.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.r.consume(n);
        self.pos += n as u64;
    }

    /// Skips through the next `\n`; `false` when the stream ended first.
    fn skip_line(&mut self) -> io::Result<bool> {
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(false);
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.consume(i + 1);
                    return Ok(true);
                }
                None => {
                    let n = buf.len();
                    self.consume(n);
                }
            }
        }
    }

    /// Reads a `<prefix><decimal>\r\n` line. A line cut short by the end of the stream is
    /// [`Header::Eof`] if what was read so far could still have been a valid line.
    fn header(&mut self, prefix: u8) -> Result<Header, StreamError> {
        let start = self.pos;
        let mut line = Vec::with_capacity(24);
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return if header_prefix_ok(&line, prefix) {
                    Ok(Header::Eof)
                } else {
                    Err(self.corrupt(start, bad_header(prefix)))
                };
            }
            let room = MAX_HEADER_LINE - line.len();
            let take = buf
                .iter()
                .take(room)
                .position(|&b| b == b'\n')
                .map(|i| i + 1);
            let n = take.unwrap_or(buf.len().min(room));
            line.extend_from_slice(&buf[..n]);
            self.consume(n);
            if take.is_some() {
                break;
            }
            if line.len() >= MAX_HEADER_LINE {
                return Err(self.corrupt(start, "header line too long"));
            }
        }
        match parse_header(&line, prefix) {
            Some(v) => Ok(Header::Value(v)),
            None => Err(self.corrupt(start, bad_header(prefix))),
        }
    }

    /// Reads exactly `len` bytes; `None` when the stream ends first.
    fn read_bytes(&mut self, len: u64) -> io::Result<Option<Vec<u8>>> {
        let mut out =
            Vec::with_capacity(usize::try_from(len).map_or(0, |n| n.min(PREALLOC_ARG_BYTES)));
        let mut left = len;
        while left > 0 {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
            out.extend_from_slice(&buf[..n]);
            self.consume(n);
            left -= n as u64;
        }
        Ok(Some(out))
    }
}

fn bad_header(prefix: u8) -> &'static str {
    if prefix == b'*' {
        "expected '*<count>\\r\\n'"
    } else {
        "expected '$<length>\\r\\n'"
    }
}

/// `<prefix><digits>\r\n` → the number (no sign, at most 19 digits).
fn parse_header(line: &[u8], prefix: u8) -> Option<u64> {
    let digits = line.strip_prefix(&[prefix])?.strip_suffix(b"\r\n")?;
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |v, &d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Whether `partial` (a header line cut short) is a prefix of a valid header line.
fn header_prefix_ok(partial: &[u8], prefix: u8) -> bool {
    let Some(rest) = partial.strip_prefix(&[prefix]) else {
        return partial.is_empty();
    };
    let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
    rest.len() <= 19 && rest.iter().all(u8::is_ascii_digit)
}

/// Appends `args` as a RESP multibulk, exactly as Redis' `catAppendOnlyGenericCommand` writes a
/// command to the AOF: `*<n>\r\n` then `$<len>\r\n<arg>\r\n` for each argument.
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    let mut num = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(num.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in args {
        out.push(b'$');
        out.extend_from_slice(num.format(arg.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// What [`scan`] found: the material of `redis-check-aof`'s
/// `AOF analyzed: size=…, ok_up_to=…, diff=…` line.
#[derive(Debug)]
#[non_exhaustive]
pub struct ScanReport {
    /// Whole commands read (including those of an unfinished transaction).
    pub commands: u64,
    /// Offset just past the last whole command outside a transaction: what `--fix` keeps.
    pub valid_up_to: u64,
    /// Offset of the end of the stream (the file size when the reader reached it).
    pub total: u64,
    /// Why the scan stopped before `total`, if it did. Besides the reader's errors:
    /// `Corrupt` "Unexpected MULTI" / "Unexpected EXEC" for a misplaced `MULTI`/`EXEC`, and
    /// `Truncated` for a stream that ends inside a `MULTI` block (redis-check-aof: "Reached
    /// EOF before reading EXEC for MULTI").
    pub error: Option<StreamError>,
}

/// Reads the whole command stream like `redis-check-aof` does, for a check or `--fix` tool:
/// counts commands, finds the offset up to which the stream is whole (never inside a
/// `MULTI`/`EXEC` block), then reads the rest to learn the total size. `start_offset` is the
/// offset of `r`'s first byte in the file (after any RDB preamble).
pub fn scan<R: BufRead>(r: R, start_offset: u64) -> ScanReport {
    let mut reader = CommandReader::new(r, start_offset);
    let mut commands = 0u64;
    let mut valid_up_to = start_offset;
    let mut multi_start: Option<u64> = None;
    let error = loop {
        let before = reader.valid_up_to();
        match reader.next_command() {
            Ok(None) => {
                break multi_start.map(|valid_up_to| StreamError::Truncated { valid_up_to });
            }
            Ok(Some(args)) => {
                commands += 1;
                let name = args.first().map_or(&b""[..], |a| a.as_ref());
                if name.eq_ignore_ascii_case(b"multi") {
                    if multi_start.is_some() {
                        break Some(StreamError::Corrupt {
                            offset: before,
                            reason: "Unexpected MULTI".to_owned(),
                        });
                    }
                    multi_start = Some(before);
                } else if name.eq_ignore_ascii_case(b"exec") && multi_start.take().is_none() {
                    break Some(StreamError::Corrupt {
                        offset: before,
                        reason: "Unexpected EXEC".to_owned(),
                    });
                }
                if multi_start.is_none() {
                    valid_up_to = reader.valid_up_to();
                }
            }
            Err(StreamError::Truncated { .. }) => {
                break Some(StreamError::Truncated { valid_up_to });
            }
            Err(e) => break Some(e),
        }
    };
    let mut total = reader.position();
    let mut rest = reader.into_inner();
    if let Ok(n) = io::copy(&mut rest, &mut io::sink()) {
        total += n;
    }
    ScanReport {
        commands,
        valid_up_to,
        total,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::BufReader;

    /// Every command of `bytes` read through a buffer of `cap` bytes, and how it ended.
    fn read_all(
        bytes: &[u8],
        cap: usize,
        start: u64,
    ) -> (Vec<Vec<Bytes>>, Result<(), StreamError>, u64) {
        let mut r = CommandReader::new(BufReader::with_capacity(cap, bytes), start);
        let mut cmds = Vec::new();
        loop {
            match r.next_command() {
                Ok(Some(c)) => cmds.push(c),
                Ok(None) => return (cmds, Ok(()), r.valid_up_to()),
                Err(e) => return (cmds, Err(e), r.valid_up_to()),
            }
        }
    }

    #[test]
    fn encodes_like_redis() {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"SET", b"k", b"v"]);
        encode_command(&mut out, &[b"SET", b"", b"0123456789"]);
        let want: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
                            *3\r\n$3\r\nSET\r\n$0\r\n\r\n$10\r\n0123456789\r\n";
        assert_eq!(out, want);
    }

    #[test]
    fn reads_commands_and_skips_annotations() {
        let mut bytes = b"#TS:1700000000\r\n".to_vec();
        encode_command(&mut bytes, &[b"SELECT", b"0"]);
        bytes.extend_from_slice(b"#TS:1700000001\r\n");
        encode_command(&mut bytes, &[b"SET", b"bin\r\n\0", b""]);
        let (cmds, end, valid) = read_all(&bytes, 4, 100);
        assert!(end.is_ok());
        assert_eq!(
            cmds,
            vec![
                vec![Bytes::from_static(b"SELECT"), Bytes::from_static(b"0")],
                vec![
                    Bytes::from_static(b"SET"),
                    Bytes::from_static(b"bin\r\n\0"),
                    Bytes::new()
                ],
            ]
        );
        assert_eq!(valid, 100 + bytes.len() as u64);
        // An annotation cut short at the end is a clean end, as in Redis.
        bytes.extend_from_slice(b"#TS:17");
        assert!(read_all(&bytes, 8, 0).1.is_ok());
    }

    #[test]
    fn every_cut_is_truncated_at_the_last_whole_command() {
        let mut bytes = Vec::new();
        let mut boundaries = vec![0usize];
        bytes.extend_from_slice(b"#TS:1\r\n");
        encode_command(&mut bytes, &[b"SELECT", b"0"]);
        boundaries.push(bytes.len());
        encode_command(&mut bytes, &[b"RPUSH", b"list", &[b'x'; 300], b""]);
        boundaries.push(bytes.len());
        bytes.extend_from_slice(b"#TS:2\r\n");
        let annotation_end = bytes.len();
        encode_command(&mut bytes, &[b"INCR", b"n"]);
        boundaries.push(bytes.len());
        for cut in 0..=bytes.len() {
            let last_whole = *boundaries.iter().filter(|&&b| b <= cut).max().unwrap_or(&0);
            for cap in [1, 7, 64] {
                let (cmds, end, valid) = read_all(&bytes[..cut], cap, 5);
                assert_eq!(valid, 5 + last_whole as u64, "cut {cut}");
                let at_boundary = boundaries.contains(&cut)
                    || (cut > boundaries[2] && cut <= annotation_end)
                    || cut <= 7;
                match end {
                    Ok(()) => assert!(at_boundary, "cut {cut} read cleanly"),
                    Err(StreamError::Truncated { valid_up_to }) => {
                        assert!(!at_boundary, "cut {cut} is truncated");
                        assert_eq!(valid_up_to, 5 + last_whole as u64);
                    }
                    Err(e) => panic!("cut {cut}: {e}"),
                }
                let whole = boundaries.iter().filter(|&&b| b > 0 && b <= cut).count();
                assert_eq!(cmds.len(), whole, "cut {cut}");
            }
        }
    }

    #[test]
    fn garbage_is_corrupt() {
        let corrupt_at = |bytes: &[u8]| match read_all(bytes, 16, 0).1 {
            Err(StreamError::Corrupt { offset, .. }) => offset,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
        };
        assert_eq!(corrupt_at(b"hello"), 0);
        assert_eq!(corrupt_at(b"*1\r\n$1\r\na\r\nxyz"), 11);
        assert_eq!(corrupt_at(b"*x\r\n"), 0);
        assert_eq!(corrupt_at(b"*0\r\n"), 0);
        assert_eq!(corrupt_at(b"*-1\r\n"), 0);
        assert_eq!(corrupt_at(b"*1\n$1\na\n"), 0);
        assert_eq!(corrupt_at(b"*1\r\nX"), 4);
        assert_eq!(corrupt_at(b"*1\r\n$1\r\nab\r\n"), 9);
        assert_eq!(corrupt_at(b"*1\r\n$-1\r\n"), 4);
        assert_eq!(corrupt_at(b"*99999999999\r\n"), 0);
        assert_eq!(corrupt_at(b"*12x"), 0);
        assert_eq!(corrupt_at(&[b'*'; 200]), 0);
        let e = read_all(b"hello", 16, 0).1.expect_err("corrupt");
        assert!(e
            .to_string()
            .starts_with("Bad file format reading the append only file"));
    }

    #[test]
    fn huge_counts_do_not_preallocate() {
        for bytes in [
            &b"*2147483647\r\n$1\r\na\r\n"[..],
            b"*1\r\n$9223372036854775807\r\nabc",
            b"*1\r\n$4294967296\r\n",
        ] {
            assert!(matches!(
                read_all(bytes, 16, 0).1,
                Err(StreamError::Truncated { valid_up_to: 0 })
            ));
        }
    }

    /// A short description of a scan's error, for comparisons.
    fn describe(e: &Option<StreamError>) -> String {
        match e {
            None => "none".to_owned(),
            Some(StreamError::Truncated { valid_up_to }) => format!("truncated {valid_up_to}"),
            Some(StreamError::Corrupt { offset, reason }) => format!("corrupt {offset}: {reason}"),
            Some(e) => e.to_string(),
        }
    }

    #[test]
    fn scan_reports_like_redis_check_aof() {
        let mut bytes = Vec::new();
        encode_command(&mut bytes, &[b"SET", b"a", b"1"]);
        let after_set = bytes.len() as u64;
        encode_command(&mut bytes, &[b"MULTI"]);
        encode_command(&mut bytes, &[b"INCR", b"a"]);
        let r = scan(&bytes[..], 0);
        assert_eq!(
            (r.commands, r.valid_up_to, r.total),
            (3, after_set, bytes.len() as u64)
        );
        assert_eq!(describe(&r.error), format!("truncated {after_set}"));
        encode_command(&mut bytes, &[b"exec"]);
        let whole = bytes.len() as u64;
        let r = scan(&bytes[..], 0);
        assert_eq!((r.commands, r.valid_up_to, r.total), (4, whole, whole));
        assert!(r.error.is_none());
        encode_command(&mut bytes, &[b"EXEC"]);
        bytes.extend_from_slice(b"junk");
        let r = scan(&bytes[..], 10);
        assert_eq!(
            (r.valid_up_to, r.total),
            (10 + whole, 10 + bytes.len() as u64)
        );
        assert_eq!(
            describe(&r.error),
            format!("corrupt {}: Unexpected EXEC", 10 + whole)
        );
        let r = scan(&b"*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n"[..], 0);
        assert_eq!(describe(&r.error), "corrupt 15: Unexpected MULTI");
        assert_eq!(r.valid_up_to, 0);
        let r = scan(&b"*1\r\n$4\r\nPI"[..], 0);
        assert!(matches!(
            r.error,
            Some(StreamError::Truncated { valid_up_to: 0 })
        ));
        assert_eq!(r.total, 10);
    }

    fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6)
    }

    proptest! {
        #[test]
        fn round_trip(cmds in prop::collection::vec(command(), 0..8), cap in 1usize..64) {
            let mut bytes = Vec::new();
            for c in &cmds {
                let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
                encode_command(&mut bytes, &args);
            }
            let (read, end, valid) = read_all(&bytes, cap, 0);
            prop_assert!(end.is_ok());
            prop_assert_eq!(valid, bytes.len() as u64);
            let read: Vec<Vec<Vec<u8>>> =
                read.iter().map(|c| c.iter().map(|a| a.to_vec()).collect()).collect();
            prop_assert_eq!(read, cmds);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_all(&bytes, 7, 0);
            let _ = scan(&bytes[..], 0);
        }
    }
}
