//! Memory introspection: the MEMORY container and the figures INFO memory shares with it.
//!
//! ```text
//! MEMORY USAGE key [SAMPLES count]
//! MEMORY STATS      MEMORY DOCTOR      MEMORY MALLOC-STATS      MEMORY PURGE      MEMORY HELP
//! ```
//!
//! Layout: [`MemoryReport`] gathers every figure once (Redis' `getMemoryOverheadData`); INFO
//! memory ([`crate::cmd::server`]) and MEMORY STATS / DOCTOR render it. `used_memory` is the
//! counting allocator's live bytes ([`Server::used_memory`]); the allocator's own view comes from
//! jemalloc's `stats.*` in the server binary, glibc's `mallinfo2` with the system allocator
//! ([`ferrodis_keyspace::alloc::allocator_stats`]).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use ferrodis_keyspace::clock::unix_ms;
use ferrodis_keyspace::{alloc, table, DbInfo};
use ferrodis_resp::Frame;

use crate::client::ClientShared;
use crate::cmd::connection::help_reply;
use crate::command::args::{eq_ic, parse_i64};
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::server::Server;

/// Elements MEMORY USAGE samples by default (Redis' `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
pub const DEFAULT_SAMPLES: usize = 5;

/// One db's table overhead (MEMORY STATS `db.N`), bytes.
#[derive(Debug, Clone, Copy)]
pub struct DbOverhead {
    /// The db index.
    pub db: usize,
    /// Keys' table nodes and bucket slots (`overhead.hashtable.main`).
    pub main: u64,
    /// The index of keys with an expire (`overhead.hashtable.expires`).
    pub expires: u64,
}

/// Every memory figure, bytes unless named otherwise (Redis' `struct redisMemOverhead`).
#[derive(Debug, Clone, Default)]
pub struct MemoryReport {
    /// `used_memory` ([`Server::used_memory`]).
    pub used: u64,
    /// Resident set size of the process.
    pub rss: u64,
    /// Peak of `used`.
    pub peak: u64,
    /// `used` right after start-up.
    pub startup: u64,
    /// Client output waiting to be written: not counted against `maxmemory`.
    pub not_counted: u64,
    /// Connected clients' buffers and state (`mem_clients_normal`).
    pub clients_normal: u64,
    /// Per-db table overhead, for dbs holding keys.
    pub dbs: Vec<DbOverhead>,
    /// `startup + clients_normal` + every db's overhead (`used_memory_overhead`).
    pub overhead_total: u64,
    /// Keys in every db.
    pub keys: u64,
    /// `used - overhead_total` (`used_memory_dataset`).
    pub dataset: u64,
    /// The allocator's own figures: `(allocated, active, resident)`.
    pub allocator: (u64, u64, u64),
    /// Values waiting for the background freeing thread, and values it freed.
    pub lazyfree: (u64, u64),
}

impl MemoryReport {
    /// Gathers the figures; `dbs` are the keyspace figures when the caller holds the shard locks
    /// (INFO and MEMORY run under a guard), else they are read here.
    pub fn collect(server: &Server, dbs: Option<&[DbInfo]>) -> MemoryReport {
        let used = server.used_memory();
        let rss = server.rss_bytes();
        let owned;
        let dbs = match dbs {
            Some(d) => d,
            None => {
                owned = server.keyspace.db_info();
                &owned[..]
            }
        };
        let keys = dbs.iter().map(|d| d.keys as u64).sum();
        let per_key = table::KEY_OVERHEAD_BYTES as u64;
        let per_expire = table::EXPIRE_OVERHEAD_BYTES as u64;
        let dbs: Vec<DbOverhead> = dbs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.keys > 0)
            .map(|(db, d)| DbOverhead {
                db,
                main: d.keys as u64 * per_key,
                expires: d.expires as u64 * per_expire,
            })
            .collect();
        let clients_normal: u64 = server
            .clients
            .snapshot()
            .iter()
            .map(|c| client_bytes(c))
            .sum();
        let startup = server.startup_memory();
        let overhead_total =
            startup + clients_normal + dbs.iter().map(|d| d.main + d.expires).sum::<u64>();
        let allocator = match alloc::allocator_stats() {
            // glibc does not report its resident pages: the process RSS stands in.
            Some(a) => (
                a.allocated,
                a.active,
                if a.resident > 0 { a.resident } else { rss },
            ),
            None => (used, used, rss),
        };
        MemoryReport {
            used,
            rss,
            peak: server.peak_memory().max(used),
            startup,
            not_counted: server.not_counted_memory(),
            clients_normal,
            dbs,
            overhead_total,
            keys,
            dataset: used.saturating_sub(overhead_total),
            allocator,
            lazyfree: server.keyspace.lazyfree_counts(),
        }
    }

    /// `used - startup`, at least 1 (Redis' `net_usage`).
    fn net_usage(&self) -> u64 {
        self.used.saturating_sub(self.startup).max(1)
    }

    /// `dataset.percentage`: the dataset's share of the memory used beyond start-up, computed in
    /// `float` as Redis does.
    pub fn dataset_perc(&self) -> f32 {
        self.dataset as f32 * 100.0 / self.net_usage() as f32
    }

    /// `peak.percentage`: `used` as a percentage of the peak (`float`).
    pub fn peak_perc(&self) -> f32 {
        self.used as f32 * 100.0 / self.peak.max(1) as f32
    }

    /// `mem_fragmentation_ratio`: RSS over `used` (`float`).
    pub fn fragmentation(&self) -> f32 {
        self.rss as f32 / self.used.max(1) as f32
    }

    /// `allocator_frag_ratio`: allocator active over allocated (`float`).
    pub fn allocator_frag(&self) -> f32 {
        self.allocator.1 as f32 / self.allocator.0.max(1) as f32
    }

    /// `allocator_rss_ratio`: resident over allocator active (`float`).
    pub fn allocator_rss(&self) -> f32 {
        self.allocator.2 as f32 / self.allocator.1.max(1) as f32
    }

    /// `rss_overhead_ratio`: RSS over allocator resident (`float`; 1 here, as the allocator's
    /// resident figure is the RSS).
    pub fn rss_overhead(&self) -> f32 {
        self.rss as f32 / self.allocator.2.max(1) as f32
    }
}

/// A client's buffers and state, bytes: query buffer, output being written, mailbox.
fn client_bytes(c: &ClientShared) -> u64 {
    (std::mem::size_of::<ClientShared>()
        + c.qbuf.load(Ordering::Relaxed)
        + c.obuf.load(Ordering::Relaxed)
        + c.mailbox.queued_bytes()) as u64
}

/// `MEMORY USAGE key [SAMPLES count]`: the bytes the key and its value cost (an estimate: the
/// table node and key, plus the value's storage with aggregates sampled from `count` elements,
/// default 5, 0 = all); null when the key does not exist. Errors: `ERR value is not an integer
/// or out of range` for a malformed count, `ERR syntax error` for a negative one or any other
/// argument. Source: Redis `memoryCommand` / `objectComputeSize`.
pub fn memory_usage(ctx: &mut Ctx) -> Reply {
    let mut samples = DEFAULT_SAMPLES;
    let mut j = 3;
    while j < ctx.args.len() {
        if eq_ic(&ctx.args[j], "samples") && j + 1 < ctx.args.len() {
            let n = parse_i64(&ctx.args[j + 1])?;
            if n < 0 {
                return Err(CommandError::Syntax);
            }
            samples = usize::try_from(n).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let db = ctx.db();
    let key = ctx.args[2].clone();
    Ok(match ctx.ks.lookup_read_no_touch(db, &key)? {
        None => Frame::Null,
        Some(e) => {
            let bytes = e.usage_bytes(samples);
            Frame::Integer(i64::try_from(bytes).unwrap_or(i64::MAX))
        }
    })
}

/// `MEMORY STATS`: a map of memory figures with Redis 7.0's keys in Redis' order; ratios and
/// percentages are doubles. Source: Redis `memoryCommand` "stats".
pub fn memory_stats(ctx: &mut Ctx) -> Reply {
    let dbs = ctx.ks.db_info_at(unix_ms());
    let r = MemoryReport::collect(ctx.server, dbs.as_deref());
    let int = |v: u64| Frame::Integer(i64::try_from(v).unwrap_or(i64::MAX));
    let dbl = |v: f32| Frame::Double(f64::from(v));
    let key = |k: &str| Frame::bulk_from_slice(k.as_bytes());
    let mut m: Vec<(Frame, Frame)> = vec![
        (key("peak.allocated"), int(r.peak)),
        (key("total.allocated"), int(r.used)),
        (key("startup.allocated"), int(r.startup)),
        (key("replication.backlog"), int(0)),
        (key("clients.slaves"), int(0)),
        (key("clients.normal"), int(r.clients_normal)),
        (key("cluster.links"), int(0)),
        (key("aof.buffer"), int(0)),
        (key("lua.caches"), int(0)),
        (key("functions.caches"), int(0)),
    ];
    for d in &r.dbs {
        let inner = vec![
            (key("overhead.hashtable.main"), int(d.main)),
            (key("overhead.hashtable.expires"), int(d.expires)),
            (key("overhead.hashtable.slot-to-keys"), int(0)),
        ];
        m.push((key(&format!("db.{}", d.db)), Frame::Map(inner)));
    }
    let per_key = r.net_usage().checked_div(r.keys).unwrap_or(0);
    let (allocated, active, resident) = r.allocator;
    m.extend([
        (key("overhead.total"), int(r.overhead_total)),
        (key("keys.count"), int(r.keys)),
        (key("keys.bytes-per-key"), int(per_key)),
        (key("dataset.bytes"), int(r.dataset)),
        (key("dataset.percentage"), dbl(r.dataset_perc())),
        (key("peak.percentage"), dbl(r.peak_perc())),
        (key("allocator.allocated"), int(allocated)),
        (key("allocator.active"), int(active)),
        (key("allocator.resident"), int(resident)),
        (
            key("allocator-fragmentation.ratio"),
            dbl(r.allocator_frag()),
        ),
        (
            key("allocator-fragmentation.bytes"),
            int(active.saturating_sub(allocated)),
        ),
        (key("allocator-rss.ratio"), dbl(r.allocator_rss())),
        (
            key("allocator-rss.bytes"),
            int(resident.saturating_sub(active)),
        ),
        (key("rss-overhead.ratio"), dbl(r.rss_overhead())),
        (
            key("rss-overhead.bytes"),
            int(r.rss.saturating_sub(resident)),
        ),
        (key("fragmentation"), dbl(r.fragmentation())),
        (
            key("fragmentation.bytes"),
            int(r.rss.saturating_sub(r.used)),
        ),
    ]);
    Ok(Frame::Map(m))
}

/// Below this much memory beyond start-up MEMORY DOCTOR has too little to judge (Redis uses
/// 5 MB of total usage).
const DOCTOR_MIN_BYTES: u64 = 5 * 1024 * 1024;

/// `MEMORY DOCTOR`: a plain-language report of likely memory problems (verbatim text). The
/// checks follow Redis' `getMemoryDoctorReport` (peak far above current use, fragmentation,
/// large client buffers); the wording is ours.
pub fn memory_doctor(ctx: &mut Ctx) -> Reply {
    let dbs = ctx.ks.db_info_at(unix_ms());
    let r = MemoryReport::collect(ctx.server, dbs.as_deref());
    Ok(verbatim(doctor_report(&r)))
}

fn doctor_report(r: &MemoryReport) -> String {
    let mb = |v: u64| v as f64 / (1024.0 * 1024.0);
    if r.used < DOCTOR_MIN_BYTES {
        return format!(
            "Memory doctor: this instance uses only {:.2} MB, too little for a meaningful \
             diagnosis. Load some data and ask again.\n",
            mb(r.used)
        );
    }
    let mut issues = Vec::new();
    if r.peak > r.used.saturating_mul(3) / 2 {
        issues.push(format!(
            " * Peak memory: the peak ({:.2} MB) is more than 150% of the memory used now \
             ({:.2} MB). The allocator may keep the difference; RSS can stay near the peak, and \
             MEMORY PURGE asks it to return free pages to the system.",
            mb(r.peak),
            mb(r.used)
        ));
    }
    let frag = r.fragmentation();
    if frag > 1.4 && r.rss.saturating_sub(r.used) > 10 * 1024 * 1024 {
        issues.push(format!(
            " * Fragmentation: the process holds {:.2} times the memory it has allocated \
             ({:.2} MB resident for {:.2} MB used). MEMORY PURGE may release part of it; a \
             restart releases all of it.",
            frag,
            mb(r.rss),
            mb(r.used)
        ));
    }
    if r.not_counted > 32 * 1024 * 1024 {
        issues.push(format!(
            " * Client output: {:.2} MB of replies are waiting to be written to clients, often \
             slow Pub/Sub subscribers. client-output-buffer-limit bounds it.",
            mb(r.not_counted)
        ));
    }
    if issues.is_empty() {
        return format!(
            "Memory doctor: no memory problems detected. {:.2} MB used ({:.2} MB for the \
             data set), {:.2} MB resident, peak {:.2} MB.\n",
            mb(r.used),
            mb(r.dataset),
            mb(r.rss),
            mb(r.peak)
        );
    }
    let mut out = String::from("Memory doctor: a few things worth a look:\n\n");
    for i in issues {
        out.push_str(&i);
        out.push_str("\n\n");
    }
    out
}

/// `MEMORY MALLOC-STATS`: the allocator's own statistics as text: jemalloc's
/// `malloc_stats_print` report as Redis prints it, or glibc's `mallinfo2` figures with the
/// system allocator ("Stats not supported for the current allocator" elsewhere).
pub fn memory_malloc_stats(_ctx: &mut Ctx) -> Reply {
    if let Some(report) = alloc::allocator_report() {
        return Ok(verbatim(report));
    }
    let Some(a) = alloc::allocator_stats() else {
        return Ok(Frame::bulk_from_slice(
            b"Stats not supported for the current allocator",
        ));
    };
    let mut t = String::from("___ Begin glibc malloc statistics (mallinfo2) ___\n");
    let rows = [
        ("allocated (in use, headers included)", a.allocated),
        ("held from the system", a.active),
        ("free in heaps", a.free),
        ("free chunks", a.free_chunks),
        ("free in fastbins", a.fastbin_bytes),
        ("fastbin chunks", a.fastbin_chunks),
        ("mmapped blocks bytes", a.mmapped),
        ("mmapped blocks", a.mmapped_blocks),
        ("releasable at heap top", a.releasable),
    ];
    for (name, v) in rows {
        let _ = writeln!(t, "{name}: {v}");
    }
    if let Some(counted) = alloc::allocated_bytes() {
        let _ = writeln!(t, "counted by Ferrodis (usable sizes): {counted}");
    }
    t.push_str("___ End glibc malloc statistics ___\n");
    Ok(verbatim(t))
}

/// `MEMORY PURGE`: asks the allocator to return free memory to the system (jemalloc purges
/// every arena, glibc runs `malloc_trim(0)`); `+OK`.
pub fn memory_purge(_ctx: &mut Ctx) -> Reply {
    alloc::purge();
    Ok(Frame::ok())
}

/// `MEMORY HELP`.
pub fn memory_help(_ctx: &mut Ctx) -> Reply {
    help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Report likely memory problems.",
            "MALLOC-STATS",
            "    Report the allocator's own statistics.",
            "PURGE",
            "    Ask the allocator to release free memory to the system.",
            "STATS",
            "    Report the server's memory usage in detail.",
            "USAGE <key> [SAMPLES <count>]",
            "    Estimate the bytes used by <key> and its value; aggregates are sampled from",
            "    <count> elements (default: 5, 0 samples all).",
        ],
    )
}

fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::tests::H;

    fn int(f: Frame) -> i64 {
        match f {
            Frame::Integer(n) => n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    #[test]
    fn usage_counts_key_and_value_and_checks_samples() {
        let mut h = H::new();
        h.run(&["SET", "s", &"x".repeat(100)]);
        let s = int(h.run(&["MEMORY", "USAGE", "s"]));
        assert!((100..=300).contains(&s), "{s}");
        h.run(&["SET", &"k".repeat(100), &"x".repeat(100)]);
        let long_key = int(h.run(&["MEMORY", "USAGE", &"k".repeat(100)]));
        assert!(
            long_key >= s + 99,
            "a 100-byte key costs its bytes: {long_key} vs {s}"
        );
        assert_eq!(h.run(&["MEMORY", "USAGE", "nokey"]), Frame::Null);
        let syntax = Frame::error("ERR syntax error");
        assert_eq!(h.run(&["MEMORY", "USAGE", "s", "SAMPLES", "-1"]), syntax);
        assert_eq!(h.run(&["MEMORY", "USAGE", "s", "SAMPLES"]), syntax);
        assert_eq!(h.run(&["MEMORY", "USAGE", "s", "FOO", "1"]), syntax);
        assert_eq!(
            h.run(&["MEMORY", "USAGE", "nokey", "SAMPLES", "x"]),
            Frame::error("ERR value is not an integer or out of range")
        );
        // Lists are sampled by node; all samples agree with the default for a one-node list.
        h.run(&["RPUSH", "l", "a", "b", "c"]);
        let all = int(h.run(&["MEMORY", "USAGE", "l", "SAMPLES", "0"]));
        assert_eq!(int(h.run(&["MEMORY", "USAGE", "l"])), all);
    }

    #[test]
    fn stats_lists_dbs_with_keys() {
        let mut h = H::new();
        let keys = |f: &Frame| -> Vec<String> {
            let Frame::Map(m) = f else {
                panic!("MEMORY STATS is a map: {f:?}");
            };
            m.iter()
                .map(|(k, _)| match k {
                    Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let empty = keys(&h.run(&["MEMORY", "STATS"]));
        assert_eq!(empty.first().map(String::as_str), Some("peak.allocated"));
        assert!(!empty.iter().any(|k| k == "db.0"));
        h.run(&["SET", "k", "v"]);
        let stats = h.run(&["MEMORY", "STATS"]);
        assert!(keys(&stats).iter().any(|k| k == "db.0"));
        let Frame::Map(m) = &stats else {
            unreachable!()
        };
        let count = m
            .iter()
            .find(|(k, _)| *k == Frame::bulk_from_slice(b"keys.count"));
        assert_eq!(count.map(|(_, v)| v.clone()), Some(Frame::Integer(1)));
    }

    #[test]
    fn doctor_speaks_about_small_and_fragmented_instances() {
        let small = MemoryReport {
            used: 1024,
            ..MemoryReport::default()
        };
        assert!(doctor_report(&small).contains("too little"));
        let mb = 1024 * 1024;
        let fragmented = MemoryReport {
            used: 20 * mb,
            rss: 60 * mb,
            peak: 20 * mb,
            ..MemoryReport::default()
        };
        assert!(doctor_report(&fragmented).contains("Fragmentation"));
        let healthy = MemoryReport {
            used: 20 * mb,
            rss: 22 * mb,
            peak: 21 * mb,
            ..MemoryReport::default()
        };
        assert!(doctor_report(&healthy).contains("no memory problems"));
    }
}
