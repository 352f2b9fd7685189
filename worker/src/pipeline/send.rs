//! Sending through SES with the in-process part of the retry policy: quick
//! jittered exponential retries (backon), every request counted as an attempt.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use backon::{ExponentialBuilder, Retryable};

use crate::metrics::Metrics;
use crate::routes::Route;
use crate::ses::{Retry, SendError, SendRequest, SesClient};
use crate::settings::RetrySettings;

/// The result of the SES requests of one delivery.
pub struct SendReport {
    pub result: Result<String, SendError>,
    /// SES requests made in this delivery.
    pub attempts: u32,
}

/// Sends `request`, retrying transient failures in process while the budget
/// allows. `attempts_so_far` counts earlier deliveries' requests.
pub async fn send_with_retries(
    client: &SesClient,
    route: &Route,
    metrics: &Metrics,
    policy: &RetrySettings,
    request: &SendRequest,
    attempts_so_far: u32,
) -> SendReport {
    let budget = policy.max_attempts.saturating_sub(attempts_so_far).max(1);
    let quick_retries = if attempts_so_far == 0 {
        policy.in_process.attempts.min(budget - 1)
    } else {
        0
    };
    let made = AtomicU32::new(0);
    let attempt = || async {
        if let Some(limiter) = &route.limiter {
            let waited = limiter.acquire(request.recipient_count()).await;
            metrics.rate_limit_wait.observe(waited.as_secs_f64());
        }
        made.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let result = client.send(request).await;
        let outcome = match &result {
            Ok(_) => "ok",
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
        .when(|e: &SendError| e.retry == Retry::Transient)
        .notify(|e, delay| tracing::debug!(error = %e, ?delay, "SES request failed, retrying"))
        .await;
    SendReport {
        result,
        attempts: made.load(Ordering::Relaxed),
    }
}

fn outcome_label(retry: Retry) -> &'static str {
    match retry {
        Retry::Transient => "transient_error",
        Retry::Paused => "sending_paused",
        Retry::Permanent => "permanent_error",
    }
}
