//! RabbitMQ: connections, the topology of SPEC §3, and confirmed publishing.

mod connect;
pub mod headers;
mod publisher;
pub mod topology;

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

pub use connect::{describe, BrokerCause, ConnectError};
pub use publisher::{text, with_headers, PublishError, Publisher};

use crate::settings::AmqpSettings;

/// How long one connection attempt may take, TCP and AMQP handshake together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects once, for short-lived commands: no automatic recovery, and a
/// bounded wait.
pub async fn connect(settings: &AmqpSettings) -> Result<Connection, ConnectError> {
    connect_with(settings, properties("herald-cli")).await
}

/// Connects for a long-running worker: lapin reconnects and replays the
/// topology and consumers after a network failure. A broker that cannot be
/// reached fails the attempt at once, with its cause, so that the caller logs
/// it and retries on its own schedule.
pub async fn connect_recovering(settings: &AmqpSettings) -> Result<Connection, ConnectError> {
    // The process id in the name tells an operator (and `rabbitmqctl
    // close_connection`) which worker a connection belongs to.
    let name = format!("herald-worker {}", std::process::id());
    connect_with(settings, properties(&name).enable_auto_recover()).await
}

/// Connects once, with no automatic recovery, under `name`: for a
/// publisher that reconnects on its own when a publish fails.
pub async fn connect_as(settings: &AmqpSettings, name: &str) -> Result<Connection, ConnectError> {
    let name = format!("{name} {}", std::process::id());
    connect_with(settings, properties(&name)).await
}

async fn connect_with(
    settings: &AmqpSettings,
    properties: ConnectionProperties,
) -> Result<Connection, ConnectError> {
    let url = settings.url.expose();
    // lapin retries a refused TCP connection quietly and reports only the
    // last failure; reaching the broker first gives the real cause at once,
    // and starts no connection thread when the broker is down.
    connect::reach(url, CONNECT_TIMEOUT).await?;
    match tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, properties)).await {
        Ok(result) => result.map_err(|e| ConnectError::new(url, BrokerCause::from_lapin(&e))),
        Err(_) => Err(ConnectError::new(
            url,
            BrokerCause::TimedOut(CONNECT_TIMEOUT),
        )),
    }
}

fn properties(name: &str) -> ConnectionProperties {
    ConnectionProperties::default().with_connection_name(name.into())
}
