//! The texts Redis 7.0 uses for floating-point replies.
//!
//! * [`format_double`]: `addReplyDouble`'s text, C's `%.17g` (so `0.1` is sent as
//!   `0.10000000000000001` and `1e300` as `1.0000000000000001e+300`) with `inf`, `-inf`, `nan`,
//!   `-nan` and `-0` spelled as glibc spells them. RESP3 sends it as `,<text>\r\n`, RESP2 as a
//!   bulk string (ZSCORE, ZINCRBY, GEODIST's scores, ...).
//! * [`format_long_double`]: the "human friendly" `long double` text of INCRBYFLOAT and
//!   HINCRBYFLOAT (`%.17Lf`, then trailing zeros and a trailing `.` removed, `-0` written `0`).
//!
//! Both were checked against redis-server 7.0.15 (`ZADD`/`ZSCORE` with `HELLO 2` and `HELLO 3`,
//! `EVAL "return {double=...}"`, `INCRBYFLOAT`).

use std::io::Write as _;

use crate::ldouble::LongDouble;

/// Significant digits of `%.17g`.
const G_PRECISION: i32 = 17;

/// Longest `%.17g` text: `-1.2345678901234567e-308` is 24 bytes, `-0.00012345678901234567`
/// 23; leave room for the scratch `{:.16e}` rendering too.
const DOUBLE_TEXT_CAP: usize = 40;

/// A double rendered as `%.17g` in a stack buffer (no allocation on the reply path).
pub struct DoubleText {
    buf: [u8; DOUBLE_TEXT_CAP],
    len: usize,
}

impl DoubleText {
    /// Render `value` the way Redis 7.0's `addReplyDouble` does.
    pub fn new(value: f64) -> DoubleText {
        let mut text = DoubleText {
            buf: [0; DOUBLE_TEXT_CAP],
            len: 0,
        };
        if value.is_nan() {
            // glibc prints the sign bit of a NaN; Lua's 0/0 on x86-64 is "-nan".
            text.push(if value.is_sign_negative() {
                b"-nan"
            } else {
                b"nan"
            });
        } else if value.is_infinite() {
            text.push(if value < 0.0 { b"-inf" } else { b"inf" });
        } else if value == 0.0 {
            text.push(if value.is_sign_negative() {
                b"-0"
            } else {
                b"0"
            });
        } else {
            text.push_g17(value);
        }
        text
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, bytes: &[u8]) {
        let end = (self.len + bytes.len()).min(DOUBLE_TEXT_CAP);
        let take = end - self.len;
        self.buf[self.len..end].copy_from_slice(&bytes[..take]);
        self.len = end;
    }

    /// `%.17g` for a finite non-zero value.
    ///
    /// Rust's `{:.16e}` gives the same 17 correctly rounded significant digits as glibc (both
    /// round exact ties to even); `%g` then picks fixed or exponent notation from the exponent
    /// and strips trailing zeros.
    fn push_g17(&mut self, value: f64) {
        let mut scratch = [0u8; DOUBLE_TEXT_CAP];
        let written = {
            let mut cursor = std::io::Cursor::new(&mut scratch[..]);
            // Cannot fail: the longest rendering, "-1.7976931348623157e308", fits.
            let _ = write!(cursor, "{:.16e}", value.abs());
            cursor.position() as usize
        };
        let rendered = &scratch[..written];
        let Some(e_at) = rendered.iter().position(|&b| b == b'e') else {
            return;
        };
        let mut digits = [0u8; G_PRECISION as usize];
        let mut count = 0;
        for &b in &rendered[..e_at] {
            if b.is_ascii_digit() && count < digits.len() {
                digits[count] = b;
                count += 1;
            }
        }
        if count == 0 {
            self.push(b"0");
            return;
        }
        let exponent = parse_small_exponent(&rendered[e_at + 1..]);
        // Strip trailing zeros: %g without '#'.
        let mut significant = count;
        while significant > 1 && digits[significant - 1] == b'0' {
            significant -= 1;
        }
        let digits = &digits[..significant];
        if value < 0.0 {
            self.push(b"-");
        }
        if (-4..G_PRECISION).contains(&exponent) {
            if exponent >= 0 {
                let int_len = exponent as usize + 1;
                if digits.len() <= int_len {
                    self.push(digits);
                    for _ in digits.len()..int_len {
                        self.push(b"0");
                    }
                } else {
                    self.push(&digits[..int_len]);
                    self.push(b".");
                    self.push(&digits[int_len..]);
                }
            } else {
                self.push(b"0.");
                for _ in 0..(-exponent - 1) {
                    self.push(b"0");
                }
                self.push(digits);
            }
        } else {
            self.push(&digits[..1]);
            if digits.len() > 1 {
                self.push(b".");
                self.push(&digits[1..]);
            }
            self.push(if exponent < 0 { b"e-" } else { b"e+" });
            let magnitude = exponent.unsigned_abs();
            if magnitude < 10 {
                self.push(b"0");
            }
            let mut buf = itoa::Buffer::new();
            self.push(buf.format(magnitude).as_bytes());
        }
    }
}

/// Parse the exponent Rust's `{:e}` writes (`-5`, `300`).
fn parse_small_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let magnitude = digits
        .iter()
        .filter(|b| b.is_ascii_digit())
        .fold(0i32, |acc, &b| {
            acc.saturating_mul(10).saturating_add(i32::from(b - b'0'))
        });
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Append the text Redis 7.0 replies for a double (`addReplyDouble`): C's `%.17g`.
///
/// Shape: `1.5`, `3`, `0.10000000000000001`, `1e+17`, `1.0000000000000001e-05`, `inf`, `-inf`,
/// `-0`, and for NaN `nan` or `-nan` by its sign bit. RESP3 sends the text after `,`; RESP2 as a
/// bulk string. Source: Redis 7.0 `addReplyDouble`, checked with ZSCORE under `HELLO 2` and
/// `HELLO 3` on redis-server 7.0.15.
pub fn format_double(v: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(DoubleText::new(v).as_bytes());
}

/// Append the INCRBYFLOAT/HINCRBYFLOAT text for `v`: Redis' "human friendly" `long double`
/// format, `%.17Lf` with trailing zeros and a trailing `.` removed, and `-0` written `0`.
///
/// Redis computes INCRBYFLOAT in the x87 80-bit `long double`, whose digits differ from any
/// `f64`'s (`%.17Lf` of the `f64` nearest 0.1 is `0.10000000000000001`, but Redis replies `0.1`
/// to `INCRBYFLOAT k 0.1`). So this formats the `long double` Redis would hold after parsing the
/// shortest decimal text that reads back as `v`: `0.1` → `0.1`, `10.5 + 0.1` → `10.6`, `3.0e3`
/// → `3000`, `1e300` → all 301 digits of the `long double` nearest 10^300, as Redis sends them.
/// It differs from Redis only where the `f64` sum itself lost precision (`0.1 + 0.2` is
/// `0.30000000000000004` in `f64`, while Redis' `long double` sum prints `0.3`): for a reply
/// byte-identical in every case, compute with [`LongDouble`] and use
/// [`LongDouble::format_human`]. `inf`, `-inf` and `nan` are written as such (INCRBYFLOAT itself
/// refuses them with "ERR increment would produce NaN or Infinity").
pub fn format_long_double(v: f64, out: &mut Vec<u8>) {
    LongDouble::from_f64_shortest(v).format_human(out);
}

#[cfg(test)]
// Test inputs are written as users send them (and as exact binary ties), digits and all.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut out = Vec::new();
        format_double(v, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn human(v: f64) -> String {
        let mut out = Vec::new();
        format_long_double(v, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.141 is what `DEBUG PROTOCOL double` sends, not PI.
    fn double_texts_match_redis_7_0() {
        // Every pair below was read from redis-server 7.0.15 (ZADD + ZSCORE, HELLO 3).
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (3.0, "3"),
            (0.1, "0.10000000000000001"),
            (0.3, "0.29999999999999999"),
            (1e300, "1.0000000000000001e+300"),
            (-0.0, "-0"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (1e15, "1000000000000000"),
            (100.0, "100"),
            (2.5e-320, "2.4999721679567075e-320"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (4.9e-324, "4.9406564584124654e-324"),
            (3.141, "3.141"),
            (3.5, "3.5"),
            (-2.5, "-2.5"),
        ];
        for &(value, text) in cases {
            assert_eq!(g(value), text, "{value:e}");
        }
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(-f64::NAN), "-nan");
    }

    #[test]
    fn double_ties_round_to_even_like_glibc() {
        // Exact ties at the 17th digit (values from Python's '%.17g', which rounds like glibc).
        assert_eq!(g(1000000000000000.25), "1000000000000000.2");
        assert_eq!(g(1000000000000000.75), "1000000000000000.8");
    }

    #[test]
    fn long_double_texts_match_redis_7_0() {
        // INCRBYFLOAT replies from redis-server 7.0.15 (SET k 0; INCRBYFLOAT k <v>).
        assert_eq!(human(0.1), "0.1");
        assert_eq!(human(10.5 + 0.1), "10.6");
        assert_eq!(human(3.0e3), "3000");
        assert_eq!(human(5.0e3), "5000");
        assert_eq!(human(-0.0), "0");
        assert_eq!(human(0.0), "0");
        assert_eq!(human(1e18), "1000000000000000000");
        assert_eq!(human(1e-20), "0");
        assert_eq!(human(-1e-20), "0");
        assert_eq!(human(1.5e-17), "0.00000000000000002");
        assert_eq!(human(0.5), "0.5");
        assert_eq!(human(-2.25), "-2.25");
        // The f64 keeps fewer digits than Redis' long double (which replies
        // 123456789.12345678899873747): the shortest text of the f64 is 123456789.12345679,
        // whose long double glibc prints as below.
        assert_eq!(human(123456789.123456789), "123456789.12345679000281962");
        let text = human(1e300);
        assert_eq!(text.len(), 301);
        assert!(text.starts_with("1000000000000000000008997324079559193870523944273290747938260"));
    }
}
