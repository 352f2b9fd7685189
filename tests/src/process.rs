//! `herald run` as a real process on a test's namespace: the harness of the
//! fault suites, which kill it, stop it, flood it and watch its memory.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use herald_worker::process_metrics::ProcessStats;

use crate::broker::TestBroker;
use crate::worker::{example_templates_dir, test_ledger_path};
use crate::{free_port, herald_bin, send_signal};

/// A running `herald run`; killed when dropped, if still running.
pub struct HeraldProcess {
    child: Child,
    config: PathBuf,
    /// Standard error as a pipe this process holds and never reads, when
    /// started with [`HeraldProcess::start_with_unread_stderr`].
    _unread: Option<std::process::ChildStderr>,
    /// `server.listen` of the process: `/metrics`, `/healthz`, `/readyz`.
    pub http: String,
    /// Where its standard error goes.
    pub log: PathBuf,
}

impl HeraldProcess {
    /// Starts `herald run` on `broker`'s namespace with `prefetch`, the
    /// example templates, and `config` (TOML: channels, retry, limits, …).
    pub fn start(broker: &TestBroker, prefetch: u16, config: &str) -> HeraldProcess {
        let (file, listen) = write_config(broker, prefetch, config);
        HeraldProcess::start_with(&file, &listen)
    }

    /// [`HeraldProcess::start`] at log level `level`, its standard error a
    /// pipe that is never read: once the pipe is full, every write the
    /// worker's log thread makes blocks for good.
    pub fn start_with_unread_stderr(
        broker: &TestBroker,
        prefetch: u16,
        config: &str,
        level: &str,
    ) -> HeraldProcess {
        let (file, listen) = write_config(broker, prefetch, config);
        let mut child = spawn(&file, Stdio::piped(), level);
        let unread = child.stderr.take();
        HeraldProcess {
            child,
            log: file.with_extension("log"),
            config: file,
            _unread: unread,
            http: format!("http://{listen}"),
        }
    }

    /// Starts `herald run --config FILE` whose `server.listen` is `listen`.
    pub fn start_with(file: &std::path::Path, listen: &str) -> HeraldProcess {
        let log = file.with_extension("log");
        HeraldProcess {
            child: spawn_logging(file, &log),
            config: file.to_owned(),
            _unread: None,
            http: format!("http://{listen}"),
            log,
        }
    }

    /// The same configuration in a new process (after a kill); its standard
    /// error is appended to the same log.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_logging(&self.config, &self.log);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self
                .get("/readyz")
                .await
                .is_some_and(|(status, _)| status == 200)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// `GET path` on the process's HTTP endpoint: status and body.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .ok()?;
        let response = client
            .get(format!("{}{path}", self.http))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The exit code, once it ended on its own.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// CPU, memory and peak memory of the process, from `/proc`.
    pub fn stats(&self) -> Option<ProcessStats> {
        ProcessStats::of(&self.pid().to_string())
    }

    /// `kill -9`: the process dies at whatever instruction it is at.
    pub fn kill9(&mut self) {
        assert!(send_signal(self.pid(), "KILL"), "SIGKILL delivered");
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits up to `timeout` for the exit; the exit status.
    pub async fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        assert!(send_signal(self.pid(), "TERM"), "SIGTERM delivered");
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        None
    }

    /// What the process wrote to standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Writes the configuration of [`HeraldProcess::start`]; its file and its
/// `server.listen`.
fn write_config(broker: &TestBroker, prefetch: u16, config: &str) -> (PathBuf, String) {
    let name = crate::unique("herald-proc");
    let listen = format!("127.0.0.1:{}", free_port());
    let file = std::env::temp_dir().join(format!("{name}.toml"));
    let ledger = match config.contains("[idempotency]") {
        true => String::new(),
        false => format!(
            "[idempotency]\npath = \"{}\"\n",
            test_ledger_path().display()
        ),
    };
    let text = format!(
        "{}\n[server]\nlisten = \"{listen}\"\n[templates]\ndir = \"{}\"\n{ledger}{config}",
        broker.amqp_toml(prefetch),
        example_templates_dir().display(),
    );
    std::fs::write(&file, text).expect("config written");
    (file, listen)
}

/// `herald run --config FILE`, its standard error appended to `log`, at
/// `HERALD_TEST_LOG`'s level (default `warn`).
fn spawn_logging(config: &std::path::Path, log: &std::path::Path) -> Child {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let level = std::env::var("HERALD_TEST_LOG").unwrap_or_else(|_| "warn".into());
    spawn(config, stderr.into(), &level)
}

fn spawn(config: &std::path::Path, stderr: Stdio, level: &str) -> Child {
    Command::new(herald_bin())
        .args(["run", "--config", config.to_str().expect("utf-8 path")])
        .env("RUST_LOG", level)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("herald starts")
}

impl Drop for HeraldProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.log);
    }
}
