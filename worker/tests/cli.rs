//! The `herald` binary as a user runs it: exit codes, `check`, `render` and
//! `demo` (the demo needs RabbitMQ on 127.0.0.1:5672, as every suite does).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn herald(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .current_dir(dir)
        .env_remove("HERALD_CONFIG")
        .output()
        .expect("the herald binary runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("herald-cli-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_the_example_configuration() {
    let out = herald(&repo(), &["check", "--config", "examples/herald.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ok: 1 channel(s), 3 environment(s), 2 workflow template set(s)"),
        "{stdout}"
    );
}

#[test]
fn check_reports_every_problem_with_its_location_and_exits_2() {
    let dir = scratch("check");
    std::fs::create_dir_all(dir.join("tpl/broken")).unwrap();
    std::fs::write(dir.join("tpl/broken/subject.liquid"), "Hi {% if %}").unwrap();
    std::fs::write(
        dir.join("bad.toml"),
        r#"
[templates]
dir = "tpl"
[channels.ses.environments.prod]
from_address = "{{ vars.domain"
auth = { scheme = "access_key", access_key_id = "AKID", secret_access_key = "do-not-print-me" }
[channels.ses.environments.dev]
sandbox = true
from_address = "a@b.c"
max_send_rate = -1
"#,
    )
    .unwrap();
    let out = herald(&dir, &["check", "--config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    for expected in [
        "channels.ses.environments.prod.region: required unless sandbox = true",
        "channels.ses.environments.prod.from_address:",
        "channels.ses.environments.dev.max_send_rate:",
        "tpl/broken/subject.liquid:",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
    assert!(!stderr.contains("do-not-print-me") && !text(&out.stdout).contains("do-not-print-me"));
}

#[test]
fn a_missing_environment_variable_is_a_configuration_error() {
    let dir = scratch("env");
    let config = "[channels.ses.environments.prod]\nregion = \"${HERALD_CLI_TEST_UNSET}\"\nfrom_address = \"a@b.c\"\n";
    std::fs::write(dir.join("herald.toml"), config).unwrap();
    let out = herald(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("channels.ses.environments.prod.region: environment variable HERALD_CLI_TEST_UNSET is not set"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let out = herald(&repo(), &["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let out = herald(&repo(), &["render"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn render_writes_exactly_what_would_be_sent() {
    let dir = scratch("render");
    let eml = dir.join("welcome.eml");
    let out = herald(
        &repo(),
        &[
            "render",
            "examples/jobs/welcome.json",
            "--out",
            eml.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let raw = std::fs::read_to_string(&eml).unwrap();
    assert!(
        raw.contains("Subject: Welcome to Example, Ada Lovelace!"),
        "{raw}"
    );
    assert!(
        raw.contains("From: \"Example (dev)\" <dev@example.com>"),
        "{raw}"
    );
    let stdout = herald(
        &repo(),
        &["render", "examples/jobs/inline-with-attachment.json"],
    );
    assert!(stdout.status.success());
    assert!(text(&stdout.stdout).contains("filename=\"invoice.txt\""));
}

#[test]
fn render_refuses_an_invalid_job_with_exit_2() {
    let dir = scratch("render-bad");
    std::fs::write(
        dir.join("job.json"),
        r#"{"id":"x","environment":"development"}"#,
    )
    .unwrap();
    let job = dir.join("job.json");
    let out = herald(&repo(), &["render", job.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("workflow"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_runs_on_the_built_in_defaults_from_any_folder() {
    let dir = scratch("demo");
    let out = herald(&dir, &["demo"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("[4/4]"), "{stdout}");
    assert!(stdout.contains("message.not_sent"), "{stdout}");
    assert!(stdout.contains("recipient_missing_email"), "{stdout}");
    let eml = std::fs::read_to_string(dir.join("outbox/msg_demo_welcome.eml")).unwrap();
    assert!(eml.contains("Subject: Welcome to Example, Ada Lovelace!"));
}
