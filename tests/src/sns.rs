//! SNS as a test plays it: messages signed with the test key of
//! `tests/fixtures/sns/`, a certificate server standing in for
//! `sns.<region>.amazonaws.com`, and Herald's feedback endpoint served
//! in-process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair};
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use herald_worker::feedback::{endpoint, Feedback};
use serde_json::{json, Value};

/// The test signing certificate, served as SNS's.
pub const CERT_PEM: &str = include_str!("../fixtures/sns/cert.pem");
const KEY_PEM: &str = include_str!("../fixtures/sns/key.pk8.pem");

/// The SignatureVersion 1 vector: a delivery of job `msg_vector` in `prod`,
/// signed with RSA-SHA1 on 2026-11-30.
pub const NOTIFICATION_V1: &str = include_str!("../fixtures/sns/notification-v1.json");

/// The certificate URL a test message names (its host is SNS's; the fetch
/// goes to the [`CertServer`]).
pub const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem";

/// Signs SNS messages.
pub struct Signer {
    key: RsaKeyPair,
}

impl Signer {
    /// The key whose certificate the [`CertServer`] serves.
    pub fn trusted() -> Signer {
        let body: String = KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("the test key is base64");
        Signer {
            key: RsaKeyPair::from_pkcs8(&der).expect("the test key is PKCS #8 RSA"),
        }
    }

    /// A fresh key nobody trusts: what a forger has.
    pub fn forger() -> Signer {
        Signer {
            key: RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("an RSA key"),
        }
    }

    /// A `Notification` of `topic` carrying `message`, signed with
    /// SignatureVersion 2 (RSA-SHA256), timestamped now. (No maintained
    /// crate in the tree signs RSA-SHA1, so SignatureVersion 1 is tested
    /// with the fixed vectors of `fixtures/sns/`.)
    pub fn notification(&self, topic: &str, message: &str) -> Value {
        let mut m = json!({
            "Type": "Notification",
            "MessageId": uuid::Uuid::new_v4().to_string(),
            "TopicArn": topic,
            "Message": message,
            "Timestamp": now(),
            "SignatureVersion": "2",
            "SigningCertURL": CERT_URL,
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        });
        self.sign(&mut m);
        m
    }

    /// A `SubscriptionConfirmation` of `topic` whose `SubscribeURL` is
    /// `subscribe_url`.
    pub fn subscription(&self, topic: &str, subscribe_url: &str) -> Value {
        let mut m = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": uuid::Uuid::new_v4().to_string(),
            "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d9276",
            "TopicArn": topic,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": subscribe_url,
            "Timestamp": now(),
            "SignatureVersion": "2",
            "SigningCertURL": CERT_URL,
        });
        self.sign(&mut m);
        m
    }

    /// (Re)signs `m` as it now stands.
    pub fn sign(&self, m: &mut Value) {
        let fields: &[&str] = match m["Type"].as_str() {
            Some("Notification") => &[
                "Message",
                "MessageId",
                "Subject",
                "Timestamp",
                "TopicArn",
                "Type",
            ],
            _ => &[
                "Message",
                "MessageId",
                "SubscribeURL",
                "Timestamp",
                "Token",
                "TopicArn",
                "Type",
            ],
        };
        let text: String = fields
            .iter()
            .filter_map(|f| m[*f].as_str().map(|v| format!("{f}\n{v}\n")))
            .collect();
        assert_eq!(
            m["SignatureVersion"], "2",
            "only SignatureVersion 2 is signed here"
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                text.as_bytes(),
                &mut sig,
            )
            .expect("signing works");
        m["Signature"] = base64::engine::general_purpose::STANDARD.encode(sig).into();
    }
}

/// Now, as SNS writes it.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("now formats")
}

/// Serves the test certificate at any `*.pem` path, and answers
/// subscription confirmations; counts every request.
#[derive(Clone)]
pub struct CertServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
    confirmations: Arc<Mutex<Vec<String>>>,
}

impl CertServer {
    pub async fn start() -> CertServer {
        let requests = Arc::new(AtomicUsize::new(0));
        let confirmations = Arc::new(Mutex::new(Vec::new()));
        let state = (requests.clone(), confirmations.clone());
        let app = Router::new()
            .route("/{file}", get(certificate))
            .route("/", get(confirm))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        CertServer {
            url,
            requests,
            confirmations,
        }
    }

    /// Requests served: certificate fetches and confirmations.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Query strings of the confirmations received.
    pub fn confirmations(&self) -> Vec<String> {
        self.confirmations.lock().unwrap().clone()
    }
}

type CertState = (Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>);

async fn certificate(
    State((requests, _)): State<CertState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> (axum::http::StatusCode, &'static str) {
    requests.fetch_add(1, Ordering::SeqCst);
    match file.ends_with(".pem") {
        true => (axum::http::StatusCode::OK, CERT_PEM),
        false => (axum::http::StatusCode::NOT_FOUND, ""),
    }
}

async fn confirm(
    State((requests, confirmations)): State<CertState>,
    RawQuery(q): RawQuery,
) -> &'static str {
    requests.fetch_add(1, Ordering::SeqCst);
    confirmations.lock().unwrap().push(q.unwrap_or_default());
    "<ConfirmSubscriptionResponse/>"
}

/// Serves `feedback`'s `POST /sns` on a free loopback port; returns its URL.
pub async fn serve(feedback: Feedback) -> String {
    let app = endpoint::router(Arc::new(feedback));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        endpoint::PATH
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// POSTs `body` as SNS does (`text/plain`); the status and the answer.
pub async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "text/plain; charset=UTF-8")
        .body(body)
        .send()
        .await
        .expect("the feedback endpoint answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// An SES configuration-set event of `kind` for the job `id` of
/// environment `prod`, sent by Herald (its tags), with `detail` under `key`.
pub fn ses_event(kind: &str, key: &str, id: &str, ses_id: &str, detail: Value) -> String {
    json!({
        "eventType": kind,
        "mail": {
            "timestamp": now(),
            "messageId": ses_id,
            "source": "notify@example.com",
            "destination": ["ada@example.com"],
            "tags": {
                "ses:configuration-set": ["herald"],
                "herald_message_id": [id],
                "herald_workflow": ["welcome"],
                "herald_recipient_id": ["user_1"],
                "herald_environment": ["prod"],
                "herald_channel": ["ses"],
            }
        },
        key: detail,
    })
    .to_string()
}
