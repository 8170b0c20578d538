//! Connection commands: PING ECHO QUIT RESET HELLO SELECT and CLIENT.
//!
//! ```text
//! PING [message]
//! ECHO message
//! QUIT
//! RESET
//! HELLO [protover [AUTH username password] [SETNAME clientname]]
//! SELECT index
//! CLIENT ID | GETNAME | SETNAME name | INFO | LIST [TYPE t] [ID id ...] | KILL ... |
//!        NO-EVICT ON|OFF | NO-TOUCH ON|OFF | REPLY ON|OFF|SKIP | HELP
//! ```

use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferrodis_keyspace::clock::unix_ms;
use ferrodis_resp::{Frame, Protocol};

use crate::client::{Client, ClientKind, ClientShared};
use crate::command::args::{eq_ic, parse_i32, parse_i64};
use crate::command::Ctx;
use crate::error::{msg, CommandError, Reply};
use crate::server::Server;

/// The Redis version Ferrodis is compatible with and reports (HELLO, INFO `redis_version`):
/// clients gate features on it.
pub const REDIS_COMPAT_VERSION: &str = "7.0.15";

/// `PING [message]`: `+PONG`, or the message as a bulk string; in the RESP2 subscribed context
/// the array `[pong, message or ""]` (Redis `pingCommand`).
pub fn ping(ctx: &mut Ctx) -> Reply {
    if ctx.client.protocol == Protocol::Resp2 && ctx.client.subs.active() && ctx.args.len() <= 2 {
        let msg = ctx.args.get(1).cloned().unwrap_or_default();
        return Ok(Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"pong")),
            Frame::Bulk(msg),
        ]));
    }
    match ctx.args.len() {
        1 => Ok(Frame::simple("PONG")),
        2 => Ok(Frame::Bulk(ctx.arg(1).clone())),
        _ => Err(CommandError::WrongArity("ping".into())),
    }
}

/// `ECHO message`.
pub fn echo(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Bulk(ctx.arg(1).clone()))
}

/// `QUIT`: `+OK`, then the connection closes.
pub fn quit(ctx: &mut Ctx) -> Reply {
    ctx.client.close_after_reply = true;
    Ok(Frame::ok())
}

/// `RESET`: out of MULTI, no watched keys, no subscriptions, back to RESP2, db 0, no name,
/// replies on, NO-EVICT/NO-TOUCH off; `+RESET`.
pub fn reset(ctx: &mut Ctx) -> Reply {
    ctx.server.pubsub.unsubscribe_all(ctx.client);
    let c = &mut *ctx.client;
    c.tx.reset();
    crate::cmd::transactions::publish_multi_len(c);
    c.set_protocol(Protocol::Resp2);
    c.select(0);
    c.reply_off = false;
    c.reply_skip_next = false;
    *c.shared.name.lock() = Bytes::new();
    c.shared.no_evict.store(false, Ordering::Relaxed);
    c.shared.no_touch.store(false, Ordering::Relaxed);
    Ok(Frame::simple("RESET"))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
/// Errors: `NOPROTO unsupported protocol version`, `ERR Protocol version is not an integer or
/// out of range`, `ERR Syntax error in HELLO option '<opt>'`, `WRONGPASS ...`.
pub fn hello(ctx: &mut Ctx) -> Reply {
    let mut proto = None;
    let mut i = 1;
    if let Some(v) = ctx.args.get(1) {
        let v = parse_i64(v).map_err(|_| {
            CommandError::msg("ERR Protocol version is not an integer or out of range")
        })?;
        proto = Some(match v {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CommandError::msg("NOPROTO unsupported protocol version")),
        });
        i = 2;
    }
    let mut name = None;
    while i < ctx.args.len() {
        let opt = ctx.arg(i);
        let left = ctx.args.len() - i - 1;
        if eq_ic(opt, "auth") && left >= 2 {
            if !ctx.arg(i + 1).eq_ignore_ascii_case(b"default") {
                return Err(CommandError::msg(
                    "WRONGPASS invalid username-password pair or user is disabled.",
                ));
            }
            i += 3;
        } else if eq_ic(opt, "setname") && left >= 1 {
            let n = ctx.arg(i + 1).clone();
            validate_name(&n)?;
            name = Some(n);
            i += 2;
        } else {
            return Err(CommandError::owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if let Some(n) = name {
        *ctx.client.shared.name.lock() = n;
    }
    if let Some(p) = proto {
        ctx.client.set_protocol(p);
    }
    let proto_num = if ctx.client.protocol == Protocol::Resp3 {
        3
    } else {
        2
    };
    let b = |s: &str| Frame::bulk_from_slice(s.as_bytes());
    Ok(Frame::Map(vec![
        (b("server"), b("redis")),
        (b("version"), b(REDIS_COMPAT_VERSION)),
        (b("proto"), Frame::Integer(proto_num)),
        (b("id"), Frame::Integer(ctx.client.id as i64)),
        (b("mode"), b("standalone")),
        (b("role"), b("master")),
        (b("modules"), Frame::Array(vec![])),
    ]))
}

/// `SELECT index`.
pub fn select(ctx: &mut Ctx) -> Reply {
    let db = parse_i32(ctx.arg(1))?;
    let databases = ctx.server.keyspace.databases();
    match usize::try_from(db) {
        Ok(db) if db < databases => {
            ctx.client.select(db);
            Ok(Frame::ok())
        }
        _ => Err(CommandError::DbOutOfRange),
    }
}

fn validate_name(name: &[u8]) -> Result<(), CommandError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CommandError::msg(msg::BAD_CLIENT_NAME));
    }
    Ok(())
}

/// `CLIENT ID`.
pub fn client_id(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Integer(ctx.client.id as i64))
}

/// `CLIENT GETNAME`: the name, or null when unset.
pub fn client_getname(ctx: &mut Ctx) -> Reply {
    let name = ctx.client.shared.name();
    Ok(if name.is_empty() {
        Frame::Null
    } else {
        Frame::Bulk(name)
    })
}

/// `CLIENT SETNAME name` (empty clears). `ERR Client names cannot contain spaces, newlines or
/// special characters.` for bytes outside `!`..`~`.
pub fn client_setname(ctx: &mut Ctx) -> Reply {
    let name = ctx.arg(2).clone();
    validate_name(&name)?;
    *ctx.client.shared.name.lock() = name;
    Ok(Frame::ok())
}

/// One CLIENT LIST / CLIENT INFO line (without the trailing newline), Redis 7.0 fields.
pub fn client_line(server: &Server, c: &ClientShared) -> String {
    let now = unix_ms();
    let age = now.saturating_sub(c.created_ms) / 1000;
    let idle = now.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed)) / 1000;
    // Redis 7.0's order: P x b U e T.
    let mut flags = String::new();
    if is_pubsub(c) {
        flags.push('P');
    }
    let multi = c.multi.load(Ordering::Relaxed);
    if multi >= 0 {
        flags.push('x');
    }
    if c.blocked.load(Ordering::Relaxed) {
        flags.push('b');
    }
    if c.kind == ClientKind::Unix {
        flags.push('U');
    }
    if c.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if c.no_touch.load(Ordering::Relaxed) {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let cmd = match c.last_cmd.load(Ordering::Relaxed) {
        usize::MAX => "NULL".to_string(),
        i => server.commands.entry(i).full_name.clone(),
    };
    let qbuf = c.qbuf.load(Ordering::Relaxed);
    let obl = c.obuf.load(Ordering::Relaxed);
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} \
         multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl={} oll=0 \
         omem=0 tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        String::from_utf8_lossy(&c.name()),
        age,
        idle,
        flags,
        c.db.load(Ordering::Relaxed),
        c.sub_counts[0].load(Ordering::Relaxed),
        c.sub_counts[1].load(Ordering::Relaxed),
        c.sub_counts[2].load(Ordering::Relaxed),
        multi,
        qbuf,
        16384usize.saturating_sub(qbuf),
        obl,
        16384 + qbuf + obl,
        cmd,
        c.resp.load(Ordering::Relaxed),
    )
}

/// Whether a client has any subscription: CLIENT LIST flag `P` and client type `pubsub`
/// (Redis `getClientType`).
fn is_pubsub(c: &ClientShared) -> bool {
    c.sub_counts.iter().any(|n| n.load(Ordering::Relaxed) > 0)
}

/// Whether client `c` is of CLIENT LIST / KILL `TYPE` `kind` (lowercase, already validated):
/// subscribed clients are `pubsub`, every other one `normal` (no replication yet).
fn is_of_type(c: &ClientShared, kind: &str) -> bool {
    match kind {
        "pubsub" => is_pubsub(c),
        "normal" => !is_pubsub(c),
        _ => false,
    }
}

fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: text.into(),
    }
}

/// `CLIENT INFO`: this connection's line (verbatim string).
pub fn client_info(ctx: &mut Ctx) -> Reply {
    Ok(verbatim(client_line(ctx.server, &ctx.client.shared) + "\n"))
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] | [ID id ...]`: one filter at most; with
/// ID the clients come in the order given (ids that match nobody are skipped; a non-numeric id
/// is `ERR Invalid client ID`).
pub fn client_list(ctx: &mut Ctx) -> Reply {
    let all = ctx.server.clients.snapshot();
    let mut out = String::new();
    let args = &ctx.args[2..];
    let selected: Vec<_> = match args {
        [] => all,
        [t, kind] if eq_ic(t, "type") => {
            let k = String::from_utf8_lossy(kind).to_ascii_lowercase();
            if !["normal", "master", "replica", "slave", "pubsub"].contains(&k.as_str()) {
                return Err(CommandError::owned(format!(
                    "ERR Unknown client type '{}'",
                    String::from_utf8_lossy(kind)
                )));
            }
            all.into_iter().filter(|c| is_of_type(c, &k)).collect()
        }
        [id, ids @ ..] if eq_ic(id, "id") && !ids.is_empty() => {
            let mut picked = Vec::new();
            for raw in ids {
                let id = parse_i64(raw).map_err(|_| CommandError::msg("ERR Invalid client ID"))?;
                if let Some(c) = all.iter().find(|c| id > 0 && c.id == id as u64) {
                    picked.push(c.clone());
                }
            }
            picked
        }
        _ => return Err(CommandError::Syntax),
    };
    for c in selected {
        out.push_str(&client_line(ctx.server, &c));
        out.push('\n');
    }
    Ok(verbatim(out))
}

/// `CLIENT KILL ip:port` (`+OK` / `ERR No such client`) or `CLIENT KILL <filter> <value> ...`
/// with ID, TYPE, USER, ADDR, LADDR, SKIPME (integer: clients killed).
pub fn client_kill(ctx: &mut Ctx) -> Reply {
    let me = ctx.client.id;
    if ctx.args.len() == 3 {
        let addr = String::from_utf8_lossy(ctx.arg(2)).into_owned();
        let target = ctx
            .server
            .clients
            .snapshot()
            .into_iter()
            .find(|c| c.addr == addr);
        return match target {
            Some(c) => {
                kill_client(ctx.client, &c);
                Ok(Frame::ok())
            }
            None => Err(CommandError::msg(msg::NO_SUCH_CLIENT)),
        };
    }
    let mut filter = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    let mut cur = ctx.cursor(2);
    while let Some(opt) = cur.next() {
        let Some(val) = cur.next() else {
            return Err(CommandError::Syntax);
        };
        let v = String::from_utf8_lossy(val).into_owned();
        if eq_ic(opt, "id") {
            let id = parse_i64(val)
                .ok()
                .filter(|&id| id > 0)
                .ok_or(CommandError::msg("ERR client-id should be greater than 0"))?;
            filter.id = Some(id as u64);
        } else if eq_ic(opt, "type") {
            let t = v.to_ascii_lowercase();
            if !["normal", "master", "replica", "slave", "pubsub"].contains(&t.as_str()) {
                return Err(CommandError::owned(format!(
                    "ERR Unknown client type '{v}'"
                )));
            }
            filter.kind = Some(t);
        } else if eq_ic(opt, "user") {
            // Only the default user exists until ACLs arrive.
            if v != "default" {
                return Err(CommandError::owned(format!("ERR No such user '{v}'")));
            }
            filter.user = Some(v);
        } else if eq_ic(opt, "addr") {
            filter.addr = Some(v);
        } else if eq_ic(opt, "laddr") {
            filter.laddr = Some(v);
        } else if eq_ic(opt, "skipme") {
            filter.skipme = match v.to_ascii_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(CommandError::Syntax),
            };
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let mut killed = 0;
    for c in ctx.server.clients.snapshot() {
        if filter.matches(&c, me) {
            kill_client(ctx.client, &c);
            killed += 1;
        }
    }
    Ok(Frame::Integer(killed))
}

fn kill_client(me: &mut Client, target: &ClientShared) {
    if target.id == me.id {
        // Redis replies first, then closes the calling connection.
        me.close_after_reply = true;
    } else {
        target.kill();
    }
}

#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    kind: Option<String>,
    user: Option<String>,
    addr: Option<String>,
    laddr: Option<String>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, c: &ClientShared, me: u64) -> bool {
        if self.skipme && c.id == me {
            return false;
        }
        self.id.is_none_or(|id| id == c.id)
            && self.kind.as_deref().is_none_or(|k| is_of_type(c, k))
            && self.user.as_deref().is_none_or(|u| u == "default")
            && self.addr.as_deref().is_none_or(|a| a == c.addr)
            && self.laddr.as_deref().is_none_or(|a| a == c.laddr)
    }
}

fn on_off(arg: &[u8]) -> Result<bool, CommandError> {
    if eq_ic(arg, "on") {
        Ok(true)
    } else if eq_ic(arg, "off") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// `CLIENT NO-EVICT ON|OFF`.
pub fn client_no_evict(ctx: &mut Ctx) -> Reply {
    let on = on_off(ctx.arg(2))?;
    ctx.client.shared.no_evict.store(on, Ordering::Relaxed);
    Ok(Frame::ok())
}

/// `CLIENT NO-TOUCH ON|OFF` (Redis 7.2): lookups stop updating keys' LRU/LFU data.
pub fn client_no_touch(ctx: &mut Ctx) -> Reply {
    let on = on_off(ctx.arg(2))?;
    ctx.client.shared.no_touch.store(on, Ordering::Relaxed);
    Ok(Frame::ok())
}

/// CLIENT UNBLOCK with a reason other than TIMEOUT or ERROR.
const UNBLOCK_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]` (Redis `clientCommand`): ends the wait of a
/// client blocked in a blocking command, with its timeout reply (TIMEOUT, the default) or the
/// error `-UNBLOCKED client unblocked via CLIENT UNBLOCK`. Replies `:1` when that client was
/// blocked, else `:0`. Errors: `ERR value is not an integer or out of range` (id), `ERR CLIENT
/// UNBLOCK reason should be TIMEOUT or ERROR`, and more than one option is `ERR unknown
/// subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.` (the subcommand
/// as typed).
pub fn client_unblock(ctx: &mut Ctx) -> Reply {
    if ctx.args.len() > 4 {
        let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        // Dispatch matched it as "unblock": seven letters, in the case typed.
        text.extend_from_slice(ctx.arg(1));
        text.extend_from_slice(b"'. Try CLIENT HELP.");
        return Err(CommandError::Raw(Bytes::from(text)));
    }
    // The reason is checked before the id, as Redis does.
    let error = match ctx.args.get(3) {
        None => false,
        Some(r) if eq_ic(r, "timeout") => false,
        Some(r) if eq_ic(r, "error") => true,
        Some(_) => return Err(CommandError::msg(UNBLOCK_REASON)),
    };
    let id = parse_i64(ctx.arg(2))?;
    let done = u64::try_from(id).is_ok_and(|id| ctx.server.blocking.unblock(id, error));
    Ok(Frame::Integer(i64::from(done)))
}

/// `CLIENT REPLY ON|OFF|SKIP`: ON replies `+OK`; OFF and SKIP send nothing.
pub fn client_reply(ctx: &mut Ctx) -> Reply {
    let a = ctx.arg(2);
    if eq_ic(a, "on") {
        ctx.client.reply_off = false;
        ctx.client.reply_skip_next = false;
        Ok(Frame::ok())
    } else if eq_ic(a, "off") {
        ctx.client.reply_off = true;
        ctx.client.reply_skip_this = true;
        Ok(Frame::ok())
    } else if eq_ic(a, "skip") {
        if !ctx.client.reply_off {
            ctx.client.reply_skip_next = true;
        }
        ctx.client.reply_skip_this = true;
        Ok(Frame::ok())
    } else {
        Err(CommandError::Syntax)
    }
}

/// Builds a HELP reply: a header line then the given lines, as status strings (Redis'
/// `addReplyHelp` shape).
pub fn help_reply(command: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Frame::Simple(
        format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    )];
    out.extend(
        lines
            .iter()
            .map(|l| Frame::Simple(Bytes::copy_from_slice(l.as_bytes()))),
    );
    out.push(Frame::simple("HELP"));
    out.push(Frame::simple("    Print this help."));
    Ok(Frame::Array(out))
}

/// `CLIENT HELP`.
pub fn client_help(_ctx: &mut Ctx) -> Reply {
    help_reply(
        "CLIENT",
        &[
            "GETNAME",
            "    Reply with the name of this connection.",
            "ID",
            "    Reply with the id of this connection.",
            "INFO",
            "    Describe this connection.",
            "KILL <ip:port>",
            "    Close the connection from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Close connections by filter: ID, TYPE, USER, ADDR, LADDR, SKIPME (yes|no).",
            "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> ...]",
            "    Describe connections.",
            "NO-EVICT (ON|OFF)",
            "    Exclude this connection from client eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Stop this connection's commands from touching keys' access times.",
            "REPLY (ON|OFF|SKIP)",
            "    Turn replies on, off, or off for the next command.",
            "SETNAME <name>",
            "    Name this connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
        ],
    )
}
