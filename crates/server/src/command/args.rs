//! Argument parsing helpers: a cursor over a command's arguments.

use bytes::Bytes;

use crate::error::CommandError;

/// A cursor over command arguments that parses typed values with Redis' error replies.
#[derive(Clone, Debug)]
pub struct ArgCursor<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> ArgCursor<'a> {
    /// A cursor at `args[start]`.
    pub fn new(args: &'a [Bytes], start: usize) -> ArgCursor<'a> {
        ArgCursor { args, pos: start }
    }

    /// The next argument, if any.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'a Bytes> {
        let a = self.args.get(self.pos)?;
        self.pos += 1;
        Some(a)
    }

    /// The next argument, or `ERR syntax error` when there is none.
    pub fn required(&mut self) -> Result<&'a Bytes, CommandError> {
        self.next().ok_or(CommandError::Syntax)
    }

    /// The next argument as an `i64` (`ERR syntax error` if missing, `ERR value is not an
    /// integer or out of range` if malformed).
    pub fn required_i64(&mut self) -> Result<i64, CommandError> {
        parse_i64(self.required()?)
    }

    /// The next argument without consuming it.
    pub fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.pos)
    }

    /// Number of arguments left.
    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    /// Whether no argument is left.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The arguments not consumed yet.
    pub fn rest(&self) -> &'a [Bytes] {
        self.args.get(self.pos..).unwrap_or(&[])
    }
}

/// Parses an `i64` argument strictly (Redis `string2ll`): `ERR value is not an integer or out of
/// range` otherwise.
pub fn parse_i64(b: &[u8]) -> Result<i64, CommandError> {
    ferrodis_keyspace::value::parse_i64(b).ok_or(CommandError::NotInteger)
}

/// Parses an `int` argument (Redis `getIntFromObjectOrReply`): `ERR value is not an integer or
/// out of range` when malformed, `ERR value is out of range, value must between -2147483648 and
/// 2147483647` when it does not fit 32 bits.
pub fn parse_i32(b: &[u8]) -> Result<i32, CommandError> {
    let v = parse_i64(b)?;
    i32::try_from(v).map_err(|_| {
        CommandError::msg(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        )
    })
}

/// Case-insensitive ASCII comparison of an argument with a keyword.
pub fn eq_ic(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// Parses a SCAN-family cursor like Redis' `parseScanCursorOrReply` (`strtoul`: decimal digits
/// after an optional sign, a leading `-` wraps around, the empty string is 0):
/// `ERR invalid cursor` otherwise. Used by SCAN, HSCAN, SSCAN and ZSCAN.
pub fn parse_cursor(b: &[u8]) -> Result<u64, CommandError> {
    let err = || CommandError::msg(crate::error::msg::INVALID_CURSOR);
    let s = std::str::from_utf8(b).map_err(|_| err())?;
    let digits = |t: &str| -> Result<u64, CommandError> {
        if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
            return Err(err());
        }
        t.parse().map_err(|_| err())
    };
    match s.as_bytes().first() {
        None => Ok(0),
        Some(b'-') => Ok(digits(&s[1..])?.wrapping_neg()),
        Some(b'+') => digits(&s[1..]),
        Some(_) => digits(s),
    }
}

/// Parses a float argument like Redis' `getDoubleFromObject` (`strtod` on the whole string, no
/// leading space, no NaN): `ERR value is not a valid float` otherwise.
pub fn parse_f64(b: &[u8]) -> Result<f64, CommandError> {
    crate::command::strtod::string2d(b).ok_or(CommandError::NotFloat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_walks_and_parses() {
        let args: Vec<Bytes> = ["SET", "k", "10", "x"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        let mut c = ArgCursor::new(&args, 1);
        assert_eq!(c.remaining(), 3);
        assert_eq!(c.required().map(|b| &b[..]), Ok(&b"k"[..]));
        assert_eq!(c.required_i64(), Ok(10));
        assert_eq!(c.required_i64(), Err(CommandError::NotInteger));
        assert_eq!(c.required(), Err(CommandError::Syntax));
        assert!(eq_ic(b"nX", "nx"));
        assert_eq!(parse_f64(b"1.5"), Ok(1.5));
        assert_eq!(parse_f64(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b" 1"), Err(CommandError::NotFloat));
        assert_eq!(parse_f64(b"nan"), Err(CommandError::NotFloat));
    }
}
