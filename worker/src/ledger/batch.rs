//! Group commit for the embedded store: one thread takes every write waiting
//! in its channel and applies them in ONE durable transaction, then answers
//! each caller. Under load a batch holds many jobs' claims and records, so
//! the ledger costs one fsync per batch, not one per job.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableTable, Table, WriteTransaction};
use tokio::sync::oneshot;

use super::embedded::{EXPIRY, MESSAGES, SUPPRESSED};
use super::entry::Entry;
use super::{now_ms, Acceptance, Claim, ClaimToken, LedgerError, Suppression};

/// Most writes committed together; bounds one transaction's size.
const MAX_BATCH: usize = 4096;
/// How often expired entries are removed, and at most how many at a time:
/// up to 10,000 a second, more than a worker sends, so the file stops
/// growing once `ttl` has passed.
const PURGE_EVERY: Duration = Duration::from_secs(1);
const PURGE_AT_MOST: usize = 10_000;

/// A write to apply.
pub(super) enum Op {
    Claim {
        id: String,
        lease: Duration,
        token: ClaimToken,
    },
    Record {
        id: String,
        acceptance: Acceptance,
    },
    Release {
        id: String,
        token: ClaimToken,
    },
    Event {
        id: String,
        event: serde_json::Value,
    },
    Suppress {
        environment: String,
        entry: Suppression,
    },
    Unsuppress {
        environment: String,
        address: String,
    },
}

/// The answer to a write, once its transaction is durable.
pub(super) enum Reply {
    Claim(Claim),
    Done,
    Removed(bool),
}

pub(super) struct Request {
    pub op: Op,
    pub reply: oneshot::Sender<Result<Reply, LedgerError>>,
}

/// Starts the writer thread; it ends when every sender is dropped.
/// `commits` counts the transactions it made durable.
pub(super) fn spawn(
    db: Arc<Database>,
    ttl: Duration,
    commits: Arc<AtomicU64>,
) -> std::io::Result<(Sender<Request>, JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("herald-ledger".into())
        .spawn(move || run(&db, &rx, ttl, &commits))?;
    Ok((tx, handle))
}

fn run(db: &Database, rx: &Receiver<Request>, ttl: Duration, commits: &AtomicU64) {
    let mut last_purge = Instant::now();
    loop {
        let mut batch = match rx.recv_timeout(PURGE_EVERY) {
            Ok(first) => vec![first],
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let purge = last_purge.elapsed() >= PURGE_EVERY;
        if purge {
            last_purge = Instant::now();
        }
        if commit(db, batch, purge, ttl) {
            commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Applies a batch in one transaction and answers every caller: with its
/// own result once the commit is durable, or with the commit's error.
/// Returns whether it committed; an idle purge that found nothing due
/// commits nothing (no fsync).
fn commit(db: &Database, batch: Vec<Request>, purge: bool, ttl: Duration) -> bool {
    let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().map(|r| (r.op, r.reply)).unzip();
    let idle = ops.is_empty();
    let outcome = (|| -> Result<(Vec<Result<Reply, LedgerError>>, bool), redb::Error> {
        let mut txn = db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let results = apply_all(&txn, ops, ttl)?;
        let purged = match purge {
            true => purge_expired(&txn, now_ms())?,
            false => 0,
        };
        if idle && purged == 0 {
            txn.abort()?;
            return Ok((results, false));
        }
        txn.commit()?;
        Ok((results, true))
    })();
    match outcome {
        Ok((results, committed)) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
            committed
        }
        Err(e) => {
            let error = LedgerError::Store(format!("ledger write failed: {e}"));
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
            false
        }
    }
}

fn apply_all(
    txn: &WriteTransaction,
    ops: Vec<Op>,
    ttl: Duration,
) -> Result<Vec<Result<Reply, LedgerError>>, redb::Error> {
    let mut messages = txn.open_table(MESSAGES)?;
    let mut expiry = txn.open_table(EXPIRY)?;
    let mut suppressed = txn.open_table(SUPPRESSED)?;
    let now = now_ms();
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let mut tables = Messages {
            messages: &mut messages,
            expiry: &mut expiry,
            now,
            ttl,
        };
        let result = match op {
            Op::Claim { id, lease, token } => tables
                .update(&id, |e| {
                    let claim = e.claim(now, lease, token);
                    let changed = matches!(claim, Claim::Acquired(_) | Claim::InDoubt(_));
                    (claim, changed)
                })?
                .map(Reply::Claim),
            Op::Record { id, acceptance } => tables
                .update(&id, |e| {
                    e.acceptance = Some(acceptance);
                    e.live = None;
                    ((), true)
                })?
                .map(|()| Reply::Done),
            Op::Release { id, token } => tables
                .update(&id, |e| ((), e.release(now, &token)))?
                .map(|()| Reply::Done),
            Op::Event { id, event } => tables
                .update(&id, |e| {
                    e.events.push(event);
                    ((), true)
                })?
                .map(|()| Reply::Done),
            Op::Suppress { environment, entry } => {
                let value = serde_json::to_vec(&entry).expect("a suppression serialises");
                suppressed.insert(
                    (environment.as_str(), entry.address.as_str()),
                    value.as_slice(),
                )?;
                Ok(Reply::Done)
            }
            Op::Unsuppress {
                environment,
                address,
            } => {
                let removed = suppressed.remove((environment.as_str(), address.as_str()))?;
                Ok(Reply::Removed(removed.is_some()))
            }
        };
        results.push(result);
    }
    Ok(results)
}

/// The message tables of one transaction.
struct Messages<'a, 't> {
    messages: &'a mut Table<'t, &'static str, &'static [u8]>,
    expiry: &'a mut Table<'t, (u64, &'static str), ()>,
    now: u64,
    ttl: Duration,
}

impl Messages<'_, '_> {
    /// Reads an id's entry (an expired one counts as absent), lets `change`
    /// alter it, and writes it back when it says it changed, kept for `ttl`.
    fn update<R>(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Entry) -> (R, bool),
    ) -> Result<Result<R, LedgerError>, redb::Error> {
        let stored = self
            .messages
            .get(id)?
            .map(|bytes| serde_json::from_slice::<Entry>(bytes.value()));
        let (mut entry, before) = match stored {
            None => (Entry::default(), None),
            Some(Ok(entry)) if !entry.is_expired(self.now) => {
                let before = entry.expires_ms;
                (entry, Some(before))
            }
            Some(Ok(expired)) => (Entry::default(), Some(expired.expires_ms)),
            Some(Err(e)) => {
                return Ok(Err(LedgerError::Store(format!(
                    "the ledger entry of {id:?} is unreadable: {e}"
                ))))
            }
        };
        let (result, changed) = change(&mut entry);
        if changed {
            entry.keep_for(self.now, self.ttl);
            if before != Some(entry.expires_ms) {
                if let Some(before) = before {
                    self.expiry.remove((before, id))?;
                }
                self.expiry.insert((entry.expires_ms, id), ())?;
            }
            let bytes = serde_json::to_vec(&entry).expect("an entry serialises");
            self.messages.insert(id, bytes.as_slice())?;
        }
        Ok(Ok(result))
    }
}

/// Removes entries whose time has passed, oldest first.
fn purge_expired(txn: &WriteTransaction, now: u64) -> Result<usize, redb::Error> {
    let mut messages = txn.open_table(MESSAGES)?;
    let mut expiry = txn.open_table(EXPIRY)?;
    let mut due = Vec::new();
    for item in expiry.range((0, "")..(now, ""))?.take(PURGE_AT_MOST) {
        let (key, _) = item?;
        let (at, id) = key.value();
        due.push((at, id.to_owned()));
    }
    for (at, id) in &due {
        expiry.remove((*at, id.as_str()))?;
        messages.remove(id.as_str())?;
    }
    Ok(due.len())
}
