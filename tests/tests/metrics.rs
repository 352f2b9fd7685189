//! `/metrics`, `/healthz` and `/readyz` after a run of sent, sandboxed,
//! retried and dead-lettered jobs: every counter and histogram moved by the
//! right amount, and the scrape is valid text exposition.

use std::time::Duration;

use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{free_port, job_json, sample, unique};
use herald_worker::http;

/// Checks the shape of an OpenMetrics text exposition.
fn assert_valid_exposition(text: &str) {
    assert_eq!(text.lines().last(), Some("# EOF"), "ends with # EOF");
    for line in text.lines() {
        if let Some(meta) = line.strip_prefix("# ") {
            let kind = meta.split_whitespace().next().unwrap();
            assert!(
                ["HELP", "TYPE", "UNIT", "EOF"].contains(&kind),
                "bad comment line: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "bad value: {line}"
        );
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "bad labels: {line}"
            );
        }
    }
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
    assert_valid_exposition(&text);
    let expect = [
        ("herald_jobs_received_total", 7.0),
        (
            r#"herald_messages_total{environment="prod",channel="ses",status="sent"}"#,
            3.0,
        ),
        (
            r#"herald_messages_total{environment="dev",channel="ses",status="not_sent"}"#,
            1.0,
        ),
        (
            r#"herald_messages_total{environment="prod",channel="ses",status="delivery_attempted"}"#,
            1.0,
        ),
        (
            r#"herald_messages_total{environment="prod",channel="ses",status="undelivered"}"#,
            1.0,
        ),
        (
            r#"herald_messages_total{environment="unknown",channel="unknown",status="undelivered"}"#,
            1.0,
        ),
        (
            r#"herald_ses_requests_total{environment="prod",channel="ses",outcome="ok"}"#,
            3.0,
        ),
        (
            r#"herald_ses_requests_total{environment="prod",channel="ses",outcome="transient_error"}"#,
            2.0,
        ),
        (
            r#"herald_ses_requests_total{environment="prod",channel="ses",outcome="permanent_error"}"#,
            1.0,
        ),
        ("herald_ses_request_duration_seconds_count", 6.0),
        ("herald_job_duration_seconds_count", 7.0),
        ("herald_render_duration_seconds_count", 6.0),
        (r#"herald_retries_total{tier="300ms"}"#, 1.0),
        (r#"herald_dead_lettered_total{reason="fatal_error"}"#, 2.0),
        ("herald_in_flight", 0.0),
        ("herald_amqp_connected", 1.0),
        ("herald_amqp_reconnects_total", 0.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, series), Some(value), "{series} in:\n{text}");
    }
    let bucket = r#"herald_ses_request_duration_seconds_bucket{le="+Inf"}"#;
    assert_eq!(sample(&text, bucket), Some(6.0));
    assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 0.0);

    worker.stop().await.unwrap();
    assert_eq!(get("/readyz").await.0, 503, "not ready once stopped");
    assert_eq!(get("/healthz").await.0, 200);
    broker.cleanup().await;
}
