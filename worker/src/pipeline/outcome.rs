//! What processing one job came to, why a job failed, and the status events
//! that report it.

use herald_shared::{Event, EventType, Job};
use serde_json::json;

use crate::channels::{Route, RouteError};
use crate::clock::now_rfc3339;
use crate::render::RenderError;
use crate::ses::SendError;

/// Why a job was given up, as the `x-herald-failure-reason` header and the
/// event's `failure_reason` say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// Retrying cannot help: bad job, bad template, rejected by SES.
    FatalError,
    /// Every allowed attempt failed with a retryable error.
    RetriesExhausted,
    /// The worker died during the SES request and `in_doubt = "dead_letter"`.
    InDoubt,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::FatalError => "fatal_error",
            FailureReason::RetriesExhausted => "retries_exhausted",
            FailureReason::InDoubt => "in_doubt",
        }
    }
}

/// Why a job cannot be sent. Each failure knows its code (the
/// `x-herald-error` header) and its reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The body is not a job: bad JSON, a missing or unknown field, too large.
    #[error("{0}")]
    InvalidJob(String),
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The sandbox outbox could not be written.
    #[error("{0}")]
    Outbox(String),
    /// SES refused the email for good.
    #[error("{}", .0.message)]
    Rejected(SendError),
    /// The last of `max_attempts` SES requests failed.
    #[error("{}", .0.message)]
    RetriesExhausted(SendError),
    /// Processing the job panicked: a defect, contained to this job.
    #[error("processing panicked: {0}")]
    Panicked(String),
    /// A claim expired without an acceptance and `in_doubt = "dead_letter"`.
    #[error("a worker died during this job's SES request; it may have been sent")]
    InDoubt,
}

impl Failure {
    /// Short machine-readable code: `invalid_job`, `render_error`,
    /// `render_limit`, `MessageRejected`, …
    pub fn code(&self) -> &str {
        match self {
            Failure::InvalidJob(_) => "invalid_job",
            Failure::Route(e) => e.code(),
            Failure::Render(e) => e.code(),
            Failure::Outbox(_) => "outbox_error",
            Failure::Rejected(e) | Failure::RetriesExhausted(e) => &e.code,
            Failure::Panicked(_) => "panic",
            Failure::InDoubt => "in_doubt",
        }
    }

    pub fn reason(&self) -> FailureReason {
        match self {
            Failure::RetriesExhausted(_) => FailureReason::RetriesExhausted,
            Failure::InDoubt => FailureReason::InDoubt,
            _ => FailureReason::FatalError,
        }
    }
}

/// The typed result of [`super::process`]; the consumer makes it durable.
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
    /// Not processed to the end, nothing sent: give the job back to the
    /// broker as it is (its channel closed, the worker is stopping).
    Returned(&'static str),
}

/// Why a job is dead-lettered, for its headers and its event.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub failure: Failure,
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
            Outcome::Returned(_) => "returned",
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

/// Whom a dead letter's event is about: the parsed job, or only its id when
/// the body did not parse, or nothing known.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    Job(&'a Job, Option<&'a Route>),
    Id(Option<&'a str>),
}

/// A dead letter and, when the message id is known, its
/// `message.undelivered` event.
pub fn dead(subject: Subject<'_>, failure: Failure, attempts: u32) -> Outcome {
    let event = match subject {
        Subject::Job(job, route) => {
            Some(event(EventType::Undelivered, job, route, attempts.max(1)))
        }
        Subject::Id(Some(id)) => Some(Event::new(
            EventType::Undelivered,
            id.to_owned(),
            now_rfc3339(),
        )),
        Subject::Id(None) => None,
    };
    let event = event.map(|mut e| {
        e.event_data = json!({
            "failure_reason": failure.reason().as_str(),
            "failure_details": format!("{}: {failure}", failure.code()),
        });
        e
    });
    Outcome::Dead(DeadLetter {
        failure,
        attempts,
        event,
    })
}
