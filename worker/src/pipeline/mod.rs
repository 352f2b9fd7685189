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
use crate::ses::overrides::{self, Node};
use crate::ses::request::{Destination, Tag};
use crate::ses::{RequestFields, Retry, SendRequest};
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
    let built = prepare(&deps.templates, route, &job);
    deps.metrics
        .render_duration
        .observe(started.elapsed().as_secs_f64());
    let request = match built {
        Ok(prepared) => prepared.request,
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
        Transport::Sandbox { outbox } => {
            sandbox(route, &job, outbox.as_deref(), &request.raw).await
        }
        Transport::Ses(client) => deliver(deps, route, client, &job, &request, history).await,
    }
}

/// A rendered email and the exact request that would send it.
pub struct Prepared {
    pub email: RenderedEmail,
    pub request: SendRequest,
}

/// Renders the email, builds its MIME and its `SendEmail` request with the
/// JSON overrides applied; shared with `herald render`.
pub fn prepare(store: &TemplateStore, route: &Route, job: &Job) -> Result<Prepared, RenderError> {
    let globals = render::job_globals(job, &route.settings.vars, &now_rfc3339());
    let mut email = render::render_with(store, &route.sender, &globals, job)?;
    if route.settings.marks_links_no_track() {
        email.html = email
            .html
            .map(|html| render::tracking::mark_links_no_track(&html));
    }
    let raw =
        mime::build(&email, &job.id).map_err(|message| render::invalid("message", message))?;
    let mut layers = Vec::new();
    if let Some(node) = &route.json_overrides {
        layers.push(
            node.render(&globals)
                .map_err(|e| render::invalid("json_overrides", e))?,
        );
    }
    if let Some(json) = job.overrides.as_ref().and_then(|o| o.json.as_ref()) {
        let field = "overrides.json";
        let node = Node::parse(store, json).map_err(|e| render::invalid(field, e))?;
        layers.push(
            node.render(&globals)
                .map_err(|e| render::invalid(field, e))?,
        );
    }
    let base = request_fields(route, job, &email);
    let mut fields =
        overrides::apply(base, &layers).map_err(|e| render::invalid("json overrides", e))?;
    overrides::sanitize_tags(&mut fields);
    Ok(Prepared {
        email,
        request: SendRequest { fields, raw },
    })
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

/// The request fields Herald computes: envelope, tags, configuration set.
fn request_fields(route: &Route, job: &Job, email: &RenderedEmail) -> RequestFields {
    let prefix = &route.settings.tag_prefix;
    let tag = |name: String, value: &str| Tag {
        name,
        value: sanitize_tag_value(value),
    };
    RequestFields {
        from_email_address: Some(email.from.address.clone()),
        destination: Some(Destination {
            to_addresses: vec![email.to.address.clone()],
            cc_addresses: email.cc.clone(),
            bcc_addresses: email.bcc.clone(),
        }),
        email_tags: Some(vec![
            tag("sender".into(), "herald"),
            tag(format!("{prefix}_message_id"), &job.id),
            tag(format!("{prefix}_workflow"), &job.workflow),
            tag(format!("{prefix}_recipient_id"), &job.recipient.id),
        ]),
        configuration_set_name: route
            .settings
            .configuration_set_for_send()
            .map(str::to_owned),
        ..RequestFields::default()
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
