//! The real `redis-cli` and `redis-benchmark` binaries against an in-process Ferrodis.
//!
//! Outputs are compared with what the same binaries print against the reference redis-server
//! (on a Unix socket) when it is installed. A missing binary skips the test with a message,
//! unless `FERRODIS_REQUIRE_REFERENCE=1`. Interactive hints need `tmux` (skipped without it).

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use ferrodis::Frame;

use common::{
    bulk, multibulk, reference_tool, simple, wait_until, which, BackgroundServer, ChildGuard,
    Reference,
};

/// How long one run of redis-cli or redis-benchmark may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// What a finished program printed.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `program args` with `stdin` as input; the process is killed if the test fails or it
/// runs longer than [`RUN_LIMIT`].
fn run(program: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let child = Command::new(program)
        .args(args)
        .env("REDISCLI_HISTFILE", "/dev/null")
        .env("REDISCLI_RCFILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
    let mut child = ChildGuard(child);
    let mut input = child.0.stdin.take().expect("stdin pipe");
    let stdin = stdin.to_vec();
    // Pipes are drained on threads so a large output or input cannot deadlock.
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut out = Vec::new();
            let _ = pipe.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.0.stdout.take().expect("stdout pipe")));
    let stderr = read_all(Box::new(child.0.stderr.take().expect("stderr pipe")));
    let mut status = None;
    wait_until(
        &format!("{} {args:?} to exit", program.display()),
        RUN_LIMIT,
        || {
            status = child.0.try_wait().expect("wait for the child");
            status.is_some()
        },
    );
    writer.join().expect("stdin writer");
    Run {
        status: status.expect("exit status"),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// redis-cli pointed at Ferrodis or at the reference.
struct Cli {
    program: PathBuf,
    target: Vec<String>,
}

impl Cli {
    fn ferrodis(program: &Path, server: &BackgroundServer) -> Cli {
        Cli {
            program: program.to_owned(),
            target: vec![
                "-h".into(),
                "127.0.0.1".into(),
                "-p".into(),
                server.port().to_string(),
            ],
        }
    }

    fn reference(program: &Path, reference: &Reference) -> Cli {
        Cli {
            program: program.to_owned(),
            target: vec!["-s".into(), reference.socket().display().to_string()],
        }
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut all: Vec<&str> = self.target.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        run(&self.program, &all, stdin)
    }
}

#[test]
fn ping_answers_pong() {
    let Some(cli) = reference_tool("redis-cli") else {
        return;
    };
    let server = BackgroundServer::start();
    let out = run(&cli, &["-p", &server.port().to_string(), "ping"], b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, "PONG\n");
}

#[test]
fn url_database_and_dash_n_select_the_same_db() {
    let Some(cli) = reference_tool("redis-cli") else {
        return;
    };
    let server = BackgroundServer::start();
    let port = server.port().to_string();
    let url = format!("redis://127.0.0.1:{port}/2");
    let set = run(&cli, &["-u", &url, "set", "x", "1"], b"");
    assert_eq!(set.stdout, "OK\n", "{set:?}");
    let get2 = run(&cli, &["-p", &port, "-n", "2", "get", "x"], b"");
    assert_eq!(get2.stdout, "1\n", "{get2:?}");
    let get0 = run(&cli, &["-p", &port, "--no-raw", "get", "x"], b"");
    assert_eq!(get0.stdout, "(nil)\n", "{get0:?}");
    let mut conn = server.connect();
    assert_eq!(conn.command(&["SELECT", "2"]), simple("OK"));
    assert_eq!(conn.command(&["GET", "x"]), bulk("1"));
}

/// The commands of [`outputs_match_redis`], run in order on an empty server, with the output
/// redis-cli 7.0 prints for each against redis-server 7.0.15.
const OUTPUT_CASES: &[(&[&str], &str)] = &[
    (&["set", "k", "v"], "OK\n"),
    (&["--no-raw", "set", "k2", "v2"], "OK\n"),
    (&["get", "k"], "v\n"),
    (&["--no-raw", "get", "k"], "\"v\"\n"),
    (&["--raw", "get", "k"], "v\n"),
    (&["get", "missing"], "\n"),
    (&["--no-raw", "get", "missing"], "(nil)\n"),
    (&["incr", "n"], "1\n"),
    (&["--no-raw", "incr", "n"], "(integer) 2\n"),
    (
        &["incr", "k"],
        "ERR value is not an integer or out of range\n\n",
    ),
    (
        &["--no-raw", "incr", "k"],
        "(error) ERR value is not an integer or out of range\n",
    ),
    (
        &["nosuch", "a"],
        "ERR unknown command 'nosuch', with args beginning with: 'a' \n\n",
    ),
    (&["mget", "k", "missing", "n"], "v\n\n2\n"),
    (
        &["--no-raw", "mget", "k", "missing", "n"],
        "1) \"v\"\n2) (nil)\n3) \"2\"\n",
    ),
    (&["--no-raw", "ttl", "k"], "(integer) -1\n"),
    (
        &["--no-raw", "config", "get", "databases"],
        "1) \"databases\"\n2) \"16\"\n",
    ),
    (&["--no-raw", "set", "bin", "a\tb"], "OK\n"),
    (&["--no-raw", "get", "bin"], "\"a\\tb\"\n"),
    (&["--no-raw", "dbsize"], "(integer) 4\n"),
];

#[test]
fn raw_and_formatted_outputs_match_redis() {
    let Some(program) = reference_tool("redis-cli") else {
        return;
    };
    let server = BackgroundServer::start();
    let reference = Reference::start();
    let ferrodis = Cli::ferrodis(&program, &server);
    let reference = reference.as_ref().map(|r| Cli::reference(&program, r));
    let mut failures = Vec::new();
    for (args, want) in OUTPUT_CASES {
        let got = ferrodis.run(args, b"");
        if got.stdout != *want || !got.status.success() {
            failures.push(format!("{args:?}: Ferrodis gave {got:?}, want {want:?}"));
        }
        if let Some(reference) = &reference {
            let got = reference.run(args, b"");
            if got.stdout != *want || !got.status.success() {
                failures.push(format!(
                    "{args:?}: the reference gave {got:?}; expected {want:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn mass_insertion(n: usize, bad_at: Option<usize>) -> Vec<u8> {
    let mut data = Vec::new();
    for i in 0..n {
        if Some(i) == bad_at {
            data.extend(multibulk(&["INCR", "key:0"]));
        } else {
            data.extend(multibulk(&[
                "SET",
                &format!("key:{i}"),
                &format!("value:{i}"),
            ]));
        }
    }
    data
}

#[test]
fn pipe_mode_mass_insertion() {
    const N: usize = 5000;
    let Some(program) = reference_tool("redis-cli") else {
        return;
    };
    let server = BackgroundServer::start();
    let out = Cli::ferrodis(&program, &server).run(&["--pipe"], &mass_insertion(N, None));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        out.stdout,
        format!(
            "All data transferred. Waiting for the last reply...\n\
             Last reply received from server.\nerrors: 0, replies: {N}\n"
        ),
        "{out:?}"
    );
    let mut conn = server.connect();
    assert_eq!(conn.command(&["DBSIZE"]), Frame::Integer(N as i64));
    assert_eq!(conn.command(&["GET", "key:4999"]), bulk("value:4999"));
}

#[test]
fn pipe_mode_reports_errors_like_redis() {
    let Some(program) = reference_tool("redis-cli") else {
        return;
    };
    let data = mass_insertion(1000, Some(500));
    let server = BackgroundServer::start();
    let got = Cli::ferrodis(&program, &server).run(&["--pipe"], &data);
    assert!(
        got.stdout.ends_with("errors: 1, replies: 1000\n")
            && got.stderr == "ERR value is not an integer or out of range\n",
        "{got:?}"
    );
    if let Some(reference) = Reference::start() {
        let want = Cli::reference(&program, &reference).run(&["--pipe"], &data);
        assert_eq!(got, want);
    }
}

/// Reads `COMMAND DOCS <name>` into name → argument list (the raw frame), for comparing.
fn command_docs(conn: &mut common::RawConn, name: &[&str]) -> Option<Frame> {
    let full_name = name.join("|");
    let Frame::Array(items) = conn.command(&["COMMAND", "DOCS", &full_name]) else {
        panic!("COMMAND DOCS did not return an array");
    };
    let [_, Frame::Array(doc)] = items.as_slice() else {
        return None;
    };
    let mut fields = doc.chunks(2);
    fields.find_map(|pair| match pair {
        [Frame::Bulk(k), v] if &k[..] == b"arguments" => Some(v.clone()),
        _ => None,
    })
}

/// The `name`s of an argument list from COMMAND DOCS.
fn argument_names(arguments: &Frame) -> Vec<String> {
    let Frame::Array(args) = arguments else {
        return Vec::new();
    };
    args.iter()
        .filter_map(|arg| match arg {
            Frame::Array(fields) => fields.chunks(2).find_map(|p| match p {
                [Frame::Bulk(k), Frame::Bulk(v)] if &k[..] == b"name" => {
                    Some(String::from_utf8_lossy(v).into_owned())
                }
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

/// redis-cli 7.0 builds its hints from COMMAND DOCS: SET's must list its arguments.
#[test]
fn command_docs_give_redis_cli_the_arguments_of_set() {
    let server = BackgroundServer::start();
    let mut conn = server.connect();
    let arguments = command_docs(&mut conn, &["set"]).expect("SET has arguments");
    let names = argument_names(&arguments);
    assert_eq!(
        names.first().map(String::as_str),
        Some("key"),
        "{arguments:?}"
    );
    assert_eq!(
        names.get(1).map(String::as_str),
        Some("value"),
        "{arguments:?}"
    );
    let Frame::Array(args) = &arguments else {
        unreachable!()
    };
    let Frame::Array(key) = &args[0] else {
        panic!("{arguments:?}")
    };
    assert!(
        key.chunks(2)
            .any(|p| p == [bulk("type"), bulk("key")] || p == [simple("type"), simple("key")]),
        "the first argument of SET is of type key: {key:?}"
    );
}

/// Removes `since` (Ferrodis does not report when each argument was added) so the structure
/// redis-cli uses can be compared.
fn without_since(frame: &Frame) -> Frame {
    match frame {
        Frame::Array(items) => {
            let is_map = items.len() % 2 == 0
                && items
                    .chunks(2)
                    .all(|p| matches!(p[0], Frame::Bulk(_) | Frame::Simple(_)))
                && items.iter().step_by(2).any(|k| *k == bulk("name"));
            if is_map {
                Frame::Array(
                    items
                        .chunks(2)
                        .filter(|p| p[0] != bulk("since"))
                        .flat_map(|p| [without_since(&p[0]), without_since(&p[1])])
                        .collect(),
                )
            } else {
                Frame::Array(items.iter().map(without_since).collect())
            }
        }
        other => other.clone(),
    }
}

/// A compact one-line rendering of COMMAND DOCS arguments: each argument as
/// `{name:…,type:…,…}`, lists in brackets.
fn render(frame: &Frame) -> String {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Integer(i) => i.to_string(),
        Frame::Array(items) if items.iter().step_by(2).any(|k| *k == bulk("name")) => {
            let fields: Vec<String> = items
                .chunks(2)
                .map(|p| format!("{}:{}", render(&p[0]), render(&p[1])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Frame::Array(items) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// Every command and subcommand Ferrodis lists.
fn command_list(conn: &mut common::RawConn) -> Vec<String> {
    let Frame::Array(names) = conn.command(&["COMMAND", "LIST"]) else {
        panic!("COMMAND LIST did not return an array");
    };
    let mut names: Vec<String> = names
        .iter()
        .filter_map(|n| match n {
            Frame::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect();
    names.sort();
    names
}

/// The argument structure of every command Ferrodis has in common with the reference is the
/// reference's (names, types, tokens, flags, key spec indexes; `since` aside): redis-cli shows
/// hints and completes from it.
#[test]
fn command_docs_arguments_match_redis() {
    let Some(reference) = Reference::start() else {
        return;
    };
    let server = BackgroundServer::start();
    let (mut ours, mut theirs) = (server.connect(), reference.connect());
    let reference_commands = command_list(&mut theirs);
    let mut differences = BTreeMap::new();
    for name in command_list(&mut ours) {
        if !reference_commands.contains(&name) {
            continue; // Not a Redis 7.0 command.
        }
        let parts: Vec<&str> = name.split('|').collect();
        let got = command_docs(&mut ours, &parts).map(|f| without_since(&f));
        let want = command_docs(&mut theirs, &parts).map(|f| without_since(&f));
        if got != want {
            differences.insert(
                name,
                format!(
                    "\n  Ferrodis: {}\n  Redis:    {}",
                    got.as_ref().map_or("none".into(), render),
                    want.as_ref().map_or("none".into(), render)
                ),
            );
        }
    }
    assert!(
        differences.is_empty(),
        "COMMAND DOCS arguments differ for {} commands:\n{}",
        differences.len(),
        differences
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A tmux server of our own (its socket in a temp dir, `tmux -S`), killed when dropped.
struct Tmux {
    program: PathBuf,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts a detached session running `command` in a very wide window (so hints are not
    /// cut at the edge).
    fn start(program: &Path, command: &str) -> Tmux {
        let tmux = Tmux {
            program: program.to_owned(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let status = tmux
            .cmd(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "1000",
                "-y",
                "10",
            ])
            .arg(command)
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.program);
        c.env_remove("TMUX")
            .arg("-S")
            .arg(self.dir.path().join("tmux.sock"))
            .args(args);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        c
    }

    fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        let status = self.cmd(&args).status().expect("tmux send-keys");
        assert!(status.success(), "tmux send-keys {keys:?}");
    }

    /// The last non-empty line on screen.
    fn last_line(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim_end()
            .to_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

/// Commands typed into interactive redis-cli to compare their hints.
const HINTED: &[&str] = &[
    "set",
    "get",
    "getex",
    "getrange",
    "incrbyfloat",
    "mget",
    "mset",
    "del",
    "expire",
    "pexpireat",
    "scan",
    "lcs",
    "copy",
    "flushall",
    "hello",
    "client kill",
    "client list",
    "client reply",
    "config set",
    "object encoding",
    "shutdown",
];

/// Types `text` into interactive redis-cli and returns what follows it on the line: the hint.
fn hint(tmux: &Tmux, prompt: &str, text: &str) -> String {
    tmux.send_keys(&["-l", &format!("{text} ")]);
    let typed = format!("{prompt}{text}");
    let mut last = String::new();
    // The typed text and its hint are drawn by one write; two identical captures in a row
    // make a torn read unlikely.
    wait_until(&format!("the hint for {text:?}"), common::DEADLINE, || {
        let line = tmux.last_line();
        let stable = line == last && line.starts_with(&typed);
        last = line;
        stable
    });
    tmux.send_keys(&["C-u"]);
    wait_until("the line to clear", common::DEADLINE, || {
        tmux.last_line() == prompt.trim_end()
    });
    last[typed.len()..].trim().to_owned()
}

fn hints(tmux_program: &Path, cli: &Path, target: &str) -> Vec<String> {
    let tmux = Tmux::start(
        tmux_program,
        &format!(
            "env REDISCLI_HISTFILE=/dev/null REDISCLI_RCFILE=/dev/null {} {target}",
            cli.display()
        ),
    );
    let mut prompt = String::new();
    wait_until("the redis-cli prompt", common::DEADLINE, || {
        prompt = tmux.last_line();
        prompt.ends_with('>')
    });
    prompt.push(' ');
    HINTED.iter().map(|c| hint(&tmux, &prompt, c)).collect()
}

#[test]
fn interactive_hints_match_redis() {
    let Some(cli) = reference_tool("redis-cli") else {
        return;
    };
    let Some(tmux) = which("tmux") else {
        eprintln!("skipping: tmux is not on PATH");
        return;
    };
    let server = BackgroundServer::start();
    let ours = hints(&tmux, &cli, &format!("-h 127.0.0.1 -p {}", server.port()));
    assert!(
        ours[0].starts_with("key value [NX|XX] [GET] [EX seconds|PX milliseconds"),
        "hint for SET: {:?}",
        ours[0]
    );
    let Some(reference) = Reference::start() else {
        return;
    };
    let theirs = hints(&tmux, &cli, &format!("-s {}", reference.socket().display()));
    let differences: Vec<String> = HINTED
        .iter()
        .zip(ours.iter().zip(&theirs))
        .filter(|(_, (a, b))| a != b)
        .map(|(c, (a, b))| format!("{c}: Ferrodis hints {a:?}, Redis hints {b:?}"))
        .collect();
    assert!(differences.is_empty(), "\n{}", differences.join("\n"));
}

#[test]
fn redis_benchmark_completes_without_errors() {
    let Some(benchmark) = reference_tool("redis-benchmark") else {
        return;
    };
    let server = BackgroundServer::start();
    let port = server.port().to_string();
    let out = run(
        &benchmark,
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "ping,set,get,incr,mset",
            "-n",
            "2000",
            "-q",
        ],
        b"",
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        !out.stdout.contains("ERR") && !out.stderr.contains("ERR"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("WARN"), "{out:?}");
    for test in [
        "PING_INLINE",
        "PING_MBULK",
        "SET",
        "GET",
        "INCR",
        "MSET (10 keys)",
    ] {
        let done = out
            .stdout
            .split(['\r', '\n'])
            .any(|l| l.starts_with(&format!("{test}: ")) && l.contains("requests per second"));
        assert!(done, "no result for {test} in {:?}", out.stdout);
    }
    let mut conn = server.connect();
    assert_eq!(
        conn.command(&["GET", "counter:__rand_int__"]),
        bulk("2000"),
        "every INCR landed"
    );
}
