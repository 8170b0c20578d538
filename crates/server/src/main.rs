//! `ferrodis-server`: started exactly like `redis-server`.
//!
//! ```text
//! ferrodis-server [/path/to/redis.conf] [--directive value ...]
//! ferrodis-server - [--directive value ...]     # read the configuration from stdin
//! ```

use std::process::ExitCode;

use clap::Parser;
use ferrodis_server::config::Config;
use ferrodis_server::net::{serve, Listeners, Workers};
use ferrodis_server::{logging, Server};
use std::sync::Arc;

use ferrodis_keyspace::alloc::CountingAlloc;

/// Every allocation goes through the counting wrapper: INFO `used_memory` and `maxmemory` see
/// the allocator's live bytes (usable sizes, as Redis' zmalloc counts them). The inner
/// allocator is jemalloc, as in a default redis-server build (feature `jemalloc`, on by
/// default), else the system allocator.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: CountingAlloc<tikv_jemallocator::Jemalloc> =
    CountingAlloc(tikv_jemallocator::Jemalloc);

/// See above: the system allocator when built without the `jemalloc` feature.
#[cfg(not(feature = "jemalloc"))]
#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc(std::alloc::System);

/// A Redis-compatible server. Arguments follow redis-server: an optional config file (or `-`
/// for stdin) followed by `--directive value ...` overrides.
#[derive(Parser, Debug)]
#[command(name = "ferrodis-server", version, about, disable_version_flag = true)]
struct Cli {
    /// Print the version and exit (`-v` as redis-server, or `--version`).
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    /// `[/path/to/redis.conf | -] [--directive value ...]`, as redis-server takes them.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_args(&cli.args, &mut std::io::stdin()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("\n{e}");
            return ExitCode::from(1);
        }
    };
    let hook = match logging::init(config.loglevel(), config.logfile().as_deref()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("Can't open the log file: {e}");
            return ExitCode::from(1);
        }
    };
    config.warn_unimplemented();
    if let Err(e) = std::env::set_current_dir(config.dir()) {
        tracing::error!("Can't chdir to '{}': {e}", config.dir());
        return ExitCode::from(1);
    }
    let pidfile = config.pidfile().filter(|p| !p.is_empty());
    if let Some(p) = &pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file {p}: {e}");
        }
    }
    let workers = match Workers::start(config.io_threads()) {
        Ok(w) => Arc::new(w),
        Err(e) => {
            tracing::error!("Can't start the I/O threads: {e}");
            return ExitCode::from(1);
        }
    };
    // The main runtime runs the acceptors, signals and the cron; connections live on `workers`.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("Can't start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let conn_workers = workers.clone();
    let code = runtime.block_on(async move {
        let listeners = match Listeners::bind_from_config(&config) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::from(1);
            }
        };
        let server = Server::new(config);
        server.set_log_level_hook(hook);
        if let Err(e) = load_data(&server) {
            tracing::error!("{e}");
            tracing::error!("Fatal error loading the DB, check server logs. Exiting.");
            return ExitCode::from(1);
        }
        tokio::spawn(signals(server.clone()));
        tracing::info!(
            "Ferrodis {} started, pid={}",
            env!("CARGO_PKG_VERSION"),
            std::process::id()
        );
        for a in listeners.tcp_addrs() {
            tracing::info!("Ready to accept connections tcp on {a}");
        }
        serve(server.clone(), listeners, conn_workers).await;
        // A signal-initiated shutdown saves here (SHUTDOWN saved before replying).
        if server.prepare_for_shutdown(false, false).is_err() {
            tracing::warn!("Exiting without the final save: it failed (see above)");
        }
        server.flush_aof();
        tracing::warn!("Ferrodis is now ready to exit, bye bye...");
        ExitCode::SUCCESS
    });
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(p);
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if let Ok(w) = Arc::try_unwrap(workers) {
        w.stop();
    }
    code
}

/// Loads the data at start as Redis' `loadDataFromDisk` does: with `appendonly yes` the AOF
/// (and not the RDB file, even when there is no AOF yet), else `dbfilename`; then opens the AOF
/// for writing when it is on.
fn load_data(server: &Arc<Server>) -> Result<(), String> {
    let aof = server.with_config(|c| c.appendonly());
    if aof {
        server.load_aof_at_start()?;
        server.start_aof()?;
    } else {
        server.load_rdb_at_start()?;
    }
    Ok(())
}

async fn signals(server: Arc<Server>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("Could not install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::warn!("Received SIGTERM scheduling shutdown..."),
        _ = int.recv() => tracing::warn!("Received SIGINT scheduling shutdown..."),
    }
    server.request_shutdown();
}
