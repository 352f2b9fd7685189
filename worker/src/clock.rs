//! Timestamps in the RFC 3339 UTC form events and headers use, and a
//! guard that lets a repeated warning out once in a while.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, as `2026-11-30T12:00:00.123Z`.
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .expect("the current time formats as RFC 3339")
}

/// Seconds since an RFC 3339 time, if it parses.
pub fn age_seconds(rfc3339: &str) -> Option<i64> {
    let then = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    Some((OffsetDateTime::now_utc() - then).whole_seconds())
}

/// Whether `every` has passed since `last` (never set counts as passed);
/// if so, `last` becomes now. A warning that every job would repeat is
/// logged when this says so.
pub fn due(
    last: &std::sync::Mutex<Option<std::time::Instant>>,
    every: std::time::Duration,
) -> bool {
    let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
    let due = last.is_none_or(|at| at.elapsed() >= every);
    if due {
        *last = Some(std::time::Instant::now());
    }
    due
}
