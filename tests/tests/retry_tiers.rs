//! Delayed retries through the retry queues, driven by the fake SES.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::fake_ses::Reply;
use herald_tests::worker::ses_config;
use herald_tests::{job_json, unique};

const WAIT: Duration = Duration::from_secs(30);
/// The first retry tier of the tiered tests.
const SHORT_TIER: Duration = Duration::from_millis(200);

/// A worker with retry tiers `tiers` and no in-process retries: every
/// failure goes through a retry queue.
async fn tiered_app(label: &str, tiers: &[Duration]) -> TestApp {
    TestApp::configured(label, tiers, |ses| {
        ses_config(&ses.url, "")
            .replace("max_attempts = 4", "max_attempts = 8")
            .replace("attempts = 1,", "attempts = 0,")
    })
    .await
}

#[tokio::test]
async fn a_job_throttled_three_times_is_sent_after_three_delivery_attempts() {
    let mut app = tiered_app("tiers-429", &[SHORT_TIER, Duration::from_millis(400)]).await;
    app.ses
        .script([Reply::throttled(), Reply::throttled(), Reply::throttled()]);
    app.send_to("ada@example.com").await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal.len(), 1, "{:?}", app.events.seen);
    let kinds: Vec<EventType> = app.events.seen.iter().map(|e| e.kind).collect();
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
    let attempts: Vec<u64> = app.events.seen[..3]
        .iter()
        .map(|e| e.event_data["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!(app.events.seen[3].attempt, 4);
    let retries = app.worker.deps.metrics.retries.clone();
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
    assert_eq!(app.ses.requests().len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn a_job_waiting_on_a_long_tier_does_not_delay_one_on_a_short_tier() {
    let mut app = tiered_app("tiers-order", &[SHORT_TIER, Duration::from_secs(6)]).await;
    let (slow, fast) = (unique("slow"), unique("fast"));
    let tag = |id: &str| herald_shared::tags::sanitize_tag_value(id);
    app.ses
        .script_for(&tag(&slow), [Reply::server_error(), Reply::server_error()]);
    app.ses.script_for(&tag(&fast), [Reply::server_error()]);

    app.broker
        .publish_json(&job_json(&slow, "prod", "ada@example.com"))
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app
        .events
        .seen
        .iter()
        .filter(|e| e.message_id == slow)
        .count()
        < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow job never reached the long tier"
        );
        app.events.next(WAIT).await;
    }
    app.broker
        .publish_json(&job_json(&fast, "prod", "ada@example.com"))
        .await;

    let first = app.terminal(1, WAIT).await;
    assert_eq!(
        first[0].message_id, fast,
        "the short-tier job finished first: {:?}",
        app.events.seen
    );
    assert_eq!(first[0].kind, EventType::Sent);
    let second = app.terminal(1, WAIT).await;
    assert_eq!(second[0].message_id, slow);
    assert_eq!(second[0].kind, EventType::Sent);
    app.stop().await;
}

#[tokio::test]
async fn paused_sending_waits_on_the_longest_tier_and_is_counted() {
    let mut app = TestApp::start(
        "tiers-paused",
        &[Duration::from_millis(100), Duration::from_millis(300)],
        "",
    )
    .await;
    app.ses
        .script([Reply::Error(400, "SendingPausedException")]);
    app.send_to("ada@example.com").await;

    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", app.events.seen);
    assert_eq!(app.events.seen[0].kind, EventType::DeliveryAttempted);
    assert_eq!(
        app.ses.requests().len(),
        2,
        "no quick in-process retry while sending is paused"
    );
    let metrics = &app.worker.deps.metrics;
    let tier = metrics
        .retries
        .get_or_create(&herald_worker::metrics::TierLabels {
            tier: "300ms".into(),
        })
        .get();
    assert_eq!(tier, 1, "the longest tier");
    let paused = metrics
        .ses
        .requests
        .get_or_create(&herald_worker::metrics::SesLabels {
            environment: "prod".into(),
            channel: "ses".into(),
            outcome: "sending_paused".into(),
        })
        .get();
    assert_eq!(paused, 1);
    app.stop().await;
}
