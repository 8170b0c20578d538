//! Helpers shared by the integration tests (`clients.rs`, `redis_cli.rs`, `bad_input.rs`,
//! `eviction.rs`, `persistence.rs`, ...; included with `mod common;`).
//!
//! # Layout
//! - [`BackgroundServer`]: an in-process Ferrodis on `127.0.0.1:0` running in its own tokio
//!   runtime, so plain `#[test]`s can use blocking sockets and child processes against it; it
//!   shuts down when dropped (also on panic).
//! - [`Reference`]: the reference `redis-server` on a Unix socket in a temp dir, killed on drop;
//!   [`Reference::start`] returns `None` (and says so) when it is not installed, unless
//!   `FERRODIS_REQUIRE_REFERENCE=1`.
//! - [`ServerProcess`]: a `ferrodis-server` ([`server_binary`]) or reference `redis-server`
//!   process ([`ServerKind`]) on an ephemeral loopback port with extra options in a given
//!   `--dir`; stopped with SHUTDOWN [SAVE|NOSAVE] ([`ServerProcess::shutdown`]) or SIGKILL
//!   ([`ServerProcess::kill`]), killed on drop.
//! - [`RawConn`]: a blocking raw RESP connection (TCP or Unix socket) that keeps exact bytes.
//! - [`wait_until`]: polls a condition until a deadline, instead of sleeping.
//! - [`start_async`] / [`connect_async`]: an in-process Ferrodis on the caller's tokio runtime
//!   and `redis` crate connections to it, for `#[tokio::test]`s.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod dataset;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferrodis::{Config, Ferrodis, Frame};
use ferrodis_resp::decode_frame;

/// The default config without persistence (`save ""`, `appendonly no`): in-process test
/// servers never write files into the test's working directory.
pub fn test_config() -> Config {
    Config::from_str("save \"\"\nappendonly no\n", "test config").expect("a valid test config")
}

/// Starts an in-process Ferrodis with [`test_config`] on `127.0.0.1:0`, on the current tokio
/// runtime; stop it with `shutdown().await`.
pub async fn start_async() -> Ferrodis {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    Ferrodis::start_on(test_config(), addr)
        .await
        .expect("start the in-process server")
}

/// A `redis` crate connection of its own to `server` (WATCH state, blocked commands and
/// subscriptions are per connection).
pub async fn connect_async(server: &Ferrodis) -> redis::aio::MultiplexedConnection {
    let addr = server.local_addr().expect("the server listens on TCP");
    redis::Client::open(format!("redis://{addr}/"))
        .expect("a valid URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect with the redis crate")
}

/// In-process servers count their memory like the `ferrodis-server` binary does.
#[global_allocator]
static GLOBAL: ferrodis::CountingAlloc<std::alloc::System> =
    ferrodis::CountingAlloc(std::alloc::System);

/// How long a test waits for a reply, a close or a condition before failing.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Set to `1` to make a missing reference binary (`redis-server`, `redis-cli`, ...) a failure
/// instead of a skip.
pub const REQUIRE_REFERENCE_ENV: &str = "FERRODIS_REQUIRE_REFERENCE";

/// Polls `cond` every few milliseconds until it holds; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The path of `program` if it is an executable on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Whether a reference tool `program` can be used: `Some(path)` if installed; `None` with a
/// printed skip message if not; a panic if not installed and `FERRODIS_REQUIRE_REFERENCE=1`.
pub fn reference_tool(program: &str) -> Option<PathBuf> {
    if let Some(p) = which(program) {
        return Some(p);
    }
    if std::env::var(REQUIRE_REFERENCE_ENV).as_deref() == Ok("1") {
        panic!("{program} is not on PATH and {REQUIRE_REFERENCE_ENV}=1");
    }
    eprintln!("skipping: {program} is not on PATH (set {REQUIRE_REFERENCE_ENV}=1 to fail)");
    None
}

/// An in-process Ferrodis on an ephemeral loopback port, in a runtime of its own.
pub struct BackgroundServer {
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<Ferrodis>,
    addr: SocketAddr,
}

impl BackgroundServer {
    /// Starts a server with the default configuration.
    pub fn start() -> BackgroundServer {
        BackgroundServer::start_with(test_config())
    }

    /// Starts a server with `config` (its `bind`/`port`/`unixsocket` are ignored).
    pub fn start_with(config: Config) -> BackgroundServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build the server runtime");
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
        let server = runtime
            .block_on(Ferrodis::start_on(config, addr))
            .expect("start the in-process server");
        let addr = server.local_addr().expect("the server listens on TCP");
        BackgroundServer {
            runtime: Some(runtime),
            server: Some(server),
            addr,
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A new raw connection to the server.
    pub fn connect(&self) -> RawConn {
        RawConn::tcp(self.addr)
    }

    /// The server's in-process API.
    pub fn ferrodis(&self) -> &Ferrodis {
        self.server.as_ref().expect("server is running")
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let (Some(runtime), Some(server)) = (self.runtime.take(), self.server.take()) {
            runtime.block_on(async {
                let _ = tokio::time::timeout(DEADLINE, server.shutdown()).await;
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// Spawns a server binary (`redis-server` or `ferrodis-server`) with `args` and no
/// persistence, working in `dir` and logging to `dir/server.log`, its output discarded. The
/// caller kills it.
pub fn spawn_server(program: &Path, args: &[&str], dir: &Path) -> Child {
    let log = dir.join("server.log");
    server_command(program, args, dir, &log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()))
}

/// `program args --dir <dir> --logfile <log>`, plus `--save "" --appendonly no` for whichever
/// of the two `args` does not set itself (both servers take the same options).
fn server_command(program: &Path, args: &[&str], dir: &Path, log: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (option, value) in [("--save", ""), ("--appendonly", "no")] {
        if !args.contains(&option) {
            cmd.args([option, value]);
        }
    }
    cmd.arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(log)
        .stdin(Stdio::null());
    cmd
}

/// The `ferrodis-server` binary of this build, next to the test's `deps` directory. Under
/// cargo (`CARGO` set) it is brought up to date first with `cargo build -p ferrodis-server`
/// (once per test binary): `cargo test -p ferrodis-tests` alone does not build other
/// packages' binaries, and a stale one would test old code.
pub fn server_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test executable path");
            let dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target/<profile>/deps");
            if let Ok(cargo) = std::env::var("CARGO") {
                let release = dir.file_name().is_some_and(|n| n == "release");
                let mut cmd = Command::new(cargo);
                cmd.args([
                    "build",
                    "--quiet",
                    "-p",
                    "ferrodis-server",
                    "--bin",
                    "ferrodis-server",
                ]);
                if release {
                    cmd.arg("--release");
                }
                let status = cmd.status().expect("run cargo build");
                assert!(status.success(), "cargo build -p ferrodis-server failed");
            }
            let bin = dir.join("ferrodis-server");
            assert!(bin.is_file(), "{} not found", bin.display());
            bin
        })
        .clone()
}

/// Which server binary a [`ServerProcess`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// This build's `ferrodis-server` ([`server_binary`]).
    Ferrodis,
    /// The reference `redis-server` on `PATH`.
    Reference,
}

impl ServerKind {
    /// The binary's name, for messages and log file names.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Ferrodis => "ferrodis-server",
            ServerKind::Reference => "redis-server",
        }
    }

    /// The binary to run; panics when the reference is not installed (check with
    /// [`reference_tool`] first to skip instead).
    pub fn program(self) -> PathBuf {
        match self {
            ServerKind::Ferrodis => server_binary(),
            ServerKind::Reference => which("redis-server").expect("redis-server is not on PATH"),
        }
    }
}

/// How long a server may take to answer PING after it is spawned (it may be loading a file).
pub const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SHUTDOWN (it may be saving).
pub const STOP_DEADLINE: Duration = Duration::from_secs(60);

/// How [`ServerProcess::shutdown`] asks the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// `SHUTDOWN`: saves if save points are configured.
    Default,
    /// `SHUTDOWN SAVE`: always saves.
    Save,
    /// `SHUTDOWN NOSAVE`: never saves.
    NoSave,
}

/// A server process that did not come up: it exited, or did not answer PING in time (then
/// it has been killed).
#[derive(Debug)]
pub struct StartFailure {
    /// The exit status; `None` when it was still running at the deadline.
    pub status: Option<ExitStatus>,
    /// Its log file and standard output/error, concatenated.
    pub output: String,
}

/// A `ferrodis-server` or `redis-server` process on an ephemeral port of 127.0.0.1, working in
/// a directory (`--dir`), logging to `<dir>/<binary>.<port>.log` and writing its standard
/// output and error to `<dir>/<binary>.<port>.out`. Killed (SIGKILL) and reaped on drop unless
/// it was stopped before, also when the test panics.
pub struct ServerProcess {
    kind: ServerKind,
    child: Child,
    exited: Option<ExitStatus>,
    addr: SocketAddr,
    dir: PathBuf,
    log: PathBuf,
    out: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl ServerProcess {
    /// Starts `kind` with `args` in a temp dir of its own (removed on drop) and waits until it
    /// answers PING; panics with its output if it does not.
    pub fn start(kind: ServerKind, args: &[&str]) -> ServerProcess {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut server = ServerProcess::start_in(kind, temp.path(), args);
        server._temp = Some(temp);
        server
    }

    /// Starts `kind` with `args` working in `dir` and waits until it answers PING; panics with
    /// its output if it does not.
    pub fn start_in(kind: ServerKind, dir: &Path, args: &[&str]) -> ServerProcess {
        ServerProcess::try_start_in(kind, dir, args).unwrap_or_else(|f| {
            panic!(
                "{} did not start (exit status {:?}):\n{}",
                kind.name(),
                f.status,
                f.output
            )
        })
    }

    /// Starts `kind` with `args` (`--port`, `--bind`, `--dir` and `--logfile` are added, and
    /// `--save ""` / `--appendonly no` unless `args` has them) working in `dir`, and waits until
    /// it answers `+PONG` to PING (not `-LOADING`). A server that exits first, or is still not
    /// ready after [`START_DEADLINE`] (it is then killed), is a [`StartFailure`].
    pub fn try_start_in(
        kind: ServerKind,
        dir: &Path,
        args: &[&str],
    ) -> Result<ServerProcess, StartFailure> {
        ServerProcess::try_start_within(kind, dir, args, START_DEADLINE)
    }

    /// [`ServerProcess::try_start_in`] with a deadline of `timeout` instead of
    /// [`START_DEADLINE`].
    pub fn try_start_within(
        kind: ServerKind,
        dir: &Path,
        args: &[&str],
        timeout: Duration,
    ) -> Result<ServerProcess, StartFailure> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let port_arg = port.to_string();
        let log = dir.join(format!("{}.{port}.log", kind.name()));
        let out = dir.join(format!("{}.{port}.out", kind.name()));
        let out_file = std::fs::File::create(&out).expect("create the output file");
        let err_file = out_file.try_clone().expect("clone the output file");
        let mut all_args = vec!["--port", &port_arg, "--bind", "127.0.0.1"];
        all_args.extend_from_slice(args);
        let program = kind.program();
        let child = server_command(&program, &all_args, dir, &log)
            .stdout(out_file)
            .stderr(err_file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
        let mut server = ServerProcess {
            kind,
            child,
            exited: None,
            addr: ([127, 0, 0, 1], port).into(),
            dir: dir.to_path_buf(),
            log,
            out,
            _temp: None,
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = server.child.try_wait().expect("poll the server process") {
                server.exited = Some(status);
                return Err(StartFailure {
                    status: Some(status),
                    output: server.output(),
                });
            }
            if ping_answers_pong(server.addr) {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                server.kill();
                return Err(StartFailure {
                    status: None,
                    output: server.output(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Which binary this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its working directory (`--dir`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new raw connection.
    pub fn connect(&self) -> RawConn {
        RawConn::tcp(self.addr)
    }

    /// Its log file followed by its standard output and error, as text.
    pub fn output(&self) -> String {
        let mut text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.push_str(&std::fs::read_to_string(&self.out).unwrap_or_default());
        text
    }

    /// Stops the server with `SHUTDOWN [SAVE|NOSAVE]` on a new connection and waits for the
    /// process to exit; panics if SHUTDOWN replies (an error) or the process does not exit
    /// within [`STOP_DEADLINE`].
    pub fn shutdown(&mut self, how: Shutdown) -> ExitStatus {
        let mut c = self.connect();
        let args: &[&str] = match how {
            Shutdown::Default => &["SHUTDOWN"],
            Shutdown::Save => &["SHUTDOWN", "SAVE"],
            Shutdown::NoSave => &["SHUTDOWN", "NOSAVE"],
        };
        c.send(&multibulk(args)).expect("send SHUTDOWN");
        let outcome = c.read_outcome(None);
        assert!(
            outcome.reply.is_empty(),
            "{} replied to {args:?}: {}",
            self.kind.name(),
            show(&outcome.reply)
        );
        self.wait_exit(STOP_DEADLINE)
            .unwrap_or_else(|| panic!("{} did not exit after {args:?}", self.kind.name()))
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited {
                return Some(status);
            }
            self.exited = self.child.try_wait().expect("poll the server process");
            if self.exited.is_none() {
                if Instant::now() >= deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Stops the process hard (SIGKILL, nothing saved) and reaps it.
    pub fn kill(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            self.exited = self.child.wait().ok();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a server on `addr` answers PING with `+PONG` right now (a refused connection, a
/// `-LOADING` error, a close or a slow reply all count as no).
fn ping_answers_pong(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 64];
    while !reply.ends_with(b"\r\n") {
        match s.read(&mut chunk) {
            Ok(n) if n > 0 => reply.extend_from_slice(&chunk[..n]),
            _ => return false,
        }
    }
    reply == b"+PONG\r\n"
}

/// The reference redis-server listening only on a Unix socket in a temp dir; killed on drop.
pub struct Reference {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Reference {
    /// Starts `redis-server --port 0 --unixsocket <tmp>/r.sock --save ''` and waits until it
    /// answers. `None` when redis-server is not installed (see [`reference_tool`]).
    pub fn start() -> Option<Reference> {
        let program = reference_tool("redis-server")?;
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("r.sock");
        let socket_arg = socket.to_string_lossy().into_owned();
        let child = spawn_server(
            &program,
            &["--port", "0", "--unixsocket", &socket_arg],
            dir.path(),
        );
        let reference = Reference {
            child,
            socket,
            _dir: dir,
        };
        wait_until("the reference redis-server", DEADLINE, || {
            UnixStream::connect(&reference.socket).is_ok()
        });
        Some(reference)
    }

    /// The Unix socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A new raw connection to the reference server.
    pub fn connect(&self) -> RawConn {
        RawConn::unix(&self.socket)
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed (and reaped) when dropped, also when the test panics.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A blocking raw RESP connection; every read gives up after [`DEADLINE`].
pub struct RawConn {
    stream: Stream,
    buf: BytesMut,
}

/// What a connection turned out to be after reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every byte the server sent.
    pub reply: Vec<u8>,
    /// Whether the server closed the connection.
    pub closed: bool,
}

impl RawConn {
    /// Connects over TCP.
    pub fn tcp(addr: SocketAddr) -> RawConn {
        let s = TcpStream::connect(addr).expect("connect over TCP");
        s.set_read_timeout(Some(DEADLINE))
            .expect("set read timeout");
        s.set_nodelay(true).expect("set nodelay");
        RawConn {
            stream: Stream::Tcp(s),
            buf: BytesMut::new(),
        }
    }

    /// Connects over a Unix socket.
    pub fn unix(path: &Path) -> RawConn {
        let s = UnixStream::connect(path).expect("connect over the Unix socket");
        s.set_read_timeout(Some(DEADLINE))
            .expect("set read timeout");
        RawConn {
            stream: Stream::Unix(s),
            buf: BytesMut::new(),
        }
    }

    /// Sends raw bytes; errors (the server may already have closed) are returned, not raised.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends `args` as a multibulk request and returns the decoded reply.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send(&multibulk(args)).expect("send a command");
        self.read_frame()
    }

    /// Reads one reply frame; panics on timeout, close or malformed bytes.
    pub fn read_frame(&mut self) -> Frame {
        loop {
            if let Some(frame) = decode_frame(&mut self.buf).expect("a well-formed reply") {
                return frame;
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).expect("read a reply");
            assert!(
                n > 0,
                "the server closed the connection instead of replying"
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads one reply; `None` when the connection ends or errors first (a server killed
    /// under load).
    pub fn try_read_frame(&mut self) -> Option<Frame> {
        loop {
            match decode_frame(&mut self.buf) {
                Ok(Some(frame)) => return Some(frame),
                Ok(None) => {}
                Err(_) => return None,
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until the received bytes end with `suffix` (when given; it is then cut off), the
    /// server closes the connection (end of file or reset), or [`DEADLINE`] passes. Never
    /// panics: a test compares the [`Outcome`] with what it expected.
    pub fn read_outcome(&mut self, suffix: Option<&[u8]>) -> Outcome {
        let mut reply = self.buf.split().to_vec();
        let deadline = Instant::now() + DEADLINE;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(suffix) = suffix.filter(|s| reply.ends_with(s)) {
                reply.truncate(reply.len() - suffix.len());
                return Outcome {
                    reply,
                    closed: false,
                };
            }
            if Instant::now() >= deadline {
                return Outcome {
                    reply,
                    closed: false,
                };
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Outcome {
                        reply,
                        closed: true,
                    }
                }
                Ok(n) => reply.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                // A reset: the server closed with our bytes unread.
                Err(_) => {
                    return Outcome {
                        reply,
                        closed: true,
                    }
                }
            }
        }
    }

    /// Reads until the server closes the connection and returns every byte received; panics if
    /// it does not close within [`DEADLINE`].
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let outcome = self.read_outcome(None);
        assert!(
            outcome.closed,
            "the server did not close the connection; got {}",
            show(&outcome.reply)
        );
        outcome.reply
    }
}

/// `args` as a RESP multibulk request.
pub fn multibulk<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Shorthand for a bulk string frame.
pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(s.to_owned().into())
}

/// Shorthand for a simple string frame.
pub fn simple(s: &str) -> Frame {
    Frame::Simple(s.to_owned().into())
}

/// Shorthand for an error frame (the full text, prefix included).
pub fn error(s: &str) -> Frame {
    Frame::Error(s.to_owned().into())
}

/// `buf` with non-printable bytes escaped, for assertion messages.
pub fn show(buf: &[u8]) -> String {
    buf.escape_ascii().to_string()
}
