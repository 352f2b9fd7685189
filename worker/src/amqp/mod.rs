//! RabbitMQ: connections, the topology of SPEC §3, and confirmed publishing.

pub mod headers;
mod publisher;
pub mod topology;

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

pub use publisher::{text, with_headers, PublishError, Publisher};

use crate::settings::{redact_url, AmqpSettings};

/// Why the broker could not be reached; the URL's password is redacted.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to RabbitMQ at {url}: {source}")]
pub struct ConnectError {
    url: String,
    #[source]
    source: lapin::Error,
}

/// Connects once, for short-lived commands: no automatic recovery, and a
/// bounded wait.
pub async fn connect(settings: &AmqpSettings) -> Result<Connection, ConnectError> {
    connect_with(settings, properties("herald-cli")).await
}

/// Connects for a long-running worker: lapin reconnects and replays the
/// topology and consumers after a network failure.
pub async fn connect_recovering(settings: &AmqpSettings) -> Result<Connection, ConnectError> {
    connect_with(settings, properties("herald-worker").enable_auto_recover()).await
}

async fn connect_with(
    settings: &AmqpSettings,
    properties: ConnectionProperties,
) -> Result<Connection, ConnectError> {
    let url = settings.url.expose();
    let error = |source| ConnectError {
        url: redact_url(url),
        source,
    };
    match tokio::time::timeout(
        Duration::from_secs(30),
        Connection::connect(url, properties),
    )
    .await
    {
        Ok(result) => result.map_err(error),
        Err(_) => Err(error(lapin::Error::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connection timed out",
        )))),
    }
}

fn properties(name: &str) -> ConnectionProperties {
    ConnectionProperties::default().with_connection_name(name.into())
}
