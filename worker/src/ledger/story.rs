//! One message's story: what the ledger knows of it, in time order
//! (`herald messages show`).

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Acceptance;

/// Everything the store keeps for one message id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageStory {
    pub id: String,
    /// Claims, takeovers and releases, oldest first.
    pub claims: Vec<ClaimEntry>,
    pub acceptance: Option<Acceptance>,
    /// Feedback events (delivered, bounced, …), as published.
    pub events: Vec<serde_json::Value>,
}

/// One step of the claims on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimEntry {
    /// RFC 3339.
    pub at: String,
    pub kind: ClaimKind,
}

/// What happened to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// A worker claimed the id to send it.
    Claimed,
    /// A worker took over a claim that outlived its lease.
    InDoubt,
    /// SES refused the send and the claim was given up.
    Released,
}

impl ClaimKind {
    fn label(self) -> &'static str {
        match self {
            ClaimKind::Claimed => "claimed",
            ClaimKind::InDoubt => "claimed (in doubt: an earlier claim outlived its lease)",
            ClaimKind::Released => "released (SES refused; a retry claims again)",
        }
    }
}

/// One line of a story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moment {
    /// RFC 3339, as recorded.
    pub at: String,
    /// `claimed`, `in_doubt`, `released`, `accepted`, or an event type.
    pub what: String,
    /// A human summary.
    pub summary: String,
}

impl MessageStory {
    /// Claims, the acceptance and every event, oldest first (ties keep that
    /// order).
    pub fn timeline(&self) -> Vec<Moment> {
        let mut moments: Vec<Moment> = self
            .claims
            .iter()
            .map(|c| Moment {
                at: c.at.clone(),
                what: serde_json::to_value(c.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                summary: c.kind.label().into(),
            })
            .collect();
        if let Some(a) = &self.acceptance {
            moments.push(Moment {
                at: a.accepted_at.clone(),
                what: "accepted".into(),
                summary: format!(
                    "accepted by SES as {} after {} attempt(s)",
                    a.provider_message_id, a.attempts
                ),
            });
        }
        moments.extend(self.events.iter().map(event_moment));
        moments.sort_by_key(|m| parse(&m.at));
        moments
    }
}

fn event_moment(event: &serde_json::Value) -> Moment {
    let text = |key: &str| event.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    let data = event
        .get("event_data")
        .filter(|d| d.as_object().is_some_and(|o| !o.is_empty()));
    Moment {
        at: text("at").to_owned(),
        what: text("type").to_owned(),
        summary: match data {
            Some(data) => format!("{} {data}", text("type")),
            None => text("type").to_owned(),
        },
    }
}

/// Sort key: the instant, or the start of time for an unreadable one.
fn parse(at: &str) -> i128 {
    OffsetDateTime::parse(at, &Rfc3339).map_or(i128::MIN, |t| t.unix_timestamp_nanos())
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub(super) fn millis_rfc3339(ms: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_timeline_is_in_time_order_whatever_was_stored_first() {
        let story = MessageStory {
            id: "m1".into(),
            claims: vec![
                ClaimEntry {
                    at: "2026-11-30T12:00:00.100Z".into(),
                    kind: ClaimKind::Claimed,
                },
                ClaimEntry {
                    at: "2026-11-30T12:00:00.200Z".into(),
                    kind: ClaimKind::Released,
                },
            ],
            acceptance: Some(Acceptance {
                provider_message_id: "0100abc".into(),
                accepted_at: "2026-11-30T12:00:00.9Z".into(),
                attempts: 2,
                event: serde_json::value::to_raw_value(&json!({})).unwrap(),
            }),
            events: vec![
                json!({"type": "message.bounced", "at": "2026-11-30T12:05:00Z",
                       "event_data": {"bounceType": "Permanent"}}),
                json!({"type": "message.delivered", "at": "2026-11-30T12:01:00Z", "event_data": {}}),
            ],
        };
        let whats: Vec<String> = story.timeline().into_iter().map(|m| m.what).collect();
        assert_eq!(
            whats,
            [
                "claimed",
                "released",
                "accepted",
                "message.delivered",
                "message.bounced"
            ]
        );
        let last = story.timeline().pop().unwrap();
        assert!(last.summary.contains("Permanent"), "{}", last.summary);
    }

    #[test]
    fn milliseconds_print_as_utc() {
        assert_eq!(
            millis_rfc3339(1_796_040_000_123),
            "2026-11-30T12:00:00.123Z"
        );
    }
}
