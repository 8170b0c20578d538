//! RESP2/RESP3 codec for Ferrodis: incremental request decoding, reply encoding and the number
//! formats Redis 7.0 uses in replies.
//!
//! The crate knows nothing about commands, the keyspace or the network: it turns bytes that
//! arrived on a connection into argument vectors, and reply [`Frame`]s into bytes to send. It does
//! not depend on tokio, so the same code serves the TCP/TLS listener, the Unix socket, AOF replay,
//! replication and the in-process embedding API.
//!
//! Behaviour follows the RESP specification (`RESP3.md` of the redis-specifications repository
//! and the "Redis serialization protocol" documentation page) and, where the two differ or the
//! specification is silent, what redis-server 7.0.15 actually does. Every client-visible error
//! text is byte-identical to Redis' and kept in one place, [`ProtocolError`].
//!
//! # Layout
//!
//! | module          | what it holds                                                            |
//! |-----------------|--------------------------------------------------------------------------|
//! | `frame`         | [`Frame`] (a reply or general RESP value) and [`Protocol`]               |
//! | `encode`        | [`encode`]: a frame to bytes for RESP2 or RESP3 (RESP2 downgrades)        |
//! | `request`       | [`RequestDecoder`], [`DecodeLimits`], [`ProtocolError`]: client commands  |
//! | `inline`        | splitting of inline (telnet) command lines, Redis' quoting rules         |
//! | `decode`        | [`decode_frame`], [`FrameError`]: any RESP2/RESP3 frame (replies)         |
//! | `float`         | [`format_double`], [`format_long_double`]: Redis' double reply texts      |
//! | `ldouble`       | [`LongDouble`]: the x87 80-bit `long double` INCRBYFLOAT computes with    |
//! | `bigint`        | the small exact big integer `ldouble` parses and prints with             |
//! | `number`        | Redis' strict integer parser (`string2ll` rules) shared by the decoders  |
//!
//! # Example
//!
//! ```
//! use ferrodis_resp::{encode, BytesMut, DecodeLimits, Frame, Protocol, RequestDecoder};
//!
//! let mut decoder = RequestDecoder::new(DecodeLimits::default());
//! let mut input = BytesMut::from(&b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n"[..]);
//! let echo = decoder.decode(&mut input).unwrap().unwrap();
//! assert_eq!(echo, vec![&b"ECHO"[..], &b"hi"[..]]);
//! let ping = decoder.decode(&mut input).unwrap().unwrap();
//! assert_eq!(ping, vec![&b"PING"[..]]);
//! assert_eq!(decoder.decode(&mut input).unwrap(), None);
//!
//! let mut out = BytesMut::new();
//! encode(&Frame::bulk(echo[1].clone()), Protocol::Resp2, &mut out);
//! encode(&Frame::Null, Protocol::Resp3, &mut out);
//! assert_eq!(&out[..], b"$2\r\nhi\r\n_\r\n");
//! ```

mod bigint;
mod decode;
mod encode;
mod float;
mod frame;
mod inline;
mod ldouble;
mod number;
mod request;

pub use bytes::{Bytes, BytesMut};

pub use decode::{decode_frame, FrameError, MAX_FRAME_DEPTH};
pub use encode::encode;
pub use float::{format_double, format_long_double, DoubleText};
pub use frame::{Frame, Protocol};
pub use inline::split_args;
pub use ldouble::LongDouble;
pub use request::{DecodeLimits, ProtocolError, RequestDecoder};
