//! A fake SES v2 endpoint. Each test scripts its answers (success, an SES
//! error code with its HTTP status, a delay) and reads back what was sent.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a fresh message id.
    Ok,
    /// An SES error: HTTP status and error code (`x-amzn-ErrorType`).
    Error(u16, &'static str),
    /// Waits, then answers with the inner reply.
    Delayed(Duration, Box<Reply>),
    /// 200 whose body is not JSON: SES accepted, the answer is unreadable.
    OkUnreadable,
    /// 200 with a JSON body that lacks `MessageId`.
    OkWithoutId,
}

impl Reply {
    pub fn throttled() -> Reply {
        Reply::Error(429, "TooManyRequestsException")
    }
    pub fn server_error() -> Reply {
        Reply::Error(500, "InternalFailure")
    }
    pub fn rejected() -> Reply {
        Reply::Error(400, "MessageRejected")
    }
    pub fn after(delay: Duration, reply: Reply) -> Reply {
        Reply::Delayed(delay, Box::new(reply))
    }
}

/// One `SendEmail` request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The JSON body, in the API's field names.
    pub body: Value,
    /// The decoded raw MIME message.
    pub raw: String,
    /// The `Authorization` header (SigV4: names the access key id).
    pub authorization: String,
    /// The `X-Amz-Security-Token` header, for temporary credentials.
    pub security_token: Option<String>,
    /// When the request arrived.
    pub received_at: std::time::Instant,
}

impl Recorded {
    /// The EmailTags as (name, value) pairs.
    pub fn tags(&self) -> Vec<(String, String)> {
        self.body["EmailTags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["Name"].as_str().unwrap().to_owned(),
                    t["Value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Reply>>,
    /// Scripts for one message, by its `herald_message_id` tag.
    per_message: Mutex<std::collections::HashMap<String, VecDeque<Reply>>>,
    default: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    served: AtomicUsize,
    /// Total time requests were held before their answer, and their number.
    held: Mutex<(Duration, u32)>,
    /// Arrival time of every request, kept even when bodies are not.
    arrivals: Mutex<Vec<std::time::Instant>>,
    /// Benchmarks skip decoding and keeping bodies.
    keep_bodies: std::sync::atomic::AtomicBool,
    /// Throttle past this many requests in any rolling second, as SES does.
    rate_limit: Mutex<Option<usize>>,
    throttled: AtomicUsize,
    /// Identities `GetEmailIdentity` reports verified; others are unknown.
    verified: Mutex<std::collections::HashSet<String>>,
}

/// A running fake SES on a free loopback port.
#[derive(Clone)]
pub struct FakeSes {
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeSes {
    /// Starts the server; it answers `Ok` until scripted otherwise.
    pub async fn start() -> FakeSes {
        let inner = Arc::new(Inner::default());
        inner.keep_bodies.store(true, Ordering::SeqCst);
        let app = Router::new()
            .route("/v2/email/outbound-emails", post(send_email))
            .route("/v2/email/account", get(get_account))
            .route("/v2/email/identities/{identity}", get(get_email_identity))
            // SES takes emails up to 40 MB, sent as base64 in JSON.
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeSes { url, inner }
    }

    /// Makes `GetEmailIdentity` report `identity` verified.
    pub fn verify(&self, identity: &str) {
        self.inner
            .verified
            .lock()
            .unwrap()
            .insert(identity.to_owned());
    }

    /// Answers these replies in order, then the default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.script.lock().unwrap().extend(replies);
    }

    /// Answers these replies to requests for one message (matched by its
    /// `herald_message_id` tag), before the shared script.
    pub fn script_for(&self, message_id_tag: &str, replies: impl IntoIterator<Item = Reply>) {
        let mut scripts = self.inner.per_message.lock().unwrap();
        scripts
            .entry(message_id_tag.to_owned())
            .or_default()
            .extend(replies);
    }

    /// The answer once the script is used up.
    pub fn set_default(&self, reply: Reply) {
        *self.inner.default.lock().unwrap() = Some(reply);
    }

    /// Stops decoding and keeping request bodies (benchmarks).
    pub fn keep_bodies(&self, keep: bool) {
        self.inner.keep_bodies.store(keep, Ordering::SeqCst);
    }

    /// Answers `TooManyRequestsException` to a request beyond `per_second`
    /// in the last second.
    pub fn enforce_rate(&self, per_second: Option<usize>) {
        *self.inner.rate_limit.lock().unwrap() = per_second;
    }

    /// Requests answered with a throttling error by [`FakeSes::enforce_rate`].
    pub fn throttled(&self) -> usize {
        self.inner.throttled.load(Ordering::SeqCst)
    }

    /// Arrival times of every request so far.
    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        self.inner.arrivals.lock().unwrap().clone()
    }

    /// Forgets every request received so far.
    pub fn reset(&self) {
        self.inner.requests.lock().unwrap().clear();
        self.inner.arrivals.lock().unwrap().clear();
        self.inner.throttled.store(0, Ordering::SeqCst);
        self.inner.peak.store(0, Ordering::SeqCst);
        *self.inner.held.lock().unwrap() = (Duration::ZERO, 0);
    }

    /// The mean time from a request's arrival to its answer, since the last
    /// reset: the latency SES really had, scripted delay included.
    pub fn mean_answer_time(&self) -> Option<Duration> {
        let (total, n) = *self.inner.held.lock().unwrap();
        (n > 0).then(|| total / n)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.inner.served.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same time.
    pub fn peak_concurrency(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }

    /// Waits until `n` requests were received.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.inner.requests.lock().unwrap().len() < n {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

async fn send_email(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    let arrived = std::time::Instant::now();
    let response = answer_send_email(&inner, arrived, headers, body).await;
    let mut held = inner.held.lock().unwrap();
    held.0 += arrived.elapsed();
    held.1 += 1;
    response
}

async fn answer_send_email(
    inner: &Arc<Inner>,
    arrived: std::time::Instant,
    headers: HeaderMap,
    body: String,
) -> Response {
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.peak.fetch_max(now, Ordering::SeqCst);
    let over_rate = {
        let mut arrivals = inner.arrivals.lock().unwrap();
        arrivals.push(arrived);
        let limit = *inner.rate_limit.lock().unwrap();
        limit.is_some_and(|limit| {
            let window = arrived - Duration::from_secs(1);
            arrivals.iter().rev().take_while(|t| **t > window).count() > limit
        })
    };
    if over_rate {
        inner.throttled.fetch_add(1, Ordering::SeqCst);
        inner.in_flight.fetch_sub(1, Ordering::SeqCst);
        return answer(inner, arrived, Reply::throttled()).await;
    }
    if !inner.keep_bodies.load(Ordering::SeqCst) {
        let response = answer(inner, arrived, next_reply(inner, "")).await;
        inner.in_flight.fetch_sub(1, Ordering::SeqCst);
        return response;
    }
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let raw = body["Content"]["Raw"]["Data"]
        .as_str()
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let message_tag = body["EmailTags"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["Name"]
                .as_str()
                .is_some_and(|n| n.ends_with("_message_id"))
        })
        .and_then(|t| t["Value"].as_str())
        .unwrap_or_default()
        .to_owned();
    inner.requests.lock().unwrap().push(Recorded {
        body,
        raw,
        authorization: header("authorization").unwrap_or_default(),
        security_token: header("x-amz-security-token"),
        received_at: std::time::Instant::now(),
    });
    let reply = next_reply(inner, &message_tag);
    let response = answer(inner, arrived, reply).await;
    inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// The scripted reply for a message, else the shared script, else the default.
fn next_reply(inner: &Inner, message_tag: &str) -> Reply {
    let for_message = inner
        .per_message
        .lock()
        .unwrap()
        .get_mut(message_tag)
        .and_then(VecDeque::pop_front);
    for_message
        .or_else(|| inner.script.lock().unwrap().pop_front())
        .or_else(|| inner.default.lock().unwrap().clone())
        .unwrap_or(Reply::Ok)
}

/// Answers `reply`, its delays counted from the request's arrival.
async fn answer(inner: &Inner, arrived: std::time::Instant, mut reply: Reply) -> Response {
    let mut due = tokio::time::Instant::from_std(arrived);
    while let Reply::Delayed(delay, next) = reply {
        due += delay;
        // tokio's timer rounds a deadline up to its next millisecond tick, half
        // a tick late on average; aiming half a tick early centres that
        // rounding on the scripted delay (the bench prints the real mean).
        tokio::time::sleep_until(due - HALF_TICK).await;
        reply = *next;
    }
    let n = inner.served.fetch_add(1, Ordering::SeqCst) + 1;
    match reply {
        Reply::Ok => Json(json!({ "MessageId": format!("fake-{n:08}") })).into_response(),
        Reply::OkUnreadable => (StatusCode::OK, "<html>accepted</html>").into_response(),
        Reply::OkWithoutId => Json(json!({})).into_response(),
        Reply::Error(status, code) => (
            StatusCode::from_u16(status).unwrap(),
            [
                ("x-amzn-ErrorType", code),
                ("content-type", "application/json"),
            ],
            json!({ "message": format!("scripted {code}") }).to_string(),
        )
            .into_response(),
        Reply::Delayed(..) => unreachable!("delays are unwrapped above"),
    }
}

const HALF_TICK: Duration = Duration::from_micros(500);

/// `GetEmailIdentity`: verified, or `NotFoundException`.
async fn get_email_identity(
    State(inner): State<Arc<Inner>>,
    axum::extract::Path(identity): axum::extract::Path<String>,
) -> Response {
    if inner.verified.lock().unwrap().contains(&identity) {
        let kind = if identity.contains('@') {
            "EMAIL_ADDRESS"
        } else {
            "DOMAIN"
        };
        return Json(json!({ "IdentityType": kind, "VerifiedForSendingStatus": true }))
            .into_response();
    }
    (
        axum::http::StatusCode::NOT_FOUND,
        [("x-amzn-ErrorType", "NotFoundException")],
        Json(json!({ "message": format!("Email identity {identity} does not exist.") })),
    )
        .into_response()
}

async fn get_account() -> Json<Value> {
    Json(json!({
        "SendQuota": { "Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 0.0 },
        "SendingEnabled": true,
        "ProductionAccessEnabled": true
    }))
}
