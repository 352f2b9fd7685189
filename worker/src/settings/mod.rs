//! Typed settings, read from one TOML file with `${ENV}` interpolation and
//! `HERALD__SECTION__KEY` environment overrides.

mod collect;
mod environment;
mod interpolate;
mod secret;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use environment::{Auth, EnvironmentSettings, FailoverRegion, SendRate};
pub use interpolate::{interpolate, InterpolationError};
pub use secret::{redact_url, Secret};

/// The configuration shipped in the binary: sandbox-only, used by `herald demo`
/// and when no file is found.
pub const EMBEDDED_CONFIG: &str = include_str!("../../../examples/herald.toml");

/// Everything a worker is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub amqp: AmqpSettings,
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub templates: TemplateSettings,
    #[serde(default)]
    pub retry: RetrySettings,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub shutdown: ShutdownSettings,
    /// The send ledger (SPEC §9).
    #[serde(default)]
    pub idempotency: crate::ledger::IdempotencySettings,
    #[serde(default)]
    pub suppression: crate::ledger::SuppressionSettings,
    /// Where the send rate lives: this worker, or Redis for the fleet.
    #[serde(default)]
    pub rate_limit: crate::ratelimit::RateLimitSettings,
    /// The circuit breaker of every channel/environment without its own.
    #[serde(default)]
    pub circuit_breaker: crate::circuit::BreakerSettings,
    /// The SNS feedback endpoint (SPEC §9).
    #[serde(default)]
    pub feedback: crate::feedback::FeedbackSettings,
    /// Channels by name, each with its environments.
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelSettings>,
}

/// Broker connection, topology names and consumer tuning.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpSettings {
    pub url: Secret,
    /// Unacknowledged deliveries (and so concurrent jobs) per worker.
    pub prefetch: u16,
    pub jobs_exchange: String,
    pub jobs_queue: String,
    pub routing_key: String,
    pub retry_queue_prefix: String,
    pub dead_letter_exchange: String,
    pub dead_queue: String,
    /// Also bound to the dead-letter exchange: workers publish
    /// `message.undelivered` for letters the broker dead-lettered itself.
    pub dead_events_queue: String,
    pub events_exchange: String,
    /// Deliveries of one job before the broker dead-letters it as poison.
    pub delivery_limit: u32,
}

impl Default for AmqpSettings {
    fn default() -> Self {
        use herald_shared::topology as t;
        AmqpSettings {
            url: Secret::new("amqp://guest:guest@127.0.0.1:5672/%2f"),
            prefetch: 256,
            jobs_exchange: t::JOBS_EXCHANGE.into(),
            jobs_queue: t::JOBS_QUEUE.into(),
            routing_key: t::SEND_ROUTING_KEY.into(),
            retry_queue_prefix: t::RETRY_QUEUE_PREFIX.into(),
            dead_letter_exchange: t::DEAD_LETTER_EXCHANGE.into(),
            dead_queue: t::DEAD_QUEUE.into(),
            dead_events_queue: t::DEAD_EVENTS_QUEUE.into(),
            events_exchange: t::EVENTS_EXCHANGE.into(),
            delivery_limit: 20,
        }
    }
}

impl AmqpSettings {
    /// Prefixes every exchange and queue name, keeping the routing key:
    /// gives a demo or a test its own topology on a shared broker.
    pub fn namespaced(mut self, prefix: &str) -> AmqpSettings {
        for name in [
            &mut self.jobs_exchange,
            &mut self.jobs_queue,
            &mut self.retry_queue_prefix,
            &mut self.dead_letter_exchange,
            &mut self.dead_queue,
            &mut self.dead_events_queue,
            &mut self.events_exchange,
        ] {
            *name = format!("{prefix}{name}");
        }
        self
    }
}

/// The HTTP endpoint for `/metrics`, `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to listen on; empty turns the endpoint off.
    pub listen: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:9090".into(),
        }
    }
}

/// Where workflow templates live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplateSettings {
    pub dir: PathBuf,
    /// Reload (as on SIGHUP) when a file under `dir` changes.
    pub watch: bool,
}

impl Default for TemplateSettings {
    fn default() -> Self {
        TemplateSettings {
            dir: PathBuf::from("templates"),
            watch: false,
        }
    }
}

/// How failed sends are retried (SPEC §7).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    /// SES requests per job, all layers together.
    pub max_attempts: u32,
    pub in_process: InProcessRetry,
    /// Delays of the retry queues; the last one repeats.
    #[serde(with = "humantime_list")]
    pub tiers: Vec<Duration>,
}

impl Default for RetrySettings {
    fn default() -> Self {
        let secs = |s| Duration::from_secs(s);
        RetrySettings {
            max_attempts: 8,
            in_process: InProcessRetry::default(),
            tiers: vec![secs(10), secs(60), secs(300), secs(600), secs(900)],
        }
    }
}

/// Quick retries inside one delivery, with jittered exponential backoff.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InProcessRetry {
    /// Extra SES requests after the first one, on a job's first delivery.
    pub attempts: u32,
    #[serde(with = "humantime_serde")]
    pub min_delay: Duration,
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
}

impl Default for InProcessRetry {
    fn default() -> Self {
        InProcessRetry {
            attempts: 2,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

/// Limits on jobs: size, SES request time, memory in flight, and the Liquid
/// bounds that keep any one job from crashing, stalling or bloating a worker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_job_bytes: usize,
    /// Per SES request; past it the request counts as a retryable timeout.
    #[serde(with = "humantime_serde")]
    pub ses_timeout: Duration,
    /// Workers sharing each SES send rate: each paces to `max_send_rate /
    /// workers` (the rate is the account's, the limiter is per process).
    pub workers: u32,
    /// Memory of the jobs processed at once, each counted at three times its
    /// body; a job that would go past it waits before processing
    /// (`"128MiB"`, or a number of bytes).
    pub max_in_flight_bytes: bytesize::ByteSize,
    /// Job bodies of at least this size wait on disk, in `spool_dir`, while
    /// they wait for the budget and while their email is sent, instead of
    /// in memory beside their decoded attachments (`"0"`: never).
    pub spool_above: bytesize::ByteSize,
    /// Where large bodies wait; the system's temporary directory by default.
    pub spool_dir: Option<std::path::PathBuf>,
    /// Liquid bounds (see `RenderLimits`); defaults no legitimate
    /// notification reaches.
    pub max_template_bytes: usize,
    pub max_nesting_depth: usize,
    pub max_loop_iterations: u64,
    pub max_range: u64,
    pub max_value_bytes: u64,
    pub max_output_bytes: u64,
    /// Per job, over all of its renders.
    #[serde(with = "humantime_serde")]
    pub max_render_time: Duration,
    pub max_partial_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        let r = crate::render::RenderLimits::default();
        Limits {
            max_job_bytes: herald_shared::job::DEFAULT_MAX_JOB_BYTES,
            ses_timeout: Duration::from_secs(30),
            workers: 1,
            max_in_flight_bytes: bytesize::ByteSize::mib(128),
            spool_above: bytesize::ByteSize::mib(1),
            spool_dir: None,
            max_template_bytes: r.max_template_bytes,
            max_nesting_depth: r.max_nesting_depth,
            max_loop_iterations: r.max_loop_iterations,
            max_range: r.max_range,
            max_value_bytes: r.max_value_bytes,
            max_output_bytes: r.max_output_bytes,
            max_render_time: r.max_render_time,
            max_partial_depth: r.max_partial_depth,
        }
    }
}

impl Limits {
    /// The timeout of one SES request: `ses_timeout`, but never longer than
    /// the shutdown timeout, so that a request started just before the
    /// shutdown deadline still ends within the pod's grace period.
    pub fn ses_attempt_timeout(&self, shutdown: &ShutdownSettings) -> Duration {
        self.ses_timeout.min(shutdown.timeout)
    }

    /// The Liquid bounds, as the template store applies them.
    pub fn render(&self) -> crate::render::RenderLimits {
        crate::render::RenderLimits {
            max_template_bytes: self.max_template_bytes,
            max_nesting_depth: self.max_nesting_depth,
            max_loop_iterations: self.max_loop_iterations,
            max_range: self.max_range,
            max_value_bytes: self.max_value_bytes,
            max_output_bytes: self.max_output_bytes,
            max_render_time: self.max_render_time,
            max_partial_depth: self.max_partial_depth,
        }
    }
}

/// Stopping within the pod's grace period.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownSettings {
    /// From SIGTERM, how long jobs in flight may take; then jobs not yet sent
    /// go back to the queue and no SES request starts.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        ShutdownSettings {
            timeout: Duration::from_secs(25),
        }
    }
}

/// One channel: its environments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentSettings>,
}

/// A configuration that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration {source_name}:\n  - {}", problems.join("\n  - "))]
pub struct ConfigError {
    pub source_name: String,
    pub problems: Vec<String>,
}

impl Settings {
    /// Loads a file, or the embedded configuration when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let settings = Settings::load_unchecked(path)?;
        let problems = settings.problems();
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError {
                source_name: path.map_or("(embedded)".into(), |p| p.display().to_string()),
                problems,
            })
        }
    }

    /// Loads without [`Settings::problems`], for callers that report them
    /// together with problems found later (templates, sender fields).
    pub fn load_unchecked(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let (name, text) = match path {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => (path.display().to_string(), text),
                Err(e) => {
                    return Err(ConfigError {
                        source_name: path.display().to_string(),
                        problems: vec![format!("cannot read the file: {e}")],
                    })
                }
            },
            None => ("(embedded)".to_owned(), EMBEDDED_CONFIG.to_owned()),
        };
        Settings::parse(&name, &text, &|k| std::env::var(k).ok())
    }

    /// Parses TOML text, interpolating `${…}` with `lookup`, and checks it.
    pub fn from_toml(
        name: &str,
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let settings = Settings::parse(name, text, lookup)?;
        let problems = settings.problems();
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError {
                source_name: name.to_owned(),
                problems,
            })
        }
    }

    /// Every problem of the file in one go: TOML syntax (which stops the
    /// rest), missing variables, unknown keys and type errors, each with its
    /// location, then what [`Settings::problems`] finds in what remains.
    fn parse(
        name: &str,
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let fail = |problems: Vec<String>| ConfigError {
            source_name: name.to_owned(),
            problems,
        };
        let mut tree: toml::Value = toml::from_str(text).map_err(|e| fail(vec![e.to_string()]))?;
        let mut errors = Vec::new();
        interpolate::interpolate_tree(&mut tree, "", lookup, &mut errors);
        let mut problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let settings: Option<Settings> =
            collect::deserialize_collecting(tree, build_config, &mut problems);
        match settings {
            Some(settings) if problems.is_empty() => Ok(settings),
            Some(settings) => {
                problems.extend(settings.problems());
                Err(fail(problems))
            }
            None => Err(fail(problems)),
        }
    }

    /// Checks what types alone do not, naming each problem's location.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.amqp.prefetch == 0 {
            problems.push("amqp.prefetch: must be at least 1".into());
        }
        if self.retry.max_attempts == 0 {
            problems.push("retry.max_attempts: must be at least 1".into());
        }
        if self.limits.workers == 0 {
            problems.push("limits.workers: must be at least 1".into());
        }
        if self.retry.tiers.is_empty() {
            problems.push("retry.tiers: give at least one delay".into());
        }
        problems.extend(self.idempotency.problems());
        problems.extend(self.suppression.problems(&self.idempotency));
        problems.extend(self.feedback.problems());
        problems.extend(self.circuit_breaker.problems("circuit_breaker"));
        problems.extend(self.rate_limit.problems());
        if self.feedback.enabled && self.server.listen.is_empty() {
            problems.push(
                "feedback.enabled: the endpoint is served on server.listen, which is empty".into(),
            );
        }
        for (channel, settings) in &self.channels {
            for (env, e) in &settings.environments {
                let at = format!("channels.{channel}.environments.{env}");
                problems.extend(e.problems().into_iter().map(|p| format!("{at}.{p}")));
                if let Some(breaker) = &e.circuit_breaker {
                    problems.extend(breaker.problems(&format!("{at}.circuit_breaker")));
                }
            }
        }
        problems
    }

    /// The embedded ledger's file when the configuration names none.
    pub fn default_ledger_path() -> PathBuf {
        crate::ledger::IdempotencySettings::default().path
    }
}

/// The file's tree with the `HERALD__SECTION__KEY` environment overrides.
pub(crate) fn build_config(tree: &toml::Value) -> Result<config::Config, config::ConfigError> {
    let text = toml::to_string(tree).map_err(|e| config::ConfigError::Message(e.to_string()))?;
    config::Config::builder()
        .add_source(config::File::from_str(&text, config::FileFormat::Toml))
        .add_source(
            config::Environment::with_prefix("HERALD")
                .prefix_separator("__")
                .separator("__"),
        )
        .build()
}

/// The configuration file to use when none is given: `herald.toml`, else
/// `examples/herald.toml`, else the embedded one.
pub fn default_config_path() -> Option<PathBuf> {
    ["herald.toml", "examples/herald.toml"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A duration such as `30s` or `5m`; the error quotes the text.
fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration like \"30s\" or \"5m\" ({e})"))
}

mod humantime_list {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| super::duration(t).map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests;
