//! The dead-letter queue: reading letters without consuming them, replaying
//! them to the work queue, and purging them.
//!
//! Every operation scans the letters present when it starts, holding each
//! unacknowledged; letters it leaves alone go back to the queue in their
//! original order when its channel closes. A replayed letter is removed only
//! after its copy in the work queue was confirmed by the broker.

mod letter;
mod scan;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lapin::options::BasicAckOptions;
use lapin::{BasicProperties, Connection};

pub use letter::{LetterInfo, REPLAYS_HEADER};
pub use scan::Scan;

use crate::amqp::{PublishError, Publisher};
use crate::settings::AmqpSettings;

/// Which letters an operation applies to; every given criterion must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub id: Option<String>,
    /// Matches the failure reason (`fatal_error`, `retries_exhausted`,
    /// `delivery_limit`) or the error code (`MessageRejected`, …).
    pub reason: Option<String>,
    pub workflow: Option<String>,
    /// Only letters that failed longer ago than this.
    pub older_than: Option<Duration>,
}

impl Filter {
    pub fn matches(&self, letter: &LetterInfo) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        let reason_ok = self.reason.as_deref().is_none_or(|r| {
            letter.reason.as_deref() == Some(r) || letter.error.as_deref() == Some(r)
        });
        let old_enough = self
            .older_than
            .is_none_or(|min| letter.age.is_some_and(|age| age >= min));
        same(&self.id, letter.id.as_deref())
            && same(&self.workflow, letter.workflow.as_deref())
            && reason_ok
            && old_enough
    }
}

/// Letters in the dead-letter queue now.
pub async fn count(connection: &Connection, settings: &AmqpSettings) -> Result<u32, lapin::Error> {
    scan::ready(connection, &settings.dead_queue).await
}

/// Reads up to `limit` letters from the head of the queue; none is removed.
pub async fn list(
    connection: &Connection,
    settings: &AmqpSettings,
    limit: u32,
) -> Result<Vec<LetterInfo>, lapin::Error> {
    let total = count(connection, settings).await?;
    let mut scan = Scan::open(connection, &settings.dead_queue, total.min(limit)).await?;
    let mut letters = Vec::new();
    while let Some(delivery) = scan.next().await? {
        letters.push(LetterInfo::read(&delivery.properties, &delivery.data));
        scan.keep(delivery);
    }
    scan.close(connection, &settings.dead_queue, total).await;
    Ok(letters)
}

/// What a replay or purge did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Letters looked at.
    pub scanned: u32,
    /// Letters that matched and were moved (replay) or dropped (purge).
    pub applied: u32,
    /// Letters that matched but were left alone (`--dry-run`, `--limit`).
    pub skipped: u32,
    /// Whether the operation stopped early on request.
    pub interrupted: bool,
}

/// Options shared by replay and purge.
pub struct Run<'a> {
    pub filter: &'a Filter,
    pub limit: Option<u32>,
    pub dry_run: bool,
    /// Set to stop after the letter being handled; nothing is lost or doubled.
    pub stop: Arc<AtomicBool>,
    /// Called after each letter with (scanned, total).
    pub progress: &'a (dyn Fn(u32, u32) + Sync),
}

/// Moves matching letters back to the jobs exchange, with their retry
/// history reset, each confirmed before its letter is removed.
pub async fn replay(
    connection: &Connection,
    settings: &AmqpSettings,
    run: Run<'_>,
) -> Result<Summary, ReplayError> {
    let publisher = Publisher::open(connection, &settings.events_exchange).await?;
    apply(connection, settings, run, |properties, body| {
        let publisher = publisher.clone();
        async move {
            let properties: BasicProperties = letter::reset_for_replay(&properties);
            publisher
                .publish_job(
                    &settings.jobs_exchange,
                    &settings.routing_key,
                    &body,
                    properties,
                )
                .await
        }
    })
    .await
}

/// Drops matching letters.
pub async fn purge(
    connection: &Connection,
    settings: &AmqpSettings,
    run: Run<'_>,
) -> Result<Summary, ReplayError> {
    apply(connection, settings, run, |_, _| async { Ok(()) }).await
}

/// Why a replay or purge stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Amqp(#[from] lapin::Error),
    #[error("could not move a letter (it stays in the dead-letter queue): {0}")]
    Publish(#[from] PublishError),
}

async fn apply<F, Fut>(
    connection: &Connection,
    settings: &AmqpSettings,
    run: Run<'_>,
    mut act: F,
) -> Result<Summary, ReplayError>
where
    F: FnMut(BasicProperties, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<(), PublishError>>,
{
    let total = count(connection, settings).await?;
    let mut scan = Scan::open(connection, &settings.dead_queue, total).await?;
    let mut summary = Summary::default();
    let result = async {
        while let Some(delivery) = scan.next().await? {
            summary.scanned += 1;
            let letter = LetterInfo::read(&delivery.properties, &delivery.data);
            let wanted = run.filter.matches(&letter);
            let allowed = run.limit.is_none_or(|limit| summary.applied < limit);
            if wanted && allowed && !run.dry_run {
                act(delivery.properties.clone(), delivery.data.clone()).await?;
                delivery.ack(BasicAckOptions::default()).await?;
                summary.applied += 1;
            } else {
                if wanted {
                    summary.skipped += 1;
                }
                scan.keep(delivery);
            }
            (run.progress)(summary.scanned, total);
            if run.stop.load(Ordering::SeqCst) {
                summary.interrupted = true;
                break;
            }
        }
        Ok::<(), ReplayError>(())
    }
    .await;
    let expect = total.saturating_sub(summary.applied);
    scan.close(connection, &settings.dead_queue, expect).await;
    result.map(|()| summary)
}
