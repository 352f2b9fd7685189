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

/// Why an attachment cannot be sent; `label` names it (`attachment 0 ("a.pdf")`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{label}: {problem}")]
pub struct AttachmentError {
    pub label: String,
    pub problem: String,
}

/// Reads and decodes the job's attachments; an error names the attachment.
pub fn from_data(data: &Value) -> Result<Vec<Attachment>, AttachmentError> {
    let items: Vec<&Value> = match data.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err(not_a_list()),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| parse_one(i, item))
        .collect()
}

/// Decodes the attachments of `data` like [`from_data`], dropping each
/// one's base64 `content` as soon as it is decoded: a large attachment is
/// never held as text and as bytes for longer than one decode. Templates
/// still see every attachment's name and type.
pub fn take_from(data: &mut Value) -> Result<Vec<Attachment>, AttachmentError> {
    let items: Vec<&mut Value> = match data.get_mut("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter_mut().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err(not_a_list()),
    };
    let mut attachments = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        attachments.push(parse_one(i, item)?);
        if let Some(fields) = item.as_object_mut() {
            fields.remove("content");
        }
    }
    Ok(attachments)
}

fn not_a_list() -> AttachmentError {
    AttachmentError {
        label: "data.attachments".into(),
        problem: "must be an object or an array".into(),
    }
}

fn parse_one(index: usize, item: &Value) -> Result<Attachment, AttachmentError> {
    let label = match item.get("name").and_then(Value::as_str) {
        Some(name) => format!("attachment {index} ({name:?})"),
        None => format!("attachment {index}"),
    };
    let fail = |problem: String| AttachmentError {
        label: label.clone(),
        problem,
    };
    let text = |field: &str| -> Result<Option<&str>, AttachmentError> {
        match item.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(fail(format!("`{field}` must be a string"))),
        }
    };
    let required = |field: &str| -> Result<&str, AttachmentError> {
        text(field)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| fail(format!("`{field}` is missing")))
    };
    let name = safe_file_name(required("name")?);
    let content_type = required("content_type")?;
    let encoded = text("content")?.ok_or_else(|| fail("`content` is missing".into()))?;
    let content = decode_base64(encoded).map_err(|e| fail(format!("bad base64 content: {e}")))?;
    let inline = match text("disposition")? {
        None | Some("attachment") => false,
        Some("inline") => true,
        Some(other) => {
            return Err(fail(format!(
                "disposition must be \"attachment\" or \"inline\", not {other:?}"
            )))
        }
    };
    let content_id = text("content_id")?;
    if inline && content_id.is_none() {
        return Err(fail("an inline attachment needs a content_id".into()));
    }
    let fields = [
        ("name", Some(name.as_str())),
        ("content_type", Some(content_type)),
    ];
    for (field, value) in fields.into_iter().chain([("content_id", content_id)]) {
        if value.is_some_and(|v| v.contains(['\r', '\n'])) {
            return Err(fail(format!("`{field}` contains a line break")));
        }
    }
    Ok(Attachment {
        name,
        content_type: content_type.to_owned(),
        content,
        content_id: content_id.map(str::to_owned),
        inline,
    })
}

/// The last path component of a producer's file name, so that a name such as
/// `../../etc/passwd` reaches the mail client as `passwd`.
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let base: String = base.chars().filter(|c| !c.is_control()).collect();
    match base.as_str() {
        "" | "." | ".." => "attachment".to_owned(),
        _ => base,
    }
}

/// Standard base64, tolerating line breaks (as MIME tools write it). Text
/// without white space is decoded in place, without a copy.
fn decode_base64(encoded: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let engine = &base64::engine::general_purpose::STANDARD;
    if !encoded.bytes().any(|b| b.is_ascii_whitespace()) {
        return engine.decode(encoded);
    }
    let mut compact = Vec::with_capacity(encoded.len());
    compact.extend(encoded.bytes().filter(|b| !b.is_ascii_whitespace()));
    engine.decode(compact)
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
    fn taking_attachments_leaves_their_names_and_drops_their_content() {
        let mut data = json!({"n": 1, "attachments": [
            {"name": "a.txt", "content_type": "text/plain", "content": "aGk="},
            {"name": "b.txt", "content_type": "text/plain", "content": "aG8="}
        ]});
        let taken = take_from(&mut data).unwrap();
        assert_eq!(
            taken,
            from_data(&json!({"attachments": [
                {"name": "a.txt", "content_type": "text/plain", "content": "aGk="},
                {"name": "b.txt", "content_type": "text/plain", "content": "aG8="}
            ]}))
            .unwrap()
        );
        assert_eq!(
            data,
            json!({"n": 1, "attachments": [
                {"name": "a.txt", "content_type": "text/plain"},
                {"name": "b.txt", "content_type": "text/plain"}
            ]})
        );
        let mut single = json!({"attachments": {"name": "a.txt", "content_type": "text/plain", "content": "aGk="}});
        assert_eq!(take_from(&mut single).unwrap().len(), 1);
        let mut wrong = json!({"attachments": 3});
        assert!(take_from(&mut wrong)
            .unwrap_err()
            .to_string()
            .contains("object or an array"));
        assert!(take_from(&mut json!({})).unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_attachment_and_the_problem() {
        let bad = from_data(
            &json!({"attachments": [{"name": "inv.pdf", "content_type": "application/pdf", "content": "%%%"}]}),
        );
        let err = bad.unwrap_err().to_string();
        assert!(
            err.contains("\"inv.pdf\"") && err.contains("base64"),
            "{err}"
        );
        let missing = from_data(&json!({"attachments": [{"name": "x", "content": "aGk="}]}))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("content_type"), "{missing}");
        let inline = from_data(&json!({"attachments": {"name": "x", "content_type": "a/b", "content": "", "disposition": "inline"}})).unwrap_err().to_string();
        assert!(inline.contains("content_id"), "{inline}");
    }

    #[test]
    fn file_names_are_reduced_to_a_safe_base_name() {
        for (given, sent) in [
            ("../../etc/passwd", "passwd"),
            ("C:\\Windows\\win.ini", "win.ini"),
            ("report.pdf", "report.pdf"),
            ("dir/..", "attachment"),
            ("a\u{7}b.txt", "ab.txt"),
        ] {
            let data = json!({"attachments": {"name": given, "content_type": "text/plain", "content": "aGk="}});
            assert_eq!(from_data(&data).unwrap()[0].name, sent, "{given}");
        }
    }
}
