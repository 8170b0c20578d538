//! Reply encoding: [`Frame`] to bytes, for RESP3 or downgraded for RESP2.
//!
//! | frame                | RESP3                        | RESP2                             |
//! |----------------------|------------------------------|-----------------------------------|
//! | `Simple(s)`          | `+s\r\n`                     | same                              |
//! | `Error(e)`           | `-e\r\n`                     | same                              |
//! | `Integer(n)`         | `:n\r\n`                     | same                              |
//! | `Bulk(b)`            | `$len\r\nb\r\n`              | same                              |
//! | `Array(v)`           | `*n\r\n` + items             | same                              |
//! | `Null`               | `_\r\n`                      | `$-1\r\n`                         |
//! | `NullArray`          | `_\r\n`                      | `*-1\r\n`                         |
//! | `Map(p)`             | `%n\r\n` + k v ...           | `*2n\r\n` + k v ...               |
//! | `Set(v)`             | `~n\r\n` + items             | `*n\r\n` + items                  |
//! | `Double(d)`          | `,text\r\n`                  | `$len\r\ntext\r\n`                |
//! | `Boolean(b)`         | `#t\r\n` / `#f\r\n`          | `:1\r\n` / `:0\r\n`               |
//! | `BigNumber(n)`       | `(n\r\n`                     | `$len\r\nn\r\n`                   |
//! | `Verbatim{f, t}`     | `=len\r\nf:t\r\n` (len+4)    | `$len\r\nt\r\n`                   |
//! | `Push(v)`            | `>n\r\n` + items             | `*n\r\n` + items                  |
//! | `Attribute{a, v}`    | `\|n\r\n` + k v ... + v      | v alone                           |
//!
//! Checked byte for byte against redis-server 7.0.15 (`DEBUG PROTOCOL <type>` in both
//! protocols).

use bytes::BytesMut;

use crate::float::DoubleText;
use crate::frame::{Frame, Protocol};

const CRLF: &[u8] = b"\r\n";

/// Encode `frame` for `proto`, appending to `out`.
///
/// Reuse one `out` buffer across replies: encoding only appends. `Simple` and `Error` texts have
/// CR and LF written as spaces so a text can never break the framing (Redis does the same for
/// its error texts). Never panics; nesting depth is whatever the caller built.
pub fn encode(frame: &Frame, proto: Protocol, out: &mut BytesMut) {
    match frame {
        Frame::Simple(text) => put_line(out, b'+', text),
        Frame::Error(text) => put_line(out, b'-', text),
        Frame::Integer(n) => put_integer(out, b':', *n),
        Frame::Bulk(data) => put_bulk(out, data),
        Frame::Array(items) => put_items(out, b'*', items, proto),
        Frame::Null => out.extend_from_slice(match proto {
            Protocol::Resp3 => b"_\r\n",
            Protocol::Resp2 => b"$-1\r\n",
        }),
        Frame::NullArray => out.extend_from_slice(match proto {
            Protocol::Resp3 => b"_\r\n",
            Protocol::Resp2 => b"*-1\r\n",
        }),
        Frame::Map(pairs) => {
            match proto {
                Protocol::Resp3 => put_len(out, b'%', pairs.len()),
                Protocol::Resp2 => put_len(out, b'*', pairs.len().saturating_mul(2)),
            }
            put_pairs(out, pairs, proto);
        }
        Frame::Set(items) => {
            let prefix = match proto {
                Protocol::Resp3 => b'~',
                Protocol::Resp2 => b'*',
            };
            put_items(out, prefix, items, proto);
        }
        Frame::Double(value) => {
            let text = DoubleText::new(*value);
            match proto {
                Protocol::Resp3 => put_line(out, b',', text.as_bytes()),
                Protocol::Resp2 => put_bulk(out, text.as_bytes()),
            }
        }
        Frame::Boolean(value) => out.extend_from_slice(match (proto, value) {
            (Protocol::Resp3, true) => b"#t\r\n",
            (Protocol::Resp3, false) => b"#f\r\n",
            (Protocol::Resp2, true) => b":1\r\n",
            (Protocol::Resp2, false) => b":0\r\n",
        }),
        Frame::BigNumber(digits) => match proto {
            Protocol::Resp3 => put_line(out, b'(', digits),
            Protocol::Resp2 => put_bulk(out, digits),
        },
        Frame::Verbatim { format, text } => match proto {
            Protocol::Resp3 => {
                put_len(out, b'=', text.len() + 4);
                out.reserve(text.len() + 6);
                out.extend_from_slice(format);
                out.extend_from_slice(b":");
                out.extend_from_slice(text);
                out.extend_from_slice(CRLF);
            }
            Protocol::Resp2 => put_bulk(out, text),
        },
        Frame::Push(items) => {
            let prefix = match proto {
                Protocol::Resp3 => b'>',
                Protocol::Resp2 => b'*',
            };
            put_items(out, prefix, items, proto);
        }
        Frame::Attribute { attrs, value } => {
            if proto == Protocol::Resp3 {
                put_len(out, b'|', attrs.len());
                put_pairs(out, attrs, proto);
            }
            encode(value, proto, out);
        }
    }
}

/// `<prefix><text>\r\n`, with CR and LF inside `text` written as spaces.
fn put_line(out: &mut BytesMut, prefix: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.extend_from_slice(&[prefix]);
    if memchr::memchr2(b'\r', b'\n', text).is_none() {
        out.extend_from_slice(text);
    } else {
        out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    }
    out.extend_from_slice(CRLF);
}

/// `<prefix><n>\r\n` for a signed number.
fn put_integer(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.extend_from_slice(&[prefix]);
    out.extend_from_slice(digits);
    out.extend_from_slice(CRLF);
}

/// `<prefix><len>\r\n` for an aggregate or blob length.
fn put_len(out: &mut BytesMut, prefix: u8, len: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(len).as_bytes();
    out.reserve(digits.len() + 3);
    out.extend_from_slice(&[prefix]);
    out.extend_from_slice(digits);
    out.extend_from_slice(CRLF);
}

/// `$<len>\r\n<data>\r\n`.
fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    put_len(out, b'$', data.len());
    out.reserve(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

fn put_items(out: &mut BytesMut, prefix: u8, items: &[Frame], proto: Protocol) {
    put_len(out, prefix, items.len());
    for item in items {
        encode(item, proto, out);
    }
}

fn put_pairs(out: &mut BytesMut, pairs: &[(Frame, Frame)], proto: Protocol) {
    for (key, value) in pairs {
        encode(key, proto, out);
        encode(value, proto, out);
    }
}
