//! The dead-letter queue: reading letters without consuming them, replaying
//! them to the work queue, and purging them.
//!
//! Every operation scans all the letters present when it starts, whatever
//! their number, holding each unacknowledged; letters it leaves alone go back
//! to the queue when its channel closes. A replayed letter is removed only
//! after its copy in the work queue was confirmed by the broker. An operation
//! that cannot see every letter fails, saying how far it got.

mod letter;
mod scan;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lapin::options::BasicAckOptions;
use lapin::{BasicProperties, Connection};

pub use letter::LetterInfo;
pub use scan::{Scan, ScanError};

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
    /// Whether no criterion is given, so that every letter matches.
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.reason.is_none()
            && self.workflow.is_none()
            && self.older_than.is_none()
    }

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

/// What `list` found: the matching letters from the head of the queue.
#[derive(Debug, Default)]
pub struct Listing {
    pub letters: Vec<LetterInfo>,
    /// Letters looked at.
    pub scanned: u32,
    /// Letters in the queue when the listing started.
    pub total: u32,
}

/// A listing, replay or purge that stopped before it saw every letter: what
/// it did until then, and why it stopped.
#[derive(Debug, thiserror::Error)]
#[error("stopped after {scanned} of {total} dead letter(s): {error}")]
pub struct Unfinished<T> {
    pub done: T,
    pub scanned: u32,
    pub total: u32,
    pub error: ReplayError,
}

/// Reads letters from the head of the queue, all of them if need be, until
/// `limit` of them match `filter`; none is removed.
pub async fn list(
    connection: &Connection,
    settings: &AmqpSettings,
    filter: &Filter,
    limit: u32,
) -> Result<Listing, Unfinished<Listing>> {
    let failed = |error: ReplayError| Unfinished {
        done: Listing::default(),
        scanned: 0,
        total: 0,
        error,
    };
    let total = count(connection, settings)
        .await
        .map_err(|e| failed(e.into()))?;
    let to_scan = if filter.is_empty() {
        total.min(limit)
    } else {
        total
    };
    let mut scan = Scan::open(connection, &settings.dead_queue, to_scan)
        .await
        .map_err(|e| failed(e.into()))?;
    let mut listing = Listing {
        total,
        ..Listing::default()
    };
    let result = loop {
        if listing.letters.len() as u64 >= u64::from(limit) {
            break Ok(());
        }
        match scan.next(connection).await {
            Ok(Some(delivery)) => {
                listing.scanned += 1;
                let letter = LetterInfo::read(&delivery.properties, &delivery.data);
                if filter.matches(&letter) {
                    listing.letters.push(letter);
                }
                scan.keep(delivery);
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(ReplayError::from(e)),
        }
    };
    scan.close(connection, total).await;
    match result {
        Ok(()) => Ok(listing),
        Err(error) => Err(Unfinished {
            scanned: listing.scanned,
            total,
            done: listing,
            error,
        }),
    }
}

/// What a replay or purge did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Letters in the queue when the operation started.
    pub total: u32,
    /// Letters looked at.
    pub scanned: u32,
    /// Letters that matched and were moved (replay) or dropped (purge).
    pub applied: u32,
    /// Letters that matched but were left alone (`--dry-run`, `--limit`).
    pub skipped: u32,
    /// Whether the operation stopped early on request (Ctrl-C).
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

/// The outcome of a replay or purge: what it did, even when it stopped early.
pub type Applied = Result<Summary, Unfinished<Summary>>;

/// Moves matching letters back to the jobs exchange, with their retry
/// history reset, each confirmed before its letter is removed.
pub async fn replay(connection: &Connection, settings: &AmqpSettings, run: Run<'_>) -> Applied {
    let publisher = Publisher::open(connection, &settings.events_exchange)
        .await
        .map_err(|e| Unfinished {
            done: Summary::default(),
            scanned: 0,
            total: 0,
            error: e.into(),
        })?;
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
pub async fn purge(connection: &Connection, settings: &AmqpSettings, run: Run<'_>) -> Applied {
    apply(connection, settings, run, |_, _| async { Ok(()) }).await
}

/// Why a replay or purge stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{}", crate::amqp::describe(.0))]
    Amqp(#[from] lapin::Error),
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error("could not move a letter (it stays in the dead-letter queue): {0}")]
    Publish(#[from] PublishError),
}

async fn apply<F, Fut>(
    connection: &Connection,
    settings: &AmqpSettings,
    run: Run<'_>,
    mut act: F,
) -> Applied
where
    F: FnMut(BasicProperties, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<(), PublishError>>,
{
    let mut summary = Summary::default();
    let result = async {
        summary.total = count(connection, settings).await?;
        let mut scan = Scan::open(connection, &settings.dead_queue, summary.total).await?;
        let scanned = each_letter(connection, &mut scan, &run, &mut summary, &mut act).await;
        let expect = summary.total.saturating_sub(summary.applied);
        scan.close(connection, expect).await;
        scanned
    }
    .await;
    match result {
        Ok(()) => Ok(summary),
        Err(error) => Err(Unfinished {
            scanned: summary.scanned,
            total: summary.total,
            done: summary,
            error,
        }),
    }
}

/// Acts on each matching letter of the pass, counting in `summary`.
async fn each_letter<F, Fut>(
    connection: &Connection,
    scan: &mut Scan,
    run: &Run<'_>,
    summary: &mut Summary,
    act: &mut F,
) -> Result<(), ReplayError>
where
    F: FnMut(BasicProperties, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<(), PublishError>>,
{
    while let Some(delivery) = scan.next(connection).await? {
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
        (run.progress)(summary.scanned, summary.total);
        if run.stop.load(Ordering::SeqCst) {
            summary.interrupted = true;
            break;
        }
    }
    Ok(())
}
