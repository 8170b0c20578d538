//! Redis' strict decimal integer syntax, as its `string2ll` accepts it.
//!
//! Accepted: `0`, or an optional `-` followed by a non-zero digit and more digits, 1 to 20 bytes
//! in all, within `i64`. Rejected: the empty string, `+`, spaces, leading zeros (`01`), `-0`,
//! and anything out of range. The request decoder uses it for `*<count>` and `$<len>` lines,
//! which is why Redis answers `*01` with "invalid multibulk length".

/// Longest text `string2ll` looks at: it gives up on 21 bytes or more.
const MAX_LEN: usize = 20;

/// Parse `text` with Redis' `string2ll` rules; `None` when Redis would reject it.
pub(crate) fn parse_i64_strict(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > MAX_LEN {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(byte - b'0'))?;
    }
    if negative {
        // i64::MIN's magnitude is one more than i64::MAX.
        if magnitude > i64::MAX as u64 + 1 {
            return None;
        }
        Some((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_i64_strict;

    #[test]
    fn accepts_what_string2ll_accepts() {
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"7"), Some(7));
        assert_eq!(parse_i64_strict(b"-1"), Some(-1));
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn rejects_what_string2ll_rejects() {
        for text in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"-0",
            b"-01",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
            b"000000000000000000001",
        ] {
            assert_eq!(
                parse_i64_strict(text),
                None,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
