//! The AOF manifest: the text file (`<appendfilename>.manifest` in `appenddirname`) listing the
//! files of a multi-part AOF, as Redis 7.0 reads and writes it.
//!
//! # Text layout
//!
//! One line per file, `\n`-terminated (the last line too), at most 1024 bytes:
//!
//! ```text
//! file appendonly.aof.3.base.rdb seq 3 type b
//! file appendonly.aof.2.incr.aof seq 2 type h
//! file appendonly.aof.2.base.rdb seq 2 type h
//! file appendonly.aof.1.incr.aof seq 1 type h
//! file appendonly.aof.1.base.rdb seq 1 type h
//! file appendonly.aof.3.incr.aof seq 3 type i
//! ```
//!
//! | item          | rule                                                                  |
//! |---------------|-----------------------------------------------------------------------|
//! | line          | key/value pairs (at least 3, keys case-insensitive, any order)        |
//! | `file <name>` | a bare file name: no `/` or `\`                                       |
//! | `seq <n>`     | the file's sequence number, read like `atoll`, must not be 0          |
//! | `type <t>`    | first byte: `b` base, `h` history, `i` incr                           |
//! | `#…`          | comment line, ignored                                                 |
//!
//! Words are split like `sdssplitargs` (double quotes with `\xHH` and `\n`-style escapes,
//! single quotes); an odd number of words is refused, unknown keys are ignored. Redis writes
//! a name quoted like `sdscatrepr` when it has spaces, quotes, backslashes or unprintable
//! bytes.
//!
//! Order as Redis writes it: the base first, then history (newest rewrite first: each rewrite
//! puts the incrs it replaced, then the base it replaced, in front), then the incrs, oldest first.
//! Incr sequence numbers must increase down the file.
//!
//! Source: Redis 7.0 `aof.c` (`aofLoadManifestFromFile`, `getAofManifestAsString`,
//! `aofInfoFormat`, `getNewBaseFileNameAndMarkPreAsHistory`, `getNewIncrAofName`,
//! `markRewrittenIncrAofAsHistory`), `sds.c` (`sdssplitargs`, `sdscatrepr`, `sdsneedsrepr`).

use std::fmt::Write as _;

use thiserror::Error;

/// Longest manifest line Redis reads, newline included (`MANIFEST_MAX_LINE`).
pub const MANIFEST_MAX_LINE: usize = 1024;

/// The three kinds of file a manifest lists (the `type` letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AofFileType {
    /// `b`: the snapshot of the last rewrite (an RDB file or a command stream).
    Base,
    /// `h`: a base or incr replaced by a rewrite, waiting to be deleted.
    History,
    /// `i`: commands written since the last rewrite.
    Incr,
}

impl AofFileType {
    /// The manifest letter: `b`, `h` or `i`.
    pub fn letter(self) -> char {
        match self {
            AofFileType::Base => 'b',
            AofFileType::History => 'h',
            AofFileType::Incr => 'i',
        }
    }

    /// The type for a manifest letter, `None` for any other.
    pub fn from_letter(c: u8) -> Option<AofFileType> {
        match c {
            b'b' => Some(AofFileType::Base),
            b'h' => Some(AofFileType::History),
            b'i' => Some(AofFileType::Incr),
            _ => None,
        }
    }
}

/// One line of the manifest: a file of the AOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofInfo {
    /// The file's name inside `appenddirname` (never a path).
    pub file_name: String,
    /// Its sequence number (`≥ 1`): bases and incrs are numbered separately.
    pub file_seq: u64,
    /// What the file is.
    pub file_type: AofFileType,
}

impl AofInfo {
    /// The manifest line for this file, `\n` included, as Redis' `aofInfoFormat` writes it.
    pub fn to_line(&self) -> String {
        let name = if needs_repr(self.file_name.as_bytes()) {
            repr(self.file_name.as_bytes())
        } else {
            self.file_name.clone()
        };
        format!(
            "file {name} seq {} type {}\n",
            self.file_seq,
            self.file_type.letter()
        )
    }
}

/// A manifest that Redis would refuse to load. Displays as Redis' message (the one it logs
/// before exiting), with the line number and line when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// No lines at all: `Found an empty AOF manifest`.
    #[error("Found an empty AOF manifest")]
    Empty,
    /// A line of more than [`MANIFEST_MAX_LINE`] bytes, or a last line without `\n`:
    /// `The AOF manifest file contains too long line`.
    #[error("The AOF manifest file contains too long line (line {line})")]
    LineTooLong {
        /// 1-based line number.
        line: usize,
    },
    /// A blank line, bad quoting, fewer than 6 or an odd number of words, or a missing or
    /// zero `file`/`seq`/`type`, or an empty `file` (Redis takes that one):
    /// `Invalid AOF manifest file format`.
    #[error("Invalid AOF manifest file format (line {line}: '{text}')")]
    InvalidFormat {
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// A `file` value with `/` or `\`: `File can't be a path, just a filename`.
    #[error("File can't be a path, just a filename (line {line}: '{text}')")]
    PathNotFilename {
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// A second `type b` line: `Found duplicate base file information`.
    #[error("Found duplicate base file information (line {line}: '{text}')")]
    DuplicateBase {
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// An incr whose seq is not above the previous incr's: `Found a non-monotonic sequence
    /// number`.
    #[error("Found a non-monotonic sequence number (line {line}: '{text}')")]
    NonMonotonicSeq {
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// A `type` other than `b`, `h`, `i`: `Unknown AOF file type`.
    #[error("Unknown AOF file type (line {line}: '{text}')")]
    UnknownType {
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// A file name whose unescaped bytes are not UTF-8 (Redis accepts any bytes; Ferrodis keeps
    /// names as `String`).
    #[error("AOF manifest file name is not UTF-8 (line {line})")]
    NonUtf8Name {
        /// 1-based line number.
        line: usize,
    },
}

/// The parsed manifest: Redis' `aofManifest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any (there is none before the first rewrite of an upgraded AOF).
    pub base: Option<AofInfo>,
    /// Incr files, oldest first; the last is the one being appended to.
    pub incrs: Vec<AofInfo>,
    /// History files, in manifest order (newest rewrite first).
    pub history: Vec<AofInfo>,
    /// The seq of the current base (0 when none); the next base gets one more.
    pub curr_base_file_seq: u64,
    /// The seq of the last incr (0 when none); the next incr gets one more.
    pub curr_incr_file_seq: u64,
}

impl Manifest {
    /// Parses manifest text with Redis 7.0's checks (see [`ManifestError`] for each message).
    /// Like Redis, history lines do not move the sequence counters and a base sets
    /// `curr_base_file_seq` to its own seq.
    ///
    /// Differences from Redis: a negative `seq` is refused as an invalid format (Redis keeps
    /// it), and file names must unescape to UTF-8.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut max_incr_seq = 0u64;
        let mut rest = text.as_bytes();
        let mut line_no = 0usize;
        while !rest.is_empty() {
            // Redis reads with fgets into a MANIFEST_MAX_LINE + 1 buffer: a chunk ends after
            // '\n' or after MANIFEST_MAX_LINE bytes.
            let limit = rest.len().min(MANIFEST_MAX_LINE);
            let chunk_len = rest[..limit]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(limit, |i| i + 1);
            let (chunk, tail) = rest.split_at(chunk_len);
            rest = tail;
            line_no += 1;
            if chunk.first() == Some(&b'#') {
                continue;
            }
            // Redis looks for the newline with strchr, which stops at a NUL byte.
            let c_len = chunk.iter().position(|&b| b == 0).unwrap_or(chunk.len());
            if chunk[..c_len].last() != Some(&b'\n') {
                return Err(ManifestError::LineTooLong { line: line_no });
            }
            let info = parse_line(chunk, line_no)?;
            let ctx = || (line_no, trim(chunk));
            match info.file_type {
                AofFileType::Base => {
                    if m.base.is_some() {
                        let (line, text) = ctx();
                        return Err(ManifestError::DuplicateBase { line, text });
                    }
                    m.curr_base_file_seq = info.file_seq;
                    m.base = Some(info);
                }
                AofFileType::History => m.history.push(info),
                AofFileType::Incr => {
                    if info.file_seq <= max_incr_seq {
                        let (line, text) = ctx();
                        return Err(ManifestError::NonMonotonicSeq { line, text });
                    }
                    max_incr_seq = info.file_seq;
                    m.curr_incr_file_seq = info.file_seq;
                    m.incrs.push(info);
                }
            }
        }
        if line_no == 0 {
            return Err(ManifestError::Empty);
        }
        Ok(m)
    }

    /// The manifest text Redis 7.0 writes for this state: the base, then history, then incrs,
    /// one [`AofInfo::to_line`] each. Byte-identical to `getAofManifestAsString`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for info in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.push_str(&info.to_line());
        }
        out
    }

    /// The manifest's file name for `appendfilename`: `appendonly.aof` →
    /// `appendonly.aof.manifest`.
    pub fn manifest_name(appendfilename: &str) -> String {
        format!("{appendfilename}.manifest")
    }

    /// Starts a new base file, as a finished rewrite does: the old base (if any) becomes the
    /// first history entry, and the new one is `<appendfilename>.<seq>.base.rdb` (with an RDB
    /// preamble) or `.base.aof`, with the next base seq.
    ///
    /// Source: `getNewBaseFileNameAndMarkPreAsHistory`.
    pub fn new_base(&mut self, appendfilename: &str, rdb_preamble: bool) -> &AofInfo {
        if let Some(mut old) = self.base.take() {
            old.file_type = AofFileType::History;
            self.history.insert(0, old);
        }
        self.curr_base_file_seq += 1;
        let suffix = if rdb_preamble { "rdb" } else { "aof" };
        let seq = self.curr_base_file_seq;
        self.base.insert(AofInfo {
            file_name: format!("{appendfilename}.{seq}.base.{suffix}"),
            file_seq: seq,
            file_type: AofFileType::Base,
        })
    }

    /// Appends a new incr file `<appendfilename>.<seq>.incr.aof` with the next incr seq, as a
    /// starting rewrite (or a start with no incr) does.
    ///
    /// Source: `getNewIncrAofName`.
    pub fn new_incr(&mut self, appendfilename: &str) -> &AofInfo {
        self.curr_incr_file_seq += 1;
        let seq = self.curr_incr_file_seq;
        self.incrs.push(AofInfo {
            file_name: format!("{appendfilename}.{seq}.incr.aof"),
            file_seq: seq,
            file_type: AofFileType::Incr,
        });
        let last = self.incrs.len() - 1;
        &self.incrs[last]
    }

    /// Turns the incrs a finished rewrite covers into history, in front of the existing
    /// history and in their own order. With `keep_last_incr` (AOF on: the last incr was opened
    /// when the rewrite started and is being appended to) the last incr stays.
    ///
    /// A rewrite as Redis does it: [`new_incr`](Self::new_incr) when it starts, then
    /// [`new_base`](Self::new_base) and `mark_rewritten(true)` when it succeeds.
    ///
    /// Source: `markRewrittenIncrAofAsHistory`.
    pub fn mark_rewritten(&mut self, keep_last_incr: bool) {
        let keep = usize::from(keep_last_incr && !self.incrs.is_empty());
        let moved = self.incrs.len() - keep;
        let mut old: Vec<AofInfo> = self.incrs.drain(..moved).collect();
        for info in &mut old {
            info.file_type = AofFileType::History;
        }
        old.append(&mut self.history);
        self.history = old;
    }
}

/// Bytes `sdstrim(line, " \t\r\n")` leaves, as a `String` for error messages.
fn trim(line: &[u8]) -> String {
    let is_trim = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_trim(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_trim(b))
        .map_or(start, |i| i + 1);
    String::from_utf8_lossy(&line[start..end]).into_owned()
}

/// One non-comment manifest line (with its `\n`) as an [`AofInfo`].
fn parse_line(chunk: &[u8], line: usize) -> Result<AofInfo, ManifestError> {
    let text = trim(chunk);
    let invalid = || ManifestError::InvalidFormat {
        line,
        text: trim(chunk),
    };
    if text.is_empty() {
        return Err(invalid());
    }
    let args = split_args(text.as_bytes()).ok_or_else(invalid)?;
    if args.len() < 6 || args.len() % 2 != 0 {
        return Err(invalid());
    }
    let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
    for pair in args.chunks_exact(2) {
        let (key, value) = (&pair[0], &pair[1]);
        if key.eq_ignore_ascii_case(b"file") {
            // Redis copies the value with sdsnew: it ends at the first NUL byte.
            let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
            let value = &value[..end];
            if value.contains(&b'/') || value.contains(&b'\\') {
                return Err(ManifestError::PathNotFilename {
                    line,
                    text: trim(chunk),
                });
            }
            name = Some(value.to_vec());
        } else if key.eq_ignore_ascii_case(b"seq") {
            seq = atoll(value);
        } else if key.eq_ignore_ascii_case(b"type") {
            kind = value.first().copied().unwrap_or(0);
        }
    }
    // Redis takes an empty name, then writes it back as a line it cannot read; refuse it.
    let (Some(name), true, true) = (name.filter(|n| !n.is_empty()), seq != 0, kind != 0) else {
        return Err(invalid());
    };
    let file_seq = u64::try_from(seq).map_err(|_| invalid())?;
    let file_type = AofFileType::from_letter(kind).ok_or_else(|| ManifestError::UnknownType {
        line,
        text: trim(chunk),
    })?;
    let file_name = String::from_utf8(name).map_err(|_| ManifestError::NonUtf8Name { line })?;
    Ok(AofInfo {
        file_name,
        file_seq,
        file_type,
    })
}

/// C's `atoll`: leading whitespace, an optional sign, digits up to the first non-digit;
/// 0 when there are none. Saturates instead of overflowing.
fn atoll(s: &[u8]) -> i64 {
    let mut i = s.iter().take_while(|b| is_c_space(**b)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for &b in s[i.min(s.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
    {
        let d = i64::from(b - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    v
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r')
}

/// Splits a line like Redis' `sdssplitargs`: words separated by spaces; `"…"` with `\n`,
/// `\r`, `\t`, `\b`, `\a`, `\xHH` and `\<c>` escapes; `'…'` with only `\'`. A closing quote
/// must be followed by a space or the end. `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_c_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\') if i + 3 < line.len() && line[i + 1] == b'x' => {
                        match (hex(line[i + 2]), hex(line[i + 3])) {
                            (Some(h), Some(l)) => {
                                cur.push(h * 16 + l);
                                i += 3;
                            }
                            _ => {
                                cur.push(b'x');
                                i += 1;
                            }
                        }
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => b'\x08',
                            b'a' => b'\x07',
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // The closing quote must end the word.
                        if line.get(i + 1).is_some_and(|&b| !is_c_space(b)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => cur.push(b),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if line.get(i + 1).is_some_and(|&b| !is_c_space(b)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => cur.push(b),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t' | b'\0') => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(b) => cur.push(b),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Whether `sdscatrepr` quoting is needed: a backslash, a quote, a space or an unprintable
/// byte (C locale).
fn needs_repr(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == b'\\' || b == b'"' || !(0x21..=0x7E).contains(&b))
}

/// `s` quoted like Redis' `sdscatrepr`.
pub fn repr(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7E => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What redis-server 7.0.15 wrote after starting empty with `aof-disable-auto-gc yes` and
    /// running BGREWRITEAOF twice.
    const AFTER_TWO_REWRITES: &str = "\
file appendonly.aof.3.base.rdb seq 3 type b
file appendonly.aof.2.incr.aof seq 2 type h
file appendonly.aof.2.base.rdb seq 2 type h
file appendonly.aof.1.incr.aof seq 1 type h
file appendonly.aof.1.base.rdb seq 1 type h
file appendonly.aof.3.incr.aof seq 3 type i
";

    fn info(name: &str, seq: u64, file_type: AofFileType) -> AofInfo {
        AofInfo {
            file_name: name.to_owned(),
            file_seq: seq,
            file_type,
        }
    }

    #[test]
    fn parses_and_rewrites_what_redis_wrote() {
        let m = Manifest::parse(AFTER_TWO_REWRITES).expect("valid manifest");
        assert_eq!(
            m.base,
            Some(info("appendonly.aof.3.base.rdb", 3, AofFileType::Base))
        );
        assert_eq!(
            m.incrs,
            vec![info("appendonly.aof.3.incr.aof", 3, AofFileType::Incr)]
        );
        assert_eq!(m.history.len(), 4);
        assert_eq!((m.curr_base_file_seq, m.curr_incr_file_seq), (3, 3));
        assert_eq!(m.to_text(), AFTER_TWO_REWRITES);
    }

    #[test]
    fn rewrites_replayed_through_the_api_match_redis() {
        let name = "appendonly.aof";
        let mut m = Manifest::default();
        // Start with an empty dataset: a base is forced, then the first incr.
        assert_eq!(
            m.new_base(name, true).file_name,
            "appendonly.aof.1.base.rdb"
        );
        assert_eq!(m.new_incr(name).file_name, "appendonly.aof.1.incr.aof");
        assert_eq!(
            m.to_text(),
            "file appendonly.aof.1.base.rdb seq 1 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        for _ in 0..2 {
            // BGREWRITEAOF: a new incr when it starts; base and history when it is done.
            m.new_incr(name);
            m.new_base(name, true);
            m.mark_rewritten(true);
        }
        assert_eq!(m.to_text(), AFTER_TWO_REWRITES);
        assert_eq!(Manifest::parse(&m.to_text()), Ok(m.clone()));
        assert_eq!(
            m.new_base(name, false).file_name,
            "appendonly.aof.4.base.aof"
        );
        assert_eq!(Manifest::manifest_name(name), "appendonly.aof.manifest");
        // AOF off during the rewrite: every incr becomes history.
        m.mark_rewritten(false);
        assert!(m.incrs.is_empty());
        assert_eq!(
            m.history[0],
            info("appendonly.aof.3.incr.aof", 3, AofFileType::History)
        );
        assert_eq!(
            m.history[1],
            info("appendonly.aof.3.base.rdb", 3, AofFileType::History)
        );
    }

    #[test]
    fn keys_in_any_order_comments_and_quotes() {
        let text = "# a comment\nTYPE i SEQ 7 FILE \"a b\\x41.aof\" extra 1\n\
                    seq 2 type b file 'it\\'s'\n";
        let m = Manifest::parse(text).expect("valid");
        assert_eq!(m.incrs, vec![info("a bA.aof", 7, AofFileType::Incr)]);
        assert_eq!(m.base, Some(info("it's", 2, AofFileType::Base)));
        assert_eq!(
            m.to_text(),
            "file it's seq 2 type b\nfile \"a bA.aof\" seq 7 type i\n"
        );
        let odd = info("tab\there\"q\u{7}é", 1, AofFileType::Incr);
        let line = odd.to_line();
        assert_eq!(line, "file \"tab\\there\\\"q\\a\\xc3\\xa9\" seq 1 type i\n");
        assert_eq!(Manifest::parse(&line).expect("valid").incrs, vec![odd]);
        // Trailing spaces and CRLF are trimmed; seq is read like atoll.
        let m = Manifest::parse("file x seq 12abc type hist  \r\n").expect("valid");
        assert_eq!(m.history, vec![info("x", 12, AofFileType::History)]);
    }

    /// Found by the `aof_manifest` fuzz target: `file '' …` parsed, and wrote back as
    /// `file  seq 1 type i`, which does not parse (five words).
    #[test]
    fn an_empty_file_name_is_invalid() {
        let e = Manifest::parse("file\t''\t'' x seq 1 type i\n").expect_err("empty name");
        assert!(
            matches!(e, ManifestError::InvalidFormat { line: 1, .. }),
            "{e}"
        );
        assert!(Manifest::parse("file \"\" seq 1 type b\n").is_err());
    }

    #[test]
    fn redis_error_messages() {
        let err = |t: &str| Manifest::parse(t).expect_err(t).to_string();
        let starts = |t: &str, msg: &str| {
            let e = err(t);
            assert!(e.starts_with(msg), "{t:?}: {e}");
        };
        assert_eq!(err(""), "Found an empty AOF manifest");
        // Comment lines count as lines: a manifest of comments only is an empty manifest.
        assert_eq!(
            Manifest::parse("# only a comment\n"),
            Ok(Manifest::default())
        );
        let invalid = "Invalid AOF manifest file format";
        for t in [
            "\n",
            "  \t\n",
            "file a seq 1 type\n",
            "file a seq 1 type b x\n",
            "file a seq 0 type b\n",
            "file a seq x type b\n",
            "file a seq -3 type b\n",
            "file a seq 1 kind b\n",
            "file a seq 1 type \"\"\n",
            "file \"a seq 1 type b\n",
            "file \"a\"b seq 1 type b\n",
            "file 'a seq 1 type b\n",
        ] {
            starts(t, invalid);
        }
        starts(
            "file ../a seq 1 type b\n",
            "File can't be a path, just a filename",
        );
        starts(
            "file a\\\\b seq 1 type b\n",
            "File can't be a path, just a filename",
        );
        starts(
            "file a seq 1 type b\nfile b seq 2 type b\n",
            "Found duplicate base file information",
        );
        starts(
            "file a seq 2 type i\nfile b seq 2 type i\n",
            "Found a non-monotonic sequence number",
        );
        starts("file a seq 1 type x\n", "Unknown AOF file type");
        starts(
            "file a seq 1 type b",
            "The AOF manifest file contains too long line",
        );
        let long = format!("file {} seq 1 type b\n", "n".repeat(1006));
        starts(&long, "The AOF manifest file contains too long line");
        let fits = format!("file {} seq 1 type b\n", "n".repeat(1005));
        assert_eq!(fits.len(), MANIFEST_MAX_LINE);
        assert!(Manifest::parse(&fits).is_ok());
        assert_eq!(
            err("file a seq 1 type b\nfile a seq 1 type q\n"),
            "Unknown AOF file type (line 2: 'file a seq 1 type q')"
        );
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        let split = |s: &str| split_args(s.as_bytes());
        let v = |xs: &[&str]| Some(xs.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>());
        assert_eq!(
            split("  a  b\t\"c d\" 'e f' "),
            v(&["a", "b", "c d", "e f"])
        );
        assert_eq!(
            split("\"\\n\\r\\t\\b\\a\\q\\x4\""),
            v(&["\n\r\t\u{8}\u{7}qx4"])
        );
        assert_eq!(split("a\"b c\"d"), None);
        assert_eq!(split("a\"b c\" d"), v(&["ab c", "d"]));
        assert_eq!(split(""), v(&[]));
        assert_eq!(split("\"abc"), None);
        assert_eq!(split("'ab\\'c'"), v(&["ab'c"]));
    }
}
