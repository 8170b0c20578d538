//! Fuzz the RDB loader: arbitrary bytes never panic and never allocate beyond what the input
//! delivers (libFuzzer's `-rss_limit_mb` / `-malloc_limit_mb` catch that); a load that succeeds
//! counted every key it handed over.
//!
//! Most inputs fail at the magic or the checksum, so the first byte picks a mode: odd bytes
//! prepend a valid `REDIS0010` header to the rest, and the input is also loaded a second time
//! with its last 8 bytes replaced by the CRC-64 of what comes before (a valid checksum), so the
//! fuzzer reaches the value decoders.
#![no_main]

use ferrodis_keyspace::EncodingLimits;
use ferrodis_persistence::crc64;
use ferrodis_persistence::rdb::{self, LoadedKey, Loader};
use libfuzzer_sys::fuzz_target;

/// Counts what the load hands over.
#[derive(Default)]
struct Counting {
    keys: u64,
    aux: u64,
    dbs: u64,
    last_offset: u64,
}

impl Loader for Counting {
    fn aux(&mut self, _name: &[u8], _value: &[u8]) {
        self.aux += 1;
    }
    fn select_db(&mut self, _db: usize) {
        self.dbs += 1;
    }
    fn item_start(&mut self, offset: u64) {
        assert!(offset >= self.last_offset, "offsets only grow");
        self.last_offset = offset;
    }
    fn key(&mut self, _key: LoadedKey) -> Result<(), String> {
        self.keys += 1;
        Ok(())
    }
}

fn load(bytes: &[u8]) {
    let mut loader = Counting::default();
    if let Ok(summary) = rdb::load(bytes, EncodingLimits::default(), &mut loader) {
        assert_eq!(summary.keys, loader.keys);
        assert!(summary.bytes <= bytes.len() as u64);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 9);
    if mode & 1 == 1 {
        bytes.extend_from_slice(b"REDIS0010");
    }
    bytes.extend_from_slice(rest);
    load(&bytes);
    if bytes.len() >= 8 {
        let body = bytes.len() - 8;
        let crc = crc64::checksum(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
        load(&bytes);
    }
});
