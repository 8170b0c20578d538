//! Blocking commands: parking clients on keys and serving them when the keys get data (Redis
//! `blocked.c`; the BLPOP page's "blocking behaviour" section).
//!
//! Layout:
//! - A blocking handler (BLPOP, BZPOPMIN, ...) first tries to serve at once. When there is
//!   nothing to pop it calls [`block_on`], which records a [`BlockRequest`] on the client
//!   (inside EXEC, or for in-process clients, it answers the timeout reply at once instead).
//! - Dispatch parks the client with [`Blocking::park`] **while still holding the command's
//!   shard locks**, so a push that follows on another thread always finds the waiter (no lost
//!   wake-up). Each key keeps its waiters in arrival order (first come, first served).
//! - A successful write to a key that has waiters marks the key ready ([`Blocking::signal`]).
//!   After the writing command released its locks (after EXEC for a transaction), and before its
//!   reply is sent, the writer's thread serves the ready keys ([`Server::serve_ready`]) in the
//!   order they became ready: for each waiter in order it locks the waiter's keys, re-runs the
//!   waiter's command on its behalf (with [`Client::serving`] naming the ready key, which the
//!   command pops from) and hands over the reply, until the key has nothing left. Waiters for
//!   another type than the key now holds are passed over. A command served this way can
//!   make other keys ready (BLMOVE pushes to its destination); those are served in the same
//!   loop.
//! - The parked connection waits for its reply, its deadline, CLIENT UNBLOCK, a kill or its
//!   socket closing ([`Blocking::finish`]). Handing over and giving up are decided under the
//!   waiter's mutex, so a waiter is either served (the element is popped and delivered) or
//!   gives up (nothing popped for it): an element is never lost to a timeout race.
//!
//! Lock order: shard locks → a waiter's state → the registry's mutexes. Nothing here awaits.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrodis_keyspace::Now;
use ferrodis_resp::{Frame, Protocol};
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::client::{Client, ClientKind, ClientShared};
use crate::command::dispatch::Resolved;
use crate::command::Ctx;
use crate::error::Reply;
use crate::server::Server;

/// `UNBLOCKED` error sent by `CLIENT UNBLOCK id ERROR`.
pub const UNBLOCKED_ERROR: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// What a blocking command waits for, recorded by [`block_on`].
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys (in the client's db) whose data would serve the command.
    pub keys: Vec<Bytes>,
    /// The type a key must hold to serve the command (`"list"` or `"zset"`).
    pub type_name: &'static str,
    /// Absolute deadline, Unix milliseconds; `None` waits forever (timeout 0).
    pub deadline_ms: Option<u64>,
    /// The reply on timeout (`*-1` or `$-1` in RESP2, `_` in RESP3).
    pub timeout_reply: Frame,
}

/// Called by a blocking handler that found nothing to serve: parks the client on `keys` until
/// `deadline_ms` (Unix ms, `None` = forever). Inside EXEC (and for in-process clients, which
/// have no connection to park) the command does not block and replies `timeout_reply` at once,
/// as Redis does for blocking commands inside MULTI.
pub fn block_on(
    ctx: &mut Ctx,
    keys: Vec<Bytes>,
    type_name: &'static str,
    deadline_ms: Option<u64>,
    timeout_reply: Frame,
) -> Reply {
    if ctx.client.in_exec || ctx.client.shared.kind == ClientKind::Local {
        return Ok(timeout_reply);
    }
    ctx.client.block = Some(BlockRequest {
        keys,
        type_name,
        deadline_ms,
        timeout_reply,
    });
    // Placeholder: the connection parks instead of sending it.
    Ok(Frame::NullArray)
}

#[derive(Debug)]
enum State {
    Waiting,
    Done(Frame),
    Gone,
}

/// A parked client.
#[derive(Debug)]
pub struct Waiter {
    client: Arc<ClientShared>,
    db: usize,
    protocol: Protocol,
    cmd: Resolved,
    args: Vec<Bytes>,
    req: BlockRequest,
    state: Mutex<State>,
    /// Wakes the parked connection (reply handed over or CLIENT UNBLOCK).
    pub notify: Notify,
}

impl Waiter {
    /// The deadline, Unix milliseconds (`None` = forever).
    pub fn deadline_ms(&self) -> Option<u64> {
        self.req.deadline_ms
    }
}

/// How [`Blocking::finish`] ended a wait.
#[derive(Debug)]
pub enum Finish {
    /// Still waiting (a spurious wake-up): keep waiting.
    Waiting,
    /// The reply to send.
    Reply(Frame),
}

#[derive(Default)]
struct Inner {
    keys: HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
    clients: HashMap<u64, Arc<Waiter>>,
}

/// The server-wide registry of parked clients.
#[derive(Default)]
pub struct Blocking {
    parked: AtomicUsize,
    inner: Mutex<Inner>,
    /// Keys made ready, in the order they were (Redis serves `ready_keys` first to last).
    ready: Mutex<VecDeque<(usize, Bytes)>>,
    has_ready: AtomicBool,
}

impl Blocking {
    /// Parked clients (INFO `blocked_clients`).
    pub fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }

    /// Keys with at least one parked client (INFO `total_blocking_keys`).
    pub fn blocking_keys(&self) -> usize {
        self.inner.lock().keys.len()
    }

    /// Parked clients with a deadline (INFO `clients_in_timeout_table`).
    pub fn with_deadline(&self) -> usize {
        let inner = self.inner.lock();
        inner
            .clients
            .values()
            .filter(|w| w.req.deadline_ms.is_some())
            .count()
    }

    /// Whether any client is parked (one atomic load: writers skip signalling otherwise).
    pub fn is_active(&self) -> bool {
        self.parked() > 0
    }

    /// Parks `client` for `cmd` as `req` asks. Must be called under the guard the command ran
    /// under.
    pub(crate) fn park(
        &self,
        client: &Client,
        cmd: Resolved,
        args: &[Bytes],
        req: BlockRequest,
    ) -> Arc<Waiter> {
        let w = Arc::new(Waiter {
            client: client.shared.clone(),
            db: client.db,
            protocol: client.protocol,
            cmd,
            args: args.to_vec(),
            req,
            state: Mutex::new(State::Waiting),
            notify: Notify::new(),
        });
        let mut inner = self.inner.lock();
        for key in &w.req.keys {
            let q = inner.keys.entry((w.db, key.clone())).or_default();
            // BLPOP k k 0 waits once on k.
            if !q.iter().any(|o| Arc::ptr_eq(o, &w)) {
                q.push_back(w.clone());
            }
        }
        inner.clients.insert(client.id, w.clone());
        self.parked.fetch_add(1, Ordering::Relaxed);
        client.shared.blocked.store(true, Ordering::Relaxed);
        w
    }

    /// Removes a waiter from the registry (idempotent).
    fn unpark(&self, w: &Arc<Waiter>) {
        let mut inner = self.inner.lock();
        let owned = inner
            .clients
            .get(&w.client.id)
            .is_some_and(|o| Arc::ptr_eq(o, w));
        if !owned {
            return;
        }
        inner.clients.remove(&w.client.id);
        for key in &w.req.keys {
            let k = (w.db, key.clone());
            if let Some(q) = inner.keys.get_mut(&k) {
                q.retain(|o| !Arc::ptr_eq(o, w));
                if q.is_empty() {
                    inner.keys.remove(&k);
                }
            }
        }
        self.parked.fetch_sub(1, Ordering::Relaxed);
        w.client.blocked.store(false, Ordering::Relaxed);
    }

    /// Marks `(db, key)` ready when a client is parked on it (a write just gave it data).
    pub fn signal(&self, db: usize, key: &[u8]) {
        if !self.is_active() {
            return;
        }
        let waited = self
            .inner
            .lock()
            .keys
            .contains_key(&(db, Bytes::copy_from_slice(key)));
        if waited {
            self.ready
                .lock()
                .push_back((db, Bytes::copy_from_slice(key)));
            self.has_ready.store(true, Ordering::Release);
        }
    }

    /// Marks every waited key of `db` ready (SWAPDB, MOVE/COPY into `db`: keys may have
    /// appeared without a write naming them).
    pub fn signal_db(&self, db: usize) {
        if !self.is_active() {
            return;
        }
        let keys: Vec<(usize, Bytes)> = self
            .inner
            .lock()
            .keys
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        if !keys.is_empty() {
            self.ready.lock().extend(keys);
            self.has_ready.store(true, Ordering::Release);
        }
    }

    /// Whether keys are waiting to be served.
    pub fn has_ready(&self) -> bool {
        self.has_ready.load(Ordering::Acquire)
    }

    fn pop_ready(&self) -> Option<(usize, Bytes)> {
        let mut r = self.ready.lock();
        let k = r.pop_front();
        if r.is_empty() {
            self.has_ready.store(false, Ordering::Release);
        }
        k
    }

    /// The clients parked on `(db, key)`, in arrival order (a snapshot).
    fn waiters(&self, db: usize, key: &Bytes) -> Vec<Arc<Waiter>> {
        self.inner
            .lock()
            .keys
            .get(&(db, key.clone()))
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Ends (or checks) a parked client's wait. With `give_up` (deadline passed, connection
    /// closing) a still-waiting client is answered its timeout reply and nothing will be served
    /// to it; otherwise a waiting client stays parked. Once this returns a reply, the waiter is
    /// out of the registry.
    pub fn finish(&self, w: &Arc<Waiter>, give_up: bool) -> Finish {
        let out = {
            let mut st = w.state.lock();
            match std::mem::replace(&mut *st, State::Gone) {
                State::Done(f) => f,
                State::Gone => w.req.timeout_reply.clone(),
                State::Waiting if give_up => w.req.timeout_reply.clone(),
                State::Waiting => {
                    *st = State::Waiting;
                    return Finish::Waiting;
                }
            }
        };
        self.unpark(w);
        Finish::Reply(out)
    }

    /// CLIENT UNBLOCK: answers parked client `id` with its timeout reply, or with the
    /// `UNBLOCKED` error when `error`. Returns whether the client was parked.
    pub fn unblock(&self, id: u64, error: bool) -> bool {
        let Some(w) = self.inner.lock().clients.get(&id).cloned() else {
            return false;
        };
        let mut st = w.state.lock();
        if !matches!(*st, State::Waiting) {
            return false;
        }
        *st = State::Done(if error {
            Frame::Error(Bytes::from_static(UNBLOCKED_ERROR.as_bytes()))
        } else {
            w.req.timeout_reply.clone()
        });
        drop(st);
        w.notify.notify_one();
        true
    }
}

impl Server {
    /// Serves clients parked on ready keys (Redis `handleClientsBlockedOnKeys`): for each ready
    /// key, its waiters in arrival order while the key holds data; a waiter for another type
    /// (BZPOPMIN parked on a key that became a list) is passed over, as Redis serves only the
    /// clients blocked for the key's type. Called by the thread whose write made the keys
    /// ready, after releasing that write's locks.
    pub fn serve_ready(&self) {
        while let Some((db, key)) = self.blocking.pop_ready() {
            for w in self.blocking.waiters(db, &key) {
                if self.serve_one(&w, &key) == Served::KeyEmpty {
                    break;
                }
            }
        }
    }

    /// Tries to serve `w` from `key`.
    fn serve_one(&self, w: &Arc<Waiter>, key: &Bytes) -> Served {
        let mut guard = self.lock_for(w.cmd.spec, &w.args, Now::system());
        let mut st = w.state.lock();
        if !matches!(*st, State::Waiting) {
            // Timed out or unblocked meanwhile: its connection removes it; skip it here.
            drop(st);
            self.blocking.unpark(w);
            return Served::PassedOver;
        }
        match guard.peek(w.db, key) {
            Ok(Some(e)) if e.value().type_name() == w.req.type_name => {}
            Ok(Some(_)) => return Served::PassedOver,
            _ => return Served::KeyEmpty,
        }
        let mut acting = Client::acting_for(w.client.clone(), w.db, w.protocol);
        acting.serving = Some(key.clone());
        let reply = self.run_with_guard(&mut acting, w.cmd, &w.args, &mut guard);
        if acting.block.is_some() {
            return Served::KeyEmpty;
        }
        *st = State::Done(reply.unwrap_or_else(|e| e.to_frame()));
        drop(st);
        drop(guard);
        self.blocking.unpark(w);
        w.notify.notify_one();
        Served::Yes
    }
}

/// What [`Server::serve_ready`]'s attempt to serve one waiter did.
#[derive(Debug, PartialEq, Eq)]
enum Served {
    /// Served: its reply is handed over.
    Yes,
    /// Not served, but later waiters may be: it waits for another type, or is no longer
    /// waiting.
    PassedOver,
    /// The key has nothing (left) to serve: stop serving it.
    KeyEmpty,
}
