//! The SNS HTTP(S) message: its JSON, the string SNS signs, and the checks
//! that need no network (type, topic, age, URL hosts).
//!
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>

use std::sync::LazyLock;
use std::time::Duration;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Rejection;

/// What SNS POSTs: a notification or a subscription message. Field names
/// are SNS's.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    #[serde(rename = "Type")]
    pub kind: String,
    pub message_id: String,
    pub topic_arn: String,
    pub message: String,
    pub timestamp: String,
    pub signature_version: String,
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default, rename = "SubscribeURL")]
    pub subscribe_url: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

/// The kinds of SNS message Herald handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

/// Which hash the signature was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    /// RSA with SHA-1, the default of an SNS topic.
    V1,
    /// RSA with SHA-256 (`SignatureVersion = 2` on the topic).
    V2,
}

/// SNS's certificate and subscription hosts.
static SNS_HOST: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$").expect("a valid pattern")
});

impl SnsMessage {
    /// Parses the body SNS posted (`Content-Type: text/plain`, JSON inside).
    pub fn parse(body: &[u8]) -> Result<SnsMessage, Rejection> {
        serde_json::from_slice(body).map_err(|_| Rejection::Malformed)
    }

    /// The message's kind; `header` is `x-amz-sns-message-type`, which must
    /// agree with the signed `Type` when present.
    pub fn kind(&self, header: Option<&str>) -> Result<Kind, Rejection> {
        let kind = match self.kind.as_str() {
            "Notification" => Kind::Notification,
            "SubscriptionConfirmation" => Kind::SubscriptionConfirmation,
            "UnsubscribeConfirmation" => Kind::UnsubscribeConfirmation,
            _ => return Err(Rejection::Malformed),
        };
        match header {
            Some(h) if h != self.kind => Err(Rejection::TypeMismatch),
            _ => Ok(kind),
        }
    }

    pub fn signature_version(&self) -> Result<SignatureVersion, Rejection> {
        match self.signature_version.as_str() {
            "1" => Ok(SignatureVersion::V1),
            "2" => Ok(SignatureVersion::V2),
            _ => Err(Rejection::SignatureVersion),
        }
    }

    /// The text SNS signed: chosen fields as `name\nvalue\n`, in byte order
    /// of their names. Notifications and subscription messages sign
    /// different fields; a field a message lacks is left out.
    pub fn string_to_sign(&self, kind: Kind) -> Result<String, Rejection> {
        let mut fields: Vec<(&str, &str)> = vec![("Message", &self.message)];
        fields.push(("MessageId", &self.message_id));
        match kind {
            Kind::Notification => {
                if let Some(subject) = &self.subject {
                    fields.push(("Subject", subject));
                }
                fields.push(("Timestamp", &self.timestamp));
            }
            Kind::SubscriptionConfirmation | Kind::UnsubscribeConfirmation => {
                let url = self.subscribe_url.as_deref().ok_or(Rejection::Malformed)?;
                let token = self.token.as_deref().ok_or(Rejection::Malformed)?;
                fields.push(("SubscribeURL", url));
                fields.push(("Timestamp", &self.timestamp));
                fields.push(("Token", token));
            }
        }
        fields.push(("TopicArn", &self.topic_arn));
        fields.push(("Type", &self.kind));
        let mut text =
            String::with_capacity(fields.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        for (name, value) in fields {
            text.push_str(name);
            text.push('\n');
            text.push_str(value);
            text.push('\n');
        }
        Ok(text)
    }

    /// `Timestamp` within `max_age` in the past and `skew` in the future of
    /// `now`.
    pub fn check_age(
        &self,
        now: OffsetDateTime,
        max_age: Duration,
        skew: Duration,
    ) -> Result<(), Rejection> {
        let at =
            OffsetDateTime::parse(&self.timestamp, &Rfc3339).map_err(|_| Rejection::Malformed)?;
        let age = now - at;
        if age > max_age + skew || -age > skew {
            return Err(Rejection::Stale);
        }
        Ok(())
    }
}

/// An https URL on an SNS host (`sns.<region>.amazonaws.com`, or `.com.cn`),
/// with no credentials and no other port.
pub fn sns_url(text: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(text).ok()?;
    let host_ok = url.host_str().is_some_and(|h| SNS_HOST.is_match(h));
    let plain = url.username().is_empty() && url.password().is_none() && url.port().is_none();
    (url.scheme() == "https" && host_ok && plain).then_some(url)
}

/// `SigningCertURL`: an SNS URL whose path ends in `.pem`.
pub fn certificate_url(text: &str) -> Result<reqwest::Url, Rejection> {
    sns_url(text)
        .filter(|u| u.path().ends_with(".pem"))
        .ok_or(Rejection::CertificateUrl)
}

/// `url`'s path and query on an emulator's base URL (`cert_endpoint_url`):
/// where a request for an SNS URL goes when SNS is emulated.
pub fn at_endpoint(url: &reqwest::Url, endpoint: &reqwest::Url) -> reqwest::Url {
    let mut target = endpoint.clone();
    target.set_path(url.path());
    target.set_query(url.query());
    target
}

/// The region in an SNS host name (`sns.eu-west-1.amazonaws.com`).
pub fn region_of(url: &reqwest::Url) -> &str {
    url.host_str()
        .and_then(|h| h.strip_prefix("sns."))
        .and_then(|h| h.split('.').next())
        .unwrap_or("us-east-1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: &str) -> SnsMessage {
        SnsMessage {
            kind: kind.into(),
            message_id: "m-1".into(),
            topic_arn: "arn:aws:sns:eu-west-1:123456789012:t".into(),
            message: "hello\nworld".into(),
            timestamp: "2026-12-01T10:00:00.000Z".into(),
            signature_version: "1".into(),
            signature: String::new(),
            signing_cert_url: String::new(),
            subject: None,
            subscribe_url: Some(
                "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription".into(),
            ),
            token: Some("tok".into()),
        }
    }

    #[test]
    fn notifications_and_subscriptions_sign_different_fields() {
        let mut n = message("Notification");
        assert_eq!(
            n.string_to_sign(Kind::Notification).unwrap(),
            "Message\nhello\nworld\nMessageId\nm-1\nTimestamp\n2026-12-01T10:00:00.000Z\nTopicArn\narn:aws:sns:eu-west-1:123456789012:t\nType\nNotification\n"
        );
        n.subject = Some("s".into());
        assert!(n
            .string_to_sign(Kind::Notification)
            .unwrap()
            .contains("MessageId\nm-1\nSubject\ns\nTimestamp\n"));
        let s = message("SubscriptionConfirmation");
        assert_eq!(
            s.string_to_sign(Kind::SubscriptionConfirmation).unwrap(),
            "Message\nhello\nworld\nMessageId\nm-1\nSubscribeURL\nhttps://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription\nTimestamp\n2026-12-01T10:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:eu-west-1:123456789012:t\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn the_header_must_agree_with_the_signed_type() {
        let n = message("Notification");
        assert_eq!(n.kind(None), Ok(Kind::Notification));
        assert_eq!(n.kind(Some("Notification")), Ok(Kind::Notification));
        assert_eq!(
            n.kind(Some("SubscriptionConfirmation")),
            Err(Rejection::TypeMismatch)
        );
        assert_eq!(message("Other").kind(None), Err(Rejection::Malformed));
    }

    #[test]
    fn certificate_urls_must_be_https_on_an_sns_host_and_end_in_pem() {
        for good in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        ] {
            assert!(certificate_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://sns.us-east-1.amazonaws.com/a.pem",
            "https://s3.amazonaws.com/a.pem",
            "https://sns.evil.com/a.pem",
            "https://sns.us-east-1.amazonaws.com.evil.com/a.pem",
            "https://evil.com/sns.us-east-1.amazonaws.com/a.pem",
            "https://sns.us-east-1.amazonaws.com/a.txt",
            "https://sns.us-east-1.amazonaws.com:8443/a.pem",
            "https://user@sns.us-east-1.amazonaws.com/a.pem",
            "https://SNS.US-EAST-1.amazonaws.com.evil.com/a.pem",
            "not a url",
        ] {
            assert_eq!(
                certificate_url(bad),
                Err(Rejection::CertificateUrl),
                "{bad}"
            );
        }
        let url = certificate_url("https://sns.eu-west-3.amazonaws.com/x.pem").unwrap();
        assert_eq!(region_of(&url), "eu-west-3");
        let emulator = reqwest::Url::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            at_endpoint(&url, &emulator).as_str(),
            "http://127.0.0.1:5000/x.pem"
        );
        let confirm =
            sns_url("https://sns.eu-west-3.amazonaws.com/?Action=ConfirmSubscription&Token=t")
                .unwrap();
        assert_eq!(
            at_endpoint(&confirm, &emulator).as_str(),
            "http://127.0.0.1:5000/?Action=ConfirmSubscription&Token=t"
        );
    }

    #[test]
    fn timestamps_older_than_the_window_or_from_the_future_are_stale() {
        let n = message("Notification");
        let at = OffsetDateTime::parse("2026-12-01T10:00:00Z", &Rfc3339).unwrap();
        let hour = Duration::from_secs(3600);
        let skew = Duration::from_secs(300);
        let check = |now: OffsetDateTime| n.check_age(now, hour, skew);
        assert_eq!(check(at), Ok(()));
        assert_eq!(check(at + time::Duration::minutes(64)), Ok(()));
        assert_eq!(
            check(at + time::Duration::minutes(66)),
            Err(Rejection::Stale)
        );
        assert_eq!(check(at - time::Duration::minutes(4)), Ok(()));
        assert_eq!(
            check(at - time::Duration::minutes(6)),
            Err(Rejection::Stale)
        );
    }
}
