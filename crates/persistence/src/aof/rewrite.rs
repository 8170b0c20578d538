//! The commands an AOF rewrite writes for one key when the base is a command stream
//! (`aof-use-rdb-preamble no`), as Redis' `rewriteAppendOnlyFileRio` writes them: `SET` for a
//! string, `RPUSH` / `SADD` / `ZADD` / `HMSET` with at most [`ITEMS_PER_COMMAND`] elements per
//! command for aggregates, then `PEXPIREAT` with the absolute expire.

use ferrodis_keyspace::{StrRef, ValueRef};

use super::stream::encode_command;

/// Elements per command (Redis `AOF_REWRITE_ITEMS_PER_CMD`).
pub const ITEMS_PER_COMMAND: usize = 64;

/// Appends `SELECT db`.
pub fn put_select(out: &mut Vec<u8>, db: usize) {
    let mut b = itoa::Buffer::new();
    encode_command(out, &[b"SELECT", b.format(db).as_bytes()]);
}

/// Appends the commands that rebuild `key` with value `v` and expire `expire_ms` (Unix ms).
pub fn put_key(out: &mut Vec<u8>, key: &[u8], v: &ValueRef<'_>, expire_ms: Option<u64>) {
    match v {
        ValueRef::String(s) => match s {
            StrRef::Int(i) => {
                let mut b = itoa::Buffer::new();
                encode_command(out, &[b"SET", key, b.format(*i).as_bytes()]);
            }
            other => other.with_bytes(|b| encode_command(out, &[b"SET", key, b])),
        },
        ValueRef::List(l) => {
            let mut b = Batch::new(out, b"RPUSH", key);
            l.for_each(|e| b.push(&[e]));
        }
        ValueRef::Set(s) => {
            let mut b = Batch::new(out, b"SADD", key);
            s.for_each(|m| b.push(&[m]));
        }
        ValueRef::ZSet(z) => {
            let mut b = Batch::new(out, b"ZADD", key);
            z.for_each(|m, score| b.push(&[score_text(score).as_bytes(), m]));
        }
        ValueRef::Hash(h) => {
            let mut b = Batch::new(out, b"HMSET", key);
            h.for_each(|f, v| b.push(&[f, v]));
        }
    }
    if let Some(at) = expire_ms {
        let mut b = itoa::Buffer::new();
        encode_command(out, &[b"PEXPIREAT", key, b.format(at).as_bytes()]);
    }
}

/// One aggregate's elements as `cmd key item ...` commands of at most [`ITEMS_PER_COMMAND`]
/// elements each (an element being a member, or a score/member or field/value pair); the last
/// command is written when the batch is dropped.
struct Batch<'o> {
    out: &'o mut Vec<u8>,
    cmd: &'static [u8],
    key: &'o [u8],
    items: Vec<Vec<u8>>,
    elements: usize,
}

impl<'o> Batch<'o> {
    fn new(out: &'o mut Vec<u8>, cmd: &'static [u8], key: &'o [u8]) -> Batch<'o> {
        Batch {
            out,
            cmd,
            key,
            items: Vec::new(),
            elements: 0,
        }
    }

    /// Adds one element (its one or two arguments).
    fn push(&mut self, parts: &[&[u8]]) {
        self.items.extend(parts.iter().map(|p| p.to_vec()));
        self.elements += 1;
        if self.elements == ITEMS_PER_COMMAND {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.items.is_empty() {
            return;
        }
        let mut args: Vec<&[u8]> = Vec::with_capacity(self.items.len() + 2);
        args.push(self.cmd);
        args.push(self.key);
        args.extend(self.items.iter().map(|i| &i[..]));
        encode_command(self.out, &args);
        self.items.clear();
        self.elements = 0;
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A score as text that parses back to the same double (Redis writes `%.17g`; the shortest
/// round-trip form reads back identically), `inf` / `-inf` for infinities.
fn score_text(v: f64) -> String {
    if v == f64::INFINITY {
        "inf".into()
    } else if v == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        let mut b = ryu::Buffer::new();
        b.format(v).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrodis_keyspace::{EncodingLimits, Set, Value, ZSet};

    #[test]
    fn strings_sets_and_expires() {
        let mut out = Vec::new();
        let v = Value::string(b"v");
        put_key(&mut out, b"k", &ValueRef::of(&v), Some(1_700_000_000_000));
        assert_eq!(
            out,
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$13\r\n1700000000000\r\n"
                .to_vec()
        );
        let limits = EncodingLimits::default();
        let members: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let s = Value::Set(Set::from_members(
            members.iter().map(|m| m.as_bytes()),
            &limits,
        ));
        let mut out = Vec::new();
        put_key(&mut out, b"s", &ValueRef::of(&s), None);
        // 100 members: one SADD of 64 and one of 36.
        assert_eq!(out.windows(4).filter(|w| w == b"SADD").count(), 2);
        let z = Value::ZSet(ZSet::from_entries(
            vec![(&b"a"[..], 0.1), (b"b", f64::INFINITY)],
            &limits,
        ));
        let mut out = Vec::new();
        put_key(&mut out, b"z", &ValueRef::of(&z), None);
        assert_eq!(
            out,
            b"*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n0.1\r\n$1\r\na\r\n$3\r\ninf\r\n$1\r\nb\r\n"
                .to_vec()
        );
    }
}
