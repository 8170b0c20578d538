//! Dispatch: the one path every command takes, from any front end.
//!
//! Order of checks (Redis `processCommand`): lookup (unknown command / subcommand) → arity →
//! RESP2 subscribed context ([`Server::check_subscribed_context`]) → MULTI queueing
//! ([`crate::cmd::transactions`]) → key extraction and shard locking → handler → signalling
//! modified keys to WATCHers and to clients parked on them ([`crate::blocking`]) → parking a
//! blocking command that found nothing, under its locks → after the locks are released, serving
//! parked clients whose keys became ready. With `maxmemory` set, eviction and the OOM refusal
//! of `denyoom` commands ([`Server::oom_check`]) come right after the arity check. Later issues
//! insert auth, ACL and read-only replica checks here, and nowhere else.
//!
//! Resolving (lookup + arity, [`Server::resolve`]) is split from running under a guard
//! ([`Server::run_with_guard`]) so that EXEC can check commands when they are queued and later
//! run them all under the one guard it locked for the whole transaction.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferrodis_keyspace::{Guard, Now};
use ferrodis_resp::{Frame, Protocol};

use crate::client::Client;
use crate::cmd::transactions;
use crate::command::{CommandSpec, Ctx, Flags, Handler, Propagate};
use crate::error::{CommandError, Reply};
use crate::notify::class;
use crate::server::Server;

impl Server {
    /// Runs one command for `client` and returns its reply (errors included as error frames).
    pub fn execute(&self, client: &mut Client, args: &[Bytes]) -> Frame {
        self.execute_at(client, args, Now::system())
    }

    /// Like [`Server::execute`] at a given command time: a connection reads the clock once per
    /// batch of pipelined commands, as Redis caches its clock per event-loop iteration.
    pub fn execute_at(&self, client: &mut Client, args: &[Bytes], now: Now) -> Frame {
        match self.dispatch(client, args, now) {
            Ok(f) => f,
            Err(e) => e.to_frame(),
        }
    }

    fn dispatch(&self, client: &mut Client, args: &[Bytes], now: Now) -> Reply {
        if args.is_empty() {
            return Ok(Frame::NullArray);
        }
        let cmd = match self.resolve(client, args) {
            Ok(cmd) => cmd,
            Err(e) => {
                // A command that fails its checks inside MULTI dooms the transaction.
                client.tx.flag_error();
                if matches!(&e, CommandError::WrongArity(name) if name == "exec") {
                    return Err(transactions::exec_abort(client, &e));
                }
                return Err(e);
            }
        };

        client.shared.last_cmd.store(cmd.idx, Ordering::Relaxed);
        client
            .shared
            .last_interaction_ms
            .store(now.ms, Ordering::Relaxed);
        if self.hot.maxmemory.load(Ordering::Relaxed) != 0 && !client.replaying {
            if let Err(e) = self.oom_check(client, cmd) {
                // Redis `rejectCommand`: dooms an open transaction; a refused EXEC aborts it.
                client.tx.flag_error();
                if client.tx.in_multi() && cmd.spec.name == "exec" {
                    return Err(transactions::exec_abort(client, &e));
                }
                return Err(e);
            }
        }
        if (self.persist.last_bgsave_failed() || !self.aof.last_write_ok()) && !client.replaying {
            if let Err(e) = self.disk_error_check(cmd) {
                client.tx.flag_error();
                if client.tx.in_multi() && cmd.spec.name == "exec" {
                    return Err(transactions::exec_abort(client, &e));
                }
                return Err(e);
            }
        }
        if let Err(e) = self.check_subscribed_context(client, cmd) {
            client.tx.flag_error();
            return Err(e);
        }

        if client.tx.in_multi() {
            if let Some(reply) = transactions::queue_if_in_multi(self, client, cmd, args) {
                return reply;
            }
        }
        let mut guard = self.lock_for(cmd.spec, args, now);
        let reply = self.run_with_guard(client, cmd, args, &mut guard);
        if let Some(req) = client.block.take() {
            // Parked under the command's locks: a push that follows must find the waiter.
            client.parked = Some(self.blocking.park(client, cmd, args, req));
        }
        drop(guard);
        if self.blocking.has_ready() {
            self.serve_ready();
        }
        reply
    }

    /// Looks the command (and subcommand) up and checks its arity: the checks Redis runs before
    /// queueing a command inside MULTI. Errors: `ERR unknown command ...`, `ERR unknown
    /// subcommand ...`, `ERR wrong number of arguments for '<name>' command`.
    pub(crate) fn resolve(
        &self,
        client: &mut Client,
        args: &[Bytes],
    ) -> Result<Resolved, CommandError> {
        let Some(name) = args.first() else {
            return Err(CommandError::msg("ERR unknown command ''"));
        };
        let mut idx = match client.cmd_cache.get(name) {
            Some(idx) => idx,
            None => {
                let idx = self
                    .commands
                    .lookup(name)
                    .ok_or_else(|| unknown_command(args))?;
                client.cmd_cache.put(name, idx);
                idx
            }
        };
        let mut entry = self.commands.entry(idx);
        if entry.spec.is_container() && (args.len() >= 2 || entry.spec.handler.is_none()) {
            let Some(sub) = args.get(1) else {
                return Err(CommandError::WrongArity(entry.full_name.clone()));
            };
            idx = self
                .commands
                .lookup_sub(idx, sub)
                .ok_or_else(|| unknown_subcommand(sub, &entry.full_name))?;
            entry = self.commands.entry(idx);
        }
        let spec = entry.spec;
        if !spec.arity_ok(args.len()) {
            return Err(CommandError::WrongArity(entry.full_name.clone()));
        }
        let handler = spec
            .handler
            .ok_or_else(|| CommandError::WrongArity(entry.full_name.clone()))?;
        Ok(Resolved { idx, spec, handler })
    }

    /// Redis' `writeCommandsDeniedByDiskError` check: while AOF writes fail, write commands and
    /// PING are refused with `MISCONF Errors writing to the AOF file: <error>`; after a failed
    /// background save, with `stop-writes-on-bgsave-error yes` and save rules configured, with
    /// [`MISCONF`], until a save succeeds.
    pub(crate) fn disk_error_check(&self, cmd: Resolved) -> Result<(), CommandError> {
        let is_write = cmd.spec.flags.has(Flags::WRITE) || cmd.spec.name == "ping";
        if !is_write {
            return Ok(());
        }
        if let Some(e) = self.aof.write_error() {
            return Err(CommandError::owned(format!(
                "MISCONF Errors writing to the AOF file: {e}"
            )));
        }
        if !self.persist.last_bgsave_failed() {
            return Ok(());
        }
        let deny = self.with_config(|c| {
            c.get_str("stop-writes-on-bgsave-error").as_deref() == Some("yes")
                && !c.save_params().is_empty()
        });
        if deny {
            Err(CommandError::msg(MISCONF))
        } else {
            Ok(())
        }
    }

    /// Redis' RESP2 subscribed context (`processCommand`): while a RESP2 client has any
    /// channel, pattern or shard channel subscription, only the subscription commands, PING,
    /// QUIT and RESET run. Error: `ERR Can't execute '<full name>': only (P|S)SUBSCRIBE /
    /// (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`. RESP3 clients may
    /// run anything while subscribed.
    pub(crate) fn check_subscribed_context(
        &self,
        client: &Client,
        cmd: Resolved,
    ) -> Result<(), CommandError> {
        if client.protocol != Protocol::Resp2 || !client.subs.active() {
            return Ok(());
        }
        let entry = self.commands.entry(cmd.idx);
        let allowed = entry.parent.is_none()
            && matches!(
                cmd.spec.name,
                "subscribe"
                    | "psubscribe"
                    | "ssubscribe"
                    | "unsubscribe"
                    | "punsubscribe"
                    | "sunsubscribe"
                    | "ping"
                    | "quit"
                    | "reset"
            );
        if allowed {
            return Ok(());
        }
        Err(CommandError::owned(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
             are allowed in this context",
            entry.full_name
        )))
    }

    /// The guard one command runs under outside a transaction: every shard for `all_shards`
    /// commands and unnamed keys, one shard at a time for key-less commands, else the shards of
    /// its keys.
    pub(crate) fn lock_for(&self, spec: &CommandSpec, args: &[Bytes], now: Now) -> Guard<'_> {
        let ks = &self.keyspace;
        if spec.all_shards {
            ks.lock_all(now)
        } else if spec.keys.is_empty() && spec.getkeys.is_none() {
            ks.lock_lazily(now)
        } else if let Some(getkeys) = spec.getkeys {
            let found = getkeys(args);
            if found.unnamed {
                ks.lock_all(now)
            } else {
                ks.lock_keys(found.keys.iter().map(|&i| &args[i][..]), now)
            }
        } else {
            // The common path: positions straight from the key specs, no allocation.
            let keys = spec
                .keys
                .iter()
                .flat_map(|k| k.positions(args))
                .map(|i| &args[i][..]);
            ks.lock_keys(keys, now)
        }
    }

    /// Runs a resolved command's handler under `guard` (which must hold the command's shards),
    /// then signals its modified keys to WATCHing clients while the locks are still held. EXEC
    /// runs every queued command through here under one guard.
    pub(crate) fn run_with_guard(
        &self,
        client: &mut Client,
        cmd: Resolved,
        args: &[Bytes],
        guard: &mut Guard<'_>,
    ) -> Reply {
        guard.set_no_touch(client.no_touch());
        let db = client.db;
        let mut ctx = Ctx {
            server: self,
            client,
            args,
            ks: guard,
            dirty: 0,
            propagate: Propagate::Verbatim,
        };
        let reply = (cmd.handler)(&mut ctx);
        let (dirty, propagate) = (ctx.dirty, ctx.propagate);
        if dirty > 0 {
            guard.add_dirty(dirty);
        }
        if self.aof.is_on() {
            // Under the command's locks, so the log's order is the order writes applied in.
            let mut out: Vec<(usize, Vec<Bytes>)> = guard
                .take_expired_log()
                .into_iter()
                .map(|(db, key)| (db, vec![Bytes::from_static(b"DEL"), key]))
                .collect();
            if dirty > 0 && reply.is_ok() {
                match propagate {
                    Propagate::Verbatim => out.push((db, args.to_vec())),
                    Propagate::Commands(cmds) => out.extend(cmds.into_iter().map(|c| (db, c))),
                }
            }
            if !out.is_empty() {
                match client.propagation.as_mut() {
                    // Inside EXEC: the whole transaction is logged at once.
                    Some(batch) => batch.extend(out),
                    None => client.aof_seq = self.aof.feed(&out, self.aof_timestamps()),
                }
            }
        }
        self.signal_expired(guard);
        if reply.is_ok()
            && cmd.spec.flags.has(Flags::WRITE)
            && (self.watches.is_active() || self.blocking.is_active())
        {
            for i in cmd.spec.key_positions(args).keys {
                if let Some(key) = args.get(i) {
                    self.watches.touch(client.db, key);
                    self.blocking.signal(client.db, key);
                }
            }
        }
        reply
    }

    /// Logs `DEL key` for a key deleted outside any command (active expiry, eviction); the
    /// caller holds the key's shard lock.
    pub(crate) fn propagate_deletion(&self, db: usize, key: &[u8]) {
        if self.aof.is_on() {
            let cmd = vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)];
            self.aof.feed(&[(db, cmd)], self.aof_timestamps());
        }
    }

    /// Logs a DEL for each key `guard` found expired outside a command's run (EXEC's WATCH
    /// check), so the AOF forgets them too.
    pub(crate) fn propagate_expired(&self, client: &mut Client, guard: &mut Guard<'_>) {
        let expired = guard.take_expired_log();
        if expired.is_empty() || !self.aof.is_on() {
            return;
        }
        let out: Vec<(usize, Vec<Bytes>)> = expired
            .into_iter()
            .map(|(db, key)| (db, vec![Bytes::from_static(b"DEL"), key]))
            .collect();
        client.aof_seq = self.aof.feed(&out, self.aof_timestamps());
    }

    /// Signals the keys `guard` found expired (lazy expiry) to WATCHers and as `expired`
    /// keyspace events.
    pub(crate) fn signal_expired(&self, guard: &mut Guard<'_>) {
        for (db, key) in guard.take_expired() {
            self.watches.touch(db, &key);
            self.notify_keyspace_event(class::EXPIRED, "expired", &key, db);
        }
    }
}

/// Redis' `shared.bgsaveerr`: writes refused after a failed background save.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently \
unable to persist to disk. Commands that may modify the data set are disabled, because this \
instance is configured to report errors during writes if RDB snapshotting fails \
(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB \
error.";

/// A command that passed lookup and arity: its table index, declaration and handler.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resolved {
    /// Index in the command table.
    pub(crate) idx: usize,
    /// The declaration.
    pub(crate) spec: &'static CommandSpec,
    /// The handler.
    pub(crate) handler: Handler,
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` (Redis 7 text: the name and
/// the arguments are echoed as C strings, so cut at a NUL byte, and to 128 bytes; CR/LF are
/// shown as spaces; other bytes are echoed verbatim).
fn unknown_command(args: &[Bytes]) -> CommandError {
    let mut out = b"ERR unknown command '".to_vec();
    out.extend_from_slice(c_str(&args[0], 128));
    out.extend_from_slice(b"', with args beginning with: ");
    let mut rest_len = 0;
    for a in &args[1..] {
        if rest_len >= 128 {
            break;
        }
        let part = c_str(a, 128 - rest_len);
        out.push(b'\'');
        out.extend_from_slice(part);
        out.extend_from_slice(b"' ");
        rest_len += part.len() + 3;
    }
    CommandError::Raw(sanitize(out))
}

/// `ERR unknown subcommand 'x'. Try CONFIG HELP.`
fn unknown_subcommand(sub: &[u8], parent: &str) -> CommandError {
    let mut out = b"ERR unknown subcommand '".to_vec();
    out.extend_from_slice(c_str(sub, 128));
    out.extend_from_slice(format!("'. Try {} HELP.", parent.to_ascii_uppercase()).as_bytes());
    CommandError::Raw(sanitize(out))
}

/// The bytes `printf("%.*s")` would print: up to the first NUL, at most `max` bytes.
fn c_str(b: &[u8], max: usize) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len()).min(max);
    &b[..end]
}

/// Error texts are single-line: CR and LF become spaces.
fn sanitize(mut b: Vec<u8>) -> Bytes {
    for c in b.iter_mut() {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
    Bytes::from(b)
}
