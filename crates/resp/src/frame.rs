//! [`Frame`], one RESP value, and [`Protocol`], the RESP version a connection speaks.

use bytes::Bytes;

/// Protocol version negotiated with `HELLO` (RESP2 until a client sends `HELLO 3`).
///
/// It only changes how a [`Frame`] is encoded: RESP3-only types are downgraded for RESP2
/// clients the way Redis 7.0 does (see [`crate::encode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2, the default for every new connection.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// A RESP value: a reply the server sends, or any frame [`crate::decode_frame`] reads.
///
/// Texts are raw bytes (`Bytes`), never assumed to be UTF-8. The comments give the RESP3 wire
/// form first and the RESP2 downgrade second (source: `RESP3.md` and Redis 7.0's `networking.c`
/// behaviour, checked with `DEBUG PROTOCOL <type>` against redis-server 7.0.15).
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// Simple string, `+OK\r\n`. Must not contain CR or LF: [`crate::encode`] writes them as
    /// spaces, as Redis does for its own status and error texts.
    Simple(Bytes),
    /// Error, `-ERR syntax error\r\n`: the full text including its prefix (`ERR`, `WRONGTYPE`,
    /// ...), without the leading `-` and the CRLF. CR and LF are written as spaces.
    Error(Bytes),
    /// Integer, `:42\r\n`.
    Integer(i64),
    /// Bulk string, `$5\r\nhello\r\n`.
    Bulk(Bytes),
    /// Array, `*2\r\n...`.
    Array(Vec<Frame>),
    /// Null (a missing bulk string): RESP3 `_\r\n`, RESP2 `$-1\r\n`.
    Null,
    /// Null array (e.g. `BLPOP` timing out): RESP3 `_\r\n`, RESP2 `*-1\r\n`.
    NullArray,
    /// Map of key/value pairs: RESP3 `%<pairs>\r\n`, RESP2 a flat array of `2 × pairs` items.
    Map(Vec<(Frame, Frame)>),
    /// Set: RESP3 `~<n>\r\n`, RESP2 an array.
    Set(Vec<Frame>),
    /// Double: RESP3 `,<text>\r\n`, RESP2 a bulk string of the same text; the text is
    /// [`crate::format_double`]'s (`%.17g`, `inf`, `-inf`, `nan`, `-nan`).
    Double(f64),
    /// Boolean: RESP3 `#t\r\n` / `#f\r\n`, RESP2 the integers `:1\r\n` / `:0\r\n`.
    Boolean(bool),
    /// Big number (decimal digits, optional leading `-`): RESP3 `(<digits>\r\n`, RESP2 a bulk
    /// string of the digits.
    BigNumber(Bytes),
    /// Verbatim string: RESP3 `=<len>\r\n<fmt>:<text>\r\n` with `len = text.len() + 4`, RESP2 a
    /// bulk string of `text` alone. `format` is the three-byte type, `txt` or `mkd`.
    Verbatim {
        /// Three-byte format, e.g. `*b"txt"`.
        format: [u8; 3],
        /// The text after `<fmt>:`.
        text: Bytes,
    },
    /// Out-of-band push (pub/sub messages, invalidations): RESP3 `><n>\r\n`, RESP2 an array.
    Push(Vec<Frame>),
    /// Attribute pairs attached to a value: RESP3 `|<pairs>\r\n<pairs><value>`, RESP2 the value
    /// alone (the attributes are dropped).
    Attribute {
        /// The attribute key/value pairs.
        attrs: Vec<(Frame, Frame)>,
        /// The reply the attributes describe.
        value: Box<Frame>,
    },
}

impl Frame {
    /// `+OK`, the most common reply.
    pub fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    /// A simple string from a static text, e.g. `Frame::simple("PONG")`.
    pub fn simple(s: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error reply; `msg` includes the prefix, e.g. `"ERR syntax error"` (sent as
    /// `-ERR syntax error\r\n`).
    pub fn error(msg: impl Into<Bytes>) -> Frame {
        Frame::Error(msg.into())
    }

    /// A bulk string that takes ownership of (or shares) `b` without copying.
    pub fn bulk(b: impl Into<Bytes>) -> Frame {
        Frame::Bulk(b.into())
    }

    /// A bulk string copied from `b`.
    pub fn bulk_from_slice(b: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(Frame::ok(), Frame::Simple(Bytes::from_static(b"OK")));
        assert_eq!(
            Frame::simple("PONG"),
            Frame::Simple(Bytes::from_static(b"PONG"))
        );
        assert_eq!(
            Frame::error("ERR syntax error"),
            Frame::Error(Bytes::from_static(b"ERR syntax error"))
        );
        assert_eq!(
            Frame::bulk(vec![1u8, 2]),
            Frame::Bulk(Bytes::from_static(&[1, 2]))
        );
        assert_eq!(
            Frame::bulk_from_slice(b"x"),
            Frame::Bulk(Bytes::from_static(b"x"))
        );
        assert_eq!(Protocol::default(), Protocol::Resp2);
    }
}
