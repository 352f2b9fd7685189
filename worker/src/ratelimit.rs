//! The send rate of one channel/environment (SES `MaxSendRate`): a token
//! bucket (governor) where every recipient of a message takes one token.

use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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
    bucket: RwLock<Arc<Bucket>>,
}

impl SendRateLimiter {
    pub fn new(per_second: f64) -> SendRateLimiter {
        SendRateLimiter {
            bucket: RwLock::new(Arc::new(Bucket::new(per_second))),
        }
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

    /// Waits until `recipients` may be sent; returns how long it waited.
    pub async fn acquire(&self, recipients: usize) -> Duration {
        let started = Instant::now();
        let bucket = self.current();
        let mut left = u32::try_from(recipients.max(1)).unwrap_or(u32::MAX);
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
        started.elapsed()
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
        let waited = limiter.acquire(4).await;
        assert!(
            waited >= Duration::from_millis(15),
            "4 recipients at 200/s: {waited:?}"
        );
    }
}
