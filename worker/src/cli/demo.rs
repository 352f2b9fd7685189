//! `herald demo`: a newcomer's first command. With RabbitMQ up and no AWS
//! account, it shows jobs flowing to status events, in sandbox mode, on a
//! topology of its own (`demo.herald.*`) so it never touches real jobs, and
//! deletes that topology on exit unless `--keep`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use herald_shared::producer::Producer;
use herald_shared::{Event, Job};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::Connection;

use super::setup::load;
use super::CliError;
use crate::amqp::{self, topology};
use crate::channels::Mode;
use crate::consumer::{self, Health};
use crate::pipeline::Deps;

/// The example jobs, built in for when `examples/jobs` is not at hand.
const EXAMPLE_JOBS: &[(&str, &str)] = &[
    (
        "welcome.json",
        include_str!("../../../examples/jobs/welcome.json"),
    ),
    (
        "password-reset.json",
        include_str!("../../../examples/jobs/password-reset.json"),
    ),
    (
        "inline-with-attachment.json",
        include_str!("../../../examples/jobs/inline-with-attachment.json"),
    ),
    (
        "no-email.json",
        include_str!("../../../examples/jobs/no-email.json"),
    ),
];

/// Prefix of the demo's exchanges and queues.
pub const DEMO_PREFIX: &str = "demo.";

/// Runs the demo; `keep` leaves its queues and exchanges for inspection.
pub async fn run(config: Option<&Path>, keep: bool) -> Result<(), CliError> {
    let loaded = load(config, Mode::Sandbox, |s| {
        s.amqp = s.amqp.clone().namespaced(DEMO_PREFIX);
        s.server.listen.clear();
    })
    .await?;
    let deps = loaded.deps;
    let jobs = example_jobs()?;
    println!(
        "Herald demo: {} example jobs, sandbox mode (no email leaves this machine)",
        jobs.len()
    );
    let connection = amqp::connect(&deps.settings.amqp).await?;
    let result = demo(&deps, &connection, &jobs).await;
    if keep {
        println!("kept the demo's queues and exchanges ({DEMO_PREFIX}herald.*)");
    } else {
        match delete_topology(&deps, &connection).await {
            Ok(()) => println!(
                "removed the demo's queues and exchanges ({DEMO_PREFIX}herald.*; --keep leaves them)"
            ),
            Err(e) => eprintln!("warning: could not remove the demo's topology: {e}"),
        }
    }
    let _ = connection.close(200, "demo done".into()).await;
    result?;
    print_outboxes(&deps);
    Ok(())
}

/// Declares, enqueues, runs a worker until every job has its terminal
/// event, and stops the worker.
async fn demo(
    deps: &Arc<Deps>,
    connection: &Connection,
    jobs: &[(String, String)],
) -> Result<(), CliError> {
    let amqp = &deps.settings.amqp;
    let channel = connection.create_channel().await?;
    topology::declare(&channel, amqp, &deps.settings.retry.tiers).await?;
    let events = tap_events(&channel, &amqp.events_exchange).await?;
    println!(
        "declared {} → {} → {}",
        amqp.jobs_exchange, amqp.jobs_queue, amqp.events_exchange
    );

    let producer = Producer::new(connection)
        .await?
        .with_target(&amqp.jobs_exchange, &amqp.routing_key);
    let mut waiting = HashSet::new();
    for (name, body) in jobs {
        let id = Job::peek_id(body.as_bytes()).unwrap_or_default();
        producer.publish_raw(body.as_bytes(), &id).await?;
        println!("enqueued  {id:<24} ({name})");
        waiting.insert(id);
    }

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(consumer::run(
        deps.clone(),
        Arc::new(Health::default()),
        async {
            let _ = stopped.await;
        },
    ));
    let result = print_fates(events, waiting).await;
    let _ = stop.send(());
    worker.await.map_err(anyhow::Error::from)??;
    let _ = channel.close(200, "demo done".into()).await;
    result
}

/// A consumer of every status event, on a queue of its own that goes away
/// with the channel.
async fn tap_events(
    channel: &lapin::Channel,
    exchange: &str,
) -> Result<lapin::Consumer, lapin::Error> {
    let events = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions::exclusive().auto_delete(),
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            events.name().clone(),
            exchange.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel
        .basic_consume(
            events.name().clone(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
}

/// Prints each job's terminal event as it comes, until every job in
/// `waiting` has one.
async fn print_fates(
    mut events: lapin::Consumer,
    mut waiting: HashSet<String>,
) -> Result<(), CliError> {
    let total = waiting.len();
    while !waiting.is_empty() {
        let next = tokio::time::timeout(Duration::from_secs(30), events.next()).await;
        let Ok(Some(Ok(delivery))) = next else {
            return Err(anyhow::anyhow!("no event within 30 s; is a worker stuck?").into());
        };
        delivery.ack(BasicAckOptions::default()).await?;
        let Ok(event) = serde_json::from_slice::<Event>(&delivery.data) else {
            continue;
        };
        if event.kind.is_terminal() && waiting.remove(&event.message_id) {
            let done = total - waiting.len();
            println!(
                "[{done}/{total}] {:<20} {:<24} {}",
                event.kind.as_str(),
                event.message_id,
                event.event_data
            );
        }
    }
    Ok(())
}

/// Deletes every queue and exchange the demo declared.
async fn delete_topology(deps: &Deps, connection: &Connection) -> Result<(), lapin::Error> {
    let amqp = &deps.settings.amqp;
    let channel = connection.create_channel().await?;
    let mut queues = vec![amqp.jobs_queue.clone(), amqp.dead_queue.clone()];
    queues.extend(topology::retry_queue_names(
        amqp,
        &deps.settings.retry.tiers,
    ));
    for queue in &queues {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in [
        &amqp.jobs_exchange,
        &amqp.dead_letter_exchange,
        &amqp.events_exchange,
    ] {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await?;
    }
    let _ = channel.close(200, "demo topology removed".into()).await;
    Ok(())
}

fn print_outboxes(deps: &Deps) {
    let outboxes: HashSet<String> = deps
        .settings
        .channels
        .values()
        .flat_map(|c| c.environments.values())
        .filter_map(|e| e.outbox.as_ref().map(|o| o.display().to_string()))
        .collect();
    println!("done: every job ended in one terminal event");
    if !outboxes.is_empty() {
        let dirs: Vec<String> = outboxes.into_iter().collect();
        println!(
            "sandboxed emails were written to {}/ as <message_id>.eml",
            dirs.join("/, ")
        );
    }
}

/// `examples/jobs/*.json` when present, else the built-in copies.
fn example_jobs() -> Result<Vec<(String, String)>, CliError> {
    let dir = Path::new("examples/jobs");
    if !dir.is_dir() {
        let built_in = EXAMPLE_JOBS
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_string()));
        return Ok(built_in.collect());
    }
    let mut jobs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            jobs.push((name, std::fs::read_to_string(&path)?));
        }
    }
    jobs.sort();
    Ok(jobs)
}
