//! The lexical rules of redis.conf and the number formats Redis accepts in it.
//!
//! Everything here works on bytes: a config value may hold any byte (`"\xff"`), and Redis
//! itself never decodes the file as text.

/// Splits one config line into words the way Redis 7.0 does (`sdssplitargs`).
///
/// - Words are separated by blanks (space, tab, CR, LF; leading vertical tab and form feed
///   are skipped too).
/// - `"..."` understands `\n \r \t \b \a \\ \"` and `\xHH`; any other escaped byte stands for
///   itself (`\q` is `q`, `\xZZ` is `xZZ`).
/// - `'...'` understands only `\'`; other backslashes are kept.
/// - A quote may open in the middle of a word (`foo"bar"` is `foobar`), but a closing quote
///   must be followed by a blank or the end of the line.
/// - A NUL byte ends the line, as it does for the C string Redis works on.
///
/// Returns `None` for unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // A NUL byte ends the line, as it does for the C string Redis works on.
    let line = &line[..line.iter().position(|&c| c == 0).unwrap_or(line.len())];
    ferrodis_resp::split_args(line).map(|words| words.into_iter().map(|w| w.to_vec()).collect())
}

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Quotes a word so that [`split_args`] gives it back unchanged (Redis' `sdscatrepr`), used
/// to turn command-line values into config lines exactly as redis-server does.
pub(crate) fn repr(word: &[u8], out: &mut String) {
    out.push('"');
    for &c in word {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(c)),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
}

/// Strips Redis' line blanks (space, tab, CR, LF) from both ends.
pub(crate) fn trim_line(line: &[u8]) -> &[u8] {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|c| !blank(c)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|c| !blank(c))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

/// Redis' strict integer syntax (`string2ll`): an optional `-`, then digits without a
/// leading zero (a lone `0` is fine), nothing else, and no overflow. `+1`, ` 1`, `01`, `-0`
/// are all refused.
pub(crate) fn strict_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits == b"0" && !negative {
        return Some(0);
    }
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let digit = i64::from(c - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(digit)?
        } else {
            value.checked_add(digit)?
        };
    }
    Some(value)
}

/// C's `strtoll(text, &end, base)` followed by a check that `end` reached the end: leading
/// C blanks and a sign are allowed, an empty text is 0, and an overflowing number saturates
/// (`overflowed` tells). Returns `None` when anything is left unparsed.
pub(crate) fn c_strtoll(text: &[u8], base: u32) -> Option<(i64, bool)> {
    let mut pos = 0;
    while pos < text.len() && is_c_space(text[pos]) {
        pos += 1;
    }
    let negative = match text.get(pos) {
        Some(b'-') => {
            pos += 1;
            true
        }
        Some(b'+') => {
            pos += 1;
            false
        }
        _ => false,
    };
    let digits_start = pos;
    let mut magnitude: u128 = 0;
    while let Some(digit) = text.get(pos).and_then(|&c| (c as char).to_digit(base)) {
        magnitude = (magnitude * u128::from(base) + u128::from(digit)).min(1 << 64);
        pos += 1;
    }
    if pos == digits_start {
        // No digits: strtoll leaves `end` at the very start, so only "" passes the check.
        return text.is_empty().then_some((0, false));
    }
    if pos != text.len() {
        return None;
    }
    let signed = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    let clamped = signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    Some((clamped as i64, clamped != signed))
}

/// Redis' memory value syntax (`memtoull`): digits followed by an optional unit `b`, `k`
/// (1000), `kb` (1024), `m`, `mb`, `g`, `gb`, in any case. Like Redis, an empty number is 0
/// (`""`, `"k"`), a too large number saturates and the multiplication wraps around.
pub(crate) fn memory_value(text: &[u8]) -> Option<u64> {
    if text.first() == Some(&b'-') {
        return None;
    }
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = text[digits..].to_ascii_lowercase();
    let multiplier: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1_000_000,
        b"mb" => 1024 * 1024,
        b"g" => 1_000_000_000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let number = text[..digits].iter().fold(0u64, |acc, &c| {
        acc.saturating_mul(10).saturating_add(u64::from(c - b'0'))
    });
    Some(number.wrapping_mul(multiplier))
}

/// Redis' strict float syntax (`string2d`): no blanks, nothing left over, not NaN, and no
/// overflow to infinity (an explicit `inf` is a number and fails the caller's range check).
pub(crate) fn strict_f64(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    if value.is_nan() || (value.is_infinite() && !text.to_ascii_lowercase().contains("inf")) {
        return None;
    }
    Some(value)
}

/// C's `%f` followed by Redis' trimming of trailing zeros (`trimDoubleString`).
pub(crate) fn format_f64(value: f64) -> String {
    let mut text = format!("{value:.6}");
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    text
}

/// Text for humans (error messages, CONFIG GET) from config bytes.
pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
