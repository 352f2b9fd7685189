//! Publishing with publisher confirms: a publish counts only once the broker
//! has acknowledged it, and a nack or an unroutable return is an error.

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection};

use herald_shared::producer::{confirm_channel, json_properties};
use herald_shared::Event;

/// Why a publish was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("AMQP error: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("the broker refused the message (nack) on {0}")]
    Nacked(String),
    #[error("no queue is bound for {0}: the message was returned")]
    Unroutable(String),
}

/// A confirm-mode channel. Clones share the channel; confirms are pipelined,
/// so many tasks can publish at once.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
    events_exchange: ShortString,
}

impl Publisher {
    /// Opens a channel in confirm mode.
    pub async fn open(
        connection: &Connection,
        events_exchange: &str,
    ) -> Result<Publisher, lapin::Error> {
        Ok(Publisher {
            channel: confirm_channel(connection).await?,
            events_exchange: events_exchange.into(),
        })
    }

    /// Publishes a status event, routing key = its type. Not mandatory: an
    /// events exchange nobody listens to is a valid deployment.
    pub async fn publish_event(&self, event: &Event) -> Result<(), PublishError> {
        let body = serde_json::to_vec(event).expect("events serialise");
        let properties = json_properties(&event.message_id).with_type(event.kind.as_str().into());
        self.publish(
            self.events_exchange.as_str(),
            event.kind.as_str(),
            &body,
            properties,
            false,
        )
        .await
    }

    /// Publishes a job body somewhere it must arrive (a retry queue, the
    /// dead-letter exchange, the jobs exchange): unroutable is an error.
    pub async fn publish_job(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        self.publish(exchange, routing_key, body, properties, true)
            .await
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
        mandatory: bool,
    ) -> Result<(), PublishError> {
        let options = BasicPublishOptions {
            mandatory,
            ..Default::default()
        };
        let confirm = self
            .channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                options,
                body,
                properties,
            )
            .await?
            .await?;
        let target = || format!("exchange {exchange:?}, routing key {routing_key:?}");
        if confirm.is_nack() {
            return Err(PublishError::Nacked(target()));
        }
        match confirm.take_message() {
            Some(_) => Err(PublishError::Unroutable(target())),
            None => Ok(()),
        }
    }
}

/// Copies headers and sets `values` over them.
pub fn with_headers(base: Option<&FieldTable>, values: &[(&str, AMQPValue)]) -> FieldTable {
    let mut headers = base.cloned().unwrap_or_default();
    for (key, value) in values {
        headers.insert((*key).into(), value.clone());
    }
    headers
}

/// A header value from a string.
pub fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}
