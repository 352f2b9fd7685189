//! A log that cannot be written never holds a job: with the worker's
//! standard error a pipe that nobody reads, every job still ends, and the
//! lines that could not be written are dropped and counted.

use std::time::Duration;

use herald_tests::app::Stage;
use herald_tests::process::HeraldProcess;
use herald_tests::sample;
use herald_tests::worker::ses_config;

const JOBS: usize = 600;

#[tokio::test]
async fn jobs_end_and_lines_are_dropped_and_counted_when_stderr_is_never_read() {
    let mut stage = Stage::start("log-unread", &[Duration::from_secs(30)]).await;
    let (ses, broker, events) = (&stage.ses, &stage.broker, &mut stage.events);
    broker.publish_numbered(&stage.ns, JOBS).await;
    // `trace`: dozens of lines per job (the broker client's frames, the HTTP
    // client), far more than the pipe and the writer's queue hold.
    let worker =
        HeraldProcess::start_with_unread_stderr(broker, 64, &ses_config(&ses.url, ""), "trace");
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
    stage.broker.cleanup().await;
}
