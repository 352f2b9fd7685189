//! The Liquid engine: the `liquid` crate (patched, see `vendor/README.md`)
//! with Shopify's missing tags and filters, and limits checked while parsing
//! and rendering so that no template or job data can crash, stall or bloat a
//! worker.
//!
//! - [`RenderLimits`]: the bounds, from `[limits]`;
//! - [`check_source`]: size and nesting, checked before the parser runs;
//! - [`RenderBudget`]: what one job's renders may spend together;
//! - [`TemplateError`]: a limit breach told apart from a template error.

mod budget;
mod filters;
mod nesting;
mod tags;

#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod shopify_tests;

use std::time::Duration;

use liquid::partials::{EagerCompiler, InMemorySource};
use liquid::Parser;

use crate::render::filters::FilterContext;
use serde::Deserialize;

pub use budget::RenderBudget;

/// Bounds on templates and renders; the defaults are far above what any
/// legitimate notification needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RenderLimits {
    /// Bytes of one template's source.
    pub max_template_bytes: usize,
    /// Nested blocks (`if`, `for`, …) and brackets in one template.
    pub max_nesting_depth: usize,
    /// `for`/`tablerow` iterations over all of a job's renders.
    pub max_loop_iterations: u64,
    /// Elements of one range `(a..b)`, checked before it is built.
    pub max_range: u64,
    /// Bytes of one value built while rendering (`append`, `capture`, …).
    pub max_value_bytes: u64,
    /// Bytes of output over all of a job's renders.
    pub max_output_bytes: u64,
    /// Time for all of a job's renders.
    pub max_render_time: Duration,
    /// Nested `include`/`render` calls.
    pub max_partial_depth: u32,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_template_bytes: 256 * 1024,
            max_nesting_depth: 64,
            max_loop_iterations: 200_000,
            max_range: 100_000,
            max_value_bytes: 4 * 1024 * 1024,
            max_output_bytes: 16 * 1024 * 1024,
            max_render_time: Duration::from_secs(2),
            max_partial_depth: 10,
        }
    }
}

impl RenderLimits {
    fn core(&self) -> liquid_core::runtime::Limits {
        liquid_core::runtime::Limits {
            max_loop_iterations: self.max_loop_iterations,
            max_range: self.max_range,
            max_value_bytes: self.max_value_bytes,
            max_render_time: self.max_render_time,
            max_partial_depth: self.max_partial_depth,
        }
    }
}

/// Why a template did not parse or render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A bound of [`RenderLimits`] was reached; `limit` names it
    /// (`max_loop_iterations`, …) and `detail` starts with it, then its value. The job is
    /// hostile or broken, never retried.
    #[error("render limit exceeded: {detail}")]
    Limit { limit: &'static str, detail: String },
    /// The template is not valid Liquid (with line:column where known).
    #[error("{0}")]
    Syntax(String),
    /// Rendering failed: a missing variable, a filter given the wrong input.
    #[error("{0}")]
    Render(String),
}

impl TemplateError {
    /// True for a breach of a [`RenderLimits`] bound.
    pub fn is_limit(&self) -> bool {
        matches!(self, TemplateError::Limit { .. })
    }

    /// The limit reached, when that is what this error is.
    pub fn limit_name(&self) -> Option<&'static str> {
        match self {
            TemplateError::Limit { limit, .. } => Some(limit),
            _ => None,
        }
    }

    pub(crate) fn limit(limit: &'static str, detail: impl Into<String>) -> TemplateError {
        TemplateError::Limit {
            limit,
            detail: format!("{limit}: {}", detail.into()),
        }
    }
}

/// Liquid errors span several lines; logs and headers want one.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Size and nesting of `source`, checked before the parser sees it: the
/// parser recurses once per nested block, so depth is bounded up front.
pub fn check_source(source: &str, limits: &RenderLimits) -> Result<(), TemplateError> {
    if source.len() > limits.max_template_bytes {
        return Err(TemplateError::limit(
            "max_template_bytes",
            format!(
                "template is {} bytes, at most {} allowed",
                source.len(),
                limits.max_template_bytes
            ),
        ));
    }
    nesting::check(source, limits.max_nesting_depth)
}

/// Partials by name (`footer` for `partials/footer.liquid`), checked and
/// parsed once with the parser that uses them.
pub type Partials = Vec<(String, String)>;

/// The Liquid parser with Shopify's tags and filters, the hosted original's
/// helpers (`helpers` carries their translations), and `partials`.
pub fn build_parser(partials: &Partials, helpers: &FilterContext) -> Result<Parser, TemplateError> {
    let mut source = InMemorySource::new();
    for (name, text) in partials {
        source.add(name.as_str(), text.as_str());
    }
    let builder = liquid::ParserBuilder::with_stdlib().partials(EagerCompiler::new(source));
    let builder = filters::register(tags::register(builder));
    // The hosted original's helpers (`date`, `t`, `format_number`, …), on top
    // of the standard library.
    crate::render::filters::register(builder, helpers)
        .build()
        .map_err(|e| TemplateError::Syntax(one_line(&e.to_string())))
}
