//! Reloading on change: `notify` watches the templates folder and the
//! configuration file; a burst of events becomes one reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::server::Shared;
use super::state::Preview;

/// Events closer together than this are one change (an editor's save is
/// often several writes and a rename).
const SETTLE: Duration = Duration::from_millis(150);

/// Watches what `preview` was read from and rebuilds it on every change,
/// until the returned watcher is dropped.
pub fn spawn(
    shared: Arc<Shared>,
    config: Option<PathBuf>,
    jobs: Vec<PathBuf>,
) -> notify::Result<notify::RecommendedWatcher> {
    let (preview, _) = shared.current();
    let dir = preview
        .templates_dir
        .as_deref()
        .and_then(|d| d.canonicalize().ok());
    // Folders, not files: editors replace files by renaming.
    let files: Vec<PathBuf> = config
        .iter()
        .chain(jobs.iter())
        .filter_map(|f| canonical_file(f))
        .collect();
    let relevant = {
        let (dir, files) = (dir.clone(), files.clone());
        move |path: &Path| {
            dir.as_ref().is_some_and(|d| path.starts_with(d)) || files.iter().any(|f| f == path)
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let changed =
            event.is_ok_and(|e| !e.kind.is_access() && e.paths.iter().any(|p| relevant(p)));
        if changed {
            let _ = tx.send(());
        }
    })?;
    if let Some(dir) = &dir {
        watcher.watch(dir, RecursiveMode::Recursive)?;
    }
    for file in &files {
        if let Some(folder) = file.parent() {
            watcher.watch(folder, RecursiveMode::NonRecursive)?;
        }
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            let preview = Preview::build(config.as_deref(), &jobs).await;
            tracing::info!(
                problems = preview.problems.len(),
                "files changed: preview reloaded"
            );
            shared.replace(preview);
        }
    });
    Ok(watcher)
}

/// `file` with its folder made absolute and canonical, as events name it.
fn canonical_file(file: &Path) -> Option<PathBuf> {
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(folder.canonicalize().ok()?.join(file.file_name()?))
}
