//! A worker whose environment has no AWS credentials fails at start, naming
//! the environment and the scheme, instead of retrying every job.

use std::process::{Command, Stdio};

use herald_tests::broker::TestBroker;
use herald_tests::worker::{example_templates_dir, ledger_toml};
use herald_tests::{free_port, herald_bin, unique};

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
    let mut command = Command::new(herald_bin());
    command
        .args(["run", "--config", file.to_str().unwrap()])
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        command.env_remove(var);
    }
    command
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "channels.ses.environments.prod.auth: no credentials for scheme default_chain"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&home).unwrap();
    broker.cleanup().await;
}
