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

use std::sync::atomic::Ordering;

use bytes::BytesMut;

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
