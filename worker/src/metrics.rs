//! Every metric Herald exports (SPEC §10), in one place. Label values come
//! from configuration (environment, channel) or from fixed sets (status,
//! outcome, tier, reason), never from job data, so cardinality stays bounded.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of per-message counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    pub environment: String,
    pub channel: String,
    pub status: String,
}

/// Labels of SES request counters; `outcome` is `ok` or the retry class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SesLabels {
    pub environment: String,
    pub channel: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TierLabels {
    pub tier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

/// Labels of per-environment counters; the environment comes from configuration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EnvironmentLabels {
    pub environment: String,
}

/// Labels of a channel/environment route; bounded by configuration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub environment: String,
    pub channel: String,
}

impl RouteLabels {
    pub fn of(route: &crate::channels::Route) -> RouteLabels {
        RouteLabels {
            environment: route.environment.clone(),
            channel: route.channel.clone(),
        }
    }
}

/// Labels of feedback events: a configured environment (or `unknown`) and
/// an event type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FeedbackLabels {
    pub environment: String,
    pub r#type: String,
}

/// Labels of a circuit breaker: a route and one of its regions.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CircuitLabels {
    pub environment: String,
    pub channel: String,
    pub region: String,
}

/// Labels of a breaker's transitions: its own and the phase it went to.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransitionLabels {
    pub environment: String,
    pub channel: String,
    pub region: String,
    pub to: String,
}

/// The worker's metrics and the registry that exposes them.
pub struct Metrics {
    pub registry: Registry,
    pub jobs_received: Counter,
    pub messages: Family<MessageLabels, Counter>,
    pub job_duration: Histogram,
    pub render_duration: Histogram,
    pub retries: Family<TierLabels, Counter>,
    pub dead_lettered: Family<ReasonLabels, Counter>,
    pub in_flight: Gauge,
    pub rate_limit_wait: Histogram,
    /// Waits paced by this worker alone because the fleet's Redis did not
    /// answer.
    pub rate_limit_fallbacks: Family<RouteLabels, Counter>,
    pub amqp_connected: Gauge,
    pub amqp_reconnects: Counter,
    /// Depth of the dead-letter queue, polled ([`crate::dead_letter_depth`]):
    /// letters waiting for a decision, whichever worker or broker put them there.
    pub dead_letters: Gauge,
    /// Log lines the log writer dropped (it fell behind); brought up to
    /// date from [`crate::logging::dropped_lines`] at each scrape.
    pub log_lines_dropped: Counter,
    pub config_reload_failures: Counter,
    /// When the configuration in use was loaded (at start or by a reload).
    pub config_last_reload_success: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub ses: SesMetrics,
    pub ledger: LedgerMetrics,
    pub feedback: FeedbackMetrics,
}

/// SES requests, and the circuit breakers that guard them.
pub struct SesMetrics {
    pub requests: Family<SesLabels, Counter>,
    pub request_duration: Histogram,
    pub unreadable_acceptances: Counter,
    /// SES requests that failed because the environment's credentials did
    /// (expired role, revoked key, none found): no retry can fix those.
    pub credential_failures: Family<EnvironmentLabels, Counter>,
    /// 0 closed, 1 half-open, 2 open.
    pub circuit_state: Family<CircuitLabels, Gauge>,
    pub circuit_transitions: Family<TransitionLabels, Counter>,
}

/// The send ledger: its answers that change what a job does, and how long
/// a job waits on it.
pub struct LedgerMetrics {
    pub duplicates_suppressed: Family<RouteLabels, Counter>,
    pub in_doubt: Counter,
    pub errors: Counter,
    /// Claiming a job's id before its SES request (durable when it returns).
    pub claim_duration: Histogram,
    /// Recording SES's acceptance after the request (durable when it returns).
    pub record_duration: Histogram,
}

/// Labels of the ledger's timings: `claim` or `record`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub operation: String,
}

/// SES feedback received through SNS.
pub struct FeedbackMetrics {
    /// Herald events published from SES feedback.
    pub events: Family<FeedbackLabels, Counter>,
    /// SNS requests refused, by the check that failed.
    pub rejected: Family<ReasonLabels, Counter>,
    /// Verified SES events with nothing to publish (`send`, mail Herald did
    /// not send, …).
    pub ignored: Family<ReasonLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Registers a new metric of a default-constructed kind and returns it.
fn add<M: Default + Clone + prometheus_client::registry::Metric>(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> M {
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

fn histogram(
    registry: &mut Registry,
    name: &str,
    help: &str,
    buckets: impl Iterator<Item = f64>,
) -> Histogram {
    let histogram = Histogram::new(buckets);
    registry.register(name, help, histogram.clone());
    histogram
}

/// 1 ms to ~33 s: SES answers in tens of milliseconds, throttled or slow
/// requests take seconds.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 2.0, 16)
}

impl SesMetrics {
    fn register(r: &mut Registry) -> SesMetrics {
        SesMetrics {
            requests: add(
                r,
                "herald_ses_requests",
                "SES SendEmail requests by outcome",
            ),
            request_duration: histogram(
                r,
                "herald_ses_request_duration_seconds",
                "Duration of SES requests",
                latency_buckets(),
            ),
            unreadable_acceptances: add(
                r,
                "herald_ses_unreadable_acceptances",
                "SES 2xx answers without a readable MessageId (sent, id unknown)",
            ),
            credential_failures: add(
                r,
                "herald_credential_failures",
                "SES requests that failed on the environment's credentials",
            ),
            circuit_state: add(
                r,
                "herald_circuit_state",
                "Circuit breaker per channel/environment/region: 0 closed, 1 half-open, 2 open",
            ),
            circuit_transitions: add(
                r,
                "herald_circuit_transitions",
                "Circuit breaker changes of phase, by the phase entered",
            ),
        }
    }
}

impl LedgerMetrics {
    fn register(r: &mut Registry) -> LedgerMetrics {
        let durations: Family<OperationLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(ledger_histogram);
        r.register(
            "herald_ledger_duration_seconds",
            "How long a send-ledger claim or record took, by operation",
            durations.clone(),
        );
        LedgerMetrics {
            duplicates_suppressed: add(
                r,
                "herald_duplicates_suppressed",
                "Jobs whose id SES had already accepted: not sent again",
            ),
            in_doubt: add(
                r,
                "herald_in_doubt",
                "Claims found past their lease without an acceptance (a worker died during the SES request)",
            ),
            errors: add(r, "herald_ledger_errors", "Send-ledger operations that failed"),
            claim_duration: ledger_timing(&durations, "claim"),
            record_duration: ledger_timing(&durations, "record"),
        }
    }
}

/// 0.1 ms to ~3 s: a durable commit takes a fraction of a millisecond on a
/// quiet disk, and the store's `timeout` bounds it.
fn ledger_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

fn ledger_timing(
    family: &Family<OperationLabels, Histogram, fn() -> Histogram>,
    operation: &str,
) -> Histogram {
    let labels = OperationLabels {
        operation: operation.to_owned(),
    };
    family.get_or_create(&labels).clone()
}

impl FeedbackMetrics {
    fn register(r: &mut Registry) -> FeedbackMetrics {
        FeedbackMetrics {
            events: add(
                r,
                "herald_feedback_events",
                "Events published from SES feedback (SNS)",
            ),
            rejected: add(
                r,
                "herald_feedback_rejected",
                "SNS requests refused, by the check that failed; none is published",
            ),
            ignored: add(
                r,
                "herald_feedback_ignored",
                "Verified SES events not published: send events, mail Herald did not send",
            ),
        }
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let r = &mut registry;
        let metrics = Metrics {
            jobs_received: add(r, "herald_jobs_received", "Jobs taken from the queue"),
            messages: add(r, "herald_messages", "Jobs by final status"),
            job_duration: histogram(
                r,
                "herald_job_duration_seconds",
                "From receiving a job to acknowledging it",
                latency_buckets(),
            ),
            render_duration: histogram(
                r,
                "herald_render_duration_seconds",
                "Rendering templates and building the MIME message",
                exponential_buckets(0.00001, 4.0, 10),
            ),
            retries: add(r, "herald_retries", "Jobs moved to a delayed-retry tier"),
            dead_lettered: add(
                r,
                "herald_dead_lettered",
                "Jobs moved to the dead-letter queue",
            ),
            in_flight: add(r, "herald_in_flight", "Jobs being processed"),
            rate_limit_wait: histogram(
                r,
                "herald_rate_limit_wait_seconds",
                "Time jobs waited for the send-rate limiter",
                latency_buckets(),
            ),
            rate_limit_fallbacks: add(
                r,
                "herald_rate_limit_fallbacks",
                "Sends paced by the worker alone (rate / limits.workers) because the fleet's Redis did not answer",
            ),
            amqp_connected: add(r, "herald_amqp_connected", "1 while connected to RabbitMQ"),
            amqp_reconnects: add(r, "herald_amqp_reconnects", "Reconnections to RabbitMQ"),
            dead_letters: add(
                r,
                "herald_dead_letters",
                "Messages in the dead-letter queue",
            ),
            log_lines_dropped: add(
                r,
                "herald_log_lines_dropped",
                "Log lines dropped because the log writer fell behind; no job waits for it",
            ),
            config_reload_failures: add(
                r,
                "herald_config_reload_failures",
                "Reloads refused because the configuration or a template was invalid",
            ),
            config_last_reload_success: add(
                r,
                "herald_config_last_reload_success_timestamp_seconds",
                "When the configuration in use was loaded, in Unix seconds",
            ),
            ses: SesMetrics::register(r),
            ledger: LedgerMetrics::register(r),
            feedback: FeedbackMetrics::register(r),
            registry: Registry::default(),
        };
        registry.register_collector(Box::new(crate::process_metrics::ProcessCollector));
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The text exposition served on `/metrics`.
    pub fn encode(&self) -> String {
        let dropped = crate::logging::dropped_lines();
        let counted = self.log_lines_dropped.get();
        if dropped > counted {
            self.log_lines_dropped.inc_by(dropped - counted);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Counts one job's final status.
    pub fn message(&self, environment: &str, channel: &str, status: &str) {
        self.messages
            .get_or_create(&MessageLabels {
                environment: environment.to_owned(),
                channel: channel.to_owned(),
                status: status.to_owned(),
            })
            .inc();
    }

    /// Counts one SES request and its duration.
    pub fn ses_request(&self, environment: &str, channel: &str, outcome: &str, seconds: f64) {
        self.ses
            .requests
            .get_or_create(&SesLabels {
                environment: environment.to_owned(),
                channel: channel.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.ses.request_duration.observe(seconds);
    }

    /// Records that the configuration in use was loaded now.
    pub fn config_reloaded(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.config_last_reload_success.set(now);
    }

    /// Sets a breaker's state and counts its transition to `to`.
    pub fn circuit_transition(
        &self,
        environment: &str,
        channel: &str,
        region: &str,
        to: crate::circuit::Phase,
    ) {
        let labels = CircuitLabels {
            environment: environment.to_owned(),
            channel: channel.to_owned(),
            region: region.to_owned(),
        };
        self.ses.circuit_state.get_or_create(&labels).set(to as i64);
        self.ses
            .circuit_transitions
            .get_or_create(&TransitionLabels {
                environment: labels.environment,
                channel: labels.channel,
                region: labels.region,
                to: to.label().to_owned(),
            })
            .inc();
    }

    /// Counts one SES request that failed on `environment`'s credentials.
    pub fn credential_failure(&self, environment: &str) {
        self.ses
            .credential_failures
            .get_or_create(&EnvironmentLabels {
                environment: environment.to_owned(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_name_is_exported() {
        let metrics = Metrics::new();
        metrics.message("prod", "ses", "sent");
        metrics.ses_request("prod", "ses", "ok", 0.02);
        metrics
            .retries
            .get_or_create(&TierLabels { tier: "10s".into() })
            .inc();
        metrics
            .dead_lettered
            .get_or_create(&ReasonLabels {
                reason: "fatal_error".into(),
            })
            .inc();
        metrics.credential_failure("prod");
        metrics.circuit_transition("prod", "ses", "eu-west-1", crate::circuit::Phase::Open);
        metrics.config_reloaded();
        metrics.ledger.record_duration.observe(0.0004);
        let text = metrics.encode();
        for name in [
            "herald_jobs_received_total",
            "herald_messages_total{environment=\"prod\",channel=\"ses\",status=\"sent\"} 1",
            "herald_ses_requests_total{environment=\"prod\",channel=\"ses\",outcome=\"ok\"} 1",
            "herald_ses_request_duration_seconds_bucket",
            "herald_job_duration_seconds_count",
            "herald_render_duration_seconds_sum",
            "herald_retries_total{tier=\"10s\"} 1",
            "herald_dead_lettered_total{reason=\"fatal_error\"} 1",
            "herald_in_flight",
            "herald_rate_limit_wait_seconds_count",
            "herald_amqp_connected",
            "herald_amqp_reconnects_total",
            "herald_dead_letters 0",
            "herald_credential_failures_total{environment=\"prod\"} 1",
            "herald_circuit_state{environment=\"prod\",channel=\"ses\",region=\"eu-west-1\"} 2",
            "herald_circuit_transitions_total{environment=\"prod\",channel=\"ses\",region=\"eu-west-1\",to=\"open\"} 1",
            "herald_config_reload_failures_total 0",
            "herald_config_last_reload_success_timestamp_seconds",
            "herald_log_lines_dropped_total",
            "herald_ledger_duration_seconds_count{operation=\"claim\"} 0",
            "herald_ledger_duration_seconds_count{operation=\"record\"} 1",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }
}
