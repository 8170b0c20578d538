//! Redis 7's multi-part append-only file (placeholder).
