//! The Pub/Sub commands (group `Pubsub`): SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH
//! SSUBSCRIBE SUNSUBSCRIBE SPUBLISH and the PUBSUB container.
//!
//! Flags and ACL categories are Redis 7.0's (`COMMAND INFO`): the subscription commands are
//! `pubsub noscript loading stale`, the publishers `pubsub loading stale fast`. The shard
//! commands name their shard channels with `not_key` key specs (they route like keys in a
//! cluster but are not keys).

use super::*;
use crate::cmd::pubsub as p;

const A_PS: Acl = Acl::PUBSUB;
/// `pubsub noscript loading stale`: the subscription commands.
const SUB_FLAGS: Flags = Flags::PUBSUB.with(Flags::NOSCRIPT).with(LS);
/// `pubsub loading stale fast`: PUBLISH and SPUBLISH.
const PUB_FLAGS: Flags = Flags::PUBSUB.with(LS).with(F);
/// `pubsub loading stale`: the PUBSUB introspection subcommands.
const INTRO_FLAGS: Flags = Flags::PUBSUB.with(LS);
const NOT_KEY: &[&str] = &["not_key"];
const SHARD_CHANNELS: &[K] = &[K::range(1, -1, 1, NOT_KEY)];
const SHARD_CHANNEL: &[K] = &[K::one(1, NOT_KEY)];

/// The Pub/Sub commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "subscribe",
        -2,
        SUB_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.0.0",
        "O(N) where N is the number of channels to subscribe to.",
        "Subscribes the connection to channels.",
        "channel ...",
        Some(p::subscribe),
    ),
    C::new(
        "unsubscribe",
        -1,
        SUB_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.0.0",
        "O(N) where N is the number of clients already subscribed to a channel.",
        "Unsubscribes the connection from channels, or from all of them.",
        "[channel ...]",
        Some(p::unsubscribe),
    ),
    C::new(
        "psubscribe",
        -2,
        SUB_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.0.0",
        "O(N) where N is the number of patterns the client is already subscribed to.",
        "Subscribes the connection to the channels matching glob-style patterns.",
        "<pattern>...",
        Some(p::psubscribe),
    ),
    C::new(
        "punsubscribe",
        -1,
        SUB_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.0.0",
        "O(N+M) where N is the number of patterns the client is subscribed to and M the number \
         of patterns subscribed by anyone.",
        "Unsubscribes the connection from patterns, or from all of them.",
        "[pattern ...]",
        Some(p::punsubscribe),
    ),
    C::new(
        "publish",
        3,
        PUB_FLAGS,
        A_PS.with(A_F),
        Group::Pubsub,
        "2.0.0",
        "O(N+M) where N is the number of subscribers of the channel and M the number of \
         patterns subscribed by anyone.",
        "Posts a message to a channel.",
        "channel message",
        Some(p::publish),
    ),
    C::new(
        "ssubscribe",
        -2,
        SUB_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "7.0.0",
        "O(N) where N is the number of shard channels to subscribe to.",
        "Subscribes the connection to shard channels.",
        "shardchannel ...",
        Some(p::ssubscribe),
    )
    .keys(SHARD_CHANNELS),
    C::new(
        "sunsubscribe",
        -1,
        SUB_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "7.0.0",
        "O(N) where N is the number of clients already subscribed to a shard channel.",
        "Unsubscribes the connection from shard channels, or from all of them.",
        "[shardchannel ...]",
        Some(p::sunsubscribe),
    )
    .keys(SHARD_CHANNELS),
    C::new(
        "spublish",
        3,
        PUB_FLAGS,
        A_PS.with(A_F),
        Group::Pubsub,
        "7.0.0",
        "O(N) where N is the number of subscribers of the shard channel.",
        "Posts a message to a shard channel.",
        "shardchannel message",
        Some(p::spublish),
    )
    .keys(SHARD_CHANNEL),
    C::new(
        "pubsub",
        -2,
        Flags::NONE,
        A_S,
        Group::Pubsub,
        "2.8.0",
        "Depends on the subcommand.",
        "Container for Pub/Sub introspection subcommands.",
        "",
        None,
    )
    .subs(PUBSUB_SUBCOMMANDS),
];

static PUBSUB_SUBCOMMANDS: &[C] = &[
    C::new(
        "channels",
        -2,
        INTRO_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.8.0",
        "O(N) where N is the number of active channels (pattern matching assumed constant).",
        "Lists the channels with subscribers, optionally those matching a pattern.",
        "[pattern]",
        Some(p::pubsub_channels),
    ),
    C::new(
        "numsub",
        -2,
        INTRO_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.8.0",
        "O(N) where N is the number of channels asked about.",
        "Counts the subscribers of channels (pattern subscriptions excluded).",
        "[channel ...]",
        Some(p::pubsub_numsub),
    ),
    C::new(
        "numpat",
        2,
        INTRO_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "2.8.0",
        O1,
        "Counts the distinct patterns subscribed by any client.",
        "",
        Some(p::pubsub_numpat),
    ),
    C::new(
        "shardchannels",
        -2,
        INTRO_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "7.0.0",
        "O(N) where N is the number of active shard channels (pattern matching assumed \
         constant).",
        "Lists the shard channels with subscribers, optionally those matching a pattern.",
        "[pattern]",
        Some(p::pubsub_shardchannels),
    ),
    C::new(
        "shardnumsub",
        -2,
        INTRO_FLAGS,
        A_PS.with(A_S),
        Group::Pubsub,
        "7.0.0",
        "O(N) where N is the number of shard channels asked about.",
        "Counts the subscribers of shard channels.",
        "[shardchannel ...]",
        Some(p::pubsub_shardnumsub),
    ),
    C::new(
        "help",
        2,
        LS,
        A_S,
        Group::Pubsub,
        "6.2.0",
        O1,
        "Lists the PUBSUB subcommands.",
        "",
        Some(p::pubsub_help),
    ),
];
