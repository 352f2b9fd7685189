//! `herald run` as a process: SIGTERM stops it taking jobs, lets the jobs in
//! flight finish, and it exits 0.

use std::process::{Command, Stdio};
use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::Stage;
use herald_tests::fake_ses::Reply;
use herald_tests::worker::{example_templates_dir, ledger_toml, ses_config};
use herald_tests::{herald_bin, signal_and_wait, succeeded};

#[tokio::test]
async fn sigterm_finishes_jobs_in_flight_and_exits_zero() {
    let mut stage = Stage::start("sigterm", &[Duration::from_secs(10)]).await;
    let (ses, broker, events) = (&stage.ses, &stage.broker, &mut stage.events);
    ses.set_default(Reply::after(Duration::from_millis(1500), Reply::Ok));
    let config = format!(
        "{}\n[server]\nlisten = \"\"\n[templates]\ndir = \"{}\"\n{}{}",
        broker.amqp_toml(3),
        example_templates_dir().display(),
        ses_config(&ses.url, "").replace("[retry]", "[retry]\ntiers = [\"10s\"]"),
        ledger_toml(),
    );
    let file = std::env::temp_dir().join(format!("{}.toml", stage.ns));
    std::fs::write(&file, config).unwrap();
    broker.publish_numbered(&stage.ns, 5).await;
    let child = Command::new(herald_bin())
        .args(["run", "--config", file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        ses.wait_for_requests(3, Duration::from_secs(20)).await,
        "three jobs in flight"
    );

    let output = signal_and_wait(child, "TERM").await;
    succeeded(output, "herald run, stopped by SIGTERM,");
    let finished = events.terminal(3, Duration::from_secs(10)).await;
    assert_eq!(
        finished.len(),
        3,
        "the jobs in flight finished: {:?}",
        events.seen
    );
    assert!(finished.iter().all(|e| e.kind == EventType::Sent));
    assert_eq!(ses.requests().len(), 3, "no job was taken after SIGTERM");
    assert_eq!(
        broker.queue_len(&broker.amqp.jobs_queue).await,
        2,
        "the rest wait in the queue"
    );
    let _ = std::fs::remove_file(file);
    stage.broker.cleanup().await;
}
