//! Parsing differential scripts (`tests/scripts/*.txt`) into [`Step`]s.
//!
//! The format is documented in `tests/scripts/README.md`; in short, a line is
//!
//! ```text
//! [modifier ...] [command arg ...]
//! ```
//!
//! where modifiers are leading words starting with `@` (the connection) or `%` (how to run the
//! line and compare its replies), and the command is split with redis-cli quoting
//! ([`crate::quote`]). Blank lines and lines starting with `#` are ignored; `%config <line>`
//! lines (before the first step) add a redis.conf line to both servers, and a leading
//! `%repeat=N` runs the line N times with `${i}` replaced by 0, 1, ... N-1.

use std::time::Duration;

use crate::quote::split_args;

/// A parsed script: config lines for both servers and the steps to run.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// redis.conf lines given to both servers (from `%config` lines).
    pub config: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One script line to run on both servers.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based line number in the script file.
    pub line: usize,
    /// The line as written (for failure messages).
    pub source: String,
    /// Connection number (`@N`, default 1). Connections open on first use and reopen after
    /// they were found closed.
    pub conn: usize,
    /// What to send.
    pub action: Action,
    /// How to compare the replies.
    pub check: Check,
    /// Map keys (or names in RESP2 name/value arrays) whose values are not compared
    /// (`%mask=id,version`).
    pub mask: Vec<Vec<u8>>,
    /// Replies to read (`%replies=N`; 1 for commands and raw lines; `%noreply` is 0, and then
    /// the harness checks that nothing arrives within a short wait).
    pub replies: usize,
    /// After the replies, the server must close the connection (`%closed`).
    pub closed: bool,
    /// Store a value of the reply in a per-server variable (`%capture=name` or
    /// `%capture=name:field` for a `field=value` text such as CLIENT INFO's).
    pub capture: Option<Capture>,
    /// Send the command without reading its reply (`%send`): a blocking command whose reply a
    /// later `%recv` line reads.
    pub nowait: bool,
}

/// What a step sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A command sent as one multibulk request. Arguments may contain `${name}` variables.
    Command(Vec<Vec<u8>>),
    /// Bytes sent as they are (`%raw` followed by quoted pieces that are concatenated).
    Raw(Vec<u8>),
    /// Pause both runs (`%sleep=MS`), for expiry.
    Sleep(Duration),
    /// The client closes the connection (`%disconnect`).
    Disconnect,
    /// Send nothing: only check the connection (used with `%closed`).
    Nothing,
    /// Send nothing and read the step's replies (`%recv` / `%recv=N`): a blocked command's
    /// late reply, or Pub/Sub messages.
    Receive,
}

/// How the two servers' replies must compare.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The same bytes (the default).
    Exact,
    /// Anything (the reply is read and dropped; `%ignore`).
    Ignore,
    /// The same frame type (`%type`): for replies whose value is machine- or time-dependent.
    Type,
    /// The same structure (`%shape`): same types at every level, same aggregate lengths, same
    /// map keys; scalar values are not compared.
    Shape,
    /// The same elements in any order (`%unordered`), for sets and key lists.
    Unordered,
    /// The same name/value pairs in any order (`%pairs`), for maps and RESP2 flat maps.
    Pairs,
    /// Numbers within a tolerance (`%approx=N`), e.g. TTLs.
    Approx(f64),
    /// Integers both within `lo..=hi` (`%range=LO..HI`), e.g. OBJECT IDLETIME.
    Range(i64, i64),
    /// INFO text: the reference's sections and field names are all present in the subject's,
    /// and `# Keyspace` lines are identical but for the `avg_ttl` estimate (`%info`); with
    /// `%info=server,clients` only the named sections (any case) are checked.
    Info(Vec<String>),
    /// `name=value` lines (CLIENT INFO / CLIENT LIST): same lines with the same field names in
    /// the same order; the values of the listed fields must also match (`%fields=name,db`).
    Fields(Vec<String>),
    /// COMMAND INFO replies: exact, except that each command's subcommand list (its 10th
    /// element, built from a hash table) compares as a set, recursively (`%cmdinfo`).
    CommandInfo,
    /// Iterate a SCAN-family command from the given cursor to the end and compare the union of
    /// the elements as a set (`%scan`).
    Scan,
}

/// Where `%capture` stores what.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// Variable name, used as `${name}` in later arguments.
    pub name: String,
    /// For `name=value` texts, the field whose value to take.
    pub field: Option<String>,
}

/// A script error: line number and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parse a script's text.
///
/// # Errors
///
/// The first malformed line.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let mut script = Script::default();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fail = |message: String| ParseError { line, message };
        if let Some(config) = trimmed.strip_prefix("%config ") {
            if !script.steps.is_empty() {
                return Err(fail("%config lines must come before the first step".into()));
            }
            script.config.push(config.trim().to_owned());
            continue;
        }
        let (repeat, text) = split_repeat(trimmed).map_err(fail)?;
        match repeat {
            None => script.steps.push(parse_step(line, text).map_err(fail)?),
            Some(times) => {
                for i in 0..times {
                    let text = text.replace("${i}", &i.to_string());
                    script.steps.push(parse_step(line, &text).map_err(fail)?);
                }
            }
        }
    }
    Ok(script)
}

/// Take a leading `%repeat=N` off a line.
fn split_repeat(text: &str) -> Result<(Option<usize>, &str), String> {
    let Some(rest) = text.strip_prefix("%repeat=") else {
        return Ok((None, text));
    };
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let times = rest[..end].parse().map_err(|_| "bad %repeat count")?;
    Ok((Some(times), rest[end..].trim_start()))
}

fn parse_step(line: usize, text: &str) -> Result<Step, String> {
    let mut step = Step {
        line,
        source: text.to_owned(),
        conn: 1,
        action: Action::Nothing,
        check: Check::Exact,
        mask: Vec::new(),
        replies: 1,
        closed: false,
        capture: None,
        nowait: false,
    };
    let mut rest = text;
    let mut raw = false;
    let mut replies = None;
    let mut check = None;
    loop {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        if !(word.starts_with('%') || word.starts_with('@')) || word.is_empty() {
            break;
        }
        rest = rest[word_end..].trim_start();
        if let Some(n) = word.strip_prefix('@') {
            step.conn = n
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("bad connection {word:?} (want @1, @2, ...)"))?;
            continue;
        }
        let (name, value) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word, None),
        };
        let need = |what: &str| value.ok_or_else(|| format!("{name} needs ={what}"));
        let new_check = match name {
            "%ignore" => Some(Check::Ignore),
            "%type" => Some(Check::Type),
            "%shape" => Some(Check::Shape),
            "%unordered" => Some(Check::Unordered),
            "%pairs" => Some(Check::Pairs),
            "%info" => Some(Check::Info(
                value
                    .map(|v| v.split(',').map(str::to_ascii_lowercase).collect())
                    .unwrap_or_default(),
            )),
            "%scan" => Some(Check::Scan),
            "%cmdinfo" => Some(Check::CommandInfo),
            "%fields" => Some(Check::Fields(
                value
                    .map(|v| v.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
            )),
            "%approx" => Some(Check::Approx(
                need("N")?.parse().map_err(|_| "bad %approx value")?,
            )),
            "%range" => {
                let (lo, hi) = need("LO..HI")?
                    .split_once("..")
                    .ok_or("%range wants LO..HI")?;
                Some(Check::Range(
                    lo.parse().map_err(|_| "bad %range low")?,
                    hi.parse().map_err(|_| "bad %range high")?,
                ))
            }
            "%mask" => {
                step.mask = need("name,...")?
                    .split(',')
                    .map(|k| k.as_bytes().to_vec())
                    .collect();
                None
            }
            "%replies" => {
                replies = Some(need("N")?.parse().map_err(|_| "bad %replies count")?);
                None
            }
            "%noreply" => {
                replies = Some(0);
                None
            }
            "%closed" => {
                step.closed = true;
                None
            }
            "%send" => {
                step.nowait = true;
                replies = Some(0);
                None
            }
            "%recv" => {
                step.action = Action::Receive;
                let n = value
                    .map_or(Ok(1), str::parse)
                    .map_err(|_| "bad %recv count")?;
                replies = Some(n);
                None
            }
            "%raw" => {
                raw = true;
                None
            }
            "%disconnect" => {
                step.action = Action::Disconnect;
                None
            }
            "%sleep" => {
                let ms = need("MS")?.parse().map_err(|_| "bad %sleep value")?;
                step.action = Action::Sleep(Duration::from_millis(ms));
                None
            }
            "%capture" => {
                let spec = need("name[:field]")?;
                step.capture = Some(match spec.split_once(':') {
                    Some((name, field)) => Capture {
                        name: name.to_owned(),
                        field: Some(field.to_owned()),
                    },
                    None => Capture {
                        name: spec.to_owned(),
                        field: None,
                    },
                });
                None
            }
            _ => return Err(format!("unknown modifier {name}")),
        };
        if let Some(new_check) = new_check {
            if check.is_some() {
                return Err("only one comparison modifier per line".to_owned());
            }
            check = Some(new_check);
        }
    }
    step.check = check.unwrap_or(Check::Exact);
    let args = split_args(rest.as_bytes())?;
    match (&step.action, raw, args.is_empty()) {
        (Action::Nothing, true, false) => step.action = Action::Raw(args.concat()),
        (Action::Nothing, false, false) => step.action = Action::Command(args),
        (Action::Nothing, _, true) if step.closed => step.replies = 0,
        (Action::Sleep(_) | Action::Disconnect, false, true) => step.replies = 0,
        (Action::Receive, false, true) => {}
        (_, true, true) => return Err("%raw needs bytes".to_owned()),
        (Action::Nothing, false, true) => return Err("nothing to run".to_owned()),
        _ => return Err("%sleep, %disconnect and %recv take no command".to_owned()),
    }
    if let Some(n) = replies {
        step.replies = n;
    }
    if step.check == Check::Scan && !matches!(step.action, Action::Command(_)) {
        return Err("%scan needs a SCAN-family command".to_owned());
    }
    Ok(step)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_and_commands() {
        let script = parse(
            "# comment\n%config databases 4\n\nSET k \"a b\"\n@2 %unordered KEYS *\n\
             %raw %replies=2 \"PING\\r\\n\" 'PING\\r\\n'\n%sleep=20\n%closed @3\n\
             %noreply CLIENT REPLY OFF\n%capture=id:id @2 CLIENT INFO\n\
             %repeat=2 SET k${i} ${i}\n",
        )
        .unwrap();
        assert_eq!(script.config, vec!["databases 4".to_owned()]);
        let s = &script.steps;
        assert_eq!(s.len(), 9);
        assert_eq!(
            s[8].action,
            Action::Command(vec![b"SET".to_vec(), b"k1".to_vec(), b"1".to_vec()])
        );
        assert_eq!(s[0].line, 4);
        assert_eq!(
            s[0].action,
            Action::Command(vec![b"SET".to_vec(), b"k".to_vec(), b"a b".to_vec()])
        );
        assert_eq!((s[1].conn, &s[1].check), (2, &Check::Unordered));
        assert_eq!(s[2].action, Action::Raw(b"PING\r\nPING\\r\\n".to_vec()));
        assert_eq!(s[2].replies, 2);
        assert_eq!(s[3].action, Action::Sleep(Duration::from_millis(20)));
        assert_eq!((s[4].conn, s[4].closed, s[4].replies), (3, true, 0));
        assert_eq!(s[5].replies, 0);
        assert_eq!(s[6].capture.as_ref().unwrap().field.as_deref(), Some("id"));
    }

    #[test]
    fn errors() {
        for bad in [
            "%type %shape PING",
            "%bogus PING",
            "@0 PING",
            "%raw",
            "%sleep=x",
            "%approx",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("PING\n%config x y").is_err());
    }
}
