//! Pub/Sub commands (Redis `pubsub.c`; <https://redis.io/docs/interact/pubsub/>), on the
//! [`crate::pubsub`] engine.
//!
//! ```text
//! SUBSCRIBE channel [channel ...]
//! UNSUBSCRIBE [channel ...]
//! PSUBSCRIBE pattern [pattern ...]
//! PUNSUBSCRIBE [pattern ...]
//! SSUBSCRIBE shardchannel [shardchannel ...]
//! SUNSUBSCRIBE [shardchannel ...]
//! PUBLISH channel message
//! SPUBLISH shardchannel message
//! PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT |
//!        SHARDCHANNELS [pattern] | SHARDNUMSUB [shardchannel ...] | HELP
//! ```
//!
//! Confirmations are `[kind, name, count]` pushes (RESP3 `>`, RESP2 arrays), one per name:
//! `count` is the client's channels plus patterns for the (P)SUBSCRIBE family and its shard
//! channels for the S family. Redis writes them into the output buffer as it subscribes, so a
//! message published right after a subscription always follows its confirmation; here a
//! connection's confirmations go through its mailbox *before* the engine learns of the
//! subscription, which keeps that order against concurrent publishers (the command's own reply
//! slot is then skipped). Like Redis, confirmations are sent even under `CLIENT REPLY OFF`.
//! Inside EXEC and for in-process clients (no mailbox reader) the last confirmation is the
//! reply and the earlier ones go to [`Client::pending_frames`](crate::client::Client).

use bytes::Bytes;
use ferrodis_resp::{encode, Frame};

use crate::client::ClientKind;
use crate::cmd::connection::help_reply;
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::mailbox::OutputLimit;
use crate::pubsub::{Kind, Subscriptions};

/// `SUBSCRIBE channel [channel ...]`: a `subscribe` confirmation per channel.
pub fn subscribe(ctx: &mut Ctx) -> Reply {
    subscribe_to(ctx, Kind::Channel)
}

/// `PSUBSCRIBE pattern [pattern ...]`: a `psubscribe` confirmation per pattern.
pub fn psubscribe(ctx: &mut Ctx) -> Reply {
    subscribe_to(ctx, Kind::Pattern)
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]`: an `ssubscribe` confirmation per shard
/// channel.
pub fn ssubscribe(ctx: &mut Ctx) -> Reply {
    subscribe_to(ctx, Kind::Shard)
}

/// `UNSUBSCRIBE [channel ...]`: an `unsubscribe` confirmation per channel (every subscribed
/// one when none is named; `[unsubscribe, nil, 0]` when there is none).
pub fn unsubscribe(ctx: &mut Ctx) -> Reply {
    unsubscribe_from(ctx, Kind::Channel)
}

/// `PUNSUBSCRIBE [pattern ...]`: as UNSUBSCRIBE, for patterns.
pub fn punsubscribe(ctx: &mut Ctx) -> Reply {
    unsubscribe_from(ctx, Kind::Pattern)
}

/// `SUNSUBSCRIBE [shardchannel ...]`: as UNSUBSCRIBE, for shard channels.
pub fn sunsubscribe(ctx: &mut Ctx) -> Reply {
    unsubscribe_from(ctx, Kind::Shard)
}

/// `PUBLISH channel message`: integer, the receptions made (channel subscribers plus one per
/// matching pattern subscription).
pub fn publish(ctx: &mut Ctx) -> Reply {
    let limit = ctx.server.pubsub_limit();
    let n = ctx.server.pubsub.publish(ctx.arg(1), ctx.arg(2), limit);
    Ok(Frame::Integer(n as i64))
}

/// `SPUBLISH shardchannel message`: integer, the shard channel's subscribers.
pub fn spublish(ctx: &mut Ctx) -> Reply {
    let limit = ctx.server.pubsub_limit();
    let n = ctx.server.pubsub.spublish(ctx.arg(1), ctx.arg(2), limit);
    Ok(Frame::Integer(n as i64))
}

/// `PUBSUB CHANNELS [pattern]`: array of the channels with subscribers.
/// Error: `ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB
/// HELP.` with more than one pattern.
pub fn pubsub_channels(ctx: &mut Ctx) -> Reply {
    list_channels(ctx, Kind::Channel)
}

/// `PUBSUB SHARDCHANNELS [pattern]`: array of the shard channels with subscribers (same error
/// as CHANNELS, naming `SHARDCHANNELS`).
pub fn pubsub_shardchannels(ctx: &mut Ctx) -> Reply {
    list_channels(ctx, Kind::Shard)
}

/// `PUBSUB NUMSUB [channel ...]`: flat array `[channel, count, ...]` (an array in RESP3 too).
pub fn pubsub_numsub(ctx: &mut Ctx) -> Reply {
    count_subscribers(ctx, Kind::Channel)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]`: as NUMSUB, for shard channels.
pub fn pubsub_shardnumsub(ctx: &mut Ctx) -> Reply {
    count_subscribers(ctx, Kind::Shard)
}

/// `PUBSUB NUMPAT`: integer, the distinct patterns subscribed by anyone.
pub fn pubsub_numpat(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Integer(ctx.server.pubsub.num_patterns() as i64))
}

/// `PUBSUB HELP`.
pub fn pubsub_help(_ctx: &mut Ctx) -> Reply {
    help_reply(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    List the channels with subscribers, those matching <pattern> if given.",
            "NUMPAT",
            "    Count the distinct patterns subscribed by any client.",
            "NUMSUB [<channel> ...]",
            "    Count each channel's subscribers (pattern subscriptions are not counted).",
            "SHARDCHANNELS [<pattern>]",
            "    List the shard channels with subscribers, those matching <pattern> if given.",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Count each shard channel's subscribers.",
        ],
    )
}

/// The confirmation names of a subscription kind: (subscribe, unsubscribe).
fn names(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Channel => ("subscribe", "unsubscribe"),
        Kind::Pattern => ("psubscribe", "punsubscribe"),
        Kind::Shard => ("ssubscribe", "sunsubscribe"),
    }
}

/// The client's set of names of `kind`.
fn set_of(subs: &mut Subscriptions, kind: Kind) -> &mut std::collections::HashSet<Bytes> {
    match kind {
        Kind::Channel => &mut subs.channels,
        Kind::Pattern => &mut subs.patterns,
        Kind::Shard => &mut subs.shard,
    }
}

/// The count a confirmation carries: shard channels for the S family, else channels plus
/// patterns (Redis `clientSubscriptionsCount` / `clientShardSubscriptionsCount`).
fn count_for(subs: &Subscriptions, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => subs.shard.len() as i64,
        _ => subs.count() as i64,
    }
}

fn confirmation(what: &'static str, name: Option<&Bytes>, count: i64) -> Frame {
    Frame::Push(vec![
        Frame::Bulk(Bytes::from_static(what.as_bytes())),
        name.map_or(Frame::Null, |n| Frame::Bulk(n.clone())),
        Frame::Integer(count),
    ])
}

fn subscribe_to(ctx: &mut Ctx, kind: Kind) -> Reply {
    let (what, _) = names(kind);
    let mut added = Vec::new();
    let mut frames = Vec::with_capacity(ctx.args.len() - 1);
    for name in &ctx.args[1..] {
        if set_of(&mut ctx.client.subs, kind).insert(name.clone()) {
            added.push(name.clone());
        }
        frames.push(confirmation(
            what,
            Some(name),
            count_for(&ctx.client.subs, kind),
        ));
    }
    // Confirmations first: a message published once the engine knows must follow them.
    let reply = emit(ctx, frames);
    for name in &added {
        ctx.server.pubsub.subscribe(kind, name, &ctx.client.shared);
    }
    ctx.client.sync_sub_counts();
    reply
}

fn unsubscribe_from(ctx: &mut Ctx, kind: Kind) -> Reply {
    let (_, what) = names(kind);
    let targets: Vec<Bytes> = if ctx.args.len() > 1 {
        ctx.args[1..].to_vec()
    } else {
        set_of(&mut ctx.client.subs, kind).iter().cloned().collect()
    };
    let mut frames = Vec::with_capacity(targets.len().max(1));
    for name in &targets {
        if set_of(&mut ctx.client.subs, kind).remove(name) {
            ctx.server.pubsub.unsubscribe(kind, name, ctx.client.id);
        }
        frames.push(confirmation(
            what,
            Some(name),
            count_for(&ctx.client.subs, kind),
        ));
    }
    if frames.is_empty() {
        frames.push(confirmation(what, None, count_for(&ctx.client.subs, kind)));
    }
    ctx.client.sync_sub_counts();
    emit(ctx, frames)
}

/// Sends confirmation frames (never empty) in order: through the mailbox for a socket client
/// outside EXEC (and skips the command's reply slot), else as the reply plus pending frames.
fn emit(ctx: &mut Ctx, mut frames: Vec<Frame>) -> Reply {
    let c = &mut *ctx.client;
    if c.in_exec || c.shared.kind == ClientKind::Local {
        let last = frames.pop().unwrap_or(Frame::NullArray);
        c.pending_frames.extend(frames);
        return Ok(last);
    }
    let mut out = bytes::BytesMut::new();
    for f in &frames {
        encode(f, c.protocol, &mut out);
    }
    // Confirmations are never refused for the output limit: only messages are.
    c.shared
        .mailbox
        .push(out.freeze(), 0, OutputLimit::default());
    c.reply_skip_this = true;
    Ok(Frame::NullArray)
}

fn list_channels(ctx: &mut Ctx, kind: Kind) -> Reply {
    if ctx.args.len() > 3 {
        let sub = String::from_utf8_lossy(ctx.arg(1)).into_owned();
        return Err(CommandError::owned(format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try PUBSUB HELP."
        )));
    }
    let pattern = ctx.args.get(2).map(|p| &p[..]);
    let names = ctx.server.pubsub.channel_names(kind, pattern);
    Ok(Frame::Array(names.into_iter().map(Frame::Bulk).collect()))
}

fn count_subscribers(ctx: &mut Ctx, kind: Kind) -> Reply {
    let mut out = Vec::with_capacity(2 * (ctx.args.len() - 2));
    for ch in &ctx.args[2..] {
        let n = ctx.server.pubsub.num_subscribers(kind, ch);
        out.push(Frame::Bulk(ch.clone()));
        out.push(Frame::Integer(n as i64));
    }
    Ok(Frame::Array(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use ferrodis_resp::Frame;

    use crate::cmd::tests::H;

    fn push(items: &[&str], count: i64) -> Frame {
        let mut v: Vec<Frame> = items
            .iter()
            .map(|s| Frame::Bulk(Bytes::copy_from_slice(s.as_bytes())))
            .collect();
        v.push(Frame::Integer(count));
        Frame::Push(v)
    }

    #[test]
    fn subscribe_confirms_each_channel_in_order() {
        let mut h = H::new();
        // In-process clients get the last confirmation as the reply, the others before it.
        assert_eq!(
            h.run(&["SUBSCRIBE", "a", "b", "a"]),
            push(&["subscribe", "a"], 2)
        );
        assert_eq!(
            std::mem::take(&mut h.client.pending_frames),
            vec![push(&["subscribe", "a"], 1), push(&["subscribe", "b"], 2)]
        );
        assert_eq!(h.run(&["PSUBSCRIBE", "p*"]), push(&["psubscribe", "p*"], 3));
        assert_eq!(h.run(&["SSUBSCRIBE", "s"]), push(&["ssubscribe", "s"], 1));
        assert_eq!(
            h.server
                .pubsub
                .num_subscribers(crate::pubsub::Kind::Channel, b"a"),
            1
        );
        let counts: Vec<usize> = h
            .client
            .shared
            .sub_counts
            .iter()
            .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
            .collect();
        assert_eq!(counts, [2, 1, 1]);
    }

    #[test]
    fn resp2_subscribed_context_allows_only_a_few_commands() {
        let mut h = H::new();
        h.run(&["SUBSCRIBE", "a"]);
        assert_eq!(
            h.run(&["GET", "k"]),
            Frame::Error(Bytes::from_static(
                b"ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / \
                  QUIT / RESET are allowed in this context"
            ))
        );
        assert_eq!(
            h.run(&["PING"]),
            Frame::Array(vec![
                Frame::Bulk(Bytes::from_static(b"pong")),
                Frame::Bulk(Bytes::new())
            ])
        );
        assert_eq!(h.run(&["UNSUBSCRIBE"]), push(&["unsubscribe", "a"], 0));
        assert_eq!(
            h.run(&["UNSUBSCRIBE"]),
            Frame::Push(vec![
                Frame::Bulk(Bytes::from_static(b"unsubscribe")),
                Frame::Null,
                Frame::Integer(0)
            ])
        );
        assert_eq!(h.run(&["GET", "k"]), Frame::Null);
    }

    #[test]
    fn reset_drops_every_subscription() {
        let mut h = H::new();
        h.run(&["SUBSCRIBE", "a"]);
        h.run(&["PSUBSCRIBE", "p*"]);
        h.run(&["SSUBSCRIBE", "s"]);
        assert_eq!(h.run(&["RESET"]), Frame::simple("RESET"));
        assert!(!h.client.subs.active());
        assert_eq!(h.run(&["PUBSUB", "NUMPAT"]), Frame::Integer(0));
        assert_eq!(h.run(&["PUBLISH", "a", "m"]), Frame::Integer(0));
        assert_eq!(h.run(&["SPUBLISH", "s", "m"]), Frame::Integer(0));
    }
}
