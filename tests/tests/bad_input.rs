//! Bad input never stops the worker and never loses a byte: each bad job goes
//! to the dead-letter queue exactly as published, with the reason in headers,
//! and the next good job is still processed.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(20);

/// Publishes `bad`, then a good job; checks the dead letter and that the good
/// job was sent. Returns the undelivered event's details, if one was published.
async fn bad_job_is_dead_lettered(bad: &[u8], error_code: &str) -> Option<serde_json::Value> {
    let mut app = TestApp::start("bad-input", &TIERS, "").await;
    app.broker.publish(bad).await;
    let good_id = unique("good");
    app.broker
        .publish_json(&job_json(&good_id, "prod", "ada@example.com"))
        .await;

    let dead = app.broker.wait_dead_letters(1, WAIT).await;
    assert_eq!(dead.len(), 1, "one dead letter");
    assert_eq!(
        dead[0].body, bad,
        "the dead letter is byte-identical to what was published"
    );
    dead[0].assert_failure("fatal_error", error_code, 0);
    assert!(!dead[0]
        .header("x-herald-error-message")
        .unwrap_or_default()
        .is_empty());
    assert!(dead[0].header("x-herald-failed-at").is_some());

    let mut undelivered = None;
    let mut sent_good = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !sent_good && tokio::time::Instant::now() < deadline {
        let Some(event) = app.events.next(WAIT).await else {
            break;
        };
        match event.kind {
            EventType::Sent if event.message_id == good_id => sent_good = true,
            EventType::Undelivered => undelivered = Some(serde_json::to_value(&event).unwrap()),
            other => panic!("unexpected event {other:?}: {event:?}"),
        }
    }
    assert!(
        sent_good,
        "the worker processed the next job; events: {:?}",
        app.events.seen
    );
    assert_eq!(app.ses.requests().len(), 1, "only the good job reached SES");
    assert!(!app.worker.is_finished(), "the worker is still running");
    app.stop().await;
    undelivered
}

#[tokio::test]
async fn invalid_json_is_dead_lettered_without_an_event() {
    let bad = b"{\"id\": \"x\", not json \xff".to_vec();
    assert!(bad_job_is_dead_lettered(&bad, "invalid_job")
        .await
        .is_none());
}

#[tokio::test]
async fn a_job_missing_a_required_field_is_dead_lettered_with_an_undelivered_event() {
    let id = unique("no-workflow");
    let bad = format!(r#"{{"id":"{id}","environment":"prod","recipient":{{"id":"u"}}}}"#);
    let event = bad_job_is_dead_lettered(bad.as_bytes(), "invalid_job")
        .await
        .unwrap();
    assert_eq!(event["message_id"], id.as_str());
    assert_eq!(event["event_data"]["failure_reason"], "fatal_error");
    let details = event["event_data"]["failure_details"].as_str().unwrap();
    assert!(details.contains("workflow"), "{details}");
}

#[tokio::test]
async fn a_job_for_an_unknown_environment_is_dead_lettered() {
    let id = unique("unknown-env");
    let bad = serde_json::to_vec(&job_json(&id, "staging", "ada@example.com")).unwrap();
    let event = bad_job_is_dead_lettered(&bad, "unknown_environment")
        .await
        .unwrap();
    assert_eq!(event["message_id"], id.as_str());
    assert!(event["event_data"]["failure_details"]
        .as_str()
        .unwrap()
        .contains("staging"));
}

#[tokio::test]
async fn a_job_for_an_unknown_channel_is_dead_lettered() {
    let id = unique("unknown-channel");
    let mut job = job_json(&id, "prod", "ada@example.com");
    job["channel"] = "sms".into();
    let event =
        bad_job_is_dead_lettered(&serde_json::to_vec(&job).unwrap(), "unknown_channel").await;
    assert_eq!(
        event.unwrap()["event_data"]["failure_reason"],
        "fatal_error"
    );
}

#[tokio::test]
async fn a_template_that_fails_to_render_is_dead_lettered() {
    let id = unique("bad-template");
    let mut job = job_json(&id, "prod", "ada@example.com");
    job["template"] = serde_json::json!({ "subject": "Hi {{ data.missing.field }}", "text": "x" });
    let event = bad_job_is_dead_lettered(&serde_json::to_vec(&job).unwrap(), "render_error").await;
    let details = event.unwrap()["event_data"]["failure_details"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(details.contains("template.subject"), "{details}");
}

#[tokio::test]
async fn a_job_for_a_workflow_without_templates_is_dead_lettered() {
    let mut job = job_json(&unique("no-workflow-templates"), "prod", "ada@example.com");
    job["workflow"] = "does-not-exist".into();
    bad_job_is_dead_lettered(&serde_json::to_vec(&job).unwrap(), "render_error").await;
}

#[tokio::test]
async fn an_oversized_job_is_dead_lettered_whole() {
    let mut job = job_json(&unique("huge"), "prod", "ada@example.com");
    job["data"]["filler"] = "x".repeat(11 * 1024 * 1024).into();
    let bad = serde_json::to_vec(&job).unwrap();
    bad_job_is_dead_lettered(&bad, "invalid_job").await;
}
