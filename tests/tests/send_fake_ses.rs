//! Against the scripted fake SES: the request Herald makes, retries of
//! transient failures, permanent failures, and concurrency.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::fake_ses::Reply;
use herald_tests::worker::ses_config;
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_millis(500)];
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_request_carries_tags_configuration_set_envelope_and_the_environments_own_keys() {
    let extra = "configuration_set = \"herald-tracking\"";
    let mut app = TestApp::start("request", &TIERS, extra).await;
    let mut job = job_json("msg.01/JD7 é", "prod", "ada@example.com");
    job["recipient"]["id"] = "user:123".into();
    job["overrides"] = serde_json::json!({ "cc": "cc@example.com", "bcc": "bcc@example.com" });
    app.broker.publish_json(&job).await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", app.events.seen);
    assert_eq!(
        terminal[0].provider_message_id.as_deref(),
        Some("fake-00000001")
    );
    let requests = app.ses.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.body["ConfigurationSetName"], "herald-tracking");
    assert_eq!(request.body["FromEmailAddress"], "notify@example.com");
    assert_eq!(
        request.body["Destination"]["ToAddresses"],
        serde_json::json!(["ada@example.com"])
    );
    assert_eq!(
        request.body["Destination"]["CcAddresses"],
        serde_json::json!(["cc@example.com"])
    );
    assert_eq!(
        request.body["Destination"]["BccAddresses"],
        serde_json::json!(["bcc@example.com"])
    );
    let tags = request.tags();
    let expected = [
        ("sender", "herald"),
        ("herald_message_id", "msg01JD7"),
        ("herald_workflow", "welcome"),
        ("herald_recipient_id", "user123"),
    ];
    for (name, value) in expected {
        assert!(
            tags.contains(&(name.into(), value.into())),
            "{name}={value} missing from {tags:?}"
        );
    }
    assert!(
        request.authorization.contains("Credential=AKIDTESTHERALD/"),
        "{}",
        request.authorization
    );
    assert!(
        request.raw.contains("Cc: <cc@example.com>"),
        "{}",
        request.raw
    );
    assert!(
        !request.raw.contains("bcc@example.com"),
        "Bcc must not be in the headers"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_server_error_is_retried_in_process_and_then_sent() {
    let mut app = TestApp::start("retry-500", &TIERS, "").await;
    app.ses.script([Reply::server_error()]);
    app.send_to("ada@example.com").await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", app.events.seen);
    assert_eq!(terminal[0].attempt, 2, "the second SES request succeeded");
    assert_eq!(app.ses.requests().len(), 2);
    assert_eq!(
        app.events.seen.len(),
        1,
        "an in-process retry publishes no extra event"
    );
    app.stop().await;
}

#[tokio::test]
async fn throttling_past_the_in_process_budget_goes_through_a_retry_queue_and_then_sends() {
    let mut app = TestApp::configured("retry-tier", &TIERS, |ses| {
        ses_config(&ses.url, "").replace("max_attempts = 4", "max_attempts = 8")
    })
    .await;
    app.ses
        .script([Reply::throttled(), Reply::throttled(), Reply::throttled()]);
    app.send_to("ada@example.com").await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", app.events.seen);
    assert_eq!(terminal[0].attempt, 4);
    let attempted: Vec<_> = app
        .events
        .seen
        .iter()
        .filter(|e| e.kind == EventType::DeliveryAttempted)
        .collect();
    assert_eq!(attempted.len(), 2, "{:?}", app.events.seen);
    assert_eq!(attempted[0].event_data["attempt"], 2);
    assert_eq!(attempted[0].event_data["max_attempts"], 8);
    assert_eq!(attempted[0].event_data["retryable"], true);
    assert!(attempted[0].event_data["error"]
        .as_str()
        .unwrap()
        .contains("TooManyRequestsException"));
    assert_eq!(attempted[1].event_data["attempt"], 3);
    assert_eq!(app.ses.requests().len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn a_persistent_server_error_ends_undelivered_after_max_attempts() {
    let mut app = TestApp::start("exhausted", &TIERS, "").await;
    app.ses.set_default(Reply::server_error());
    let body = serde_json::to_vec(&job_json(&unique("m"), "prod", "ada@example.com")).unwrap();
    app.broker.publish(&body).await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(
        terminal[0].kind,
        EventType::Undelivered,
        "{:?}",
        app.events.seen
    );
    assert_eq!(
        terminal[0].event_data["failure_reason"],
        "retries_exhausted"
    );
    assert_eq!(
        app.ses.requests().len(),
        4,
        "max_attempts bounds the SES requests"
    );
    let dead = app.broker.wait_dead_letters(1, WAIT).await;
    assert_eq!(dead[0].body, body);
    dead[0].assert_failure("retries_exhausted", "InternalFailure", 4);
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_message_is_not_retried() {
    let mut app = TestApp::start("rejected", &TIERS, "").await;
    app.ses.set_default(Reply::rejected());
    app.send_to("ada@example.com").await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Undelivered);
    assert_eq!(terminal[0].event_data["failure_reason"], "fatal_error");
    assert_eq!(app.ses.requests().len(), 1);
    assert_eq!(app.broker.wait_dead_letters(1, WAIT).await.len(), 1);
    app.stop().await;
}

async fn peak_concurrency_with_prefetch(prefetch: u16, jobs: usize) -> usize {
    let mut app = TestApp::configured("concurrency", &TIERS, |ses| {
        format!(
            "[amqp]\nprefetch = {prefetch}\n{}",
            ses_config(&ses.url, "")
        )
    })
    .await;
    app.ses
        .set_default(Reply::after(Duration::from_millis(300), Reply::Ok));
    for _ in 0..jobs {
        app.send_to("ada@example.com").await;
    }
    let terminal = app.terminal(jobs, Duration::from_secs(60)).await;
    assert_eq!(terminal.len(), jobs);
    assert!(terminal.iter().all(|e| e.kind == EventType::Sent));
    let peak = app.ses.peak_concurrency();
    app.stop().await;
    peak
}

#[tokio::test]
async fn many_jobs_are_processed_at_once_up_to_the_prefetch() {
    let peak = peak_concurrency_with_prefetch(256, 40).await;
    assert!(
        peak >= 10,
        "peak concurrency {peak}: jobs were not processed in parallel"
    );
    let bounded = peak_concurrency_with_prefetch(4, 16).await;
    assert!(
        bounded <= 4,
        "peak concurrency {bounded} exceeded prefetch 4"
    );
    assert!(
        bounded >= 2,
        "peak concurrency {bounded}: no parallelism at prefetch 4"
    );
}
