//! From a job and its environment to a rendered email: Liquid variables,
//! sender fields, subject and bodies, attachments and the raw MIME.

pub mod attachments;
mod context;
pub mod engine;
pub mod filters;
pub mod mime;
pub mod templates;

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
    /// `max_loop_iterations`): hostile or broken, a fatal error.
    #[error("{field}: {message}")]
    Limit {
        field: String,
        limit: &'static str,
        message: String,
    },
}

impl RenderError {
    /// Short code for the `x-herald-error` header.
    pub fn code(&self) -> &'static str {
        match self {
            RenderError::MissingEmail => "recipient_missing_email",
            RenderError::InvalidEmail(_) => "recipient_invalid_email",
            RenderError::Invalid { .. } => "render_error",
            RenderError::Limit { .. } => "render_limit",
        }
    }
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

impl From<attachments::AttachmentError> for RenderError {
    fn from(e: attachments::AttachmentError) -> Self {
        invalid("data.attachments", e.to_string())
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

/// Renders `job` with its environment's sender fields and the job's
/// variables (see [`job_globals`]), every template drawing on `budget`, the
/// job's one allowance of loop iterations, output and time. `attachments`
/// are the job's, decoded ([`attachments::from_data`]).
pub fn render_with(
    store: &TemplateStore,
    budget: &RenderBudget,
    sender: &SenderTemplates,
    globals: &mut Object,
    job: &Job,
    attachments: Vec<Attachment>,
) -> Result<RenderedEmail, RenderError> {
    let envelope = envelope(store, budget, sender, globals, job)?;
    let (subject, html, text) = render_content(store, budget, globals, job)?;
    let subject = subject.trim().to_owned();
    no_line_breaks("subject", Some(&subject))?;
    if subject.is_empty() {
        return Err(invalid("subject", "renders empty"));
    }
    Ok(RenderedEmail {
        from: envelope.from,
        to: envelope.to,
        cc: envelope.cc,
        bcc: envelope.bcc,
        reply_to: envelope.reply_to,
        subject,
        html,
        text,
        attachments,
    })
}

/// Who an email is from and to, before its content.
struct Envelope {
    from: Mailbox,
    to: Mailbox,
    cc: Vec<String>,
    bcc: Vec<String>,
    reply_to: Vec<String>,
}

/// The sender fields and recipients: the job's overrides, else the
/// environment's defaults, all Liquid, all checked.
fn envelope(
    store: &TemplateStore,
    budget: &RenderBudget,
    sender: &SenderTemplates,
    globals: &Object,
    job: &Job,
) -> Result<Envelope, RenderError> {
    let none = herald_shared::job::Overrides::default();
    let overrides = job.overrides.as_ref().unwrap_or(&none);
    let field = |name: &str, job_value: &Option<String>, default: Option<&Template>| {
        render_field(store, budget, globals, name, job_value.as_deref(), default)
    };
    let to_address = match field("overrides.to", &overrides.to, None)? {
        Some(to) => to,
        None => job.recipient.email.clone().unwrap_or_default(),
    };
    let to = recipient(to_address.trim(), job.recipient.name.as_deref())?;
    let from_address = field(
        "from_address",
        &overrides.from_address,
        Some(&sender.from_address),
    )?;
    let from = Mailbox {
        name: field("from_name", &overrides.from_name, sender.from_name.as_ref())?,
        address: checked_address("from_address", from_address.unwrap_or_default().trim())?,
    };
    no_line_breaks("from_name", from.name.as_deref())?;
    let list = |name: &str, job_value: &Option<String>, default: Option<&Template>| {
        address_list(name, field(name, job_value, default)?)
    };
    Ok(Envelope {
        from,
        to,
        cc: list("cc", &overrides.cc, sender.cc.as_ref())?,
        bcc: list("bcc", &overrides.bcc, sender.bcc.as_ref())?,
        reply_to: list("reply_to", &overrides.reply_to, sender.reply_to.as_ref())?,
    })
}

/// The recipient's mailbox: a missing or invalid address is `not_sent`, not
/// a failure.
fn recipient(address: &str, name: Option<&str>) -> Result<Mailbox, RenderError> {
    if address.is_empty() {
        return Err(RenderError::MissingEmail);
    }
    let ascii = ascii_address(address).filter(|_| is_plain_address(address));
    let Some(address) = ascii else {
        return Err(RenderError::InvalidEmail(address.to_owned()));
    };
    let name = name.filter(|n| !n.trim().is_empty()).map(str::to_owned);
    no_line_breaks("recipient.name", name.as_deref())?;
    Ok(Mailbox { name, address })
}

type Content = (String, Option<String>, Option<String>);

fn render_content(
    store: &TemplateStore,
    budget: &RenderBudget,
    globals: &mut Object,
    job: &Job,
) -> Result<Content, RenderError> {
    if let Some(inline) = &job.template {
        let one = |name: &str, source: &str| {
            let template = store
                .parse_inline(source)
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
        globals.insert("content".into(), liquid::model::Value::scalar(body));
        let wrapped = run(budget, layout, globals, "layout.html.liquid");
        globals.remove("content");
        html = Some(wrapped?);
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

/// The address with its domain in ASCII (IDNA punycode): headers and the
/// SES envelope carry no raw 8-bit bytes. `None` when the domain is not a
/// valid international domain name.
pub fn ascii_address(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    if domain.is_ascii() {
        return Some(address.to_owned());
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some(format!("{local}@{domain}"))
}

fn checked_address(field: &str, address: &str) -> Result<String, RenderError> {
    if is_plain_address(address) {
        ascii_address(address)
            .ok_or_else(|| invalid(field, format!("{address:?} has an invalid domain")))
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
