//! Herald's worker: notification jobs from RabbitMQ in, emails through the
//! SES v2 API and status events out.
//!
//! A job's way: [`consumer`] takes it from the queue within the in-flight
//! budget, [`pipeline`] turns its bytes into an outcome (parse, [`channels`]
//! route, [`render`], [`request`], [`ledger`] claim, [`ses`] send), and
//! `consumer::settle` makes the outcome durable on the broker ([`amqp`])
//! before the ack.
//!
//! - [`settings`]: the TOML configuration, `${ENV}` interpolation, secrets.
//! - [`channels`]: each channel/environment's sender templates, SES clients
//!   (a primary region and failover regions, each behind a [`circuit`]
//!   breaker) and send-rate limiter ([`ratelimit`]), built once per
//!   configuration load.
//! - [`render`]: Liquid templates within limits, sender fields, attachments,
//!   raw MIME; [`request`]: the exact `SendEmail` request.
//! - [`ses`]: the SES v2 client and what its answers mean.
//! - [`ledger`]: the send ledger (one SES acceptance per job id) and the
//!   suppression list.
//! - [`feedback`]: `POST /sns`: SES events through SNS, verified, become
//!   delivered, bounced, complained, read and clicked events.
//! - [`amqp`]: connections, topology, header names, confirmed publishing.
//! - [`dlq`]: listing, replaying and purging dead letters;
//!   [`dead_letter_depth`]: the dead-letter queue's depth as a gauge.
//! - [`http`], [`metrics`], [`process_metrics`], [`logging`]: what operators
//!   watch; [`clock`]: timestamps.
//! - [`cli`]: the `herald` subcommands; [`preview`]: `herald preview` and
//!   `herald check`'s template lint.
#![forbid(unsafe_code)]

pub mod amqp;
pub mod channels;
pub mod circuit;
pub mod cli;
pub mod clock;
pub mod consumer;
pub mod dead_letter_depth;
pub mod dlq;
pub mod feedback;
pub mod http;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod pipeline;
pub mod preview;
pub mod process_metrics;
pub mod ratelimit;
pub mod reload;
pub mod render;
pub mod request;
pub mod ses;
pub mod settings;
