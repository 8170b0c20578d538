//! Hash commands (Redis 7.0 `t_hash.c`).
//!
//! ```text
//! HSET key field value [field value ...]   HMSET key field value [field value ...]
//! HSETNX key field value                   HGET key field      HMGET key field [field ...]
//! HGETALL key   HKEYS key   HVALS key      HLEN key            HEXISTS key field
//! HSTRLEN key field                        HDEL key field [field ...]
//! HINCRBY key field increment              HINCRBYFLOAT key field increment
//! HRANDFIELD key [count [WITHVALUES]]      HSCAN key cursor [MATCH pattern] [COUNT count]
//! ```
//!
//! Writes go through [`Hash::set`], which converts a `listpack` to a `hashtable` by Redis' rules;
//! HSET, HMSET and HSETNX first run [`Hash::try_conversion`] over their arguments, as Redis'
//! `hashTypeTryConversion`. A hash emptied by HDEL is deleted with its key.

pub use crate::error::msg::I64_COUNT_RANGE as COUNT_OUT_OF_RANGE;
pub use crate::error::msg::VALUE_OUT_OF_RANGE;
use bytes::Bytes;
use ferrodis_keyspace::glob::glob_match;
use ferrodis_keyspace::listpack::LpValue;
use ferrodis_keyspace::value::parse_i64 as string2ll;
use ferrodis_keyspace::Hash;
use ferrodis_resp::{Frame, LongDouble, Protocol};

use super::{delete_if_empty, hash_or_create, read_hash, write_hash};
use crate::command::args::parse_cursor;
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{msg, CommandError, Reply};
use crate::notify::class;

/// HINCRBY on a value that is not an integer.
pub const HASH_VALUE_NOT_INTEGER: &str = "ERR hash value is not an integer";
/// HINCRBYFLOAT on a value that is not a float.
pub const HASH_VALUE_NOT_FLOAT: &str = "ERR hash value is not a float";
/// HINCRBYFLOAT with an infinite increment.
pub const VALUE_NAN_OR_INF: &str = "ERR value is NaN or Infinity";
/// Most replies HRANDFIELD builds for a negative count (with repetition), 2^27 fields. Redis
/// has no bound and runs out of memory on such requests; Ferrodis answers
/// [`VALUE_OUT_OF_RANGE`] instead of aborting.
pub const MAX_RANDOM_REPLY: u64 = 1 << 27;

/// A stored field or value as a bulk string (listpack integers as their decimal text).
fn bulk(v: LpValue<'_>) -> Frame {
    Frame::Bulk(v.to_bytes())
}

/// The arity error of `cmd` (odd field/value lists of HSET and HMSET).
fn arity(cmd: &str) -> CommandError {
    CommandError::WrongArity(cmd.to_string())
}

/// `HSET key field value [field value ...]`: the number of new fields.
pub fn hset(ctx: &mut Ctx) -> Reply {
    let created = set_pairs(ctx, "hset")?;
    Ok(Frame::Integer(created))
}

/// `HMSET key field value [field value ...]` (deprecated form of HSET): `+OK`.
pub fn hmset(ctx: &mut Ctx) -> Reply {
    set_pairs(ctx, "hmset")?;
    Ok(Frame::ok())
}

/// The shared path of HSET and HMSET (Redis `hsetCommand`): `ERR wrong number of arguments`
/// for an odd list, creates the key, converts first if an argument is too long for a listpack,
/// then sets each pair. Returns the number of new fields.
fn set_pairs(ctx: &mut Ctx, cmd: &str) -> Result<i64, CommandError> {
    let args = ctx.args;
    if args.len() % 2 == 1 {
        return Err(arity(cmd));
    }
    let limits = ctx.server.encoding_limits();
    let hash = hash_or_create(ctx, &args[1], Hash::new)?;
    hash.try_conversion(&args[2..], &limits);
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        created += i64::from(hash.set(&pair[0], &pair[1], &limits));
    }
    ctx.notify(class::HASH, "hset", &args[1]);
    Ok(created)
}

/// `HSETNX key field value`: 1 when set, 0 when the field existed.
pub fn hsetnx(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let limits = ctx.server.encoding_limits();
    let hash = hash_or_create(ctx, &args[1], Hash::new)?;
    if hash.contains(&args[2]) {
        return Ok(Frame::Integer(0));
    }
    hash.try_conversion(&args[2..4], &limits);
    hash.set(&args[2], &args[3], &limits);
    ctx.notify(class::HASH, "hset", &args[1]);
    Ok(Frame::Integer(1))
}

/// `HGET key field`: the value, or null.
pub fn hget(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let hash = read_hash(ctx, &args[1])?;
    Ok(hash
        .and_then(|h| h.get_ref(&args[2]))
        .map_or(Frame::Null, bulk))
}

/// `HMGET key field [field ...]`: one value or null per field (all null for a missing key).
pub fn hmget(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let hash = read_hash(ctx, &args[1])?;
    let values = args[2..]
        .iter()
        .map(|f| hash.and_then(|h| h.get_ref(f)).map_or(Frame::Null, bulk))
        .collect();
    Ok(Frame::Array(values))
}

/// What HGETALL, HKEYS and HVALS reply with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

/// The shared path of HGETALL (a map), HKEYS and HVALS (arrays) (Redis `genericHgetallCommand`),
/// in the hash's order: insertion order for a listpack.
fn get_all(ctx: &mut Ctx, part: Part) -> Reply {
    let args = ctx.args;
    let Some(hash) = read_hash(ctx, &args[1])? else {
        return Ok(match part {
            Part::Both => Frame::Map(Vec::new()),
            _ => Frame::Array(Vec::new()),
        });
    };
    Ok(match part {
        Part::Both => Frame::Map(hash.iter().map(|(f, v)| (bulk(f), bulk(v))).collect()),
        Part::Fields => Frame::Array(hash.iter().map(|(f, _)| bulk(f)).collect()),
        Part::Values => Frame::Array(hash.iter().map(|(_, v)| bulk(v)).collect()),
    })
}

/// `HGETALL key`: a map of fields to values (RESP2: a flat array).
pub fn hgetall(ctx: &mut Ctx) -> Reply {
    get_all(ctx, Part::Both)
}

/// `HKEYS key`: every field.
pub fn hkeys(ctx: &mut Ctx) -> Reply {
    get_all(ctx, Part::Fields)
}

/// `HVALS key`: every value.
pub fn hvals(ctx: &mut Ctx) -> Reply {
    get_all(ctx, Part::Values)
}

/// `HDEL key field [field ...]`: the number of fields removed; the key is deleted with its last
/// field.
pub fn hdel(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let Some(hash) = write_hash(ctx, &args[1])? else {
        return Ok(Frame::Integer(0));
    };
    let mut deleted = 0;
    for field in &args[2..] {
        if hash.remove(field) {
            deleted += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    let empty = hash.is_empty();
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", &args[1]);
    }
    delete_if_empty(ctx, &args[1], empty)?;
    Ok(Frame::Integer(deleted))
}

/// `HLEN key`: the number of fields, 0 for a missing key.
pub fn hlen(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let len = read_hash(ctx, &args[1])?.map_or(0, Hash::len);
    Ok(Frame::Integer(len as i64))
}

/// `HEXISTS key field`: 1 or 0.
pub fn hexists(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let found = read_hash(ctx, &args[1])?.is_some_and(|h| h.contains(&args[2]));
    Ok(Frame::Integer(i64::from(found)))
}

/// `HSTRLEN key field`: the value's length in bytes, 0 when missing.
pub fn hstrlen(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let len = read_hash(ctx, &args[1])?
        .and_then(|h| h.get_ref(&args[2]))
        .map_or(0, |v| v.with_bytes(<[u8]>::len));
    Ok(Frame::Integer(len as i64))
}

/// `HINCRBY key field increment`: the new value. `ERR hash value is not an integer`, `ERR
/// increment or decrement would overflow`; a missing field counts as 0.
pub fn hincrby(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let incr = parse_i64(&args[3])?;
    let limits = ctx.server.encoding_limits();
    let hash = hash_or_create(ctx, &args[1], Hash::new)?;
    let current = match hash.get_ref(&args[2]) {
        None => 0,
        Some(LpValue::Int(n)) => n,
        Some(LpValue::Str(s)) => string2ll(s).ok_or(CommandError::msg(HASH_VALUE_NOT_INTEGER))?,
    };
    let new = current.checked_add(incr).ok_or(CommandError::Overflow)?;
    hash.set(
        &args[2],
        itoa::Buffer::new().format(new).as_bytes(),
        &limits,
    );
    ctx.notify(class::HASH, "hincrby", &args[1]);
    Ok(Frame::Integer(new))
}

/// `HINCRBYFLOAT key field increment`: the new value as a bulk string, computed in `long double`
/// and formatted like Redis (`%.17Lf` without trailing zeros), stored as that text. `ERR value
/// is not a valid float`, `ERR value is NaN or Infinity` (an infinite increment), `ERR hash
/// value is not a float`, `ERR increment would produce NaN or Infinity`.
pub fn hincrbyfloat(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let incr = LongDouble::parse(&args[3]).ok_or(CommandError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CommandError::msg(VALUE_NAN_OR_INF));
    }
    let limits = ctx.server.encoding_limits();
    let hash = hash_or_create(ctx, &args[1], Hash::new)?;
    let current = match hash.get_ref(&args[2]) {
        None => LongDouble::ZERO,
        Some(LpValue::Int(n)) => LongDouble::from_i64(n),
        Some(LpValue::Str(s)) => {
            LongDouble::parse(s).ok_or(CommandError::msg(HASH_VALUE_NOT_FLOAT))?
        }
    };
    let sum = current + incr;
    if !sum.is_finite() {
        return Err(CommandError::msg(msg::NAN_OR_INF));
    }
    let mut text = Vec::new();
    sum.format_human(&mut text);
    hash.set(&args[2], &text, &limits);
    ctx.notify(class::HASH, "hincrbyfloat", &args[1]);
    // Logged as the value it produced, as Redis' `HSET key field value`.
    let text = Bytes::from(text);
    ctx.propagate_as(vec![
        Bytes::from_static(b"HSET"),
        args[1].clone(),
        args[2].clone(),
        text.clone(),
    ]);
    Ok(Frame::Bulk(text))
}

/// `HRANDFIELD key [count [WITHVALUES]]`: without a count one random field (null for a missing
/// key); with a count ≥ 0 that many distinct fields (the whole hash when it has fewer); with a
/// negative count that many fields picked independently. WITHVALUES adds values: after each
/// field in RESP2, as `[field, value]` pairs in RESP3. Errors: `ERR value is not an integer or
/// out of range`, `ERR value is out of range, value must between ...` (`i64::MIN`), `ERR value
/// is out of range` (WITHVALUES beyond ±`i64::MAX / 2`), `ERR syntax error`.
pub fn hrandfield(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    if args.len() < 3 {
        let hash = read_hash(ctx, &args[1])?;
        return Ok(hash
            .and_then(Hash::random_pair)
            .map_or(Frame::Null, |(f, _)| bulk(f)));
    }
    let count = parse_i64(&args[2])?;
    if count == i64::MIN {
        return Err(CommandError::msg(COUNT_OUT_OF_RANGE));
    }
    if args.len() > 4 || (args.len() == 4 && !eq_ic(&args[3], "withvalues")) {
        return Err(CommandError::Syntax);
    }
    let with_values = args.len() == 4;
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CommandError::msg(VALUE_OUT_OF_RANGE));
    }
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let Some(hash) = read_hash(ctx, &args[1])? else {
        return Ok(Frame::Array(Vec::new()));
    };
    random_fields(hash, count, with_values, resp3)
}

/// HRANDFIELD with a count (Redis `hrandfieldWithCountCommand`).
fn random_fields(hash: &Hash, count: i64, with_values: bool, resp3: bool) -> Reply {
    let n = count.unsigned_abs();
    if count < 0 && n > MAX_RANDOM_REPLY {
        return Err(CommandError::msg(VALUE_OUT_OF_RANGE));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(n.min(hash.len()) * if with_values { 2 } else { 1 });
    let mut push = |f: LpValue<'_>, v: LpValue<'_>| match (with_values, resp3) {
        (false, _) => out.push(bulk(f)),
        (true, false) => {
            out.push(bulk(f));
            out.push(bulk(v));
        }
        (true, true) => out.push(Frame::Array(vec![bulk(f), bulk(v)])),
    };
    if count < 0 || count == 1 {
        hash.random_pairs(n, &mut push);
    } else {
        hash.random_distinct_pairs(n, &mut push);
    }
    Ok(Frame::Array(out))
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`: `[next-cursor, [field, value, ...]]`. A
/// listpack hash is returned whole with cursor 0. `ERR invalid cursor`, `ERR syntax error`
/// (unknown option, COUNT < 1), `ERR value is not an integer or out of range`. Options are only
/// parsed when the key exists, as in Redis.
pub fn hscan(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let cursor = parse_cursor(&args[2])?;
    let Some(hash) = read_hash(ctx, &args[1])? else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let (pattern, count) = parse_scan_options(&args[3..])?;
    let mut items = Vec::new();
    let next = hash.scan(cursor, count, |f, v| {
        let keep = match pattern {
            Some(p) => f.with_bytes(|fb| glob_match(p, fb, false)),
            None => true,
        };
        if keep {
            items.push(bulk(f));
            items.push(bulk(v));
        }
    });
    Ok(scan_reply(next, items))
}

/// `[cursor, items]`, the cursor as a bulk string.
fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(cursor.to_string())),
        Frame::Array(items),
    ])
}

/// HSCAN's `MATCH pattern` (None for `*`) and `COUNT count` (default 10), in any order, the last
/// one winning.
fn parse_scan_options(opts: &[Bytes]) -> Result<(Option<&[u8]>, usize), CommandError> {
    let (mut pattern, mut count) = (None, 10usize);
    let mut i = 0;
    while i < opts.len() {
        let Some(value) = opts.get(i + 1) else {
            return Err(CommandError::Syntax);
        };
        if eq_ic(&opts[i], "count") {
            let n = parse_i64(value)?;
            if n < 1 {
                return Err(CommandError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(&opts[i], "match") {
            pattern = (&value[..] != b"*").then_some(&value[..]);
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    Ok((pattern, count))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use bytes::Bytes;
    use ferrodis_keyspace::Now;
    use ferrodis_resp::Frame;

    use super::parse_cursor;
    use crate::client::{Client, ClientKind};
    use crate::config::Config;
    use crate::server::Server;

    fn run(server: &Server, client: &mut Client, args: &[&str]) -> Frame {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.to_string())).collect();
        server.execute_at(client, &args, Now::from_unix_ms(1_700_000_000_000))
    }

    #[test]
    fn cursor_parsing_matches_strtoul() {
        assert_eq!(parse_cursor(b"0"), Ok(0));
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"+7"), Ok(7));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"x",
            b"-",
            b"+-1",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn huge_negative_hrandfield_counts_are_refused_not_attempted() {
        let server = Server::new(Config::default());
        let mut c = server
            .clients
            .register(ClientKind::Local, "t:0".into(), "t:0".into(), -1);
        run(&server, &mut c, &["HSET", "h", "a", "1"]);
        let refused = Frame::Error(Bytes::from_static(b"ERR value is out of range"));
        assert_eq!(
            run(
                &server,
                &mut c,
                &["HRANDFIELD", "h", "-9223372036854775807"]
            ),
            refused
        );
        assert_eq!(
            run(&server, &mut c, &["HRANDFIELD", "h", "-134217729"]),
            refused
        );
        let Frame::Array(items) = run(&server, &mut c, &["HRANDFIELD", "h", "-1000", "WITHVALUES"])
        else {
            panic!("not an array");
        };
        assert_eq!(items.len(), 2000);
        assert!(items
            .chunks(2)
            .all(|p| p == [Frame::bulk("a"), Frame::bulk("1")]));
        assert_eq!(
            run(&server, &mut c, &["HRANDFIELD", "h", "9223372036854775807"]),
            Frame::Array(vec![Frame::bulk("a")])
        );
    }
}
