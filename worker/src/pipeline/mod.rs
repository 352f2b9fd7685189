//! One job, from its bytes to a typed [`Outcome`]: parse, route, render,
//! send (or write to the sandbox outbox). No broker I/O happens here, so tests
//! drive this step directly.

mod outcome;
mod send;

use std::sync::Arc;
use std::time::Instant;

use herald_shared::tags::sanitize_tag_value;
use herald_shared::{EventType, Job};
use serde_json::json;
use tracing::Span;

pub use outcome::{DeadLetter, FailureReason, Outcome};

use crate::clock::now_rfc3339;
use crate::metrics::Metrics;
use crate::render::{self, mime, RenderError, RenderedEmail, TemplateStore};
use crate::routes::{Route, Routes, Transport};
use crate::ses::{Retry, SendRequest};
use crate::settings::Settings;

/// What processing needs, built once per configuration load.
pub struct Deps {
    pub settings: Settings,
    pub templates: TemplateStore,
    pub routes: Routes,
    pub metrics: Arc<Metrics>,
}

/// Where a delivery stands in the retry policy, read from its headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// SES requests already made for this job.
    pub attempts: u32,
    /// Delayed retries already taken.
    pub retries: u32,
}

/// An outcome and the configured route it went through, if any: metrics take
/// their labels from the route, never from job data.
pub struct Processed {
    pub outcome: Outcome,
    pub route: Option<Arc<Route>>,
}

/// Processes one job body. Records `message_id`, `workflow`, `environment`
/// and `channel` on the current span.
pub async fn process(deps: &Deps, body: &[u8], history: History) -> Processed {
    let mut route = None;
    let outcome = process_routed(deps, body, history, &mut route).await;
    Processed { outcome, route }
}

async fn process_routed(
    deps: &Deps,
    body: &[u8],
    history: History,
    routed: &mut Option<Arc<Route>>,
) -> Outcome {
    let job = match Job::parse(body, deps.settings.limits.max_job_bytes) {
        Ok(job) => job,
        Err(e) => {
            let id = Job::peek_id(body);
            if let Some(id) = &id {
                Span::current().record("message_id", id.as_str());
            }
            return outcome::fatal(
                None,
                id,
                None,
                "invalid_job",
                e.to_string(),
                history.attempts,
            );
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
        Ok(route) => route,
        Err(e) => {
            let attempts = history.attempts;
            return outcome::fatal(Some(&job), None, None, e.code(), e.to_string(), attempts);
        }
    };
    span.record("channel", route.channel.as_str());
    *routed = Some(route.clone());
    let started = Instant::now();
    let built = build_email(&deps.templates, route, &job);
    deps.metrics
        .render_duration
        .observe(started.elapsed().as_secs_f64());
    let (email, raw) = match built {
        Ok(built) => built,
        Err(RenderError::MissingEmail) => {
            return outcome::not_sent(&job, route, "recipient_missing_email")
        }
        Err(RenderError::InvalidEmail(_)) => {
            return outcome::not_sent(&job, route, "recipient_invalid_email")
        }
        Err(e) => {
            let attempts = history.attempts;
            return outcome::fatal(
                Some(&job),
                None,
                Some(route),
                "render_error",
                e.to_string(),
                attempts,
            );
        }
    };
    match &route.transport {
        Transport::Sandbox { outbox } => sandbox(route, &job, outbox.as_deref(), &raw).await,
        Transport::Ses(client) => {
            let request = send_request(route, &job, email, raw);
            deliver(deps, route, client, &job, &request, history).await
        }
    }
}

/// Renders the email and its MIME bytes; shared with `herald render`.
pub fn build_email(
    store: &TemplateStore,
    route: &Route,
    job: &Job,
) -> Result<(RenderedEmail, Vec<u8>), RenderError> {
    let email = render::render(
        store,
        &route.sender,
        &route.settings.vars,
        job,
        &now_rfc3339(),
    )?;
    let raw = mime::build(&email, &job.id).map_err(|message| RenderError::Invalid {
        field: "message".into(),
        message,
    })?;
    Ok((email, raw))
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
            let message = format!("cannot write {}: {e}", file.display());
            return outcome::fatal(Some(job), None, Some(route), "outbox_error", message, 0);
        }
    }
    outcome::not_sent(job, route, "sandbox")
}

/// The SendEmail request: envelope, raw bytes, tags and configuration set.
pub fn send_request(route: &Route, job: &Job, email: RenderedEmail, raw: Vec<u8>) -> SendRequest {
    let prefix = &route.settings.tag_prefix;
    let tags = vec![
        ("sender".to_owned(), "herald".to_owned()),
        (format!("{prefix}_message_id"), sanitize_tag_value(&job.id)),
        (
            format!("{prefix}_workflow"),
            sanitize_tag_value(&job.workflow),
        ),
        (
            format!("{prefix}_recipient_id"),
            sanitize_tag_value(&job.recipient.id),
        ),
    ];
    SendRequest {
        from: email.from.address,
        to: vec![email.to.address],
        cc: email.cc,
        bcc: email.bcc,
        raw,
        tags,
        configuration_set: route.settings.configuration_set.clone(),
    }
}

async fn deliver(
    deps: &Deps,
    route: &Route,
    client: &crate::ses::SesClient,
    job: &Job,
    request: &SendRequest,
    history: History,
) -> Outcome {
    let policy = &deps.settings.retry;
    let report = send::send_with_retries(
        client,
        route,
        &deps.metrics,
        policy,
        request,
        history.attempts,
    )
    .await;
    let attempts = history.attempts + report.attempts;
    let error = match report.result {
        Ok(provider_id) => {
            let mut event = outcome::event(EventType::Sent, job, Some(route), attempts);
            event.provider_message_id = Some(provider_id);
            return Outcome::Finished(event);
        }
        Err(error) => error,
    };
    let (code, message) = (error.code.clone(), error.message.clone());
    if error.retry == Retry::Permanent {
        return outcome::fatal(Some(job), None, Some(route), &code, message, attempts);
    }
    if attempts >= policy.max_attempts {
        let reason = FailureReason::RetriesExhausted;
        return outcome::dead(
            Some(job),
            None,
            Some(route),
            reason,
            &code,
            message,
            attempts,
        );
    }
    let last_tier = policy.tiers.len() - 1;
    let tier = match error.retry {
        Retry::Paused => last_tier,
        _ => (history.retries as usize).min(last_tier),
    };
    let mut event = outcome::event(EventType::DeliveryAttempted, job, Some(route), attempts);
    event.event_data = json!({
        "attempt": attempts,
        "max_attempts": policy.max_attempts,
        "retryable": true,
        "error": error.to_string(),
        "error_code": code,
    });
    Outcome::Retry {
        event,
        attempts,
        tier,
    }
}
