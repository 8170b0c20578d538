//! The hashes commands (group `Hash`).

#[allow(unused_imports)]
use super::*;

/// The hashes commands.
pub static COMMANDS: &[C] = &[];
