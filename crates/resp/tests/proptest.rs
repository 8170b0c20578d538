//! Property tests: encode/decode round trips and no panics on arbitrary input.
#![allow(clippy::unwrap_used)]

use ferrodis_resp::{
    decode_frame, encode, Bytes, BytesMut, DecodeLimits, Frame, Protocol, RequestDecoder,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Line texts cannot hold CR or LF (the encoder would turn them into spaces).
fn line_text() -> impl Strategy<Value = Bytes> {
    vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..16,
    )
    .prop_map(Bytes::from)
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("NaN never equals itself", |d| !d.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.1),
        (-1_000_000i64..1_000_000).prop_map(|n| n as f64 / 8.0),
    ]
}

fn big_number() -> impl Strategy<Value = Bytes> {
    ("-?[1-9][0-9]{0,40}|0").prop_map(Bytes::from)
}

/// Frames that survive a RESP3 round trip unchanged (so no `NullArray`, which RESP3 sends as
/// `_` and reads back as `Null`).
fn frame() -> impl Strategy<Value = Frame> {
    let leaf = prop_oneof![
        line_text().prop_map(Frame::Simple),
        line_text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        bytes(32).prop_map(Frame::Bulk),
        Just(Frame::Null),
        double().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        big_number().prop_map(Frame::BigNumber),
        (any::<[u8; 3]>(), bytes(16)).prop_map(|(format, text)| Frame::Verbatim { format, text }),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let pairs = vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Frame::Array),
            pairs.clone().prop_map(Frame::Map),
            vec(inner.clone(), 0..6).prop_map(Frame::Set),
            vec(inner.clone(), 0..6).prop_map(Frame::Push),
            (pairs, inner).prop_map(|(attrs, value)| Frame::Attribute {
                attrs,
                value: Box::new(value),
            }),
        ]
    })
}

fn encode_argv(argv: &[Vec<u8>], out: &mut BytesMut) {
    let frame = Frame::Array(argv.iter().map(|a| Frame::bulk_from_slice(a)).collect());
    encode(&frame, Protocol::Resp2, out);
}

fn decode_commands(decoder: &mut RequestDecoder, buf: &mut BytesMut) -> Vec<Vec<Vec<u8>>> {
    let mut commands = Vec::new();
    while let Some(argv) = decoder.decode(buf).unwrap() {
        commands.push(argv.iter().map(|a| a.to_vec()).collect());
    }
    commands
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn argv_round_trips(argv in vec(vec(any::<u8>(), 0..64), 1..10)) {
        let mut buf = BytesMut::new();
        encode_argv(&argv, &mut buf);
        let mut decoder = RequestDecoder::new(DecodeLimits::default());
        prop_assert_eq!(decode_commands(&mut decoder, &mut buf), vec![argv]);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn pipelines_round_trip_across_any_split(
        commands in vec(vec(vec(any::<u8>(), 0..24), 1..5), 1..6),
        split in any::<prop::sample::Index>(),
    ) {
        let mut wire = BytesMut::new();
        for argv in &commands {
            encode_argv(argv, &mut wire);
        }
        let at = split.index(wire.len() + 1);
        let mut decoder = RequestDecoder::new(DecodeLimits::default());
        let mut buf = BytesMut::from(&wire[..at]);
        let mut decoded = decode_commands(&mut decoder, &mut buf);
        buf.extend_from_slice(&wire[at..]);
        decoded.extend(decode_commands(&mut decoder, &mut buf));
        prop_assert_eq!(decoded, commands);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn frames_round_trip_through_resp3(frame in frame()) {
        let mut buf = BytesMut::new();
        encode(&frame, Protocol::Resp3, &mut buf);
        buf.extend_from_slice(b"+next\r\n");
        prop_assert_eq!(decode_frame(&mut buf).unwrap(), Some(frame));
        prop_assert_eq!(decode_frame(&mut buf).unwrap(), Some(Frame::simple("next")));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn truncated_frames_are_incomplete(frame in frame(), cut in any::<prop::sample::Index>()) {
        let mut wire = BytesMut::new();
        encode(&frame, Protocol::Resp3, &mut wire);
        let at = cut.index(wire.len());
        let mut buf = BytesMut::from(&wire[..at]);
        prop_assert_eq!(decode_frame(&mut buf), Ok(None));
        prop_assert_eq!(buf.len(), at);
    }

    #[test]
    fn request_decoder_never_panics(input in vec(any::<u8>(), 0..512)) {
        decode_garbage(&input);
    }

    #[test]
    fn request_decoder_never_panics_on_protocol_like_bytes(input in tokens(REQUEST_TOKENS)) {
        decode_garbage(&input);
    }

    #[test]
    fn frame_decoder_never_panics(input in vec(any::<u8>(), 0..512)) {
        decode_frames(&input);
    }

    #[test]
    fn frame_decoder_never_panics_on_protocol_like_bytes(input in tokens(FRAME_TOKENS)) {
        decode_frames(&input);
    }
}

/// Fragments that reach the request decoder's corners (lax CRLF, NUL, quotes, signs).
const REQUEST_TOKENS: &[&[u8]] = &[
    b"*",
    b"$",
    b"\r\n",
    b"\r",
    b"\n",
    b"0",
    b"1",
    b"2",
    b"-1",
    b"01",
    b"+",
    b"x",
    b" ",
    b"\t",
    b"\x0b",
    b"\"",
    b"'",
    b"\\",
    b"\\x41",
    b"\0",
    b"\xff",
    b"*1\r\n",
    b"*2\r\n",
    b"$1\r\n",
    b"$0\r\n",
    b"*3\r\n$1\r\nx\r\n",
    b"\r\n\r\n",
];

/// Fragments of RESP2/RESP3 frames.
const FRAME_TOKENS: &[&[u8]] = &[
    b"*",
    b"$",
    b":",
    b"+",
    b"-",
    b"_",
    b",",
    b"#",
    b"(",
    b"!",
    b"=",
    b"%",
    b"~",
    b">",
    b"|",
    b"?",
    b"\r\n",
    b"\r",
    b"\n",
    b"0",
    b"1",
    b"2",
    b"4",
    b"-1",
    b"t",
    b"f",
    b"inf",
    b"nan",
    b"1.5",
    b"txt:",
    b"*1\r\n",
    b"%1\r\n",
    b"|1\r\n",
    b"$1\r\nx\r\n",
    b"=5\r\ntxt:x\r\n",
    b"_\r\n",
];

fn tokens(alphabet: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
    vec(prop::sample::select(alphabet), 0..40).prop_map(|parts| parts.concat())
}

fn decode_garbage(input: &[u8]) {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::from(input);
    for _ in 0..input.len() + 1 {
        match decoder.decode(&mut buf) {
            Ok(Some(argv)) => assert!(!argv.is_empty()),
            Ok(None) | Err(_) => break,
        }
    }
}

fn decode_frames(input: &[u8]) {
    let mut buf = BytesMut::from(input);
    for _ in 0..input.len() + 1 {
        match decode_frame(&mut buf) {
            Ok(Some(frame)) => {
                // Whatever decodes re-encodes without panicking.
                let mut out = BytesMut::new();
                encode(&frame, Protocol::Resp3, &mut out);
                encode(&frame, Protocol::Resp2, &mut out);
            }
            Ok(None) | Err(_) => break,
        }
    }
}
