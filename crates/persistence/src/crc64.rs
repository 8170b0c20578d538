//! Redis' CRC-64: the Jones polynomial (`0xad93d23594c935a9`), reflected, initial value 0, no
//! final xor (Redis `crc64.c`). It guards RDB files (the 8 bytes after the EOF opcode, little
//! endian) and DUMP payloads (the last 8 bytes).
//!
//! This is not CRC-64/XZ (the `crc64fast` crate's): for `"123456789"` Redis' check value is
//! `0xe9c6d914c4b8d9ca`. The `crc` crate's `CRC_64_REDIS` catalogue entry is this algorithm; a
//! 16-way sliced table keeps it near memory speed for multi-gigabyte files.

use crc::{Crc, Digest, Table, CRC_64_REDIS};

static REDIS: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// The CRC-64 of `bytes` in one call.
pub fn checksum(bytes: &[u8]) -> u64 {
    REDIS.checksum(bytes)
}

/// A running CRC-64 over bytes fed in pieces (an RDB file as it is written or read).
#[derive(Clone)]
pub struct Crc64 {
    digest: Digest<'static, u64, Table<16>>,
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}

impl Crc64 {
    /// A digest over no bytes yet.
    pub fn new() -> Crc64 {
        Crc64 {
            digest: REDIS.digest(),
        }
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.digest.update(bytes);
    }

    /// The CRC-64 of everything added so far.
    pub fn value(&self) -> u64 {
        self.digest.clone().finalize()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc64({:#018x})", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_check_value() {
        // crc64.c's own test vector.
        assert_eq!(checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
        assert_eq!(checksum_ref(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    /// Bit-at-a-time reference implementation of the same parameters.
    fn checksum_ref(bytes: &[u8]) -> u64 {
        let poly: u64 = 0xad93d23594c935a9_u64.reverse_bits();
        let mut crc = 0u64;
        for &b in bytes {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ poly
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn pieces_match_one_call() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for split in [0, 1, 7, 4096, 9_999, 10_000] {
            let mut d = Crc64::new();
            d.update(&data[..split]);
            d.update(&data[split..]);
            assert_eq!(d.value(), checksum(&data));
            assert_eq!(d.value(), checksum_ref(&data));
        }
    }
}
