//! The send rate of one channel/environment (SES `MaxSendRate`): a GCRA
//! token bucket (governor) where every recipient of a message takes one
//! token. With `[rate_limit] store = "redis"` the bucket is the fleet's
//! ([`fleet`]), and the local one is the fallback when Redis does not
//! answer.

pub mod fleet;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

pub use fleet::{Fleet, RateLimitSettings, RateStore};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// How many messages may go out back to back. One paces requests evenly:
/// SES measures its rate over short windows, and a burst would be throttled.
const BURST: u32 = 1;

struct Bucket {
    limiter: DefaultDirectRateLimiter,
    per_second: f64,
}

impl Bucket {
    fn new(per_second: f64) -> Bucket {
        let per_second = per_second.max(0.001);
        let period = Duration::from_secs_f64(1.0 / per_second).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("the period is positive")
            .allow_burst(NonZeroU32::new(BURST).expect("burst is positive"));
        Bucket {
            limiter: RateLimiter::direct(quota),
            per_second,
        }
    }
}

/// A send-rate limiter whose rate can change while jobs wait on it (when
/// `max_send_rate = "auto"` reads a new quota from SES).
pub struct SendRateLimiter {
    /// This worker's share of the rate.
    bucket: RwLock<Arc<Bucket>>,
    /// The fleet's schedule, and the number of workers the local share
    /// divides the rate by.
    fleet: OnceLock<(Fleet, f64)>,
    /// When falling back to the local bucket was last logged.
    fell_back_warned: Mutex<Option<Instant>>,
    /// After Redis failed, it is asked again only from this time on: a
    /// Redis that is down costs one timeout every few seconds, not one per
    /// message.
    fleet_retry_at: Mutex<Option<Instant>>,
}

/// How long the worker paces alone after Redis failed, before asking again.
const FLEET_RETRY: Duration = Duration::from_secs(5);

/// What a wait for the rate limiter came to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Acquired {
    pub waited: Duration,
    /// Redis did not answer: this worker paced alone, at its share.
    pub fell_back: bool,
}

impl SendRateLimiter {
    pub fn new(per_second: f64) -> SendRateLimiter {
        SendRateLimiter {
            bucket: RwLock::new(Arc::new(Bucket::new(per_second))),
            fleet: OnceLock::new(),
            fell_back_warned: Mutex::new(None),
            fleet_retry_at: Mutex::new(None),
        }
    }

    /// Shares the rate with the fleet through `fleet`; this limiter's own
    /// rate, the share of one of `workers`, stays the fallback.
    pub fn share_through(&self, fleet: Fleet, workers: f64) {
        let _ = self.fleet.set((fleet, workers.max(1.0)));
    }

    /// Messages (recipients) per second now allowed.
    pub fn rate(&self) -> f64 {
        self.current().per_second
    }

    /// Changes the rate; a no-op when it is the same.
    pub fn set_rate(&self, per_second: f64) {
        if (self.rate() - per_second).abs() > f64::EPSILON {
            *self.bucket.write().expect("limiter lock") = Arc::new(Bucket::new(per_second));
        }
    }

    /// Waits until `recipients` may be sent: on the fleet's schedule when
    /// there is one and Redis answers, else on this worker's share.
    pub async fn acquire(&self, recipients: usize) -> Acquired {
        let started = Instant::now();
        let n = u32::try_from(recipients.max(1)).unwrap_or(u32::MAX);
        let on_schedule = match self.fleet.get() {
            None => false,
            Some(_) if self.resting() => false,
            Some((fleet, workers)) => match fleet.acquire(n, self.rate() * workers).await {
                Ok(()) => true,
                Err(e) => {
                    *self.lock_retry() = Some(Instant::now() + FLEET_RETRY);
                    if crate::clock::due(&self.fell_back_warned, Duration::from_secs(60)) {
                        tracing::warn!(error = %e, rate = self.rate(), "the fleet's send rate is unreachable in Redis: pacing this worker alone at its share");
                    }
                    false
                }
            },
        };
        if !on_schedule {
            self.acquire_local(n).await;
        }
        Acquired {
            waited: started.elapsed(),
            fell_back: !on_schedule && self.fleet.get().is_some(),
        }
    }

    /// Whether Redis failed less than [`FLEET_RETRY`] ago.
    fn resting(&self) -> bool {
        self.lock_retry().is_some_and(|at| Instant::now() < at)
    }

    fn lock_retry(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.fleet_retry_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn acquire_local(&self, recipients: u32) {
        let bucket = self.current();
        let mut left = recipients;
        while left > 0 {
            let take = left.min(BURST);
            let n = NonZeroU32::new(take).expect("take is positive");
            bucket
                .limiter
                .until_n_ready(n)
                .await
                .expect("never more than the burst at once");
            left -= take;
        }
    }

    fn current(&self) -> Arc<Bucket> {
        self.bucket.read().expect("limiter lock").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_paced_at_the_rate() {
        let limiter = SendRateLimiter::new(10.0);
        let bucket = limiter.current();
        let one = NonZeroU32::new(1).unwrap();
        assert!(bucket.limiter.check_n(one).unwrap().is_ok());
        let wait = bucket.limiter.check_n(one).unwrap().unwrap_err();
        let wait = wait.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
    }

    #[test]
    fn the_rate_can_change() {
        let limiter = SendRateLimiter::new(14.0);
        limiter.set_rate(100.0);
        assert_eq!(limiter.rate(), 100.0);
    }

    #[tokio::test]
    async fn several_recipients_take_several_tokens() {
        let limiter = SendRateLimiter::new(200.0);
        limiter.acquire(1).await;
        let waited = limiter.acquire(4).await.waited;
        assert!(
            waited >= Duration::from_millis(15),
            "4 recipients at 200/s: {waited:?}"
        );
    }
}
