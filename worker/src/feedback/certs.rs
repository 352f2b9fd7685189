//! SNS signing certificates: fetched over TLS from the SNS host named in
//! the message (checked first), cached, and used to verify signatures.
//!
//! The certificate's authority is the TLS connection to an AWS host, as in
//! AWS's own SDK verifiers; Herald also checks its validity period. For an
//! emulator, `cert_endpoint_url` sends the fetch elsewhere, SigV4-signed for
//! SNS as moto expects; the host in the message is still checked.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{
    UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;

use super::sns::{at_endpoint, region_of, SignatureVersion};
use super::Rejection;

/// Certificates are a few KiB; a larger answer is not one.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
/// Distinct certificates kept; SNS uses a handful per region.
const CACHE_ENTRIES: usize = 64;

/// A certificate's public key and the end of its validity.
#[derive(Clone)]
pub(super) struct Key {
    /// The RSA public key (PKCS #1), as `aws-lc-rs` verifies with it.
    rsa: Arc<[u8]>,
    not_after: SystemTime,
}

/// Fetches, checks and caches signing certificates.
pub struct Certificates {
    /// Follows no redirects: the host checked is the host asked.
    http: reqwest::Client,
    /// Emulators only: the base URL certificate fetches go to.
    endpoint: Option<reqwest::Url>,
    /// By certificate URL, least recently used out first.
    cache: Mutex<lru::LruCache<String, Key>>,
}

impl Certificates {
    pub fn new(http: reqwest::Client, endpoint: Option<reqwest::Url>) -> Certificates {
        let entries = std::num::NonZeroUsize::new(CACHE_ENTRIES).expect("not zero");
        Certificates {
            http,
            endpoint,
            cache: Mutex::new(lru::LruCache::new(entries)),
        }
    }

    /// Checks `signature` (base64) over `text` with the certificate at
    /// `url`, which the caller has already checked is an SNS URL.
    pub async fn verify(
        &self,
        url: &reqwest::Url,
        version: SignatureVersion,
        text: &str,
        signature: &str,
    ) -> Result<(), Rejection> {
        let key = self.key(url).await?;
        check(&key, version, text, signature)
    }

    async fn key(&self, url: &reqwest::Url) -> Result<Key, Rejection> {
        let now = SystemTime::now();
        if let Some(key) = self.cached(url.as_str(), now) {
            return Ok(key);
        }
        let pem = self.fetch(url).await?;
        let key = public_key(&pem, now)?;
        self.lock().put(url.as_str().to_owned(), key.clone());
        Ok(key)
    }

    /// A cached key still valid at `now`.
    fn cached(&self, url: &str, now: SystemTime) -> Option<Key> {
        self.lock().get(url).filter(|k| k.not_after > now).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Key>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The certificate's bytes. A host that cannot be reached or fails is
    /// [`Rejection::CertificateUnavailable`] (SNS will retry); a refusal
    /// (4xx) or an answer too large is [`Rejection::Certificate`].
    async fn fetch(&self, url: &reqwest::Url) -> Result<Vec<u8>, Rejection> {
        let request = match &self.endpoint {
            None => self.http.get(url.clone()),
            Some(base) => {
                let target = at_endpoint(url, base);
                let mut request = self.http.get(target.clone());
                let headers = sigv4_headers(&target, region_of(url))?;
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request
            }
        };
        let failed = |e: &dyn std::fmt::Display, rejection: Rejection| {
            tracing::warn!(url = %url, error = %e, "cannot fetch the SNS signing certificate");
            rejection
        };
        let unavailable = Rejection::CertificateUnavailable;
        let mut response = request.send().await.map_err(|e| failed(&e, unavailable))?;
        let status = response.status();
        if status.is_client_error() || status.is_redirection() {
            return Err(failed(&status, Rejection::Certificate));
        }
        if !status.is_success() {
            return Err(failed(&status, unavailable));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(&e, unavailable))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_CERTIFICATE_BYTES {
                return Err(failed(&"the answer is too large", Rejection::Certificate));
            }
        }
        Ok(body)
    }
}

/// Checks an SNS signature (base64) over `text`.
pub(super) fn check(
    key: &Key,
    version: SignatureVersion,
    text: &str,
    signature: &str,
) -> Result<(), Rejection> {
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Rejection::Signature)?;
    let algorithm = match version {
        SignatureVersion::V1 => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        SignatureVersion::V2 => &RSA_PKCS1_2048_8192_SHA256,
    };
    UnparsedPublicKey::new(algorithm, &*key.rsa)
        .verify(text.as_bytes(), &signature)
        .map_err(|_| Rejection::Signature)
}

/// The RSA key of a PEM certificate valid at `now`.
pub(super) fn public_key(pem: &[u8], now: SystemTime) -> Result<Key, Rejection> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).map_err(|_| Rejection::Certificate)?;
    let cert = pem.parse_x509().map_err(|_| Rejection::Certificate)?;
    let seconds = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    };
    let validity = cert.validity();
    let now_s = seconds(now);
    if now_s < validity.not_before.timestamp() || now_s > validity.not_after.timestamp() {
        tracing::warn!("the SNS signing certificate is outside its validity period");
        return Err(Rejection::Certificate);
    }
    let not_after = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(validity.not_after.timestamp()).unwrap_or(0));
    Ok(Key {
        rsa: cert.public_key().subject_public_key.data.to_vec().into(),
        not_after,
    })
}

/// SigV4 headers for a GET to an emulator's SNS endpoint. The credentials
/// are fixed: emulators accept any, and no real AWS endpoint is asked.
fn sigv4_headers(url: &reqwest::Url, region: &str) -> Result<Vec<(String, String)>, Rejection> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4::SigningParams;
    let identity = aws_credential_types::Credentials::new(
        "HERALDEMULATOR",
        "herald-emulator-only",
        None,
        None,
        "herald-emulator",
    )
    .into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sns")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| Rejection::Certificate)?
        .into();
    let host = url.host_str().unwrap_or_default().to_owned();
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once(("host", host.as_str())),
        SignableBody::Bytes(&[]),
    )
    .map_err(|_| Rejection::Certificate)?;
    let (instructions, _) = sign(request, &params)
        .map_err(|_| Rejection::Certificate)?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}
