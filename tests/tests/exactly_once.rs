//! Each notification once (SPEC §9): a worker killed with `kill -9`, forced
//! connection closes, the same id enqueued twice and two workers sharing
//! Redis. SES requests are counted from the fake SES's own log; events from
//! the events exchange.

use std::collections::HashMap;
use std::time::Duration;

use herald_shared::{Event, EventType};
use herald_tests::app::{Stage, TestApp};
use herald_tests::broker::Events;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::process::HeraldProcess;
use herald_tests::worker::{ses_config, test_ledger_path};
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const PREFETCH: u16 = 256;

/// One short retry tier, and `extra` (the ledger's settings).
fn config(ses: &FakeSes, extra: &str) -> String {
    let retry = "[retry]\ntiers = [\"1s\"]\nmax_attempts = 4";
    let base = ses_config(&ses.url, "").replace("[retry]\nmax_attempts = 4", retry);
    format!("{base}\n{extra}")
}

/// Short SES timeouts and claims, so that a dead worker's jobs come back
/// within seconds. A request that times out may still have reached SES: that
/// is the in-doubt window these suites bound.
const SHORT_LEASE: &str = "[limits]\nses_timeout = \"2s\"\n";

/// SES requests per job id, from the fake SES's log.
fn requests_per_id(ses: &FakeSes) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in ses.requests() {
        let tags = request.tags();
        let id = tags.iter().find(|(name, _)| name == "herald_message_id");
        *counts
            .entry(id.expect("a message id tag").1.clone())
            .or_default() += 1;
    }
    counts
}

/// Reads events until every id has a terminal one (or `timeout`); returns
/// the terminal events by id.
async fn terminal_by_id(
    events: &mut Events,
    ids: &[String],
    timeout: Duration,
) -> HashMap<String, Vec<Event>> {
    let mut by_id: HashMap<String, Vec<Event>> = HashMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while by_id.len() < ids.len() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next(left).await {
            Some(event) if event.kind.is_terminal() => by_id
                .entry(event.message_id.clone())
                .or_default()
                .push(event),
            Some(_) => {}
            None => break,
        }
    }
    // Late duplicates, if any, arrive within a moment.
    while let Some(event) = events.next(Duration::from_millis(500)).await {
        if event.kind.is_terminal() {
            by_id
                .entry(event.message_id.clone())
                .or_default()
                .push(event);
        }
    }
    by_id
}

fn is_duplicate(event: &Event) -> bool {
    event.event_data["duplicate"] == true
}

/// Every id has a terminal event, at most one that is not a republished
/// duplicate, and all of them say sent.
fn assert_one_fate_each(ids: &[String], by_id: &HashMap<String, Vec<Event>>) {
    let missing: Vec<_> = ids.iter().filter(|id| !by_id.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} ids have no terminal event: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    for (id, events) in by_id {
        let originals = events.iter().filter(|e| !is_duplicate(e)).count();
        assert!(
            originals <= 1,
            "{id} has {originals} terminal events: {events:?}"
        );
        assert!(
            events.iter().all(|e| e.kind == EventType::Sent),
            "{id}: {events:?}"
        );
    }
}

/// Waits for every id's one fate (see [`assert_one_fate_each`]), then
/// asserts that SES got at most one prefetch of requests beyond one per id:
/// the jobs in flight in the worker killed mid-flight. `context` says more
/// on failure.
async fn assert_only_jobs_in_flight_resent(stage: &mut Stage, ids: &[String], context: &str) {
    let by_id = terminal_by_id(&mut stage.events, ids, Duration::from_secs(120)).await;
    assert_one_fate_each(ids, &by_id);
    let extra: usize = requests_per_id(&stage.ses).values().map(|n| n - 1).sum();
    assert!(
        extra <= usize::from(PREFETCH),
        "{extra} SES requests beyond one per id; at most the {PREFETCH} in flight at the kill{context}"
    );
}

/// A stage named after `label` whose SES answers after `latency`, with `n`
/// jobs queued before any worker starts; their ids.
async fn queued(label: &str, latency: Duration, n: usize) -> (Stage, Vec<String>) {
    let stage = Stage::start(label, &TIERS).await;
    stage.ses.set_default(Reply::after(latency, Reply::Ok));
    let ids = stage.broker.publish_numbered(&stage.ns, n).await;
    (stage, ids)
}

#[tokio::test]
async fn the_same_id_enqueued_twice_is_sent_once_and_reported_twice() {
    let mut app = TestApp::start("twice", &TIERS, "").await;
    let job = job_json(&unique("same-id"), "prod", "ada@example.com");
    app.broker.publish_json(&job).await;
    let first = app.terminal(1, Duration::from_secs(15)).await;
    app.broker.publish_json(&job).await;
    let second = app.terminal(1, Duration::from_secs(15)).await;
    assert_eq!((first.len(), second.len()), (1, 1), "{:?}", app.events.seen);
    assert_eq!(app.ses.served(), 1, "one SES request for one id");
    assert_eq!(first[0].kind, EventType::Sent);
    assert!(!is_duplicate(&first[0]));
    assert_eq!(second[0].kind, EventType::Sent);
    assert!(is_duplicate(&second[0]), "{:?}", second[0]);
    assert_eq!(second[0].provider_message_id, first[0].provider_message_id);
    let labels = herald_worker::metrics::RouteLabels {
        environment: "prod".into(),
        channel: "ses".into(),
    };
    let ledger = &app.worker.deps.metrics.ledger;
    assert_eq!(ledger.duplicates_suppressed.get_or_create(&labels).get(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_worker_killed_mid_flight_and_restarted_sends_nothing_twice_beyond_the_jobs_in_flight() {
    let (mut stage, ids) = queued("kill9", Duration::from_millis(35), 2_000).await;
    let (ses, broker) = (&stage.ses, &stage.broker);
    let ledger = format!(
        "{SHORT_LEASE}[idempotency]\nlease = \"5s\"\npath = \"{}\"\n",
        test_ledger_path().display()
    );
    let mut worker = HeraldProcess::start(broker, PREFETCH, &config(ses, &ledger));
    assert!(
        ses.wait_for_requests(400, Duration::from_secs(60)).await,
        "{}",
        worker.stderr()
    );
    worker.kill9();
    let at_kill = ses.served();
    worker.restart();
    let context = format!(" ({at_kill} served by then)");
    assert_only_jobs_in_flight_resent(&mut stage, &ids, &context).await;
    assert!(worker.is_running());
    stage.broker.cleanup().await;
}

/// The broker's own id for the connection of process `pid`.
fn broker_connection_of(pid: u32) -> Option<String> {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["-q", "list_connections", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let wanted = format!("\"herald-worker {pid}\"");
    text.lines()
        .find(|line| line.contains(&wanted))
        .and_then(|line| line.split_whitespace().next())
        .map(str::to_owned)
}

#[tokio::test]
async fn forced_connection_closes_send_no_id_twice() {
    let (mut stage, ids) = queued("closes", Duration::from_millis(20), 10_000).await;
    let (ses, broker, events) = (&stage.ses, &stage.broker, &mut stage.events);
    let worker = HeraldProcess::start(broker, PREFETCH, &config(ses, ""));
    for round in 1..=2 {
        assert!(
            ses.wait_for_requests(round * 2_500, Duration::from_secs(120))
                .await,
            "{}",
            worker.stderr()
        );
        let connection =
            broker_connection_of(worker.pid()).expect("the worker's connection is listed");
        let closed = std::process::Command::new("rabbitmqctl")
            .args(["-q", "close_connection", &connection, "fault injection"])
            .status()
            .expect("rabbitmqctl runs");
        assert!(closed.success());
    }
    let by_id = terminal_by_id(events, &ids, Duration::from_secs(240)).await;
    assert_one_fate_each(&ids, &by_id);
    let twice: Vec<_> = requests_per_id(ses)
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .collect();
    let example = twice.first().map(|(id, _)| &by_id[id]);
    assert!(
        twice.is_empty(),
        "{} ids sent more than once: {:?}; the events of the first: {example:?}\n{}",
        twice.len(),
        &twice[..twice.len().min(5)],
        worker.stderr()
    );
    stage.broker.cleanup().await;
}

#[tokio::test]
async fn two_workers_sharing_redis_one_killed_mid_flight_send_nothing_twice_beyond_its_jobs_in_flight(
) {
    let (mut stage, ids) = queued("fleet", Duration::from_millis(35), 2_000).await;
    let (ses, broker, ns) = (&stage.ses, &stage.broker, &stage.ns);
    let redis = format!("{SHORT_LEASE}[idempotency]\nstore = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nprefix = \"{ns}:\"\nlease = \"5s\"\n");
    let mut doomed = HeraldProcess::start(broker, PREFETCH, &config(ses, &redis));
    let survivor = HeraldProcess::start(broker, PREFETCH, &config(ses, &redis));
    assert!(
        ses.wait_for_requests(400, Duration::from_secs(60)).await,
        "{}",
        doomed.stderr()
    );
    doomed.kill9();
    assert_only_jobs_in_flight_resent(&mut stage, &ids, "").await;
    drop(survivor);
    stage.broker.cleanup().await;
}
