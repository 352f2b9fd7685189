//! `POST /sns`: SNS posts `text/plain` JSON; the raw body is read, up to
//! `feedback.max_body_bytes`, whatever the content type.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

use super::{Answer, Feedback, Rejection};

/// The path SNS posts to.
pub const PATH: &str = "/sns";

/// A router serving `POST /sns`, to merge into the operations endpoint or
/// to serve alone (`herald feedback`).
pub fn router(feedback: Arc<Feedback>) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .with_state(feedback)
}

async fn receive(State(feedback): State<Arc<Feedback>>, request: Request) -> impl IntoResponse {
    let type_header = request
        .headers()
        .get("x-amz-sns-message-type")
        .map(|v| v.to_str().unwrap_or("(not text)").to_owned());
    let limit = feedback.max_body_bytes();
    let body = match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(body) => body,
        Err(_) => {
            feedback.reject(Rejection::TooLarge);
            return reply(Answer::Rejected(Rejection::TooLarge));
        }
    };
    let answer = feedback.handle(&body, type_header.as_deref()).await;
    reply(answer)
}

fn reply(answer: Answer) -> (StatusCode, String) {
    match answer {
        Answer::Done(what) => (StatusCode::OK, format!("{what}\n")),
        Answer::Rejected(r) => {
            tracing::debug!(reason = r.reason(), "SNS request refused");
            let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::FORBIDDEN);
            (status, format!("refused: {}\n", r.reason()))
        }
        Answer::Unavailable(e) => {
            tracing::warn!(error = %e, "SNS request not processed; SNS will retry it");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot publish now; retry\n".into(),
            )
        }
    }
}
