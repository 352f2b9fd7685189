//! A misspelled job field fails the job instead of being ignored: the job is
//! dead-lettered as `invalid_job`, and the message names the field.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::{job_json, unique};
use serde_json::json;

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(20);

/// Publishes `job`; returns the dead letter's error code and message and the
/// undelivered event's failure details.
async fn dead_letter_of(job: serde_json::Value) -> (String, String, String) {
    let mut app = TestApp::start("job-fields", &TIERS, "").await;
    app.broker.publish_json(&job).await;
    let dead = app.broker.wait_dead_letters(1, WAIT).await;
    assert_eq!(dead.len(), 1, "the job is dead-lettered");
    let event = app.terminal(1, WAIT).await;
    assert_eq!(event.len(), 1, "one terminal event");
    assert_eq!(event[0].kind, EventType::Undelivered);
    assert!(app.ses.requests().is_empty(), "nothing reached SES");
    app.stop().await;
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
async fn a_misspelled_field_or_override_key_dead_letters_the_job_naming_it() {
    let cases = [
        (
            "overides",
            json!({ "overides": { "to": "someone-else@example.com" } }),
            "`overides`",
        ),
        (
            "override-key",
            json!({ "overrides": { "too": "someone-else@example.com" } }),
            "`too`",
        ),
    ];
    for (label, fields, name) in cases {
        let mut job = job_json(&unique(label), "prod", "ada@example.com");
        for (key, value) in fields.as_object().unwrap() {
            job[key] = value.clone();
        }
        let (code, message, details) = dead_letter_of(job).await;
        assert_eq!(code, "invalid_job", "{label}");
        assert!(message.contains(name), "{label}: {message}");
        assert!(details.contains(name), "{label}: {details}");
    }
}
