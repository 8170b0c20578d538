//! Unit tests of the config module. Expected texts and behaviours were taken from
//! redis-server 7.0.15 (see each group).
#![allow(clippy::unwrap_used)]

mod commands;
mod compat;
mod loading;
mod syntax;

use super::{Config, ConfigError};

/// Loads `text` as a config file called `test.conf`.
fn load(text: &str) -> Config {
    match Config::from_str(text, "test.conf") {
        Ok(config) => config,
        Err(err) => panic!("config should load:\n{err}"),
    }
}

/// The error loading `text` gives.
fn load_err(text: &str) -> ConfigError {
    match Config::from_str(text, "test.conf") {
        Ok(config) => panic!("config should be refused, got {config:?}"),
        Err(err) => err,
    }
}

/// The reason part of a line error.
fn reason(text: &str) -> String {
    match load_err(text) {
        ConfigError::Line { reason, .. } => reason,
        other => panic!("expected a line error, got {other:?}"),
    }
}

/// CONFIG GET of one exact name.
fn get(config: &Config, name: &str) -> String {
    config.get_str(name).unwrap()
}

/// Words as the command line gives them.
fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}
