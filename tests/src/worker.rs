//! `spawn_worker()`: the worker in-process, on a test's own namespace.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use herald_worker::channels::Mode;
use herald_worker::cli::setup;
use herald_worker::consumer::{self, Health};
use herald_worker::pipeline::Deps;
use herald_worker::settings::Settings;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::broker::TestBroker;

/// The repository's `examples/templates`.
pub fn example_templates_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/templates")
}

/// A ledger file of its own for one test, under the system's temp folder.
pub fn test_ledger_path() -> PathBuf {
    std::env::temp_dir().join(format!("{}.redb", crate::unique("herald-ledger")))
}

/// An `[idempotency]` section with a ledger file of its own, for tests that
/// write a whole configuration for `herald run`.
pub fn ledger_toml() -> String {
    format!(
        "[idempotency]\npath = \"{}\"\n",
        test_ledger_path().display()
    )
}

/// A worker running in this process.
pub struct TestWorker {
    pub deps: Arc<Deps>,
    pub health: Arc<Health>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Loads `config` (TOML) onto the broker's namespace and starts a worker;
/// returns once it consumes.
pub async fn spawn_worker(broker: &TestBroker, config: &str) -> TestWorker {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .try_init();
    let mut settings = Settings::from_toml("test", config, &|k| std::env::var(k).ok())
        .unwrap_or_else(|e| panic!("test configuration: {e}"));
    let prefetch = settings.amqp.prefetch;
    settings.amqp = broker.amqp.clone();
    settings.amqp.prefetch = prefetch;
    settings.retry.tiers = broker.tiers.clone();
    settings.templates.dir = example_templates_dir();
    if settings.idempotency.path == Settings::default_ledger_path() {
        settings.idempotency.path = test_ledger_path();
    }
    let deps = setup::build(settings, Some("test"), Mode::Live)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let deps = Arc::new(deps);
    let health = Arc::new(Health::default());
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(consumer::run(deps.clone(), health.clone(), async {
        let _ = stopped.await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !health.is_ready() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    TestWorker {
        deps,
        health,
        stop: Some(stop),
        task,
    }
}

impl TestWorker {
    /// Asks the worker to stop and waits until it finished its jobs.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .map_err(|_| anyhow::anyhow!("worker did not stop within 30 s"))??
    }

    /// Whether the worker task has ended (it should not, unless stopped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// A sandbox-free environment `prod` on channel `ses` sending to `endpoint`
/// with static keys, plus extra TOML lines for that environment.
pub fn ses_config(endpoint: &str, extra: &str) -> String {
    let sender = ("notify@{{ vars.domain }}", "{{ vars.app_name }}");
    format!(
        r#"
[retry]
max_attempts = 4
in_process = {{ attempts = 1, min_delay = "10ms", max_delay = "50ms" }}
{}{extra}
"#,
        prod_environment(endpoint, ("AKIDTESTHERALD", "test-secret-value"), sender)
    )
}

/// The environment `prod` of channel `ses`: SES at `endpoint` with static
/// keys `(id, secret)`, `(from_address, from_name)`, and the vars the
/// example templates use.
pub fn prod_environment(endpoint: &str, keys: (&str, &str), from: (&str, &str)) -> String {
    format!(
        r#"
[channels.ses.environments.prod]
region = "us-east-1"
endpoint_url = "{endpoint}"
auth = {{ scheme = "access_key", access_key_id = "{}", secret_access_key = "{}" }}
from_address = "{}"
from_name = "{}"
vars = {{ domain = "example.com", app_name = "Example" }}
"#,
        keys.0, keys.1, from.0, from.1
    )
}
