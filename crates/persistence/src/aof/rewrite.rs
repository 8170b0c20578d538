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
            let mut items: Vec<Vec<u8>> = Vec::with_capacity(ITEMS_PER_COMMAND);
            l.for_each(|e| {
                items.push(e.to_vec());
                if items.len() == ITEMS_PER_COMMAND {
                    put_batch(out, b"RPUSH", key, &items);
                    items.clear();
                }
            });
            if !items.is_empty() {
                put_batch(out, b"RPUSH", key, &items);
            }
        }
        ValueRef::Set(s) => {
            let mut items: Vec<Vec<u8>> = Vec::with_capacity(ITEMS_PER_COMMAND);
            s.for_each(|m| {
                items.push(m.to_vec());
                if items.len() == ITEMS_PER_COMMAND {
                    put_batch(out, b"SADD", key, &items);
                    items.clear();
                }
            });
            if !items.is_empty() {
                put_batch(out, b"SADD", key, &items);
            }
        }
        ValueRef::ZSet(z) => {
            let mut items: Vec<Vec<u8>> = Vec::with_capacity(ITEMS_PER_COMMAND * 2);
            z.for_each(|m, score| {
                items.push(score_text(score).into_bytes());
                items.push(m.to_vec());
                if items.len() == ITEMS_PER_COMMAND * 2 {
                    put_batch(out, b"ZADD", key, &items);
                    items.clear();
                }
            });
            if !items.is_empty() {
                put_batch(out, b"ZADD", key, &items);
            }
        }
        ValueRef::Hash(h) => {
            let mut items: Vec<Vec<u8>> = Vec::with_capacity(ITEMS_PER_COMMAND * 2);
            h.for_each(|f, v| {
                items.push(f.to_vec());
                items.push(v.to_vec());
                if items.len() == ITEMS_PER_COMMAND * 2 {
                    put_batch(out, b"HMSET", key, &items);
                    items.clear();
                }
            });
            if !items.is_empty() {
                put_batch(out, b"HMSET", key, &items);
            }
        }
    }
    if let Some(at) = expire_ms {
        let mut b = itoa::Buffer::new();
        encode_command(out, &[b"PEXPIREAT", key, b.format(at).as_bytes()]);
    }
}

fn put_batch(out: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[Vec<u8>]) {
    let mut args: Vec<&[u8]> = Vec::with_capacity(items.len() + 2);
    args.push(cmd);
    args.push(key);
    args.extend(items.iter().map(|i| &i[..]));
    encode_command(out, &args);
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
