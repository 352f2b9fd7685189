//! A log that cannot be written never holds a job: with the worker's
//! standard error a pipe that nobody reads, every job still ends, and the
//! lines that could not be written are dropped and counted.

use std::time::Duration;

use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::FakeSes;
use herald_tests::process::HeraldProcess;
use herald_tests::worker::ses_config;
use herald_tests::{job_json, sample, unique};

const JOBS: usize = 600;

#[tokio::test]
async fn jobs_end_and_lines_are_dropped_and_counted_when_stderr_is_never_read() {
    let ses = FakeSes::start().await;
    let ns = unique("log-unread");
    let broker = TestBroker::new(&ns, &[Duration::from_secs(30)]).await;
    let mut events = broker.events().await;
    for n in 0..JOBS {
        let id = format!("{ns}-{n:04}");
        broker
            .publish_json(&job_json(&id, "prod", "ada@example.com"))
            .await;
    }
    // `trace`: dozens of lines per job (the broker client's frames, the HTTP
    // client), far more than the pipe and the writer's queue hold.
    let worker =
        HeraldProcess::start_with_unread_stderr(&broker, 64, &ses_config(&ses.url, ""), "trace");
    let ended = events.terminal(JOBS, Duration::from_secs(120)).await.len();
    assert_eq!(ended, JOBS, "every job ends although no log line leaves");
    assert_eq!(ses.served(), JOBS);
    let (status, metrics) = worker.get("/metrics").await.expect("/metrics answers");
    assert_eq!(status, 200);
    let dropped = sample(&metrics, "herald_log_lines_dropped_total")
        .expect("herald_log_lines_dropped_total is exposed");
    assert!(
        dropped > 1000.0,
        "the lines that could not be written are counted: {dropped}"
    );
    broker.cleanup().await;
}
