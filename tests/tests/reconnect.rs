//! Losing the broker connection loses no job. This suite closes every
//! connection on the broker, so it is its own test binary and runs alone.

use std::collections::HashSet;
use std::time::Duration;

use herald_shared::{Event, EventType};
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::unique;
use herald_tests::worker::{ses_config, spawn_worker, TestWorker};
use lapin::options::QueueDeleteOptions;

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const JOBS: usize = 40;

fn close_all_connections() {
    let status = std::process::Command::new("rabbitmqctl")
        .args(["close_all_connections", "herald reconnect test"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rabbitmqctl must be installed beside the broker");
    assert!(status.success(), "rabbitmqctl close_all_connections failed");
}

#[tokio::test]
async fn a_worker_survives_its_connection_being_closed_and_loses_no_job() {
    let ses = FakeSes::start().await;
    ses.set_default(Reply::after(Duration::from_millis(50), Reply::Ok));
    let ns = unique("reconnect");
    let broker = TestBroker::new(&ns, &TIERS).await;
    let capture = broker.capture_events().await;
    let config = format!("[amqp]\nprefetch = 8\n{}", ses_config(&ses.url, ""));
    let worker = spawn_worker(&broker, &config).await;
    let ids: HashSet<String> = broker
        .publish_numbered(&ns, JOBS)
        .await
        .into_iter()
        .collect();
    assert!(
        ses.wait_for_requests(5, Duration::from_secs(20)).await,
        "worker started sending"
    );
    let saw_unready = watch_readiness(&worker).await;
    close_all_connections();

    let broker = TestBroker::new(&ns, &TIERS).await;
    let (finished, events) = terminal_events(&broker, &capture, JOBS).await;
    let missing: Vec<_> = ids.difference(&finished).collect();
    assert!(
        missing.is_empty(),
        "jobs without a terminal event: {missing:?}"
    );
    assert!(events
        .iter()
        .filter(|e| e.kind.is_terminal())
        .all(|e| e.kind == EventType::Sent));
    assert_eq!(
        broker.queue_len(&broker.amqp.jobs_queue).await,
        0,
        "no job left behind"
    );
    assert!(
        broker.take_dead_letters().await.is_empty(),
        "no job dead-lettered"
    );
    assert!(
        saw_unready.await.unwrap(),
        "not ready while the connection was down"
    );
    assert!(worker.health.is_ready(), "ready again after reconnecting");
    assert!(!worker.is_finished());
    let reconnects = worker.deps.metrics.amqp_reconnects.get();
    assert!(reconnects >= 1, "reconnects counted: {reconnects}");

    worker.stop().await.unwrap();
    let _ = broker
        .channel
        .queue_delete(capture.as_str().into(), QueueDeleteOptions::default())
        .await;
    broker.cleanup().await;
}

/// Serves the worker's `/readyz`, checks it answers 200, then polls it: the
/// task ends true once it has answered 503.
async fn watch_readiness(worker: &TestWorker) -> tokio::task::JoinHandle<bool> {
    let port = herald_tests::free_port();
    let router = herald_worker::http::router(worker.deps.metrics.clone(), worker.health.clone());
    herald_worker::http::serve(&format!("127.0.0.1:{port}"), router)
        .await
        .unwrap();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    assert_eq!(reqwest::get(&readyz).await.unwrap().status().as_u16(), 200);
    tokio::spawn(async move {
        for _ in 0..1000 {
            if reqwest::get(&readyz).await.unwrap().status().as_u16() == 503 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    })
}

/// The captured events until `jobs` ids have a terminal one (or a minute
/// passed): those ids, and every event seen.
async fn terminal_events(
    broker: &TestBroker,
    capture: &str,
    jobs: usize,
) -> (HashSet<String>, Vec<Event>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut finished = HashSet::new();
    let mut events: Vec<Event> = Vec::new();
    while finished.len() < jobs && tokio::time::Instant::now() < deadline {
        for letter in broker.take_all(capture).await {
            let event: Event = serde_json::from_slice(&letter.body).unwrap();
            if event.kind.is_terminal() {
                finished.insert(event.message_id.clone());
            }
            events.push(event);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (finished, events)
}
