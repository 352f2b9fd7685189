//! Dead letters: listing without consuming, replay with filters, purge, and
//! the broker's delivery limit for poison messages.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use herald_tests::broker::{DeadLetter, TestBroker};
use herald_tests::{job_json, unique};
use herald_worker::dlq::{self, Filter, Run, Summary};
use lapin::options::{BasicConsumeOptions, BasicRejectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];

fn letter(id: &str, workflow: &str, reason: &str, failed_at: &str) -> (Vec<u8>, FieldTable) {
    let mut job = job_json(id, "prod", "ada@example.com");
    job["workflow"] = workflow.into();
    let mut headers = FieldTable::default();
    let text = |s: &str| AMQPValue::LongString(LongString::from(s));
    headers.insert("x-herald-failure-reason".into(), text(reason));
    headers.insert("x-herald-error".into(), text("InternalFailure"));
    headers.insert("x-herald-error-message".into(), text("scripted"));
    headers.insert("x-herald-attempts".into(), AMQPValue::LongInt(8));
    headers.insert("x-herald-retries".into(), AMQPValue::LongInt(5));
    headers.insert("x-herald-failed-at".into(), text(failed_at));
    (serde_json::to_vec(&job).unwrap(), headers)
}

fn ids(letters: &[DeadLetter]) -> Vec<String> {
    letters
        .iter()
        .map(|l| herald_shared::Job::peek_id(&l.body).unwrap())
        .collect()
}

async fn run(broker: &TestBroker, filter: Filter, limit: Option<u32>, dry_run: bool) -> Summary {
    let run = Run {
        filter: &filter,
        limit,
        dry_run,
        stop: Arc::new(AtomicBool::new(false)),
        progress: &|_, _| {},
    };
    dlq::replay(&broker.connection, &broker.amqp, run)
        .await
        .unwrap()
}

#[tokio::test]
async fn listing_dead_letters_neither_consumes_nor_reorders_them() {
    let broker = TestBroker::new(&unique("dlq-list"), &TIERS).await;
    let letters: Vec<_> = (0..5)
        .map(|n| {
            letter(
                &format!("l{n}"),
                "welcome",
                "fatal_error",
                "2026-01-01T00:00:00Z",
            )
        })
        .collect();
    broker.publish_dead_letters(&letters).await;

    for _ in 0..3 {
        let listed = dlq::list(&broker.connection, &broker.amqp, 3)
            .await
            .unwrap();
        let listed_ids: Vec<_> = listed.iter().map(|l| l.id.clone().unwrap()).collect();
        assert_eq!(listed_ids, ["l0", "l1", "l2"]);
        assert_eq!(listed[0].reason.as_deref(), Some("fatal_error"));
        assert_eq!(listed[0].error.as_deref(), Some("InternalFailure"));
        assert_eq!(listed[0].attempts, 8);
        assert_eq!(listed[0].workflow.as_deref(), Some("welcome"));
        assert!(listed[0].age.unwrap() > Duration::from_secs(3600));
    }
    assert_eq!(
        ids(&broker.take_dead_letters().await),
        ["l0", "l1", "l2", "l3", "l4"]
    );
    broker.cleanup().await;
}

#[tokio::test]
async fn replaying_a_thousand_letters_by_workflow_moves_exactly_the_matching_ones() {
    let broker = TestBroker::new(&unique("dlq-replay"), &TIERS).await;
    let letters: Vec<_> = (0..1000)
        .map(|n| {
            letter(
                &format!("r{n:04}"),
                if n % 2 == 0 { "even" } else { "odd" },
                "retries_exhausted",
                "2026-01-01T00:00:00Z",
            )
        })
        .collect();
    broker.publish_dead_letters(&letters).await;
    assert_eq!(broker.queue_len(&broker.amqp.dead_queue).await, 1000);

    let dry = run(
        &broker,
        Filter {
            workflow: Some("even".into()),
            ..Filter::default()
        },
        None,
        true,
    )
    .await;
    assert_eq!((dry.applied, dry.skipped, dry.scanned), (0, 500, 1000));
    assert_eq!(
        broker.queue_len(&broker.amqp.dead_queue).await,
        1000,
        "a dry run moves nothing"
    );

    let summary = run(
        &broker,
        Filter {
            workflow: Some("even".into()),
            ..Filter::default()
        },
        None,
        false,
    )
    .await;
    assert_eq!((summary.applied, summary.scanned), (500, 1000));
    assert_eq!(broker.queue_len(&broker.amqp.dead_queue).await, 500);
    assert_eq!(broker.queue_len(&broker.amqp.jobs_queue).await, 500);

    let again = run(
        &broker,
        Filter {
            workflow: Some("even".into()),
            ..Filter::default()
        },
        None,
        false,
    )
    .await;
    assert_eq!(again.applied, 0, "replaying twice moves nothing more");

    let jobs = broker.take_all(&broker.amqp.jobs_queue.clone()).await;
    let expected: Vec<String> = (0..1000).step_by(2).map(|n| format!("r{n:04}")).collect();
    assert_eq!(ids(&jobs), expected, "the matching letters, in order");
    assert!(jobs.iter().all(|j| j.header("x-herald-attempts").is_none()
        && j.header("x-herald-failure-reason").is_none()));
    assert!(jobs
        .iter()
        .all(|j| j.header("x-herald-replays").as_deref() == Some("1")));
    assert_eq!(jobs[0].body, letters[0].0, "the job's bytes are untouched");
    let left = broker.take_dead_letters().await;
    let expected_left: Vec<String> = (1..1000).step_by(2).map(|n| format!("r{n:04}")).collect();
    assert_eq!(ids(&left), expected_left, "the rest stay, in order");
    broker.cleanup().await;
}

#[tokio::test]
async fn replay_filters_by_id_reason_and_limit() {
    let broker = TestBroker::new(&unique("dlq-filters"), &TIERS).await;
    let mut letters: Vec<_> = (0..6)
        .map(|n| letter(&format!("f{n}"), "w", "fatal_error", "2026-01-01T00:00:00Z"))
        .collect();
    letters.push(letter(
        "x1",
        "w",
        "retries_exhausted",
        "2026-01-01T00:00:00Z",
    ));
    broker.publish_dead_letters(&letters).await;

    let by_id = run(
        &broker,
        Filter {
            id: Some("f3".into()),
            ..Filter::default()
        },
        None,
        false,
    )
    .await;
    assert_eq!(by_id.applied, 1);
    let by_reason = run(
        &broker,
        Filter {
            reason: Some("retries_exhausted".into()),
            ..Filter::default()
        },
        None,
        false,
    )
    .await;
    assert_eq!(by_reason.applied, 1);
    let limited = run(
        &broker,
        Filter {
            reason: Some("fatal_error".into()),
            ..Filter::default()
        },
        Some(2),
        false,
    )
    .await;
    assert_eq!((limited.applied, limited.skipped), (2, 3));
    assert_eq!(
        ids(&broker.take_all(&broker.amqp.jobs_queue.clone()).await),
        ["f3", "x1", "f0", "f1"]
    );
    assert_eq!(ids(&broker.take_dead_letters().await), ["f2", "f4", "f5"]);
    broker.cleanup().await;
}

#[tokio::test]
async fn purge_older_than_drops_only_old_letters() {
    let broker = TestBroker::new(&unique("dlq-purge"), &TIERS).await;
    let now = herald_worker::clock::now_rfc3339();
    let letters = vec![
        letter("old1", "w", "fatal_error", "2020-01-01T00:00:00Z"),
        letter("new1", "w", "fatal_error", &now),
        letter("old2", "w", "fatal_error", "2021-06-01T00:00:00Z"),
    ];
    broker.publish_dead_letters(&letters).await;
    let filter = Filter {
        older_than: Some(Duration::from_secs(86400)),
        ..Filter::default()
    };
    let run = Run {
        filter: &filter,
        limit: None,
        dry_run: false,
        stop: Arc::new(AtomicBool::new(false)),
        progress: &|_, _| {},
    };
    let summary = dlq::purge(&broker.connection, &broker.amqp, run)
        .await
        .unwrap();
    assert_eq!(summary.applied, 2);
    assert_eq!(ids(&broker.take_dead_letters().await), ["new1"]);
    assert_eq!(
        broker.queue_len(&broker.amqp.jobs_queue).await,
        0,
        "purge moves nothing to the work queue"
    );
    broker.cleanup().await;
}

#[tokio::test]
async fn a_poison_message_ends_in_the_dead_letter_queue_through_the_delivery_limit() {
    let ns = unique("poison");
    let mut broker = TestBroker::new(&ns, &TIERS).await;
    broker.amqp.delivery_limit = 2;
    let broker = {
        // Re-declare the namespace with a small limit before anything is queued.
        let channel = &broker.channel;
        let _ = channel
            .queue_delete(
                broker.amqp.jobs_queue.as_str().into(),
                lapin::options::QueueDeleteOptions::default(),
            )
            .await;
        herald_worker::amqp::topology::declare(channel, &broker.amqp, &TIERS)
            .await
            .unwrap();
        broker
    };
    let body = serde_json::to_vec(&job_json("poison-1", "prod", "ada@example.com")).unwrap();
    broker.publish(&body).await;

    let channel = broker.connection.create_channel().await.unwrap();
    let mut consumer = channel
        .basic_consume(
            broker.amqp.jobs_queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut deliveries = 0;
    while let Ok(Some(Ok(delivery))) =
        tokio::time::timeout(Duration::from_secs(3), consumer.next()).await
    {
        deliveries += 1;
        delivery
            .reject(BasicRejectOptions { requeue: true })
            .await
            .unwrap();
    }
    assert_eq!(deliveries, 3, "the first delivery and two redeliveries");
    let listed = dlq::list(&broker.connection, &broker.amqp, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason.as_deref(), Some("delivery_limit"));
    assert_eq!(listed[0].id.as_deref(), Some("poison-1"));
    let dead = broker.take_dead_letters().await;
    assert_eq!(dead[0].body, body);
    let _ = channel.close(200, "".into()).await;
    let seen: HashSet<_> = ids(&dead).into_iter().collect();
    assert_eq!(seen.len(), 1);
    broker.cleanup().await;
}
