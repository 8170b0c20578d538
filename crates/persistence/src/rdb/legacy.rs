//! The ziplist and zipmap encodings of RDB files written by Redis before 7.0 (placeholder,
//! filled in by the legacy-encodings work).
