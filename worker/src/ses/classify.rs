//! The one place that decides whether a failed SES request is worth retrying.

use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What to do about a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, 5xx, timeouts, connection errors: retry with backoff.
    Transient,
    /// The account's sending is paused: retry on the longest tier, and alert.
    Paused,
    /// Retrying cannot help (rejected message, bad request, suspended account).
    Permanent,
    /// No request was made: the route's circuit breaker is open (SES is
    /// failing for everyone), so the job waits without using an attempt,
    /// about this long, until a breaker lets a probe by.
    CircuitOpen(std::time::Duration),
    /// The environment's credentials were refused or could not be had (an
    /// expired role, a revoked key): every job of the environment would fail
    /// alike, so jobs wait on the longest tier without using attempts.
    Credentials,
}

/// A failed SES request, with the SES error code kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SendError {
    pub retry: Retry,
    /// The SES error code (`MessageRejected`, …) or a transport kind
    /// (`Timeout`, `ConnectionError`, `HttpStatus503`).
    pub code: String,
    pub message: String,
}

impl SendError {
    pub fn new(retry: Retry, code: impl Into<String>, message: impl Into<String>) -> SendError {
        SendError {
            retry,
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Classifies an SES error code and HTTP status.
pub fn classify(code: Option<&str>, status: Option<u16>) -> Retry {
    match code {
        Some("TooManyRequestsException" | "LimitExceededException" | "Throttling")
        | Some("ThrottlingException" | "RequestTimeout" | "ServiceUnavailable") => {
            return Retry::Transient
        }
        Some("SendingPausedException") => return Retry::Paused,
        Some(
            "MessageRejected"
            | "MailFromDomainNotVerifiedException"
            | "AccountSuspendedException"
            | "BadRequestException"
            | "NotFoundException"
            | "AccessDeniedException",
        ) => return Retry::Permanent,
        Some(
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException",
        ) => return Retry::Credentials,
        _ => {}
    }
    match status {
        Some(429) | Some(408) => Retry::Transient,
        Some(s) if s >= 500 => Retry::Transient,
        Some(_) => Retry::Permanent,
        None => Retry::Transient,
    }
}

/// Whether SES answered 2xx although the SDK could not read the answer: an
/// acceptance all the same, since SES has the email.
pub fn answered_2xx<E, R: HasStatus>(err: &SdkError<E, R>) -> bool {
    let status = match err {
        SdkError::ServiceError(service) => service.raw().status_code(),
        SdkError::ResponseError(response) => response.raw().status_code(),
        _ => return false,
    };
    (200..300).contains(&status)
}

/// Turns any SDK error into a [`SendError`].
pub fn from_sdk<E, R>(err: SdkError<E, R>) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HasStatus,
{
    match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let code = service.err().code().map(str::to_owned);
            let message = service
                .err()
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
            let retry = classify(code.as_deref(), Some(status));
            let code = code.unwrap_or_else(|| format!("HttpStatus{status}"));
            SendError::new(retry, code, message)
        }
        SdkError::TimeoutError(_) => {
            SendError::new(Retry::Transient, "Timeout", "SES request timed out")
        }
        SdkError::DispatchFailure(failure) => {
            let code = if failure.is_timeout() {
                "Timeout"
            } else {
                "ConnectionError"
            };
            let retry = if failure.is_user() {
                Retry::Permanent
            } else {
                Retry::Transient
            };
            SendError::new(retry, code, DisplayErrorContext(&err).to_string())
        }
        SdkError::ResponseError(response) => {
            let status = response.raw().status_code();
            SendError::new(
                classify(None, Some(status)),
                format!("HttpStatus{status}"),
                DisplayErrorContext(&err).to_string(),
            )
        }
        SdkError::ConstructionFailure(_) => {
            // Signing needs credentials: a provider that has none fails here.
            let message = DisplayErrorContext(&err).to_string();
            match message.to_ascii_lowercase().contains("credentials") {
                true => SendError::new(Retry::Credentials, "CredentialsUnavailable", message),
                false => SendError::new(Retry::Permanent, "RequestConstruction", message),
            }
        }
        _ => SendError::new(
            Retry::Permanent,
            "RequestConstruction",
            DisplayErrorContext(&err).to_string(),
        ),
    }
}

/// The HTTP status of a raw response, whatever its type.
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_sesv2::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_and_status_is_classified() {
        use Retry::*;
        let table: &[(Option<&str>, Option<u16>, Retry)] = &[
            (Some("TooManyRequestsException"), Some(429), Transient),
            (Some("LimitExceededException"), Some(400), Transient),
            (Some("SendingPausedException"), Some(400), Paused),
            (Some("MessageRejected"), Some(400), Permanent),
            (
                Some("MailFromDomainNotVerifiedException"),
                Some(400),
                Permanent,
            ),
            (Some("AccountSuspendedException"), Some(400), Permanent),
            (Some("BadRequestException"), Some(400), Permanent),
            (Some("NotFoundException"), Some(404), Permanent),
            (Some("InternalFailure"), Some(500), Transient),
            (None, Some(502), Transient),
            (None, Some(503), Transient),
            (None, Some(429), Transient),
            (None, Some(403), Permanent),
            (Some("AccessDeniedException"), Some(403), Permanent),
            (Some("InvalidClientTokenId"), Some(403), Credentials),
            (Some("UnrecognizedClientException"), Some(403), Credentials),
            (Some("SignatureDoesNotMatch"), Some(403), Credentials),
            (Some("ExpiredTokenException"), Some(403), Credentials),
            (None, None, Transient),
        ];
        for &(code, status, expected) in table {
            assert_eq!(classify(code, status), expected, "{code:?} {status:?}");
        }
    }
}
