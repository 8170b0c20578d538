//! The server under test, and [`start_subject`], the one place that decides what it is.
//!
//! With the `ferrodis-subject` feature (the normal setting once the `ferrodis` crate exposes
//! `Ferrodis::start_on`), the subject is an in-process Ferrodis listening on `127.0.0.1:0`,
//! run by a multi-thread tokio runtime that [`FerrodisServer`] owns, so plain `#[test]`
//! functions can drive it over blocking sockets. Without the feature, or with
//! `FERRODIS_DIFF_SUBJECT=reference`, the subject is a second reference `redis-server`: the
//! differential scripts then check themselves (a script that fails reference-vs-reference has
//! a nondeterministic line that needs a relaxed comparison).

use std::io;

use crate::conn::Connection;
use crate::reference::Reference;

/// Environment variable: `reference` forces a second reference server as the subject.
pub const SUBJECT_ENV: &str = "FERRODIS_DIFF_SUBJECT";

/// A server a test can open connections to.
pub trait Server {
    /// A new connection.
    ///
    /// # Errors
    ///
    /// The connect error.
    fn connect(&self) -> io::Result<Connection>;
    /// What to call this server in failure messages (`reference`, `ferrodis`).
    fn label(&self) -> &'static str;
}

impl Server for Reference {
    fn connect(&self) -> io::Result<Connection> {
        Reference::connect(self)
    }

    fn label(&self) -> &'static str {
        "reference"
    }
}

/// A second reference posing as the subject (reference-vs-reference runs).
struct ReferenceSubject(Reference);

impl Server for ReferenceSubject {
    fn connect(&self) -> io::Result<Connection> {
        self.0.connect()
    }

    fn label(&self) -> &'static str {
        "subject(reference)"
    }
}

/// Start the server under test with `config` lines (redis.conf syntax), the same lines the
/// reference gets on top of its base settings. `None` when the subject is a reference and the
/// reference is missing (the test skips).
///
/// # Panics
///
/// When the subject cannot start.
pub fn start_subject(config: &[String]) -> Option<Box<dyn Server>> {
    let forced_reference = std::env::var(SUBJECT_ENV).as_deref() == Ok("reference");
    if !forced_reference {
        #[cfg(feature = "ferrodis-subject")]
        return Some(Box::new(FerrodisServer::start(config)));
    }
    let reference = Reference::start(config)?;
    Some(Box::new(ReferenceSubject(reference)))
}

#[cfg(feature = "ferrodis-subject")]
pub use ferrodis_side::FerrodisServer;

#[cfg(feature = "ferrodis-subject")]
mod ferrodis_side {
    use std::fmt::Write as _;
    use std::io;
    use std::net::SocketAddr;

    use ferrodis::{Config, Ferrodis};
    use tempfile::TempDir;

    use super::Server;
    use crate::conn::Connection;

    /// An in-process Ferrodis on an ephemeral `127.0.0.1` port, with the runtime that runs it.
    ///
    /// Dropping it shuts the server down, then the runtime.
    pub struct FerrodisServer {
        // Field order matters: the server is shut down (in `Drop`) before the runtime goes.
        server: Option<Ferrodis>,
        addr: SocketAddr,
        runtime: tokio::runtime::Runtime,
        _dir: TempDir,
    }

    impl FerrodisServer {
        /// Start Ferrodis with the harness' base settings (the reference's, minus its socket:
        /// `save ""`, `appendonly no`, `dir` a fresh temporary directory) plus `extra` lines.
        ///
        /// # Panics
        ///
        /// When the config is refused or the server does not start.
        pub fn start(extra: &[String]) -> FerrodisServer {
            let dir = match tempfile::Builder::new().prefix("ferrodis-sub-").tempdir() {
                Ok(dir) => dir,
                Err(e) => panic!("creating a temporary directory: {e}"),
            };
            let mut text = String::new();
            let _ = writeln!(text, "dir {:?}", dir.path().display().to_string());
            let _ = writeln!(text, "save \"\"");
            let _ = writeln!(text, "appendonly no");
            for line in extra {
                let _ = writeln!(text, "{line}");
            }
            let config = match Config::from_str(&text, "differential test config") {
                Ok(config) => config,
                Err(e) => panic!("Ferrodis refused the test config: {e}\n{text}"),
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("ferrodis-under-test")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => panic!("building the tokio runtime: {e}"),
            };
            let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
            let server = match runtime.block_on(Ferrodis::start_on(config, any_port)) {
                Ok(server) => server,
                Err(e) => panic!("starting Ferrodis: {e}"),
            };
            let Some(addr) = server.local_addr() else {
                panic!("Ferrodis started without a local address");
            };
            FerrodisServer {
                server: Some(server),
                addr,
                runtime,
                _dir: dir,
            }
        }

        /// The TCP address it listens on.
        pub fn addr(&self) -> SocketAddr {
            self.addr
        }
    }

    impl Server for FerrodisServer {
        fn connect(&self) -> io::Result<Connection> {
            Connection::tcp(self.addr)
        }

        fn label(&self) -> &'static str {
            "ferrodis"
        }
    }

    impl Drop for FerrodisServer {
        fn drop(&mut self) {
            if let Some(server) = self.server.take() {
                self.runtime.block_on(server.shutdown());
            }
        }
    }
}
