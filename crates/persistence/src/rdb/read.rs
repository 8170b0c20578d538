//! Reading RDB (placeholder).
