//! `bench-broker`: message-broker workloads, Ferrodis vs the reference `redis-server` in the
//! same run (the patterns of job queues and pub/sub users, which `redis-benchmark` has no test
//! for):
//!
//! - **PUBLISH fan-out**: 50 subscribers on one channel, one publisher pipelining PUBLISH in
//!   batches; messages delivered per second (publishes × subscribers / time until every
//!   subscriber has every message).
//! - **BLPOP/LPUSH ping-pong**: two clients bounce one element between two lists, each blocked
//!   in BLPOP while the other pushes; round-trip latency, median and p99 (one round trip = two
//!   wake-ups of a blocked client).
//! - **MULTI/EXEC of 10 SETs**: `-c` connections each sending MULTI, 10 SETs and EXEC and waiting
//!   for the 12 replies; transactions per second.
//!
//! Each workload runs `--rounds` times per server, alternating which server goes first; the
//! median is reported. With `--write FILE` the table replaces the `bench-broker` section.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use clap::Parser;
use ferrodis_benches::{cpu_model, encode_command, finish, free_port, redis_version, start};
use ferrodis_resp::{decode_frame, Frame};

const SECTION: &str = "bench-broker";

#[derive(Parser, Debug)]
#[command(
    about = "Broker workloads (pub/sub fan-out, BLPOP ping-pong, MULTI/EXEC): Ferrodis vs Redis"
)]
struct Args {
    /// Path of the ferrodis-server binary.
    #[arg(long, default_value = "target/release/ferrodis-server")]
    ferrodis: PathBuf,
    /// Path of the reference redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis: String,
    /// Subscribers in the fan-out test.
    #[arg(long, default_value_t = 50)]
    subscribers: usize,
    /// Messages published in the fan-out test.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Round trips in the ping-pong test.
    #[arg(long, default_value_t = 20_000)]
    round_trips: usize,
    /// Connections in the MULTI/EXEC test.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Transactions per connection in the MULTI/EXEC test.
    #[arg(long, default_value_t = 2_000)]
    transactions: usize,
    /// Rounds; the median is reported.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Markdown file whose bench-broker section is replaced with the results.
    #[arg(long)]
    write: Option<PathBuf>,
}

/// A minimal RESP client reading whole frames.
struct Client {
    s: TcpStream,
    buf: BytesMut,
}

impl Client {
    fn connect(port: u16) -> Result<Client, String> {
        let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        Ok(Client {
            s,
            buf: BytesMut::with_capacity(1 << 16),
        })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.s.write_all(bytes).map_err(|e| e.to_string())
    }

    fn read(&mut self) -> Result<Frame, String> {
        loop {
            if let Some(f) = decode_frame(&mut self.buf).map_err(|e| e.to_string())? {
                if let Frame::Error(e) = &f {
                    return Err(format!("error reply: {}", String::from_utf8_lossy(e)));
                }
                return Ok(f);
            }
            let mut chunk = [0u8; 1 << 16];
            let n = self.s.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Result<Frame, String> {
        let mut req = Vec::new();
        encode_command(&mut req, args);
        self.send(&req)?;
        self.read()
    }
}

/// Messages delivered per second with `subs` subscribers and one pipelining publisher.
fn fan_out(port: u16, subs: usize, messages: usize) -> Result<f64, String> {
    let mut readers = Vec::new();
    for _ in 0..subs {
        let mut c = Client::connect(port)?;
        c.call(&[b"SUBSCRIBE", b"bench"])?;
        readers.push(std::thread::spawn(move || -> Result<(), String> {
            for _ in 0..messages {
                c.read()?;
            }
            Ok(())
        }));
    }
    let mut publisher = Client::connect(port)?;
    let mut batch = Vec::new();
    const BATCH: usize = 64;
    for _ in 0..BATCH {
        encode_command(
            &mut batch,
            &[b"PUBLISH", b"bench", b"0123456789abcdef0123456789"],
        );
    }
    let start = Instant::now();
    let mut sent = 0;
    while sent < messages {
        let n = BATCH.min(messages - sent);
        if n == BATCH {
            publisher.send(&batch)?;
        } else {
            let mut last = Vec::new();
            for _ in 0..n {
                encode_command(
                    &mut last,
                    &[b"PUBLISH", b"bench", b"0123456789abcdef0123456789"],
                );
            }
            publisher.send(&last)?;
        }
        for _ in 0..n {
            publisher.read()?;
        }
        sent += n;
    }
    for r in readers {
        r.join().map_err(|_| "subscriber panicked".to_string())??;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((messages * subs) as f64 / secs)
}

/// Round-trip latencies (microseconds) of bouncing one element between two BLPOPing clients.
fn ping_pong(port: u16, trips: usize) -> Result<Vec<f64>, String> {
    let mut a = Client::connect(port)?;
    let mut b = Client::connect(port)?;
    a.call(&[b"DEL", b"bench:q1", b"bench:q2"])?;
    let echo = std::thread::spawn(move || -> Result<(), String> {
        for _ in 0..trips {
            a.call(&[b"BLPOP", b"bench:q1", b"0"])?;
            a.call(&[b"LPUSH", b"bench:q2", b"x"])?;
        }
        Ok(())
    });
    let mut lat = Vec::with_capacity(trips);
    for _ in 0..trips {
        let t = Instant::now();
        b.call(&[b"LPUSH", b"bench:q1", b"x"])?;
        b.call(&[b"BLPOP", b"bench:q2", b"0"])?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    echo.join()
        .map_err(|_| "echo client panicked".to_string())??;
    Ok(lat)
}

/// Transactions per second: `clients` connections each running MULTI, 10 SETs, EXEC.
fn multi_exec(port: u16, clients: usize, per_client: usize) -> Result<f64, String> {
    let mut workers = Vec::new();
    let start = Instant::now();
    for id in 0..clients {
        let mut c = Client::connect(port)?;
        workers.push(std::thread::spawn(move || -> Result<(), String> {
            let mut req = Vec::new();
            encode_command(&mut req, &[b"MULTI"]);
            for k in 0..10 {
                let key = format!("bench:tx:{id}:{k}");
                encode_command(&mut req, &[b"SET", key.as_bytes(), b"value"]);
            }
            encode_command(&mut req, &[b"EXEC"]);
            for _ in 0..per_client {
                c.send(&req)?;
                for _ in 0..11 {
                    c.read()?;
                }
                match c.read()? {
                    Frame::Array(r) if r.len() == 10 => {}
                    other => return Err(format!("unexpected EXEC reply {other:?}")),
                }
            }
            Ok(())
        }));
    }
    for w in workers {
        w.join().map_err(|_| "client panicked".to_string())??;
    }
    Ok((clients * per_client) as f64 / start.elapsed().as_secs_f64())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

#[derive(Default)]
struct Samples {
    fan_out: Vec<f64>,
    pp_median: Vec<f64>,
    pp_p99: Vec<f64>,
    tx: Vec<f64>,
}

fn measure(port: u16, a: &Args, s: &mut Samples) -> Result<(), String> {
    s.fan_out.push(fan_out(port, a.subscribers, a.messages)?);
    let mut lat = ping_pong(port, a.round_trips)?;
    s.pp_median.push(percentile(&mut lat, 0.5));
    s.pp_p99.push(percentile(&mut lat, 0.99));
    s.tx.push(multi_exec(port, a.clients, a.transactions)?);
    Ok(())
}

fn run(a: &Args) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (fport, rport) = (
        free_port().map_err(|e| e.to_string())?,
        free_port().map_err(|e| e.to_string())?,
    );
    let _f = start(&a.ferrodis.display().to_string(), fport, dir.path())?;
    let _r = start(&a.redis, rport, dir.path())?;
    let (mut f, mut r) = (Samples::default(), Samples::default());
    for round in 0..a.rounds {
        let first_ferrodis = round % 2 == 0;
        for is_ferrodis in [first_ferrodis, !first_ferrodis] {
            eprintln!(
                "round {} {}",
                round + 1,
                if is_ferrodis { "ferrodis" } else { "redis" }
            );
            if is_ferrodis {
                measure(fport, a, &mut f)?;
            } else {
                measure(rport, a, &mut r)?;
            }
        }
    }
    let mut md = String::new();
    let _ = writeln!(md, "## Broker workloads: Ferrodis vs Redis\n");
    let _ = writeln!(
        md,
        "Machine: {} cores, {}. Reference: {}. Both servers on 127.0.0.1 in the same run, \
         sharing the cores with the client threads; {} rounds alternating which server goes \
         first, median. Produced by `make bench-compare` (`bench-broker`).\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        redis_version(&a.redis),
        a.rounds
    );
    let _ = writeln!(md, "| workload | unit | Ferrodis | Redis | ratio |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|");
    let mut row = |name: &str, unit: &str, fv: f64, rv: f64, higher_better: bool| {
        let ratio = if higher_better { fv / rv } else { rv / fv };
        let _ = writeln!(md, "| {name} | {unit} | {fv:.0} | {rv:.0} | {ratio:.2} |");
    };
    row(
        &format!(
            "PUBLISH fan-out, 1 publisher → {} subscribers, {} messages",
            a.subscribers, a.messages
        ),
        "deliveries/s",
        median(&mut f.fan_out),
        median(&mut r.fan_out),
        true,
    );
    row(
        "BLPOP/LPUSH ping-pong, round trip median",
        "µs",
        median(&mut f.pp_median),
        median(&mut r.pp_median),
        false,
    );
    row(
        "BLPOP/LPUSH ping-pong, round trip p99",
        "µs",
        median(&mut f.pp_p99),
        median(&mut r.pp_p99),
        false,
    );
    row(
        &format!("MULTI + 10 SET + EXEC, {} connections", a.clients),
        "transactions/s",
        median(&mut f.tx),
        median(&mut r.tx),
        true,
    );
    let _ = writeln!(
        md,
        "\nRatio is Ferrodis/Redis for throughput and Redis/Ferrodis for latency, so above 1.00 \
         always means Ferrodis did better."
    );
    Ok(md)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    finish("bench-broker", run(&args), args.write.as_deref(), SECTION)
}
