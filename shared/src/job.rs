//! The notification job: the JSON body a producer publishes on `herald.jobs`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest accepted message id, in characters; it is also the idempotency key.
pub const MAX_ID_CHARS: usize = 255;

/// Default limit on the size of one job's body (10 MiB).
pub const DEFAULT_MAX_JOB_BYTES: usize = 10 * 1024 * 1024;

/// One notification to send to one recipient. A field it does not know is an
/// error, so that a misspelled field (`overides`) fails the job instead of
/// being ignored; `recipient`, `actor` and `data` stay open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Message id, unique per notification; used for idempotency and correlation.
    pub id: String,
    /// Environment whose channel settings apply (e.g. `production`).
    pub environment: String,
    /// Channel name; may be omitted when the environment has exactly one channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Workflow key: selects the templates when `template` is absent.
    pub workflow: String,
    /// Who receives the email.
    pub recipient: Recipient,
    /// Who caused the notification, as free-form data for templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Value>,
    /// Tenant, as free-form data for templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<Value>,
    /// Template data; `data.attachments` holds attachments.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
    /// Inline templates, used instead of the workflow's templates on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<InlineTemplate>,
    /// Per-job overrides of the environment's sender fields and SES request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Overrides>,
    /// The locale of `t` translations when the recipient has none (`fr`,
    /// `pt-BR`); templates see it as `locale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// A batch's activities, as the hosted original's batched notifications
    /// expose them to templates (`activities`, `actors`, `total_activities`,
    /// `total_actors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activities: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actors: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_activities: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_actors: Option<u64>,
}

/// The recipient; fields beyond the known ones are kept for templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    /// The producer's id for the recipient.
    pub id: String,
    /// Email address; a job without a valid one is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name, used in the `To` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Any other recipient properties, available to templates.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Liquid sources given in the job itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineTemplate {
    /// Subject line template.
    pub subject: String,
    /// HTML body template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Plain-text body template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Per-job values that win over the environment's defaults. All are Liquid.
/// An unknown key is an error: a misspelled `to` must not send to the
/// original recipient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bcc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// Fields deep-merged into the SES v2 `SendEmail` request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
}

/// Why a job body is not a valid job. The message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("job is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("job is not valid JSON: {0}")]
    Json(String),
    #[error("job field `{field}` {problem}")]
    Field {
        field: &'static str,
        problem: &'static str,
    },
}

impl Job {
    /// Parses and validates a job body, refusing bodies over `max_bytes`.
    pub fn parse(body: &[u8], max_bytes: usize) -> Result<Job, JobError> {
        if body.len() > max_bytes {
            return Err(JobError::TooLarge {
                size: body.len(),
                limit: max_bytes,
            });
        }
        let job: Job = serde_json::from_slice(body).map_err(|e| JobError::Json(e.to_string()))?;
        job.validate()?;
        Ok(job)
    }

    /// Checks the constraints JSON types alone do not express.
    pub fn validate(&self) -> Result<(), JobError> {
        let id_chars = self.id.chars().count();
        if id_chars == 0 || id_chars > MAX_ID_CHARS {
            return Err(field("id", "must be 1 to 255 characters"));
        }
        if self.id.chars().any(char::is_control) {
            return Err(field("id", "must not contain control characters"));
        }
        for (name, value) in [
            ("environment", &self.environment),
            ("workflow", &self.workflow),
            ("recipient.id", &self.recipient.id),
        ] {
            if value.trim().is_empty() {
                return Err(field(name, "must not be empty"));
            }
        }
        if !(self.data.is_null() || self.data.is_object()) {
            return Err(field("data", "must be an object"));
        }
        Ok(())
    }

    /// Best-effort message id of a body that may not be a valid job, so that
    /// even a rejected job can be reported against its id.
    pub fn peek_id(body: &[u8]) -> Option<String> {
        #[derive(Deserialize)]
        struct IdOnly {
            id: String,
        }
        let id = serde_json::from_slice::<IdOnly>(body).ok()?.id;
        let chars = id.chars().count();
        (chars > 0 && chars <= MAX_ID_CHARS && !id.chars().any(char::is_control)).then_some(id)
    }
}

fn field(field: &'static str, problem: &'static str) -> JobError {
    JobError::Field { field, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        r#"{"id":"m1","environment":"dev","workflow":"welcome","recipient":{"id":"u1"}}"#;

    #[test]
    fn a_minimal_job_parses_and_keeps_unknown_recipient_fields() {
        let body = r#"{"id":"m1","environment":"dev","workflow":"w","recipient":{"id":"u1","plan":"pro"}}"#;
        let job = Job::parse(body.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap();
        assert_eq!(job.recipient.extra["plan"], "pro");
        assert!(job.channel.is_none());
        Job::parse(MINIMAL.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap();
    }

    #[test]
    fn a_missing_or_empty_required_field_is_named() {
        let err = Job::parse(
            br#"{"id":"m1","environment":"dev","recipient":{"id":"u"}}"#,
            1024,
        )
        .unwrap_err();
        assert!(err.to_string().contains("workflow"), "{err}");
        let err = Job::parse(
            br#"{"id":"m1","environment":"dev","workflow":"w","recipient":{"id":" "}}"#,
            1024,
        )
        .unwrap_err();
        assert_eq!(err, field("recipient.id", "must not be empty"));
    }

    #[test]
    fn ids_longer_than_255_characters_are_rejected() {
        let long = "é".repeat(256);
        let body = MINIMAL.replace("\"m1\"", &format!("\"{long}\""));
        assert_eq!(
            Job::parse(body.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap_err(),
            field("id", "must be 1 to 255 characters")
        );
        let ok = MINIMAL.replace("\"m1\"", &format!("\"{}\"", "é".repeat(255)));
        Job::parse(ok.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap();
    }

    #[test]
    fn an_oversized_body_is_refused_before_parsing() {
        let err = Job::parse(MINIMAL.as_bytes(), 10).unwrap_err();
        assert!(matches!(err, JobError::TooLarge { limit: 10, .. }));
    }

    #[test]
    fn unknown_top_level_and_override_fields_are_named_errors() {
        let typo = MINIMAL.replace("}}", r#"},"overides":{"to":"x@example.com"}}"#);
        let err = Job::parse(typo.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `overides`"),
            "{err}"
        );
        let typo = MINIMAL.replace("}}", r#"},"overrides":{"too":"x@example.com"}}"#);
        let err = Job::parse(typo.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap_err();
        assert!(err.to_string().contains("unknown field `too`"), "{err}");
        let open = MINIMAL.replace(
            r#"{"id":"u1"}"#,
            r#"{"id":"u1","plan":"pro"},"actor":{"any":1},"data":{"free":{"form":true}}"#,
        );
        Job::parse(open.as_bytes(), DEFAULT_MAX_JOB_BYTES).unwrap();
    }

    #[test]
    fn peek_id_finds_the_id_of_an_otherwise_invalid_job() {
        assert_eq!(
            Job::peek_id(br#"{"id":"x","workflow":3}"#).as_deref(),
            Some("x")
        );
        assert_eq!(Job::peek_id(b"not json"), None);
    }
}
