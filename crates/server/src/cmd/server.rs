//! Server commands: INFO TIME LASTSAVE SHUTDOWN CONFIG.
//!
//! ```text
//! INFO [section ...]      TIME      LASTSAVE
//! SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
//! CONFIG GET parameter [parameter ...] | CONFIG SET parameter value [parameter value ...] |
//!        CONFIG RESETSTAT | CONFIG HELP
//! ```

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferrodis_keyspace::clock::{unix_ms, unix_us};
use ferrodis_keyspace::{DbInfo, ShardStats};
use ferrodis_resp::Frame;

use crate::cmd::connection::{help_reply, REDIS_COMPAT_VERSION};
use crate::cmd::memory::MemoryReport;
use crate::command::args::eq_ic;
use crate::command::Ctx;
use crate::error::{CommandError, Reply};
use crate::server::Server;

/// Every INFO section in the order Redis prints them, and whether `INFO` / `INFO default`
/// includes it (`all` and `everything` print every one).
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
];

/// `INFO [section ...]`: a verbatim text of `# Section` headers and `field:value` lines.
pub fn info(ctx: &mut Ctx) -> Reply {
    let mut wanted: Vec<String> = ctx.args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let all = wanted.iter().any(|w| w == "all" || w == "everything");
    if all || wanted.is_empty() || wanted.iter().any(|w| w == "default") {
        let extra = SECTIONS.iter().filter(|(_, default)| all || *default);
        wanted.extend(extra.map(|(name, _)| name.to_string()));
    }
    // INFO runs with every shard locked (also inside EXEC, under the transaction's guard), so
    // the keyspace figures are read through the guard.
    let view = KeyspaceView {
        stats: ctx.ks.stats(),
        dbs: ctx.ks.db_info_at(unix_ms()),
        dirty: ctx.ks.dirty(),
    };
    let text = render_info_with(ctx.server, &wanted, view);
    Ok(Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    })
}

fn human_bytes(n: u64) -> String {
    const UNITS: &[(f64, &str)] = &[
        (1024.0 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024.0 * 1024.0 * 1024.0, "G"),
        (1024.0 * 1024.0, "M"),
        (1024.0, "K"),
    ];
    let v = n as f64;
    for &(size, unit) in UNITS {
        if v >= size {
            return format!("{:.2}{unit}", v / size);
        }
    }
    format!("{n}B")
}

/// Keyspace figures read by a caller that already holds the shard locks (`None`: INFO locks
/// the shards itself, one at a time).
#[derive(Default)]
struct KeyspaceView {
    stats: Option<ShardStats>,
    dbs: Option<Vec<DbInfo>>,
    dirty: Option<u64>,
}

/// Renders the requested INFO sections in Redis' order. Locks the keyspace shards one at a time:
/// the caller must hold none.
pub fn render_info(server: &Server, wanted: &[String]) -> String {
    render_info_with(server, wanted, KeyspaceView::default())
}

fn render_info_with(server: &Server, wanted: &[String], view: KeyspaceView) -> String {
    let mut out = String::new();
    for &(section, _) in SECTIONS {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut s = Section(&mut out);
        match section {
            "server" => server_section(server, &mut s),
            "clients" => clients_section(server, &mut s),
            "memory" => memory_section(server, view.dbs.as_deref(), &mut s),
            "persistence" => persistence_section(server, view.dirty, &mut s),
            "stats" => stats_section(server, view.stats, &mut s),
            "replication" => replication_section(server, &mut s),
            "cpu" => cpu_section(&mut s),
            "modules" => s.header("Modules"),
            "commandstats" => s.header("Commandstats"),
            "errorstats" => s.header("Errorstats"),
            "cluster" => {
                s.header("Cluster");
                s.field("cluster_enabled", 0);
            }
            "keyspace" => keyspace_section(server, view.dbs.as_deref(), &mut s),
            _ => {}
        }
    }
    out
}

struct Section<'a>(&'a mut String);

impl Section<'_> {
    fn header(&mut self, name: &str) {
        let _ = write!(self.0, "# {name}\r\n");
    }
    fn field(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.0, "{name}:{value}\r\n");
    }
}

fn server_section(server: &Server, s: &mut Section) {
    let uptime = server.uptime().as_secs();
    let (config_file, executable) = server.with_config(|c| {
        (
            c.config_file().unwrap_or("").to_string(),
            std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
    });
    let io_threads = server.with_config(|c| c.io_threads());
    let hz = server.hot.hz.load(Ordering::Relaxed);
    s.header("Server");
    s.field("redis_version", REDIS_COMPAT_VERSION);
    s.field("redis_git_sha1", "00000000");
    s.field("redis_git_dirty", 0);
    s.field("redis_build_id", "0");
    s.field("redis_mode", "standalone");
    s.field("ferrodis_version", env!("CARGO_PKG_VERSION"));
    s.field(
        "os",
        format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    );
    s.field("arch_bits", usize::BITS);
    s.field("monotonic_clock", "POSIX clock_gettime");
    s.field("multiplexing_api", "epoll");
    s.field("atomicvar_api", "c11-builtin");
    s.field("gcc_version", "0.0.0");
    s.field("process_id", std::process::id());
    s.field("process_supervised", "no");
    s.field("run_id", &server.run_id);
    s.field("tcp_port", server.tcp_port.load(Ordering::Relaxed));
    s.field("server_time_usec", unix_us());
    s.field("uptime_in_seconds", uptime);
    s.field("uptime_in_days", uptime / 86_400);
    s.field("hz", hz);
    s.field("configured_hz", hz);
    s.field(
        "lru_clock",
        ((unix_ms() / 1000) as u32) & ferrodis_keyspace::clock::LRU_CLOCK_MAX,
    );
    s.field("executable", executable);
    s.field("config_file", config_file);
    s.field("io_threads_active", i32::from(io_threads > 1));
}

fn clients_section(server: &Server, s: &mut Section) {
    let clients = server.clients.snapshot();
    let max_in = clients.iter().map(|c| c.qbuf.load(Ordering::Relaxed)).max();
    let max_out = clients.iter().map(|c| c.obuf.load(Ordering::Relaxed)).max();
    s.header("Clients");
    s.field("connected_clients", clients.len());
    s.field("cluster_connections", 0);
    s.field("maxclients", server.hot.maxclients.load(Ordering::Relaxed));
    s.field("client_recent_max_input_buffer", max_in.unwrap_or(0));
    s.field("client_recent_max_output_buffer", max_out.unwrap_or(0));
    s.field("blocked_clients", server.blocking.parked());
    s.field("tracking_clients", 0);
    s.field("clients_in_timeout_table", server.blocking.with_deadline());
}

/// INFO memory: Redis 7.0's fields in Redis' order, from [`MemoryReport`]. Scripting fields
/// are 0 (no scripting yet); ratios are computed in `float` and printed `%.2f` as Redis does.
fn memory_section(server: &Server, dbs: Option<&[DbInfo]>, s: &mut Section) {
    let r = MemoryReport::collect(server, dbs);
    let total_system = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024);
    let (maxmemory, policy) = server.with_config(|c| {
        (
            c.get_str("maxmemory")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0),
            c.get_str("maxmemory-policy").unwrap_or_default(),
        )
    });
    let (allocated, active, resident) = r.allocator;
    s.header("Memory");
    s.field("used_memory", r.used);
    s.field("used_memory_human", human_bytes(r.used));
    s.field("used_memory_rss", r.rss);
    s.field("used_memory_rss_human", human_bytes(r.rss));
    s.field("used_memory_peak", r.peak);
    s.field("used_memory_peak_human", human_bytes(r.peak));
    s.field("used_memory_peak_perc", format!("{:.2}%", r.peak_perc()));
    s.field("used_memory_overhead", r.overhead_total);
    s.field("used_memory_startup", r.startup);
    s.field("used_memory_dataset", r.dataset);
    s.field(
        "used_memory_dataset_perc",
        format!("{:.2}%", r.dataset_perc()),
    );
    s.field("allocator_allocated", allocated);
    s.field("allocator_active", active);
    s.field("allocator_resident", resident);
    s.field("total_system_memory", total_system);
    s.field("total_system_memory_human", human_bytes(total_system));
    for f in ["used_memory_lua", "used_memory_vm_eval"] {
        s.field(f, 0);
    }
    s.field("used_memory_lua_human", "0B");
    s.field("used_memory_scripts_eval", 0);
    s.field("number_of_cached_scripts", 0);
    s.field("number_of_functions", 0);
    s.field("number_of_libraries", 0);
    s.field("used_memory_vm_functions", 0);
    s.field("used_memory_vm_total", 0);
    s.field("used_memory_vm_total_human", "0B");
    s.field("used_memory_functions", 0);
    s.field("used_memory_scripts", 0);
    s.field("used_memory_scripts_human", "0B");
    s.field("maxmemory", maxmemory);
    s.field("maxmemory_human", human_bytes(maxmemory));
    s.field("maxmemory_policy", policy);
    s.field("allocator_frag_ratio", format!("{:.2}", r.allocator_frag()));
    s.field("allocator_frag_bytes", active.saturating_sub(allocated));
    s.field("allocator_rss_ratio", format!("{:.2}", r.allocator_rss()));
    s.field("allocator_rss_bytes", resident.saturating_sub(active));
    s.field("rss_overhead_ratio", format!("{:.2}", r.rss_overhead()));
    s.field("rss_overhead_bytes", r.rss.saturating_sub(resident));
    s.field(
        "mem_fragmentation_ratio",
        format!("{:.2}", r.fragmentation()),
    );
    s.field("mem_fragmentation_bytes", r.rss.saturating_sub(r.used));
    s.field("mem_not_counted_for_evict", r.not_counted);
    for f in [
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
    ] {
        s.field(f, 0);
    }
    s.field("mem_clients_normal", r.clients_normal);
    s.field("mem_cluster_links", 0);
    s.field("mem_aof_buffer", 0);
    s.field("mem_allocator", ferrodis_keyspace::alloc::allocator_name());
    s.field("active_defrag_running", 0);
    s.field("lazyfree_pending_objects", r.lazyfree.0);
    s.field("lazyfreed_objects", r.lazyfree.1);
}

fn persistence_section(server: &Server, dirty: Option<u64>, s: &mut Section) {
    let dirty = dirty.unwrap_or_else(|| server.keyspace.dirty());
    let rdb = server.persist.info();
    let aof = server.with_config(|c| c.appendonly());
    s.header("Persistence");
    s.field("loading", 0);
    s.field("async_loading", 0);
    s.field("current_cow_peak", 0);
    s.field("current_cow_size", 0);
    s.field("current_cow_size_age", 0);
    s.field("current_fork_perc", "0.00");
    let (processed, total) = if rdb.bgsave_in_progress {
        (rdb.save_keys_processed, rdb.save_keys_total)
    } else {
        (0, 0)
    };
    s.field("current_save_keys_processed", processed);
    s.field("current_save_keys_total", total);
    s.field(
        "rdb_changes_since_last_save",
        server.persist.changes_since_save(dirty),
    );
    s.field("rdb_bgsave_in_progress", i32::from(rdb.bgsave_in_progress));
    s.field(
        "rdb_last_save_time",
        server.lastsave_unix_secs.load(Ordering::Relaxed),
    );
    s.field(
        "rdb_last_bgsave_status",
        if rdb.last_bgsave_ok { "ok" } else { "err" },
    );
    s.field("rdb_last_bgsave_time_sec", rdb.last_bgsave_secs);
    s.field("rdb_current_bgsave_time_sec", rdb.current_bgsave_secs);
    s.field("rdb_saves", rdb.rdb_saves);
    s.field("rdb_last_cow_size", 0);
    s.field("rdb_last_load_keys_expired", rdb.last_load_keys_expired);
    s.field("rdb_last_load_keys_loaded", rdb.last_load_keys_loaded);
    let a = server.aof.status();
    s.field("aof_enabled", i32::from(aof));
    s.field("aof_rewrite_in_progress", i32::from(a.rewrite_in_progress));
    s.field("aof_rewrite_scheduled", i32::from(a.rewrite_scheduled));
    s.field("aof_last_rewrite_time_sec", a.last_rewrite_secs);
    s.field("aof_current_rewrite_time_sec", a.current_rewrite_secs);
    s.field(
        "aof_last_bgrewrite_status",
        if a.last_rewrite_ok { "ok" } else { "err" },
    );
    s.field("aof_rewrites", a.rewrites);
    s.field("aof_rewrites_consecutive_failures", a.consecutive_failures);
    s.field(
        "aof_last_write_status",
        if a.last_write_ok { "ok" } else { "err" },
    );
    s.field("aof_last_cow_size", 0);
    s.field("module_fork_in_progress", 0);
    s.field("module_fork_last_cow_size", 0);
    if a.enabled {
        s.field("aof_current_size", a.current_size);
        s.field("aof_base_size", a.base_size);
        s.field("aof_pending_rewrite", 0);
        s.field("aof_buffer_length", a.buffer_length);
        s.field("aof_pending_bio_fsync", 0);
        s.field("aof_delayed_fsync", 0);
    }
}

fn stats_section(server: &Server, held: Option<ShardStats>, s: &mut Section) {
    let st = &server.stats;
    let ks = held.unwrap_or_else(|| server.keyspace.stats());
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let kbps = |a: &std::sync::atomic::AtomicU64| format!("{:.2}", get(a) as f64 / 100.0);
    s.header("Stats");
    s.field(
        "total_connections_received",
        get(&st.total_connections_received),
    );
    s.field(
        "total_commands_processed",
        get(&st.total_commands_processed),
    );
    s.field(
        "instantaneous_ops_per_sec",
        get(&st.instantaneous_ops_per_sec),
    );
    s.field("total_net_input_bytes", get(&st.total_net_input_bytes));
    s.field("total_net_output_bytes", get(&st.total_net_output_bytes));
    s.field("total_net_repl_input_bytes", 0);
    s.field("total_net_repl_output_bytes", 0);
    s.field(
        "instantaneous_input_kbps",
        kbps(&st.instantaneous_input_kbps_x100),
    );
    s.field(
        "instantaneous_output_kbps",
        kbps(&st.instantaneous_output_kbps_x100),
    );
    s.field("instantaneous_input_repl_kbps", "0.00");
    s.field("instantaneous_output_repl_kbps", "0.00");
    s.field("rejected_connections", get(&st.rejected_connections));
    s.field("sync_full", 0);
    s.field("sync_partial_ok", 0);
    s.field("sync_partial_err", 0);
    s.field("expired_keys", ks.expired_keys);
    s.field("expired_stale_perc", "0.00");
    s.field(
        "expired_time_cap_reached_count",
        get(&st.expired_time_cap_reached_count),
    );
    s.field(
        "expire_cycle_cpu_milliseconds",
        get(&st.expire_cycle_cpu_us) / 1000,
    );
    s.field("evicted_keys", get(&st.evicted_keys));
    s.field("evicted_clients", 0);
    let (total_exceeded, current_exceeded) = server
        .evictor
        .exceeded_times_ms(ferrodis_keyspace::clock::unix_ms());
    s.field("total_eviction_exceeded_time", total_exceeded);
    s.field("current_eviction_exceeded_time", current_exceeded);
    s.field("keyspace_hits", ks.keyspace_hits);
    s.field("keyspace_misses", ks.keyspace_misses);
    s.field("pubsub_channels", server.pubsub.num_channels());
    s.field("pubsub_patterns", server.pubsub.num_patterns());
    s.field("pubsubshard_channels", server.pubsub.num_shard_channels());
    for f in [
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
        "unexpected_error_replies",
    ] {
        s.field(f, 0);
    }
    s.field("total_error_replies", get(&st.total_error_replies));
    s.field("dump_payload_sanitizations", 0);
    s.field("total_reads_processed", get(&st.total_reads_processed));
    s.field("total_writes_processed", get(&st.total_writes_processed));
    s.field("io_threaded_reads_processed", 0);
    s.field("io_threaded_writes_processed", 0);
    s.field("reply_buffer_shrinks", 0);
    s.field("reply_buffer_expands", 0);
}

fn replication_section(server: &Server, s: &mut Section) {
    s.header("Replication");
    s.field("role", "master");
    s.field("connected_slaves", 0);
    s.field("master_failover_state", "no-failover");
    s.field("master_replid", &server.run_id);
    s.field("master_replid2", "0000000000000000000000000000000000000000");
    s.field("master_repl_offset", 0);
    s.field("second_repl_offset", -1);
    s.field("repl_backlog_active", 0);
    s.field("repl_backlog_size", 1_048_576);
    s.field("repl_backlog_first_byte_offset", 0);
    s.field("repl_backlog_histlen", 0);
}

fn cpu_section(s: &mut Section) {
    // utime and stime are fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second).
    let (user, sys) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|st| {
            let rest = st.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((
                f.get(11)?.parse::<f64>().ok()?,
                f.get(12)?.parse::<f64>().ok()?,
            ))
        })
        .unwrap_or((0.0, 0.0));
    s.header("CPU");
    s.field("used_cpu_sys", format!("{:.6}", sys / 100.0));
    s.field("used_cpu_user", format!("{:.6}", user / 100.0));
    s.field("used_cpu_sys_children", "0.000000");
    s.field("used_cpu_user_children", "0.000000");
    s.field("used_cpu_sys_main_thread", format!("{:.6}", sys / 100.0));
    s.field("used_cpu_user_main_thread", format!("{:.6}", user / 100.0));
}

fn keyspace_section(server: &Server, held: Option<&[DbInfo]>, s: &mut Section) {
    s.header("Keyspace");
    let owned;
    let dbs = match held {
        Some(d) => d,
        None => {
            owned = server.keyspace.db_info();
            &owned
        }
    };
    for (db, info) in dbs.iter().enumerate() {
        if info.keys > 0 {
            s.field(
                &format!("db{db}"),
                format!(
                    "keys={},expires={},avg_ttl={}",
                    info.keys, info.expires, info.avg_ttl_ms
                ),
            );
        }
    }
}

/// `TIME`: `[unix seconds, microseconds]` as bulk strings.
pub fn time(_ctx: &mut Ctx) -> Reply {
    let us = unix_us();
    Ok(Frame::Array(vec![
        Frame::Bulk(Bytes::from((us / 1_000_000).to_string())),
        Frame::Bulk(Bytes::from((us % 1_000_000).to_string())),
    ]))
}

/// `LASTSAVE`: Unix seconds of the last successful save. Ferrodis has no persistence yet, so
/// this is the start time, which is what Redis reports after starting without a save file.
pub fn lastsave(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Integer(
        ctx.server.lastsave_unix_secs.load(Ordering::Relaxed) as i64,
    ))
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: stops the server; no reply on success.
/// The RDB file is saved first when save rules exist or SAVE is given, unless NOSAVE; a failed
/// save keeps the server running (`ERR Errors trying to SHUTDOWN. Check logs.`) unless FORCE.
pub fn shutdown(ctx: &mut Ctx) -> Reply {
    let (mut save, mut nosave, mut abort, mut force) = (false, false, false, false);
    for a in &ctx.args[1..] {
        if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "abort") {
            abort = true;
        } else if eq_ic(a, "force") {
            force = true;
        } else if !eq_ic(a, "now") {
            return Err(CommandError::Syntax);
        }
    }
    if (save && nosave) || (abort && ctx.args.len() > 2) {
        return Err(CommandError::Syntax);
    }
    if abort {
        return Err(CommandError::msg("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    if ctx.server.prepare_for_shutdown(save, nosave).is_err() && !force {
        return Err(CommandError::msg(
            "ERR Errors trying to SHUTDOWN. Check logs.",
        ));
    }
    ctx.server.request_shutdown();
    ctx.client.close_after_reply = true;
    ctx.client.reply_skip_this = true;
    Ok(Frame::ok())
}

/// `CONFIG GET parameter [parameter ...]`: a map of matching directives and values.
pub fn config_get(ctx: &mut Ctx) -> Reply {
    let patterns: Vec<&[u8]> = ctx.args[2..].iter().map(|a| &a[..]).collect();
    let pairs = ctx.server.with_config(|c| c.get(&patterns));
    Ok(Frame::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Frame::Bulk(k.into()), Frame::Bulk(v.into())))
            .collect(),
    ))
}

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing; Redis' error texts.
pub fn config_set(ctx: &mut Ctx) -> Reply {
    let rest = &ctx.args[2..];
    if rest.len() % 2 != 0 {
        return Err(CommandError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = rest.chunks(2).map(|p| (&p[0][..], &p[1][..])).collect();
    let local = ctx.client.shared.kind != crate::client::ClientKind::Tcp
        || ctx.client.shared.addr.starts_with("127.")
        || ctx.client.shared.addr.starts_with("[::1]");
    ctx.server
        .config_set(&pairs, local)
        .map_err(CommandError::owned)?;
    // A lower maxmemory evicts right away (Redis `updateMaxmemory`), unless this runs inside
    // EXEC under shard locks: then the cron and the next command do it.
    if ctx.ks.holds_none() {
        ctx.server.perform_evictions();
    }
    Ok(Frame::ok())
}

/// `CONFIG RESETSTAT`.
pub fn config_resetstat(ctx: &mut Ctx) -> Reply {
    // Declared `all_shards`: the guard holds every shard, also inside EXEC.
    ctx.server.stats.reset();
    ctx.server.evictor.reset_stats();
    if !ctx.ks.reset_stats() {
        ctx.server.keyspace.reset_stats();
    }
    Ok(Frame::ok())
}

/// `CONFIG HELP`.
pub fn config_help(_ctx: &mut Ctx) -> Reply {
    help_reply(
        "CONFIG",
        &[
            "GET <pattern> [<pattern> ...]",
            "    Reply with the directives matching the glob-style patterns and their values.",
            "SET <directive> <value> [<directive> <value> ...]",
            "    Change directives at runtime, all or none.",
            "RESETSTAT",
            "    Reset the statistics INFO reports.",
        ],
    )
}
