//! [`Reference`]: a real `redis-server` (the reference implementation) run by a test.
//!
//! Each instance gets its own temporary directory holding its config file, its log and its Unix
//! socket; it listens on no TCP port. The process is killed and reaped on drop, so a panicking
//! test leaves nothing behind.
//!
//! The binary is `redis-server` from `PATH`, or the path in `FERRODIS_REFERENCE_SERVER`. When it
//! cannot be found, [`Reference::start`] returns `None` and the test should skip, unless
//! `FERRODIS_REQUIRE_REFERENCE=1`, which turns the absence into a panic (for CI machines that
//! are meant to have it).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferrodis_resp::Frame;
use tempfile::TempDir;

use crate::conn::Connection;

/// Environment variable naming the reference binary (default: `redis-server` from `PATH`).
pub const REFERENCE_BIN_ENV: &str = "FERRODIS_REFERENCE_SERVER";
/// Environment variable that makes a missing reference a failure instead of a skip.
pub const REQUIRE_REFERENCE_ENV: &str = "FERRODIS_REQUIRE_REFERENCE";

/// How long a starting server has to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running reference `redis-server`, killed on drop.
pub struct Reference {
    child: Child,
    socket: PathBuf,
    // Dropped after `child` is killed (see `Drop`): holds the socket, config and log.
    dir: TempDir,
}

impl Reference {
    /// Start `redis-server` with the harness' base settings plus `extra` config lines (redis.conf
    /// syntax, e.g. `"databases 4"`), and wait until it answers PING.
    ///
    /// Base settings: no TCP port, a Unix socket in the temporary directory, no RDB snapshots
    /// (`save ""`), no AOF, `dir` the temporary directory, logging to a file there.
    ///
    /// Returns `None` (after printing "skipped: reference redis-server not found") when the
    /// binary is missing and `FERRODIS_REQUIRE_REFERENCE` is not `1`.
    ///
    /// # Panics
    ///
    /// When the binary is missing and required, or the server does not come up (the message
    /// includes its log).
    pub fn start(extra: &[String]) -> Option<Reference> {
        let dir = match tempfile::Builder::new().prefix("ferrodis-ref-").tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("creating a temporary directory: {e}"),
        };
        let socket = dir.path().join("redis.sock");
        let conf = dir.path().join("redis.conf");
        let mut text = String::new();
        for line in base_config(dir.path(), &socket).iter().chain(extra) {
            let _ = writeln!(text, "{line}");
        }
        if let Err(e) = std::fs::write(&conf, text) {
            panic!("writing {}: {e}", conf.display());
        }
        let log = match std::fs::File::create(dir.path().join("stdout.log")) {
            Ok(log) => log,
            Err(e) => panic!("creating the reference's log: {e}"),
        };
        let stderr = match log.try_clone() {
            Ok(f) => f,
            Err(e) => panic!("duplicating the log file handle: {e}"),
        };
        let bin = std::env::var_os(REFERENCE_BIN_ENV).unwrap_or_else(|| "redis-server".into());
        let spawned = Command::new(&bin)
            .arg(&conf)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if std::env::var(REQUIRE_REFERENCE_ENV).as_deref() == Ok("1") {
                    panic!(
                        "reference server {bin:?} not found, and {REQUIRE_REFERENCE_ENV}=1 \
                         requires it: install Redis 7.0 or point {REFERENCE_BIN_ENV} at it"
                    );
                }
                println!("skipped: reference redis-server not found");
                return None;
            }
            Err(e) => panic!("starting {bin:?}: {e}"),
        };
        let mut reference = Reference { child, socket, dir };
        reference.wait_ready();
        Some(reference)
    }

    /// Poll until the server answers PING; panic with its log if it exits or takes too long.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "reference redis-server exited during start-up ({status}):\n{}",
                    self.log()
                );
            }
            if let Ok(mut conn) = Connection::unix(&self.socket) {
                if conn.send(&["PING"]).is_ok() {
                    if let Ok(reply) = conn.read_reply() {
                        if reply.frame == Frame::simple("PONG") {
                            return;
                        }
                    }
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "reference redis-server did not answer PING:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A new connection to the server's Unix socket.
    ///
    /// # Errors
    ///
    /// The connect error.
    pub fn connect(&self) -> io::Result<Connection> {
        Connection::unix(&self.socket)
    }

    /// The Unix socket the server listens on.
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stdout/stderr so far (its log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        // SIGKILL then reap, so no zombie and no orphan survives the test, panicking or not.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings every reference gets, as redis.conf lines.
fn base_config(dir: &Path, socket: &Path) -> Vec<String> {
    vec![
        "port 0".to_owned(),
        format!("unixsocket {}", quote(socket)),
        "daemonize no".to_owned(),
        format!("dir {}", quote(dir)),
        r#"save """#.to_owned(),
        "appendonly no".to_owned(),
    ]
}

/// A path as a double-quoted redis.conf argument.
fn quote(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}
