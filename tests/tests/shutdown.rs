//! Stopping within the pod's grace period: at SIGTERM, jobs waiting for the
//! rate limiter go back to the queue at once, the worker exits well within
//! `[shutdown] timeout`, and no job is lost.

use std::time::{Duration, Instant};

use herald_tests::app::Stage;
use herald_tests::process::HeraldProcess;
use herald_tests::worker::ses_config;

#[tokio::test]
async fn sigterm_behind_a_slow_rate_limit_returns_the_waiting_jobs_and_exits_in_time() {
    let mut stage = Stage::start("shutdown", &[Duration::from_secs(30)]).await;
    let (ses, broker, events) = (&stage.ses, &stage.broker, &mut stage.events);
    broker.publish_numbered(&stage.ns, 200).await;
    let config = ses_config(&ses.url, "max_send_rate = 1") + "\n[shutdown]\ntimeout = \"10s\"\n";
    let mut worker = HeraldProcess::start(broker, 200, &config);
    assert!(
        ses.wait_for_requests(2, Duration::from_secs(30)).await,
        "{}",
        worker.stderr()
    );
    let asked = Instant::now();
    let status = worker.terminate(Duration::from_secs(15)).await;
    let took = asked.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running after 15 s: {}", worker.stderr()));
    assert!(status.success(), "{status:?}: {}", worker.stderr());
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}, the timeout is 10 s"
    );

    let sent = events.terminal(200, Duration::from_secs(3)).await.len();
    let queued = broker.queue_len(&broker.amqp.jobs_queue).await as usize;
    assert_eq!(sent, ses.served(), "every SES request has its event");
    assert_eq!(
        sent + queued,
        200,
        "{sent} sent and {queued} back in the queue"
    );
    assert!(sent < 20, "the rate limit let only a few through: {sent}");
    assert!(!worker.stderr().contains("panicked"), "{}", worker.stderr());
    stage.broker.cleanup().await;
}
