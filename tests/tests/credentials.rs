//! A worker whose environment has no AWS credentials fails at start, naming
//! the environment and the scheme, instead of retrying every job; `herald
//! check` says so first.

use std::process::{Command, Stdio};

use herald_tests::broker::TestBroker;
use herald_tests::worker::{example_templates_dir, ledger_toml};
use herald_tests::{free_port, herald_bin, succeeded, unique};

#[tokio::test]
async fn a_default_chain_without_credentials_stops_herald_run_at_start_with_exit_2() {
    let ns = unique("nocreds");
    let broker = TestBroker::new(&ns, &[std::time::Duration::from_secs(10)]).await;
    let home = std::env::temp_dir().join(&ns);
    std::fs::create_dir_all(&home).unwrap();
    let config = format!(
        "{}\n[server]\nlisten = \"127.0.0.1:{}\"\n[templates]\ndir = \"{}\"\n{}\
         [channels.ses.environments.prod]\nregion = \"us-east-1\"\nendpoint_url = \"http://127.0.0.1:{}\"\n\
         auth = {{ scheme = \"default_chain\" }}\nfrom_address = \"notify@example.com\"\n",
        broker.amqp_toml(4),
        free_port(),
        example_templates_dir().display(),
        ledger_toml(),
        free_port(),
    );
    let file = home.join("herald.toml");
    std::fs::write(&file, config).unwrap();
    let mut command = without_aws_credentials(&home, &["run", "--config", file.to_str().unwrap()]);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    assert_names_prod_without_credentials(&output);
    std::fs::remove_dir_all(&home).unwrap();
    broker.cleanup().await;
}

/// Exit 2, naming environment `prod` and its scheme.
fn assert_names_prod_without_credentials(output: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let expected = "channels.ses.environments.prod.auth: no credentials for scheme default_chain";
    assert!(stderr.contains(expected), "{stderr}");
}

/// `herald ARGS` in a `HOME` of its own, where the default chain finds no
/// credentials: no variables, no files, no instance metadata.
fn without_aws_credentials(home: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(herald_bin());
    command
        .args(args)
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "HERALD_CONFIG",
    ] {
        command.env_remove(var);
    }
    command
}

const VARS: &str = "vars = { domain = \"example.com\", app_name = \"Example\" }\n";

#[test]
fn check_names_an_environment_without_credentials_and_offline_skips_them() {
    let home = std::env::temp_dir().join(unique("nocreds-check"));
    std::fs::create_dir_all(&home).unwrap();
    let config = format!(
        "[templates]\ndir = \"{}\"\n\
         [channels.ses.environments.prod]\nregion = \"us-east-1\"\n\
         auth = {{ scheme = \"default_chain\" }}\nfrom_address = \"notify@example.com\"\n{VARS}\
         [channels.ses.environments.dev]\nsandbox = true\nfrom_address = \"dev@example.com\"\n{VARS}",
        example_templates_dir().display(),
    );
    let file = home.join("herald.toml");
    std::fs::write(&file, config).unwrap();
    let file = file.to_str().unwrap();
    let checked = without_aws_credentials(&home, &["check", "--config", file])
        .output()
        .unwrap();
    assert_names_prod_without_credentials(&checked);
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(
        !stderr.contains("environments.dev"),
        "sandbox needs none: {stderr}"
    );
    let offline = without_aws_credentials(&home, &["check", "--offline", "--config", file])
        .output()
        .unwrap();
    succeeded(offline, "herald check --offline");
    std::fs::remove_dir_all(&home).unwrap();
}
