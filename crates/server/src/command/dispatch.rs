//! Dispatch: the one path every command takes, from any front end.
//!
//! Order of checks (Redis `processCommand`): lookup (unknown command / subcommand) → arity →
//! key extraction and shard locking → handler. Later issues insert auth, MULTI queueing, ACL,
//! OOM for `denyoom` commands, read-only replica and pub/sub context checks here, and nowhere
//! else.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferrodis_keyspace::Now;
use ferrodis_resp::Frame;

use crate::client::Client;
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
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
        let Some(name) = args.first() else {
            return Ok(Frame::NullArray);
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

        client.shared.last_cmd.store(idx, Ordering::Relaxed);
        client
            .shared
            .last_interaction_ms
            .store(now.ms, Ordering::Relaxed);

        let ks = &self.keyspace;
        let mut guard = if spec.all_shards {
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
        };
        guard.set_no_touch(client.no_touch());
        let mut ctx = Ctx {
            server: self,
            client,
            args,
            ks: &mut guard,
        };
        handler(&mut ctx)
    }
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
