//! Redis 7's multi-part append-only file: a directory of files listed by a manifest.
//!
//! # Directory layout
//!
//! With the defaults `appendfilename appendonly.aof` and `appenddirname appendonlydir`:
//!
//! | file (in `appendonlydir/`)     | what                                                       |
//! |--------------------------------|------------------------------------------------------------|
//! | `appendonly.aof.manifest`      | the files below, types and sequence numbers ([`manifest`]) |
//! | `appendonly.aof.<n>.base.rdb`  | base: the RDB snapshot of the last rewrite (RDB preamble)  |
//! | `appendonly.aof.<n>.base.aof`  | base: the same as commands (no preamble) ([`stream`])      |
//! | `appendonly.aof.<n>.incr.aof`  | incr: commands since that rewrite ([`stream`])             |
//! | history files (same names)     | bases and incrs a rewrite replaced, `type h` until deleted |
//! | `temp-appendonly.aof.manifest` | a manifest being written (renamed over the manifest)       |
//! | `temp-appendonly.aof.incr`     | commands written while AOF is being turned on              |
//!
//! The base is RDB when `aof-use-rdb-preamble yes` (the default); incrs are replayed oldest
//! first.
//!
//! Loading replays the base, then each incr in manifest order. A legacy single-file AOF
//! (`appendonly.aof` in `dir`, Redis < 7.0) is an optional RDB preamble (starting with
//! `REDIS`) followed by a command stream; Redis 7 adopts it as base seq 1 under its own name.
//!
//! Source: Redis 7.0 `aof.c`; <https://redis.io/docs/management/persistence/>.

pub mod manifest;
pub mod rewrite;
pub mod stream;

pub use manifest::{AofFileType, AofInfo, Manifest, ManifestError};
pub use stream::{encode_command, scan, CommandReader, ScanReport, StreamError};

#[cfg(test)]
mod reference_tests;
