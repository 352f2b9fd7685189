//! The README's runnable blocks, run as written: the Python producer and the
//! moto walk-through. Each runs in a RabbitMQ vhost of its own, and the
//! walk-through on free ports, so nothing is shared with other suites.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use herald_shared::{Event, EventType};
use herald_tests::{free_port, herald_bin, send_signal, succeeded, unique};
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

fn unique_temp(label: &str) -> PathBuf {
    std::env::temp_dir().join(unique(&format!("readme-{label}")))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fenced block that follows the marker comment naming `readme.rs`,
/// in the section titled `heading`.
fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("\n### ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README has no section {heading:?}"));
    let marked = section
        .split_once("<!-- tests/tests/readme.rs runs this block")
        .unwrap_or_else(|| panic!("section {heading:?} has no test marker"))
        .1;
    let fence = marked.split_once("```").unwrap().1;
    let body = fence.split_once('\n').unwrap().1;
    body.split_once("\n```").unwrap().0.to_owned()
}

/// A vhost of its own, deleted on drop; its AMQP URL.
struct Vhost(String);

impl Vhost {
    fn new() -> Vhost {
        let name = unique("herald-readme");
        rabbitmqctl(&["add_vhost", &name]);
        rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]);
        Vhost(name)
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:5672/{}", self.0)
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        rabbitmqctl(&["delete_vhost", &self.0]);
    }
}

fn rabbitmqctl(args: &[&str]) {
    let status = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("rabbitmqctl must be installed beside the broker");
    assert!(status.success(), "rabbitmqctl {args:?} failed");
}

/// `herald run` from the repository with the example configuration.
fn start_worker(amqp_url: &str, listen: &str) -> std::process::Child {
    Command::new(herald_bin())
        .arg("run")
        .current_dir(repo())
        .env_remove("HERALD_CONFIG")
        .env("AMQP_URL", amqp_url)
        .env("HERALD_LISTEN", listen)
        .env(
            "HERALD__IDEMPOTENCY__PATH",
            herald_tests::worker::test_ledger_path(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(listen: &str) {
    for _ in 0..300 {
        let answer = reqwest::get(format!("http://{listen}/readyz")).await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the worker did not become ready");
}

#[tokio::test]
async fn the_python_producer_snippet_gets_its_job_processed_with_the_example_config() {
    let snippet = readme_block("A producer in Python");
    let vhost = Vhost::new();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut worker = start_worker(&vhost.url(), &listen);
    wait_ready(&listen).await;
    let connection = Connection::connect(&vhost.url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let events = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions::exclusive(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            events.name().clone(),
            "herald.events".into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut consumer = channel
        .basic_consume(
            events.name().clone(),
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();

    let run = Command::new("python3")
        .args(["-c", &snippet])
        .env("AMQP_URL", vhost.url())
        .output()
        .expect("python3 runs");
    succeeded(run, "the snippet (scripts/test installs pika)");
    let delivery = tokio::time::timeout(Duration::from_secs(30), consumer.next())
        .await
        .expect("an event within 30 s")
        .unwrap()
        .unwrap();
    let event: Event = serde_json::from_slice(&delivery.data).unwrap();
    assert!(send_signal(worker.id(), "TERM"));
    let _ = worker.wait();
    let _ = connection.close(200, "".into()).await;
    assert_eq!(event.message_id, "msg_01JD7YQ5N4");
    assert_eq!(
        (event.kind, event.event_data["reason"].as_str()),
        (EventType::NotSent, Some("sandbox")),
        "rendered and sandboxed, not dead-lettered: {event:?}"
    );
}

#[tokio::test]
async fn the_moto_walk_through_sends_the_email_to_moto() {
    let block = readme_block("Send a job by hand, through an SES emulator");
    assert!(
        block.contains("-p 5000"),
        "the walk-through uses moto's port 5000"
    );
    let vhost = Vhost::new();
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    // `cargo run` cannot run inside `cargo test` (the build lock is held),
    // so it runs this build's binary; moto gets a free port instead of 5000.
    let script = format!(
        "cargo() {{ shift 4; \"$HERALD_BIN\" \"$@\"; }}\n{}",
        block.replace("5000", &port)
    );
    let mut shell = Command::new("bash");
    shell
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(repo())
        .env("HERALD_BIN", herald_bin())
        .env_remove("HERALD_CONFIG")
        .env("AMQP_URL", vhost.url())
        .env("HERALD_LISTEN", &listen)
        .env(
            "HERALD__IDEMPOTENCY__PATH",
            herald_tests::worker::test_ledger_path(),
        )
        .env("SES_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    // Files, not pipes: the processes the block leaves in the background
    // would hold pipes open.
    let (out_file, err_file) = (unique_temp("stdout"), unique_temp("stderr"));
    shell
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap());
    std::os::unix::process::CommandExt::process_group(&mut shell, 0);
    let mut child = shell.spawn().unwrap();
    let group = child.id();
    let status = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await;
    // The block leaves moto and the worker running in the background: stop
    // what it started, and only that.
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{group}")])
        .status();
    let stdout = std::fs::read_to_string(&out_file).unwrap();
    let stderr = std::fs::read_to_string(&err_file).unwrap();
    let _ = (
        std::fs::remove_file(out_file),
        std::fs::remove_file(err_file),
    );
    let status = status.expect("the walk-through ends within 120 s");
    assert!(
        status.unwrap().unwrap().success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("enqueued msg_local_1") && stdout.contains("raw_data"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Welcome to Example, Ada Lovelace!"),
        "moto holds the email: {stdout}"
    );
}

/// Every ```toml block of the README, in order.
fn toml_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    readme
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split_once("```").unwrap().0.to_owned())
        .collect()
}

#[test]
fn every_toml_block_names_only_settings_that_exist() {
    let blocks = toml_blocks();
    assert!(blocks.len() >= 5, "the README's configuration blocks");
    for block in blocks {
        // Blocks show a few keys of a section, so fields they leave out are
        // fine; a key or a value Herald does not know is not.
        // Every ${VARIABLE} is set, to a placeholder.
        let placeholder = |_: &str| Some("placeholder".to_owned());
        let problems =
            match herald_worker::settings::Settings::from_toml("README", &block, &placeholder) {
                Ok(_) => continue,
                Err(e) => e.problems,
            };
        let wrong: Vec<&String> = problems
            .iter()
            .filter(|p| {
                !p.contains("missing field")
                    && !p.contains("must not be empty")
                    && !p.contains("required")
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "README block:\n{block}\nproblems: {wrong:#?}"
        );
    }
}
