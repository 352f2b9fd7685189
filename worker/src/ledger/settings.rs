//! The `[idempotency]` and `[suppression]` sections (SPEC §9), and reading
//! them from a configuration file for the commands that need only them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{build_config, interpolate, Secret, EMBEDDED_CONFIG};

/// Where the send ledger lives and how it judges a claim.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencySettings {
    pub store: StoreKind,
    /// The redb file of the embedded store; one per worker.
    pub path: PathBuf,
    /// Let other processes (`herald messages show`, `herald suppression`)
    /// open the embedded file while the worker has it. Costs a second fsync
    /// per commit, so it is off by default.
    pub multi_process: bool,
    /// The Redis URL of the shared store; may carry a password, so it is a
    /// [`Secret`].
    pub url: Secret,
    /// Prefix of every Redis key, so several deployments (or tests) can share
    /// one Redis.
    pub prefix: String,
    /// How long an acceptance (and a claim) is remembered.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// What to do with a claim that outlived its lease without a record.
    pub in_doubt: InDoubtPolicy,
    /// How long a claim protects a send; the caller defaults it to twice the
    /// SES attempt timeout.
    #[serde(default, with = "humantime_serde")]
    pub lease: Option<Duration>,
    /// How long one store operation may take before it counts as failed: an
    /// unreachable store must hold jobs back, never hang them.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        IdempotencySettings {
            store: StoreKind::Embedded,
            path: PathBuf::from("herald-ledger.redb"),
            multi_process: false,
            url: Secret::new("redis://127.0.0.1:6379/0"),
            prefix: "herald:".into(),
            ttl: Duration::from_secs(7 * 24 * 3600),
            in_doubt: InDoubtPolicy::Resend,
            lease: None,
            timeout: Duration::from_secs(2),
        }
    }
}

impl IdempotencySettings {
    /// Checks what types alone do not, naming each problem's location.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.ttl.is_zero() {
            problems.push("idempotency.ttl: must be longer than zero".into());
        }
        if self.timeout.is_zero() {
            problems.push("idempotency.timeout: must be longer than zero".into());
        }
        if self.lease.is_some_and(|l| l.is_zero()) {
            problems.push("idempotency.lease: must be longer than zero".into());
        }
        if self.store == StoreKind::Embedded && self.path.as_os_str().is_empty() {
            problems.push("idempotency.path: give the ledger file".into());
        }
        if self.store == StoreKind::Redis {
            let url = self.url.expose();
            if !(url.starts_with("redis://") || url.starts_with("redis+unix://")) {
                problems
                    .push("idempotency.url: must be a redis:// or redis+unix:// URL".to_owned());
            }
        }
        problems
    }
}

/// Which store keeps the ledger.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// A redb file: one worker, or one worker per volume.
    Embedded,
    /// Redis: a fleet of workers, since RabbitMQ redelivers to any of them.
    Redis,
    /// No ledger: at-least-once sending, as before.
    Off,
}

/// The decision for a job whose previous send may or may not have reached SES.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InDoubtPolicy {
    /// Send again: a duplicate beats a lost password reset.
    Resend,
    /// Give up with `message.undelivered` (reason `in_doubt`).
    DeadLetter,
}

/// The `[suppression]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SuppressionSettings {
    /// Permanent bounces and complaints suppress the address, per environment.
    pub enabled: bool,
}

impl SuppressionSettings {
    /// The suppression list lives in the idempotency store: it needs one.
    pub fn problems(&self, idempotency: &IdempotencySettings) -> Vec<String> {
        match self.enabled && idempotency.store == StoreKind::Off {
            true => vec![
                "suppression.enabled: needs an idempotency store (idempotency.store is \"off\")"
                    .into(),
            ],
            false => Vec::new(),
        }
    }
}

/// Both sections, read from a configuration file on their own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StoreSections {
    pub idempotency: IdempotencySettings,
    pub suppression: SuppressionSettings,
}

impl StoreSections {
    /// Reads `[idempotency]` and `[suppression]` from a file (the built-in
    /// configuration when `None`), with `${…}` interpolation and
    /// `HERALD__IDEMPOTENCY__*` / `HERALD__SUPPRESSION__*` overrides. Other
    /// sections are left to [`crate::settings::Settings`].
    pub fn load(path: Option<&Path>) -> Result<StoreSections, String> {
        let name = path.map_or("(embedded)".into(), |p| p.display().to_string());
        let text = match path {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("{name}: cannot read the file: {e}"))?,
            None => EMBEDDED_CONFIG.to_owned(),
        };
        let lookup = |k: &str| std::env::var(k).ok();
        StoreSections::parse(&text, &lookup)
            .map_err(|e| format!("invalid configuration {name}: {e}"))
    }

    /// Parses the two sections out of a whole configuration's text.
    pub fn parse(
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<StoreSections, String> {
        let tree: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut sections = toml::Table::new();
        for key in ["idempotency", "suppression"] {
            if let Some(mut value) = tree.get(key).cloned() {
                interpolate_strings(&mut value, key, lookup)?;
                sections.insert(key.into(), value);
            }
        }
        let parsed: StoreSections = build_config(&toml::Value::Table(sections))
            .and_then(|c| c.try_deserialize())
            .map_err(|e| e.to_string())?;
        let mut problems = parsed.idempotency.problems();
        problems.extend(parsed.suppression.problems(&parsed.idempotency));
        match problems.is_empty() {
            true => Ok(parsed),
            false => Err(problems.join("; ")),
        }
    }
}

fn interpolate_strings(
    value: &mut toml::Value,
    at: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    match value {
        toml::Value::String(s) => {
            *s = interpolate(s, lookup).map_err(|e| format!("{at}: {e}"))?;
        }
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                interpolate_strings(v, &format!("{at}.{k}"), lookup)?;
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                interpolate_strings(v, &format!("{at}[{i}]"), lookup)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StoreSections, String> {
        let lookup = |k: &str| (k == "REDIS_PASSWORD").then(|| "s3cret".to_owned());
        StoreSections::parse(text, &lookup)
    }

    #[test]
    fn absent_sections_are_the_defaults() {
        let s = parse("[amqp]\nprefetch = 8\n").unwrap();
        assert_eq!(s.idempotency.store, StoreKind::Embedded);
        assert_eq!(s.idempotency.path, PathBuf::from("herald-ledger.redb"));
        assert_eq!(s.idempotency.ttl, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(s.idempotency.in_doubt, InDoubtPolicy::Resend);
        assert_eq!(s.idempotency.lease, None);
        assert!(!s.idempotency.multi_process);
        assert!(!s.suppression.enabled);
    }

    #[test]
    fn the_sections_are_read_with_interpolation() {
        let s = parse(
            "[idempotency]\nstore = \"redis\"\nurl = \"redis://:${REDIS_PASSWORD}@10.0.0.5:6379/2\"\n\
             ttl = \"2d\"\nin_doubt = \"dead_letter\"\nlease = \"90s\"\nprefix = \"eu:\"\n\
             [suppression]\nenabled = true\n",
        )
        .unwrap();
        assert_eq!(s.idempotency.store, StoreKind::Redis);
        assert_eq!(
            s.idempotency.url.expose(),
            "redis://:s3cret@10.0.0.5:6379/2"
        );
        assert_eq!(format!("{:?}", s.idempotency).matches("s3cret").count(), 0);
        assert_eq!(s.idempotency.ttl, Duration::from_secs(2 * 24 * 3600));
        assert_eq!(s.idempotency.in_doubt, InDoubtPolicy::DeadLetter);
        assert_eq!(s.idempotency.lease, Some(Duration::from_secs(90)));
        assert_eq!(s.idempotency.prefix, "eu:");
        assert!(s.suppression.enabled);
    }

    #[test]
    fn mistakes_are_reported_with_their_place() {
        let unknown = parse("[idempotency]\nstroe = \"redis\"\n").unwrap_err();
        assert!(unknown.contains("stroe"), "{unknown}");
        let policy = parse("[idempotency]\nin_doubt = \"maybe\"\n").unwrap_err();
        assert!(policy.contains("maybe"), "{policy}");
        let url = parse("[idempotency]\nstore = \"redis\"\nurl = \"http://x\"\n").unwrap_err();
        assert!(url.contains("idempotency.url"), "{url}");
        let off = parse("[idempotency]\nstore = \"off\"\n[suppression]\nenabled = true\n");
        assert!(off.unwrap_err().contains("suppression.enabled"));
        let missing = parse("[idempotency]\npath = \"${NOPE}\"\n").unwrap_err();
        assert!(missing.contains("idempotency.path"), "{missing}");
    }
}
