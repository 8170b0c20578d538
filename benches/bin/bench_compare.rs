//! `bench-compare`: runs `redis-benchmark` against Ferrodis and the reference `redis-server` in
//! the same run and reports requests per second and the Ferrodis/Redis ratio.
//!
//! Both servers start with the same settings (no persistence, protected mode off) on ephemeral
//! ports in a temp dir. For each round, each pipeline depth and each server (alternating which
//! goes first), one `redis-benchmark --csv` run measures every test; the table reports the
//! median over rounds. With `--write FILE` the table replaces the section between the
//! `bench-compare` markers in FILE (BENCHMARKS.md), leaving the rest of the file alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use clap::Parser;
use ferrodis_benches::{cpu_model, encode_command, finish, free_port, redis_version, start, Conn};

const SECTION: &str = "bench-compare";

#[derive(Parser, Debug)]
#[command(about = "redis-benchmark: Ferrodis vs the reference redis-server, same run")]
struct Args {
    /// Path of the ferrodis-server binary.
    #[arg(long, default_value = "target/release/ferrodis-server")]
    ferrodis: PathBuf,
    /// Path of the reference redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Tests passed to redis-benchmark -t.
    #[arg(
        long,
        default_value = "ping,set,get,incr,mset,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,\
                         lrange_100,lrange_600"
    )]
    tests: String,
    /// Requests per test (-n), the same for both servers.
    #[arg(long, default_value_t = 200_000)]
    requests: u64,
    /// Parallel clients (-c).
    #[arg(long, default_value_t = 50)]
    clients: u32,
    /// Pipeline depths (-P), comma separated.
    #[arg(long, default_value = "1,16")]
    pipelines: String,
    /// Rounds; the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Markdown file whose bench-compare section is replaced with the results.
    #[arg(long)]
    write: Option<PathBuf>,
}

/// Runs redis-benchmark and returns requests/s per test name.
fn bench(port: u16, a: &Args, pipeline: u32) -> Result<BTreeMap<String, f64>, String> {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", &a.clients.to_string(), "-n", &a.requests.to_string()])
        .args(["-P", &pipeline.to_string(), "-t", &a.tests, "--csv"])
        .output()
        .map_err(|e| format!("running redis-benchmark: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "redis-benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut m = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
        if let (Some(name), Some(rps)) = (cols.first(), cols.get(1).and_then(|r| r.parse().ok())) {
            m.insert(name.to_string(), rps);
        }
    }
    if m.is_empty() {
        return Err(format!(
            "no results parsed from redis-benchmark output:\n{text}"
        ));
    }
    Ok(m)
}

/// Requests per second of `redis-benchmark -t set` with random new keys (`-r`, 100-byte
/// values) at pipeline depth `pipeline`.
fn bench_set_random(port: u16, requests: u64, pipeline: u32) -> Result<f64, String> {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", "50", "-n", &requests.to_string(), "-r", "100000000"])
        .args([
            "-d",
            "100",
            "-P",
            &pipeline.to_string(),
            "-t",
            "set",
            "--csv",
        ])
        .output()
        .map_err(|e| format!("running redis-benchmark: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(1))
        .and_then(|v| v.trim_matches('"').parse().ok())
        .ok_or_else(|| format!("no SET result in redis-benchmark output:\n{text}"))
}

/// Sets `maxmemory` to the server's current `used_memory` + `headroom_bytes` with allkeys-lru,
/// fills it past the limit, then measures SET with new keys (every write evicts). Returns
/// (req/s at -P 1, req/s at -P 16, keys evicted during the measurement).
fn at_limit(port: u16, headroom_bytes: u64, requests: u64) -> Result<(f64, f64, u64), String> {
    let mut conn = Conn::connect(port).map_err(|e| e.to_string())?;
    let used = conn.info_memory("used_memory")?;
    let mut req = Vec::new();
    let limit = (used + headroom_bytes).to_string();
    encode_command(
        &mut req,
        &[b"CONFIG", b"SET", b"maxmemory", limit.as_bytes()],
    );
    encode_command(
        &mut req,
        &[b"CONFIG", b"SET", b"maxmemory-policy", b"allkeys-lru"],
    );
    conn.pipeline(&req, 2)?;
    // Fill to the limit first: about twice the headroom in 100-byte values.
    bench_set_random(port, headroom_bytes / 100, 16)?;
    let evicted = |conn: &mut Conn| -> Result<u64, String> {
        let text = conn.bulk_text(&[b"INFO", b"stats"])?;
        text.lines()
            .find_map(|l| l.strip_prefix("evicted_keys:")?.trim().parse().ok())
            .ok_or_else(|| "INFO stats has no evicted_keys".to_string())
    };
    let before = evicted(&mut conn)?;
    let p1 = bench_set_random(port, requests / 4, 1)?;
    let p16 = bench_set_random(port, requests, 16)?;
    let after = evicted(&mut conn)?;
    let mut req = Vec::new();
    encode_command(&mut req, &[b"CONFIG", b"SET", b"maxmemory", b"0"]);
    encode_command(&mut req, &[b"FLUSHALL"]);
    conn.pipeline(&req, 2)?;
    Ok((p1, p16, after.saturating_sub(before)))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn run(a: &Args) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ferrodis_bin = a.ferrodis.display().to_string();
    let (fport, rport) = (
        free_port().map_err(|e| e.to_string())?,
        free_port().map_err(|e| e.to_string())?,
    );
    let _f = start(&ferrodis_bin, fport, dir.path())?;
    let _r = start(&a.redis, rport, dir.path())?;
    let pipelines: Vec<u32> = a
        .pipelines
        .split(',')
        .map(|p| p.trim().parse().map_err(|_| format!("bad pipeline {p:?}")))
        .collect::<Result<_, _>>()?;
    // results[(pipeline, test)] = (ferrodis samples, redis samples)
    let mut results: BTreeMap<(u32, String), (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for round in 0..a.rounds {
        for &p in &pipelines {
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_ferrodis in order {
                let port = if is_ferrodis { fport } else { rport };
                eprintln!(
                    "round {} P={p} {}",
                    round + 1,
                    if is_ferrodis { "ferrodis" } else { "redis" }
                );
                for (test, rps) in bench(port, a, p)? {
                    let e = results.entry((p, test)).or_default();
                    if is_ferrodis {
                        e.0.push(rps);
                    } else {
                        e.1.push(rps);
                    }
                }
            }
        }
    }
    let cmd = format!(
        "redis-benchmark -c {} -n {} -P <P> -t {} --csv  (P in {}, {} rounds, median)",
        a.clients, a.requests, a.tests, a.pipelines, a.rounds
    );
    let mut md = String::new();
    let _ = writeln!(md, "## Throughput: redis-benchmark, Ferrodis vs Redis\n");
    let _ = writeln!(
        md,
        "Machine: {} cores, {}. Reference: {}. Both servers on 127.0.0.1 in the same run, \
         sharing the cores with redis-benchmark, servers interleaved and alternated per round.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        redis_version(&a.redis)
    );
    let _ = writeln!(md, "Command: `{cmd}` — produced by `make bench-compare`.\n");
    let _ = writeln!(md, "| test | -P | Ferrodis req/s | Redis req/s | ratio |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for ((p, test), (f, r)) in results.iter_mut() {
        if f.is_empty() || r.is_empty() {
            continue;
        }
        let (fm, rm) = (median(f), median(r));
        let _ = writeln!(
            md,
            "| {test} | {p} | {fm:.0} | {rm:.0} | {:.2} |",
            if rm > 0.0 { fm / rm } else { 0.0 }
        );
    }
    // SET under allkeys-lru at the limit (issue #5): every write evicts.
    const HEADROOM: u64 = 64 * 1024 * 1024;
    eprintln!("SET at the maxmemory limit, ferrodis");
    let (f1, f16, fe) = at_limit(fport, HEADROOM, a.requests)?;
    eprintln!("SET at the maxmemory limit, redis");
    let (r1, r16, re) = at_limit(rport, HEADROOM, a.requests)?;
    let _ = writeln!(
        md,
        "\n### SET at the maxmemory limit (allkeys-lru)\n\n`maxmemory` = each server's own \
         `used_memory` + 64 MiB, `maxmemory-policy allkeys-lru`, filled past the limit, then \
         `redis-benchmark -c 50 -r 100000000 -d 100 -t set -P <P>` ({} requests at -P 16, a \
         quarter at -P 1): every write adds a new key and evicts. One run.\n",
        a.requests
    );
    let _ = writeln!(
        md,
        "| -P | Ferrodis req/s | Redis req/s | ratio | keys evicted (Ferrodis / Redis) |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        md,
        "| 1 | {f1:.0} | {r1:.0} | {:.2} | {fe} / {re} |",
        f1 / r1
    );
    let _ = writeln!(md, "| 16 | {f16:.0} | {r16:.0} | {:.2} | |", f16 / r16);
    Ok(md)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    finish("bench-compare", run(&args), args.write.as_deref(), SECTION)
}
