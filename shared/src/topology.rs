//! Default names of Herald's RabbitMQ topology and of the headers it sets.
//! Every name can be changed in the worker's `[amqp]` settings.

/// Direct exchange producers publish jobs to.
pub const JOBS_EXCHANGE: &str = "herald.jobs";
/// The work queue (quorum), bound to [`JOBS_EXCHANGE`] with [`SEND_ROUTING_KEY`].
pub const JOBS_QUEUE: &str = "herald.jobs";
/// Routing key of jobs.
pub const SEND_ROUTING_KEY: &str = "send";
/// Prefix of the delayed-retry queues, one per delay tier.
pub const RETRY_QUEUE_PREFIX: &str = "herald.retry";
/// Fanout exchange of dead letters.
pub const DEAD_LETTER_EXCHANGE: &str = "herald.dlx";
/// The dead-letter queue `herald dlq` reads.
pub const DEAD_QUEUE: &str = "herald.dead";
/// A second queue on [`DEAD_LETTER_EXCHANGE`]: workers publish
/// `message.undelivered` for the letters the broker dead-lettered itself.
pub const DEAD_EVENTS_QUEUE: &str = "herald.dead.events";
/// Topic exchange of status events; routing key = event type.
pub const EVENTS_EXCHANGE: &str = "herald.events";

/// Headers Herald sets on a dead letter.
pub mod headers {
    /// `fatal_error` or `retries_exhausted`.
    pub const FAILURE_REASON: &str = "x-herald-failure-reason";
    /// Machine-readable error code (e.g. `invalid_job`, `MessageRejected`).
    pub const ERROR: &str = "x-herald-error";
    /// Human-readable error message.
    pub const ERROR_MESSAGE: &str = "x-herald-error-message";
    /// SES requests made for the job so far.
    pub const ATTEMPTS: &str = "x-herald-attempts";
    /// RFC 3339 time the job was dead-lettered.
    pub const FAILED_AT: &str = "x-herald-failed-at";
    /// Delayed retries a job has taken (set on jobs in the retry tiers).
    pub const RETRIES: &str = "x-herald-retries";
    /// Times `herald dlq replay` sent a letter back to work.
    pub const REPLAYS: &str = "x-herald-replays";
}
