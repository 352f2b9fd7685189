//! Memory proportional to the work: a large attachment is held in one form
//! at a time, and jobs beyond the in-flight budget wait on disk, not in
//! memory. Each test runs a real `herald run` process and samples its peak
//! resident memory (`VmHWM`) from `/proc`.

use std::time::Duration;

use base64::Engine;
use herald_shared::EventType;
use herald_tests::app::Stage;
use herald_tests::fake_ses::Reply;
use herald_tests::job_json;
use herald_tests::process::HeraldProcess;
use herald_tests::worker::ses_config;
use serde_json::{json, Value};

const TIERS: [Duration; 1] = [Duration::from_secs(30)];
const MIB: f64 = 1024.0 * 1024.0;

/// Peak RSS above an idle worker, as a multiple of one large attachment.
const ATTACHMENT_FACTOR: f64 = 4.0;

/// A job carrying one attachment of `size` bytes.
fn with_attachment(id: &str, size: usize) -> Value {
    let bytes: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    let content = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut job = job_json(id, "prod", "ada@example.com");
    job["data"]["attachments"] = json!([{ "name": "big.bin", "content_type": "application/octet-stream", "content": content }]);
    job
}

/// `herald run` on `stage`'s namespace at `prefetch` with `[limits]`
/// `limits`, once it is ready.
async fn started(stage: &Stage, prefetch: u16, limits: &str) -> HeraldProcess {
    let config = ses_config(&stage.ses.url, "") + "\n[limits]\n" + limits;
    let worker = HeraldProcess::start(&stage.broker, prefetch, &config);
    assert!(
        worker.wait_ready(Duration::from_secs(30)).await,
        "{}",
        worker.stderr()
    );
    worker
}

#[tokio::test]
async fn a_28_mb_attachment_takes_at_most_four_times_its_size() {
    let mut stage = Stage::start("big", &TIERS).await;
    stage.ses.keep_bodies(false);
    let mut worker = started(&stage, 4, "max_job_bytes = 41943040\n").await;
    let (broker, events, ns) = (&stage.broker, &mut stage.events, &stage.ns);
    let baseline = worker.stats().unwrap().resident_bytes;
    let size = 28 * 1000 * 1000;
    broker
        .publish_json(&with_attachment(&format!("{ns}-28mb"), size))
        .await;
    let terminal = events.terminal(1, Duration::from_secs(120)).await;
    assert_eq!(terminal.len(), 1, "{:?}", events.seen);
    assert_eq!(terminal[0].kind, EventType::Sent, "{:?}", terminal[0]);
    let peak = worker.stats().unwrap().peak_resident_bytes;
    let factor = (peak - baseline) / size as f64;
    println!(
        "28 MB attachment: baseline {:.0} MiB, peak {:.0} MiB, {factor:.1}x the attachment",
        baseline / MIB,
        peak / MIB
    );
    assert!(
        factor <= ATTACHMENT_FACTOR,
        "peak RSS {factor:.1}x the attachment above the baseline"
    );
    assert!(worker.is_running());
    stage.broker.cleanup().await;
}

/// 64 jobs of 4 MiB at prefetch 64 (256 MiB of bodies in flight): the worker
/// stays within its in-flight budget (128 MiB) above an idle worker.
#[tokio::test]
async fn sixty_four_jobs_of_4_mib_stay_within_the_in_flight_budget() {
    let mut stage = Stage::start("budget", &TIERS).await;
    stage.ses.keep_bodies(false);
    // Slow enough that every job is in flight before the first is answered.
    stage.ses.set_default(Reply::Delayed(
        Duration::from_millis(1500),
        Box::new(Reply::Ok),
    ));
    let budget = 128.0 * MIB;
    let limits = "max_in_flight_bytes = \"128MiB\"\n";
    let mut worker = started(&stage, 64, limits).await;
    let (broker, events, ns) = (&stage.broker, &mut stage.events, &stage.ns);
    let baseline = worker.stats().unwrap().resident_bytes;
    // 3 MiB of attachment is 4 MiB of base64 in the job.
    let job = with_attachment(&format!("{ns}-0"), 3 * 1024 * 1024);
    let body = job.to_string();
    let bodies: Vec<String> = (0..64)
        .map(|i| {
            body.replacen(
                &format!("\"id\":\"{ns}-0\""),
                &format!("\"id\":\"{ns}-{i}\""),
                1,
            )
        })
        .collect();
    drop(job);
    futures_util::future::join_all(bodies.iter().map(|b| broker.publish(b.as_bytes()))).await;
    let terminal = events.terminal(64, Duration::from_secs(240)).await;
    assert_eq!(terminal.len(), 64, "{}", worker.stderr());
    assert!(terminal.iter().all(|e| e.kind == EventType::Sent));
    let peak = worker.stats().unwrap().peak_resident_bytes;
    println!(
        "64 jobs of 4 MiB: baseline {:.0} MiB, peak {:.0} MiB, budget {:.0} MiB",
        baseline / MIB,
        peak / MIB,
        budget / MIB
    );
    assert!(
        peak - baseline <= budget,
        "peak {:.0} MiB is more than the budget above the baseline ({:.0} MiB)",
        peak / MIB,
        baseline / MIB
    );
    assert!(worker.is_running());
    stage.broker.cleanup().await;
}

/// Bodies that waited on disk come back whole: a rejected job is
/// dead-lettered byte for byte, and a throttled one goes through a retry
/// tier and is sent.
#[tokio::test]
async fn a_job_set_aside_on_disk_is_republished_byte_for_byte() {
    let mut stage = Stage::start("spooled", &[Duration::from_millis(300)]).await;
    let worker = started(&stage, 4, "spool_above = \"64KiB\"\n").await;
    let (ses, broker, events, ns) = (&stage.ses, &stage.broker, &mut stage.events, &stage.ns);
    let tag = herald_shared::tags::sanitize_tag_value;
    let (rejected, retried) = (format!("{ns}-rejected"), format!("{ns}-retried"));
    ses.script_for(&tag(&rejected), [Reply::rejected()]);
    ses.script_for(&tag(&retried), [Reply::throttled(), Reply::throttled()]);
    let body = with_attachment(&rejected, 512 * 1024)
        .to_string()
        .into_bytes();
    broker.publish(&body).await;
    broker
        .publish_json(&with_attachment(&retried, 512 * 1024))
        .await;
    let terminal = events.terminal(2, Duration::from_secs(60)).await;
    let kind = |id: &str| terminal.iter().find(|e| e.message_id == id).map(|e| e.kind);
    assert_eq!(
        kind(&rejected),
        Some(EventType::Undelivered),
        "{:?}",
        events.seen
    );
    assert_eq!(kind(&retried), Some(EventType::Sent), "{:?}", events.seen);
    let dead = broker.wait_dead_letters(1, Duration::from_secs(10)).await;
    assert!(
        dead[0].body == body,
        "the dead letter is the job as published"
    );
    // The message went into the request whole: its attachment's first line.
    let job = with_attachment(&retried, 512 * 1024);
    let content = job["data"]["attachments"][0]["content"].as_str().unwrap();
    let requests = ses.requests();
    let sent = requests.iter().rev().find(|r| r.raw.contains("big.bin"));
    assert!(
        sent.is_some_and(|r| r.raw.contains(&content[..76])),
        "the attachment reached SES"
    );
    drop(worker);
    stage.broker.cleanup().await;
}
