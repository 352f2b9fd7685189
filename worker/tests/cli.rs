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

/// Runs `herald` with `args` in `dir`, which must exit with 2 and name every
/// one of `expected` on stderr; returns the output for further checks.
fn fails_naming(dir: &Path, args: &[&str], expected: &[&str]) -> Output {
    let out = herald(dir, args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{}\nstderr:\n{stderr}",
        text(&out.stdout)
    );
    for expected in expected {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
    out
}

#[test]
fn check_accepts_the_example_configuration() {
    let out = herald(&repo(), &["check", "--config", "examples/herald.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ok: 1 channel(s), 2 environment(s), 2 workflow template set(s)"),
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
    let out = fails_naming(
        &dir,
        &["check", "--config", "bad.toml"],
        &[
            "channels.ses.environments.prod.region: required unless sandbox = true",
            "channels.ses.environments.prod.from_address:",
            "channels.ses.environments.dev.max_send_rate:",
            "tpl/broken/subject.liquid:",
        ],
    );
    assert!(
        !text(&out.stderr).contains("do-not-print-me")
            && !text(&out.stdout).contains("do-not-print-me")
    );
}

#[test]
fn check_reports_every_typo_and_type_error_of_the_file_in_one_run() {
    let dir = scratch("typos");
    let config =
        "[amqp]\nprefech = 64\n[retry]\nmax_attemps = 3\n[limits]\nmax_job_bytes = \"big\"\n";
    std::fs::write(dir.join("herald.toml"), config).unwrap();
    fails_naming(
        &dir,
        &["check"],
        &[
            "amqp.prefech: unknown field `prefech`",
            "retry.max_attemps: unknown field `max_attemps`",
            "limits.max_job_bytes: invalid type: string \"big\"",
        ],
    );
}

#[test]
fn a_missing_environment_variable_is_a_configuration_error() {
    let dir = scratch("env");
    let config = "[channels.ses.environments.prod]\nregion = \"${HERALD_CLI_TEST_UNSET}\"\nfrom_address = \"a@b.c\"\n";
    std::fs::write(dir.join("herald.toml"), config).unwrap();
    fails_naming(
        &dir,
        &["check"],
        &["channels.ses.environments.prod.region: environment variable HERALD_CLI_TEST_UNSET is not set"],
    );
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
    fails_naming(&repo(), &["render", job.to_str().unwrap()], &["workflow"]);
}

/// The demo's topology has fixed names: its tests take turns.
static DEMO: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn demo_runs_on_the_built_in_defaults_from_any_folder() {
    let _turn = DEMO.lock().unwrap_or_else(|e| e.into_inner());
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
    assert!(stdout.contains("removed the demo's queues"), "{stdout}");
}

/// The demo's durable queues that exist on the broker now.
fn demo_queues_on_the_broker() -> Vec<String> {
    use herald_worker::settings::{AmqpSettings, RetrySettings};
    use lapin::options::QueueDeclareOptions;
    let amqp = AmqpSettings::default().namespaced("demo.");
    let mut queues = vec![amqp.jobs_queue.clone(), amqp.dead_queue.clone()];
    let tiers = RetrySettings::default().tiers;
    queues.extend(herald_worker::amqp::topology::retry_queue_names(
        &amqp, &tiers,
    ));
    let url = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = lapin::Connection::connect(&url, Default::default())
            .await
            .expect("RabbitMQ runs on AMQP_URL");
        let mut found = Vec::new();
        for queue in queues {
            // A passive declare of a missing queue closes its channel.
            let channel = connection.create_channel().await.unwrap();
            let passive = QueueDeclareOptions::durable().passive();
            let declared = channel
                .queue_declare(queue.as_str().into(), passive, Default::default())
                .await;
            if declared.is_ok() {
                found.push(queue);
            }
        }
        let _ = connection.close(200, "".into()).await;
        found
    })
}

#[test]
fn demo_removes_its_queues_on_exit_unless_told_to_keep_them() {
    let _turn = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("demo-keep");
    let kept = herald(&dir, &["demo", "--keep"]);
    assert!(kept.status.success(), "{}", text(&kept.stderr));
    assert_eq!(demo_queues_on_the_broker().len(), 7, "--keep leaves them");
    let out = herald(&dir, &["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        demo_queues_on_the_broker(),
        Vec::<String>::new(),
        "the demo leaves no queue behind"
    );
}

/// A configuration and templates folder for one `check` case.
fn check_case(label: &str, config: &str, templates: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(label);
    for (path, text) in templates {
        let file = dir.join("tpl").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    std::fs::write(dir.join("herald.toml"), config).unwrap();
    dir
}

const SANDBOX_CONFIG: &str = r#"[templates]
dir = "tpl"
[channels.ses.environments.dev]
sandbox = true
from_address = "dev@{{ vars.domain }}"
vars = { domain = "example.com" }
"#;

#[test]
fn check_points_at_a_vars_path_the_environment_does_not_have() {
    let config = SANDBOX_CONFIG.replace("dev@{{ vars.domain }}", "dev@{{ vars.domian }}");
    let dir = check_case(
        "check-vars",
        &config,
        &[
            ("w/subject.liquid", "Hi"),
            (
                "w/text.liquid",
                "Visit\n  {{ vars.site }} {{ vars.domain }}",
            ),
        ],
    );
    fails_naming(
        &dir,
        &["check", "--config", "herald.toml"],
        &[
            "herald.toml:5:24: channels.ses.environments.dev.from_address: vars.domian does not exist in the vars of environment dev (vars has domain)",
            "tpl/w/text.liquid:2:6: vars.site does not exist in the vars of environment dev",
            "2 problem(s)",
        ],
    );
}

#[test]
fn check_renders_each_workflow_with_its_sample_and_names_the_missing_data() {
    let sample = r#"{ "id": "s1", "environment": "dev", "workflow": "w",
        "recipient": { "id": "u1", "email": "a@example.com" }, "data": { "plan": "pro" } }"#;
    let dir = check_case(
        "check-sample",
        SANDBOX_CONFIG,
        &[
            ("w/subject.liquid", "Your {{ data.plan }} plan"),
            ("w/html.liquid", "<p>ok</p>\n<p>{{ data.plna }}</p>"),
            ("w/sample.json", sample),
            ("nosample/subject.liquid", "Hi {{ recipient.name }}"),
            ("nosample/text.liquid", "{{ data.anything }}"),
        ],
    );
    let out = fails_naming(
        &dir,
        &["check", "--config", "herald.toml"],
        &[
            "tpl/w/html.liquid:2:7: data.plna does not exist when rendering tpl/w/sample.json (environment dev)",
            "1 problem(s)",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("note: nosample: data.anything not checked: add nosample/sample.json"),
        "{stdout}"
    );
}

#[test]
fn check_reports_a_layout_without_content_unknown_filters_and_tags_and_data_loading_filters_and_still_renders_the_other_workflows(
) {
    let dir = check_case(
        "check-liquid",
        SANDBOX_CONFIG,
        &[
            ("layout.html.liquid", "<body>{{ vars.domain }}</body>"),
            ("a/subject.liquid", "Hi"),
            ("a/html.liquid", "<p>\n {{ recipient.id | user }}</p>"),
            ("b/subject.liquid", "Hi"),
            ("b/text.liquid", "x\n{{ recipient.id | shout }}"),
            ("c/subject.liquid", "Hi"),
            ("c/text.liquid", "x {% frobnicate %}"),
            ("d/subject.liquid", "Hi"),
            ("d/text.liquid", "x {{ data.x }}"),
            (
                "d/sample.json",
                r#"{ "id": "s", "environment": "dev", "workflow": "d", "recipient": { "id": "u", "email": "a@example.com" } }"#,
            ),
        ],
    );
    fails_naming(
        &dir,
        &["check", "--config", "herald.toml"],
        &[
            "tpl/layout.html.liquid: a layout without {{ content }} drops the email's body",
            "tpl/a/html.liquid:2:20: the `user` filter reads the hosted service's data store, which Herald does not have",
            "tpl/b/text.liquid:2:19: unknown filter `shout`",
            "tpl/c/text.liquid:1:",
            "tpl/d/text.liquid:1:6: data.x does not exist when rendering tpl/d/sample.json (environment dev)",
            "5 problem(s)",
        ],
    );
}
