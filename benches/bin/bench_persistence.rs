//! `bench-persistence`: the cost of persistence in Ferrodis and in the reference `redis-server`,
//! measured in the same run (issue #6), written as tables into BENCHMARKS.md
//! (`bench-persistence` section).
//!
//! Every measurement starts a fresh server (one at a time: client and server share the cores)
//! in its own temp dir, loads `key:N` string keys with random alphanumeric values through
//! pipelined MSET on one connection, and reports Ferrodis, Redis and Ferrodis/Redis:
//!
//! - **SAVE and load** (`--keys`, 16-byte values): wall time of SAVE; RDB file size; load time =
//!   from spawning the server on that file (`--dbfilename`, same dir) until PING answers and
//!   `INFO persistence` shows `loading:0` (Redis answers -LOADING while loading; Ferrodis loads
//!   before it listens). DBSIZE is checked after the load.
//! - **AOF write throughput**: `redis-benchmark -t set` against a server started with
//!   `--appendonly yes --appendfsync everysec`, and without AOF for context. AOF counts as
//!   implemented when, after the run, `INFO persistence` shows `aof_enabled:1` and
//!   `appendonlydir` exists; otherwise the row says so instead of a number.
//! - **Latency during BGSAVE** (`--bgsave-gb` of 100-byte values): one connection sends GET or
//!   SET (50/50) on random existing keys one at a time, recording every latency, for
//!   `--window-secs` before BGSAVE and from the BGSAVE reply until `rdb_bgsave_in_progress:0`.
//! - **RSS during BGSAVE under writes** (same data set, same server): BGSAVE while one
//!   connection overwrites random keys in pipelines of 100 SETs; VmRSS of the server plus its
//!   child processes (Redis' fork; found by a /proc scan of parent pids) sampled every 20 ms.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use ferrodis_benches::{
    cpu_model, encode_command, finish, free_port, redis_version, spawn, wait_ready, Conn, Proc,
};

const SECTION: &str = "bench-persistence";
/// Longest wait for a server to load its RDB file or finish a BGSAVE.
const SLOW_TIMEOUT: Duration = Duration::from_secs(1800);
/// Bytes of the values in the BGSAVE data set.
const BIG_VALUE_BYTES: usize = 100;
/// Bytes of the values in the SAVE/load data sets.
const SMALL_VALUE_BYTES: usize = 16;
/// RSS sampling period during BGSAVE.
const RSS_PERIOD: Duration = Duration::from_millis(20);
/// How often the latency probe checks whether BGSAVE has finished.
const POLL_PERIOD: Duration = Duration::from_millis(50);

#[derive(Parser, Debug)]
#[command(about = "Persistence (SAVE, load, AOF, BGSAVE latency and RSS): Ferrodis vs Redis")]
struct Args {
    /// Path of the ferrodis-server binary.
    #[arg(long, default_value = "target/release/ferrodis-server")]
    ferrodis: PathBuf,
    /// Path of the reference redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Key counts of the SAVE/load data sets (16-byte values), comma separated.
    #[arg(long, default_value = "1000000,10000000")]
    keys: String,
    /// Requests of the AOF redis-benchmark run (-n; -r is the same number).
    #[arg(long, default_value_t = 1_000_000)]
    aof_requests: u64,
    /// Size of the BGSAVE data set in GB of 100-byte values (2 = 20 M keys).
    #[arg(long, default_value_t = 2.0)]
    bgsave_gb: f64,
    /// Length of the baseline latency window before BGSAVE, in seconds.
    #[arg(long, default_value_t = 5.0)]
    window_secs: f64,
    /// Markdown file whose bench-persistence section is replaced with the results.
    #[arg(long)]
    write: Option<PathBuf>,
}

/// A server under test on its own port and dir. Dropping it sends SHUTDOWN NOSAVE (Redis then
/// also ends a running save child) and waits for the connection to close before the process is
/// killed and reaped.
struct Server {
    proc: Proc,
    port: u16,
}

impl Server {
    /// Starts `bin` in `dir` with `extra` settings and waits until it answers PING.
    fn start(bin: &str, dir: &Path, extra: &[&str]) -> Result<Server, String> {
        let port = free_port().map_err(|e| e.to_string())?;
        let server = Server {
            proc: spawn(bin, port, dir, extra)?,
            port,
        };
        wait_ready(port)?;
        Ok(server)
    }

    fn conn(&self) -> Result<Conn, String> {
        Conn::connect(self.port).map_err(|e| e.to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(mut c) = Conn::connect(self.port) {
            // The reply to a successful SHUTDOWN is the connection closing.
            let _ = c.line(&[b"SHUTDOWN", b"NOSAVE"]);
        }
    }
}

/// Random alphanumeric bytes that values are cut from (so RDB compression has little to gain,
/// as with real data).
struct Values {
    pool: Vec<u8>,
}

impl Values {
    fn new(seed: u64) -> Values {
        let mut rng = fastrand::Rng::with_seed(seed);
        Values {
            pool: (0..1 << 20).map(|_| rng.alphanumeric() as u8).collect(),
        }
    }

    fn pick(&self, rng: &mut fastrand::Rng, len: usize) -> &[u8] {
        let at = rng.usize(0..self.pool.len() - len);
        &self.pool[at..at + len]
    }
}

/// Loads `key:0` .. `key:<keys-1>` with `value_bytes`-byte values: MSET of 100 pairs, 10 per
/// round trip.
fn load(conn: &mut Conn, keys: u64, value_bytes: usize, values: &Values) -> Result<(), String> {
    const PAIRS: u64 = 100;
    const COMMANDS: usize = 10;
    let mut rng = fastrand::Rng::with_seed(keys);
    let (mut buf, mut pending) = (Vec::new(), 0);
    let mut key = 0;
    while key < keys {
        let end = (key + PAIRS).min(keys);
        let names: Vec<Vec<u8>> = (key..end)
            .map(|k| format!("key:{k}").into_bytes())
            .collect();
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        for name in &names {
            args.push(name);
            args.push(values.pick(&mut rng, value_bytes));
        }
        encode_command(&mut buf, &args);
        pending += 1;
        key = end;
        if pending == COMMANDS || key == keys {
            conn.pipeline(&buf, pending)?;
            buf.clear();
            pending = 0;
        }
    }
    Ok(())
}

/// SAVE and load of one data set on one server.
struct SaveLoad {
    save: Duration,
    load: Duration,
    file_bytes: u64,
}

fn save_and_load(bin: &str, keys: u64, values: &Values) -> Result<SaveLoad, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let save = {
        let server = Server::start(bin, dir.path(), &[])?;
        let mut conn = server.conn()?;
        load(&mut conn, keys, SMALL_VALUE_BYTES, values)?;
        let t = Instant::now();
        conn.line(&[b"SAVE"])?;
        t.elapsed()
    };
    let file = dir.path().join("dump.rdb");
    let file_bytes = std::fs::metadata(&file)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .len();
    let port = free_port().map_err(|e| e.to_string())?;
    let t = Instant::now();
    let server = Server {
        proc: spawn(bin, port, dir.path(), &["--dbfilename", "dump.rdb"])?,
        port,
    };
    wait_loaded(port)?;
    let load = t.elapsed();
    let dbsize: u64 = server.conn()?.line(&[b"DBSIZE"])?.parse().unwrap_or(0);
    if dbsize != keys {
        return Err(format!("{bin} loaded {dbsize} keys of {keys}"));
    }
    Ok(SaveLoad {
        save,
        load,
        file_bytes,
    })
}

/// Waits until the server on `port` answers PING (not -LOADING) and reports `loading:0`.
fn wait_loaded(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + SLOW_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(mut c) = Conn::connect(port) {
            if c.line(&[b"PING"]).is_ok() && c.info("persistence", "loading")? == "0" {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("server on port {port} did not finish loading"))
}

/// `redis-benchmark -t set` requests per second against a fresh server started with `extra`.
/// With `aof`, `None` when the server refuses AOF or does not write it (not implemented).
fn set_rps(bin: &str, requests: u64, extra: &[&str], aof: bool) -> Result<Option<f64>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = match Server::start(bin, dir.path(), extra) {
        Ok(s) => s,
        Err(e) if aof => {
            eprintln!("{bin} with {extra:?}: {e}");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &server.port.to_string()])
        .args([
            "-t",
            "set",
            "-n",
            &requests.to_string(),
            "-P",
            "16",
            "-c",
            "50",
        ])
        .args(["-r", &requests.to_string(), "-q", "--csv"])
        .output()
        .map_err(|e| format!("running redis-benchmark: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rps: f64 = text
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(1))
        .and_then(|v| v.trim_matches('"').parse().ok())
        .ok_or_else(|| format!("no SET result in redis-benchmark output:\n{text}"))?;
    if aof {
        let enabled = server.conn()?.info("persistence", "aof_enabled")? == "1";
        if !enabled || !dir.path().join("appendonlydir").is_dir() {
            return Ok(None);
        }
    }
    Ok(Some(rps))
}

/// Whether the server behind `conn` is still running a BGSAVE.
fn bgsave_running(conn: &mut Conn) -> Result<bool, String> {
    Ok(conn.info("persistence", "rdb_bgsave_in_progress")? == "1")
}

/// Sends BGSAVE and returns how long the reply took (for Redis: mostly the fork).
fn bgsave(conn: &mut Conn) -> Result<Duration, String> {
    let t = Instant::now();
    conn.line(&[b"BGSAVE"])?;
    Ok(t.elapsed())
}

/// Fails unless the last BGSAVE succeeded.
fn check_saved(conn: &mut Conn) -> Result<(), String> {
    match conn.info("persistence", "rdb_last_bgsave_status")?.as_str() {
        "ok" => Ok(()),
        other => Err(format!("rdb_last_bgsave_status:{other}")),
    }
}

/// One request at a time on `conn`, GET or SET (50/50) of a random key below `keys`, until
/// `done` (asked every [`POLL_PERIOD`]) says stop; returns every latency.
fn probe(
    conn: &mut Conn,
    keys: u64,
    values: &Values,
    done: &mut dyn FnMut() -> Result<bool, String>,
) -> Result<Vec<Duration>, String> {
    let mut rng = fastrand::Rng::with_seed(7);
    let (mut latencies, mut req) = (Vec::new(), Vec::new());
    let mut next_poll = Instant::now() + POLL_PERIOD;
    loop {
        let key = format!("key:{}", rng.u64(0..keys));
        req.clear();
        let is_get = rng.bool();
        if is_get {
            encode_command(&mut req, &[b"GET", key.as_bytes()]);
        } else {
            let value = values.pick(&mut rng, BIG_VALUE_BYTES);
            encode_command(&mut req, &[b"SET", key.as_bytes(), value]);
        }
        let t = Instant::now();
        if is_get {
            conn.pipeline_hits(&req, 1)?;
        } else {
            conn.pipeline(&req, 1)?;
        }
        latencies.push(t.elapsed());
        if Instant::now() >= next_poll {
            if done()? {
                return Ok(latencies);
            }
            next_poll = Instant::now() + POLL_PERIOD;
        }
    }
}

/// p50, p99, p99.9 and max of a latency sample.
#[derive(Clone, Copy, Default)]
struct Percentiles {
    requests: usize,
    at: [Duration; 4],
}

impl Percentiles {
    const NAMES: [&'static str; 4] = ["p50", "p99", "p99.9", "max"];

    fn of(mut v: Vec<Duration>) -> Percentiles {
        v.sort_unstable();
        let n = v.len();
        let at = |q: f64| {
            let i = ((n as f64 * q).ceil() as usize).clamp(1, n.max(1)) - 1;
            v.get(i).copied().unwrap_or_default()
        };
        Percentiles {
            requests: n,
            at: [at(0.5), at(0.99), at(0.999), at(1.0)],
        }
    }
}

/// The BGSAVE measurements of one server.
#[derive(Default)]
struct Bgsave {
    baseline: Percentiles,
    during: Percentiles,
    /// Time until BGSAVE replied (the latency run).
    reply: Duration,
    /// From sending BGSAVE until `rdb_bgsave_in_progress:0` (the latency run).
    duration: Duration,
    /// INFO stats `latest_fork_usec`, when the server forks.
    fork_usec: Option<u64>,
    rss_baseline_bytes: u64,
    rss_peak_bytes: u64,
    /// From sending BGSAVE until `rdb_bgsave_in_progress:0` (the write-load run).
    duration_writes: Duration,
    /// SETs per second the writer achieved during that BGSAVE.
    writes_per_sec: f64,
    /// INFO persistence `rdb_last_cow_size` after the write-load run, when nonzero.
    cow_bytes: Option<u64>,
}

fn bgsave_runs(bin: &str, keys: u64, window: Duration, values: &Values) -> Result<Bgsave, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = Server::start(bin, dir.path(), &[])?;
    let (mut conn, mut info) = (server.conn()?, server.conn()?);
    eprintln!("  loading {keys} keys");
    load(&mut conn, keys, BIG_VALUE_BYTES, values)?;
    let mut r = Bgsave::default();

    eprintln!("  latency: baseline");
    let t = Instant::now();
    r.baseline = Percentiles::of(probe(&mut conn, keys, values, &mut || {
        Ok(t.elapsed() >= window)
    })?);
    eprintln!("  latency: during BGSAVE");
    let t = Instant::now();
    r.reply = bgsave(&mut conn)?;
    r.during = Percentiles::of(probe(&mut conn, keys, values, &mut || {
        if t.elapsed() > SLOW_TIMEOUT {
            return Err("BGSAVE did not finish".into());
        }
        Ok(!bgsave_running(&mut info)?)
    })?);
    r.duration = t.elapsed();
    check_saved(&mut info)?;
    r.fork_usec = info
        .info("stats", "latest_fork_usec")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&us| us > 0);

    eprintln!("  RSS: BGSAVE under writes");
    let pid = server.proc.id();
    r.rss_baseline_bytes = tree_rss_bytes(pid);
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let t = Instant::now();
    bgsave(&mut conn)?;
    let sampled = std::thread::scope(|s| {
        let writer = s.spawn(|| overwrite(conn, keys, values, &stop, &written));
        let sampled = sample_peak_rss(pid, &mut info, &mut r.rss_peak_bytes);
        stop.store(true, Ordering::Relaxed);
        writer.join().map_err(|_| "writer panicked".to_string())??;
        sampled
    });
    sampled?;
    r.duration_writes = t.elapsed();
    r.writes_per_sec = written.load(Ordering::Relaxed) as f64 / r.duration_writes.as_secs_f64();
    check_saved(&mut info)?;
    r.cow_bytes = info
        .info("persistence", "rdb_last_cow_size")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&b| b > 0);
    Ok(r)
}

/// Overwrites random keys below `keys` in pipelines of 100 SETs until `stop`, counting SETs.
fn overwrite(
    mut conn: Conn,
    keys: u64,
    values: &Values,
    stop: &AtomicBool,
    written: &AtomicU64,
) -> Result<(), String> {
    const PIPELINE: usize = 100;
    let mut rng = fastrand::Rng::with_seed(11);
    let mut req = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        req.clear();
        for _ in 0..PIPELINE {
            let key = format!("key:{}", rng.u64(0..keys));
            let value = values.pick(&mut rng, BIG_VALUE_BYTES);
            encode_command(&mut req, &[b"SET", key.as_bytes(), value]);
        }
        conn.pipeline(&req, PIPELINE)?;
        written.fetch_add(PIPELINE as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// Samples the RSS of `pid` and its children every [`RSS_PERIOD`] until the BGSAVE ends,
/// keeping the peak in `peak`.
fn sample_peak_rss(pid: u32, info: &mut Conn, peak: &mut u64) -> Result<(), String> {
    let deadline = Instant::now() + SLOW_TIMEOUT;
    let mut next_poll = Instant::now();
    loop {
        *peak = (*peak).max(tree_rss_bytes(pid));
        if Instant::now() >= next_poll {
            if !bgsave_running(info)? {
                return Ok(());
            }
            next_poll = Instant::now() + POLL_PERIOD;
        }
        if Instant::now() > deadline {
            return Err("BGSAVE did not finish".into());
        }
        std::thread::sleep(RSS_PERIOD);
    }
}

/// VmRSS of `pid` plus that of its direct children (Redis' save child), in bytes. Children are
/// found by scanning /proc for processes whose parent is `pid` (not by name; this kernel may
/// lack /proc/<pid>/task/*/children).
fn tree_rss_bytes(pid: u32) -> u64 {
    let children = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| parent_of(p) == Some(pid));
    std::iter::once(pid).chain(children).map(vm_rss_bytes).sum()
}

/// The parent pid of `pid`, from /proc/<pid>/stat (the field after the `)` of the name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// /proc/<pid>/status VmRSS in bytes (0 when the process is gone).
fn vm_rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn ratio(f: f64, r: f64) -> String {
    if r > 0.0 && f.is_finite() {
        format!("{:.2}", f / r)
    } else {
        "-".into()
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

/// One table row: label, Ferrodis, Redis and the ratio of the two numbers.
fn row(md: &mut String, label: &str, f: (String, f64), r: (String, f64)) {
    let _ = writeln!(md, "| {label} | {} | {} | {} |", f.0, r.0, ratio(f.1, r.1));
}

fn dur(d: Duration, show: fn(Duration) -> String) -> (String, f64) {
    (show(d), d.as_secs_f64())
}

fn save_load_section(
    a: &Args,
    ferrodis: &str,
    values: &Values,
    md: &mut String,
) -> Result<(), String> {
    let keys: Vec<u64> = a
        .keys
        .split(',')
        .map(|k| k.trim().parse().map_err(|_| format!("bad key count {k:?}")))
        .collect::<Result<_, _>>()?;
    let _ = writeln!(md, "### SAVE and load\n");
    let _ = writeln!(
        md,
        "`key:N` → 16-byte random alphanumeric values, loaded with pipelined MSET. SAVE = wall \
         time of the SAVE command; load = from spawning the server on the file (`--dbfilename`) \
         until PING answers and `INFO persistence` shows `loading:0`. One run each; ratio below \
         1 = Ferrodis is faster / smaller.\n"
    );
    let _ = writeln!(md, "| keys | metric | Ferrodis | Redis | ratio |");
    let _ = writeln!(md, "|---:|---|---:|---:|---:|");
    for n in keys {
        eprintln!("SAVE/load {n} keys: ferrodis");
        let f = save_and_load(ferrodis, n, values)?;
        eprintln!("SAVE/load {n} keys: redis");
        let r = save_and_load(&a.redis, n, values)?;
        row(
            md,
            &format!("{n} | SAVE (s)"),
            dur(f.save, secs),
            dur(r.save, secs),
        );
        row(
            md,
            &format!("{n} | load (s)"),
            dur(f.load, secs),
            dur(r.load, secs),
        );
        let size = |b: u64| (mib(b), b as f64);
        row(
            md,
            &format!("{n} | RDB file (MiB)"),
            size(f.file_bytes),
            size(r.file_bytes),
        );
    }
    let _ = writeln!(md);
    Ok(())
}

fn aof_section(a: &Args, ferrodis: &str, md: &mut String) -> Result<(), String> {
    const AOF: [&str; 4] = ["--appendonly", "yes", "--appendfsync", "everysec"];
    let n = a.aof_requests;
    let _ = writeln!(md, "### SET throughput with AOF (appendfsync everysec)\n");
    let _ = writeln!(
        md,
        "`redis-benchmark -t set -n {n} -P 16 -c 50 -r {n} -q --csv` against a fresh server \
         started with `--appendonly yes --appendfsync everysec`, and without AOF for context. \
         One run each; ratio above 1 = Ferrodis is faster.\n"
    );
    let _ = writeln!(md, "| config | Ferrodis SET/s | Redis SET/s | ratio |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    for (label, extra, aof) in [
        ("appendonly yes, everysec", &AOF[..], true),
        ("no AOF", &[][..], false),
    ] {
        eprintln!("SET throughput, {label}: ferrodis");
        let f = set_rps(ferrodis, n, extra, aof)?;
        eprintln!("SET throughput, {label}: redis");
        let r = set_rps(&a.redis, n, extra, aof)?;
        let show = |v: Option<f64>| v.map_or("n/a (not implemented)".into(), |v| format!("{v:.0}"));
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} |",
            show(f),
            show(r),
            ratio(f.unwrap_or(f64::NAN), r.unwrap_or(0.0))
        );
    }
    let _ = writeln!(md);
    Ok(())
}

fn bgsave_section(
    a: &Args,
    ferrodis: &str,
    values: &Values,
    md: &mut String,
) -> Result<(), String> {
    let keys = (a.bgsave_gb * 1e9 / BIG_VALUE_BYTES as f64).round() as u64;
    let window = Duration::from_secs_f64(a.window_secs);
    eprintln!("BGSAVE, {keys} keys: ferrodis");
    let f = bgsave_runs(ferrodis, keys, window, values)?;
    eprintln!("BGSAVE, {keys} keys: redis");
    let r = bgsave_runs(&a.redis, keys, window, values)?;

    let _ = writeln!(md, "### Latency during BGSAVE\n");
    let _ = writeln!(
        md,
        "{keys} keys `key:N` → 100-byte random alphanumeric values ({} GB of values). One \
         connection sends GET or SET (50/50) on random existing keys, one request at a time, \
         recording every latency: for {} s before BGSAVE (baseline), and from the BGSAVE reply \
         until `rdb_bgsave_in_progress:0` (during). Latencies in ms; BGSAVE reply = time until \
         BGSAVE answered (Redis: the fork); BGSAVE end is polled every 50 ms.\n",
        a.bgsave_gb, a.window_secs
    );
    let _ = writeln!(md, "| window | metric | Ferrodis | Redis | ratio |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|");
    for (label, fp, rp) in [
        ("baseline", f.baseline, r.baseline),
        ("during BGSAVE", f.during, r.during),
    ] {
        let count = |p: Percentiles| (p.requests.to_string(), p.requests as f64);
        row(md, &format!("{label} | requests"), count(fp), count(rp));
        for (i, name) in Percentiles::NAMES.iter().enumerate() {
            row(
                md,
                &format!("{label} | {name}"),
                dur(fp.at[i], ms),
                dur(rp.at[i], ms),
            );
        }
    }
    row(
        md,
        "BGSAVE | reply (ms)",
        dur(f.reply, ms),
        dur(r.reply, ms),
    );
    row(
        md,
        "BGSAVE | duration (s)",
        dur(f.duration, secs),
        dur(r.duration, secs),
    );
    let fork = |v: Option<u64>| {
        v.map_or(("- (no fork)".into(), f64::NAN), |us| {
            (us.to_string(), us as f64)
        })
    };
    row(
        md,
        "BGSAVE | latest_fork_usec",
        fork(f.fork_usec),
        fork(r.fork_usec),
    );

    let _ = writeln!(md, "\n### RSS during BGSAVE under writes\n");
    let _ = writeln!(
        md,
        "Same server and data set, after the run above: BGSAVE while one connection overwrites \
         random keys in pipelines of 100 SETs of 100-byte values. RSS = VmRSS of the server plus \
         its child processes (Redis' fork), sampled every 20 ms; the sum counts pages the parent \
         and the fork still share twice, `rdb_last_cow_size` is what Redis' fork actually \
         copied. MiB; ratio below 1 = Ferrodis uses less.\n"
    );
    let _ = writeln!(md, "| metric | Ferrodis | Redis | ratio |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let size = |b: u64| (mib(b), b as f64);
    row(
        md,
        "RSS before BGSAVE",
        size(f.rss_baseline_bytes),
        size(r.rss_baseline_bytes),
    );
    row(
        md,
        "peak RSS during BGSAVE",
        size(f.rss_peak_bytes),
        size(r.rss_peak_bytes),
    );
    let growth = |b: &Bgsave| {
        let g = b.rss_peak_bytes as f64 / b.rss_baseline_bytes.max(1) as f64;
        (format!("{g:.2}"), g)
    };
    row(md, "peak / before", growth(&f), growth(&r));
    let cow = |v: Option<u64>| v.map_or(("-".into(), f64::NAN), size);
    row(md, "rdb_last_cow_size", cow(f.cow_bytes), cow(r.cow_bytes));
    row(
        md,
        "BGSAVE duration (s)",
        dur(f.duration_writes, secs),
        dur(r.duration_writes, secs),
    );
    let wps = |b: &Bgsave| (format!("{:.0}", b.writes_per_sec), b.writes_per_sec);
    row(md, "SETs/s during BGSAVE", wps(&f), wps(&r));
    Ok(())
}

fn run(a: &Args) -> Result<String, String> {
    let ferrodis = a.ferrodis.display().to_string();
    let values = Values::new(42);
    let mut md = String::new();
    let _ = writeln!(md, "## Persistence: Ferrodis vs Redis\n");
    let _ = writeln!(
        md,
        "Machine: {} cores, {}. Reference: {}. One server at a time on 127.0.0.1, fresh for \
         each measurement, sharing the cores with the client; both measured in the same run.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        redis_version(&a.redis)
    );
    let _ = writeln!(
        md,
        "Command: `bench-persistence --keys {} --aof-requests {} --bgsave-gb {} --window-secs {}` \
         — produced by `make bench-compare`.\n",
        a.keys, a.aof_requests, a.bgsave_gb, a.window_secs
    );
    save_load_section(a, &ferrodis, &values, &mut md)?;
    aof_section(a, &ferrodis, &mut md)?;
    bgsave_section(a, &ferrodis, &values, &mut md)?;
    Ok(md)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    finish(
        "bench-persistence",
        run(&args),
        args.write.as_deref(),
        SECTION,
    )
}
