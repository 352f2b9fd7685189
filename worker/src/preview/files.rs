//! The template files of a configuration as text, and the sample job of each
//! workflow: what `herald check` scans and `herald preview` renders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use herald_shared::Job;

use crate::render::EXAMPLE_TEMPLATES;
use crate::settings::Settings;

/// Folders of `templates.dir` that hold no workflow.
const NOT_WORKFLOWS: &[&str] = &["partials", "translations"];

/// The sample job a workflow may ship beside its templates.
pub const SAMPLE_FILE: &str = "sample.json";

/// Every file under `templates.dir` (top level and one folder down), or the
/// built-in example templates.
#[derive(Debug, Clone)]
pub struct TemplateFiles {
    /// How locations are shown: the folder as configured, or a label.
    pub origin: String,
    /// The folder read, `None` for the built-in examples.
    pub dir: Option<PathBuf>,
    /// `(relative path with '/', text)`, sorted by path.
    pub files: Vec<(String, String)>,
}

impl TemplateFiles {
    /// Reads the templates `settings` names; the built-in configuration falls
    /// back to the built-in examples when the folder is absent, as
    /// [`crate::cli::Loaded`] does.
    pub fn read(settings: &Settings, embedded: bool) -> Result<TemplateFiles, String> {
        let dir = &settings.templates.dir;
        if !dir.is_dir() && embedded {
            return Ok(TemplateFiles::built_in());
        }
        let mut files = Vec::new();
        read_dir(dir, dir, 0, &mut files)?;
        files.sort();
        Ok(TemplateFiles {
            origin: dir.display().to_string(),
            dir: Some(dir.clone()),
            files,
        })
    }

    /// The templates built into the binary.
    pub fn built_in() -> TemplateFiles {
        let files = EXAMPLE_TEMPLATES
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        TemplateFiles {
            origin: "(built-in examples)".into(),
            dir: None,
            files,
        }
    }

    /// Workflow names: folders with at least one Liquid file.
    pub fn workflows(&self) -> Vec<String> {
        let names: BTreeSet<&str> = self
            .files
            .iter()
            .filter(|(path, _)| path.ends_with(".liquid"))
            .filter_map(|(path, _)| path.split_once('/').map(|(w, _)| w))
            .filter(|w| !NOT_WORKFLOWS.contains(w))
            .collect();
        names.into_iter().map(str::to_owned).collect()
    }

    /// The text of one file.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }

    /// The Liquid files, as `(relative path, text)`.
    pub fn liquid(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .filter(|(p, _)| p.ends_with(".liquid"))
            .map(|(p, t)| (p.as_str(), t.as_str()))
    }

    /// The Liquid files one workflow's emails are made of: its own folder,
    /// the top level (the shared layout) and the shared folders (partials).
    pub fn for_workflow<'a>(
        &'a self,
        workflow: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.liquid()
            .filter(move |(path, _)| match path.split_once('/') {
                None => true,
                Some((folder, _)) => folder == workflow || NOT_WORKFLOWS.contains(&folder),
            })
    }

    /// `origin/path`, as problems name files.
    pub fn location(&self, path: &str) -> String {
        format!("{}/{path}", self.origin)
    }
}

fn read_dir(
    root: &Path,
    dir: &Path,
    depth: usize,
    files: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("templates.dir {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() && depth == 0 {
            read_dir(root, &path, 1, files)?;
        } else if name.ends_with(".liquid") || (depth == 1 && name == SAMPLE_FILE) {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            files.push((relative.to_string_lossy().replace('\\', "/"), text));
        }
    }
    Ok(())
}

/// Where a sample job came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleSource {
    /// `<workflow>/sample.json`, or a job file given on the command line.
    File(String),
    /// No sample: a made-up recipient and empty data.
    Synthetic,
}

/// A job to render a workflow with.
#[derive(Debug, Clone)]
pub struct Sample {
    pub job: Job,
    pub source: SampleSource,
}

impl Sample {
    /// The workflow's `sample.json`, else a synthetic job.
    pub fn of(files: &TemplateFiles, workflow: &str, max_bytes: usize) -> Result<Sample, String> {
        let path = format!("{workflow}/{SAMPLE_FILE}");
        let Some(text) = files.get(&path) else {
            return Ok(Sample::synthetic(workflow));
        };
        let location = files.location(&path);
        let mut job =
            Job::parse(text.as_bytes(), max_bytes).map_err(|e| format!("{location}: {e}"))?;
        job.workflow = workflow.to_owned();
        Ok(Sample {
            job,
            source: SampleSource::File(location),
        })
    }

    /// A job file given on the command line.
    pub fn from_file(path: &Path, max_bytes: usize) -> Result<Sample, String> {
        let shown = path.display().to_string();
        let body = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
        let job = Job::parse(&body, max_bytes).map_err(|e| format!("{shown}: {e}"))?;
        Ok(Sample {
            job,
            source: SampleSource::File(shown),
        })
    }

    /// A recipient with an id, a name and an address, and nothing else.
    pub fn synthetic(workflow: &str) -> Sample {
        let job = serde_json::json!({
            "id": format!("sample_{workflow}"),
            "environment": "sample",
            "workflow": workflow,
            "recipient": { "id": "sample_recipient", "email": "recipient@example.com", "name": "Sample Recipient" },
            "data": {}
        });
        Sample {
            job: serde_json::from_value(job).expect("the synthetic job is a job"),
            source: SampleSource::Synthetic,
        }
    }

    /// The job as sent to `environment` through `channel`.
    pub fn job_for(&self, channel: &str, environment: &str) -> Job {
        let mut job = self.job.clone();
        job.environment = environment.to_owned();
        job.channel = Some(channel.to_owned());
        job
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_examples_ship_a_sample_for_every_workflow() {
        let files = TemplateFiles::built_in();
        assert_eq!(files.workflows(), vec!["password-reset", "welcome"]);
        for workflow in files.workflows() {
            let sample = Sample::of(&files, &workflow, 1 << 20).unwrap();
            assert!(
                matches!(sample.source, SampleSource::File(ref f) if f.ends_with("/sample.json")),
                "{workflow}: {:?}",
                sample.source
            );
            assert_eq!(sample.job.workflow, workflow);
        }
    }

    #[test]
    fn a_workflow_without_a_sample_gets_a_synthetic_recipient() {
        let files = TemplateFiles {
            origin: "t".into(),
            dir: None,
            files: vec![("w/subject.liquid".into(), "s".into())],
        };
        let sample = Sample::of(&files, "w", 1 << 20).unwrap();
        assert_eq!(sample.source, SampleSource::Synthetic);
        assert_eq!(
            sample.job.recipient.email.as_deref(),
            Some("recipient@example.com")
        );
        let job = sample.job_for("ses", "production");
        assert_eq!(
            (job.environment.as_str(), job.channel.as_deref()),
            ("production", Some("ses"))
        );
    }
}
