//! One job, from its bytes to a typed [`Outcome`]: parse, route, render
//! (within the render limits; see [`render`] for where), then send through SES or
//! write to the sandbox outbox. No broker I/O happens here: the consumer
//! settles the outcome, and tests drive this step directly.

mod body;
mod deliver;
mod outcome;
pub mod policy;
mod send;

use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_shared::tags::sanitize_tag_value;
use herald_shared::Job;
use tokio::sync::Semaphore;
use tracing::Span;

pub use body::{JobBody, Spool};
pub use outcome::{dead, event, not_sent, DeadLetter, Failure, FailureReason, Outcome, Subject};
pub use policy::History;

use crate::channels::{Route, Routes, Transport};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::render::{RenderError, TemplateStore};
use crate::request::{prepare_request, try_prepare_request, SendRequest};
use crate::settings::Settings;

/// What processing needs, built once per configuration load by [`Deps::new`]
/// (the one constructor `herald run`, the demo and the tests share).
pub struct Deps {
    /// The configuration the routes and templates were built from.
    pub settings: Settings,
    /// Workflow templates, parsed once; inline ones once per distinct text
    /// while they stay among the most recently used.
    pub templates: TemplateStore,
    /// Each channel/environment's sender templates, SES client and limiter.
    pub routes: Routes,
    pub metrics: Arc<Metrics>,
    /// The send ledger: one SES acceptance per job id (`Ledger::off()` where
    /// nothing is sent through SES).
    pub ledger: Ledger,
    /// How long a claim protects a send: past it, the claim's worker is taken
    /// for dead and the job is in doubt.
    pub lease: Duration,
    /// Renders that go to the blocking pool run a few per core at once: a slow
    /// template never holds an async worker thread (health checks, acks,
    /// consumption), two slow ones leave room for the quick ones beside them,
    /// and a burst cannot start an unbounded number of threads.
    render_slots: Semaphore,
    /// Where large bodies wait while they are sent.
    pub spool: Spool,
}

impl Deps {
    pub fn new(
        settings: Settings,
        templates: TemplateStore,
        routes: Routes,
        metrics: Arc<Metrics>,
        ledger: Ledger,
    ) -> Deps {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        for route in routes.all() {
            if let Transport::Ses(targets) = &route.transport {
                for target in targets {
                    let labels = crate::metrics::CircuitLabels {
                        environment: route.environment.clone(),
                        channel: route.channel.clone(),
                        region: target.region.clone(),
                    };
                    metrics.ses.circuit_state.get_or_create(&labels).set(0);
                }
            }
        }
        let lease = settings
            .idempotency
            .lease
            .unwrap_or_else(|| default_lease(&settings));
        Deps {
            templates,
            routes,
            metrics,
            ledger,
            lease,
            render_slots: Semaphore::new(cores * RENDERS_PER_CORE),
            spool: Spool {
                above: usize::try_from(settings.limits.spool_above.as_u64()).unwrap_or(usize::MAX),
                dir: settings
                    .limits
                    .spool_dir
                    .clone()
                    .unwrap_or_else(std::env::temp_dir),
            },
            settings,
        }
    }
}

/// Renders in flight per core; each is bounded by `limits.max_render_time`.
const RENDERS_PER_CORE: usize = 4;

/// A claim must outlive the SES requests of the delivery that holds it, or a
/// live worker's job would be taken for in doubt: twice the longest those
/// requests can take (every attempt of the first delivery, in-process retries
/// included, at the attempt timeout).
fn default_lease(settings: &Settings) -> Duration {
    let attempt = settings.limits.ses_attempt_timeout(&settings.shutdown);
    let first = policy::quick_retries(&settings.retry, History::default()) + 1;
    attempt * 2 * first
}

/// What the consumer knows of one delivery.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub history: History,
    /// Whether the delivery can still be acknowledged and an SES request may
    /// start. A job whose channel has closed, or whose worker is past its
    /// shutdown deadline, is not sent: the broker will deliver it again.
    pub settleable: &'a (dyn Fn() -> bool + Send + Sync),
    /// Cancelled when the worker starts to stop: a job still waiting for the
    /// rate limiter goes back to the queue at once.
    pub stopping: &'a tokio_util::sync::CancellationToken,
}

/// An outcome and the configured route it went through, if any: metrics take
/// their labels from the route, never from job data.
pub struct Processed {
    pub outcome: Outcome,
    pub route: Option<Arc<Route>>,
}

/// Processes one job body. Records `message_id`, `workflow`, `environment`
/// and `channel` on the current span.
pub async fn process(deps: &Arc<Deps>, body: &JobBody, ctx: Context<'_>) -> Processed {
    let attempts = ctx.history.attempts;
    let parsed = match body.bytes().await {
        Ok(bytes) => Job::parse(&bytes, deps.settings.limits.max_job_bytes).map_err(|e| {
            let id = Job::peek_id(&bytes);
            (id, Failure::InvalidJob(e.to_string()))
        }),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the job back from disk");
            return Processed {
                outcome: Outcome::Returned("the job's body could not be read back from disk"),
                route: None,
            };
        }
    };
    let job = match parsed {
        Ok(job) => job,
        Err((id, failure)) => {
            if let Some(id) = &id {
                Span::current().record("message_id", id.as_str());
            }
            let outcome = dead(Subject::Id(id.as_deref()), failure, attempts);
            return Processed {
                outcome,
                route: None,
            };
        }
    };
    let span = Span::current();
    span.record("message_id", job.id.as_str());
    span.record("workflow", job.workflow.as_str());
    span.record("environment", job.environment.as_str());
    let route = match deps
        .routes
        .resolve(&job.environment, job.channel.as_deref())
    {
        Ok(route) => route.clone(),
        Err(e) => {
            let outcome = dead(Subject::Job(&job, None), e.into(), attempts);
            return Processed {
                outcome,
                route: None,
            };
        }
    };
    span.record("channel", route.channel.as_str());
    if !route.is_sandbox() {
        body.set_aside(&deps.spool).await;
    }
    let quick = body.len() <= QUICK_RENDER_BODY;
    let outcome = routed(deps, &route, job, quick, ctx).await;
    Processed {
        outcome,
        route: Some(route),
    }
}

/// Renders the job and, if it goes through SES, claims its id meanwhile:
/// the claim's durable commit does not add to the job's time.
async fn routed(
    deps: &Arc<Deps>,
    route: &Arc<Route>,
    job: Job,
    quick: bool,
    ctx: Context<'_>,
) -> Outcome {
    let attempts = ctx.history.attempts;
    let id = job.id.clone();
    let claim = async {
        match &route.transport {
            // A paced route claims after its rate-limit wait, not before: a
            // claim held while waiting would leave the job in doubt if the
            // worker died, though nothing was sent.
            Transport::Ses(_) if route.limiter.is_none() => {
                deliver::claim_early(deps, &id, ctx).await
            }
            Transport::Ses(_) => None,
            Transport::Sandbox { .. } => None,
        }
    };
    let (rendered, early) = tokio::join!(render(deps, route, job, quick), claim);
    let Ok((job, request)) = rendered else {
        deliver::release_early(deps, &id, early).await;
        let failure = Failure::Panicked("the render task was lost".into());
        return dead(Subject::Id(Some(&id)), failure, attempts);
    };
    let request = match request {
        Ok(request) => request,
        Err(failure) => {
            deliver::release_early(deps, &id, early).await;
            return match failure {
                Failure::Render(RenderError::MissingEmail) => {
                    not_sent(&job, route, "recipient_missing_email")
                }
                Failure::Render(RenderError::InvalidEmail(_)) => {
                    not_sent(&job, route, "recipient_invalid_email")
                }
                failure => dead(Subject::Job(&job, Some(route)), failure, attempts),
            };
        }
    };
    match &route.transport {
        Transport::Sandbox { outbox } => {
            sandbox(route, &job, outbox.as_deref(), &request.raw).await
        }
        Transport::Ses(targets) => {
            deliver::deliver(deps, route, targets, &job, &request, ctx, early).await
        }
    }
}

/// Jobs of at most this many bytes try to render where they are first.
const QUICK_RENDER_BODY: usize = 64 * 1024;

/// What that first try may spend on all of a job's renders.
const QUICK_RENDER_TIME: Duration = Duration::from_millis(2);

/// Renders the job; a panic in rendering is this job's failure, not the
/// worker's.
///
/// A render takes tens of microseconds, and handing it to the blocking pool
/// costs a thread wake-up each way. So a small job (`quick`) renders on the
/// runtime's thread first, with [`QUICK_RENDER_TIME`] for all its renders;
/// a job that needs longer (a heavy or hostile template) is rendered again
/// from the start on the blocking pool, within the render slots and the full
/// limits. A runtime thread is held by one job for about
/// [`QUICK_RENDER_TIME`] at most. On the pool, the job comes back without its
/// attachments' base64, which the request now holds.
async fn render(
    deps: &Arc<Deps>,
    route: &Arc<Route>,
    job: Job,
    quick: bool,
) -> Result<(Job, Result<SendRequest, Failure>), tokio::task::JoinError> {
    let started = Instant::now();
    let rendered = async {
        if quick {
            let here = || try_prepare_request(&deps.templates, route, &job, QUICK_RENDER_TIME);
            match guarded(here) {
                // Out of time here: rendered again on the pool.
                Err(Failure::Render(RenderError::Limit {
                    limit: "max_render_time",
                    ..
                })) => {}
                request => return Ok((job, request)),
            }
        }
        let _slot = deps
            .render_slots
            .acquire()
            .await
            .expect("render slots are never closed");
        let (deps, route) = (deps.clone(), route.clone());
        tokio::task::spawn_blocking(move || {
            let mut job = job;
            let request = guarded(|| prepare_request(&deps.templates, &route, &mut job));
            (job, request)
        })
        .await
    }
    .await;
    deps.metrics
        .render_duration
        .observe(started.elapsed().as_secs_f64());
    rendered
}

/// Runs a render; a panic in it is this job's failure, not the worker's.
fn guarded(
    render: impl FnOnce() -> Result<SendRequest, RenderError>,
) -> Result<SendRequest, Failure> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(render)) {
        Ok(request) => request.map_err(Failure::Render),
        Err(panic) => Err(Failure::Panicked(panic_message(panic))),
    }
}

/// The text a panic carried, for the dead letter.
pub fn panic_message(e: impl Into<PanicPayload>) -> String {
    match e.into().0 {
        Some(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned()),
        None => "the task was cancelled".to_owned(),
    }
}

/// A panic's payload, from a join error or `catch_unwind`.
pub struct PanicPayload(Option<Box<dyn std::any::Any + Send>>);

impl From<tokio::task::JoinError> for PanicPayload {
    fn from(e: tokio::task::JoinError) -> Self {
        PanicPayload(e.try_into_panic().ok())
    }
}

impl From<Box<dyn std::any::Any + Send>> for PanicPayload {
    fn from(payload: Box<dyn std::any::Any + Send>) -> Self {
        PanicPayload(Some(payload))
    }
}

async fn sandbox(
    route: &Route,
    job: &Job,
    outbox: Option<&std::path::Path>,
    raw: &[u8],
) -> Outcome {
    if let Some(dir) = outbox {
        let file = dir.join(format!("{}.eml", sanitize_tag_value(&job.id)));
        let written = async {
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::write(&file, raw).await
        };
        if let Err(e) = written.await {
            let failure = Failure::Outbox(format!("cannot write {}: {e}", file.display()));
            return dead(Subject::Job(job, Some(route)), failure, 0);
        }
    }
    not_sent(job, route, "sandbox")
}
