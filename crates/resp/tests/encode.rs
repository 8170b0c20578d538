//! Byte-literal encoding tests: every [`Frame`] variant in RESP3 and RESP2 (with the RESP2
//! downgrades redis-server 7.0.15 sends for `DEBUG PROTOCOL <type>`).

use ferrodis_resp::{encode, Bytes, BytesMut, Frame, Protocol};

fn resp2(frame: &Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(frame, Protocol::Resp2, &mut out);
    out.to_vec()
}

fn resp3(frame: &Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(frame, Protocol::Resp3, &mut out);
    out.to_vec()
}

/// Asserts the RESP3 and RESP2 encodings of `frame`.
fn check(frame: Frame, want3: &[u8], want2: &[u8]) {
    assert_eq!(resp3(&frame), want3, "RESP3 {frame:?}");
    assert_eq!(resp2(&frame), want2, "RESP2 {frame:?}");
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

#[test]
fn simple_string() {
    check(Frame::ok(), b"+OK\r\n", b"+OK\r\n");
    check(Frame::simple("PONG"), b"+PONG\r\n", b"+PONG\r\n");
    check(Frame::Simple(b("")), b"+\r\n", b"+\r\n");
}

#[test]
fn error() {
    check(
        Frame::error("ERR syntax error"),
        b"-ERR syntax error\r\n",
        b"-ERR syntax error\r\n",
    );
    check(
        Frame::error("WRONGTYPE x"),
        b"-WRONGTYPE x\r\n",
        b"-WRONGTYPE x\r\n",
    );
}

#[test]
fn line_texts_never_break_framing() {
    check(
        Frame::error("ERR a\r\nb"),
        b"-ERR a  b\r\n",
        b"-ERR a  b\r\n",
    );
    check(Frame::Simple(b("a\nb")), b"+a b\r\n", b"+a b\r\n");
}

#[test]
fn integer() {
    check(Frame::Integer(0), b":0\r\n", b":0\r\n");
    check(Frame::Integer(-42), b":-42\r\n", b":-42\r\n");
    check(
        Frame::Integer(i64::MAX),
        b":9223372036854775807\r\n",
        b":9223372036854775807\r\n",
    );
    check(
        Frame::Integer(i64::MIN),
        b":-9223372036854775808\r\n",
        b":-9223372036854775808\r\n",
    );
}

#[test]
fn bulk() {
    check(
        Frame::bulk("Hello World"),
        b"$11\r\nHello World\r\n",
        b"$11\r\nHello World\r\n",
    );
    check(Frame::bulk_from_slice(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
    check(
        Frame::bulk_from_slice(b"a\r\nb\0"),
        b"$5\r\na\r\nb\0\r\n",
        b"$5\r\na\r\nb\0\r\n",
    );
}

#[test]
fn array() {
    let frame = Frame::Array(vec![
        Frame::Integer(0),
        Frame::Integer(1),
        Frame::Integer(2),
    ]);
    check(
        frame,
        b"*3\r\n:0\r\n:1\r\n:2\r\n",
        b"*3\r\n:0\r\n:1\r\n:2\r\n",
    );
    check(Frame::Array(vec![]), b"*0\r\n", b"*0\r\n");
    let nested = Frame::Array(vec![Frame::Array(vec![Frame::Null]), Frame::bulk("x")]);
    check(
        nested,
        b"*2\r\n*1\r\n_\r\n$1\r\nx\r\n",
        b"*2\r\n*1\r\n$-1\r\n$1\r\nx\r\n",
    );
}

#[test]
fn nulls() {
    check(Frame::Null, b"_\r\n", b"$-1\r\n");
    check(Frame::NullArray, b"_\r\n", b"*-1\r\n");
}

#[test]
fn map() {
    // DEBUG PROTOCOL map
    let frame = Frame::Map(vec![
        (Frame::Integer(0), Frame::Boolean(false)),
        (Frame::Integer(1), Frame::Boolean(true)),
        (Frame::Integer(2), Frame::Boolean(false)),
    ]);
    check(
        frame,
        b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
        b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
    );
    check(Frame::Map(vec![]), b"%0\r\n", b"*0\r\n");
}

#[test]
fn set() {
    let frame = Frame::Set(vec![
        Frame::Integer(0),
        Frame::Integer(1),
        Frame::Integer(2),
    ]);
    check(
        frame,
        b"~3\r\n:0\r\n:1\r\n:2\r\n",
        b"*3\r\n:0\r\n:1\r\n:2\r\n",
    );
}

#[test]
#[allow(clippy::approx_constant)] // 3.141 is what `DEBUG PROTOCOL double` sends, not PI.
fn double() {
    check(Frame::Double(3.141), b",3.141\r\n", b"$5\r\n3.141\r\n");
    check(Frame::Double(3.0), b",3\r\n", b"$1\r\n3\r\n");
    check(
        Frame::Double(0.1),
        b",0.10000000000000001\r\n",
        b"$19\r\n0.10000000000000001\r\n",
    );
    check(
        Frame::Double(1e300),
        b",1.0000000000000001e+300\r\n",
        b"$23\r\n1.0000000000000001e+300\r\n",
    );
    check(Frame::Double(f64::INFINITY), b",inf\r\n", b"$3\r\ninf\r\n");
    check(
        Frame::Double(f64::NEG_INFINITY),
        b",-inf\r\n",
        b"$4\r\n-inf\r\n",
    );
    check(Frame::Double(-0.0), b",-0\r\n", b"$2\r\n-0\r\n");
    check(Frame::Double(f64::NAN), b",nan\r\n", b"$3\r\nnan\r\n");
    check(Frame::Double(-f64::NAN), b",-nan\r\n", b"$4\r\n-nan\r\n");
}

#[test]
fn boolean() {
    check(Frame::Boolean(true), b"#t\r\n", b":1\r\n");
    check(Frame::Boolean(false), b"#f\r\n", b":0\r\n");
}

#[test]
fn big_number() {
    check(
        Frame::BigNumber(b("1234567999999999999999999999999999999")),
        b"(1234567999999999999999999999999999999\r\n",
        b"$37\r\n1234567999999999999999999999999999999\r\n",
    );
}

#[test]
fn verbatim() {
    check(
        Frame::Verbatim {
            format: *b"txt",
            text: b("This is a verbatim\nstring"),
        },
        b"=29\r\ntxt:This is a verbatim\nstring\r\n",
        b"$25\r\nThis is a verbatim\nstring\r\n",
    );
    check(
        Frame::Verbatim {
            format: *b"mkd",
            text: b(""),
        },
        b"=4\r\nmkd:\r\n",
        b"$0\r\n\r\n",
    );
}

#[test]
fn push() {
    let frame = Frame::Push(vec![Frame::bulk("server-cpu-usage"), Frame::Integer(42)]);
    check(
        frame,
        b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n",
        b"*2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n",
    );
}

#[test]
fn attribute() {
    // DEBUG PROTOCOL attrib
    let frame = Frame::Attribute {
        attrs: vec![(
            Frame::bulk("key-popularity"),
            Frame::Array(vec![Frame::bulk("key:123"), Frame::Integer(90)]),
        )],
        value: Box::new(Frame::bulk("Some real reply following the attribute")),
    };
    check(
        frame,
        b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n\
          $39\r\nSome real reply following the attribute\r\n",
        b"$39\r\nSome real reply following the attribute\r\n",
    );
}

#[test]
fn encode_appends() {
    let mut out = BytesMut::from(&b"+A\r\n"[..]);
    encode(&Frame::Integer(1), Protocol::Resp2, &mut out);
    encode(&Frame::Null, Protocol::Resp2, &mut out);
    assert_eq!(&out[..], b"+A\r\n:1\r\n$-1\r\n");
}
