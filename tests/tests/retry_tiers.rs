//! Delayed retries through the retry queues, driven by the fake SES.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{job_json, unique};

const WAIT: Duration = Duration::from_secs(30);

/// No in-process retries: every failure goes through a retry queue.
fn tiered_config(url: &str) -> String {
    ses_config(url, "")
        .replace("max_attempts = 4", "max_attempts = 8")
        .replace("attempts = 1,", "attempts = 0,")
}

#[tokio::test]
async fn a_job_throttled_three_times_is_sent_after_three_delivery_attempts() {
    let ses = FakeSes::start().await;
    ses.script([Reply::throttled(), Reply::throttled(), Reply::throttled()]);
    let broker = TestBroker::new(
        &unique("tiers-429"),
        &[Duration::from_millis(200), Duration::from_millis(400)],
    )
    .await;
    let worker = spawn_worker(&broker, &tiered_config(&ses.url)).await;
    let mut events = broker.events().await;
    broker
        .publish_json(&job_json(&unique("m"), "prod", "ada@example.com"))
        .await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal.len(), 1, "{:?}", events.seen);
    let kinds: Vec<EventType> = events.seen.iter().map(|e| e.kind).collect();
    use EventType::*;
    assert_eq!(
        kinds,
        [
            DeliveryAttempted,
            DeliveryAttempted,
            DeliveryAttempted,
            Sent
        ]
    );
    let attempts: Vec<u64> = events.seen[..3]
        .iter()
        .map(|e| e.event_data["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(events.seen[3].attempt, 4);
    let retries = worker.deps.metrics.retries.clone();
    let tier = |t: &str| {
        retries
            .get_or_create(&herald_worker::metrics::TierLabels { tier: t.into() })
            .get()
    };
    assert_eq!(
        (tier("200ms"), tier("400ms")),
        (1, 2),
        "the last tier repeats"
    );
    assert_eq!(ses.requests().len(), 4);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn a_job_waiting_on_a_long_tier_does_not_delay_one_on_a_short_tier() {
    let ses = FakeSes::start().await;
    let broker = TestBroker::new(
        &unique("tiers-order"),
        &[Duration::from_millis(200), Duration::from_secs(6)],
    )
    .await;
    let worker = spawn_worker(&broker, &tiered_config(&ses.url)).await;
    let mut events = broker.events().await;
    let (slow, fast) = (unique("slow"), unique("fast"));
    let tag = |id: &str| herald_shared::tags::sanitize_tag_value(id);
    ses.script_for(&tag(&slow), [Reply::server_error(), Reply::server_error()]);
    ses.script_for(&tag(&fast), [Reply::server_error()]);

    broker
        .publish_json(&job_json(&slow, "prod", "ada@example.com"))
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while events.seen.iter().filter(|e| e.message_id == slow).count() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow job never reached the long tier"
        );
        events.next(WAIT).await;
    }
    broker
        .publish_json(&job_json(&fast, "prod", "ada@example.com"))
        .await;

    let first = events.terminal(1, WAIT).await;
    assert_eq!(
        first[0].message_id, fast,
        "the short-tier job finished first: {:?}",
        events.seen
    );
    assert_eq!(first[0].kind, EventType::Sent);
    let second = events.terminal(1, WAIT).await;
    assert_eq!(second[0].message_id, slow);
    assert_eq!(second[0].kind, EventType::Sent);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn paused_sending_waits_on_the_longest_tier_and_is_counted() {
    let ses = FakeSes::start().await;
    ses.script([Reply::Error(400, "SendingPausedException")]);
    let broker = TestBroker::new(
        &unique("tiers-paused"),
        &[Duration::from_millis(100), Duration::from_millis(300)],
    )
    .await;
    let worker = spawn_worker(&broker, &ses_config(&ses.url, "")).await;
    let mut events = broker.events().await;
    broker
        .publish_json(&job_json(&unique("m"), "prod", "ada@example.com"))
        .await;

    let terminal = events.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", events.seen);
    assert_eq!(events.seen[0].kind, EventType::DeliveryAttempted);
    assert_eq!(
        ses.requests().len(),
        2,
        "no quick in-process retry while sending is paused"
    );
    let metrics = &worker.deps.metrics;
    let tier = metrics
        .retries
        .get_or_create(&herald_worker::metrics::TierLabels {
            tier: "300ms".into(),
        })
        .get();
    assert_eq!(tier, 1, "the longest tier");
    let paused = metrics
        .ses_requests
        .get_or_create(&herald_worker::metrics::SesLabels {
            environment: "prod".into(),
            channel: "ses".into(),
            outcome: "sending_paused".into(),
        })
        .get();
    assert_eq!(paused, 1);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}
