//! The zsets command handlers (being written).
