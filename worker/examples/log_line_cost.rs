//! What a job's logging costs the thread that runs the job: its span (five
//! fields recorded as the job is read) and its one `job done` line, through
//! the subscriber `herald run` installs, at `warn` (nothing per job) and at
//! the default level in the human and the JSON format. Lines go to a sink:
//! this is the cost of filtering and formatting, which the job's thread
//! pays; writing is the log thread's. A last row shows what the JSON
//! format cost with tracing-subscriber's list of spans in every line too,
//! which `herald run` leaves out.
//!
//! `cargo run --release -p herald-worker --example log_line_cost`

use std::time::Instant;

use herald_worker::logging::{job_span, subscriber, LogFormat};
use tracing_subscriber::EnvFilter;

const JOBS: u32 = 200_000;

/// One job's logging, as the consumer and the pipeline do it.
fn job(n: u32) {
    let span = job_span(1);
    let _entered = span.enter();
    span.record("message_id", format!("msg_{n:08}").as_str());
    span.record("workflow", "welcome");
    span.record("environment", "production");
    span.record("channel", "ses");
    tracing::info!(status = "sent", "job done");
}

fn main() {
    println!("{JOBS} jobs; ns of the job's thread per job");
    for (name, format, level) in [
        ("warn", LogFormat::Human, "warn"),
        ("default level, human", LogFormat::Human, "info"),
        ("default level, JSON", LogFormat::Json, "info"),
    ] {
        let logs = subscriber(format, EnvFilter::new(level), false, std::io::sink);
        let per_job = tracing::subscriber::with_default(logs, measure);
        println!("{name:<22} {per_job:>8.0} ns");
    }
    let with_span_list = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("info"))
        .with_writer(std::io::sink)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .finish();
    let per_job = tracing::subscriber::with_default(with_span_list, measure);
    println!("{:<22} {per_job:>8.0} ns", "JSON with span list");
}

/// ns per job, after a first pass that warms the allocator and the
/// callsite caches.
fn measure() -> f64 {
    (0..JOBS / 10).for_each(job);
    let started = Instant::now();
    (0..JOBS).for_each(job);
    started.elapsed().as_nanos() as f64 / f64::from(JOBS)
}
