//! Logs: human-readable or JSON lines on stderr, filtered by `RUST_LOG`.
//! Human logs are coloured only on a terminal, and never with `NO_COLOR`.
//!
//! Lines are written by a thread of their own (tracing-appender's
//! non-blocking writer): a job never waits on a slow pipe or disk. When that
//! thread falls [`BUFFERED_LINES`] behind, new lines are dropped and counted
//! (`herald_log_lines_dropped_total`).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Lines waiting for the writer thread at most; past it they are dropped.
pub const BUFFERED_LINES: usize = 16 * 1024;

/// Bytes the writer thread gathers before a write: it writes the lines
/// waiting in one call, and at least once each time it has caught up.
const WRITE_BUFFER: usize = 64 * 1024;

/// The writer's count of dropped lines, once logging is set up.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Log lines dropped because the writer fell behind.
pub fn dropped_lines() -> u64 {
    DROPPED.get().map_or(0, |c| c.dropped_lines() as u64)
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// AWS SDK crates log credential identifiers at debug level, so their logs
/// stop at info whatever `RUST_LOG` says.
const AWS_CRATES: &[&str] = &[
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sdk_sesv2",
    "aws_sdk_sts",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_types",
];

/// Installs the global subscriber; `default_level` applies without
/// `RUST_LOG`. Keep the guard until the end: dropping it writes the lines
/// still waiting.
pub fn init(format: LogFormat, default_level: &str) -> WorkerGuard {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    for target in AWS_CRATES {
        let directive = format!("{target}=info").parse().expect("a valid directive");
        filter = filter.add_directive(directive);
    }
    let colour = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    );
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(BUFFERED_LINES)
        .thread_name("herald-log")
        .finish(std::io::BufWriter::with_capacity(
            WRITE_BUFFER,
            std::io::stderr(),
        ));
    let _ = DROPPED.set(writer.error_counter());
    // `try_init` also passes the `log` records of lapin and others on.
    let _ = subscriber(format, filter, colour, writer).try_init();
    guard
}

/// The subscriber `init` installs, writing its lines to `writer`.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    colour: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    match format {
        LogFormat::Human => Box::new(builder.finish()),
        // The job's span once, as `span`: a list of every span would repeat
        // it, and each span in a line is parsed again from its stored JSON.
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// The span of one job's delivery: the pipeline records the job's id,
/// workflow, environment and channel in it as it reads them, and every line
/// logged for the job carries them.
pub fn job_span(attempt: u32) -> tracing::Span {
    tracing::info_span!(
        "job",
        message_id = tracing::field::Empty,
        workflow = tracing::field::Empty,
        environment = tracing::field::Empty,
        channel = tracing::field::Empty,
        attempt,
    )
}

/// Colour codes only help a person at a terminal; in a file or a log
/// collector they are noise. `NO_COLOR` (any non-empty value) turns them off
/// everywhere (<https://no-color.org>).
pub fn use_colour(terminal: bool, no_color: Option<OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// An error and its causes on one line, each said once. lapin's errors
/// repeat the broker's text in their own message and again as their source,
/// so `{:#}` would print it two or three times.
pub fn chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut previous = String::new();
    for cause in error.chain() {
        let text = match cause.downcast_ref::<lapin::Error>() {
            Some(lapin) => crate::amqp::describe(lapin),
            None => cause.to_string(),
        };
        let repeated = line.contains(&text) || (!previous.is_empty() && text.contains(&previous));
        if text.is_empty() || repeated {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
        previous = text;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Lines written, shared with the test.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_json_line_carries_the_event_and_the_jobs_span_once() {
        let capture = Capture::default();
        let writer = {
            let capture = capture.clone();
            move || capture.clone()
        };
        let logs = subscriber(LogFormat::Json, EnvFilter::new("info"), false, writer);
        tracing::subscriber::with_default(logs, || {
            let span = tracing::info_span!("job", message_id = "m1", attempt = 1);
            let _entered = span.enter();
            tracing::info!(status = "sent", "job done");
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).expect(&text);
        assert_eq!(line["message"], "job done", "{line}");
        assert_eq!(line["status"], "sent");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["span"]["message_id"], "m1");
        assert_eq!(line["span"]["attempt"], 1);
        assert!(line.get("spans").is_none(), "{line}");
    }

    #[test]
    fn a_chain_says_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        let error = anyhow::Error::from(lapin::Error::from(io)).context("consuming the jobs queue");
        assert_eq!(chain(&error), "consuming the jobs queue: connection reset");
        let plain = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(chain(&plain), "outer: middle: inner");
    }

    #[test]
    fn colour_is_used_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(!use_colour(false, None), "a pipe or a file gets no colour");
        assert!(!use_colour(true, Some("1".into())), "NO_COLOR is honoured");
        assert!(
            use_colour(true, Some("".into())),
            "an empty NO_COLOR is unset"
        );
    }
}
