//! Differential tests: each script in `tests/scripts/` runs against a fresh reference
//! `redis-server` 7.0 and a fresh Ferrodis, and every reply must match (byte for byte unless a
//! line's modifier relaxes it). The script format is documented in `tests/scripts/README.md`.
//!
//! One `#[test]` per script keeps failures readable; `every_script_has_a_test` makes sure a new
//! script is not silently left out. Without `redis-server` on `PATH` the tests print
//! "skipped: reference redis-server not found" and pass, unless `FERRODIS_REQUIRE_REFERENCE=1`.
//!
//! Useful environment variables:
//! - `FERRODIS_DIFF_SUBJECT=reference`: run the reference against itself (checks that a
//!   script's relaxed lines cover all of its nondeterminism);
//! - `FERRODIS_REFERENCE_SERVER=/path/to/redis-server`: another reference binary;
//! - `FERRODIS_DIFF_TRACE=1` (with `--nocapture`): print every line and the reference's reply.

use std::path::{Path, PathBuf};

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

macro_rules! scripts {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let file = scripts_dir().join(concat!(stringify!($name), ".txt"));
                ferrodis_tests::run_script_file(&file);
            }
        )*

        /// The scripts that have a test above.
        const SCRIPTS: &[&str] = &[$(stringify!($name)),*];
    };
}

scripts! {
    smoke,
    connection,
    protocol,
    strings_set,
    strings_counters,
    strings_ranges,
    object,
    keys,
    expire,
    scan,
    server,
    config,
    command,
    lists,
    lists_encoding,
    hashes,
    hashes_encoding,
    sets,
    sets_encoding,
    zsets,
    zsets_ranges,
    zsets_store,
    zsets_encoding,
    sort,
    generic_types,
    bitmaps,
    transactions,
    hll,
    pubsub,
    notifications,
    blocking,
    memory,
    eviction,
    persistence,
}

#[test]
fn every_script_has_a_test() {
    let mut missing = Vec::new();
    let entries = match std::fs::read_dir(scripts_dir()) {
        Ok(entries) => entries,
        Err(e) => panic!("reading {}: {e}", scripts_dir().display()),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "txt") {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            if let Some(stem) = stem.filter(|s| !SCRIPTS.contains(&s.as_str())) {
                missing.push(stem);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "scripts without a test in differential.rs: {missing:?}"
    );
}
