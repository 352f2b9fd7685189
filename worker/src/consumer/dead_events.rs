//! A terminal event for letters the broker dead-lettered by itself: a job
//! that hit its delivery limit (it crashed or stalled every worker that took
//! it) or expired never reached Herald's own settle step, so nobody reported
//! it. Workers consume a second queue bound to the dead-letter exchange and
//! publish `message.undelivered` for each such letter; letters Herald
//! dead-lettered itself (they carry `x-herald-failure-reason`) already had
//! their event and are only acknowledged.

use futures_util::StreamExt;
use herald_shared::{Event, EventType, Job};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::Channel;
use serde_json::json;

use crate::amqp::{headers, PublishError, Publisher};
use crate::clock::now_rfc3339;
use crate::settings::AmqpSettings;

/// Consumes the dead-events queue until the consumer ends (connection loss or
/// cancellation); the caller's session decides what happens next.
pub async fn run(
    channel: Channel,
    settings: &AmqpSettings,
    publisher: Publisher,
    max_job_bytes: usize,
) -> Result<(), lapin::Error> {
    channel.basic_qos(32, BasicQosOptions::default()).await?;
    let tag = format!("herald-dead-events-{}", std::process::id());
    let mut consumer = channel
        .basic_consume(
            settings.dead_events_queue.as_str().into(),
            tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        match report(&publisher, &delivery, max_job_bytes).await {
            Ok(()) => {
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot publish the event of a broker dead letter; it will be tried again");
                crate::consumer::settle::requeue(&delivery).await;
            }
        }
    }
    Ok(())
}

/// Publishes the letter's `message.undelivered`, unless Herald dead-lettered
/// it itself or its message id cannot be read.
async fn report(
    publisher: &Publisher,
    delivery: &Delivery,
    max_job_bytes: usize,
) -> Result<(), PublishError> {
    let table = delivery.properties.headers().as_ref();
    if headers::text(table, headers::FAILURE_REASON).is_some() {
        return Ok(());
    }
    let Some(event) = undelivered(&delivery.data, table, max_job_bytes) else {
        tracing::warn!("a broker dead letter has no readable message id; no event published");
        return Ok(());
    };
    tracing::warn!(
        message_id = %event.message_id,
        reason = %event.event_data["failure_reason"],
        "the broker dead-lettered a job"
    );
    publisher.publish_event(&event).await
}

/// The `message.undelivered` event of a letter the broker dead-lettered,
/// with the reason from its newest `x-death` entry.
pub fn undelivered(body: &[u8], table: Option<&FieldTable>, max_job_bytes: usize) -> Option<Event> {
    let reason = headers::last_death(table).map_or_else(|| "dead_lettered".to_owned(), |(r, _)| r);
    let mut event = match Job::parse(body, max_job_bytes) {
        Ok(job) => {
            let mut event = Event::new(EventType::Undelivered, job.id.clone(), now_rfc3339());
            event.environment = Some(job.environment);
            event.channel = job.channel;
            event.workflow = Some(job.workflow);
            event.recipient_id = Some(job.recipient.id);
            event
        }
        Err(_) => Event::new(EventType::Undelivered, Job::peek_id(body)?, now_rfc3339()),
    };
    event.attempt = headers::count(table, headers::ATTEMPTS).max(1);
    event.event_data = json!({
        "failure_reason": reason,
        "failure_details": format!("the broker dead-lettered the job ({reason})"),
    });
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::{AMQPValue, FieldArray, LongString};

    fn died(reason: &str) -> FieldTable {
        let mut death = FieldTable::default();
        death.insert(
            "reason".into(),
            AMQPValue::LongString(LongString::from(reason)),
        );
        let mut table = FieldTable::default();
        let deaths = FieldArray::from(vec![AMQPValue::FieldTable(death)]);
        table.insert("x-death".into(), AMQPValue::FieldArray(deaths));
        table
    }

    #[test]
    fn a_letter_past_its_delivery_limit_becomes_undelivered_with_that_reason() {
        let body =
            br#"{"id":"m1","environment":"prod","workflow":"welcome","recipient":{"id":"u1"}}"#;
        let event = undelivered(body, Some(&died("delivery_limit")), 1 << 20).unwrap();
        assert_eq!(event.kind, EventType::Undelivered);
        assert_eq!(event.message_id, "m1");
        assert_eq!(event.workflow.as_deref(), Some("welcome"));
        assert_eq!(event.event_data["failure_reason"], "delivery_limit");
    }

    #[test]
    fn a_letter_that_is_no_job_is_reported_by_its_id_or_not_at_all() {
        let event = undelivered(br#"{"id":"m2","x":1}"#, Some(&died("expired")), 1 << 20).unwrap();
        assert_eq!(
            (
                event.message_id.as_str(),
                &event.event_data["failure_reason"]
            ),
            ("m2", &json!("expired"))
        );
        assert!(undelivered(b"\xff not json", None, 1 << 20).is_none());
    }
}
