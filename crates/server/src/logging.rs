//! Logging through `tracing`, with Redis' levels and `logfile`.
//!
//! Redis levels map onto tracing levels: `debug` → TRACE, `verbose` → DEBUG, `notice` → INFO,
//! `warning` → WARN. CONFIG SET loglevel changes the filter at runtime through a reload handle.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::sync::Mutex;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::reload;

use crate::config::LogLevel;
use crate::server::LogLevelHook;

/// The tracing level filter for a Redis log level.
pub fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Debug => LevelFilter::TRACE,
        LogLevel::Verbose => LevelFilter::DEBUG,
        LogLevel::Notice => LevelFilter::INFO,
        LogLevel::Warning => LevelFilter::WARN,
    }
}

/// Installs the global subscriber writing to `logfile` (stdout when empty) at `level`, and
/// returns the hook that changes the level later. Errors: the log file cannot be opened.
pub fn init(level: LogLevel, logfile: Option<&str>) -> std::io::Result<LogLevelHook> {
    let (filter, handle) = reload::Layer::new(level_filter(level));
    let fmt = tracing_subscriber::fmt::layer().with_target(false);
    match logfile.filter(|f| !f.is_empty()) {
        Some(path) => {
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            let layer = fmt.with_ansi(false).with_writer(Mutex::new(file));
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(layer)
                .try_init();
        }
        None => {
            let fmt = fmt.with_ansi(std::io::stdout().is_terminal());
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(fmt)
                .try_init();
        }
    }
    Ok(Box::new(move |l| {
        let _ = handle.modify(|f| *f = level_filter(l));
    }))
}
