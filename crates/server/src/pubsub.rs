//! The Pub/Sub engine: who is subscribed to what, and delivery of published messages
//! (Redis `pubsub.c`; <https://redis.io/docs/interact/pubsub/>).
//!
//! Layout:
//! - [`PubSub`]: the server-wide index. Channels and shard channels map a name to its
//!   subscribers in subscription order; patterns are a list of (pattern, subscribers) in the
//!   order they were first subscribed, matched with Redis' `stringmatch`.
//! - [`Subscriptions`]: what one client is subscribed to (a field of [`Client`]); it counts the
//!   replies' subscription totals and answers the RESP2 "subscribed mode" question.
//! - Delivery: [`PubSub::publish`] encodes the message once per protocol and appends it to every
//!   receiver's [`Mailbox`](crate::mailbox::Mailbox) under the `pubsub` class of
//!   `client-output-buffer-limit`; a receiver over its limit is closed. A publisher never waits
//!   on a subscriber.
//!
//! Locks: the index is one `RwLock` per kind (publishes read, (un)subscribes write); it is taken
//! after shard locks (keyspace notifications publish from inside commands) and before a
//! mailbox's mutex. Nothing here awaits.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use ferrodis_resp::{encode, Frame, Protocol};
use parking_lot::RwLock;

use crate::client::{Client, ClientShared};
use crate::config::glob::{glob_match, GlobStyle};
use crate::mailbox::{Delivery, OutputLimit};

/// The three subscription namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE (glob patterns over channel names).
    Pattern,
    /// SSUBSCRIBE / SPUBLISH (shard channels, a namespace of their own).
    Shard,
}

type Subscribers = Vec<Arc<ClientShared>>;

/// Server-wide subscription index.
#[derive(Default)]
pub struct PubSub {
    channels: RwLock<HashMap<Bytes, Subscribers>>,
    patterns: RwLock<Vec<(Bytes, Subscribers)>>,
    shard: RwLock<HashMap<Bytes, Subscribers>>,
    /// Subscribers closed for exceeding the `pubsub` class of `client-output-buffer-limit`
    /// (Redis 7.0 prints no INFO field for it; kept for tests and logs).
    pub limit_disconnections: AtomicU64,
}

/// `Redis' glob`, case-sensitive, for patterns and PUBSUB CHANNELS.
pub fn pattern_matches(pattern: &[u8], channel: &[u8]) -> bool {
    glob_match(
        pattern,
        channel,
        GlobStyle {
            nocase: false,
            bang_negates: false,
        },
    )
}

impl PubSub {
    /// Adds `client` to `name`'s subscribers; false when it already was one.
    pub fn subscribe(&self, kind: Kind, name: &Bytes, client: &Arc<ClientShared>) -> bool {
        match kind {
            Kind::Channel => add(&mut self.channels.write(), name, client),
            Kind::Shard => add(&mut self.shard.write(), name, client),
            Kind::Pattern => {
                let mut pats = self.patterns.write();
                match pats.iter_mut().find(|(p, _)| p == name) {
                    Some((_, subs)) => {
                        if subs.iter().any(|c| c.id == client.id) {
                            return false;
                        }
                        subs.push(client.clone());
                    }
                    None => pats.push((name.clone(), vec![client.clone()])),
                }
                true
            }
        }
    }

    /// Removes client `id` from `name`'s subscribers; false when it was not one.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], id: u64) -> bool {
        match kind {
            Kind::Channel => remove(&mut self.channels.write(), name, id),
            Kind::Shard => remove(&mut self.shard.write(), name, id),
            Kind::Pattern => {
                let mut pats = self.patterns.write();
                let Some(i) = pats.iter().position(|(p, _)| p == name) else {
                    return false;
                };
                let subs = &mut pats[i].1;
                let before = subs.len();
                subs.retain(|c| c.id != id);
                let removed = subs.len() < before;
                if subs.is_empty() {
                    pats.remove(i);
                }
                removed
            }
        }
    }

    /// Removes every subscription of `client` (disconnect, RESET).
    pub fn unsubscribe_all(&self, client: &mut Client) {
        let subs = std::mem::take(&mut client.subs);
        for name in &subs.channels {
            self.unsubscribe(Kind::Channel, name, client.id);
        }
        for name in &subs.patterns {
            self.unsubscribe(Kind::Pattern, name, client.id);
        }
        for name in &subs.shard {
            self.unsubscribe(Kind::Shard, name, client.id);
        }
        client.sync_sub_counts();
    }

    /// PUBLISH: delivers `message` to `channel`'s subscribers (`message` push) and to every
    /// client whose pattern matches it (`pmessage` push); returns how many receptions that made
    /// (a client subscribed to the channel and to two matching patterns counts three times).
    pub fn publish(&self, channel: &[u8], message: &[u8], limit: OutputLimit) -> usize {
        let mut n = 0;
        {
            let chans = self.channels.read();
            if let Some(subs) = chans.get(channel) {
                let mut enc = Encoded::new(vec![
                    Frame::Bulk(Bytes::from_static(b"message")),
                    Frame::Bulk(Bytes::copy_from_slice(channel)),
                    Frame::Bulk(Bytes::copy_from_slice(message)),
                ]);
                for c in subs {
                    self.deliver(c, &mut enc, limit);
                    n += 1;
                }
            }
        }
        let pats = self.patterns.read();
        for (pattern, subs) in pats.iter() {
            if !pattern_matches(pattern, channel) {
                continue;
            }
            let mut enc = Encoded::new(vec![
                Frame::Bulk(Bytes::from_static(b"pmessage")),
                Frame::Bulk(pattern.clone()),
                Frame::Bulk(Bytes::copy_from_slice(channel)),
                Frame::Bulk(Bytes::copy_from_slice(message)),
            ]);
            for c in subs {
                self.deliver(c, &mut enc, limit);
                n += 1;
            }
        }
        n
    }

    /// SPUBLISH: delivers an `smessage` push to `channel`'s shard subscribers; returns their
    /// number.
    pub fn spublish(&self, channel: &[u8], message: &[u8], limit: OutputLimit) -> usize {
        let shard = self.shard.read();
        let Some(subs) = shard.get(channel) else {
            return 0;
        };
        let mut enc = Encoded::new(vec![
            Frame::Bulk(Bytes::from_static(b"smessage")),
            Frame::Bulk(Bytes::copy_from_slice(channel)),
            Frame::Bulk(Bytes::copy_from_slice(message)),
        ]);
        for c in subs {
            self.deliver(c, &mut enc, limit);
        }
        subs.len()
    }

    fn deliver(&self, c: &ClientShared, enc: &mut Encoded, limit: OutputLimit) {
        let proto = if c.resp.load(Ordering::Relaxed) == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        let bytes = enc.get(proto);
        let in_flight = c.obuf.load(Ordering::Relaxed);
        if c.mailbox.push(bytes, in_flight, limit) == Delivery::OverLimit {
            self.limit_disconnections.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer \
                 limits.",
                c.id,
                c.addr
            );
            c.kill();
        }
    }

    /// Active channel (or shard channel) names, optionally only those matching `pattern`
    /// (PUBSUB CHANNELS / SHARDCHANNELS).
    pub fn channel_names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = match kind {
            Kind::Shard => self.shard.read(),
            _ => self.channels.read(),
        };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| pattern_matches(p, c)))
            .cloned()
            .collect()
    }

    /// Subscribers of a channel or shard channel (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn num_subscribers(&self, kind: Kind, channel: &[u8]) -> usize {
        let map = match kind {
            Kind::Shard => self.shard.read(),
            _ => self.channels.read(),
        };
        map.get(channel).map_or(0, Vec::len)
    }

    /// Distinct patterns subscribed by anyone (PUBSUB NUMPAT).
    pub fn num_patterns(&self) -> usize {
        self.patterns.read().len()
    }

    /// Distinct channels with subscribers (INFO `pubsub_channels`).
    pub fn num_channels(&self) -> usize {
        self.channels.read().len()
    }

    /// Distinct shard channels with subscribers (INFO `pubsubshard_channels`).
    pub fn num_shard_channels(&self) -> usize {
        self.shard.read().len()
    }
}

fn add(map: &mut HashMap<Bytes, Subscribers>, name: &Bytes, client: &Arc<ClientShared>) -> bool {
    let subs = map.entry(name.clone()).or_default();
    if subs.iter().any(|c| c.id == client.id) {
        return false;
    }
    subs.push(client.clone());
    true
}

fn remove(map: &mut HashMap<Bytes, Subscribers>, name: &[u8], id: u64) -> bool {
    let Some(subs) = map.get_mut(name) else {
        return false;
    };
    let before = subs.len();
    subs.retain(|c| c.id != id);
    let removed = subs.len() < before;
    if subs.is_empty() {
        map.remove(name);
    }
    removed
}

/// A push frame encoded lazily once per protocol (RESP2 array, RESP3 push).
struct Encoded {
    frame: Frame,
    resp2: Option<Bytes>,
    resp3: Option<Bytes>,
}

impl Encoded {
    fn new(items: Vec<Frame>) -> Encoded {
        Encoded {
            frame: Frame::Push(items),
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, proto: Protocol) -> Bytes {
        let slot = match proto {
            Protocol::Resp3 => &mut self.resp3,
            Protocol::Resp2 => &mut self.resp2,
        };
        slot.get_or_insert_with(|| {
            let mut out = BytesMut::new();
            encode(&self.frame, proto, &mut out);
            out.freeze()
        })
        .clone()
    }
}

/// One client's subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    /// SUBSCRIBE channels.
    pub channels: HashSet<Bytes>,
    /// PSUBSCRIBE patterns.
    pub patterns: HashSet<Bytes>,
    /// SSUBSCRIBE shard channels.
    pub shard: HashSet<Bytes>,
}

impl Subscriptions {
    /// Channels plus patterns: the count SUBSCRIBE/PSUBSCRIBE (and their UNSUBSCRIBEs) reply.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Whether the client is in Redis' subscribed context (any channel, pattern or shard
    /// channel), where RESP2 allows only the subscription commands, PING, QUIT and RESET.
    pub fn active(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard.is_empty()
    }
}
