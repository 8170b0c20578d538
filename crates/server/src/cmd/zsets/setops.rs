//! ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis 7.0's
//! `zunionInterDiffGenericCommand`). Inputs may be sorted sets or sets (members of a set score
//! 1). The keyspace guard lends one value at a time, so the inputs are first looked up once
//! each (type check, size), then visited one after the other: a union accumulates into a map,
//! an intersection or difference filters the members of its first input source by source.

use std::collections::HashMap;

use bytes::Bytes;
use ferrodis_keyspace::zset::cmp_entry;
use ferrodis_keyspace::{Set, ValueRef, ZSet};
use ferrodis_resp::Frame;

use super::parse::parse_score;
use super::{resp3, scored_reply, store_result, LIMIT_NEGATIVE, WEIGHT_NOT_FLOAT};
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};

/// The operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

/// How scores of a member in several inputs combine (`AGGREGATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis' `zunionInterAggregate`: a sum that is NaN (`inf + -inf`) becomes 0.
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *target {
                    *target = v;
                }
            }
            Aggregate::Max => {
                if v > *target {
                    *target = v;
                }
            }
        }
    }
}

/// One input key, after its lookup.
struct Source {
    key: Bytes,
    len: usize,
    weight: f64,
}

/// An input value lent by the keyspace.
enum Input<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a Set),
}

impl Input<'_> {
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Input::Missing => {}
            Input::ZSet(z) => z.for_each(f),
            Input::Set(s) => s.for_each(|m| f(m, 1.0)),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::Missing => None,
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
        }
    }
}

/// Runs `f` on the value at `src.key` (looked up without counting a second hit).
fn with_input<R>(
    ctx: &mut Ctx,
    src: &Source,
    f: impl FnOnce(Input<'_>) -> R,
) -> Result<R, CommandError> {
    let db = ctx.db();
    Ok(match ctx.ks.peek(db, &src.key)?.map(|e| e.value()) {
        Some(ValueRef::ZSet(z)) => f(Input::ZSet(z)),
        Some(ValueRef::Set(s)) => f(Input::Set(s)),
        _ => f(Input::Missing),
    })
}

/// The options after the keys.
struct Options {
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Parses WEIGHTS, AGGREGATE, WITHSCORES and LIMIT as each command allows them.
fn parse_options(
    args: &[Bytes],
    sources: &mut [Source],
    op: SetOp,
    store: bool,
    card: bool,
) -> Result<Options, CommandError> {
    let mut o = Options {
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let n = sources.len();
    let mut j = 0;
    while j < args.len() {
        let left = args.len() - j;
        let a = &args[j];
        if op != SetOp::Diff && !card && left > n && eq_ic(a, "weights") {
            for (s, w) in sources.iter_mut().zip(&args[j + 1..=j + n]) {
                s.weight = parse_score(w).ok_or(CommandError::msg(WEIGHT_NOT_FLOAT))?;
            }
            j += n + 1;
        } else if op != SetOp::Diff && !card && left >= 2 && eq_ic(a, "aggregate") {
            o.aggregate = match &args[j + 1] {
                x if eq_ic(x, "sum") => Aggregate::Sum,
                x if eq_ic(x, "min") => Aggregate::Min,
                x if eq_ic(x, "max") => Aggregate::Max,
                _ => return Err(CommandError::Syntax),
            };
            j += 2;
        } else if !store && !card && eq_ic(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card && left >= 2 && eq_ic(a, "limit") {
            let l = parse_i64(&args[j + 1])
                .ok()
                .filter(|&l| l >= 0)
                .ok_or(CommandError::msg(LIMIT_NEGATIVE))?;
            o.limit = usize::try_from(l).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(o)
}

/// Looks every input key up once (`WRONGTYPE` for a key that is neither a set nor a sorted
/// set) and records its size.
fn lookup_sources(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Source>, CommandError> {
    let db = ctx.db();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let len = match ctx.ks.lookup_read(db, key)?.map(|e| e.value()) {
            None => None,
            Some(ValueRef::ZSet(z)) => Some(z.len()),
            Some(ValueRef::Set(s)) => Some(s.len()),
            Some(_) => return Err(CommandError::WrongType),
        };
        let len = len.unwrap_or_else(|| {
            ctx.notify_miss(key);
            0
        });
        out.push(Source {
            key: key.clone(),
            len,
            weight: 1.0,
        });
    }
    Ok(out)
}

/// The union of the inputs with aggregated, weighted scores.
fn union(
    ctx: &mut Ctx,
    sources: &[Source],
    agg: Aggregate,
) -> Result<Vec<(Bytes, f64)>, CommandError> {
    let largest = sources.iter().map(|s| s.len).max().unwrap_or(0);
    let mut acc: HashMap<Bytes, f64, ahash::RandomState> =
        HashMap::with_capacity_and_hasher(largest, ahash::RandomState::new());
    for src in sources.iter().filter(|s| s.len > 0) {
        with_input(ctx, src, |input| {
            input.for_each(|m, s| {
                let mut v = src.weight * s;
                if v.is_nan() {
                    v = 0.0;
                }
                match acc.get_mut(m) {
                    Some(t) => agg.apply(t, v),
                    None => {
                        acc.insert(Bytes::copy_from_slice(m), v);
                    }
                }
            })
        })?;
    }
    Ok(acc.into_iter().collect())
}

/// The members of the first input with their weighted scores (a NaN product counts as 0).
fn first_members(
    ctx: &mut Ctx,
    src: &Source,
    weigh: bool,
) -> Result<Vec<(Bytes, f64)>, CommandError> {
    let mut out = Vec::with_capacity(src.len);
    with_input(ctx, src, |input| {
        input.for_each(|m, s| {
            let v = if weigh { src.weight * s } else { s };
            out.push((Bytes::copy_from_slice(m), if v.is_nan() { 0.0 } else { v }));
        })
    })?;
    Ok(out)
}

/// The intersection (members of every input), aggregating in input order.
fn inter(
    ctx: &mut Ctx,
    sources: &[Source],
    agg: Aggregate,
) -> Result<Vec<(Bytes, f64)>, CommandError> {
    if sources[0].len == 0 {
        return Ok(Vec::new());
    }
    let mut cand = first_members(ctx, &sources[0], true)?;
    for src in &sources[1..] {
        if cand.is_empty() {
            break;
        }
        with_input(ctx, src, |input| {
            cand.retain_mut(|(m, t)| match input.score(m) {
                Some(s) => {
                    agg.apply(t, s * src.weight);
                    true
                }
                None => false,
            })
        })?;
    }
    Ok(cand)
}

/// The members of the first input found in no other, with their first-input scores.
fn diff(ctx: &mut Ctx, sources: &[Source]) -> Result<Vec<(Bytes, f64)>, CommandError> {
    if sources[0].len == 0 {
        return Ok(Vec::new());
    }
    let mut cand = first_members(ctx, &sources[0], false)?;
    for src in sources[1..].iter().filter(|s| s.len > 0) {
        if cand.is_empty() {
            break;
        }
        with_input(ctx, src, |input| {
            cand.retain(|(m, _)| input.score(m).is_none())
        })?;
    }
    Ok(cand)
}

/// The shared body: `numkeys` at `ctx.args[at]`, then the keys, then options.
fn setop(ctx: &mut Ctx, name: &str, at: usize, op: SetOp, store: bool, card: bool) -> Reply {
    let args = ctx.args;
    let numkeys = parse_i64(&args[at])?;
    if numkeys < 1 {
        return Err(CommandError::owned(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    let available = (args.len() - at - 1) as u64;
    if numkeys as u64 > available {
        return Err(CommandError::Syntax);
    }
    let keys_end = at + 1 + numkeys as usize;
    let mut sources = lookup_sources(ctx, &args[at + 1..keys_end])?;
    let o = parse_options(&args[keys_end..], &mut sources, op, store, card)?;
    if op != SetOp::Diff {
        // Smallest first (Redis sorts with qsort by cardinality).
        sources.sort_by_key(|s| s.len);
    }
    let mut result = match op {
        SetOp::Union => union(ctx, &sources, o.aggregate)?,
        SetOp::Inter => inter(ctx, &sources, o.aggregate)?,
        SetOp::Diff => diff(ctx, &sources)?,
    };
    if card {
        let n = if o.limit > 0 {
            result.len().min(o.limit)
        } else {
            result.len()
        };
        return Ok(Frame::Integer(n as i64));
    }
    if store {
        let limits = ctx.server.encoding_limits();
        let dst = args[1].clone();
        return store_result(ctx, &dst, ZSet::from_entries(result, &limits), name);
    }
    result.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    Ok(scored_reply(result, o.withscores, resp3(ctx)))
}

/// `ZUNION numkeys key ... [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
pub fn zunion(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zunion", 1, SetOp::Union, false, false)
}

/// `ZINTER numkeys key ... [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
pub fn zinter(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zinter", 1, SetOp::Inter, false, false)
}

/// `ZDIFF numkeys key ... [WITHSCORES]`.
pub fn zdiff(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zdiff", 1, SetOp::Diff, false, false)
}

/// `ZUNIONSTORE dst numkeys key ... [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`: the size of the
/// stored union.
pub fn zunionstore(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zunionstore", 2, SetOp::Union, true, false)
}

/// `ZINTERSTORE dst numkeys key ... [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`.
pub fn zinterstore(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zinterstore", 2, SetOp::Inter, true, false)
}

/// `ZDIFFSTORE dst numkeys key ...`.
pub fn zdiffstore(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zdiffstore", 2, SetOp::Diff, true, false)
}

/// `ZINTERCARD numkeys key ... [LIMIT limit]`: the size of the intersection, at most `limit`
/// when it is not 0.
pub fn zintercard(ctx: &mut Ctx) -> Reply {
    setop(ctx, "zintercard", 1, SetOp::Inter, false, true)
}
