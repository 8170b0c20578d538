//! Fuzz the AOF command stream: arbitrary bytes never panic; `scan` and a `CommandReader` read
//! to the end agree on where the stream stops, and offsets stay within the input.
//!
//! The first byte picks the read buffer's size, so commands straddle refills.
#![no_main]

use std::io::BufReader;

use ferrodis_persistence::aof::stream::{scan, CommandReader, StreamError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cap, input)) = data.split_first() else {
        return;
    };
    let cap = usize::from(cap).max(1);
    let len = input.len() as u64;
    let mut reader = CommandReader::new(BufReader::with_capacity(cap, input), 0);
    let end = loop {
        match reader.next_command() {
            Ok(Some(args)) => assert!(!args.is_empty(), "a command has arguments"),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(reader.valid_up_to() <= reader.position());
    assert!(reader.position() <= len);
    let report = scan(BufReader::with_capacity(cap, input), 0);
    assert_eq!(report.total, len);
    assert!(report.valid_up_to <= reader.valid_up_to());
    match (&end, &report.error) {
        (
            Some(StreamError::Corrupt { offset: a, .. }),
            Some(StreamError::Corrupt { offset: b, .. }),
        ) => {
            assert!(b <= a, "scan stops no later than the reader")
        }
        (None, None) => assert_eq!(report.valid_up_to, reader.valid_up_to()),
        _ => {}
    }
});
