//! Time per job of Herald's own steps, without any I/O: parsing the job and
//! preparing the email (Liquid, MIME, request fields) from the example templates.
//!
//! `cargo run --release -p herald-worker --example pipeline_cost`

use std::path::Path;
use std::time::{Duration, Instant};

use herald_shared::Job;
use herald_worker::channels::{Mode, Routes};
use herald_worker::render::TemplateStore;
use herald_worker::request::prepare;
use herald_worker::settings::Settings;

const ROUNDS: u32 = 20_000;

fn per_round(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
}

#[tokio::main]
async fn main() {
    let config = "[channels.ses.environments.prod]\nsandbox = true\nfrom_address = \"notify@{{ vars.domain }}\"\n\
                  from_name = \"{{ vars.app_name }}\"\nvars = { domain = \"example.com\", app_name = \"Example\" }\n";
    let settings = Settings::from_toml("bench", config, &|_| None).unwrap();
    let store = TemplateStore::load_dir(Path::new("examples/templates"))
        .expect("run from the repository root");
    let routes = Routes::build(&settings, &store, Mode::Sandbox, Duration::from_secs(5))
        .await
        .unwrap();
    let route = routes.resolve("prod", None).unwrap();
    let job = serde_json::json!({
        "id": "m1", "environment": "prod", "workflow": "welcome",
        "recipient": { "id": "u1", "email": "ada@example.com", "name": "Ada Lovelace" },
        "actor": { "name": "Grace" }, "tenant": "acme", "data": { "plan": "pro", "note": "x".repeat(700) }
    });
    let body = serde_json::to_vec(&job).unwrap();

    let started = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(Job::parse(&body, 1 << 20).unwrap());
    }
    println!("parse a 1 KB job        {:>6.1} µs", per_round(started));
    let job = Job::parse(&body, 1 << 20).unwrap();
    let started = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(prepare(&store, route, &job).unwrap());
    }
    println!("render, MIME, request   {:>6.1} µs", per_round(started));
}
