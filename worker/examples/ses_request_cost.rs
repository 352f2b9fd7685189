//! CPU per SES `SendEmail` request through the AWS SDK, next to a plain HTTP
//! POST of the same size, both against a local endpoint that answers at once
//! (the figures include that endpoint's own CPU).
//!
//! `cargo run --release -p herald-worker --example ses_request_cost`

use std::time::Instant;

use axum::routing::post;
use axum::{Json, Router};
use herald_worker::process_metrics::ProcessStats;
use herald_worker::request::{RequestFields, SendRequest};
use herald_worker::ses::SesClient;
use herald_worker::settings::Settings;
use tokio::task::JoinSet;

const REQUESTS: usize = 5000;
const CONCURRENCY: usize = 64;

fn cpu_seconds() -> f64 {
    ProcessStats::read().map_or(0.0, |s| s.cpu_seconds)
}

fn report(what: &str, started: Instant, cpu_before: f64) {
    let per_second = REQUESTS as f64 / started.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu_before) * 1e6 / REQUESTS as f64;
    println!("{what:<22} {per_second:>8.0} requests/s   {cpu:>6.1} µs CPU per request");
}

#[tokio::main]
async fn main() {
    let app = Router::new().route(
        "/v2/email/outbound-emails",
        post(|| async { Json(serde_json::json!({ "MessageId": "local" })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let config = format!(
        "[channels.ses.environments.prod]\nregion = \"us-east-1\"\nendpoint_url = \"{url}\"\n\
         auth = {{ scheme = \"access_key\", access_key_id = \"AKIDLOCAL\", secret_access_key = \"local\" }}\n\
         from_address = \"a@example.com\"\n"
    );
    let settings = Settings::from_toml("local", &config, &|_| None).unwrap();
    let env = settings.channels["ses"].environments["prod"].clone();
    let client = SesClient::build(&env, std::time::Duration::from_secs(5)).await;
    let request = SendRequest {
        fields: RequestFields {
            from_email_address: Some("a@example.com".into()),
            ..Default::default()
        },
        raw: vec![b'x'; 2000].into(),
    };
    for _ in 0..100 {
        client.send(&request).await.unwrap();
    }

    let (started, cpu) = (Instant::now(), cpu_seconds());
    let mut tasks = JoinSet::new();
    for _ in 0..REQUESTS {
        let (client, request) = (client.clone(), request.clone());
        tasks.spawn(async move { client.send(&request).await.unwrap() });
        if tasks.len() >= CONCURRENCY {
            tasks.join_next().await;
        }
    }
    while tasks.join_next().await.is_some() {}
    report("aws-sdk-sesv2", started, cpu);

    let http = reqwest::Client::new();
    let body = serde_json::json!({ "FromEmailAddress": "a@example.com", "Content": { "Raw": { "Data": "x".repeat(2700) } } });
    let endpoint = format!("{url}/v2/email/outbound-emails");
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let mut tasks = JoinSet::new();
    for _ in 0..REQUESTS {
        let (http, body, endpoint) = (http.clone(), body.clone(), endpoint.clone());
        tasks.spawn(async move {
            http.post(endpoint)
                .json(&body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        });
        if tasks.len() >= CONCURRENCY {
            tasks.join_next().await;
        }
    }
    while tasks.join_next().await.is_some() {}
    report("plain HTTP POST", started, cpu);
}
