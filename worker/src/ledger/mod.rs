//! The send ledger and the suppression list (SPEC §9).
//!
//! The ledger makes a job id cost at most one SES acceptance: a worker
//! *claims* the id before `SendEmail`, *records* the acceptance after it, and
//! a later delivery of the same id finds the record instead of sending again.
//! It also keeps the feedback events of a message (its story) and, per
//! environment, the addresses not to send to.
//!
//! - [`settings`]: the `[idempotency]` and `[suppression]` sections.
//! - `embedded`: a redb file, written by one thread that commits everything
//!   waiting in one durable transaction (`batch`).
//! - `redis`: one key per id, changed by Lua scripts, pipelined over one
//!   multiplexed connection; for a fleet of workers.
//! - [`story`]: what the ledger knows of one message, in time order.

mod batch;
mod embedded;
mod entry;
mod redis;
pub mod settings;
pub mod story;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use settings::{
    IdempotencySettings, InDoubtPolicy, StoreKind, StoreSections, SuppressionSettings,
};
pub use story::{ClaimEntry, ClaimKind, MessageStory, Moment};

pub(crate) use redis::lazy_connection;

/// The ledger of one worker: cheap to clone, every clone shares one store.
#[derive(Clone)]
pub struct Ledger {
    backend: Backend,
    timeout: Duration,
}

#[derive(Clone)]
enum Backend {
    Off,
    Embedded(Arc<embedded::Embedded>),
    Redis(Arc<redis::RedisStore>),
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.kind())
            .finish()
    }
}

/// The answer to a claim: whether this worker may send.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// No record and no live claim: send, then record or release.
    Acquired(ClaimToken),
    /// SES already accepted this id: do not send; republish
    /// `acceptance.event` with `duplicate = true`.
    Accepted(Acceptance),
    /// Another worker's claim is live: never race it.
    Held { retry_after: Duration },
    /// A claim outlived its lease without a record: its worker died during
    /// the SES request, so SES may or may not have the email. The token is
    /// now this caller's claim; the `in_doubt` policy decides.
    InDoubt(ClaimToken),
}

/// Proof of a claim, so only its owner can release it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimToken(String);

impl ClaimToken {
    fn new() -> ClaimToken {
        ClaimToken(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The token as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What SES said when it accepted a job's email, kept for `ttl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acceptance {
    pub provider_message_id: String,
    /// RFC 3339.
    pub accepted_at: String,
    /// SES requests the job took.
    pub attempts: u32,
    /// The `message.sent` event as published, to publish again for a
    /// duplicate. Kept as JSON text: the stores write it as it is.
    pub event: Box<serde_json::value::RawValue>,
}

impl PartialEq for Acceptance {
    fn eq(&self, other: &Acceptance) -> bool {
        self.provider_message_id == other.provider_message_id
            && self.accepted_at == other.accepted_at
            && self.attempts == other.attempts
            && self.event.get() == other.event.get()
    }
}

/// One suppressed address of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub address: String,
    pub reason: String,
    /// RFC 3339.
    pub at: String,
}

/// A store that could not answer. None of these carries a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LedgerError {
    /// The embedded file cannot be opened, created or written.
    #[error("cannot open the ledger file {}: {reason}", path.display())]
    Open { path: PathBuf, reason: String },
    /// The store took longer than `idempotency.timeout`.
    #[error("the ledger store did not answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The store answered with an error, or could not be reached.
    #[error("ledger store: {0}")]
    Store(String),
    /// The store's writer stopped; the worker must restart.
    #[error("the ledger store is closed")]
    Closed,
}

impl Ledger {
    /// Opens the store the settings name. A corrupt or unwritable redb file
    /// is an error naming the path. Redis connects lazily: an unreachable
    /// Redis fails each call (and [`Ledger::ping`]), not the start.
    pub async fn open(settings: &IdempotencySettings) -> Result<Ledger, LedgerError> {
        let backend = match settings.store {
            StoreKind::Off => Backend::Off,
            StoreKind::Embedded => Backend::Embedded(Arc::new(
                embedded::Embedded::open(&settings.path, settings.ttl, settings.multi_process)
                    .await?,
            )),
            StoreKind::Redis => Backend::Redis(Arc::new(redis::RedisStore::open(settings)?)),
        };
        Ok(Ledger {
            backend,
            timeout: settings.timeout,
        })
    }

    /// A ledger that remembers nothing: every claim is acquired.
    pub fn off() -> Ledger {
        Ledger {
            backend: Backend::Off,
            timeout: Duration::from_secs(1),
        }
    }

    /// Which store this is.
    pub fn kind(&self) -> StoreKind {
        match self.backend {
            Backend::Off => StoreKind::Off,
            Backend::Embedded(_) => StoreKind::Embedded,
            Backend::Redis(_) => StoreKind::Redis,
        }
    }

    /// Durable transactions the embedded store has made, to see how well
    /// writes group; `None` for the other stores.
    pub fn durable_commits(&self) -> Option<u64> {
        match &self.backend {
            Backend::Embedded(s) => Some(s.commits()),
            _ => None,
        }
    }

    /// Claims `id` for one send; the claim protects it for `lease`.
    pub async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, LedgerError> {
        match &self.backend {
            Backend::Off => Ok(Claim::Acquired(ClaimToken::new())),
            Backend::Embedded(s) => self.bounded(s.claim(id, lease)).await,
            Backend::Redis(s) => self.bounded(s.claim(id, lease)).await,
        }
    }

    /// Records SES's acceptance of `id`; durable when this returns.
    pub async fn record(&self, id: &str, acceptance: Acceptance) -> Result<(), LedgerError> {
        match &self.backend {
            Backend::Off => Ok(()),
            Backend::Embedded(s) => self.bounded(s.record(id, acceptance)).await,
            Backend::Redis(s) => self.bounded(s.record(id, &acceptance)).await,
        }
    }

    /// Gives a claim up because SES refused the email: a later retry claims
    /// afresh, not in doubt. A token that no longer owns the claim changes
    /// nothing.
    pub async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), LedgerError> {
        match &self.backend {
            Backend::Off => Ok(()),
            Backend::Embedded(s) => self.bounded(s.release(id, token)).await,
            Backend::Redis(s) => self.bounded(s.release(id, token)).await,
        }
    }

    /// What the store knows of `id`: claims, acceptance, feedback events.
    pub async fn story(&self, id: &str) -> Result<Option<MessageStory>, LedgerError> {
        match &self.backend {
            Backend::Off => Ok(None),
            Backend::Embedded(s) => self.bounded(s.story(id)).await,
            Backend::Redis(s) => self.bounded(s.story(id)).await,
        }
    }

    /// Adds a feedback event (delivered, bounced, …) to `id`'s story.
    pub async fn append_event(
        &self,
        id: &str,
        event: &serde_json::Value,
    ) -> Result<(), LedgerError> {
        match &self.backend {
            Backend::Off => Ok(()),
            Backend::Embedded(s) => self.bounded(s.append_event(id, event)).await,
            Backend::Redis(s) => self.bounded(s.append_event(id, event)).await,
        }
    }

    /// Adds an address to an environment's suppression list (or updates its
    /// reason). Addresses are compared without regard to case.
    pub async fn suppress(
        &self,
        environment: &str,
        address: &str,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let entry = Suppression {
            address: normalize(address),
            reason: reason.to_owned(),
            at: crate::clock::now_rfc3339(),
        };
        match &self.backend {
            Backend::Off => Ok(()),
            Backend::Embedded(s) => self.bounded(s.suppress(environment, entry)).await,
            Backend::Redis(s) => self.bounded(s.suppress(environment, entry)).await,
        }
    }

    /// Removes an address; `false` when it was not on the list.
    pub async fn unsuppress(&self, environment: &str, address: &str) -> Result<bool, LedgerError> {
        let address = normalize(address);
        match &self.backend {
            Backend::Off => Ok(false),
            Backend::Embedded(s) => self.bounded(s.unsuppress(environment, address)).await,
            Backend::Redis(s) => self.bounded(s.unsuppress(environment, &address)).await,
        }
    }

    /// Whether jobs of `environment` must not be sent to `address`.
    pub async fn is_suppressed(
        &self,
        environment: &str,
        address: &str,
    ) -> Result<bool, LedgerError> {
        let address = normalize(address);
        match &self.backend {
            Backend::Off => Ok(false),
            Backend::Embedded(s) => self.bounded(s.is_suppressed(environment, address)).await,
            Backend::Redis(s) => self.bounded(s.is_suppressed(environment, &address)).await,
        }
    }

    /// An environment's whole suppression list, sorted by address.
    pub async fn suppressed(&self, environment: &str) -> Result<Vec<Suppression>, LedgerError> {
        let mut list = match &self.backend {
            Backend::Off => Ok(Vec::new()),
            Backend::Embedded(s) => self.bounded(s.suppressed(environment)).await,
            Backend::Redis(s) => s.suppressed(environment, self.timeout).await,
        }?;
        list.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(list)
    }

    /// Marks `key` as seen for `window`, for every worker sharing the store;
    /// `Some(false)` when it was seen already, `None` when the store is not
    /// shared (the caller remembers it itself).
    pub async fn mark_once(
        &self,
        key: &str,
        window: Duration,
    ) -> Result<Option<bool>, LedgerError> {
        match &self.backend {
            Backend::Redis(s) => self.bounded(s.mark_once(key, window)).await.map(Some),
            _ => Ok(None),
        }
    }

    /// Forgets a mark of [`Ledger::mark_once`].
    pub async fn unmark(&self, key: &str) -> Result<(), LedgerError> {
        match &self.backend {
            Backend::Redis(s) => self.bounded(s.unmark(key)).await,
            _ => Ok(()),
        }
    }

    /// Whether the store answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), LedgerError> {
        match &self.backend {
            Backend::Off => Ok(()),
            Backend::Embedded(s) => self.bounded(s.ping()).await,
            Backend::Redis(s) => self.bounded(s.ping()).await,
        }
    }

    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, LedgerError>>,
    ) -> Result<T, LedgerError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(LedgerError::Timeout(self.timeout)))
    }
}

/// Addresses are kept trimmed and lower-case, as SES compares them.
fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

/// Milliseconds since the Unix epoch, the ledger's clock.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests;
