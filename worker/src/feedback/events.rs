//! Publishing feedback events, confirmed, on a connection of the feedback
//! endpoint's own: made on first use, dropped when a publish fails, and made
//! again by the next request. A request never waits on a broker that is
//! down for longer than [`CONNECT_WAIT`].

use std::sync::Arc;
use std::time::Duration;

use herald_shared::Event;
use tokio::sync::Mutex;

use crate::amqp::{self, topology, Publisher};
use crate::settings::Settings;

/// How long a request may wait for a connection before answering 503.
const CONNECT_WAIT: Duration = Duration::from_secs(5);

pub struct EventSink {
    settings: Arc<Settings>,
    /// The live publisher and the generation it belongs to.
    current: Mutex<Option<(u64, Publisher, lapin::Connection)>>,
    generation: std::sync::atomic::AtomicU64,
}

impl EventSink {
    pub fn new(settings: Arc<Settings>) -> EventSink {
        EventSink {
            settings,
            current: Mutex::new(None),
            generation: Default::default(),
        }
    }

    /// Publishes `event` and waits for the broker's confirm.
    pub async fn publish(&self, event: &Event) -> Result<(), String> {
        let (generation, publisher) = self.publisher().await?;
        match publisher.publish_event(event).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let mut current = self.current.lock().await;
                if current.as_ref().is_some_and(|(g, _, _)| *g == generation) {
                    if let Some((_, _, connection)) = current.take() {
                        let _ = connection.close(320, "publish failed".into()).await;
                    }
                }
                Err(e.to_string())
            }
        }
    }

    async fn publisher(&self) -> Result<(u64, Publisher), String> {
        let mut current = self.current.lock().await;
        if let Some((g, p, c)) = current.as_ref() {
            if c.status().connected() {
                return Ok((*g, p.clone()));
            }
        }
        let (connection, publisher) =
            tokio::time::timeout(CONNECT_WAIT, self.connect())
                .await
                .map_err(|_| "RabbitMQ did not answer in time".to_owned())??;
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *current = Some((generation, publisher.clone(), connection));
        Ok((generation, publisher))
    }

    async fn connect(&self) -> Result<(lapin::Connection, Publisher), String> {
        let amqp = &self.settings.amqp;
        let connection = amqp::connect_as(amqp, "herald-feedback")
            .await
            .map_err(|e| e.to_string())?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| amqp::describe(&e))?;
        topology::declare(&channel, amqp, &self.settings.retry.tiers)
            .await
            .map_err(|e| e.to_string())?;
        let _ = channel.close(200, "declared".into()).await;
        let publisher = Publisher::open(&connection, &amqp.events_exchange)
            .await
            .map_err(|e| amqp::describe(&e))?;
        Ok((connection, publisher))
    }
}
