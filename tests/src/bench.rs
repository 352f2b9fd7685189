//! Building blocks of the benchmark harness (`src/bin/bench.rs`): a job of a
//! given size, the bare-broker ceiling consumer, a `herald run` child process,
//! and counting events.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::json;

use herald_worker::process_metrics::ProcessStats;

use crate::broker::{amqp_url, TestBroker};
use crate::{job_json, send_signal};

/// Where a job's templates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Templates {
    /// The `welcome` workflow's files (subject, text, html and layout).
    Workflow,
    /// The same subject, text and html texts inline in every job.
    Inline,
}

/// The `welcome` workflow's templates as a job's inline `template`.
fn inline_welcome() -> &'static serde_json::Value {
    static TEMPLATE: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = crate::worker::example_templates_dir().join("welcome");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("welcome template");
        json!({
            "subject": read("subject.liquid"),
            "html": read("html.liquid"),
            "text": read("text.liquid"),
        })
    })
}

/// A job of about `bytes` bytes of JSON.
pub fn job_of_size(id: &str, bytes: usize, templates: Templates) -> Vec<u8> {
    let mut job = job_json(id, "prod", "ada@example.com");
    if templates == Templates::Inline {
        job["template"] = inline_welcome().clone();
    }
    let base = serde_json::to_vec(&job).unwrap().len();
    job["data"]["note"] = "x".repeat(bytes.saturating_sub(base + 12)).into();
    serde_json::to_vec(&job).unwrap()
}

/// Publishes `n` jobs of `bytes` bytes, confirms awaited in batches.
pub async fn publish_jobs(
    broker: &TestBroker,
    prefix: &str,
    n: usize,
    bytes: usize,
    templates: Templates,
) {
    let channel = broker.connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        for i in chunk {
            let body = job_of_size(&format!("{prefix}-{i}"), bytes, templates);
            channel
                .basic_publish(
                    broker.amqp.jobs_exchange.as_str().into(),
                    broker.amqp.routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    &body,
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .unwrap();
        }
        channel.wait_for_confirms().await.unwrap();
    }
    let _ = channel.close(200, "".into()).await;
}

/// Counts events as they arrive, with arrival times, from a durable quorum
/// queue bound to every event, as a user's events queue would be (consumed
/// without acks, for speed).
pub struct EventCounter {
    pub arrivals: Arc<std::sync::Mutex<Vec<(Instant, String)>>>,
    count: Arc<AtomicUsize>,
    /// Message ids with a terminal event (sent, not sent, undelivered).
    finished: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl EventCounter {
    pub async fn start(broker: &TestBroker) -> EventCounter {
        let (channel, queue) = broker.durable_events_queue().await;
        let options = BasicConsumeOptions {
            no_ack: true,
            ..Default::default()
        };
        let mut consumer = channel
            .basic_consume(queue, "".into(), options, FieldTable::default())
            .await
            .unwrap();
        let arrivals = Arc::new(std::sync::Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let (a, c, f) = (arrivals.clone(), count.clone(), finished.clone());
        tokio::spawn(async move {
            let _channel = channel;
            while let Some(Ok(delivery)) = consumer.next().await {
                let id = delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                let terminal = matches!(
                    delivery.routing_key.as_str(),
                    "message.sent" | "message.not_sent" | "message.undelivered"
                );
                if terminal {
                    f.lock().unwrap().insert(id.clone());
                }
                a.lock().unwrap().push((Instant::now(), id));
                c.fetch_add(1, Ordering::SeqCst);
            }
        });
        EventCounter {
            arrivals,
            count,
            finished,
        }
    }

    /// Waits until `n` distinct message ids have a terminal event (a job
    /// redelivered after a crash may have two); whether they did within
    /// `timeout`.
    pub async fn wait_for_finished(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let finished = self.finished.lock().unwrap().len();
            if finished >= n {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `n` events arrived; returns when the n-th did.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        while self.count.load(Ordering::SeqCst) < n {
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        self.arrivals.lock().unwrap().get(n - 1).map(|(t, _)| *t)
    }
}

/// The ceiling: a consumer that does only what any worker with Herald's
/// guarantees must do per job: POST to SES, publish a confirmed status event,
/// ack. Returns when `n` jobs are acked.
pub async fn bare_consumer(
    jobs_queue: &str,
    events_exchange: &str,
    ses_url: &str,
    n: usize,
    prefetch: u16,
) -> Instant {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let consume = connection.create_channel().await.unwrap();
    consume
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
        .unwrap();
    let publish = connection.create_channel().await.unwrap();
    publish
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{ses_url}/v2/email/outbound-emails");
    let events = events_exchange.to_owned();
    let mut consumer = consume
        .basic_consume(
            jobs_queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(tokio::sync::Notify::new());
    while done.load(Ordering::SeqCst) < n {
        let next = tokio::select! {
            next = consumer.next() => next,
            _ = finished.notified() => break,
        };
        let Some(Ok(delivery)) = next else { break };
        let (http, url, publish, events, done, finished) = (
            http.clone(),
            url.clone(),
            publish.clone(),
            events.clone(),
            done.clone(),
            finished.clone(),
        );
        tokio::spawn(async move {
            bare_job(&http, &url, &publish, &events, delivery).await;
            if done.fetch_add(1, Ordering::SeqCst) + 1 == n {
                finished.notify_one();
            }
        });
    }
    while done.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let end = Instant::now();
    let _ = connection.close(200, "".into()).await;
    end
}

/// One job of the ceiling's consumer: POST to SES, publish the event with
/// a confirm, ack.
async fn bare_job(
    http: &reqwest::Client,
    url: &str,
    publish: &lapin::Channel,
    events: &str,
    delivery: lapin::message::Delivery,
) {
    let request = json!({
        "FromEmailAddress": "notify@example.com",
        "Destination": { "ToAddresses": ["ada@example.com"] },
        "Content": { "Raw": { "Data": base64::engine::general_purpose::STANDARD.encode(&delivery.data) } }
    });
    let response = http.post(url).json(&request).send().await.unwrap();
    let id: serde_json::Value = response.json().await.unwrap();
    let event =
        json!({ "type": "message.sent", "status": "sent", "provider_message_id": id["MessageId"] });
    publish
        .basic_publish(
            events.into(),
            "message.sent".into(),
            BasicPublishOptions::default(),
            &serde_json::to_vec(&event).unwrap(),
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    delivery.ack(BasicAckOptions::default()).await.unwrap();
}

/// How a benchmarked worker logs: always to a file.
#[derive(Debug, Clone, Copy)]
pub struct Logs {
    /// `RUST_LOG`; `None` leaves the worker's default level (info: one line
    /// per job).
    pub level: Option<&'static str>,
    /// `--log-format json` instead of the human format.
    pub json: bool,
}

impl Logs {
    /// What a user runs without setting anything.
    pub const DEFAULT: Logs = Logs {
        level: None,
        json: false,
    };
    /// The default level in JSON.
    pub const JSON: Logs = Logs {
        level: None,
        json: true,
    };
    /// Warnings and errors only.
    pub const WARN: Logs = Logs {
        level: Some("warn"),
        json: false,
    };
}

/// A `herald run` child process.
pub struct HeraldProcess {
    child: Child,
    config: PathBuf,
    log: PathBuf,
}

impl HeraldProcess {
    pub fn start(herald: &Path, config_text: &str, name: &str, logs: Logs) -> HeraldProcess {
        let config = std::env::temp_dir().join(format!("{name}.toml"));
        std::fs::write(&config, config_text).unwrap();
        let log = std::env::temp_dir().join(format!("{name}.log"));
        let mut command = Command::new(herald);
        command
            .args(["run", "--config", config.to_str().unwrap()])
            .env_remove("RUST_LOG")
            .env_remove("HERALD_LOG_FORMAT")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(level) = logs.level {
            command.env("RUST_LOG", level);
        }
        if logs.json {
            command.args(["--log-format", "json"]);
        }
        let child = command.spawn().expect("the herald binary starts");
        HeraldProcess { child, config, log }
    }

    /// Lines the worker has logged so far.
    pub fn log_lines(&self) -> usize {
        std::fs::read(&self.log).map_or(0, |text| text.iter().filter(|&&b| b == b'\n').count())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory (VmHWM) so far, in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        ProcessStats::of(&self.child.id().to_string()).map(|s| s.peak_resident_bytes as u64)
    }

    /// `kill -9`, then wait: the process dies at whatever it was doing.
    pub fn kill9(mut self) {
        let _ = send_signal(self.child.id(), "KILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait.
    pub fn stop(mut self) {
        let _ = send_signal(self.child.id(), "TERM");
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// CPU seconds (user + system) process `pid` has used so far, from
/// `/proc/<pid>/stat`, which a process that has exited and not yet been
/// waited for still has.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    Some((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
}

/// The local RabbitMQ node's process (`beam.smp`), if there is one.
pub fn broker_pid() -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            (comm.trim() == "beam.smp").then_some(pid)
        })
}

/// Where the machine's CPU went during a phase: the consumer under test,
/// the broker and the harness itself (fake SES, publishing, counting).
pub struct CpuSplit {
    pids: [Option<u32>; 3],
    start: [f64; 3],
}

impl CpuSplit {
    pub fn start(consumer: u32) -> CpuSplit {
        let pids = [Some(consumer), broker_pid(), Some(std::process::id())];
        let start = pids.map(|pid| pid.and_then(cpu_seconds).unwrap_or(0.0));
        CpuSplit { pids, start }
    }

    /// Microseconds of CPU per job of the consumer, the broker and the
    /// harness since `start` (the broker's is 0 when it is not local).
    pub fn per_job(&self, jobs: usize) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (i, pid) in self.pids.iter().enumerate() {
            if let Some(now) = pid.and_then(cpu_seconds) {
                out[i] = (now - self.start[i]) * 1e6 / jobs as f64;
            }
        }
        out
    }
}

/// The mean of a Prometheus histogram (`_sum / _count`) in an exposition;
/// `series` is its name, with its labels if it has some
/// (`herald_ledger_duration_seconds{operation="claim"}`).
pub fn histogram_mean(exposition: &str, series: &str) -> Option<f64> {
    let (name, labels) = series.split_at(series.find('{').unwrap_or(series.len()));
    let value = |suffix: &str| crate::sample(exposition, &format!("{name}_{suffix}{labels}"));
    let count = value("count")?;
    (count > 0.0).then(|| value("sum").map(|sum| sum / count))?
}

/// The `p`-th percentile (0–100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
