//! Server configuration: redis.conf, the command line, CONFIG GET and CONFIG SET.
//!
//! Ferrodis starts from a user's existing Redis 7.0 `redis.conf`, so this module accepts
//! every directive redis-server 7.0 accepts, with the same syntax, defaults, limits and
//! error texts. Directives the server does not use yet are still validated and stored, show
//! up in CONFIG GET, and are named in one start-up warning
//! ([`Config::warn_unimplemented`]).
//!
//! # Design
//!
//! One table, `table::TABLE`, declares every directive once: name, legacy alias, kind of
//! value with its limits, default (spelled as CONFIG GET prints it), and flags (immutable,
//! protected, hidden, several words, secret, used by Ferrodis). Everything else is driven
//! by it:
//! - the defaults of [`Config::default`] are the table's default texts, parsed;
//! - the config file and the command line set values through the table's kinds;
//! - CONFIG GET lists and formats the table's rows, CONFIG SET validates through them and
//!   refuses what the flags refuse;
//! - the start-up warning lists the rows without the "used by Ferrodis" flag that the file
//!   changed;
//! - `redis.conf.example` at the repository root documents the rows with that flag, and a
//!   test keeps it in step with the table (`example.rs`).
//!
//! # Layout
//!
//! - `table.rs`: the directive table.
//! - `value.rs`: values, their parsing and validation, their CONFIG GET text.
//! - `syntax.rs`: redis.conf quoting and Redis' number formats.
//! - `load.rs`: command line, files, `include`, line dispatch.
//! - `glob.rs`: Redis' glob matcher (CONFIG GET) and file globs (`include`).
//! - `error.rs`: [`ConfigError`], [`ConfigSetError`] and the Redis texts.
//! - `example.rs` (tests only): the text of `redis.conf.example`, built from the table.
//! - `tests/`: unit tests; `testdata/` holds files written by the reference Redis 7.0.
//!
//! Source: redis-server 7.0.15 behaviour (`config.c`, `main()`), observed on the reference
//! binary; see the tests for each rule.

mod error;
#[cfg(test)]
mod example;
pub(crate) mod glob;
mod load;
mod syntax;
mod table;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

pub use error::{ConfigError, ConfigSetError};

use error::reason;
use glob::{glob_match, GlobStyle};
use load::CommandLine;
use syntax::lossy;
use table::{Kind, Special, FERRODIS, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED, SENSITIVE, TABLE};
use value::{SetContext, Value};

/// The server's log verbosity (`loglevel`); Redis 7.0 has exactly these four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything, for development.
    Debug,
    /// Detailed but less noisy than `Debug`.
    Verbose,
    /// What production needs (the default).
    Notice,
    /// Only important messages.
    Warning,
}

impl LogLevel {
    /// The spelling used in redis.conf and by CONFIG GET.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
        }
    }
}

/// A line of a directive that only exists in config files (`rename-command`, `user`,
/// `loadmodule`, `sentinel`, `module.name`): kept as written for the server to act on.
#[derive(Clone, PartialEq, Eq)]
struct FileLine {
    directive: String,
    args: Vec<String>,
}

impl FileLine {
    fn new(directive: &str, args: &[Vec<u8>]) -> FileLine {
        FileLine {
            directive: directive.to_owned(),
            args: args.iter().map(|a| lossy(a)).collect(),
        }
    }
}

/// All directives with their current values.
///
/// Built by [`Config::from_args`] at start-up (or [`Config::from_str`],
/// [`Config::default`]); read through the typed accessors; changed by [`Config::set`]. It is
/// plain data: the server applies side effects (rebinding, `chdir`) for the names `set`
/// returns, and may keep a clone to roll back when applying fails.
#[derive(Clone)]
pub struct Config {
    /// One value per row of `TABLE`.
    values: Vec<Value>,
    /// Rows given in a file or on the command line.
    user_set: Vec<bool>,
    lines: Vec<FileLine>,
    config_file: Option<String>,
}

impl Default for Config {
    /// Redis 7.0's built-in defaults, except `dir` (the current directory, as Redis shows
    /// it) and `io-threads` (the number of cores: Ferrodis runs that many workers).
    fn default() -> Config {
        let cwd = load::current_dir();
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let values = TABLE
            .iter()
            .enumerate()
            .map(
                |(index, directive)| match (directive.name, directive.kind) {
                    (_, Kind::Special(Special::Dir)) => {
                        Value::Str(cwd.to_string_lossy().into_owned())
                    }
                    ("io-threads", _) => Value::Num(default_io_threads()),
                    // No master by default: an empty default is not a "host port" pair.
                    (_, Kind::Special(Special::ReplicaOf)) => Value::ReplicaOf(None),
                    _ => parse_default(index),
                },
            )
            .collect();
        Config {
            values,
            user_set: vec![false; TABLE.len()],
            lines: Vec::new(),
            config_file: None,
        }
    }
}

/// Ferrodis' default number of worker threads: one per core, within `io-threads`' limits.
fn default_io_threads() -> i128 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    i128::try_from(cores).unwrap_or(1).clamp(1, 128)
}

/// The table's default text for row `index`, parsed.
fn parse_default(index: usize) -> Value {
    let directive = &TABLE[index];
    let args = split_set_value(directive.has(MULTI_ARG), directive.default.as_bytes());
    let mut save_seen = false;
    // `dir` is the only directive that looks at the directory, and its default is not parsed.
    let mut ctx = SetContext {
        reading_file: false,
        save_seen: &mut save_seen,
        cwd: std::path::Path::new("/"),
        check_paths: false,
    };
    value::parse(directive, &args, &Value::Bool(false), &mut ctx).unwrap_or_else(|reason| {
        // Unreachable with a correct table; a unit test parses every default.
        tracing::error!(directive = directive.name, %reason, "bad default in the config table");
        Value::Str(directive.default.to_owned())
    })
}

/// CONFIG SET's value split: several-word directives take space separated words (an empty
/// value is no word at all, two spaces make an empty word), the others the whole value.
fn split_set_value(multi: bool, value: &[u8]) -> Vec<Vec<u8>> {
    match (multi, value.is_empty()) {
        (false, _) => vec![value.to_vec()],
        (true, true) => Vec::new(),
        (true, false) => value.split(|&c| c == b' ').map(<[u8]>::to_vec).collect(),
    }
}

impl Config {
    /// Loads the configuration the way `redis-server [/path/to/redis.conf] [--name value
    /// ...]` does. `args` are the words after the program name.
    ///
    /// - A first word not starting with `-` is the config file (read relative to the
    ///   current directory; a name with `*`, `?` or `[` reads every matching file).
    /// - `-` as the first or last word also reads the configuration from `stdin`.
    /// - `--name v1 v2 ...` becomes the line `name "v1" "v2"` after the file: an option's
    ///   words run until the next word starting with `--`; `--name value` in one word works
    ///   too; `--save` followed by nothing means `save ""`.
    ///
    /// Errors: [`ConfigError`]; the server prints it and exits with status 1. Does not log:
    /// call [`Config::warn_unimplemented`] once logging is set up.
    pub fn from_args(args: &[String], stdin: &mut dyn Read) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        load::load_command_line(&mut config, &CommandLine::parse(args), stdin)?;
        Ok(config)
    }

    /// Loads a configuration text; `origin` names its lines in errors (e.g. a path).
    /// Relative paths (`include`, `dir`) start from the current directory.
    pub fn from_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        load::load_text(&mut config, text.as_bytes(), origin, true)?;
        Ok(config)
    }

    /// The config file given on the command line, as an absolute path (Redis' INFO
    /// `config_file`).
    pub fn config_file(&self) -> Option<&str> {
        self.config_file.as_deref()
    }

    /// CONFIG GET: `(name, value)` for every directive matching one of `patterns`.
    ///
    /// As in Redis 7.0: a pattern without `*`, `?` or `[` is looked up by exact name (any
    /// case, aliases and hidden directives included) and the reply uses the spelling sent;
    /// other patterns are globs (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`, no case) over the
    /// names and aliases of the non-hidden directives. A name appears once even if several
    /// patterns match it. Values are formatted as Redis prints them. Order: patterns in
    /// turn, table order within a glob (Redis returns a map in no particular order).
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut seen = HashSet::new();
        let mut reply = Vec::new();
        for pattern in patterns {
            if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                if let Some((index, _)) = table::lookup(pattern) {
                    if seen.insert(pattern.to_ascii_lowercase()) {
                        reply.push((lossy(pattern), self.format(index)));
                    }
                }
                continue;
            }
            let style = GlobStyle {
                nocase: true,
                bang_negates: false,
            };
            for (index, directive) in TABLE.iter().enumerate().filter(|(_, d)| !d.has(HIDDEN)) {
                for name in std::iter::once(directive.name).chain(directive.alias) {
                    if glob_match(pattern, name.as_bytes(), style)
                        && seen.insert(name.as_bytes().to_vec())
                    {
                        reply.push((name.to_owned(), self.format(index)));
                    }
                }
            }
        }
        reply
    }

    /// CONFIG SET `name value [name value ...]`, all or nothing, for a client that is not
    /// local (see [`Config::set_for_client`]).
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, ConfigSetError> {
        self.set_for_client(pairs, false)
    }

    /// CONFIG SET: validates every pair like the config file does (several-word directives
    /// take a space separated list), then changes all or nothing. `client_is_local` (Unix
    /// socket or loopback) matters for protected directives (`dir`, `dbfilename`) when
    /// `enable-protected-configs` is `local`.
    ///
    /// Returns the canonical names whose value changed, for the server to apply (e.g.
    /// `port`: rebind). Errors, with Redis 7.0's texts, the first problem in argument order
    /// winning: an unknown name, an immutable or protected directive, a directive given
    /// twice (an alias and its directive count as two), then the first bad value.
    /// An odd number of arguments is for the caller: Redis answers `ERR syntax error`.
    pub fn set_for_client(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<Vec<&'static str>, ConfigSetError> {
        let resolved = self.resolve_set(pairs, client_is_local)?;
        let mut next = self.values.clone();
        let mut changed = Vec::new();
        let cwd = std::path::PathBuf::from(self.dir());
        let mut save_seen = false;
        for (index, entry_name, value) in resolved {
            let directive = &TABLE[index];
            let args = split_set_value(directive.has(MULTI_ARG), value);
            let mut ctx = SetContext {
                reading_file: false,
                save_seen: &mut save_seen,
                cwd: &cwd,
                check_paths: true,
            };
            let parsed = value::parse(directive, &args, &next[index], &mut ctx)
                .map(|v| normalize_set(index, normalize(index, v), &next))
                .map_err(|reason| ConfigSetError::Failed {
                    name: entry_name.to_owned(),
                    reason,
                })?;
            if parsed != next[index] {
                next[index] = parsed;
                if !changed.contains(&directive.name) {
                    changed.push(directive.name);
                }
            }
        }
        self.values = next;
        Ok(changed)
    }

    /// First pass of CONFIG SET: names to rows, refusing what may not be set.
    fn resolve_set<'p>(
        &self,
        pairs: &[(&'p [u8], &'p [u8])],
        client_is_local: bool,
    ) -> Result<Vec<SetRequest<'p>>, ConfigSetError> {
        let mut resolved: Vec<SetRequest<'p>> = Vec::new();
        for (name, value) in pairs {
            let Some((index, alias)) = table::lookup(name) else {
                return Err(ConfigSetError::UnknownOption(lossy(name)));
            };
            let directive = &TABLE[index];
            let entry_name = if alias {
                directive.alias.unwrap_or(directive.name)
            } else {
                directive.name
            };
            let refused = if directive.has(IMMUTABLE) {
                Some(reason::IMMUTABLE)
            } else if directive.has(PROTECTED) && !self.protected_allowed(client_is_local) {
                Some(reason::PROTECTED)
            } else if resolved
                .iter()
                .any(|(i, n, _)| *i == index && *n == entry_name)
            {
                Some(reason::DUPLICATE_PARAMETER)
            } else {
                None
            };
            if let Some(reason) = refused {
                return Err(ConfigSetError::Failed {
                    name: lossy(name),
                    reason: reason.to_owned(),
                });
            }
            resolved.push((index, entry_name, value));
        }
        Ok(resolved)
    }

    fn protected_allowed(&self, client_is_local: bool) -> bool {
        match self.value("enable-protected-configs") {
            Some(Value::Word("yes")) => true,
            Some(Value::Word("local")) => client_is_local,
            _ => false,
        }
    }

    /// Names of directives given in the file or on the command line that Ferrodis does not
    /// implement yet and whose value differs from the built-in default (restating a default
    /// changes nothing, and the stock redis.conf restates most of them), followed by the
    /// file-only directives present (`rename-command`, `user`, `loadmodule`, `sentinel`,
    /// module configs). Canonical names, each once.
    pub fn unimplemented_set(&self) -> Vec<&'static str> {
        let defaults = Config::default();
        let mut names: Vec<&'static str> = TABLE
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                self.user_set[*i] && !d.has(FERRODIS) && self.values[*i] != defaults.values[*i]
            })
            .map(|(_, d)| d.name)
            .collect();
        for line in &self.lines {
            let name = table::FILE_ONLY
                .iter()
                .map(|(known, _)| *known)
                .find(|known| *known == line.directive)
                .unwrap_or("module configuration");
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Logs, as one warning, the directives of [`Config::unimplemented_set`] (nothing when
    /// there are none). Call once at start-up, after logging is set up.
    pub fn warn_unimplemented(&self) {
        let names = self.unimplemented_set();
        if !names.is_empty() {
            tracing::warn!(
                directives = %names.join(", "),
                "these configuration directives are accepted but not implemented yet; they have no effect"
            );
        }
    }

    /// Every line of a file-only directive, in file order, as its words after the name:
    /// `rename-command` (old, new), `user` (name, rules...), `loadmodule` (path, args...),
    /// `sentinel`, or a module configuration such as `mymodule.option`.
    pub fn directive_lines(&self, directive: &str) -> Vec<Vec<String>> {
        self.lines
            .iter()
            .filter(|line| line.directive.eq_ignore_ascii_case(directive))
            .map(|line| line.args.clone())
            .collect()
    }

    /// True for directives whose value is a secret (`requirepass`, `masterauth`,
    /// `masteruser`), which must not be logged (Redis redacts them from SLOWLOG/MONITOR).
    pub fn is_sensitive(name: &[u8]) -> bool {
        table::lookup(name).is_some_and(|(index, _)| TABLE[index].has(SENSITIVE))
    }

    /// The CONFIG GET text of one directive (name or alias, any case, hidden ones too), for
    /// directives without a typed accessor yet.
    pub fn get_str(&self, name: &str) -> Option<String> {
        table::lookup(name.as_bytes()).map(|(index, _)| self.format(index))
    }

    fn format(&self, index: usize) -> String {
        value::format(&TABLE[index], &self.values[index])
    }

    fn value(&self, name: &str) -> Option<&Value> {
        table::lookup(name.as_bytes()).map(|(index, _)| &self.values[index])
    }

    fn num(&self, name: &str) -> Option<i128> {
        match self.value(name) {
            Some(Value::Num(n)) => Some(*n),
            _ => None,
        }
    }

    fn text(&self, name: &str) -> String {
        match self.value(name) {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        }
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        matches!(self.value(name), Some(Value::Bool(true)))
    }

    /// `replicaof`: the master's host and port, if this server is a replica.
    pub(crate) fn replicaof(&self) -> Option<(String, i64)> {
        match self.value("replicaof") {
            Some(Value::ReplicaOf(master)) => master.clone(),
            _ => None,
        }
    }

    /// Parses a value for row `index` on top of its current value.
    fn parse_value(
        &self,
        index: usize,
        args: &[Vec<u8>],
        ctx: &mut SetContext<'_>,
    ) -> Result<Value, String> {
        value::parse(&TABLE[index], args, &self.values[index], ctx).map(|v| normalize(index, v))
    }

    fn store(&mut self, index: usize, value: Value) {
        self.values[index] = value;
    }
}

/// What CONFIG SET changes on top of the file rules, because Redis applies these two at
/// once and CONFIG GET shows the result (a file's value shows as given): the replication
/// backlog is never below 16kb, and a watchdog period is at least two `hz` ticks.
fn normalize_set(index: usize, value: Value, values: &[Value]) -> Value {
    match (TABLE[index].name, value) {
        ("repl-backlog-size", Value::Num(bytes)) => Value::Num(bytes.max(16 * 1024)),
        ("watchdog-period", Value::Num(ms)) if ms != 0 => {
            let hz = table::lookup(b"hz").and_then(|(i, _)| match values.get(i) {
                Some(Value::Num(hz)) => Some((*hz).max(1)),
                _ => None,
            });
            Value::Num(ms.max(1000 / hz.unwrap_or(10) * 2))
        }
        (_, value) => value,
    }
}

/// One CONFIG SET pair resolved to its row: (row, the name Redis reports for a bad value
/// (the alias when the alias was used), the value).
type SetRequest<'p> = (usize, &'static str, &'p [u8]);

/// Redis takes any `hz` but runs within 1..=500, and CONFIG GET shows the clamped value.
fn normalize(index: usize, value: Value) -> Value {
    match (TABLE[index].name, value) {
        ("hz", Value::Num(hz)) => Value::Num(hz.clamp(1, 500)),
        (_, value) => value,
    }
}

/// Typed accessors for the directives the server implements (units in the names).
impl Config {
    /// `bind`: addresses to listen on; a `-` prefix means "skip if unavailable". Default
    /// `["*", "-::*"]` (every IPv4 and IPv6 address); the stock redis.conf sets
    /// `127.0.0.1 -::1`. Empty when set to `""`: Redis then binds the defaults.
    pub fn bind(&self) -> Vec<String> {
        match self.value("bind") {
            Some(Value::Bind(addresses)) => addresses.clone(),
            _ => Vec::new(),
        }
    }

    /// `port`: TCP port, 0 for no TCP listener. Default 6379.
    pub fn port(&self) -> u16 {
        self.num("port")
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(6379)
    }

    /// `unixsocket`: path of the Unix socket to listen on, if any.
    pub fn unixsocket(&self) -> Option<String> {
        Some(self.text("unixsocket")).filter(|path| !path.is_empty())
    }

    /// `unixsocketperm`: permission bits of the Unix socket (octal in the file); 0 leaves
    /// the default.
    pub fn unixsocketperm(&self) -> u32 {
        self.num("unixsocketperm")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }

    /// `protected-mode`: without a password and an explicit bind, accept only local clients.
    pub fn protected_mode(&self) -> bool {
        self.flag("protected-mode")
    }

    /// `timeout`: close a client idle this many seconds; 0 never.
    pub fn timeout_secs(&self) -> u64 {
        self.num("timeout")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0)
    }

    /// `tcp-keepalive`: TCP keepalive period in seconds; 0 disables it.
    pub fn tcp_keepalive_secs(&self) -> u64 {
        self.num("tcp-keepalive")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(300)
    }

    /// `tcp-backlog`: the listen(2) backlog.
    pub fn tcp_backlog(&self) -> u32 {
        self.num("tcp-backlog")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(511)
    }

    /// `databases`: number of logical databases (at least 1).
    pub fn databases(&self) -> usize {
        self.num("databases")
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(16)
    }

    /// `loglevel`.
    pub fn loglevel(&self) -> LogLevel {
        match self.value("loglevel") {
            Some(Value::Word("debug")) => LogLevel::Debug,
            Some(Value::Word("verbose")) => LogLevel::Verbose,
            Some(Value::Word("warning")) => LogLevel::Warning,
            _ => LogLevel::Notice,
        }
    }

    /// `logfile`: the log file; `None` (the default `""`) logs to standard output. A
    /// relative path is relative to `dir`.
    pub fn logfile(&self) -> Option<String> {
        Some(self.text("logfile")).filter(|path| !path.is_empty())
    }

    /// `pidfile`: where to write the process id, if anywhere. (Redis also writes
    /// `/var/run/redis.pid` when daemonized without one; Ferrodis does not daemonize.)
    pub fn pidfile(&self) -> Option<String> {
        Some(self.text("pidfile")).filter(|path| !path.is_empty())
    }

    /// `dir`: the working directory, absolute and resolved (what CONFIG GET shows). Redis
    /// chdir()s there at start-up and on CONFIG SET; the server does that.
    pub fn dir(&self) -> String {
        self.text("dir")
    }

    /// `hz`: background task frequency, clamped to 1..=500 like Redis.
    pub fn hz(&self) -> u32 {
        self.num("hz")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(10)
    }

    /// `maxclients`: maximum number of connected clients.
    pub fn maxclients(&self) -> u32 {
        self.num("maxclients")
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(10_000)
    }

    /// `proto-max-bulk-len`: largest bulk string a client may send, in bytes.
    pub fn proto_max_bulk_len_bytes(&self) -> u64 {
        self.num("proto-max-bulk-len")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(512 << 20)
    }

    /// `io-threads`: Ferrodis worker threads; the number of cores unless configured.
    pub fn io_threads(&self) -> usize {
        self.num("io-threads")
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(1)
    }

    /// `save`: `(seconds, changes)` snapshot points; empty when saving is off.
    pub fn save_params(&self) -> Vec<(u64, u64)> {
        match self.value("save") {
            Some(Value::Save(pairs)) => pairs
                .iter()
                .map(|(secs, changes)| {
                    (
                        u64::try_from(*secs).unwrap_or(0),
                        u64::try_from(*changes).unwrap_or(0),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The aggregate encoding thresholds: `list-max-listpack-size`, `list-compress-depth`,
    /// `hash-max-listpack-entries`, `hash-max-listpack-value`, `set-max-intset-entries`,
    /// `zset-max-listpack-entries`, `zset-max-listpack-value` (and their `ziplist` aliases).
    pub fn encoding_limits(&self) -> ferrodis_keyspace::EncodingLimits {
        let d = ferrodis_keyspace::EncodingLimits::default();
        let size = |name: &str, default: usize| {
            self.num(name)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(default)
        };
        let int = |name: &str, default: i64| {
            self.num(name)
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(default)
        };
        ferrodis_keyspace::EncodingLimits {
            list_max_listpack_size: int("list-max-listpack-size", d.list_max_listpack_size),
            list_compress_depth: int("list-compress-depth", d.list_compress_depth),
            hash_max_listpack_entries: size(
                "hash-max-listpack-entries",
                d.hash_max_listpack_entries,
            ),
            hash_max_listpack_value: size("hash-max-listpack-value", d.hash_max_listpack_value),
            set_max_intset_entries: size("set-max-intset-entries", d.set_max_intset_entries),
            zset_max_listpack_entries: size(
                "zset-max-listpack-entries",
                d.zset_max_listpack_entries,
            ),
            zset_max_listpack_value: size("zset-max-listpack-value", d.zset_max_listpack_value),
        }
    }

    /// `hll-sparse-max-bytes`: the largest sparse HyperLogLog, header included, in bytes.
    pub fn hll_sparse_max_bytes(&self) -> u64 {
        self.num("hll-sparse-max-bytes")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(3000)
    }

    /// `notify-keyspace-events` as a bit set: bit `i` is letter `i` of `g$lshzxetdnKEm` (see [`crate::notify`]).
    pub fn notify_keyspace_events(&self) -> u16 {
        match self.value("notify-keyspace-events") {
            Some(Value::Notify(bits)) => *bits,
            _ => 0,
        }
    }

    /// The `pubsub` class of `client-output-buffer-limit` (hard bytes, soft bytes, soft
    /// seconds; 0 disables a limit).
    pub fn pubsub_output_limit(&self) -> crate::mailbox::OutputLimit {
        match self.value("client-output-buffer-limit") {
            Some(Value::OutputBufferLimits(l)) => crate::mailbox::OutputLimit {
                hard_bytes: l[2].hard_bytes,
                soft_bytes: l[2].soft_bytes,
                soft_secs: u64::try_from(l[2].soft_secs).unwrap_or(0),
            },
            _ => crate::mailbox::OutputLimit::default(),
        }
    }

    /// `appendonly`: whether the append only file is on.
    pub fn appendonly(&self) -> bool {
        self.flag("appendonly")
    }
}

impl fmt::Debug for Config {
    /// Shows the directives given by the user, with secrets masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (index, directive) in TABLE.iter().enumerate().filter(|(i, _)| self.user_set[*i]) {
            if directive.has(SENSITIVE) {
                map.entry(&directive.name, &"<redacted>");
            } else {
                map.entry(&directive.name, &self.format(index));
            }
        }
        map.finish()
    }
}
