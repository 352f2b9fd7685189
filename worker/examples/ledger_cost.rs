//! What the send ledger costs a job: claims and records per second, and the
//! latency of each, for the embedded (redb) and the Redis store, with 256
//! jobs in flight as a worker with `prefetch = 256` has.
//!
//! `cargo run --release -p herald-worker --example ledger_cost [-- --jobs N] [--dir D] [--multi-process]`
//!
//! Every job makes one claim and, after it, one record, as the pipeline does
//! around `SendEmail` (without the SES request between them). A first phase
//! keeps 256 jobs in flight (throughput); a second starts 3,000 jobs at a
//! steady 500/s (latency without queueing). The embedded
//! file is written under `--dir` (default: the system's temporary folder;
//! it must be a real disk, not tmpfs, for fsync to cost what it costs).
//! Redis is 127.0.0.1:6379, under a key prefix of its own that expires.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_worker::ledger::{Acceptance, Claim, IdempotencySettings, Ledger, StoreKind};
use herald_worker::settings::Secret;

const CONCURRENCY: usize = 256;
/// The second phase: jobs started at a steady rate, for latency without
/// queueing (as the 500 jobs/s latency target).
const STEADY_RATE: u32 = 500;
const STEADY_JOBS: usize = 3_000;

#[tokio::main]
async fn main() {
    let (jobs, dir, multi_process) = arguments();
    println!(
        "{jobs} jobs (one claim + one record each), {CONCURRENCY} in flight; \
         embedded file {}",
        match multi_process {
            true => "shared (multi_process = true)",
            false => "held alone",
        }
    );
    println!(
        "{:<9} {:>9} {:>9} {:>12} {:>12} {:>12} {:>12} {:>14}",
        "store",
        "jobs/s",
        "ops/s",
        "claim p50",
        "claim p99",
        "record p50",
        "record p99",
        "jobs/commit"
    );
    let file = tempfile::Builder::new()
        .prefix("ledger-cost-")
        .tempdir_in(&dir)
        .expect("a folder for the ledger file");
    let embedded = IdempotencySettings {
        store: StoreKind::Embedded,
        path: file.path().join("ledger.redb"),
        multi_process,
        timeout: Duration::from_secs(30),
        ..IdempotencySettings::default()
    };
    let redis = IdempotencySettings {
        store: StoreKind::Redis,
        url: Secret::new("redis://127.0.0.1:6379/0"),
        prefix: format!("ledger-cost-{}:", std::process::id()),
        ttl: Duration::from_secs(300),
        timeout: Duration::from_secs(30),
        ..IdempotencySettings::default()
    };
    for settings in [embedded, redis] {
        let ledger = Ledger::open(&settings).await.expect("the store opens");
        let store = format!("{:?}", settings.store).to_lowercase();
        println!("{store:<9} {}", run(&ledger, jobs).await);
        let steady = steady(&ledger, STEADY_JOBS, STEADY_RATE).await;
        println!("{:<9} {steady}", format!("  @{STEADY_RATE}/s"));
    }
}

fn arguments() -> (usize, PathBuf, bool) {
    let mut jobs = 20_000;
    let mut dir = std::env::temp_dir();
    let mut multi_process = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jobs" => jobs = args.next().and_then(|n| n.parse().ok()).expect("--jobs N"),
            "--dir" => dir = args.next().map(PathBuf::from).expect("--dir D"),
            "--multi-process" => multi_process = true,
            other => panic!("unknown argument {other}"),
        }
    }
    (jobs, dir, multi_process)
}

struct Result {
    jobs: usize,
    elapsed: Duration,
    claims: Vec<Duration>,
    records: Vec<Duration>,
    commits: Option<u64>,
}

impl std::fmt::Display for Result {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let per_second = self.jobs as f64 / self.elapsed.as_secs_f64();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        let per_commit = self.commits.map_or("-".into(), |c| {
            format!("{:.1}", self.jobs as f64 / c.max(1) as f64)
        });
        write!(
            f,
            "{:>9.0} {:>9.0} {:>12} {:>12} {:>12} {:>12} {:>14}",
            per_second,
            per_second * 2.0,
            ms(percentile(&self.claims, 0.50)),
            ms(percentile(&self.claims, 0.99)),
            ms(percentile(&self.records, 0.50)),
            ms(percentile(&self.records, 0.99)),
            per_commit,
        )
    }
}

async fn run(ledger: &Ledger, jobs: usize) -> Result {
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let commits_before = ledger.durable_commits();
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (ledger, next, run_id) = (ledger.clone(), next.clone(), run_id.clone());
            tokio::spawn(async move { worker(&ledger, &next, jobs, &run_id).await })
        })
        .collect();
    gather(ledger, jobs, started, commits_before, tasks).await
}

/// Takes jobs until `jobs` are done; returns each one's claim and record
/// latencies.
async fn worker(
    ledger: &Ledger,
    next: &AtomicUsize,
    jobs: usize,
    run_id: &str,
) -> Vec<(Duration, Duration)> {
    let mut latencies = Vec::new();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= jobs {
            return latencies;
        }
        latencies.push(job(ledger, &format!("{run_id}-{n}"), n).await);
    }
}

/// One job's claim, then its record; returns how long each took.
async fn job(ledger: &Ledger, id: &str, n: usize) -> (Duration, Duration) {
    let started = Instant::now();
    let claim = ledger.claim(id, Duration::from_secs(60)).await;
    let claimed = started.elapsed();
    assert!(matches!(claim, Ok(Claim::Acquired(_))), "{claim:?}");
    let acceptance = Acceptance {
        provider_message_id: format!("0100018c-{n:08}"),
        accepted_at: herald_worker::clock::now_rfc3339(),
        attempts: 1,
        event: serde_json::value::to_raw_value(&serde_json::json!({
            "type": "message.sent", "status": "sent", "message_id": id,
            "environment": "production", "channel": "ses", "workflow": "welcome",
            "recipient_id": "user_123", "provider": "aws_ses",
            "provider_message_id": format!("0100018c-{n:08}"), "sandbox": false,
            "attempt": 1, "at": herald_worker::clock::now_rfc3339(), "event_data": {}
        }))
        .expect("an event serialises"),
    };
    let started = Instant::now();
    ledger.record(id, acceptance).await.expect("a record");
    (claimed, started.elapsed())
}

/// Starts `jobs` jobs at `rate` per second, each in its own task.
async fn steady(ledger: &Ledger, jobs: usize, rate: u32) -> Result {
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let commits_before = ledger.durable_commits();
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(jobs);
    for n in 0..jobs {
        ticks.tick().await;
        let (ledger, id) = (ledger.clone(), format!("{run_id}-{n}"));
        tasks.push(tokio::spawn(
            async move { vec![job(&ledger, &id, n).await] },
        ));
    }
    gather(ledger, jobs, started, commits_before, tasks).await
}

/// Waits for a phase's tasks and makes its result from their latencies.
async fn gather(
    ledger: &Ledger,
    jobs: usize,
    started: Instant,
    commits_before: Option<u64>,
    tasks: Vec<tokio::task::JoinHandle<Vec<(Duration, Duration)>>>,
) -> Result {
    let mut latencies = Vec::with_capacity(jobs);
    for task in tasks {
        latencies.extend(task.await.expect("a benchmark task"));
    }
    let (claims, records) = latencies.into_iter().unzip();
    Result {
        jobs,
        elapsed: started.elapsed(),
        claims,
        records,
        commits: commits_since(ledger, commits_before),
    }
}

fn commits_since(ledger: &Ledger, before: Option<u64>) -> Option<u64> {
    ledger
        .durable_commits()
        .zip(before)
        .map(|(after, before)| after - before)
}

fn percentile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}
