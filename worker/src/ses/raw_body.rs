//! A large raw message goes into the `SendEmail` request body once, base64
//! encoded straight into a buffer of the exact size. The SDK is given a short
//! placeholder instead: left to itself it would need its own copy of the
//! message for every attempt, and would grow the JSON body through
//! reallocations, several times the message for one large email. The body
//! is replaced before signing, so the signature covers the real one.

use aws_sdk_sesv2::config::http::HttpRequest;
use aws_smithy_types::body::SdkBody;
use base64::Engine;
use bytes::Bytes;

/// Messages from this size on are spliced in. Below it the SDK's own copy
/// costs less than a customised operation, which the SDK sets up anew for
/// every request.
pub const SPLICE_FROM: usize = 256 * 1024;

/// What the SDK serialises in place of the message.
pub const PLACEHOLDER: &[u8] = b"herald raw message placeholder";

/// The SDK's request was not what [`splice`] expects: nothing is sent.
#[derive(Debug, thiserror::Error)]
#[error("the SendEmail request body has no raw message placeholder")]
pub struct NoPlaceholder;

/// The request mapping that puts `raw` where the placeholder is.
pub fn splice(
    raw: Bytes,
) -> impl Fn(HttpRequest) -> Result<HttpRequest, NoPlaceholder> + Send + Sync + 'static {
    move |mut request| {
        let body = request.body().bytes().ok_or(NoPlaceholder)?;
        let spliced = with_message(body, &raw).ok_or(NoPlaceholder)?;
        let length = spliced.len().to_string();
        *request.body_mut() = SdkBody::from(spliced);
        request.headers_mut().insert("content-length", length);
        Ok(request)
    }
}

/// `body` with the base64 placeholder replaced by `raw` in base64.
fn with_message(body: &[u8], raw: &[u8]) -> Option<Vec<u8>> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let marker = engine.encode(PLACEHOLDER);
    let at = body
        .windows(marker.len())
        .position(|window| window == marker.as_bytes())?;
    let encoded = base64::encoded_len(raw.len(), true)?;
    let mut out = Vec::with_capacity(body.len() - marker.len() + encoded);
    out.extend_from_slice(&body[..at]);
    let start = out.len();
    out.resize(start + encoded, 0);
    engine.encode_slice(raw, &mut out[start..]).ok()?;
    out.extend_from_slice(&body[at + marker.len()..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_replaces_the_placeholder_in_base64() {
        let engine = &base64::engine::general_purpose::STANDARD;
        let body = format!(
            r#"{{"Content":{{"Raw":{{"Data":"{}"}}}},"FromEmailAddress":"a@example.com"}}"#,
            engine.encode(PLACEHOLDER)
        );
        let raw = b"Subject: hi\r\n\r\nhello".repeat(1000);
        let spliced = with_message(body.as_bytes(), &raw).unwrap();
        assert_eq!(spliced.len(), spliced.capacity(), "one exact allocation");
        let json: serde_json::Value = serde_json::from_slice(&spliced).unwrap();
        let data = json["Content"]["Raw"]["Data"].as_str().unwrap();
        assert_eq!(engine.decode(data).unwrap(), raw);
        assert_eq!(json["FromEmailAddress"], "a@example.com");
    }

    #[test]
    fn a_body_without_the_placeholder_is_refused() {
        assert!(with_message(br#"{"Content":{}}"#, b"x").is_none());
    }
}
