//! Configuration reload without a restart (SPEC §11): SIGHUP (or, with
//! `[templates] watch = true`, a change under the templates folder) reads
//! the file and the templates again. A valid configuration swaps in whole:
//! new jobs take it, jobs in flight finish on the one they started with. An
//! invalid one changes nothing; every problem is logged and counted.
//!
//! What needs a new connection, a new listener or another ledger (`[amqp]`,
//! `[server]`, `[idempotency]`, `[feedback]`) is never half-applied: the
//! running values are kept, and a warning names the sections that wait for
//! a restart.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::channels::Mode;
use crate::cli::setup;
use crate::pipeline::Deps;
use crate::settings::{ConfigError, Settings};

/// Reads the configuration again and builds what jobs will use, keeping the
/// running worker's restart-only sections, ledger and metrics.
pub async fn reload(source: Option<&PathBuf>, running: &Deps) -> Result<Deps, ConfigError> {
    let mut settings = Settings::load_unchecked(source.map(PathBuf::as_path))?;
    let waiting = keep_restart_only(&mut settings, &running.settings);
    if !waiting.is_empty() {
        tracing::warn!(
            sections = waiting.join(", "),
            "these sections changed and take effect only after a restart; the running values are kept"
        );
    }
    // `None` names the built-in configuration, as at start.
    let origin = source.map(|p| p.display().to_string());
    setup::rebuild(settings, origin.as_deref(), Mode::Live, running).await
}

/// Puts the running values back into the sections a reload cannot apply;
/// the names of those that had changed.
pub fn keep_restart_only(new: &mut Settings, running: &Settings) -> Vec<&'static str> {
    let mut waiting = Vec::new();
    macro_rules! keep {
        ($($section:ident),*) => {$(
            if new.$section != running.$section {
                waiting.push(stringify!($section));
                new.$section = running.$section.clone();
            }
        )*};
    }
    keep!(amqp, server, idempotency, feedback);
    waiting
}

/// Reloads on every `trigger` until it closes, publishing each valid
/// configuration to `current`.
pub async fn serve(
    source: Option<PathBuf>,
    current: watch::Sender<Arc<Deps>>,
    mut trigger: tokio::sync::mpsc::Receiver<&'static str>,
) {
    while let Some(why) = trigger.recv().await {
        let running = current.borrow().clone();
        let metrics = running.metrics.clone();
        match reload(source.as_ref(), &running).await {
            Ok(deps) => {
                current.send_replace(Arc::new(deps));
                metrics.config_reloaded();
                tracing::info!(trigger = why, "configuration reloaded");
            }
            Err(e) => {
                metrics.config_reload_failures.inc();
                tracing::error!(trigger = why, problems = %e, "configuration not reloaded; the running one keeps serving");
            }
        }
    }
}

/// Sends a reload request on every SIGHUP.
#[cfg(unix)]
pub fn on_sighup(trigger: tokio::sync::mpsc::Sender<&'static str>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            if trigger.send("SIGHUP").await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// Events closer together than this are one change (an editor's save is
/// often several writes and a rename).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(200);

/// Sends a reload request when a file under `dir` changes, a burst of
/// events making one; the watcher lives as long as the process.
pub fn watch_templates(
    dir: &std::path::Path,
    trigger: tokio::sync::mpsc::Sender<&'static str>,
) -> notify::Result<()> {
    use notify::{RecursiveMode, Watcher};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    tokio::spawn(async move {
        let _watching = watcher;
        while rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            if trigger.send("template change").await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        Settings::from_toml("t", text, &|_| None).unwrap()
    }

    #[test]
    fn restart_only_sections_keep_their_running_values_and_are_named() {
        let running = settings("[amqp]\nprefetch = 10\n[retry]\nmax_attempts = 3\n");
        let mut new = settings(
            "[amqp]\nprefetch = 99\n[server]\nlisten = \"0.0.0.0:1\"\n[retry]\nmax_attempts = 5\n",
        );
        let waiting = keep_restart_only(&mut new, &running);
        assert_eq!(waiting, vec!["amqp", "server"]);
        assert_eq!(new.amqp.prefetch, 10);
        assert_eq!(new.server.listen, running.server.listen);
        assert_eq!(new.retry.max_attempts, 5, "the rest is applied");
        let mut same = settings("[amqp]\nprefetch = 10\n");
        assert!(keep_restart_only(&mut same, &running).is_empty());
    }
}
