//! A small producer: publishes jobs to the jobs exchange and waits for the
//! broker's confirm, so a returned `Ok` means the job is durable.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

use crate::job::Job;
use crate::topology::{JOBS_EXCHANGE, SEND_ROUTING_KEY};

/// Why a job was not accepted by the broker.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("AMQP error: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("job could not be serialised: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("broker did not accept the job (nack or unroutable)")]
    NotConfirmed,
}

/// Opens a channel on `connection` in confirm mode: the broker answers each
/// publish on it with an ack or a nack.
pub async fn confirm_channel(connection: &Connection) -> Result<Channel, lapin::Error> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}

/// Properties of a persistent JSON message with `message_id`.
pub fn json_properties(message_id: &str) -> BasicProperties {
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_message_id(message_id.into())
}

/// Publishes jobs with publisher confirms on its own channel.
pub struct Producer {
    channel: Channel,
    exchange: String,
    routing_key: String,
}

impl Producer {
    /// Opens a confirm-mode channel on an existing connection, with the
    /// default exchange and routing key.
    pub async fn new(connection: &Connection) -> Result<Producer, PublishError> {
        Ok(Producer {
            channel: confirm_channel(connection).await?,
            exchange: JOBS_EXCHANGE.to_owned(),
            routing_key: SEND_ROUTING_KEY.to_owned(),
        })
    }

    /// Connects to `url` and opens a producer on the new connection.
    pub async fn connect(url: &str) -> Result<(Connection, Producer), PublishError> {
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let producer = Producer::new(&connection).await?;
        Ok((connection, producer))
    }

    /// Publishes to another exchange and routing key than the defaults.
    pub fn with_target(mut self, exchange: &str, routing_key: &str) -> Producer {
        self.exchange = exchange.to_owned();
        self.routing_key = routing_key.to_owned();
        self
    }

    /// Publishes one job and returns once the broker confirmed it.
    pub async fn publish(&self, job: &Job) -> Result<(), PublishError> {
        self.publish_raw(&serde_json::to_vec(job)?, &job.id).await
    }

    /// Publishes a body as is (for bodies read from files), with `message_id`
    /// as the AMQP message id.
    pub async fn publish_raw(&self, body: &[u8], message_id: &str) -> Result<(), PublishError> {
        let properties = json_properties(message_id);
        let confirm = self
            .channel
            .basic_publish(
                self.exchange.as_str().into(),
                self.routing_key.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                properties,
            )
            .await?
            .await?;
        if confirm.is_ack() && confirm.take_message().is_none() {
            Ok(())
        } else {
            Err(PublishError::NotConfirmed)
        }
    }
}
