//! Helpers shared by `clients.rs`, `redis_cli.rs` and `bad_input.rs` (included with
//! `mod common;`).
//!
//! # Layout
//! - [`BackgroundServer`]: an in-process Ferrodis on `127.0.0.1:0` running in its own tokio
//!   runtime, so plain `#[test]`s can use blocking sockets and child processes against it; it
//!   shuts down when dropped (also on panic).
//! - [`Reference`]: the reference `redis-server` on a Unix socket in a temp dir, killed on drop;
//!   [`Reference::start`] returns `None` (and says so) when it is not installed, unless
//!   `FERRODIS_REQUIRE_REFERENCE=1`.
//! - [`RawConn`]: a blocking raw RESP connection (TCP or Unix socket) that keeps exact bytes.
//! - [`wait_until`]: polls a condition until a deadline, instead of sleeping.
//! - [`start_async`] / [`connect_async`]: an in-process Ferrodis on the caller's tokio runtime
//!   and `redis` crate connections to it, for `#[tokio::test]`s.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferrodis::{Config, Ferrodis, Frame};
use ferrodis_resp::decode_frame;

/// Starts an in-process Ferrodis with the default config on `127.0.0.1:0`, on the current
/// tokio runtime; stop it with `shutdown().await`.
pub async fn start_async() -> Ferrodis {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    Ferrodis::start_on(Config::default(), addr)
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
        BackgroundServer::start_with(Config::default())
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
    Command::new(program)
        .args(args)
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(dir.join("server.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()))
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
