//! No job can crash, stall or bloat a worker (issue: hostile jobs). Each
//! hostile input goes through a real `herald run` process, which must stay
//! up, answer `/healthz` every time it is asked, keep ordinary jobs moving,
//! and give the hostile job its own clear end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_shared::{Event, EventType};
use herald_tests::broker::{Events, TestBroker};
use herald_tests::fake_ses::FakeSes;
use herald_tests::process::HeraldProcess;
use herald_tests::worker::ses_config;
use herald_tests::{job_json, unique};
use serde_json::{json, Value};

const TIERS: [Duration; 1] = [Duration::from_secs(30)];
const CANARIES: usize = 40;

fn inline(id: &str, text: &str) -> Value {
    let mut job = job_json(id, "prod", "ada@example.com");
    job["template"] = json!({ "subject": "Hi", "text": text });
    job
}

fn nested_ifs(depth: usize) -> String {
    "{% if true %}".repeat(depth) + "x" + &"{% endif %}".repeat(depth)
}

/// Each hostile job, and the `failure_details` its `message.undelivered`
/// must name (`None`: it must be sent).
fn hostile(ns: &str) -> Vec<(String, Value, Option<&'static str>)> {
    let id = |name: &str| format!("{ns}-{name}");
    let doubling = "{% assign s = \"x\" %}{% for i in (1..28) %}{% assign s = s | append: s %}{% endfor %}{{ s }}";
    let mut loop_in_to = job_json(&id("loop-to"), "prod", "ada@example.com");
    loop_in_to["overrides"] =
        json!({ "to": "{% for i in (1..1000000000) %}{% endfor %}ada@example.com" });
    let mut crlf = job_json(&id("crlf"), "prod", "ada@example.com");
    crlf["overrides"] = json!({ "json": { "Destination": { "ToAddresses": ["ada@example.com\r\nBcc: evil@example.net"] } } });
    let mut idn = job_json(&id("idn"), "prod", "ada@bücher.example");
    idn["recipient"]["name"] = json!("Ada Lövelace");
    vec![
        (
            id("range"),
            inline(&id("range"), "{% for i in (1..1000000000) %}x{% endfor %}"),
            Some("max_range"),
        ),
        (
            id("ifs-10k"),
            inline(&id("ifs-10k"), &nested_ifs(10_000)),
            Some("max_nesting_depth"),
        ),
        (
            id("ifs-100k"),
            inline(&id("ifs-100k"), &nested_ifs(100_000)),
            Some("max_template_bytes"),
        ),
        (
            id("doubling"),
            inline(&id("doubling"), doubling),
            Some("max_value_bytes"),
        ),
        (
            id("5mb"),
            inline(&id("5mb"), &"x".repeat(5 * 1000 * 1000)),
            Some("max_template_bytes"),
        ),
        (id("loop-to"), loop_in_to, Some("max_range")),
        (id("crlf"), crlf, Some("line break")),
        (id("idn"), idn, None),
    ]
}

/// A template that keeps a render slot busy for a long time without breaking
/// any limit but the time budget.
fn slow(id: &str) -> Value {
    inline(id, "{% for i in (1..400) %}{% for j in (1..450) %}{{ i | times: j | append: \"x\" | size }}{% endfor %}{% endfor %}")
}

/// Polls `/healthz` every 100 ms until stopped; counts the polls that did
/// not answer 200 within a second.
fn poll_health(
    worker: &HeraldProcess,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, usize)> {
    let url = format!("{}/healthz", worker.http);
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let (mut polls, mut failed) = (0, 0);
        while !stop.load(Ordering::Relaxed) {
            polls += 1;
            let ok = client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            failed += usize::from(!ok);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (polls, failed)
    })
}

fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]
}

/// Reads terminal events in the background as they arrive, with the time
/// each arrived, until `n` came or `timeout` passed.
fn collect(
    mut events: Events,
    n: usize,
    timeout: Duration,
) -> tokio::task::JoinHandle<HashMap<String, (Instant, Event)>> {
    tokio::spawn(async move {
        let deadline = Instant::now() + timeout;
        let mut arrived = HashMap::new();
        while arrived.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.next(left).await {
                Some(event) if event.kind.is_terminal() => {
                    arrived.insert(event.message_id.clone(), (Instant::now(), event));
                }
                Some(_) => {}
                None => break,
            }
        }
        arrived
    })
}

#[tokio::test]
async fn hostile_jobs_end_with_their_own_event_while_the_worker_stays_up_and_quick() {
    let ses = FakeSes::start().await;
    let ns = unique("hostile");
    let broker = TestBroker::new(&ns, &TIERS).await;
    let config = ses_config(&ses.url, "") + "\n[limits]\nmax_job_bytes = 41943040\n";
    let mut worker = HeraldProcess::start(&broker, 32, &config);
    assert!(
        worker.wait_ready(Duration::from_secs(30)).await,
        "{}",
        worker.stderr()
    );
    let cases = hostile(&ns);
    let expected = 2 + CANARIES + cases.len();
    let arrivals = collect(broker.events().await, expected, Duration::from_secs(120));
    let stop = Arc::new(AtomicBool::new(false));
    let health = poll_health(&worker, stop.clone());

    // Two slow renders hold two render slots while canaries go through.
    for n in 0..2 {
        broker.publish_json(&slow(&format!("{ns}-slow-{n}"))).await;
    }
    let mut published = HashMap::new();
    for n in 0..CANARIES {
        let id = format!("{ns}-canary-{n:02}");
        broker
            .publish_json(&job_json(&id, "prod", "ada@example.com"))
            .await;
        published.insert(id, Instant::now());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for (_, job, _) in &cases {
        broker.publish_json(job).await;
    }
    let arrived = arrivals.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let (polls, failed) = health.await.unwrap();
    assert!(worker.is_running(), "the worker died: {}", worker.stderr());
    assert_eq!(arrived.len(), expected, "events for {:?}", arrived.keys());

    for (id, _, expected) in &cases {
        let (_, event) = arrived
            .get(id)
            .unwrap_or_else(|| panic!("no event for {id}"));
        match expected {
            Some(detail) => {
                assert_eq!(event.kind, EventType::Undelivered, "{id}: {event:?}");
                let details = event.event_data["failure_details"].as_str().unwrap();
                assert!(details.contains(detail), "{id}: {details}");
            }
            None => assert_eq!(event.kind, EventType::Sent, "{id}: {event:?}"),
        }
    }
    let idn = ses
        .requests()
        .into_iter()
        .find(|r| r.raw.contains("xn--bcher-kva.example"));
    let idn = idn.expect("the IDN recipient's email reached SES with a punycode domain");
    let headers = idn.raw.split("\r\n\r\n").next().unwrap();
    assert!(headers.is_ascii(), "{headers}");

    let latencies: Vec<Duration> = published
        .iter()
        .map(|(id, at)| {
            let (arrived_at, event) = &arrived[id];
            assert_eq!(event.kind, EventType::Sent, "{event:?}");
            arrived_at.duration_since(*at)
        })
        .collect();
    let p99 = p99(latencies);
    assert!(
        p99 < Duration::from_secs(1),
        "canary p99 {p99:?} beside two slow renders"
    );
    assert!(
        polls >= 10 && failed == 0,
        "/healthz failed {failed} of {polls} polls"
    );
    broker.cleanup().await;
}
