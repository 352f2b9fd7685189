//! The consume loop: thin on purpose. It takes deliveries up to the prefetch,
//! hands each to [`crate::pipeline::process`] and [`settle::settle`], and owns
//! connection recovery and graceful shutdown.

pub mod settle;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::amqp::{self, headers, topology, Publisher};
use crate::pipeline::{self, Context, Deps, Failure, Processed, Subject};

/// Whether the worker is connected and consuming, for `/readyz`.
#[derive(Debug, Default)]
pub struct Health {
    ready: AtomicBool,
}

impl Health {
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}

/// Runs the worker until `shutdown` completes: then stops taking jobs,
/// finishes those in flight, and returns. Reconnects after broker failures.
pub async fn run(
    deps: Arc<Deps>,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = Duration::from_millis(500);
    loop {
        let started = Instant::now();
        match session(&deps, &health, shutdown.as_mut()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                health.set_ready(false);
                deps.metrics.amqp_connected.set(0);
                tracing::warn!(
                    error = format!("{e:#}"),
                    ?backoff,
                    "RabbitMQ session ended; reconnecting"
                );
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Duration::from_millis(500);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.as_mut() => return Ok(()),
        }
        deps.metrics.amqp_reconnects.inc();
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// One connection's life: connect, declare, consume until shutdown or failure.
async fn session(
    deps: &Arc<Deps>,
    health: &Arc<Health>,
    mut shutdown: Pin<&mut impl Future<Output = ()>>,
) -> anyhow::Result<()> {
    let amqp = &deps.settings.amqp;
    let connection = tokio::select! {
        c = amqp::connect_recovering(amqp) => c?,
        _ = shutdown.as_mut() => return Ok(()),
    };
    let setup = connection.create_channel().await?;
    topology::declare(&setup, amqp, &deps.settings.retry.tiers)
        .await
        .context("declaring the topology")?;
    let publisher = Publisher::open(&connection, &amqp.events_exchange).await?;
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(amqp.prefetch, BasicQosOptions::default())
        .await?;
    let tag = format!("herald-{}", std::process::id());
    let mut consumer = channel
        .basic_consume(
            amqp.jobs_queue.as_str().into(),
            tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .context("consuming the jobs queue")?;
    deps.metrics.amqp_connected.set(1);
    health.set_ready(true);
    tracing::info!(queue = %amqp.jobs_queue, prefetch = amqp.prefetch, "consuming jobs");
    let watcher = tokio::spawn(watch_connection(
        connection.status().clone(),
        deps.clone(),
        health.clone(),
    ));

    let permits = Arc::new(Semaphore::new(usize::from(amqp.prefetch)));
    let mut tasks = JoinSet::new();
    let result = loop {
        tokio::select! {
            _ = shutdown.as_mut() => break Ok(()),
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = joined {
                    tracing::error!(error = %e, "a job task panicked; the broker will deliver the job again");
                }
            }
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    let permit = permits.clone().acquire_owned().await.expect("semaphore is never closed");
                    tasks.spawn(handle(deps.clone(), publisher.clone(), channel.clone(), delivery, permit));
                }
                // Readiness and the connection metrics follow the connection
                // in `watch_connection`; here the consumer only waits for it.
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "consumer interrupted; waiting for the connection to recover");
                    if let Err(e) = channel.wait_for_recovery(e).await {
                        break Err(anyhow::Error::from(e).context("connection not recoverable"));
                    }
                }
                None => break Err(anyhow::anyhow!("the broker cancelled the consumer")),
            },
        }
    };
    watcher.abort();
    health.set_ready(false);
    let _ = channel
        .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
        .await;
    let in_flight = tasks.len();
    if in_flight > 0 {
        tracing::info!(in_flight, "finishing jobs in flight");
    }
    while tasks.join_next().await.is_some() {}
    let _ = connection.close(200, "worker stopping".into()).await;
    deps.metrics.amqp_connected.set(0);
    result
}

/// Follows the connection while lapin recovers it: not ready while it is
/// down, one reconnect counted each time it comes back.
async fn watch_connection(status: lapin::ConnectionStatus, deps: Arc<Deps>, health: Arc<Health>) {
    let mut up = true;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        match (up, status.connected()) {
            (true, false) => {
                up = false;
                health.set_ready(false);
                deps.metrics.amqp_connected.set(0);
                tracing::warn!("RabbitMQ connection lost; recovering");
            }
            (false, true) => {
                up = true;
                deps.metrics.amqp_reconnects.inc();
                deps.metrics.amqp_connected.set(1);
                health.set_ready(true);
                tracing::info!("RabbitMQ connection recovered");
            }
            _ => {}
        }
    }
}

async fn handle(
    deps: Arc<Deps>,
    publisher: Publisher,
    channel: lapin::Channel,
    delivery: Delivery,
    _permit: OwnedSemaphorePermit,
) {
    let started = Instant::now();
    let metrics = &deps.metrics;
    metrics.jobs_received.inc();
    metrics.in_flight.inc();
    let history = headers::history(&delivery.properties);
    let span = tracing::info_span!(
        "job",
        message_id = tracing::field::Empty,
        workflow = tracing::field::Empty,
        environment = tracing::field::Empty,
        channel = tracing::field::Empty,
        attempt = history.attempts.saturating_add(1),
    );
    async {
        let settleable = || channel.status().connected();
        let ctx = Context {
            history,
            settleable: &settleable,
        };
        let processing = AssertUnwindSafe(pipeline::process(&deps, &delivery.data, ctx));
        let processed = match processing.catch_unwind().await {
            Ok(processed) => processed,
            Err(panic) => {
                let message = pipeline::panic_message(panic);
                tracing::error!(error = %message, "processing the job panicked; dead-lettering it");
                let id = herald_shared::Job::peek_id(&delivery.data);
                let failure = Failure::Panicked(message);
                let outcome = pipeline::dead(Subject::Id(id.as_deref()), failure, history.attempts);
                Processed {
                    outcome,
                    route: None,
                }
            }
        };
        let outcome = &processed.outcome;
        if settle::settle(&deps, &publisher, &delivery, outcome).await {
            let (environment, channel) = match &processed.route {
                Some(route) => (route.environment.as_str(), route.channel.as_str()),
                None => ("unknown", "unknown"),
            };
            metrics.message(environment, channel, outcome.status());
            tracing::info!(status = outcome.status(), "job done");
        }
    }
    .instrument(span)
    .await;
    metrics.in_flight.dec();
    metrics
        .job_duration
        .observe(started.elapsed().as_secs_f64());
}
