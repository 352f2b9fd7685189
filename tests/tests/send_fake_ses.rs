//! Against the scripted fake SES: the request Herald makes, retries of
//! transient failures, permanent failures, and concurrency.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_millis(500)];
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_request_carries_tags_configuration_set_envelope_and_the_environments_own_keys() {
    let ses = FakeSes::start().await;
    let broker = TestBroker::new(&unique("request"), &TIERS).await;
    let config = ses_config(&ses.url, "configuration_set = \"herald-tracking\"");
    let worker = spawn_worker(&broker, &config).await;
    let mut events = broker.events().await;
    let mut job = job_json("msg.01/JD7 é", "prod", "ada@example.com");
    job["recipient"]["id"] = "user:123".into();
    job["overrides"] = serde_json::json!({ "cc": "cc@example.com", "bcc": "bcc@example.com" });
    broker.publish_json(&job).await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", events.seen);
    assert_eq!(
        terminal[0].provider_message_id.as_deref(),
        Some("fake-00000001")
    );
    let requests = ses.requests();
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
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn a_server_error_is_retried_in_process_and_then_sent() {
    let ses = FakeSes::start().await;
    ses.script([Reply::server_error()]);
    let broker = TestBroker::new(&unique("retry-500"), &TIERS).await;
    let worker = spawn_worker(&broker, &ses_config(&ses.url, "")).await;
    let mut events = broker.events().await;
    broker
        .publish_json(&job_json(&unique("m"), "prod", "ada@example.com"))
        .await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", events.seen);
    assert_eq!(terminal[0].attempt, 2, "the second SES request succeeded");
    assert_eq!(ses.requests().len(), 2);
    assert_eq!(
        events.seen.len(),
        1,
        "an in-process retry publishes no extra event"
    );
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn throttling_past_the_in_process_budget_goes_through_a_retry_queue_and_then_sends() {
    let ses = FakeSes::start().await;
    ses.script([Reply::throttled(), Reply::throttled(), Reply::throttled()]);
    let broker = TestBroker::new(&unique("retry-tier"), &TIERS).await;
    let config = ses_config(&ses.url, "").replace("max_attempts = 4", "max_attempts = 8");
    let worker = spawn_worker(&broker, &config).await;
    let mut events = broker.events().await;
    let id = unique("m");
    broker
        .publish_json(&job_json(&id, "prod", "ada@example.com"))
        .await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", events.seen);
    assert_eq!(terminal[0].attempt, 4);
    let attempted: Vec<_> = events
        .seen
        .iter()
        .filter(|e| e.kind == EventType::DeliveryAttempted)
        .collect();
    assert_eq!(attempted.len(), 2, "{:?}", events.seen);
    assert_eq!(attempted[0].event_data["attempt"], 2);
    assert_eq!(attempted[0].event_data["max_attempts"], 8);
    assert_eq!(attempted[0].event_data["retryable"], true);
    assert!(attempted[0].event_data["error"]
        .as_str()
        .unwrap()
        .contains("TooManyRequestsException"));
    assert_eq!(attempted[1].event_data["attempt"], 3);
    assert_eq!(ses.requests().len(), 4);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn a_persistent_server_error_ends_undelivered_after_max_attempts() {
    let ses = FakeSes::start().await;
    ses.set_default(Reply::server_error());
    let broker = TestBroker::new(&unique("exhausted"), &TIERS).await;
    let worker = spawn_worker(&broker, &ses_config(&ses.url, "")).await;
    let mut events = broker.events().await;
    let body = serde_json::to_vec(&job_json(&unique("m"), "prod", "ada@example.com")).unwrap();
    broker.publish(&body).await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(
        terminal[0].kind,
        EventType::Undelivered,
        "{:?}",
        events.seen
    );
    assert_eq!(
        terminal[0].event_data["failure_reason"],
        "retries_exhausted"
    );
    assert_eq!(
        ses.requests().len(),
        4,
        "max_attempts bounds the SES requests"
    );
    let dead = broker.wait_dead_letters(1, WAIT).await;
    assert_eq!(dead[0].body, body);
    assert_eq!(
        dead[0].header("x-herald-failure-reason").as_deref(),
        Some("retries_exhausted")
    );
    assert_eq!(
        dead[0].header("x-herald-error").as_deref(),
        Some("InternalFailure")
    );
    assert_eq!(dead[0].header("x-herald-attempts").as_deref(), Some("4"));
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn a_rejected_message_is_not_retried() {
    let ses = FakeSes::start().await;
    ses.set_default(Reply::rejected());
    let broker = TestBroker::new(&unique("rejected"), &TIERS).await;
    let worker = spawn_worker(&broker, &ses_config(&ses.url, "")).await;
    let mut events = broker.events().await;
    broker
        .publish_json(&job_json(&unique("m"), "prod", "ada@example.com"))
        .await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Undelivered);
    assert_eq!(terminal[0].event_data["failure_reason"], "fatal_error");
    assert_eq!(ses.requests().len(), 1);
    assert_eq!(broker.wait_dead_letters(1, WAIT).await.len(), 1);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

async fn peak_concurrency_with_prefetch(prefetch: u16, jobs: usize) -> usize {
    let ses = FakeSes::start().await;
    ses.set_default(Reply::after(Duration::from_millis(300), Reply::Ok));
    let broker = TestBroker::new(&unique("concurrency"), &TIERS).await;
    let config = format!(
        "[amqp]\nprefetch = {prefetch}\n{}",
        ses_config(&ses.url, "")
    );
    let worker = spawn_worker(&broker, &config).await;
    let mut events = broker.events().await;
    for n in 0..jobs {
        broker
            .publish_json(&job_json(&format!("c-{n}"), "prod", "ada@example.com"))
            .await;
    }
    let terminal = events.terminal(jobs, Duration::from_secs(60)).await;
    assert_eq!(terminal.len(), jobs);
    assert!(terminal.iter().all(|e| e.kind == EventType::Sent));
    worker.stop().await.unwrap();
    broker.cleanup().await;
    ses.peak_concurrency()
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
