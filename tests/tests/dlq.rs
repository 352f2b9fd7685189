//! Dead letters: listing without consuming, replay with filters, purge, and
//! the broker's delivery limit for poison messages.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use herald_tests::broker::{DeadLetter, TestBroker};
use herald_tests::{job_json, unique};
use herald_worker::dlq::{self, Filter, Run, Summary};
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

/// When the letters of most tests failed: long enough ago to have an age.
const FAILED_AT: &str = "2026-01-01T00:00:00Z";

/// A letter of workflow `w` that failed with a fatal error at [`FAILED_AT`].
fn fatal(id: &str) -> (Vec<u8>, FieldTable) {
    letter(id, "w", "fatal_error", FAILED_AT)
}

/// A namespace of its own, named after `label`, whose dead-letter queue
/// holds `letters` in order.
async fn holding(label: &str, letters: &[(Vec<u8>, FieldTable)]) -> TestBroker {
    let broker = TestBroker::new(&unique(label), &TIERS).await;
    broker.publish_dead_letters(letters).await;
    broker
}

fn ids(letters: &[DeadLetter]) -> Vec<String> {
    letters
        .iter()
        .map(|l| herald_shared::Job::peek_id(&l.body).unwrap())
        .collect()
}

/// Replays the letters `filter` selects, up to `limit`.
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

/// Purges every letter `filter` selects.
async fn purge(broker: &TestBroker, filter: Filter) -> Summary {
    let run = Run {
        filter: &filter,
        limit: None,
        dry_run: false,
        stop: Arc::new(AtomicBool::new(false)),
        progress: &|_, _| {},
    };
    dlq::purge(&broker.connection, &broker.amqp, run)
        .await
        .unwrap()
}

#[tokio::test]
async fn listing_dead_letters_neither_consumes_nor_reorders_them() {
    let letters: Vec<_> = (0..5)
        .map(|n| letter(&format!("l{n}"), "welcome", "fatal_error", FAILED_AT))
        .collect();
    let broker = holding("dlq-list", &letters).await;

    for _ in 0..3 {
        let listed = dlq::list(&broker.connection, &broker.amqp, &Filter::default(), 3)
            .await
            .unwrap()
            .letters;
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
    let letters: Vec<_> = (0..1000)
        .map(|n| {
            let workflow = if n % 2 == 0 { "even" } else { "odd" };
            letter(
                &format!("r{n:04}"),
                workflow,
                "retries_exhausted",
                FAILED_AT,
            )
        })
        .collect();
    let broker = holding("dlq-replay", &letters).await;
    assert_eq!(broker.queue_len(&broker.amqp.dead_queue).await, 1000);

    let dry = run(&broker, by_workflow("even"), None, true).await;
    assert_eq!((dry.applied, dry.skipped, dry.scanned), (0, 500, 1000));
    assert_eq!(
        broker.queue_len(&broker.amqp.dead_queue).await,
        1000,
        "a dry run moves nothing"
    );

    let summary = run(&broker, by_workflow("even"), None, false).await;
    assert_eq!((summary.applied, summary.scanned), (500, 1000));
    assert_eq!(broker.queue_len(&broker.amqp.dead_queue).await, 500);
    assert_eq!(broker.queue_len(&broker.amqp.jobs_queue).await, 500);

    let again = run(&broker, by_workflow("even"), None, false).await;
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

fn by_id(id: &str) -> Filter {
    Filter {
        id: Some(id.into()),
        ..Filter::default()
    }
}

fn by_workflow(workflow: &str) -> Filter {
    Filter {
        workflow: Some(workflow.into()),
        ..Filter::default()
    }
}

fn by_reason(reason: &str) -> Filter {
    Filter {
        reason: Some(reason.into()),
        ..Filter::default()
    }
}

#[tokio::test]
async fn list_replay_and_purge_reach_a_letter_at_the_end_of_five_thousand() {
    const N: usize = 5000;
    let mut letters: Vec<_> = (0..N).map(|n| fatal(&format!("big{n:05}"))).collect();
    letters.extend([fatal("tail_marker"), fatal("tail_other")]);
    let broker = holding("dlq-large", &letters).await;
    let (connection, amqp) = (&broker.connection, &broker.amqp);

    let all = dlq::list(connection, amqp, &Filter::default(), 6000)
        .await
        .unwrap();
    let again = dlq::list(connection, amqp, &Filter::default(), 3)
        .await
        .unwrap();
    let head: Vec<_> = again
        .letters
        .iter()
        .map(|l| l.id.clone().unwrap())
        .collect();
    assert_eq!(
        head,
        ["big00000", "big00001", "big00002"],
        "listing keeps the order"
    );
    assert_eq!((all.letters.len(), all.total), (N + 2, (N + 2) as u32));
    let found = dlq::list(connection, amqp, &by_id("tail_marker"), 50)
        .await
        .unwrap();
    assert_eq!(found.letters.len(), 1, "the letter at the end is found");
    assert_eq!(found.scanned, (N + 2) as u32, "the whole queue is searched");

    let replayed = run(&broker, by_id("tail_marker"), None, false).await;
    assert_eq!((replayed.applied, replayed.scanned), (1, (N + 2) as u32));
    let purged = purge(&broker, by_id("tail_other")).await;
    assert_eq!((purged.applied, purged.scanned), (1, (N + 1) as u32));

    assert_eq!(
        ids(&broker.take_all(&amqp.jobs_queue.clone()).await),
        ["tail_marker"]
    );
    let left = ids(&broker.take_dead_letters().await);
    let expected: Vec<String> = (0..N).map(|n| format!("big{n:05}")).collect();
    assert_eq!(left.len(), N, "every other letter stays");
    let breaks: Vec<_> = left
        .windows(2)
        .filter(|w| w[0] > w[1])
        .map(|w| format!("{} then {}", w[0], w[1]))
        .collect();
    assert!(
        left == expected,
        "the letters that stay keep their order; first {:?}, out of order at: {breaks:?}",
        left.first()
    );
    broker.cleanup().await;
}

#[tokio::test]
async fn a_pass_goes_on_past_a_full_window_and_returns_every_letter() {
    let letters: Vec<_> = (0..250).map(|n| fatal(&format!("w{n:03}"))).collect();
    let broker = holding("dlq-window", &letters).await;
    let (connection, queue) = (&broker.connection, &broker.amqp.dead_queue);
    let mut scan = dlq::Scan::with_window(connection, queue, 250, 100)
        .await
        .unwrap();
    let mut seen = HashSet::new();
    while let Some(delivery) = scan.next(connection).await.unwrap() {
        seen.insert(herald_shared::Job::peek_id(&delivery.data).unwrap());
        scan.keep(delivery);
    }
    assert_eq!(seen.len(), 250, "three windows of at most 100 letters each");
    scan.close(connection, 250).await;
    let left: HashSet<_> = ids(&broker.take_dead_letters().await).into_iter().collect();
    assert_eq!(left, seen, "every letter is back in the queue");
    broker.cleanup().await;
}

#[tokio::test]
async fn a_pass_that_cannot_see_every_letter_fails_saying_how_many_it_missed() {
    let letters: Vec<_> = (0..3).map(|n| fatal(&format!("d{n}"))).collect();
    let broker = holding("dlq-dry", &letters).await;
    let mut scan = dlq::Scan::open(&broker.connection, &broker.amqp.dead_queue, 5)
        .await
        .unwrap();
    for _ in 0..3 {
        let delivery = scan.next(&broker.connection).await.unwrap().unwrap();
        scan.keep(delivery);
    }
    let error = scan.next(&broker.connection).await.unwrap_err();
    assert!(matches!(error, dlq::ScanError::RanDry(2)), "{error}");
    scan.close(&broker.connection, 3).await;
    assert_eq!(broker.queue_len(&broker.amqp.dead_queue).await, 3);
    broker.cleanup().await;
}

#[tokio::test]
async fn replay_filters_by_id_reason_and_limit() {
    let mut letters: Vec<_> = (0..6).map(|n| fatal(&format!("f{n}"))).collect();
    letters.push(letter("x1", "w", "retries_exhausted", FAILED_AT));
    let broker = holding("dlq-filters", &letters).await;

    let one = run(&broker, by_id("f3"), None, false).await;
    assert_eq!(one.applied, 1);
    let exhausted = run(&broker, by_reason("retries_exhausted"), None, false).await;
    assert_eq!(exhausted.applied, 1);
    let limited = run(&broker, by_reason("fatal_error"), Some(2), false).await;
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
    let now = herald_worker::clock::now_rfc3339();
    let letters = vec![
        letter("old1", "w", "fatal_error", "2020-01-01T00:00:00Z"),
        letter("new1", "w", "fatal_error", &now),
        letter("old2", "w", "fatal_error", "2021-06-01T00:00:00Z"),
    ];
    let broker = holding("dlq-purge", &letters).await;
    let filter = Filter {
        older_than: Some(Duration::from_secs(86400)),
        ..Filter::default()
    };
    let summary = purge(&broker, filter).await;
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

    let deliveries = broker.reject_until_dead_lettered().await;
    assert_eq!(deliveries, 3, "the first delivery and two redeliveries");
    let listed = dlq::list(&broker.connection, &broker.amqp, &Filter::default(), 10)
        .await
        .unwrap()
        .letters;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason.as_deref(), Some("delivery_limit"));
    assert_eq!(listed[0].id.as_deref(), Some("poison-1"));
    let dead = broker.take_dead_letters().await;
    assert_eq!(dead[0].body, body);
    let seen: HashSet<_> = ids(&dead).into_iter().collect();
    assert_eq!(seen.len(), 1);
    broker.cleanup().await;
}
