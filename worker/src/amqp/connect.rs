//! Why the broker cannot be reached, said once and in the terms an operator
//! acts on: a refused connection, a name that does not resolve, a login the
//! broker refused, a TLS failure or a timeout.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use lapin::uri::AMQPUri;

use crate::settings::redact_url;

/// Why one connection attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerCause {
    /// The URL cannot be parsed.
    BadUrl(String),
    /// The host name does not resolve.
    Dns {
        host: String,
        detail: String,
    },
    /// Nothing listens at the address.
    Refused {
        address: String,
    },
    TimedOut(Duration),
    /// The broker refused the user, the password or the vhost.
    Authentication(String),
    Tls(String),
    Other(String),
}

impl fmt::Display for BrokerCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerCause::BadUrl(detail) => write!(f, "invalid URL: {detail}"),
            BrokerCause::Dns { host, detail } => {
                write!(f, "cannot resolve host `{host}`: {detail}")
            }
            BrokerCause::Refused { address } => write!(
                f,
                "connection refused by {address} (is RabbitMQ running and listening there?)"
            ),
            BrokerCause::TimedOut(after) => write!(f, "timed out after {}s", after.as_secs()),
            BrokerCause::Authentication(detail) => write!(f, "authentication refused: {detail}"),
            BrokerCause::Tls(detail) => write!(f, "TLS failed: {detail}"),
            BrokerCause::Other(detail) => f.write_str(detail),
        }
    }
}

impl BrokerCause {
    /// The cause of a failed lapin connection attempt.
    pub fn from_lapin(error: &lapin::Error) -> BrokerCause {
        use lapin::ErrorKind;
        match error.kind() {
            ErrorKind::ProtocolError(amqp) => {
                let message = amqp.get_message().to_string();
                let refused = ["ACCESS_REFUSED", "NOT_ALLOWED"];
                match refused.iter().any(|code| message.contains(code)) {
                    true => BrokerCause::Authentication(message),
                    false => BrokerCause::Other(message),
                }
            }
            ErrorKind::IOError(io) => from_io("the broker", io),
            _ => BrokerCause::Other(describe(error)),
        }
    }
}

fn from_io(address: &str, error: &std::io::Error) -> BrokerCause {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => BrokerCause::Refused {
            address: address.to_owned(),
        },
        std::io::ErrorKind::TimedOut => BrokerCause::TimedOut(Duration::ZERO),
        _ if ["tls", "certificate", "handshake", "ssl"]
            .iter()
            .any(|w| lower.contains(w)) =>
        {
            BrokerCause::Tls(text)
        }
        _ => BrokerCause::Other(format!("{address}: {text}")),
    }
}

/// A lapin error in one line, each part once: lapin's own text repeats the
/// broker's error kind and message, and again through `source()`.
pub fn describe(error: &lapin::Error) -> String {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => amqp.get_message().to_string(),
        lapin::ErrorKind::IOError(io) => io.to_string(),
        _ => error.to_string(),
    }
}

/// The broker could not be reached; the URL's password is redacted.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to RabbitMQ at {url}: {cause}")]
pub struct ConnectError {
    url: String,
    cause: BrokerCause,
}

impl ConnectError {
    pub fn new(url: &str, cause: BrokerCause) -> ConnectError {
        ConnectError {
            url: redact_url(url),
            cause,
        }
    }

    /// What went wrong, for callers that react to it.
    pub fn cause(&self) -> &BrokerCause {
        &self.cause
    }
}

/// Resolves the URL's host and opens (then closes) a TCP connection to it,
/// so that a broker that is down or a name that does not resolve is reported
/// at once, with that cause.
pub async fn reach(url: &str, timeout: Duration) -> Result<(), ConnectError> {
    let fail = |cause| ConnectError::new(url, cause);
    let uri: AMQPUri = url.parse().map_err(|e| fail(BrokerCause::BadUrl(e)))?;
    let (host, port) = (uri.authority.host.as_str(), uri.authority.port);
    let resolved = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await;
    let addresses: Vec<SocketAddr> = match resolved {
        Err(_) => return Err(fail(BrokerCause::TimedOut(timeout))),
        Ok(Err(e)) => {
            return Err(fail(BrokerCause::Dns {
                host: host.to_owned(),
                detail: e.to_string(),
            }))
        }
        Ok(Ok(addresses)) => addresses.collect(),
    };
    let mut cause = BrokerCause::Dns {
        host: host.to_owned(),
        detail: "no address".into(),
    };
    for address in addresses {
        let attempt = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address));
        match attempt.await {
            Ok(Ok(_stream)) => return Ok(()),
            Ok(Err(e)) => cause = from_io(&address.to_string(), &e),
            Err(_) => cause = BrokerCause::TimedOut(timeout),
        }
    }
    Err(fail(cause))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_reported_as_refused_at_once() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("amqp://guest:hunter2@127.0.0.1:{port}/%2f");
        let started = std::time::Instant::now();
        let error = reach(&url, Duration::from_secs(30)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(error.cause(), BrokerCause::Refused { .. }),
            "{error}"
        );
        let text = error.to_string();
        assert_eq!(text.matches("refused").count(), 1, "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_reported_as_such() {
        let url = "amqp://guest:guest@no-such-host.invalid:5672/%2f";
        let error = reach(url, Duration::from_secs(30)).await.unwrap_err();
        assert!(matches!(error.cause(), BrokerCause::Dns { .. }), "{error}");
        assert!(
            error.to_string().contains("no-such-host.invalid"),
            "{error}"
        );
    }

    #[test]
    fn an_invalid_url_is_reported_without_its_password() {
        let error = ConnectError::new("amqp://u:secret@", BrokerCause::BadUrl("x".into()));
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}
