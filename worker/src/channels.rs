//! Channel/environment settings resolved once per configuration load: parsed
//! sender templates and one SES client each, looked up per job by name.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::circuit::{Breaker, BreakerSettings};
use crate::ratelimit::{Fleet, SendRateLimiter};
use crate::render::{SenderTemplates, TemplateStore};
use crate::request::Node;
use crate::ses::SesClient;
use crate::settings::{EnvironmentSettings, SendRate, Settings};

/// Where an environment's emails go.
pub enum Transport {
    /// Never call SES; optionally write `<message_id>.eml` to `outbox`.
    Sandbox { outbox: Option<PathBuf> },
    /// The primary region first, then the failover regions in order.
    Ses(Vec<SesTarget>),
}

/// One region an environment sends through, with its circuit breaker.
pub struct SesTarget {
    pub region: String,
    pub client: SesClient,
    pub breaker: Breaker,
}

/// Everything needed to send through one channel in one environment.
pub struct Route {
    pub channel: String,
    pub environment: String,
    pub settings: EnvironmentSettings,
    /// The environment's `vars` as Liquid values, converted once: every job
    /// of the route sees the same ones.
    pub vars: liquid::model::Value,
    pub sender: SenderTemplates,
    /// The environment's `json_overrides`, parsed once.
    pub json_overrides: Option<Node>,
    pub transport: Transport,
    /// Paces SES requests to `max_send_rate`.
    pub limiter: Option<Arc<SendRateLimiter>>,
    /// When a credentials failure was last logged: once a minute is enough.
    pub credentials_warned: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Route {
    pub fn is_sandbox(&self) -> bool {
        matches!(self.transport, Transport::Sandbox { .. })
    }
}

/// How routes are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Real SES clients where the configuration says so.
    Live,
    /// Every environment in sandbox mode (`herald demo`, `herald render`).
    Sandbox,
}

/// Why a job's environment and channel do not name a route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown environment {0:?}")]
    UnknownEnvironment(String),
    #[error("unknown channel {channel:?} in environment {environment:?}")]
    UnknownChannel {
        environment: String,
        channel: String,
    },
    #[error("environment {0:?} has several channels: the job must name one")]
    AmbiguousChannel(String),
}

impl RouteError {
    /// Short code for the `x-herald-error` header.
    pub fn code(&self) -> &'static str {
        match self {
            RouteError::UnknownEnvironment(_) => "unknown_environment",
            RouteError::UnknownChannel { .. } => "unknown_channel",
            RouteError::AmbiguousChannel(_) => "ambiguous_channel",
        }
    }
}

/// How long start-up waits for an environment's credentials (the default
/// chain may ask the instance metadata service; an assumed role asks STS).
const CREDENTIALS_WAIT: Duration = Duration::from_secs(15);

/// The SES client of one environment (`at` is its place in the config), its
/// credentials resolved once: without any, a problem naming the environment
/// and the scheme.
async fn ses_client(
    at: &str,
    env: &EnvironmentSettings,
    timeout: Duration,
) -> Result<SesClient, String> {
    let client = SesClient::build(env, timeout).await;
    match client.check_credentials(CREDENTIALS_WAIT).await {
        Ok(()) => Ok(client),
        Err(e) => Err(format!(
            "{at}.auth: no credentials for scheme {}: {e}",
            env.auth_scheme()
        )),
    }
}

/// The primary region's client and one per failover region, each with a
/// breaker of its own.
async fn targets(
    at: &str,
    env: &EnvironmentSettings,
    primary: SesClient,
    breaker: BreakerSettings,
    timeout: Duration,
) -> Result<Vec<SesTarget>, String> {
    let region = |r: Option<&str>| r.unwrap_or("us-east-1").to_owned();
    let mut targets = vec![SesTarget {
        region: region(env.region.as_deref()),
        client: primary,
        breaker: Breaker::new(breaker),
    }];
    for (i, failover) in env.failover.iter().enumerate() {
        let other = env.in_region(failover);
        let client = ses_client(&format!("{at}.failover[{i}]"), &other, timeout).await?;
        targets.push(SesTarget {
            region: failover.region.clone(),
            client,
            breaker: Breaker::new(breaker),
        });
    }
    Ok(targets)
}

/// Resolves the credentials of every environment that sends through SES, as
/// `herald run` does at start: one problem for each that has none.
pub async fn credential_problems(settings: &Settings) -> Vec<String> {
    let mut problems = Vec::new();
    for (channel, channel_settings) in &settings.channels {
        for (environment, env) in &channel_settings.environments {
            if env.sandbox {
                continue;
            }
            let at = format!("channels.{channel}.environments.{environment}");
            if let Err(problem) = ses_client(&at, env, settings.limits.ses_timeout).await {
                problems.push(problem);
            }
        }
    }
    problems
}

/// For every environment with failover regions: whether its sender (its
/// `from_address` rendered with the environment's `vars`) is verified in
/// each of its regions, asked of SES with `GetEmailIdentity`. Problems, and
/// notes for what could not be asked (no permission, a sender that depends
/// on the job).
pub async fn identity_problems(settings: &Settings) -> (Vec<String>, Vec<String>) {
    let (mut problems, mut notes) = (Vec::new(), Vec::new());
    let timeout = settings.limits.ses_timeout;
    for (channel, channel_settings) in &settings.channels {
        for (environment, env) in &channel_settings.environments {
            if env.sandbox || env.failover.is_empty() {
                continue;
            }
            let at = format!("channels.{channel}.environments.{environment}");
            let Some(sender) = sender_address(env) else {
                notes.push(format!("{at}: from_address depends on the job; its identity in the failover regions is not checked"));
                continue;
            };
            let regions =
                std::iter::once(env.clone()).chain(env.failover.iter().map(|f| env.in_region(f)));
            for one in regions {
                let region = one.region.clone().unwrap_or_default();
                let client = SesClient::build(&one, timeout).await;
                match verified(&client, &sender).await {
                    Ok(true) => {}
                    Ok(false) => problems.push(format!(
                        "{at}: the sender {sender} is not verified in {region}: verify it there, or jobs failed over to {region} are refused"
                    )),
                    Err(e) => notes.push(format!(
                        "{at}: cannot check the sender {sender} in {region} ({e})"
                    )),
                }
            }
        }
    }
    (problems, notes)
}

/// The address, else its domain, verified for sending.
async fn verified(client: &SesClient, address: &str) -> Result<bool, String> {
    if client.identity_verified(address).await? == Some(true) {
        return Ok(true);
    }
    let domain = address.rsplit_once('@').map_or(address, |(_, d)| d);
    Ok(client.identity_verified(domain).await? == Some(true))
}

/// `from_address` rendered with the environment's `vars` alone; `None` when
/// it needs more than that.
fn sender_address(env: &EnvironmentSettings) -> Option<String> {
    let parser = liquid::ParserBuilder::with_stdlib().build().ok()?;
    let template = parser.parse(&env.from_address).ok()?;
    let vars = liquid::model::to_value(&env.vars).ok()?;
    let globals = liquid::object!({ "vars": vars });
    let address = template.render(&globals).ok()?;
    let address = address.trim();
    (address.contains('@') && !address.contains('{')).then(|| address.to_owned())
}

/// How often `max_send_rate = "auto"` reads the quota again.
const QUOTA_REFRESH: Duration = Duration::from_secs(300);

/// The limiter `max_send_rate` asks for, split between `share` workers;
/// `"auto"` reads SES's quota now and every few minutes, falling back (with a
/// warning) when SES cannot say.
async fn send_rate_limiter(
    at: &str,
    env: &EnvironmentSettings,
    client: &SesClient,
    share: f64,
) -> Option<Arc<SendRateLimiter>> {
    let fallback = match env.max_send_rate? {
        SendRate::PerSecond(rate) => return Some(Arc::new(SendRateLimiter::new(rate / share))),
        SendRate::Auto => env.max_send_rate_fallback.unwrap_or(1.0) / share,
    };
    let limiter = Arc::new(SendRateLimiter::new(fallback));
    refresh_quota(at, client, &limiter, share).await;
    let (at, client, weak) = (at.to_owned(), client.clone(), Arc::downgrade(&limiter));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(QUOTA_REFRESH).await;
            let Some(limiter) = weak.upgrade() else {
                return;
            };
            refresh_quota(&at, &client, &limiter, share).await;
        }
    });
    Some(limiter)
}

async fn refresh_quota(at: &str, client: &SesClient, limiter: &SendRateLimiter, share: f64) {
    let current = limiter.rate();
    match tokio::time::timeout(Duration::from_secs(10), client.max_send_rate()).await {
        Ok(Ok(account_rate)) => {
            let rate = account_rate / share;
            if (rate - current).abs() > f64::EPSILON {
                tracing::info!(at, account_rate, rate, "send rate read from SES");
            }
            limiter.set_rate(rate);
        }
        Ok(Err(e)) => {
            tracing::warn!(at, error = %e, rate = current, "cannot read the SES send quota; keeping the current rate")
        }
        Err(_) => tracing::warn!(
            at,
            rate = current,
            "SES GetAccount timed out; keeping the current rate"
        ),
    }
}

fn parse_overrides(
    store: &TemplateStore,
    env: &EnvironmentSettings,
) -> Result<Option<Node>, String> {
    let Some(json) = &env.json_overrides else {
        return Ok(None);
    };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
    Node::parse(store, &value)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// An SES environment's regions and its send-rate limiter, shared with the
/// fleet through Redis when `fleet` is set.
async fn ses_transport(
    at: &str,
    (channel, environment): (&str, &str),
    env: &EnvironmentSettings,
    settings: &Settings,
    fleet: Option<&ConnectionManager>,
    ses_timeout: Duration,
) -> Result<(Transport, Option<Arc<SendRateLimiter>>), String> {
    let client = ses_client(at, env, ses_timeout).await?;
    let share = f64::from(settings.limits.workers.max(1));
    let limiter = send_rate_limiter(at, env, &client, share).await;
    if let (Some(limiter), Some(connection)) = (&limiter, fleet) {
        let r = &settings.rate_limit;
        let key = format!("{}rate:{channel}:{environment}", r.prefix);
        limiter.share_through(Fleet::new(connection.clone(), key, r), share);
    }
    let breaker = env.circuit_breaker.unwrap_or(settings.circuit_breaker);
    let targets = targets(at, env, client, breaker, ses_timeout).await?;
    Ok((Transport::Ses(targets), limiter))
}

/// All routes, by environment.
pub struct Routes {
    by_environment: HashMap<String, Vec<Arc<Route>>>,
}

impl Routes {
    /// Resolves every channel/environment, reporting every broken sender field.
    pub async fn build(
        settings: &Settings,
        store: &TemplateStore,
        mode: Mode,
        ses_timeout: Duration,
    ) -> Result<Routes, Vec<String>> {
        let mut by_environment: HashMap<String, Vec<Arc<Route>>> = HashMap::new();
        let mut problems = Vec::new();
        let fleet = settings
            .rate_limit
            .connect()
            .map_err(|e| problems.push(e))
            .ok()
            .flatten();
        if let Some(connection) = &fleet {
            // Connect now, not on the first send: a first request that
            // waits for the handshake would pace that worker alone.
            let mut connection = connection.clone();
            tokio::spawn(async move {
                let _: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
            });
        }
        for (channel, channel_settings) in &settings.channels {
            for (environment, env) in &channel_settings.environments {
                let at = format!("channels.{channel}.environments.{environment}");
                let sender = SenderTemplates::parse(store, env).map_err(|errors| {
                    problems.extend(errors.into_iter().map(|e| format!("{at}.{e}")))
                });
                let json_overrides = parse_overrides(store, env)
                    .map_err(|e| problems.push(format!("{at}.json_overrides: {e}")));
                let (Ok(sender), Ok(json_overrides)) = (sender, json_overrides) else {
                    continue;
                };
                let (transport, limiter) = if env.sandbox || mode == Mode::Sandbox {
                    let outbox = env.outbox.clone();
                    (Transport::Sandbox { outbox }, None)
                } else {
                    let names = (channel.as_str(), environment.as_str());
                    match ses_transport(&at, names, env, settings, fleet.as_ref(), ses_timeout)
                        .await
                    {
                        Ok(built) => built,
                        Err(problem) => {
                            problems.push(problem);
                            continue;
                        }
                    }
                };
                let route = Route {
                    channel: channel.clone(),
                    environment: environment.clone(),
                    settings: env.clone(),
                    vars: liquid::model::to_value(&env.vars).unwrap_or(liquid::model::Value::Nil),
                    sender,
                    json_overrides,
                    transport,
                    limiter,
                    credentials_warned: std::sync::Mutex::new(None),
                };
                by_environment
                    .entry(environment.clone())
                    .or_default()
                    .push(Arc::new(route));
            }
        }
        if problems.is_empty() {
            Ok(Routes { by_environment })
        } else {
            Err(problems)
        }
    }

    /// Every route.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.by_environment.values().flatten()
    }

    /// Whether any route calls SES (and so needs the send ledger).
    pub fn sends_through_ses(&self) -> bool {
        let mut routes = self.by_environment.values().flatten();
        routes.any(|route| !route.is_sandbox())
    }

    /// The route of a job; `channel` may be omitted when the environment has one.
    pub fn resolve(
        &self,
        environment: &str,
        channel: Option<&str>,
    ) -> Result<&Arc<Route>, RouteError> {
        let routes = self
            .by_environment
            .get(environment)
            .ok_or_else(|| RouteError::UnknownEnvironment(environment.to_owned()))?;
        match (channel, routes.as_slice()) {
            (Some(name), _) => routes.iter().find(|r| r.channel == name).ok_or_else(|| {
                RouteError::UnknownChannel {
                    environment: environment.to_owned(),
                    channel: name.to_owned(),
                }
            }),
            (None, [only]) => Ok(only),
            (None, _) => Err(RouteError::AmbiguousChannel(environment.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::EXAMPLE_TEMPLATES;

    #[tokio::test]
    async fn a_channel_may_be_omitted_only_when_the_environment_has_one() {
        let two = "[channels.a.environments.dev]\nsandbox = true\nfrom_address = \"a@b.c\"\n\
                   [channels.b.environments.dev]\nsandbox = true\nfrom_address = \"a@b.c\"\n\
                   [channels.b.environments.prod]\nsandbox = true\nfrom_address = \"a@b.c\"\n";
        let settings = Settings::from_toml("two", two, &|_| None).unwrap();
        let store =
            TemplateStore::from_files("examples", EXAMPLE_TEMPLATES.iter().copied()).unwrap();
        let routes = Routes::build(&settings, &store, Mode::Sandbox, Duration::from_secs(1))
            .await
            .unwrap();
        let resolve = |environment, channel| {
            routes
                .resolve(environment, channel)
                .map(|r| r.channel.clone())
        };
        assert_eq!(
            resolve("dev", None),
            Err(RouteError::AmbiguousChannel("dev".into()))
        );
        assert_eq!(resolve("dev", Some("b")).as_deref(), Ok("b"));
        assert_eq!(resolve("prod", None).as_deref(), Ok("b"));
        assert!(resolve("prod", Some("a")).is_err());
    }
}
