//! The text of `redis.conf.example`, built from the directive table.
//!
//! Each directive Ferrodis implements gets a description here; its default comes from the
//! table. A unit test checks that the checked-in file equals [`render`], that every
//! implemented directive is described, and that the file loads.

use super::table::{FERRODIS, TABLE};

/// How the example presents one directive.
pub(crate) struct Entry {
    pub name: &'static str,
    /// The value written in the example file (redis.conf syntax).
    pub value: &'static str,
    /// Write the line commented out (an optional feature shown with a sample value).
    pub commented: bool,
    /// Our description, one sentence per line.
    pub doc: &'static [&'static str],
    /// Replaces the table default in the "Default:" note when it depends on the machine.
    pub default_note: Option<&'static str>,
}

const fn entry(name: &'static str, value: &'static str, doc: &'static [&'static str]) -> Entry {
    Entry {
        name,
        value,
        commented: false,
        doc,
        default_note: None,
    }
}

/// Directives of the example, in file order, grouped by section.
pub(crate) static SECTIONS: &[(&str, &[Entry])] = &[
    (
        "Network",
        &[
            entry(
                "bind",
                "127.0.0.1 -::1",
                &[
                    "Addresses to listen on, separated by spaces. A leading '-' means the",
                    "address is skipped when it is not available (e.g. no IPv6). The default,",
                    "\"* -::*\", is every IPv4 and IPv6 address; this example only listens on",
                    "the loopback interface.",
                ],
            ),
            entry(
                "port",
                "6379",
                &["TCP port to accept connections on; 0 turns TCP off."],
            ),
            Entry {
                commented: true,
                ..entry(
                    "unixsocket",
                    "/tmp/ferrodis.sock",
                    &["Also accept connections on this Unix socket. Not set by default."],
                )
            },
            Entry {
                commented: true,
                ..entry(
                    "unixsocketperm",
                    "700",
                    &["Permissions of the Unix socket file, in octal; 0 keeps the umask's."],
                )
            },
            entry(
                "protected-mode",
                "yes",
                &[
                    "While the default user has no password, only accept clients connecting",
                    "from the loopback interface or the Unix socket.",
                ],
            ),
            entry(
                "tcp-backlog",
                "511",
                &["Backlog of the listening socket (see listen(2))."],
            ),
            entry(
                "timeout",
                "0",
                &["Close a client connection idle for this many seconds; 0 never."],
            ),
            entry(
                "tcp-keepalive",
                "300",
                &["Seconds between TCP keepalive probes to idle clients; 0 sends none."],
            ),
            entry(
                "maxclients",
                "10000",
                &["Refuse new connections beyond this many clients."],
            ),
            entry(
                "proto-max-bulk-len",
                "512mb",
                &[
                    "Largest string a client may send in one request argument. Sizes accept",
                    "k (1000), kb (1024), m, mb, g and gb, in any case.",
                ],
            ),
        ],
    ),
    (
        "General",
        &[
            Entry {
                commented: true,
                ..entry(
                    "pidfile",
                    "/var/run/ferrodis.pid",
                    &["Write the process id to this file. Not set by default."],
                )
            },
            entry(
                "loglevel",
                "notice",
                &["How much to log: debug, verbose, notice or warning."],
            ),
            entry(
                "logfile",
                "\"\"",
                &["File to log to, relative to dir; \"\" logs to standard output."],
            ),
            entry(
                "databases",
                "16",
                &["Number of databases, numbered from 0; SELECT picks one."],
            ),
            entry(
                "dir",
                "./",
                &[
                    "Working directory: data files and relative paths are found here. Relative",
                    "to the directory the server was started in.",
                ],
            ),
        ],
    ),
    (
        "Pub/Sub and notifications",
        &[
            entry(
                "notify-keyspace-events",
                "\"\"",
                &[
                    "Keyspace notifications published over Pub/Sub: K (__keyspace@<db>__",
                    "channels), E (__keyevent@<db>__ channels) and event classes g $ l s h z x",
                    "e t d m n, or A for g$lshzxetd. \"\" turns them off.",
                ],
            ),
            entry(
                "client-output-buffer-limit",
                "pubsub 32mb 8mb 60",
                &[
                    "Output limits per client class (normal, replica, pubsub): a client whose",
                    "pending output reaches the hard limit, or stays above the soft limit for",
                    "the given seconds, is disconnected. 0 disables a limit.",
                ],
            ),
        ],
    ),
    (
        "Memory management",
        &[
            Entry {
                commented: true,
                ..entry(
                    "maxmemory",
                    "100mb",
                    &[
                        "Memory limit (used_memory, allocator bytes). Above it, keys are evicted",
                        "per maxmemory-policy before each command; when nothing can be evicted,",
                        "commands that may add data fail with an OOM error while reads, DEL and",
                        "the like keep working. 0 (the default) is no limit.",
                    ],
                )
            },
            entry(
                "maxmemory-policy",
                "noeviction",
                &[
                    "What to evict above maxmemory: allkeys-lru, allkeys-lfu, allkeys-random",
                    "among all keys; volatile-lru, volatile-lfu, volatile-random, volatile-ttl",
                    "among keys with an expire only; noeviction refuses writes instead.",
                    "LRU and LFU are approximated by sampling, like Redis.",
                ],
            ),
            entry(
                "maxmemory-samples",
                "5",
                &["Keys sampled per database per eviction round: more is closer to true LRU/LFU."],
            ),
            entry(
                "maxmemory-eviction-tenacity",
                "10",
                &[
                    "Time one eviction run may take before it continues in the background,",
                    "0 to 100: 10 is 500 microseconds, each step above adds 15%, 100 is unlimited.",
                ],
            ),
            entry(
                "lazyfree-lazy-eviction",
                "no",
                &["Free the values of evicted keys on a background thread."],
            ),
            entry(
                "lfu-log-factor",
                "10",
                &[
                    "LFU counter growth: an access increments a key's 8-bit counter with",
                    "probability 1/((counter-5)*factor+1); larger factors need more hits.",
                ],
            ),
            entry(
                "lfu-decay-time",
                "1",
                &["Minutes of idleness per LFU counter decrement; 0 never decays."],
            ),
        ],
    ),
    (
        "Performance",
        &[
            entry(
                "hz",
                "10",
                &["Background tasks (expiry, timeouts) run this many times a second, 1 to 500."],
            ),
            Entry {
                commented: true,
                default_note: Some("the number of CPU cores"),
                ..entry(
                    "io-threads",
                    "4",
                    &["Number of worker threads serving clients, from 1 to 128."],
                )
            },
        ],
    ),
    (
        "Snapshotting",
        &[
            entry(
                "save",
                "3600 1 300 100 60 10000",
                &[
                    "Save the data set to dbfilename in dir in the background (BGSAVE) when",
                    "at least <changes> writes happened in <seconds>: `save <seconds> <changes>`",
                    "pairs; `save \"\"` turns snapshots off. SHUTDOWN and SIGTERM save too",
                    "when rules exist. A snapshot is point-in-time without forking.",
                ],
            ),
            entry(
                "stop-writes-on-bgsave-error",
                "yes",
                &["Refuse writes (MISCONF) after a failed background save, until one succeeds."],
            ),
            entry(
                "rdbcompression",
                "yes",
                &["LZF-compress strings longer than 20 bytes in RDB files and DUMP payloads."],
            ),
            entry(
                "rdbchecksum",
                "yes",
                &["End RDB files with a CRC-64 (loading checks it unless it is 0)."],
            ),
            entry(
                "dbfilename",
                "dump.rdb",
                &["The RDB file, in dir; loaded at start when it exists."],
            ),
        ],
    ),
    (
        "Append only file",
        &[
            entry(
                "appendonly",
                "no",
                &[
                    "Log every write to the append only file (Redis 7 multi-part AOF: a base,",
                    "incremental files and a manifest in appenddirname). When on, the AOF, not",
                    "the RDB file, is loaded at start.",
                ],
            ),
            entry(
                "appendfilename",
                "\"appendonly.aof\"",
                &["The prefix of the AOF file names."],
            ),
            entry(
                "appenddirname",
                "\"appendonlydir\"",
                &["The AOF directory, in dir."],
            ),
            entry(
                "appendfsync",
                "everysec",
                &[
                    "always: a write is on disk before its reply; everysec: fsync once a",
                    "second on a background thread (a crash loses at most about a second or",
                    "two); no: the kernel decides.",
                ],
            ),
            entry(
                "auto-aof-rewrite-percentage",
                "100",
                &["Rewrite the AOF when it grew this much (percent) since the last rewrite; 0 = never."],
            ),
            entry(
                "auto-aof-rewrite-min-size",
                "64mb",
                &["... and is at least this big."],
            ),
            entry(
                "aof-load-truncated",
                "yes",
                &["Load an AOF whose last file ends mid-command (the tail is cut off and logged)."],
            ),
            entry(
                "aof-use-rdb-preamble",
                "yes",
                &["Write rewritten bases as RDB (yes) or as commands (no)."],
            ),
            entry(
                "aof-timestamp-enabled",
                "no",
                &["Annotate the AOF with #TS:<unix seconds> lines."],
            ),
            entry(
                "aof-disable-auto-gc",
                "no",
                &["Keep the files a rewrite replaced (listed as history in the manifest)."],
            ),
        ],
    ),
];

const HEADER: &str = "\
# Ferrodis example configuration.
#
# Ferrodis reads Redis 7.0 configuration files: start it with
#
#     ferrodis-server /path/to/redis.conf [--name value ...]
#
# Options on the command line are read after the file and win over it, e.g.
# `--port 7000 --bind 127.0.0.1 ::1`. A file name of `-` reads the configuration
# from standard input.
#
# Syntax: one directive per line; a line starting with `#` is a comment. Values
# with spaces go in double quotes (with \\n, \\t, \\xHH escapes) or single quotes.
# Directive names and yes/no are not case sensitive. `include /path/other.conf`
# reads another file in place.
#
# This file documents the directives Ferrodis implements, with their defaults.
# Every other Redis 7.0 directive is accepted and checked like Redis checks it,
# and CONFIG GET shows it, but it has no effect yet: Ferrodis names such
# directives in a warning when it starts.
#
# GENERATED from the directive table (crates/server/src/config/example.rs); a
# unit test keeps the two in step.
";

/// The full text of `redis.conf.example`.
pub(crate) fn render() -> String {
    let mut out = String::from(HEADER);
    for (title, entries) in SECTIONS {
        out.push('\n');
        out.push_str(&section_rule(title));
        for entry in *entries {
            out.push('\n');
            for line in entry.doc {
                out.push_str("# ");
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(&format!("# Default: {}.\n", default_text(entry)));
            let prefix = if entry.commented { "# " } else { "" };
            out.push_str(&format!("{prefix}{} {}\n", entry.name, entry.value));
        }
    }

    out
}

fn section_rule(title: &str) -> String {
    let inner = format!(" {title} ");
    let left = (76 - inner.len()) / 2;
    let right = 76 - inner.len() - left;
    format!("{}{inner}{}\n", "#".repeat(left), "#".repeat(right))
}

fn default_text(entry: &Entry) -> String {
    if let Some(note) = entry.default_note {
        return note.to_owned();
    }
    if entry.name == "dir" {
        return "the directory the server was started in".to_owned();
    }
    match TABLE.iter().find(|d| d.name == entry.name) {
        Some(d) if d.default.is_empty() => "\"\" (not set)".to_owned(),
        Some(d) if d.default.contains(' ') => format!("\"{}\"", d.default),
        Some(d) => d.default.to_owned(),
        None => "unknown".to_owned(),
    }
}

/// Names of the implemented directives the example does not describe, and of described
/// directives that are not implemented: both lists must be empty.
pub(crate) fn coverage_gaps() -> (Vec<&'static str>, Vec<&'static str>) {
    let described: Vec<&str> = SECTIONS
        .iter()
        .flat_map(|(_, e)| e.iter().map(|e| e.name))
        .collect();
    let implemented: Vec<&'static str> = TABLE
        .iter()
        .filter(|d| d.has(FERRODIS))
        .map(|d| d.name)
        .collect();
    let missing = implemented
        .iter()
        .copied()
        .filter(|n| !described.contains(n))
        .collect();
    let extra = described
        .iter()
        .copied()
        .filter(|n| !implemented.contains(n))
        .collect();
    (missing, extra)
}
