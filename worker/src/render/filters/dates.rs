//! `date` and `timezone`, and the date parsing every date helper shares.
//!
//! The crate's own `date` returned what it could not parse unchanged, so a
//! template printed `2026-11-30T10:00:00Z` where it meant `November 30`
//! without a word. Here an input is a date or an error:
//!
//! - ISO 8601 / RFC 3339 with `Z` or an offset (`2026-11-30T10:00:00+01:00`,
//!   with or without fractional seconds, `T` or a space), optionally with an
//!   IANA annotation (`…[Europe/Paris]`); a date or date-time without an
//!   offset is taken as UTC;
//! - RFC 2822 (`Mon, 30 Nov 2026 10:00:00 +0000`, weekday optional);
//! - `2026-11-30 10:00:00 +0100` (Liquid's own rendering of a date);
//! - unix seconds, as a number or a string of digits;
//! - `now` and `today`: the current time.
//!
//! A date keeps the offset it was written with unless a time zone argument
//! converts it. `nil` and the empty string stay as they are, so that an
//! absent optional date prints nothing rather than failing the job.
//!
//! Time zones come from the system's IANA database, or from the copy built
//! into the binary where the machine has none (jiff's `tzdb-bundle-always`).

use jiff::fmt::{rfc2822, strtime, temporal};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};
use liquid_core::model::{KStringCow, ScalarCow};
use liquid_core::{Expression, Result, Value, ValueView};

use super::declare_filter;
use super::filter_error;

/// The input's date and time, `None` for nil or an empty string, an error
/// for anything that is not a date.
pub fn parse_input(filter: &str, input: &dyn ValueView) -> Result<Option<Zoned>> {
    if input.is_nil() {
        return Ok(None);
    }
    let Some(scalar) = input.as_scalar() else {
        return Err(filter_error(
            filter,
            format!("expected a date, got {}", input.type_name()),
        ));
    };
    if let Some(zoned) = from_unix(&scalar) {
        return Ok(Some(zoned));
    }
    let text = scalar.into_cow_str();
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse_text(text)
        .map(Some)
        .ok_or_else(|| filter_error(filter, format!("{text:?} is not a date")))
}

/// Unix seconds, as an integer, a float or a string of digits.
fn from_unix(scalar: &ScalarCow<'_>) -> Option<Zoned> {
    let seconds = match scalar.to_integer() {
        Some(whole) => SignedDuration::from_secs(whole),
        None if is_float(scalar) => SignedDuration::try_from_secs_f64(scalar.to_float()?).ok()?,
        None => return None,
    };
    let timestamp = Timestamp::from_duration(seconds).ok()?;
    Some(timestamp.to_zoned(TimeZone::UTC))
}

fn is_float(scalar: &ScalarCow<'_>) -> bool {
    scalar.type_name() == "fractional number"
}

/// A date written as text, in any of the forms the module accepts.
pub fn parse_text(text: &str) -> Option<Zoned> {
    if text.eq_ignore_ascii_case("now") || text.eq_ignore_ascii_case("today") {
        return Some(Timestamp::now().to_zoned(TimeZone::UTC));
    }
    if let Some(zoned) = from_iso8601(text) {
        return Some(zoned);
    }
    if let Ok(zoned) = rfc2822::parse(text) {
        return Some(zoned);
    }
    [
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%d %b %Y %H:%M:%S %z",
    ]
    .iter()
    .find_map(|format| strtime::parse(format, text).ok()?.to_zoned().ok())
}

/// ISO 8601: the zone of the annotation, else the offset, else UTC.
fn from_iso8601(text: &str) -> Option<Zoned> {
    let pieces = temporal::Pieces::parse(text).ok()?;
    let civil = pieces.date().to_datetime(pieces.time().unwrap_or_default());
    if let Some(annotation) = pieces.time_zone_annotation() {
        let zone = annotation.to_time_zone().ok()?;
        return match pieces.offset() {
            Some(offset) => civil
                .to_zoned(TimeZone::fixed(offset_of(offset)))
                .ok()
                .map(|z| z.with_time_zone(zone)),
            None => civil.to_zoned(zone).ok(),
        };
    }
    let zone = match pieces.offset() {
        Some(offset) => fixed_zone(offset),
        None => TimeZone::UTC,
    };
    civil.to_zoned(zone).ok()
}

fn offset_of(offset: temporal::PiecesOffset) -> jiff::tz::Offset {
    match offset {
        temporal::PiecesOffset::Numeric(numeric) => numeric.offset(),
        _ => jiff::tz::Offset::UTC,
    }
}

fn fixed_zone(offset: temporal::PiecesOffset) -> TimeZone {
    match offset {
        temporal::PiecesOffset::Numeric(numeric) => TimeZone::fixed(numeric.offset()),
        _ => TimeZone::UTC,
    }
}

/// The IANA time zone `name` (`America/New_York`, `UTC`).
pub fn time_zone(filter: &str, name: &str) -> Result<TimeZone> {
    jiff::tz::db()
        .get(name.trim())
        .map_err(|_| filter_error(filter, format!("{name:?} is not an IANA time zone")))
}

/// The input date, converted to `zone` when one is given; `None` for nil.
pub fn input_in_zone(
    filter: &str,
    input: &dyn ValueView,
    zone: Option<&KStringCow<'_>>,
) -> Result<Option<Zoned>> {
    let Some(zoned) = parse_input(filter, input)? else {
        return Ok(None);
    };
    match zone {
        Some(name) => Ok(Some(zoned.with_time_zone(time_zone(filter, name)?))),
        None => Ok(Some(zoned)),
    }
}

declare_filter!(
    /// `{{ timestamp | date: "%-I:%M %p %Z", "America/New_York" }}`.
    pub Date => DateFilter {
        args: DateArgs {
            format: Expression => "The strftime format.",
            time_zone: Option<Expression> => "The IANA time zone to show the date in.",
        },
    },
    "date",
    "Formats a date with a strftime format, optionally in an IANA time zone.",
    |input, args| {
        if args.format.is_empty() {
            return Ok(input.to_value());
        }
        let Some(zoned) = input_in_zone("date", input, args.time_zone.as_ref())? else {
            return Ok(input.to_value());
        };
        strtime::format(args.format.as_str(), &zoned)
            .map(Value::scalar)
            .map_err(|e| filter_error("date", format!("format {:?}: {e}", args.format)))
    }
);

declare_filter!(
    /// `{{ timestamp | timezone: "America/New_York" }}` gives
    /// `2023-12-31T19:30:00-05:00`: the same instant in ISO 8601, in that zone.
    pub Timezone => TimezoneFilter {
        args: TimezoneArgs {
            time_zone: Expression => "The IANA time zone.",
        },
    },
    "timezone",
    "The input date as ISO 8601 in the given IANA time zone.",
    |input, args| match input_in_zone("timezone", input, Some(&args.time_zone))? {
        Some(zoned) => Ok(Value::scalar(iso8601(&zoned))),
        None => Ok(input.to_value()),
    }
);

/// ISO 8601 with the numeric offset, to the second, as the original prints
/// it (Herald's own `timestamp` carries nanoseconds that would show).
pub fn iso8601(zoned: &Zoned) -> String {
    strtime::format("%Y-%m-%dT%H:%M:%S%:z", zoned).unwrap_or_else(|_| zoned.to_string())
}
