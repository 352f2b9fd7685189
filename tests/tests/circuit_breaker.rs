//! The circuit breaker and regional failover against the fake SES: an
//! outage opens the breaker, jobs wait without spending attempts, probes
//! find the recovery, and a second region takes the jobs meanwhile.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::fake_ses::{FakeSes, Reply};
use herald_tests::worker::ses_config;
use herald_tests::{sample, succeeded};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(40);

const BREAKER: &str =
    "\n[circuit_breaker]\nfailures = 3\nopen_for = \"2s\"\nmax_open_for = \"4s\"\n";

/// SES requests the fake SES saw, per job id (its message-id tag).
fn requests_per_job(ses: &FakeSes) -> HashMap<String, u32> {
    let mut per_job = HashMap::new();
    for request in ses.requests() {
        if let Some((_, id)) = request
            .tags()
            .into_iter()
            .find(|(k, _)| k == "herald_message_id")
        {
            *per_job.entry(id).or_insert(0) += 1;
        }
    }
    per_job
}

fn state(app: &TestApp, region: &str) -> f64 {
    let series =
        format!("herald_circuit_state{{environment=\"prod\",channel=\"ses\",region=\"{region}\"}}");
    sample(&app.worker.deps.metrics.encode(), &series).unwrap_or(-1.0)
}

async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_outage_opens_the_breaker_and_only_probes_reach_ses_until_it_recovers() {
    let mut app = TestApp::configured("circuit", &TIERS, |ses| {
        format!(
            "{}{BREAKER}",
            ses_config(&ses.url, "").replace("max_attempts = 4", "max_attempts = 50")
        )
    })
    .await;
    app.ses.set_default(Reply::server_error());
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(app.send_to(&format!("user{n}@example.com")).await);
    }
    until("the breaker to open", || state(&app, "us-east-1") == 2.0).await;

    // Open: 2 s, then a probe, which fails; 4 s, a probe, … Over 5 s at most
    // three probes reach SES.
    let at_open = app.ses.served();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during = app.ses.served() - at_open;
    assert!(
        during <= 3,
        "{during} requests reached SES while the breaker was open"
    );
    assert!(during >= 1, "a probe went through after the open period");

    app.ses.set_default(Reply::Ok);
    let ended = app.terminal(ids.len(), WAIT).await;
    assert_eq!(
        ended.len(),
        ids.len(),
        "every job ends: {:?}",
        app.events.seen.len()
    );
    assert!(ended.iter().all(|e| e.kind == EventType::Sent), "{ended:?}");
    assert_eq!(state(&app, "us-east-1"), 0.0, "closed again");

    // No job spent an attempt it did not make: its attempts are the SES
    // requests made for it (the failures it met, and the success).
    let per_job = requests_per_job(&app.ses);
    for event in &ended {
        let requests = per_job.get(&event.message_id).copied().unwrap_or(0);
        assert_eq!(event.attempt, requests, "job {}", event.message_id);
    }
    let total: u32 = per_job.values().sum();
    assert!(
        total < 20 * 4,
        "{total} requests for 20 jobs: the breaker saved the retries of the outage"
    );
    let metrics = app.worker.deps.metrics.encode();
    for to in ["open", "half_open", "closed"] {
        let series = format!("herald_circuit_transitions_total{{environment=\"prod\",channel=\"ses\",region=\"us-east-1\",to=\"{to}\"}}");
        assert!(sample(&metrics, &series).unwrap_or(0.0) >= 1.0, "{series}");
    }
    app.stop().await;
}

#[tokio::test]
async fn with_the_primary_region_down_jobs_go_through_the_failover_region() {
    let secondary = FakeSes::start().await;
    let failover = format!(
        "failover = [{{ region = \"us-west-2\", endpoint_url = \"{}\" }}]\n",
        secondary.url
    );
    let mut app = TestApp::configured("failover", &TIERS, |ses| {
        format!("{}{BREAKER}", ses_config(&ses.url, &failover))
    })
    .await;
    app.ses.set_default(Reply::server_error());

    let mut first = Vec::new();
    for n in 0..10 {
        first.push(app.send_to(&format!("user{n}@example.com")).await);
    }
    let ended = app.terminal(first.len(), WAIT).await;
    assert_eq!(ended.len(), first.len());
    assert!(ended.iter().all(|e| e.kind == EventType::Sent), "{ended:?}");
    let via_secondary = ended
        .iter()
        .filter(|e| e.event_data["region"] == "us-west-2")
        .count();
    assert!(via_secondary >= 1, "{ended:?}");
    assert!(secondary.served() >= via_secondary);
    assert_eq!(
        state(&app, "us-east-1"),
        2.0,
        "the primary's breaker is open"
    );
    assert_eq!(state(&app, "us-west-2"), 0.0);

    // The primary recovers; after its open period the next job is its probe
    // (while the probe is out, others still go to the secondary), and once
    // it answered, jobs go back to the primary.
    app.ses.set_default(Reply::Ok);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    app.send_to("probe@example.com").await;
    let probe = app.terminal(1, WAIT).await;
    assert_eq!(probe[0].event_data["region"], "us-east-1", "{probe:?}");
    let served_before = app.ses.served();
    for n in 0..5 {
        app.send_to(&format!("later{n}@example.com")).await;
    }
    let later = app.terminal(5, WAIT).await;
    assert_eq!(later.len(), 5);
    assert!(later.iter().all(|e| e.kind == EventType::Sent));
    assert!(
        later.iter().all(|e| e.event_data["region"] == "us-east-1"),
        "{later:?}"
    );
    assert_eq!(app.ses.served() - served_before, 5);
    assert_eq!(
        state(&app, "us-east-1"),
        0.0,
        "the probe closed the primary's breaker"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_environment_with_a_global_endpoint_signs_with_sigv4a() {
    let mut app =
        TestApp::start("global-endpoint", &TIERS, "endpoint_id = \"abc123.456def\"").await;
    app.send_to("ada@example.com").await;
    let ended = app.terminal(1, WAIT).await;
    assert_eq!(
        ended.first().map(|e| e.kind),
        Some(EventType::Sent),
        "{ended:?}"
    );
    let request = app.ses.requests().pop().expect("one request");
    assert_eq!(request.body["EndpointId"], "abc123.456def");
    assert!(
        request.authorization.starts_with("AWS4-ECDSA-P256-SHA256 "),
        "signed with SigV4a: {}",
        request.authorization
    );
    app.stop().await;
}

/// The fake SES answers on this test's runtime while `herald check` runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_asks_each_region_whether_the_sender_is_verified() {
    let (primary, secondary) = (FakeSes::start().await, FakeSes::start().await);
    let config = format!(
        "[templates]\ndir = \"{}\"\n{}",
        herald_tests::worker::example_templates_dir().display(),
        ses_config(
            &primary.url,
            &format!(
                "failover = [{{ region = \"eu-west-3\", endpoint_url = \"{}\" }}]\n",
                secondary.url
            )
        )
    );
    let file = std::env::temp_dir().join(format!("{}.toml", herald_tests::unique("check-regions")));
    std::fs::write(&file, config).unwrap();
    let check = || {
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(herald_tests::herald_bin())
                .args(["check", "--config"])
                .arg(&file)
                .output()
                .unwrap()
        })
    };
    primary.verify("notify@example.com");
    let refused = check().await.unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the sender notify@example.com is not verified in eu-west-3"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("in us-east-1"),
        "verified in the primary region: {stderr}"
    );

    // A verified domain covers its addresses.
    secondary.verify("example.com");
    succeeded(check().await.unwrap(), "herald check");
    let _ = std::fs::remove_file(&file);
}
