//! `ferrodis-check-aof [--fix [--yes]|--truncate-to-timestamp <ts>] <file>`: checks an
//! append-only file like `redis-check-aof` 7.0, with the server's own readers.
//!
//! The file may be:
//! - a manifest (`appendonly.aof.manifest`: its first line that is not a `#` comment starts with
//!   `file`): the base and then every incr it lists are checked, in the manifest's directory;
//! - a file starting with `REDIS` (a `.base.rdb`, or a legacy AOF with an RDB preamble): the RDB
//!   part is checked as `ferrodis-check-rdb` does, then the commands after it;
//! - anything else: a command stream (a `.base.aof`, an incr, a legacy AOF).
//!
//! For each file it prints `AOF analyzed: filename=…, size=…, ok_up_to=…, ok_up_to_line=…,
//! diff=…`: `ok_up_to` is the offset past the last whole command outside a `MULTI` block,
//! `diff` the bytes after it.
//!
//! `--fix` cuts a bad tail (`diff` bytes) off the **last** file after printing what goes and
//! asking `Continue? [y/N]` on standard input (`--yes` answers for you). It refuses a problem
//! in any other file, and a corruption followed by more commands (cutting would lose them;
//! `redis-check-aof` cuts anyway). `--truncate-to-timestamp <ts>` cuts the last file at the
//! first `#TS:<unix secs>` annotation later than `ts` (written with `aof-timestamp-enabled
//! yes`). A good file is never modified.
//!
//! `ok_up_to_line` is Redis' line number: 1 plus the lines of the whole commands read so far,
//! counted on across the files of a manifest (annotations do not count; Redis also counts the
//! lines it read of the command it stopped in).
//!
//! Exit codes (as `redis-check-aof`): 0 every file is valid, empty or was fixed; 1 otherwise,
//! or on wrong arguments.
//!
//! Source: Redis 7.0 `redis-check-aof.c`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use ferrodis_persistence::aof::manifest::repr;
use ferrodis_persistence::aof::stream::{scan, CommandReader, ScanReport, StreamError};
use ferrodis_persistence::aof::Manifest;

#[path = "check/rdb.rs"]
mod rdb;

/// Check (and optionally repair) an append-only file or a multi-part AOF's manifest without
/// starting a server.
#[derive(Parser)]
#[command(name = "ferrodis-check-aof", version)]
struct Cli {
    /// Cut a truncated or garbage tail off the last file, after confirmation.
    #[arg(long)]
    fix: bool,
    /// Answer yes to `--fix`'s confirmation instead of reading it from standard input.
    #[arg(long, short = 'y', requires = "fix")]
    yes: bool,
    /// Cut the last file at the first `#TS:` annotation later than this Unix time (seconds).
    #[arg(long, value_name = "TIMESTAMP", conflicts_with = "fix")]
    truncate_to_timestamp: Option<i64>,
    /// The manifest (`appendonly.aof.manifest`), a base or incr file, or a legacy AOF.
    file: PathBuf,
}

/// The check stops: what to say has been printed; the exit code is 1.
struct Abort;

/// What checking one file ended with.
enum Outcome {
    Valid,
    Empty,
    Truncated,
    TimestampTruncated(i64),
}

/// Longest command header searched for after a corruption: `*` + 19 digits + `\r\n$`.
const HEADER_MAX: usize = 23;
/// Bytes of the cut tail shown before `--fix` asks.
const PREVIEW_BYTES: u64 = 64;

struct Checker {
    fix: bool,
    yes: bool,
    to_timestamp: Option<i64>,
    /// Redis' global `line`: 1 plus the lines of every whole command read.
    line: u64,
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        // Usage errors exit 1 like redis-check-aof; --help and --version exit 0.
        std::process::exit(i32::from(e.use_stderr()))
    });
    let mut checker = Checker {
        fix: cli.fix,
        yes: cli.yes,
        to_timestamp: cli.truncate_to_timestamp,
        line: 1,
    };
    let path = cli.file;
    let result = if is_manifest(&path) {
        checker.multi_part(&path)
    } else {
        is_rdb(&path).and_then(|preamble| checker.old_style(&path, preamble))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Abort) => ExitCode::FAILURE,
    }
}

fn open(path: &Path) -> Result<File, Abort> {
    File::open(path).map_err(|e| cannot_open(path, &e))
}

/// `Cannot open file <path>: <strerror>, aborting...`.
fn cannot_open(path: &Path, e: &io::Error) -> Abort {
    let text = e.to_string();
    // io::Error adds " (os error N)" to strerror's text.
    let why = text.split(" (os error").next().unwrap_or(&text);
    println!("Cannot open file {}: {why}, aborting...", path.display());
    Abort
}

/// Whether the first line of `path` that is not a comment starts with `file` (Redis looks at
/// every line, so an AOF with a value starting with `file` at a line start passes for one).
fn is_manifest(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut r = BufReader::new(f.take(64 * 1024));
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line.starts_with(b"#") => continue,
            Ok(_) => return line.starts_with(b"file"),
        }
    }
}

/// Whether `path` is an RDB file (or an AOF with an RDB preamble): at least 8 bytes, starting
/// with `REDIS`.
fn is_rdb(path: &Path) -> Result<bool, Abort> {
    let f = open(path)?;
    let mut sig = [0u8; 5];
    let size = f.metadata().map_or(0, |m| m.len());
    Ok(size >= 8 && (&f).read_exact(&mut sig).is_ok() && &sig == b"REDIS")
}

impl Checker {
    fn multi_part(&mut self, path: &Path) -> Result<(), Abort> {
        println!("Start checking Multi Part AOF");
        let bytes = std::fs::read(path).map_err(|e| cannot_open(path, &e))?;
        let manifest = String::from_utf8(bytes)
            .map_err(|_| "The AOF manifest file is not UTF-8".to_owned())
            .and_then(|text| Manifest::parse(&text).map_err(|e| e.to_string()))
            .map_err(|why| {
                println!("*** FATAL AOF MANIFEST FILE ERROR ***");
                println!("{why}");
                Abort
            })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let total = usize::from(manifest.base.is_some()) + manifest.incrs.len();
        let mut done = 0;
        if let Some(base) = &manifest.base {
            let file = dir.join(&base.file_name);
            done += 1;
            let preamble = is_rdb(&file)?;
            let format = if preamble { "RDB" } else { "RESP" };
            println!("Start to check BASE AOF ({format} format).");
            let outcome = self.single(&base.file_name, &file, done == total, preamble)?;
            report("BASE AOF", &base.file_name, &outcome);
        }
        if !manifest.incrs.is_empty() {
            println!("Start to check INCR files.");
            for incr in &manifest.incrs {
                let file = dir.join(&incr.file_name);
                done += 1;
                let outcome = self.single(&incr.file_name, &file, done == total, false)?;
                report("INCR AOF", &incr.file_name, &outcome);
            }
        }
        println!("All AOF files and manifest are valid");
        Ok(())
    }

    fn old_style(&mut self, path: &Path, preamble: bool) -> Result<(), Abort> {
        println!("Start checking Old-Style AOF");
        let name = path.display().to_string();
        let outcome = self.single(&name, path, true, preamble)?;
        report("AOF", &name, &outcome);
        Ok(())
    }

    /// Checks one file (`name` in messages): its RDB preamble if `preamble`, then its command
    /// stream; cuts it if asked and allowed (`last`: the last file of the AOF).
    fn single(
        &mut self,
        name: &str,
        path: &Path,
        last: bool,
        preamble: bool,
    ) -> Result<Outcome, Abort> {
        let mut file = open(path)?;
        let size = file.metadata().map(|m| m.len()).map_err(|_| {
            println!("Cannot stat file: {name}, aborting...");
            Abort
        })?;
        if size == 0 {
            return Ok(Outcome::Empty);
        }
        let start = if preamble {
            let mut decoder = rdb::decoder(&file);
            let Ok(summary) = rdb::check(&mut decoder, name) else {
                println!("RDB preamble of AOF file is not sane, aborting.");
                return Err(Abort);
            };
            println!("RDB preamble is OK, proceeding with AOF tail...");
            summary.bytes
        } else {
            0
        };
        file.seek(SeekFrom::Start(start))
            .map_err(|_| read_failed(name))?;
        let report = scan(BufReader::new(file), start);
        if let Some(StreamError::Io(_)) = report.error {
            return Err(read_failed(name));
        }
        let walk = walk(path, start, stop_at(&report, size), self.to_timestamp)
            .map_err(|_| read_failed(name))?;
        if walk.bad_timestamp {
            println!("Invalid timestamp annotation");
            return Err(Abort);
        }
        if let (Some(ts), Some(cut)) = (self.to_timestamp, walk.timestamp_cut) {
            return truncate_to_timestamp(path, ts, cut, last);
        }
        self.line += walk.lines;
        if let Some(error) = &report.error {
            print_error(name, error, walk.clean_end);
        }
        let ok_up_to = report.valid_up_to;
        let diff = size - ok_up_to;
        if let (0, Some(ts)) = (diff, self.to_timestamp) {
            println!("Truncate nothing in AOF {name} to timestamp {ts}");
            return Ok(Outcome::Valid);
        }
        println!(
            "AOF analyzed: filename={name}, size={size}, ok_up_to={ok_up_to}, \
             ok_up_to_line={}, diff={diff}",
            self.line
        );
        if diff == 0 {
            return Ok(Outcome::Valid);
        }
        if !self.fix {
            println!("AOF {name} is not valid. Use the --fix option to try fixing it.");
            return Err(Abort);
        }
        if !last {
            println!("Failed to truncate AOF {name} because it is not the last file");
            return Err(Abort);
        }
        if let Some(StreamError::Corrupt { offset, .. }) = &report.error {
            if let Some(at) = command_after(path, offset + 1).map_err(|_| read_failed(name))? {
                println!(
                    "AOF {name} is corrupt at byte {offset} and commands follow (from byte \
                     {at}): not cutting them off. Repair the file by hand, or cut it at \
                     byte {ok_up_to} yourself if those commands may be lost."
                );
                return Err(Abort);
            }
        }
        println!(
            "This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to \
             {ok_up_to} bytes"
        );
        let preview = read_at(path, ok_up_to, PREVIEW_BYTES).map_err(|_| read_failed(name))?;
        let more = if diff > PREVIEW_BYTES { " ..." } else { "" };
        println!("The bytes removed start with: {}{more}", repr(&preview));
        if !self.confirm() {
            println!("Aborting...");
            return Err(Abort);
        }
        cut(path, ok_up_to).map_err(|_| {
            println!("Failed to truncate AOF {name}");
            Abort
        })?;
        Ok(Outcome::Truncated)
    }

    /// `--yes`, or a line starting with `y` on standard input.
    fn confirm(&self) -> bool {
        print!("Continue? [y/N]: ");
        if self.yes {
            println!("y (--yes)");
            return true;
        }
        let _ = io::stdout().flush();
        let mut answer = String::new();
        io::stdin().read_line(&mut answer).is_ok() && answer.trim_start().starts_with(['y', 'Y'])
    }
}

fn read_failed(name: &str) -> Abort {
    println!("Failed to read from AOF {name}, aborting...");
    Abort
}

fn report(what: &str, name: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Valid => println!("{what} {name} is valid"),
        Outcome::Empty => println!("{what} {name} is empty"),
        Outcome::Truncated => println!("Successfully truncated AOF {name}"),
        Outcome::TimestampTruncated(ts) => {
            println!("Successfully truncated AOF {name} to timestamp {ts}")
        }
    }
}

/// The error line before `AOF analyzed`, as `redis-check-aof` prints it: the offset in hex,
/// padded to 16, and what is wrong there.
fn print_error(name: &str, error: &StreamError, clean_end: bool) {
    match error {
        StreamError::Corrupt { offset, reason } => {
            if reason == "expected '*' or '#'" {
                println!("AOF {name} format error");
            }
            println!("0x{offset:>16x}: {reason}");
        }
        StreamError::Truncated { valid_up_to } if clean_end => {
            println!("0x{valid_up_to:>16x}: Reached EOF before reading EXEC for MULTI");
        }
        StreamError::Truncated { valid_up_to } => {
            println!("0x{valid_up_to:>16x}: Unexpected end of file: the command here is cut short");
        }
        other => println!("{other}"),
    }
}

/// Offset up to which whole commands count for `ok_up_to_line`: where the scan found a
/// corruption, else the end.
fn stop_at(report: &ScanReport, size: u64) -> u64 {
    match report.error {
        Some(StreamError::Corrupt { offset, .. }) => offset,
        _ => size,
    }
}

/// What [`walk`] found.
#[derive(Default)]
struct Walk {
    /// Lines of the whole commands ending at or before the stop offset (1 for `*<n>`, 2 per
    /// argument).
    lines: u64,
    /// The stream ended cleanly after whole commands (not inside one).
    clean_end: bool,
    /// Offset of the first `#TS:` annotation later than the timestamp asked for.
    timestamp_cut: Option<u64>,
    /// A `#TS:` annotation that is not `#TS:<number>\r`.
    bad_timestamp: bool,
}

/// Reads the command stream of `path` from `start` (offset of its first byte): counts lines of
/// whole commands up to `stop`, and with `to_timestamp` finds the first later `#TS:` line.
fn walk(path: &Path, start: u64, stop: u64, to_timestamp: Option<i64>) -> io::Result<Walk> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut r = BufReader::new(file);
    let mut pos = start;
    let mut walk = Walk::default();
    let mut line = Vec::new();
    loop {
        if r.fill_buf()?.first() == Some(&b'#') {
            line.clear();
            let n = r.read_until(b'\n', &mut line)?;
            if let (Some(limit), Some(ts)) = (to_timestamp, line.strip_prefix(b"#TS:")) {
                match parse_timestamp(ts) {
                    None => {
                        walk.bad_timestamp = true;
                        return Ok(walk);
                    }
                    Some(t) if t > limit => {
                        walk.timestamp_cut = Some(pos);
                        return Ok(walk);
                    }
                    Some(_) => {}
                }
            }
            pos += n as u64;
            continue;
        }
        let mut reader = CommandReader::new(&mut r, pos);
        match reader.next_command() {
            Ok(Some(args)) => {
                pos = reader.position();
                if pos <= stop {
                    walk.lines += 1 + 2 * args.len() as u64;
                }
            }
            Ok(None) => {
                walk.clean_end = true;
                return Ok(walk);
            }
            Err(_) => return Ok(walk),
        }
    }
}

/// `<digits>\r…` after `#TS:` (Redis: `strtol`, then the next byte must be `\r`).
fn parse_timestamp(text: &[u8]) -> Option<i64> {
    let end = text.iter().position(|&b| b == b'\r')?;
    std::str::from_utf8(&text[..end]).ok()?.parse().ok()
}

/// Cuts the last file at the `#TS:` annotation at `cut` (Redis' `processAnnotations`).
fn truncate_to_timestamp(path: &Path, ts: i64, cut_at: u64, last: bool) -> Result<Outcome, Abort> {
    let p = path.display();
    if cut_at == 0 {
        println!("AOF {p} has nothing before timestamp {ts}, aborting...");
        return Err(Abort);
    }
    if !last {
        println!(
            "Failed to truncate AOF {p} to timestamp {ts} to offset {cut_at} because it is not \
             the last file."
        );
        println!(
            "If you insist, please delete all files after this file according to the manifest \
             file and delete the corresponding records in manifest file manually. Then re-run \
             ferrodis-check-aof."
        );
        return Err(Abort);
    }
    cut(path, cut_at).map_err(|_| {
        println!("Failed to truncate AOF {p} to timestamp {ts}");
        Abort
    })?;
    Ok(Outcome::TimestampTruncated(ts))
}

/// The offset of the first command header (`*<count>\r\n$`) at or after `from`, if any: whether
/// a corruption is followed by commands that cutting would lose.
fn command_after(path: &Path, from: u64) -> io::Result<Option<u64>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut window = Vec::new();
    let mut base = from;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        window.extend_from_slice(&chunk[..n]);
        if let Some(i) = find_header(&window) {
            return Ok(Some(base + i as u64));
        }
        let drop = window.len().saturating_sub(HEADER_MAX);
        window.drain(..drop);
        base += drop as u64;
    }
}

/// The index of the first `*<1-19 digits>\r\n$` in `buf`.
fn find_header(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find(|&i| {
        let Some(rest) = buf[i..].strip_prefix(b"*") else {
            return false;
        };
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        (1..=19).contains(&digits) && rest[digits..].starts_with(b"\r\n$")
    })
}

/// Up to `n` bytes of `path` from `offset`.
fn read_at(path: &Path, offset: u64, n: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::new();
    file.take(n).read_to_end(&mut out)?;
    Ok(out)
}

/// Truncates `path` to `len` bytes.
fn cut(path: &Path, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(len)?;
    file.sync_all()
}
