//! The depth of the dead-letter queue as the gauge `herald_dead_letters`.
//!
//! The counter `herald_dead_lettered_total` only sees letters this process
//! wrote; the broker dead-letters poison jobs by itself, and `herald dlq`
//! replays or purges them from another process. The queue's own message
//! count is the number that says whether someone has work to do, so it is
//! read from the broker: a passive declare, which changes nothing.

use std::sync::Arc;
use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::Channel;

use crate::metrics::Metrics;

/// Reads the depth of `queue` every `every` and sets `metrics.dead_letters`,
/// until the channel is closed for good. While the connection recovers, and
/// after a failed read (logged), the gauge keeps its last value.
pub async fn poll(channel: Channel, queue: String, metrics: Arc<Metrics>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let status = channel.status();
        if status.reconnecting() {
            continue;
        }
        if !status.connected() {
            tracing::debug!(queue, "dead-letter depth: channel closed, polling stops");
            return;
        }
        match depth(&channel, &queue).await {
            Ok(count) => {
                metrics.dead_letters.set(i64::from(count));
            }
            Err(error) => {
                tracing::warn!(queue, %error, "cannot read the dead-letter queue's depth");
            }
        }
    }
}

/// Messages ready in `queue`, by a passive declare.
pub async fn depth(channel: &Channel, queue: &str) -> Result<u32, lapin::Error> {
    let options = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let declared = channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await?;
    Ok(declared.message_count())
}
