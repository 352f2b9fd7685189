//! `max_send_rate`: requests to SES are paced, per channel/environment, and
//! `"auto"` reads the quota from SES or falls back to the configured value.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::moto::moto_url;
use herald_tests::sample;
use herald_tests::worker::ses_config;

const TIERS: [Duration; 1] = [Duration::from_secs(1)];

#[tokio::test]
async fn sends_are_paced_to_the_configured_rate() {
    let mut app = TestApp::start("rate", &TIERS, "max_send_rate = 5").await;
    app.broker.publish_numbered("rate", 6).await;
    let terminal = app.terminal(6, Duration::from_secs(20)).await;
    assert!(terminal.iter().all(|e| e.kind == EventType::Sent));
    let requests = app.ses.requests();
    let span = requests.last().unwrap().received_at - requests[0].received_at;
    assert!(
        span >= Duration::from_millis(900),
        "6 requests at 5/s took only {span:?}"
    );
    let waits = sample(
        &app.worker.deps.metrics.encode(),
        "herald_rate_limit_wait_seconds_count",
    );
    assert_eq!(waits, Some(6.0), "every request went through the limiter");
    app.stop().await;
}

/// Asserts the rate `prod`'s limiter paces sends at (`why` it is that
/// one), then stops the worker.
async fn assert_rate(app: TestApp, per_second: f64, why: &str) {
    let route = &app.worker.deps.routes.resolve("prod", None).unwrap();
    assert_eq!(route.limiter.as_ref().unwrap().rate(), per_second, "{why}");
    app.stop().await;
}

#[tokio::test]
async fn auto_reads_the_rate_from_ses() {
    let app = TestApp::start("rate-auto", &TIERS, "max_send_rate = \"auto\"").await;
    assert_rate(app, 14.0, "the fake SES's MaxSendRate").await;
}

#[tokio::test]
async fn auto_falls_back_when_ses_cannot_tell() {
    let fallback = "max_send_rate = \"auto\"\nmax_send_rate_fallback = 3";
    let app = TestApp::configured("rate-fallback", &TIERS, |_| {
        ses_config(&moto_url(), fallback)
    })
    .await;
    assert_rate(app, 3.0, "moto has no GetAccount").await;
}

#[tokio::test]
async fn workers_sharing_an_account_split_its_rate() {
    let app = TestApp::configured("rate-share", &TIERS, |ses| {
        format!(
            "[limits]\nworkers = 2\n{}",
            ses_config(&ses.url, "max_send_rate = \"auto\"")
        )
    })
    .await;
    assert_rate(app, 7.0, "14/s shared by 2 workers").await;
}
