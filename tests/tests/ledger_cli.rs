//! `herald messages show` and `herald suppression …` as an operator runs
//! them, while a worker has the same store open.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use herald_tests::{herald_bin, succeeded, unique};
use herald_worker::ledger::{Acceptance, Claim, Ledger, StoreSections};

const ENVIRONMENTS: &str = "
[channels.ses.environments.prod]
sandbox = true
outbox = \"outbox\"
from_address = \"dev@example.com\"
";

/// A configuration file in a temporary folder.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    /// `idempotency` is the `[idempotency]` section, given the folder.
    fn new(idempotency: impl FnOnce(&std::path::Path) -> String) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("herald.toml");
        let text = format!("[idempotency]\n{}\n{ENVIRONMENTS}", idempotency(dir.path()));
        std::fs::write(&config, text).unwrap();
        Setup { dir, config }
    }

    /// The embedded store as a worker holds it alone (the default).
    fn embedded() -> Setup {
        Setup::new(|dir| format!("path = \"{}\"", dir.join("ledger.redb").display()))
    }

    /// The embedded store, open to the commands while a worker runs.
    fn embedded_shared() -> Setup {
        Setup::new(|dir| {
            format!(
                "path = \"{}\"\nmulti_process = true",
                dir.join("ledger.redb").display()
            )
        })
    }

    fn redis(prefix: &str) -> Setup {
        Setup::new(|_| {
            format!("store = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"\nprefix = \"{prefix}\"")
        })
    }

    /// The ledger a running worker would have open.
    async fn worker_ledger(&self) -> Ledger {
        let sections = StoreSections::load(Some(&self.config)).unwrap();
        Ledger::open(&sections.idempotency).await.unwrap()
    }

    fn herald(&self, args: &[&str]) -> Output {
        Command::new(herald_bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// `herald suppression ACTION ARGS --environment prod`.
    fn suppression(&self, action: &str, args: &[&str]) -> Output {
        let command = [
            &["suppression", action][..],
            args,
            &["--environment", "prod"],
        ]
        .concat();
        self.herald(&command)
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `output` is a usage error (exit 2) whose message contains `needle`.
fn assert_usage_error(output: &Output, needle: &str) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains(needle), "{text}");
}

async fn suppression_round_trip(setup: &Setup) {
    let worker = setup.worker_ledger().await;
    succeeded(
        setup.suppression("add", &["Ada@Example.com", "--reason", "bounce"]),
        "suppression add",
    );
    assert!(
        worker
            .is_suppressed("prod", "ada@example.com")
            .await
            .unwrap(),
        "the running worker does not see the operator's suppression"
    );
    worker
        .suppress("prod", "bob@example.com", "complaint")
        .await
        .unwrap();

    let check = succeeded(
        setup.suppression("check", &["ada@example.com"]),
        "suppression check",
    );
    assert!(
        check.contains("ada@example.com is suppressed in prod"),
        "{check}"
    );
    let json = succeeded(
        setup.suppression("check", &["carol@example.com", "--json"]),
        "suppression check",
    );
    let answer: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(answer["suppressed"], false);

    let listed = succeeded(setup.suppression("list", &["--json"]), "suppression list");
    let entries: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2, "{listed}");
    assert_eq!(
        (&entries[0]["address"], &entries[0]["reason"]),
        (&"ada@example.com".into(), &"bounce".into())
    );
    assert_eq!(entries[1]["reason"], "complaint");
    let table = succeeded(setup.suppression("list", &[]), "suppression list");
    assert!(
        table.contains("2 address(es) suppressed in prod"),
        "{table}"
    );

    succeeded(
        setup.suppression("remove", &["ada@example.com"]),
        "suppression remove",
    );
    let again = setup.suppression("remove", &["ada@example.com"]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(!worker
        .is_suppressed("prod", "ada@example.com")
        .await
        .unwrap());
    worker.unsuppress("prod", "bob@example.com").await.unwrap();
}

#[tokio::test]
async fn suppressions_are_managed_from_the_command_line_while_a_worker_runs() {
    suppression_round_trip(&Setup::embedded_shared()).await;
    suppression_round_trip(&Setup::redis(&format!("{}:", unique("ledger-cli")))).await;
}

#[tokio::test]
async fn a_message_story_is_shown_in_time_order() {
    let setup = Setup::embedded_shared();
    let worker = setup.worker_ledger().await;
    let Claim::Acquired(_) = worker
        .claim("msg-1", Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("a fresh id is acquired")
    };
    let acceptance = Acceptance {
        provider_message_id: "0100018c-ses".into(),
        accepted_at: herald_worker::clock::now_rfc3339(),
        attempts: 2,
        event: serde_json::value::to_raw_value(&serde_json::json!({"type": "message.sent"}))
            .unwrap(),
    };
    worker.record("msg-1", acceptance).await.unwrap();
    let bounced = serde_json::json!({"type": "message.bounced", "at": "2099-01-01T00:00:00Z",
                                     "event_data": {"bounceType": "Permanent"}});
    worker.append_event("msg-1", &bounced).await.unwrap();

    let text = succeeded(
        setup.herald(&["messages", "show", "msg-1"]),
        "messages show",
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].ends_with("claimed"), "{text}");
    assert!(
        lines[2].contains("accepted by SES as 0100018c-ses after 2 attempt(s)"),
        "{text}"
    );
    assert!(
        lines[3].contains("message.bounced") && lines[3].contains("Permanent"),
        "{text}"
    );

    let json = succeeded(
        setup.herald(&["messages", "show", "msg-1", "--json"]),
        "messages show",
    );
    let story: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(story["acceptance"]["provider_message_id"], "0100018c-ses");
    let whats: Vec<&str> = story["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["claimed", "accepted", "message.bounced"]);

    let unknown = setup.herald(&["messages", "show", "msg-unknown"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("nothing is known of message \"msg-unknown\""),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test]
async fn store_problems_are_usage_errors_that_say_what_is_wrong() {
    let setup = Setup::embedded();
    let missing = setup.herald(&["messages", "show", "msg-1"]);
    assert_usage_error(&missing, "no ledger file at");

    let ledger = setup.dir.path().join("ledger.redb");
    std::fs::write(&ledger, vec![0x5a_u8; 32 * 1024]).unwrap();
    let corrupt = setup.herald(&["suppression", "list", "--environment", "prod"]);
    assert_usage_error(&corrupt, &ledger.display().to_string());

    let bad_address = setup.herald(&[
        "suppression",
        "add",
        "not-an-address",
        "--environment",
        "prod",
    ]);
    assert_eq!(
        bad_address.status.code(),
        Some(2),
        "{}",
        stderr(&bad_address)
    );

    let off = Setup::new(|_| "store = \"off\"".into());
    let off_list = off.herald(&["suppression", "list", "--environment", "prod"]);
    assert_usage_error(&off_list, "\"off\"");

    let alone = Setup::embedded();
    let worker = alone.worker_ledger().await;
    let busy = alone.herald(&["messages", "show", "msg-1"]);
    assert_usage_error(&busy, "multi_process = true");
    drop(worker);
    let free = alone.herald(&["messages", "show", "msg-1"]);
    assert_eq!(free.status.code(), Some(1), "{}", stderr(&free));

    let typo = Setup::new(|_| "store = \"embeded\"".into());
    let typo_list = typo.herald(&["suppression", "list", "--environment", "prod"]);
    assert_usage_error(&typo_list, "embeded");
}
