//! The SES v2 client of one channel/environment, and sending one raw email.

pub mod classify;
mod raw_body;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::{Region, StalledStreamProtectionConfig};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{
    Destination, EmailContent, ListManagementOptions, MessageTag, RawMessage,
};

pub use classify::{Retry, SendError};

use crate::request::SendRequest;
use crate::settings::{Auth, EnvironmentSettings};

/// An SES client with the SDK's own retries off: Herald counts every request
/// as one attempt and retries by its own policy.
#[derive(Clone, Debug)]
pub struct SesClient {
    client: aws_sdk_sesv2::Client,
    /// The environment's own credentials, to check them at start.
    credentials: SharedCredentialsProvider,
}

impl SesClient {
    /// Builds the client of one environment. Static keys stay with this
    /// client; they are never put in the process environment.
    pub async fn build(settings: &EnvironmentSettings, timeout: Duration) -> SesClient {
        let region = Region::new(settings.region.clone().unwrap_or_default());
        let timeouts = aws_sdk_sesv2::config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            .build();
        let mut config = aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .retry_config(RetryConfig::disabled())
            // Requests are small and bounded by the attempt timeout; stalled-stream
            // protection would add a timer to every request for nothing.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .timeout_config(timeouts);
        let provider = credentials(settings, region).await;
        config = config.credentials_provider(provider.clone());
        if let Some(url) = &settings.endpoint_url {
            config = config.endpoint_url(url);
        }

        SesClient {
            client: aws_sdk_sesv2::Client::from_conf(config.build()),
            credentials: provider,
        }
    }

    /// Resolves the environment's credentials once, so that a worker with
    /// none fails at start instead of retrying every job for half an hour.
    /// The error says why, never what a secret is.
    pub async fn check_credentials(&self, within: Duration) -> Result<(), String> {
        use aws_credential_types::provider::ProvideCredentials;
        match tokio::time::timeout(within, self.credentials.provide_credentials()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string()),
            Err(_) => Err(format!("no answer within {within:?}")),
        }
    }

    /// Whether SES may send as `identity` (an address or a domain) in this
    /// client's region: `Ok(None)` when SES does not know it.
    pub async fn identity_verified(&self, identity: &str) -> Result<Option<bool>, String> {
        use aws_sdk_sesv2::error::ProvideErrorMetadata;
        match self
            .client
            .get_email_identity()
            .email_identity(identity)
            .send()
            .await
        {
            Ok(output) => Ok(Some(output.verified_for_sending_status())),
            Err(e) if e.code() == Some("NotFoundException") => Ok(None),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string()),
        }
    }

    /// Sends one email. Any 2xx answer is an acceptance: SES has the email.
    /// Returns SES's message id, or `None` when the answer could not be read
    /// or lacked one.
    pub async fn send(&self, request: &SendRequest) -> Result<Option<String>, SendError> {
        let construction = |e: aws_sdk_sesv2::error::BuildError| {
            SendError::new(Retry::Permanent, "RequestConstruction", e.to_string())
        };
        let f = &request.fields;
        let destination = f.destination.clone().unwrap_or_default();
        let non_empty = |v: Vec<String>| (!v.is_empty()).then_some(v);
        let destination = Destination::builder()
            .set_to_addresses(non_empty(destination.to_addresses))
            .set_cc_addresses(non_empty(destination.cc_addresses))
            .set_bcc_addresses(non_empty(destination.bcc_addresses))
            .build();
        let spliced = request.raw.len() >= raw_body::SPLICE_FROM;
        let data = match spliced {
            true => Blob::new(raw_body::PLACEHOLDER),
            false => Blob::new(request.raw.to_vec()),
        };
        let raw = RawMessage::builder()
            .data(data)
            .build()
            .map_err(construction)?;
        let tags = f
            .email_tags
            .iter()
            .flatten()
            .map(|t| MessageTag::builder().name(&t.name).value(&t.value).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(construction)?;
        let list = f
            .list_management_options
            .as_ref()
            .map(|l| {
                ListManagementOptions::builder()
                    .set_contact_list_name(l.contact_list_name.clone())
                    .set_topic_name(l.topic_name.clone())
                    .build()
            })
            .transpose()
            .map_err(construction)?;
        let operation = self
            .client
            .send_email()
            .set_from_email_address(f.from_email_address.clone())
            .set_from_email_address_identity_arn(f.from_email_address_identity_arn.clone())
            .destination(destination)
            .set_reply_to_addresses(f.reply_to_addresses.clone())
            .set_feedback_forwarding_email_address(f.feedback_forwarding_email_address.clone())
            .set_feedback_forwarding_email_address_identity_arn(
                f.feedback_forwarding_email_address_identity_arn.clone(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .set_email_tags(Some(tags).filter(|t| !t.is_empty()))
            .set_configuration_set_name(f.configuration_set_name.clone())
            .set_list_management_options(list)
            .set_endpoint_id(f.endpoint_id.clone())
            .set_tenant_name(f.tenant_name.clone());
        let output = match spliced {
            true => {
                let splice = raw_body::splice(request.raw.clone());
                operation.customize().map_request(splice).send().await
            }
            false => operation.send().await,
        };
        match output {
            Ok(output) => Ok(output
                .message_id()
                .filter(|id| !id.is_empty())
                .map(str::to_owned)),
            Err(e) if classify::answered_2xx(&e) => Ok(None),
            Err(e) => Err(classify::from_sdk(e)),
        }
    }
}

impl SesClient {
    /// The account's `SendQuota.MaxSendRate` (SES `GetAccount`).
    pub async fn max_send_rate(&self) -> Result<f64, SendError> {
        let account = self
            .client
            .get_account()
            .send()
            .await
            .map_err(classify::from_sdk)?;
        account
            .send_quota()
            .map(|quota| quota.max_send_rate())
            .filter(|rate| *rate > 0.0)
            .ok_or_else(|| {
                SendError::new(
                    Retry::Permanent,
                    "NoSendQuota",
                    "GetAccount returned no send quota",
                )
            })
    }
}

async fn credentials(settings: &EnvironmentSettings, region: Region) -> SharedCredentialsProvider {
    let static_keys = |id: &str, secret: &str, token: Option<&str>| {
        SharedCredentialsProvider::new(Credentials::new(
            id,
            secret,
            token.map(str::to_owned),
            None,
            "herald-static",
        ))
    };
    let default_chain = || async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(region.clone())
            .load()
            .await;
        config
            .credentials_provider()
            .unwrap_or_else(|| static_keys("", "", None))
    };
    match &settings.auth {
        Some(Auth::AccessKey {
            access_key_id,
            secret_access_key,
            session_token,
        }) => static_keys(
            access_key_id.expose(),
            secret_access_key.expose(),
            session_token.as_ref().map(|t| t.expose()),
        ),
        Some(Auth::AssumeRole {
            role_arn,
            external_id,
            session_name,
            access_key_id,
            secret_access_key,
        }) => {
            let base = match (access_key_id, secret_access_key) {
                (Some(id), Some(secret)) => static_keys(id.expose(), secret.expose(), None),
                _ => default_chain().await,
            };
            let mut sts = aws_config::defaults(BehaviorVersion::latest())
                .region(region.clone())
                .credentials_provider(base);
            if let Some(url) = &settings.sts_endpoint_url {
                sts = sts.endpoint_url(url);
            }
            let mut provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name(session_name.clone().unwrap_or_else(|| "herald".into()))
                .region(region);
            if let Some(external_id) = external_id {
                provider = provider.external_id(external_id.expose());
            }
            SharedCredentialsProvider::new(provider.configure(&sts.load().await).build().await)
        }
        Some(Auth::DefaultChain) | None => default_chain().await,
    }
}
