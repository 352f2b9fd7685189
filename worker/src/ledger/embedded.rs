//! The embedded store: one redb file per worker. Writes go through the
//! group-commit thread of `batch`; reads open their own read transaction on
//! a blocking thread.
//!
//! The worker holds the file alone by default: a commit is then one fsync.
//! With `multi_process = true` it is opened in redb's multi-writer mode, so
//! `herald suppression add` and `herald messages show` work while the worker
//! has it open, at the price of two fsyncs per commit (BENCHMARKS.md).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use redb::{Builder, ConcurrencyMode, Database, ReadableDatabase, TableDefinition};
use tokio::sync::oneshot;

use super::batch::{self, Op, Reply, Request};
use super::entry::Entry;
use super::{now_ms, Acceptance, Claim, ClaimToken, LedgerError, MessageStory, Suppression};

/// Message id → its [`Entry`] as JSON.
pub(super) const MESSAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("messages");
/// (expiry in ms, message id): the purge's index.
pub(super) const EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("expiry");
/// (environment, address) → a [`Suppression`] as JSON.
pub(super) const SUPPRESSED: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("suppressed");

pub(super) struct Embedded {
    db: Arc<Database>,
    /// `None` only while dropping, so the writer sees the channel close.
    writes: Option<Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    /// Durable transactions made; fewer than writes when commits group.
    commits: Arc<AtomicU64>,
}

impl Embedded {
    /// Opens or creates the file. Anything that keeps it from being used
    /// (not a ledger, corrupt, unreadable, unwritable) is
    /// [`LedgerError::Open`] naming the path.
    /// `multi_process` lets other processes open the file at the same time
    /// (redb's multi-writer mode, which commits in two phases: two fsyncs
    /// instead of one).
    pub async fn open(
        path: &Path,
        ttl: Duration,
        multi_process: bool,
    ) -> Result<Embedded, LedgerError> {
        let path = path.to_path_buf();
        let failed = |path: &PathBuf, reason: String| LedgerError::Open {
            path: path.clone(),
            reason,
        };
        let db = tokio::task::spawn_blocking({
            let path = path.clone();
            move || open_file(&path, multi_process)
        })
        .await
        .map_err(|_| failed(&path, "the file is corrupt (redb could not read it)".into()))?
        .map_err(|reason| failed(&path, reason))?;
        let db = Arc::new(db);
        let commits = Arc::new(AtomicU64::new(0));
        let (writes, writer) = batch::spawn(db.clone(), ttl, commits.clone())
            .map_err(|e| failed(&path, format!("cannot start the writer thread: {e}")))?;
        Ok(Embedded {
            db,
            writes: Some(writes),
            writer: Some(writer),
            commits,
        })
    }

    /// Entries in the file, expired or not: what the purge leaves.
    #[cfg(test)]
    pub async fn stored_entries(&self) -> Result<u64, LedgerError> {
        use redb::ReadableTableMetadata;
        self.read(|db| Ok(db.begin_read()?.open_table(MESSAGES)?.len()?))
            .await
    }

    /// Durable transactions made so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, LedgerError> {
        let op = Op::Claim {
            id: id.to_owned(),
            lease,
            token: ClaimToken::new(),
        };
        match self.write(op).await? {
            Reply::Claim(claim) => Ok(claim),
            _ => unreachable!("a claim is answered with a claim"),
        }
    }

    pub async fn record(&self, id: &str, acceptance: Acceptance) -> Result<(), LedgerError> {
        let op = Op::Record {
            id: id.to_owned(),
            acceptance,
        };
        self.write(op).await.map(drop)
    }

    pub async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), LedgerError> {
        let op = Op::Release {
            id: id.to_owned(),
            token: token.clone(),
        };
        self.write(op).await.map(drop)
    }

    pub async fn append_event(
        &self,
        id: &str,
        event: &serde_json::Value,
    ) -> Result<(), LedgerError> {
        let op = Op::Event {
            id: id.to_owned(),
            event: event.clone(),
        };
        self.write(op).await.map(drop)
    }

    pub async fn suppress(&self, environment: &str, entry: Suppression) -> Result<(), LedgerError> {
        let op = Op::Suppress {
            environment: environment.to_owned(),
            entry,
        };
        self.write(op).await.map(drop)
    }

    pub async fn unsuppress(
        &self,
        environment: &str,
        address: String,
    ) -> Result<bool, LedgerError> {
        let op = Op::Unsuppress {
            environment: environment.to_owned(),
            address,
        };
        match self.write(op).await? {
            Reply::Removed(removed) => Ok(removed),
            _ => unreachable!("a removal is answered with whether it removed"),
        }
    }

    pub async fn story(&self, id: &str) -> Result<Option<MessageStory>, LedgerError> {
        let id = id.to_owned();
        self.read(move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(MESSAGES)?;
            let Some(bytes) = table.get(id.as_str())? else {
                return Ok(None);
            };
            let entry: Entry = serde_json::from_slice(bytes.value()).map_err(|e| {
                LedgerError::Store(format!("the entry of {id:?} is unreadable: {e}"))
            })?;
            Ok((!entry.is_expired(now_ms())).then(|| entry.into_story(&id)))
        })
        .await
    }

    pub async fn is_suppressed(
        &self,
        environment: &str,
        address: String,
    ) -> Result<bool, LedgerError> {
        let environment = environment.to_owned();
        self.read(move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(SUPPRESSED)?;
            Ok(table
                .get((environment.as_str(), address.as_str()))?
                .is_some())
        })
        .await
    }

    pub async fn suppressed(&self, environment: &str) -> Result<Vec<Suppression>, LedgerError> {
        let environment = environment.to_owned();
        self.read(move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(SUPPRESSED)?;
            let mut list = Vec::new();
            for item in table.range((environment.as_str(), "")..)? {
                let (key, value) = item?;
                if key.value().0 != environment {
                    break;
                }
                let entry = serde_json::from_slice(value.value())
                    .map_err(|e| LedgerError::Store(format!("a suppression is unreadable: {e}")))?;
                list.push(entry);
            }
            Ok(list)
        })
        .await
    }

    /// The file can be read and the writer thread runs.
    pub async fn ping(&self) -> Result<(), LedgerError> {
        if self.writer.as_ref().is_none_or(|w| w.is_finished()) {
            return Err(LedgerError::Closed);
        }
        self.read(|db| {
            db.begin_read()?.open_table(MESSAGES)?;
            Ok(())
        })
        .await
    }

    async fn write(&self, op: Op) -> Result<Reply, LedgerError> {
        let (reply, answer) = oneshot::channel();
        let sent = match &self.writes {
            Some(writes) => writes.send(Request { op, reply }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(LedgerError::Closed);
        }
        answer.await.map_err(|_| LedgerError::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Database) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || read(&db))
            .await
            .map_err(|e| LedgerError::Store(format!("a ledger read failed: {e}")))?
    }
}

impl Drop for Embedded {
    /// Closes the channel and waits for the writer to finish its batch, so
    /// the file is closed cleanly and can be opened again at once.
    fn drop(&mut self) {
        self.writes.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Memory redb may keep for pages it read or wrote. Its default (1 GiB)
/// would let a busy worker's ledger grow its resident memory with every job
/// recorded; a job's claim and record touch a few recent pages, and a lookup
/// of an old id reads from the file.
const CACHE_BYTES: usize = 1024 * 1024;

fn open_file(path: &Path, multi_process: bool) -> Result<Database, String> {
    let mode = match multi_process {
        true => ConcurrencyMode::MultiWriter,
        false => ConcurrencyMode::ExclusiveWriter,
    };
    let db = Builder::new()
        .set_cache_size(CACHE_BYTES)
        .set_concurrency_mode(mode)
        .create(path)
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => ALREADY_OPEN.to_owned(),
            other => other.to_string(),
        })?;
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    txn.open_table(MESSAGES).map_err(|e| e.to_string())?;
    txn.open_table(EXPIRY).map_err(|e| e.to_string())?;
    txn.open_table(SUPPRESSED).map_err(|e| e.to_string())?;
    txn.commit().map_err(|e| e.to_string())?;
    Ok(db)
}

const ALREADY_OPEN: &str = "another process has it open. Each worker needs its own file (or use \
     the Redis store); to run `herald messages show` or `herald suppression` while a worker has \
     the file, set idempotency.multi_process = true for both";

impl From<redb::Error> for LedgerError {
    fn from(e: redb::Error) -> LedgerError {
        LedgerError::Store(e.to_string())
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for LedgerError {
            fn from(e: $t) -> LedgerError {
                LedgerError::Store(e.to_string())
            }
        }
    )*};
}
from_redb!(redb::TransactionError, redb::TableError, redb::StorageError);
