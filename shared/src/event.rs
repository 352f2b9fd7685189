//! Status events Herald publishes on the events exchange, routing key = type.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of status event; each has a fixed `status` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "message.sent")]
    Sent,
    #[serde(rename = "message.not_sent")]
    NotSent,
    #[serde(rename = "message.delivery_attempted")]
    DeliveryAttempted,
    #[serde(rename = "message.undelivered")]
    Undelivered,
    #[serde(rename = "message.delivered")]
    Delivered,
    #[serde(rename = "message.bounced")]
    Bounced,
    #[serde(rename = "message.complained")]
    Complained,
    #[serde(rename = "message.read")]
    Read,
    #[serde(rename = "message.link_clicked")]
    LinkClicked,
    #[serde(rename = "message.unsubscribed")]
    Unsubscribed,
}

impl EventType {
    /// Every event type, in the order of SPEC §5.
    pub const ALL: [EventType; 10] = [
        EventType::Sent,
        EventType::NotSent,
        EventType::DeliveryAttempted,
        EventType::Undelivered,
        EventType::Delivered,
        EventType::Bounced,
        EventType::Complained,
        EventType::Read,
        EventType::LinkClicked,
        EventType::Unsubscribed,
    ];

    /// The event's type string, also its routing key.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Sent => "message.sent",
            EventType::NotSent => "message.not_sent",
            EventType::DeliveryAttempted => "message.delivery_attempted",
            EventType::Undelivered => "message.undelivered",
            EventType::Delivered => "message.delivered",
            EventType::Bounced => "message.bounced",
            EventType::Complained => "message.complained",
            EventType::Read => "message.read",
            EventType::LinkClicked => "message.link_clicked",
            EventType::Unsubscribed => "message.unsubscribed",
        }
    }

    /// The `status` field that goes with this type.
    pub fn status(self) -> &'static str {
        self.as_str().trim_start_matches("message.")
    }

    /// Whether this event ends one processing of a job.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            EventType::Sent | EventType::NotSent | EventType::Undelivered
        )
    }
}

/// One status event. `event_data` carries the type-specific details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub message_id: String,
    pub status: String,
    pub environment: Option<String>,
    pub channel: Option<String>,
    pub workflow: Option<String>,
    pub recipient_id: Option<String>,
    pub provider: String,
    pub provider_message_id: Option<String>,
    pub sandbox: bool,
    pub attempt: u32,
    /// RFC 3339 UTC timestamp.
    pub at: String,
    pub event_data: Value,
}

/// The `provider` value of every event Herald publishes.
pub const PROVIDER: &str = "aws_ses";

impl Event {
    /// An event of `kind` for `message_id` with empty details; callers fill in the rest.
    pub fn new(kind: EventType, message_id: impl Into<String>, at: impl Into<String>) -> Event {
        Event {
            kind,
            message_id: message_id.into(),
            status: kind.status().to_owned(),
            environment: None,
            channel: None,
            workflow: None,
            recipient_id: None,
            provider: PROVIDER.to_owned(),
            provider_message_id: None,
            sandbox: false,
            attempt: 1,
            at: at.into(),
            event_data: Value::Object(Default::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_routing_key_follow_the_type() {
        for kind in EventType::ALL {
            let json = serde_json::to_value(Event::new(kind, "m", "t")).unwrap();
            assert_eq!(json["type"], kind.as_str());
            assert_eq!(json["status"], kind.status());
            assert_eq!(format!("message.{}", kind.status()), kind.as_str());
        }
        assert_eq!(EventType::NotSent.status(), "not_sent");
    }
}
