//! Bitmap commands: bit-level access to string values (Redis `bitops.c`).
//!
//! ```text
//! SETBIT key offset value          GETBIT key offset
//! BITCOUNT key [start end [BYTE|BIT]]
//! BITPOS key bit [start [end [BYTE|BIT]]]
//! BITOP AND|OR|XOR|NOT destkey key [key ...]
//! BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value
//!               | [OVERFLOW WRAP|SAT|FAIL] INCRBY type offset increment] ...
//! BITFIELD_RO key [GET type offset ...]
//! ```
//!
//! A bitmap is a string: bit `n` is bit `7 - n % 8` (most significant first) of byte `n / 8`.
//! Reads see `int`-encoded values as their decimal text; every write leaves the value `raw`,
//! grown with zero bytes as needed. Offsets are bounded by `proto-max-bulk-len` before anything
//! is allocated.
//!
//! The error texts are kept here rather than in [`crate::error::msg`] because only this family
//! uses them.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferrodis_keyspace::{StrMut, StrValue, Value, ValueMut, ValueRef};
use ferrodis_resp::Frame;

use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::notify::class;

/// A bad or too large bit offset (SETBIT, GETBIT, BITFIELD).
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
/// SETBIT with a value other than 0 or 1.
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
/// BITPOS with a bit other than 0 or 1.
const BIT_NOT_BINARY: &str = "ERR The bit argument must be 1 or 0.";
/// BITOP NOT with several sources.
const NOT_ONE_SOURCE: &str = "ERR BITOP NOT must be called with a single source key.";
/// A BITFIELD type other than `i1`..`i64`, `u1`..`u63`.
const BAD_FIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
/// A BITFIELD OVERFLOW mode other than WRAP, SAT, FAIL.
const BAD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
/// A write subcommand given to BITFIELD_RO.
const RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// Parses a bit offset (Redis `getBitOffsetFromArgument`). With `hash_bits` a `#N` offset
/// means `N * bits` (multiplied with wrap-around, as Redis does). The byte holding the bit must
/// be below `proto-max-bulk-len`: `ERR bit offset is not an integer or out of range`.
fn bit_offset(ctx: &Ctx, arg: &[u8], hash_bits: Option<u32>) -> Result<u64, CommandError> {
    let err = || CommandError::msg(BAD_OFFSET);
    let (digits, bits) = match (arg.strip_prefix(b"#"), hash_bits) {
        (Some(rest), Some(bits)) => (rest, Some(bits)),
        _ => (arg, None),
    };
    let mut offset = ferrodis_keyspace::value::parse_i64(digits).ok_or_else(err)?;
    if let Some(bits) = bits {
        offset = offset.wrapping_mul(i64::from(bits));
    }
    let limit = ctx.server.hot.proto_max_bulk_len.load(Ordering::Relaxed);
    let offset = u64::try_from(offset).map_err(|_| err())?;
    if offset >> 3 >= limit {
        return Err(err());
    }
    Ok(offset)
}

/// Calls `f` with the bytes of the string at `key` (`None` when missing); `WRONGTYPE` for
/// other types. Does not copy the value.
fn with_string<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, CommandError> {
    let db = ctx.db();
    let found = match ctx.ks.lookup_read(db, key)? {
        None => None,
        Some(e) => match e.value() {
            ValueRef::String(s) => Some(s.with_bytes(f)),
            _ => return Err(CommandError::WrongType),
        },
    };
    if found.is_none() {
        ctx.notify_miss(key);
    }
    Ok(found)
}

/// The string at `key` for a bit write (Redis `lookupStringForBitCommand`): created empty when
/// missing (publishing `new`), `WRONGTYPE` for other types, then made `raw` and zero-padded to
/// hold bit `max_bit`. Also returns whether it was created or grown: a change even when no bit
/// flips (Redis 7.0 then publishes `setbit`).
fn string_for_bit_write<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
    max_bit: u64,
) -> Result<(StrMut<'a>, bool), CommandError> {
    let db = ctx.db();
    let server = ctx.server;
    let new_on = ctx.pre_expire(class::NEW, key)?;
    let (e, created) = ctx
        .ks
        .lookup_write_or_add(db, key, || Value::String(StrValue::Raw(Bytes::new())))?;
    if created && new_on {
        server.notify_keyspace_event(class::NEW, "new", key, db);
    }
    let ValueMut::String(mut s) = e.into_value_mut() else {
        return Err(CommandError::WrongType);
    };
    let need = usize::try_from(max_bit >> 3)
        .ok()
        .and_then(|b| b.checked_add(1))
        .ok_or(CommandError::msg(BAD_OFFSET))?;
    let len = s.len();
    if need > len || !matches!(*s, StrValue::Raw(_)) {
        // Writing the zero padding at the end turns the value raw and grows it.
        s.set_range(len, &vec![0u8; need.saturating_sub(len)]);
    }
    Ok((s, need > len))
}

/// Reads bit `offset` (0 past the end).
fn bit_at(b: &[u8], offset: u64) -> bool {
    let byte = usize::try_from(offset >> 3).ok().and_then(|i| b.get(i));
    byte.is_some_and(|v| v & (0x80 >> (offset & 7)) != 0)
}

/// `SETBIT key offset value`: the bit's previous value. `ERR bit offset is not an integer or
/// out of range`, `ERR bit is not an integer or out of range`, `WRONGTYPE`.
pub fn setbit(ctx: &mut Ctx) -> Reply {
    let offset = bit_offset(ctx, ctx.arg(2), None)?;
    let on = match parse_i64(ctx.arg(3)) {
        Ok(v @ (0 | 1)) => v == 1,
        _ => return Err(CommandError::msg(BAD_BIT)),
    };
    let key = ctx.arg(1).clone();
    let (mut s, grown) = string_for_bit_write(ctx, &key, offset)?;
    // The padding above makes the byte exist.
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let old = s.with_bytes(|b| b.get(byte).copied().unwrap_or(0));
    let new = if on { old | mask } else { old & !mask };
    if new != old {
        s.set_range(byte, &[new]);
    }
    drop(s);
    if grown || new != old {
        ctx.notify(class::STRING, "setbit", &key);
    }
    Ok(Frame::Integer(i64::from(old & mask != 0)))
}

/// `GETBIT key offset`: the bit, 0 past the end or for a missing key.
pub fn getbit(ctx: &mut Ctx) -> Reply {
    let offset = bit_offset(ctx, ctx.arg(2), None)?;
    let key = ctx.arg(1).clone();
    let bit = with_string(ctx, &key, |b| bit_at(b, offset))?.unwrap_or(false);
    Ok(Frame::Integer(i64::from(bit)))
}

/// Whether a range counts bytes or bits (`BYTE | BIT`, since 7.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Byte,
    Bit,
}

fn parse_unit(arg: &[u8]) -> Result<Unit, CommandError> {
    if eq_ic(arg, "bit") {
        Ok(Unit::Bit)
    } else if eq_ic(arg, "byte") {
        Ok(Unit::Byte)
    } else {
        Err(CommandError::Syntax)
    }
}

/// Resolves an inclusive `start..=end` range with negative indexes from the end, in `unit`s of
/// a string of `len` bytes, to an inclusive bit range; `None` when it is empty.
fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => (len as i64).saturating_mul(8),
    };
    let fix = |i: i64| {
        if i < 0 {
            total.saturating_add(i).max(0)
        } else {
            i
        }
    };
    let (start, end) = (fix(start), fix(end).min(total - 1));
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (start * 8, end * 8 + 7),
        Unit::Bit => (start, end),
    })
}

/// Counts the set bits of `b`, eight bytes at a time.
pub fn popcount(b: &[u8]) -> u64 {
    let chunks = b.chunks_exact(8);
    let tail: u64 = chunks
        .remainder()
        .iter()
        .map(|v| u64::from(v.count_ones()))
        .sum();
    chunks.fold(tail, |n, c| {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        n + u64::from(u64::from_ne_bytes(word).count_ones())
    })
}

/// Counts the set bits in the inclusive bit range `lo..=hi` of `b` (which holds `hi`).
fn count_bits(b: &[u8], lo: u64, hi: u64) -> u64 {
    let (first, last) = ((lo >> 3) as usize, (hi >> 3) as usize);
    let mut n = popcount(&b[first..=last]);
    // Take off the bits of the edge bytes outside the range.
    let head = b[first] & !(0xFFu8 >> (lo & 7));
    let tail = b[last] & (0x7Fu8 >> (hi & 7));
    n -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    n
}

/// `BITCOUNT key [start end [BYTE | BIT]]`: the number of set bits, 0 for a missing key.
/// As Redis 7.0, the key is looked up before the range is parsed.
pub fn bitcount(ctx: &mut Ctx) -> Reply {
    let key = ctx.arg(1).clone();
    let args = ctx.args;
    let count = with_string(ctx, &key, |b| -> Result<u64, CommandError> {
        let (lo, hi) = match args.len() {
            2 if b.is_empty() => return Ok(0),
            2 => (0, b.len() as u64 * 8 - 1),
            4 | 5 => {
                let start = parse_i64(&args[2])?;
                let end = parse_i64(&args[3])?;
                let unit = match args.get(4) {
                    Some(u) => parse_unit(u)?,
                    None => Unit::Byte,
                };
                if start < 0 && end < 0 && start > end {
                    return Ok(0);
                }
                match bit_range(b.len(), start, end, unit) {
                    Some(r) => r,
                    None => return Ok(0),
                }
            }
            _ => return Err(CommandError::Syntax),
        };
        Ok(count_bits(b, lo, hi))
    })?;
    Ok(Frame::Integer(count.transpose()?.unwrap_or(0) as i64))
}

/// The first bit equal to `bit` in the inclusive bit range `lo..=hi` of `b` (which holds `hi`).
fn find_bit(b: &[u8], lo: u64, hi: u64, bit: bool) -> Option<u64> {
    let (first, last) = ((lo >> 3) as usize, (hi >> 3) as usize);
    // Look for a set bit in the bytes as they are (bit 1) or inverted (bit 0), with the bits
    // outside the range cleared.
    let byte_at = |i: usize| {
        let mut v = if bit { b[i] } else { !b[i] };
        if i == first {
            v &= 0xFF >> (lo & 7);
        }
        if i == last {
            v &= !(0x7F >> (hi & 7));
        }
        v
    };
    let skip = if bit { 0 } else { 0xFF };
    let hit = if byte_at(first) != 0 {
        Some(first)
    } else if first < last {
        // Whole bytes first (the scan vectorizes), then the last, masked byte.
        let mid = b[first + 1..last].iter().position(|&v| v != skip);
        mid.map(|p| first + 1 + p)
            .or_else(|| (byte_at(last) != 0).then_some(last))
    } else {
        None
    };
    hit.map(|i| i as u64 * 8 + u64::from(byte_at(i).leading_zeros()))
}

/// `BITPOS key bit [start [end [BYTE | BIT]]]`: the position of the first bit equal to `bit`,
/// or -1. A missing key is all zeros (0 for bit 0, -1 for bit 1); without an explicit end the
/// string is zero-padded on the right, so looking for 0 in all ones answers the bit after it.
/// `ERR The bit argument must be 1 or 0.`
pub fn bitpos(ctx: &mut Ctx) -> Reply {
    let bit = match parse_i64(ctx.arg(2))? {
        0 => false,
        1 => true,
        _ => return Err(CommandError::msg(BIT_NOT_BINARY)),
    };
    let key = ctx.arg(1).clone();
    let args = ctx.args;
    let pos = with_string(ctx, &key, |b| -> Result<i64, CommandError> {
        let mut unit = Unit::Byte;
        let (range, end_given) = match args.len() {
            3 => (bit_range(b.len(), 0, -1, Unit::Byte), false),
            4..=6 => {
                let start = parse_i64(&args[3])?;
                if let Some(u) = args.get(5) {
                    unit = parse_unit(u)?;
                }
                match args.get(4) {
                    Some(e) => (bit_range(b.len(), start, parse_i64(e)?, unit), true),
                    None => (bit_range(b.len(), start, -1, unit), false),
                }
            }
            _ => return Err(CommandError::Syntax),
        };
        let Some((lo, hi)) = range else {
            return Ok(-1);
        };
        Ok(match find_bit(b, lo, hi, bit) {
            Some(p) => p as i64,
            // Not found: ones to the end of the string, zeros after it.
            None if !bit && !end_given => (((hi >> 3) + 1) * 8) as i64,
            None => -1,
        })
    })?;
    let missing = if bit { -1 } else { 0 };
    Ok(Frame::Integer(pos.transpose()?.unwrap_or(missing)))
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`: the length of the result, stored at
/// `destkey` (raw, without TTL); missing sources are empty strings, shorter ones are
/// zero-padded. An empty result deletes `destkey`. `ERR syntax error` for another operation,
/// `ERR BITOP NOT must be called with a single source key.`, `WRONGTYPE`.
pub fn bitop(ctx: &mut Ctx) -> Reply {
    let name = ctx.arg(1);
    let op = if eq_ic(name, "and") {
        BitOp::And
    } else if eq_ic(name, "or") {
        BitOp::Or
    } else if eq_ic(name, "xor") {
        BitOp::Xor
    } else if eq_ic(name, "not") {
        BitOp::Not
    } else {
        return Err(CommandError::Syntax);
    };
    if op == BitOp::Not && ctx.args.len() != 4 {
        return Err(CommandError::msg(NOT_ONE_SOURCE));
    }
    let args = ctx.args;
    let mut sources = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        sources.push(with_string(ctx, key, Bytes::copy_from_slice)?.unwrap_or_default());
    }
    let max_len = sources.iter().map(Bytes::len).max().unwrap_or(0);
    let dest = &args[2];
    if max_len == 0 {
        ctx.delete_key(dest)?;
        return Ok(Frame::Integer(0));
    }
    let result = combine(op, &sources, max_len);
    let value = Value::String(StrValue::Raw(Bytes::from(result)));
    ctx.set_key(dest, value, false)?;
    ctx.notify(class::STRING, "set", dest);
    Ok(Frame::Integer(max_len as i64))
}

/// Applies `op` to `sources`, each zero-padded to `len` bytes.
fn combine(op: BitOp, sources: &[Bytes], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    match op {
        BitOp::Not => out.iter_mut().for_each(|v| *v = !*v),
        BitOp::And => {
            for src in rest {
                out[src.len()..].fill(0);
                out.iter_mut().zip(src.iter()).for_each(|(o, s)| *o &= s);
            }
        }
        BitOp::Or => {
            for src in rest {
                out.iter_mut().zip(src.iter()).for_each(|(o, s)| *o |= s);
            }
        }
        BitOp::Xor => {
            for src in rest {
                out.iter_mut().zip(src.iter()).for_each(|(o, s)| *o ^= s);
            }
        }
    }
    out
}

/// What BITFIELD does when a write does not fit its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    /// Keep the low bits (two's complement for signed fields). The default.
    Wrap,
    /// Clamp to the field's minimum or maximum.
    Sat,
    /// Write nothing and answer null.
    Fail,
}

/// A BITFIELD field type: `i1`..`i64` or `u1`..`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldType {
    signed: bool,
    bits: u32,
}

impl FieldType {
    /// Parses `i<bits>` / `u<bits>`: `ERR Invalid bitfield type. ...` otherwise.
    fn parse(arg: &[u8]) -> Result<FieldType, CommandError> {
        let err = || CommandError::msg(BAD_FIELD_TYPE);
        let (signed, rest) = match arg.split_first() {
            Some((b'i', rest)) => (true, rest),
            Some((b'u', rest)) => (false, rest),
            _ => return Err(err()),
        };
        let max = if signed { 64 } else { 63 };
        match ferrodis_keyspace::value::parse_i64(rest) {
            Some(bits @ 1..) if bits <= max => Ok(FieldType {
                signed,
                bits: bits as u32,
            }),
            _ => Err(err()),
        }
    }

    fn min(self) -> i128 {
        if self.signed {
            -(1i128 << (self.bits - 1))
        } else {
            0
        }
    }

    fn max(self) -> i128 {
        if self.signed {
            (1i128 << (self.bits - 1)) - 1
        } else {
            (1i128 << self.bits) - 1
        }
    }

    /// The field's value for its raw `bits` low bits.
    fn value_of(self, raw: u64) -> i64 {
        if self.signed && self.bits < 64 {
            // Sign-extend from the field's top bit.
            let shift = 64 - self.bits;
            ((raw << shift) as i64) >> shift
        } else {
            raw as i64
        }
    }

    /// Fits `v` into the field: `(value, overflowed)` with the `mode`'s value on overflow.
    fn fit(self, v: i128, mode: Overflow) -> (i64, bool) {
        if (self.min()..=self.max()).contains(&v) {
            return (v as i64, false);
        }
        let fitted = match mode {
            Overflow::Sat if v > self.max() => self.max() as i64,
            Overflow::Sat => self.min() as i64,
            _ => self.value_of(v as u64 & low_mask(self.bits)),
        };
        (fitted, true)
    }
}

fn low_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Reads the `bits`-wide big-endian field at bit `offset` of `b` (zeros past the end).
fn get_field(b: &[u8], offset: u64, bits: u32) -> u64 {
    (offset..offset + u64::from(bits)).fold(0, |v, o| (v << 1) | u64::from(bit_at(b, o)))
}

/// Writes the low `bits` bits of `v` at bit `offset` of `s`, which already holds them.
fn set_field(s: &mut StrValue, offset: u64, bits: u32, v: u64) {
    let (first, last) = (offset >> 3, (offset + u64::from(bits) - 1) >> 3);
    let mut window = s.with_bytes(|b| {
        b.get(first as usize..=last as usize)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    });
    let base = first * 8;
    for i in 0..u64::from(bits) {
        let o = offset + i - base;
        let (byte, mask) = ((o >> 3) as usize, 0x80u8 >> (o & 7));
        let Some(cell) = window.get_mut(byte) else {
            return;
        };
        if v >> (u64::from(bits) - 1 - i) & 1 == 1 {
            *cell |= mask;
        } else {
            *cell &= !mask;
        }
    }
    s.set_range(first as usize, &window);
}

/// One parsed BITFIELD subcommand.
#[derive(Clone, Copy, Debug)]
enum FieldOp {
    Get(FieldType, u64),
    Set(FieldType, u64, i64, Overflow),
    IncrBy(FieldType, u64, i64, Overflow),
}

/// Parses BITFIELD's subcommands (Redis `bitfieldGeneric`): `ERR syntax error` for an unknown or
/// incomplete one, then the type, offset and value errors in argument order.
fn parse_field_ops(ctx: &Ctx) -> Result<Vec<FieldOp>, CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut cur = ctx.cursor(2);
    while let Some(sub) = cur.next() {
        let left = cur.remaining();
        if eq_ic(sub, "overflow") && left >= 1 {
            let mode = cur.required()?;
            overflow = if eq_ic(mode, "wrap") {
                Overflow::Wrap
            } else if eq_ic(mode, "sat") {
                Overflow::Sat
            } else if eq_ic(mode, "fail") {
                Overflow::Fail
            } else {
                return Err(CommandError::msg(BAD_OVERFLOW));
            };
            continue;
        }
        let is_get = eq_ic(sub, "get") && left >= 2;
        let is_set = eq_ic(sub, "set") && left >= 3;
        let is_incr = eq_ic(sub, "incrby") && left >= 3;
        if !(is_get || is_set || is_incr) {
            return Err(CommandError::Syntax);
        }
        let ty = FieldType::parse(cur.required()?)?;
        let offset = bit_offset(ctx, cur.required()?, Some(ty.bits))?;
        ops.push(if is_get {
            FieldOp::Get(ty, offset)
        } else {
            let v = cur.required_i64()?;
            if is_set {
                FieldOp::Set(ty, offset, v, overflow)
            } else {
                FieldOp::IncrBy(ty, offset, v, overflow)
            }
        });
    }
    Ok(ops)
}

/// `BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value |
/// [OVERFLOW WRAP|SAT|FAIL] INCRBY type offset increment] ...`: one reply per GET/SET/INCRBY
/// (the value read, the old value, the new value; null when OVERFLOW FAIL stopped a write).
/// With any write the key is created or grown to hold every written field, even if no write
/// happens. `#N` offsets count fields of the type's width.
pub fn bitfield(ctx: &mut Ctx) -> Reply {
    bitfield_generic(ctx, false)
}

/// `BITFIELD_RO key [GET type offset ...]`: BITFIELD restricted to GET (`ERR BITFIELD_RO
/// only supports the GET subcommand`).
pub fn bitfield_ro(ctx: &mut Ctx) -> Reply {
    bitfield_generic(ctx, true)
}

fn bitfield_generic(ctx: &mut Ctx, read_only: bool) -> Reply {
    let ops = parse_field_ops(ctx)?;
    let key = ctx.arg(1).clone();
    let highest_write = ops
        .iter()
        .filter_map(|op| match *op {
            FieldOp::Get(..) => None,
            FieldOp::Set(ty, off, ..) | FieldOp::IncrBy(ty, off, ..) => {
                Some(off + u64::from(ty.bits) - 1)
            }
        })
        .max();
    let Some(highest) = highest_write else {
        let replies = with_string(ctx, &key, |b| field_gets(b, &ops))?;
        return Ok(Frame::Array(
            replies.unwrap_or_else(|| field_gets(&[], &ops)),
        ));
    };
    if read_only {
        return Err(CommandError::msg(RO_ONLY_GET));
    }
    let (mut s, mut changed) = string_for_bit_write(ctx, &key, highest)?;
    let replies = ops
        .iter()
        .map(|op| {
            let (reply, wrote) = field_apply(&mut s, *op);
            changed |= wrote;
            reply
        })
        .collect();
    drop(s);
    if changed {
        ctx.notify(class::STRING, "setbit", &key);
    }
    Ok(Frame::Array(replies))
}

/// The replies of read-only BITFIELD subcommands on `b`.
fn field_gets(b: &[u8], ops: &[FieldOp]) -> Vec<Frame> {
    ops.iter()
        .filter_map(|op| match *op {
            FieldOp::Get(ty, off) => Some(Frame::Integer(ty.value_of(get_field(b, off, ty.bits)))),
            _ => None,
        })
        .collect()
}

/// Runs one BITFIELD subcommand on `s` (which holds every written field): its reply, and
/// whether it changed the field's value.
fn field_apply(s: &mut StrValue, op: FieldOp) -> (Frame, bool) {
    let read = |s: &StrValue, ty: FieldType, off: u64| {
        s.with_bytes(|b| ty.value_of(get_field(b, off, ty.bits)))
    };
    let (ty, off, new, reply, overflowed, mode) = match op {
        FieldOp::Get(ty, off) => return (Frame::Integer(read(s, ty, off)), false),
        FieldOp::Set(ty, off, v, mode) => {
            let old = read(s, ty, off);
            // An unsigned field is set from the value's 64-bit pattern, as Redis does.
            let v = if ty.signed {
                i128::from(v)
            } else {
                i128::from(v as u64)
            };
            let (new, overflowed) = ty.fit(v, mode);
            (ty, off, new, old, overflowed, mode)
        }
        FieldOp::IncrBy(ty, off, incr, mode) => {
            let old = read(s, ty, off);
            let (new, overflowed) = ty.fit(i128::from(old) + i128::from(incr), mode);
            (ty, off, new, new, overflowed, mode)
        }
    };
    if overflowed && mode == Overflow::Fail {
        return (Frame::Null, false);
    }
    let old = read(s, ty, off);
    set_field(s, off, ty.bits, new as u64);
    (Frame::Integer(reply), old != new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popcount_counts_every_byte() {
        let b: Vec<u8> = (0..=255).collect();
        assert_eq!(popcount(&b), 1024);
        assert_eq!(popcount(b"foobar"), 26);
        assert_eq!(popcount(&[]), 0);
    }

    #[test]
    fn ranges_follow_bitcount_rules() {
        assert_eq!(bit_range(6, 1, 1, Unit::Byte), Some((8, 15)));
        assert_eq!(bit_range(6, 5, 30, Unit::Bit), Some((5, 30)));
        assert_eq!(bit_range(6, 0, -1, Unit::Bit), Some((0, 47)));
        assert_eq!(bit_range(6, -100, 100, Unit::Byte), Some((0, 47)));
        assert_eq!(bit_range(6, 3, 2, Unit::Byte), None);
        assert_eq!(bit_range(0, 0, -1, Unit::Byte), None);
        assert_eq!(count_bits(b"foobar", 5, 30), 17);
    }

    #[test]
    fn find_bit_masks_the_edges() {
        let b = [0xFFu8, 0xF0, 0x00];
        assert_eq!(find_bit(&b, 0, 23, false), Some(12));
        assert_eq!(find_bit(&b, 0, 11, false), None);
        assert_eq!(find_bit(&b, 3, 23, true), Some(3));
        assert_eq!(find_bit(&b, 12, 23, true), None);
        assert_eq!(find_bit(&b, 20, 22, false), Some(20));
    }

    #[test]
    fn fields_fit_wrap_and_saturate() {
        let i8t = FieldType::parse(b"i8").expect("i8");
        let u2 = FieldType::parse(b"u2").expect("u2");
        assert_eq!(i8t.fit(128, Overflow::Wrap), (-128, true));
        assert_eq!(i8t.fit(-129, Overflow::Sat), (-128, true));
        assert_eq!(u2.fit(5, Overflow::Wrap), (1, true));
        assert_eq!(u2.fit(-1, Overflow::Sat), (0, true));
        assert_eq!(u2.fit(3, Overflow::Fail), (3, false));
        assert!(FieldType::parse(b"u64").is_err());
        assert!(FieldType::parse(b"i0").is_err());
        assert!(FieldType::parse(b"I8").is_err());
    }

    #[test]
    fn fields_read_and_write_big_endian() {
        let mut s = StrValue::Raw(Bytes::from_static(&[0, 0, 0]));
        set_field(&mut s, 4, 8, 0xAB);
        assert_eq!(&s.to_bytes()[..], &[0x0A, 0xB0, 0]);
        assert_eq!(s.with_bytes(|b| get_field(b, 4, 8)), 0xAB);
        assert_eq!(get_field(&[0xFF], 4, 8), 0xF0);
    }
}
