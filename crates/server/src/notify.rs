//! Keyspace notifications (Redis `notify.c`; <https://redis.io/docs/manual/keyspace-notifications/>).
//!
//! A command that changed a key calls [`Server::notify_keyspace_event`] with the event's class
//! and name (the names are Redis', e.g. `lpush`, `expire`, `del`, `expired`). When
//! `notify-keyspace-events` enables the class, the event is published as Pub/Sub messages:
//!
//! ```text
//! K: channel __keyspace@<db>__:<key>    message <event>
//! E: channel __keyevent@<db>__:<event>  message <key>
//! ```
//!
//! With notifications off (the default) the call is one atomic load.
//!
//! Handlers publish through the [`Ctx`] helpers below ([`Ctx::notify`], [`Ctx::set_key`],
//! [`Ctx::delete_key`], ...), which keep Redis' order: `expired` from a lookup first, then
//! `new` when the command creates the key, then the command's own event, then `del` when it
//! emptied an aggregate. The key-level events live in shared places: `keymiss` and `new` in the
//! typed lookups of `cmd/mod.rs` (`read_list`, `list_or_create`, ...), `del` in
//! `delete_if_empty`, `expired` in dispatch (lazy expiry) and the server cron (active expiry).
//! FLUSHDB, FLUSHALL and SWAPDB publish nothing, as in Redis 7.0.

use std::sync::atomic::Ordering;

use bytes::BytesMut;

use ferrodis_keyspace::{SetOutcome, Value};

use crate::command::Ctx;
use crate::error::CommandError;
use crate::server::Server;

/// Event classes: the bit of each `notify-keyspace-events` letter (`g$lshzxetdnKEm`, bit `i` is
/// letter `i`).
pub mod class {
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u16 = 1 << 0;
    /// `$`: string commands.
    pub const STRING: u16 = 1 << 1;
    /// `l`: list commands.
    pub const LIST: u16 = 1 << 2;
    /// `s`: set commands.
    pub const SET: u16 = 1 << 3;
    /// `h`: hash commands.
    pub const HASH: u16 = 1 << 4;
    /// `z`: sorted set commands.
    pub const ZSET: u16 = 1 << 5;
    /// `x`: expired events (a key's time to live ran out).
    pub const EXPIRED: u16 = 1 << 6;
    /// `e`: evicted events (maxmemory).
    pub const EVICTED: u16 = 1 << 7;
    /// `t`: stream commands.
    pub const STREAM: u16 = 1 << 8;
    /// `d`: module key type events.
    pub const MODULE: u16 = 1 << 9;
    /// `n`: new key events (not part of `A`).
    pub const NEW: u16 = 1 << 10;
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u16 = 1 << 11;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u16 = 1 << 12;
    /// `m`: key-miss events (not part of `A`).
    pub const KEY_MISS: u16 = 1 << 13;
}

impl Server {
    /// Publishes keyspace event `event` of `class` (one of [`class`]'s bits) for `key` in `db`,
    /// if `notify-keyspace-events` enables that class and K and/or E (Redis
    /// `notifyKeyspaceEvent`).
    pub fn notify_keyspace_event(&self, class: u16, event: &str, key: &[u8], db: usize) {
        let flags = self.hot.notify_flags.load(Ordering::Relaxed) as u16;
        if flags & class == 0 || flags & (class::KEYSPACE | class::KEYEVENT) == 0 {
            return;
        }
        let limit = self.pubsub_limit();
        let mut channel = BytesMut::new();
        if flags & class::KEYSPACE != 0 {
            channel.extend_from_slice(format!("__keyspace@{db}__:").as_bytes());
            channel.extend_from_slice(key);
            self.pubsub.publish(&channel, event.as_bytes(), limit);
        }
        if flags & class::KEYEVENT != 0 {
            channel.clear();
            channel.extend_from_slice(format!("__keyevent@{db}__:{event}").as_bytes());
            self.pubsub.publish(&channel, key, limit);
        }
    }

    /// Whether any of `class`'s events are published: lets a caller skip building an event
    /// (e.g. the per-key events of a FLUSH-like command).
    pub fn notifications_on(&self, class: u16) -> bool {
        let flags = self.hot.notify_flags.load(Ordering::Relaxed) as u16;
        flags & class != 0 && flags & (class::KEYSPACE | class::KEYEVENT) != 0
    }
}

/// Key-level notification helpers for command handlers. Each checks its class first, so with
/// notifications off a call costs one atomic load and builds nothing.
///
/// Order matters to subscribers: Redis publishes `expired` the moment a lookup finds a key
/// expired, before the command's own events. Lazy expiry here only queues the key in the guard,
/// so every helper first flushes that queue (`Server::signal_expired`); helpers that publish
/// while a lookup's borrow is alive (`keymiss`, `new` in the typed lookups) expire the key
/// beforehand with [`Ctx::pre_expire`].
impl Ctx<'_, '_> {
    /// Publishes `event` of `class` for `key` in the selected db, after the pending `expired`
    /// events (Redis `notifyKeyspaceEvent`).
    pub fn notify(&mut self, class: u16, event: &str, key: &[u8]) {
        let db = self.db();
        self.notify_in(class, event, key, db);
    }

    /// [`Ctx::notify`] for a key in database `db` (MOVE, COPY ... DB).
    pub fn notify_in(&mut self, class: u16, event: &str, key: &[u8], db: usize) {
        if class & (class::KEY_MISS | class::NEW) == 0 {
            self.dirty += 1;
        }
        if self.server.notifications_on(class) {
            self.server.signal_expired(self.ks);
            self.server.notify_keyspace_event(class, event, key, db);
        }
    }

    /// `new`: `key` was added to the selected db (Redis `dbAdd`).
    pub fn notify_new(&mut self, key: &[u8]) {
        self.notify(class::NEW, "new", key);
    }

    /// `keymiss`: a read lookup of `key` found nothing (Redis `lookupKeyReadWithFlags`).
    pub fn notify_miss(&mut self, key: &[u8]) {
        self.notify(class::KEY_MISS, "keymiss", key);
    }

    /// When `class`'s events are on, applies lazy expiry to `key` now and flushes the
    /// `expired` events, so an event published while the next lookup's borrow is alive comes
    /// after them. Returns whether `class` is on.
    pub fn pre_expire(&mut self, class: u16, key: &[u8]) -> Result<bool, CommandError> {
        if !self.server.notifications_on(class) {
            return Ok(false);
        }
        let db = self.db();
        self.ks.peek(db, key)?;
        self.server.signal_expired(self.ks);
        Ok(true)
    }

    /// Writes `value` at `key` like [`Guard::set`](ferrodis_keyspace::Guard::set) (Redis
    /// `setKey`), publishing `new` when the key was created.
    pub fn set_key(
        &mut self,
        key: &[u8],
        value: Value,
        keep_ttl: bool,
    ) -> Result<SetOutcome, CommandError> {
        let db = self.db();
        let outcome = self.ks.set(db, key, value, keep_ttl)?;
        Ok(self.announce_added(key, outcome))
    }

    /// Publishes `new` for `key` when the write created it.
    fn announce_added(&mut self, key: &[u8], outcome: SetOutcome) -> SetOutcome {
        if outcome == SetOutcome::Added {
            self.notify_new(key);
        }
        outcome
    }

    /// Writes `value` at `key` with the expire `expire_ms` (Unix ms) in one step (SET with
    /// EX/PX/EXAT/PXAT, SETEX), publishing `new` when the key is created.
    pub fn set_key_with_expire(
        &mut self,
        key: &[u8],
        value: Value,
        expire_ms: u64,
    ) -> Result<SetOutcome, CommandError> {
        let db = self.db();
        let outcome = self.ks.set_with_expire(db, key, value, expire_ms)?;
        Ok(self.announce_added(key, outcome))
    }

    /// Deletes `key` (Redis `dbDelete`), publishing `del` when it existed. Returns whether it
    /// existed.
    pub fn delete_key(&mut self, key: &[u8]) -> Result<bool, CommandError> {
        let db = self.db();
        let deleted = self.ks.delete(db, key)?;
        if deleted {
            self.notify(class::GENERIC, "del", key);
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use bytes::{Bytes, BytesMut};
    use ferrodis_keyspace::Now;
    use ferrodis_resp::{decode_frame, Frame};

    use crate::client::{Client, ClientKind};
    use crate::config::Config;
    use crate::server::Server;

    /// A server, a client running commands and a client subscribed to every keyspace channel,
    /// on an injected clock.
    struct Harness {
        server: Arc<Server>,
        client: Client,
        listener: Client,
        now_ms: u64,
    }

    impl Harness {
        fn new(flags: &str) -> Harness {
            let server = Server::new(Config::default());
            let reg = |n: &str| {
                server
                    .clients
                    .register(ClientKind::Local, n.into(), n.into(), -1)
            };
            let (client, listener) = (reg("t:0"), reg("t:1"));
            let mut h = Harness {
                server,
                client,
                listener,
                now_ms: 1_700_000_000_000,
            };
            h.run(&["CONFIG", "SET", "notify-keyspace-events", flags]);
            let args = [Bytes::from_static(b"PSUBSCRIBE"), Bytes::from_static(b"*")];
            let now = Now::from_unix_ms(h.now_ms);
            h.server.execute_at(&mut h.listener, &args, now);
            h
        }

        fn run(&mut self, args: &[&str]) -> Frame {
            let args: Vec<Bytes> = args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            let now = Now::from_unix_ms(self.now_ms);
            self.server.execute_at(&mut self.client, &args, now)
        }

        /// The (channel, message) pairs published since the last call.
        fn events(&mut self) -> Vec<(String, String)> {
            let mut buf = BytesMut::new();
            self.listener
                .shared
                .mailbox
                .drain_into(&mut buf, usize::MAX);
            let mut out = Vec::new();
            while let Some(Frame::Array(parts)) = decode_frame(&mut buf).unwrap() {
                let text = |f: &Frame| match f {
                    Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    other => format!("{other:?}"),
                };
                out.push((text(&parts[2]), text(&parts[3])));
            }
            out
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(c, m)| (c.to_string(), m.to_string()))
            .collect()
    }

    #[test]
    fn keyspace_and_keyevent_messages_in_redis_order() {
        let mut h = Harness::new("KEA");
        h.run(&["RPUSH", "l", "a"]);
        h.run(&["LPOP", "l"]);
        assert_eq!(
            h.events(),
            pairs(&[
                ("__keyspace@0__:l", "rpush"),
                ("__keyevent@0__:rpush", "l"),
                ("__keyspace@0__:l", "lpop"),
                ("__keyevent@0__:lpop", "l"),
                ("__keyspace@0__:l", "del"),
                ("__keyevent@0__:del", "l"),
            ])
        );
    }

    #[test]
    fn classes_filter_and_k_or_e_is_required() {
        let mut h = Harness::new("Kh");
        h.run(&["SET", "s", "v"]);
        h.run(&["HSET", "h", "f", "v"]);
        assert_eq!(h.events(), pairs(&[("__keyspace@0__:h", "hset")]));
        h.run(&["CONFIG", "SET", "notify-keyspace-events", "A"]);
        h.run(&["HSET", "h", "f", "w"]);
        assert_eq!(h.events(), pairs(&[]));
        assert!(!h.server.notifications_on(super::class::HASH));
    }

    #[test]
    fn new_and_keymiss_come_only_with_their_letters() {
        let mut h = Harness::new("EA");
        h.run(&["GET", "missing"]);
        h.run(&["SADD", "s", "a"]);
        assert_eq!(h.events(), pairs(&[("__keyevent@0__:sadd", "s")]));
        h.run(&["CONFIG", "SET", "notify-keyspace-events", "Enm"]);
        h.run(&["GET", "missing"]);
        h.run(&["SADD", "s2", "a"]);
        h.run(&["SADD", "s2", "b"]);
        assert_eq!(
            h.events(),
            pairs(&[
                ("__keyevent@0__:keymiss", "missing"),
                ("__keyevent@0__:new", "s2"),
            ])
        );
    }

    #[test]
    fn a_lazily_expired_key_publishes_expired_before_the_commands_events() {
        let mut h = Harness::new("EAnm");
        h.run(&["SET", "k", "v", "PX", "10"]);
        h.events();
        h.now_ms += 10;
        h.run(&["LPUSH", "k", "x"]);
        h.run(&["HSET", "h", "f", "v"]);
        h.run(&["EXPIRE", "h", "1"]);
        h.now_ms += 1000;
        h.run(&["HGET", "h", "f"]);
        assert_eq!(
            h.events(),
            pairs(&[
                ("__keyevent@0__:expired", "k"),
                ("__keyevent@0__:new", "k"),
                ("__keyevent@0__:lpush", "k"),
                ("__keyevent@0__:new", "h"),
                ("__keyevent@0__:hset", "h"),
                ("__keyevent@0__:expire", "h"),
                ("__keyevent@0__:expired", "h"),
                ("__keyevent@0__:keymiss", "h"),
            ])
        );
    }

    #[test]
    fn events_carry_the_database_of_the_key() {
        let mut h = Harness::new("KEg");
        h.run(&["SELECT", "3"]);
        h.run(&["SET", "k", "v"]);
        h.run(&["MOVE", "k", "5"]);
        assert_eq!(
            h.events(),
            pairs(&[
                ("__keyspace@3__:k", "move_from"),
                ("__keyevent@3__:move_from", "k"),
                ("__keyspace@5__:k", "move_to"),
                ("__keyevent@5__:move_to", "k"),
            ])
        );
    }
}
