//! The send ledger as workers use it: the embedded file survives `kill -9`
//! of the process writing it, and workers sharing Redis never both acquire
//! one id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use herald_tests::{send_signal, unique};
use herald_worker::ledger::{Claim, IdempotencySettings, Ledger, StoreKind};
use herald_worker::settings::Secret;

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn records_written_before_a_kill_9_are_there_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.redb");
    let mut writer = Command::new(env!("CARGO_BIN_EXE_ledger_writer"))
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let durable: Vec<String> = lines.take(2000).map(Result::unwrap).collect();
    assert!(send_signal(writer.id(), "KILL"));
    writer.wait().unwrap();
    assert_eq!(durable.len(), 2000, "the writer stopped early");

    let settings = IdempotencySettings {
        path,
        ..IdempotencySettings::default()
    };
    let ledger = Ledger::open(&settings).await.unwrap();
    for id in &durable {
        match ledger.claim(id, LEASE).await.unwrap() {
            Claim::Accepted(a) => assert_eq!(a.provider_message_id, format!("ses-{id}")),
            other => panic!("{id} was recorded before the kill, now {other:?}"),
        }
    }
}

fn redis_settings(prefix: &str) -> IdempotencySettings {
    IdempotencySettings {
        store: StoreKind::Redis,
        url: Secret::new("redis://127.0.0.1:6379/0"),
        prefix: prefix.to_owned(),
        ttl: Duration::from_secs(60),
        ..IdempotencySettings::default()
    }
}

#[tokio::test]
async fn workers_sharing_redis_acquire_each_id_once() {
    let prefix = format!("{}:", unique("ledger-fleet"));
    let workers = [
        Ledger::open(&redis_settings(&prefix)).await.unwrap(),
        Ledger::open(&redis_settings(&prefix)).await.unwrap(),
    ];
    let ids: Vec<String> = (0..50).map(|i| format!("fleet-{i}")).collect();
    let mut claims = Vec::new();
    for round in 0..4 {
        for (w, ledger) in workers.iter().enumerate() {
            for id in &ids {
                let (ledger, id) = (ledger.clone(), id.clone());
                claims.push(tokio::spawn(async move {
                    let claim = ledger.claim(&id, LEASE).await.unwrap();
                    (id, w, round, claim)
                }));
            }
        }
    }
    let mut acquired = std::collections::HashMap::<String, usize>::new();
    for claim in claims {
        let (id, _, _, claim) = claim.await.unwrap();
        match claim {
            Claim::Acquired(_) => *acquired.entry(id).or_default() += 1,
            Claim::Held { .. } => {}
            other => panic!("{id}: {other:?}"),
        }
    }
    assert_eq!(acquired.len(), ids.len());
    assert!(acquired.values().all(|&n| n == 1), "{acquired:?}");
}
