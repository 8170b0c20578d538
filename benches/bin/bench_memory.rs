//! `bench-memory`: the memory a data set costs in Ferrodis and in the reference `redis-server`,
//! measured in the same run, written as a table into BENCHMARKS.md (`bench-memory` section).
//!
//! For each data set both servers are started fresh (so RSS growth is the data set's, not an
//! earlier one's), `INFO memory` is read, the data is loaded with pipelined commands over TCP,
//! and `INFO memory` is read again: the table reports the growth of `used_memory` and of
//! `used_memory_rss`, and Ferrodis/Redis ratios (below 1 = Ferrodis uses less).
//!
//! Data sets:
//! - issue #5, per-key cost: `--keys` string keys with 16-byte and with 100-byte values, and
//!   `--keys` keys mixing hashes, sets and sorted sets of 10 elements (a third each); reported
//!   also as bytes per key.
//! - issue #3, aggregates: for each of list, hash, set and sorted set, `--keys` keys of 10 small
//!   elements each, and one key of `--elements` elements.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Parser;
use ferrodis_benches::{encode_command, finish, free_port, start, Conn};

const SECTION: &str = "bench-memory";

#[derive(Parser, Debug)]
#[command(about = "Memory per data set: Ferrodis vs the reference redis-server, same run")]
struct Args {
    /// Path of the ferrodis-server binary.
    #[arg(long, default_value = "target/release/ferrodis-server")]
    ferrodis: PathBuf,
    /// Path of the reference redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Keys in the per-key and "many small aggregates" data sets.
    #[arg(long, default_value_t = 1_000_000)]
    keys: usize,
    /// Elements in the "one big aggregate" data sets.
    #[arg(long, default_value_t = 1_000_000)]
    elements: usize,
    /// Only the per-key table (skips the aggregate data sets).
    #[arg(long)]
    per_key_only: bool,
    /// Markdown file whose bench-memory section is replaced with the results.
    #[arg(long)]
    write: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    List,
    Hash,
    Set,
    ZSet,
    /// String values of this many bytes (`per_key` is ignored: one SET per key).
    Str(usize),
    /// Hash, set and sorted set keys in turn.
    Mix,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Str(_) => "string",
            Kind::Mix => "mix",
        }
    }

    /// The kind key number `k` of this data set holds.
    fn of_key(self, k: usize) -> Kind {
        match self {
            Kind::Mix => [Kind::Hash, Kind::Set, Kind::ZSet][k % 3],
            other => other,
        }
    }

    /// One write command adding elements `from..to` to `key`.
    fn command(self, out: &mut Vec<u8>, key: &[u8], from: usize, to: usize) {
        let mut owned: Vec<Vec<u8>> = Vec::new();
        let cmd: &[u8] = match self {
            Kind::List => b"RPUSH",
            Kind::Hash => b"HSET",
            Kind::Set => b"SADD",
            Kind::ZSet => b"ZADD",
            Kind::Str(n) => {
                let value = vec![b'v'; n];
                encode_command(out, &[b"SET", key, &value]);
                return;
            }
            Kind::Mix => return,
        };
        for i in from..to {
            match self {
                Kind::List | Kind::Set => owned.push(format!("element-{i}").into_bytes()),
                Kind::Hash => {
                    owned.push(format!("field-{i}").into_bytes());
                    owned.push(format!("value-{i}").into_bytes());
                }
                Kind::ZSet => {
                    owned.push(i.to_string().into_bytes());
                    owned.push(format!("element-{i}").into_bytes());
                }
                Kind::Str(_) | Kind::Mix => {}
            }
        }
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend(owned.iter().map(|v| v.as_slice()));
        encode_command(out, &args);
    }
}

/// Growth of (used_memory, used_memory_rss) in bytes after loading one data set.
fn measure(bin: &str, kind: Kind, keys: usize, per_key: usize) -> Result<(u64, u64), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port().map_err(|e| e.to_string())?;
    let _server = start(bin, port, dir.path())?;
    let mut conn = Conn::connect(port).map_err(|e| e.to_string())?;
    let used0 = conn.info_memory("used_memory")?;
    let rss0 = conn.info_memory("used_memory_rss")?;
    const BATCH_COMMANDS: usize = 1000;
    const ELEMENTS_PER_COMMAND: usize = 1000;
    let mut buf = Vec::new();
    let mut pending = 0;
    for k in 0..keys {
        let key = if keys == 1 {
            format!("big:{}", kind.name())
        } else {
            format!("{}:{k}", kind.of_key(k).name())
        };
        let mut from = 0;
        while from < per_key {
            let to = (from + ELEMENTS_PER_COMMAND).min(per_key);
            kind.of_key(k).command(&mut buf, key.as_bytes(), from, to);
            pending += 1;
            from = to;
            if pending == BATCH_COMMANDS {
                conn.pipeline(&buf, pending)?;
                buf.clear();
                pending = 0;
            }
        }
    }
    if pending > 0 {
        conn.pipeline(&buf, pending)?;
    }
    // Let background work (lazy frees, allocator) settle before reading.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let used1 = conn.info_memory("used_memory")?;
    let rss1 = conn.info_memory("used_memory_rss")?;
    Ok((used1.saturating_sub(used0), rss1.saturating_sub(rss0)))
}

fn mb(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.2}", a as f64 / b as f64)
    }
}

/// The per-key table: bytes per key of `used_memory` and RSS growth.
fn per_key_table(a: &Args, ferrodis: &str, md: &mut String) -> Result<(), String> {
    let _ = writeln!(md, "## Memory per key: Ferrodis vs Redis\n");
    let _ = writeln!(
        md,
        "Growth of `used_memory` and `used_memory_rss` after loading {} keys (`string:N`) into a \
         fresh server, in bytes per key; the mix is a third each of hashes (`field-N` → \
         `value-N`), sets and sorted sets of 10 elements. Both servers measured in the same run; \
         ratio below 1 = Ferrodis uses less.\n",
        a.keys
    );
    let _ = writeln!(
        md,
        "| data set | Ferrodis used_memory | Redis used_memory | ratio | Ferrodis RSS | Redis RSS | ratio |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    for (kind, label, per_key) in [
        (Kind::Str(16), "SET, 16-byte values", 1),
        (Kind::Str(100), "SET, 100-byte values", 1),
        (Kind::Mix, "hash/set/zset mix, 10 elements each", 10),
    ] {
        eprintln!("{label} x {} keys", a.keys);
        let (fu, fr) = measure(ferrodis, kind, a.keys, per_key)?;
        let (ru, rr) = measure(&a.redis, kind, a.keys, per_key)?;
        let per = |b: u64| format!("{:.0}", b as f64 / a.keys as f64);
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            per(fu),
            per(ru),
            ratio(fu, ru),
            per(fr),
            per(rr),
            ratio(fr, rr)
        );
    }
    let _ = writeln!(md);
    Ok(())
}

fn run(a: &Args) -> Result<String, String> {
    let ferrodis = a.ferrodis.display().to_string();
    let mut md = String::new();
    per_key_table(a, &ferrodis, &mut md)?;
    if a.per_key_only {
        return Ok(md);
    }
    let _ = writeln!(md, "## Memory: aggregates, Ferrodis vs Redis\n");
    let _ = writeln!(
        md,
        "Growth of `used_memory` and `used_memory_rss` (MiB) after loading each data set into \
         a fresh server; elements are `element-N` (hash: `field-N` → `value-N`, zset score N). \
         Both servers measured in the same run.\n"
    );
    let _ = writeln!(
        md,
        "Command: `bench-memory --keys {} --elements {}` — produced by `make bench-compare`.\n",
        a.keys, a.elements
    );
    let _ = writeln!(
        md,
        "| data set | Ferrodis used_memory | Redis used_memory | ratio | Ferrodis RSS | Redis RSS | ratio |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    let shapes = [(a.keys, 10usize), (1, a.elements)];
    for (keys, per_key) in shapes {
        for kind in [Kind::List, Kind::Hash, Kind::Set, Kind::ZSet] {
            eprintln!("{} x {keys} keys x {per_key} elements", kind.name());
            let (fu, fr) = measure(&ferrodis, kind, keys, per_key)?;
            let (ru, rr) = measure(&a.redis, kind, keys, per_key)?;
            let label = if keys == 1 {
                format!("{}: 1 key × {per_key} elements", kind.name())
            } else {
                format!("{}: {keys} keys × {per_key} elements", kind.name())
            };
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} | {} |",
                mb(fu),
                mb(ru),
                ratio(fu, ru),
                mb(fr),
                mb(rr),
                ratio(fr, rr)
            );
        }
    }
    Ok(md)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    finish("bench-memory", run(&args), args.write.as_deref(), SECTION)
}
