//! Against moto, a third-party SES v2 emulator: what Herald sends is what
//! SES accepts, and what SES rejects ends in the dead-letter queue.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::moto::{moto_config, sent_emails_containing, verify_identity};
use herald_tests::worker::spawn_worker;
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_published_job_is_sent_through_ses_and_reported_as_sent() {
    let ns = unique("moto-sent");
    let sender = format!("{ns}@example.com");
    verify_identity(&sender).await;
    let broker = TestBroker::new(&ns, &TIERS).await;
    let worker = spawn_worker(&broker, &moto_config(&sender)).await;
    let mut events = broker.events().await;
    let id = unique("msg");
    let mut job = job_json(&id, "prod", "ada@example.com");
    job["data"]["plan"] = format!("plan-{ns}").into();
    broker.publish_json(&job).await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal.len(), 1, "events: {:?}", events.seen);
    let sent = &terminal[0];
    assert_eq!(sent.kind, EventType::Sent);
    assert_eq!(sent.status, "sent");
    assert_eq!(sent.message_id, id);
    assert_eq!(sent.environment.as_deref(), Some("prod"));
    assert_eq!(sent.channel.as_deref(), Some("ses"));
    assert_eq!(sent.workflow.as_deref(), Some("welcome"));
    assert_eq!(sent.recipient_id.as_deref(), Some("user_1"));
    assert_eq!(sent.provider, "aws_ses");
    assert!(!sent.sandbox);
    assert_eq!(sent.attempt, 1);
    let provider_id = sent
        .provider_message_id
        .clone()
        .expect("provider message id");

    let stored = sent_emails_containing(&format!("plan-{ns}")).await;
    assert_eq!(stored.len(), 1, "moto holds exactly one such email");
    let raw = stored[0]["raw_data"].as_str().unwrap();
    let headers = [
        format!("From: \"Example Team\" <{sender}>"),
        "To: \"Ada Lovelace\" <ada@example.com>".into(),
        "Subject: Welcome to Example, Ada Lovelace!".into(),
    ];
    for header in headers {
        assert!(raw.contains(&header), "{header} in {raw}");
    }
    assert!(raw.contains("Content-Type: text/plain") && raw.contains("Content-Type: text/html"));
    assert!(
        raw.contains(&format!("Grace invited you to acme on the plan-{ns} plan.")),
        "{raw}"
    );
    assert!(raw.contains("<h1>Hi Ada Lovelace,</h1>"), "{raw}");
    assert_eq!(stored[0]["id"].as_str(), Some(provider_id.as_str()));
    assert!(events
        .expect_quiet(Duration::from_millis(300))
        .await
        .is_none());

    worker.stop().await.unwrap();
    assert_eq!(broker.queue_len(&broker.amqp.jobs_queue).await, 0);
    broker.cleanup().await;
}

#[tokio::test]
async fn a_send_from_an_unverified_sender_is_undelivered_and_dead_lettered() {
    let ns = unique("moto-unverified");
    let broker = TestBroker::new(&ns, &TIERS).await;
    let worker = spawn_worker(
        &broker,
        &moto_config(&format!("{ns}@unverified.example.com")),
    )
    .await;
    let mut events = broker.events().await;
    let id = unique("msg");
    let body = serde_json::to_vec(&job_json(&id, "prod", "ada@example.com")).unwrap();
    broker.publish(&body).await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal.len(), 1, "events: {:?}", events.seen);
    let undelivered = &terminal[0];
    assert_eq!(undelivered.kind, EventType::Undelivered);
    assert_eq!(undelivered.event_data["failure_reason"], "fatal_error");
    let details = undelivered.event_data["failure_details"].as_str().unwrap();
    assert!(details.starts_with("MessageRejected"), "{details}");
    assert_eq!(undelivered.attempt, 1, "a rejection is not retried");

    let dead = broker.wait_dead_letters(1, WAIT).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, body, "the dead letter keeps the job's bytes");
    dead[0].assert_failure("fatal_error", "MessageRejected", 1);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}
