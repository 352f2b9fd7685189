//! Herald's exchanges and queues (SPEC §3), described once as data
//! ([`Topology`]) and then either declared on a broker ([`declare`]) or
//! written as RabbitMQ definitions (`herald topology export`). Idempotent:
//! declaring again with the same settings changes nothing.

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

/// A short label of a tier delay: `10s`, `1m`, `1h30m`, `500ms`. The label
/// names the queue, so a changed tier is a new queue, never a conflicting TTL.
pub fn tier_label(delay: Duration) -> String {
    humantime::format_duration(delay)
        .to_string()
        .replace(' ', "")
}

/// Every exchange, queue and binding Herald needs, in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    pub exchanges: Vec<Exchange>,
    pub queues: Vec<Queue>,
    pub bindings: Vec<Binding>,
}

/// A durable exchange; `kind` is RabbitMQ's name (`direct`, `fanout`, `topic`).
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub name: String,
    pub kind: &'static str,
}

/// A durable queue and its `x-` arguments, in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    pub name: String,
    pub arguments: Vec<(&'static str, Argument)>,
}

/// A queue argument: RabbitMQ compares type and value on every declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Argument {
    Text(String),
    Int(i32),
}

/// A queue bound to an exchange with a routing key.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub exchange: String,
    pub queue: String,
    pub routing_key: String,
}

impl Topology {
    /// The topology of these settings and retry tiers.
    pub fn new(settings: &AmqpSettings, tiers: &[Duration]) -> Topology {
        let s = settings;
        let exchange = |name: &str, kind| Exchange {
            name: name.to_owned(),
            kind,
        };
        let mut jobs = quorum();
        jobs.extend(dead_letters_to(&s.dead_letter_exchange, None));
        jobs.push(("x-delivery-limit", Argument::Int(limit(s.delivery_limit))));
        // Reading dead letters (`herald dlq list`) returns them to the queue,
        // which counts as a delivery; RabbitMQ 4 drops a quorum queue's message
        // past 20 deliveries by default, so this limit is set out of reach.
        let mut dead = quorum();
        dead.push(("x-delivery-limit", Argument::Int(DEAD_QUEUE_DELIVERY_LIMIT)));
        let mut queues = vec![
            Queue {
                name: s.jobs_queue.clone(),
                arguments: jobs,
            },
            Queue {
                name: s.dead_queue.clone(),
                arguments: dead.clone(),
            },
            Queue {
                name: s.dead_events_queue.clone(),
                arguments: dead,
            },
        ];
        for (name, tier) in retry_queue_names(s, tiers).into_iter().zip(tiers) {
            let mut arguments = quorum();
            arguments.extend(dead_letters_to(&s.jobs_exchange, Some(&s.routing_key)));
            let ttl = tier.as_millis().min(i32::MAX as u128) as i32;
            arguments.push(("x-message-ttl", Argument::Int(ttl)));
            queues.push(Queue { name, arguments });
        }
        let binding = |exchange: &str, queue: &str, key: &str| Binding {
            exchange: exchange.to_owned(),
            queue: queue.to_owned(),
            routing_key: key.to_owned(),
        };
        Topology {
            exchanges: vec![
                exchange(&s.jobs_exchange, "direct"),
                exchange(&s.dead_letter_exchange, "fanout"),
                exchange(&s.events_exchange, "topic"),
            ],
            queues,
            bindings: vec![
                binding(&s.jobs_exchange, &s.jobs_queue, &s.routing_key),
                binding(&s.dead_letter_exchange, &s.dead_queue, ""),
                binding(&s.dead_letter_exchange, &s.dead_events_queue, ""),
            ],
        }
    }
}

fn limit(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn quorum() -> Vec<(&'static str, Argument)> {
    vec![("x-queue-type", Argument::Text("quorum".into()))]
}

/// At-least-once dead-lettering: the broker keeps a message until the target
/// queue confirmed it, so nothing is dropped between queues.
fn dead_letters_to(exchange: &str, routing_key: Option<&str>) -> Vec<(&'static str, Argument)> {
    let text = |v: &str| Argument::Text(v.to_owned());
    let mut args = vec![("x-dead-letter-exchange", text(exchange))];
    if let Some(key) = routing_key {
        args.push(("x-dead-letter-routing-key", text(key)));
    }
    args.push(("x-dead-letter-strategy", text("at-least-once")));
    args.push(("x-overflow", text("reject-publish")));
    args
}

/// Why the topology could not be declared.
#[derive(Debug, thiserror::Error)]
pub enum DeclareError {
    /// The queue exists with another value of an argument. Arguments cannot
    /// change in place, so the message says what to do instead.
    #[error("queue '{queue}' already exists with another {argument} ({broker}). {advice}")]
    Inequivalent {
        queue: String,
        argument: String,
        broker: String,
        advice: String,
    },
    #[error(transparent)]
    Broker(#[from] lapin::Error),
}

/// Declares every exchange, queue and binding of `settings` and `tiers`.
pub async fn declare(
    channel: &Channel,
    settings: &AmqpSettings,
    tiers: &[Duration],
) -> Result<(), DeclareError> {
    let topology = Topology::new(settings, tiers);
    for e in &topology.exchanges {
        exchange(channel, e).await?;
    }
    for q in &topology.queues {
        queue(channel, q)
            .await
            .map_err(|e| inequivalent(e, q, settings))?;
    }
    for b in &topology.bindings {
        bind(channel, b).await?;
    }
    Ok(())
}

/// Turns RabbitMQ's `PRECONDITION_FAILED - inequivalent arg` into an error
/// that names the argument and the commands that resolve it.
fn inequivalent(error: lapin::Error, queue: &Queue, settings: &AmqpSettings) -> DeclareError {
    let lapin::ErrorKind::ProtocolError(amqp) = error.kind() else {
        return error.into();
    };
    let message = amqp.get_message().to_string();
    let Some(argument) = message
        .split_once("inequivalent arg '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(arg, _)| arg.to_owned())
    else {
        return error.into();
    };
    let broker = message
        .rsplit_once(": ")
        .map_or(message.as_str(), |(_, detail)| detail)
        .to_owned();
    let advice = advice(&argument, &queue.name, settings);
    DeclareError::Inequivalent {
        queue: queue.name.clone(),
        argument,
        broker,
        advice,
    }
}

fn advice(argument: &str, queue: &str, settings: &AmqpSettings) -> String {
    let pattern = format!("^{}$", queue.replace('.', "\\."));
    let recreate = format!(
        "To change it for good, pause the producers, let the workers empty the \
         queue and stop them, then `rabbitmqctl delete_queue --if-empty '{queue}'` \
         and start them again: they declare it with the new value (README: \
         Changing the delivery limit and the retry delays)."
    );
    match argument {
        "x-delivery-limit" => format!(
            "[amqp] delivery_limit = {} differs from the queue's. A policy lowers \
             the limit of the existing queue at once, without a restart: \
             `rabbitmqctl set_policy --apply-to queues herald-delivery-limit \
             '{pattern}' '{{\"delivery-limit\":N}}'` (the lower of policy and \
             argument applies), with delivery_limit set back to the queue's \
             value. {recreate}",
            settings.delivery_limit
        ),
        _ => format!(
            "The configuration under [amqp] or [retry] no longer matches the \
             broker. {recreate}"
        ),
    }
}

fn to_field_table(arguments: &[(&'static str, Argument)]) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in arguments {
        let value = match value {
            Argument::Text(text) => AMQPValue::LongString(LongString::from(text.as_str())),
            Argument::Int(n) => AMQPValue::LongInt(*n),
        };
        table.insert((*key).into(), value);
    }
    table
}

async fn exchange(channel: &Channel, e: &Exchange) -> Result<(), lapin::Error> {
    let kind = match e.kind {
        "direct" => ExchangeKind::Direct,
        "fanout" => ExchangeKind::Fanout,
        "topic" => ExchangeKind::Topic,
        other => ExchangeKind::Custom(other.to_owned()),
    };
    let options = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            ShortString::from(e.name.as_str()),
            kind,
            options,
            FieldTable::default(),
        )
        .await
}

async fn queue(channel: &Channel, q: &Queue) -> Result<(), lapin::Error> {
    channel
        .queue_declare(
            ShortString::from(q.name.as_str()),
            QueueDeclareOptions::durable(),
            to_field_table(&q.arguments),
        )
        .await
        .map(drop)
}

async fn bind(channel: &Channel, b: &Binding) -> Result<(), lapin::Error> {
    channel
        .queue_bind(
            b.queue.as_str().into(),
            b.exchange.as_str().into(),
            b.routing_key.as_str().into(),
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

    #[test]
    fn each_tier_is_a_queue_whose_ttl_its_name_states() {
        let tiers = [Duration::from_secs(10), Duration::from_secs(90)];
        let topology = Topology::new(&AmqpSettings::default(), &tiers);
        let retry: Vec<_> = topology
            .queues
            .iter()
            .filter(|q| q.name.starts_with("herald.retry."))
            .map(|q| {
                let ttl = q.arguments.iter().find(|(k, _)| *k == "x-message-ttl");
                (q.name.as_str(), ttl.map(|(_, v)| v.clone()))
            })
            .collect();
        assert_eq!(
            retry,
            [
                ("herald.retry.10s", Some(Argument::Int(10_000))),
                ("herald.retry.1m30s", Some(Argument::Int(90_000))),
            ]
        );
    }
}
