//! Sending one job through SES exactly once per id (SPEC §9): claim the id in
//! the send ledger, send, record the acceptance, and let the consumer publish
//! and ack. An id already accepted is not sent again; its recorded
//! `message.sent` goes out once more, marked `duplicate`.

use std::future::Future;
use std::time::Duration;

use herald_shared::{Event, EventType, Job};
use prometheus_client::metrics::histogram::Histogram;
use serde_json::json;

use super::{dead, event, not_sent, policy, send, Context, Deps, Failure, Outcome, Subject};
use crate::channels::{Route, SesTarget};
use crate::clock::now_rfc3339;
use crate::ledger::{Acceptance, Claim, ClaimToken, InDoubtPolicy, LedgerError, StoreKind};
use crate::metrics::RouteLabels;
use crate::request::SendRequest;
use crate::ses::{Retry, SendError};

/// How long a job waits for another worker's live claim on its id before it
/// goes through a retry tier instead.
const HELD_WAIT: Duration = Duration::from_secs(5);

/// What the ledger lets this delivery do.
enum Permit {
    /// Send, holding this claim; `in_doubt` when an earlier worker died
    /// during the SES request.
    Send { token: ClaimToken, in_doubt: bool },
    /// Done without sending.
    Done(Box<Outcome>),
}

/// The ledger's first answer for a job's id, asked while the job renders;
/// `None` when it was not asked.
pub type EarlyClaim = Option<Result<Claim, LedgerError>>;

/// Claims `id` before the job is rendered, when there is a ledger and the
/// delivery can still be settled.
pub async fn claim_early(deps: &Deps, id: &str, ctx: Context<'_>) -> EarlyClaim {
    if deps.ledger.kind() == StoreKind::Off || !(ctx.settleable)() {
        return None;
    }
    let claim = deps.ledger.claim(id, deps.lease);
    Some(timed(deps, &deps.metrics.ledger.claim_duration, claim).await)
}

/// Awaits a ledger call, timing it into `histogram` when there is a store
/// (without one, the call answers at once and there is nothing to show).
async fn timed<T>(deps: &Deps, histogram: &Histogram, call: impl Future<Output = T>) -> T {
    if deps.ledger.kind() == StoreKind::Off {
        return call.await;
    }
    let started = tokio::time::Instant::now();
    let answer = call.await;
    histogram.observe(started.elapsed().as_secs_f64());
    answer
}

/// Gives back a claim taken early for a job that will not be sent, so that
/// a later delivery claims afresh. A claim taken over from a worker that
/// died is left to expire: the job stays in doubt.
pub async fn release_early(deps: &Deps, id: &str, early: EarlyClaim) {
    if let Some(Ok(Claim::Acquired(token))) = early {
        if let Err(e) = deps.ledger.release(id, &token).await {
            ledger_error(deps, &e, "cannot release the claim of a job not sent");
        }
    }
}

/// Claims (or uses the claim taken while rendering), sends and records; the
/// outcome the consumer settles.
pub async fn deliver(
    deps: &Deps,
    route: &Route,
    targets: &[SesTarget],
    job: &Job,
    request: &SendRequest,
    ctx: Context<'_>,
    early: EarlyClaim,
) -> Outcome {
    if !(ctx.settleable)() {
        release_early(deps, &job.id, early).await;
        return Outcome::Returned("the delivery's channel closed before sending");
    }
    if let Some(outcome) = suppressed(deps, route, job, request, ctx.history.attempts).await {
        release_early(deps, &job.id, early).await;
        return outcome;
    }
    // The first request's turn at the rate limiter comes before the claim,
    // so that the claim's lease covers the SES request, not the wait.
    let paced = match &route.limiter {
        Some(limiter) => match send::pace(limiter, route, &deps.metrics, request, ctx).await {
            None => return Outcome::Returned("the worker is stopping; the job had not been sent"),
            turn => turn,
        },
        None => None,
    };
    let (token, in_doubt) = match permit(deps, route, job, ctx, early).await {
        Permit::Send { token, in_doubt } => (token, in_doubt),
        Permit::Done(outcome) => return *outcome,
    };
    let policy = &deps.settings.retry;
    let send = send::Send {
        targets,
        route,
        metrics: &deps.metrics,
        policy,
        request,
        paced,
    };
    let report = send::send_with_retries(send, ctx).await;
    let attempts = ctx.history.attempts.saturating_add(report.attempts);
    // With failover regions, events say which region sent.
    let region = report.region.filter(|_| targets.len() > 1);
    let mut outcome = match report.result {
        _ if report.returned => {
            Outcome::Returned("the worker is stopping; the job had not been sent")
        }
        Ok(accepted) => accepted_outcome(deps, route, job, accepted, attempts, region).await,
        Err(error) => failed_outcome(deps, route, job, ctx, error, attempts),
    };
    if !matches!(outcome, Outcome::Finished(_)) {
        // Nothing was accepted: a later delivery claims afresh, not in doubt.
        if let Err(e) = deps.ledger.release(&job.id, &token).await {
            ledger_error(
                deps,
                &e,
                "cannot release the claim; the next delivery will be in doubt",
            );
        }
    }
    if in_doubt {
        mark_in_doubt(&mut outcome);
    }
    outcome
}

/// What follows an SES failure: a retry tier, or the dead-letter queue when
/// the failure is permanent or the attempts are used up.
fn failed_outcome(
    deps: &Deps,
    route: &Route,
    job: &Job,
    ctx: Context<'_>,
    error: SendError,
    attempts: u32,
) -> Outcome {
    let policy = &deps.settings.retry;
    let attempts = match error.retry {
        Retry::Credentials => credentials_failed(deps, route, &error, ctx.history.attempts),
        _ => attempts,
    };
    let subject = Subject::Job(job, Some(route));
    match policy::after_failure(policy, ctx.history, attempts, error.retry) {
        policy::Next::Permanent => dead(subject, Failure::Rejected(error), attempts),
        policy::Next::Exhausted => dead(subject, Failure::RetriesExhausted(error), attempts),
        policy::Next::Delay { tier } => {
            let mut event = event(EventType::DeliveryAttempted, job, Some(route), attempts);
            event.event_data = json!({
                "attempt": attempts,
                "max_attempts": policy.max_attempts,
                "retryable": true,
                "error": error.to_string(),
                "error_code": error.code,
            });
            Outcome::Retry {
                event,
                attempts,
                tier,
            }
        }
    }
}

/// `message.not_sent` (`suppressed`) when the recipient is on the
/// environment's suppression list.
async fn suppressed(
    deps: &Deps,
    route: &Route,
    job: &Job,
    request: &SendRequest,
    attempts: u32,
) -> Option<Outcome> {
    if !deps.settings.suppression.enabled {
        return None;
    }
    let to = request.fields.destination.as_ref()?.to_addresses.first()?;
    match deps.ledger.is_suppressed(&route.environment, to).await {
        Ok(true) => Some(not_sent(job, route, "suppressed")),
        Ok(false) => None,
        Err(e) => {
            ledger_error(
                deps,
                &e,
                "cannot read the suppression list; the job will be retried",
            );
            Some(unavailable(deps, job, route, attempts))
        }
    }
}

/// Asks the ledger whether this delivery may send, starting from the claim
/// taken while rendering if there is one.
async fn permit(
    deps: &Deps,
    route: &Route,
    job: &Job,
    ctx: Context<'_>,
    mut early: EarlyClaim,
) -> Permit {
    let started = tokio::time::Instant::now();
    loop {
        let answer = match early.take() {
            Some(answer) => answer,
            None => {
                let claim = deps.ledger.claim(&job.id, deps.lease);
                timed(deps, &deps.metrics.ledger.claim_duration, claim).await
            }
        };
        let claim = match answer {
            Ok(claim) => claim,
            Err(e) => {
                ledger_error(
                    deps,
                    &e,
                    "cannot claim the job; no email is sent without a claim",
                );
                return Permit::Done(Box::new(unavailable(
                    deps,
                    job,
                    route,
                    ctx.history.attempts,
                )));
            }
        };
        match claim {
            Claim::Acquired(token) => {
                return Permit::Send {
                    token,
                    in_doubt: false,
                }
            }
            Claim::Accepted(acceptance) => {
                return Permit::Done(Box::new(duplicate(deps, route, job, acceptance)))
            }
            Claim::InDoubt(token) => {
                deps.metrics.ledger.in_doubt.inc();
                tracing::warn!(
                    "a worker died during this job's SES request: it may have been sent"
                );
                if deps.settings.idempotency.in_doubt == InDoubtPolicy::DeadLetter {
                    let mut outcome = dead(
                        Subject::Job(job, Some(route)),
                        Failure::InDoubt,
                        ctx.history.attempts,
                    );
                    mark_in_doubt(&mut outcome);
                    return Permit::Done(Box::new(outcome));
                }
                return Permit::Send {
                    token,
                    in_doubt: true,
                };
            }
            Claim::Held { retry_after } => {
                let waited = started.elapsed();
                if waited >= HELD_WAIT || ctx.stopping.is_cancelled() {
                    let outcome = wait_in_tier(
                        deps,
                        job,
                        route,
                        ctx.history.attempts,
                        "claimed by another worker",
                    );
                    return Permit::Done(Box::new(outcome));
                }
                let pause =
                    retry_after.clamp(Duration::from_millis(20), Duration::from_millis(250));
                tokio::time::sleep(pause.min(HELD_WAIT - waited)).await;
            }
        }
    }
}

/// The recorded `message.sent` published again, marked as a duplicate.
fn duplicate(deps: &Deps, route: &Route, job: &Job, acceptance: Acceptance) -> Outcome {
    deps.metrics
        .ledger
        .duplicates_suppressed
        .get_or_create(&RouteLabels::of(route))
        .inc();
    tracing::info!(provider_message_id = %acceptance.provider_message_id, "already accepted by SES; not sent again");
    let mut event = serde_json::from_str::<Event>(acceptance.event.get()).unwrap_or_else(|_| {
        let mut event = event(EventType::Sent, job, Some(route), acceptance.attempts);
        event.provider_message_id =
            Some(acceptance.provider_message_id).filter(|id| !id.is_empty());
        event
    });
    set(&mut event.event_data, "duplicate", json!(true));
    Outcome::Finished(event)
}

/// `message.sent`, recorded in the ledger before it is published.
async fn accepted_outcome(
    deps: &Deps,
    route: &Route,
    job: &Job,
    accepted: Option<String>,
    attempts: u32,
    region: Option<String>,
) -> Outcome {
    let mut event = event(EventType::Sent, job, Some(route), attempts);
    event.provider_message_id = accepted;
    if let Some(region) = region {
        set(&mut event.event_data, "region", json!(region));
    }
    let acceptance = Acceptance {
        provider_message_id: event.provider_message_id.clone().unwrap_or_default(),
        accepted_at: now_rfc3339(),
        attempts,
        event: serde_json::value::to_raw_value(&event).expect("events serialise"),
    };
    let record = deps.ledger.record(&job.id, acceptance);
    let recorded = timed(deps, &deps.metrics.ledger.record_duration, record).await;
    if let Err(e) = recorded {
        ledger_error(
            deps,
            &e,
            "SES accepted the email but the ledger could not record it",
        );
    }
    Outcome::Finished(event)
}

/// The store could not answer: the job waits on the first retry tier, its
/// attempts untouched, and no email goes out without a claim.
fn unavailable(deps: &Deps, job: &Job, route: &Route, attempts: u32) -> Outcome {
    wait_in_tier(deps, job, route, attempts, "the send ledger is unavailable")
}

fn wait_in_tier(deps: &Deps, job: &Job, route: &Route, attempts: u32, why: &str) -> Outcome {
    let mut event = event(
        EventType::DeliveryAttempted,
        job,
        Some(route),
        attempts.max(1),
    );
    event.event_data = json!({
        "attempt": attempts,
        "max_attempts": deps.settings.retry.max_attempts,
        "retryable": true,
        "error": why,
        "error_code": "not_sent_yet",
    });
    Outcome::Retry {
        event,
        attempts,
        tier: 0,
    }
}

fn mark_in_doubt(outcome: &mut Outcome) {
    let event = match outcome {
        Outcome::Finished(event) | Outcome::Retry { event, .. } => Some(event),
        Outcome::Dead(dead) => dead.event.as_mut(),
        Outcome::Returned(_) => None,
    };
    if let Some(event) = event {
        set(&mut event.event_data, "in_doubt", json!(true));
    }
}

fn set(data: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if !data.is_object() {
        *data = json!({});
    }
    data[key] = value;
}

/// Counts a credentials failure, and logs it at most once a minute per
/// environment (every job of the environment fails alike). The job keeps
/// the attempts it had: it is the environment that failed, not the job.
fn credentials_failed(deps: &Deps, route: &Route, error: &SendError, attempts: u32) -> u32 {
    deps.metrics.credential_failure(&route.environment);
    if crate::clock::due(&route.credentials_warned, Duration::from_secs(60)) {
        tracing::error!(environment = %route.environment, error = %error, "SES refused the environment's credentials; its jobs wait on the longest retry tier");
    }
    attempts
}

/// Logs and counts a ledger failure, in the one place that does both.
fn ledger_error(deps: &Deps, error: &LedgerError, what: &str) {
    deps.metrics.ledger.errors.inc();
    tracing::error!(error = %error, "{what}");
}
