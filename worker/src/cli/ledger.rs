//! `herald messages show` and `herald suppression list | add | remove |
//! check`: the ledger as an operator reads and edits it, while workers run.

use std::path::Path;

use serde_json::json;

use super::setup;
use super::CliError;
use crate::ledger::{Ledger, LedgerError, StoreKind, StoreSections};
use crate::settings::Settings;

/// Whether a command only reads the store; reading never creates a file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// Opens the store the configuration names. Configuration problems, a
/// missing or corrupt file and `store = "off"` are usage errors (exit 2).
async fn open(config: Option<&Path>, access: Access) -> Result<Ledger, CliError> {
    let path = setup::config_path(config);
    let sections = StoreSections::load(path.as_deref()).map_err(usage)?;
    let settings = sections.idempotency;
    match settings.store {
        StoreKind::Off => {
            return Err(usage(
                "idempotency.store is \"off\": there is no ledger to read or change",
            ))
        }
        StoreKind::Embedded if access == Access::Read && !settings.path.exists() => {
            return Err(usage(format!(
                "no ledger file at {} (idempotency.path; relative to the working directory)",
                settings.path.display()
            )))
        }
        _ => {}
    }
    Ledger::open(&settings).await.map_err(|e| match e {
        LedgerError::Open { .. } => CliError::usage(e),
        other => other.into(),
    })
}

fn usage(message: impl std::fmt::Display) -> CliError {
    CliError::usage(anyhow::anyhow!("{message}"))
}

/// An environment the configuration does not have is a typo, not a new
/// list. Checked only when the whole configuration loads.
fn check_environment(config: Option<&Path>, environment: &str) -> Result<(), CliError> {
    let path = setup::config_path(config);
    let Ok(settings) = Settings::load(path.as_deref()) else {
        return Ok(());
    };
    let mut known: Vec<&str> = settings
        .channels
        .values()
        .flat_map(|c| c.environments.keys().map(String::as_str))
        .collect();
    known.sort_unstable();
    known.dedup();
    match known.contains(&environment) {
        true => Ok(()),
        false => Err(usage(format!(
            "unknown environment {environment:?} (configured: {})",
            known.join(", ")
        ))),
    }
}

/// `herald messages show ID`: claims, acceptance and feedback events, in
/// time order.
pub async fn show(config: Option<&Path>, id: &str, as_json: bool) -> Result<(), CliError> {
    let ledger = open(config, Access::Read).await?;
    let Some(story) = ledger.story(id).await? else {
        return Err(anyhow::anyhow!(
            "nothing is known of message {id:?}: no claim, record or event in the {:?} store \
             (records are forgotten after idempotency.ttl)",
            ledger.kind()
        )
        .into());
    };
    let timeline = story.timeline();
    if as_json {
        let mut value = serde_json::to_value(&story).expect("a story serialises");
        value["timeline"] = serde_json::to_value(&timeline).expect("moments serialise");
        println!("{value}");
        return Ok(());
    }
    println!("message {}", story.id);
    for moment in &timeline {
        println!("{:<30} {}", moment.at, moment.summary);
    }
    Ok(())
}

/// `herald suppression list`.
pub async fn list(config: Option<&Path>, environment: &str, as_json: bool) -> Result<(), CliError> {
    check_environment(config, environment)?;
    let ledger = open(config, Access::Read).await?;
    let list = ledger.suppressed(environment).await?;
    if as_json {
        for entry in &list {
            println!(
                "{}",
                serde_json::to_string(entry).expect("suppressions serialise")
            );
        }
        return Ok(());
    }
    println!("{:<40} {:<16} SINCE", "ADDRESS", "REASON");
    for entry in &list {
        println!("{:<40} {:<16} {}", entry.address, entry.reason, entry.at);
    }
    println!("{} address(es) suppressed in {environment}", list.len());
    Ok(())
}

/// `herald suppression add ADDRESS`.
pub async fn add(
    config: Option<&Path>,
    environment: &str,
    address: &str,
    reason: &str,
) -> Result<(), CliError> {
    check_address(address)?;
    check_environment(config, environment)?;
    let ledger = open(config, Access::Write).await?;
    ledger.suppress(environment, address, reason).await?;
    println!("suppressed {address} in {environment} ({reason})");
    Ok(())
}

/// `herald suppression remove ADDRESS`; exit 1 when it was not listed.
pub async fn remove(
    config: Option<&Path>,
    environment: &str,
    address: &str,
) -> Result<(), CliError> {
    check_environment(config, environment)?;
    let ledger = open(config, Access::Write).await?;
    match ledger.unsuppress(environment, address).await? {
        true => {
            println!("{address} is no longer suppressed in {environment}");
            Ok(())
        }
        false => Err(anyhow::anyhow!("{address} was not suppressed in {environment}").into()),
    }
}

/// `herald suppression check ADDRESS`: prints whether it is suppressed.
pub async fn check(
    config: Option<&Path>,
    environment: &str,
    address: &str,
    as_json: bool,
) -> Result<(), CliError> {
    check_environment(config, environment)?;
    let ledger = open(config, Access::Read).await?;
    let suppressed = ledger.is_suppressed(environment, address).await?;
    if as_json {
        let answer =
            json!({"environment": environment, "address": address, "suppressed": suppressed});
        println!("{answer}");
    } else if suppressed {
        println!("{address} is suppressed in {environment}");
    } else {
        println!("{address} is not suppressed in {environment}");
    }
    Ok(())
}

fn check_address(address: &str) -> Result<(), CliError> {
    match address.trim().parse::<email_address::EmailAddress>() {
        Ok(_) => Ok(()),
        Err(e) => Err(usage(format!("{address:?} is not an email address: {e}"))),
    }
}
