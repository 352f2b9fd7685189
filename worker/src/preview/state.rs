//! What the preview shows, built again whenever a template or the
//! configuration changes: the environments, each workflow's templates
//! (parsed per workflow, so one broken file hides only its own emails) and
//! each workflow's sample job.

use std::path::{Path, PathBuf};

use super::files::{Sample, SampleSource, TemplateFiles};
use super::{lint, scan};
use crate::channels::{Mode, Routes};
use crate::render::{RenderError, TemplateStore};
use crate::request::Prepared;
use crate::settings::Settings;

/// Everything the pages need, from one reading of the files.
pub struct Preview {
    /// The configuration file, or `(embedded)`.
    pub config_name: String,
    /// Problems that are not one email's: the configuration, the samples.
    pub problems: Vec<String>,
    /// `(channel, environment)` pairs, in the configuration's order.
    pub environments: Vec<(String, String)>,
    pub routes: Option<Routes>,
    pub files: TemplateFiles,
    pub workflows: Vec<Workflow>,
    /// The templates folder to watch, when there is one.
    pub templates_dir: Option<PathBuf>,
}

/// One workflow: its templates and the job it is shown with.
pub struct Workflow {
    pub name: String,
    /// The parsed templates, or every parse error.
    pub store: Result<TemplateStore, Vec<String>>,
    pub sample: Result<Sample, String>,
}

/// A render failure, located where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file (or setting) at fault, with `:line:column` when known.
    pub location: String,
    pub message: String,
}

impl Preview {
    /// Reads the configuration, the templates and the samples; `jobs` (job
    /// files from the command line) replace their workflow's sample.
    pub async fn build(config: Option<&Path>, jobs: &[PathBuf]) -> Preview {
        let source = config
            .map(Path::to_path_buf)
            .or_else(crate::settings::default_config_path);
        let config_name = source
            .as_ref()
            .map_or("(embedded)".into(), |p| p.display().to_string());
        let mut preview = Preview {
            config_name,
            problems: Vec::new(),
            environments: Vec::new(),
            routes: None,
            files: TemplateFiles {
                origin: "(no templates)".into(),
                dir: None,
                files: Vec::new(),
            },
            workflows: Vec::new(),
            templates_dir: None,
        };
        let settings = match Settings::load_unchecked(source.as_deref()) {
            Ok(settings) => settings,
            Err(e) => {
                preview.problems.extend(e.problems);
                return preview;
            }
        };
        preview.problems.extend(settings.problems());
        preview.templates_dir = Some(settings.templates.dir.clone()).filter(|d| d.is_dir());
        match TemplateFiles::read(&settings, source.is_none()) {
            Ok(files) => preview.files = files,
            Err(e) => preview.problems.push(e),
        }
        for (channel, c) in &settings.channels {
            for environment in c.environments.keys() {
                preview
                    .environments
                    .push((channel.clone(), environment.clone()));
            }
        }
        let timeout = settings.limits.ses_timeout;
        let parser = TemplateStore::empty();
        match Routes::build(&settings, &parser, Mode::Sandbox, timeout).await {
            Ok(routes) => preview.routes = Some(routes),
            Err(problems) => preview.problems.extend(problems),
        }
        preview.workflows = workflows(&preview.files, jobs, settings.limits.max_job_bytes);
        preview
    }

    /// A workflow by name.
    pub fn workflow(&self, name: &str) -> Option<&Workflow> {
        self.workflows.iter().find(|w| w.name == name)
    }

    /// Renders `workflow` for one environment, as `herald render` would.
    pub fn render(
        &self,
        workflow: &Workflow,
        channel: &str,
        environment: &str,
    ) -> Result<Prepared, Vec<Failure>> {
        let store = workflow.store.as_ref().map_err(|problems| {
            problems
                .iter()
                .map(|p| self.parse_failure(p))
                .collect::<Vec<_>>()
        })?;
        let sample = workflow
            .sample
            .as_ref()
            .map_err(|e| vec![failure("sample", e)])?;
        let routes = self
            .routes
            .as_ref()
            .ok_or_else(|| vec![failure(&self.config_name, "the configuration has problems")])?;
        let route = routes
            .resolve(environment, Some(channel))
            .map_err(|e| vec![failure(&self.config_name, &e.to_string())])?;
        let job = sample.job_for(channel, environment);
        super::prepare(store, route, &job)
            .map_err(|e| vec![self.render_failure(&workflow.name, sample, e)])
    }

    fn parse_failure(&self, problem: &str) -> Failure {
        for (path, _) in self.files.liquid() {
            let location = self.files.location(path);
            if let Some(message) = problem.strip_prefix(&format!("{location}: ")) {
                let position = lint::parse_error_position(message);
                return failure(&lint::at(&location, position), message);
            }
        }
        failure("templates", problem)
    }

    fn render_failure(&self, workflow: &str, sample: &Sample, error: RenderError) -> Failure {
        let RenderError::Invalid { field, message } = error else {
            let from = match &sample.source {
                SampleSource::File(f) => f.clone(),
                SampleSource::Synthetic => "the synthetic sample".into(),
            };
            return failure(&from, &error.to_string());
        };
        let own_layout = format!("{workflow}/layout.html.liquid");
        let path = match field.as_str() {
            "layout.html.liquid" if self.files.get(&own_layout).is_some() => own_layout,
            other => other.to_owned(),
        };
        let Some(source) = self.files.get(&path) else {
            return failure(&format!("{}: {field}", self.config_name), &message);
        };
        let position = lint::variable_of(&message)
            .and_then(|v| lint::find_variable(source, &v))
            .map(|offset| scan::line_col(source, offset));
        failure(&lint::at(&self.files.location(&path), position), &message)
    }
}

fn failure(location: &str, message: &str) -> Failure {
    Failure {
        location: location.to_owned(),
        message: message.to_owned(),
    }
}

fn workflows(files: &TemplateFiles, jobs: &[PathBuf], max_bytes: usize) -> Vec<Workflow> {
    let given: Vec<Result<Sample, String>> = jobs
        .iter()
        .map(|j| Sample::from_file(j, max_bytes))
        .collect();
    let mut names = files.workflows();
    for sample in given.iter().flatten() {
        if !names.contains(&sample.job.workflow) {
            names.push(sample.job.workflow.clone());
        }
    }
    let mut out: Vec<Workflow> = names
        .into_iter()
        .map(|name| {
            let from_cli = given
                .iter()
                .flatten()
                .find(|s| s.job.workflow == name)
                .cloned();
            let sample = from_cli.map_or_else(|| Sample::of(files, &name, max_bytes), Ok);
            let has_files = files
                .for_workflow(&name)
                .any(|(p, _)| p.starts_with(&format!("{name}/")));
            let store = match has_files {
                true => TemplateStore::from_files(&files.origin, files.for_workflow(&name)),
                false => Ok(TemplateStore::empty()),
            };
            Workflow {
                name,
                store,
                sample,
            }
        })
        .collect();
    for (n, error) in given
        .iter()
        .enumerate()
        .filter_map(|(n, s)| s.as_ref().err().map(|e| (n, e)))
    {
        out.push(Workflow {
            name: format!("job {}", n + 1),
            store: Ok(TemplateStore::empty()),
            sample: Err(error.clone()),
        });
    }
    out
}
