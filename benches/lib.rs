//! Benchmark support (empty).
