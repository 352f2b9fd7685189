//! A bounded pass over a queue's current messages, with manual acks.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, Consumer};

/// Letters not acknowledged during the scan return to the queue, in their
/// order, when the scan's channel closes.
pub struct Scan {
    channel: Channel,
    consumer: Consumer,
    remaining: u32,
    kept: Vec<Delivery>,
}

/// How long to wait for the next message before deciding the queue ran dry
/// (another consumer took the rest).
const IDLE: Duration = Duration::from_secs(5);

impl Scan {
    /// Starts a pass over at most `count` messages of `queue`.
    pub async fn open(
        connection: &Connection,
        queue: &str,
        count: u32,
    ) -> Result<Scan, lapin::Error> {
        let channel = connection.create_channel().await?;
        let prefetch = u16::try_from(count.clamp(1, 1000)).unwrap_or(1000);
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await?;
        let consumer = channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Scan {
            channel,
            consumer,
            remaining: count,
            kept: Vec::new(),
        })
    }

    /// The next message of the pass, or `None` once it is over.
    pub async fn next(&mut self) -> Result<Option<Delivery>, lapin::Error> {
        if self.remaining == 0 {
            return Ok(None);
        }
        if self.kept.len() >= 1000 {
            // The prefetch window is full of kept letters: widen it so the pass goes on.
            let window = u16::try_from(self.kept.len() + 1000).unwrap_or(u16::MAX);
            self.channel
                .basic_qos(window, BasicQosOptions::default())
                .await?;
        }
        match tokio::time::timeout(IDLE, self.consumer.next()).await {
            Ok(Some(delivery)) => {
                self.remaining -= 1;
                delivery.map(Some)
            }
            Ok(None) | Err(_) => Ok(None),
        }
    }

    /// Leaves a message in the queue (it returns when the scan closes).
    pub fn keep(&mut self, delivery: Delivery) {
        self.kept.push(delivery);
    }

    /// Ends the pass; kept messages go back to the queue. The broker puts
    /// them back asynchronously, so this waits (a few seconds at most) until
    /// the queue holds at least `expect_ready` messages again, so that the
    /// next command sees every letter.
    pub async fn close(self, connection: &Connection, queue: &str, expect_ready: u32) {
        let _ = self.channel.close(200, "scan done".into()).await;
        let deadline = tokio::time::Instant::now() + IDLE;
        while tokio::time::Instant::now() < deadline {
            match ready(connection, queue).await {
                Ok(n) if n < expect_ready => tokio::time::sleep(Duration::from_millis(20)).await,
                _ => return,
            }
        }
    }
}

/// Messages ready for delivery in `queue`.
pub async fn ready(connection: &Connection, queue: &str) -> Result<u32, lapin::Error> {
    let channel = connection.create_channel().await?;
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions::durable().passive(),
            FieldTable::default(),
        )
        .await?;
    let _ = channel.close(200, "counted".into()).await;
    Ok(declared.message_count())
}

impl Scan {}
