//! Fuzz the request decoder: arbitrary bytes never panic, and feeding the same bytes in chunks
//! yields the same commands and the same error as feeding them at once.
//!
//! The first input byte picks the chunk size; the rest is the connection's byte stream.
#![no_main]

use ferrodis_resp::{BytesMut, DecodeLimits, ProtocolError, RequestDecoder};
use libfuzzer_sys::fuzz_target;

type Outcome = (Vec<Vec<Vec<u8>>>, Option<ProtocolError>);

fn run(parts: &[&[u8]]) -> Outcome {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(argv)) => {
                    assert!(!argv.is_empty(), "empty commands are skipped");
                    commands.push(argv.iter().map(|a| a.to_vec()).collect());
                }
                Ok(None) => break,
                Err(error) => return (commands, Some(error)),
            }
        }
    }
    (commands, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let whole = run(&[input]);
    // The size limits look at what is buffered, so chunking may only matter past them.
    if input.len() <= DecodeLimits::default().max_inline_len {
        let parts: Vec<&[u8]> = input.chunks(usize::from(chunk).max(1)).collect();
        assert_eq!(run(&parts), whole);
    }
});
