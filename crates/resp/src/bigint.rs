//! A minimal unsigned big integer for [`crate::LongDouble`]'s exact parsing and printing.
//!
//! Little-endian 32-bit limbs without leading zero limbs; only the handful of operations that
//! correctly rounded decimal/binary conversion needs. Sizes stay below ~35,000 bits (10^10072,
//! the largest power of ten a 5 KiB float text can call for), so schoolbook loops are plenty.

use std::cmp::Ordering;

/// A minimal unsigned big integer (little-endian 32-bit limbs, no leading zero limbs) for exact
/// parsing and printing.
#[derive(Clone, Debug)]
pub(crate) struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    pub(crate) fn zero() -> BigUint {
        BigUint { limbs: Vec::new() }
    }

    pub(crate) fn from_u128(mut v: u128) -> BigUint {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        BigUint { limbs }
    }

    pub(crate) fn from_decimal(digits: &[u8]) -> BigUint {
        let mut value = BigUint::zero();
        for chunk in digits.chunks(9) {
            let mut scale = 1u32;
            let mut chunk_value = 0u32;
            for &d in chunk {
                scale *= 10;
                chunk_value = chunk_value * 10 + u32::from(d - b'0');
            }
            value.mul_small(scale);
            value.add_small(chunk_value);
        }
        value
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    pub(crate) fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            Some(&top) => self.limbs.len() as u64 * 32 - u64::from(top.leading_zeros()),
            None => 0,
        }
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    pub(crate) fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    pub(crate) fn add_small(&mut self, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.limbs {
            if carry == 0 {
                return;
            }
            let sum = u64::from(*limb) + carry;
            *limb = sum as u32;
            carry = sum >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    pub(crate) fn mul_pow10(&mut self, mut power: u64) {
        while power >= 9 {
            self.mul_small(1_000_000_000);
            power -= 9;
        }
        for _ in 0..power {
            self.mul_small(10);
        }
    }

    pub(crate) fn shl(&mut self, bits: u64) {
        if self.is_zero() || bits == 0 {
            return;
        }
        let limb_shift = (bits / 32) as usize;
        let bit_shift = (bits % 32) as u32;
        let mut shifted = vec![0u32; limb_shift];
        shifted.reserve(self.limbs.len() + 1);
        if bit_shift == 0 {
            shifted.extend_from_slice(&self.limbs);
        } else {
            let mut carry = 0u32;
            for &limb in &self.limbs {
                shifted.push((limb << bit_shift) | carry);
                carry = limb >> (32 - bit_shift);
            }
            shifted.push(carry);
        }
        self.limbs = shifted;
        self.trim();
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.limbs.iter_mut().rev() {
            let next_carry = *limb << 31;
            *limb = (*limb >> 1) | carry;
            carry = next_carry;
        }
        self.trim();
    }

    fn compare(&self, other: &BigUint) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }

    /// `self -= other`; requires `self >= other`.
    fn sub_assign(&mut self, other: &BigUint) {
        let mut borrow = 0i64;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let subtrahend = i64::from(other.limbs.get(i).copied().unwrap_or(0)) + borrow;
            let mut value = i64::from(*limb) - subtrahend;
            borrow = 0;
            if value < 0 {
                value += 1 << 32;
                borrow = 1;
            }
            *limb = value as u32;
        }
        self.trim();
    }

    /// The quotient `self / divisor` (which must fit in 127 bits) and whether a remainder
    /// was left. Binary long division: a few dozen subtractions for our scaled operands.
    pub(crate) fn div_small_quotient(mut self, divisor: &BigUint) -> (u128, bool) {
        if divisor.is_zero() {
            return (0, false);
        }
        let quotient_bits = (self.bit_len() + 1)
            .saturating_sub(divisor.bit_len())
            .min(127);
        let mut shifted = divisor.clone();
        shifted.shl(quotient_bits.saturating_sub(1));
        let mut quotient = 0u128;
        for bit in (0..quotient_bits).rev() {
            if self.compare(&shifted) != Ordering::Less {
                self.sub_assign(&shifted);
                quotient |= 1u128 << bit;
            }
            shifted.shr1();
        }
        (quotient, !self.is_zero())
    }

    /// The top 128 bits (or all, if fewer), whether any lower bit was set, and the exponent
    /// of the lowest kept bit.
    pub(crate) fn top_128(&self) -> (u128, bool, i64) {
        let bits = self.bit_len();
        let drop = bits.saturating_sub(128);
        let mut value = 0u128;
        let mut sticky = false;
        for (i, &limb) in self.limbs.iter().enumerate().rev() {
            let low_bit = i as u64 * 32;
            if low_bit >= drop {
                value = (value << 32) | u128::from(limb);
            } else if low_bit + 32 <= drop {
                sticky |= limb != 0;
            } else {
                let cut = (drop - low_bit) as u32;
                value = (value << (32 - cut)) | u128::from(limb >> cut);
                sticky |= limb & ((1u32 << cut) - 1) != 0;
            }
        }
        (value, sticky, drop as i64)
    }

    pub(crate) fn into_decimal(mut self) -> Vec<u8> {
        let mut chunks = Vec::new();
        while !self.is_zero() {
            let mut remainder = 0u64;
            for limb in self.limbs.iter_mut().rev() {
                let current = (remainder << 32) | u64::from(*limb);
                *limb = (current / 1_000_000_000) as u32;
                remainder = current % 1_000_000_000;
            }
            self.trim();
            chunks.push(remainder as u32);
        }
        let mut out = Vec::with_capacity(chunks.len() * 9 + 1);
        let mut buf = itoa::Buffer::new();
        match chunks.pop() {
            Some(top) => out.extend_from_slice(buf.format(top).as_bytes()),
            None => out.push(b'0'),
        }
        for chunk in chunks.iter().rev() {
            let text = buf.format(*chunk).as_bytes();
            out.extend(std::iter::repeat_n(b'0', 9 - text.len()));
            out.extend_from_slice(text);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip() {
        let digits = b"123456789012345678901234567890123456789";
        assert_eq!(
            BigUint::from_decimal(digits).into_decimal(),
            digits.to_vec()
        );
        assert_eq!(BigUint::zero().into_decimal(), b"0".to_vec());
        let mut power = BigUint::from_u128(1);
        power.mul_pow10(30);
        let mut text = b"1".to_vec();
        text.extend_from_slice(&[b'0'; 30]);
        assert_eq!(power.into_decimal(), text);
    }

    #[test]
    fn shifts_and_bits() {
        let mut value = BigUint::from_u128(3);
        value.shl(100);
        assert_eq!(value.bit_len(), 102);
        assert_eq!(value.top_128(), (3u128 << 100, false, 0));
        value.shl(100);
        assert_eq!(value.top_128(), (3u128 << 126, false, 74));
        value.add_small(1);
        assert_eq!(value.top_128(), (3u128 << 126, true, 74));
    }

    #[test]
    fn division_reports_remainders() {
        let mut numerator = BigUint::from_u128(1);
        numerator.mul_pow10(40);
        let mut divisor = BigUint::from_u128(1);
        divisor.mul_pow10(20);
        assert_eq!(
            numerator.clone().div_small_quotient(&divisor),
            (10u128.pow(20), false)
        );
        divisor.add_small(1);
        let (quotient, inexact) = numerator.div_small_quotient(&divisor);
        assert_eq!(quotient, 10u128.pow(20) - 1);
        assert!(inexact);
    }
}
