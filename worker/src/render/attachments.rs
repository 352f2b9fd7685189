//! Attachments from `data.attachments` (an object or an array).

use base64::Engine;
use serde_json::Value;

/// One decoded attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
    /// Referenced from html as `cid:<content_id>` when inline.
    pub content_id: Option<String>,
    pub inline: bool,
}

/// Reads and decodes the job's attachments; an error names the attachment.
pub fn from_data(data: &Value) -> Result<Vec<Attachment>, String> {
    let items: Vec<&Value> = match data.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err("data.attachments must be an object or an array".into()),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| parse_one(i, item))
        .collect()
}

fn parse_one(index: usize, item: &Value) -> Result<Attachment, String> {
    let label = match item.get("name").and_then(Value::as_str) {
        Some(name) => format!("attachment {index} ({name:?})"),
        None => format!("attachment {index}"),
    };
    let text = |field: &str| -> Result<Option<String>, String> {
        match item.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{label}: `{field}` must be a string")),
        }
    };
    let required = |field: &str| -> Result<String, String> {
        text(field)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("{label}: `{field}` is missing"))
    };
    let name = required("name")?;
    let content_type = required("content_type")?;
    let encoded = text("content")?.ok_or_else(|| format!("{label}: `content` is missing"))?;
    let content =
        decode_base64(&encoded).map_err(|e| format!("{label}: bad base64 content: {e}"))?;
    let inline = match text("disposition")?.as_deref() {
        None | Some("attachment") => false,
        Some("inline") => true,
        Some(other) => {
            return Err(format!(
                "{label}: disposition must be \"attachment\" or \"inline\", not {other:?}"
            ))
        }
    };
    let content_id = text("content_id")?;
    if inline && content_id.is_none() {
        return Err(format!("{label}: an inline attachment needs a content_id"));
    }
    for (field, value) in [("name", Some(&name)), ("content_type", Some(&content_type))]
        .into_iter()
        .chain([("content_id", content_id.as_ref())])
    {
        if value.is_some_and(|v| v.contains(['\r', '\n'])) {
            return Err(format!("{label}: `{field}` contains a line break"));
        }
    }
    Ok(Attachment {
        name,
        content_type,
        content,
        content_id,
        inline,
    })
}

/// Standard base64, tolerating line breaks (as MIME tools write it).
fn decode_base64(encoded: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = encoded.split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_or_an_array_of_attachments_is_decoded() {
        let one = from_data(&json!({"attachments": {"name": "a.txt", "content_type": "text/plain", "content": "aGk="}})).unwrap();
        assert_eq!(one[0].content, b"hi");
        let many = from_data(&json!({"attachments": [
            {"name": "a.txt", "content_type": "text/plain", "content": "aGk="},
            {"name": "logo.png", "content_type": "image/png", "content": "iVBO\nRw==", "content_id": "logo", "disposition": "inline"}
        ]})).unwrap();
        assert_eq!(many.len(), 2);
        assert!(many[1].inline);
        assert!(from_data(&json!({"plan": "pro"})).unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_attachment_and_the_problem() {
        let bad = from_data(
            &json!({"attachments": [{"name": "inv.pdf", "content_type": "application/pdf", "content": "%%%"}]}),
        );
        let err = bad.unwrap_err();
        assert!(
            err.contains("\"inv.pdf\"") && err.contains("base64"),
            "{err}"
        );
        let missing =
            from_data(&json!({"attachments": [{"name": "x", "content": "aGk="}]})).unwrap_err();
        assert!(missing.contains("content_type"), "{missing}");
        let inline = from_data(&json!({"attachments": {"name": "x", "content_type": "a/b", "content": "", "disposition": "inline"}})).unwrap_err();
        assert!(inline.contains("content_id"), "{inline}");
    }
}
