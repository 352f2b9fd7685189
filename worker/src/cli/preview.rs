//! `herald preview`: a local web page showing every workflow in every
//! environment, rendered with its sample job; it reloads on change.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::commands::shutdown_signal;
use super::CliError;
use crate::preview::server::{self, Shared};
use crate::preview::state::Preview;
use crate::preview::watch;

/// Serves the preview on `listen` until SIGTERM or Ctrl-C.
pub async fn run(config: Option<&Path>, listen: &str, jobs: &[PathBuf]) -> Result<(), CliError> {
    let config = config
        .map(Path::to_path_buf)
        .or_else(crate::settings::default_config_path);
    let preview = Preview::build(config.as_deref(), jobs).await;
    for problem in &preview.problems {
        eprintln!("warning: {problem}");
    }
    let shared = Shared::new(preview);
    let _watcher = watch::spawn(shared.clone(), config, jobs.to_vec())
        .context("cannot watch the template files")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
        .map_err(CliError::usage)?;
    let address = listener.local_addr()?;
    println!("Herald preview on http://{address}/ (Ctrl-C stops it)");
    axum::serve(listener, server::router(shared))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}
