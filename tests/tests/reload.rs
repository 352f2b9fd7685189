//! Configuration reload by SIGHUP, on a real `herald run` under a steady
//! load: every job is sent whole with the old or the new configuration, none
//! is lost, and a broken file leaves the running configuration serving.

use std::time::Duration;

use herald_shared::EventType;
use herald_tests::broker::TestBroker;
use herald_tests::fake_ses::FakeSes;
use herald_tests::process::HeraldProcess;
use herald_tests::worker::{example_templates_dir, ledger_toml, ses_config};
use herald_tests::{free_port, job_json, sample, send_signal, unique};

const WAIT: Duration = Duration::from_secs(30);

fn config(broker: &TestBroker, ses: &FakeSes, listen: &str, ledger: &str, app: &str) -> String {
    format!(
        "{}\n[server]\nlisten = \"{listen}\"\n[templates]\ndir = \"{}\"\n{ledger}{}",
        broker.amqp_toml(32),
        example_templates_dir().display(),
        ses_config(&ses.url, "")
            .replace("app_name = \"Example\"", &format!("app_name = \"{app}\"")),
    )
}

/// The sender name and the subject of every email SES received.
fn names(ses: &FakeSes) -> Vec<(String, String)> {
    ses.requests()
        .iter()
        .map(|r| {
            let header = |name: &str| {
                r.raw
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            (header("From:"), header("Subject:"))
        })
        .collect()
}

/// How many emails were sent with the `old` and with the `new` (From,
/// Subject prefix); panics on an email that mixes them.
fn by_configuration(
    seen: &[(String, String)],
    old: (&str, &str),
    new: (&str, &str),
) -> (usize, usize) {
    let (mut olds, mut news) = (0, 0);
    for (from, subject) in seen {
        if from == old.0 && subject.starts_with(old.1) {
            olds += 1;
        } else if from == new.0 && subject.starts_with(new.1) {
            news += 1;
        } else {
            panic!("an email mixes configurations: From {from:?}, Subject {subject:?}");
        }
    }
    (olds, news)
}

/// Waits until the worker counts one refused reload, with the time of the
/// configuration in use still set.
async fn wait_for_one_failed_reload(worker: &HeraldProcess) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, metrics) = worker.get("/metrics").await.expect("/metrics");
        if sample(&metrics, "herald_config_reload_failures_total") == Some(1.0) {
            let loaded = sample(
                &metrics,
                "herald_config_last_reload_success_timestamp_seconds",
            );
            assert!(loaded.unwrap() > 1.7e9);
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the failed reload is counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sighup_swaps_the_configuration_under_load_and_a_broken_file_changes_nothing() {
    let ses = FakeSes::start().await;
    let broker = TestBroker::new(&unique("reload"), &[Duration::from_secs(1)]).await;
    let mut events = broker.events().await;
    let listen = format!("127.0.0.1:{}", free_port());
    let ledger = ledger_toml();
    let file = std::env::temp_dir().join(format!("{}.toml", unique("reload")));
    std::fs::write(&file, config(&broker, &ses, &listen, &ledger, "Example")).unwrap();
    let worker = HeraldProcess::start_with(&file, &listen);
    assert!(worker.wait_ready(WAIT).await, "{}", worker.stderr());

    // 200 jobs over about two seconds; the configuration changes halfway.
    let total = 200;
    let publisher = {
        let broker_jobs: Vec<_> = (0..total)
            .map(|n| job_json(&unique("m"), "prod", &format!("user{n}@example.com")))
            .collect();
        let broker = &broker;
        async move {
            for job in broker_jobs {
                broker.publish_json(&job).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let reload = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        std::fs::write(&file, config(&broker, &ses, &listen, &ledger, "Renamed")).unwrap();
        assert!(send_signal(worker.pid(), "HUP"));
    };
    tokio::join!(publisher, reload);
    let ended = events.terminal(total, WAIT).await;
    assert_eq!(ended.len(), total, "every job ends");
    assert!(ended.iter().all(|e| e.kind == EventType::Sent));

    let seen = names(&ses);
    assert_eq!(seen.len(), total, "one SES request per job");
    let old = ("\"Example\" <notify@example.com>", "Welcome to Example,");
    let new = ("\"Renamed\" <notify@example.com>", "Welcome to Renamed,");
    let (olds, news) = by_configuration(&seen, old, new);
    assert!(olds > 0 && news > 0, "old {olds}, new {news}");

    // A broken file: refused, counted, and the running configuration serves.
    std::fs::write(&file, "[amqp\nthis is not TOML").unwrap();
    assert!(send_signal(worker.pid(), "HUP"));
    wait_for_one_failed_reload(&worker).await;
    let id = broker.send_to("late@example.com").await;
    let last = events.terminal(1, WAIT).await;
    assert_eq!(
        last.first().map(|e| (&e.message_id, e.kind)),
        Some((&id, EventType::Sent))
    );
    assert_eq!(
        names(&ses).last().unwrap().0,
        new.0,
        "still the reloaded configuration"
    );
    assert!(worker.stderr().contains("configuration not reloaded"));
    drop(worker);
    broker.cleanup().await;
}
