//! Liquid templates: parsed once when the store is built, shared by every job.
//!
//! A workflow's templates live in `<dir>/<workflow>/` as `subject.liquid`,
//! `html.liquid` and `text.liquid` (subject and at least one body). A
//! `layout.html.liquid` with `{{ content }}`, in the workflow's folder or in
//! `<dir>` itself, wraps the html body. Partials for `{% render %}` and
//! `{% include %}` live in `<dir>/partials/` (`partials/footer.liquid` is
//! `{% render 'footer' %}`). Every template is checked against the store's
//! [`RenderLimits`] before it is parsed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use liquid::{Parser, Template};

use super::filters::translations::{Translations, EXAMPLE_TRANSLATIONS};
use super::filters::FilterContext;

/// The locale of translations when neither the recipient nor the job names
/// one.
pub const DEFAULT_LOCALE: &str = "en";

pub use super::engine::one_line;
use super::engine::{self, Partials, RenderBudget, RenderLimits, TemplateError};

/// The example templates, built into the binary for `herald demo`.
pub const EXAMPLE_TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html.liquid",
        include_str!("../../../examples/templates/layout.html.liquid"),
    ),
    (
        "welcome/subject.liquid",
        include_str!("../../../examples/templates/welcome/subject.liquid"),
    ),
    (
        "welcome/html.liquid",
        include_str!("../../../examples/templates/welcome/html.liquid"),
    ),
    (
        "welcome/text.liquid",
        include_str!("../../../examples/templates/welcome/text.liquid"),
    ),
    (
        "password-reset/subject.liquid",
        include_str!("../../../examples/templates/password-reset/subject.liquid"),
    ),
    (
        "password-reset/text.liquid",
        include_str!("../../../examples/templates/password-reset/text.liquid"),
    ),
    (
        "welcome/sample.json",
        include_str!("../../../examples/templates/welcome/sample.json"),
    ),
    (
        "password-reset/sample.json",
        include_str!("../../../examples/templates/password-reset/sample.json"),
    ),
];

/// The parsed templates of one workflow.
pub struct TemplateSet {
    pub subject: Template,
    pub html: Option<Template>,
    pub text: Option<Template>,
    pub layout: Option<Arc<Template>>,
}

/// The Liquid parser and every workflow's parsed templates.
pub struct TemplateStore {
    parser: Parser,
    limits: RenderLimits,
    workflows: HashMap<String, Arc<TemplateSet>>,
    /// Inline templates parsed already, by the hash of their text.
    inline: InlineCache,
}

/// Distinct inline template texts kept parsed.
pub const INLINE_CACHE_ENTRIES: usize = 512;

/// The inline templates parsed last, least recently used out first: producers
/// that send the same inline templates pay one parse per distinct text, not
/// one per job. An entry keeps its text, so a hash collision is a miss, never
/// the wrong template.
struct InlineCache(std::sync::Mutex<InlineEntries>);

/// Parsed templates by text hash, each with its text.
type InlineEntries = lru::LruCache<u64, (Arc<str>, Arc<Template>)>;

impl InlineCache {
    fn new() -> InlineCache {
        let entries = std::num::NonZeroUsize::new(INLINE_CACHE_ENTRIES).expect("not zero");
        InlineCache(std::sync::Mutex::new(lru::LruCache::new(entries)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InlineEntries> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The cache key of a template text.
fn text_hash(source: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut hasher = KEYS.get_or_init(Default::default).build_hasher();
    hasher.write(source.as_bytes());
    hasher.finish()
}

impl TemplateStore {
    /// A store with no workflows, for inline templates only.
    pub fn empty() -> TemplateStore {
        TemplateStore::empty_with(&RenderLimits::default())
    }

    /// [`TemplateStore::empty`] with `limits`.
    pub fn empty_with(limits: &RenderLimits) -> TemplateStore {
        let helpers = FilterContext::default();
        TemplateStore {
            parser: engine::build_parser(&Partials::new(), &helpers)
                .expect("the Liquid library builds"),
            limits: *limits,
            workflows: HashMap::new(),
            inline: InlineCache::new(),
        }
    }

    /// Loads every workflow under `dir`, reporting every problem found.
    pub fn load_dir(dir: &Path) -> Result<TemplateStore, Vec<String>> {
        TemplateStore::load_dir_with(dir, &RenderLimits::default())
    }

    /// [`TemplateStore::load_dir`] with `limits`.
    pub fn load_dir_with(dir: &Path, limits: &RenderLimits) -> Result<TemplateStore, Vec<String>> {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        collect_files(dir, dir, 0, &mut files, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        let shown = dir.display().to_string();
        let helpers = FilterContext::load(dir, DEFAULT_LOCALE)
            .map_err(|e| vec![format!("{shown}/translations: {e}")])?;
        let files = files.iter().map(|(p, t)| (p.as_str(), t.as_str()));
        TemplateStore::from_files_in(&shown, files, limits, &helpers)
    }

    /// Builds a store from `(relative path, source)` pairs.
    pub fn from_files<'a>(
        origin: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TemplateStore, Vec<String>> {
        TemplateStore::from_files_with(origin, files, &RenderLimits::default())
    }

    /// [`TemplateStore::from_files`] with `limits`.
    pub fn from_files_with<'a>(
        origin: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        limits: &RenderLimits,
    ) -> Result<TemplateStore, Vec<String>> {
        TemplateStore::from_files_in(origin, files, limits, &FilterContext::default())
    }

    /// The built-in example templates, with their translations.
    pub fn examples(limits: &RenderLimits) -> Result<TemplateStore, Vec<String>> {
        let translations = Translations::from_sources(EXAMPLE_TRANSLATIONS.iter().copied())
            .map_err(|e| vec![format!("built-in translations: {e}")])?;
        let helpers = FilterContext::new(translations, DEFAULT_LOCALE);
        let files = EXAMPLE_TEMPLATES.iter().copied();
        TemplateStore::from_files_in("(built-in examples)", files, limits, &helpers)
    }

    /// [`TemplateStore::from_files_with`] with the helpers' translations.
    pub fn from_files_in<'a>(
        origin: &str,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
        limits: &RenderLimits,
        helpers: &FilterContext,
    ) -> Result<TemplateStore, Vec<String>> {
        let (partials, files): (Vec<_>, Vec<_>) = files
            .into_iter()
            .partition(|(path, _)| path.starts_with("partials/"));
        let mut problems = Vec::new();
        let mut named = Partials::new();
        for (path, source) in partials {
            match engine::check_source(source, limits) {
                Ok(()) => named.push((partial_name(path).to_owned(), source.to_owned())),
                Err(e) => problems.push(format!("{origin}/{path}: {e}")),
            }
        }
        let mut store = TemplateStore {
            parser: engine::build_parser(&named, helpers).map_err(|e| vec![e.to_string()])?,
            limits: *limits,
            workflows: HashMap::new(),
            inline: InlineCache::new(),
        };
        for (name, source) in &named {
            if let Err(e) = store.parse(source) {
                problems.push(format!("{origin}/partials/{name}.liquid: {e}"));
            }
        }
        let mut parse = |path: &str, source: &str| match store.parse(source) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(format!("{origin}/{path}: {e}"));
                None
            }
        };
        let mut by_workflow: HashMap<String, HashMap<String, Template>> = HashMap::new();
        let mut broken = std::collections::HashSet::new();
        let mut root_layout = None;
        for (path, source) in files {
            let template = parse(path, source);
            if template.is_none() {
                broken.insert(path.split('/').next().unwrap_or(path).to_owned());
            }
            match (path.split_once('/'), template) {
                (None, Some(t)) if path == "layout.html.liquid" => root_layout = Some(Arc::new(t)),
                (Some((workflow, file)), Some(t)) => {
                    by_workflow
                        .entry(workflow.to_owned())
                        .or_default()
                        .insert(file.to_owned(), t);
                }
                _ => {}
            }
        }
        by_workflow.retain(|workflow, _| !broken.contains(workflow));
        let workflows = template_sets(origin, by_workflow, root_layout, &mut problems);
        if problems.is_empty() {
            store.workflows = workflows;
            Ok(store)
        } else {
            Err(problems)
        }
    }

    /// A workflow's templates, if it has any.
    pub fn workflow(&self, key: &str) -> Option<Arc<TemplateSet>> {
        self.workflows.get(key).cloned()
    }

    /// Names of the loaded workflows, sorted.
    pub fn workflow_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.workflows.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Parses one template source (inline templates, sender fields), within
    /// the store's limits.
    pub fn parse(&self, source: &str) -> Result<Template, TemplateError> {
        engine::check_source(source, &self.limits)?;
        self.parser
            .parse(source)
            .map_err(|e| TemplateError::Syntax(one_line(&e.to_string())))
    }

    /// An inline template, parsed once per distinct text (within the
    /// store's limits, like [`TemplateStore::parse`]); failures are not kept.
    pub fn parse_inline(&self, source: &str) -> Result<Arc<Template>, TemplateError> {
        let key = text_hash(source);
        if let Some((text, template)) = self.inline.lock().get(&key) {
            if **text == *source {
                return Ok(template.clone());
            }
        }
        let template = Arc::new(self.parse(source)?);
        self.inline
            .lock()
            .put(key, (Arc::from(source), template.clone()));
        Ok(template)
    }

    /// Inline templates kept parsed.
    pub fn inline_cached(&self) -> usize {
        self.inline.lock().len()
    }

    /// The limits templates are parsed and rendered with.
    pub fn limits(&self) -> &RenderLimits {
        &self.limits
    }

    /// A fresh budget for one job's renders.
    pub fn budget(&self) -> RenderBudget {
        RenderBudget::new(&self.limits)
    }

    /// A fresh budget for one job's renders with at most `time` to spend.
    pub fn budget_within(&self, time: std::time::Duration) -> RenderBudget {
        RenderBudget::new(&RenderLimits {
            max_render_time: time.min(self.limits.max_render_time),
            ..self.limits
        })
    }
}

/// `partials/footer.liquid` is the partial `footer`.
fn partial_name(path: &str) -> &str {
    let name = path.strip_prefix("partials/").unwrap_or(path);
    name.strip_suffix(".liquid").unwrap_or(name)
}

fn collect_files(
    root: &Path,
    dir: &Path,
    depth: usize,
    files: &mut Vec<(String, String)>,
    problems: &mut Vec<String>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!("templates.dir {}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth == 0 {
            collect_files(root, &path, depth + 1, files, problems);
        } else if path.extension().is_some_and(|e| e == "liquid") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative.to_string_lossy().replace('\\', "/");
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((name, text)),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
    }
}

/// Each workflow's parsed files as a template set: a subject, html or text
/// or both, and its own layout or the shared one. A workflow that lacks what
/// it needs is a problem, named with `origin`.
fn template_sets(
    origin: &str,
    by_workflow: HashMap<String, HashMap<String, Template>>,
    root_layout: Option<Arc<Template>>,
    problems: &mut Vec<String>,
) -> HashMap<String, Arc<TemplateSet>> {
    let mut workflows = HashMap::new();
    for (workflow, mut files) in by_workflow {
        let Some(subject) = files.remove("subject.liquid") else {
            problems.push(format!("{origin}/{workflow}: subject.liquid is missing"));
            continue;
        };
        let (html, text) = (files.remove("html.liquid"), files.remove("text.liquid"));
        if html.is_none() && text.is_none() {
            problems.push(format!(
                "{origin}/{workflow}: needs html.liquid or text.liquid"
            ));
            continue;
        }
        let layout = files
            .remove("layout.html.liquid")
            .map(Arc::new)
            .or_else(|| root_layout.clone());
        let set = TemplateSet {
            subject,
            html,
            text,
            layout,
        };
        workflows.insert(workflow, Arc::new(set));
    }
    workflows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_templates_load_with_the_shared_layout() {
        let store =
            TemplateStore::from_files("examples", EXAMPLE_TEMPLATES.iter().copied()).unwrap();
        assert_eq!(store.workflow_names(), vec!["password-reset", "welcome"]);
        let welcome = store.workflow("welcome").unwrap();
        assert!(welcome.layout.is_some() && welcome.html.is_some());
        assert!(store.workflow("password-reset").unwrap().html.is_none());
    }

    #[test]
    fn every_broken_template_is_reported() {
        let files = [
            ("a/subject.liquid", "{% if %}"),
            ("a/text.liquid", "ok"),
            ("b/html.liquid", "<p>"),
            ("c/subject.liquid", "s"),
        ];
        let problems = TemplateStore::from_files("t", files).err().unwrap();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("t/a/subject.liquid")));
        assert!(problems
            .iter()
            .any(|p| p.contains("t/b: subject.liquid is missing")));
        assert!(problems
            .iter()
            .any(|p| p.contains("t/c: needs html.liquid or text.liquid")));
    }
}
