//! A terminal event for every job, also for those the broker dead-letters by
//! itself: a job that no worker could finish until its delivery limit gets
//! one `message.undelivered` (`delivery_limit`), with no hook in Herald.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::FakeSes;
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(5)];

#[tokio::test]
async fn a_job_past_its_delivery_limit_gets_exactly_one_undelivered_event() {
    let ns = unique("deadev");
    let broker = TestBroker::new_with(&ns, &TIERS, |a| a.delivery_limit = 2).await;
    let id = format!("{ns}-poison");
    broker
        .publish_json(&job_json(&id, "prod", "ada@example.com"))
        .await;
    assert_eq!(
        broker.reject_until_dead_lettered().await,
        3,
        "one delivery, two redeliveries"
    );

    let ses = FakeSes::start().await;
    let mut events = broker.events().await;
    let worker = spawn_worker(&broker, &ses_config(&ses.url, "")).await;
    let terminal = events.terminal(1, Duration::from_secs(15)).await;
    assert_eq!(terminal.len(), 1, "{:?}", events.seen);
    let event = &terminal[0];
    assert_eq!(event.kind, EventType::Undelivered);
    assert_eq!(event.message_id, id);
    assert_eq!(event.workflow.as_deref(), Some("welcome"));
    assert_eq!(event.event_data["failure_reason"], "delivery_limit");

    // A job Herald dead-letters itself already has its event: no second one.
    broker.publish(br#"{"id":"not-a-job"}"#).await;
    let own = events.terminal(1, Duration::from_secs(15)).await;
    assert_eq!(own.len(), 1, "{:?}", events.seen);
    assert_eq!(own[0].event_data["failure_reason"], "fatal_error");
    assert_eq!(
        events.expect_quiet(Duration::from_secs(2)).await,
        None,
        "one event each"
    );
    assert_eq!(ses.served(), 0);
    assert_eq!(
        broker.queue_len(&broker.amqp.dead_queue).await,
        2,
        "both letters stay for operators"
    );
    assert_eq!(broker.queue_len(&broker.amqp.dead_events_queue).await, 0);
    worker.stop().await.unwrap();
    broker.cleanup().await;
}
