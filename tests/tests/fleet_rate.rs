//! One send rate for a fleet, through the real Redis: workers share
//! `max_send_rate` whatever their number, and pace alone at their share
//! when Redis does not answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_tests::{free_port, unique};
use herald_worker::ratelimit::{Fleet, RateLimitSettings, RateStore, SendRateLimiter};
use herald_worker::settings::Secret;

/// A worker's limiter: `rate / workers` locally, the whole `rate` shared
/// through `redis_url` under `key`.
fn limiter(redis_url: &str, key: &str, rate: f64, workers: f64) -> Arc<SendRateLimiter> {
    let settings = RateLimitSettings {
        store: RateStore::Redis,
        url: Secret::new(redis_url),
        ..RateLimitSettings::default()
    };
    let connection = settings.connect().unwrap().expect("a Redis connection");
    let limiter = SendRateLimiter::new(rate / workers);
    limiter.share_through(Fleet::new(connection, key.into(), &settings), workers);
    Arc::new(limiter)
}

/// Sends acquired by `limiters`, each with `tasks` concurrent senders, for
/// `window`; and how many fell back to the local share.
async fn sends(
    limiters: &[Arc<SendRateLimiter>],
    tasks: usize,
    window: Duration,
) -> (usize, usize) {
    let sent = Arc::new(AtomicUsize::new(0));
    let fell_back = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + window;
    let mut joins = Vec::new();
    for limiter in limiters {
        for _ in 0..tasks {
            let (limiter, sent, fell_back) = (limiter.clone(), sent.clone(), fell_back.clone());
            joins.push(tokio::spawn(async move {
                loop {
                    let acquired = limiter.acquire(1).await;
                    if Instant::now() >= deadline {
                        return;
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                    if acquired.fell_back {
                        fell_back.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
    }
    for join in joins {
        join.await.unwrap();
    }
    (
        sent.load(Ordering::SeqCst),
        fell_back.load(Ordering::SeqCst),
    )
}

const REDIS: &str = "redis://127.0.0.1:6379/0";

#[tokio::test]
async fn three_workers_share_one_rate_and_one_alone_uses_all_of_it() {
    let key = format!("{}:rate", unique("fleet"));
    let rate = 50.0;
    let fleet: Vec<_> = (0..3).map(|_| limiter(REDIS, &key, rate, 3.0)).collect();
    // Warm up the connections, then count over two seconds.
    sends(&fleet, 1, Duration::from_millis(100)).await;
    let (together, fell_back) = sends(&fleet, 8, Duration::from_secs(2)).await;
    assert_eq!(fell_back, 0);
    // 50/s less the 2 % headroom: 98 in 2 s, give or take one.
    assert!(
        (94..=100).contains(&together),
        "3 workers at one 50/s rate sent {together} in 2 s"
    );
    // Two leave: the one left is not held to its third.
    let (alone, _) = sends(&fleet[..1], 8, Duration::from_secs(2)).await;
    assert!(
        (94..=100).contains(&alone),
        "one worker alone sent {alone} in 2 s, not a third of the rate"
    );
}

#[tokio::test]
async fn without_redis_each_worker_paces_alone_at_its_share() {
    let unreachable = format!("redis://127.0.0.1:{}/0", free_port());
    let lonely = limiter(&unreachable, "unused", 40.0, 2.0);
    let (sent, fell_back) = sends(&[lonely], 4, Duration::from_secs(2)).await;
    assert_eq!(fell_back, sent, "every send fell back");
    assert!(
        (36..=42).contains(&sent),
        "the share of one of 2 workers at 40/s is 20/s: {sent} in 2 s"
    );
}
