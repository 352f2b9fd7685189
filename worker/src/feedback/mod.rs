//! Delivery feedback (SPEC §9): SES events, through SNS, become Herald
//! events on `herald.events`.
//!
//! A message goes through, in order: parse → type → topic allowlist → age →
//! certificate URL → signature → replay check → then, for a notification,
//! the SES event is mapped, its suppressions and its story recorded, and the
//! event published with a confirm before SNS gets its 200. Nothing that
//! fails a check is published.
//!
//! - [`sns`]: the SNS message, the string it signs, the checks needing no
//!   network.
//! - `certs`: signing certificates, fetched, cached, verified with.
//! - [`ses_events`]: SES events as Herald events.
//! - `events`: the confirmed publisher.
//! - [`endpoint`]: `POST /sns`.

mod certs;
pub mod endpoint;
mod events;
pub mod ses_events;
pub mod sns;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::settings::Settings;
use ses_events::{Correlation, Mapped};
use sns::{Kind, SnsMessage};

/// The `[feedback]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackSettings {
    /// Serve `POST /sns` on `server.listen`.
    pub enabled: bool,
    /// The SNS topics whose messages are accepted; every other is refused.
    pub topic_arns: Vec<String>,
    /// Confirm a `SubscriptionConfirmation` by fetching its `SubscribeURL`;
    /// otherwise the URL is logged for an operator.
    pub auto_confirm: bool,
    /// Emulators and tests only: fetch certificates (and confirm
    /// subscriptions) at this base URL instead of the SNS host, which is
    /// still checked.
    pub cert_endpoint_url: Option<String>,
    /// How old a message may be. SNS stops retrying after an hour.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// Clock difference tolerated with SNS, either way.
    #[serde(with = "humantime_serde")]
    pub clock_skew: Duration,
    /// Larger bodies are refused unread; SNS messages are at most 256 KiB.
    pub max_body_bytes: bytesize::ByteSize,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        FeedbackSettings {
            enabled: false,
            topic_arns: Vec::new(),
            auto_confirm: false,
            cert_endpoint_url: None,
            max_age: Duration::from_secs(3600),
            clock_skew: Duration::from_secs(300),
            max_body_bytes: bytesize::ByteSize::kib(300),
        }
    }
}

impl FeedbackSettings {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.enabled && self.topic_arns.is_empty() {
            problems.push(
                "feedback.topic_arns: list the SNS topics whose messages are accepted".into(),
            );
        }
        for (i, arn) in self.topic_arns.iter().enumerate() {
            if !arn.starts_with("arn:") || arn.split(':').count() != 6 {
                problems.push(format!(
                    "feedback.topic_arns[{i}]: {arn:?} is not an SNS topic ARN"
                ));
            }
        }
        if let Some(url) = &self.cert_endpoint_url {
            if reqwest::Url::parse(url).map_or(true, |u| !u.scheme().starts_with("http")) {
                problems.push(format!(
                    "feedback.cert_endpoint_url: {url:?} is not an http(s) URL"
                ));
            }
        }
        problems
    }
}

/// Why a request was refused; the label of `herald_feedback_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    TooLarge,
    TypeMismatch,
    SignatureVersion,
    Topic,
    Stale,
    CertificateUrl,
    /// The certificate is not one (or not valid now).
    Certificate,
    /// The certificate could not be fetched: SNS should retry.
    CertificateUnavailable,
    Signature,
    Replay,
    SubscribeUrl,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::TooLarge => "too_large",
            Rejection::TypeMismatch => "type_mismatch",
            Rejection::SignatureVersion => "signature_version",
            Rejection::Topic => "topic",
            Rejection::Stale => "stale",
            Rejection::CertificateUrl => "certificate_url",
            Rejection::Certificate => "certificate",
            Rejection::CertificateUnavailable => "certificate_unavailable",
            Rejection::Signature => "signature",
            Rejection::Replay => "replay",
            Rejection::SubscribeUrl => "subscribe_url",
        }
    }

    /// 400 for what is not an SNS message, 503 for what SNS should retry,
    /// 403 for the rest.
    pub fn status(self) -> u16 {
        match self {
            Rejection::Malformed => 400,
            Rejection::TooLarge => 413,
            Rejection::CertificateUnavailable => 503,
            _ => 403,
        }
    }
}

/// The answer to SNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200: published (or nothing to publish).
    Done(&'static str),
    Rejected(Rejection),
    /// 503: the broker or the store failed; SNS retries.
    Unavailable(String),
}

/// The feedback endpoint's state, shared by its requests.
pub struct Feedback {
    settings: FeedbackSettings,
    topics: HashSet<String>,
    certificates: certs::Certificates,
    correlation: Correlation,
    ledger: Ledger,
    suppression: bool,
    events: events::EventSink,
    metrics: Arc<Metrics>,
    /// Message ids seen, when the ledger is not shared, least recently
    /// seen out first.
    seen: Mutex<lru::LruCache<String, Instant>>,
    /// Certificate fetches and subscription confirmations: no redirects,
    /// a short timeout.
    http: reqwest::Client,
    endpoint: Option<reqwest::Url>,
}

/// Outbound requests (certificates, subscription confirmations) give up
/// after this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Message ids remembered locally at most; past it the oldest goes.
const SEEN_LIMIT: usize = 100_000;

impl Feedback {
    pub fn new(settings: Arc<Settings>, ledger: Ledger, metrics: Arc<Metrics>) -> Feedback {
        let f = settings.feedback.clone();
        let endpoint = f
            .cert_endpoint_url
            .as_deref()
            .and_then(|u| reqwest::Url::parse(u).ok());
        let correlation = correlation(&settings);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .build()
            .expect("the HTTP client's settings are valid");
        let seen = std::num::NonZeroUsize::new(SEEN_LIMIT).expect("not zero");
        Feedback {
            topics: f.topic_arns.iter().cloned().collect(),
            certificates: certs::Certificates::new(http.clone(), endpoint.clone()),
            correlation,
            ledger,
            suppression: settings.suppression.enabled,
            events: events::EventSink::new(settings.clone()),
            metrics,
            seen: Mutex::new(lru::LruCache::new(seen)),
            http,
            endpoint,
            settings: f,
        }
    }

    pub fn max_body_bytes(&self) -> usize {
        usize::try_from(self.settings.max_body_bytes.as_u64()).unwrap_or(usize::MAX)
    }

    /// Handles one POST; counts every refusal.
    pub async fn handle(&self, body: &[u8], type_header: Option<&str>) -> Answer {
        let answer = self.answer(body, type_header).await;
        if let Answer::Rejected(r) = &answer {
            self.reject(*r);
        }
        answer
    }

    pub fn reject(&self, rejection: Rejection) {
        self.metrics
            .feedback
            .rejected
            .get_or_create(&crate::metrics::ReasonLabels {
                reason: rejection.reason().into(),
            })
            .inc();
    }

    async fn answer(&self, body: &[u8], type_header: Option<&str>) -> Answer {
        let message = match self.verified(body, type_header).await {
            Ok(m) => m,
            Err(r) => return Answer::Rejected(r),
        };
        let (sns, kind) = message;
        match kind {
            Kind::Notification => self.notification(&sns).await,
            Kind::SubscriptionConfirmation => self.subscription(&sns).await,
            Kind::UnsubscribeConfirmation => {
                tracing::warn!(topic = %sns.topic_arn, "SNS unsubscribed this endpoint from the topic");
                Answer::Done("unsubscribe confirmation logged")
            }
        }
    }

    /// Every check, cheapest first: no certificate is fetched for a message
    /// of a topic not on the allowlist.
    async fn verified(
        &self,
        body: &[u8],
        type_header: Option<&str>,
    ) -> Result<(SnsMessage, Kind), Rejection> {
        let sns = SnsMessage::parse(body)?;
        let kind = sns.kind(type_header)?;
        let version = sns.signature_version()?;
        if !self.topics.contains(&sns.topic_arn) {
            return Err(Rejection::Topic);
        }
        sns.check_age(
            time::OffsetDateTime::now_utc(),
            self.settings.max_age,
            self.settings.clock_skew,
        )?;
        let url = sns::certificate_url(&sns.signing_cert_url)?;
        let text = sns.string_to_sign(kind)?;
        self.certificates
            .verify(&url, version, &text, &sns.signature)
            .await?;
        Ok((sns, kind))
    }

    async fn notification(&self, sns: &SnsMessage) -> Answer {
        let mapped = match ses_events::map(&sns.message, &self.correlation) {
            Ok(m) => m,
            Err(_) => return Answer::Rejected(Rejection::Malformed),
        };
        let (event, suppress) = match mapped {
            Mapped::Event { event, suppress } => (event, suppress),
            Mapped::Ignored(reason) => {
                self.metrics
                    .feedback
                    .ignored
                    .get_or_create(&crate::metrics::ReasonLabels {
                        reason: reason.into(),
                    })
                    .inc();
                return Answer::Done("nothing to publish");
            }
        };
        match self.first_sighting(&sns.message_id).await {
            Ok(true) => {}
            Ok(false) => return Answer::Rejected(Rejection::Replay),
            Err(e) => return Answer::Unavailable(e),
        }
        match self.record_and_publish(&event, &suppress).await {
            Ok(()) => {
                self.count(&event);
                Answer::Done("published")
            }
            Err(e) => {
                self.forget(&sns.message_id).await;
                Answer::Unavailable(e)
            }
        }
    }

    /// The story and the suppression list first, then the event: a failure
    /// before the publish leaves nothing on the bus, and SNS retries.
    async fn record_and_publish(
        &self,
        event: &herald_shared::Event,
        suppress: &[(String, &'static str)],
    ) -> Result<(), String> {
        let value = serde_json::to_value(event).expect("events serialise");
        self.ledger
            .append_event(&event.message_id, &value)
            .await
            .map_err(|e| e.to_string())?;
        if self.suppression {
            if let Some(environment) = event.environment.as_deref() {
                for (address, reason) in suppress {
                    self.ledger
                        .suppress(environment, address, reason)
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(environment, reason, "address suppressed");
                }
            }
        }
        self.events.publish(event).await
    }

    fn count(&self, event: &herald_shared::Event) {
        let environment = event
            .environment
            .as_deref()
            .filter(|e| self.correlation.environments.iter().any(|(_, n)| n == e))
            .unwrap_or("unknown");
        self.metrics
            .feedback
            .events
            .get_or_create(&crate::metrics::FeedbackLabels {
                environment: environment.into(),
                r#type: event.kind.as_str().into(),
            })
            .inc();
    }

    /// Whether this SNS message id is new; marks it for the replay window.
    async fn first_sighting(&self, message_id: &str) -> Result<bool, String> {
        let window = self.settings.max_age + self.settings.clock_skew * 2;
        let key = format!("sns:{message_id}");
        match self.ledger.mark_once(&key, window).await {
            Ok(Some(first)) => return Ok(first),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.peek(message_id) {
            Some(at) if now.duration_since(*at) < window => Ok(false),
            _ => {
                seen.put(message_id.to_owned(), now);
                Ok(true)
            }
        }
    }

    async fn forget(&self, message_id: &str) {
        let _ = self.ledger.unmark(&format!("sns:{message_id}")).await;
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop(message_id);
    }

    /// A verified `SubscriptionConfirmation`: its `SubscribeURL` must be on
    /// an SNS host too. Confirmed by a GET, or logged for an operator.
    async fn subscription(&self, sns: &SnsMessage) -> Answer {
        let Some(url) = sns.subscribe_url.as_deref().and_then(sns::sns_url) else {
            return Answer::Rejected(Rejection::SubscribeUrl);
        };
        if !self.settings.auto_confirm {
            tracing::warn!(
                topic = %sns.topic_arn,
                subscribe_url = %url,
                "SNS asks to confirm the subscription: open the URL, or set feedback.auto_confirm"
            );
            return Answer::Done("subscription confirmation logged");
        }
        let target = match &self.endpoint {
            Some(base) => sns::at_endpoint(&url, base),
            None => url,
        };
        match self.http.get(target).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!(topic = %sns.topic_arn, "SNS subscription confirmed");
                Answer::Done("subscription confirmed")
            }
            Ok(r) => {
                Answer::Unavailable(format!("SNS answered {} to the confirmation", r.status()))
            }
            Err(e) => Answer::Unavailable(format!("cannot confirm the subscription: {e}")),
        }
    }
}

/// Tag prefixes and configured names, to read Herald's tags back.
fn correlation(settings: &Settings) -> Correlation {
    let environments: Vec<(&str, &crate::settings::EnvironmentSettings)> = settings
        .channels
        .values()
        .flat_map(|c| c.environments.iter().map(|(n, e)| (n.as_str(), e)))
        .collect();
    Correlation::new(
        environments
            .iter()
            .map(|(_, e)| e.tag_prefix.as_str())
            .chain(["herald"]),
        environments.iter().map(|(n, _)| *n),
        settings.channels.keys().map(String::as_str),
    )
}

#[cfg(test)]
mod tests;
