use super::*;

fn correlation() -> Correlation {
    Correlation::new(["herald"], ["production", "eu.staging"], ["ses"])
}

/// An SES event of `kind` for a message Herald sent, with `detail` under
/// `key`.
fn ses_event(kind: &str, key: &str, detail: Value) -> String {
    json!({
        "eventType": kind,
        "mail": {
            "timestamp": "2026-12-01T10:00:00.000Z",
            "messageId": "0100018c-ses-id",
            "source": "alerts@example.com",
            "destination": ["ada@example.com"],
            "tags": {
                "ses:configuration-set": ["herald"],
                "herald_message_id": ["msg_1"],
                "herald_workflow": ["welcome"],
                "herald_recipient_id": ["user_1"],
                "herald_environment": ["eustaging"],
                "herald_channel": ["ses"]
            }
        },
        key: detail
    })
    .to_string()
}

fn event_of(message: &str) -> (Event, Vec<(String, &'static str)>) {
    match map(message, &correlation()).unwrap() {
        Mapped::Event { event, suppress } => (*event, suppress),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// One SES event type's case: the SES `eventType`, the key of its detail,
/// the detail, the Herald event type expected, and one field of
/// `event_data` with its value.
type Case = (
    &'static str,
    &'static str,
    Value,
    &'static str,
    &'static str,
    Value,
);

/// Each case's SES event becomes its Herald event, correlated to the job
/// through Herald's tags.
fn assert_each_becomes_its_event(cases: Vec<Case>) {
    for (kind, key, detail, expected, field, value) in cases {
        let (event, _) = event_of(&ses_event(kind, key, detail));
        assert_eq!(event.kind.as_str(), expected, "{kind}");
        assert_eq!(
            event.event_data[field], value,
            "{kind}: {}",
            event.event_data
        );
        assert_eq!(event.event_data["ses_event"], kind);
        assert_eq!(event.message_id, "msg_1");
        assert_eq!(
            event.provider_message_id.as_deref(),
            Some("0100018c-ses-id")
        );
        assert_eq!(
            event.environment.as_deref(),
            Some("eu.staging"),
            "the configured name, not the tag's"
        );
        assert_eq!(event.channel.as_deref(), Some("ses"));
        assert_eq!(event.workflow.as_deref(), Some("welcome"));
        assert_eq!(event.recipient_id.as_deref(), Some("user_1"));
    }
}

#[test]
fn each_delivery_outcome_becomes_its_herald_event() {
    assert_each_becomes_its_event(vec![
        (
            "Delivery",
            "delivery",
            json!({"timestamp": "2026-12-01T10:00:02Z", "processingTimeMillis": 546, "smtpResponse": "250 ok", "recipients": ["ada@example.com"]}),
            "message.delivered",
            "smtp_response",
            json!("250 ok"),
        ),
        (
            "Bounce",
            "bounce",
            json!({"timestamp": "2026-12-01T10:00:02Z", "bounceType": "Transient", "bounceSubType": "MailboxFull", "bouncedRecipients": [{"emailAddress": "ada@example.com", "diagnosticCode": "552 full"}]}),
            "message.bounced",
            "bounceSubType",
            json!("MailboxFull"),
        ),
        (
            "Complaint",
            "complaint",
            json!({"timestamp": "2026-12-01T10:00:02Z", "complaintFeedbackType": "abuse", "complainedRecipients": [{"emailAddress": "ada@example.com"}]}),
            "message.complained",
            "feedback_type",
            json!("abuse"),
        ),
        (
            "Reject",
            "reject",
            json!({"reason": "Bad content"}),
            "message.undelivered",
            "failure_reason",
            json!("rejected"),
        ),
        (
            "Rendering Failure",
            "failure",
            json!({"errorMessage": "Attribute 'x' is not present", "templateName": "t"}),
            "message.undelivered",
            "failure_reason",
            json!("rendering_failure"),
        ),
        (
            "DeliveryDelay",
            "deliveryDelay",
            json!({"timestamp": "2026-12-01T10:00:02Z", "delayType": "MailboxFull", "delayedRecipients": [{"emailAddress": "ada@example.com"}]}),
            "message.delivery_attempted",
            "delayType",
            json!("MailboxFull"),
        ),
    ]);
}

#[test]
fn each_engagement_event_becomes_its_herald_event() {
    assert_each_becomes_its_event(vec![
        (
            "Open",
            "open",
            json!({"timestamp": "2026-12-01T10:00:02Z", "userAgent": "Mail/1.0", "ipAddress": "192.0.2.1"}),
            "message.read",
            "ip",
            json!("192.0.2.1"),
        ),
        (
            "Click",
            "click",
            json!({"timestamp": "2026-12-01T10:00:02Z", "link": "https://example.com/a", "linkTags": {"campaign": ["x"]}}),
            "message.link_clicked",
            "link",
            json!("https://example.com/a"),
        ),
        (
            "Subscription",
            "subscription",
            json!({"timestamp": "2026-12-01T10:00:02Z", "contactList": "news", "newTopicPreferences": {"unsubscribeAll": false, "topicSubscriptionStatus": [{"topicName": "weekly", "subscriptionStatus": "OptOut"}, {"topicName": "alerts", "subscriptionStatus": "OptIn"}]}}),
            "message.unsubscribed",
            "topics",
            json!(["weekly"]),
        ),
    ]);
}

#[test]
fn the_event_time_is_ses_s_and_falls_back_to_the_mail_s() {
    let (delivered, _) = event_of(&ses_event(
        "Delivery",
        "delivery",
        json!({"timestamp": "2026-12-01T10:00:02Z"}),
    ));
    assert_eq!(delivered.at, "2026-12-01T10:00:02Z");
    let (rejected, _) = event_of(&ses_event("Reject", "reject", json!({"reason": "x"})));
    assert_eq!(rejected.at, "2026-12-01T10:00:00.000Z");
}

#[test]
fn permanent_bounces_and_complaints_suppress_their_recipients() {
    let bounce = |bounce_type: &str| {
        ses_event(
            "Bounce",
            "bounce",
            json!({
                "bounceType": bounce_type, "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "a@example.com"}, {"emailAddress": "b@example.com"}]
            }),
        )
    };
    let (_, suppress) = event_of(&bounce("Permanent"));
    assert_eq!(
        suppress,
        vec![
            ("a@example.com".into(), "bounce"),
            ("b@example.com".into(), "bounce")
        ]
    );
    assert!(event_of(&bounce("Transient")).1.is_empty());
    assert!(event_of(&bounce("Undetermined")).1.is_empty());
    let (_, suppress) = event_of(&ses_event(
        "Complaint",
        "complaint",
        json!({"complainedRecipients": [{"emailAddress": "c@example.com"}]}),
    ));
    assert_eq!(suppress, vec![("c@example.com".into(), "complaint")]);
    assert!(event_of(&ses_event("Delivery", "delivery", json!({})))
        .1
        .is_empty());
}

#[test]
fn identity_notifications_map_like_events() {
    let mut note: Value = serde_json::from_str(&ses_event("Bounce", "bounce", json!({"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "a@example.com"}]}))).unwrap();
    let obj = note.as_object_mut().unwrap();
    obj.remove("eventType");
    obj.insert("notificationType".into(), json!("Bounce"));
    let (event, suppress) = event_of(&note.to_string());
    assert_eq!(event.kind, EventType::Bounced);
    assert_eq!(suppress.len(), 1);
}

#[test]
fn mail_herald_did_not_send_and_send_events_are_ignored() {
    let mut foreign: Value =
        serde_json::from_str(&ses_event("Delivery", "delivery", json!({}))).unwrap();
    foreign["mail"]["tags"] = json!({"ses:configuration-set": ["other"]});
    assert_eq!(
        map(&foreign.to_string(), &correlation()).unwrap(),
        Mapped::Ignored("not_sent_by_herald")
    );
    foreign["mail"].as_object_mut().unwrap().remove("tags");
    assert_eq!(
        map(&foreign.to_string(), &correlation()).unwrap(),
        Mapped::Ignored("not_sent_by_herald")
    );
    assert_eq!(
        map(&ses_event("Send", "send", json!({})), &correlation()).unwrap(),
        Mapped::Ignored("send")
    );
    assert_eq!(
        map(&ses_event("Teleport", "x", json!({})), &correlation()).unwrap(),
        Mapped::Ignored("unknown_type")
    );
    assert_eq!(
        map(r#"{"hello": 1}"#, &correlation()).unwrap(),
        Mapped::Ignored("not_an_ses_event")
    );
    assert!(map("not json", &correlation()).is_err());
}

#[test]
fn another_tag_prefix_is_found_and_unknown_environments_pass_through() {
    let c = Correlation::new(["herald", "acme"], ["production"], ["ses"]);
    let message = json!({
        "eventType": "Delivery",
        "mail": {"messageId": "x", "tags": {"acme_message_id": ["m9"], "acme_environment": ["qa"]}},
        "delivery": {}
    })
    .to_string();
    let Mapped::Event { event, .. } = map(&message, &c).unwrap() else {
        panic!()
    };
    assert_eq!(event.message_id, "m9");
    assert_eq!(event.environment.as_deref(), Some("qa"));
}

#[test]
fn ids_outside_the_tag_alphabet_come_back_whole_through_the_ref_tag() {
    for id in ["order.42/ünïcode", "a b", "x".repeat(150).as_str()] {
        let message = json!({
            "eventType": "Delivery",
            "mail": {"messageId": "x", "tags": {
                "herald_message_id": [sanitize_tag_value(id)],
                "herald_message_ref": message_ref(id).into_iter().collect::<Vec<_>>(),
            }},
            "delivery": {}
        })
        .to_string();
        let Mapped::Event { event, .. } = map(&message, &correlation()).unwrap() else {
            panic!()
        };
        assert_eq!(event.message_id, id);
    }
    assert_eq!(
        message_ref("msg_01JD7-x"),
        None,
        "a valid tag value needs no ref"
    );
    assert_eq!(
        message_ref(&"é".repeat(200)),
        None,
        "too long to fit one tag"
    );
}
