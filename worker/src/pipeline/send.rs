//! Sending through SES with the in-process part of the retry policy: quick
//! jittered exponential retries (backon), every request counted as an
//! attempt. Each request goes to the first region whose circuit breaker lets
//! it through; when none does, no request is made.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};

use super::{policy, Context};
use crate::channels::{Route, SesTarget};
use crate::circuit::{Admit, Phase, Transition, Verdict};
use crate::metrics::Metrics;
use crate::ratelimit::SendRateLimiter;
use crate::request::SendRequest;
use crate::ses::{Retry, SendError};
use crate::settings::RetrySettings;

/// The result of the SES requests of one delivery.
pub struct SendReport {
    /// SES's message id when it accepted the email (`None` if its answer
    /// could not be read), or the last request's error.
    pub result: Result<Option<String>, SendError>,
    /// SES requests made in this delivery.
    pub attempts: u32,
    /// The worker began to stop while the job waited for the rate limiter:
    /// nothing was sent by that wait, the job goes back to the queue.
    pub returned: bool,
    /// The region of the last request.
    pub region: Option<String>,
}

/// One email's SES requests: where, what, and under which policy.
pub struct Send<'a> {
    pub targets: &'a [SesTarget],
    pub route: &'a Route,
    pub metrics: &'a Metrics,
    pub policy: &'a RetrySettings,
    pub request: &'a SendRequest,
    /// When the first request's turn at the rate limiter came, if it was
    /// taken already.
    pub paced: Option<Instant>,
}

/// A request sent this long after its turn at the rate limiter (the claim
/// in between was slow) takes another turn: sent late, it would land among
/// the next turns' requests, and SES counts them all in one second.
const STALE_TURN: Duration = crate::ratelimit::fleet::LATE;

/// Waits for the request's turn at the rate limiter; `None` when the worker
/// began to stop meanwhile.
pub async fn pace(
    limiter: &SendRateLimiter,
    route: &Route,
    metrics: &Metrics,
    request: &SendRequest,
    ctx: Context<'_>,
) -> Option<Instant> {
    let acquired = tokio::select! {
        acquired = limiter.acquire(request.recipient_count()) => acquired,
        _ = ctx.stopping.cancelled() => return None,
    };
    metrics
        .rate_limit_wait
        .observe(acquired.waited.as_secs_f64());
    if acquired.fell_back {
        metrics
            .rate_limit_fallbacks
            .get_or_create(&crate::metrics::RouteLabels::of(route))
            .inc();
    }
    Some(Instant::now())
}

/// Sends the request, retrying transient failures in process while the
/// policy allows. No retry starts once the delivery can no longer be
/// settled.
pub async fn send_with_retries(send: Send<'_>, ctx: Context<'_>) -> SendReport {
    let Send {
        targets,
        route,
        metrics,
        policy,
        request,
        paced,
    } = send;
    let quick_retries = policy::quick_retries(policy, ctx.history);
    let made = AtomicU32::new(0);
    let returned = AtomicBool::new(false);
    let first_paced = AtomicBool::new(paced.is_some_and(|at| at.elapsed() <= STALE_TURN));
    let region = Mutex::new(None);
    let paused_for = policy.tiers.iter().max().copied().unwrap_or_default();
    let attempt = || async {
        let needs_turn = !first_paced.swap(false, Ordering::Relaxed);
        if let (Some(limiter), true) = (&route.limiter, needs_turn) {
            if pace(limiter, route, metrics, request, ctx).await.is_none() {
                returned.store(true, Ordering::Relaxed);
                return Err(stopping("the worker is stopping"));
            }
        }
        if !(ctx.settleable)() {
            returned.store(true, Ordering::Relaxed);
            return Err(stopping("the delivery can no longer be settled"));
        }
        let (target, probe) = choose(targets, route, metrics).map_err(|wait| {
            SendError::new(
                Retry::CircuitOpen(wait),
                "CircuitOpen",
                format!(
                    "SES is failing for {}: its circuit breaker is open",
                    route.environment
                ),
            )
        })?;
        made.fetch_add(1, Ordering::Relaxed);
        *region.lock().unwrap_or_else(|p| p.into_inner()) = Some(target.region.clone());
        request_once(target, probe, route, metrics, request, paused_for).await
    };
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.in_process.min_delay)
        .with_max_delay(policy.in_process.max_delay)
        .with_max_times(quick_retries as usize)
        .with_jitter();
    let result = attempt
        .retry(backoff)
        .when(|e: &SendError| e.retry == Retry::Transient && (ctx.settleable)())
        .notify(|e, delay| tracing::debug!(error = %e, ?delay, "SES request failed, retrying"))
        .await;
    SendReport {
        result,
        attempts: made.load(Ordering::Relaxed),
        returned: returned.load(Ordering::Relaxed),
        region: region.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

/// Why no request was made: the worker stops, or the delivery's channel
/// closed.
fn stopping(why: &str) -> SendError {
    SendError::new(Retry::Permanent, "Stopping", why)
}

/// One SES request to `target`, measured and told to its circuit breaker.
async fn request_once(
    target: &SesTarget,
    probe: bool,
    route: &Route,
    metrics: &Metrics,
    request: &SendRequest,
    paused_for: Duration,
) -> Result<Option<String>, SendError> {
    let start = Instant::now();
    let result = target.client.send(request).await;
    let outcome = match &result {
        Ok(Some(_)) => "ok",
        Ok(None) => {
            tracing::warn!("SES accepted the email but its answer had no readable MessageId");
            metrics.ses.unreadable_acceptances.inc();
            "ok"
        }
        Err(e) => outcome_label(e.retry),
    };
    metrics.ses_request(
        &route.environment,
        &route.channel,
        outcome,
        start.elapsed().as_secs_f64(),
    );
    let verdict = verdict(&result, paused_for);
    if let Some(t) = target.breaker.record(Instant::now(), probe, verdict) {
        transition(metrics, route, target, t);
    }
    result
}

/// The first region whose breaker lets a request by, and whether that
/// request is its probe; else the shortest wait.
fn choose<'t>(
    targets: &'t [SesTarget],
    route: &Route,
    metrics: &Metrics,
) -> Result<(&'t SesTarget, bool), Duration> {
    let mut wait = Duration::MAX;
    for target in targets {
        let (admit, change) = target.breaker.admit(Instant::now());
        if let Some(t) = change {
            transition(metrics, route, target, t);
        }
        match admit {
            Admit::Send => return Ok((target, false)),
            Admit::Probe => return Ok((target, true)),
            Admit::Wait(w) => wait = wait.min(w),
        }
    }
    Err(wait)
}

/// What a request's end says of SES's health.
fn verdict(result: &Result<Option<String>, SendError>, paused_for: Duration) -> Verdict {
    let Err(e) = result else {
        return Verdict::Success;
    };
    match e.retry {
        Retry::Permanent => Verdict::Success,
        Retry::Paused => Verdict::Paused(paused_for),
        Retry::Credentials | Retry::CircuitOpen(_) => Verdict::Neutral,
        Retry::Transient if is_throttling(&e.code) => Verdict::Neutral,
        Retry::Transient => Verdict::ProviderFailure,
    }
}

/// Throttling is SES working as asked: it says nothing of an outage.
fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "TooManyRequestsException"
            | "LimitExceededException"
            | "Throttling"
            | "ThrottlingException"
            | "HttpStatus429"
    )
}

/// Reports a breaker's change of phase.
fn transition(metrics: &Metrics, route: &Route, target: &SesTarget, t: Transition) {
    metrics.circuit_transition(&route.environment, &route.channel, &target.region, t.to);
    match t.to {
        Phase::Open => tracing::warn!(
            environment = %route.environment, channel = %route.channel, region = %target.region,
            open_for = ?t.open_for, "SES keeps failing: circuit breaker open, no requests meanwhile"
        ),
        Phase::HalfOpen => tracing::info!(
            environment = %route.environment, region = %target.region,
            "circuit breaker half-open: one probe goes to SES"
        ),
        Phase::Closed => tracing::info!(
            environment = %route.environment, region = %target.region,
            "SES answers again: circuit breaker closed"
        ),
    }
}

fn outcome_label(retry: Retry) -> &'static str {
    match retry {
        Retry::Transient => "transient_error",
        Retry::Paused => "sending_paused",
        Retry::Permanent => "permanent_error",
        Retry::Credentials => "credentials_error",
        Retry::CircuitOpen(_) => "circuit_open",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_outages_count_against_the_breaker() {
        use Retry::{Credentials, Paused, Permanent, Transient};
        let hour = Duration::from_secs(3600);
        assert_eq!(verdict(&Ok(Some("id".into())), hour), Verdict::Success);
        let cases = [
            (Permanent, "MessageRejected", Verdict::Success),
            (Transient, "HttpStatus503", Verdict::ProviderFailure),
            (Transient, "Timeout", Verdict::ProviderFailure),
            (Transient, "ConnectionError", Verdict::ProviderFailure),
            (Transient, "TooManyRequestsException", Verdict::Neutral),
            (Credentials, "ExpiredToken", Verdict::Neutral),
            (Paused, "SendingPausedException", Verdict::Paused(hour)),
        ];
        for (retry, code, expected) in cases {
            assert_eq!(
                verdict(&Err(SendError::new(retry, code, "x")), hour),
                expected,
                "{code}"
            );
        }
    }
}
