//! Incremental decoding of client requests: [`RequestDecoder`], its [`DecodeLimits`] and the
//! [`ProtocolError`]s it reports with Redis' exact texts.
//!
//! # Wire format (as redis-server 7.0.15 reads it)
//!
//! | form       | bytes                                          | notes                              |
//! |------------|------------------------------------------------|------------------------------------|
//! | multibulk  | `*<n>\r\n` then n × `$<len>\r\n<payload>\r\n`   | first byte `*`                     |
//! | inline     | `<words>\n` or `<words>\r\n`                   | any other first byte               |
//!
//! Redis' leniencies and limits, all mirrored here:
//!
//! * `<n>` and `<len>` use `string2ll` syntax (no `+`, spaces or leading zeros). `n <= 0`
//!   (`*0`, `*-1`, `*-5`) is an empty command and is skipped; `n` above `max_multibulk_len`
//!   (2^31 - 1) is "invalid multibulk length"; `len` below 0 or above `proto_max_bulk_len`
//!   (512 MiB) is "invalid bulk length".
//! * A header line ends at its first `\r`; the byte after it is skipped without being checked,
//!   and so are the two bytes after a payload (`$4\r\nPINGxx` is a valid `PING`).
//! * A line is only looked for up to a NUL byte (Redis searches with `strchr`): a header or
//!   inline line with a NUL before its end waits for more bytes until the limit below.
//! * Bytes waiting without a line end may not exceed `max_inline_len` (64 KiB): "too big mbulk
//!   count string", "too big bulk count string" or "too big inline request". Like Redis this
//!   looks at what has been buffered, so the read size decides how soon it triggers.
//! * Where a `$` is expected, any other byte is `expected '$', got '<byte>'` (nested arrays
//!   included); the byte is sent raw, except CR and LF which become spaces.
//!
//! After an error Redis replies and closes the connection: the decoder keeps returning the
//! same error.

use bytes::{Buf, Bytes, BytesMut};

use crate::frame::Frame;
use crate::inline::split_inline;
use crate::number::parse_i64_strict;

/// Largest multibulk count an unauthenticated client may send (Redis 7.0).
const UNAUTHENTICATED_MAX_MULTIBULK: i64 = 10;
/// Largest bulk length an unauthenticated client may send (Redis 7.0).
const UNAUTHENTICATED_MAX_BULK: i64 = 16 * 1024;
/// Fewest bytes one argument takes on the wire (`$0\r\n\r\n`), to bound preallocation.
const MIN_ARG_WIRE_LEN: usize = 6;

/// Limits checked while decoding requests (Redis' config and compile-time constants).
#[derive(Clone, Copy, Debug)]
pub struct DecodeLimits {
    /// Largest bulk argument, in bytes: Redis' `proto-max-bulk-len`, default 512 MiB. Longer
    /// announced lengths are "Protocol error: invalid bulk length" (Redis does not check it for
    /// its master's replication stream: set it to `u64::MAX` there).
    pub proto_max_bulk_len: u64,
    /// Most bytes that may wait without a line end, in bytes: Redis' `PROTO_INLINE_MAX_SIZE`,
    /// 64 KiB. Applies to inline lines and to `*`/`$` header lines.
    pub max_inline_len: usize,
    /// Largest multibulk count: Redis 7.0 accepts up to `INT_MAX` (2147483647); one more is
    /// "Protocol error: invalid multibulk length".
    pub max_multibulk_len: i64,
}

impl Default for DecodeLimits {
    /// Redis 7.0's defaults: 512 MiB bulks, 64 KiB lines, 2^31 - 1 arguments.
    fn default() -> Self {
        DecodeLimits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            max_inline_len: 64 * 1024,
            max_multibulk_len: i64::from(i32::MAX),
        }
    }
}

/// A malformed request. Redis replies `-ERR <Display text>` and closes the connection.
///
/// Display is the text after `-ERR `, byte-identical to Redis 7.0.15 except in one case:
/// [`ProtocolError::ExpectedBulk`] with a byte of 0x80 or above, which Redis sends raw and a
/// Rust `String` cannot hold (Display shows it as the Unicode character of the same value).
/// [`ProtocolError::to_frame`] and [`ProtocolError::message_bytes`] are always byte-exact.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The `*<n>` count is not a `string2ll` integer or is above `max_multibulk_len`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// A `$<len>` length is not a `string2ll` integer, is negative or is above
    /// `proto_max_bulk_len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// An argument header starts with `got` instead of `$` (e.g. a nested array, `*`).
    #[error("Protocol error: expected '$', got '{}'", char::from(shown_byte(*got)))]
    ExpectedBulk {
        /// The byte Redis names in its reply (CR and LF are shown as a space).
        got: u8,
    },
    /// More than `max_inline_len` bytes arrived without the end of a `*<n>` line.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMultibulkCount,
    /// More than `max_inline_len` bytes arrived without the end of a `$<len>` line.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// More than `max_inline_len` bytes arrived without the end of an inline line.
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    /// An inline line's quotes do not balance (see the `inline` module's rules).
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// An unauthenticated client sent a multibulk count above 10
    /// (see [`RequestDecoder::set_auth_required`]).
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// An unauthenticated client sent a bulk length above 16384
    /// (see [`RequestDecoder::set_auth_required`]).
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

/// Redis formats the byte with `%c` and then turns CR and LF into spaces.
fn shown_byte(byte: u8) -> u8 {
    if byte == b'\r' || byte == b'\n' {
        b' '
    } else {
        byte
    }
}

impl ProtocolError {
    /// The exact bytes after `-ERR ` that Redis sends, e.g.
    /// `Protocol error: expected '$', got '\xff'` with the raw byte 0xff.
    pub fn message_bytes(&self) -> Vec<u8> {
        match self {
            ProtocolError::ExpectedBulk { got } => {
                let mut text = b"Protocol error: expected '$', got '".to_vec();
                text.push(shown_byte(*got));
                text.push(b'\'');
                text
            }
            other => other.to_string().into_bytes(),
        }
    }

    /// The error reply Redis sends before closing the connection:
    /// `Frame::Error("ERR Protocol error: ...")`.
    pub fn to_frame(&self) -> Frame {
        let mut text = b"ERR ".to_vec();
        text.extend_from_slice(&self.message_bytes());
        Frame::Error(Bytes::from(text))
    }
}

/// Incremental request decoder: a command is a multibulk of bulk strings, or an inline (telnet)
/// line. One per connection.
///
/// Feed it the connection's read buffer; it consumes each command's bytes as it returns the
/// command. A partial command is kept in the decoder (arguments already read) and in the buffer
/// (the rest), so a large bulk arriving in many reads is not parsed again each time. Nothing is
/// allocated in proportion to an announced length: a client announcing a 500 MB bulk or 2^31
/// arguments and then sending nothing costs only what it sent.
#[derive(Debug)]
pub struct RequestDecoder {
    limits: DecodeLimits,
    auth_required: bool,
    /// Arguments of the multibulk being read.
    args: Vec<Bytes>,
    /// Arguments still to read; 0 when between commands.
    remaining: usize,
    /// Length of the bulk whose `$<len>` line has been consumed but whose payload has not.
    bulk_len: Option<usize>,
    /// Bytes the current bulk still lacked when `decode` last returned `Ok(None)`.
    missing: Option<usize>,
    /// The error this connection failed with, returned again by every later call.
    failed: Option<ProtocolError>,
}

impl RequestDecoder {
    /// A decoder between commands, with the given limits.
    pub fn new(limits: DecodeLimits) -> Self {
        RequestDecoder {
            limits,
            auth_required: false,
            args: Vec::new(),
            remaining: 0,
            bulk_len: None,
            missing: None,
            failed: None,
        }
    }

    /// Replace the limits (e.g. after `CONFIG SET proto-max-bulk-len`); they apply from the
    /// next header read.
    pub fn set_limits(&mut self, limits: DecodeLimits) {
        self.limits = limits;
    }

    /// Whether the client still has to authenticate (Redis: a password is set and the client
    /// has not sent a successful `AUTH`/`HELLO ... AUTH`). While it is, Redis 7.0 refuses
    /// multibulk counts above 10 ("Protocol error: unauthenticated multibulk length") and bulk
    /// lengths above 16384 ("Protocol error: unauthenticated bulk length"). Off by default.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// Decode the next complete command from the front of `buf`, consuming its bytes.
    ///
    /// `Ok(Some(argv))`: a command with at least one argument; each bulk payload is split off
    /// `buf` without copying (inline arguments are copied, having been unquoted).
    /// `Ok(None)`: more bytes are needed; call again when they have been appended to `buf`.
    /// Empty commands (`*0\r\n`, `*-1\r\n`, blank inline lines) are skipped.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] with Redis' text; the connection should send
    /// [`ProtocolError::to_frame`] and close. Commands before the bad bytes have been returned
    /// by earlier calls, as Redis executes them before replying with the error.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let decoded = self.decode_command(buf);
        if let Err(error) = &decoded {
            self.failed = Some(error.clone());
        }
        decoded
    }

    /// Like [`RequestDecoder::decode`], but hands the arguments over in `out` (returns `Ok(true)`
    /// when a command was decoded), so a connection can recycle one vector for every command
    /// instead of allocating one per command. `out`'s previous contents are dropped.
    pub fn decode_into(
        &mut self,
        buf: &mut BytesMut,
        out: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        if self.remaining == 0 && self.args.capacity() == 0 {
            // No command in progress: recycle the caller's vector for the next one.
            out.clear();
            std::mem::swap(&mut self.args, out);
        }
        match self.decode(buf)? {
            Some(args) => {
                *out = args;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Bytes the current bulk argument still lacked (payload and its two trailing bytes) when
    /// [`RequestDecoder::decode`] last returned `Ok(None)`, if it was waiting for a payload.
    /// A read of that size (bounded as the caller sees fit) completes the argument.
    pub fn pending_bulk_hint(&self) -> Option<usize> {
        self.missing
    }

    fn decode_command(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        self.missing = None;
        while self.remaining == 0 {
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            if first == b'*' {
                match self.read_multibulk_header(buf)? {
                    None => return Ok(None),
                    Some(0) => continue,
                    Some(count) => {
                        self.remaining = count;
                        let present = buf.len() / MIN_ARG_WIRE_LEN + 1;
                        self.args.clear();
                        self.args.reserve_exact(count.min(present));
                    }
                }
            } else {
                match self.read_inline(buf)? {
                    None => return Ok(None),
                    Some(args) if args.is_empty() => continue,
                    Some(args) => return Ok(Some(args)),
                }
            }
        }
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => match self.read_bulk_header(buf)? {
                    Some(len) => len,
                    None => return Ok(None),
                },
            };
            let needed = len.saturating_add(2);
            if buf.len() < needed {
                self.bulk_len = Some(len);
                self.missing = Some(needed - buf.len());
                return Ok(None);
            }
            self.bulk_len = None;
            self.args.push(buf.split_to(len).freeze());
            buf.advance(2);
            self.remaining -= 1;
        }
        Ok(Some(std::mem::take(&mut self.args)))
    }

    /// Consume a `*<n>` line; `Some(0)` for an empty command.
    fn read_multibulk_header(&self, buf: &mut BytesMut) -> Result<Option<usize>, ProtocolError> {
        let (count, line_len) = match header_line(buf, b'*') {
            HeaderLine::Complete { value, line_len } => (value, line_len),
            HeaderLine::Incomplete => return Ok(None),
            HeaderLine::NoEnd => {
                if buf.len() > self.limits.max_inline_len {
                    return Err(ProtocolError::TooBigMultibulkCount);
                }
                return Ok(None);
            }
        };
        let count = match count {
            Some(count) if count <= self.limits.max_multibulk_len => count,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if self.auth_required && count > UNAUTHENTICATED_MAX_MULTIBULK {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        buf.advance(line_len);
        Ok(Some(usize::try_from(count).unwrap_or(0)))
    }

    /// Consume a `$<len>` line.
    fn read_bulk_header(&self, buf: &mut BytesMut) -> Result<Option<usize>, ProtocolError> {
        let (len, line_len) = match header_line(buf, b'$') {
            HeaderLine::Complete { value, line_len } => (value, line_len),
            HeaderLine::Incomplete => return Ok(None),
            HeaderLine::NoEnd => {
                if buf.len() > self.limits.max_inline_len {
                    return Err(ProtocolError::TooBigBulkCount);
                }
                return Ok(None);
            }
        };
        if buf[0] != b'$' {
            return Err(ProtocolError::ExpectedBulk { got: buf[0] });
        }
        let len = len
            .filter(|&len| len >= 0 && len as u64 <= self.limits.proto_max_bulk_len)
            .and_then(|len| usize::try_from(len).ok())
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if self.auth_required && len as u64 > UNAUTHENTICATED_MAX_BULK as u64 {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        buf.advance(line_len);
        Ok(Some(len))
    }

    /// Consume one inline line and split it; an empty vector for a blank line.
    fn read_inline(&self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let newline = match memchr::memchr2(b'\n', 0, buf) {
            Some(at) if buf[at] == b'\n' => at,
            _ => {
                if buf.len() > self.limits.max_inline_len {
                    return Err(ProtocolError::TooBigInline);
                }
                return Ok(None);
            }
        };
        let line = &buf[..newline];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let args = split_inline(line).map_err(|_| ProtocolError::UnbalancedQuotes)?;
        buf.advance(newline + 1);
        Ok(Some(args))
    }
}

/// A `*<n>` or `$<len>` header line at the front of a buffer.
enum HeaderLine {
    /// No `\r` before the end of the buffer or a NUL byte (subject to the size limit).
    NoEnd,
    /// The `\r` is there but not the byte after it.
    Incomplete,
    /// A whole line: its number by `string2ll` rules (`None` if invalid), and its length
    /// including the `\r` and the byte after it.
    Complete { value: Option<i64>, line_len: usize },
}

/// Longest digit run the fast path accepts: 18 digits cannot overflow an `i64`.
const FAST_DIGITS: usize = 18;

/// Read the header line at the front of `buf`, whose first byte should be `prefix`.
///
/// The fast path takes the common `<prefix><digits>\r?` shape in one pass (digits without a
/// leading zero are exactly what `string2ll` accepts); anything else goes the way Redis goes:
/// find the first `\r` (stopping at NUL, as `strchr` does), then parse what precedes it.
#[inline]
fn header_line(buf: &[u8], prefix: u8) -> HeaderLine {
    if buf.first() == Some(&prefix) {
        let mut value: i64 = 0;
        let mut at = 1;
        while at < buf.len() && at <= FAST_DIGITS && buf[at].is_ascii_digit() {
            value = value * 10 + i64::from(buf[at] - b'0');
            at += 1;
        }
        let canonical = at == 2 || buf.get(1) != Some(&b'0');
        if at > 1 && canonical && buf.get(at) == Some(&b'\r') && at + 1 < buf.len() {
            return HeaderLine::Complete {
                value: Some(value),
                line_len: at + 2,
            };
        }
    }
    let cr = match memchr::memchr2(b'\r', 0, buf) {
        Some(at) if buf[at] == b'\r' => at,
        _ => return HeaderLine::NoEnd,
    };
    if cr + 2 > buf.len() {
        return HeaderLine::Incomplete;
    }
    // `cr` is 0 when the line is a bare "\r" (the caller then reports the first byte).
    let value = buf.get(1..cr).and_then(parse_i64_strict);
    HeaderLine::Complete {
        value,
        line_len: cr + 2,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn announced_giant_array_costs_nothing() {
        let mut decoder = RequestDecoder::new(DecodeLimits::default());
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert_eq!(decoder.remaining, 2147483646);
        assert!(
            decoder.args.capacity() <= 4,
            "capacity {}",
            decoder.args.capacity()
        );
    }

    #[test]
    fn args_vector_is_sized_exactly_for_complete_commands() {
        let mut decoder = RequestDecoder::new(DecodeLimits::default());
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"[..]);
        let argv = decoder.decode(&mut buf).unwrap().unwrap();
        assert_eq!(argv.capacity(), 3);
    }

    #[test]
    fn display_of_high_bytes() {
        let error = ProtocolError::ExpectedBulk { got: 0xff };
        assert_eq!(
            error.to_string(),
            "Protocol error: expected '$', got '\u{ff}'"
        );
        assert_eq!(
            error.message_bytes(),
            b"Protocol error: expected '$', got '\xff'"
        );
    }
}
