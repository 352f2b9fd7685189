//! Feedback through moto: a job sent through moto's SES, then its SES
//! delivery event published on a moto SNS topic (SignatureVersion 2) with
//! an HTTP subscription to Herald's endpoint. moto signs the delivery and
//! serves its certificate itself; Herald verifies it and publishes
//! `message.delivered`.

use std::sync::Arc;
use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::moto::{moto_config, moto_url, verify_identity};
use herald_tests::sns;
use herald_tests::unique;
use herald_tests::worker::spawn_worker;
use herald_worker::feedback::Feedback;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

/// One SNS Query API call to moto; the XML answer.
async fn sns_call(params: &[(&str, &str)]) -> String {
    let response = reqwest::Client::new()
        .post(moto_url())
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=x",
        )
        .form(&[params, &[("Version", "2010-03-31")]].concat())
        .send()
        .await
        .expect("moto must run on MOTO_URL (see README: Tests)");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "moto SNS {params:?}: {status} {text}");
    text
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).expect(open) + open.len();
    let end = text[start..].find(close).expect(close) + start;
    &text[start..end]
}

/// A new SNS topic whose deliveries are signed with SignatureVersion 2; its
/// ARN.
async fn signed_topic(name: &str) -> String {
    let created = sns_call(&[("Action", "CreateTopic"), ("Name", name)]).await;
    let topic = between(&created, "<TopicArn>", "</TopicArn>").to_owned();
    sns_call(&[
        ("Action", "SetTopicAttributes"),
        ("TopicArn", &topic),
        ("AttributeName", "SignatureVersion"),
        ("AttributeValue", "2"),
    ])
    .await;
    topic
}

#[tokio::test]
async fn an_ses_delivery_event_through_moto_sns_arrives_as_delivered() {
    let ns = unique("fb-moto");
    let sender = format!("{ns}@example.com");
    verify_identity(&sender).await;
    let topic = signed_topic(&ns).await;

    let broker = TestBroker::new(&ns, &[Duration::from_secs(1)]).await;
    let config = format!(
        r#"{}
[feedback]
enabled = true
topic_arns = ["{topic}"]
cert_endpoint_url = "{moto}"
"#,
        moto_config(&sender),
        moto = moto_url()
    );
    let worker = spawn_worker(&broker, &config).await;
    let mut events = broker.events().await;
    let deps = &worker.deps;
    let feedback = Feedback::new(
        Arc::new(deps.settings.clone()),
        deps.ledger.clone(),
        deps.metrics.clone(),
    );
    let endpoint = sns::serve(feedback).await;
    sns_call(&[
        ("Action", "Subscribe"),
        ("TopicArn", &topic),
        ("Protocol", "http"),
        ("Endpoint", &endpoint),
    ])
    .await;

    let id = broker.send_to("ada@example.com").await;
    let sent = events.terminal(1, WAIT).await;
    assert_eq!(
        sent.first().map(|e| e.kind),
        Some(EventType::Sent),
        "{sent:?}"
    );
    let ses_id = sent[0].provider_message_id.clone().expect("SES's id");

    let delivery = sns::ses_event(
        "Delivery",
        "delivery",
        &id,
        &ses_id,
        json!({"timestamp": sns::now(), "processingTimeMillis": 420, "smtpResponse": "250 2.6.0 Message received", "recipients": ["ada@example.com"]}),
    );
    // moto delivers to the subscription before it answers the Publish.
    sns_call(&[
        ("Action", "Publish"),
        ("TopicArn", &topic),
        ("Message", &delivery),
    ])
    .await;

    let event = events.next(WAIT).await.expect("an event after the publish");
    assert_eq!(event.kind, EventType::Delivered, "{event:?}");
    assert_eq!(event.message_id, id);
    assert_eq!(event.provider_message_id.as_deref(), Some(ses_id.as_str()));
    assert_eq!(
        event.event_data["smtp_response"],
        "250 2.6.0 Message received"
    );
    let story = deps.ledger.story(&id).await.unwrap().expect("a story");
    assert!(story.acceptance.is_some());
    assert_eq!(story.events.len(), 1);

    worker.stop().await.expect("the worker stops cleanly");
    broker.cleanup().await;
}
