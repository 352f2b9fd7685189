//! `herald check`: the configuration, every template and every sender field,
//! rendered against each environment's `vars` and each workflow's sample
//! job. Every problem is reported in one run, with its location; exit 2.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::setup;
use super::CliError;
use crate::channels::{Mode, Route, Routes};
use crate::preview::config_text::ConfigText;
use crate::preview::files::{Sample, SampleSource, TemplateFiles};
use crate::preview::lint::{self, Problem, VarsByEnvironment};
use crate::preview::scan;
use crate::render::{RenderError, TemplateStore};
use crate::settings::{ConfigError, EnvironmentSettings, Settings, EMBEDDED_CONFIG};

/// Sender fields, which are Liquid.
const SENDER_FIELDS: &[&str] = &["from_address", "from_name", "reply_to", "cc", "bcc"];

/// Roots a synthetic sample cannot vouch for.
const JOB_ROOTS: &[&str] = &["data", "recipient", "actor", "tenant"];

/// `herald check`. Unless `offline`, it also resolves the credentials of
/// every environment that sends through SES, as `herald run` does at start.
pub async fn run(config: Option<&Path>, offline: bool) -> Result<(), CliError> {
    let source = setup::config_path(config);
    let embedded = source.is_none();
    let settings = Settings::load_unchecked(source.as_deref()).map_err(CliError::usage)?;
    let config_text = ConfigText {
        name: source
            .as_ref()
            .map_or("(embedded)".into(), |p| p.display().to_string()),
        text: match &source {
            Some(path) => std::fs::read_to_string(path).unwrap_or_default(),
            None => EMBEDDED_CONFIG.to_owned(),
        },
    };
    let mut report = Report::default();
    report.problems.extend(settings.problems());
    let mut store_problems = Vec::new();
    let store = setup::load_templates(&settings, embedded, &mut store_problems);
    // An unreadable folder is already among the store's problems.
    let files = TemplateFiles::read(&settings, embedded).ok();
    let routes = Routes::build(
        &settings,
        &store,
        Mode::Sandbox,
        settings.limits.ses_timeout,
    )
    .await;
    let routes = routes.map_err(|p| report.problems.extend(p)).ok();
    if !offline {
        let credentials = crate::channels::credential_problems(&settings).await;
        let checked = credentials.is_empty();
        report.problems.extend(credentials);
        if checked {
            let (problems, notes) = crate::channels::identity_problems(&settings).await;
            report.problems.extend(problems);
            report.notes.extend(notes);
        }
    }
    lint_senders(&settings, &config_text, &mut report);
    if let Some(files) = &files {
        let linted = lint_templates(&settings, files, &mut report);
        report_store_problems(files, &linted, store_problems, &mut report);
        if let Some(routes) = &routes {
            let checker = RenderCheck {
                settings: &settings,
                files,
                config: &config_text,
                linted: &linted,
            };
            checker.render_all(routes, &mut report);
        }
    } else {
        report.problems.extend(store_problems);
    }
    report.finish(&settings, &config_text, store.workflow_names().len())
}

/// Problems and notes, printed together at the end.
#[derive(Default)]
struct Report {
    problems: Vec<String>,
    located: BTreeSet<Problem>,
    notes: BTreeSet<String>,
}

impl Report {
    fn finish(
        self,
        settings: &Settings,
        config: &ConfigText,
        workflows: usize,
    ) -> Result<(), CliError> {
        for note in &self.notes {
            println!("note: {note}");
        }
        let mut problems = self.problems;
        problems.extend(self.located.iter().map(ToString::to_string));
        if !problems.is_empty() {
            return Err(CliError::usage(ConfigError {
                source_name: format!("{} ({} problem(s))", config.name, problems.len()),
                problems,
            }));
        }
        let environments: usize = settings
            .channels
            .values()
            .map(|c| c.environments.len())
            .sum();
        println!(
            "{}: ok: {} channel(s), {environments} environment(s), {workflows} workflow template set(s)",
            config.name,
            settings.channels.len(),
        );
        Ok(())
    }
}

fn environments(settings: &Settings) -> Vec<(&str, &str, &EnvironmentSettings)> {
    settings
        .channels
        .iter()
        .flat_map(|(c, ch)| {
            ch.environments
                .iter()
                .map(move |(e, s)| (c.as_str(), e.as_str(), s))
        })
        .collect()
}

fn sender_field<'a>(env: &'a EnvironmentSettings, field: &str) -> Option<&'a String> {
    match field {
        "from_address" => Some(&env.from_address),
        "from_name" => env.from_name.as_ref(),
        "reply_to" => env.reply_to.as_ref(),
        "cc" => env.cc.as_ref(),
        "bcc" => env.bcc.as_ref(),
        _ => None,
    }
}

/// `vars` paths and data-loading filters in every sender field.
fn lint_senders(settings: &Settings, config: &ConfigText, report: &mut Report) {
    for (channel, environment, env) in environments(settings) {
        let vars = VarsByEnvironment::from([(environment.to_owned(), &env.vars)]);
        for field in SENDER_FIELDS {
            let Some(source) = sender_field(env, field) else {
                continue;
            };
            let path = ["channels", channel, "environments", environment, field];
            let base = |offset| config.position_in_value(&path, offset);
            for mut problem in lint::lint_source(&config.name, source, &vars, &base) {
                problem.message = format!("{}: {}", path.join("."), problem.message);
                report.located.insert(problem);
            }
        }
    }
}

/// Lints every Liquid file; returns the files with problems.
fn lint_templates(
    settings: &Settings,
    files: &TemplateFiles,
    report: &mut Report,
) -> BTreeSet<String> {
    let vars: VarsByEnvironment = environments(settings)
        .into_iter()
        .map(|(_, environment, env)| (environment.to_owned(), &env.vars))
        .collect();
    let mut linted = BTreeSet::new();
    for (path, source) in files.liquid() {
        let location = files.location(path);
        let base = |offset| Some(scan::line_col(source, offset));
        let mut problems = lint::lint_source(&location, source, &vars, &base);
        if path.rsplit('/').next() == Some("layout.html.liquid") {
            problems.extend(lint::lint_layout(&location, source));
        }
        if !problems.is_empty() {
            linted.insert(path.to_owned());
        }
        report.located.extend(problems);
    }
    linted
}

/// The template store's parse errors, located; a data-loading filter the
/// lint already named is not reported twice.
fn report_store_problems(
    files: &TemplateFiles,
    linted: &BTreeSet<String>,
    problems: Vec<String>,
    report: &mut Report,
) {
    for problem in problems {
        let file = files.liquid().find_map(|(path, source)| {
            let rest = problem.strip_prefix(&format!("{}: ", files.location(path)))?;
            Some((path, source, rest))
        });
        let Some((path, source, message)) = file else {
            report.problems.push(problem);
            continue;
        };
        let filter = requested_filter(message);
        if linted.contains(path)
            && (filter.is_some_and(|f| lint::unsupported_filter(f).is_some())
                || message.contains("data store"))
        {
            continue;
        }
        let position = lint::parse_error_position(message).or_else(|| {
            let name = filter?;
            scan::markups(source)
                .iter()
                .flat_map(scan::filters)
                .find(|f| f.name == name)
                .map(|f| scan::line_col(source, f.offset))
        });
        let message = match filter {
            Some(name) => format!("unknown filter `{name}`"),
            None => message.to_owned(),
        };
        report.located.insert(Problem {
            location: lint::at(&files.location(path), position),
            message,
        });
    }
}

fn requested_filter(message: &str) -> Option<&str> {
    message
        .split_whitespace()
        .find_map(|w| w.strip_prefix("filter="))
        .filter(|_| message.contains("Unknown filter"))
}

/// Renders every workflow in every environment with its sample.
struct RenderCheck<'a> {
    settings: &'a Settings,
    files: &'a TemplateFiles,
    config: &'a ConfigText,
    linted: &'a BTreeSet<String>,
}

impl RenderCheck<'_> {
    fn render_all(&self, routes: &Routes, report: &mut Report) {
        let mut found: BTreeMap<Problem, BTreeSet<String>> = BTreeMap::new();
        for workflow in self.files.workflows() {
            let workflow = workflow.as_str();
            // Each workflow apart, so that one broken file hides no other
            // workflow's problems; the broken one is reported already.
            let files = self.files.for_workflow(workflow);
            let Ok(store) = TemplateStore::from_files(&self.files.origin, files) else {
                continue;
            };
            let max = self.settings.limits.max_job_bytes;
            let sample = match Sample::of(self.files, workflow, max) {
                Ok(sample) => sample,
                Err(e) => {
                    report.problems.push(e);
                    continue;
                }
            };
            for (channel, environment, _) in environments(self.settings) {
                let Ok(route) = routes.resolve(environment, Some(channel)) else {
                    continue;
                };
                let job = sample.job_for(channel, environment);
                let Err(error) = crate::preview::prepare(&store, route, &job) else {
                    continue;
                };
                if let Some(problem) = self.problem(route, workflow, &sample, error, report) {
                    found
                        .entry(problem)
                        .or_default()
                        .insert(environment.to_owned());
                }
            }
        }
        for (mut problem, environments) in found {
            let names: Vec<&str> = environments.iter().map(String::as_str).collect();
            problem.message = format!("{} (environment {})", problem.message, names.join(", "));
            report.located.insert(problem);
        }
    }

    /// The problem a render error shows, or `None` when it is only a note or
    /// was reported already.
    fn problem(
        &self,
        route: &Route,
        workflow: &str,
        sample: &Sample,
        error: RenderError,
        report: &mut Report,
    ) -> Option<Problem> {
        let sample_name = match &sample.source {
            SampleSource::File(file) => file.clone(),
            SampleSource::Synthetic => "a synthetic recipient (no sample.json)".into(),
        };
        let (field, message) = match error {
            RenderError::Invalid { field, message } => (field, message),
            other => {
                return Some(Problem {
                    location: sample_name,
                    message: format!("the sample cannot be rendered: {other}"),
                })
            }
        };
        let variable = lint::variable_of(&message);
        let root = variable
            .as_deref()
            .map(|v| v.split(['.', '[']).next().unwrap_or(v));
        let synthetic = sample.source == SampleSource::Synthetic;
        if synthetic && root.is_some_and(|r| JOB_ROOTS.contains(&r)) {
            let variable = variable.unwrap_or_default();
            report.notes.insert(format!(
                "{workflow}: {variable} not checked: add {workflow}/sample.json with the data a job carries"
            ));
            return None;
        }
        let source = self.source_of(route, workflow, &field);
        if root == Some("vars") && (source.in_config || self.linted.contains(&source.key)) {
            return None;
        }
        let offset = variable
            .as_deref()
            .and_then(|v| lint::find_variable(&source.text, v));
        let path = [
            "channels",
            &route.channel,
            "environments",
            &route.environment,
            &field,
        ];
        let position = match offset {
            Some(offset) if source.in_config => self.config.position_in_value(&path, offset),
            Some(offset) => Some(scan::line_col(&source.text, offset)),
            None => None,
        };
        let what = match &variable {
            Some(v) => format!("{v} does not exist when rendering {sample_name}"),
            None => format!("{message} (rendering {sample_name})"),
        };
        let message = match source.in_config {
            true => format!("{}: {what}", path.join(".")),
            false => what,
        };
        Some(Problem {
            location: lint::at(&source.location, position),
            message,
        })
    }

    /// The file a render error's field names, and its Liquid source.
    fn source_of(&self, route: &Route, workflow: &str, field: &str) -> Source {
        if let Some(template) = sender_field(&route.settings, field) {
            return Source {
                location: self.config.name.clone(),
                text: template.clone(),
                key: field.to_owned(),
                in_config: true,
            };
        }
        let own_layout = format!("{workflow}/layout.html.liquid");
        let key = match field {
            "layout.html.liquid" if self.files.get(&own_layout).is_some() => own_layout,
            other => other.to_owned(),
        };
        let (location, text) = match self.files.get(&key) {
            Some(text) => (self.files.location(&key), text.to_owned()),
            None => (format!("{workflow} ({field})"), String::new()),
        };
        Source {
            location,
            text,
            key,
            in_config: false,
        }
    }
}

/// Where a rendered field comes from.
struct Source {
    /// The file, as problems name it.
    location: String,
    /// The Liquid source of the field.
    text: String,
    /// The template's relative path, or the sender field's name.
    key: String,
    /// A sender field of the configuration file.
    in_config: bool,
}
