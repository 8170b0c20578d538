//! `hit-ratio`: how well the approximated LRU and LFU eviction of Ferrodis keep the popular keys
//! of a cache, next to the reference `redis-server`, on the same workload.
//!
//! The workload is a read-through cache: `--ops` GETs of keys drawn from a Zipfian distribution
//! over `--keys` keys (exponent `--zipf-s`, fixed `--seed`, so both servers see the same
//! sequence); each miss is followed by a SET of a `--value-bytes` value. Each server runs once
//! per policy (`allkeys-lru`, `allkeys-lfu`), freshly started, with `maxmemory` set to its own
//! start-up `used_memory` plus `--cache-mb`. The table reports the hit ratio over all GETs and
//! over the second half (steady state). Hit ratios are a quality comparison, not a speed claim.

use std::process::ExitCode;

use clap::Parser;
use ferrodis_benches::{encode_command, free_port, start, Conn};

#[derive(Parser, Debug)]
#[command(about = "Cache hit ratio under allkeys-lru / allkeys-lfu: Ferrodis vs redis-server")]
struct Args {
    /// Path of the ferrodis-server binary.
    #[arg(long, default_value = "target/release/ferrodis-server")]
    ferrodis: String,
    /// Path of the reference redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Number of distinct keys.
    #[arg(long, default_value_t = 200_000)]
    keys: usize,
    /// Number of GETs.
    #[arg(long, default_value_t = 2_000_000)]
    ops: usize,
    /// Zipf exponent: larger = more skewed.
    #[arg(long, default_value_t = 1.0)]
    zipf_s: f64,
    /// Bytes per value.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
    /// Cache size: maxmemory above each server's start-up used_memory, MiB.
    #[arg(long, default_value_t = 8)]
    cache_mb: u64,
    /// Random seed of the key sequence.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `maxmemory-samples` for both servers.
    #[arg(long, default_value_t = 5)]
    samples: u32,
}

/// Draws Zipf-distributed ranks 0..n by inverting the cumulative distribution.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect();
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut fastrand::Rng) -> usize {
        let u = rng.f64();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// Hits over all GETs and over the second half.
struct Outcome {
    hits: usize,
    late_hits: usize,
    ops: usize,
    keys_left: u64,
}

fn run_one(bin: &str, policy: &str, a: &Args, zipf: &Zipf) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port().map_err(|e| e.to_string())?;
    let _server = start(bin, port, dir.path())?;
    let mut conn = Conn::connect(port).map_err(|e| e.to_string())?;
    let base = conn.info_memory("used_memory")?;
    let max = base + a.cache_mb * 1024 * 1024;
    let mut cfg = Vec::new();
    for (k, v) in [
        ("maxmemory-policy", policy.to_string()),
        ("maxmemory-samples", a.samples.to_string()),
        ("maxmemory", max.to_string()),
    ] {
        encode_command(&mut cfg, &[b"CONFIG", b"SET", k.as_bytes(), v.as_bytes()]);
    }
    conn.pipeline(&cfg, 3)?;
    let mut rng = fastrand::Rng::with_seed(a.seed);
    let value = vec![b'v'; a.value_bytes];
    const BATCH: usize = 100;
    let (mut hits, mut late_hits, mut done) = (0, 0, 0);
    let mut keys = Vec::with_capacity(BATCH);
    let mut req = Vec::new();
    while done < a.ops {
        let n = BATCH.min(a.ops - done);
        keys.clear();
        req.clear();
        for _ in 0..n {
            let key = format!("key:{}", zipf.sample(&mut rng));
            encode_command(&mut req, &[b"GET", key.as_bytes()]);
            keys.push(key);
        }
        let found = conn.pipeline_hits(&req, n)?;
        req.clear();
        let mut misses = 0;
        for (i, (key, hit)) in keys.iter().zip(&found).enumerate() {
            if *hit {
                hits += 1;
                if done + i >= a.ops / 2 {
                    late_hits += 1;
                }
            } else {
                encode_command(&mut req, &[b"SET", key.as_bytes(), &value]);
                misses += 1;
            }
        }
        if misses > 0 {
            conn.pipeline(&req, misses)?;
        }
        done += n;
    }
    let keys_left = conn
        .bulk_text(&[b"INFO", b"keyspace"])?
        .lines()
        .find_map(|l| l.strip_prefix("db0:keys=")?.split(',').next()?.parse().ok())
        .unwrap_or(0);
    Ok(Outcome {
        hits,
        late_hits,
        ops: a.ops,
        keys_left,
    })
}

fn pct(n: usize, d: usize) -> String {
    format!("{:.2}%", 100.0 * n as f64 / d.max(1) as f64)
}

fn run(a: &Args) -> Result<String, String> {
    let zipf = Zipf::new(a.keys, a.zipf_s);
    let mut md = format!(
        "Read-through cache: {} GETs over {} keys, Zipf s={}, {} B values, maxmemory = \
         start-up used_memory + {} MiB, maxmemory-samples {}, seed {}.\n\n\
         | policy | server | hit ratio | hit ratio (2nd half) | keys kept |\n\
         |---|---|---|---|---|\n",
        a.ops, a.keys, a.zipf_s, a.value_bytes, a.cache_mb, a.samples, a.seed
    );
    for policy in ["allkeys-lru", "allkeys-lfu"] {
        for (name, bin) in [("Ferrodis", &a.ferrodis), ("Redis", &a.redis)] {
            let o = run_one(bin, policy, a, &zipf)?;
            md.push_str(&format!(
                "| {policy} | {name} | {} | {} | {} |\n",
                pct(o.hits, o.ops),
                pct(o.late_hits, o.ops - o.ops / 2),
                o.keys_left
            ));
        }
    }
    Ok(md)
}

fn main() -> ExitCode {
    let args = Args::parse();
    ferrodis_benches::finish("hit-ratio", run(&args), None, "hit-ratio")
}
