//! Request decoding: Redis' exact protocol error texts, inline quoting, pipelines, splits at
//! every byte offset, and memory bounds. Every expectation was read from redis-server 7.0.15.
#![allow(clippy::unwrap_used)]

use ferrodis_resp::{BytesMut, DecodeLimits, Frame, ProtocolError, RequestDecoder};

type Argv = Vec<Vec<u8>>;

/// Decode all complete commands of `input`, then the outcome of the last call.
fn decode_all(input: &[u8]) -> (Vec<Argv>, Result<(), ProtocolError>, BytesMut) {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::from(input);
    let mut commands = Vec::new();
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(argv)) => commands.push(argv.iter().map(|a| a.to_vec()).collect()),
            Ok(None) => return (commands, Ok(()), buf),
            Err(error) => return (commands, Err(error), buf),
        }
    }
}

fn commands(input: &[u8]) -> Vec<Argv> {
    let (commands, outcome, _) = decode_all(input);
    assert_eq!(outcome, Ok(()), "{}", String::from_utf8_lossy(input));
    commands
}

fn error_of(input: &[u8]) -> ProtocolError {
    decode_all(input).1.unwrap_err()
}

/// The full reply Redis sends for the error, as bytes.
fn reply_of(input: &[u8]) -> Vec<u8> {
    match error_of(input).to_frame() {
        Frame::Error(text) => {
            let mut reply = b"-".to_vec();
            reply.extend_from_slice(&text);
            reply.extend_from_slice(b"\r\n");
            reply
        }
        other => panic!("{other:?}"),
    }
}

fn argv(words: &[&[u8]]) -> Argv {
    words.iter().map(|w| w.to_vec()).collect()
}

#[test]
fn multibulk_commands() {
    assert_eq!(
        commands(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\nval\r\n"),
        vec![argv(&[b"SET", b"key", b"val"])]
    );
    assert_eq!(
        commands(b"*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n"),
        vec![argv(&[b"ECHO", b"a\0b"])]
    );
    assert_eq!(commands(b"*1\r\n$0\r\n\r\n"), vec![argv(&[b""])]);
}

#[test]
fn empty_commands_are_skipped() {
    let ping = vec![argv(&[b"PING"])];
    assert_eq!(commands(b"*-1\r\nPING\r\n"), ping);
    assert_eq!(commands(b"*-5\r\nPING\r\n"), ping);
    assert_eq!(commands(b"*0\r\nPING\r\n"), ping);
    assert_eq!(commands(b"\r\nPING\r\n"), ping);
    assert_eq!(commands(b"\nPING\n"), ping);
    assert_eq!(commands(b"   \r\nPING\r\n"), ping);
    assert!(commands(b"*0\r\n*-1\r\n\r\n").is_empty());
}

#[test]
fn lax_line_endings_like_redis() {
    // Redis skips two bytes after each header's '\r' and after each payload unchecked.
    let ping = vec![argv(&[b"PING"])];
    assert_eq!(commands(b"*1\r\n$4\r\nPINGxx"), ping);
    assert_eq!(commands(b"*1\rx$4\rxPING\r\n"), ping);
    assert_eq!(
        commands(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
        vec![ping[0].clone(); 2]
    );
}

#[test]
fn incomplete_input_waits() {
    for input in [
        &b"*1\r\n$4\r\nPING"[..],
        b"*1\r\n$4\r\nPING\r",
        b"*1\r\n$4\r",
        b"*1\r",
        b"*",
        b"*1\r\n$536870912\r\n",
        b"*2147483647\r\n",
        b"*1048577\r\n",
        b"PING",
        // A NUL before the line end hides it, as Redis' strchr does.
        b"*1\0\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\0\r\nPING\r\n",
        b"ECHO a\0b\r\n",
        b"ECHO \"a\0b\"\r\n",
    ] {
        let (commands, outcome, _) = decode_all(input);
        assert!(commands.is_empty(), "{}", String::from_utf8_lossy(input));
        assert_eq!(outcome, Ok(()), "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn invalid_multibulk_length() {
    for input in [
        &b"*abc\r\n"[..],
        b"*2147483648\r\n",
        b"*01\r\n$4\r\nPING\r\n",
        b"*+1\r\n$4\r\nPING\r\n",
        b"* 1\r\n$4\r\nPING\r\n",
        b"*\r\n",
        b"*-0\r\n",
        b"*99999999999999999999999\r\n",
    ] {
        assert_eq!(error_of(input), ProtocolError::InvalidMultibulkLength);
        assert_eq!(
            reply_of(input),
            b"-ERR Protocol error: invalid multibulk length\r\n"
        );
    }
    let mut long = b"*".to_vec();
    long.extend(std::iter::repeat_n(b'1', 65535));
    long.extend_from_slice(b"\r\n");
    assert_eq!(error_of(&long), ProtocolError::InvalidMultibulkLength);
}

#[test]
fn invalid_bulk_length() {
    for input in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$abc\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$04\r\nPING\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$+4\r\nPING\r\n",
    ] {
        assert_eq!(error_of(input), ProtocolError::InvalidBulkLength);
        assert_eq!(
            reply_of(input),
            b"-ERR Protocol error: invalid bulk length\r\n"
        );
    }
}

#[test]
fn expected_dollar() {
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*1\r\nX\r\n",
            b"-ERR Protocol error: expected '$', got 'X'\r\n",
        ),
        (
            b"*1\r\n*1\r\n",
            b"-ERR Protocol error: expected '$', got '*'\r\n",
        ),
        (
            b"*1\r\n\x01\r\n",
            b"-ERR Protocol error: expected '$', got '\x01'\r\n",
        ),
        (
            b"*1\r\n\xff\r\n",
            b"-ERR Protocol error: expected '$', got '\xff'\r\n",
        ),
        (
            b"*1\r\n\r\r\n",
            b"-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            b"*1\r\n\n\r\n",
            b"-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            b"*2\r\n$1\r\na\r\n:1\r\n",
            b"-ERR Protocol error: expected '$', got ':'\r\n",
        ),
    ];
    for (input, reply) in cases {
        assert_eq!(
            reply_of(input),
            *reply,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(
        error_of(b"*1\r\nX\r\n"),
        ProtocolError::ExpectedBulk { got: b'X' }
    );
    assert_eq!(
        error_of(b"*1\r\nX\r\n").to_string(),
        "Protocol error: expected '$', got 'X'"
    );
    assert_eq!(
        error_of(b"*1\r\n\n\r\n").to_string(),
        "Protocol error: expected '$', got ' '"
    );
}

#[test]
fn too_big_count_strings_and_inline() {
    let limit = 64 * 1024;
    // The limit counts every byte waiting without a line end: 65536 wait, 65537 fail.
    let mut mbulk = b"*".to_vec();
    mbulk.extend(std::iter::repeat_n(b'1', limit - 1));
    assert_eq!(decode_all(&mbulk).1, Ok(()));
    mbulk.push(b'1');
    assert_eq!(
        reply_of(&mbulk),
        b"-ERR Protocol error: too big mbulk count string\r\n"
    );
    // '\r' found but not yet its '\n': Redis waits, whatever the size.
    let mut waiting = b"*".to_vec();
    waiting.extend(std::iter::repeat_n(b'1', limit - 1));
    waiting.push(b'\r');
    assert_eq!(decode_all(&waiting).1, Ok(()));

    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', limit - 1));
    assert_eq!(decode_all(&bulk).1, Ok(()));
    bulk.push(b'1');
    assert_eq!(
        reply_of(&bulk),
        b"-ERR Protocol error: too big bulk count string\r\n"
    );
    let mut garbage = b"*1\r\n".to_vec();
    garbage.extend(std::iter::repeat_n(b'x', limit + 1));
    assert_eq!(error_of(&garbage), ProtocolError::TooBigBulkCount);

    let inline = vec![b'a'; limit];
    assert_eq!(decode_all(&inline).1, Ok(()));
    let inline = vec![b'a'; limit + 1];
    assert_eq!(
        reply_of(&inline),
        b"-ERR Protocol error: too big inline request\r\n"
    );
    // A NUL hides the line end: the bytes pile up until the limit.
    let mut hidden = b"ECHO a\0".to_vec();
    hidden.extend(std::iter::repeat_n(b'x', limit));
    hidden.extend_from_slice(b"\r\n");
    assert_eq!(error_of(&hidden), ProtocolError::TooBigInline);
    let mut hidden = b"*1\0".to_vec();
    hidden.extend(std::iter::repeat_n(b'x', limit));
    assert_eq!(error_of(&hidden), ProtocolError::TooBigMultibulkCount);
}

#[test]
fn bulk_then_garbage_becomes_inline() {
    // `*1\r\n$3\r\n` + 70000 x: the command "xxx", two bytes skipped, then an inline line
    // with no end, too big.
    let mut input = b"*1\r\n$3\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 70000));
    let (commands, outcome, _) = decode_all(&input);
    assert_eq!(commands, vec![argv(&[b"xxx"])]);
    assert_eq!(outcome, Err(ProtocolError::TooBigInline));
}

#[test]
fn unbalanced_quotes() {
    for input in [
        &b"ECHO \"foo\"bar\r\n"[..],
        b"ECHO \"abc\r\n",
        b"ECHO 'abc\r\n",
        b"ECHO a\"b c\"d\r\n",
        b"ECHO 'a\\\\' b\r\n",
        b"ECHO \"a\\\"\r\n",
        b"ECHO \"\\\r\n",
    ] {
        assert_eq!(
            reply_of(input),
            b"-ERR Protocol error: unbalanced quotes in request\r\n"
        );
    }
}

#[test]
fn inline_commands() {
    let cases: &[(&[u8], &[&[u8]])] = &[
        (b"PING\r\n", &[b"PING"]),
        (b"PING\n", &[b"PING"]),
        (b"ECHO 'a\\'b'\r\n", &[b"ECHO", b"a'b"]),
        (b"ECHO \"\\x41\"\r\n", &[b"ECHO", b"A"]),
        (b"ECHO \"\\x4\"\r\n", &[b"ECHO", b"x4"]),
        (
            b"ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\z\"\r\n",
            &[b"ECHO", b"\n\r\t\x08\x07\\\"z"],
        ),
        (b"ECHO ''\r\n", &[b"ECHO", b""]),
        (b"ECHO \"\"\r\n", &[b"ECHO", b""]),
        (b"ECHO\ta\r\n", &[b"ECHO", b"a"]),
        (b"ECHO\x0ba\r\n", &[b"ECHO\x0ba"]),
        (b"ECHO a\rb\r\n", &[b"ECHO", b"a", b"b"]),
        (b"ECHO a\r\r\n", &[b"ECHO", b"a"]),
        (b"ECHO \"a\r\"\n", &[b"ECHO", b"a\r"]),
        (b"ECHO x'a b'\n", &[b"ECHO", b"xa b"]),
        (b"$1\r\n", &[b"$1"]),
        (b"  SET   k   v  \r\n", &[b"SET", b"k", b"v"]),
    ];
    for (input, words) in cases {
        assert_eq!(
            commands(input),
            vec![argv(words)],
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(commands(b"ECHO a\n\n"), vec![argv(&[b"ECHO", b"a"])]);
}

#[test]
fn unauthenticated_limits() {
    let decode = |input: &[u8]| {
        let mut decoder = RequestDecoder::new(DecodeLimits::default());
        decoder.set_auth_required(true);
        decoder.decode(&mut BytesMut::from(input))
    };
    assert_eq!(decode(b"*10\r\n"), Ok(None));
    assert_eq!(
        decode(b"*11\r\n"),
        Err(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(decode(b"*1\r\n$16384\r\n"), Ok(None));
    assert_eq!(
        decode(b"*1\r\n$16385\r\n"),
        Err(ProtocolError::UnauthenticatedBulkLength)
    );
    assert_eq!(
        ProtocolError::UnauthenticatedMultibulkLength.to_string(),
        "Protocol error: unauthenticated multibulk length"
    );
    assert_eq!(
        ProtocolError::UnauthenticatedBulkLength.to_string(),
        "Protocol error: unauthenticated bulk length"
    );
}

#[test]
fn limits_are_configurable() {
    let limits = DecodeLimits {
        proto_max_bulk_len: 3,
        max_inline_len: 8,
        max_multibulk_len: 2,
    };
    let mut decoder = RequestDecoder::new(limits);
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&b"*3\r\n"[..])),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    let mut decoder = RequestDecoder::new(limits);
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&b"*1\r\n$4\r\n"[..])),
        Err(ProtocolError::InvalidBulkLength)
    );
    let mut decoder = RequestDecoder::new(limits);
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&b"123456789"[..])),
        Err(ProtocolError::TooBigInline)
    );
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    decoder.set_limits(limits);
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&b"*3\r\n"[..])),
        Err(ProtocolError::InvalidMultibulkLength)
    );
}

#[test]
fn errors_are_sticky() {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n"[..]);
    assert!(decoder.decode(&mut buf).unwrap().is_some());
    assert_eq!(
        decoder.decode(&mut buf),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        decoder.decode(&mut buf),
        Err(ProtocolError::InvalidMultibulkLength)
    );
}

/// A mixed pipeline: multibulk, inline, empty commands, binary payloads, a quoted inline.
fn pipeline() -> (Vec<u8>, Vec<Argv>) {
    let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n\
                  PING\r\n\
                  *0\r\n\
                  *2\r\n$3\r\nGET\r\n$3\r\nkey\r\n\
                  \r\n\
                  ECHO \"a b\" 'c'\n\
                  *-1\r\n\
                  *1\r\n$0\r\n\r\n\
                  *2\r\n$4\r\nECHO\r\n$12\r\n*1\r\n$4\r\nPING\r\n"
        .to_vec();
    let expected = vec![
        argv(&[b"SET", b"key", b"va\r\nl"]),
        argv(&[b"PING"]),
        argv(&[b"GET", b"key"]),
        argv(&[b"ECHO", b"a b", b"c"]),
        argv(&[b""]),
        argv(&[b"ECHO", b"*1\r\n$4\r\nPING"]),
    ];
    (input, expected)
}

#[test]
fn pipelined_commands_in_one_buffer() {
    let (input, expected) = pipeline();
    let (commands, outcome, rest) = decode_all(&input);
    assert_eq!(outcome, Ok(()));
    assert_eq!(commands, expected);
    assert!(rest.is_empty());
}

/// Feed `parts` one after another into one decoder, collecting every command.
fn feed(parts: &[&[u8]]) -> Vec<Argv> {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        while let Some(argv) = decoder.decode(&mut buf).unwrap() {
            commands.push(argv.iter().map(|a| a.to_vec()).collect());
        }
    }
    assert!(buf.is_empty());
    commands
}

#[test]
fn split_at_every_offset() {
    let (input, expected) = pipeline();
    for at in 0..=input.len() {
        let (head, tail) = input.split_at(at);
        assert_eq!(feed(&[head, tail]), expected, "split at {at}");
    }
}

#[test]
fn split_at_every_pair_of_offsets() {
    let (input, expected) = pipeline();
    for first in 0..=input.len() {
        for second in first..=input.len() {
            let parts = [&input[..first], &input[first..second], &input[second..]];
            assert_eq!(feed(&parts), expected, "split at {first} and {second}");
        }
    }
}

#[test]
fn byte_by_byte() {
    let (input, expected) = pipeline();
    let parts: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(feed(&parts), expected);
}

#[test]
fn payloads_are_not_copied() {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
    let start = buf.as_ptr() as usize;
    let argv = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(argv[0].as_ptr() as usize, start + 8);
    assert_eq!(argv[1].as_ptr() as usize, start + 17);
}

#[test]
fn announced_giant_bulk_costs_nothing() {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(b"*2\r\n$3\r\nSET\r\n$500000000\r\nabc");
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(&buf[..], b"abc");
    assert!(buf.capacity() <= 64, "capacity {}", buf.capacity());
    assert_eq!(decoder.pending_bulk_hint(), Some(500_000_002 - 3));
    buf.extend_from_slice(&[b'x'; 1000]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(decoder.pending_bulk_hint(), Some(500_000_002 - 1003));
    assert!(buf.capacity() < 4096, "capacity {}", buf.capacity());
}

#[test]
fn pending_bulk_hint_tracks_the_payload() {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::from(&b"*1\r\n$10\r\n0123"[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(decoder.pending_bulk_hint(), Some(8));
    buf.extend_from_slice(b"456789\r\n");
    assert_eq!(
        decoder.decode(&mut buf).unwrap().unwrap(),
        vec![&b"0123456789"[..]]
    );
    assert_eq!(decoder.pending_bulk_hint(), None);
    let mut buf = BytesMut::from(&b"*1\r\n$1"[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(decoder.pending_bulk_hint(), None);
}

#[test]
fn decode_into_recycles_the_vector_and_matches_decode() {
    let wire: &[u8] =
        b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nc\r\nPING\r\n";
    let mut expected = Vec::new();
    let mut buf = BytesMut::from(wire);
    let mut plain = RequestDecoder::new(DecodeLimits::default());
    while let Some(args) = plain.decode(&mut buf).expect("valid") {
        expected.push(args);
    }
    // Byte by byte, so partial commands stay inside the decoder between calls.
    let mut got = Vec::new();
    let mut dec = RequestDecoder::new(DecodeLimits::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for &b in wire {
        buf.extend_from_slice(&[b]);
        while dec.decode_into(&mut buf, &mut out).expect("valid") {
            got.push(out.clone());
        }
    }
    assert_eq!(got, expected);
    assert_eq!(got.len(), 3);
}
