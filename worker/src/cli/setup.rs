//! Loading configuration, templates and routes for a command, with every
//! problem reported at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::CliError;
use crate::channels::{Mode, Routes};
use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::pipeline::Deps;
use crate::render::TemplateStore;
use crate::settings::{default_config_path, ConfigError, Settings};

/// A loaded configuration, ready to process jobs.
pub struct Loaded {
    pub deps: Arc<Deps>,
    /// The file read, or `None` for the built-in configuration.
    pub source: Option<PathBuf>,
}

/// The file to read: the one given, else the default search.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(default_config_path)
}

/// Loads settings only.
pub fn settings(explicit: Option<&Path>) -> Result<(Settings, Option<PathBuf>), CliError> {
    let path = config_path(explicit);
    let settings = Settings::load(path.as_deref()).map_err(CliError::usage)?;
    Ok((settings, path))
}

/// Loads settings, templates and routes; `adjust` may change the settings
/// first (the demo's own topology names).
pub async fn load(
    explicit: Option<&Path>,
    mode: Mode,
    adjust: impl FnOnce(&mut Settings),
) -> Result<Loaded, CliError> {
    let source = config_path(explicit);
    let mut settings = Settings::load_unchecked(source.as_deref()).map_err(CliError::usage)?;
    adjust(&mut settings);
    let origin = source.as_ref().map(|p| p.display().to_string());
    let deps = build(settings, origin.as_deref(), mode)
        .await
        .map_err(CliError::usage)?;
    Ok(Loaded {
        deps: Arc::new(deps),
        source,
    })
}

/// What `herald run` processes jobs with, from settings already read: the
/// one constructor the worker, the demo and the test harness share.
/// `origin` names the file the settings came from (`None`: built in).
pub async fn build(
    settings: Settings,
    origin: Option<&str>,
    mode: Mode,
) -> Result<Deps, ConfigError> {
    build_with(settings, origin, mode, None).await
}

/// What a reload builds: new settings, templates and routes over the
/// running worker's ledger and metrics.
pub async fn rebuild(
    settings: Settings,
    origin: Option<&str>,
    mode: Mode,
    running: &Deps,
) -> Result<Deps, ConfigError> {
    build_with(settings, origin, mode, Some(running)).await
}

async fn build_with(
    settings: Settings,
    origin: Option<&str>,
    mode: Mode,
    running: Option<&Deps>,
) -> Result<Deps, ConfigError> {
    let mut problems = settings.problems();
    let templates = load_templates(&settings, origin.is_none(), &mut problems);
    let timeout = settings.limits.ses_attempt_timeout(&settings.shutdown);
    let routes = Routes::build(&settings, &templates, mode, timeout)
        .await
        .map_err(|p| problems.extend(p))
        .ok();
    let kept = running
        .map(|r| r.ledger.clone())
        .filter(|l| l.kind() != crate::ledger::StoreKind::Off);
    let ledger = match &routes {
        _ if kept.is_some() => kept,
        Some(routes) if problems.is_empty() && routes.sends_through_ses() => {
            Ledger::open(&settings.idempotency)
                .await
                .map_err(|e| problems.push(format!("idempotency: {e}")))
                .ok()
        }
        _ => Some(Ledger::off()),
    };
    match (routes, ledger) {
        (Some(routes), Some(ledger)) if problems.is_empty() => {
            let metrics = running.map_or_else(|| Arc::new(Metrics::new()), |r| r.metrics.clone());
            Ok(Deps::new(settings, templates, routes, metrics, ledger))
        }
        _ => Err(ConfigError {
            source_name: origin.unwrap_or("(embedded)").to_owned(),
            problems,
        }),
    }
}

/// The workflow templates of `templates.dir`; the built-in configuration
/// falls back to the built-in example templates when the folder is absent.
pub fn load_templates(
    settings: &Settings,
    embedded: bool,
    problems: &mut Vec<String>,
) -> TemplateStore {
    let dir = &settings.templates.dir;
    let limits = settings.limits.render();
    let result = if dir.is_dir() {
        TemplateStore::load_dir_with(dir, &limits)
    } else if embedded {
        TemplateStore::examples(&limits)
    } else {
        Err(vec![format!(
            "templates.dir: {} is not a directory",
            dir.display()
        )])
    };
    result.unwrap_or_else(|p| {
        problems.extend(p);
        TemplateStore::empty_with(&limits)
    })
}
