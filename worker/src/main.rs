//! The `herald` command line.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use herald_worker::cli::{self, Cli};

/// Every job allocates a few hundred small objects; mimalloc serves them with
/// less CPU than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = herald_worker::logging::init(cli.log_format, cli.command.default_log_level());
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("HERALD_WORKER_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        builder.worker_threads(n);
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(cli::run(cli));
    // The lines still waiting go out before the closing error.
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", herald_worker::logging::chain(&e.error));
            ExitCode::from(e.exit_code)
        }
    }
}
