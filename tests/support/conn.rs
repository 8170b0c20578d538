//! [`Connection`]: a blocking raw RESP connection to a server (TCP or Unix socket).
//!
//! It writes commands as multibulk requests (or any raw bytes) and reads replies one frame at a
//! time with [`ferrodis_resp::decode_frame`], keeping each reply's exact bytes so comparisons can
//! be byte for byte. RESP3 replies (after `HELLO 3`) decode like RESP2 ones: the decoder accepts
//! every type of both protocols.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ferrodis_resp::{decode_frame, Frame};

/// How long [`Connection::read_reply`] waits for a reply before giving up.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One reply frame and the exact bytes it arrived as.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The decoded frame.
    pub frame: Frame,
    /// The frame's bytes on the wire, e.g. `b"$3\r\nfoo\r\n"`.
    pub raw: Bytes,
}

/// What reading a reply ran into instead of a frame.
#[derive(Debug)]
pub enum ReadError {
    /// No complete frame arrived within the timeout.
    Timeout,
    /// The server closed the connection (end of file or reset).
    Closed,
    /// The bytes are not a RESP frame; holds the decoder's message and the bytes received.
    Malformed(String),
    /// Any other I/O error.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Timeout => write!(f, "no reply (timed out)"),
            ReadError::Closed => write!(f, "connection closed"),
            ReadError::Malformed(what) => write!(f, "malformed reply: {what}"),
            ReadError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A blocking connection that speaks raw RESP.
pub struct Connection {
    stream: Stream,
    /// Bytes received and not yet returned as a reply.
    pending: BytesMut,
}

impl Connection {
    /// Connect over TCP.
    ///
    /// # Errors
    ///
    /// The I/O error of connecting or setting the timeout.
    pub fn tcp(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Connection::new(Stream::Tcp(stream))
    }

    /// Connect to a Unix socket.
    ///
    /// # Errors
    ///
    /// The I/O error of connecting or setting the timeout.
    pub fn unix(path: &Path) -> io::Result<Connection> {
        Connection::new(Stream::Unix(UnixStream::connect(path)?))
    }

    fn new(stream: Stream) -> io::Result<Connection> {
        let conn = Connection {
            stream,
            pending: BytesMut::with_capacity(4096),
        };
        conn.set_read_timeout(READ_TIMEOUT)?;
        Ok(conn)
    }

    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        match &self.stream {
            Stream::Tcp(s) => s.set_read_timeout(Some(timeout)),
            Stream::Unix(s) => s.set_read_timeout(Some(timeout)),
        }
    }

    /// Send `args` as one multibulk request (`*<n>\r\n$<len>\r\n<arg>\r\n...`).
    ///
    /// # Errors
    ///
    /// The write's I/O error (e.g. the server closed the connection).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.send_raw(&multibulk(args))
    }

    /// Send `bytes` exactly as given (inline commands, pipelines, malformed requests).
    ///
    /// # Errors
    ///
    /// The write's I/O error.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.stream {
            Stream::Tcp(s) => s.write_all(bytes),
            Stream::Unix(s) => s.write_all(bytes),
        }
    }

    /// Read exactly one reply frame, waiting up to [`READ_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// [`ReadError`] when no whole frame arrives.
    pub fn read_reply(&mut self) -> Result<Reply, ReadError> {
        self.read_reply_within(READ_TIMEOUT)
    }

    /// Read exactly one reply frame, waiting up to `timeout` for its bytes.
    ///
    /// # Errors
    ///
    /// [`ReadError`] when no whole frame arrives.
    pub fn read_reply_within(&mut self, timeout: Duration) -> Result<Reply, ReadError> {
        self.set_read_timeout(timeout).map_err(ReadError::Io)?;
        let result = self.read_frame();
        // Best effort: a closed socket may refuse the option, which no longer matters.
        let _ = self.set_read_timeout(READ_TIMEOUT);
        result
    }

    fn read_frame(&mut self) -> Result<Reply, ReadError> {
        loop {
            let mut probe = self.pending.clone();
            match decode_frame(&mut probe) {
                Ok(Some(frame)) => {
                    let used = self.pending.len() - probe.len();
                    let raw = self.pending.split_to(used).freeze();
                    return Ok(Reply { frame, raw });
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(ReadError::Malformed(format!(
                        "{e} in {:?}",
                        Bytes::copy_from_slice(&self.pending)
                    )))
                }
            }
            self.fill()?;
        }
    }

    /// Read more bytes into `pending`.
    fn fill(&mut self) -> Result<(), ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        let read = match &mut self.stream {
            Stream::Tcp(s) => s.read(&mut chunk),
            Stream::Unix(s) => s.read(&mut chunk),
        };
        match read {
            Ok(0) => Err(ReadError::Closed),
            Ok(n) => {
                self.pending.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Whether the server closes the connection within `timeout` without sending anything
    /// more. `Err` holds the reply that arrived instead, or the reason it could not tell.
    ///
    /// # Errors
    ///
    /// A description of what arrived instead of the end of the connection.
    pub fn expect_closed(&mut self, timeout: Duration) -> Result<(), String> {
        if !self.pending.is_empty() {
            return Err(format!(
                "unread bytes {:?}",
                Bytes::copy_from_slice(&self.pending)
            ));
        }
        match self.read_reply_within(timeout) {
            Err(ReadError::Closed) => Ok(()),
            Err(ReadError::Timeout) => Err("connection still open".to_owned()),
            Err(e) => Err(e.to_string()),
            Ok(reply) => Err(format!("got a reply {:?}", reply.raw)),
        }
    }

    /// Close both directions (the server sees the client go away).
    pub fn close(&self) {
        let _ = match &self.stream {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }

    /// Send `args` and read the one reply: the shortest way to run a command in a test.
    ///
    /// # Panics
    ///
    /// When the request cannot be sent or no reply frame comes back.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        if let Err(e) = self.send(args) {
            panic!("sending {:?}: {e}", printable(args));
        }
        match self.read_reply() {
            Ok(reply) => reply.frame,
            Err(e) => panic!("reply to {:?}: {e}", printable(args)),
        }
    }
}

fn classify(e: io::Error) -> ReadError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ReadError::Timeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ReadError::Closed,
        _ => ReadError::Io(e),
    }
}

/// The multibulk encoding of a request.
pub fn multibulk<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn printable<A: AsRef<[u8]>>(args: &[A]) -> Vec<String> {
    args.iter()
        .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
        .collect()
}
