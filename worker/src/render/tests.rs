use super::*;
use crate::settings::Settings;
use serde_json::json;

const CONFIG: &str = r#"
[channels.ses.environments.dev]
sandbox = true
from_address = "notify@{{ vars.domain }}"
from_name = "{{ vars.app_name }} for {{ tenant.id }}"
reply_to = "support@{{ vars.domain }}"
cc = "audit@example.com, {{ data.manager }}"
vars = { domain = "example.com", app_name = "Example" }
"#;

fn setup() -> (TemplateStore, SenderTemplates, EnvironmentSettings) {
    let settings = Settings::from_toml("t", CONFIG, &|_| None).unwrap();
    let env = settings.channels["ses"].environments["dev"].clone();
    let store = TemplateStore::from_files("examples", EXAMPLE_TEMPLATES.iter().copied()).unwrap();
    let sender = SenderTemplates::parse(&store, &env).unwrap();
    (store, sender, env)
}

fn job(value: serde_json::Value) -> Job {
    let mut base = json!({
        "id": "m1", "environment": "dev", "workflow": "welcome",
        "recipient": { "id": "u1", "email": "ada@example.com", "name": "Ada Lovelace" },
        "actor": { "name": "Grace" }, "tenant": "acme",
        "data": { "plan": "pro", "manager": "boss@example.com" }
    });
    for (k, v) in value.as_object().unwrap() {
        base[k] = v.clone();
    }
    serde_json::from_value(base).unwrap()
}

fn render_job(value: serde_json::Value) -> Result<RenderedEmail, RenderError> {
    let (store, sender, env) = setup();
    render_on(&store, &sender, &env, value)
}

/// Renders a job made of `value` with a store of the caller's.
fn render_on(
    store: &TemplateStore,
    sender: &SenderTemplates,
    env: &EnvironmentSettings,
    value: serde_json::Value,
) -> Result<RenderedEmail, RenderError> {
    let job = job(value);
    let vars = liquid::model::to_value(&env.vars).unwrap();
    let mut globals = job_globals(&job, &vars, "2026-11-30T12:00:00Z");
    render_with(
        store,
        &store.budget(),
        sender,
        &mut globals,
        &job,
        attachments::from_data(&job.data)?,
    )
}

#[test]
fn workflow_templates_render_with_layout_and_sender_fields() {
    let email = render_job(json!({})).unwrap();
    assert_eq!(email.subject, "Welcome to Example, Ada Lovelace!");
    assert_eq!(email.from.address, "notify@example.com");
    assert_eq!(email.from.name.as_deref(), Some("Example for acme"));
    assert_eq!(email.to.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(email.cc, vec!["audit@example.com", "boss@example.com"]);
    assert_eq!(email.reply_to, vec!["support@example.com"]);
    let html = email.html.unwrap();
    assert!(html.contains("<h1>Hi Ada Lovelace,</h1>") && html.contains("Example · example.com"));
    assert!(email
        .text
        .unwrap()
        .contains("Grace invited you to acme on the pro plan."));
}

#[test]
fn job_overrides_win_over_environment_defaults() {
    let email = render_job(json!({ "overrides": {
        "to": "other@example.com", "from_name": "{{ actor.name }}", "cc": "", "bcc": "x@example.com"
    }}))
    .unwrap();
    assert_eq!(email.to.address, "other@example.com");
    assert_eq!(email.from.name.as_deref(), Some("Grace"));
    assert!(email.cc.is_empty());
    assert_eq!(email.bcc, vec!["x@example.com"]);
}

#[test]
fn a_recipient_without_a_valid_email_is_told_apart() {
    let missing = render_job(json!({ "recipient": { "id": "u1" } }));
    assert_eq!(missing.unwrap_err(), RenderError::MissingEmail);
    for bad in [
        "not-an-address",
        "a@b",
        "Ada <ada@example.com>",
        "a@example.com\r\nBcc: x@y.z",
    ] {
        let err = render_job(json!({ "recipient": { "id": "u1", "email": bad } })).unwrap_err();
        assert!(
            matches!(err, RenderError::InvalidEmail(_)),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn line_breaks_in_rendered_headers_are_fatal() {
    let subject = render_job(
        json!({ "template": { "subject": "Hi\r\nBcc: evil@example.com", "text": "x" } }),
    );
    assert!(
        matches!(subject.unwrap_err(), RenderError::Invalid { field, .. } if field == "subject")
    );
    let name =
        render_job(json!({ "recipient": { "id": "u", "email": "a@example.com", "name": "A\nB" } }));
    assert!(
        matches!(name.unwrap_err(), RenderError::Invalid { field, .. } if field == "recipient.name")
    );
}

#[test]
fn template_errors_name_the_template() {
    let err = render_job(json!({ "template": { "subject": "{{ data.nope }}", "text": "x" } }))
        .unwrap_err();
    assert!(err.to_string().starts_with("template.subject:"), "{err}");
    let err = render_job(json!({ "workflow": "missing" })).unwrap_err();
    assert!(
        err.to_string()
            .contains("no templates for workflow \"missing\""),
        "{err}"
    );
}

#[test]
fn the_mime_message_carries_headers_bodies_and_attachments() {
    let email = render_job(json!({
        "overrides": { "bcc": "hidden@example.com" },
        "data": { "plan": "pro", "manager": "boss@example.com", "attachments": [
            { "name": "invoice.pdf", "content_type": "application/pdf", "content": "JVBERi0xLjQK" }
        ]}
    }))
    .unwrap();
    let raw = String::from_utf8(mime::build(&email, "m1").unwrap()).unwrap();
    for header in [
        "From: \"Example for acme\" <notify@example.com>",
        "To: \"Ada Lovelace\" <ada@example.com>",
        "Subject: Welcome to Example, Ada Lovelace!",
    ] {
        assert!(raw.contains(header), "{header} in {raw}");
    }
    assert!(raw.contains("multipart/alternative") && raw.contains("text/html"));
    assert!(raw.contains("filename=\"invoice.pdf\"") && raw.contains("JVBERi0xLjQK"));
    assert!(raw.contains("X-Herald-Message-Id: m1"));
    assert!(
        !raw.contains("hidden@example.com"),
        "bcc leaked into headers"
    );
}

#[test]
fn an_email_over_the_ses_limit_is_refused_naming_its_attachments() {
    use base64::Engine;
    let big = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 31 * 1000 * 1000]);
    let email = render_job(
        json!({ "data": { "plan": "pro", "manager": "boss@example.com", "attachments": [
            { "name": "huge.bin", "content_type": "application/octet-stream", "content": big }
        ]}}),
    )
    .unwrap();
    let err = mime::build(&email, "m1").unwrap_err().to_string();
    assert!(
        err.contains("over SES's limit") && err.contains("huge.bin"),
        "{err}"
    );
}

#[test]
fn a_hostile_inline_template_fails_the_job_naming_the_limit() {
    let hostile = json!({ "template": {
        "subject": "s", "text": "{% for i in (1..1000000000) %}x{% endfor %}"
    }});
    let err = render_job(hostile).unwrap_err();
    assert!(
        matches!(&err, RenderError::Limit { field, limit: "max_range", .. } if field == "template.text"),
        "{err:?}"
    );
}

#[test]
fn a_loop_in_an_override_shares_the_jobs_budget() {
    let limits = RenderLimits {
        max_loop_iterations: 1_000,
        ..RenderLimits::default()
    };
    let (_, _, env) = setup();
    let store =
        TemplateStore::from_files_with("examples", EXAMPLE_TEMPLATES.iter().copied(), &limits)
            .unwrap();
    let sender = SenderTemplates::parse(&store, &env).unwrap();
    let to = "{% for i in (1..600) %}{% endfor %}ada@example.com";
    let job = job(json!({ "overrides": { "to": to, "from_name": to } }));
    let vars = liquid::model::to_value(&env.vars).unwrap();
    let mut globals = job_globals(&job, &vars, "2026-11-30T12:00:00Z");
    let budget = RenderBudget::new(&limits);
    let err = render_with(&store, &budget, &sender, &mut globals, &job, Vec::new()).unwrap_err();
    assert!(
        matches!(&err, RenderError::Limit { field, limit: "max_loop_iterations", .. } if field == "from_name"),
        "{err:?}"
    );
}

#[test]
fn an_international_domain_and_name_reach_the_headers_as_ascii() {
    let recipient = json!({ "id": "u1", "email": "ada@bücher.example", "name": "Ada Lövelace" });
    let email = render_job(json!({ "recipient": recipient })).unwrap();
    assert_eq!(email.to.address, "ada@xn--bcher-kva.example");
    let raw = mime::build(&email, "m1").unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = &raw[..end];
    assert!(headers.is_ascii(), "{}", String::from_utf8_lossy(headers));
    let headers = String::from_utf8_lossy(headers);
    assert!(headers.contains("ada@xn--bcher-kva.example"), "{headers}");
    assert!(
        headers.contains("=?utf-8?"),
        "RFC 2047 display name: {headers}"
    );
    assert_eq!(ascii_address("no-at-sign"), None);
}

#[test]
fn inline_templates_are_parsed_once_per_distinct_text() {
    let (store, sender, env) = setup();
    let render = |subject: &str, name: &str| {
        let value = json!({
            "template": { "subject": subject, "text": "Hi {{ recipient.name }}" },
            "recipient": { "id": "u1", "email": "ada@example.com", "name": name }
        });
        render_on(&store, &sender, &env, value)
    };
    for name in ["Ada", "Grace", "Alan"] {
        let email = render("Hello {{ recipient.name }}", name).unwrap();
        assert_eq!(
            email.subject,
            format!("Hello {name}"),
            "each job its own values"
        );
        assert_eq!(email.text.as_deref(), Some(format!("Hi {name}").as_str()));
    }
    assert_eq!(
        store.inline_cached(),
        2,
        "subject and text, parsed once each"
    );
    render("Welcome {{ recipient.name }}", "Ada").unwrap();
    assert_eq!(store.inline_cached(), 3);
    assert!(render("{% if %}", "Ada").is_err());
    assert_eq!(store.inline_cached(), 3, "a broken template is not kept");
    let oversized = "x".repeat(store.limits().max_template_bytes + 1);
    assert!(
        render(&oversized, "Ada").is_err(),
        "the limits apply as before"
    );
}
