//! General RESP2/RESP3 frame decoding: [`decode_frame`] and [`FrameError`].
//!
//! | first byte | type            | body                          | decodes to                   |
//! |------------|-----------------|-------------------------------|------------------------------|
//! | `+`        | simple string   | line                          | [`Frame::Simple`]            |
//! | `-`        | error           | line                          | [`Frame::Error`]             |
//! | `:`        | integer         | line, `i64`                   | [`Frame::Integer`]           |
//! | `$`        | bulk string     | `len\r\n` payload `\r\n`      | [`Frame::Bulk`] (`-1`: Null) |
//! | `*`        | array           | `n\r\n` n frames              | [`Frame::Array`] (`-1`: [`Frame::NullArray`]) |
//! | `_`        | null            | empty line                    | [`Frame::Null`]              |
//! | `,`        | double          | line (`1.5`, `inf`, `nan`)    | [`Frame::Double`]            |
//! | `#`        | boolean         | `t` or `f`                    | [`Frame::Boolean`]           |
//! | `(`        | big number      | line, `[+-]?digits`           | [`Frame::BigNumber`]         |
//! | `!`        | blob error      | `len\r\n` payload `\r\n`      | [`Frame::Error`]             |
//! | `=`        | verbatim string | `len\r\n` `fmt:` text `\r\n`  | [`Frame::Verbatim`]          |
//! | `%`        | map             | `n\r\n` 2n frames             | [`Frame::Map`]               |
//! | `~`        | set             | `n\r\n` n frames              | [`Frame::Set`]               |
//! | `>`        | push            | `n\r\n` n frames              | [`Frame::Push`]              |
//! | `\|`       | attribute       | `n\r\n` 2n frames, then one   | [`Frame::Attribute`]         |
//!
//! Lines end with `\r\n` (strictly, unlike the request decoder). Streamed strings and
//! aggregates (`$?`, `*?`), which Redis 7.0 never sends, are refused. Source: `RESP3.md`.
//!
//! Decoding checks that a whole frame has arrived before building anything (incomplete is not
//! invalid), then builds it from one frozen split of the buffer, so bulk payloads are not
//! copied. An incomplete frame is checked again from its start on the next call.

use bytes::{Bytes, BytesMut};

use crate::frame::Frame;
use crate::number::parse_i64_strict;

/// Deepest nesting of aggregates [`decode_frame`] accepts (a bound on its recursion); deeper
/// frames are [`FrameError::TooDeep`]. Redis' own replies nest fewer than 10 levels.
pub const MAX_FRAME_DEPTH: usize = 256;

/// A malformed frame. Unlike [`crate::ProtocolError`] these texts are ours: Redis never reports
/// malformed replies to anyone.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The first byte is not a RESP2/RESP3 type byte.
    #[error("invalid frame type byte 0x{0:02x}")]
    InvalidType(u8),
    /// A length or count is not an integer, or is negative other than a RESP2 null's `-1`.
    #[error("invalid length or count")]
    InvalidLength,
    /// A streamed string or aggregate (`?` length), which this decoder does not support.
    #[error("streamed RESP3 types are not supported")]
    Streamed,
    /// A line or payload does not end with `\r\n`.
    #[error("missing CRLF")]
    MissingCrlf,
    /// An integer line is not an `i64`.
    #[error("invalid integer")]
    InvalidInteger,
    /// A double line is not a number, `inf` or `nan`.
    #[error("invalid double")]
    InvalidDouble,
    /// A boolean line is neither `t` nor `f`.
    #[error("invalid boolean")]
    InvalidBoolean,
    /// A big number line is not an optionally signed run of decimal digits.
    #[error("invalid big number")]
    InvalidBigNumber,
    /// A null line is not empty.
    #[error("invalid null")]
    InvalidNull,
    /// A verbatim string is shorter than 4 bytes or lacks the `:` after its format.
    #[error("invalid verbatim string")]
    InvalidVerbatim,
    /// Aggregates nest deeper than [`MAX_FRAME_DEPTH`].
    #[error("frame nested deeper than {MAX_FRAME_DEPTH} levels")]
    TooDeep,
}

/// Decode one RESP2 or RESP3 frame from the front of `buf`.
///
/// `Ok(Some(frame))` consumes the frame's bytes; `Ok(None)` means the frame is incomplete and
/// leaves `buf` untouched. RESP2 nulls (`$-1`, `*-1`) decode to [`Frame::Null`] and
/// [`Frame::NullArray`]; RESP3's `_` to [`Frame::Null`]. Nothing is allocated before the whole
/// frame has arrived, whatever lengths it announces.
///
/// # Errors
///
/// [`FrameError`] when the bytes cannot be a frame (the buffer is left as it was). Never panics.
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    let Some(end) = scan(buf, 0, 0)? else {
        return Ok(None);
    };
    let data = buf.split_to(end).freeze();
    let (frame, _) = build(&data, 0)?;
    Ok(Some(frame))
}

/// Every RESP2 and RESP3 type byte (see the table at the top).
const TYPE_BYTES: &[u8] = b"+-:$*_,#(!=%~>|";

/// The header of a frame: its type byte and what follows it on its first line.
enum Head {
    /// A one-line type; the line's content is `start..end`.
    Line { kind: u8, start: usize, end: usize },
    /// A blob with its payload length (`None`: the RESP2 null `$-1`).
    Blob { kind: u8, len: Option<usize> },
    /// An aggregate with its element count (`None`: the RESP2 null array `*-1`).
    Aggregate { kind: u8, count: Option<usize> },
}

/// Read the header line at `pos`; returns it and where the body starts.
fn head(buf: &[u8], pos: usize) -> Result<Option<(Head, usize)>, FrameError> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    if !TYPE_BYTES.contains(&kind) {
        return Err(FrameError::InvalidType(kind));
    }
    let start = pos + 1;
    let rest = buf.get(start..).unwrap_or_default();
    let Some(cr) = memchr::memchr(b'\r', rest) else {
        return Ok(None);
    };
    let end = start + cr;
    match buf.get(end + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(FrameError::MissingCrlf),
    }
    let line = &buf[start..end];
    let next = end + 2;
    let head = match kind {
        b'$' | b'!' | b'=' => Head::Blob {
            kind,
            len: length(line, kind == b'$')?,
        },
        b'*' | b'%' | b'~' | b'>' | b'|' => Head::Aggregate {
            kind,
            count: length(line, kind == b'*')?,
        },
        _ => Head::Line { kind, start, end },
    };
    Ok(Some((head, next)))
}

/// A length or count; `-1` is a null where `null_allowed`.
fn length(line: &[u8], null_allowed: bool) -> Result<Option<usize>, FrameError> {
    if line == b"?" {
        return Err(FrameError::Streamed);
    }
    match parse_i64_strict(line) {
        Some(-1) if null_allowed => Ok(None),
        Some(n) => usize::try_from(n)
            .map(Some)
            .map_err(|_| FrameError::InvalidLength),
        None => Err(FrameError::InvalidLength),
    }
}

/// Check that a whole, valid frame starts at `pos`; returns where it ends.
fn scan(buf: &[u8], pos: usize, depth: usize) -> Result<Option<usize>, FrameError> {
    if depth > MAX_FRAME_DEPTH {
        return Err(FrameError::TooDeep);
    }
    let Some((head, next)) = head(buf, pos)? else {
        return Ok(None);
    };
    match head {
        Head::Line { kind, start, end } => {
            line_frame(kind, &buf[start..end], Bytes::new)?;
            Ok(Some(next))
        }
        Head::Blob { len: None, .. } | Head::Aggregate { count: None, .. } => Ok(Some(next)),
        Head::Blob {
            kind,
            len: Some(len),
        } => {
            let Some(end) = next.checked_add(len).and_then(|end| end.checked_add(2)) else {
                return Err(FrameError::InvalidLength);
            };
            if buf.len() < end {
                return Ok(None);
            }
            if &buf[end - 2..end] != b"\r\n" {
                return Err(FrameError::MissingCrlf);
            }
            if kind == b'=' && (len < 4 || buf[next + 3] != b':') {
                return Err(FrameError::InvalidVerbatim);
            }
            Ok(Some(end))
        }
        Head::Aggregate {
            kind,
            count: Some(count),
        } => {
            let items = element_count(kind, count)?;
            let mut at = next;
            for _ in 0..items {
                match scan(buf, at, depth + 1)? {
                    Some(end) => at = end,
                    None => return Ok(None),
                }
            }
            if kind == b'|' {
                return scan(buf, at, depth + 1);
            }
            Ok(Some(at))
        }
    }
}

/// Frames inside an aggregate: two per pair for maps and attributes.
fn element_count(kind: u8, count: usize) -> Result<usize, FrameError> {
    if kind == b'%' || kind == b'|' {
        count.checked_mul(2).ok_or(FrameError::InvalidLength)
    } else {
        Ok(count)
    }
}

/// Build the frame at `pos` of a buffer [`scan`] accepted; returns it and where it ends.
fn build(data: &Bytes, pos: usize) -> Result<(Frame, usize), FrameError> {
    // `scan` accepted these bytes, so `head` finds complete headers here; a `None` would be
    // a bug, reported as an error rather than a panic.
    let (head, next) = head(data, pos)?.ok_or(FrameError::InvalidLength)?;
    match head {
        Head::Line { kind, start, end } => {
            let frame = line_frame(kind, &data[start..end], || data.slice(start..end))?;
            Ok((frame, next))
        }
        Head::Blob { len: None, .. } => Ok((Frame::Null, next)),
        Head::Aggregate { count: None, .. } => Ok((Frame::NullArray, next)),
        Head::Blob {
            kind,
            len: Some(len),
        } => {
            let end = next + len;
            if data.len() < end + 2 || (kind == b'=' && len < 4) {
                return Err(FrameError::InvalidLength);
            }
            let payload = data.slice(next..end);
            let frame = match kind {
                b'!' => Frame::Error(payload),
                b'=' => {
                    let format = [data[next], data[next + 1], data[next + 2]];
                    Frame::Verbatim {
                        format,
                        text: payload.slice(4..),
                    }
                }
                _ => Frame::Bulk(payload),
            };
            Ok((frame, end + 2))
        }
        Head::Aggregate {
            kind,
            count: Some(count),
        } => {
            let mut at = next;
            if kind == b'%' || kind == b'|' {
                let mut pairs = Vec::with_capacity(count);
                for _ in 0..count {
                    let (key, after_key) = build(data, at)?;
                    let (value, after_value) = build(data, after_key)?;
                    pairs.push((key, value));
                    at = after_value;
                }
                if kind == b'|' {
                    let (value, end) = build(data, at)?;
                    return Ok((
                        Frame::Attribute {
                            attrs: pairs,
                            value: Box::new(value),
                        },
                        end,
                    ));
                }
                return Ok((Frame::Map(pairs), at));
            }
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                let (item, end) = build(data, at)?;
                items.push(item);
                at = end;
            }
            let frame = match kind {
                b'~' => Frame::Set(items),
                b'>' => Frame::Push(items),
                _ => Frame::Array(items),
            };
            Ok((frame, at))
        }
    }
}

/// Validate a one-line frame and build it; `text` makes the `Bytes` of the line when needed.
fn line_frame(kind: u8, line: &[u8], text: impl FnOnce() -> Bytes) -> Result<Frame, FrameError> {
    Ok(match kind {
        b'+' => Frame::Simple(text()),
        b'-' => Frame::Error(text()),
        b':' => Frame::Integer(parse_integer(line).ok_or(FrameError::InvalidInteger)?),
        b'_' if line.is_empty() => Frame::Null,
        b'_' => return Err(FrameError::InvalidNull),
        b',' => Frame::Double(parse_double(line).ok_or(FrameError::InvalidDouble)?),
        b'#' => match line {
            b"t" => Frame::Boolean(true),
            b"f" => Frame::Boolean(false),
            _ => return Err(FrameError::InvalidBoolean),
        },
        b'(' => {
            let digits = match line.first() {
                Some(b'-' | b'+') => &line[1..],
                _ => line,
            };
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(FrameError::InvalidBigNumber);
            }
            Frame::BigNumber(text())
        }
        other => return Err(FrameError::InvalidType(other)),
    })
}

/// An `i64` with an optional sign (replies are canonical, but other servers may send `+5`).
fn parse_integer(line: &[u8]) -> Option<i64> {
    let unsigned = match line.split_first() {
        Some((b'+', rest)) if rest.first() != Some(&b'-') => rest,
        _ => line,
    };
    parse_i64_strict(unsigned).or_else(|| std::str::from_utf8(unsigned).ok()?.parse().ok())
}

/// A double: decimal or exponent notation, `inf`, `-inf`, `nan`, `-nan` (any case).
fn parse_double(line: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(line).ok()?;
    match text {
        "nan" | "NaN" => Some(f64::NAN),
        "-nan" | "-NaN" => Some(-f64::NAN),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Option<Frame>, FrameError> {
        let mut buf = BytesMut::from(bytes);
        let decoded = decode_frame(&mut buf);
        if let Ok(Some(_)) = decoded {
            assert!(buf.is_empty(), "left over: {buf:?}");
        } else {
            assert_eq!(&buf[..], bytes, "buffer changed");
        }
        decoded
    }

    fn bulk(b: &'static [u8]) -> Frame {
        Frame::Bulk(Bytes::from_static(b))
    }

    #[test]
    fn simple_types() {
        assert_eq!(one(b"+OK\r\n").unwrap(), Some(Frame::ok()));
        assert_eq!(one(b"-ERR x\r\n").unwrap(), Some(Frame::error("ERR x")));
        assert_eq!(one(b":-42\r\n").unwrap(), Some(Frame::Integer(-42)));
        assert_eq!(one(b":+42\r\n").unwrap(), Some(Frame::Integer(42)));
        assert_eq!(one(b"_\r\n").unwrap(), Some(Frame::Null));
        assert_eq!(one(b",1.5\r\n").unwrap(), Some(Frame::Double(1.5)));
        assert_eq!(
            one(b",-inf\r\n").unwrap(),
            Some(Frame::Double(f64::NEG_INFINITY))
        );
        assert_eq!(one(b"#t\r\n").unwrap(), Some(Frame::Boolean(true)));
        assert_eq!(one(b"#f\r\n").unwrap(), Some(Frame::Boolean(false)));
        assert_eq!(
            one(b"(-123456789012345678901234567890\r\n").unwrap(),
            Some(Frame::BigNumber(Bytes::from_static(
                b"-123456789012345678901234567890"
            )))
        );
        match one(b",-nan\r\n").unwrap() {
            Some(Frame::Double(d)) => assert!(d.is_nan() && d.is_sign_negative()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn blobs() {
        assert_eq!(one(b"$5\r\nhello\r\n").unwrap(), Some(bulk(b"hello")));
        assert_eq!(one(b"$0\r\n\r\n").unwrap(), Some(bulk(b"")));
        assert_eq!(one(b"$-1\r\n").unwrap(), Some(Frame::Null));
        assert_eq!(one(b"$2\r\n\r\n\r\n").unwrap(), Some(bulk(b"\r\n")));
        assert_eq!(
            one(b"!5\r\nERR x\r\n").unwrap(),
            Some(Frame::error("ERR x"))
        );
        assert_eq!(
            one(b"=8\r\ntxt:abcd\r\n").unwrap(),
            Some(Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from_static(b"abcd")
            })
        );
    }

    #[test]
    fn aggregates() {
        assert_eq!(
            one(b"*2\r\n$1\r\na\r\n:1\r\n").unwrap(),
            Some(Frame::Array(vec![bulk(b"a"), Frame::Integer(1)]))
        );
        assert_eq!(one(b"*-1\r\n").unwrap(), Some(Frame::NullArray));
        assert_eq!(one(b"*0\r\n").unwrap(), Some(Frame::Array(vec![])));
        assert_eq!(
            one(b"%1\r\n+k\r\n#t\r\n").unwrap(),
            Some(Frame::Map(vec![(Frame::simple("k"), Frame::Boolean(true))]))
        );
        assert_eq!(
            one(b"~1\r\n:1\r\n").unwrap(),
            Some(Frame::Set(vec![Frame::Integer(1)]))
        );
        assert_eq!(
            one(b">1\r\n:1\r\n").unwrap(),
            Some(Frame::Push(vec![Frame::Integer(1)]))
        );
        assert_eq!(
            one(b"|1\r\n+a\r\n:1\r\n+OK\r\n").unwrap(),
            Some(Frame::Attribute {
                attrs: vec![(Frame::simple("a"), Frame::Integer(1))],
                value: Box::new(Frame::ok()),
            })
        );
    }

    #[test]
    fn incomplete_is_not_invalid() {
        for bytes in [
            &b""[..],
            b"+OK",
            b"+OK\r",
            b"$5\r\nhel",
            b"$5\r\nhello\r",
            b"*2\r\n:1\r\n",
            b"%1\r\n+k\r\n",
            b"|1\r\n+a\r\n:1\r\n",
            b"*3000000000\r\n",
            b"$500000000\r\nabc",
        ] {
            assert_eq!(one(bytes), Ok(None), "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn invalid_frames() {
        let cases: &[(&[u8], FrameError)] = &[
            (b"x\r\n", FrameError::InvalidType(b'x')),
            (b"+OK\rx", FrameError::MissingCrlf),
            (b"$3\r\nabcde", FrameError::MissingCrlf),
            (b"$-2\r\n", FrameError::InvalidLength),
            (b"%-1\r\n", FrameError::InvalidLength),
            (b"$abc\r\n", FrameError::InvalidLength),
            (b"$?\r\n", FrameError::Streamed),
            (b":1.5\r\n", FrameError::InvalidInteger),
            (b",abc\r\n", FrameError::InvalidDouble),
            (b"#x\r\n", FrameError::InvalidBoolean),
            (b"(1a\r\n", FrameError::InvalidBigNumber),
            (b"_x\r\n", FrameError::InvalidNull),
            (b"=3\r\ntxt\r\n", FrameError::InvalidVerbatim),
            (b"=4\r\ntxtx\r\n", FrameError::InvalidVerbatim),
            (b"*1\r\n?\r\n", FrameError::InvalidType(b'?')),
        ];
        for (bytes, error) in cases {
            assert_eq!(
                one(bytes),
                Err(error.clone()),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let mut deep = b"*1\r\n".repeat(MAX_FRAME_DEPTH + 1);
        deep.extend_from_slice(b":1\r\n");
        assert_eq!(one(&deep), Err(FrameError::TooDeep));
        let mut ok = b"*1\r\n".repeat(MAX_FRAME_DEPTH);
        ok.extend_from_slice(b":1\r\n");
        assert!(one(&ok).unwrap().is_some());
    }

    #[test]
    fn consumes_one_frame_at_a_time() {
        let mut buf = BytesMut::from(&b"+A\r\n:1\r\n$1\r\nx"[..]);
        assert_eq!(decode_frame(&mut buf).unwrap(), Some(Frame::simple("A")));
        assert_eq!(decode_frame(&mut buf).unwrap(), Some(Frame::Integer(1)));
        assert_eq!(decode_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\r\n");
        assert_eq!(decode_frame(&mut buf).unwrap(), Some(bulk(b"x")));
        assert!(buf.is_empty());
    }
}
