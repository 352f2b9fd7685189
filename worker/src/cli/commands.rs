//! `run`, `enqueue`, `render` and `topology declare`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use herald_shared::producer::Producer;
use herald_shared::Job;

use super::setup::{self, load};
use super::CliError;
use crate::amqp::{self, topology};
use crate::channels::Mode;
use crate::consumer::{self, Health};
use crate::request::prepare;

/// `herald run`: the worker, until SIGTERM or Ctrl-C.
pub async fn run(config: Option<&Path>) -> Result<(), CliError> {
    let loaded = load(config, Mode::Live, |_| {}).await?;
    let deps = loaded.deps.clone();
    let source = loaded
        .source
        .as_ref()
        .map_or("(built in)".into(), |p| p.display().to_string());
    tracing::info!(config = %source, "configuration loaded");
    let health = Arc::new(Health::default());
    let listen = deps.settings.server.listen.clone();
    if !listen.is_empty() {
        let mut router = crate::http::router(deps.metrics.clone(), health.clone());
        if deps.settings.feedback.enabled {
            let feedback = crate::feedback::Feedback::new(
                Arc::new(deps.settings.clone()),
                deps.ledger.clone(),
                deps.metrics.clone(),
            );
            router = router.merge(crate::feedback::endpoint::router(Arc::new(feedback)));
            tracing::info!(
                path = crate::feedback::endpoint::PATH,
                "serving the SNS feedback endpoint"
            );
        }
        crate::http::serve(&listen, router)
            .await
            .map_err(CliError::usage)?;
    }
    deps.metrics.config_reloaded();
    let (current, jobs_take) = tokio::sync::watch::channel(deps.clone());
    let (trigger, triggers) = tokio::sync::mpsc::channel(4);
    #[cfg(unix)]
    crate::reload::on_sighup(trigger.clone())
        .map_err(|e| anyhow::anyhow!("cannot listen for SIGHUP: {e}"))?;
    if deps.settings.templates.watch {
        crate::reload::watch_templates(&deps.settings.templates.dir, trigger)
            .map_err(|e| CliError::usage(anyhow::anyhow!("templates.watch: {e}")))?;
    }
    tokio::spawn(crate::reload::serve(
        loaded.source.clone(),
        current,
        triggers,
    ));
    // On the runtime's workers, not on the thread blocked in `main`: a job
    // task spawned from a worker thread starts there, without waking another.
    tokio::spawn(consumer::run_reloadable(
        jobs_take,
        health,
        shutdown_signal(),
    ))
    .await
    .map_err(|e| anyhow::anyhow!("the worker task failed: {e}"))??;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested: finishing jobs in flight");
}

/// `herald enqueue`: publishes each file with a confirm.
pub async fn enqueue(config: Option<&Path>, files: &[PathBuf], raw: bool) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let mut bodies = Vec::with_capacity(files.len());
    for file in files {
        let body = std::fs::read(file)
            .with_context(|| format!("cannot read {}", file.display()))
            .map_err(CliError::usage)?;
        let id = if raw {
            Job::peek_id(&body).unwrap_or_default()
        } else {
            Job::parse(&body, settings.limits.max_job_bytes)
                .map_err(|e| CliError::usage(anyhow::anyhow!("{}: {e}", file.display())))?
                .id
        };
        bodies.push((file, id, body));
    }
    let amqp = &settings.amqp;
    let connection = amqp::connect(amqp).await?;
    topology::declare(
        &connection.create_channel().await?,
        amqp,
        &settings.retry.tiers,
    )
    .await?;
    let producer = Producer::new(&connection)
        .await?
        .with_target(&amqp.jobs_exchange, &amqp.routing_key);
    let total = bodies.len();
    for (n, (file, id, body)) in bodies.iter().enumerate() {
        producer
            .publish_raw(body, id)
            .await
            .with_context(|| format!("publishing {}", file.display()))?;
        println!("[{}/{total}] enqueued {id} ({})", n + 1, file.display());
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(())
}

/// `herald render`: the raw email a job would produce, never sent.
pub async fn render(
    config: Option<&Path>,
    job_file: &Path,
    out: Option<&Path>,
) -> Result<(), CliError> {
    let loaded = load(config, Mode::Sandbox, |_| {}).await?;
    let deps = &loaded.deps;
    let body = std::fs::read(job_file)
        .with_context(|| format!("cannot read {}", job_file.display()))
        .map_err(CliError::usage)?;
    let job = Job::parse(&body, deps.settings.limits.max_job_bytes).map_err(CliError::usage)?;
    let route = deps
        .routes
        .resolve(&job.environment, job.channel.as_deref())
        .map_err(CliError::usage)?;
    let prepared = prepare(&deps.templates, route, &job).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (email, raw) = (&prepared.email, &prepared.request.raw);
    let fields = serde_json::to_string(&prepared.request.fields).expect("request fields serialise");
    eprintln!("SendEmail request (Content.Raw omitted): {fields}");
    match out {
        Some(path) => {
            std::fs::write(path, raw)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} ({} bytes): from {} to {}, subject {:?}, {} attachment(s)",
                path.display(),
                raw.len(),
                email.from.address,
                email.to.address,
                email.subject,
                email.attachments.len()
            );
        }
        None => std::io::stdout().write_all(raw)?,
    }
    Ok(())
}

/// `herald topology declare`.
pub async fn declare(config: Option<&Path>) -> Result<(), CliError> {
    let (settings, _) = setup::settings(config)?;
    let connection = amqp::connect(&settings.amqp).await?;
    let channel = connection.create_channel().await?;
    topology::declare(&channel, &settings.amqp, &settings.retry.tiers).await?;
    let _ = connection.close(200, "done".into()).await;
    let a = &settings.amqp;
    println!(
        "declared exchanges {}, {}, {}",
        a.jobs_exchange, a.dead_letter_exchange, a.events_exchange
    );
    let retry = topology::retry_queue_names(a, &settings.retry.tiers).join(", ");
    println!(
        "declared queues {}, {}, {retry}",
        a.jobs_queue, a.dead_queue
    );
    Ok(())
}
