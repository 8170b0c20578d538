//! The transaction commands (group `Transactions`): MULTI EXEC DISCARD WATCH UNWATCH.

use super::*;
use crate::cmd::transactions as t;

const A_TX: Acl = Acl::TRANSACTION;
/// `noscript loading stale`, shared by every transaction command.
const TX_FLAGS: Flags = Flags::NOSCRIPT.with(LS);
const TX_FAST: Flags = TX_FLAGS.with(F).with(Flags::ALLOW_BUSY);
const WATCH_KEYS: &[K] = &[K::range(1, -1, 1, RO)];

/// The transaction commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "multi",
        1,
        TX_FAST,
        A_F.with(A_TX),
        Group::Transactions,
        "1.2.0",
        O1,
        "Starts a transaction: later commands are queued until EXEC or DISCARD.",
        "",
        Some(t::multi),
    ),
    C::new(
        "exec",
        1,
        TX_FLAGS.with(Flags::SKIP_SLOWLOG),
        A_S.with(A_TX),
        Group::Transactions,
        "1.2.0",
        "Depends on the queued commands.",
        "Runs the queued commands atomically, unless a watched key was modified.",
        "",
        Some(t::exec),
    ),
    C::new(
        "discard",
        1,
        TX_FAST,
        A_F.with(A_TX),
        Group::Transactions,
        "2.0.0",
        "O(N) in the number of queued commands.",
        "Drops the queued commands and leaves the transaction.",
        "",
        Some(t::discard),
    ),
    C::new(
        "watch",
        -2,
        TX_FAST,
        A_F.with(A_TX),
        Group::Transactions,
        "2.2.0",
        "O(1) for every key.",
        "Watches keys: the next EXEC runs only if none of them was modified.",
        "key ...",
        Some(t::watch),
    )
    .keys(WATCH_KEYS),
    C::new(
        "unwatch",
        1,
        TX_FAST,
        A_F.with(A_TX),
        Group::Transactions,
        "2.2.0",
        O1,
        "Forgets every watched key.",
        "",
        Some(t::unwatch),
    ),
];
