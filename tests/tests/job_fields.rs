//! A misspelled job field fails the job instead of being ignored: the job is
//! dead-lettered as `invalid_job`, and the message names the field.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::FakeSes;
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(20);

/// Publishes `job`; returns the dead letter's error code and message and the
/// undelivered event's failure details.
async fn dead_letter_of(job: serde_json::Value) -> (String, String, String) {
    let ses = FakeSes::start().await;
    let broker = TestBroker::new(&unique("job-fields"), &TIERS).await;
    let worker = spawn_worker(&broker, &ses_config(&ses.url, "")).await;
    let mut events = broker.events().await;
    broker.publish_json(&job).await;
    let dead = broker.wait_dead_letters(1, WAIT).await;
    assert_eq!(dead.len(), 1, "the job is dead-lettered");
    let event = events.terminal(1, WAIT).await;
    assert_eq!(event.len(), 1, "one terminal event");
    assert_eq!(event[0].kind, EventType::Undelivered);
    assert!(ses.requests().is_empty(), "nothing reached SES");
    worker.stop().await.unwrap();
    broker.cleanup().await;
    let details = event[0].event_data["failure_details"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (
        dead[0].header("x-herald-error").unwrap_or_default(),
        dead[0].header("x-herald-error-message").unwrap_or_default(),
        details,
    )
}

#[tokio::test]
async fn a_misspelled_top_level_field_dead_letters_the_job_naming_the_field() {
    let mut job = job_json(&unique("overides"), "prod", "ada@example.com");
    job["overides"] = serde_json::json!({ "to": "someone-else@example.com" });
    let (code, message, details) = dead_letter_of(job).await;
    assert_eq!(code, "invalid_job");
    assert!(message.contains("`overides`"), "{message}");
    assert!(details.contains("`overides`"), "{details}");
}

#[tokio::test]
async fn an_unknown_override_key_dead_letters_the_job_naming_the_key() {
    let mut job = job_json(&unique("override-key"), "prod", "ada@example.com");
    job["overrides"] = serde_json::json!({ "too": "someone-else@example.com" });
    let (code, message, _) = dead_letter_of(job).await;
    assert_eq!(code, "invalid_job");
    assert!(message.contains("`too`"), "{message}");
}
