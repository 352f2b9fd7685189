//! The SNS feedback endpoint end to end: signed SNS messages in, Herald
//! events out on the test's events exchange (real RabbitMQ), and nothing
//! published for anything that fails a check.

use std::sync::Arc;
use std::time::Duration;

use herald_shared::EventType;
use herald_tests::app::TestApp;
use herald_tests::sns::{self, CertServer, Signer};
use herald_tests::worker::ses_config;
use herald_tests::{free_port, sample, unique};
use herald_worker::feedback::Feedback;
use serde_json::{json, Value};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];
const WAIT: Duration = Duration::from_secs(20);
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:herald-events";

/// A worker on the fake SES, its feedback endpoint, and the certificate
/// host.
struct World {
    app: TestApp,
    certs: CertServer,
    url: String,
    signer: Signer,
}

impl World {
    async fn start(label: &str, feedback_toml: &str) -> World {
        let certs = CertServer::start().await;
        let cert_url = certs.url.clone();
        let feedback_toml = feedback_toml.to_owned();
        let app = TestApp::configured(label, &TIERS, move |ses| {
            format!(
                "{}\n[feedback]\nenabled = true\ntopic_arns = [\"{TOPIC}\"]\ncert_endpoint_url = \"{cert_url}\"\n{feedback_toml}\n[suppression]\nenabled = true\n",
                ses_config(&ses.url, "")
            )
        })
        .await;
        let deps = &app.worker.deps;
        let feedback = Feedback::new(
            Arc::new(deps.settings.clone()),
            deps.ledger.clone(),
            deps.metrics.clone(),
        );
        let url = sns::serve(feedback).await;
        World {
            app,
            certs,
            url,
            signer: Signer::trusted(),
        }
    }

    async fn post(&self, message: &Value) -> (u16, String) {
        sns::post(&self.url, message.to_string()).await
    }

    fn metric(&self, series: &str) -> f64 {
        sample(&self.app.worker.deps.metrics.encode(), series).unwrap_or(0.0)
    }

    /// Asserts that no event is published within a second.
    async fn assert_nothing_published(&mut self) {
        let event = self.app.events.expect_quiet(Duration::from_secs(1)).await;
        assert_eq!(event, None);
    }

    fn rejected(&self, reason: &str) -> f64 {
        self.metric(&format!(
            "herald_feedback_rejected_total{{reason=\"{reason}\"}}"
        ))
    }
}

fn delivery(id: &str) -> String {
    sns::ses_event(
        "Delivery",
        "delivery",
        id,
        "0100018c-delivered",
        json!({"timestamp": sns::now(), "processingTimeMillis": 812, "smtpResponse": "250 2.0.0 OK", "recipients": ["ada@example.com"]}),
    )
}

#[tokio::test]
async fn verified_delivery_events_of_both_signature_versions_are_published() {
    // The SignatureVersion 1 vector was signed on 2026-11-30: a window long
    // enough to take it.
    let mut w = World::start("fb-delivered", "max_age = \"87600h\"").await;
    let v1: Value = serde_json::from_str(sns::NOTIFICATION_V1).unwrap();
    let fresh = unique("msg");
    for (id, message) in [
        ("msg_vector".to_owned(), v1),
        (
            fresh.clone(),
            w.signer.notification(TOPIC, &delivery(&fresh)),
        ),
    ] {
        let version = message["SignatureVersion"].clone();
        assert_eq!(w.post(&message).await.0, 200, "version {version}");
        let event = w.app.events.next(WAIT).await.expect("an event");
        assert_eq!(event.kind, EventType::Delivered);
        assert_eq!(event.message_id, id);
        assert_eq!(event.environment.as_deref(), Some("prod"));
        assert_eq!(event.event_data["smtp_response"], "250 2.0.0 OK");
        let story = w
            .app
            .worker
            .deps
            .ledger
            .story(&id)
            .await
            .unwrap()
            .expect("a story");
        assert_eq!(story.events.len(), 1, "the event is in the message's story");
        assert_eq!(story.events[0]["type"], "message.delivered");
    }
    assert_eq!(
        w.metric("herald_feedback_events_total{environment=\"prod\",type=\"message.delivered\"}"),
        2.0
    );
    assert_eq!(
        w.certs.requests(),
        1,
        "the certificate is fetched once, then cached"
    );
    w.app.stop().await;
}

#[tokio::test]
async fn every_forgery_is_refused_and_nothing_is_published() {
    let mut w = World::start("fb-forged", "").await;
    let genuine = |w: &World| w.signer.notification(TOPIC, &delivery(&unique("msg")));
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    cases.push((
        "forged signature",
        Signer::forger().notification(TOPIC, &delivery("x")),
        "signature",
    ));
    let mut altered = genuine(&w);
    altered["Message"] = delivery("someone-else").into();
    cases.push(("altered Message", altered, "signature"));
    for host in [
        "https://s3.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.evil.com/SimpleNotificationService-test.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-test.pem",
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.txt",
    ] {
        let mut m = genuine(&w);
        m["SigningCertURL"] = host.into();
        w.signer.sign(&mut m);
        cases.push(("certificate URL", m, "certificate_url"));
    }
    let mut stale = genuine(&w);
    stale["Timestamp"] = "2026-01-01T00:00:00.000Z".into();
    w.signer.sign(&mut stale);
    cases.push(("stale Timestamp", stale, "stale"));
    let other_topic = w
        .signer
        .notification("arn:aws:sns:us-east-1:123456789012:other", &delivery("x"));
    cases.push(("unknown TopicArn", other_topic, "topic"));
    let mut mismatch = genuine(&w);
    mismatch["Type"] = "SubscriptionConfirmation".into();
    cases.push(("Type changed after signing", mismatch, "malformed"));

    let fetches_before = w.certs.requests();
    for (what, message, reason) in &cases {
        let before = w.rejected(reason);
        let (status, text) = w.post(message).await;
        assert!(status == 403 || status == 400, "{what}: {status} {text}");
        assert_eq!(
            w.rejected(reason),
            before + 1.0,
            "{what} counted as {reason}"
        );
    }
    assert!(
        w.certs.requests() <= fetches_before + 1,
        "no certificate is fetched for a refused host"
    );
    w.assert_nothing_published().await;
    assert_eq!(w.app.ses.served(), 0);
    w.app.stop().await;
}

#[tokio::test]
async fn the_header_type_must_match_and_a_replayed_message_id_is_refused() {
    let mut w = World::start("fb-replay", "").await;
    let message = w.signer.notification(TOPIC, &delivery(&unique("msg")));
    let response = reqwest::Client::new()
        .post(&w.url)
        .header("x-amz-sns-message-type", "SubscriptionConfirmation")
        .body(message.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(w.rejected("type_mismatch"), 1.0);

    assert_eq!(w.post(&message).await.0, 200);
    assert!(w.app.events.next(WAIT).await.is_some());
    assert_eq!(w.post(&message).await.0, 403, "the same MessageId again");
    assert_eq!(w.rejected("replay"), 1.0);
    w.assert_nothing_published().await;
    w.app.stop().await;
}

#[tokio::test]
async fn subscriptions_are_confirmed_only_on_an_sns_host() {
    let w = World::start("fb-subscribe", "auto_confirm = true").await;
    for foreign in [
        "https://evil.example.com/?Action=ConfirmSubscription&Token=x",
        "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription",
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
    ] {
        let (status, _) = w.post(&w.signer.subscription(TOPIC, foreign)).await;
        assert_eq!(status, 403, "{foreign}");
    }
    assert_eq!(w.rejected("subscribe_url"), 3.0);
    assert!(
        w.certs.confirmations().is_empty(),
        "no GET to a foreign host"
    );

    let genuine =
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=t&Token=abc";
    let (status, text) = w.post(&w.signer.subscription(TOPIC, genuine)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        w.certs.confirmations(),
        vec!["Action=ConfirmSubscription&TopicArn=t&Token=abc".to_owned()]
    );
    w.app.stop().await;
}

#[tokio::test]
async fn a_permanent_bounce_suppresses_the_address_and_the_next_job_is_not_sent() {
    let mut w = World::start("fb-bounce", "").await;
    let address = format!("{}@example.com", unique("bounced"));
    let first = w.app.send_to(&address).await;
    let sent = w.app.terminal(1, WAIT).await;
    assert_eq!(sent[0].kind, EventType::Sent);
    let ses_id = sent[0].provider_message_id.clone().unwrap();
    let bounce = sns::ses_event(
        "Bounce",
        "bounce",
        &first,
        &ses_id,
        json!({"bounceType": "Permanent", "bounceSubType": "General", "timestamp": sns::now(),
               "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}),
    );
    assert_eq!(w.post(&w.signer.notification(TOPIC, &bounce)).await.0, 200);
    let bounced = w.app.events.next(WAIT).await.expect("message.bounced");
    assert_eq!(bounced.kind, EventType::Bounced);
    assert_eq!(bounced.message_id, first);
    assert_eq!(bounced.provider_message_id, Some(ses_id));
    assert_eq!(bounced.event_data["bounceType"], "Permanent");
    assert_eq!(
        bounced.event_data["recipients"][0]["diagnosticCode"],
        "smtp; 550 5.1.1 user unknown"
    );
    let ledger = &w.app.worker.deps.ledger;
    assert!(ledger.is_suppressed("prod", &address).await.unwrap());

    let served = w.app.ses.served();
    let second = w.app.send_to(&address).await;
    let ended = w.app.terminal(1, WAIT).await;
    assert_eq!(ended[0].message_id, second);
    assert_eq!(ended[0].kind, EventType::NotSent);
    assert_eq!(ended[0].event_data["reason"], "suppressed");
    assert_eq!(
        w.app.ses.served(),
        served,
        "no SES request for a suppressed address"
    );
    w.app.stop().await;
}

#[tokio::test]
async fn malformed_and_oversized_bodies_leave_the_endpoint_serving() {
    let mut w = World::start("fb-hostile", "").await;
    for body in [
        "",
        "not json",
        "{}",
        "[]",
        r#"{"Type":"Notification","MessageId":1}"#,
    ] {
        assert_eq!(sns::post(&w.url, body.to_owned()).await.0, 400, "{body:?}");
    }
    let huge = format!(
        r#"{{"Type":"Notification","Message":"{}"}}"#,
        "a".repeat(1 << 20)
    );
    assert_eq!(sns::post(&w.url, huge).await.0, 413);
    assert_eq!(w.rejected("too_large"), 1.0);
    assert!(w.rejected("malformed") >= 5.0);
    // A signed message whose SES event is not JSON is malformed too.
    let garbage = w.signer.notification(TOPIC, "{not json");
    assert_eq!(w.post(&garbage).await.0, 400);

    let id = unique("msg");
    assert_eq!(
        w.post(&w.signer.notification(TOPIC, &delivery(&id)))
            .await
            .0,
        200
    );
    assert_eq!(
        w.app.events.next(WAIT).await.map(|e| e.message_id),
        Some(id)
    );
    w.app.stop().await;
}

#[tokio::test]
async fn send_events_and_mail_herald_did_not_send_are_counted_and_dropped() {
    let mut w = World::start("fb-ignored", "").await;
    let send = sns::ses_event("Send", "send", "m", "x", json!({}));
    assert_eq!(w.post(&w.signer.notification(TOPIC, &send)).await.0, 200);
    let mut foreign: Value = serde_json::from_str(&delivery("m")).unwrap();
    foreign["mail"]["tags"] = json!({"ses:configuration-set": ["another-app"]});
    let foreign = w.signer.notification(TOPIC, &foreign.to_string());
    assert_eq!(w.post(&foreign).await.0, 200);
    assert_eq!(
        w.metric("herald_feedback_ignored_total{reason=\"send\"}"),
        1.0
    );
    assert_eq!(
        w.metric("herald_feedback_ignored_total{reason=\"not_sent_by_herald\"}"),
        1.0
    );
    w.assert_nothing_published().await;
    w.app.stop().await;
}

#[tokio::test]
async fn with_the_broker_unreachable_sns_gets_503_and_may_retry() {
    // Message ids are marked in Redis, shared by both endpoints below.
    let ns = unique("fb-broker-down");
    let redis = format!("[idempotency]\nstore = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nprefix = \"{ns}:\"\n");
    let mut w = World::start(&ns, &redis).await;
    let deps = &w.app.worker.deps;
    let mut settings = deps.settings.clone();
    settings.amqp.url = herald_worker::settings::Secret::new(format!(
        "amqp://guest:guest@127.0.0.1:{}/%2f",
        free_port()
    ));
    let down = sns::serve(Feedback::new(
        Arc::new(settings),
        deps.ledger.clone(),
        deps.metrics.clone(),
    ))
    .await;
    let message = w.signer.notification(TOPIC, &delivery(&unique("msg")));
    assert_eq!(sns::post(&down, message.to_string()).await.0, 503);
    // SNS's retry of the same message, to an endpoint whose broker answers,
    // is published: the failed attempt did not leave it marked as seen.
    assert_eq!(w.post(&message).await.0, 200);
    assert!(w.app.events.next(WAIT).await.is_some());
    w.app.stop().await;
}

/// `[feedback]` for a process: the test topic, certificates from `certs`.
fn feedback_toml(certs: &CertServer) -> String {
    format!(
        "[feedback]\nenabled = true\ntopic_arns = [\"{TOPIC}\"]\ncert_endpoint_url = \"{}\"\n",
        certs.url
    )
}

#[tokio::test]
async fn herald_run_serves_the_endpoint_beside_metrics() {
    let certs = CertServer::start().await;
    let ses = herald_tests::fake_ses::FakeSes::start().await;
    let broker = herald_tests::broker::TestBroker::new(&unique("fb-run"), &TIERS).await;
    let mut events = broker.events().await;
    let config = format!("{}\n{}", ses_config(&ses.url, ""), feedback_toml(&certs));
    let worker = herald_tests::process::HeraldProcess::start(&broker, 8, &config);
    assert!(worker.wait_ready(WAIT).await, "{}", worker.stderr());
    let id = unique("msg");
    let message = Signer::trusted().notification(TOPIC, &delivery(&id));
    let (status, text) = sns::post(&format!("{}/sns", worker.http), message.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let event = events.next(WAIT).await.expect("message.delivered");
    assert_eq!((event.kind, event.message_id), (EventType::Delivered, id));
    let (_, metrics) = worker.get("/metrics").await.expect("/metrics answers");
    assert_eq!(
        sample(
            &metrics,
            "herald_feedback_events_total{environment=\"prod\",type=\"message.delivered\"}"
        ),
        Some(1.0)
    );
    drop(worker);
    broker.cleanup().await;
}

#[tokio::test]
async fn herald_feedback_serves_the_endpoint_alone() {
    let certs = CertServer::start().await;
    let broker = herald_tests::broker::TestBroker::new(&unique("fb-alone"), &TIERS).await;
    let mut events = broker.events().await;
    let listen = format!("127.0.0.1:{}", free_port());
    let file = std::env::temp_dir().join(format!("{}.toml", unique("fb-alone")));
    let ledger = herald_tests::worker::ledger_toml();
    let base = format!(
        "{}\n[server]\nlisten = \"{listen}\"\n{ledger}",
        broker.amqp_toml(8)
    );
    std::fs::write(&file, format!("{base}\n[feedback]\nenabled = false\n")).unwrap();
    let off = std::process::Command::new(herald_tests::herald_bin())
        .args(["feedback", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        off.status.code(),
        Some(2),
        "feedback disabled is a usage error"
    );
    assert!(String::from_utf8_lossy(&off.stderr).contains("feedback.enabled"));

    std::fs::write(&file, format!("{base}\n{}", feedback_toml(&certs))).unwrap();
    let child = std::process::Command::new(herald_tests::herald_bin())
        .args(["feedback", "--config"])
        .arg(&file)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://{listen}/sns");
    let message = Signer::trusted().notification(TOPIC, &delivery("msg_alone"));
    let deadline = tokio::time::Instant::now() + WAIT;
    let status = loop {
        let attempt = reqwest::Client::new()
            .post(&url)
            .body(message.to_string())
            .send()
            .await;
        match attempt {
            Ok(r) => break r.status().as_u16(),
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("herald feedback never answered: {e}"),
        }
    };
    assert_eq!(status, 200);
    let event = events.next(WAIT).await.expect("message.delivered");
    assert_eq!(event.message_id, "msg_alone");
    let exit = herald_tests::signal_and_wait(child, "TERM").await.status;
    assert!(
        exit.success(),
        "herald feedback exits 0 on SIGTERM: {exit:?}"
    );
    broker.cleanup().await;
}
