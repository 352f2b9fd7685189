//! The `herald` command line.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use herald_worker::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    herald_worker::logging::init(cli.log_format, cli.command.default_log_level());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {:#}", e.error);
            ExitCode::from(e.exit_code)
        }
    }
}
