//! One pass over the messages a queue holds when the pass starts, with
//! manual acks, whatever the queue's size.
//!
//! Letters the pass leaves alone stay unacknowledged until it closes, and
//! then go back to the queue, in their place. A consumer stops receiving
//! once its prefetch window is full of such letters, so when the window
//! fills the pass opens a fresh channel and consumer: the held letters stay
//! held and the next ones arrive. At the end the channels close one after
//! the other, in the order they were opened.
//!
//! The letters of one consumer return to the head of the queue in their
//! order; those of several consumers (past 65,535 letters) return whole but
//! may come back rotated. A `basic.nack` with requeue would put each letter
//! at the back of the quorum queue instead.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, Consumer};

/// Letters each consumer of a pass may hold unacknowledged: as many as
/// AMQP allows, because only the letters of one consumer are sure to return
/// in their order (see the module's doc).
const WINDOW: u16 = u16::MAX;

/// How long to wait for the next message before deciding the queue ran dry
/// (another consumer took the rest).
const IDLE: Duration = Duration::from_secs(5);

/// Why a pass ended before it saw every letter it set out to see.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{}", crate::amqp::describe(.0))]
    Amqp(#[from] lapin::Error),
    #[error("no letter arrived for {idle}s although {0} more were expected (another consumer may have taken them)", idle = IDLE.as_secs())]
    RanDry(u32),
    #[error("the broker cancelled the scan's consumer")]
    Cancelled,
}

/// A pass over the first `count` messages of a queue.
pub struct Scan {
    /// Letters each consumer may hold.
    window: u16,
    queue: String,
    channel: Channel,
    consumer: Consumer,
    /// Earlier channels, whose windows are full, with their consumers (kept
    /// so that nothing is cancelled while their letters are held).
    full: Vec<(Channel, Consumer)>,
    /// Letters the current consumer holds unacknowledged.
    held: u16,
    remaining: u32,
}

impl Scan {
    /// Starts a pass over at most `count` messages of `queue`.
    pub async fn open(connection: &Connection, queue: &str, count: u32) -> Result<Scan, ScanError> {
        Scan::with_window(connection, queue, count, WINDOW).await
    }

    /// [`Scan::open`] with `window` letters per consumer (tests use small
    /// windows to reach the consumer change without 65,535 letters).
    pub async fn with_window(
        connection: &Connection,
        queue: &str,
        count: u32,
        window: u16,
    ) -> Result<Scan, ScanError> {
        let (channel, consumer) = consume(connection, queue, window).await?;
        Ok(Scan {
            window,
            queue: queue.to_owned(),
            channel,
            consumer,
            full: Vec::new(),
            held: 0,
            remaining: count,
        })
    }

    /// The next message of the pass, or `None` once it saw `count` of them;
    /// `connection` is the one the pass was opened on.
    pub async fn next(&mut self, connection: &Connection) -> Result<Option<Delivery>, ScanError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        if self.held >= self.window {
            let (channel, consumer) = consume(connection, &self.queue, self.window).await?;
            let channel = std::mem::replace(&mut self.channel, channel);
            let consumer = std::mem::replace(&mut self.consumer, consumer);
            self.full.push((channel, consumer));
            self.held = 0;
        }
        match tokio::time::timeout(IDLE, self.consumer.next()).await {
            Ok(Some(delivery)) => {
                self.remaining -= 1;
                Ok(Some(delivery?))
            }
            Ok(None) => Err(ScanError::Cancelled),
            Err(_) => Err(ScanError::RanDry(self.remaining)),
        }
    }

    /// Leaves a message in the queue (it returns when the pass closes).
    pub fn keep(&mut self, delivery: Delivery) {
        drop(delivery);
        self.held += 1;
    }

    /// Ends the pass; kept messages go back to the queue. The broker puts
    /// them back asynchronously, so this waits (a few seconds at most) until
    /// the queue holds at least `expect_ready` messages again, so that the
    /// next command sees every letter.
    pub async fn close(self, connection: &Connection, expect_ready: u32) {
        let last = (self.channel, self.consumer);
        for (channel, _consumer) in self.full.into_iter().chain([last]) {
            let _ = channel.close(200, "scan done".into()).await;
        }
        let deadline = tokio::time::Instant::now() + IDLE;
        while tokio::time::Instant::now() < deadline {
            match ready(connection, &self.queue).await {
                Ok(n) if n < expect_ready => tokio::time::sleep(Duration::from_millis(20)).await,
                _ => return,
            }
        }
    }
}

/// A channel with a window of `window` letters, consuming `queue`.
async fn consume(
    connection: &Connection,
    queue: &str,
    window: u16,
) -> Result<(Channel, Consumer), lapin::Error> {
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(window, BasicQosOptions::default())
        .await?;
    let consumer = channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok((channel, consumer))
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
