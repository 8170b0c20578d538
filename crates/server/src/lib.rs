//! The Ferrodis server: configuration, the command table and dispatch, the tokio front end,
//! and the `ferrodis-server` binary.
//!
//! # Layout
//!
//! - [`config`]: redis.conf parsing, the directive table, CONFIG GET/SET.
//! - [`command`]: the command table (declared once), `COMMAND`/`COMMAND DOCS` generation,
//!   argument parsing and the central dispatch.
//! - [`cmd`]: command handlers, one module per family.
//! - [`server`]: [`Server`], the state every front end shares.
//! - [`client`]: connection state and the client registry.
//! - [`blocking`]: clients parked in BLPOP-like commands and serving them.
//! - [`pubsub`], [`mailbox`]: Pub/Sub subscriptions and per-client out-of-band output.
//! - [`notify`]: keyspace notifications.
//! - [`evict`]: `maxmemory` and the eviction policies.
//! - [`persist`]: RDB snapshots: SAVE, BGSAVE, save rules, loading at start.
//! - [`net`]: listeners and the per-connection read/execute/write loop.
//! - [`logging`]: tracing set-up with Redis' log levels and `logfile`.
//!
//! Every front end (TCP, Unix socket, the in-process API of the `ferrodis` crate) runs commands
//! through [`Server::execute`], the only entry to command execution.

pub mod blocking;
pub mod client;
pub mod cmd;
pub mod command;
pub mod config;
pub mod error;
pub mod evict;
pub mod logging;
pub mod mailbox;
pub mod net;
pub mod notify;
pub mod persist;
pub mod pubsub;
pub mod server;

pub use client::Client;
pub use config::Config;
pub use error::{CommandError, Reply};
pub use server::Server;
