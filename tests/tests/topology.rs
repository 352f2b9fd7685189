//! The topology as data, as definitions and on the broker: the committed
//! `deploy/rabbitmq/definitions.json` is what `herald topology export`
//! prints, the export follows the configuration, and a changed delivery
//! limit fails with an error that says what to do.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use herald_tests::broker::TestBroker;
use herald_tests::{herald_bin, succeeded, unique};
use herald_worker::amqp::topology::{self, DeclareError};
use lapin::options::QueueDeleteOptions;

const TIERS: [Duration; 1] = [Duration::from_millis(300)];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// `herald topology export` with these arguments, run from the workspace.
fn export(args: &[&str]) -> String {
    let output = Command::new(herald_bin())
        .current_dir(workspace())
        .args(["topology", "export"])
        .args(args)
        .env_remove("HERALD_CONFIG")
        .output()
        .expect("herald runs");
    succeeded(output, "herald topology export")
}

#[test]
fn the_committed_definitions_are_what_topology_export_prints() {
    let printed = export(&["--config", "deploy/compose/herald.toml"]);
    let committed = std::fs::read_to_string(workspace().join("deploy/rabbitmq/definitions.json"))
        .expect("deploy/rabbitmq/definitions.json");
    assert!(
        printed == committed,
        "deploy/rabbitmq/definitions.json is stale; regenerate it with\n  \
         cargo run -p herald-worker -- topology export --config deploy/compose/herald.toml \
         > deploy/rabbitmq/definitions.json\n--- printed:\n{printed}"
    );
}

#[test]
fn the_export_follows_the_configuration_names_tiers_and_delivery_limit() {
    let example = std::fs::read_to_string(workspace().join("examples/herald.toml")).unwrap();
    let tiers_line = example
        .lines()
        .find(|l| l.starts_with("tiers"))
        .expect("examples/herald.toml sets tiers");
    let config = example
        .replace(tiers_line, "tiers = [\"30s\", \"2h\"]")
        .replace(
            "[amqp]\n",
            "[amqp]\njobs_queue = \"acme.jobs\"\ndelivery_limit = 7\n",
        );
    let dir = std::env::temp_dir().join(unique("topology-export"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("herald.toml");
    std::fs::write(&file, config).unwrap();

    let printed = export(&["--config", file.to_str().unwrap(), "--vhost", "acme"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let definitions: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let queues = definitions["queues"].as_array().unwrap();
    let names: Vec<&str> = queues.iter().map(|q| q["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "acme.jobs",
            "herald.dead",
            "herald.dead.events",
            "herald.retry.30s",
            "herald.retry.2h"
        ]
    );
    assert_eq!(queues[0]["arguments"]["x-delivery-limit"], 7);
    assert_eq!(queues[4]["arguments"]["x-message-ttl"], 7_200_000);
    assert_eq!(definitions["bindings"][0]["destination"], "acme.jobs");
    assert!(queues.iter().all(|q| q["vhost"] == "acme"));
    assert_eq!(
        definitions["vhosts"],
        serde_json::json!([{ "name": "acme" }])
    );
}

#[tokio::test]
async fn a_changed_delivery_limit_names_the_argument_and_the_commands_that_change_it() {
    let broker = TestBroker::new(&unique("topology-limit"), &TIERS).await;
    assert_eq!(broker.amqp.delivery_limit, 20);
    let mut changed = broker.amqp.clone();
    changed.delivery_limit = 30;

    let channel = broker.connection.create_channel().await.unwrap();
    let error = topology::declare(&channel, &changed, &TIERS)
        .await
        .expect_err("RabbitMQ refuses another x-delivery-limit on an existing queue");
    let message = error.to_string();
    match &error {
        DeclareError::Inequivalent {
            queue, argument, ..
        } => {
            assert_eq!(queue, &broker.amqp.jobs_queue);
            assert_eq!(argument, "x-delivery-limit");
        }
        other => panic!("expected Inequivalent, got {other:?}"),
    }
    for needle in [
        "x-delivery-limit",
        "received '30' but current is '20'",
        "delivery_limit = 30",
        "rabbitmqctl set_policy --apply-to queues",
        "\"delivery-limit\"",
        "rabbitmqctl delete_queue --if-empty",
    ] {
        assert!(
            message.contains(needle),
            "{needle:?} missing from: {message}"
        );
    }

    // The queue is untouched: the original settings still declare cleanly.
    let channel = broker.connection.create_channel().await.unwrap();
    topology::declare(&channel, &broker.amqp, &TIERS)
        .await
        .expect("the original limit still matches");
    broker.cleanup().await;
}

#[tokio::test]
async fn a_new_retry_delay_is_a_new_queue_and_never_conflicts() {
    let broker = TestBroker::new(&unique("topology-tiers"), &TIERS).await;
    let longer = [TIERS[0], Duration::from_millis(1500)];
    let channel = broker.connection.create_channel().await.unwrap();
    topology::declare(&channel, &broker.amqp, &longer)
        .await
        .expect("a new tier only adds a queue");
    let added = topology::retry_queue_name(&broker.amqp, "1s500ms");
    assert_eq!(broker.queue_len(&added).await, 0);
    channel
        .queue_delete(added.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    broker.cleanup().await;
}
