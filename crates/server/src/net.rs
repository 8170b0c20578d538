//! The network front end: listeners, the accept loops and the per-connection task.
//!
//! Each connection is one tokio task running a read → execute → write loop: it parses every
//! complete command in its read buffer, executes them in order, encodes the replies into one
//! output buffer and writes it with as few syscalls as possible (a pipeline of N commands is
//! answered by one write, or a few when replies exceed 64 KiB). The task never reads more
//! requests while it has replies it could not write, so a client that stops reading holds at most
//! one read buffer and 64 KiB of replies: memory stays bounded without an output-buffer limit.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferrodis_keyspace::Now;
use ferrodis_resp::{encode, DecodeLimits, Frame, RequestDecoder};
use socket2::{Domain, Protocol as SockProtocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::task::JoinSet;

use crate::client::{Client, ClientKind};
use crate::config::Config;
use crate::error::msg;
use crate::server::Server;

/// Replies are flushed once this many bytes are buffered, even mid-pipeline.
const FLUSH_THRESHOLD_BYTES: usize = 64 * 1024;
/// Read buffer growth step.
const READ_CHUNK_BYTES: usize = 16 * 1024;

/// Sent (as an error reply) to non-loopback clients while protected mode is on.
const PROTECTED_MODE_DENIED: &str = "-DENIED Ferrodis is running in protected mode: protected \
mode is on and the default user has no password, so only loopback connections are accepted. \
Disable it with 'CONFIG SET protected-mode no' from the loopback interface, set \
'protected-mode no' in the configuration file, start the server with '--protected-mode no', or \
set a password for the default user.\r\n";

/// Errors binding the listeners.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A non-optional bind address could not be listened on.
    #[error("Could not create server TCP listening socket {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: io::Error,
    },
    /// The Unix socket could not be created.
    #[error("Failed opening Unix socket {path}: {source}")]
    Unix {
        /// The socket path.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// Nothing to listen on (no TCP port, no Unix socket).
    #[error("Configured to not listen anywhere, exiting.")]
    NothingToListenOn,
}

/// Bound listening sockets.
#[derive(Default)]
pub struct Listeners {
    tcp: Vec<TcpListener>,
    unix: Option<(UnixListener, PathBuf)>,
}

impl Listeners {
    /// Local addresses of the TCP listeners.
    pub fn tcp_addrs(&self) -> Vec<SocketAddr> {
        self.tcp
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Binds the listeners `config` asks for: `bind` addresses (a leading `-` marks one whose
    /// failure is tolerated, `*` and `::*` mean every IPv4/IPv6 address) on `port` unless it is
    /// 0, and `unixsocket` with `unixsocketperm`. Must run inside a tokio runtime.
    pub fn bind_from_config(config: &Config) -> Result<Listeners, NetError> {
        let mut l = Listeners::default();
        for std_listener in bind_tcp_std(config)? {
            let addr = std_listener
                .local_addr()
                .map_or_else(|_| "?".to_string(), |a| a.to_string());
            let listener = TcpListener::from_std(std_listener)
                .map_err(|source| NetError::Bind { addr, source })?;
            l.tcp.push(listener);
        }
        if let Some(path) = config.unixsocket().filter(|p| !p.is_empty()) {
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).map_err(|source| NetError::Unix {
                path: path.clone(),
                source,
            })?;
            set_socket_perm(&path, config.unixsocketperm());
            l.unix = Some((listener, PathBuf::from(path)));
        }
        if l.tcp.is_empty() && l.unix.is_none() {
            return Err(NetError::NothingToListenOn);
        }
        Ok(l)
    }

    /// Binds one TCP address (port 0 picks an ephemeral port), for embedding and tests.
    pub fn bind_addr(addr: SocketAddr) -> Result<Listeners, NetError> {
        let listener = bind_tcp(addr, 511).map_err(|source| NetError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        Ok(Listeners {
            tcp: vec![listener],
            unix: None,
        })
    }
}

/// Binds the TCP listeners `config` asks for (`bind` × `port`; none when `port` is 0) as
/// non-blocking std sockets: at start-up and for CONFIG SET port/bind. An address with a `-`
/// prefix may fail (it is skipped with a warning); `*` and `::*` mean every IPv4/IPv6 address.
pub fn bind_tcp_std(config: &Config) -> Result<Vec<std::net::TcpListener>, NetError> {
    let port = config.port();
    let mut out = Vec::new();
    if port == 0 {
        return Ok(out);
    }
    for raw in config.bind() {
        let optional = raw.starts_with('-');
        let host = raw.trim_start_matches('-');
        let ip: IpAddr = match host {
            "*" => IpAddr::from([0, 0, 0, 0]),
            "::*" => IpAddr::from([0u16; 8]),
            h => match h.parse() {
                Ok(ip) => ip,
                Err(_) if optional => continue,
                Err(e) => {
                    return Err(NetError::Bind {
                        addr: format!("{h}:{port}"),
                        source: io::Error::new(io::ErrorKind::InvalidInput, e),
                    })
                }
            },
        };
        let addr = SocketAddr::new(ip, port);
        match bind_socket(addr, config.tcp_backlog()) {
            Ok(s) => out.push(s.into()),
            Err(e) if optional => tracing::warn!("Could not bind optional address {addr}: {e}"),
            Err(source) => {
                return Err(NetError::Bind {
                    addr: addr.to_string(),
                    source,
                })
            }
        }
    }
    Ok(out)
}

fn set_socket_perm(path: &str, perm: u32) {
    use std::os::unix::fs::PermissionsExt;
    if perm != 0 {
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm)) {
            tracing::warn!("Could not set permissions of {path}: {e}");
        }
    }
}

fn bind_tcp(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    TcpListener::from_std(bind_socket(addr, backlog)?.into())
}

fn bind_socket(addr: SocketAddr, backlog: u32) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM,
        Some(SockProtocol::TCP),
    )?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(511))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Where connection tasks run.
///
/// The binary uses [`Workers::start`]: `io-threads` OS threads, each running a single-threaded
/// tokio runtime that owns the connections handed to it (round-robin by the acceptor). A
/// connection never migrates, so there is no work-stealing or cross-thread wake-up on the
/// request path; shard locks keep data access safe across workers. Embedders use
/// [`Workers::current`], which spawns onto the caller's runtime.
pub struct Workers {
    handles: Vec<tokio::runtime::Handle>,
    next: std::sync::atomic::AtomicUsize,
    threads: Vec<std::thread::JoinHandle<()>>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

impl Workers {
    /// Spawns onto the current tokio runtime (must be called inside one).
    pub fn current() -> Workers {
        Workers {
            handles: vec![tokio::runtime::Handle::current()],
            next: std::sync::atomic::AtomicUsize::new(0),
            threads: Vec::new(),
            stop: None,
        }
    }

    /// Starts `n` worker threads, each with its own single-threaded runtime.
    pub fn start(n: usize) -> io::Result<Workers> {
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let mut handles = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(rt.handle().clone());
            let mut stop_rx = stop_rx.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("ferrodis-io-{i}"))
                    .spawn(move || {
                        rt.block_on(async move {
                            let _ = stop_rx.wait_for(|s| *s).await;
                        });
                        rt.shutdown_timeout(Duration::from_millis(100));
                    })?,
            );
        }
        Ok(Workers {
            handles,
            next: std::sync::atomic::AtomicUsize::new(0),
            threads,
            stop: Some(stop),
        })
    }

    fn pick(&self) -> &tokio::runtime::Handle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[i]
    }

    /// Stops the worker threads (after their connections were closed) and joins them.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send_replace(true);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Serves `listeners` until shutdown is requested, then closes every connection and returns.
/// Connections run on `workers`; the acceptors and the server cron (`hz`) run on the calling
/// runtime.
pub async fn serve(server: Arc<Server>, listeners: Listeners, workers: Arc<Workers>) {
    let mut tasks = JoinSet::new();
    let mut tcp_tasks = JoinSet::new();
    if let Some(addr) = listeners.tcp_addrs().first() {
        server
            .tcp_port
            .store(u32::from(addr.port()), Ordering::Relaxed);
    }
    for listener in listeners.tcp {
        tcp_tasks.spawn(accept_tcp(server.clone(), listener, workers.clone()));
    }
    let (rebind_tx, mut rebind_rx) = tokio::sync::mpsc::unbounded_channel();
    server.set_rebind_channel(rebind_tx);
    let unix_path = listeners.unix.as_ref().map(|(_, p)| p.clone());
    if let Some((listener, path)) = listeners.unix {
        tasks.spawn(accept_unix(server.clone(), listener, path, workers.clone()));
    }
    tasks.spawn(cron(server.clone()));
    let mut shutdown = server.shutdown_signal();
    while !*shutdown.borrow_and_update() {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            Some(new) = rebind_rx.recv() => {
                // CONFIG SET port/bind: the new sockets are bound; swap the acceptors.
                tcp_tasks.abort_all();
                for std_listener in new {
                    match TcpListener::from_std(std_listener) {
                        Ok(l) => {
                            tcp_tasks.spawn(accept_tcp(server.clone(), l, workers.clone()));
                        }
                        Err(e) => tracing::warn!("Listening on the new address: {e}"),
                    }
                }
            }
        }
    }
    tcp_tasks.abort_all();
    tasks.abort_all();
    server.clients.kill_all();
    // Give connections a moment to flush their last replies and unregister.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !server.clients.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if let Some(p) = unix_path {
        let _ = std::fs::remove_file(p);
    }
}

async fn cron(server: Arc<Server>) {
    let mut last = Instant::now();
    let (mut last_cmds, mut last_in, mut last_out) = (0, 0, 0);
    loop {
        let hz = server.hot.hz.load(Ordering::Relaxed).clamp(1, 500);
        tokio::time::sleep(Duration::from_micros(1_000_000 / u64::from(hz))).await;
        let s = server.clone();
        // Expiry takes shard locks: run it off the async workers.
        if tokio::task::spawn_blocking(move || s.cron_tick())
            .await
            .is_err()
        {
            tracing::warn!("expire cycle panicked");
        }
        let elapsed = last.elapsed().as_secs_f64();
        if elapsed >= 0.1 {
            let st = &server.stats;
            let cmds = st.total_commands_processed.load(Ordering::Relaxed);
            let inb = st.total_net_input_bytes.load(Ordering::Relaxed);
            let outb = st.total_net_output_bytes.load(Ordering::Relaxed);
            let rate = |now: u64, before: u64| now.saturating_sub(before) as f64 / elapsed;
            st.instantaneous_ops_per_sec
                .store(rate(cmds, last_cmds) as u64, Ordering::Relaxed);
            st.instantaneous_input_kbps_x100.store(
                (rate(inb, last_in) / 1024.0 * 100.0) as u64,
                Ordering::Relaxed,
            );
            st.instantaneous_output_kbps_x100.store(
                (rate(outb, last_out) / 1024.0 * 100.0) as u64,
                Ordering::Relaxed,
            );
            (last_cmds, last_in, last_out, last) = (cmds, inb, outb, Instant::now());
        }
    }
}

async fn accept_tcp(server: Arc<Server>, listener: TcpListener, workers: Arc<Workers>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let server = server.clone();
        // Move the socket to its worker's runtime: it registers with that runtime's driver.
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                continue;
            }
        };
        workers.pick().spawn(async move {
            let Ok(stream) = tokio::net::TcpStream::from_std(std_stream) else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let keepalive = server.hot.tcp_keepalive_secs.load(Ordering::Relaxed);
            if keepalive > 0 {
                let ka = TcpKeepalive::new()
                    .with_time(Duration::from_secs(keepalive))
                    .with_interval(Duration::from_secs((keepalive / 3).max(1)));
                let _ = SockRef::from(&stream).set_tcp_keepalive(&ka);
            }
            let local = stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            if server.hot.protected_mode.load(Ordering::Relaxed) && !peer.ip().is_loopback() {
                reject(stream, PROTECTED_MODE_DENIED).await;
                return;
            }
            let fd = i64::from(stream.as_raw_fd());
            accept_client(server, stream, ClientKind::Tcp, peer.to_string(), local, fd).await;
        });
    }
}

async fn accept_unix(
    server: Arc<Server>,
    listener: UnixListener,
    path: PathBuf,
    workers: Arc<Workers>,
) {
    let name = format!("{}:0", path.display());
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let server = server.clone();
        let name = name.clone();
        let Ok(std_stream) = stream.into_std() else {
            continue;
        };
        workers.pick().spawn(async move {
            let Ok(stream) = UnixStream::from_std(std_stream) else {
                return;
            };
            let fd = i64::from(stream.as_raw_fd());
            accept_client::<UnixStream>(server, stream, ClientKind::Unix, name.clone(), name, fd)
                .await;
        });
    }
}

async fn reject<S: AsyncWrite + Unpin>(mut stream: S, text: &str) {
    let _ = stream.write_all(text.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn accept_client<S: ClientSocket>(
    server: Arc<Server>,
    stream: S,
    kind: ClientKind,
    addr: String,
    laddr: String,
    fd: i64,
) {
    server
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let max = server.hot.maxclients.load(Ordering::Relaxed) as usize;
    if server.clients.len() >= max {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        reject(stream, &format!("-{}\r\n", msg::MAX_CLIENTS)).await;
        return;
    }
    let client = server.clients.register(kind, addr, laddr, fd);
    let id = client.id;
    tracing::debug!("Accepted client id={id}");
    let mut client = client;
    if let Err(e) = run_connection(&server, stream, &mut client).await {
        tracing::debug!("Client id={id} closed: {e}");
    }
    server.pubsub.unsubscribe_all(&mut client);
    client.shared.mailbox.close();
    server.clients.unregister(id);
}

fn decode_limits(server: &Server) -> DecodeLimits {
    DecodeLimits {
        proto_max_bulk_len: server.hot.proto_max_bulk_len.load(Ordering::Relaxed),
        ..DecodeLimits::default()
    }
}

/// Why a read stopped.
enum ReadOutcome {
    Data(usize),
    /// Other connections queued output for this one (Pub/Sub).
    Mail,
    Closed,
}

/// A client socket (TCP or Unix). Reads go through readiness so that a short read can mark
/// the socket drained without another `recv` that would only say "would block": one `recv`
/// per batch of requests, as Redis' event loop does.
pub trait ClientSocket: AsyncWrite + Unpin + Send {
    /// Waits until the socket may be readable.
    fn readable(&self) -> impl std::future::Future<Output = io::Result<()>> + Send;
    /// Reads what is available without waiting.
    fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize>;
    /// Like [`ClientSocket::try_read_buf`], but a short read (less than `buf`'s spare
    /// capacity, so the socket was drained) also forgets the read readiness that was current
    /// *before* the read: the next [`ClientSocket::readable`] waits for a new event, and an
    /// event that arrived during or after the read still wakes it.
    fn read_draining(&self, buf: &mut BytesMut) -> io::Result<usize>;
}

macro_rules! client_socket {
    ($t:ty) => {
        impl ClientSocket for $t {
            fn readable(&self) -> impl std::future::Future<Output = io::Result<()>> + Send {
                <$t>::readable(self)
            }
            fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
                <$t>::try_read_buf(self, buf)
            }
            fn read_draining(&self, buf: &mut BytesMut) -> io::Result<usize> {
                // tokio's `try_io` notes the readiness tick before running the closure and, on
                // "would block", clears only that tick. Reading inside the closure therefore
                // cannot lose an event that lands between the read and the clear (clearing
                // after a separate read could, and the connection would then wait forever
                // for bytes already in the socket).
                let space = buf.capacity() - buf.len();
                let mut drained = None;
                let r = self.try_io(tokio::io::Interest::READABLE, || {
                    let n = <$t>::try_read_buf(self, buf)?;
                    if n > 0 && n < space {
                        drained = Some(n);
                        return Err(io::ErrorKind::WouldBlock.into());
                    }
                    Ok(n)
                });
                match (r, drained) {
                    (_, Some(n)) => Ok(n),
                    (r, None) => r,
                }
            }
        }
    };
}

client_socket!(tokio::net::TcpStream);
client_socket!(UnixStream);

async fn read_some<S: ClientSocket>(
    server: &Server,
    client: &Client,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    stream: &S,
    buf: &mut BytesMut,
) -> io::Result<ReadOutcome> {
    let timeout = server.hot.timeout_secs.load(Ordering::Relaxed);
    loop {
        let wait = async {
            if timeout > 0 {
                match tokio::time::timeout(Duration::from_secs(timeout), stream.readable()).await {
                    Ok(r) => r.map(|()| true),
                    Err(_) => Ok(false), // idle for `timeout` seconds
                }
            } else {
                stream.readable().await.map(|()| true)
            }
        };
        let ready = tokio::select! {
            r = wait => r?,
            _ = client.shared.kill_notify.notified() => false,
            _ = shutdown.wait_for(|v| *v) => false,
            _ = client.shared.mailbox.notify.notified() => return Ok(ReadOutcome::Mail),
        };
        if !ready {
            return Ok(ReadOutcome::Closed);
        }
        match stream.read_draining(buf) {
            Ok(0) => return Ok(ReadOutcome::Closed),
            Ok(n) => return Ok(ReadOutcome::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn run_connection<S: ClientSocket>(
    server: &Server,
    mut stream: S,
    client: &mut Client,
) -> io::Result<()> {
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let mut wbuf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let mut decoder = RequestDecoder::new(decode_limits(server));
    let mut shutdown = server.shutdown_signal();
    let mut args = Vec::new();
    let stats = &server.stats;
    loop {
        if rbuf.capacity() - rbuf.len() < READ_CHUNK_BYTES / 4 {
            let want = decoder
                .pending_bulk_hint()
                .unwrap_or(0)
                .clamp(READ_CHUNK_BYTES, 1 << 20);
            rbuf.reserve(want);
        }
        let n = match read_some(server, client, &mut shutdown, &stream, &mut rbuf).await? {
            ReadOutcome::Data(n) => n,
            ReadOutcome::Mail => {
                deliver_mail(server, client, &mut stream, &mut wbuf).await?;
                continue;
            }
            ReadOutcome::Closed => return Ok(()),
        };
        if client.shared.is_killed() {
            return Ok(());
        }
        stats.total_reads_processed.fetch_add(1, Ordering::Relaxed);
        stats
            .total_net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        decoder.set_limits(decode_limits(server));
        let mut commands = 0u64;
        let mut errors = 0u64;
        let mut close = false;
        let mut now = Now::system();
        loop {
            match decoder.decode_into(&mut rbuf, &mut args) {
                Ok(true) => {
                    commands += 1;
                    let skip = std::mem::take(&mut client.reply_skip_next);
                    let mut frame = server.execute_at(client, &args, now);
                    if let Some(w) = client.parked.take() {
                        flush(server, client, &mut stream, &mut wbuf).await?;
                        match wait_parked(server, client, &stream, &mut rbuf, &w, &mut shutdown)
                            .await?
                        {
                            Some(f) => {
                                frame = f;
                                // Served by another connection's write: its propagation is
                                // somewhere in the log fed so far.
                                client.aof_seq = server.aof.fed();
                            }
                            None => return Ok(()),
                        }
                        now = Now::system();
                    }
                    let suppressed =
                        std::mem::take(&mut client.reply_skip_this) || skip || client.reply_off;
                    if matches!(frame, Frame::Error(_)) {
                        errors += 1;
                    }
                    if client.shared.mailbox.has_pending() {
                        // Messages published before (or by) this command precede its reply.
                        while client
                            .shared
                            .mailbox
                            .drain_into(&mut wbuf, FLUSH_THRESHOLD_BYTES)
                        {
                            flush(server, client, &mut stream, &mut wbuf).await?;
                        }
                    }
                    for f in client.pending_frames.drain(..) {
                        if !suppressed {
                            encode(&f, client.protocol, &mut wbuf);
                        }
                    }
                    if !suppressed {
                        encode(&frame, client.protocol, &mut wbuf);
                    }
                    if client.close_after_reply {
                        close = true;
                        break;
                    }
                    if wbuf.len() >= FLUSH_THRESHOLD_BYTES {
                        flush(server, client, &mut stream, &mut wbuf).await?;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    errors += 1;
                    encode(&e.to_frame(), client.protocol, &mut wbuf);
                    tracing::debug!("Protocol error from client id={}: {e}", client.id);
                    close = true;
                    break;
                }
            }
        }
        stats
            .total_commands_processed
            .fetch_add(commands, Ordering::Relaxed);
        if errors > 0 {
            stats
                .total_error_replies
                .fetch_add(errors, Ordering::Relaxed);
        }
        client.shared.qbuf.store(rbuf.len(), Ordering::Relaxed);
        flush(server, client, &mut stream, &mut wbuf).await?;
        if close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
        if rbuf.is_empty() && rbuf.capacity() > 4 * READ_CHUNK_BYTES {
            // A big request went through: give the memory back.
            rbuf = BytesMut::with_capacity(READ_CHUNK_BYTES);
        }
    }
}

/// Writes what other connections queued for this one, a chunk at a time.
async fn deliver_mail<S: AsyncWrite + Unpin>(
    server: &Server,
    client: &Client,
    stream: &mut S,
    wbuf: &mut BytesMut,
) -> io::Result<()> {
    loop {
        let more = client
            .shared
            .mailbox
            .drain_into(wbuf, FLUSH_THRESHOLD_BYTES);
        flush(server, client, stream, wbuf).await?;
        if !more {
            return Ok(());
        }
    }
}

/// Waits for a parked client's reply: served by a writer, CLIENT UNBLOCK, or its deadline.
/// Keeps reading the socket meanwhile (pipelined requests stay buffered in `rbuf`), so a
/// client that hangs up is noticed; returns `None` when the connection must close.
async fn wait_parked<S: ClientSocket>(
    server: &Server,
    client: &Client,
    stream: &S,
    rbuf: &mut BytesMut,
    w: &Arc<crate::blocking::Waiter>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> io::Result<Option<Frame>> {
    use crate::blocking::Finish;
    let deadline = w.deadline_ms().map(|ms| {
        let left = ms.saturating_sub(ferrodis_keyspace::clock::unix_ms());
        tokio::time::Instant::now() + Duration::from_millis(left)
    });
    if client.shared.is_killed() {
        // Killed before this wait began (its wake-up may have gone to an earlier select).
        let _ = server.blocking.finish(w, true);
        return Ok(None);
    }
    let mut closing = false;
    loop {
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let give_up = tokio::select! {
            _ = w.notify.notified() => false,
            _ = sleep => true,
            _ = client.shared.kill_notify.notified() => { closing = true; true }
            _ = shutdown.wait_for(|v| *v) => { closing = true; true }
            r = stream.readable() => {
                if r.is_err() {
                    closing = true;
                } else {
                    if rbuf.capacity() - rbuf.len() < READ_CHUNK_BYTES / 4 {
                        rbuf.reserve(READ_CHUNK_BYTES);
                    }
                    match stream.try_read_buf(rbuf) {
                        Ok(0) => closing = true,
                        Ok(n) => {
                            server.stats.total_net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(_) => closing = true,
                    }
                }
                closing
            }
        };
        match server.blocking.finish(w, give_up) {
            Finish::Reply(f) if !closing => return Ok(Some(f)),
            Finish::Reply(_) => return Ok(None),
            Finish::Waiting => {}
        }
    }
}

async fn flush<S: AsyncWrite + Unpin>(
    server: &Server,
    client: &Client,
    stream: &mut S,
    wbuf: &mut BytesMut,
) -> io::Result<()> {
    if wbuf.is_empty() {
        return Ok(());
    }
    // Replies go out only once the writes they acknowledge are in the AOF as `appendfsync`
    // promises (Redis writes the AOF buffer before replies in beforeSleep).
    server.aof.ensure_durable(client.aof_seq);
    client.shared.obuf.store(wbuf.len(), Ordering::Relaxed);
    // Output being written does not count against maxmemory (released on every exit path).
    let _hold = crate::mailbox::OutputHold::new(wbuf.len());
    // A client that does not read must not pin this task: a kill (CLIENT KILL, output buffer
    // limit, shutdown) abandons the write.
    tokio::select! {
        biased;
        r = stream.write_all(wbuf) => r?,
        _ = client.shared.kill_notify.notified() => {
            return Err(io::Error::other("client killed while writing"));
        }
    }
    server
        .stats
        .total_net_output_bytes
        .fetch_add(wbuf.len() as u64, Ordering::Relaxed);
    server
        .stats
        .total_writes_processed
        .fetch_add(1, Ordering::Relaxed);
    client.shared.obuf.store(0, Ordering::Relaxed);
    wbuf.clear();
    if wbuf.capacity() > 4 * FLUSH_THRESHOLD_BYTES {
        *wbuf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    }
    Ok(())
}

/// Runs one command for an in-process client (the embedding API): the same dispatch path as a
/// socket client, without a socket.
pub fn execute_local(server: &Server, client: &mut Client, args: &[bytes::Bytes]) -> Frame {
    server
        .stats
        .total_commands_processed
        .fetch_add(1, Ordering::Relaxed);
    let frame = server.execute(client, args);
    // Only the last reply reaches an in-process caller (SUBSCRIBE a b answers once per channel).
    client.pending_frames.clear();
    // The reply acknowledges the write: durable as `appendfsync` promises first.
    server.aof.ensure_durable(client.aof_seq);
    frame
}
