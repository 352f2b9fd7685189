//! From a job and its route to the exact `SendEmail` request: the rendered
//! email, its MIME, the fields Herald computes (envelope, tags, configuration
//! set, tracking) and the JSON overrides merged over them. Shared by the
//! pipeline, `herald render` and `herald preview`.

pub mod fields;
pub mod overrides;
pub mod tracking;

use herald_shared::tags::sanitize_tag_value;
use herald_shared::Job;

pub use fields::{Destination, RequestFields, SendRequest, Tag};
pub use overrides::Node;

use crate::channels::Route;
use crate::clock::now_rfc3339;
use crate::render::{self, mime, RenderError, RenderedEmail, TemplateStore};

/// A rendered email and the exact request that would send it.
pub struct Prepared {
    pub email: RenderedEmail,
    pub request: SendRequest,
}

/// Renders the email, builds its MIME and its `SendEmail` request with the
/// JSON overrides applied.
pub fn prepare(store: &TemplateStore, route: &Route, job: &Job) -> Result<Prepared, RenderError> {
    let attachments = render::attachments::from_data(&job.data)?;
    prepare_with(store, &store.budget(), route, job, attachments)
}

/// The request alone, for a job the caller owns: its attachments are decoded
/// first and their base64 dropped, and the decoded bytes are dropped once the
/// MIME holds them, so a large attachment lives in one form at a time.
pub fn prepare_request(
    store: &TemplateStore,
    route: &Route,
    job: &mut Job,
) -> Result<SendRequest, RenderError> {
    let attachments = render::attachments::take_from(&mut job.data)?;
    prepare_with(store, &store.budget(), route, job, attachments).map(|prepared| prepared.request)
}

/// The request for a job the caller keeps whole (attachments are copied, not
/// taken), all its renders given `time` at most: a try that runs out of time
/// fails with [`RenderError::Limit`] naming `max_render_time`.
pub fn try_prepare_request(
    store: &TemplateStore,
    route: &Route,
    job: &Job,
    time: std::time::Duration,
) -> Result<SendRequest, RenderError> {
    let attachments = render::attachments::from_data(&job.data)?;
    let budget = store.budget_within(time);
    prepare_with(store, &budget, route, job, attachments).map(|prepared| prepared.request)
}

fn prepare_with(
    store: &TemplateStore,
    budget: &render::RenderBudget,
    route: &Route,
    job: &Job,
    attachments: Vec<render::Attachment>,
) -> Result<Prepared, RenderError> {
    let mut globals = render::job_globals(job, &route.vars, &now_rfc3339());
    if let (None, Some(locale)) = (&job.locale, &route.settings.default_locale) {
        globals.insert(
            "locale".into(),
            liquid::model::Value::scalar(locale.clone()),
        );
    }
    let mut email =
        render::render_with(store, budget, &route.sender, &mut globals, job, attachments)?;
    if route.settings.marks_links_no_track() {
        email.html = email.html.map(|html| tracking::mark_links_no_track(&html));
    }
    let raw = mime::build(&email, &job.id)?;
    let mut layers = Vec::new();
    if let Some(node) = &route.json_overrides {
        let layer = node.render(budget, &globals);
        layers.push(layer.map_err(|e| e.at("json_overrides"))?);
    }
    if let Some(json) = job.overrides.as_ref().and_then(|o| o.json.as_ref()) {
        let node = Node::parse(store, json).map_err(|e| e.at("overrides.json"))?;
        let layer = node.render(budget, &globals);
        layers.push(layer.map_err(|e| e.at("overrides.json"))?);
    }
    let base = computed_fields(route, job, &email);
    let mut fields = overrides::apply(base, &layers).map_err(|e| e.at("json overrides"))?;
    overrides::sanitize_tags(&mut fields);
    fields.check_headers().map_err(|e| e.at("json overrides"))?;
    Ok(Prepared {
        email,
        request: SendRequest {
            fields,
            raw: raw.into(),
        },
    })
}

/// The request fields Herald computes: envelope, tags, configuration set.
fn computed_fields(route: &Route, job: &Job, email: &RenderedEmail) -> RequestFields {
    let prefix = &route.settings.tag_prefix;
    let tag = |name: String, value: &str| Tag {
        name,
        value: sanitize_tag_value(value),
    };
    RequestFields {
        from_email_address: Some(email.from.address.clone()),
        destination: Some(Destination {
            to_addresses: vec![email.to.address.clone()],
            cc_addresses: email.cc.clone(),
            bcc_addresses: email.bcc.clone(),
        }),
        email_tags: Some({
            let mut tags = vec![
                tag("sender".into(), "herald"),
                tag(format!("{prefix}_message_id"), &job.id),
                tag(format!("{prefix}_workflow"), &job.workflow),
                tag(format!("{prefix}_recipient_id"), &job.recipient.id),
                tag(format!("{prefix}_environment"), &route.environment),
                tag(format!("{prefix}_channel"), &route.channel),
            ];
            // Feedback reads the job id back from here when the id holds
            // characters a tag cannot.
            if let Some(reference) = crate::feedback::ses_events::message_ref(&job.id) {
                tags.push(tag(format!("{prefix}_message_ref"), &reference));
            }
            tags
        }),
        configuration_set_name: route
            .settings
            .configuration_set_for_send()
            .map(str::to_owned),
        endpoint_id: route.settings.endpoint_id.clone(),
        ..RequestFields::default()
    }
}
