//! The lists commands (group `List`).

#[allow(unused_imports)]
use super::*;

/// The lists commands.
pub static COMMANDS: &[C] = &[];
