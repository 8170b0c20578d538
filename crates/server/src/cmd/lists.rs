//! The lists command handlers (being written).
