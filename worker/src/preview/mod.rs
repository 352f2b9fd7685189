//! Seeing templates before any job does: the template side of `herald
//! check` and the `herald preview` web page.
//!
//! - [`files`]: a configuration's template files as text, and each
//!   workflow's sample job (`<workflow>/sample.json`).
//! - [`scan`]: Liquid markup, variable paths and filters with positions.
//! - [`lint`]: problems certain to break every job, with file:line.
//! - [`config_text`]: where a setting sits in the configuration file.
//! - [`state`]: what the preview shows, rebuilt on every change.
//! - [`page`], [`server`]: the HTML pages and their routes (axum).
//! - [`watch`]: `notify` on the templates folder and the configuration.

pub mod config_text;
pub mod files;
pub mod lint;
pub mod page;
pub mod scan;
pub mod server;
pub mod state;
pub mod watch;

use herald_shared::Job;

use crate::channels::Route;
use crate::render::{RenderError, TemplateStore};
use crate::request::Prepared;

/// Renders `job` exactly as `herald render` does: the one call into the
/// rendering pipeline from `check` and `preview`.
pub fn prepare(store: &TemplateStore, route: &Route, job: &Job) -> Result<Prepared, RenderError> {
    crate::request::prepare(store, route, job)
}
