//! The preview's HTTP side: the index, one page per email, the email's HTML
//! alone (under a CSP that sandboxes it), and a long-poll that tells pages
//! when the files changed.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::watch;

use super::page;
use super::state::Preview;

/// How long `/changes` holds a request open before answering "no change".
const LONG_POLL: Duration = Duration::from_secs(25);

/// The pages' own policy: scripts and frames from this server only.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
    style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:";

/// The email's HTML runs sandboxed (no scripts, a unique origin) even when
/// opened outside its iframe; it may load images, as a mail client would.
const EMAIL_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; \
    img-src data: cid: http: https:; font-src data: http: https:";

/// The current preview and its version, which changes with every reload.
pub struct Shared {
    preview: RwLock<Arc<Preview>>,
    version: watch::Sender<u64>,
}

impl Shared {
    pub fn new(preview: Preview) -> Arc<Shared> {
        Arc::new(Shared {
            preview: RwLock::new(Arc::new(preview)),
            version: watch::Sender::new(1),
        })
    }

    /// Swaps in a new reading of the files and wakes the pages.
    pub fn replace(&self, preview: Preview) {
        *self.preview.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(preview);
        self.version.send_modify(|v| *v += 1);
    }

    pub fn current(&self) -> (Arc<Preview>, u64) {
        let preview = self
            .preview
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        (preview, *self.version.borrow())
    }
}

/// The preview's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/email/{workflow}/{channel}/{environment}", get(email))
        .route(
            "/email/{workflow}/{channel}/{environment}/html",
            get(email_html),
        )
        .route("/changes", get(changes))
        .route("/preview.js", get(script))
        .with_state(shared)
}

fn page(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_SECURITY_POLICY, PAGE_CSP)], Html(body)).into_response()
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let (preview, version) = shared.current();
    page(StatusCode::OK, page::index(&preview, version))
}

/// Which email a page shows: `/email/{workflow}/{channel}/{environment}`.
#[derive(serde::Deserialize)]
struct EmailAt {
    workflow: String,
    channel: String,
    environment: String,
}

async fn email(State(shared): State<Arc<Shared>>, Path(at): Path<EmailAt>) -> Response {
    let (preview, version) = shared.current();
    let known = preview
        .environments
        .contains(&(at.channel.clone(), at.environment.clone()));
    match preview.workflow(&at.workflow) {
        Some(w) if known => page(
            StatusCode::OK,
            page::email_page(&preview, w, &at.channel, &at.environment, version),
        ),
        _ => page(
            StatusCode::NOT_FOUND,
            page::not_found("such email", version),
        ),
    }
}

async fn email_html(State(shared): State<Arc<Shared>>, Path(at): Path<EmailAt>) -> Response {
    let (preview, _) = shared.current();
    let html = preview
        .workflow(&at.workflow)
        .and_then(|w| preview.render(w, &at.channel, &at.environment).ok())
        .and_then(|p| p.email.html);
    match html {
        Some(html) => ([(CONTENT_SECURITY_POLICY, EMAIL_CSP)], Html(html)).into_response(),
        None => (StatusCode::NOT_FOUND, "no html part").into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Since {
    since: Option<u64>,
}

/// Answers at once when the version differs from `since`, else when it
/// changes, else after [`LONG_POLL`].
async fn changes(State(shared): State<Arc<Shared>>, Query(q): Query<Since>) -> Response {
    let mut rx = shared.version.subscribe();
    let since = q.since.unwrap_or(0);
    let _ = tokio::time::timeout(LONG_POLL, rx.wait_for(|v| *v != since)).await;
    let version = *rx.borrow();
    Json(serde_json::json!({ "version": version })).into_response()
}

async fn script() -> Response {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
        page::RELOAD_SCRIPT,
    )
        .into_response()
}
