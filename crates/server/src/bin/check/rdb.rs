//! The RDB check shared by `ferrodis-check-rdb` and `ferrodis-check-aof` (for the RDB preamble
//! of an AOF): loads with the real loader ([`ferrodis_persistence::rdb::load_from`]) and prints
//! what it meets in `redis-check-rdb`'s words.
//!
//! Output, one line each, as `redis-check-rdb` 7.0 prints it (`N` is the byte offset just past
//! the item):
//!
//! ```text
//! [offset 0] Checking RDB file dump.rdb
//! [offset 27] AUX FIELD redis-ver = '7.0.15'
//! [offset 82] Selecting DB ID 0
//! [offset 180] Checksum OK
//! [offset 180] \o/ RDB looks OK! \o/
//! [info] 6 keys read
//! [info] 2 expires
//! [info] 1 already expired
//! ```
//!
//! On an error, `--- RDB ERROR DETECTED ---` and `[offset N] <what>` (N where the reader found
//! the problem) come before the `[info]` lines.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use ferrodis_keyspace::EncodingLimits;
use ferrodis_persistence::rdb::read::load_from;
use ferrodis_persistence::rdb::{Decoder, LoadSummary, LoadedKey, Loader, RdbError, RdbErrorKind};

/// What the check counted: the `[info]` lines.
#[derive(Default)]
struct Counts {
    /// Keys read.
    keys: u64,
    /// Keys read with an expire.
    expires: u64,
    /// Keys whose expire is already in the past.
    already_expired: u64,
}

/// A [`Loader`] that counts and prints each aux field and db switch at the offset just past it.
struct CheckLoader {
    now_ms: u64,
    counts: Counts,
    /// A line waiting for the offset where its item ends.
    pending: Option<String>,
}

impl CheckLoader {
    fn flush(&mut self, offset: u64) {
        if let Some(line) = self.pending.take() {
            println!("[offset {offset}] {line}");
        }
    }
}

impl Loader for CheckLoader {
    fn aux(&mut self, name: &[u8], value: &[u8]) {
        self.pending = Some(format!(
            "AUX FIELD {} = '{}'",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(value)
        ));
    }

    fn select_db(&mut self, db: usize) {
        self.pending = Some(format!("Selecting DB ID {db}"));
    }

    fn item_start(&mut self, offset: u64) {
        self.flush(offset);
    }

    fn key(&mut self, key: LoadedKey) -> Result<(), String> {
        self.counts.keys += 1;
        if let Some(expire_ms) = key.expire_ms {
            self.counts.expires += 1;
            if expire_ms < self.now_ms {
                self.counts.already_expired += 1;
            }
        }
        Ok(())
    }
}

/// The error line for `kind`, in `redis-check-rdb`'s words where it has them.
fn describe(kind: &RdbErrorKind) -> String {
    match kind {
        RdbErrorKind::Truncated => "Unexpected EOF reading RDB file".to_owned(),
        RdbErrorKind::BadMagic => "Wrong signature trying to load DB from file".to_owned(),
        RdbErrorKind::UnknownType(t) => format!("Invalid object type: {t}"),
        RdbErrorKind::Checksum { .. } => "RDB CRC error".to_owned(),
        other => other.to_string(),
    }
}

/// Checks the RDB file at the start of `decoder` (named `name` in the output), printing as
/// `redis-check-rdb` does. The decoder is left just past the file (the checksum), so an AOF
/// check can go on with the command stream after an RDB preamble.
///
/// Errors: the loader's [`RdbError`], after the error lines are printed.
pub fn check<R: Read>(decoder: &mut Decoder<R>, name: &str) -> Result<LoadSummary, RdbError> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut loader = CheckLoader {
        now_ms,
        counts: Counts::default(),
        pending: None,
    };
    println!("[offset 0] Checking RDB file {name}");
    let result = load_from(decoder, &mut loader);
    match &result {
        Ok(summary) => {
            loader.flush(summary.bytes);
            let at = summary.bytes;
            if summary.checksum_verified {
                println!("[offset {at}] Checksum OK");
            } else if summary.version >= 5 {
                println!(
                    "[offset {at}] RDB file was saved with checksum disabled: no check performed."
                );
            }
            println!("[offset {at}] \\o/ RDB looks OK! \\o/");
        }
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---");
            println!("[offset {}] {}", e.offset, describe(&e.kind));
            if let RdbErrorKind::Checksum { expected, computed } = &e.kind {
                println!(
                    "[additional info] stored checksum {expected:#018x}, computed {computed:#018x}"
                );
            }
        }
    }
    let c = &loader.counts;
    println!("[info] {} keys read", c.keys);
    println!("[info] {} expires", c.expires);
    println!("[info] {} already expired", c.already_expired);
    result
}

/// A decoder over `r` that tracks the CRC-64, as [`ferrodis_persistence::rdb::load`] makes.
pub fn decoder<R: Read>(r: R) -> Decoder<R> {
    let mut d = Decoder::new(r, EncodingLimits::default());
    d.track_crc();
    d
}
