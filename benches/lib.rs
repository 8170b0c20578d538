//! Support shared by the comparison tools (`bench-compare`, `bench-memory`, `bench-persistence`,
//! …): starting a server binary on an ephemeral port, a minimal RESP client for loading data and
//! reading INFO, and rewriting a marked section of BENCHMARKS.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed on drop.
pub struct Proc(Child);

impl Proc {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits up to 10 s until the server on `port` answers PING.
pub fn wait_ready(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            if s.write_all(b"PING\r\n").is_ok() {
                let mut buf = [0u8; 7];
                if s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n" {
                    return Ok(());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("server on port {port} did not answer PING"))
}

/// Starts `bin` (ferrodis-server or redis-server) on `port` without persistence, logging into
/// `dir`, and waits until it answers.
pub fn start(bin: &str, port: u16, dir: &Path) -> Result<Proc, String> {
    let p = spawn(bin, port, dir, &[])?;
    wait_ready(port)?;
    Ok(p)
}

/// Spawns `bin` with the settings of [`start`] followed by `extra` command-line settings (a later
/// setting wins, e.g. `["--appendonly", "yes"]`), without waiting until it answers.
pub fn spawn(bin: &str, port: u16, dir: &Path, extra: &[&str]) -> Result<Proc, String> {
    let child = Command::new(bin)
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--save", ""])
        .args(["--appendonly", "no"])
        .args(["--protected-mode", "no"])
        .args(["--dir", &dir.display().to_string()])
        .args([
            "--logfile",
            &dir.join(format!("{port}.log")).display().to_string(),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {bin}: {e}"))?;
    Ok(Proc(child))
}

/// The CPU model from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `redis-server --version` of `bin`.
pub fn redis_version(bin: &str) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `path` with
/// `section` (appending the block when the markers are missing).
pub fn write_section(path: &Path, name: &str, section: &str) -> std::io::Result<()> {
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{begin}\n{section}{end}");
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{}{}", &old[..b], block, &old[e + end.len()..]),
        _ => format!("{old}\n{block}\n"),
    };
    std::fs::write(path, new)
}

/// A blocking RESP connection for loading data and reading replies.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// Appends `args` as a RESP multibulk request to `out`.
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Conn {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::with_capacity(1 << 16, s.try_clone()?),
            writer: s,
        })
    }

    /// Sends pre-encoded requests expecting `n` single-line replies (integers, simple strings);
    /// an error reply fails.
    pub fn pipeline(&mut self, requests: &[u8], n: usize) -> Result<(), String> {
        self.writer.write_all(requests).map_err(|e| e.to_string())?;
        let mut line = Vec::new();
        for _ in 0..n {
            line.clear();
            self.reader
                .read_until(b'\n', &mut line)
                .map_err(|e| e.to_string())?;
            if line.first() == Some(&b'-') || line.is_empty() {
                return Err(format!("error reply: {}", String::from_utf8_lossy(&line)));
            }
        }
        Ok(())
    }

    /// Sends pre-encoded requests expecting `n` bulk-string replies (GET) and returns, per
    /// request, whether it found a value (`$-1` / `_` = a miss); an error reply fails.
    pub fn pipeline_hits(&mut self, requests: &[u8], n: usize) -> Result<Vec<bool>, String> {
        self.writer.write_all(requests).map_err(|e| e.to_string())?;
        (0..n)
            .map(|_| self.read_bulk().map(|b| b.is_some()))
            .collect()
    }

    /// Reads one bulk-string reply: its bytes, or `None` for a null (`$-1`, RESP3 `_`).
    fn read_bulk(&mut self) -> Result<Option<Vec<u8>>, String> {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let text = line.trim_end();
        if text == "$-1" || text == "_" {
            return Ok(None);
        }
        let len: usize = text
            .strip_prefix('$')
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| format!("expected a bulk string, got {text:?}"))?;
        let mut body = vec![0u8; len + 2];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        body.truncate(len);
        Ok(Some(body))
    }

    /// Runs one command whose reply is a bulk string (INFO) and returns its text.
    pub fn bulk_text(&mut self, args: &[&[u8]]) -> Result<String, String> {
        let mut req = Vec::new();
        encode_command(&mut req, args);
        self.writer.write_all(&req).map_err(|e| e.to_string())?;
        let body = self
            .read_bulk()?
            .ok_or_else(|| "expected a bulk string, got a null".to_string())?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Runs one command whose reply is a single line (status or integer) and returns the line
    /// without its type byte; an error reply fails.
    pub fn line(&mut self, args: &[&[u8]]) -> Result<String, String> {
        let mut req = Vec::new();
        encode_command(&mut req, args);
        self.writer.write_all(&req).map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line.strip_prefix(['+', ':'])
            .map(|rest| rest.trim_end().to_string())
            .ok_or_else(|| format!("unexpected reply: {}", line.trim_end()))
    }

    /// Field `name` of `INFO section` as text.
    pub fn info(&mut self, section: &str, name: &str) -> Result<String, String> {
        let text = self.bulk_text(&[b"INFO", section.as_bytes()])?;
        text.lines()
            .find_map(|l| Some(l.strip_prefix(name)?.strip_prefix(':')?.trim().to_string()))
            .ok_or_else(|| format!("INFO {section} has no {name}"))
    }

    /// `INFO memory` field `name` as a number of bytes.
    pub fn info_memory(&mut self, name: &str) -> Result<u64, String> {
        self.info("memory", name)?
            .parse()
            .map_err(|_| format!("INFO memory {name} is not a number"))
    }
}

/// Prints a tool's markdown result, writes it into the `section` of `write` when given, and
/// turns errors into a message and exit code 1 (the shared `main` of the comparison tools).
pub fn finish(
    tool: &str,
    result: Result<String, String>,
    write: Option<&Path>,
    section: &str,
) -> std::process::ExitCode {
    match result {
        Ok(md) => {
            println!("{md}");
            if let Some(path) = write {
                if let Err(e) = write_section(path, section, &md) {
                    eprintln!("writing {}: {e}", path.display());
                    return std::process::ExitCode::from(1);
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{tool}: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
