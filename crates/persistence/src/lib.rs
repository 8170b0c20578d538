//! Ferrodis persistence formats, byte-compatible with Redis: what Redis writes, Ferrodis reads,
//! and the reverse.
//!
//! # Layout
//!
//! - [`crc64`]: Redis' CRC-64 (Jones polynomial), the checksum of RDB files and DUMP payloads.
//! - [`rdb`]: the RDB format: [`rdb::write`] encodes keys and values (RDB version 10, Redis' compact
//!   encodings), [`rdb::read`] decodes files and values of RDB versions 1 to 12,
//!   [`rdb::legacy`] the ziplist and zipmap encodings of older files.
//! - [`dump`]: DUMP/RESTORE payloads (one value, RDB version, CRC-64).
//! - [`aof`]: Redis 7's multi-part append-only file: the manifest and the command stream.
//!
//! The crate knows formats and values, not servers: it does not depend on tokio, and it reads
//! and writes through `std::io` traits, so the server, the check tools and the fuzz targets all
//! use the same code.

pub mod aof;
pub mod crc64;
pub mod dump;
pub mod rdb;
