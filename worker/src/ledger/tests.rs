//! The same rules checked on both stores: the embedded one in a temporary
//! file, the Redis one on 127.0.0.1:6379 under a key prefix of its own.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::settings::Secret;

const LEASE: Duration = Duration::from_secs(30);

fn acceptance(provider_id: &str) -> Acceptance {
    Acceptance {
        provider_message_id: provider_id.into(),
        accepted_at: "2026-11-30T12:00:01Z".into(),
        attempts: 2,
        event: serde_json::value::to_raw_value(
            &json!({"type": "message.sent", "provider_message_id": provider_id}),
        )
        .unwrap(),
    }
}

/// Settings of an embedded ledger in the file at `path`.
fn file_at(path: PathBuf) -> IdempotencySettings {
    IdempotencySettings {
        path,
        ..IdempotencySettings::default()
    }
}

struct TestStore {
    ledger: Ledger,
    /// Keeps the embedded file until the test ends.
    _dir: Option<tempfile::TempDir>,
    /// The Redis prefix to clean up.
    prefix: Option<String>,
}

impl TestStore {
    async fn embedded(ttl: Duration) -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let settings = IdempotencySettings {
            ttl,
            ..file_at(dir.path().join("ledger.redb"))
        };
        TestStore {
            ledger: Ledger::open(&settings).await.unwrap(),
            _dir: Some(dir),
            prefix: None,
        }
    }

    async fn redis(ttl: Duration) -> TestStore {
        let prefix = format!("test-ledger-{}:", uuid::Uuid::new_v4().simple());
        let settings = IdempotencySettings {
            store: StoreKind::Redis,
            url: Secret::new("redis://127.0.0.1:6379/0"),
            prefix: prefix.clone(),
            ttl,
            ..IdempotencySettings::default()
        };
        TestStore {
            ledger: Ledger::open(&settings).await.unwrap(),
            _dir: None,
            prefix: Some(prefix),
        }
    }

    /// The embedded store under the ledger of [`TestStore::embedded`].
    fn embedded_store(&self) -> &embedded::Embedded {
        match &self.ledger.backend {
            Backend::Embedded(store) => store,
            _ => unreachable!("not an embedded store"),
        }
    }

    /// Deletes the Redis keys this test made.
    async fn clean(self) {
        let Some(prefix) = self.prefix else { return };
        let client = ::redis::Client::open("redis://127.0.0.1:6379/0").unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut c)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = ::redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut c)
                .await
                .unwrap();
        }
    }
}

/// Runs `test` on a fresh embedded store, then on a fresh Redis one, each
/// keeping records for `ttl`, and cleans each up after it. The store is
/// named on stderr, which a failing test shows.
async fn on_both_stores(ttl: Duration, test: impl AsyncFn(&Ledger)) {
    for store in [TestStore::embedded(ttl).await, TestStore::redis(ttl).await] {
        eprintln!("on the {:?} store", store.ledger.kind());
        test(&store.ledger).await;
        store.clean().await;
    }
}

/// Calls `call` with a clone of `l` and each of `0..n`, every call on a task
/// of its own, all at once; returns their answers in that order.
async fn concurrently<T, F>(l: &Ledger, n: usize, call: impl Fn(Ledger, usize) -> F) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(l.clone(), i))).collect();
    let mut answers = Vec::with_capacity(n);
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn token(claim: Claim) -> ClaimToken {
    match claim {
        Claim::Acquired(token) => token,
        other => panic!("expected Acquired, got {other:?}"),
    }
}

#[tokio::test]
async fn a_recorded_acceptance_answers_every_later_claim() {
    on_both_stores(Duration::from_secs(60), async |l| {
        token(l.claim("m1", LEASE).await.unwrap());
        match l.claim("m1", LEASE).await.unwrap() {
            Claim::Held { retry_after } => assert!(retry_after <= LEASE, "{retry_after:?}"),
            other => panic!("expected Held, got {other:?}"),
        }
        l.record("m1", acceptance("0100-a")).await.unwrap();
        assert_eq!(
            l.claim("m1", LEASE).await.unwrap(),
            Claim::Accepted(acceptance("0100-a"))
        );
    })
    .await;
}

#[tokio::test]
async fn only_the_owner_releases_and_a_released_id_is_claimed_afresh() {
    on_both_stores(Duration::from_secs(60), async |l| {
        let owner = token(l.claim("m2", LEASE).await.unwrap());
        l.release("m2", &ClaimToken::new()).await.unwrap();
        assert!(
            matches!(l.claim("m2", LEASE).await.unwrap(), Claim::Held { .. }),
            "a stranger's token released the claim"
        );
        l.release("m2", &owner).await.unwrap();
        token(l.claim("m2", LEASE).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_claim_past_its_lease_is_taken_over_in_doubt() {
    on_both_stores(Duration::from_secs(60), async |l| {
        token(l.claim("m3", Duration::from_millis(200)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let taken = match l.claim("m3", LEASE).await.unwrap() {
            Claim::InDoubt(token) => token,
            other => panic!("expected InDoubt, got {other:?}"),
        };
        assert!(matches!(
            l.claim("m3", LEASE).await.unwrap(),
            Claim::Held { .. }
        ));
        l.release("m3", &taken).await.unwrap();
        token(l.claim("m3", LEASE).await.unwrap());
        let kinds: Vec<ClaimKind> = l
            .story("m3")
            .await
            .unwrap()
            .unwrap()
            .claims
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                ClaimKind::Claimed,
                ClaimKind::InDoubt,
                ClaimKind::Released,
                ClaimKind::Claimed
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn records_are_forgotten_after_their_ttl() {
    on_both_stores(Duration::from_millis(800), async |l| {
        token(l.claim("m4", LEASE).await.unwrap());
        l.record("m4", acceptance("0100-b")).await.unwrap();
        assert!(l.story("m4").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(l.story("m4").await.unwrap(), None);
        token(l.claim("m4", LEASE).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_story_holds_claims_acceptance_and_feedback_events() {
    on_both_stores(Duration::from_secs(60), async |l| {
        assert_eq!(l.story("m5").await.unwrap(), None);
        token(l.claim("m5", LEASE).await.unwrap());
        l.record("m5", acceptance("0100-c")).await.unwrap();
        let delivered = json!({"type": "message.delivered", "at": "2026-11-30T12:00:05Z"});
        let bounced = json!({"type": "message.bounced", "at": "2026-11-30T12:00:09Z",
                             "event_data": {"bounceType": "Permanent"}});
        l.append_event("m5", &delivered).await.unwrap();
        l.append_event("m5", &bounced).await.unwrap();
        let story = l.story("m5").await.unwrap().unwrap();
        assert_eq!(story.id, "m5");
        assert_eq!(story.claims.len(), 1);
        assert_eq!(story.acceptance, Some(acceptance("0100-c")));
        assert_eq!(story.events, [delivered, bounced]);
    })
    .await;
}

#[tokio::test]
async fn concurrent_claims_of_one_id_acquire_it_exactly_once() {
    on_both_stores(Duration::from_secs(60), async |l| {
        let claims = concurrently(
            l,
            256,
            |l, _| async move { l.claim("m6", LEASE).await.unwrap() },
        );
        let mut acquired = 0;
        for claim in claims.await {
            match claim {
                Claim::Acquired(_) => acquired += 1,
                Claim::Held { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(acquired, 1);
    })
    .await;
}

#[tokio::test]
async fn suppressions_are_per_environment_and_ignore_case() {
    on_both_stores(Duration::from_secs(60), async |l| {
        l.suppress("prod", " Ada@Example.com", "bounce")
            .await
            .unwrap();
        assert!(ada_suppressed(l, "prod").await);
        assert!(!ada_suppressed(l, "staging").await);
        let list = l.suppressed("prod").await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].address.as_str(), list[0].reason.as_str()),
            ("ada@example.com", "bounce")
        );
        assert!(
            l.suppressed("pro").await.unwrap().is_empty(),
            "a prefix of the name"
        );
        assert!(l.unsuppress("prod", "ADA@example.com").await.unwrap());
        assert!(!l.unsuppress("prod", "ada@example.com").await.unwrap());
        assert!(!ada_suppressed(l, "prod").await);
    })
    .await;
}

#[tokio::test]
async fn a_long_suppression_list_is_read_whole() {
    on_both_stores(Duration::from_secs(60), async |l| {
        let writes = concurrently(l, 1200, |l, i| async move {
            l.suppress("prod", &format!("u{i:04}@example.com"), "complaint")
                .await
        });
        for written in writes.await {
            written.unwrap();
        }
        let list = l.suppressed("prod").await.unwrap();
        assert_eq!(list.len(), 1200);
        assert_eq!(list[0].address, "u0000@example.com");
        assert_eq!(list[1199].address, "u1199@example.com");
    })
    .await;
}

#[tokio::test]
async fn the_off_store_lets_every_claim_through_and_remembers_nothing() {
    let l = Ledger::off();
    token(l.claim("m7", LEASE).await.unwrap());
    l.record("m7", acceptance("0100-d")).await.unwrap();
    token(l.claim("m7", LEASE).await.unwrap());
    assert_eq!(l.story("m7").await.unwrap(), None);
    l.ping().await.unwrap();
}

#[tokio::test]
async fn an_embedded_ledger_keeps_its_records_when_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let settings = file_at(dir.path().join("ledger.redb"));
    let first = Ledger::open(&settings).await.unwrap();
    token(first.claim("m8", LEASE).await.unwrap());
    first.record("m8", acceptance("0100-e")).await.unwrap();
    first
        .suppress("prod", "ada@example.com", "bounce")
        .await
        .unwrap();
    drop(first);
    let again = Ledger::open(&settings).await.unwrap();
    assert_eq!(
        again.claim("m8", LEASE).await.unwrap(),
        Claim::Accepted(acceptance("0100-e"))
    );
    assert!(ada_suppressed(&again, "prod").await);
}

#[tokio::test]
async fn concurrent_writes_share_durable_commits() {
    let store = TestStore::embedded(Duration::from_secs(60)).await;
    let embedded = store.embedded_store();
    let before = embedded.commits();
    let claims = concurrently(&store.ledger, 256, |l, i| async move {
        l.claim(&format!("g{i}"), LEASE).await.unwrap()
    });
    for claim in claims.await {
        token(claim);
    }
    let commits = embedded.commits() - before;
    assert!(commits < 64, "256 claims took {commits} commits");
}

#[tokio::test]
async fn a_file_that_is_not_a_ledger_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.redb");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let settings = file_at(path.clone());
    let error = Ledger::open(&settings).await.unwrap_err();
    assert!(matches!(error, LedgerError::Open { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[tokio::test]
async fn an_unwritable_place_is_an_error_naming_it() {
    let path = PathBuf::from("/proc/herald-ledger.redb");
    let settings = file_at(path.clone());
    let error = Ledger::open(&settings).await.unwrap_err();
    assert!(
        error.to_string().contains("/proc/herald-ledger.redb"),
        "{error}"
    );
}

/// A server that accepts connections and never answers.
async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test]
async fn an_unreachable_redis_fails_every_call_quickly() {
    let (silent, server) = silent_server().await;
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for port in [silent, refused] {
        let settings = IdempotencySettings {
            store: StoreKind::Redis,
            url: Secret::new(format!("redis://:hunter2@127.0.0.1:{port}/0")),
            timeout: Duration::from_millis(300),
            ..IdempotencySettings::default()
        };
        let l = Ledger::open(&settings).await.unwrap();
        let started = Instant::now();
        let error = l.claim("m9", LEASE).await.unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        l.ping().await.unwrap_err();
        l.suppressed("prod").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "port {port}: {:?}",
            started.elapsed()
        );
    }
    server.abort();
}

#[tokio::test]
async fn a_damaged_ledger_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    let settings = file_at(path.clone());
    let ledger = Ledger::open(&settings).await.unwrap();
    for i in 0..200 {
        let id = format!("d{i}");
        token(ledger.claim(&id, LEASE).await.unwrap());
        ledger.record(&id, acceptance("0100-f")).await.unwrap();
    }
    drop(ledger);
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().skip(4096).step_by(7) {
        *b ^= 0xa5;
    }
    std::fs::write(&path, bytes).unwrap();
    match Ledger::open(&settings).await {
        Err(error) => assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        ),
        Ok(l) => {
            // redb may repair what it can; then reads must fail cleanly, not panic.
            let story = l.story("d1").await;
            panic!("a damaged file opened; a read gave {story:?}");
        }
    }
}

#[tokio::test]
async fn a_second_process_on_a_workers_file_is_refused_unless_both_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let alone = file_at(dir.path().join("ledger.redb"));
    let worker = Ledger::open(&alone).await.unwrap();
    let error = Ledger::open(&alone).await.unwrap_err();
    assert!(
        error.to_string().contains("another process has it open"),
        "{error}"
    );
    drop(worker);

    let shared = IdempotencySettings {
        multi_process: true,
        ..alone
    };
    let worker = Ledger::open(&shared).await.unwrap();
    let operator = Ledger::open(&shared).await.unwrap();
    operator
        .suppress("prod", "ada@example.com", "manual")
        .await
        .unwrap();
    assert!(ada_suppressed(&worker, "prod").await);
}

#[tokio::test]
async fn expired_entries_are_removed_from_the_file() {
    let store = TestStore::embedded(Duration::from_millis(300)).await;
    let embedded = store.embedded_store();
    for i in 0..50 {
        let id = format!("p{i}");
        token(store.ledger.claim(&id, LEASE).await.unwrap());
        store
            .ledger
            .record(&id, acceptance("0100-p"))
            .await
            .unwrap();
    }
    assert_eq!(embedded.stored_entries().await.unwrap(), 50);
    let deadline = Instant::now() + Duration::from_secs(5);
    while embedded.stored_entries().await.unwrap() > 0 {
        assert!(
            Instant::now() < deadline,
            "expired entries were never purged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether ada@example.com is on `environment`'s suppression list.
async fn ada_suppressed(l: &Ledger, environment: &str) -> bool {
    l.is_suppressed(environment, "ada@example.com")
        .await
        .unwrap()
}
