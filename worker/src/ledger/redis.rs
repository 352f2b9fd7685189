//! The Redis store, for a fleet: RabbitMQ redelivers a job to any worker, so
//! they share one ledger.
//!
//! One hash per message id (`<prefix>message:<id>`) holds the live claim, the
//! acceptance, the claim history and the feedback events; Lua scripts change
//! it atomically, on Redis's clock, so workers' clocks never judge a lease.
//! Every worker shares one multiplexed connection: concurrent jobs' commands
//! are pipelined on it instead of waiting for each other's round trips.
//! Suppressions are one hash per environment (`<prefix>suppressed:<env>`).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::story::{millis_rfc3339, ClaimEntry, ClaimKind, MessageStory};
use super::{Acceptance, Claim, ClaimToken, IdempotencySettings, LedgerError, Suppression};

/// `redis.call('TIME')` as whole milliseconds, and a history line appender.
const PRELUDE: &str = r"
local t = redis.call('TIME')
local now = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local function remember(kind)
  local h = redis.call('HGET', KEYS[1], 'history') or ''
  redis.call('HSET', KEYS[1], 'history', h .. now .. ' ' .. kind .. '\n')
end
";

/// ARGV: token, lease ms, ttl ms. Returns {kind, detail}.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{PRELUDE}{}",
        r"
local acceptance = redis.call('HGET', KEYS[1], 'acceptance')
if acceptance then return {'accepted', acceptance} end
local live = redis.call('HMGET', KEYS[1], 'token', 'at', 'lease')
local kind = 'claimed'
if live[1] then
  local left = tonumber(live[2]) + tonumber(live[3]) - tonumber(now)
  if left > 0 then return {'held', string.format('%d', left)} end
  kind = 'in_doubt'
end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'at', now, 'lease', ARGV[2])
remember(kind)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {kind, now}
"
    ))
});

/// ARGV: acceptance JSON, ttl ms.
static RECORD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('HSET', KEYS[1], 'acceptance', ARGV[1])
redis.call('HDEL', KEYS[1], 'token', 'at', 'lease')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
",
    )
});

/// ARGV: token. Returns 1 when the token owned the claim.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{PRELUDE}{}",
        r"
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'token', 'at', 'lease')
remember('released')
return 1
"
    ))
});

/// ARGV: event JSON, ttl ms. Keeps the message at least `ttl` longer.
static EVENT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local events = redis.call('HGET', KEYS[1], 'events') or ''
redis.call('HSET', KEYS[1], 'events', events .. ARGV[1] .. '\n')
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
",
    )
});

/// A multiplexed connection to `url`, made on first use; every call fails
/// after `timeout` instead of hanging, and a lost connection is made again.
/// The ledger and the fleet's rate limiter share this set-up.
pub(crate) fn lazy_connection(
    url: &str,
    timeout: Duration,
) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, config)
}

pub(super) struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    ttl_ms: u64,
}

impl RedisStore {
    /// Checks the URL and prepares a connection made on first use, so an
    /// unreachable Redis fails calls, not the worker's start.
    pub fn open(settings: &IdempotencySettings) -> Result<RedisStore, LedgerError> {
        let connection = lazy_connection(settings.url.expose(), settings.timeout)
            .map_err(|e| LedgerError::Store(format!("idempotency.url: {e}")))?;
        Ok(RedisStore {
            connection,
            prefix: settings.prefix.clone(),
            ttl_ms: settings.ttl.as_millis() as u64,
        })
    }

    fn message_key(&self, id: &str) -> String {
        format!("{}message:{id}", self.prefix)
    }

    fn suppressed_key(&self, environment: &str) -> String {
        format!("{}suppressed:{environment}", self.prefix)
    }

    pub async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, LedgerError> {
        let token = ClaimToken::new();
        let lease_ms = lease.as_millis().max(1) as u64;
        let (kind, detail): (String, String) = CLAIM
            .key(self.message_key(id))
            .arg(token.as_str())
            .arg(lease_ms)
            .arg(self.ttl_ms)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(store)?;
        match kind.as_str() {
            "claimed" => Ok(Claim::Acquired(token)),
            "in_doubt" => Ok(Claim::InDoubt(token)),
            "held" => Ok(Claim::Held {
                retry_after: Duration::from_millis(detail.parse().unwrap_or(lease_ms)),
            }),
            "accepted" => serde_json::from_str(&detail)
                .map(Claim::Accepted)
                .map_err(|e| unreadable(id, &e)),
            other => Err(LedgerError::Store(format!(
                "unexpected claim answer {other:?}"
            ))),
        }
    }

    pub async fn record(&self, id: &str, acceptance: &Acceptance) -> Result<(), LedgerError> {
        let json = serde_json::to_string(acceptance).expect("an acceptance serialises");
        let _: i64 = RECORD
            .key(self.message_key(id))
            .arg(json)
            .arg(self.ttl_ms)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(store)?;
        Ok(())
    }

    pub async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), LedgerError> {
        let _: i64 = RELEASE
            .key(self.message_key(id))
            .arg(token.as_str())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(store)?;
        Ok(())
    }

    pub async fn append_event(
        &self,
        id: &str,
        event: &serde_json::Value,
    ) -> Result<(), LedgerError> {
        let _: i64 = EVENT
            .key(self.message_key(id))
            .arg(event.to_string())
            .arg(self.ttl_ms)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(store)?;
        Ok(())
    }

    pub async fn story(&self, id: &str) -> Result<Option<MessageStory>, LedgerError> {
        let fields: HashMap<String, String> = self
            .connection
            .clone()
            .hgetall(self.message_key(id))
            .await
            .map_err(store)?;
        if fields.is_empty() {
            return Ok(None);
        }
        let claims = fields
            .get("history")
            .map(|h| h.lines().filter_map(history_line).collect())
            .unwrap_or_default();
        let acceptance = match fields.get("acceptance") {
            Some(json) => Some(serde_json::from_str(json).map_err(|e| unreadable(id, &e))?),
            None => None,
        };
        let events = match fields.get("events") {
            Some(lines) => lines
                .lines()
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()
                .map_err(|e| unreadable(id, &e))?,
            None => Vec::new(),
        };
        Ok(Some(MessageStory {
            id: id.to_owned(),
            claims,
            acceptance,
            events,
        }))
    }

    pub async fn suppress(&self, environment: &str, entry: Suppression) -> Result<(), LedgerError> {
        let json = serde_json::to_string(&entry).expect("a suppression serialises");
        let _: i64 = self
            .connection
            .clone()
            .hset(self.suppressed_key(environment), &entry.address, json)
            .await
            .map_err(store)?;
        Ok(())
    }

    pub async fn unsuppress(&self, environment: &str, address: &str) -> Result<bool, LedgerError> {
        let removed: i64 = self
            .connection
            .clone()
            .hdel(self.suppressed_key(environment), address)
            .await
            .map_err(store)?;
        Ok(removed > 0)
    }

    pub async fn is_suppressed(
        &self,
        environment: &str,
        address: &str,
    ) -> Result<bool, LedgerError> {
        self.connection
            .clone()
            .hexists(self.suppressed_key(environment), address)
            .await
            .map_err(store)
    }

    /// The whole list, read with `HSCAN` a page at a time so a long list
    /// never blocks Redis; each page is bounded by `timeout`.
    pub async fn suppressed(
        &self,
        environment: &str,
        timeout: Duration,
    ) -> Result<Vec<Suppression>, LedgerError> {
        let key = self.suppressed_key(environment);
        let mut list = Vec::new();
        let mut cursor = 0_u64;
        loop {
            let mut command = redis::cmd("HSCAN");
            command.arg(&key).arg(cursor).arg("COUNT").arg(500);
            let mut connection = self.connection.clone();
            let page = command.query_async::<(u64, Vec<String>)>(&mut connection);
            let (next, flat) = tokio::time::timeout(timeout, page)
                .await
                .map_err(|_| LedgerError::Timeout(timeout))?
                .map_err(store)?;
            for json in flat.chunks(2).filter_map(|pair| pair.get(1)) {
                let entry = serde_json::from_str(json)
                    .map_err(|e| LedgerError::Store(format!("a suppression is unreadable: {e}")))?;
                list.push(entry);
            }
            if next == 0 {
                return Ok(list);
            }
            cursor = next;
        }
    }

    /// Marks `key` for `window`; `false` when it was marked already.
    pub async fn mark_once(&self, key: &str, window: Duration) -> Result<bool, LedgerError> {
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}seen:{key}", self.prefix))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(window.as_millis().max(1) as u64)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(store)?;
        Ok(set.is_some())
    }

    /// Removes a mark, so the same key is taken again.
    pub async fn unmark(&self, key: &str) -> Result<(), LedgerError> {
        let _: i64 = redis::cmd("DEL")
            .arg(format!("{}seen:{key}", self.prefix))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(store)?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), LedgerError> {
        let _: String = self.connection.clone().ping().await.map_err(store)?;
        Ok(())
    }
}

fn history_line(line: &str) -> Option<ClaimEntry> {
    let (ms, kind) = line.split_once(' ')?;
    let kind = match kind {
        "claimed" => ClaimKind::Claimed,
        "in_doubt" => ClaimKind::InDoubt,
        "released" => ClaimKind::Released,
        _ => return None,
    };
    Some(ClaimEntry {
        at: millis_rfc3339(ms.parse().ok()?),
        kind,
    })
}

/// Redis's errors name the failure, never the URL or its password.
fn store(e: redis::RedisError) -> LedgerError {
    LedgerError::Store(format!("redis: {e}"))
}

fn unreadable(id: &str, e: &serde_json::Error) -> LedgerError {
    LedgerError::Store(format!("the entry of {id:?} is unreadable: {e}"))
}
