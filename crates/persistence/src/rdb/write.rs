//! Writing RDB (placeholder).
