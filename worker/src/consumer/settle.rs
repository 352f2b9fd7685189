//! Makes an [`Outcome`] durable on the broker, then acknowledges the job.
//! Every publish is confirmed before the ack: a crash at any point leaves the
//! job in the work queue, to be processed again, never nowhere.

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};

use crate::amqp::headers::{self, count_value};
use crate::amqp::topology::{retry_queue_name, tier_label};
use crate::amqp::{text, with_headers, Publisher};
use crate::clock::now_rfc3339;
use crate::metrics::{ReasonLabels, TierLabels};
use crate::pipeline::{policy, DeadLetter, Deps, JobBody, Outcome};

/// Publishes what the outcome requires, then acks; on any failure nacks the
/// job back to the queue. Returns whether the outcome was made durable.
pub async fn settle(
    deps: &Deps,
    publisher: &Publisher,
    delivery: &Delivery,
    body: &JobBody,
    outcome: &Outcome,
) -> bool {
    let job = Republish { delivery, body };
    let result = match outcome {
        Outcome::Finished(event) => publisher.publish_event(event).await.map_err(Into::into),
        Outcome::Retry {
            event,
            attempts,
            tier,
        } => retry(deps, publisher, job, event, *attempts, *tier).await,
        Outcome::Dead(dead) => dead_letter(deps, publisher, job, dead).await,
        Outcome::Returned(why) => {
            tracing::info!(why, "returning the job to the queue unsent");
            requeue(delivery).await;
            return false;
        }
    };
    match result {
        Ok(()) => {
            if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
                tracing::warn!(error = %e, "ack failed; the broker will deliver the job again");
            }
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "could not make the outcome durable; returning the job to the queue");
            requeue(delivery).await;
            false
        }
    }
}

/// Gives the job back to the queue as it is.
pub async fn requeue(delivery: &Delivery) {
    let requeue = BasicNackOptions {
        multiple: false,
        requeue: true,
    };
    if let Err(e) = delivery.nack(requeue).await {
        tracing::warn!(error = %e, "nack failed; the broker will deliver the job again");
    }
}

/// A job to publish again, as it came: its properties and its body.
#[derive(Clone, Copy)]
struct Republish<'a> {
    delivery: &'a Delivery,
    body: &'a JobBody,
}

async fn retry(
    deps: &Deps,
    publisher: &Publisher,
    job: Republish<'_>,
    event: &herald_shared::Event,
    attempts: u32,
    tier: usize,
) -> anyhow::Result<()> {
    let delivery = job.delivery;
    let settings = &deps.settings;
    let label = tier_label(settings.retry.tiers[tier]);
    let queue = retry_queue_name(&settings.amqp, &label);
    publisher.publish_event(event).await?;
    let next = policy::next_history(headers::history(&delivery.properties), attempts);
    let headers = with_headers(
        delivery.properties.headers().as_ref(),
        &[
            (headers::ATTEMPTS, count_value(next.attempts)),
            (headers::RETRIES, count_value(next.retries)),
        ],
    );
    let properties = delivery.properties.clone().with_headers(headers);
    let body = job.body.bytes().await?;
    publisher.publish_job("", &queue, &body, properties).await?;
    deps.metrics
        .retries
        .get_or_create(&TierLabels { tier: label })
        .inc();
    tracing::info!(attempts, retry_queue = %queue, error = %event.event_data["error"], "send failed, retrying later");
    Ok(())
}

async fn dead_letter(
    deps: &Deps,
    publisher: &Publisher,
    job: Republish<'_>,
    dead: &DeadLetter,
) -> anyhow::Result<()> {
    let delivery = job.delivery;
    if let Some(event) = &dead.event {
        publisher.publish_event(event).await?;
    }
    let failure = &dead.failure;
    let message = failure.to_string();
    let headers = with_headers(
        delivery.properties.headers().as_ref(),
        &[
            (headers::FAILURE_REASON, text(failure.reason().as_str())),
            (headers::ERROR, text(failure.code())),
            (headers::ERROR_MESSAGE, text(&truncate(&message, 1024))),
            (headers::ATTEMPTS, count_value(dead.attempts)),
            (headers::FAILED_AT, text(&now_rfc3339())),
        ],
    );
    let properties = delivery.properties.clone().with_headers(headers);
    let exchange = &deps.settings.amqp.dead_letter_exchange;
    let body = job.body.bytes().await?;
    publisher
        .publish_job(exchange, "", &body, properties)
        .await?;
    let reason = failure.reason().as_str().to_owned();
    deps.metrics
        .dead_lettered
        .get_or_create(&ReasonLabels { reason })
        .inc();
    tracing::warn!(
        reason = failure.reason().as_str(),
        error = failure.code(),
        detail = %message,
        attempts = dead.attempts,
        "job dead-lettered"
    );
    Ok(())
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
