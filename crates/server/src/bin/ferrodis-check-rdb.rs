//! `ferrodis-check-rdb <file>`: checks an RDB file with the server's own loader, like
//! `redis-check-rdb`: prints each aux field and db switch with its offset, `Checksum OK` and
//! `\o/ RDB looks OK! \o/` and the key counts, and exits 0; on an error prints
//! `--- RDB ERROR DETECTED ---` and `[offset N] <error>` and exits 1.
//!
//! Exit codes (as `redis-check-rdb`): 0 the file loads, 1 it does not, cannot be opened, or the
//! arguments are wrong.

use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[path = "check/rdb.rs"]
mod rdb;

/// Check an RDB file (a SAVE/BGSAVE dump or an AOF base) without starting a server.
#[derive(Parser)]
#[command(name = "ferrodis-check-rdb", version)]
struct Cli {
    /// The RDB file.
    file: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        // Usage errors exit 1 like redis-check-rdb; --help and --version exit 0.
        std::process::exit(i32::from(e.use_stderr()))
    });
    let name = cli.file.display().to_string();
    let file = match File::open(&cli.file) {
        Ok(f) => f,
        Err(e) => {
            println!("[offset 0] Checking RDB file {name}");
            println!("Cannot open file {name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut decoder = rdb::decoder(file);
    match rdb::check(&mut decoder, &name) {
        Ok(_) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
