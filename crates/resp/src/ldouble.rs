//! [`LongDouble`]: a software copy of the x87 80-bit `long double` that Redis' INCRBYFLOAT and
//! HINCRBYFLOAT compute with on x86-64, so Ferrodis can send the very same digits.
//!
//! # Layout of a value
//!
//! | field    | meaning                                                                     |
//! |----------|-----------------------------------------------------------------------------|
//! | sign     | `negative`, also kept for zero                                              |
//! | mantissa | 64 bits with an explicit integer bit (bit 63 set unless subnormal)          |
//! | exponent | the value is `mantissa × 2^exp`, `exp` in `EXP_MIN..=EXP_MAX`                |
//!
//! `EXP_MIN` (-16445) is the exponent of the smallest subnormal, 2^-16445 ≈ 3.6e-4951, and
//! `EXP_MAX` (16320) gives the largest finite value, (2^64 - 1) × 2^16320 ≈ 1.19e4932: the
//! 15-bit exponent range of the x87 format. Every operation rounds to nearest, ties to even, as
//! the x87 unit does in its default mode.
//!
//! Only what INCRBYFLOAT needs is here: parsing with `strtold` rules (decimal and hexadecimal,
//! `inf`/`infinity`), addition, and the "human friendly" `%.17Lf` text. Exact arithmetic on
//! small big integers does the rounding; none of it is on a hot path.

use std::ops::Add;

use crate::bigint::BigUint;

/// Exponent of the smallest subnormal (and of the smallest normal, with bit 63 set).
const EXP_MIN: i64 = -16445;
/// Exponent of the largest finite value.
const EXP_MAX: i64 = 16320;
/// Redis refuses float texts of this many bytes or more (`MAX_LONG_DOUBLE_CHARS`, 5 KiB).
const MAX_TEXT_LEN: usize = 5 * 1024;
/// Decimal places of `%.17Lf`.
const HUMAN_DECIMALS: usize = 17;
/// Saturation bound for parsed exponents: far past any finite or non-zero value.
const EXP_TEXT_CAP: i64 = 1_000_000;

/// An x87 80-bit extended-precision float (the C `long double` of x86-64 Linux).
///
/// Use it to compute INCRBYFLOAT/HINCRBYFLOAT exactly as Redis 7.0 does:
///
/// ```
/// use ferrodis_resp::LongDouble;
///
/// let stored = LongDouble::parse(b"0.1").unwrap();
/// let incr = LongDouble::parse(b"0.2").unwrap();
/// let sum = stored + incr;
/// assert!(sum.is_finite()); // else: "ERR increment would produce NaN or Infinity"
/// let mut text = Vec::new();
/// sum.format_human(&mut text);
/// assert_eq!(text, b"0.3"); // what Redis replies and stores
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongDouble {
    negative: bool,
    class: Class,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    Zero,
    /// `mantissa × 2^exp`, normalised as described in the module docs.
    Finite {
        mantissa: u64,
        exp: i64,
    },
    Infinite,
    Nan,
}

impl LongDouble {
    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble {
        negative: false,
        class: Class::Zero,
    };

    /// Parse a float argument the way Redis' `string2ld` does; `None` is Redis' "ERR value is
    /// not a valid float".
    ///
    /// Accepted (C `strtold`, whole text, C locale): an optional sign, then a decimal number
    /// (`1`, `1.5`, `.5`, `5.`, `1e10`, `1.5E-3`), a hexadecimal one (`0x1.8p3`, `0X.8`), or
    /// `inf` / `infinity` (any case). Rejected: empty texts, texts of 5120 bytes or more, any
    /// whitespace, NaN, and values that overflow (beyond ≈1.19e4932) or underflow to zero
    /// (below ≈1.8e-4951); an exact zero such as `0e-99999` is fine. Checked against
    /// INCRBYFLOAT on redis-server 7.0.15.
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_TEXT_LEN {
            return None;
        }
        let (negative, body) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let parsed = if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity")
        {
            Some(LongDouble {
                negative,
                class: Class::Infinite,
            })
        } else if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(negative, &body[2..])
        } else {
            parse_decimal(negative, body)
        };
        parsed.filter(|value| !value.is_nan())
    }

    /// The exact value of an integer (every `i64` fits in the 64-bit mantissa).
    pub fn from_i64(v: i64) -> LongDouble {
        round_pack(v < 0, u128::from(v.unsigned_abs()), false, 0)
    }

    /// The exact value of `v` (every `f64`, NaN sign included, fits in the 80-bit format).
    pub fn from_f64(v: f64) -> LongDouble {
        let negative = v.is_sign_negative();
        if v.is_nan() {
            return LongDouble {
                negative,
                class: Class::Nan,
            };
        }
        if v.is_infinite() {
            return LongDouble {
                negative,
                class: Class::Infinite,
            };
        }
        if v == 0.0 {
            return LongDouble {
                negative,
                class: Class::Zero,
            };
        }
        let bits = v.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mantissa, exp) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        round_pack(negative, u128::from(mantissa), false, exp)
    }

    /// The `long double` Redis would hold after parsing the shortest decimal text of `v`
    /// (what [`crate::format_long_double`] formats). Non-finite values map to themselves.
    pub(crate) fn from_f64_shortest(v: f64) -> LongDouble {
        if !v.is_finite() {
            return LongDouble::from_f64(v);
        }
        let mut buf = ryu::Buffer::new();
        LongDouble::parse(buf.format_finite(v).as_bytes())
            .unwrap_or_else(|| LongDouble::from_f64(v))
    }

    /// Neither infinite nor NaN. INCRBYFLOAT refuses a non-finite result with "ERR increment
    /// would produce NaN or Infinity".
    pub fn is_finite(self) -> bool {
        matches!(self.class, Class::Zero | Class::Finite { .. })
    }

    /// Not a number (e.g. `inf + -inf`).
    pub fn is_nan(self) -> bool {
        self.class == Class::Nan
    }

    /// Positive or negative infinity.
    pub fn is_infinite(self) -> bool {
        self.class == Class::Infinite
    }

    /// Append Redis' "human friendly" text (`ld2string` with `LD_STR_HUMAN`): C's `%.17Lf`, then
    /// trailing zeros after the point and a trailing `.` removed, and `-0` written `0`.
    ///
    /// Examples: `0.1` → `0.1`, `3000` → `3000`, `1e-20` → `0`, `1.5e-17` →
    /// `0.00000000000000002`, `1e300` → the 301 digits of the nearest `long double`. Infinities
    /// are `inf` / `-inf`, NaN is `nan` / `-nan` by its sign. Source: Redis 7.0 INCRBYFLOAT and
    /// HINCRBYFLOAT replies, checked against redis-server 7.0.15.
    pub fn format_human(self, out: &mut Vec<u8>) {
        let (mantissa, exp) = match self.class {
            Class::Nan => {
                out.extend_from_slice(if self.negative { b"-nan" } else { b"nan" });
                return;
            }
            Class::Infinite => {
                out.extend_from_slice(if self.negative { b"-inf" } else { b"inf" });
                return;
            }
            Class::Zero => {
                out.push(b'0');
                return;
            }
            Class::Finite { mantissa, exp } => (mantissa, exp),
        };
        let digits = scaled_digits(mantissa, exp);
        // `digits` is round(|v| × 10^17) in decimal; put the point 17 places from the right.
        let int_len = digits.len().saturating_sub(HUMAN_DECIMALS);
        let mut fraction = [b'0'; HUMAN_DECIMALS];
        let fraction_digits = &digits[int_len..];
        fraction[HUMAN_DECIMALS - fraction_digits.len()..].copy_from_slice(fraction_digits);
        let kept = fraction
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(0, |at| at + 1);
        let integer: &[u8] = if int_len == 0 {
            b"0"
        } else {
            &digits[..int_len]
        };
        if integer == b"0" && kept == 0 {
            // "-0.00000000000000000" becomes "-0", which Redis rewrites as "0".
            out.push(b'0');
            return;
        }
        if self.negative {
            out.push(b'-');
        }
        out.extend_from_slice(integer);
        if kept > 0 {
            out.push(b'.');
            out.extend_from_slice(&fraction[..kept]);
        }
    }
}

impl Add for LongDouble {
    type Output = LongDouble;

    /// IEEE addition rounded to nearest even, as the x87 unit computes `long double` sums.
    fn add(self, other: LongDouble) -> LongDouble {
        match (self.class, other.class) {
            (Class::Nan, _) => self,
            (_, Class::Nan) => other,
            (Class::Infinite, Class::Infinite) if self.negative != other.negative => {
                // The x87 "default NaN" has its sign bit set.
                LongDouble {
                    negative: true,
                    class: Class::Nan,
                }
            }
            (Class::Infinite, _) => self,
            (_, Class::Infinite) => other,
            (Class::Zero, Class::Zero) => LongDouble {
                negative: self.negative && other.negative,
                class: Class::Zero,
            },
            (Class::Zero, _) => other,
            (_, Class::Zero) => self,
            (
                Class::Finite {
                    mantissa: ma,
                    exp: ea,
                },
                Class::Finite {
                    mantissa: mb,
                    exp: eb,
                },
            ) => add_finite((self.negative, ma, ea), (other.negative, mb, eb)),
        }
    }
}

/// Sum of two finite non-zero values given as `(negative, mantissa, exp)`.
fn add_finite(a: (bool, u64, i64), b: (bool, u64, i64)) -> LongDouble {
    // Order by magnitude; (exp, mantissa) order is magnitude order for normalised values.
    let (big, small) = if (a.2, a.1) >= (b.2, b.1) {
        (a, b)
    } else {
        (b, a)
    };
    const GUARD: u32 = 62;
    let wide_big = u128::from(big.1) << GUARD;
    let distance = (big.2 - small.2) as u64;
    let wide_small_full = u128::from(small.1) << GUARD;
    let (wide_small, sticky) = if distance >= 128 {
        (0, true)
    } else {
        let kept = wide_small_full >> distance;
        (kept, (kept << distance) != wide_small_full)
    };
    let exp = big.2 - i64::from(GUARD);
    if big.0 == small.0 {
        round_pack(big.0, wide_big + wide_small, sticky, exp)
    } else {
        // |big| > |small| + its lost bits whenever bits were lost (distance > 62), so the
        // difference stays positive; a lost fraction f in (0, 1) becomes (m - 1) + (1 - f).
        let difference = wide_big - wide_small - u128::from(sticky);
        if difference == 0 && !sticky {
            return LongDouble::ZERO;
        }
        round_pack(big.0, difference, sticky, exp)
    }
}

/// Round `(m + s) × 2^exp` to the nearest `long double`, ties to even, where `s` is a fraction
/// strictly between 0 and 1 when `sticky` (and 0 otherwise). Overflow gives an infinity and
/// underflow a zero, as the hardware does.
fn round_pack(negative: bool, m: u128, sticky: bool, exp: i64) -> LongDouble {
    if m == 0 {
        return LongDouble {
            negative,
            class: Class::Zero,
        };
    }
    let bits = i64::from(128 - m.leading_zeros());
    let shift = (bits - 64).max(EXP_MIN - exp);
    let (mut mantissa, mut result_exp) = if shift <= 0 {
        // Exact: the sticky fraction lies below the last kept bit, which rounds down.
        (m << (-shift) as u32, exp + shift)
    } else {
        let (kept, remainder, half) = if shift >= 128 {
            (
                0u128,
                m,
                if shift == 128 {
                    1u128 << 127
                } else {
                    u128::MAX
                },
            )
        } else {
            let shift = shift as u32;
            (m >> shift, m & ((1u128 << shift) - 1), 1u128 << (shift - 1))
        };
        let above_half = remainder > half || (remainder == half && sticky);
        let tie_to_odd = remainder == half && !sticky && kept & 1 == 1;
        let rounded = if shift > 128 {
            // Everything is below half the last kept bit (m < 2^128 <= half).
            0
        } else if above_half || tie_to_odd {
            kept + 1
        } else {
            kept
        };
        (rounded, exp + shift)
    };
    if mantissa >> 64 != 0 {
        mantissa >>= 1;
        result_exp += 1;
    }
    if mantissa == 0 {
        return LongDouble {
            negative,
            class: Class::Zero,
        };
    }
    if result_exp > EXP_MAX {
        return LongDouble {
            negative,
            class: Class::Infinite,
        };
    }
    LongDouble {
        negative,
        class: Class::Finite {
            mantissa: mantissa as u64,
            exp: result_exp,
        },
    }
}

/// Decimal digits of round(mantissa × 2^exp × 10^17), ties to even (what `%.17Lf` prints,
/// without the point).
fn scaled_digits(mantissa: u64, exp: i64) -> Vec<u8> {
    const TEN_17: u128 = 100_000_000_000_000_000;
    if exp >= 0 {
        let mut big = BigUint::from_u128(u128::from(mantissa));
        big.shl(exp as u64);
        big.mul_small(1_000_000_000);
        big.mul_small(100_000_000);
        return big.into_decimal();
    }
    // mantissa × 10^17 < 2^64 × 2^57 fits in u128.
    let scaled = u128::from(mantissa) * TEN_17;
    let shift = (-exp) as u64;
    let rounded = if shift >= 128 {
        0 // scaled < 2^121, so the value is below 2^-7.
    } else {
        let shift = shift as u32;
        let kept = scaled >> shift;
        let remainder = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if remainder > half || (remainder == half && kept & 1 == 1) {
            kept + 1
        } else {
            kept
        }
    };
    let mut buf = itoa::Buffer::new();
    buf.format(rounded).as_bytes().to_vec()
}

/// Parse the part after `0x`: hex digits with an optional point, then an optional `p` exponent.
fn parse_hex(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let (mantissa_text, exp_text) = split_exponent(text, b'p');
    let (digits, fraction_len) = split_point(mantissa_text, |b| b.is_ascii_hexdigit())?;
    let exp2 = match exp_text {
        Some(text) => parse_exponent(text)?,
        None => 0,
    };
    let mut value = BigUint::zero();
    for &digit in &digits {
        value.mul_small(16);
        value.add_small(u32::from(hex_value(digit)));
    }
    if value.is_zero() {
        return Some(LongDouble {
            negative,
            class: Class::Zero,
        });
    }
    // Exponent bounds keep the shifts small: beyond them the result is an infinity or a zero.
    let exp = exp2 - 4 * fraction_len as i64;
    let magnitude = value.bit_len() as i64 + exp;
    if magnitude > EXP_MAX + 65 {
        return None;
    }
    if magnitude < EXP_MIN - 2 {
        return None;
    }
    let (top, sticky, top_exp) = value.top_128();
    checked_range(round_pack(negative, top, sticky, exp + top_exp))
}

/// Parse a decimal number: digits with an optional point, then an optional `e` exponent.
fn parse_decimal(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let (mantissa_text, exp_text) = split_exponent(text, b'e');
    let (digits, fraction_len) = split_point(mantissa_text, |b| b.is_ascii_digit())?;
    let exp10 = match exp_text {
        Some(text) => parse_exponent(text)?,
        None => 0,
    };
    let first = digits.iter().position(|&d| d != b'0');
    let Some(first) = first else {
        return Some(LongDouble {
            negative,
            class: Class::Zero,
        });
    };
    let last = digits.iter().rposition(|&d| d != b'0').unwrap_or(first);
    let significant = &digits[first..=last];
    // value = significant × 10^exp
    let exp = exp10 - fraction_len as i64 + (digits.len() - 1 - last) as i64;
    let count = significant.len() as i64;
    // value lies in [10^(count-1+exp), 10^(count+exp)).
    if count - 1 + exp >= 4933 {
        return None; // above 1.19e4932: overflow
    }
    if count + exp <= -4952 {
        return None; // below 1e-4952 < half the smallest subnormal: underflows to zero
    }
    let mut numerator = BigUint::from_decimal(significant);
    let mut denominator = BigUint::from_u128(1);
    if exp >= 0 {
        numerator.mul_pow10(exp as u64);
    } else {
        denominator.mul_pow10((-exp) as u64);
    }
    // Scale so the quotient has 66 or 67 bits: enough to round to 64 with a sticky bit.
    let scale = denominator.bit_len() as i64 - numerator.bit_len() as i64 + 66;
    if scale >= 0 {
        numerator.shl(scale as u64);
    } else {
        denominator.shl((-scale) as u64);
    }
    let (quotient, inexact) = numerator.div_small_quotient(&denominator);
    checked_range(round_pack(negative, quotient, inexact, -scale))
}

/// `strtold` sets ERANGE on overflow and on underflow to zero, and Redis refuses both.
fn checked_range(value: LongDouble) -> Option<LongDouble> {
    match value.class {
        Class::Zero | Class::Infinite => None,
        _ => Some(value),
    }
}

/// Split `text` at the first exponent marker (`marker` in either case).
fn split_exponent(text: &[u8], marker: u8) -> (&[u8], Option<&[u8]>) {
    match text.iter().position(|&b| b | 0x20 == marker) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    }
}

/// Digits of `text` with at most one point removed, and how many came after the point.
/// `None` unless every byte is a digit or the point and there is at least one digit.
fn split_point(text: &[u8], is_digit: impl Fn(u8) -> bool) -> Option<(Vec<u8>, usize)> {
    let mut digits = Vec::with_capacity(text.len());
    let mut fraction_len = 0;
    let mut seen_point = false;
    for &b in text {
        if b == b'.' && !seen_point {
            seen_point = true;
        } else if is_digit(b) {
            digits.push(b);
            if seen_point {
                fraction_len += 1;
            }
        } else {
            return None;
        }
    }
    if digits.is_empty() {
        None
    } else {
        Some((digits, fraction_len))
    }
}

/// An exponent: optional sign and at least one decimal digit, saturated at ±1,000,000.
fn parse_exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i64, |acc, &d| {
        (acc * 10 + i64::from(d - b'0')).min(EXP_TEXT_CAP)
    });
    Some(if negative { -magnitude } else { magnitude })
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn human(value: LongDouble) -> String {
        let mut out = Vec::new();
        value.format_human(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn sum(a: &str, b: &str) -> String {
        match (
            LongDouble::parse(a.as_bytes()),
            LongDouble::parse(b.as_bytes()),
        ) {
            (Some(a), Some(b)) => human(a + b),
            (a, b) => format!("invalid{}{}", u8::from(a.is_some()), u8::from(b.is_some())),
        }
    }

    #[test]
    fn incrbyfloat_replies_of_redis_7_0() {
        // SET k <a>; INCRBYFLOAT k <b> on redis-server 7.0.15.
        let cases = [
            ("0", "0.1", "0.1"),
            ("10.5", "0.1", "10.6"),
            ("0", "3.0e3", "3000"),
            ("0", "5.0e3", "5000"),
            ("0.1", "0.2", "0.3"),
            ("1e20", "0.1", "100000000000000000000"),
            ("0", "-0", "0"),
            ("-1", "1", "0"),
            ("0", "1e-20", "0"),
            ("0", "1.5e-17", "0.00000000000000002"),
            ("0", "2.5e-17", "0.00000000000000002"),
            ("0", "123456789.123456789", "123456789.12345678899873747"),
            ("0", "0x10", "16"),
            ("0", ".5", "0.5"),
            ("0", "5.", "5"),
            ("0", "+5", "5"),
            ("1", "0x1.8p1", "4"),
            ("1", "0x.8", "1.5"),
            ("0", "0X1P-1", "0.5"),
            ("0", "+.5e+1", "5"),
            ("0", "1.5E3", "1500"),
            ("1", "0e-99999", "1"),
            ("0", "3e-4951", "0"),
            ("0", "1.9e-4951", "0"),
            ("0", "1e-4940", "0"),
            ("0", "12345678901234567890123", "12345678901234567889920"),
            ("0", "-5e-18", "0"),
        ];
        for (a, b, want) in cases {
            assert_eq!(sum(a, b), want, "{a} + {b}");
        }
        let huge = sum("0", "1e300");
        assert_eq!(huge.len(), 301);
        assert!(huge.starts_with("100000000000000000000899732407955919387052394427329074793826"));
        let max = sum("0", "1.18973149535723176502e4932");
        assert_eq!(max.len(), 4933);
        assert!(max.starts_with("11897314953572317650212638530309702051690633222946242004403"));
        assert_eq!(sum("0", "0x1.fffffffffffffffep16383"), max);
        assert_eq!(sum("0", "0x1p16383").len(), 4932);
    }

    #[test]
    fn invalid_floats_of_redis_7_0() {
        // "ERR value is not a valid float" on redis-server 7.0.15.
        let long_ok = format!("1.{}", "0".repeat(5117));
        let long_bad = format!("1.{}", "0".repeat(5118));
        assert!(LongDouble::parse(long_ok.as_bytes()).is_some());
        for text in [
            "",
            "abc",
            " 1",
            "1 ",
            "nan",
            "nan(123)",
            "-nan",
            "0x",
            "1e",
            "1e+",
            "-.e1",
            ".",
            "1_0",
            "infinit",
            "1\0abc",
            "\0abc",
            "1e5000",
            "1e-5000",
            "1e-4951",
            "1.8e-4951",
            "1.18973149535723176506e4932",
            "0x1p16384",
            "0x1.ffffffffffffffffp16383",
            "0.1e-4960",
            long_bad.as_str(),
        ] {
            assert_eq!(LongDouble::parse(text.as_bytes()), None, "{text:?}");
        }
        for text in ["inf", "-iNf", "INFINITY", "+infinity"] {
            assert!(
                LongDouble::parse(text.as_bytes()).unwrap().is_infinite(),
                "{text}"
            );
        }
    }

    #[test]
    fn glibc_vectors() {
        // a + b computed with gcc's long double, strtold and printf("%.17Lf") on x86-64;
        // "invalidXY" says which operand string2ld refused.
        let cases = [
            (
                "-0x142c9d9f609e8406p16402",
                "15228718835175330840e-7",
                "invalid01",
            ),
            (
                "4.1287974667558526685e4932",
                "0x3ef521b1a2718093p-16491",
                "invalid01",
            ),
            (
                "-0xb026af757338998ep-16508",
                "4.13878230122016347408e4935",
                "invalid10",
            ),
            ("15436421600e-4961", "390.569", "invalid01"),
            ("-62895503566e-4965", "26666742940e-4929", "invalid01"),
            (
                "-0x9dcd7b818fd6f58f",
                "-5.15845428379617758815e4934",
                "invalid10",
            ),
            (
                "-1.8490612216764142808e4933",
                "-0x16f8a3dcbaf4bff4p16327",
                "invalid00",
            ),
            (
                "-9609464613852197095e7",
                "0x9.ef9aa6927a4385fp+83",
                "41943040",
            ),
            (
                "-5397327134610282330e18",
                "0x8.1ef98bd05805a1ap+119",
                "4611686018427387904",
            ),
            (
                "-5894954754315407458e11",
                "0xe.e18674f9533ee06p+95",
                "584115552256",
            ),
            (
                "0x59525f8baee266f5p-16316",
                "0x5d7952accb10030c",
                "6735505619803964172",
            ),
            (
                "0x1p-16342",
                "-12460606781874281370e-3",
                "-12460606781874281.3701171875",
            ),
            (
                "-0x1p-16368",
                "-1665609050837671403e11",
                "-166560905083767140301150355456",
            ),
            (
                "783.979",
                "0x2b1be048c9d39d8fp-16472",
                "783.97899999999999998",
            ),
            ("-589.911", "0x9.37a4dd2f1a9fbe6p+6", "-0.00000000000000006"),
            (
                "-165.764",
                "-8545319180189644389e14",
                "-854531918018964438896102153912320",
            ),
            (
                "4981364444110706510e-15",
                "-0x9.baaea61ac85a261p+9",
                "-0.00000000000000533",
            ),
            (
                "-0x7319bdd540fea9bf",
                "-18037475539e-4928",
                "-8293868912395594175",
            ),
            (
                "-1830453832424201759e-15",
                "0xe.4ce85cb9379f36p+7",
                "0.00000000000000122",
            ),
            (
                "-14118458784114776594e-20",
                "-754.742",
                "-754.88318458784114778",
            ),
            (
                "33727532588e-4915",
                "-4582947399009835409e3",
                "-4582947399009835408896",
            ),
            ("960.5858200149372875663e-3998", "-562", "-562"),
            ("-34159752340e14", "-0.35765", "-3415975233999999999934464"),
            ("22651.256683", "0.471735", "22651.72841800000000134"),
            (
                "-931507187737e23",
                "-508",
                "-93150718773700000004196517745262592",
            ),
            ("-133027393202e-36", "0.172695", "0.172695"),
            ("6459013552544391224", "-568", "6459013552544390656"),
            ("44852.684972", "0.4029", "44853.08787199999999729"),
            ("-908653493746e-19", "932", "931.99999990913465064"),
        ];
        for (a, b, want) in cases {
            assert_eq!(sum(a, b), want, "{a} + {b}");
        }
    }

    #[test]
    fn special_values() {
        let inf = LongDouble::parse(b"inf").unwrap();
        let minus_inf = LongDouble::parse(b"-inf").unwrap();
        assert!(!inf.is_finite() && inf.is_infinite());
        assert!((inf + minus_inf).is_nan());
        assert!((inf + LongDouble::from_i64(1)).is_infinite());
        assert_eq!(human(inf), "inf");
        assert_eq!(human(minus_inf), "-inf");
        assert_eq!(human(inf + minus_inf), "-nan");
        assert_eq!(human(LongDouble::from_f64(f64::NAN)), "nan");
        let max = LongDouble::parse(b"0x1.fffffffffffffffep16383").unwrap();
        assert!((max + max).is_infinite(), "overflow rounds to infinity");
        assert!(LongDouble::ZERO.is_finite());
    }

    #[test]
    fn integers_and_doubles_are_exact() {
        for v in [0i64, 1, -1, 42, i64::MAX, i64::MIN, 1 << 53, -(1 << 62) + 7] {
            assert_eq!(human(LongDouble::from_i64(v)), v.to_string());
        }
        assert_eq!(human(LongDouble::from_f64(0.1)), "0.10000000000000001");
        assert_eq!(human(LongDouble::from_f64(-2.5)), "-2.5");
        assert_eq!(human(LongDouble::from_f64(5e-324)), "0");
        assert_eq!(LongDouble::from_f64(1.0), LongDouble::from_i64(1));
        assert_eq!(
            LongDouble::from_f64(1e300),
            LongDouble::parse(b"0x1.7e43c8800759cp+996").unwrap()
        );
    }
}
