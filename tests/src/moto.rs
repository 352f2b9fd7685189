//! The moto server (SES v2 emulator): `MOTO_URL`, default `http://127.0.0.1:5000`.
//! Its state is shared by every test, so tests use unique addresses and ids
//! and never reset it.

use serde_json::Value;

/// Where moto listens.
pub fn moto_url() -> String {
    std::env::var("MOTO_URL").unwrap_or_else(|_| "http://127.0.0.1:5000".into())
}

/// An environment `prod` on channel `ses` sending through moto as `sender`
/// (which must be verified there), with the vars the example templates use.
pub fn moto_config(sender: &str) -> String {
    let from = (sender, "{{ vars.app_name }} Team");
    crate::worker::prod_environment(&moto_url(), ("testing", "testing"), from)
}

/// Verifies a sender identity, as one must before sending through SES.
pub async fn verify_identity(email: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/v2/email/identities", moto_url()))
        .header("content-type", "application/json")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(serde_json::json!({ "EmailIdentity": email }).to_string())
        .send()
        .await
        .expect("moto must run on MOTO_URL (see README: Tests)");
    assert!(
        response.status().is_success(),
        "moto: {:?}",
        response.text().await
    );
}

/// Raw emails moto stored whose text contains `needle`.
pub async fn sent_emails_containing(needle: &str) -> Vec<Value> {
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", moto_url()))
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto's data.json is JSON");
    let mut found = Vec::new();
    collect_messages(&data["ses"], needle, &mut found);
    found
}

fn collect_messages(value: &Value, needle: &str, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map
                .get("raw_data")
                .and_then(Value::as_str)
                .is_some_and(|r| r.contains(needle))
            {
                found.push(value.clone());
            }
            map.values()
                .for_each(|v| collect_messages(v, needle, found));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_messages(v, needle, found)),
        _ => {}
    }
}
