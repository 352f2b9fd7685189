//! Settings of one channel in one environment (SPEC §6).

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Secret;

/// How the SES client of an environment gets its credentials.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// Static keys of this channel/environment only.
    AccessKey {
        access_key_id: Secret,
        secret_access_key: Secret,
        #[serde(default)]
        session_token: Option<Secret>,
    },
    /// STS AssumeRole, with base credentials from the default chain unless
    /// static keys are given here.
    AssumeRole {
        role_arn: String,
        #[serde(default)]
        external_id: Option<Secret>,
        #[serde(default)]
        session_name: Option<String>,
        #[serde(default)]
        access_key_id: Option<Secret>,
        #[serde(default)]
        secret_access_key: Option<Secret>,
    },
    /// The AWS SDK's default chain: environment, profile, IRSA, instance role.
    DefaultChain,
}

/// A send rate: messages (recipients) per second, or read from SES.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SendRate {
    PerSecond(f64),
    #[serde(with = "auto")]
    Auto,
}

mod auto {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        match String::deserialize(d)?.as_str() {
            "auto" => Ok(()),
            other => Err(serde::de::Error::custom(format!(
                "expected a number or \"auto\", found {other:?}"
            ))),
        }
    }
}

/// A region to fail over to; `endpoint_url` for emulators and tests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverRegion {
    pub region: String,
    #[serde(default)]
    pub endpoint_url: Option<String>,
}

/// One channel in one environment. Sender fields are Liquid templates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSettings {
    /// Render and validate, never call SES.
    #[serde(default)]
    pub sandbox: bool,
    /// The locale of `t` translations when neither the recipient nor the job
    /// names one (`fr`, `pt-BR`); templates see it as `locale`.
    #[serde(default)]
    pub default_locale: Option<String>,
    /// Where sandbox mode writes `<message_id>.eml`.
    #[serde(default)]
    pub outbox: Option<PathBuf>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub auth: Option<Auth>,
    /// An SES-compatible endpoint instead of AWS's.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Regions to send through, in order, while this one's circuit breaker
    /// is open (SPEC §11). The sender identity must be verified there too.
    #[serde(default)]
    pub failover: Vec<FailoverRegion>,
    /// An SES multi-region (Global) endpoint's id: SES routes each email to
    /// a healthy region of the endpoint itself; requests are signed with
    /// SigV4a. An alternative to `failover`.
    #[serde(default)]
    pub endpoint_id: Option<String>,
    /// This environment's circuit breaker, instead of `[circuit_breaker]`.
    #[serde(default)]
    pub circuit_breaker: Option<crate::circuit::BreakerSettings>,
    /// STS endpoint for `assume_role`.
    #[serde(default)]
    pub sts_endpoint_url: Option<String>,
    pub from_address: String,
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub open_tracking: bool,
    #[serde(default)]
    pub link_tracking: bool,
    /// Configuration set without open/click event destinations.
    #[serde(default)]
    pub configuration_set: Option<String>,
    /// Configuration set whose event destinations track opens and clicks;
    /// used when `open_tracking` or `link_tracking` is on.
    #[serde(default)]
    pub tracking_configuration_set: Option<String>,
    #[serde(default)]
    pub max_send_rate: Option<SendRate>,
    /// The rate used when `max_send_rate = "auto"` cannot read SES's quota.
    #[serde(default)]
    pub max_send_rate_fallback: Option<f64>,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub cc: Option<String>,
    #[serde(default)]
    pub bcc: Option<String>,
    /// JSON object deep-merged into the SES `SendEmail` request.
    #[serde(default)]
    pub json_overrides: Option<String>,
    /// Variables for templates, as `vars`.
    #[serde(default)]
    pub vars: Map<String, Value>,
    /// Prefix of the message-id, workflow and recipient-id tags.
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
}

fn default_tag_prefix() -> String {
    "herald".into()
}

impl EnvironmentSettings {
    /// The auth scheme's name, as the configuration writes it.
    pub fn auth_scheme(&self) -> &'static str {
        match &self.auth {
            Some(Auth::AccessKey { .. }) => "access_key",
            Some(Auth::AssumeRole { .. }) => "assume_role",
            Some(Auth::DefaultChain) | None => "default_chain",
        }
    }

    /// Whether emails go through the tracking configuration set.
    pub fn tracking(&self) -> bool {
        self.open_tracking || self.link_tracking
    }

    /// The configuration set the flags select (SES tracks opens and clicks
    /// through a configuration set's event destinations).
    pub fn configuration_set_for_send(&self) -> Option<&str> {
        if self.tracking() {
            self.tracking_configuration_set.as_deref()
        } else {
            self.configuration_set.as_deref()
        }
    }

    /// Links are marked `ses:no-track` when the tracking set is used only
    /// for opens.
    pub fn marks_links_no_track(&self) -> bool {
        self.tracking() && !self.link_tracking
    }

    /// This environment as sent through one of its failover regions.
    pub fn in_region(&self, failover: &FailoverRegion) -> EnvironmentSettings {
        EnvironmentSettings {
            region: Some(failover.region.clone()),
            endpoint_url: failover.endpoint_url.clone(),
            ..self.clone()
        }
    }

    /// Problems of this environment, each prefixed with its field name.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.from_address.trim().is_empty() {
            problems.push("from_address: must not be empty".to_owned());
        }
        if !self.sandbox && self.region.as_deref().unwrap_or("").is_empty() {
            problems.push("region: required unless sandbox = true".to_owned());
        }
        if self.endpoint_id.is_some() && !self.failover.is_empty() {
            problems.push(
                "endpoint_id: a multi-region endpoint fails over by itself; give it or failover, not both"
                    .to_owned(),
            );
        }
        for (i, f) in self.failover.iter().enumerate() {
            if f.region.trim().is_empty() || Some(f.region.as_str()) == self.region.as_deref() {
                problems.push(format!(
                    "failover[{i}].region: must name a region other than the environment's"
                ));
            }
        }
        if let Some(Auth::AssumeRole {
            access_key_id,
            secret_access_key,
            ..
        }) = &self.auth
        {
            if access_key_id.is_some() != secret_access_key.is_some() {
                problems.push(
                    "auth: give both access_key_id and secret_access_key, or neither".to_owned(),
                );
            }
        }
        if let Some(SendRate::PerSecond(rate)) = self.max_send_rate {
            if !(rate.is_finite() && rate > 0.0) {
                problems.push("max_send_rate: must be a positive number or \"auto\"".to_owned());
            }
        }
        if let Some(rate) = self.max_send_rate_fallback {
            if !(rate.is_finite() && rate > 0.0) {
                problems.push("max_send_rate_fallback: must be a positive number".to_owned());
            }
        }
        if self.tracking() && self.tracking_configuration_set.is_none() {
            problems.push(
                "tracking_configuration_set: required when open_tracking or link_tracking is on"
                    .to_owned(),
            );
        }
        let prefix_ok = !self.tag_prefix.is_empty()
            && self
                .tag_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !prefix_ok {
            problems.push("tag_prefix: must be made of [A-Za-z0-9_-]".to_owned());
        }
        for (field, url) in [
            ("endpoint_url", &self.endpoint_url),
            ("sts_endpoint_url", &self.sts_endpoint_url),
        ] {
            if let Some(url) = url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    problems.push(format!("{field}: must be an http:// or https:// URL"));
                }
            }
        }
        problems
    }
}
