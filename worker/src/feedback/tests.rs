//! SNS signature vectors: messages signed with the test key under
//! `tests/fixtures/sns/`, as SNS signs them.

use std::time::SystemTime;

use super::certs::{check, public_key};
use super::sns::{Kind, SignatureVersion, SnsMessage};
use super::Rejection;

const CERT: &str = include_str!("../../../tests/fixtures/sns/cert.pem");
const V1: &str = include_str!("../../../tests/fixtures/sns/notification-v1.json");
const V2: &str = include_str!("../../../tests/fixtures/sns/notification-v2.json");
const SUBSCRIPTION: &str = include_str!("../../../tests/fixtures/sns/subscription-v1.json");

fn verify(json: &str) -> Result<(), Rejection> {
    let message = SnsMessage::parse(json.as_bytes())?;
    let kind = message.kind(None)?;
    let key = public_key(CERT.as_bytes(), SystemTime::now())?;
    let text = message.string_to_sign(kind)?;
    check(
        &key,
        message.signature_version()?,
        &text,
        &message.signature,
    )
}

/// `json` with one field set to `value`.
fn altered(json: &str, field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[field] = value.into();
    v.to_string()
}

#[test]
fn signature_versions_1_and_2_verify() {
    assert_eq!(verify(V1), Ok(()));
    assert_eq!(verify(V2), Ok(()));
    let v1 = SnsMessage::parse(V1.as_bytes()).unwrap();
    assert_eq!(v1.signature_version(), Ok(SignatureVersion::V1));
    assert_eq!(verify(SUBSCRIPTION), Ok(()));
    let s = SnsMessage::parse(SUBSCRIPTION.as_bytes()).unwrap();
    assert_eq!(s.kind(None), Ok(Kind::SubscriptionConfirmation));
}

/// Checks that `json` with `field` set to `value` fails with `rejection`.
fn assert_altered_fails(json: &str, field: &str, value: &str, rejection: Rejection) {
    assert_eq!(
        verify(&altered(json, field, value)),
        Err(rejection),
        "{field} = {value:?}"
    );
}

#[test]
fn any_change_to_a_signed_field_fails_the_signature() {
    for (field, value) in [
        ("Message", r#"{"eventType":"Bounce"}"#),
        ("MessageId", "another-id"),
        ("Timestamp", "2026-12-01T10:00:03.000Z"),
        ("TopicArn", "arn:aws:sns:us-east-1:123456789012:other"),
        ("Subject", "x"),
    ] {
        assert_altered_fails(V1, field, value, Rejection::Signature);
        assert_altered_fails(V2, field, value, Rejection::Signature);
    }
    assert_altered_fails(
        SUBSCRIPTION,
        "SubscribeURL",
        "https://sns.us-east-1.amazonaws.com/?x",
        Rejection::Signature,
    );
}

#[test]
fn a_signature_of_the_other_version_or_garbage_fails() {
    for (json, field, value, rejection) in [
        (V1, "SignatureVersion", "2", Rejection::Signature),
        (V2, "SignatureVersion", "1", Rejection::Signature),
        (V1, "SignatureVersion", "3", Rejection::SignatureVersion),
        (V1, "Signature", "AAAA", Rejection::Signature),
        (V1, "Signature", "not base64!", Rejection::Signature),
    ] {
        assert_altered_fails(json, field, value, rejection);
    }
}

#[test]
fn certificates_outside_their_validity_or_not_pem_are_refused() {
    let long_ago = SystemTime::UNIX_EPOCH;
    assert_eq!(
        public_key(CERT.as_bytes(), long_ago).err(),
        Some(Rejection::Certificate)
    );
    assert_eq!(
        public_key(b"not a certificate", SystemTime::now()).err(),
        Some(Rejection::Certificate)
    );
}

#[test]
fn malformed_bodies_are_malformed() {
    for body in ["", "{}", "[1,2]", r#"{"Type":"Notification"}"#, "\u{0}"] {
        assert_eq!(
            SnsMessage::parse(body.as_bytes()).err(),
            Some(Rejection::Malformed),
            "{body:?}"
        );
    }
}
