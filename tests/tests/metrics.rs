//! `/metrics`, `/healthz` and `/readyz` after a run of sent, sandboxed,
//! retried and dead-lettered jobs: every counter and histogram moved by the
//! right amount, and promtool accepts the scrape. The dead-letter gauge
//! follows the queue on the real broker.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{free_port, job_json, sample, unique};
use herald_worker::metrics::Metrics;
use herald_worker::{dead_letter_depth, http};
use lapin::types::FieldTable;

/// `promtool check metrics` on a scrape: a parse error or any lint problem
/// fails, but one. promtool reads the classic text format, where a counter's
/// `# TYPE` names the sample itself; OpenMetrics (what prometheus-client
/// serves) names the family without `_total`, so promtool sees every
/// `x_total` sample as a metric without help text. That report is accepted
/// only for a sample whose family `x` is declared a counter with help.
fn assert_promtool_accepts(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "promtool is needed to check /metrics ({e}); install Debian's \
                 `prometheus` package (scripts/test does)"
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let problems: Vec<&str> = report
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| !is_openmetrics_counter_artefact(line, text))
        .collect();
    // 0: clean; 3: lint problems only (all of them checked above).
    assert!(
        matches!(output.status.code(), Some(0 | 3)) && problems.is_empty(),
        "promtool check metrics ({}):\n{report}\nscrape:\n{text}",
        output.status
    );
}

fn is_openmetrics_counter_artefact(line: &str, text: &str) -> bool {
    let Some(family) = line
        .strip_suffix(" no help text")
        .and_then(|sample| sample.strip_suffix("_total"))
    else {
        return false;
    };
    text.contains(&format!("# TYPE {family} counter\n"))
        && text.contains(&format!("# HELP {family} "))
}

/// Every series the mixed run must have moved, and by how much.
fn expected_series() -> Vec<(String, f64)> {
    let messages = |environment: &str, status: &str| {
        format!(
            r#"herald_messages_total{{environment="{environment}",channel="ses",status="{status}"}}"#
        )
    };
    let requests = |outcome: &str| {
        format!(
            r#"herald_ses_requests_total{{environment="prod",channel="ses",outcome="{outcome}"}}"#
        )
    };
    vec![
        ("herald_jobs_received_total".to_owned(), 7.0),
        (messages("prod", "sent"), 3.0),
        (messages("dev", "not_sent"), 1.0),
        (messages("prod", "delivery_attempted"), 1.0),
        (messages("prod", "undelivered"), 1.0),
        (
            r#"herald_messages_total{environment="unknown",channel="unknown",status="undelivered"}"#
                .into(),
            1.0,
        ),
        (requests("ok"), 3.0),
        (requests("transient_error"), 2.0),
        (requests("permanent_error"), 1.0),
        ("herald_ses_request_duration_seconds_count".into(), 6.0),
        ("herald_job_duration_seconds_count".into(), 7.0),
        ("herald_render_duration_seconds_count".into(), 6.0),
        (r#"herald_retries_total{tier="300ms"}"#.into(), 1.0),
        (r#"herald_dead_lettered_total{reason="fatal_error"}"#.into(), 2.0),
        ("herald_in_flight".into(), 0.0),
        ("herald_amqp_connected".into(), 1.0),
        ("herald_amqp_reconnects_total".into(), 0.0),
        // A claim per delivery that calls SES (`retried` twice: before and
        // after its retry tier); a record per job SES accepted. The
        // sandboxed job and the unreadable one use no ledger.
        (r#"herald_ledger_duration_seconds_count{operation="claim"}"#.into(), 5.0),
        (r#"herald_ledger_duration_seconds_count{operation="record"}"#.into(), 3.0),
    ]
}

#[tokio::test]
async fn a_run_moves_every_counter_and_histogram_by_the_right_amount() {
    let ses = FakeSes::start().await;
    let broker = TestBroker::new(&unique("metrics"), &[Duration::from_millis(300)]).await;
    let sandbox = "\n[channels.ses.environments.dev]\nsandbox = true\nfrom_address = \"dev@example.com\"\nvars = { domain = \"example.com\", app_name = \"Example\" }\n";
    let worker = spawn_worker(&broker, &(ses_config(&ses.url, "") + sandbox)).await;
    let port = free_port();
    http::serve(
        &format!("127.0.0.1:{port}"),
        http::router(worker.deps.metrics.clone(), worker.health.clone()),
    )
    .await
    .unwrap();
    let get = |path: &str| {
        let url = format!("http://127.0.0.1:{port}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    assert_eq!(get("/readyz").await.0, 200);
    let mut events = broker.events().await;

    let tag = |id: &str| herald_shared::tags::sanitize_tag_value(id);
    ses.script_for(
        &tag("retried"),
        [Reply::server_error(), Reply::server_error()],
    );
    ses.script_for(&tag("rejected"), [Reply::rejected()]);
    for id in ["sent-1", "sent-2", "retried", "rejected"] {
        broker
            .publish_json(&job_json(id, "prod", "ada@example.com"))
            .await;
    }
    broker
        .publish_json(&job_json("sandboxed", "dev", "ada@example.com"))
        .await;
    broker.publish(b"not json").await;
    let terminal = events.terminal(5, Duration::from_secs(30)).await;
    assert_eq!(terminal.len(), 5, "{:?}", events.seen);

    let mut text = String::new();
    for _ in 0..100 {
        text = get("/metrics").await.1;
        if sample(&text, "herald_job_duration_seconds_count") == Some(7.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_promtool_accepts(&text);
    let expect = expected_series();
    for (series, value) in expect {
        assert_eq!(sample(&text, &series), Some(value), "{series} in:\n{text}");
    }
    let bucket = r#"herald_ses_request_duration_seconds_bucket{le="+Inf"}"#;
    assert_eq!(sample(&text, bucket), Some(6.0));
    assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 0.0);

    worker.stop().await.unwrap();
    assert_eq!(get("/readyz").await.0, 503, "not ready once stopped");
    assert_eq!(get("/healthz").await.0, 200);
    broker.cleanup().await;
}

/// Polls `check` every 20 ms for up to 10 s; whether it became true.
async fn eventually(check: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

#[tokio::test]
async fn the_dead_letter_gauge_follows_the_depth_of_the_dead_letter_queue() {
    let broker = TestBroker::new(&unique("dead-depth"), &[Duration::from_millis(300)]).await;
    let metrics = Arc::new(Metrics::new());
    metrics.dead_letters.set(-1);
    let channel = broker.connection.create_channel().await.unwrap();
    let poller = tokio::spawn(dead_letter_depth::poll(
        channel.clone(),
        broker.amqp.dead_queue.clone(),
        metrics.clone(),
        Duration::from_millis(50),
    ));
    assert!(eventually(|| metrics.dead_letters.get() == 0).await);

    let letters: Vec<(Vec<u8>, FieldTable)> = (0..3)
        .map(|n| {
            (
                format!("{{\"id\":\"dead-{n}\"}}").into_bytes(),
                FieldTable::default(),
            )
        })
        .collect();
    broker.publish_dead_letters(&letters).await;
    assert!(
        eventually(|| metrics.dead_letters.get() == 3).await,
        "gauge at {}, 3 letters queued",
        metrics.dead_letters.get()
    );
    assert!(metrics.encode().contains("herald_dead_letters 3\n"));

    assert_eq!(broker.take_dead_letters().await.len(), 3);
    assert!(
        eventually(|| metrics.dead_letters.get() == 0).await,
        "gauge at {} once the queue is empty",
        metrics.dead_letters.get()
    );

    channel.close(200, "done".into()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), poller)
        .await
        .expect("polling stops once its channel is closed")
        .unwrap();
    broker.cleanup().await;
}
