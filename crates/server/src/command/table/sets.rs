//! The sets commands (group `Set`).

#[allow(unused_imports)]
use super::*;

/// The sets commands.
pub static COMMANDS: &[C] = &[];
