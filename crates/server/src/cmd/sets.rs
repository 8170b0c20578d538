//! The sets command handlers (being written).
