//! Support for Herald's end-to-end suites, which run against a real RabbitMQ,
//! moto (a third-party SES v2 emulator) and a fake SES scripted per test.
//!
//! - [`broker`]: a per-test namespace of exchanges and queues, publishing
//!   jobs, reading events and dead letters.
//! - [`fake_ses`]: an SES v2 `SendEmail` endpoint whose answers a test
//!   scripts (success, throttling, 5xx, slow) and which records requests.
//! - [`moto`]: talking to the moto server (verified identities, stored mail).
//! - [`worker`]: `spawn_worker()`, the worker in-process on a test namespace.
//! - [`process`]: `herald run` as a real process, for the fault suites.
//! - [`sns`]: signed SNS messages, a stand-in certificate host, the feedback
//!   endpoint in-process.
#![forbid(unsafe_code)]

pub mod app;
pub mod broker;
pub mod fake_ses;
pub mod moto;
pub mod process;
pub mod sns;
pub mod worker;

/// A name unique to this test run: `<label>-<8 hex digits>`.
pub fn unique(label: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{label}-{}", &id[..8])
}

/// Sends `signal` (`TERM`, `INT`, …) to process `pid`; whether `kill` did.
pub fn send_signal(pid: u32, signal: &str) -> bool {
    std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .is_ok_and(|status| status.success())
}

/// Sends `signal` to `child`, then waits, off the runtime's threads, for it
/// to exit; what it wrote to the pipes it was given.
pub async fn signal_and_wait(child: std::process::Child, signal: &str) -> std::process::Output {
    assert!(send_signal(child.id(), signal), "SIG{signal} delivered");
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("the waiting thread ends")
        .expect("the process is waited for")
}

/// The standard output of a command that must have succeeded; `what` and
/// its standard error name the failure otherwise.
pub fn succeeded(output: std::process::Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}

/// A minimal valid job for `environment`, as JSON.
pub fn job_json(id: &str, environment: &str, email: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "environment": environment,
        "workflow": "welcome",
        "recipient": { "id": "user_1", "email": email, "name": "Ada Lovelace" },
        "actor": { "id": "user_9", "name": "Grace" },
        "tenant": "acme",
        "data": { "plan": "pro" }
    })
}

/// The `herald` binary of this build (`target/<profile>/herald`), which
/// `cargo test --workspace` builds for the worker's own CLI suite.
pub fn herald_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    let name = format!("herald{}", std::env::consts::EXE_SUFFIX);
    // Tests run from target/<profile>/deps, binaries from target/<profile>.
    let dir = exe.parent().expect("target/<profile>");
    let bin = match dir.ends_with("deps") {
        true => dir.parent().expect("target/<profile>").join(&name),
        false => dir.join(&name),
    };
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p herald-worker`)",
        bin.display()
    );
    bin
}

/// The value of one sample in a Prometheus text exposition, e.g.
/// `herald_messages_total{environment="prod",channel="ses",status="sent"}`.
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
}
pub mod bench;
