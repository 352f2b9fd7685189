//! Herald's worker: notification jobs from RabbitMQ in, emails through the
//! SES v2 API and status events out.
//!
//! - [`settings`]: the TOML configuration, `${ENV}` interpolation, secrets.
//! - [`render`]: Liquid templates, sender fields, attachments, raw MIME.
//! - [`ledger`]: the send ledger (one SES acceptance per job id) and the
//!   suppression list.
#![forbid(unsafe_code)]

pub mod amqp;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod consumer;
pub mod dead_letter_depth;
pub mod dlq;
pub mod http;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod pipeline;
pub mod preview;
pub mod process_metrics;
pub mod ratelimit;
pub mod render;
pub mod request;
pub mod ses;
pub mod settings;
