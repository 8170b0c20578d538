//! Fuzz the frame decoder: arbitrary bytes never panic, incomplete input leaves the buffer
//! untouched, and every decoded frame re-encodes to bytes that decode again.
#![no_main]

use ferrodis_resp::{decode_frame, encode, BytesMut, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match decode_frame(&mut buf) {
            Ok(Some(frame)) => {
                assert!(buf.len() < before, "a frame consumes bytes");
                let mut resp2 = BytesMut::new();
                encode(&frame, Protocol::Resp2, &mut resp2);
                let mut resp3 = BytesMut::new();
                encode(&frame, Protocol::Resp3, &mut resp3);
                let again = decode_frame(&mut resp3);
                assert!(matches!(again, Ok(Some(_))), "re-encoded frame: {again:?}");
                assert!(resp3.is_empty(), "re-encoded frame decodes whole");
            }
            Ok(None) | Err(_) => {
                assert_eq!(buf.len(), before, "nothing consumed without a frame");
                break;
            }
        }
    }
});
