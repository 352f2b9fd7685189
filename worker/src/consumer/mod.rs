//! The consume loop: thin on purpose. It takes deliveries up to the prefetch,
//! hands each to [`crate::pipeline::process`] and [`settle::settle`], and owns
//! connection recovery and graceful shutdown.

mod dead_events;
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
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::amqp::{self, headers, topology, Publisher};
use crate::pipeline::{self, Context, Deps, Failure, JobBody, Processed, Subject};

/// Whether the worker is connected and consuming, for `/readyz`.
#[derive(Debug, Default)]
pub struct Health {
    /// Connected to RabbitMQ and consuming.
    ready: AtomicBool,
    /// The send ledger did not answer its last check: jobs are held back.
    ledger_down: AtomicBool,
}

impl Health {
    /// Consuming, with a ledger that answers: no email is sent without a
    /// claim, so a worker whose ledger is down is not ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed) && !self.ledger_down.load(Ordering::Relaxed)
    }

    pub fn set_ready(&self, ready: bool) {
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
    let (_keep, current) = tokio::sync::watch::channel(deps);
    run_reloadable(current, health, shutdown).await
}

/// [`run`], where each new job takes the configuration `current` holds at
/// the time: a reload swaps it, and jobs in flight finish on theirs.
pub async fn run_reloadable(
    current: tokio::sync::watch::Receiver<Arc<Deps>>,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let deps = current.borrow().clone();
    let mut shutdown = std::pin::pin!(shutdown);
    let ledger = tokio::spawn(watch_ledger(deps.clone(), health.clone()));
    let _stop_watching = AbortOnDrop(ledger);
    let mut backoff = Duration::from_millis(500);
    loop {
        let started = Instant::now();
        match session(&current, &health, shutdown.as_mut()).await {
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
    current: &tokio::sync::watch::Receiver<Arc<Deps>>,
    health: &Arc<Health>,
    mut shutdown: Pin<&mut impl Future<Output = ()>>,
) -> anyhow::Result<()> {
    let deps = &current.borrow().clone();
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
    let consumer = channel
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
    let dead_events = {
        let dead_channel = connection.create_channel().await?;
        let (deps, publisher) = (deps.clone(), publisher.clone());
        tokio::spawn(async move {
            let max = deps.settings.limits.max_job_bytes;
            let amqp = &deps.settings.amqp;
            if let Err(e) = dead_events::run(dead_channel, amqp, publisher, max).await {
                tracing::warn!(error = %e, "the dead-events consumer stopped");
            }
        })
    };
    let depth = tokio::spawn(crate::dead_letter_depth::poll(
        connection.create_channel().await?,
        amqp.dead_queue.clone(),
        deps.metrics.clone(),
        Duration::from_secs(15),
    ));
    let stop = Arc::new(Stop::default());
    let mut tasks = JoinSet::new();
    let jobs = Jobs {
        deps,
        current,
        publisher: &publisher,
        channel: &channel,
        stop: &stop,
    };
    let result = jobs.consume(consumer, &mut tasks, shutdown.as_mut()).await;
    watcher.abort();
    dead_events.abort();
    depth.abort();
    health.set_ready(false);
    let _ = channel
        .basic_cancel(tag.as_str().into(), BasicCancelOptions::default())
        .await;
    drain(&mut tasks, &stop, deps.settings.shutdown.timeout).await;
    let _ = connection.close(200, "worker stopping".into()).await;
    deps.metrics.amqp_connected.set(0);
    result
}

/// How a stopping worker tells its jobs: `draining` at shutdown (jobs
/// waiting for the rate limiter go back at once), `deadline` when the
/// shutdown timeout has passed (no SES request starts any more).
#[derive(Default)]
pub struct Stop {
    pub draining: CancellationToken,
    pub deadline: CancellationToken,
}

/// What the consume loop hands to every job.
struct Jobs<'a> {
    /// The configuration of this session's start: its broker settings.
    deps: &'a Arc<Deps>,
    /// The configuration each new job takes.
    current: &'a tokio::sync::watch::Receiver<Arc<Deps>>,
    publisher: &'a Publisher,
    channel: &'a lapin::Channel,
    stop: &'a Arc<Stop>,
}

impl Jobs<'_> {
    /// Takes deliveries up to the prefetch and the in-flight bytes budget
    /// until shutdown or a connection failure lapin cannot recover.
    async fn consume(
        &self,
        mut consumer: lapin::Consumer,
        tasks: &mut JoinSet<()>,
        mut shutdown: Pin<&mut impl Future<Output = ()>>,
    ) -> anyhow::Result<()> {
        let amqp = &self.deps.settings.amqp;
        let permits = Arc::new(Semaphore::new(usize::from(amqp.prefetch)));
        let budget = Arc::new(Semaphore::new(budget_units(
            self.deps.settings.limits.max_in_flight_bytes.as_u64(),
        )));
        loop {
            tokio::select! {
                _ = shutdown.as_mut() => return Ok(()),
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Err(e) = joined {
                        tracing::error!(error = %e, "a job task failed; the broker will deliver the job again");
                    }
                }
                next = consumer.next() => match next {
                    Some(Ok(delivery)) => {
                        let permit = permits.clone().acquire_owned().await.expect("never closed");
                        let deps = self.current.borrow().clone();
                        let job = handle(deps, self.publisher.clone(), self.channel.clone(), self.stop.clone(), budget.clone(), delivery);
                        tasks.spawn(async move {
                            job.await;
                            drop(permit);
                        });
                    }
                    // Readiness and the connection metrics follow the connection
                    // in `watch_connection`; here the consumer only waits for it.
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "consumer interrupted; waiting for the connection to recover");
                        if let Err(e) = self.channel.wait_for_recovery(e).await {
                            return Err(anyhow::Error::from(e).context("connection not recoverable"));
                        }
                    }
                    None => return Err(anyhow::anyhow!("the broker cancelled the consumer")),
                },
            }
        }
    }
}

/// The in-flight bytes budget counts KiB, so that it fits a semaphore.
fn budget_units(max_bytes: u64) -> usize {
    usize::try_from((max_bytes / 1024).clamp(1, u64::from(u32::MAX))).unwrap_or(u32::MAX as usize)
}

/// Memory a job takes while processed, per byte of its body: the job's
/// base64 attachments decoded (3/4), then written into the MIME (1), then
/// into the SES request (4/3), each freed before the next but one, with the
/// body itself on disk when large (`limits.spool_above`).
const WORKING_SET_PER_BODY_BYTE: u64 = 3;

/// A job's share of the budget: the memory it takes while processed, at
/// least 1 KiB, at most the whole budget (a larger job runs alone).
fn job_units(len: usize, max_bytes: u64) -> u32 {
    let units = (len as u64 * WORKING_SET_PER_BODY_BYTE)
        .div_ceil(1024)
        .clamp(1, budget_units(max_bytes) as u64);
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Waits for a job's share of the in-flight budget; meanwhile a large body
/// waits on disk, not in memory. `None` when the worker stops first: the job
/// goes back to the queue.
async fn reserve(
    deps: &Deps,
    budget: &Arc<Semaphore>,
    body: &JobBody,
    stop: &Stop,
) -> Option<OwnedSemaphorePermit> {
    let max = deps.settings.limits.max_in_flight_bytes.as_u64();
    let units = job_units(body.len(), max);
    if let Ok(permit) = budget.clone().try_acquire_many_owned(units) {
        return Some(permit);
    }
    body.set_aside(&deps.spool).await;
    tokio::select! {
        permit = budget.clone().acquire_many_owned(units) => Some(permit.expect("never closed")),
        _ = stop.draining.cancelled() => None,
    }
}

/// Lets the jobs in flight finish within `timeout`: jobs waiting for the
/// rate limiter go back at once, and past the timeout no SES request starts
/// and jobs not yet sent go back to the queue. Requests already running end
/// within their attempt timeout.
async fn drain(tasks: &mut JoinSet<()>, stop: &Stop, timeout: Duration) {
    stop.draining.cancel();
    let in_flight = tasks.len();
    if in_flight == 0 {
        return;
    }
    tracing::info!(in_flight, ?timeout, "finishing jobs in flight");
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(timeout, all).await.is_ok() {
        return;
    }
    stop.deadline.cancel();
    tracing::warn!(
        left = tasks.len(),
        "shutdown timeout: returning the jobs not yet sent to the queue"
    );
    while tasks.join_next().await.is_some() {}
}

/// Checks the send ledger every few seconds; readiness follows it.
async fn watch_ledger(deps: Arc<Deps>, health: Arc<Health>) {
    if deps.ledger.kind() == crate::ledger::StoreKind::Off {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let down = match deps.ledger.ping().await {
            Ok(()) => false,
            Err(e) => {
                deps.metrics.ledger.errors.inc();
                tracing::warn!(error = %e, "the send ledger does not answer; holding jobs back");
                true
            }
        };
        if health.ledger_down.swap(down, Ordering::Relaxed) && !down {
            tracing::info!("the send ledger answers again");
        }
    }
}

/// Aborts a background task when the function that started it returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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
    stop: Arc<Stop>,
    budget: Arc<Semaphore>,
    mut delivery: Delivery,
) {
    let body = JobBody::new(std::mem::take(&mut delivery.data));
    let Some(_reserved) = reserve(&deps, &budget, &body, &stop).await else {
        settle::requeue(&delivery).await;
        return;
    };
    let started = Instant::now();
    let metrics = &deps.metrics;
    metrics.jobs_received.inc();
    metrics.in_flight.inc();
    let history = headers::history(&delivery.properties);
    let span = crate::logging::job_span(history.attempts.saturating_add(1));
    async {
        let settleable = || channel.status().connected() && !stop.deadline.is_cancelled();
        let ctx = Context {
            history,
            settleable: &settleable,
            stopping: &stop.draining,
        };
        let processing = AssertUnwindSafe(pipeline::process(&deps, &body, ctx));
        let processed = match processing.catch_unwind().await {
            Ok(processed) => processed,
            Err(panic) => {
                let message = pipeline::panic_message(panic);
                tracing::error!(error = %message, "processing the job panicked; dead-lettering it");
                let bytes = body.bytes().await.ok();
                let id = bytes.and_then(|bytes| herald_shared::Job::peek_id(&bytes));
                let failure = Failure::Panicked(message);
                let outcome = pipeline::dead(Subject::Id(id.as_deref()), failure, history.attempts);
                Processed {
                    outcome,
                    route: None,
                }
            }
        };
        let outcome = &processed.outcome;
        if settle::settle(&deps, &publisher, &delivery, &body, outcome).await {
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
