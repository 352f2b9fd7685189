//! What a producer of Herald jobs, or a consumer of its status events, needs.
//!
//! - [`job`]: the notification job a producer publishes, and its validation.
//! - [`event`]: the status events Herald publishes on the events exchange.
//! - [`topology`]: the default exchange, queue and header names.
//! - [`tags`]: sanitising values to the rules of SES message tags.
//! - [`schema`]: JSON Schemas of the job and the events, for other languages.
//! - `producer` (feature `producer`): a small async publisher with confirms.
#![forbid(unsafe_code)]

pub mod event;
pub mod job;
#[cfg(feature = "producer")]
pub mod producer;
pub mod schema;
pub mod tags;
pub mod topology;

pub use event::{Event, EventType};
pub use job::{Job, JobError, Recipient};
