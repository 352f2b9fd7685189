//! What a dead letter says about itself: the job's id, workflow and
//! environment, and the headers that tell why it died.

use std::time::Duration;

use herald_shared::topology::headers as h;
use lapin::types::FieldTable;
use lapin::BasicProperties;
use serde::Serialize;

use crate::amqp::headers::{count, count_value, last_death, text};
use crate::clock::age_seconds;

/// One dead letter, as `herald dlq list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetterInfo {
    pub id: Option<String>,
    pub workflow: Option<String>,
    pub environment: Option<String>,
    /// `fatal_error`, `retries_exhausted`, or the broker's reason
    /// (`delivery_limit` for a poison message).
    pub reason: Option<String>,
    pub error: Option<String>,
    pub error_message: Option<String>,
    pub attempts: u32,
    pub replays: u32,
    #[serde(serialize_with = "seconds")]
    pub age: Option<Duration>,
    pub bytes: usize,
}

fn seconds<S: serde::Serializer>(age: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match age {
        Some(age) => s.serialize_some(&age.as_secs()),
        None => s.serialize_none(),
    }
}

impl LetterInfo {
    pub fn read(properties: &BasicProperties, body: &[u8]) -> LetterInfo {
        let table = properties.headers().as_ref();
        let job: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| job.as_ref()?.get(name)?.as_str().map(str::to_owned);
        let death = last_death(table);
        let age_secs = text(table, h::FAILED_AT)
            .and_then(|at| age_seconds(&at))
            .or_else(|| {
                let time = death.as_ref()?.1?;
                Some(time::OffsetDateTime::now_utc().unix_timestamp() - time)
            });
        LetterInfo {
            id: field("id").or_else(|| properties.message_id().as_ref().map(|m| m.to_string())),
            workflow: field("workflow"),
            environment: field("environment"),
            reason: text(table, h::FAILURE_REASON).or_else(|| death.map(|d| d.0)),
            error: text(table, h::ERROR),
            error_message: text(table, h::ERROR_MESSAGE),
            attempts: count(table, h::ATTEMPTS),
            replays: count(table, h::REPLAYS),
            age: age_secs.map(|s| Duration::from_secs(s.max(0) as u64)),
            bytes: body.len(),
        }
    }
}

/// The properties of a replayed job: Herald's failure and retry headers and
/// the broker's death history removed (a fresh job, attempts from zero), the
/// replay counted.
pub fn reset_for_replay(properties: &BasicProperties) -> BasicProperties {
    let old = properties.headers().clone().unwrap_or_default();
    let replays = count(Some(&old), h::REPLAYS) + 1;
    let mut fresh = FieldTable::default();
    for (key, value) in old.inner() {
        let key_str = key.as_str();
        let herald = key_str.starts_with("x-herald-") && key_str != h::REPLAYS;
        let broker = key_str.starts_with("x-death")
            || key_str.starts_with("x-first-death")
            || key_str.starts_with("x-last-death")
            || key_str == "x-delivery-count";
        if !(herald || broker) {
            fresh.insert(key.clone(), value.clone());
        }
    }
    fresh.insert(h::REPLAYS.into(), count_value(replays));
    properties.clone().with_headers(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::{AMQPValue, LongString};

    #[test]
    fn a_letter_reads_its_job_and_headers() {
        let mut headers = FieldTable::default();
        headers.insert(
            h::FAILURE_REASON.into(),
            AMQPValue::LongString(LongString::from("fatal_error")),
        );
        headers.insert(
            h::ERROR.into(),
            AMQPValue::LongString(LongString::from("render_error")),
        );
        headers.insert(h::ATTEMPTS.into(), AMQPValue::LongInt(3));
        headers.insert(
            h::FAILED_AT.into(),
            AMQPValue::LongString(LongString::from("2020-01-01T00:00:00Z")),
        );
        let properties = BasicProperties::default().with_headers(headers);
        let body = br#"{"id":"m1","workflow":"welcome","environment":"prod"}"#;
        let info = LetterInfo::read(&properties, body);
        assert_eq!(info.id.as_deref(), Some("m1"));
        assert_eq!(info.workflow.as_deref(), Some("welcome"));
        assert_eq!(info.reason.as_deref(), Some("fatal_error"));
        assert_eq!(info.error.as_deref(), Some("render_error"));
        assert_eq!(info.attempts, 3);
        assert!(info.age.unwrap() > Duration::from_secs(86400 * 365));
        let garbage = LetterInfo::read(&BasicProperties::default(), b"\xff");
        assert_eq!((garbage.id, garbage.reason), (None, None));
    }

    #[test]
    fn a_replayed_job_starts_its_attempts_from_zero() {
        let mut headers = FieldTable::default();
        for key in [
            h::FAILURE_REASON,
            h::ERROR,
            "x-herald-retries",
            "x-death",
            "x-first-death-reason",
        ] {
            headers.insert(key.into(), AMQPValue::LongString(LongString::from("x")));
        }
        headers.insert(h::ATTEMPTS.into(), AMQPValue::LongInt(8));
        headers.insert(
            "traceparent".into(),
            AMQPValue::LongString(LongString::from("00-abc")),
        );
        let replayed = reset_for_replay(&BasicProperties::default().with_headers(headers));
        let table = replayed.headers().clone().unwrap();
        let keys: Vec<&str> = table.inner().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(count(Some(&table), h::REPLAYS), 1);
        assert_eq!(text(Some(&table), "traceparent").as_deref(), Some("00-abc"));
        let twice = reset_for_replay(&replayed);
        assert_eq!(count(twice.headers().as_ref(), h::REPLAYS), 2);
    }

    #[test]
    fn a_replay_count_at_its_bound_stays_there() {
        let mut headers = FieldTable::default();
        headers.insert(h::REPLAYS.into(), AMQPValue::LongLongInt(i64::MAX));
        let replayed = reset_for_replay(&BasicProperties::default().with_headers(headers));
        let replays = count(replayed.headers().as_ref(), h::REPLAYS);
        assert_eq!(replays, crate::amqp::headers::MAX_COUNT);
    }
}
