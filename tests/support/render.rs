//! Human-readable rendering of replies for failure messages, in the spirit of redis-cli's
//! output but with every type spelled out (`(bulk)`, `(double)`, `(map)`, ...), so two replies
//! that print alike really are alike except for the exact bytes of a number.

use std::fmt::Write as _;

use ferrodis_resp::Frame;

/// The short name of a frame's type (`bulk`, `map`, `null-array`, ...).
pub fn kind(frame: &Frame) -> &'static str {
    match frame {
        Frame::Simple(_) => "simple",
        Frame::Error(_) => "error",
        Frame::Integer(_) => "integer",
        Frame::Bulk(_) => "bulk",
        Frame::Array(_) => "array",
        Frame::Null => "null",
        Frame::NullArray => "null-array",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Double(_) => "double",
        Frame::Boolean(_) => "boolean",
        Frame::BigNumber(_) => "bignumber",
        Frame::Verbatim { .. } => "verbatim",
        Frame::Push(_) => "push",
        Frame::Attribute { .. } => "attribute",
    }
}

/// Bytes as a double-quoted string with `\xHH`, `\r`, `\n`, `\t`, `\"`, `\\` escapes.
pub fn quoted(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// A multi-line rendering of `frame`, each line indented by `indent` spaces.
pub fn render(frame: &Frame, indent: usize) -> String {
    let mut out = String::new();
    write_frame(&mut out, frame, indent);
    out
}

fn write_frame(out: &mut String, frame: &Frame, indent: usize) {
    match frame {
        Frame::Simple(s) => {
            let _ = write!(out, "(simple) {}", quoted(s));
        }
        Frame::Error(s) => {
            let _ = write!(out, "(error) {}", quoted(s));
        }
        Frame::Integer(n) => {
            let _ = write!(out, "(integer) {n}");
        }
        Frame::Bulk(b) => out.push_str(&quoted(b)),
        Frame::Null => out.push_str("(null)"),
        Frame::NullArray => out.push_str("(null array)"),
        Frame::Double(d) => {
            let _ = write!(out, "(double) {d:?}");
        }
        Frame::Boolean(b) => {
            let _ = write!(out, "(boolean) {b}");
        }
        Frame::BigNumber(n) => {
            let _ = write!(out, "(bignumber) {}", String::from_utf8_lossy(n));
        }
        Frame::Verbatim { format, text } => {
            let _ = write!(
                out,
                "(verbatim {}) {}",
                String::from_utf8_lossy(format),
                quoted(text)
            );
        }
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            let _ = write!(out, "({} of {})", kind(frame), items.len());
            for (i, item) in items.iter().enumerate() {
                let _ = write!(out, "\n{:indent$}{}) ", "", i + 1);
                write_frame(out, item, indent + 3);
            }
        }
        Frame::Map(pairs) => {
            let _ = write!(out, "(map of {})", pairs.len());
            write_pairs(out, pairs, indent);
        }
        Frame::Attribute { attrs, value } => {
            let _ = write!(out, "(attribute of {})", attrs.len());
            write_pairs(out, attrs, indent);
            let _ = write!(out, "\n{:indent$}value: ", "");
            write_frame(out, value, indent + 3);
        }
    }
}

fn write_pairs(out: &mut String, pairs: &[(Frame, Frame)], indent: usize) {
    for (i, (key, value)) in pairs.iter().enumerate() {
        let _ = write!(out, "\n{:indent$}{}# ", "", i + 1);
        write_frame(out, key, indent + 3);
        out.push_str(" => ");
        write_frame(out, value, indent + 3);
    }
}
