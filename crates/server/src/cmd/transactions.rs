//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH (Redis `multi.c`).
//!
//! ```text
//! MULTI
//! EXEC
//! DISCARD
//! WATCH key [key ...]
//! UNWATCH
//! ```
//!
//! Layout:
//! - [`TxState`]: a client's MULTI queue and its watched keys (a field of [`Client`]).
//! - [`WatchRegistry`]: server-wide index of watched keys, `(db, key)` → the dirty flags of the
//!   clients watching it. Writers consult it only when it is non-empty (one atomic load), so
//!   ordinary writes pay nothing.
//! - [`queue_if_in_multi`]: the MULTI queueing step of dispatch.
//! - [`signal_modified`] and [`touch_flushed`]: Redis' `signalModifiedKey` and
//!   `touchAllWatchedKeysInDb`.
//!
//! EXEC locks the union of the queued commands' keys and the client's watched keys once
//! ([`Keyspace::lock_keys`](ferrodis_keyspace::Keyspace::lock_keys)), or every shard when a
//! queued command needs it, checks the dirty flag under those locks and runs every queued
//! command under the same guard. A writer signals watchers while still holding its own locks, so
//! no write can slip between the check and the queued commands.
//!
//! Known gaps: a write command signals its keys whenever it succeeds, even when it changed
//! nothing (Redis signals only real modifications, e.g. not a failed `SET NX`), and signals
//! `COPY src dst DB n`'s `dst` in the selected db too (harmless over-signalling). INFO and
//! CONFIG RESETSTAT are declared `all_shards`, so a transaction holding them locks every shard
//! and they read or reset the per-shard counters through its guard.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use ferrodis_keyspace::{Guard, Now};
use ferrodis_resp::Frame;
use parking_lot::Mutex;

use crate::client::Client;
use crate::command::dispatch::Resolved;
use crate::command::{Acl, CommandSpec, Ctx, Flags};
use crate::error::{CommandError, Reply};
use crate::server::Server;

/// Error texts of the transaction commands (Redis 7.0, byte-identical).
pub mod msg {
    /// MULTI inside MULTI.
    pub const NESTED_MULTI: &str = "ERR MULTI calls can not be nested";
    /// WATCH inside MULTI.
    pub const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
    /// EXEC outside MULTI.
    pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
    /// DISCARD outside MULTI.
    pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
    /// EXEC after a command failed its checks while queueing.
    pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
    /// A `no_multi` command inside MULTI.
    pub const NOT_IN_MULTI: &str = "ERR Command not allowed inside a transaction";
}

/// Commands run immediately inside MULTI instead of being queued (Redis `processCommand`).
const NOT_QUEUED: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// One queued command: already resolved (lookup and arity checked) and its arguments.
#[derive(Debug)]
struct Queued {
    cmd: Resolved,
    args: Vec<Bytes>,
}

/// An open MULTI block.
#[derive(Debug, Default)]
struct Multi {
    queue: Vec<Queued>,
    /// A command failed its checks while queueing: EXEC answers EXECABORT.
    aborted: bool,
}

/// A client's watched keys; dropping it removes them from the registry.
#[derive(Debug)]
struct Watch {
    registry: Arc<WatchRegistry>,
    dirty: Arc<AtomicBool>,
    keys: Vec<(usize, Bytes)>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.registry.remove(&self.keys, &self.dirty);
    }
}

/// A client's transaction state: the MULTI queue and the watched keys.
#[derive(Debug, Default)]
pub struct TxState {
    multi: Option<Multi>,
    watch: Option<Watch>,
}

impl TxState {
    /// Whether a MULTI block is open.
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }

    /// Marks an open transaction as failed (a command was refused while queueing), so that EXEC
    /// answers EXECABORT; does nothing outside MULTI.
    pub fn flag_error(&mut self) {
        if let Some(m) = &mut self.multi {
            m.aborted = true;
        }
    }

    /// Whether a queued command is flagged `denyoom` (Redis `mstate.cmd_flags & CMD_DENYOOM`):
    /// EXEC is then refused while memory is over `maxmemory`.
    pub fn queued_denyoom(&self) -> bool {
        self.multi
            .as_ref()
            .is_some_and(|m| m.queue.iter().any(|q| q.cmd.spec.flags.has(Flags::DENYOOM)))
    }

    /// Forgets every watched key (UNWATCH).
    pub fn unwatch(&mut self) {
        self.watch = None;
    }

    /// Leaves MULTI (dropping the queue) and unwatches: DISCARD, RESET.
    pub fn reset(&mut self) {
        self.multi = None;
        self.unwatch();
    }
}

/// One db's watched keys → the dirty flags of the clients watching each.
type DbWatchers = HashMap<Bytes, Vec<Arc<AtomicBool>>>;

/// Server-wide index of watched keys: `(db, key)` → the dirty flags of the watching clients.
#[derive(Debug, Default)]
pub struct WatchRegistry {
    /// Number of `(db, key, client)` registrations; 0 = nothing to signal.
    count: AtomicUsize,
    /// A plain mutex: held for a map lookup only, never across `.await` and never while taking
    /// a shard lock (writers call in while holding theirs, so the order is shards → registry).
    dbs: Mutex<HashMap<usize, DbWatchers>>,
}

impl WatchRegistry {
    /// Whether any key is watched (one atomic load: writers skip the registry otherwise).
    pub fn is_active(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Marks every client watching `key` in `db` dirty (Redis `touchWatchedKey`).
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.is_active() {
            return;
        }
        let dbs = self.dbs.lock();
        if let Some(flags) = dbs.get(&db).and_then(|keys| keys.get(key)) {
            for f in flags {
                f.store(true, Ordering::Release);
            }
        }
    }

    /// The keys watched in `db`.
    pub fn keys_in(&self, db: usize) -> Vec<Bytes> {
        if !self.is_active() {
            return Vec::new();
        }
        self.dbs
            .lock()
            .get(&db)
            .map(|keys| keys.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Registers `flag` as watching `key` in `db`; false if it already does.
    fn add(&self, db: usize, key: &Bytes, flag: &Arc<AtomicBool>) -> bool {
        let mut dbs = self.dbs.lock();
        let flags = dbs.entry(db).or_default().entry(key.clone()).or_default();
        if flags.iter().any(|f| Arc::ptr_eq(f, flag)) {
            return false;
        }
        flags.push(flag.clone());
        self.count.fetch_add(1, Ordering::Release);
        true
    }

    /// Removes `flag` from every key of `keys`, dropping emptied entries.
    fn remove(&self, keys: &[(usize, Bytes)], flag: &Arc<AtomicBool>) {
        if keys.is_empty() {
            return;
        }
        let mut dbs = self.dbs.lock();
        for (db, key) in keys {
            let Some(db_keys) = dbs.get_mut(db) else {
                continue;
            };
            if let Some(flags) = db_keys.get_mut(key) {
                let before = flags.len();
                flags.retain(|f| !Arc::ptr_eq(f, flag));
                self.count
                    .fetch_sub(before - flags.len(), Ordering::Release);
                if flags.is_empty() {
                    db_keys.remove(key);
                }
            }
            if db_keys.is_empty() {
                dbs.remove(db);
            }
        }
    }

    /// Number of `(db, key, client)` registrations (for tests).
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The MULTI queueing step of dispatch, for a client inside MULTI: `None` when the command runs
/// now (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET), else its reply: `+QUEUED`, or `ERR Command
/// not allowed inside a transaction` for `no_multi` commands (which dooms the transaction).
pub(crate) fn queue_if_in_multi(
    server: &Server,
    client: &mut Client,
    cmd: Resolved,
    args: &[Bytes],
) -> Option<Reply> {
    let multi = client.tx.multi.as_mut()?;
    if cmd.spec.flags.has(Flags::NO_MULTI) {
        multi.aborted = true;
        return Some(Err(CommandError::msg(msg::NOT_IN_MULTI)));
    }
    if NOT_QUEUED.contains(&server.commands.entry(cmd.idx).full_name.as_str()) {
        return None;
    }
    multi.queue.push(Queued {
        cmd,
        args: args.to_vec(),
    });
    publish_multi_len(client);
    Some(Ok(Frame::simple("QUEUED")))
}

/// Mirrors the MULTI queue length (-1 outside MULTI) into the client's shared state, for CLIENT
/// LIST's `multi` field and `x` flag.
pub(crate) fn publish_multi_len(client: &Client) {
    let len = client
        .tx
        .multi
        .as_ref()
        .map_or(-1, |m| i64::try_from(m.queue.len()).unwrap_or(i64::MAX));
    client.shared.multi.store(len, Ordering::Relaxed);
}

/// Before db `emptied` is flushed (or swapped with `replaced_with`): signals the watched keys
/// of `emptied` that exist there (or in `replaced_with`), as Redis' `touchAllWatchedKeysInDb`.
/// The guard must hold every shard.
pub fn touch_flushed(
    ctx: &mut Ctx,
    emptied: usize,
    replaced_with: Option<usize>,
) -> Result<(), CommandError> {
    let reg = &ctx.server.watches;
    for key in reg.keys_in(emptied) {
        let mut exists = ctx.ks.peek(emptied, &key)?.is_some();
        if let Some(other) = replaced_with {
            exists = exists || ctx.ks.peek(other, &key)?.is_some();
        }
        if exists {
            reg.touch(emptied, &key);
        }
    }
    Ok(())
}

/// EXEC refused by its own checks (Redis `execCommandAbort`): leaves MULTI, unwatches and
/// answers `EXECABORT Transaction discarded because of: <error without its ERR prefix>`.
pub(crate) fn exec_abort(client: &mut Client, e: &CommandError) -> CommandError {
    client.tx.reset();
    publish_multi_len(client);
    let text = e.to_string();
    let text = text.strip_prefix("ERR ").unwrap_or(&text);
    CommandError::owned(format!(
        "EXECABORT Transaction discarded because of: {text}"
    ))
}

/// `MULTI`: `+OK`; `ERR MULTI calls can not be nested` inside MULTI.
pub fn multi(ctx: &mut Ctx) -> Reply {
    if ctx.client.tx.in_multi() {
        return Err(CommandError::msg(msg::NESTED_MULTI));
    }
    ctx.client.tx.multi = Some(Multi::default());
    publish_multi_len(ctx.client);
    Ok(Frame::ok())
}

/// `DISCARD`: drops the queue and unwatches; `ERR DISCARD without MULTI` outside MULTI.
pub fn discard(ctx: &mut Ctx) -> Reply {
    if !ctx.client.tx.in_multi() {
        return Err(CommandError::msg(msg::DISCARD_WITHOUT_MULTI));
    }
    ctx.client.tx.reset();
    publish_multi_len(ctx.client);
    Ok(Frame::ok())
}

/// `UNWATCH`: forgets the watched keys; `+OK`.
pub fn unwatch(ctx: &mut Ctx) -> Reply {
    ctx.client.tx.unwatch();
    Ok(Frame::ok())
}

/// `WATCH key [key ...]`: `+OK`; `ERR WATCH inside MULTI is not allowed` inside MULTI.
/// A key that is already logically expired is deleted first, so that its deletion does not
/// count as a modification (Redis 7.0 remembers it as expired at WATCH time).
pub fn watch(ctx: &mut Ctx) -> Reply {
    if ctx.client.tx.in_multi() {
        return Err(CommandError::msg(msg::WATCH_IN_MULTI));
    }
    let db = ctx.db();
    for key in &ctx.args[1..] {
        ctx.ks.peek(db, key)?;
    }
    let server = ctx.server;
    server.signal_expired(ctx.ks);
    let w = ctx.client.tx.watch.get_or_insert_with(|| Watch {
        registry: server.watches.clone(),
        dirty: Arc::new(AtomicBool::new(false)),
        keys: Vec::new(),
    });
    for key in &ctx.args[1..] {
        if server.watches.add(db, key, &w.dirty) {
            w.keys.push((db, key.clone()));
        }
    }
    Ok(Frame::ok())
}

/// `EXEC`: runs the queued commands atomically and answers the array of their replies (errors
/// stay per command); a null array when a watched key was modified; `EXECABORT Transaction
/// discarded because of previous errors.` when a command was refused while queueing; `ERR EXEC
/// without MULTI` outside MULTI. Unwatches in every case.
pub fn exec(ctx: &mut Ctx) -> Reply {
    let Some(multi) = ctx.client.tx.multi.take() else {
        return Err(CommandError::msg(msg::EXEC_WITHOUT_MULTI));
    };
    publish_multi_len(ctx.client);
    let watch = ctx.client.tx.watch.take();
    if multi.aborted {
        return Err(CommandError::msg(msg::EXECABORT));
    }
    let server = ctx.server;
    let now = ctx.ks.now();
    let mut guard = lock_exec(server, &multi.queue, watch.as_ref(), now);
    if let Some(w) = &watch {
        if is_dirty(server, w, &mut guard) {
            // Keys the check found expired are deleted: log their DELs.
            server.propagate_expired(ctx.client, &mut guard);
            return Ok(Frame::NullArray);
        }
    }
    // Unwatch before running, as Redis does: our own writes need not signal ourselves.
    drop(watch);
    let mut replies = Vec::with_capacity(multi.queue.len());
    ctx.client.in_exec = true;
    if server.aof.is_on() {
        ctx.client.propagation = Some(Vec::new());
    }
    let mut errors = 0;
    for q in &multi.queue {
        let reply = server.run_with_guard(ctx.client, q.cmd, &q.args, &mut guard);
        errors += u64::from(reply.is_err());
        replies.push(reply.unwrap_or_else(|e| e.to_frame()));
    }
    ctx.client.in_exec = false;
    if let Some(batch) = ctx.client.propagation.take() {
        // Still under the transaction's locks: logged as one MULTI ... EXEC.
        if !batch.is_empty() {
            ctx.client.aof_seq = server.aof.feed(&batch, server.aof_timestamps());
        }
    }
    // Errors inside the EXEC array count as error replies (INFO `total_error_replies`).
    server
        .stats
        .total_error_replies
        .fetch_add(errors, Ordering::Relaxed);
    Ok(Frame::Array(replies))
}

/// Whether a watched key was modified (or has expired) since WATCH; called under the EXEC guard,
/// which holds every watched key's shard.
fn is_dirty(server: &Server, w: &Watch, guard: &mut Guard<'_>) -> bool {
    for (db, key) in &w.keys {
        // Applies lazy expiry: a watched key that expired since WATCH counts as modified.
        let _ = guard.peek(*db, key);
    }
    server.signal_expired(guard);
    w.dirty.load(Ordering::Acquire)
}

/// The one guard EXEC runs under: every shard when a queued command needs it (see
/// [`needs_all_shards`]), else the shards of every queued command's keys and of the watched
/// keys, locked once in ascending order.
fn lock_exec<'a>(
    server: &'a Server,
    queue: &[Queued],
    watch: Option<&Watch>,
    now: Now,
) -> Guard<'a> {
    let ks = &server.keyspace;
    let mut keys: Vec<&[u8]> = Vec::new();
    for q in queue {
        if needs_all_shards(q.cmd.spec) {
            return ks.lock_all(now);
        }
        let found = q.cmd.spec.key_positions(&q.args);
        if found.unnamed {
            return ks.lock_all(now);
        }
        keys.extend(
            found
                .keys
                .iter()
                .filter_map(|&i| q.args.get(i))
                .map(|k| &k[..]),
        );
    }
    if let Some(w) = watch {
        keys.extend(w.keys.iter().map(|(_, k)| &k[..]));
    }
    ks.lock_keys(keys, now)
}

/// Whether a queued command needs every shard: `all_shards` commands, and key-less commands
/// that read or write the keyspace (KEYS, SCAN, DBSIZE, RANDOMKEY, ...), which outside MULTI
/// lock one shard at a time.
fn needs_all_shards(spec: &CommandSpec) -> bool {
    spec.all_shards
        || (spec.keys.is_empty()
            && spec.getkeys.is_none()
            && (spec.flags.has(Flags::READONLY)
                || spec.flags.has(Flags::WRITE)
                || spec.acl.has(Acl::KEYSPACE)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ferrodis_resp::Frame;

    use crate::client::ClientKind;
    use crate::cmd::tests::H;

    #[test]
    fn watches_leave_the_registry() {
        let mut h = H::new();
        let reg = h.server.watches.clone();
        h.run(&["WATCH", "a", "b"]);
        h.run(&["WATCH", "a"]);
        assert_eq!(reg.len(), 2);
        h.run(&["UNWATCH"]);
        assert!(reg.is_empty());
        h.run(&["WATCH", "a"]);
        h.run(&["MULTI"]);
        h.run(&["EXEC"]);
        assert!(reg.is_empty());
        h.run(&["WATCH", "a"]);
        h.run(&["MULTI"]);
        h.run(&["DISCARD"]);
        assert!(reg.is_empty());
        h.run(&["WATCH", "a"]);
        h.run(&["RESET"]);
        assert!(reg.is_empty());
        h.run(&["WATCH", "a"]);
        h.run(&["MULTI"]);
        h.run(&["GET"]);
        h.run(&["EXEC"]);
        assert!(reg.is_empty());
        h.run(&["WATCH", "a"]);
        // A disconnect drops the client state.
        h.client = h
            .server
            .clients
            .register(ClientKind::Local, "t:0".into(), "t:0".into(), -1);
        assert!(reg.is_empty());
    }

    #[test]
    fn exec_runs_all_shard_and_keyless_commands_in_place() {
        let mut h = H::new();
        h.run(&["SET", "k", "v"]);
        h.run(&["MULTI"]);
        for cmd in [
            &["SET", "k2", "v"][..],
            &["INFO", "keyspace"],
            &["CONFIG", "RESETSTAT"],
            &["KEYS", "*"],
            &["DBSIZE"],
            &["GET", "k"],
        ] {
            assert_eq!(h.run(cmd), Frame::simple("QUEUED"));
        }
        let Frame::Array(replies) = h.run(&["EXEC"]) else {
            panic!("EXEC answers an array");
        };
        assert_eq!(replies.len(), 6);
        // INFO runs in its place, under the transaction's guard: it sees the SET before it.
        let Frame::Verbatim { text, .. } = &replies[1] else {
            panic!("INFO answers a verbatim string: {:?}", replies[1]);
        };
        let text = String::from_utf8_lossy(text);
        assert!(text.contains("db0:keys=2,"), "{text}");
        assert_eq!(replies[2], Frame::ok());
        assert_eq!(replies[4], Frame::Integer(2));
    }
}
