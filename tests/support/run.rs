//! Running a differential script against a fresh reference and a fresh subject.
//!
//! Each step runs on the reference first, then on the subject, each on its own connection
//! numbered like the step's `@N`. The two outcomes (replies read, how reading ended, whether
//! the connection closed) are compared; every difference becomes a [`Mismatch`] and the run
//! goes on, so one report lists all of a script's differences. A connection whose replies can
//! no longer be trusted (a timeout, an unexpected close, a missing or extra reply) is dropped
//! and reopened on next use, so a mismatch does not shift every later reply.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use ferrodis_resp::Frame;

use crate::compare::{canonical, capture_value, compare};
use crate::conn::{Connection, ReadError, Reply};
use crate::reference::Reference;
use crate::render::{quoted, render};
use crate::script::{self, Action, Check, Script, Step};
use crate::subject::{start_subject, Server};

/// Environment variable: `1` prints every step with the reference's outcome (run the test with
/// `--nocapture` to see it), for writing and reviewing scripts.
pub const TRACE_ENV: &str = "FERRODIS_DIFF_TRACE";

/// How long a `%noreply` step waits to be sure no reply comes.
const NO_REPLY_WAIT: Duration = Duration::from_millis(100);
/// How long a `%send` step waits for the server to take the command.
const SEND_SETTLE: Duration = Duration::from_millis(30);
/// How long a `%closed` step waits for the server to close the connection.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Most SCAN calls one `%scan` step makes before calling the iteration endless.
const MAX_SCAN_CALLS: usize = 100_000;
/// Most mismatches printed in one failure message.
const MAX_REPORTED: usize = 60;

/// One line whose outcomes differ.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// Script line number.
    pub line: usize,
    /// The line as written.
    pub source: String,
    /// Why they differ.
    pub reason: String,
    /// The reference's outcome, rendered.
    pub reference: String,
    /// The subject's outcome, rendered.
    pub subject: String,
}

/// What one server did for one step.
#[derive(Debug, Default)]
struct Outcome {
    replies: Vec<Reply>,
    /// How reading stopped early, if it did (`connection closed`, `no reply (timed out)`, ...).
    failure: Option<String>,
    /// For `%closed` steps: `Ok` if the server closed the connection, else what happened.
    closed: Option<Result<(), String>>,
}

/// One server with its open connections and captured variables.
struct Side {
    server: Box<dyn Server>,
    conns: BTreeMap<usize, Connection>,
    vars: HashMap<String, Vec<u8>>,
}

impl Side {
    fn new(server: Box<dyn Server>) -> Side {
        Side {
            server,
            conns: BTreeMap::new(),
            vars: HashMap::new(),
        }
    }

    fn conn(&mut self, n: usize) -> Result<&mut Connection, String> {
        if !self.conns.contains_key(&n) {
            let conn = self
                .server
                .connect()
                .map_err(|e| format!("cannot connect to {}: {e}", self.server.label()))?;
            self.conns.insert(n, conn);
        }
        self.conns
            .get_mut(&n)
            .ok_or_else(|| "connection vanished".to_owned())
    }

    /// Replace `${name}` with this side's captured values, and `${N*text}` with `text` N times.
    fn substitute(&self, bytes: &[u8]) -> Vec<u8> {
        if !bytes.windows(2).any(|w| w == b"${") {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"${") {
                if let Some(end) = bytes[i..].iter().position(|&b| b == b'}') {
                    let name = String::from_utf8_lossy(&bytes[i + 2..i + end]);
                    if let Some(value) = self.vars.get(name.as_ref()) {
                        out.extend_from_slice(value);
                        i += end + 1;
                        continue;
                    }
                    if let Some(value) = repeated(&name) {
                        out.extend_from_slice(&value);
                        i += end + 1;
                        continue;
                    }
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        out
    }

    fn run(&mut self, step: &Step) -> Outcome {
        let mut outcome = Outcome::default();
        match &step.action {
            Action::Sleep(pause) => {
                std::thread::sleep(*pause);
                return outcome;
            }
            Action::Disconnect => {
                if let Some(conn) = self.conns.remove(&step.conn) {
                    conn.close();
                }
                // Give the server a moment to notice, so a following CLIENT LIST is stable.
                std::thread::sleep(Duration::from_millis(20));
                return outcome;
            }
            Action::Command(args) if step.check == Check::Scan => {
                let args: Vec<Vec<u8>> = args.iter().map(|a| self.substitute(a)).collect();
                self.scan(step.conn, args, &mut outcome);
            }
            Action::Command(args) => {
                let args: Vec<Vec<u8>> = args.iter().map(|a| self.substitute(a)).collect();
                self.send(step, &crate::conn::multibulk(&args), &mut outcome);
            }
            Action::Raw(bytes) => {
                let bytes = self.substitute(bytes);
                self.send(step, &bytes, &mut outcome);
            }
            Action::Receive => self.receive(step, &mut outcome),
            Action::Nothing => {}
        }
        if step.closed && outcome.failure.is_none() {
            let closed = match self.conn(step.conn) {
                Ok(conn) => conn.expect_closed(CLOSE_WAIT),
                Err(e) => Err(e),
            };
            outcome.closed = Some(closed);
            self.conns.remove(&step.conn);
        }
        if let (Some(capture), Some(reply)) = (&step.capture, outcome.replies.first()) {
            if let Some(value) = capture_value(&reply.frame, capture.field.as_deref()) {
                self.vars.insert(capture.name.clone(), value);
            }
        }
        outcome
    }

    /// Send `bytes` and read the step's replies into `outcome`.
    fn send(&mut self, step: &Step, bytes: &[u8], outcome: &mut Outcome) {
        let conn = match self.conn(step.conn) {
            Ok(conn) => conn,
            Err(e) => {
                outcome.failure = Some(e);
                return;
            }
        };
        if let Err(e) = conn.send_raw(bytes) {
            // The server may have closed the connection and still left a reply to read.
            if step.replies == 0 {
                outcome.failure = Some(format!("write failed: {e}"));
                self.conns.remove(&step.conn);
                return;
            }
        }
        if step.nowait {
            // Let the server take the command (and block) before the next line runs.
            std::thread::sleep(SEND_SETTLE);
            return;
        }
        self.read_replies(step, outcome);
    }

    /// Read the step's replies without sending anything (`%recv`).
    fn receive(&mut self, step: &Step, outcome: &mut Outcome) {
        if let Err(e) = self.conn(step.conn) {
            outcome.failure = Some(e);
            return;
        }
        self.read_replies(step, outcome);
    }

    /// Read the step's replies on its (open) connection; with none expected, check that nothing
    /// arrives within [`NO_REPLY_WAIT`]. A connection whose replies went out of step is dropped.
    fn read_replies(&mut self, step: &Step, outcome: &mut Outcome) {
        let Some(conn) = self.conns.get_mut(&step.conn) else {
            outcome.failure = Some("connection vanished".to_owned());
            return;
        };
        for _ in 0..step.replies {
            match conn.read_reply() {
                Ok(reply) => outcome.replies.push(reply),
                Err(e) => {
                    outcome.failure = Some(e.to_string());
                    self.conns.remove(&step.conn);
                    return;
                }
            }
        }
        if step.replies == 0 {
            match conn.read_reply_within(NO_REPLY_WAIT) {
                Err(ReadError::Timeout) => {}
                Ok(reply) => {
                    outcome.replies.push(reply);
                    // An unexpected reply: start over on a fresh connection.
                    self.conns.remove(&step.conn);
                }
                Err(e) => {
                    outcome.failure = Some(e.to_string());
                    self.conns.remove(&step.conn);
                }
            }
        }
    }

    /// Run a SCAN-family command from its cursor to the end; the outcome's one reply is the set
    /// of everything returned (pairs for HSCAN/ZSCAN), or the first reply that was not a page.
    fn scan(&mut self, conn_number: usize, mut args: Vec<Vec<u8>>, outcome: &mut Outcome) {
        let name = args[0].to_ascii_uppercase();
        let cursor_at = if name == b"SCAN" { 1 } else { 2 };
        let paired = name == b"HSCAN" || name == b"ZSCAN";
        let conn = match self.conn(conn_number) {
            Ok(conn) => conn,
            Err(e) => {
                outcome.failure = Some(e);
                return;
            }
        };
        // Keyed by canonical bytes: SCAN may return an element more than once.
        let mut seen = BTreeMap::new();
        for _ in 0..MAX_SCAN_CALLS {
            let reply = match conn
                .send(&args)
                .map_err(|e| e.to_string())
                .and_then(|()| conn.read_reply().map_err(|e| e.to_string()))
            {
                Ok(reply) => reply,
                Err(e) => {
                    outcome.failure = Some(e);
                    self.conns.remove(&conn_number);
                    return;
                }
            };
            let page = match &reply.frame {
                Frame::Array(page) if page.len() == 2 => page,
                _ => {
                    outcome.replies.push(reply);
                    return;
                }
            };
            let (Frame::Bulk(cursor), Frame::Array(items)) = (&page[0], &page[1]) else {
                outcome.replies.push(reply);
                return;
            };
            if paired {
                for kv in items.chunks(2) {
                    let pair = Frame::Array(kv.to_vec());
                    seen.insert(canonical(&pair), pair);
                }
            } else {
                for item in items {
                    seen.insert(canonical(item), item.clone());
                }
            }
            if &cursor[..] == b"0" {
                let frame = Frame::Set(seen.into_values().collect());
                let raw = canonical(&frame);
                outcome.replies.push(Reply { frame, raw });
                return;
            }
            if cursor_at >= args.len() {
                outcome.failure = Some("no cursor argument".to_owned());
                return;
            }
            args[cursor_at] = cursor.to_vec();
        }
        outcome.failure = Some(format!("SCAN did not finish in {MAX_SCAN_CALLS} calls"));
    }
}

/// `${N*text}`: `text` repeated N times (long arguments and oversized requests).
fn repeated(spec: &str) -> Option<Vec<u8>> {
    let (count, text) = spec.split_once('*')?;
    let count: usize = count.parse().ok()?;
    Some(text.as_bytes().repeat(count))
}

/// Run the script file at `path` against a fresh reference and a fresh subject.
///
/// Prints "skipped: ..." and returns when the reference is not installed (see
/// [`Reference::start`]).
///
/// # Panics
///
/// With every mismatch (script file, line, command, reason, both outcomes), or when the
/// script does not parse or a server does not start.
pub fn run_script_file(path: &Path) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("reading {}: {e}", path.display()),
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let script = match script::parse(&text) {
        Ok(script) => script,
        Err(e) => panic!("{name}: {e}"),
    };
    let Some((mismatches, subject)) = run_script(&script) else {
        return;
    };
    if !mismatches.is_empty() {
        panic!("{}", report(&name, subject, &mismatches));
    }
}

/// Run a parsed script on fresh servers. `None` when the reference is missing (skipped);
/// otherwise the mismatches and the subject's label.
pub fn run_script(script: &Script) -> Option<(Vec<Mismatch>, &'static str)> {
    let reference = Reference::start(&script.config)?;
    let subject = start_subject(&script.config)?;
    let label = subject.label();
    let mut a = Side::new(Box::new(reference));
    let mut b = Side::new(subject);
    let mut mismatches = Vec::new();
    let trace = std::env::var(TRACE_ENV).as_deref() == Ok("1");
    for step in &script.steps {
        let x = a.run(step);
        let y = b.run(step);
        if trace {
            println!("{}: {}\n  {}", step.line, step.source, describe(&x, &y));
        }
        if let Some(reason) = differ(step, &x, &y) {
            mismatches.push(Mismatch {
                line: step.line,
                source: step.source.clone(),
                reason,
                reference: describe(&x, &y),
                subject: describe(&y, &x),
            });
        }
    }
    Some((mismatches, label))
}

/// Why two outcomes of `step` differ, or `None` if they match under the step's check.
fn differ(step: &Step, x: &Outcome, y: &Outcome) -> Option<String> {
    if let Some(problem) = script_problem(step, x) {
        return Some(format!(
            "script error, the reference disagrees with the line: {problem}"
        ));
    }
    if x.replies.len() != y.replies.len() {
        return Some(format!(
            "{} replies vs {} (expected {})",
            x.replies.len(),
            y.replies.len(),
            step.replies
        ));
    }
    let mut reasons = Vec::new();
    for (i, (rx, ry)) in x.replies.iter().zip(&y.replies).enumerate() {
        if let Err(why) = compare(&step.check, &step.mask, rx, ry) {
            if x.replies.len() > 1 {
                reasons.push(format!("reply {}: {why}", i + 1));
            } else {
                reasons.push(why);
            }
        }
    }
    if x.failure != y.failure {
        reasons.push(format!(
            "reading stopped differently: {:?} vs {:?}",
            x.failure, y.failure
        ));
    }
    let closed = |o: &Outcome| o.closed.as_ref().map(Result::is_ok);
    if closed(x) != closed(y) {
        reasons.push("one server closed the connection, the other did not".to_owned());
    }
    if reasons.is_empty() {
        None
    } else {
        Some(reasons.join("; "))
    }
}

/// What is wrong with a step if the reference itself does not do what the line says (a reply
/// count, a close): such a line would compare two failures and prove nothing.
fn script_problem(step: &Step, reference: &Outcome) -> Option<String> {
    if let Some(failure) = &reference.failure {
        return Some(failure.clone());
    }
    let expected = if step.check == Check::Scan {
        1
    } else {
        step.replies
    };
    if reference.replies.len() != expected {
        return Some(format!(
            "{} replies, not {expected}",
            reference.replies.len()
        ));
    }
    match &reference.closed {
        Some(Err(what)) => Some(format!("connection not closed ({what})")),
        _ => None,
    }
}

/// An outcome for a failure message; the raw bytes are added when the rendering alone would
/// not show the difference from `other`.
fn describe(outcome: &Outcome, other: &Outcome) -> String {
    let mut out = String::new();
    for (i, reply) in outcome.replies.iter().enumerate() {
        if outcome.replies.len() > 1 {
            let _ = write!(out, "\n    [{}] ", i + 1);
        }
        out.push_str(&render(&reply.frame, 6));
        let twin = other.replies.get(i);
        if twin
            .is_some_and(|t| render(&t.frame, 6) == render(&reply.frame, 6) && t.raw != reply.raw)
        {
            let _ = write!(out, "\n      raw: {}", quoted(&reply.raw));
        }
    }
    if outcome.replies.is_empty() {
        out.push_str("(no reply)");
    }
    if let Some(failure) = &outcome.failure {
        let _ = write!(out, "\n      then: {failure}");
    }
    match &outcome.closed {
        Some(Ok(())) => out.push_str("\n      then: connection closed"),
        Some(Err(what)) => {
            let _ = write!(out, "\n      then: not closed ({what})");
        }
        None => {}
    }
    out
}

/// The failure message for a script's mismatches.
pub fn report(script: &str, subject: &str, mismatches: &[Mismatch]) -> String {
    let mut out = format!(
        "{script}: {} mismatch(es), reference vs {subject}\n",
        mismatches.len()
    );
    for m in mismatches.iter().take(MAX_REPORTED) {
        let _ = write!(
            out,
            "\n{script}:{}: {}\n  why: {}\n  reference: {}\n  {subject}: {}\n",
            m.line, m.source, m.reason, m.reference, m.subject
        );
    }
    if mismatches.len() > MAX_REPORTED {
        let _ = write!(out, "\n... and {} more", mismatches.len() - MAX_REPORTED);
    }
    out
}
