//! Persistence commands: DUMP RESTORE SAVE BGSAVE BGREWRITEAOF.
//!
//! ```text
//! DUMP key
//! RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
//! SAVE
//! BGSAVE [SCHEDULE]
//! BGREWRITEAOF
//! ```
//!
//! DUMP payloads are Redis 7.0's, byte for byte for the same encodings (see
//! `ferrodis_persistence::dump`).

use bytes::Bytes;
use ferrodis_persistence::dump;
use ferrodis_resp::Frame;

use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// `DUMP key`: the value's serialization, or a null bulk when the key is missing.
pub fn dump(ctx: &mut Ctx) -> Reply {
    let db = ctx.db();
    let compress = ctx
        .server
        .with_config(|c| c.get_str("rdbcompression").as_deref() != Some("no"));
    let payload = match ctx.ks.lookup_read(db, &ctx.args[1])? {
        Some(e) => dump::dump(&e.value(), compress),
        None => return Ok(Frame::Null),
    };
    Ok(Frame::Bulk(payload.into()))
}

/// RESTORE's options.
#[derive(Default)]
struct RestoreArgs {
    replace: bool,
    absttl: bool,
    idle_secs: Option<u64>,
    freq: Option<u8>,
}

impl RestoreArgs {
    /// Parses the options after the payload (Redis `restoreCommand`): IDLETIME and FREQ
    /// exclude each other (`ERR syntax error`).
    fn parse(args: &[bytes::Bytes]) -> Result<RestoreArgs, CommandError> {
        let mut a = RestoreArgs::default();
        let mut j = 4;
        while j < args.len() {
            let more = j + 1 < args.len();
            if eq_ic(&args[j], "replace") {
                a.replace = true;
            } else if eq_ic(&args[j], "absttl") {
                a.absttl = true;
            } else if eq_ic(&args[j], "idletime") && more && a.freq.is_none() {
                j += 1;
                let v = parse_i64(&args[j])?;
                if v < 0 {
                    return Err(CommandError::msg(
                        "ERR Invalid IDLETIME value, must be >= 0",
                    ));
                }
                a.idle_secs = Some(v as u64);
            } else if eq_ic(&args[j], "freq") && more && a.idle_secs.is_none() {
                j += 1;
                let v = parse_i64(&args[j])?;
                let f = u8::try_from(v).map_err(|_| {
                    CommandError::msg("ERR Invalid FREQ value, must be >= 0 and <= 255")
                })?;
                a.freq = Some(f);
            } else {
                return Err(CommandError::Syntax);
            }
            j += 1;
        }
        Ok(a)
    }
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`:
/// creates `key` from a DUMP payload. `ttl` is milliseconds from now, or a Unix time in
/// milliseconds with ABSTTL; 0 = no expire. Errors (in Redis' order): `BUSYKEY Target key name
/// already exists.`, `ERR value is not an integer or out of range`, `ERR Invalid TTL value,
/// must be >= 0`, `ERR DUMP payload version or checksum are wrong`, `ERR Bad data format`.
/// A TTL already in the past deletes the key (with REPLACE) and creates nothing.
pub fn restore(ctx: &mut Ctx) -> Reply {
    let opts = RestoreArgs::parse(ctx.args)?;
    let db = ctx.db();
    let key = ctx.args[1].clone();
    if !opts.replace && ctx.ks.lookup_write(db, &key)?.is_some() {
        return Err(CommandError::msg("BUSYKEY Target key name already exists."));
    }
    let ttl = parse_i64(&ctx.args[2])?;
    if ttl < 0 {
        return Err(CommandError::msg("ERR Invalid TTL value, must be >= 0"));
    }
    let value = dump::restore(&ctx.args[3], ctx.server.encoding_limits())
        .map_err(|e| CommandError::owned(e.to_string()))?;
    let now_ms = ctx.ks.now().ms as i64;
    let expire_ms = match (ttl, opts.absttl) {
        (0, _) => None,
        (t, true) => Some(t),
        (t, false) => Some(t.saturating_add(now_ms)),
    };
    if expire_ms.is_some_and(|at| at <= now_ms) {
        ctx.ks.free_value(value);
        if opts.replace && ctx.delete_key(&key)? {
            ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key]);
        }
        return Ok(Frame::ok());
    }
    let expire_ms = expire_ms.map(|at| at as u64);
    ctx.ks.restore(
        db,
        &key,
        value,
        expire_ms,
        (opts.idle_secs, opts.freq),
        true,
    )?;
    ctx.notify(class::GENERIC, "restore", &key);
    if let (Some(at), false) = (expire_ms, opts.absttl) {
        // Logged with the absolute expire (Redis appends ABSTTL).
        let mut argv = ctx.args.to_vec();
        argv[2] = Bytes::from(at.to_string());
        argv.push(Bytes::from_static(b"ABSTTL"));
        ctx.propagate_as(argv);
    }
    Ok(Frame::ok())
}

/// `SAVE`: writes the RDB file now, holding every shard (other clients wait, as with Redis'
/// SAVE). Errors: `ERR Background save already in progress`, or `ERR` when writing failed
/// (the cause is logged).
pub fn save(ctx: &mut Ctx) -> Reply {
    match ctx.server.save_rdb(ctx.ks) {
        Ok(_) => Ok(Frame::ok()),
        Err(e) if e.starts_with("ERR ") => Err(CommandError::owned(e)),
        Err(_) => Err(CommandError::msg("ERR")),
    }
}

/// `BGSAVE [SCHEDULE]`: starts a background save; `Background saving started`, or with
/// SCHEDULE while one runs, `Background saving scheduled`. Errors: `ERR Background save
/// already in progress`, `ERR syntax error`.
pub fn bgsave(ctx: &mut Ctx) -> Reply {
    let schedule = match ctx.args.len() {
        1 => false,
        2 if eq_ic(&ctx.args[1], "schedule") => true,
        _ => return Err(CommandError::Syntax),
    };
    let server = ctx
        .server
        .arc()
        .ok_or(CommandError::msg("ERR server is shutting down"))?;
    if server.persist.bgsave_in_progress() {
        if schedule {
            server.persist.schedule_bgsave();
            return Ok(Frame::Simple("Background saving scheduled".into()));
        }
        return Err(CommandError::msg("ERR Background save already in progress"));
    }
    if server.aof.rewrite_in_progress() {
        // One snapshot at a time, as Redis runs one child at a time.
        if schedule {
            server.persist.schedule_bgsave();
            return Ok(Frame::Simple("Background saving scheduled".into()));
        }
        return Err(CommandError::msg(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE \
             SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ));
    }
    let guard = if ctx.ks.holds_all() {
        Some(&mut *ctx.ks)
    } else {
        None
    };
    match server.bgsave(guard) {
        Ok(()) => Ok(Frame::Simple("Background saving started".into())),
        Err(e) => Err(CommandError::owned(e)),
    }
}

/// `BGREWRITEAOF`: rewrites the AOF in the background from a point-in-time snapshot; `Background
/// append only file rewriting started`, or `... scheduled` while a BGSAVE runs. Error: `ERR
/// Background append only file rewriting already in progress`.
pub fn bgrewriteaof(ctx: &mut Ctx) -> Reply {
    let server = ctx
        .server
        .arc()
        .ok_or(CommandError::msg("ERR server is shutting down"))?;
    let guard = if ctx.ks.holds_all() {
        Some(&mut *ctx.ks)
    } else {
        None
    };
    match server.bgrewriteaof(guard) {
        Ok(true) => Ok(Frame::Simple(
            "Background append only file rewriting started".into(),
        )),
        Ok(false) => Ok(Frame::Simple(
            "Background append only file rewriting scheduled".into(),
        )),
        Err(e) => Err(CommandError::owned(e)),
    }
}
