//! Herald's benchmark harness. In one run, on this machine, against the real
//! RabbitMQ and the fake SES, it measures:
//!
//! 1. the bare-broker ceiling (POST to SES, confirmed event, ack per job);
//! 2. Herald end to end with SES answering at once, as users run it (the
//!    default log level, to a file; events on a durable quorum queue), with
//!    workflow and with inline templates, then with JSON logs and with
//!    `RUST_LOG=warn`: jobs/s and ratio to (1), run again after them; p50/p99
//!    latency from publish to status event at a steady load;
//! 3. Herald with SES answering after 50 ms, against the bare consumer at the
//!    same latency, run before and after it, and again with `store = "off"`
//!    to see what the send ledger's waits cost at that latency;
//! 4. rate limiting at 100 messages/s: achieved rate and throttles seen;
//! 5. the worker's peak resident memory;
//! 6. the send ledger's cost: (2) with `store = "off"`, `"embedded"` and
//!    `"redis"`, each store's throughput, CPU per job and p99 latency beside
//!    `"off"`'s;
//! 7. one send rate for a fleet: three workers sharing a 100 msg/s account
//!    through Redis, against a fake SES that throttles anything beyond 100
//!    in a rolling second; then the same while one worker is killed
//!    (`kill -9`) and restarted.
//!
//! `cargo run --release -p herald-tests --bin bench [-- --jobs N | --smoke | --main | --ledger | --fleet]`
//! (`--main`: phases 1 to 5; `--ledger`: phase 6 alone; `--fleet`: phase 7 alone)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use herald_shared::producer::Producer;
use herald_tests::bench::{
    bare_consumer, histogram_mean, job_of_size, percentile, publish_jobs, CpuSplit, EventCounter,
    HeraldProcess, Logs, Templates,
};
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{example_templates_dir, ledger_toml, ses_config};
use herald_tests::{free_port, sample, unique};

const PREFETCH: u16 = 256;
const JOB_BYTES: usize = 1024;
const SES_LATENCY: Duration = Duration::from_millis(50);
const RATE: f64 = 100.0;

/// How a worker of phase (2) is run: its logs and its jobs' templates.
#[derive(Clone, Copy)]
struct Setup {
    name: &'static str,
    logs: Logs,
    templates: Templates,
}

/// Phase (2)'s settings; the first is what a user runs without changing
/// anything, and is the one (3), (6) and the latency figures use.
const SETUPS: [Setup; 6] = [
    Setup {
        name: "defaults, workflow templates",
        logs: Logs::DEFAULT,
        templates: Templates::Workflow,
    },
    Setup {
        name: "defaults, inline templates",
        logs: Logs::DEFAULT,
        templates: Templates::Inline,
    },
    Setup {
        name: "JSON logs, workflow templates",
        logs: Logs::JSON,
        templates: Templates::Workflow,
    },
    Setup {
        name: "JSON logs, inline templates",
        logs: Logs::JSON,
        templates: Templates::Inline,
    },
    Setup {
        name: "warn, workflow templates",
        logs: Logs::WARN,
        templates: Templates::Workflow,
    },
    Setup {
        name: "warn, inline templates",
        logs: Logs::WARN,
        templates: Templates::Inline,
    },
];

struct Sizes {
    jobs: usize,
    latency_jobs: usize,
    latency_rate: f64,
    rate_jobs: usize,
    fleet_jobs: usize,
}

impl Sizes {
    /// `--smoke` (CI's quick run) or the full sizes; `--jobs N` sets the
    /// backlog.
    fn from_args(args: &[String]) -> Sizes {
        let smoke = args.iter().any(|a| a == "--smoke");
        let jobs = args
            .windows(2)
            .find(|w| w[0] == "--jobs")
            .map(|w| w[1].parse().expect("--jobs N"))
            .unwrap_or(if smoke { 300 } else { 20_000 });
        Sizes {
            jobs,
            latency_jobs: if smoke { 100 } else { 3000 },
            latency_rate: if smoke { 100.0 } else { 500.0 },
            rate_jobs: if smoke { 150 } else { 1000 },
            fleet_jobs: if smoke { 300 } else { 3000 },
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only_main = args.iter().any(|a| a == "--main");
    if let [_, flag, queue, exchange, url, n] = args.as_slice() {
        if flag == "--bare-consumer" {
            bare_consumer(queue, exchange, url, n.parse().expect("a count"), PREFETCH).await;
            return;
        }
    }
    let sizes = Sizes::from_args(&args);
    let herald = build_herald();
    println!(
        "Herald benchmark: {} jobs of {JOB_BYTES} B, prefetch {PREFETCH}, quorum queues, {}",
        sizes.jobs,
        machine()
    );
    let ses = FakeSes::start().await;
    ses.keep_bodies(false);
    if args.iter().any(|a| a == "--ledger") {
        measure_ledgers(&herald, &ses, &sizes).await;
        return;
    }
    if args.iter().any(|a| a == "--fleet") {
        measure_fleet(&herald, &ses, sizes.fleet_jobs).await;
        return;
    }

    let (ceiling, cpu) = measure_ceiling(&ses, sizes.jobs).await;
    println!("1. bare-broker ceiling           {ceiling:>9.0} jobs/s");
    print_cpu("consumer", cpu);

    let runs = measure_settings(&herald, &ses, &sizes, ceiling).await;
    let slow = measure_slow_ses(&herald, &ses, &sizes).await;

    ses.set_default(Reply::Ok);
    let (achieved, throttles) = measure_rate_limit(&herald, &ses, sizes.rate_jobs).await;
    println!(
        "4. rate limit {RATE:.0}/s              {achieved:>9.1} msg/s   {:+.1}%, {throttles} throttled",
        (achieved / RATE - 1.0) * 100.0
    );
    let rss = runs
        .iter()
        .map(|(_, run, _)| run.peak_rss)
        .fold(slow.peak_rss, u64::max);
    println!("5. worker peak RSS               {:>9.1} MiB", mib(rss));
    if only_main {
        return;
    }
    measure_ledgers(&herald, &ses, &sizes).await;
    measure_fleet(&herald, &ses, sizes.fleet_jobs).await;
}

/// Phase 2: `herald run` with each setting of [`SETUPS`], each against the
/// bare consumer's runs just before and just after it; returns each run
/// with the bare consumer's mean beside it.
async fn measure_settings(
    herald: &Path,
    ses: &FakeSes,
    sizes: &Sizes,
    ceiling: f64,
) -> Vec<(Setup, HeraldRun, f64)> {
    // The broker slows down and speeds up over a run; each Herald run is
    // compared with the bare consumer's runs just before and just after it.
    println!("2. Herald, SES answers at once: jobs/s, and ratio to the bare consumer's runs before and after it");
    let mut runs = Vec::new();
    let mut before = ceiling;
    for setup in SETUPS {
        let with_latency = setup.name == SETUPS[0].name;
        let run = measure_herald(herald, ses, sizes, with_latency, &ledger_toml(), setup).await;
        let (after, _) = measure_ceiling(ses, sizes.jobs).await;
        let bare = (before + after) / 2.0;
        println!(
            "   {:<30} {:>6.0} jobs/s  {:.2} of bare {bare:>5.0}   worker CPU {:>4.0} µs/job   {:>5.1} MiB peak   {} log lines, {} dropped",
            setup.name,
            run.throughput,
            run.throughput / bare,
            run.cpu[0],
            mib(run.peak_rss),
            run.log_lines,
            run.dropped_lines,
        );
        before = after;
        runs.push((setup, run, bare));
    }
    // Each against its own bare runs, so the broker's drift between them
    // cancels out.
    let of = |name: &str| {
        runs.iter()
            .find(|(s, _, _)| s.name == name)
            .map(|(_, run, bare)| run.throughput / bare)
    };
    for (inline, workflow) in [
        ("defaults, inline templates", "defaults, workflow templates"),
        ("warn, inline templates", "warn, workflow templates"),
    ] {
        if let (Some(i), Some(w)) = (of(inline), of(workflow)) {
            println!("   {inline}: {:.2} of {workflow}", i / w);
        }
    }
    let (_, first, _) = &runs[0];
    print_cpu("worker", first.cpu);
    print_times(first);
    println!(
        "   latency publish → event at {:.0} jobs/s ({}): p50 {:.1} ms, p99 {:.1} ms",
        sizes.latency_rate,
        SETUPS[0].name,
        ms(percentile(&first.latencies, 50.0)),
        ms(percentile(&first.latencies, 99.0))
    );
    runs
}

/// Phase 3: SES answering in 50 ms, Herald against the bare consumer run
/// before and after it, then the steady-rate latency at that SES latency.
async fn measure_slow_ses(herald: &Path, ses: &FakeSes, sizes: &Sizes) -> HeraldRun {
    ses.set_default(Reply::after(SES_LATENCY, Reply::Ok));
    let bound = f64::from(PREFETCH) / SES_LATENCY.as_secs_f64();
    // What the broker and the fake SES allow at this latency without Herald,
    // before and after Herald's run.
    let (bare_before, _) = measure_ceiling(ses, sizes.jobs).await;
    let slow = measure_herald(herald, ses, sizes, true, &ledger_toml(), SETUPS[0]).await;
    // What the send ledger's two durable writes per job cost at this latency.
    let unledgered = measure_herald(herald, ses, sizes, false, NO_LEDGER, SETUPS[0]).await;
    let (bare_after, _) = measure_ceiling(ses, sizes.jobs).await;
    let bare_slow = (bare_before + bare_after) / 2.0;
    println!(
        "3. SES answers in 50 ms: bare consumer {bare_before:.0} and {bare_after:.0} jobs/s ({:.2} of prefetch/latency {bound:.0})",
        bare_slow / bound
    );
    println!(
        "   Herald, {}  {:>6.0} jobs/s   {:.2} of the bare consumer",
        SETUPS[0].name,
        slow.throughput,
        slow.throughput / bare_slow
    );
    print_cpu("worker", slow.cpu);
    print_times(&slow);
    // Below the CPU's limit, what a job waits for besides SES.
    println!(
        "   latency publish → event at {:.0} jobs/s: p50 {:.1} ms, p99 {:.1} ms (SES answering in {} ms)",
        sizes.latency_rate,
        ms(percentile(&slow.latencies, 50.0)),
        ms(percentile(&slow.latencies, 99.0)),
        SES_LATENCY.as_millis()
    );
    println!("   worker peak RSS {:.1} MiB", mib(slow.peak_rss));
    println!(
        "   the same with store = \"off\" {:>6.0} jobs/s   {:.2} of the bare consumer",
        unledgered.throughput,
        unledgered.throughput / bare_slow
    );
    print_cpu("worker", unledgered.cpu);
    print_times(&unledgered);
    slow
}

/// Workers of the fleet phase.
const FLEET_WORKERS: usize = 3;

/// (7): the fleet's rate, steady and through a worker's crash, and what one
/// reservation in Redis costs a message.
async fn measure_fleet(herald: &Path, ses: &FakeSes, n: usize) {
    let calls = 2000;
    let per_call = reservation_cost(calls).await;
    println!(
        "7. fleet rate: one Redis reservation {:>6.0} µs per message (mean of {calls}, nothing to wait for)",
        per_call.as_secs_f64() * 1e6
    );
    for crash in [false, true] {
        let (achieved, throttled, sent) = fleet_run(herald, ses, n, crash).await;
        let what = match crash {
            false => "   fleet of 3, one 100/s rate   ",
            true => "   the same, one worker kill -9'd",
        };
        println!("{what} {achieved:>7.1} msg/s   {throttled} throttled, {sent} SES requests for {n} jobs");
    }
}

/// The mean time of a reservation on the fleet's schedule in Redis, at a
/// rate so high that no call waits: the limiter's own cost per message.
async fn reservation_cost(calls: u32) -> Duration {
    use herald_worker::ratelimit::{Fleet, RateLimitSettings, RateStore, SendRateLimiter};
    let settings = RateLimitSettings {
        store: RateStore::Redis,
        ..RateLimitSettings::default()
    };
    let connection = settings.connect().unwrap().expect("a Redis connection");
    let limiter = SendRateLimiter::new(1e9);
    let key = format!("{}:rate", unique("bench-reserve"));
    limiter.share_through(Fleet::new(connection, key, &settings), 1.0);
    limiter.acquire(1).await;
    let started = Instant::now();
    for _ in 0..calls {
        assert!(!limiter.acquire(1).await.fell_back, "Redis answers");
    }
    started.elapsed() / calls
}

/// Three `herald run` sharing the rate and the ledger through Redis; with
/// `crash`, one is killed a third of the way through and started again two
/// seconds later. The rate over the fake SES's arrivals, throttles, and SES
/// requests made.
async fn fleet_run(herald: &Path, ses: &FakeSes, n: usize, crash: bool) -> (f64, usize, usize) {
    let ns = unique("bench-fleet");
    let broker = TestBroker::new(&ns, &[Duration::from_secs(10)]).await;
    let events = EventCounter::start(&broker).await;
    publish_jobs(&broker, "f", n, JOB_BYTES, Templates::Workflow).await;
    ses.reset();
    ses.enforce_rate(Some(RATE as usize));
    let shared = format!(
        "[limits]\nworkers = {FLEET_WORKERS}\n[rate_limit]\nstore = \"redis\"\nprefix = \"{ns}:\"\n\
         [idempotency]\nstore = \"redis\"\nprefix = \"{ns}:\"\n"
    );
    let config = |_: usize| {
        format!(
            "{}\n{shared}",
            herald_config(&broker, ses, "", &format!("max_send_rate = {RATE}"), "")
        )
    };
    let mut workers: Vec<Option<HeraldProcess>> = (0..FLEET_WORKERS)
        .map(|i| {
            Some(HeraldProcess::start(
                herald,
                &config(i),
                &format!("{ns}-{i}"),
                Logs::WARN,
            ))
        })
        .collect();
    if crash {
        let third = Duration::from_secs_f64(n as f64 / RATE / 3.0);
        tokio::time::sleep(third).await;
        if let Some(doomed) = workers[0].take() {
            doomed.kill9();
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        workers[0] = Some(HeraldProcess::start(
            herald,
            &config(0),
            &format!("{ns}-0b"),
            Logs::WARN,
        ));
    }
    let done = events.wait_for_finished(n, Duration::from_secs(600)).await;
    assert!(done, "every job ends in an event");
    for worker in workers.into_iter().flatten() {
        worker.stop();
    }
    ses.enforce_rate(None);
    let arrivals = ses.arrivals();
    let span = (*arrivals.last().unwrap() - arrivals[0]).as_secs_f64();
    broker.cleanup().await;
    (
        (arrivals.len() - 1) as f64 / span,
        ses.throttled(),
        arrivals.len(),
    )
}

/// Writes a run's `[idempotency]` section.
type StoreToml = fn() -> String;

/// The `[idempotency]` section of a worker without a send ledger.
const NO_LEDGER: &str = "[idempotency]\nstore = \"off\"\n";

/// Rounds of phase 6: each store runs once a round, so that a store is
/// compared with the `off` run of its own round, a minute apart at most.
const LEDGER_ROUNDS: usize = 5;

/// (2) with each ledger store: throughput and CPU on a backlog, p99 latency
/// at the steady rate. The broker's speed drifts between runs, so the stores
/// run in rounds, in a different order each round; each run is set beside
/// the `off` run of its round, and the summary is the median of a store's
/// ratios.
async fn measure_ledgers(herald: &Path, ses: &FakeSes, sizes: &Sizes) {
    println!(
        "6. the send ledger, SES answers at once (p99 publish → event at {:.0} jobs/s), \
         {LEDGER_ROUNDS} rounds",
        sizes.latency_rate
    );
    // Each run has a ledger of its own: job ids repeat from run to run.
    let stores: [(&str, StoreToml); 3] = [
        ("off", || NO_LEDGER.to_owned()),
        ("embedded", ledger_toml),
        ("redis", || {
            let prefix = unique("bench-ledger");
            format!("[idempotency]\nstore = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nprefix = \"{prefix}:\"\nttl = \"10m\"\n")
        }),
    ];
    // Per store: (throughput ratio, p99 ratio) of each round.
    let mut ratios: Vec<Vec<(f64, f64)>> = vec![Vec::new(); stores.len()];
    // The first run after the harness starts is slower than the rest,
    // whatever the store: one run warms the broker and the file system up.
    let warm_up = measure_herald(herald, ses, sizes, false, &stores[0].1(), SETUPS[0]).await;
    println!(
        "   warm-up   {:>9.0} jobs/s (off, not counted)",
        warm_up.throughput
    );
    for round in 0..LEDGER_ROUNDS {
        let mut runs: Vec<Option<(f64, f64)>> = vec![None; stores.len()];
        for k in 0..stores.len() {
            let i = (round + k) % stores.len();
            let (store, toml) = stores[i];
            let run = measure_herald(herald, ses, sizes, true, &toml(), SETUPS[0]).await;
            let p99 = ms(percentile(&run.latencies, 99.0));
            println!(
                "   {store:<9} {:>9.0} jobs/s   CPU µs/job: worker {:>4.0}, RabbitMQ {:>4.0}   p99 {p99:>6.1} ms   {:>5.1} MiB peak",
                run.throughput,
                run.cpu[0],
                run.cpu[1],
                mib(run.peak_rss)
            );
            runs[i] = Some((run.throughput, p99));
        }
        let (jobs, latency) = runs[0].expect("off runs every round");
        for (i, run) in runs.into_iter().enumerate() {
            let (throughput, p99) = run.expect("every store runs every round");
            ratios[i].push((throughput / jobs, p99 / latency));
        }
        println!();
    }
    for ((store, _), ratios) in stores.iter().zip(ratios) {
        let listed = |pick: fn(&(f64, f64)) -> f64| {
            let mut values: Vec<f64> = ratios.iter().map(pick).collect();
            let each = values.iter().map(|v| format!("{v:.2}")).collect::<Vec<_>>();
            values.sort_by(f64::total_cmp);
            (values[values.len() / 2], each.join(" "))
        };
        let (jobs, each_jobs) = listed(|r| r.0);
        let (p99, each_p99) = listed(|r| r.1);
        println!(
            "   {store:<9} median {jobs:.2} of off's jobs/s ({each_jobs}); \
             p99 median {p99:.2} of off's ({each_p99})"
        );
    }
}

/// CPU per job, by process.
fn print_cpu(consumer: &str, [own, broker, harness]: [f64; 3]) {
    println!(
        "   CPU per job: {consumer} {own:.0} µs, RabbitMQ {broker:.0} µs, harness {harness:.0} µs"
    );
}

/// Where a job's time goes: at the broker from delivery to ack (Little's
/// law: prefetch / throughput), inside the worker, rendering (a render
/// slot's wait included), waiting for SES, in the fake SES itself, and
/// waiting for the ledger's claim (taken while the job renders) and record.
fn print_times(run: &HeraldRun) {
    let at_broker = f64::from(PREFETCH) / run.throughput;
    println!(
        "   time per job: {:.1} ms unacked, {:.1} ms in the worker, {:.1} ms rendering, {:.1} ms waiting for SES, {:.1} ms in the fake SES",
        at_broker * 1e3,
        run.job_seconds * 1e3,
        run.render_seconds * 1e3,
        run.ses_seconds * 1e3,
        run.answer_seconds * 1e3
    );
    if !run.ledger_seconds[0].is_nan() {
        println!(
            "   ledger per job: {:.1} ms claiming, {:.1} ms recording",
            run.ledger_seconds[0] * 1e3,
            run.ledger_seconds[1] * 1e3
        );
    }
}

async fn measure_ceiling(ses: &FakeSes, n: usize) -> (f64, [f64; 3]) {
    let broker = TestBroker::new(&unique("bench-ceiling"), &[Duration::from_secs(10)]).await;
    // Events are consumed as in Herald's runs, so the broker does the same work.
    let events = EventCounter::start(&broker).await;
    publish_jobs(&broker, "c", n, JOB_BYTES, Templates::Workflow).await;
    ses.reset();
    // Its own process, as Herald is, measured the same way: first SES request
    // to the n-th status event.
    let mut consumer = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--bare-consumer",
            &broker.amqp.jobs_queue,
            &broker.amqp.events_exchange,
            &ses.url,
            &n.to_string(),
        ])
        .spawn()
        .expect("the bench binary starts itself");
    let cpu = CpuSplit::start(consumer.id());
    let end = events
        .wait_for(n, Duration::from_secs(600))
        .await
        .expect("every job ends in an event");
    let cpu = cpu.per_job(n);
    let _ = consumer.wait();
    let start = ses.arrivals()[0];
    broker.cleanup().await;
    (n as f64 / (end - start).as_secs_f64(), cpu)
}

fn herald_config(
    broker: &TestBroker,
    ses: &FakeSes,
    listen: &str,
    extra: &str,
    ledger: &str,
) -> String {
    format!(
        "{}\n[server]\nlisten = \"{listen}\"\n[templates]\ndir = \"{}\"\n{}{ledger}",
        broker.amqp_toml(PREFETCH),
        example_templates_dir().display(),
        ses_config(&ses.url, extra),
    )
}

/// Removes the ledger file a run's `[idempotency]` section names: a backlog
/// leaves about 20 MB of it.
fn remove_ledger_file(ledger: &str) {
    let path = ledger
        .lines()
        .find_map(|l| l.strip_prefix("path = \"")?.strip_suffix('"'));
    if let Some(path) = path {
        let _ = std::fs::remove_file(path);
    }
}

/// What one `herald run` phase measured.
struct HeraldRun {
    throughput: f64,
    /// Worker, broker and harness CPU per job, in µs.
    cpu: [f64; 3],
    /// Mean time from receiving a job to acking it, by the worker's metrics.
    job_seconds: f64,
    /// Mean render time, waiting for a render slot included.
    render_seconds: f64,
    /// Mean SES request time, by the worker's metrics.
    ses_seconds: f64,
    /// Mean time the fake SES held a request before answering.
    answer_seconds: f64,
    /// Mean time of the ledger's claims and records (NaN without a ledger).
    ledger_seconds: [f64; 2],
    latencies: Vec<Duration>,
    peak_rss: u64,
    /// Lines in the worker's log file, and lines it dropped because the
    /// file fell behind.
    log_lines: usize,
    dropped_lines: u64,
}

/// Throughput on a backlog of jobs, then, if asked, latency at a steady load.
async fn measure_herald(
    herald: &Path,
    ses: &FakeSes,
    sizes: &Sizes,
    with_latency: bool,
    ledger: &str,
    setup: Setup,
) -> HeraldRun {
    let broker = TestBroker::new(&unique("bench-herald"), &[Duration::from_secs(10)]).await;
    let events = EventCounter::start(&broker).await;
    publish_jobs(&broker, "h", sizes.jobs, JOB_BYTES, setup.templates).await;
    ses.reset();
    let listen = format!("127.0.0.1:{}", free_port());
    let worker = HeraldProcess::start(
        herald,
        &herald_config(&broker, ses, &listen, "", ledger),
        &unique("bench-worker"),
        setup.logs,
    );
    let cpu = CpuSplit::start(worker.pid());
    let end = events
        .wait_for(sizes.jobs, Duration::from_secs(600))
        .await
        .expect("every job ends in an event");
    let cpu = cpu.per_job(sizes.jobs);
    let throughput = sizes.jobs as f64 / (end - ses.arrivals()[0]).as_secs_f64();
    let metrics = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .expect("the worker serves /metrics")
        .text()
        .await
        .unwrap_or_default();
    let mean = |name: &str| histogram_mean(&metrics, name).unwrap_or(f64::NAN);
    let mut run = HeraldRun {
        throughput,
        cpu,
        job_seconds: mean("herald_job_duration_seconds"),
        render_seconds: mean("herald_render_duration_seconds"),
        ses_seconds: mean("herald_ses_request_duration_seconds"),
        answer_seconds: ses.mean_answer_time().map_or(f64::NAN, |d| d.as_secs_f64()),
        ledger_seconds: ["claim", "record"].map(|op| {
            mean(&format!(
                "herald_ledger_duration_seconds{{operation=\"{op}\"}}"
            ))
        }),
        latencies: Vec::new(),
        peak_rss: 0,
        log_lines: 0,
        dropped_lines: sample(&metrics, "herald_log_lines_dropped_total").unwrap_or(0.0) as u64,
    };
    if with_latency {
        run.latencies = steady_latency(&broker, &events, sizes, setup.templates).await;
    }
    run.peak_rss = worker.peak_rss().unwrap_or(0);
    run.log_lines = worker.log_lines();
    worker.stop();
    remove_ledger_file(ledger);
    broker.cleanup().await;
    run
}

async fn steady_latency(
    broker: &TestBroker,
    events: &EventCounter,
    sizes: &Sizes,
    templates: Templates,
) -> Vec<Duration> {
    let producer = Producer::new(&broker.connection)
        .await
        .unwrap()
        .with_target(&broker.amqp.jobs_exchange, &broker.amqp.routing_key);
    let already = events.arrivals.lock().unwrap().len();
    let interval = Duration::from_secs_f64(1.0 / sizes.latency_rate);
    let mut published = HashMap::new();
    let start = Instant::now();
    for i in 0..sizes.latency_jobs {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let id = format!("lat-{i}");
        published.insert(id.clone(), Instant::now());
        producer
            .publish_raw(&job_of_size(&id, JOB_BYTES, templates), &id)
            .await
            .unwrap();
    }
    events
        .wait_for(already + sizes.latency_jobs, Duration::from_secs(120))
        .await
        .expect("latency jobs end");
    let arrivals = events.arrivals.lock().unwrap();
    let mut latencies: Vec<Duration> = arrivals[already..]
        .iter()
        .filter_map(|(at, id)| published.get(id).map(|sent| *at - *sent))
        .collect();
    latencies.sort();
    latencies
}

async fn measure_rate_limit(herald: &Path, ses: &FakeSes, n: usize) -> (f64, usize) {
    let broker = TestBroker::new(&unique("bench-rate"), &[Duration::from_secs(10)]).await;
    let events = EventCounter::start(&broker).await;
    publish_jobs(&broker, "r", n, JOB_BYTES, Templates::Workflow).await;
    ses.reset();
    ses.enforce_rate(Some(RATE as usize));
    let rate = format!("max_send_rate = {RATE}");
    let ledger = ledger_toml();
    let config = herald_config(&broker, ses, "", &rate, &ledger);
    let worker = HeraldProcess::start(herald, &config, &unique("bench-rate-worker"), Logs::DEFAULT);
    events
        .wait_for(n, Duration::from_secs(600))
        .await
        .expect("every job ends in an event");
    worker.stop();
    remove_ledger_file(&ledger);
    ses.enforce_rate(None);
    let arrivals = ses.arrivals();
    let span = (*arrivals.last().unwrap() - arrivals[0]).as_secs_f64();
    broker.cleanup().await;
    ((arrivals.len() - 1) as f64 / span, ses.throttled())
}

/// Builds the `herald` binary of this profile and returns its path.
fn build_herald() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Both packages selected, so dependency features resolve as for this
    // binary and nothing is built twice.
    let mut args = vec![
        "build",
        "-q",
        "-p",
        "herald-worker",
        "-p",
        "herald-tests",
        "--bin",
        "herald",
    ];
    if !cfg!(debug_assertions) {
        args.push("--release");
    }
    let status = std::process::Command::new(cargo)
        .args(&args)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building herald failed");
    herald_tests::herald_bin()
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let profile = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    format!("{cores} cores, {profile}")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
