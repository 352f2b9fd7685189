//! The preview's HTML. Maud escapes every value it prints; the email's own
//! HTML is never inlined: it is served apart, under a sandboxing CSP, into a
//! sandboxed iframe.

use maud::{html, Markup, DOCTYPE};

use super::files::SampleSource;
use super::state::{Failure, Preview, Workflow};
use crate::render::Mailbox;
use crate::request::Prepared;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}\
.ok{color:#1a7f37}.error{color:#b3261e}.failure{background:#fdecea;border:1px solid #b3261e;padding:.6rem;margin:.6rem 0}\
.failure pre{white-space:pre-wrap;margin:.3rem 0 0}iframe{width:100%;height:28rem;border:1px solid #ccc}\
pre.text{background:#f6f6f6;padding:.6rem;white-space:pre-wrap}";

/// The URL of one email's page.
pub fn email_href(workflow: &str, channel: &str, environment: &str) -> String {
    format!(
        "/email/{}/{}/{}",
        segment(workflow),
        segment(channel),
        segment(environment)
    )
}

fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn layout(title: &str, version: u64, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html {
            head {
                meta charset="utf-8";
                title { (title) " · Herald preview" }
                style { (maud::PreEscaped(STYLE)) }
                script src="/preview.js" defer {}
            }
            body data-version=(version) { (body) }
        }
    }
    .into_string()
}

fn problems(list: &[String]) -> Markup {
    html! {
        @if !list.is_empty() {
            div.failure {
                strong { "Configuration problems" }
                ul { @for p in list { li { (p) } } }
            }
        }
    }
}

/// Workflows × environments, each cell a link to the rendered email.
pub fn index(preview: &Preview, version: u64) -> String {
    let body = html! {
        h1 { "Herald preview" }
        p { "Configuration " code { (preview.config_name) } ", templates " code { (preview.files.origin) } ". The page reloads when a file changes." }
        (problems(&preview.problems))
        table {
            tr {
                th { "workflow" }
                @for (channel, environment) in &preview.environments { th { (environment) " (" (channel) ")" } }
            }
            @for workflow in &preview.workflows {
                tr {
                    th { (workflow.name) }
                    @for (channel, environment) in &preview.environments {
                        @let result = preview.render(workflow, channel, environment);
                        td {
                            a href=(email_href(&workflow.name, channel, environment)) {
                                @match &result {
                                    Ok(p) => span.ok { (p.email.subject) },
                                    Err(_) => span.error { "render error" },
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Workflows", version, body)
}

fn mailbox(m: &Mailbox) -> String {
    match &m.name {
        Some(name) => format!("{name} <{}>", m.address),
        None => m.address.clone(),
    }
}

fn sample_line(workflow: &Workflow) -> Markup {
    html! {
        p {
            "Rendered with "
            @match &workflow.sample {
                Ok(s) => @match &s.source {
                    SampleSource::File(f) => code { (f) },
                    SampleSource::Synthetic => { "a synthetic recipient (add " code { (workflow.name) "/sample.json" } " for real data)" },
                },
                Err(_) => "no usable sample",
            }
        }
    }
}

fn failures(list: &[Failure]) -> Markup {
    html! {
        @for f in list {
            div.failure.render-error {
                strong { "Render error at " code.location { (f.location) } }
                pre { (f.message) }
            }
        }
    }
}

fn email(prepared: &Prepared, html_href: &str) -> Markup {
    let e = &prepared.email;
    html! {
        table.headers {
            tr { th { "Subject" } td id="subject" { (e.subject) } }
            tr { th { "From" } td id="from" { (mailbox(&e.from)) } }
            tr { th { "To" } td id="to" { (mailbox(&e.to)) } }
            tr { th { "Reply-To" } td id="reply-to" { (e.reply_to.join(", ")) } }
            @if !e.cc.is_empty() { tr { th { "Cc" } td { (e.cc.join(", ")) } } }
            @if !e.bcc.is_empty() { tr { th { "Bcc" } td { (e.bcc.join(", ")) } } }
        }
        h2 { "HTML" }
        @if e.html.is_some() {
            iframe id="html" sandbox="" src=(html_href) title="HTML part" {}
        } @else { p { "No HTML part." } }
        h2 { "Text" }
        @match &e.text {
            Some(text) => pre.text id="text" { (text) },
            None => p { "No text part." },
        }
        h2 { "Attachments" }
        @if e.attachments.is_empty() { p { "None." } } @else {
            table id="attachments" {
                tr { th { "name" } th { "type" } th { "bytes" } th { "disposition" } }
                @for a in &e.attachments {
                    tr { td { (a.name) } td { (a.content_type) } td { (a.content.len()) } td { (if a.inline { "inline" } else { "attachment" }) } }
                }
            }
        }
    }
}

/// One email: its headers, html (framed), text and attachments, or why it
/// could not be rendered.
pub fn email_page(
    preview: &Preview,
    workflow: &Workflow,
    channel: &str,
    environment: &str,
    version: u64,
) -> String {
    let result = preview.render(workflow, channel, environment);
    let html_href = format!("{}/html", email_href(&workflow.name, channel, environment));
    let title = format!("{} in {environment}", workflow.name);
    let body = html! {
        p { a href="/" { "← all workflows" } }
        h1 { (workflow.name) " · " (environment) " (" (channel) ")" }
        (sample_line(workflow))
        (problems(&preview.problems))
        @match &result {
            Ok(prepared) => (email(prepared, &html_href)),
            Err(list) => (failures(list)),
        }
    };
    layout(&title, version, body)
}

/// A page for a workflow or environment that does not exist.
pub fn not_found(what: &str, version: u64) -> String {
    layout(
        "Not found",
        version,
        html! { p { a href="/" { "← all workflows" } } p { "No " (what) "." } },
    )
}

/// Polls `/changes` and reloads the page when the files changed.
pub const RELOAD_SCRIPT: &str = r#"(async () => {
  const seen = document.body.dataset.version;
  for (;;) {
    try {
      const answer = await fetch('/changes?since=' + encodeURIComponent(seen));
      const { version } = await answer.json();
      if (String(version) !== seen) { location.reload(); return; }
    } catch (e) {
      await new Promise((done) => setTimeout(done, 1000));
    }
  }
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_from_templates_and_jobs_are_escaped_on_every_page() {
        let dir = std::env::temp_dir().join(format!("herald-page-{}", std::process::id()));
        let templates = dir.join("templates/w");
        std::fs::create_dir_all(&templates).unwrap();
        std::fs::write(templates.join("subject.liquid"), "{{ data.x }}").unwrap();
        std::fs::write(templates.join("text.liquid"), "{{ data.x }}").unwrap();
        let sample = serde_json::json!({ "id": "s", "environment": "dev", "workflow": "w",
            "recipient": { "id": "u", "email": "a@example.com", "name": "<b>Ada</b>" },
            "data": { "x": "<script>alert(1)</script>" } });
        std::fs::write(templates.join("sample.json"), sample.to_string()).unwrap();
        let config = format!(
            "[templates]\ndir = {:?}\n[channels.ses.environments.dev]\nsandbox = true\nfrom_address = \"a@example.com\"\n",
            dir.join("templates").display().to_string()
        );
        std::fs::write(dir.join("herald.toml"), config).unwrap();
        let preview = Preview::build(Some(&dir.join("herald.toml")), &[]).await;
        assert!(preview.problems.is_empty(), "{:?}", preview.problems);
        let workflow = preview.workflow("w").unwrap();
        let pages = [
            index(&preview, 1),
            email_page(&preview, workflow, "ses", "dev", 1),
        ];
        for page in pages {
            assert!(
                page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{page}"
            );
            assert!(!page.contains("<script>alert"), "{page}");
        }
        let email = email_page(&preview, workflow, "ses", "dev", 1);
        assert!(
            email.contains("&lt;b&gt;Ada&lt;/b&gt; &lt;a@example.com&gt;"),
            "{email}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
