//! `herald dlq` as an operator runs it, including Ctrl-C in the middle of a
//! large replay.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use herald_tests::broker::TestBroker;
use herald_tests::{herald_bin, job_json, signal_and_wait, succeeded, unique};
use lapin::types::{AMQPValue, FieldTable, LongString};

const TIERS: [Duration; 1] = [Duration::from_secs(1)];

fn letters(prefix: &str, n: usize) -> Vec<(Vec<u8>, FieldTable)> {
    (0..n)
        .map(|i| {
            let mut headers = FieldTable::default();
            headers.insert(
                "x-herald-failure-reason".into(),
                AMQPValue::LongString(LongString::from("fatal_error")),
            );
            headers.insert(
                "x-herald-error".into(),
                AMQPValue::LongString(LongString::from("render_error")),
            );
            headers.insert("x-herald-attempts".into(), AMQPValue::LongInt(0));
            let body = serde_json::to_vec(&job_json(
                &format!("{prefix}-{i:05}"),
                "prod",
                "a@example.com",
            ))
            .unwrap();
            (body, headers)
        })
        .collect()
}

/// A namespace whose dead-letter queue holds `letters`, and a configuration
/// file that points `herald` at it.
struct DeadLetterQueue {
    broker: TestBroker,
    config: std::path::PathBuf,
}

impl DeadLetterQueue {
    async fn holding(label: &str, letters: &[(Vec<u8>, FieldTable)]) -> DeadLetterQueue {
        let ns = unique(label);
        let broker = TestBroker::new(&ns, &TIERS).await;
        broker.publish_dead_letters(letters).await;
        let config = std::env::temp_dir().join(format!("{ns}.toml"));
        std::fs::write(&config, broker.amqp_toml(8)).unwrap();
        DeadLetterQueue { broker, config }
    }

    /// `herald --config FILE <args>`, not yet started.
    fn herald(&self, args: &[&str]) -> Command {
        let mut command = Command::new(herald_bin());
        command.arg("--config").arg(&self.config).args(args);
        command
    }

    /// `herald --config FILE <args>` run to its end.
    fn run(&self, args: &[&str]) -> std::process::Output {
        self.herald(args).output().unwrap()
    }

    /// The standard output of `herald --config FILE <args>`, which must
    /// succeed.
    fn stdout(&self, args: &[&str]) -> String {
        succeeded(self.run(args), &format!("{args:?}"))
    }

    async fn dead_letters(&self) -> u32 {
        self.broker.queue_len(&self.broker.amqp.dead_queue).await
    }

    async fn cleanup(self) {
        let _ = std::fs::remove_file(&self.config);
        self.broker.cleanup().await;
    }
}

#[tokio::test]
async fn list_and_replay_from_the_command_line() {
    let dlq = DeadLetterQueue::holding("dlq-cli", &letters("cli", 3)).await;

    let table = dlq.stdout(&["dlq", "list"]);
    assert!(
        table.contains("cli-00000")
            && table.contains("fatal_error")
            && table.contains("render_error"),
        "{table}"
    );
    assert!(table.contains("3 of 3 dead letter(s) shown"), "{table}");

    let json = dlq.run(&["dlq", "list", "--json", "--limit", "2"]);
    let lines: Vec<serde_json::Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "cli-00000");
    assert_eq!(lines[0]["reason"], "fatal_error");

    let replayed = dlq.stdout(&["dlq", "replay", "--id", "cli-00001"]);
    assert!(replayed.contains("replayed 1 of 3"), "{replayed}");
    let broker = &dlq.broker;
    assert_eq!(broker.queue_len(&broker.amqp.jobs_queue).await, 1);
    assert_eq!(dlq.dead_letters().await, 2);

    let refused = dlq.run(&["dlq", "purge"]);
    assert_eq!(refused.status.code(), Some(2), "no terminal, no --yes");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert_eq!(dlq.dead_letters().await, 2, "nothing purged");

    let purged = dlq.stdout(&["dlq", "purge", "--yes"]);
    assert!(purged.contains("purged 2 of 2"), "{purged}");
    assert_eq!(dlq.dead_letters().await, 0);
    dlq.cleanup().await;
}

#[tokio::test]
async fn an_interrupted_replay_loses_and_duplicates_nothing() {
    const N: usize = 4000;
    let dlq = DeadLetterQueue::holding("dlq-interrupt", &letters("int", N)).await;

    let mut child = dlq
        .herald(&["dlq", "replay"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let first_progress = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let line = lines.next().and_then(Result::ok);
        let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
        (line, rest)
    })
    .await
    .unwrap();
    let (first_progress, rest) = first_progress;
    assert!(
        first_progress
            .unwrap_or_default()
            .contains("letters scanned"),
        "progress is reported"
    );
    let output = signal_and_wait(child, "INT").await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "an interrupted replay is not a success"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("replayed"));
    let stderr = rest.join().unwrap().join("\n");
    assert!(
        stderr.contains(&format!("of {N} dead letter(s)")),
        "says how far it got: {stderr}"
    );

    let broker = &dlq.broker;
    let moved = broker.take_all(&broker.amqp.jobs_queue.clone()).await;
    let left = broker.take_dead_letters().await;
    assert!(
        !moved.is_empty() && !left.is_empty(),
        "interrupted midway: moved {}, left {}",
        moved.len(),
        left.len()
    );
    assert_eq!(moved.len() + left.len(), N, "nothing lost, nothing doubled");
    let ids: HashSet<Vec<u8>> = moved.iter().chain(&left).map(|l| l.body.clone()).collect();
    assert_eq!(ids.len(), N, "every letter exactly once");
    dlq.cleanup().await;
}

#[tokio::test]
async fn the_commands_reach_a_letter_behind_five_thousand_others() {
    const N: usize = 5000;
    let mut all = letters("big", N);
    all.extend(letters("tail_marker", 1));
    let dlq = DeadLetterQueue::holding("dlq-cli-large", &all).await;

    let listed = dlq.stdout(&["dlq", "list", "--json", "--limit", "6000"]);
    assert_eq!(listed.lines().count(), N + 1, "every letter is listed");
    let found = dlq.stdout(&["dlq", "list", "--id", "tail_marker-00000"]);
    assert!(
        found.contains("1 matching of 5001 dead letter(s) shown (5001 scanned)"),
        "{found}"
    );
    let dry = dlq.stdout(&["dlq", "replay", "--id", "tail_marker-00000", "--dry-run"]);
    assert!(dry.contains("would replay 1 of 5001"), "{dry}");
    let purged = dlq.stdout(&["dlq", "purge", "--id", "tail_marker-00000"]);
    assert!(purged.contains("purged 1 of 5001"), "{purged}");
    assert_eq!(dlq.dead_letters().await, N as u32);
    dlq.cleanup().await;
}
