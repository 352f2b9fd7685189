//! Jobs that are processed but deliberately not sent: sandbox mode, and
//! recipients without a valid email. None of them reaches SES.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::worker::ses_config;
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn sandbox_mode_renders_writes_the_outbox_and_never_calls_ses() {
    let outbox = std::env::temp_dir().join(unique("outbox"));
    let extra = format!(
        "\n[channels.ses.environments.dev]\nsandbox = true\noutbox = \"{}\"\nfrom_address = \"dev@example.com\"\nvars = {{ domain = \"example.com\", app_name = \"Sandboxed\" }}\n",
        outbox.display()
    );
    let mut app =
        TestApp::configured("sandbox", &TIERS, |ses| ses_config(&ses.url, "") + &extra).await;
    let id = unique("sbx");
    app.broker
        .publish_json(&job_json(&id, "dev", "ada@example.com"))
        .await;

    let terminal = app.terminal(1, WAIT).await;
    let event = &terminal[0];
    assert_eq!(event.kind, EventType::NotSent);
    assert_eq!(event.status, "not_sent");
    assert_eq!(event.event_data["reason"], "sandbox");
    assert!(event.sandbox);
    assert!(event.provider_message_id.is_none());
    let eml = std::fs::read_to_string(outbox.join(format!("{id}.eml"))).expect("outbox file");
    assert!(
        eml.contains("Subject: Welcome to Sandboxed, Ada Lovelace!"),
        "{eml}"
    );
    assert!(eml.contains("From: <dev@example.com>"), "{eml}");
    assert!(app.ses.requests().is_empty(), "sandbox mode called SES");
    app.stop().await;
    let _ = std::fs::remove_dir_all(outbox);
}

#[tokio::test]
async fn recipients_without_a_valid_email_are_not_sent_with_the_reason() {
    let mut app = TestApp::start("recipients", &TIERS, "").await;
    let missing = unique("missing");
    let mut job = job_json(&missing, "prod", "");
    job["recipient"].as_object_mut().unwrap().remove("email");
    app.broker.publish_json(&job).await;
    let invalid = unique("invalid");
    app.broker
        .publish_json(&job_json(&invalid, "prod", "ada.example.com"))
        .await;
    let injected = unique("injected");
    app.broker
        .publish_json(&job_json(
            &injected,
            "prod",
            "ada@example.com\r\nBcc: x@evil.test",
        ))
        .await;

    let terminal = app.terminal(3, WAIT).await;
    assert_eq!(terminal.len(), 3, "{:?}", app.events.seen);
    let reason = |id: &str| {
        let event = terminal
            .iter()
            .find(|e| e.message_id == id)
            .expect("event for job");
        assert_eq!(event.kind, EventType::NotSent);
        event.event_data["reason"].as_str().unwrap().to_owned()
    };
    assert_eq!(reason(&missing), "recipient_missing_email");
    assert_eq!(reason(&invalid), "recipient_invalid_email");
    assert_eq!(reason(&injected), "recipient_invalid_email");
    assert!(app.ses.requests().is_empty());
    assert!(app.broker.take_dead_letters().await.is_empty());
    app.stop().await;
}
