//! The pipeline step driven directly, with no broker: `pipeline::process`
//! against the fake SES, for every outcome a job can come to. The settings
//! point the broker at a closed port, so nothing here can reach RabbitMQ.

use std::sync::Arc;

use herald_shared::EventType;
use herald_shared::Job;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{example_templates_dir, ses_config, test_ledger_path};
use herald_tests::{free_port, job_json};
use herald_worker::channels::Mode;
use herald_worker::cli::setup;
use herald_worker::pipeline::{self, Context, Deps, FailureReason, History, JobBody, Outcome};
use herald_worker::request::prepare;
use herald_worker::settings::{Secret, Settings};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const SANDBOX: &str = r#"
[channels.ses.environments.dev]
sandbox = true
from_address = "dev@example.com"
vars = { app_name = "Example", domain = "example.com" }
"#;

async fn deps(config: &str) -> Arc<Deps> {
    let mut settings = Settings::from_toml("step", config, &|_| None).expect("config");
    settings.amqp.url = Secret::new(format!("amqp://guest:guest@127.0.0.1:{}/%2f", free_port()));
    settings.templates.dir = example_templates_dir();
    settings.idempotency.path = test_ledger_path();
    let deps = setup::build(settings, Some("step"), Mode::Live).await;
    Arc::new(deps.unwrap_or_else(|e| panic!("{e}")))
}

async fn ses_deps(ses: &FakeSes) -> Arc<Deps> {
    deps(&format!("{SANDBOX}{}", ses_config(&ses.url, ""))).await
}

async fn process(deps: &Arc<Deps>, job: &serde_json::Value, history: History) -> Outcome {
    process_bytes(deps, job.to_string().as_bytes(), history).await
}

async fn process_bytes(deps: &Arc<Deps>, body: &[u8], history: History) -> Outcome {
    let stopping = CancellationToken::new();
    let ctx = Context {
        history,
        settleable: &|| true,
        stopping: &stopping,
    };
    let body = JobBody::new(body.to_vec());
    pipeline::process(deps, &body, ctx).await.outcome
}

/// A job for ada@example.com, processed at its first delivery.
async fn first_delivery(ses: &FakeSes, id: &str) -> Outcome {
    let deps = ses_deps(ses).await;
    process(&deps, &job_json(id, "prod", "ada@example.com"), first()).await
}

fn first() -> History {
    History::default()
}

/// The event, attempts and tier of a delivery sent through a retry tier.
fn retried(outcome: Outcome) -> (herald_shared::Event, u32, usize) {
    match outcome {
        Outcome::Retry {
            event,
            attempts,
            tier,
        } => (event, attempts, tier),
        other => panic!("expected a retry: {other:?}"),
    }
}

fn dead_code(outcome: &Outcome) -> (FailureReason, String) {
    match outcome {
        Outcome::Dead(dead) => (dead.failure.reason(), dead.failure.code().to_owned()),
        other => panic!("expected a dead letter, got {other:?}"),
    }
}

#[tokio::test]
async fn an_accepted_email_is_sent_with_the_ses_message_id() {
    let ses = FakeSes::start().await;
    let outcome = first_delivery(&ses, "step-sent").await;
    let Outcome::Finished(event) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(event.kind, EventType::Sent);
    assert!(event.provider_message_id.unwrap().starts_with("fake-"));
    assert_eq!(event.attempt, 1);
    assert_eq!(ses.served(), 1);
}

#[tokio::test]
async fn a_2xx_answer_that_cannot_be_read_is_still_sent_and_counted() {
    let ses = FakeSes::start().await;
    ses.script([Reply::OkUnreadable, Reply::OkWithoutId]);
    let deps = ses_deps(&ses).await;
    for id in ["step-unreadable", "step-no-id"] {
        let outcome = process(&deps, &job_json(id, "prod", "ada@example.com"), first()).await;
        let Outcome::Finished(event) = outcome else {
            panic!("{id}: {outcome:?}")
        };
        assert_eq!(event.kind, EventType::Sent, "{id}");
        assert_eq!(event.provider_message_id, None, "{id}");
    }
    assert_eq!(deps.metrics.ses.unreadable_acceptances.get(), 2);
    assert_eq!(ses.served(), 2, "no request was repeated");
}

#[tokio::test]
async fn sandbox_and_recipient_problems_are_not_sent() {
    let ses = FakeSes::start().await;
    let deps = ses_deps(&ses).await;
    let mut no_email = job_json("step-no-email", "prod", "x@example.com");
    no_email["recipient"]
        .as_object_mut()
        .unwrap()
        .remove("email");
    let cases = [
        (
            job_json("step-sandbox", "dev", "ada@example.com"),
            "sandbox",
        ),
        (no_email, "recipient_missing_email"),
        (
            job_json("step-bad-email", "prod", "not an address"),
            "recipient_invalid_email",
        ),
    ];
    for (job, reason) in cases {
        let outcome = process(&deps, &job, first()).await;
        let Outcome::Finished(event) = outcome else {
            panic!("{reason}: {outcome:?}")
        };
        assert_eq!(event.kind, EventType::NotSent, "{reason}");
        assert_eq!(event.event_data["reason"], reason);
    }
    assert_eq!(ses.served(), 0);
}

#[tokio::test]
async fn a_throttled_send_is_retried_in_process_then_delayed_on_the_first_tier() {
    let ses = FakeSes::start().await;
    ses.set_default(Reply::throttled());
    let outcome = first_delivery(&ses, "step-retry").await;
    let (event, attempts, tier) = retried(outcome);
    assert_eq!((attempts, tier), (2, 0), "one request and one quick retry");
    assert_eq!(event.kind, EventType::DeliveryAttempted);
    assert_eq!(event.event_data["error_code"], "TooManyRequestsException");
    assert_eq!(ses.served(), 2);
}

#[tokio::test]
async fn every_dead_letter_reason_is_reached_without_a_broker() {
    let ses = FakeSes::start().await;
    let deps = ses_deps(&ses).await;
    let ok = || job_json("step-dead", "prod", "ada@example.com");
    let mut unknown_env = ok();
    unknown_env["environment"] = json!("staging");
    let mut broken_template = ok();
    broken_template["template"] = json!({ "subject": "Hi {{ data.nothing_here }}", "text": "x" });

    let bad_json = process_bytes(&deps, b"{ not json", first()).await;
    assert_eq!(
        dead_code(&bad_json),
        (FailureReason::FatalError, "invalid_job".into())
    );
    let route = process(&deps, &unknown_env, first()).await;
    assert_eq!(
        dead_code(&route),
        (FailureReason::FatalError, "unknown_environment".into())
    );
    let render = process(&deps, &broken_template, first()).await;
    assert_eq!(
        dead_code(&render),
        (FailureReason::FatalError, "render_error".into())
    );
    assert_eq!(
        ses.served(),
        0,
        "nothing reached SES before rendering succeeded"
    );

    ses.script([Reply::rejected()]);
    let rejected = process(&deps, &ok(), first()).await;
    assert_eq!(
        dead_code(&rejected),
        (FailureReason::FatalError, "MessageRejected".into())
    );

    ses.set_default(Reply::server_error());
    let last = History {
        attempts: 3,
        retries: 2,
    };
    let exhausted = process(&deps, &ok(), last).await;
    assert_eq!(
        dead_code(&exhausted),
        (FailureReason::RetriesExhausted, "InternalFailure".into())
    );
    let Outcome::Dead(dead) = exhausted else {
        unreachable!()
    };
    assert_eq!(dead.attempts, 4, "max_attempts bounds every layer together");
    let event = dead.event.expect("an undelivered event");
    assert_eq!(event.kind, EventType::Undelivered);
    assert_eq!(event.event_data["failure_reason"], "retries_exhausted");
}

#[tokio::test]
async fn a_job_whose_delivery_can_no_longer_be_settled_is_returned_unsent() {
    let ses = FakeSes::start().await;
    let deps = ses_deps(&ses).await;
    let body = job_json("step-closed", "prod", "ada@example.com").to_string();
    let stopping = CancellationToken::new();
    let ctx = Context {
        history: first(),
        settleable: &|| false,
        stopping: &stopping,
    };
    let body = JobBody::new(body.into_bytes());
    let outcome = pipeline::process(&deps, &body, ctx).await.outcome;
    assert!(matches!(outcome, Outcome::Returned(_)), "{outcome:?}");
    assert_eq!(ses.served(), 0);
}

#[tokio::test]
async fn translations_fall_back_from_the_job_to_the_environments_default_locale() {
    let deps = deps(&format!("{SANDBOX}default_locale = \"fr\"\n")).await;
    let route = deps.routes.resolve("dev", None).unwrap();
    let mut job = job_json("step-locale", "dev", "ada@example.com");
    let subject = "{{ \"welcome.greeting\" | t: name: recipient.name }}";
    job["template"] = json!({ "subject": subject, "text": "x" });
    let french: Job = serde_json::from_value(job.clone()).unwrap();
    let prepared = prepare(&deps.templates, route, &french).unwrap();
    assert_eq!(prepared.email.subject, "Bonjour Ada Lovelace,");
    job["locale"] = json!("en");
    let english: Job = serde_json::from_value(job.clone()).unwrap();
    let prepared = prepare(&deps.templates, route, &english).unwrap();
    assert_eq!(prepared.email.subject, "Hi Ada Lovelace,");
    job["recipient"]["locale"] = json!("fr-CA");
    let recipient: Job = serde_json::from_value(job).unwrap();
    let prepared = prepare(&deps.templates, route, &recipient).unwrap();
    assert_eq!(
        prepared.email.subject, "Bonjour Ada Lovelace,",
        "fr-CA falls back to fr"
    );
}

#[tokio::test]
async fn refused_credentials_wait_on_the_longest_tier_without_using_attempts() {
    let ses = FakeSes::start().await;
    ses.set_default(Reply::Error(403, "InvalidClientTokenId"));
    let deps = ses_deps(&ses).await;
    let job = job_json("step-creds", "prod", "ada@example.com");
    let history = History {
        attempts: 2,
        retries: 1,
    };
    let outcome = process(&deps, &job, history).await;
    let (event, attempts, tier) = retried(outcome);
    let last = deps.settings.retry.tiers.len() - 1;
    assert_eq!(
        (attempts, tier),
        (2, last),
        "no attempt used, the longest tier"
    );
    assert_eq!(event.event_data["error_code"], "InvalidClientTokenId");
    assert_eq!(ses.served(), 1, "no quick retry of refused credentials");
    let labels = herald_worker::metrics::EnvironmentLabels {
        environment: "prod".into(),
    };
    assert_eq!(
        deps.metrics
            .ses
            .credential_failures
            .get_or_create(&labels)
            .get(),
        1
    );
}

/// A template that needs longer than the quick first try on the runtime's
/// thread is rendered again, from the start, on the blocking pool: it is
/// sent, not failed for its time.
#[tokio::test]
async fn a_render_longer_than_the_quick_try_is_finished_on_the_blocking_pool() {
    let ses = FakeSes::start().await;
    let deps = ses_deps(&ses).await;
    let mut job = job_json("step-long-render", "prod", "ada@example.com");
    // 90,000 iterations: within every render limit, and far beyond 2 ms.
    job["template"] = json!({
        "subject": "Hi",
        "text": "{% for i in (1..90000) %}{{ i }} {% endfor %}"
    });
    let started = std::time::Instant::now();
    let outcome = process(&deps, &job, first()).await;
    assert!(
        started.elapsed() > std::time::Duration::from_millis(2),
        "the template outlasts the quick try"
    );
    let Outcome::Finished(event) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(event.kind, EventType::Sent);
    assert_eq!(ses.served(), 1);
}
