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

/// `herald dlq list`: letters from the head of the queue, none consumed;
/// with a filter, the whole queue is searched.
pub async fn list(
    config: Option<&Path>,
    filter: Filter,
    limit: u32,
    json: bool,
) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let connection = amqp::connect(&settings.amqp).await?;
    let listed = dlq::list(&connection, &settings.amqp, &filter, limit).await;
    let _ = connection.close(200, "done".into()).await;
    let (listing, unfinished) = match listed {
        Ok(listing) => (listing, None),
        Err(unfinished) => {
            let error = anyhow::anyhow!("{unfinished}");
            (unfinished.done, Some(error))
        }
    };
    print_letters(&listing.letters, json);
    if !json {
        let matching = if filter.is_empty() { "" } else { " matching" };
        println!(
            "{}{matching} of {} dead letter(s) shown ({} scanned)",
            listing.letters.len(),
            listing.total,
            listing.scanned
        );
    }
    match unfinished {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

fn print_letters(letters: &[LetterInfo], json: bool) {
    if json {
        for letter in letters {
            println!(
                "{}",
                serde_json::to_string(letter).expect("letters serialise")
            );
        }
        return;
    }
    println!(
        "{:<28} {:<16} {:<12} {:<18} {:<22} {:>8} {:>8}",
        "ID", "WORKFLOW", "ENVIRONMENT", "REASON", "ERROR", "ATTEMPTS", "AGE"
    );
    for l in letters {
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
    yes: bool,
) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let connection = amqp::connect(&settings.amqp).await?;
    if action == Action::Purge && filter.is_empty() && !dry_run && !yes {
        let total = dlq::count(&connection, &settings.amqp).await?;
        if !confirm_purge_all(total)? {
            let _ = connection.close(200, "not confirmed".into()).await;
            println!("purged nothing");
            return Ok(());
        }
    }
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
    let applied = match action {
        Action::Replay => dlq::replay(&connection, &settings.amqp, run).await,
        Action::Purge => dlq::purge(&connection, &settings.amqp, run).await,
    };
    progress.finish();
    let _ = connection.close(200, "done".into()).await;
    let summary = match applied {
        Ok(summary) => summary,
        Err(unfinished) => {
            println!("{}", describe(action, &unfinished.done, dry_run));
            return Err(anyhow::anyhow!(
                "{unfinished}; letters not yet handled stay in the dead-letter queue"
            )
            .into());
        }
    };
    println!("{}", describe(action, &summary, dry_run));
    if summary.interrupted {
        return Err(anyhow::anyhow!(
            "interrupted after {} of {} dead letter(s); letters not yet handled stay in the dead-letter queue",
            summary.scanned,
            summary.total
        )
        .into());
    }
    Ok(())
}

/// Purging every letter cannot be undone: on a terminal the operator
/// confirms it; without one, `--yes` must say so.
fn confirm_purge_all(total: u32) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(anyhow::anyhow!(
            "purging every dead letter ({total}) needs --yes when not run on a terminal; \
             or select letters with --id, --reason, --workflow or --older-than"
        )));
    }
    eprint!("Purge all {total} dead letter(s)? This cannot be undone. [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(is_yes(&answer))
}

/// Only an explicit yes confirms.
fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
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
    if s.scanned < s.total {
        line.push_str(&format!(" (of {})", s.total));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_yes_confirms_a_purge() {
        for yes in ["y\n", "Y", " yes \n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yess", "sure"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn an_unfinished_purge_says_how_far_it_got() {
        let summary = Summary {
            total: 5000,
            scanned: 1200,
            applied: 3,
            ..Summary::default()
        };
        assert_eq!(
            describe(Action::Purge, &summary, false),
            "purged 3 of 1200 dead letter(s) scanned (of 5000)"
        );
    }
}
