//! What processing one job came to, and the status events that report it.

use herald_shared::{Event, EventType, Job};
use serde_json::json;

use crate::clock::now_rfc3339;
use crate::routes::Route;

/// Why a job was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// Retrying cannot help: bad job, bad template, rejected by SES.
    FatalError,
    /// Every allowed attempt failed with a retryable error.
    RetriesExhausted,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::FatalError => "fatal_error",
            FailureReason::RetriesExhausted => "retries_exhausted",
        }
    }
}

/// The typed result of [`super::process`]; the worker loop makes it durable.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `message.sent` or `message.not_sent`: publish the event, then ack.
    Finished(Event),
    /// A retryable failure: publish `message.delivery_attempted`, move the job
    /// to the retry queue of `tier`, then ack.
    Retry {
        event: Event,
        attempts: u32,
        tier: usize,
    },
    /// Given up: move the job to the dead-letter queue with these details,
    /// publish `message.undelivered` when the message id is known, then ack.
    Dead(DeadLetter),
}

/// Why a job is dead-lettered, for its headers and its event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub reason: FailureReason,
    /// Short machine-readable code: `invalid_job`, `render_error`, `MessageRejected`, …
    pub code: String,
    pub message: String,
    pub attempts: u32,
    pub event: Option<Event>,
}

impl Outcome {
    /// The status this outcome counts as in `herald_messages_total`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Finished(event) => event.kind.status(),
            Outcome::Retry { .. } => EventType::DeliveryAttempted.status(),
            Outcome::Dead(_) => EventType::Undelivered.status(),
        }
    }
}

/// An event about `job`, filled from the job and its route.
pub fn event(kind: EventType, job: &Job, route: Option<&Route>, attempt: u32) -> Event {
    let mut event = Event::new(kind, job.id.clone(), now_rfc3339());
    event.environment = Some(job.environment.clone());
    event.channel = route
        .map(|r| r.channel.clone())
        .or_else(|| job.channel.clone());
    event.workflow = Some(job.workflow.clone());
    event.recipient_id = Some(job.recipient.id.clone());
    event.sandbox = route.is_some_and(Route::is_sandbox);
    event.attempt = attempt;
    event
}

/// `message.not_sent` with its reason.
pub fn not_sent(job: &Job, route: &Route, reason: &str) -> Outcome {
    let mut e = event(EventType::NotSent, job, Some(route), 1);
    e.event_data = json!({ "reason": reason });
    Outcome::Finished(e)
}

/// A fatal error for a job whose message id may be known.
pub fn fatal(
    job: Option<&Job>,
    id: Option<String>,
    route: Option<&Route>,
    code: &str,
    message: String,
    attempts: u32,
) -> Outcome {
    dead(
        job,
        id,
        route,
        FailureReason::FatalError,
        code,
        message,
        attempts,
    )
}

/// A dead letter and, when the id is known, its `message.undelivered` event.
pub fn dead(
    job: Option<&Job>,
    id: Option<String>,
    route: Option<&Route>,
    reason: FailureReason,
    code: &str,
    message: String,
    attempts: u32,
) -> Outcome {
    let event = match (job, id) {
        (Some(job), _) => Some(event(EventType::Undelivered, job, route, attempts.max(1))),
        (None, Some(id)) => Some(Event::new(EventType::Undelivered, id, now_rfc3339())),
        (None, None) => None,
    };
    let event = event.map(|mut e| {
        e.event_data = json!({
            "failure_reason": reason.as_str(),
            "failure_details": format!("{code}: {message}"),
        });
        e
    });
    Outcome::Dead(DeadLetter {
        reason,
        code: code.to_owned(),
        message,
        attempts,
        event,
    })
}
