//! From a job and its environment to a rendered email: Liquid variables,
//! sender fields, subject and bodies, attachments and the raw MIME.

pub mod attachments;
mod context;
pub mod engine;
pub mod mime;
pub mod templates;
pub mod tracking;

use std::sync::Arc;

use email_address::EmailAddress;
use herald_shared::Job;
use liquid::{Object, Template};

pub use attachments::Attachment;
pub use context::job_globals;
pub use engine::{RenderBudget, RenderLimits, TemplateError};
pub use templates::{TemplateSet, TemplateStore, EXAMPLE_TEMPLATES};

use crate::settings::EnvironmentSettings;

/// A display name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

/// Everything of an email but its MIME encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub from: Mailbox,
    pub to: Mailbox,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// Why a job was not rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No address to send to: the job is reported `not_sent`, not failed.
    #[error("recipient has no email address")]
    MissingEmail,
    #[error("recipient email {0:?} is not a valid address")]
    InvalidEmail(String),
    /// A template, a sender field or an attachment is wrong: a fatal error.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A template of `field` reached a render limit (`limit` names it, e.g.
    /// `max_loop_iterations`): a fatal error.
    #[error("{field}: {message}")]
    Limit {
        field: String,
        limit: &'static str,
        message: String,
    },
}

/// `field`'s template error, a limit breach kept apart.
pub fn template_error(field: &str, error: TemplateError) -> RenderError {
    match error {
        TemplateError::Limit { limit, .. } => RenderError::Limit {
            field: field.to_owned(),
            limit,
            message: error.to_string(),
        },
        other => invalid(field, other.to_string()),
    }
}

/// A fatal rendering error of `field`.
pub fn invalid(field: &str, message: impl Into<String>) -> RenderError {
    RenderError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The environment's sender fields, parsed once per configuration load.
pub struct SenderTemplates {
    pub from_address: Template,
    pub from_name: Option<Template>,
    pub reply_to: Option<Template>,
    pub cc: Option<Template>,
    pub bcc: Option<Template>,
}

impl SenderTemplates {
    /// Parses the sender fields of `settings`, reporting every broken one.
    pub fn parse(
        store: &TemplateStore,
        settings: &EnvironmentSettings,
    ) -> Result<SenderTemplates, Vec<String>> {
        let mut problems = Vec::new();
        let mut parse = |field: &str, source: Option<&String>| {
            let source = source.filter(|s| !s.trim().is_empty())?;
            store
                .parse(source)
                .map_err(|e| problems.push(format!("{field}: {e}")))
                .ok()
        };
        let templates = SenderTemplates {
            from_address: parse("from_address", Some(&settings.from_address))
                .unwrap_or_else(|| store.parse("").expect("empty template")),
            from_name: parse("from_name", settings.from_name.as_ref()),
            reply_to: parse("reply_to", settings.reply_to.as_ref()),
            cc: parse("cc", settings.cc.as_ref()),
            bcc: parse("bcc", settings.bcc.as_ref()),
        };
        if problems.is_empty() {
            Ok(templates)
        } else {
            Err(problems)
        }
    }
}

/// Renders `job` with its environment's sender fields and variables.
pub fn render(
    store: &TemplateStore,
    sender: &SenderTemplates,
    vars: &serde_json::Map<String, serde_json::Value>,
    job: &Job,
    timestamp: &str,
) -> Result<RenderedEmail, RenderError> {
    render_with(store, sender, &job_globals(job, vars, timestamp), job)
}

/// [`render`] with the job's variables already built.
pub fn render_with(
    store: &TemplateStore,
    sender: &SenderTemplates,
    globals: &Object,
    job: &Job,
) -> Result<RenderedEmail, RenderError> {
    render_in(store, sender, globals, job, &store.budget())
}

/// [`render_with`] drawing on `budget`, so that the job's other Liquid
/// fields (JSON overrides) can share it.
pub fn render_in(
    store: &TemplateStore,
    sender: &SenderTemplates,
    globals: &Object,
    job: &Job,
    budget: &RenderBudget,
) -> Result<RenderedEmail, RenderError> {
    let overrides = job.overrides.clone().unwrap_or_default();
    let field = |name: &str, job_value: &Option<String>, default: Option<&Template>| {
        render_field(store, budget, globals, name, job_value.as_deref(), default)
    };
    let to_address = match field("overrides.to", &overrides.to, None)? {
        Some(to) => to,
        None => job.recipient.email.clone().unwrap_or_default(),
    };
    let to_address = to_address.trim().to_owned();
    if to_address.is_empty() {
        return Err(RenderError::MissingEmail);
    }
    if !is_plain_address(&to_address) {
        return Err(RenderError::InvalidEmail(to_address));
    }
    let from_address = field(
        "from_address",
        &overrides.from_address,
        Some(&sender.from_address),
    )?
    .unwrap_or_default();
    let from_name = field("from_name", &overrides.from_name, sender.from_name.as_ref())?;
    let from = Mailbox {
        name: from_name,
        address: checked_address("from_address", from_address.trim())?,
    };
    let to = Mailbox {
        name: job.recipient.name.clone().filter(|n| !n.trim().is_empty()),
        address: to_address,
    };
    no_line_breaks("recipient.name", to.name.as_deref())?;
    no_line_breaks("from_name", from.name.as_deref())?;
    let cc = address_list("cc", field("cc", &overrides.cc, sender.cc.as_ref())?)?;
    let bcc = address_list("bcc", field("bcc", &overrides.bcc, sender.bcc.as_ref())?)?;
    let reply_to = address_list(
        "reply_to",
        field("reply_to", &overrides.reply_to, sender.reply_to.as_ref())?,
    )?;
    let (subject, html, text) = render_content(store, budget, globals, job)?;
    let subject = subject.trim().to_owned();
    no_line_breaks("subject", Some(&subject))?;
    if subject.is_empty() {
        return Err(invalid("subject", "renders empty"));
    }
    let attachments =
        attachments::from_data(&job.data).map_err(|e| invalid("data.attachments", e))?;
    Ok(RenderedEmail {
        from,
        to,
        cc,
        bcc,
        reply_to,
        subject,
        html,
        text,
        attachments,
    })
}

type Content = (String, Option<String>, Option<String>);

fn render_content(
    store: &TemplateStore,
    budget: &RenderBudget,
    globals: &Object,
    job: &Job,
) -> Result<Content, RenderError> {
    if let Some(inline) = &job.template {
        let one = |name: &str, source: &str| {
            let template = store
                .parse(source)
                .map_err(|e| template_error(&format!("template.{name}"), e))?;
            run(budget, &template, globals, &format!("template.{name}"))
        };
        let html = inline.html.as_deref().map(|s| one("html", s)).transpose()?;
        let text = inline.text.as_deref().map(|s| one("text", s)).transpose()?;
        if html.is_none() && text.is_none() {
            return Err(invalid("template", "needs html or text"));
        }
        return Ok((one("subject", &inline.subject)?, html, text));
    }
    let set: Arc<TemplateSet> = store.workflow(&job.workflow).ok_or_else(|| {
        invalid(
            "workflow",
            format!(
                "no templates for workflow {:?} and no inline template",
                job.workflow
            ),
        )
    })?;
    let at = |file: &str| format!("{}/{file}", job.workflow);
    let subject = run(budget, &set.subject, globals, &at("subject.liquid"))?;
    let text = set
        .text
        .as_ref()
        .map(|t| run(budget, t, globals, &at("text.liquid")))
        .transpose()?;
    let mut html = set
        .html
        .as_ref()
        .map(|t| run(budget, t, globals, &at("html.liquid")))
        .transpose()?;
    if let (Some(layout), Some(body)) = (&set.layout, html.take()) {
        let mut wrapped = globals.clone();
        wrapped.insert("content".into(), liquid::model::Value::scalar(body));
        html = Some(run(budget, layout, &wrapped, "layout.html.liquid")?);
    }
    Ok((subject, html, text))
}

fn run(
    budget: &RenderBudget,
    template: &Template,
    globals: &Object,
    field: &str,
) -> Result<String, RenderError> {
    budget
        .render(template, globals)
        .map_err(|e| template_error(field, e))
}

/// The job's value if given, else the environment's default; both Liquid.
fn render_field(
    store: &TemplateStore,
    budget: &RenderBudget,
    globals: &Object,
    name: &str,
    job_value: Option<&str>,
    default: Option<&Template>,
) -> Result<Option<String>, RenderError> {
    let rendered = match (job_value, default) {
        (Some(source), _) => {
            let template = store.parse(source).map_err(|e| template_error(name, e))?;
            run(budget, &template, globals, name)?
        }
        (None, Some(template)) => run(budget, template, globals, name)?,
        (None, None) => return Ok(None),
    };
    let rendered = rendered.trim().to_owned();
    Ok((!rendered.is_empty()).then_some(rendered))
}

fn no_line_breaks(field: &str, value: Option<&str>) -> Result<(), RenderError> {
    match value {
        Some(v) if v.contains(['\r', '\n']) => {
            Err(invalid(field, "contains a line break (CR or LF)"))
        }
        _ => Ok(()),
    }
}

/// A bare address (`a@b.c`), without display name or line breaks.
fn is_plain_address(address: &str) -> bool {
    !address.contains(['\r', '\n', '<', '>', ',', ' '])
        && EmailAddress::parse_with_options(
            address,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal()
                .with_required_tld(),
        )
        .is_ok()
}

fn checked_address(field: &str, address: &str) -> Result<String, RenderError> {
    if is_plain_address(address) {
        Ok(address.to_owned())
    } else if address.contains(['\r', '\n']) {
        Err(invalid(field, "contains a line break (CR or LF)"))
    } else {
        Err(invalid(
            field,
            format!("{address:?} is not a valid email address"),
        ))
    }
}

/// A comma-separated list of addresses.
fn address_list(field: &str, value: Option<String>) -> Result<Vec<String>, RenderError> {
    value
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| checked_address(field, a))
        .collect()
}

#[cfg(test)]
mod tests;
