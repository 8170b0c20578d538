//! Connection state and the registry of connected clients (CLIENT LIST / KILL / INFO).
//!
//! Layout: [`Client`] is owned by the connection task and mutated without locks; the parts other
//! connections must see live in [`ClientShared`] (atomics, plus a mutex for the name), which the
//! [`ClientRegistry`] indexes by id.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrodis_keyspace::clock::unix_ms;
use ferrodis_resp::Protocol;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::blocking::{BlockRequest, Waiter};
use crate::cmd::transactions::TxState;
use crate::mailbox::Mailbox;
use crate::pubsub::Subscriptions;
use ferrodis_resp::Frame;

/// How the client is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// A TCP connection.
    Tcp,
    /// A Unix socket connection (`flags=U` in CLIENT LIST).
    Unix,
    /// An in-process client of the embedding API (no socket).
    Local,
}

/// State shared between a connection and the rest of the server.
#[derive(Debug)]
pub struct ClientShared {
    /// Unique, increasing client id (CLIENT ID).
    pub id: u64,
    /// Peer address as `ip:port` (or `path:0` for Unix sockets).
    pub addr: String,
    /// Local address as `ip:port` (or `path:0`).
    pub laddr: String,
    /// File descriptor of the socket (-1 for in-process clients).
    pub fd: i64,
    /// Connection kind.
    pub kind: ClientKind,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// Client name (CLIENT SETNAME), empty when unset.
    pub name: Mutex<Bytes>,
    /// Selected db.
    pub db: AtomicUsize,
    /// Index in the command table of the last command run (`usize::MAX` = none yet).
    pub last_cmd: AtomicUsize,
    /// Unix milliseconds of the last command.
    pub last_interaction_ms: AtomicU64,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// Bytes waiting in the query buffer after the last read.
    pub qbuf: AtomicUsize,
    /// Bytes in the output buffer waiting to be written.
    pub obuf: AtomicUsize,
    /// CLIENT NO-EVICT state.
    pub no_evict: AtomicBool,
    /// CLIENT NO-TOUCH state.
    pub no_touch: AtomicBool,
    /// Set when the connection must close (CLIENT KILL, SHUTDOWN).
    pub killed: AtomicBool,
    /// Wakes the connection task when killed.
    pub kill_notify: Notify,
    /// Pub/Sub messages and notifications other connections queued for this one.
    pub mailbox: Mailbox,
    /// Subscribed channels, patterns and shard channels (CLIENT LIST `sub`, `psub`, `ssub`).
    pub sub_counts: [AtomicUsize; 3],
    /// Blocked in a blocking command (CLIENT LIST flag `b`).
    pub blocked: AtomicBool,
    /// Commands queued since MULTI, -1 outside MULTI (CLIENT LIST `multi`, flag `x`).
    pub multi: AtomicI64,
}

impl ClientShared {
    /// Asks the connection to close as soon as possible.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.mailbox.close();
        self.kill_notify.notify_one();
    }

    /// Whether the connection was asked to close.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// The client name.
    pub fn name(&self) -> Bytes {
        self.name.lock().clone()
    }
}

/// Per-connection state owned by the connection task.
#[derive(Debug)]
pub struct Client {
    /// Unique client id.
    pub id: u64,
    /// Selected db index.
    pub db: usize,
    /// Negotiated protocol.
    pub protocol: Protocol,
    /// CLIENT REPLY OFF in effect.
    pub reply_off: bool,
    /// CLIENT REPLY SKIP: the next command's reply is dropped.
    pub reply_skip_next: bool,
    /// The current command's reply is dropped (set by CLIENT REPLY OFF/SKIP themselves).
    pub reply_skip_this: bool,
    /// Close the connection once the current reply is written (QUIT).
    pub close_after_reply: bool,
    /// State visible to other connections.
    pub shared: Arc<ClientShared>,
    /// The last command name looked up, as sent, and its table index: pipelines usually
    /// repeat a command, and a byte compare is cheaper than a table lookup.
    pub(crate) cmd_cache: CommandCache,
    /// MULTI queue and watched keys.
    pub tx: TxState,
    /// Running inside EXEC (blocking commands answer at once instead of blocking).
    pub in_exec: bool,
    /// Pub/Sub subscriptions.
    pub subs: Subscriptions,
    /// Replies the current command produced before its returned one (SUBSCRIBE with several
    /// channels answers once per channel); written first, in order.
    pub pending_frames: Vec<Frame>,
    /// Set by a blocking command that found nothing to serve: the connection parks the client
    /// instead of sending the returned placeholder reply (see [`crate::blocking`]).
    pub block: Option<BlockRequest>,
    /// Set by dispatch once a blocking command is parked: the connection waits on it.
    pub parked: Option<Arc<Waiter>>,
    /// The key a parked command is re-run for ([`crate::blocking`]): blocking handlers pop
    /// from it rather than from the first non-empty of their keys, as Redis serves the key
    /// that became ready.
    pub serving: Option<Bytes>,
    /// The AOF offset this client's last write reaches: its reply waits until the AOF is
    /// written (and, with `appendfsync always`, synced) that far. 0 = nothing pending.
    pub aof_seq: u64,
    /// While EXEC runs: the commands its queued commands propagate, logged together.
    pub propagation: Option<Vec<(usize, Vec<Bytes>)>>,
    /// Replays the AOF at start: exempt from `maxmemory` and MISCONF refusals.
    pub replaying: bool,
}

/// A one-entry cache of the last top-level command name a client sent.
#[derive(Debug, Default)]
pub(crate) struct CommandCache {
    name: [u8; 24],
    len: usize,
    idx: Option<usize>,
}

impl CommandCache {
    /// The cached table index if `name` is byte-for-byte the cached name.
    pub(crate) fn get(&self, name: &[u8]) -> Option<usize> {
        (name.len() == self.len && &self.name[..self.len] == name)
            .then_some(self.idx)
            .flatten()
    }

    /// Remembers `name` → `idx` (names longer than the buffer are not cached).
    pub(crate) fn put(&mut self, name: &[u8], idx: usize) {
        if name.len() <= self.name.len() {
            self.name[..name.len()].copy_from_slice(name);
            self.len = name.len();
            self.idx = Some(idx);
        }
    }
}

impl Client {
    /// Selects db `db` (already validated).
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.shared.db.store(db, Ordering::Relaxed);
    }

    /// Sets the protocol version.
    pub fn set_protocol(&mut self, p: Protocol) {
        self.protocol = p;
        let v = if p == Protocol::Resp3 { 3 } else { 2 };
        self.shared.resp.store(v, Ordering::Relaxed);
    }

    /// Mirrors the subscription counts into [`ClientShared::sub_counts`].
    pub fn sync_sub_counts(&self) {
        let c = &self.shared.sub_counts;
        c[0].store(self.subs.channels.len(), Ordering::Relaxed);
        c[1].store(self.subs.patterns.len(), Ordering::Relaxed);
        c[2].store(self.subs.shard.len(), Ordering::Relaxed);
    }

    /// A fresh connection state around `shared`: db 0, RESP2, no transaction, no subscriptions.
    fn with_shared(shared: Arc<ClientShared>) -> Client {
        Client {
            id: shared.id,
            db: 0,
            protocol: Protocol::Resp2,
            reply_off: false,
            reply_skip_next: false,
            reply_skip_this: false,
            close_after_reply: false,
            shared,
            cmd_cache: CommandCache::default(),
            tx: TxState::default(),
            in_exec: false,
            subs: Subscriptions::default(),
            pending_frames: Vec::new(),
            block: None,
            parked: None,
            serving: None,
            aof_seq: 0,
            propagation: None,
            replaying: false,
        }
    }

    /// A client acting for a parked one (serving a blocked command on its behalf): same id,
    /// db, protocol and shared state, nothing else.
    pub(crate) fn acting_for(shared: Arc<ClientShared>, db: usize, protocol: Protocol) -> Client {
        Client {
            db,
            protocol,
            ..Client::with_shared(shared)
        }
    }

    /// Whether CLIENT NO-TOUCH is on.
    pub fn no_touch(&self) -> bool {
        self.shared.no_touch.load(Ordering::Relaxed)
    }
}

/// Every connected client, by id.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientShared>>>,
}

impl ClientRegistry {
    /// Registers a new connection and returns its state.
    pub fn register(&self, kind: ClientKind, addr: String, laddr: String, fd: i64) -> Client {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let now = unix_ms();
        let shared = Arc::new(ClientShared {
            id,
            addr,
            laddr,
            fd,
            kind,
            created_ms: now,
            name: Mutex::new(Bytes::new()),
            db: AtomicUsize::new(0),
            last_cmd: AtomicUsize::new(usize::MAX),
            last_interaction_ms: AtomicU64::new(now),
            resp: AtomicU8::new(2),
            qbuf: AtomicUsize::new(0),
            obuf: AtomicUsize::new(0),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
            mailbox: Mailbox::default(),
            sub_counts: Default::default(),
            blocked: AtomicBool::new(false),
            multi: AtomicI64::new(-1),
        });
        if kind != ClientKind::Local {
            self.clients.lock().insert(id, shared.clone());
        }
        Client::with_shared(shared)
    }

    /// The shared state of client `id`, if connected.
    pub fn get(&self, id: u64) -> Option<Arc<ClientShared>> {
        self.clients.lock().get(&id).cloned()
    }

    /// Removes a closed connection.
    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of the connected clients in id order.
    pub fn snapshot(&self) -> Vec<Arc<ClientShared>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Asks every client to close (shutdown).
    pub fn kill_all(&self) {
        for c in self.snapshot() {
            c.kill();
        }
    }
}
