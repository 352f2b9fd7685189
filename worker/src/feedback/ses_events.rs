//! SES sending events (configuration-set `eventType`) and identity
//! notifications (`notificationType`) as Herald events, correlated through
//! the tags Herald put on the email.
//!
//! <https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html>

use base64::Engine;
use herald_shared::tags::sanitize_tag_value;
use herald_shared::{Event, EventType};
use serde_json::{json, Map, Value};

/// Which configured names a tag value stands for: tag values are sanitised,
/// so names are matched by their sanitised form.
#[derive(Debug, Clone, Default)]
pub struct Correlation {
    /// Every `tag_prefix` in the configuration.
    pub prefixes: Vec<String>,
    /// (sanitised, configured) environment names.
    pub environments: Vec<(String, String)>,
    /// (sanitised, configured) channel names.
    pub channels: Vec<(String, String)>,
}

impl Correlation {
    pub fn new<'a>(
        prefixes: impl IntoIterator<Item = &'a str>,
        environments: impl IntoIterator<Item = &'a str>,
        channels: impl IntoIterator<Item = &'a str>,
    ) -> Correlation {
        let pair = |n: &str| (sanitize_tag_value(n), n.to_owned());
        let mut prefixes: Vec<String> = prefixes.into_iter().map(str::to_owned).collect();
        prefixes.sort();
        prefixes.dedup();
        Correlation {
            prefixes,
            environments: environments.into_iter().map(pair).collect(),
            channels: channels.into_iter().map(pair).collect(),
        }
    }
}

/// What one SES event becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// A Herald event, and the addresses it suppresses (permanent bounces,
    /// complaints) with the reason.
    Event {
        event: Box<Event>,
        suppress: Vec<(String, &'static str)>,
    },
    /// Not published; the reason is a metric label.
    Ignored(&'static str),
}

/// Maps the `Message` of an SNS notification.
pub fn map(message: &str, correlation: &Correlation) -> Result<Mapped, serde_json::Error> {
    let ses: Value = serde_json::from_str(message)?;
    let Some(kind) = ses
        .get("eventType")
        .or_else(|| ses.get("notificationType"))
        .and_then(Value::as_str)
    else {
        return Ok(Mapped::Ignored("not_an_ses_event"));
    };
    let Some((event_type, detail_key)) = classify(kind) else {
        return Ok(Mapped::Ignored(if kind == "Send" {
            "send"
        } else {
            "unknown_type"
        }));
    };
    let mail = ses.get("mail").unwrap_or(&Value::Null);
    let Some(tags) = HeraldTags::find(mail, correlation) else {
        return Ok(Mapped::Ignored("not_sent_by_herald"));
    };
    let detail = ses.get(detail_key).unwrap_or(&Value::Null);
    let at = text(detail, "timestamp")
        .or_else(|| text(mail, "timestamp"))
        .map_or_else(crate::clock::now_rfc3339, str::to_owned);
    let mut event = Event::new(event_type, tags.message_id, at);
    event.environment = tags.environment;
    event.channel = tags.channel;
    event.workflow = tags.workflow;
    event.recipient_id = tags.recipient_id;
    event.provider_message_id = text(mail, "messageId").map(str::to_owned);
    event.event_data = Value::Object(event_data(kind, detail));
    let suppress = suppressions(kind, detail);
    Ok(Mapped::Event {
        event: Box::new(event),
        suppress,
    })
}

/// The Herald event of an SES event type, and the key of its details.
fn classify(kind: &str) -> Option<(EventType, &'static str)> {
    Some(match kind {
        "Delivery" => (EventType::Delivered, "delivery"),
        "Bounce" => (EventType::Bounced, "bounce"),
        "Complaint" => (EventType::Complained, "complaint"),
        "Open" => (EventType::Read, "open"),
        "Click" => (EventType::LinkClicked, "click"),
        "Reject" => (EventType::Undelivered, "reject"),
        "Rendering Failure" => (EventType::Undelivered, "failure"),
        "DeliveryDelay" => (EventType::DeliveryAttempted, "deliveryDelay"),
        "Subscription" => (EventType::Unsubscribed, "subscription"),
        _ => return None,
    })
}

/// The `event_data` of each type (SPEC §9).
fn event_data(kind: &str, d: &Value) -> Map<String, Value> {
    let pick = |pairs: &[(&str, &str)]| -> Map<String, Value> {
        pairs
            .iter()
            .filter_map(|(to, from)| d.get(*from).map(|v| ((*to).to_owned(), v.clone())))
            .collect()
    };
    // The picked fields, then one more.
    let pick_with = |pairs: &[(&str, &str)], (key, value): (&str, Value)| {
        let mut data = pick(pairs);
        data.insert(key.to_owned(), value);
        data
    };
    let mut data = match kind {
        "Delivery" => pick(&[
            ("processing_time_ms", "processingTimeMillis"),
            ("smtp_response", "smtpResponse"),
            ("recipients", "recipients"),
            ("reporting_mta", "reportingMTA"),
        ]),
        "Bounce" => pick_with(
            &[
                ("bounceType", "bounceType"),
                ("bounceSubType", "bounceSubType"),
                ("feedback_id", "feedbackId"),
                ("reporting_mta", "reportingMTA"),
            ],
            ("recipients", recipients(d, "bouncedRecipients")),
        ),
        "Complaint" => pick_with(
            &[
                ("feedback_type", "complaintFeedbackType"),
                ("complaint_sub_type", "complaintSubType"),
                ("user_agent", "userAgent"),
                ("feedback_id", "feedbackId"),
            ],
            ("recipients", recipients(d, "complainedRecipients")),
        ),
        "Open" => pick(&[("user_agent", "userAgent"), ("ip", "ipAddress")]),
        "Click" => pick(&[
            ("link", "link"),
            ("link_tags", "linkTags"),
            ("user_agent", "userAgent"),
            ("ip", "ipAddress"),
        ]),
        "Reject" => pick_with(
            &[("failure_details", "reason")],
            ("failure_reason", json!("rejected")),
        ),
        "Rendering Failure" => pick_with(
            &[
                ("failure_details", "errorMessage"),
                ("template_name", "templateName"),
            ],
            ("failure_reason", json!("rendering_failure")),
        ),
        "DeliveryDelay" => pick_with(
            &[
                ("delayType", "delayType"),
                ("expiration_time", "expirationTime"),
                ("reporting_mta", "reportingMTA"),
            ],
            ("recipients", recipients(d, "delayedRecipients")),
        ),
        "Subscription" => subscription(d),
        _ => Map::new(),
    };
    data.insert("ses_event".into(), json!(kind));
    data
}

/// Recipients with SES's details (diagnostic codes, status), as SES gave
/// them.
fn recipients(d: &Value, key: &str) -> Value {
    d.get(key).cloned().unwrap_or_else(|| json!([]))
}

/// The contact list and the topics the recipient left.
fn subscription(d: &Value) -> Map<String, Value> {
    let new = d.get("newTopicPreferences").unwrap_or(&Value::Null);
    let topics: Vec<Value> = new
        .get("topicSubscriptionStatus")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| text(t, "subscriptionStatus") == Some("OptOut"))
        .filter_map(|t| t.get("topicName").cloned())
        .collect();
    let mut data = Map::new();
    if let Some(list) = d.get("contactList") {
        data.insert("contact_list".into(), list.clone());
    }
    if let Some(all) = new.get("unsubscribeAll") {
        data.insert("unsubscribe_all".into(), all.clone());
    }
    data.insert("topics".into(), Value::Array(topics));
    data
}

/// Addresses to suppress: a permanent bounce's, a complaint's.
fn suppressions(kind: &str, d: &Value) -> Vec<(String, &'static str)> {
    let (key, reason) = match kind {
        "Bounce" if text(d, "bounceType") == Some("Permanent") => ("bouncedRecipients", "bounce"),
        "Complaint" => ("complainedRecipients", "complaint"),
        _ => return Vec::new(),
    };
    d.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| text(r, "emailAddress"))
        .map(|a| (a.to_owned(), reason))
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The fields Herald's tags carry back.
struct HeraldTags {
    message_id: String,
    environment: Option<String>,
    channel: Option<String>,
    workflow: Option<String>,
    recipient_id: Option<String>,
}

impl HeraldTags {
    /// Herald's tags under the first configured prefix that has a message
    /// id; `None` for mail Herald did not send.
    fn find(mail: &Value, c: &Correlation) -> Option<HeraldTags> {
        let tags = mail.get("tags")?;
        let tag = |prefix: &str, name: &str| -> Option<String> {
            let value = tags.get(format!("{prefix}_{name}"))?;
            let first = match value {
                Value::Array(values) => values.first()?,
                other => other,
            };
            first.as_str().map(str::to_owned)
        };
        c.prefixes.iter().find_map(|p| {
            let sanitised = tag(p, "message_id")?;
            let message_id = tag(p, "message_ref")
                .and_then(|r| decode_message_ref(&r))
                .unwrap_or(sanitised);
            let configured = |list: &[(String, String)], value: Option<String>| {
                value.map(|v| {
                    list.iter()
                        .find(|(s, _)| *s == v)
                        .map_or(v, |(_, name)| name.clone())
                })
            };
            Some(HeraldTags {
                message_id,
                environment: configured(&c.environments, tag(p, "environment")),
                channel: configured(&c.channels, tag(p, "channel")),
                workflow: tag(p, "workflow"),
                recipient_id: tag(p, "recipient_id"),
            })
        })
    }
}

/// The `<prefix>_message_ref` tag: a job id that SES's tag characters cannot
/// hold, base64url-encoded (whose alphabet they can). `None` when the id is
/// a valid tag value already, or too long to encode in one.
pub fn message_ref(id: &str) -> Option<String> {
    if sanitize_tag_value(id) == id {
        return None;
    }
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id);
    (encoded.len() <= herald_shared::tags::MAX_TAG_CHARS).then_some(encoded)
}

fn decode_message_ref(value: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests;
