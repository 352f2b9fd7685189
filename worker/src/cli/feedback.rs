//! `herald feedback`: the SNS feedback endpoint alone, with `/metrics`,
//! `/healthz` and `/readyz`, for those who scale it apart from the senders.

use std::path::Path;
use std::sync::Arc;

use super::commands::shutdown_signal;
use super::{setup, CliError};
use crate::consumer::Health;
use crate::feedback::{endpoint, Feedback};
use crate::ledger::Ledger;
use crate::metrics::Metrics;

pub async fn run(config: Option<&Path>) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    if !settings.feedback.enabled {
        return Err(CliError::usage(anyhow::anyhow!(
            "feedback.enabled is false: set it, and feedback.topic_arns, to serve the endpoint"
        )));
    }
    let listen = settings.server.listen.clone();
    let ledger = Ledger::open(&settings.idempotency)
        .await
        .map_err(|e| CliError::usage(anyhow::anyhow!("idempotency: {e}")))?;
    let metrics = Arc::new(Metrics::new());
    let feedback = Arc::new(Feedback::new(Arc::new(settings), ledger, metrics.clone()));
    let health = Arc::new(Health::default());
    health.set_ready(true);
    let router = crate::http::router(metrics, health).merge(endpoint::router(feedback));
    let server = crate::http::serve(&listen, router)
        .await
        .map_err(CliError::usage)?;
    tracing::info!(%listen, path = endpoint::PATH, "serving the SNS feedback endpoint");
    shutdown_signal().await;
    server.abort();
    Ok(())
}
