//! `herald topology export`: the topology as RabbitMQ definitions, built
//! from the same [`Topology`] that `herald topology declare` and the worker
//! declare, so the broker can load it at boot
//! (`deploy/rabbitmq/definitions.json` is this command's output).

use std::path::Path;

use serde_json::{json, Map, Value};

use super::setup;
use super::CliError;
use crate::amqp::topology::{Argument, Topology};

/// `herald topology export`: prints the definitions of `vhost` on stdout.
pub fn export(config: Option<&Path>, vhost: &str) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let topology = Topology::new(&settings.amqp, &settings.retry.tiers);
    let text = serde_json::to_string_pretty(&definitions(&topology, vhost))?;
    println!("{text}");
    Ok(())
}

/// The definitions document (`rabbitmqctl import_definitions`, or
/// `management.load_definitions` at boot) of `topology` in `vhost`.
pub fn definitions(topology: &Topology, vhost: &str) -> Value {
    let exchanges: Vec<Value> = topology
        .exchanges
        .iter()
        .map(|e| {
            json!({
                "name": e.name, "vhost": vhost, "type": e.kind, "durable": true,
                "auto_delete": false, "internal": false, "arguments": {},
            })
        })
        .collect();
    let queues: Vec<Value> = topology
        .queues
        .iter()
        .map(|q| {
            let arguments: Map<String, Value> = q
                .arguments
                .iter()
                .map(|(key, value)| {
                    let value = match value {
                        Argument::Text(text) => json!(text),
                        Argument::Int(n) => json!(n),
                    };
                    ((*key).to_owned(), value)
                })
                .collect();
            json!({
                "name": q.name, "vhost": vhost, "durable": true,
                "auto_delete": false, "arguments": arguments,
            })
        })
        .collect();
    let bindings: Vec<Value> = topology
        .bindings
        .iter()
        .map(|b| {
            json!({
                "source": b.exchange, "vhost": vhost, "destination": b.queue,
                "destination_type": "queue", "routing_key": b.routing_key, "arguments": {},
            })
        })
        .collect();
    json!({
        "vhosts": [{ "name": vhost }],
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    })
}
