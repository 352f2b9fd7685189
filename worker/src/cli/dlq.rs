//! `herald dlq list | replay | purge`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::setup;
use super::CliError;
use crate::amqp;
use crate::dlq::{self, Filter, LetterInfo, Run, Summary};

/// `herald dlq list`: the letters at the head of the queue, none consumed.
pub async fn list(config: Option<&Path>, limit: u32, json: bool) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let connection = amqp::connect(&settings.amqp).await?;
    let total = dlq::count(&connection, &settings.amqp).await?;
    let letters = dlq::list(&connection, &settings.amqp, limit).await?;
    let _ = connection.close(200, "done".into()).await;
    if json {
        for letter in &letters {
            println!(
                "{}",
                serde_json::to_string(letter).expect("letters serialise")
            );
        }
        return Ok(());
    }
    println!(
        "{:<28} {:<16} {:<12} {:<18} {:<22} {:>8} {:>8}",
        "ID", "WORKFLOW", "ENVIRONMENT", "REASON", "ERROR", "ATTEMPTS", "AGE"
    );
    for l in &letters {
        println!(
            "{:<28} {:<16} {:<12} {:<18} {:<22} {:>8} {:>8}",
            cut(l.id.as_deref(), 28),
            cut(l.workflow.as_deref(), 16),
            cut(l.environment.as_deref(), 12),
            cut(l.reason.as_deref(), 18),
            cut(l.error.as_deref(), 22),
            l.attempts,
            age(l),
        );
    }
    println!("{} of {total} dead letter(s) shown", letters.len());
    Ok(())
}

fn cut(value: Option<&str>, width: usize) -> String {
    let value = value.unwrap_or("-");
    if value.chars().count() <= width {
        value.to_owned()
    } else {
        let mut short: String = value.chars().take(width - 1).collect();
        short.push('…');
        short
    }
}

fn age(letter: &LetterInfo) -> String {
    match letter.age {
        Some(age) => {
            let rounded =
                Duration::from_secs(age.as_secs() / 60 * 60).max(Duration::from_secs(60).min(age));
            humantime::format_duration(rounded)
                .to_string()
                .replace(' ', "")
        }
        None => "-".into(),
    }
}

/// What `replay` and `purge` do to a matching letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Replay,
    Purge,
}

/// `herald dlq replay` and `herald dlq purge`.
pub async fn apply(
    config: Option<&Path>,
    action: Action,
    filter: Filter,
    limit: Option<u32>,
    dry_run: bool,
) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let connection = amqp::connect(&settings.amqp).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.store(true, Ordering::SeqCst);
        }
    });
    let progress = Progress::new(action);
    let report = |scanned, total| progress.update(scanned, total);
    let run = Run {
        filter: &filter,
        limit,
        dry_run,
        stop,
        progress: &report,
    };
    let summary = match action {
        Action::Replay => dlq::replay(&connection, &settings.amqp, run).await,
        Action::Purge => dlq::purge(&connection, &settings.amqp, run).await,
    };
    progress.finish();
    let _ = connection.close(200, "done".into()).await;
    let summary = summary?;
    println!("{}", describe(action, &summary, dry_run));
    if summary.interrupted {
        return Err(anyhow::anyhow!(
            "interrupted; letters not yet handled stay in the dead-letter queue"
        )
        .into());
    }
    Ok(())
}

fn describe(action: Action, s: &Summary, dry_run: bool) -> String {
    let verb = match (action, dry_run) {
        (Action::Replay, false) => "replayed",
        (Action::Purge, false) => "purged",
        (Action::Replay, true) => "would replay",
        (Action::Purge, true) => "would purge",
    };
    let matched = if dry_run { s.skipped } else { s.applied };
    let mut line = format!("{verb} {matched} of {} dead letter(s) scanned", s.scanned);
    if !dry_run && s.skipped > 0 {
        line.push_str(&format!(
            "; {} more matched past --limit and stay",
            s.skipped
        ));
    }
    line
}

/// A progress bar on a terminal; plain lines every 10% otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    last_decile: AtomicU32,
}

impl Progress {
    fn new(action: Action) -> Progress {
        let label = match action {
            Action::Replay => "replay",
            Action::Purge => "purge",
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} letters ({eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(label);
            bar
        });
        Progress {
            bar,
            label,
            last_decile: AtomicU32::new(0),
        }
    }

    fn update(&self, scanned: u32, total: u32) {
        if let Some(bar) = &self.bar {
            bar.set_length(u64::from(total));
            bar.set_position(u64::from(scanned));
            return;
        }
        let decile = scanned * 10 / total.max(1);
        if decile > self.last_decile.swap(decile, Ordering::Relaxed) {
            eprintln!("{}: {scanned}/{total} letters scanned", self.label);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
