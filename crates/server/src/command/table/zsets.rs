//! The zsets commands (group `SortedSet`).

#[allow(unused_imports)]
use super::*;

/// The zsets commands.
pub static COMMANDS: &[C] = &[];
