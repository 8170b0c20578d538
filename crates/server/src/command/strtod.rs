//! Doubles read as C's `strtod` reads them (glibc, "C" locale), and Redis' `string2d` on top of
//! it: what ZADD scores, WEIGHTS, SORT weights and float arguments accept.
//!
//! `strtod` skips leading white space and reads the longest prefix that is a decimal or
//! hexadecimal (`0x1.8p1`) number, `inf`/`infinity` or `nan`, reporting how much it read and
//! whether it overflowed or underflowed (`errno == ERANGE`). [`string2d`] (Redis `string2d`)
//! accepts a whole argument only: no leading space, nothing left over, not NaN, not out of range.

/// What `strtod` read from the front of a byte string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strtod {
    /// The number read (0 when none).
    pub value: f64,
    /// Bytes consumed (0 when no number was found).
    pub used: usize,
    /// `errno == ERANGE`: the text overflowed, or was non-zero but rounded to zero.
    pub out_of_range: bool,
}

/// C's `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn starts_with_ic(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// C's `strtod` (glibc, "C" locale) on `s`: skips leading white space, then reads the longest
/// prefix that is a number.
pub fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        used: 0,
        out_of_range: false,
    };
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let sign = if negative { -1.0 } else { 1.0 };
    let (magnitude, used, out_of_range) = if starts_with_ic(rest, b"infinity") {
        (f64::INFINITY, 8, false)
    } else if starts_with_ic(rest, b"inf") {
        (f64::INFINITY, 3, false)
    } else if starts_with_ic(rest, b"nan") {
        (f64::NAN, nan_len(rest), false)
    } else if let Some(hex) = hex_float(rest) {
        hex
    } else if let Some(dec) = decimal(rest) {
        dec
    } else {
        return none;
    };
    Strtod {
        value: sign * magnitude,
        used: i + used,
        out_of_range,
    }
}

/// Length of `nan` or `nan(chars)`.
fn nan_len(s: &[u8]) -> usize {
    if s.get(3) == Some(&b'(') {
        if let Some(close) = s[4..].iter().position(|&b| b == b')') {
            if s[4..4 + close]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                return 4 + close + 1;
            }
        }
    }
    3
}

/// A decimal number: digits, optional fraction, optional exponent. Returns (|value|, length,
/// out of range).
fn decimal(s: &[u8]) -> Option<(f64, usize, bool)> {
    let int = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut end = int;
    let mut frac = 0;
    if s.get(end) == Some(&b'.') {
        frac = s[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let digits = s[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            end = j + digits;
        }
    }
    let text = std::str::from_utf8(&s[..end]).ok()?;
    // Rust's parser rounds correctly like glibc; it wants a digit before the point.
    let value: f64 = if text.starts_with('.') {
        format!("0{text}").parse().ok()?
    } else {
        text.parse().ok()?
    };
    let nonzero_digit = s[..end]
        .iter()
        .take_while(|b| !matches!(b, b'e' | b'E'))
        .any(|b| (b'1'..=b'9').contains(b));
    let out_of_range = value.is_infinite() || (value == 0.0 && nonzero_digit);
    Some((value, end, out_of_range))
}

/// A hex float `0x` digits [`.` digits] [`p` exponent]. Returns (|value|, length, out of
/// range).
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    if !starts_with_ic(s, b"0x") {
        return None;
    }
    let body = &s[2..];
    let int = body.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let mut end = int;
    let mut frac = 0;
    if body.get(end) == Some(&b'.') {
        frac = body[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    let mantissa = body[..end]
        .iter()
        .filter_map(|&b| char::from(b).to_digit(16))
        .fold(0.0f64, |acc, d| acc * 16.0 + f64::from(d));
    let nonzero = mantissa != 0.0;
    let mut scale = -4 * frac as i32;
    if matches!(body.get(end), Some(b'p' | b'P')) {
        let mut j = end + 1;
        let neg = body.get(j) == Some(&b'-');
        if matches!(body.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let digits = body[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            let exp: i32 = std::str::from_utf8(&body[j..j + digits])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(100_000);
            scale = scale.saturating_add(if neg { -exp } else { exp });
            end = j + digits;
        }
    }
    let value = mantissa * 2f64.powi(scale.clamp(-2000, 2000));
    let out_of_range = value.is_infinite() || (value == 0.0 && nonzero);
    Some((value, 2 + end, out_of_range))
}

/// A score or weight argument, as Redis' `getDoubleFromObject` (`string2d`) reads it; `None`
/// when Redis answers "ERR value is not a valid float" (or, for WEIGHTS, "ERR weight value is
/// not a float").
pub fn string2d(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || is_c_space(arg[0]) {
        return None;
    }
    let r = strtod(arg);
    let bad = r.used != arg.len()
        || r.value.is_nan()
        || (r.out_of_range && (r.value.is_infinite() || r.value == 0.0));
    (!bad).then_some(r.value)
}
