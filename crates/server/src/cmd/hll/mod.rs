//! HyperLogLog commands (Redis `hyperloglog.c`): approximate distinct counting in a string.
//!
//! ```text
//! PFADD key [element ...]          PFCOUNT key [key ...]
//! PFMERGE destkey [sourcekey ...]  PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
//! PFSELFTEST
//! ```
//!
//! A sketch is a plain string in Redis' byte layout (see [`sketch`]), so `GET` / `SET` / `DUMP`
//! move it between servers unchanged. Every command that may write it first turns it `raw`, as
//! Redis' `dbUnshareStringValue` does. `hll-sparse-max-bytes` is read on each command.
//!
//! The error texts are kept here rather than in [`crate::error::msg`] because only this family
//! uses them.

pub mod sketch;

use bytes::Bytes;
use ferrodis_keyspace::{StrValue, Value, ValueMut, ValueRef};
use ferrodis_resp::Frame;

use crate::command::args::eq_ic;
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

use self::sketch::Corrupt;

/// A string that is not a sketch.
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A sparse sketch whose opcodes do not cover the registers exactly.
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
/// PFDEBUG on a missing key.
const NO_KEY: &str = "ERR The specified key does not exist";
/// PFDEBUG DECODE on a dense sketch.
const NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

impl From<Corrupt> for CommandError {
    fn from(_: Corrupt) -> CommandError {
        CommandError::msg(CORRUPT)
    }
}

/// `hll-sparse-max-bytes`: the largest sparse sketch, header included (default 3000).
fn sparse_max_bytes(ctx: &Ctx) -> u64 {
    ctx.server.with_config(|c| c.hll_sparse_max_bytes())
}

/// Calls `f` with the sketch at `key` (`None` when missing): `WRONGTYPE` for other types,
/// `WRONGTYPE Key is not a valid HyperLogLog string value.` for other strings.
fn with_sketch<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, CommandError> {
    let db = ctx.db();
    let Some(e) = ctx.ks.lookup_read(db, key)? else {
        ctx.notify_miss(key);
        return Ok(None);
    };
    let ValueRef::String(s) = e.value() else {
        return Err(CommandError::WrongType);
    };
    s.with_bytes(|b| {
        if sketch::is_valid(b) {
            Ok(Some(f(b)))
        } else {
            Err(CommandError::msg(NOT_HLL))
        }
    })
}

/// Calls `f` with the sketch at `key` as a mutable buffer, then stores it back `raw` (even
/// when `f` fails, as Redis keeps the writes done before an error). A missing key is created
/// empty when `create`, else `Ok(None)`. `f` also learns whether the key was created.
fn with_sketch_mut<R>(
    ctx: &mut Ctx,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut Vec<u8>, bool) -> R,
) -> Result<Option<R>, CommandError> {
    let db = ctx.db();
    let server = ctx.server;
    let (e, created) = if create {
        let new_on = ctx.pre_expire(class::NEW, key)?;
        let (e, created) = ctx.ks.lookup_write_or_add(db, key, || {
            Value::String(StrValue::Raw(Bytes::from(sketch::new_sparse())))
        })?;
        if created && new_on {
            server.notify_keyspace_event(class::NEW, "new", key, db);
        }
        (e, created)
    } else {
        match ctx.ks.lookup_write(db, key)? {
            Some(e) => (e, false),
            None => return Ok(None),
        }
    };
    let ValueMut::String(mut s) = e.into_value_mut() else {
        return Err(CommandError::WrongType);
    };
    if !s.with_bytes(sketch::is_valid) {
        return Err(CommandError::msg(NOT_HLL));
    }
    let mut v = match std::mem::replace(&mut *s, StrValue::Raw(Bytes::new())) {
        StrValue::Raw(b) => match b.try_into_mut() {
            Ok(m) => Vec::from(m),
            Err(b) => b.to_vec(),
        },
        other => other.with_bytes(<[u8]>::to_vec),
    };
    let r = f(&mut v, created);
    *s = StrValue::Raw(Bytes::from(v));
    Ok(Some(r))
}

/// `PFADD key [element ...]`: 1 when a register changed or the key was created, else 0.
/// `WRONGTYPE`, `WRONGTYPE Key is not a valid HyperLogLog string value.`,
/// `INVALIDOBJ Corrupted HLL object detected`.
pub fn pfadd(ctx: &mut Ctx) -> Reply {
    let max = sparse_max_bytes(ctx);
    let args = ctx.args;
    let updated = with_sketch_mut(ctx, &args[1], true, |v, created| {
        let mut updated = created;
        for ele in &args[2..] {
            updated |= sketch::add(v, ele, max)?;
        }
        if updated {
            sketch::invalidate(v);
        }
        Ok::<_, Corrupt>(updated)
    })?;
    let updated = updated.transpose();
    if updated == Ok(Some(true)) {
        // Redis publishes what was written also when a corrupted sketch stopped the command.
        ctx.notify(class::STRING, "pfadd", &args[1]);
    }
    Ok(Frame::Integer(i64::from(updated?.unwrap_or(false))))
}

/// `PFCOUNT key [key ...]`: the estimated number of distinct elements. One key answers from
/// the cached cardinality, refreshing it when stale; several keys count their union without
/// writing. Missing keys are empty. Errors as PFADD.
pub fn pfcount(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    if args.len() > 2 {
        let mut max = vec![0u8; sketch::REGISTERS];
        for key in &args[1..] {
            if let Some(r) = with_sketch(ctx, key, |b| sketch::merge_into(&mut max, b))? {
                r?;
            }
        }
        let card = sketch::estimate(&sketch::raw_histogram(&max));
        return Ok(Frame::Integer(card as i64));
    }
    let card = with_sketch_mut(ctx, &args[1], false, |v, _| match sketch::cached(v) {
        Some(card) => Ok(card),
        None => {
            let card = sketch::estimate(&sketch::histogram(v)?);
            sketch::set_cached(v, card);
            Ok::<_, Corrupt>(card)
        }
    })?;
    if card.is_none() {
        ctx.notify_miss(&args[1]);
    }
    Ok(Frame::Integer(card.transpose()?.unwrap_or(0) as i64))
}

/// `PFMERGE destkey [sourcekey ...]`: stores the union of the sketches (destkey included) at
/// `destkey`, dense when any input was dense. `OK`; errors as PFADD.
pub fn pfmerge(ctx: &mut Ctx) -> Reply {
    let args = ctx.args;
    let mut max = vec![0u8; sketch::REGISTERS];
    let mut dense = false;
    for key in &args[1..] {
        let merged = with_sketch(ctx, key, |b| {
            dense |= !sketch::is_sparse(b);
            sketch::merge_into(&mut max, b)
        })?;
        merged.transpose()?;
    }
    let limit = sparse_max_bytes(ctx);
    with_sketch_mut(ctx, &args[1], true, |v, _| {
        if dense {
            sketch::to_dense(v)?;
        }
        for (i, &m) in max.iter().enumerate().filter(|(_, &m)| m != 0) {
            // A corrupted destination was rejected above; nothing to report here.
            let _ = sketch::set_register(v, i, m, limit);
        }
        sketch::invalidate(v);
        Ok::<_, Corrupt>(())
    })?
    .transpose()?;
    ctx.notify(class::STRING, "pfadd", &args[1]);
    Ok(Frame::ok())
}

/// A PFDEBUG subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Debug {
    GetReg,
    Decode,
    Encoding,
    ToDense,
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`: the registers (turning the sketch dense), the
/// sparse opcodes as text, `dense` / `sparse`, or whether TODENSE converted it.
/// `ERR The specified key does not exist`, `ERR HLL encoding is not sparse`,
/// `ERR Unknown PFDEBUG subcommand '<name>'`, and the errors of PFADD.
pub fn pfdebug(ctx: &mut Ctx) -> Reply {
    let name = ctx.arg(1).clone();
    let sub = [
        ("getreg", Debug::GetReg),
        ("decode", Debug::Decode),
        ("encoding", Debug::Encoding),
        ("todense", Debug::ToDense),
    ]
    .into_iter()
    .find(|(n, _)| eq_ic(&name, n))
    .map(|(_, d)| d);
    let key = ctx.arg(2).clone();
    let reply = with_sketch_mut(ctx, &key, false, |v, _| -> Reply {
        let Some(sub) = sub else {
            let mut text = b"ERR Unknown PFDEBUG subcommand '".to_vec();
            text.extend_from_slice(&name);
            text.push(b'\'');
            return Err(CommandError::Raw(Bytes::from(text)));
        };
        match sub {
            Debug::GetReg => {
                sketch::to_dense(v)?;
                let regs = sketch::dense_registers(v);
                Ok(Frame::Array(
                    regs.into_iter()
                        .map(|r| Frame::Integer(i64::from(r)))
                        .collect(),
                ))
            }
            Debug::Decode if !sketch::is_sparse(v) => Err(CommandError::msg(NOT_SPARSE)),
            Debug::Decode => Ok(Frame::bulk(sketch::decode(v))),
            Debug::Encoding if sketch::is_sparse(v) => Ok(Frame::simple("sparse")),
            Debug::Encoding => Ok(Frame::simple("dense")),
            Debug::ToDense => {
                let sparse = sketch::is_sparse(v);
                sketch::to_dense(v)?;
                Ok(Frame::Integer(i64::from(sparse)))
            }
        }
    })?;
    reply.unwrap_or(Err(CommandError::msg(NO_KEY)))
}

/// `PFSELFTEST`: checks the register packing and that sparse and dense sketches agree and
/// estimate within bounds; `OK` or an `ERR TESTFAILED ...` error. Lighter than Redis' (which
/// adds ten million elements): 100,000 elements, checked at every power of ten.
pub fn pfselftest(_ctx: &mut Ctx) -> Reply {
    let mut sparse = sketch::new_sparse();
    let mut dense = sketch::new_sparse();
    sketch::to_dense(&mut dense)?;
    let rel_err = 1.04 / (sketch::REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let ele = (j ^ 0x5bd1_e995_c6a4_a793).to_le_bytes();
        sketch::add(&mut sparse, &ele, 3000)?;
        sketch::add(&mut dense, &ele, 3000)?;
        if j != checkpoint {
            continue;
        }
        if j < 1500 && !sketch::is_sparse(&sparse) {
            return Err(CommandError::msg("ERR TESTFAILED sparse encoding not used"));
        }
        let card = sketch::estimate(&sketch::histogram(&dense)?);
        if sketch::estimate(&sketch::histogram(&sparse)?) != card {
            return Err(CommandError::msg("ERR TESTFAILED dense/sparse disagree"));
        }
        let max_err = if j == 10 {
            1
        } else {
            (rel_err * 6.0 * j as f64).ceil() as u64
        };
        if card.abs_diff(j) > max_err {
            return Err(CommandError::owned(format!(
                "ERR TESTFAILED Too big error. card:{j} abserr:{}",
                card.abs_diff(j)
            )));
        }
        checkpoint *= 10;
    }
    Ok(Frame::ok())
}
