//! Errors of the config module and the exact Redis 7.0 texts they carry.
//!
//! Every reason below was checked against redis-server 7.0.15: start-up reasons by feeding
//! it a config file with the offending line, CONFIG SET reasons by sending the command.

use thiserror::Error;

/// First line of the start-up error block. Redis prints its own version here; we print ours.
pub(crate) const FATAL_HEADER: &str = concat!(
    "*** FATAL CONFIG FILE ERROR (Ferrodis ",
    env!("CARGO_PKG_VERSION"),
    ") ***"
);

/// Reason texts shared by the config file, the command line and CONFIG SET.
pub(crate) mod reason {
    pub const BAD_DIRECTIVE: &str = "Bad directive or wrong number of arguments";
    pub const WRONG_ARG_COUNT: &str = "wrong number of arguments";
    pub const UNBALANCED_QUOTES: &str = "Unbalanced quotes in configuration line";
    pub const NOT_YES_NO: &str = "argument must be 'yes' or 'no'";
    pub const NOT_INTEGER: &str = "argument couldn't be parsed into an integer";
    pub const NOT_MEMORY: &str = "argument must be a memory value";
    pub const NOT_MEMORY_OR_PERCENT: &str = "argument must be a memory or percent value";
    pub const NOT_OCTAL: &str = "argument couldn't be parsed as an octal number";
    pub const SAVE_INVALID: &str = "Invalid save parameters";
    pub const OBUF_ARG_COUNT: &str = "Wrong number of arguments in buffer limit configuration.";
    pub const OBUF_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
    pub const OBUF_VALUES: &str =
        "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    pub const OOM_VALUES: &str =
        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
    pub const NOTIFY_CLASS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    pub const BIND_TOO_MANY: &str = "Too many bind addresses specified.";
    pub const MASTER_PORT: &str = "Invalid master port";
    pub const PERCENTILES_INVALID: &str = "Invalid latency-tracking-info-percentiles parameters";
    pub const PERCENTILES_RANGE: &str =
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
    pub const SAVE_AND_NOSAVE: &str =
        "shutdown options SAVE and NOSAVE can't be used simultaneously";
    pub const DBFILENAME_PATH: &str = "dbfilename can't be a path, just a filename";
    pub const AOF_FILENAME_EMPTY: &str = "appendfilename can't be empty";
    pub const AOF_FILENAME_PATH: &str = "appendfilename can't be a path, just a filename";
    pub const AOF_DIRNAME_EMPTY: &str = "appenddirname can't be empty";
    pub const AOF_DIRNAME_PATH: &str = "appenddirname can't be a path, just a dirname";
    pub const HOSTNAME_TOO_LONG: &str = "Hostnames must be less than 256 characters";
    pub const HOSTNAME_CHARS: &str =
        "Hostnames may only contain alphanumeric characters, hyphens or dots";
    pub const PROC_TITLE_TEMPLATE: &str =
        "template format is invalid or contains unknown variables";
    /// The reference build has no active defragmentation, and neither has Ferrodis.
    pub const NO_ACTIVE_DEFRAG: &str = "Active defragmentation cannot be enabled: it requires a \
        Redis server compiled with a modified Jemalloc like the one shipped by default with the \
        Redis source distribution";
    pub const MODULE_CONFIG_WITHOUT_VALUE: &str = "Module config specified without value";
    pub const SENTINEL_NOT_SENTINEL: &str = "sentinel directive while not in sentinel mode";
    pub const REPLICAOF_IN_CLUSTER: &str = "replicaof directive not allowed in cluster mode";
    pub const DUPLICATE_USER: &str =
        "Duplicate user found. A user can only be defined once in config files";
    pub const IMMUTABLE: &str = "can't set immutable config";
    pub const PROTECTED: &str = "can't set protected config";
    pub const DUPLICATE_PARAMETER: &str = "duplicate parameter";
    /// Our own: Redis recurses without limit and crashes on an include cycle.
    pub const INCLUDE_TOO_DEEP: &str = "include nesting is too deep (an include cycle?)";
}

/// The configuration could not be loaded at start-up; the server prints it and exits with 1.
///
/// Source: redis-server 7.0 `loadServerConfig`. The `Line` and `Invalid` variants display
/// the block Redis writes to stderr (Redis puts an empty line before it) with two changes:
/// the header names Ferrodis, and the line number is followed by where the line came from
/// (a file path, `stdin` or `command line`). Line numbers count like Redis: options given on
/// the command line are numbered after the lines of the file and of stdin.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A config file (the main one or an `include`d one) could not be read. Redis logs the
    /// same text as a warning before exiting.
    #[error("Fatal error, can't open config file '{path}': {reason}")]
    Open {
        /// The path as it was given.
        path: String,
        /// The operating system's description, e.g. `No such file or directory`.
        reason: String,
    },
    /// Reading the configuration from stdin (`-` argument) failed.
    #[error("Fatal error, can't read config from stdin: {reason}")]
    Stdin {
        /// The operating system's description.
        reason: String,
    },
    /// A line was rejected: unknown directive, wrong arguments or a bad value.
    #[error(
        "{FATAL_HEADER}\nReading the configuration file, at line {line_number} ({origin})\n\
         >>> '{line}'\n{reason}"
    )]
    Line {
        /// A file path, `stdin` or `command line`.
        origin: String,
        /// 1-based, counted as Redis counts it.
        line_number: usize,
        /// The line without surrounding blanks.
        line: String,
        /// Redis' reason, e.g. `argument must be 'yes' or 'no'`.
        reason: String,
    },
    /// A check over the whole configuration failed after every line was accepted (the log
    /// file cannot be opened, `replicaof` in cluster mode).
    #[error("{FATAL_HEADER}\n{reason}")]
    Invalid {
        /// Redis' reason, e.g. `Can't open the log file: Permission denied`.
        reason: String,
    },
}

/// CONFIG SET was refused; nothing was changed.
///
/// Display is the whole error line without the leading `-`, byte-identical to Redis 7.0
/// (`configSetCommand`), e.g. `ERR CONFIG SET failed (possibly related to argument 'port') -
/// argument couldn't be parsed into an integer`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigSetError {
    /// No directive has this name (the name is echoed as the client sent it).
    #[error("ERR Unknown option or number of arguments for CONFIG SET - '{0}'")]
    UnknownOption(String),
    /// The directive exists but the change was refused: immutable, protected, given twice,
    /// or a bad value. `name` is what Redis echoes: the client's spelling for the first
    /// three, the directive's own name for a bad value.
    #[error("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")]
    Failed {
        /// The name Redis puts in the message.
        name: String,
        /// Redis' reason.
        reason: String,
    },
}

impl ConfigSetError {
    /// The error for a change the server could not apply (e.g. `port`: `Unable to listen on
    /// this port. Check server logs.`), in the same shape Redis uses for it.
    pub fn apply_failed(name: &str, reason: &str) -> ConfigSetError {
        ConfigSetError::Failed {
            name: name.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// The operating system's text for an I/O error, without Rust's ` (os error N)` suffix, so it
/// reads like C's `strerror` as Redis prints it.
pub(crate) fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(cut) if text.ends_with(')') => text[..cut].to_owned(),
        _ => text,
    }
}
