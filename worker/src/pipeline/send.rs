//! Sending through SES with the in-process part of the retry policy: quick
//! jittered exponential retries (backon), every request counted as an attempt.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Instant;

use backon::{ExponentialBuilder, Retryable};

use super::{policy, Context};
use crate::channels::Route;
use crate::metrics::Metrics;
use crate::request::SendRequest;
use crate::ses::{Retry, SendError, SesClient};
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
}

/// Sends `request`, retrying transient failures in process while the policy
/// allows. No retry starts once the delivery can no longer be settled.
pub async fn send_with_retries(
    client: &SesClient,
    route: &Route,
    metrics: &Metrics,
    policy: &RetrySettings,
    request: &SendRequest,
    ctx: Context<'_>,
) -> SendReport {
    let quick_retries = policy::quick_retries(policy, ctx.history);
    let made = AtomicU32::new(0);
    let returned = AtomicBool::new(false);
    let attempt = || async {
        if let Some(limiter) = &route.limiter {
            let waited = tokio::select! {
                waited = limiter.acquire(request.recipient_count()) => waited,
                _ = ctx.stopping.cancelled() => {
                    returned.store(true, Ordering::Relaxed);
                    return Err(SendError::new(Retry::Permanent, "Stopping", "the worker is stopping"));
                }
            };
            metrics.rate_limit_wait.observe(waited.as_secs_f64());
        }
        if !(ctx.settleable)() {
            returned.store(true, Ordering::Relaxed);
            return Err(SendError::new(
                Retry::Permanent,
                "Stopping",
                "the delivery can no longer be settled",
            ));
        }
        made.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let result = client.send(request).await;
        let outcome = match &result {
            Ok(Some(_)) => "ok",
            Ok(None) => {
                tracing::warn!("SES accepted the email but its answer had no readable MessageId");
                metrics.ses_unreadable_acceptances.inc();
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
        result
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
    }
}

fn outcome_label(retry: Retry) -> &'static str {
    match retry {
        Retry::Transient => "transient_error",
        Retry::Paused => "sending_paused",
        Retry::Permanent => "permanent_error",
        Retry::Credentials => "credentials_error",
    }
}
