//! Subcommands of `herald` (SPEC §8). Exit codes: 0 success, 1 runtime
//! failure, 2 usage or configuration error.

mod check;
mod commands;
mod demo;
mod dlq;
mod feedback;
mod ledger;
mod preview;
pub mod setup;
mod topology;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::logging::LogFormat;

pub use setup::Loaded;

/// Herald: notification jobs from RabbitMQ, sent through AWS SES.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
pub struct Cli {
    /// Configuration file [default: herald.toml, else examples/herald.toml, else built in]
    #[arg(long, short, global = true, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        env = "HERALD_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the worker until SIGTERM or Ctrl-C.
    Run,
    /// Declare the topology, enqueue the example jobs, process them in sandbox mode and print each event.
    Demo {
        /// Leave the demo's queues and exchanges (demo.herald.*) on the broker.
        #[arg(long)]
        keep: bool,
    },
    /// Publish job files to the jobs exchange, each confirmed by the broker.
    Enqueue {
        /// Job files (JSON).
        #[arg(required = true)]
        jobs: Vec<PathBuf>,
        /// Publish files as they are, without validating them.
        #[arg(long)]
        raw: bool,
    },
    /// Render exactly what would be sent for a job, without sending it.
    Render {
        /// Job file (JSON).
        job: PathBuf,
        /// Write the raw email here instead of to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Validate the configuration and every template, and resolve each SES
    /// environment's credentials as `herald run` would.
    Check {
        /// Skip the credentials: check a file away from where it runs (CI).
        #[arg(long)]
        offline: bool,
    },
    /// Serve a local web page showing every workflow rendered with sample data; reloads on change.
    Preview {
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8025")]
        listen: String,
        /// Job files (JSON) to render instead of their workflow's sample.json.
        jobs: Vec<PathBuf>,
    },
    /// Serve only the SNS feedback endpoint (`POST /sns`), with /metrics,
    /// /healthz and /readyz, on `server.listen`.
    Feedback,
    /// Manage the RabbitMQ topology.
    Topology {
        #[command(subcommand)]
        action: TopologyAction,
    },
    /// Inspect, replay and purge dead letters.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// What Herald knows of one message: claims, acceptance, feedback events.
    Messages {
        #[command(subcommand)]
        action: MessagesAction,
    },
    /// The per-environment list of addresses never to send to.
    Suppression {
        #[command(subcommand)]
        action: SuppressionAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum MessagesAction {
    /// One message's story, in time order.
    Show {
        /// The message (job) id.
        id: String,
        /// One JSON object, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SuppressionAction {
    /// Every suppressed address of an environment.
    List {
        #[arg(long)]
        environment: String,
        /// One JSON object per line, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Suppress an address.
    Add {
        address: String,
        #[arg(long)]
        environment: String,
        /// Why, as shown by `list`.
        #[arg(long, default_value = "manual")]
        reason: String,
    },
    /// Stop suppressing an address.
    Remove {
        address: String,
        #[arg(long)]
        environment: String,
    },
    /// Whether an address is suppressed.
    Check {
        address: String,
        #[arg(long)]
        environment: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// Show dead letters without consuming or reordering them.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// Show at most this many, from the head of the queue.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// One JSON object per line, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Move matching dead letters back to the jobs exchange, attempts reset.
    Replay {
        #[command(flatten)]
        filter: FilterArgs,
        /// Replay at most this many.
        #[arg(long)]
        limit: Option<u32>,
        /// Show how many would move; move nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Drop dead letters (all of them, or those matching).
    Purge {
        #[command(flatten)]
        filter: FilterArgs,
        /// Show how many would be dropped; drop nothing.
        #[arg(long)]
        dry_run: bool,
        /// Purge every letter without asking (needed off a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// Criteria that select dead letters; all given must match.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// The job's message id.
    #[arg(long)]
    id: Option<String>,
    /// Failure reason (fatal_error, retries_exhausted, delivery_limit) or error code.
    #[arg(long)]
    reason: Option<String>,
    /// The job's workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Only letters that failed longer ago than this (e.g. 7d, 12h).
    #[arg(long, value_parser = humantime::parse_duration)]
    older_than: Option<std::time::Duration>,
}

impl From<FilterArgs> for crate::dlq::Filter {
    fn from(a: FilterArgs) -> Self {
        crate::dlq::Filter {
            id: a.id,
            reason: a.reason,
            workflow: a.workflow,
            older_than: a.older_than,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TopologyAction {
    /// Declare every exchange and queue (idempotent).
    Declare,
    /// Print the topology as RabbitMQ definitions JSON (`rabbitmqctl import_definitions`).
    Export {
        /// The virtual host the definitions name.
        #[arg(long, default_value = "/")]
        vhost: String,
    },
}

impl Command {
    /// Log filter when `RUST_LOG` is not set. One-shot commands report
    /// broker failures as their own error, so the AMQP client's logs are off.
    pub fn default_log_level(&self) -> &'static str {
        match self {
            Command::Run | Command::Preview { .. } | Command::Feedback => "info",
            _ => "warn,lapin=off",
        }
    }
}

/// A failure and the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub exit_code: u8,
    pub error: anyhow::Error,
}

impl CliError {
    /// Exit code 2: the configuration or the command's input is wrong.
    pub fn usage(error: impl Into<anyhow::Error>) -> CliError {
        CliError {
            exit_code: 2,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for CliError {
    fn from(error: E) -> CliError {
        CliError {
            exit_code: 1,
            error: error.into(),
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Run => commands::run(config).await,
        Command::Demo { keep } => demo::run(config, keep).await,
        Command::Enqueue { jobs, raw } => commands::enqueue(config, &jobs, raw).await,
        Command::Render { job, out } => commands::render(config, &job, out.as_deref()).await,
        Command::Check { offline } => check::run(config, offline).await,
        Command::Preview { listen, jobs } => preview::run(config, &listen, &jobs).await,
        Command::Feedback => feedback::run(config).await,
        Command::Topology {
            action: TopologyAction::Declare,
        } => commands::declare(config).await,
        Command::Topology {
            action: TopologyAction::Export { vhost },
        } => topology::export(config, &vhost),
        Command::Dlq { action } => run_dlq(config, action).await,
        Command::Messages {
            action: MessagesAction::Show { id, json },
        } => ledger::show(config, &id, json).await,
        Command::Suppression { action } => match action {
            SuppressionAction::List { environment, json } => {
                ledger::list(config, &environment, json).await
            }
            SuppressionAction::Add {
                address,
                environment,
                reason,
            } => ledger::add(config, &environment, &address, &reason).await,
            SuppressionAction::Remove {
                address,
                environment,
            } => ledger::remove(config, &environment, &address).await,
            SuppressionAction::Check {
                address,
                environment,
                json,
            } => ledger::check(config, &environment, &address, json).await,
        },
    }
}

/// `herald dlq`. `replay` and `purge` are one walk over the matching letters:
/// a replay is never asked to confirm, a purge takes every match.
async fn run_dlq(config: Option<&Path>, action: DlqAction) -> Result<(), CliError> {
    let (action, filter, limit, dry_run, yes) = match action {
        DlqAction::List {
            filter,
            limit,
            json,
        } => return dlq::list(config, filter.into(), limit, json).await,
        DlqAction::Replay {
            filter,
            limit,
            dry_run,
        } => (dlq::Action::Replay, filter, limit, dry_run, false),
        DlqAction::Purge {
            filter,
            dry_run,
            yes,
        } => (dlq::Action::Purge, filter, None, dry_run, yes),
    };
    dlq::apply(config, action, filter.into(), limit, dry_run, yes).await
}
