//! Declares Herald's exchanges and queues (SPEC §3). Idempotent: declaring
//! again with the same settings changes nothing.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

use crate::settings::AmqpSettings;

/// The dead-letter queue's delivery limit: never reached in practice.
pub const DEAD_QUEUE_DELIVERY_LIMIT: i32 = 1_000_000_000;

/// The names of the retry queue of each tier, e.g. `herald.retry.10s`.
pub fn retry_queue_names(settings: &AmqpSettings, tiers: &[Duration]) -> Vec<String> {
    tiers
        .iter()
        .map(|tier| retry_queue_name(settings, &tier_label(*tier)))
        .collect()
}

/// The retry queue of the tier labelled `label` (see [`tier_label`]).
pub fn retry_queue_name(settings: &AmqpSettings, label: &str) -> String {
    format!("{}.{label}", settings.retry_queue_prefix)
}

/// A short label of a tier delay: `10s`, `1m`, `1h30m`, `500ms`.
pub fn tier_label(delay: Duration) -> String {
    humantime::format_duration(delay)
        .to_string()
        .replace(' ', "")
}

/// Declares every exchange, queue and binding.
pub async fn declare(
    channel: &Channel,
    settings: &AmqpSettings,
    tiers: &[Duration],
) -> Result<(), lapin::Error> {
    let s = settings;
    exchange(channel, &s.jobs_exchange, ExchangeKind::Direct).await?;
    exchange(channel, &s.dead_letter_exchange, ExchangeKind::Fanout).await?;
    exchange(channel, &s.events_exchange, ExchangeKind::Topic).await?;

    let mut jobs = quorum_args();
    dead_letters_to(&mut jobs, &s.dead_letter_exchange, None);
    jobs.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongInt(s.delivery_limit as i32),
    );
    queue(channel, &s.jobs_queue, jobs).await?;
    bind(channel, &s.jobs_queue, &s.jobs_exchange, &s.routing_key).await?;

    // Reading dead letters (`herald dlq list`) returns them to the queue, which
    // counts as a delivery; RabbitMQ 4 drops a quorum queue's message past 20
    // deliveries by default, so the dead-letter queue's limit is set out of reach.
    let mut dead = quorum_args();
    dead.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongInt(DEAD_QUEUE_DELIVERY_LIMIT),
    );
    queue(channel, &s.dead_queue, dead.clone()).await?;
    bind(channel, &s.dead_queue, &s.dead_letter_exchange, "").await?;
    queue(channel, &s.dead_events_queue, dead).await?;
    bind(channel, &s.dead_events_queue, &s.dead_letter_exchange, "").await?;

    for (name, tier) in retry_queue_names(s, tiers).iter().zip(tiers) {
        let mut args = quorum_args();
        dead_letters_to(&mut args, &s.jobs_exchange, Some(&s.routing_key));
        let ttl = tier.as_millis().min(i32::MAX as u128) as i32;
        args.insert("x-message-ttl".into(), AMQPValue::LongInt(ttl));
        queue(channel, name, args).await?;
    }
    Ok(())
}

fn quorum_args() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long_string("quorum"));
    args
}

/// At-least-once dead-lettering: the broker keeps a message until the target
/// queue confirmed it, so nothing is dropped between queues.
fn dead_letters_to(args: &mut FieldTable, exchange: &str, routing_key: Option<&str>) {
    args.insert("x-dead-letter-exchange".into(), long_string(exchange));
    if let Some(key) = routing_key {
        args.insert("x-dead-letter-routing-key".into(), long_string(key));
    }
    args.insert(
        "x-dead-letter-strategy".into(),
        long_string("at-least-once"),
    );
    args.insert("x-overflow".into(), long_string("reject-publish"));
}

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

async fn exchange(channel: &Channel, name: &str, kind: ExchangeKind) -> Result<(), lapin::Error> {
    let options = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            ShortString::from(name),
            kind,
            options,
            FieldTable::default(),
        )
        .await
}

async fn queue(channel: &Channel, name: &str, args: FieldTable) -> Result<(), lapin::Error> {
    channel
        .queue_declare(
            ShortString::from(name),
            QueueDeclareOptions::durable(),
            args,
        )
        .await
        .map(drop)
}

async fn bind(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    key: &str,
) -> Result<(), lapin::Error> {
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_labels_are_short_and_stable() {
        let labels: Vec<String> = [10, 60, 300, 5400]
            .map(Duration::from_secs)
            .into_iter()
            .map(tier_label)
            .collect();
        assert_eq!(labels, ["10s", "1m", "5m", "1h30m"]);
        assert_eq!(tier_label(Duration::from_millis(500)), "500ms");
    }
}
