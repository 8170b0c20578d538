//! The `ferrodis-server` binary, started the way `redis-server` is: command-line flags, config
//! files (including a complete redis.conf from Redis 7.0), stdin config, signals, SHUTDOWN,
//! `maxclients`, `timeout` and the Unix socket.
//!
//! Every server runs on a free port picked by binding port 0, in a temp dir, and is killed by
//! the [`Server`] guard of the test that started it (also when the test panics). Readiness and
//! exits are polled with a deadline, never slept on.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferrodis_resp::{decode_frame, Frame};

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_ferrodis-server");
/// How long to wait for a start, a reply, a close or an exit.
const DEADLINE: Duration = Duration::from_secs(10);

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Polls `cond` until it holds; panics with `what` after [`DEADLINE`].
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running `ferrodis-server`, killed when dropped. Its stdout and stderr go to files in its
/// temp dir, shown when something fails.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
}

impl Server {
    /// Spawns the binary with `args` in a new temp dir (its working directory), feeding `stdin`.
    fn spawn(args: &[&str], stdin: Option<&[u8]>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Server::spawn_in(dir, args, stdin)
    }

    fn spawn_in(dir: tempfile::TempDir, args: &[&str], stdin: Option<&[u8]>) -> Server {
        let out = std::fs::File::create(dir.path().join("stdout")).expect("stdout file");
        let err = std::fs::File::create(dir.path().join("stderr")).expect("stderr file");
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn ferrodis-server");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input).expect("write the config to stdin");
            // Dropping the pipe sends end of file.
        }
        Server { child, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// What the server printed so far, for failure messages.
    fn output(&self) -> String {
        let read = |name| std::fs::read_to_string(self.path(name)).unwrap_or_default();
        format!(
            "--- stdout\n{}--- stderr\n{}",
            read("stdout"),
            read("stderr")
        )
    }

    /// Waits for the process to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        let mut status = None;
        let deadline = Instant::now() + DEADLINE;
        while status.is_none() {
            status = self.child.try_wait().expect("wait for the server");
            if status.is_none() {
                assert!(
                    Instant::now() < deadline,
                    "the server did not exit\n{}",
                    self.output()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        status.expect("exit status")
    }

    /// Waits until the server answers PING on `port`, and returns that connection.
    fn ready_tcp(&mut self, port: u16) -> Conn {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                panic!("the server exited with {status}\n{}", self.output());
            }
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                let mut conn = Conn::new(Box::new(s));
                assert_eq!(conn.command(&["PING"]), simple("PONG"));
                return conn;
            }
            assert!(
                Instant::now() < deadline,
                "the server never listened on {port}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM with the `kill` utility (the crate denies `unsafe`, so no `libc::kill`).
    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion (it is expected to exit on its own) and returns its status and
/// outputs.
fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut server = Server::spawn(args, None);
    let status = server.wait_exit();
    let read = |name| std::fs::read_to_string(server.path(name)).expect("read output");
    (status, read("stdout"), read("stderr"))
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A blocking raw RESP connection.
struct Conn {
    stream: Box<dyn Stream>,
    buf: BytesMut,
}

impl Conn {
    fn new(stream: Box<dyn Stream>) -> Conn {
        Conn {
            stream,
            buf: BytesMut::new(),
        }
    }

    fn tcp(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(DEADLINE)).expect("read timeout");
        Conn::new(Box::new(s))
    }

    fn command(&mut self, args: &[&str]) -> Frame {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.stream.write_all(req.as_bytes()).expect("send");
        loop {
            if let Some(frame) = decode_frame(&mut self.buf).expect("a well-formed reply") {
                return frame;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(
                n > 0,
                "the server closed the connection instead of replying"
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until the server closes; returns the bytes received. Panics if it does not close
    /// within the read timeout.
    fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = self.buf.split().to_vec();
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    panic!(
                        "the server did not close the connection; got {:?}",
                        String::from_utf8_lossy(&out)
                    )
                }
                Err(_) => return out,
            }
        }
    }
}

fn simple(s: &str) -> Frame {
    Frame::Simple(s.to_owned().into())
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.to_owned().into())
}

/// `CONFIG GET name` as a single value.
fn config_get(conn: &mut Conn, name: &str) -> String {
    match conn.command(&["CONFIG", "GET", name]) {
        Frame::Array(items) if items.len() == 2 => match &items[1] {
            Frame::Bulk(v) => String::from_utf8_lossy(v).into_owned(),
            other => panic!("CONFIG GET {name}: {other:?}"),
        },
        other => panic!("CONFIG GET {name}: {other:?}"),
    }
}

/// Writes `text` to `name` in `dir` and returns its path as a string.
fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a config file");
    path.display().to_string()
}

#[test]
fn version_and_help_exit_0() {
    let (status, stdout, stderr) = run_to_exit(&["--version"]);
    assert!(status.success(), "--version: {status}\n{stderr}");
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "--version printed {stdout:?}"
    );
    let (status, stdout, stderr) = run_to_exit(&["--help"]);
    assert!(status.success(), "--help: {status}\n{stderr}");
    assert!(stdout.contains("Usage"), "--help printed {stdout:?}");
}

/// `redis-server -v` prints the version and exits 0; scripts written for it use the short flag.
#[test]
fn short_version_flag_like_redis_server() {
    let (status, stdout, stderr) = run_to_exit(&["-v"]);
    assert!(status.success(), "-v: {status}\n{stdout}{stderr}");
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "-v printed {stdout:?}"
    );
}

#[test]
fn starts_from_a_config_file_and_answers_ping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let conf = write_file(
        dir.path(),
        "redis.conf",
        &format!("# a comment\nbind 127.0.0.1\nport {port}\nsave \"\"\ndatabases 5\n"),
    );
    let mut server = Server::spawn_in(dir, &[&conf], None);
    let mut conn = server.ready_tcp(port);
    assert_eq!(config_get(&mut conn, "port"), port.to_string());
    assert_eq!(config_get(&mut conn, "databases"), "5");
    assert_eq!(
        conn.command(&["CONFIG", "GET", "config_file"]),
        Frame::Array(vec![]),
        "config_file is not a CONFIG GET parameter in Redis 7.0"
    );
    let Frame::Bulk(info) = conn.command(&["INFO", "server"]) else {
        panic!("INFO is not a bulk string");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(
        info.contains(&format!("config_file:{conf}")),
        "INFO server names the config file:\n{info}"
    );
    assert!(info.contains(&format!("tcp_port:{port}")), "{info}");
}

#[test]
fn unknown_directive_exits_1_naming_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = write_file(dir.path(), "bad.conf", "port 0\nfoo bar\nport 1\n");
    let (status, _, stderr) = run_to_exit(&[&conf]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("at line 2"), "{stderr}");
    assert!(stderr.contains(">>> 'foo bar'"), "{stderr}");
    assert!(
        stderr.contains("Bad directive or wrong number of arguments"),
        "{stderr}"
    );
}

#[test]
fn bad_value_exits_1_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = write_file(dir.path(), "bad.conf", "port abc\n");
    let (status, _, stderr) = run_to_exit(&[&conf]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("at line 1"), "{stderr}");
    assert!(stderr.contains(">>> 'port abc'"), "{stderr}");
    assert!(
        stderr.contains("argument couldn't be parsed into an integer"),
        "{stderr}"
    );
    for (args, reason) in [
        (
            &["--port", "70000"][..],
            "argument must be between 0 and 65535 inclusive",
        ),
        (
            &["--databases", "0"],
            "argument must be between 1 and 2147483647 inclusive",
        ),
        (&["--appendonly", "maybe"], "argument must be 'yes' or 'no'"),
        (
            &["--loglevel", "loud"],
            "argument(s) must be one of the following",
        ),
    ] {
        let (status, _, stderr) = run_to_exit(args);
        assert_eq!(status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

#[test]
fn missing_config_file_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.conf").display().to_string();
    let (status, _, stderr) = run_to_exit(&[&missing]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("can't open config file '{missing}'")),
        "{stderr}"
    );
}

#[test]
fn command_line_overrides_take_effect() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let conf = write_file(
        dir.path(),
        "redis.conf",
        "bind 127.0.0.1\nport 1\ndatabases 8\nsave \"\"\n",
    );
    let port_arg = port.to_string();
    let mut server = Server::spawn_in(
        dir,
        &[&conf, "--port", &port_arg, "--databases", "4", "--hz", "20"],
        None,
    );
    let mut conn = server.ready_tcp(port);
    assert_eq!(config_get(&mut conn, "databases"), "4");
    assert_eq!(config_get(&mut conn, "hz"), "20");
    assert_eq!(conn.command(&["SELECT", "3"]), simple("OK"));
    assert_eq!(
        conn.command(&["SELECT", "4"]),
        Frame::Error("ERR DB index is out of range".into())
    );
}

#[test]
fn config_from_stdin() {
    let port = free_port();
    let config = format!("bind 127.0.0.1\nport {port}\ndatabases 3\nsave \"\"\n");
    let mut server = Server::spawn(&["-", "--hz", "15"], Some(config.as_bytes()));
    let mut conn = server.ready_tcp(port);
    assert_eq!(config_get(&mut conn, "databases"), "3");
    assert_eq!(config_get(&mut conn, "hz"), "15");
}

/// The redis.conf Debian ships with Redis 7.0, made local: it must start as it is.
#[test]
fn debian_redis_7_conf_starts_and_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let original = include_str!("../src/config/testdata/redis-7.0.conf");
    let pidfile = dir.path().join("redis.pid");
    let overrides = format!(
        "\n# test overrides\nport {port}\ndir {}\ndaemonize no\nlogfile \"\"\npidfile {}\n\
         unixsocket \"\"\nsave \"\"\n",
        dir.path().display(),
        pidfile.display()
    );
    let conf = write_file(dir.path(), "redis.conf", &format!("{original}{overrides}"));
    let mut server = Server::spawn_in(dir, &[&conf], None);
    let mut conn = server.ready_tcp(port);
    assert_eq!(conn.command(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(conn.command(&["GET", "k"]), bulk("v"));
    assert_eq!(config_get(&mut conn, "tcp-keepalive"), "300");
    assert_eq!(config_get(&mut conn, "bind"), "127.0.0.1 -::1");
    assert_eq!(config_get(&mut conn, "daemonize"), "no");
    let pid = std::fs::read_to_string(&pidfile).expect("the pidfile is written");
    assert_eq!(pid.trim(), server.child.id().to_string());
}

#[test]
fn sigterm_exits_0_and_removes_the_pidfile() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let pidfile = dir.path().join("ferrodis.pid");
    let (port_arg, pid_arg) = (port.to_string(), pidfile.display().to_string());
    let mut server = Server::spawn_in(
        dir,
        &[
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--pidfile",
            &pid_arg,
            "--save",
            "",
        ],
        None,
    );
    let mut conn = server.ready_tcp(port);
    assert_eq!(
        std::fs::read_to_string(&pidfile)
            .expect("the pidfile is written")
            .trim(),
        server.child.id().to_string()
    );
    server.sigterm();
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", server.output());
    assert!(!pidfile.exists(), "the pidfile is still there");
    assert_eq!(conn.read_to_close(), b"", "connected clients are closed");
}

#[test]
fn shutdown_command_makes_it_exit() {
    let port = free_port();
    let port_arg = port.to_string();
    let mut server = Server::spawn(
        &["--port", &port_arg, "--bind", "127.0.0.1", "--save", ""],
        None,
    );
    let mut conn = server.ready_tcp(port);
    let mut other = Conn::tcp(port);
    assert_eq!(other.command(&["PING"]), simple("PONG"));
    conn.stream
        .write_all(b"*1\r\n$8\r\nSHUTDOWN\r\n")
        .expect("send SHUTDOWN");
    // Like Redis: no reply, the connection just closes.
    assert_eq!(conn.read_to_close(), b"");
    assert_eq!(other.read_to_close(), b"");
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", server.output());
}

#[test]
fn maxclients_refuses_the_connection_over_the_limit() {
    let port = free_port();
    let port_arg = port.to_string();
    let mut server = Server::spawn(
        &[
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--maxclients",
            "2",
            "--save",
            "",
        ],
        None,
    );
    let mut first = server.ready_tcp(port);
    let mut second = Conn::tcp(port);
    assert_eq!(second.command(&["PING"]), simple("PONG"));
    let mut third = Conn::tcp(port);
    assert_eq!(
        third.read_to_close(),
        b"-ERR max number of clients reached\r\n"
    );
    assert_eq!(first.command(&["PING"]), simple("PONG"));
    // A freed slot is usable again.
    drop(second);
    wait_until("a slot to free up", || {
        let mut c = Conn::tcp(port);
        c.stream.write_all(b"PING\r\n").expect("send");
        let mut buf = [0u8; 64];
        matches!(c.stream.read(&mut buf), Ok(n) if &buf[..n] == b"+PONG\r\n")
    });
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let port = free_port();
    let port_arg = port.to_string();
    let mut server = Server::spawn(
        &[
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--timeout",
            "1",
            "--save",
            "",
        ],
        None,
    );
    let mut idle = server.ready_tcp(port);
    assert_eq!(config_get(&mut idle, "timeout"), "1");
    // The read timeout (10 s) is the deadline: the server must close well before.
    assert_eq!(idle.read_to_close(), b"");
    let mut conn = Conn::tcp(port);
    assert_eq!(conn.command(&["PING"]), simple("PONG"));
}

#[test]
fn unix_socket_serves_clients() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("ferrodis.sock");
    let socket_arg = socket.display().to_string();
    let mut server = Server::spawn_in(
        dir,
        &[
            "--port",
            "0",
            "--unixsocket",
            &socket_arg,
            "--unixsocketperm",
            "700",
            "--save",
            "",
        ],
        None,
    );
    let stream = {
        let mut stream = None;
        wait_until("the Unix socket", || {
            if let Some(status) = server.child.try_wait().expect("poll the server") {
                panic!("the server exited with {status}\n{}", server.output());
            }
            stream = UnixStream::connect(&socket).ok();
            stream.is_some()
        });
        stream.expect("connected")
    };
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    let mode = std::fs::metadata(&socket)
        .expect("socket metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let mut conn = Conn::new(Box::new(stream));
    assert_eq!(conn.command(&["SET", "over", "unix"]), simple("OK"));
    assert_eq!(conn.command(&["GET", "over"]), bulk("unix"));
    assert_eq!(config_get(&mut conn, "unixsocket"), socket_arg);
    let Frame::Bulk(list) = conn.command(&["CLIENT", "LIST"]) else {
        panic!("CLIENT LIST is not a bulk string");
    };
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(
        list.contains(" flags=U "),
        "a Unix socket client has flag U: {list}"
    );
    server.sigterm();
    assert_eq!(server.wait_exit().code(), Some(0), "{}", server.output());
    assert!(!socket.exists(), "the socket file is removed on exit");
}
