//! One send rate for a whole fleet (SPEC §11): the same GCRA as the local
//! limiter, its theoretical arrival time kept in Redis and advanced by a Lua
//! script, so every worker of an environment draws on one schedule.
//!
//! Each message reserves the next slot. A slot is reserved only within
//! [`HORIZON`] of now: a worker that dies holds at most that much of the
//! account's rate unused, whatever its prefetch. Further out, the script
//! answers when to ask again.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;
use serde::Deserialize;

use crate::settings::Secret;

/// How far ahead a slot may be reserved.
pub const HORIZON: Duration = Duration::from_millis(250);

/// A worker that wakes this much after its slot (its thread was not
/// scheduled in time) reserves a new one instead of sending late: a late
/// request lands among the next slots' requests, and SES counts them all in
/// one second.
pub const LATE: Duration = Duration::from_millis(5);

/// KEYS[1]: the route's schedule. ARGV[1]: microseconds the messages take
/// (one interval per recipient); ARGV[2]: the horizon in microseconds.
/// Returns the wait in microseconds before the reserved slot, or, when the
/// schedule is beyond the horizon, minus the wait until it is not.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
local horizon = tonumber(ARGV[2])
if wait > horizon then return -(wait - horizon) end
local next_tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
return wait
",
    )
});

/// `[rate_limit]`: where the send rate lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    pub store: RateStore,
    /// The Redis of `store = "redis"`; may carry a password.
    pub url: Secret,
    /// Prefix of the schedule keys (`<prefix>rate:<channel>:<environment>`).
    pub prefix: String,
    /// How long one Redis call may take before the worker paces alone.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The share of `max_send_rate` the fleet leaves unused. Its slots are
    /// exactly `1 / rate` apart, but requests reach SES a few milliseconds
    /// off them, and a rolling second at exactly the rate then counts one
    /// too many: SES would throttle it.
    pub headroom: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateStore {
    /// Each worker paces to `max_send_rate / limits.workers`.
    Local,
    /// Every worker shares `max_send_rate` through Redis.
    Redis,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            store: RateStore::Local,
            url: Secret::new("redis://127.0.0.1:6379/0"),
            prefix: "herald:".into(),
            timeout: Duration::from_millis(250),
            headroom: 0.02,
        }
    }
}

impl RateLimitSettings {
    pub fn problems(&self) -> Vec<String> {
        let url = self.url.expose();
        let mut problems = Vec::new();
        if self.store == RateStore::Redis
            && !(url.starts_with("redis://") || url.starts_with("redis+unix://"))
        {
            problems.push("rate_limit.url: must be a redis:// or redis+unix:// URL".into());
        }
        if !(0.0..0.5).contains(&self.headroom) {
            problems.push("rate_limit.headroom: must be at least 0 and below 0.5".into());
        }
        if self.timeout.is_zero() {
            problems.push("rate_limit.timeout: must be longer than zero".into());
        }
        problems
    }

    /// The shared connection, made on first use; `None` for `local`.
    pub fn connect(&self) -> Result<Option<ConnectionManager>, String> {
        if self.store == RateStore::Local {
            return Ok(None);
        }
        crate::ledger::lazy_connection(self.url.expose(), self.timeout)
            .map(Some)
            .map_err(|e| format!("rate_limit.url: {e}"))
    }
}

/// One route's schedule in Redis.
pub struct Fleet {
    connection: ConnectionManager,
    key: String,
    timeout: Duration,
    /// Of the rate, the share used (`1 - headroom`).
    used: f64,
}

impl Fleet {
    pub fn new(connection: ConnectionManager, key: String, settings: &RateLimitSettings) -> Fleet {
        Fleet {
            connection,
            key,
            timeout: settings.timeout,
            used: 1.0 - settings.headroom,
        }
    }

    /// Reserves a slot for `recipients` messages at `per_second`, waiting
    /// as the schedule says; an error when Redis did not answer in time.
    pub async fn acquire(&self, recipients: u32, per_second: f64) -> Result<(), redis::RedisError> {
        let per_second = per_second * self.used;
        let interval_us = (1_000_000.0 / per_second.max(0.001)).round() as u64;
        let take = interval_us.saturating_mul(u64::from(recipients.max(1)));
        let horizon_us = HORIZON.as_micros() as u64;
        let mut connection = self.connection.clone();
        let mut late_once = false;
        loop {
            let mut invocation = RESERVE.key(&self.key);
            invocation.arg(take).arg(horizon_us);
            let call = invocation.invoke_async::<i64>(&mut connection);
            let answer = tokio::time::timeout(self.timeout, call)
                .await
                .map_err(|_| {
                    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
                })??;
            let wait = Duration::from_micros(answer.unsigned_abs());
            let slot = tokio::time::Instant::now() + wait;
            // A timer, even of zero, waits for the next millisecond tick.
            if !wait.is_zero() {
                tokio::time::sleep_until(slot).await;
            }
            if answer >= 0 {
                if late_once || slot.elapsed() <= LATE {
                    return Ok(());
                }
                late_once = true;
            }
        }
    }
}
