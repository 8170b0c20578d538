//! The directive table: every directive redis-server 7.0 accepts, declared once.
//!
//! Each row gives the name, the legacy alias, the kind of value with its limits, the default
//! exactly as `CONFIG GET` prints it, and flags. The rows were checked against redis-server
//! 7.0.15 (names, defaults and aliases from `CONFIG GET *`, limits and reasons by sending bad
//! values, immutability by `CONFIG SET` of the current value); `Ferrodis` marks the
//! directives whose value the server already uses.
//!
//! Directives that exist only in config files (`include`, `rename-command`, `user`,
//! `loadmodule`, `sentinel`, module configs) and the three names Redis 7.0 still accepts and
//! ignores are listed in [`FILE_ONLY`] and [`IGNORED`].

/// What a directive's value looks like; drives parsing, validation and CONFIG GET output.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// `yes` or `no`, any case.
    Bool(Check),
    /// A plain decimal integer (Redis' strict syntax) within `min..=max`.
    Int { min: i128, max: i128 },
    /// A byte count with an optional unit; `percent` also allows `N%` (stored negative).
    Memory { min: i128, max: i128, percent: bool },
    /// An octal number within `min..=max` (the error message prints the limits in octal).
    Octal { min: i128, max: i128 },
    /// One word out of a list, any case; CONFIG GET prints the listed spelling.
    Enum(&'static [&'static str]),
    /// One or more words out of a list whose bits are or-ed (`shutdown-on-sig*`).
    Flags(&'static [(&'static str, u8)]),
    /// Free text, with an optional extra check.
    Str(Check),
    /// A value with its own syntax.
    Special(Special),
}

/// Extra validation of a bool or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    /// `yes` is refused: neither the reference build nor Ferrodis can defragment.
    NoActiveDefrag,
    DbFilename,
    AofFilename,
    AofDirname,
    Hostname,
    ProcTitleTemplate,
}

/// Directives with a syntax of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// `save <secs> <changes> [...]`, `save ""`; lines accumulate (see `value.rs`).
    Save,
    /// Up to 16 addresses, each optionally prefixed by `-` (do not fail if unavailable).
    Bind,
    /// `<class> <hard> <soft> <secs>` groups; each line updates only the classes it names.
    ClientOutputBufferLimit,
    /// Three integers in -2000..=2000.
    OomScoreAdjValues,
    /// Event class letters `Ag$lshzxeKEtmdn`.
    NotifyKeyspaceEvents,
    /// `<host> <port>` or `no one`.
    ReplicaOf,
    /// A directory; relative to the previous `dir` (Redis chdir()s as it reads the file).
    Dir,
    /// Percentiles between 0 and 100.
    LatencyPercentiles,
}

/// CONFIG SET refuses the directive.
pub(crate) const IMMUTABLE: u8 = 1;
/// CONFIG SET refuses the directive unless `enable-protected-configs` allows the client.
pub(crate) const PROTECTED: u8 = 1 << 1;
/// CONFIG GET patterns skip the directive; only its exact name shows it.
pub(crate) const HIDDEN: u8 = 1 << 2;
/// The directive takes several words (file) or a space separated list (CONFIG SET).
pub(crate) const MULTI_ARG: u8 = 1 << 3;
/// The value is a secret (passwords); callers should not log it.
pub(crate) const SENSITIVE: u8 = 1 << 4;
/// The server uses the value today.
pub(crate) const FERRODIS: u8 = 1 << 5;

/// One row of the table.
#[derive(Debug)]
pub(crate) struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// The built-in default, as CONFIG GET prints it. `dir` and `io-threads` are replaced
    /// at run time by the working directory and the number of cores.
    pub default: &'static str,
    pub flags: u8,
}

impl Directive {
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    const fn alias(mut self, alias: &'static str) -> Directive {
        self.alias = Some(alias);
        self
    }
    const fn with(mut self, flags: u8) -> Directive {
        self.flags |= flags;
        self
    }
}

const fn d(name: &'static str, kind: Kind, default: &'static str) -> Directive {
    let flags = match kind {
        Kind::Flags(_) => MULTI_ARG,
        Kind::Special(Special::Save)
        | Kind::Special(Special::Bind)
        | Kind::Special(Special::ClientOutputBufferLimit)
        | Kind::Special(Special::OomScoreAdjValues)
        | Kind::Special(Special::ReplicaOf)
        | Kind::Special(Special::LatencyPercentiles) => MULTI_ARG,
        _ => 0,
    };
    Directive {
        name,
        alias: None,
        kind,
        default,
        flags,
    }
}

const fn int(min: i128, max: i128) -> Kind {
    Kind::Int { min, max }
}
const fn mem(min: i128, max: i128) -> Kind {
    Kind::Memory {
        min,
        max,
        percent: false,
    }
}

const BOOL: Kind = Kind::Bool(Check::None);
const STR: Kind = Kind::Str(Check::None);
const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LLONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const PORT: Kind = int(0, 65535);
const MB: i128 = 1024 * 1024;

const OBUF_DEFAULT: &str = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";
const YES_NO_LOCAL: &[&str] = &["no", "yes", "local"];
const SHUTDOWN_FLAGS: &[(&str, u8)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];

use Special as S;

/// Every standard directive of Redis 7.0.15 (aliases are in their row).
pub(crate) static TABLE: &[Directive] = &[
    // Network.
    d("bind", Kind::Special(S::Bind), "* -::*").with(FERRODIS),
    d("bind-source-addr", STR, ""),
    d("port", PORT, "6379").with(FERRODIS),
    d("protected-mode", BOOL, "yes").with(FERRODIS),
    d("tcp-backlog", int(0, INT_MAX), "511").with(IMMUTABLE | FERRODIS),
    d("unixsocket", STR, "").with(IMMUTABLE | FERRODIS),
    d("unixsocketperm", Kind::Octal { min: 0, max: 0o777 }, "0").with(IMMUTABLE | FERRODIS),
    d("timeout", int(0, INT_MAX), "0").with(FERRODIS),
    d("tcp-keepalive", int(0, INT_MAX), "300").with(FERRODIS),
    d("socket-mark-id", int(0, UINT_MAX), "0").with(IMMUTABLE),
    // TLS.
    d("tls-port", PORT, "0"),
    d("tls-cert-file", STR, ""),
    d("tls-key-file", STR, ""),
    d("tls-key-file-pass", STR, ""),
    d("tls-client-cert-file", STR, ""),
    d("tls-client-key-file", STR, ""),
    d("tls-client-key-file-pass", STR, ""),
    d("tls-dh-params-file", STR, ""),
    d("tls-ca-cert-file", STR, ""),
    d("tls-ca-cert-dir", STR, ""),
    d(
        "tls-auth-clients",
        Kind::Enum(&["no", "yes", "optional"]),
        "yes",
    ),
    d("tls-replication", BOOL, "no"),
    d("tls-cluster", BOOL, "no"),
    d("tls-protocols", STR, ""),
    d("tls-ciphers", STR, ""),
    d("tls-ciphersuites", STR, ""),
    d("tls-prefer-server-ciphers", BOOL, "no"),
    d("tls-session-caching", BOOL, "yes"),
    d("tls-session-cache-size", int(0, INT_MAX), "20480"),
    d("tls-session-cache-timeout", int(0, INT_MAX), "300"),
    // General.
    d("daemonize", BOOL, "no").with(IMMUTABLE),
    d(
        "supervised",
        Kind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
    )
    .with(IMMUTABLE),
    d("pidfile", STR, "").with(IMMUTABLE | FERRODIS),
    d(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
    )
    .with(FERRODIS),
    d("logfile", STR, "").with(IMMUTABLE | FERRODIS),
    d("syslog-enabled", BOOL, "no").with(IMMUTABLE),
    d("syslog-ident", STR, "redis").with(IMMUTABLE),
    d(
        "syslog-facility",
        Kind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
    )
    .with(IMMUTABLE),
    d("crash-log-enabled", BOOL, "yes"),
    d("crash-memcheck-enabled", BOOL, "yes"),
    d("databases", int(1, INT_MAX), "16").with(IMMUTABLE | FERRODIS),
    d("always-show-logo", BOOL, "no").with(IMMUTABLE),
    d("set-proc-title", BOOL, "yes").with(IMMUTABLE),
    d(
        "proc-title-template",
        Kind::Str(Check::ProcTitleTemplate),
        "{title} {listen-addr} {server-mode}",
    ),
    d("enable-protected-configs", Kind::Enum(YES_NO_LOCAL), "no").with(IMMUTABLE),
    d("enable-debug-command", Kind::Enum(YES_NO_LOCAL), "no").with(IMMUTABLE),
    d("enable-module-command", Kind::Enum(YES_NO_LOCAL), "no").with(IMMUTABLE),
    d("ignore-warnings", STR, ""),
    // Snapshotting.
    d("save", Kind::Special(S::Save), "3600 1 300 100 60 10000").with(FERRODIS),
    d("stop-writes-on-bgsave-error", BOOL, "yes").with(FERRODIS),
    d("rdbcompression", BOOL, "yes").with(FERRODIS),
    d("rdbchecksum", BOOL, "yes").with(IMMUTABLE | FERRODIS),
    d(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
    ),
    d("dbfilename", Kind::Str(Check::DbFilename), "dump.rdb").with(PROTECTED | FERRODIS),
    d("rdb-del-sync-files", BOOL, "no"),
    d("dir", Kind::Special(S::Dir), "").with(PROTECTED | FERRODIS),
    d("rdb-save-incremental-fsync", BOOL, "yes"),
    d("rdb-key-save-delay", int(INT_MIN, INT_MAX), "0").with(HIDDEN),
    d("key-load-delay", int(INT_MIN, INT_MAX), "0").with(HIDDEN),
    d(
        "loading-process-events-interval-bytes",
        int(1024, INT_MAX),
        "2097152",
    )
    .with(HIDDEN),
    // Replication.
    d("replicaof", Kind::Special(S::ReplicaOf), "")
        .alias("slaveof")
        .with(IMMUTABLE),
    d("masterauth", STR, "").with(SENSITIVE),
    d("masteruser", STR, "").with(SENSITIVE),
    d("replica-serve-stale-data", BOOL, "yes").alias("slave-serve-stale-data"),
    d("replica-read-only", BOOL, "yes").alias("slave-read-only"),
    d("repl-diskless-sync", BOOL, "yes"),
    d("repl-diskless-sync-delay", int(0, INT_MAX), "5"),
    d("repl-diskless-sync-max-replicas", int(0, INT_MAX), "0"),
    d(
        "repl-diskless-load",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
    ),
    d("repl-ping-replica-period", int(1, INT_MAX), "10").alias("repl-ping-slave-period"),
    d("repl-timeout", int(1, INT_MAX), "60"),
    d("repl-disable-tcp-nodelay", BOOL, "no"),
    d("repl-backlog-size", mem(1, LLONG_MAX), "1048576"),
    d("repl-backlog-ttl", int(0, LLONG_MAX), "3600"),
    d("replica-priority", int(0, INT_MAX), "100").alias("slave-priority"),
    d(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
    ),
    d("replica-ignore-disk-write-errors", BOOL, "no"),
    d("replica-announced", BOOL, "yes"),
    d("min-replicas-to-write", int(0, INT_MAX), "0").alias("min-slaves-to-write"),
    d("min-replicas-max-lag", int(0, INT_MAX), "10").alias("min-slaves-max-lag"),
    d("replica-announce-ip", STR, "").alias("slave-announce-ip"),
    d("replica-announce-port", PORT, "0").alias("slave-announce-port"),
    d("replica-lazy-flush", BOOL, "no").alias("slave-lazy-flush"),
    d("replica-ignore-maxmemory", BOOL, "yes").alias("slave-ignore-maxmemory"),
    // Keys tracking, security, clients, memory.
    d("tracking-table-max-keys", int(0, LLONG_MAX), "1000000"),
    d("acllog-max-len", int(0, LLONG_MAX), "128"),
    d("aclfile", STR, "").with(IMMUTABLE),
    d(
        "acl-pubsub-default",
        Kind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
    ),
    d("requirepass", STR, "").with(SENSITIVE),
    d("maxclients", int(1, UINT_MAX), "10000").with(FERRODIS),
    d("maxmemory", mem(0, ULLONG_MAX), "0").with(FERRODIS),
    d(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    )
    .with(FERRODIS),
    d("maxmemory-samples", int(1, INT_MAX), "5").with(FERRODIS),
    d("maxmemory-eviction-tenacity", int(0, 100), "10").with(FERRODIS),
    d(
        "maxmemory-clients",
        Kind::Memory {
            min: -100,
            max: LLONG_MAX,
            percent: true,
        },
        "0",
    ),
    d("lazyfree-lazy-eviction", BOOL, "no").with(FERRODIS),
    d("lazyfree-lazy-expire", BOOL, "no"),
    d("lazyfree-lazy-server-del", BOOL, "no"),
    d("lazyfree-lazy-user-del", BOOL, "no"),
    d("lazyfree-lazy-user-flush", BOOL, "no"),
    // Threads and the kernel.
    d("io-threads", int(1, 128), "1").with(IMMUTABLE | FERRODIS),
    d("io-threads-do-reads", BOOL, "no").with(IMMUTABLE),
    d(
        "oom-score-adj",
        Kind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
    ),
    d(
        "oom-score-adj-values",
        Kind::Special(S::OomScoreAdjValues),
        "0 200 800",
    ),
    d("disable-thp", BOOL, "yes").with(IMMUTABLE),
    d("server_cpulist", STR, "").with(IMMUTABLE),
    d("bio_cpulist", STR, "").with(IMMUTABLE),
    d("aof_rewrite_cpulist", STR, "").with(IMMUTABLE),
    d("bgsave_cpulist", STR, "").with(IMMUTABLE),
    // Append only file.
    d("appendonly", BOOL, "no").with(FERRODIS),
    d(
        "appendfilename",
        Kind::Str(Check::AofFilename),
        "appendonly.aof",
    )
    .with(IMMUTABLE | FERRODIS),
    d(
        "appenddirname",
        Kind::Str(Check::AofDirname),
        "appendonlydir",
    )
    .with(IMMUTABLE | FERRODIS),
    d(
        "appendfsync",
        Kind::Enum(&["everysec", "always", "no"]),
        "everysec",
    )
    .with(FERRODIS),
    d("no-appendfsync-on-rewrite", BOOL, "no"),
    d("auto-aof-rewrite-percentage", int(0, INT_MAX), "100").with(FERRODIS),
    d("auto-aof-rewrite-min-size", mem(0, LLONG_MAX), "67108864").with(FERRODIS),
    d("aof-load-truncated", BOOL, "yes").with(FERRODIS),
    d("aof-use-rdb-preamble", BOOL, "yes").with(FERRODIS),
    d("aof-timestamp-enabled", BOOL, "no").with(FERRODIS),
    d("aof-disable-auto-gc", BOOL, "no").with(FERRODIS),
    d("aof-rewrite-incremental-fsync", BOOL, "yes"),
    // Shutdown, scripts, cluster.
    d("shutdown-timeout", int(0, INT_MAX), "10"),
    d("shutdown-on-sigint", Kind::Flags(SHUTDOWN_FLAGS), "default"),
    d(
        "shutdown-on-sigterm",
        Kind::Flags(SHUTDOWN_FLAGS),
        "default",
    ),
    d("busy-reply-threshold", int(0, LLONG_MAX), "5000").alias("lua-time-limit"),
    d("cluster-enabled", BOOL, "no").with(IMMUTABLE),
    d("cluster-config-file", STR, "nodes.conf").with(IMMUTABLE),
    d("cluster-node-timeout", int(0, LLONG_MAX), "15000"),
    d("cluster-port", PORT, "0").with(IMMUTABLE),
    d("cluster-replica-validity-factor", int(0, INT_MAX), "10")
        .alias("cluster-slave-validity-factor"),
    d("cluster-migration-barrier", int(0, INT_MAX), "1"),
    d("cluster-allow-replica-migration", BOOL, "yes"),
    d("cluster-require-full-coverage", BOOL, "yes"),
    d("cluster-replica-no-failover", BOOL, "no").alias("cluster-slave-no-failover"),
    d("cluster-allow-reads-when-down", BOOL, "no"),
    d("cluster-allow-pubsubshard-when-down", BOOL, "yes"),
    d("cluster-link-sendbuf-limit", mem(0, ULLONG_MAX), "0"),
    d("cluster-announce-hostname", Kind::Str(Check::Hostname), ""),
    d(
        "cluster-preferred-endpoint-type",
        Kind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
    ),
    d("cluster-announce-ip", STR, ""),
    d("cluster-announce-port", PORT, "0"),
    d("cluster-announce-tls-port", PORT, "0"),
    d("cluster-announce-bus-port", PORT, "0"),
    // Monitoring.
    d("slowlog-log-slower-than", int(-1, LLONG_MAX), "10000"),
    d("slowlog-max-len", int(0, LLONG_MAX), "128"),
    d("latency-monitor-threshold", int(0, LLONG_MAX), "0"),
    d("latency-tracking", BOOL, "yes"),
    d(
        "latency-tracking-info-percentiles",
        Kind::Special(S::LatencyPercentiles),
        "50 99 99.9",
    ),
    d(
        "notify-keyspace-events",
        Kind::Special(S::NotifyKeyspaceEvents),
        "",
    )
    .with(FERRODIS),
    // Encodings.
    d("hash-max-listpack-entries", int(0, LLONG_MAX), "512").alias("hash-max-ziplist-entries"),
    d("hash-max-listpack-value", mem(0, LLONG_MAX), "64").alias("hash-max-ziplist-value"),
    d("list-max-listpack-size", int(INT_MIN, INT_MAX), "-2").alias("list-max-ziplist-size"),
    d("list-compress-depth", int(0, INT_MAX), "0"),
    d("set-max-intset-entries", int(0, LLONG_MAX), "512"),
    d("zset-max-listpack-entries", int(0, LLONG_MAX), "128").alias("zset-max-ziplist-entries"),
    d("zset-max-listpack-value", mem(0, LLONG_MAX), "64").alias("zset-max-ziplist-value"),
    d("hll-sparse-max-bytes", mem(0, LLONG_MAX), "3000"),
    d("stream-node-max-bytes", mem(0, LLONG_MAX), "4096"),
    d("stream-node-max-entries", int(0, LLONG_MAX), "100"),
    // Advanced.
    d("activerehashing", BOOL, "yes"),
    d(
        "client-output-buffer-limit",
        Kind::Special(S::ClientOutputBufferLimit),
        OBUF_DEFAULT,
    )
    .with(FERRODIS),
    d(
        "client-query-buffer-limit",
        mem(MB, LLONG_MAX),
        "1073741824",
    ),
    d("proto-max-bulk-len", mem(MB, LLONG_MAX), "536870912").with(FERRODIS),
    d("hz", int(0, INT_MAX), "10").with(FERRODIS),
    d("dynamic-hz", BOOL, "yes"),
    d("lfu-log-factor", int(0, INT_MAX), "10").with(FERRODIS),
    d("lfu-decay-time", int(0, INT_MAX), "1").with(FERRODIS),
    d("activedefrag", Kind::Bool(Check::NoActiveDefrag), "no"),
    d("active-defrag-ignore-bytes", mem(1, LLONG_MAX), "104857600"),
    d("active-defrag-threshold-lower", int(0, 1000), "10"),
    d("active-defrag-threshold-upper", int(0, 1000), "100"),
    d("active-defrag-cycle-min", int(1, 99), "1"),
    d("active-defrag-cycle-max", int(1, 99), "25"),
    d("active-defrag-max-scan-fields", int(1, LLONG_MAX), "1000"),
    d("active-expire-effort", int(1, 10), "1"),
    d("jemalloc-bg-thread", BOOL, "yes"),
    d("use-exit-on-panic", BOOL, "no").with(HIDDEN),
    d("watchdog-period", int(0, INT_MAX), "0").with(HIDDEN),
];

/// How many words a file-only directive takes after its name.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arity {
    Exactly(usize),
    AtLeast(usize),
    Any,
}

/// Directives that exist only in config files and on the command line: CONFIG GET and
/// CONFIG SET do not know them. `include` is handled by the loader; the others are kept as
/// given (see [`super::Config::directive_lines`]) for the server to act on.
pub(crate) static FILE_ONLY: &[(&str, Arity)] = &[
    ("include", Arity::Exactly(1)),
    ("rename-command", Arity::Exactly(2)),
    ("user", Arity::AtLeast(1)),
    ("loadmodule", Arity::AtLeast(1)),
    // Only a bare `sentinel` is accepted outside sentinel mode.
    ("sentinel", Arity::Any),
];

/// Names Redis 7.0 no longer uses but still accepts, with exactly one argument, and ignores.
pub(crate) static IGNORED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// The row whose name or alias is `name` (any case), and whether `name` was the alias.
pub(crate) fn lookup(name: &[u8]) -> Option<(usize, bool)> {
    TABLE.iter().enumerate().find_map(|(index, directive)| {
        if name.eq_ignore_ascii_case(directive.name.as_bytes()) {
            Some((index, false))
        } else if directive
            .alias
            .is_some_and(|alias| name.eq_ignore_ascii_case(alias.as_bytes()))
        {
            Some((index, true))
        } else {
            None
        }
    })
}
