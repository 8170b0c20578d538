//! The HyperLogLog sketch in Redis' exact string representation (Redis `hyperloglog.c`).
//!
//! Layout (all integers little-endian):
//!
//! | offset | bytes | field                                                              |
//! |--------|-------|--------------------------------------------------------------------|
//! | 0      | 4     | magic `HYLL`                                                       |
//! | 4      | 1     | encoding: 0 dense, 1 sparse                                        |
//! | 5      | 3     | unused (zero)                                                      |
//! | 8      | 8     | cached cardinality; bit 7 of byte 15 set means "stale"            |
//! | 16     | ...   | registers                                                          |
//!
//! Dense: 16384 registers of 6 bits, register `i` in bits `6i..6i+6` counted from the least
//! significant bit of byte 0 (12288 bytes). Sparse: a run-length sequence of opcodes covering
//! all 16384 registers:
//!
//! | opcode     | bits                  | meaning                                      |
//! |------------|-----------------------|----------------------------------------------|
//! | `ZERO`     | `00llllll`            | `l + 1` (1..=64) zero registers              |
//! | `XZERO`    | `01llllll llllllll`   | `l + 1` (1..=16384) zero registers           |
//! | `VAL`      | `1vvvvvll`            | `l + 1` (1..=4) registers holding `v + 1`    |
//!
//! A sparse sketch turns dense when a register needs a value above 32 or when it would grow past
//! `hll-sparse-max-bytes`. Reads past the end of the string see a zero byte, as Redis' strings
//! are NUL-terminated, so corrupted sketches behave as they do there, without panicking.

/// Header size in bytes.
pub const HDR: usize = 16;
/// Index bits.
const P: u32 = 14;
/// Hash bits left for the run of zeros.
const Q: usize = 50;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Size of a dense sketch in bytes.
pub const DENSE_BYTES: usize = HDR + (REGISTERS * 6).div_ceil(8);
/// The encoding byte of a dense sketch.
const DENSE: u8 = 0;
/// The encoding byte of a sparse sketch.
const SPARSE: u8 = 1;
/// Largest value a sparse `VAL` opcode holds.
const VAL_MAX_VALUE: u8 = 32;
/// Longest run of a `VAL` opcode.
const VAL_MAX_LEN: usize = 4;
/// Longest run of a `ZERO` opcode.
const ZERO_MAX_LEN: usize = 64;
/// Redis' seed for MurmurHash64A.
const SEED: u64 = 0xadc8_3b19;

/// A sparse sketch whose opcodes do not describe exactly 16384 registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// Whether `b` is a string Redis accepts as a sketch (`isHLLObjectOrReply`): header, magic,
/// known encoding, and the exact size when dense. Sparse opcodes are checked when used.
pub fn is_valid(b: &[u8]) -> bool {
    b.len() >= HDR
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] == SPARSE || b.len() == DENSE_BYTES)
}

/// Whether a (valid) sketch is sparse.
pub fn is_sparse(b: &[u8]) -> bool {
    b[4] == SPARSE
}

/// An empty sparse sketch (`createHLLObject`): one `XZERO` covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    v.extend_from_slice(&xzero_bytes(REGISTERS));
    v
}

/// Marks the cached cardinality stale.
pub fn invalidate(b: &mut [u8]) {
    b[15] |= 0x80;
}

/// The cached cardinality, if not stale.
pub fn cached(b: &[u8]) -> Option<u64> {
    let mut card = [0u8; 8];
    card.copy_from_slice(&b[8..16]);
    (b[15] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores `card` as the (fresh) cached cardinality.
pub fn set_cached(b: &mut [u8], card: u64) {
    b[8..16].copy_from_slice(&card.to_le_bytes());
}

/// MurmurHash64A (Austin Appleby), the 64-bit MurmurHash2 Redis hashes elements with.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let blocks = data.chunks_exact(8);
    let tail = blocks.remainder();
    for block in blocks {
        let mut word = [0u8; 8];
        word.copy_from_slice(block);
        let mut k = u64::from_le_bytes(word).wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^ (h >> R)
}

/// The register of `ele` and the length of its run (`hllPatLen`): the low 14 hash bits pick
/// the register; the value is one more than the trailing zeros of the other 50 bits (1..=51).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of dense registers `regs`.
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let shift = (i * 6) & 7;
    let b0 = u16::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & 63) as u8
}

/// Sets register `i` of dense registers `regs` to `val` (at most 63).
fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let shift = (i * 6) & 7;
    let val = u16::from(val & 63);
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !((63u16 << shift) as u8)) | ((val << shift) as u8);
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        let high = 8 - shift;
        *b = (*b & !((63u16 >> high) as u8)) | ((val >> high) as u8);
    }
}

/// One decoded sparse opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// A run of zero registers; `xzero` for the two-byte form.
    Zero { len: usize, xzero: bool },
    /// A run of `len` registers holding `value`.
    Val { value: u8, len: usize },
}

impl Op {
    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }

    fn bytes(self) -> usize {
        match self {
            Op::Zero { xzero: true, .. } => 2,
            _ => 1,
        }
    }
}

/// The opcode at `p` of `b` (a byte past the end reads as zero).
fn op_at(b: &[u8], p: usize) -> Op {
    let byte = b[p];
    if byte & 0x80 != 0 {
        Op::Val {
            value: ((byte >> 2) & 0x1f) + 1,
            len: usize::from(byte & 3) + 1,
        }
    } else if byte & 0x40 != 0 {
        let low = usize::from(b.get(p + 1).copied().unwrap_or(0));
        Op::Zero {
            len: ((usize::from(byte & 0x3f) << 8) | low) + 1,
            xzero: true,
        }
    } else {
        Op::Zero {
            len: usize::from(byte & 0x3f) + 1,
            xzero: false,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

fn xzero_bytes(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, (l & 0xff) as u8]
}

/// Appends the shortest zero run opcode for `len` registers.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero_bytes(len));
    } else {
        seq.push((len - 1) as u8);
    }
}

/// Calls `f(first_register, op)` for every sparse opcode of `b`; returns the registers covered.
fn for_each_op(b: &[u8], mut f: impl FnMut(usize, Op) -> bool) -> usize {
    let (mut p, mut idx) = (HDR, 0usize);
    while p < b.len() {
        let op = op_at(b, p);
        if !f(idx, op) {
            break;
        }
        idx = idx.saturating_add(op.span());
        p += op.bytes();
    }
    idx
}

/// Converts a sparse sketch to dense in place (`hllSparseToDense`); the header is kept.
pub fn to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if !is_sparse(v) {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_BYTES];
    dense[..HDR].copy_from_slice(&v[..HDR]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR..];
    let covered = for_each_op(v, |first, op| match op {
        Op::Zero { .. } => true,
        Op::Val { value, len } if first + len <= REGISTERS => {
            (first..first + len).for_each(|i| dense_set(regs, i, value));
            true
        }
        Op::Val { .. } => false,
    });
    if covered != REGISTERS {
        return Err(Corrupt);
    }
    *v = dense;
    Ok(())
}

/// Adds `ele` (`hllAdd`): whether a register grew. `max_sparse` is `hll-sparse-max-bytes`.
pub fn add(v: &mut Vec<u8>, ele: &[u8], max_sparse: u64) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    set_register(v, index, count, max_sparse)
}

/// Raises register `index` to `count` if it is lower: whether it changed.
pub fn set_register(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_sparse: u64,
) -> Result<bool, Corrupt> {
    if is_sparse(v) {
        return sparse_set(v, index, count, max_sparse);
    }
    let regs = &mut v[HDR..];
    if count > dense_get(regs, index) {
        dense_set(regs, index, count);
        return Ok(true);
    }
    Ok(false)
}

/// Turns the sketch dense and sets the register (a sparse write that does not fit).
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    let regs = &mut v[HDR..];
    if count > dense_get(regs, index) {
        dense_set(regs, index, count);
    }
    Ok(true)
}

/// `hllSparseSet`: finds the opcode covering `index`, splits it around the new value, then
/// merges equal neighbouring `VAL`s. Promotes to dense as described in the module docs.
fn sparse_set(v: &mut Vec<u8>, index: usize, count: u8, max: u64) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    let end = v.len();
    let (mut p, mut first, mut prev) = (HDR, 0usize, None);
    let mut op = None;
    while p < end {
        let o = op_at(v, p);
        if index < first + o.span() {
            op = Some(o);
            break;
        }
        prev = Some(p);
        p += o.bytes();
        first += o.span();
    }
    let Some(op) = op else {
        return Err(Corrupt);
    };
    let next = (p + op.bytes() < end).then_some(p + op.bytes());
    let span = op.span();
    match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { len: 1, .. }
        | Op::Zero {
            len: 1,
            xzero: false,
        } => {
            v[p] = val_byte(count, 1);
        }
        _ => {
            let last = first + span - 1;
            let mut seq = Vec::with_capacity(5);
            match op {
                Op::Val { value, .. } => {
                    if index != first {
                        seq.push(val_byte(value, index - first));
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        seq.push(val_byte(value, last - index));
                    }
                }
                Op::Zero { .. } => {
                    if index != first {
                        push_zeros(&mut seq, index - first);
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        push_zeros(&mut seq, last - index);
                    }
                }
            }
            let delta = seq.len() as i64 - op.bytes() as i64;
            if delta > 0 && end as u64 + delta as u64 > max {
                return promote(v, index, count);
            }
            // As Redis: the sequence replaces the opcode and what followed it moves; a
            // truncated final XZERO leaves the string `delta` longer than before.
            let tail = next.map(|n| v[n..].to_vec()).unwrap_or_default();
            v.truncate(p);
            v.extend_from_slice(&seq);
            v.extend_from_slice(&tail);
            v.truncate((end as i64 + delta).max(0) as usize);
        }
    }
    merge_vals(v, prev.unwrap_or(HDR));
    invalidate(v);
    Ok(true)
}

/// Merges adjacent `VAL` opcodes with the same value, scanning up to five opcodes from `p`.
fn merge_vals(v: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        match op_at(v, p) {
            Op::Zero { xzero: true, .. } => p += 2,
            Op::Zero { .. } => p += 1,
            Op::Val { value, len } => {
                if let Some(Op::Val { value: v2, len: l2 }) =
                    (p + 1 < v.len()).then(|| op_at(v, p + 1))
                {
                    if v2 == value && len + l2 <= VAL_MAX_LEN {
                        v[p + 1] = val_byte(value, len + l2);
                        v.remove(p);
                        continue;
                    }
                }
                p += 1;
            }
        }
    }
}

/// Raises `max[i]` to register `i` of the sketch for every register (`hllMerge`).
pub fn merge_into(max: &mut [u8], b: &[u8]) -> Result<(), Corrupt> {
    if !is_sparse(b) {
        let regs = &b[HDR..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let covered = for_each_op(b, |first, op| match op {
        Op::Zero { .. } => true,
        Op::Val { value, len } if first + len <= REGISTERS => {
            max[first..first + len]
                .iter_mut()
                .for_each(|m| *m = (*m).max(value));
            true
        }
        Op::Val { .. } => false,
    });
    if covered != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// How many registers hold each value 0..=63 (`hll*RegHisto`); `Corrupt` for a sparse sketch
/// that does not cover exactly 16384 registers.
pub fn histogram(b: &[u8]) -> Result<[u64; 64], Corrupt> {
    let mut h = [0u64; 64];
    if !is_sparse(b) {
        let regs = &b[HDR..];
        (0..REGISTERS).for_each(|i| h[usize::from(dense_get(regs, i))] += 1);
        return Ok(h);
    }
    let covered = for_each_op(b, |_, op| {
        match op {
            Op::Zero { len, .. } => h[0] += len as u64,
            Op::Val { value, len } => h[usize::from(value)] += len as u64,
        }
        true
    });
    if covered != REGISTERS {
        return Err(Corrupt);
    }
    Ok(h)
}

/// The histogram of plain byte registers (the multi-key PFCOUNT union).
pub fn raw_histogram(regs: &[u8]) -> [u64; 64] {
    let mut h = [0u64; 64];
    regs.iter().for_each(|&r| h[usize::from(r & 63)] += 1);
    h
}

/// Ertl's `sigma` (arXiv:1702.01284), as Redis 7.0 computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// Ertl's `tau`, as Redis 7.0 computes it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram (Redis 7.0 `hllCount`).
pub fn estimate(h: &[u64; 64]) -> u64 {
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The dense registers (for PFDEBUG GETREG on a dense sketch).
pub fn dense_registers(b: &[u8]) -> Vec<u8> {
    let regs = &b[HDR..];
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The opcodes of a sparse sketch as PFDEBUG DECODE prints them (`z:N Z:N v:V,N`).
pub fn decode(b: &[u8]) -> String {
    let mut parts = Vec::new();
    for_each_op(b, |_, op| {
        parts.push(match op {
            Op::Zero { len, xzero: false } => format!("z:{len}"),
            Op::Zero { len, xzero: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        });
        true
    });
    parts.join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_sketch_bytes() {
        assert_eq!(new_sparse(), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert_eq!(estimate(&histogram(&new_sparse()).unwrap()), 0);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_BYTES - HDR];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut want = vec![0u8; REGISTERS];
        for (i, w) in want.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *w = (x & 63) as u8;
            dense_set(&mut regs, i, *w);
        }
        assert!((0..REGISTERS).all(|i| dense_get(&regs, i) == want[i]));
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for i in 0..20_000u32 {
            let ele = i.to_le_bytes();
            add(&mut sparse, &ele, 3000).unwrap();
            add(&mut dense, &ele, 3000).unwrap();
            if i % 997 == 0 {
                let a = estimate(&histogram(&sparse).unwrap());
                let b = estimate(&histogram(&dense).unwrap());
                assert_eq!(a, b, "after {i}");
            }
        }
        assert!(!is_sparse(&sparse));
        assert_eq!(sparse[HDR..], dense[HDR..]);
        let n = estimate(&histogram(&dense).unwrap()) as f64;
        assert!((n - 20_000.0).abs() < 20_000.0 * 0.05, "{n}");
    }

    /// Random and mutated opcode strings (a small xorshift fuzzer: the crate has no proptest):
    /// every operation answers or reports `Corrupt`, never panics.
    #[test]
    fn corrupted_sketches_never_panic() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut grown = new_sparse();
        for i in 0..300u32 {
            add(&mut grown, &i.to_le_bytes(), 3000).unwrap();
        }
        for round in 0..3000 {
            let mut v = if round % 2 == 0 {
                let mut v = new_sparse();
                v.truncate(HDR);
                let n = (next() % 40) as usize;
                v.extend((0..n).map(|_| next() as u8));
                v
            } else {
                let mut v = grown.clone();
                for _ in 0..1 + next() % 4 {
                    let at = HDR + (next() as usize) % (v.len() - HDR);
                    v[at] = next() as u8;
                }
                v
            };
            let _ = histogram(&v);
            let _ = decode(&v);
            let mut max = vec![0u8; REGISTERS];
            let _ = merge_into(&mut max, &v);
            let mut w = v.clone();
            let index = (next() as usize) % REGISTERS;
            let _ = set_register(&mut w, index, 1 + (next() % 63) as u8, 3000);
            for e in 0..8u64 {
                let _ = add(&mut v, &(e ^ next()).to_le_bytes(), 40);
            }
            let _ = to_dense(&mut v);
        }
    }
}
