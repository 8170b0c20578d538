//! Embed a Ferrodis (Redis-compatible) server in a Rust program.
//!
//! Start a server inside your tokio runtime, talk to it over the network with any Redis
//! client, or run commands in-process without a socket:
//!
//! ```no_run
//! # async fn demo() -> Result<(), ferrodis::Error> {
//! let server = ferrodis::Ferrodis::start_on(ferrodis::Config::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("listening on {:?}", server.local_addr());
//! let mut client = server.client();
//! client.run(["SET", "greeting", "hello"]);
//! assert_eq!(client.run(["GET", "greeting"]), ferrodis::Frame::Bulk("hello".into()));
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Memory accounting
//! `used_memory` (INFO, `maxmemory` and eviction) is what the process has allocated, counted by
//! [`CountingAlloc`]. A library cannot pick the program's allocator, so install it yourself when
//! you use `maxmemory`; without it Ferrodis falls back to the resident set size, which does not
//! shrink when memory is freed:
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: ferrodis::CountingAlloc<std::alloc::System> =
//!     ferrodis::CountingAlloc(std::alloc::System);
//! ```
//!
//! # Layout
//! [`Ferrodis`] is a running server (its listeners and background tasks); [`LocalClient`] is an
//! in-process connection that goes through the same dispatch as socket clients.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
pub use ferrodis_keyspace::alloc::CountingAlloc;
pub use ferrodis_resp::{Frame, Protocol};
use ferrodis_server::client::ClientKind;
pub use ferrodis_server::config::Config;
use ferrodis_server::net::{serve, Listeners, NetError, Workers};
use ferrodis_server::{Client, Server};
use tokio::task::JoinHandle;

/// Errors starting an embedded server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Binding a listener failed.
    #[error(transparent)]
    Net(#[from] NetError),
}

/// A running server. Dropping it does not stop it: call [`Ferrodis::shutdown`].
pub struct Ferrodis {
    server: Arc<Server>,
    local_addr: Option<SocketAddr>,
    task: JoinHandle<()>,
}

impl Ferrodis {
    /// Starts a server in the current tokio runtime, listening where `config` says (`bind`,
    /// `port`, `unixsocket`), like `ferrodis-server` does. Errors: a listener cannot be bound.
    pub async fn start(config: Config) -> Result<Ferrodis, Error> {
        let listeners = Listeners::bind_from_config(&config)?;
        Ok(Self::spawn(config, listeners))
    }

    /// Starts a server in the current tokio runtime listening on `addr` only (port 0 picks a
    /// free port: see [`Ferrodis::local_addr`]); the config's `bind`/`port`/`unixsocket` are
    /// ignored.
    pub async fn start_on(config: Config, addr: SocketAddr) -> Result<Ferrodis, Error> {
        let listeners = Listeners::bind_addr(addr)?;
        Ok(Self::spawn(config, listeners))
    }

    fn spawn(config: Config, listeners: Listeners) -> Ferrodis {
        let local_addr = listeners.tcp_addrs().first().copied();
        let server = Server::new(config);
        let task = tokio::spawn(serve(
            server.clone(),
            listeners,
            Arc::new(Workers::current()),
        ));
        Ferrodis {
            server,
            local_addr,
            task,
        }
    }

    /// The TCP address the server listens on, if any.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// An in-process client (no socket): commands take the same path as network clients.
    pub fn client(&self) -> LocalClient {
        LocalClient::new(self.server.clone())
    }

    /// The shared server state, for advanced embedding.
    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }

    /// Stops accepting, closes every connection and waits for the server task to end.
    pub async fn shutdown(self) {
        self.server.request_shutdown();
        let _ = self.task.await;
    }
}

/// An in-process connection: selected db, protocol and name persist between commands.
pub struct LocalClient {
    server: Arc<Server>,
    client: Client,
}

impl LocalClient {
    /// A new in-process client of `server`.
    pub fn new(server: Arc<Server>) -> LocalClient {
        let client =
            server
                .clients
                .register(ClientKind::Local, "local:0".into(), "local:0".into(), -1);
        LocalClient { server, client }
    }

    /// Runs one command (`["SET", "k", "v"]`) and returns its reply; errors are
    /// [`Frame::Error`] values with Redis' texts.
    pub fn run<I, A>(&mut self, args: I) -> Frame
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let args: Vec<Bytes> = args
            .into_iter()
            .map(|a| Bytes::copy_from_slice(a.as_ref()))
            .collect();
        ferrodis_server::net::execute_local(&self.server, &mut self.client, &args)
    }
}
