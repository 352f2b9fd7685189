//! Writes claims and records into an embedded ledger as fast as it can and
//! prints each id once its record is durable, until it is killed. The
//! `ledger_store` suite kills it with SIGKILL and checks every printed id.
//!
//! `ledger_writer PATH`

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use herald_worker::ledger::{Acceptance, Claim, IdempotencySettings, Ledger};

/// Writers at once, so records share commits as under a worker's load.
const WRITERS: u64 = 64;

#[tokio::main]
async fn main() {
    let path = std::env::args().nth(1).expect("usage: ledger_writer PATH");
    let settings = IdempotencySettings {
        path: path.into(),
        ..IdempotencySettings::default()
    };
    let ledger = Ledger::open(&settings).await.expect("the ledger opens");
    let next = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| tokio::spawn(write_forever(ledger.clone(), next.clone())))
        .collect();
    for writer in writers {
        writer.await.expect("a writer ends only with an error");
    }
}

async fn write_forever(ledger: Ledger, next: Arc<AtomicU64>) {
    loop {
        let id = format!("w-{:07}", next.fetch_add(1, Ordering::Relaxed));
        let claim = ledger.claim(&id, Duration::from_secs(60)).await;
        assert!(matches!(claim, Ok(Claim::Acquired(_))), "{id}: {claim:?}");
        let acceptance = Acceptance {
            provider_message_id: format!("ses-{id}"),
            accepted_at: "2026-11-30T12:00:00Z".into(),
            attempts: 1,
            event: serde_json::value::to_raw_value(
                &serde_json::json!({"type": "message.sent", "message_id": id}),
            )
            .unwrap(),
        };
        ledger
            .record(&id, acceptance)
            .await
            .expect("a durable record");
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{id}").and_then(|()| out.flush()).is_err() {
            std::process::exit(0); // the reader is gone
        }
    }
}
