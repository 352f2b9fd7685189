//! Every SES channel setting, observed in the request Herald makes (fake
//! SES) or in what SES stores (moto).

use std::time::Duration;

use base64::Engine;
use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::Recorded;
use herald_tests::moto::{moto_url, sent_emails_containing, verify_identity};
use herald_tests::worker::{ses_config, spawn_worker};
use herald_tests::{job_json, unique};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(20);

/// Sends `job` through an environment with `extra` settings; returns the
/// terminal event and the requests SES received.
async fn send(extra: &str, job: serde_json::Value) -> (herald_shared::Event, Vec<Recorded>) {
    let mut app = TestApp::start("settings", &TIERS, extra).await;
    app.broker.publish_json(&job).await;
    let terminal = app.terminal(1, WAIT).await;
    assert_eq!(terminal.len(), 1, "{:?}", app.events.seen);
    let requests = app.ses.requests();
    app.stop().await;
    (terminal[0].clone(), requests)
}

/// Asserts that `event` tells of an undelivered job whose failure details
/// name every one of `names`.
fn assert_undelivered_naming(event: &herald_shared::Event, names: &[&str]) {
    assert_eq!(event.kind, EventType::Undelivered, "{event:?}");
    let details = event.event_data["failure_details"].as_str().unwrap();
    assert!(names.iter().all(|name| details.contains(name)), "{details}");
}

fn job() -> serde_json::Value {
    job_json(&unique("m"), "prod", "ada@example.com")
}

#[tokio::test]
async fn json_overrides_of_the_environment_and_the_job_are_merged_into_the_request() {
    let extra = r#"json_overrides = '{ "ConfigurationSetName": "{{ vars.app_name }}-set", "ListManagementOptions": { "ContactListName": "news" }, "EmailTags": [{ "Name": "team", "Value": "growth" }] }'"#;
    let mut job = job();
    job["overrides"] = serde_json::json!({ "json": {
        "EmailTags": [{ "Name": "team", "Value": "{{ tenant.id }}" }],
        "ListManagementOptions": { "TopicName": "weekly" },
        "FeedbackForwardingEmailAddress": "bounces@example.com"
    }});
    let (event, requests) = send(extra, job).await;
    assert_eq!(event.kind, EventType::Sent, "{event:?}");
    let body = &requests[0].body;
    assert_eq!(body["ConfigurationSetName"], "Example-set");
    assert_eq!(body["ListManagementOptions"]["ContactListName"], "news");
    assert_eq!(body["ListManagementOptions"]["TopicName"], "weekly");
    assert_eq!(
        body["FeedbackForwardingEmailAddress"],
        "bounces@example.com"
    );
    let tags = requests[0].tags();
    assert!(
        tags.contains(&("team".into(), "acme".into())),
        "the job's tag wins: {tags:?}"
    );
    assert!(tags.contains(&("sender".into(), "herald".into())));
    assert_eq!(tags.iter().filter(|(n, _)| n == "team").count(), 1);
}

#[tokio::test]
async fn an_unknown_field_in_a_jobs_json_overrides_is_a_fatal_error_naming_it() {
    let mut job = job();
    job["overrides"] = serde_json::json!({ "json": { "ConfigurationSetNam": "x" } });
    let (event, requests) = send("", job).await;
    assert_undelivered_naming(&event, &["overrides.json", "ConfigurationSetNam"]);
    assert!(requests.is_empty());
}

#[tokio::test]
async fn the_tracking_flags_choose_the_configuration_set_and_opt_links_out() {
    let mut job = job();
    job["template"] = serde_json::json!({ "subject": "Links", "html": "<p><a href=\"https://example.com/x\">x</a></p>" });
    let base = "configuration_set = \"plain\"\ntracking_configuration_set = \"tracked\"\n";

    let (_, off) = send(base, job.clone()).await;
    assert_eq!(off[0].body["ConfigurationSetName"], "plain");
    assert!(!off[0].raw.contains("ses:no-track"));

    let (_, opens) = send(&format!("{base}open_tracking = true\n"), job.clone()).await;
    assert_eq!(opens[0].body["ConfigurationSetName"], "tracked");
    assert!(
        opens[0]
            .raw
            .contains("<a ses:no-track href=3D\"https://example.com/x\">")
            || opens[0]
                .raw
                .contains("<a ses:no-track href=\"https://example.com/x\">"),
        "{}",
        opens[0].raw
    );

    let (_, links) = send(
        &format!("{base}open_tracking = true\nlink_tracking = true\n"),
        job,
    )
    .await;
    assert_eq!(links[0].body["ConfigurationSetName"], "tracked");
    assert!(!links[0].raw.contains("ses:no-track"));
}

#[tokio::test]
async fn a_hostile_recipient_name_never_becomes_a_header() {
    let mut job = job();
    job["recipient"]["name"] = "Ada\r\nBcc: victim@example.com".into();
    let (event, requests) = send("", job).await;
    assert_undelivered_naming(&event, &["line break"]);
    assert_eq!(event.event_data["failure_reason"], "fatal_error");
    assert!(requests.is_empty());

    let mut job = self::job();
    job["data"]["plan"] = "pro\nBcc: victim@example.com".into();
    job["template"] = serde_json::json!({ "subject": "Plan {{ data.plan }}", "text": "x" });
    let (event, requests) = send("", job).await;
    assert_eq!(
        event.kind,
        EventType::Undelivered,
        "a subject with a line break is refused"
    );
    assert!(requests.is_empty());
}

#[tokio::test]
async fn an_attachment_with_bad_base64_is_a_fatal_error_naming_it() {
    let mut job = job();
    job["data"]["attachments"] = serde_json::json!([{ "name": "report.pdf", "content_type": "application/pdf", "content": "not base64!" }]);
    let (event, _) = send("", job).await;
    assert_undelivered_naming(&event, &["report.pdf", "base64"]);
}

#[tokio::test]
async fn attachments_reach_ses_as_mime_parts_with_inline_images_by_content_id() {
    let ns = unique("moto-attach");
    let sender = format!("{ns}@example.com");
    verify_identity(&sender).await;
    let config = format!(
        "[channels.ses.environments.prod]\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\n\
         auth = {{ scheme = \"access_key\", access_key_id = \"testing\", secret_access_key = \"testing\" }}\n\
         from_address = \"{sender}\"\n",
        moto_url()
    );
    let broker = TestBroker::new(&ns, &TIERS).await;
    let worker = spawn_worker(&broker, &config).await;
    let mut events = broker.events().await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut job = job();
    job["template"] = serde_json::json!({ "subject": format!("Invoice {ns}"), "html": "<img src=\"cid:logo\"> invoice", "text": "invoice" });
    job["data"]["attachments"] = serde_json::json!([
        { "name": "invoice.pdf", "content_type": "application/pdf", "content": b64(b"%PDF-1.4 herald test") },
        { "name": "logo.png", "content_type": "image/png", "content": b64(b"\x89PNG fake"), "content_id": "logo", "disposition": "inline" }
    ]);
    broker.publish_json(&job).await;
    assert_eq!(
        events.terminal(1, WAIT).await[0].kind,
        EventType::Sent,
        "{:?}",
        events.seen
    );
    let stored = sent_emails_containing(&format!("Invoice {ns}")).await;
    assert_eq!(stored.len(), 1);
    let raw = stored[0]["raw_data"].as_str().unwrap();
    assert!(
        raw.contains("filename=\"invoice.pdf\"") && raw.contains(&b64(b"%PDF-1.4 herald test")),
        "{raw}"
    );
    assert!(
        raw.contains("Content-ID: <logo>") && raw.contains("multipart/related"),
        "{raw}"
    );
    worker.stop().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test]
async fn assume_role_signs_requests_with_the_assumed_credentials() {
    let extra_auth = format!(
        "auth = {{ scheme = \"assume_role\", role_arn = \"arn:aws:iam::123456789012:role/herald\", external_id = \"ses\", access_key_id = \"AKIDBASEKEY\", secret_access_key = \"base-secret\" }}\nsts_endpoint_url = \"{}\"\n",
        moto_url()
    );
    let static_keys = "auth = { scheme = \"access_key\", access_key_id = \"AKIDTESTHERALD\", secret_access_key = \"test-secret-value\" }\n";
    let mut app = TestApp::configured("assume-role", &TIERS, |ses| {
        ses_config(&ses.url, "").replace(static_keys, &extra_auth)
    })
    .await;
    let route = app.worker.deps.routes.resolve("prod", None).unwrap();
    assert_eq!(route.settings.auth_scheme(), "assume_role");
    app.broker.publish_json(&job()).await;
    app.broker.publish_json(&job()).await;
    let terminal = app.terminal(2, WAIT).await;
    assert!(
        terminal.iter().all(|e| e.kind == EventType::Sent),
        "{:?}",
        app.events.seen
    );
    let requests = app.ses.requests();
    for request in &requests {
        assert!(
            !request.authorization.contains("AKIDBASEKEY"),
            "signed with the base keys"
        );
        assert!(
            request.authorization.contains("Credential=ASIA"),
            "{}",
            request.authorization
        );
        assert!(
            request.security_token.is_some(),
            "temporary credentials carry a session token"
        );
    }
    assert_eq!(
        requests[0].authorization.split(',').next(),
        requests[1].authorization.split(',').next(),
        "credentials are cached"
    );
    app.stop().await;
}
