//! Secrets never reach logs, errors, events or metrics: a whole run's output
//! is captured and searched for them.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::{example_templates_dir, ledger_toml};
use herald_tests::{free_port, herald_bin, job_json, send_signal, unique};

const KEY_ID: &str = "AKIDSECRETPROBE7Q";
const SECRET: &str = "wJalrSECRETPROBE/K7MDENG+bPxRfiCY";

async fn run_and_capture(
    log_level: &str,
    chain: bool,
) -> (String, String, Vec<herald_shared::Event>, Vec<String>) {
    let ses = FakeSes::start().await;
    ses.script([Reply::Error(403, "AccessDeniedException")]);
    let ns = unique("secrets");
    let broker = TestBroker::new(&ns, &[Duration::from_secs(5)]).await;
    let port = free_port();
    let config = probe_config(&broker, port, &ses.url, chain);
    let file = std::env::temp_dir().join(format!("{ns}.toml"));
    std::fs::write(&file, config).unwrap();
    let mut events = broker.events().await;
    let mut child = Command::new(herald_bin())
        .args([
            "run",
            "--log-format",
            "json",
            "--config",
            file.to_str().unwrap(),
        ])
        .env("RUST_LOG", log_level)
        .env("PROBE_KEY_ID", KEY_ID)
        .env("PROBE_SECRET", SECRET)
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    publish_three_jobs(&broker).await;
    let terminal = events.terminal(3, Duration::from_secs(30)).await;
    assert_eq!(terminal.len(), 3, "{:?}", events.seen);
    assert!(terminal.iter().any(|e| e.kind == EventType::Sent));
    let metrics = metrics_after_three_jobs(port).await;
    assert!(metrics.contains("herald_messages_total"));

    assert!(send_signal(child.id(), "TERM"));
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let authorizations = ses
        .requests()
        .iter()
        .map(|r| r.authorization.clone())
        .collect();
    let dead = broker.take_dead_letters().await;
    let headers: Vec<String> = dead.iter().map(|d| format!("{:?}", d.headers)).collect();
    let _ = std::fs::remove_file(file);
    broker.cleanup().await;
    (
        out + &err,
        metrics + &headers.join("\n"),
        events.seen,
        authorizations,
    )
}

/// A worker on the fake SES at `ses_url`, with the probe keys given in the
/// file (as `${…}`) or through the default chain.
fn probe_config(broker: &TestBroker, port: u16, ses_url: &str, chain: bool) -> String {
    let auth = if chain {
        "auth = { scheme = \"default_chain\" }".to_owned()
    } else {
        r#"auth = { scheme = "access_key", access_key_id = "${PROBE_KEY_ID}", secret_access_key = "${PROBE_SECRET}" }"#.to_owned()
    };
    format!(
        "{}\n[server]\nlisten = \"127.0.0.1:{port}\"\n[templates]\ndir = \"{}\"\n\
         [channels.ses.environments.prod]\nregion = \"us-east-1\"\nendpoint_url = \"{ses_url}\"\n{auth}\n\
         from_address = \"notify@example.com\"\nvars = {{ domain = \"example.com\", app_name = \"Example\" }}\n{}",
        broker.amqp_toml(8),
        example_templates_dir().display(),
        ledger_toml(),
    )
}

/// One job SES refuses, one with a broken template, one that is sent.
async fn publish_three_jobs(broker: &TestBroker) {
    broker
        .publish_json(&job_json(&unique("rejected"), "prod", "ada@example.com"))
        .await;
    let mut bad_template = job_json(&unique("bad"), "prod", "ada@example.com");
    bad_template["template"] = serde_json::json!({ "subject": "{{ nope }}", "text": "x" });
    broker.publish_json(&bad_template).await;
    broker
        .publish_json(&job_json(&unique("ok"), "prod", "ada@example.com"))
        .await;
}

/// The worker's metrics once they count three jobs: counters move just
/// after a job's event is confirmed.
async fn metrics_after_three_jobs(port: u16) -> String {
    let mut metrics = String::new();
    for _ in 0..100 {
        let url = format!("http://127.0.0.1:{port}/metrics");
        metrics = reqwest::get(url).await.unwrap().text().await.unwrap();
        if herald_tests::sample(&metrics, "herald_job_duration_seconds_count") == Some(3.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    metrics
}

fn assert_clean(text: &str, what: &str) {
    for probe in [SECRET, KEY_ID] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(probe)).take(3).collect();
        assert!(
            leaks.is_empty(),
            "a test credential leaked into {what}:\n{}",
            leaks.join("\n")
        );
    }
}

#[tokio::test]
async fn static_keys_never_reach_output_events_metrics_or_dead_letters() {
    let (output, metrics_and_letters, events, authorizations) =
        run_and_capture("debug", false).await;
    assert!(
        output.contains("AccessDeniedException"),
        "the run was captured:\n{output}"
    );
    assert_clean(&output, "the logs");
    let done: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["message"] == "job done")
        .collect();
    assert_eq!(done.len(), 3, "one JSON line per outcome");
    for line in &done {
        for field in [
            "message_id",
            "workflow",
            "environment",
            "channel",
            "attempt",
        ] {
            assert!(
                !line["span"][field].is_null(),
                "{field} missing from {line}"
            );
        }
    }
    assert!(
        !output.contains("Grace invited you"),
        "no email body in logs"
    );
    assert_clean(&metrics_and_letters, "metrics or dead-letter headers");
    assert_clean(&serde_json::to_string(&events).unwrap(), "events");
    assert!(
        authorizations
            .iter()
            .all(|a| a.contains(&format!("Credential={KEY_ID}/"))),
        "the keys were used"
    );
}

#[tokio::test]
async fn the_default_chain_reads_the_process_environment_and_keeps_it_quiet() {
    let (output, _, _, authorizations) = run_and_capture("info", true).await;
    assert_clean(&output, "the logs");
    assert!(
        authorizations
            .iter()
            .all(|a| a.contains(&format!("Credential={KEY_ID}/"))),
        "{authorizations:?}"
    );
}
