//! Embeds a Ferrodis server in a program: starts it on an ephemeral loopback port, uses it
//! in-process, then talks to it over a plain TCP socket like any Redis client would, and shuts
//! it down.
//!
//! ```text
//! cargo run -p ferrodis --example embed
//! ```

use std::error::Error;
use std::net::SocketAddr;

use bytes::BytesMut;
use ferrodis::{Config, Ferrodis, Frame};
use ferrodis_resp::decode_frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    let server = Ferrodis::start_on(Config::default(), addr).await?;
    let addr = server
        .local_addr()
        .ok_or("the server has no TCP listener")?;
    println!("embedded server listening on {addr}");

    // In-process: no socket, same command path as network clients.
    let mut local = server.client();
    let reply = local.run(["SET", "greeting", "hello from the host program"]);
    println!("in-process SET greeting -> {reply:?}");
    let reply = local.run(["GET", "greeting"]);
    println!("in-process GET greeting -> {reply:?}");

    // Over TCP, speaking RESP by hand: it is a real server.
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n")
        .await?;
    let mut buf = BytesMut::new();
    let mut replies = Vec::new();
    while replies.len() < 2 {
        while let Some(frame) = decode_frame(&mut buf)? {
            replies.push(frame);
        }
        if replies.len() < 2 && stream.read_buf(&mut buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
    }
    println!("over TCP PING -> {:?}", replies[0]);
    println!("over TCP GET greeting -> {:?}", replies[1]);
    if replies[1] != Frame::Bulk("hello from the host program".into()) {
        return Err("the TCP client did not see the in-process write".into());
    }

    server.shutdown().await;
    let closed = stream.read_buf(&mut buf).await.map_or(true, |n| n == 0);
    println!("server shut down; TCP connection closed: {closed}");
    Ok(())
}
