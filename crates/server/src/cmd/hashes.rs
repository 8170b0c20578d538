//! The hashes command handlers (being written).
