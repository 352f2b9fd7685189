//! `format_date_in_locale` and `format_datetime_in_locale`: dates as a
//! locale writes them, in CLDR's four styles (ICU4X, data compiled in).
//!
//! | style    | date (en-US)                | time (en-US)                          |
//! |----------|-----------------------------|---------------------------------------|
//! | `short`  | 12/31/23                    | 7:30 PM                               |
//! | `medium` | Dec 31, 2023                | 7:30:00 PM                            |
//! | `long`   | December 31, 2023           | 7:30:00 PM EST                        |
//! | `full`   | Sunday, December 31, 2023   | 7:30:00 PM Eastern Standard Time      |
//!
//! `short` is the default. The date is shown in the offset or zone it was
//! written with; a last argument (Herald's own) converts it to an IANA zone
//! first: `{{ timestamp | format_date_in_locale: "en-GB", "long", "Europe/London" }}`.

use std::cell::RefCell;
use std::collections::HashMap;

use icu_datetime::fieldsets::builder::{DateFields, FieldSetBuilder, ZoneStyle};
use icu_datetime::fieldsets::enums::CompositeFieldSet;
use icu_datetime::options::{Length, TimePrecision};
use icu_datetime::DateTimeFormatter;
use liquid_core::model::KStringCow;
use liquid_core::{Expression, Result, Value, ValueView};

use super::dates::input_in_zone;
use super::declare_filter;
use super::filter_error;
use super::locales::{cached, parse_locale, CacheMap};

/// One of CLDR's four date or time styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    Short,
    Medium,
    Long,
    Full,
}

impl Style {
    fn parse(filter: &str, name: Option<&KStringCow<'_>>) -> Result<Style> {
        match name.map(|n| n.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("short") => Ok(Style::Short),
            Some("medium") => Ok(Style::Medium),
            Some("long") => Ok(Style::Long),
            Some("full") => Ok(Style::Full),
            Some(other) => Err(filter_error(
                filter,
                format!("{other:?} is not a style (short, medium, long or full)"),
            )),
        }
    }
}

/// The ICU4X fields for a date style and, for date and time, a time style.
fn field_set(filter: &str, date: Style, time: Option<Style>) -> Result<CompositeFieldSet> {
    let mut builder = FieldSetBuilder::new();
    builder.length = Some(match date {
        Style::Short => Length::Short,
        Style::Medium => Length::Medium,
        Style::Long | Style::Full => Length::Long,
    });
    builder.date_fields = Some(match date {
        Style::Full => DateFields::YMDE,
        _ => DateFields::YMD,
    });
    if let Some(time) = time {
        builder.time_precision = Some(match time {
            Style::Short => TimePrecision::Minute,
            _ => TimePrecision::Second,
        });
        builder.zone_style = match time {
            Style::Long => Some(ZoneStyle::SpecificShort),
            Style::Full => Some(ZoneStyle::SpecificLong),
            _ => None,
        };
    }
    builder
        .build_composite()
        .map_err(|e| filter_error(filter, format!("{e:?}")))
}

type FormatterKey = (String, Style, Option<Style>);

thread_local! {
    static FORMATTERS: CacheMap<FormatterKey, DateTimeFormatter<CompositeFieldSet>> =
        RefCell::new(HashMap::new());
}

/// The input date formatted in `locale` with a date style and maybe a time
/// style, converted to `zone` first when one is given; nil and the empty
/// string stay as they are.
fn format(
    filter: &str,
    input: &dyn ValueView,
    zone: Option<&KStringCow<'_>>,
    locale: &str,
    date: Style,
    time: Option<Style>,
) -> Result<Value> {
    let Some(zoned) = input_in_zone(filter, input, zone)? else {
        return Ok(input.to_value());
    };
    let key = (locale.to_owned(), date, time);
    let formatter = cached(&FORMATTERS, key, || {
        let locale = parse_locale(filter, locale)?;
        DateTimeFormatter::try_new((&locale).into(), field_set(filter, date, time)?)
            .map_err(|e| filter_error(filter, e))
    })?;
    Ok(Value::scalar(formatter.format(&zoned).to_string()))
}

declare_filter!(
    /// `{{ timestamp | format_date_in_locale: "en-GB", "long" }}` gives
    /// `31 December 2023`.
    pub FormatDateInLocale => FormatDateInLocaleFilter {
        args: DateInLocaleArgs {
            locale: Expression => "The locale, e.g. en-GB.",
            date_format: Option<Expression> => "short (default), medium, long or full.",
            time_zone: Option<Expression> => "An IANA time zone to show the date in.",
        },
    },
    "format_date_in_locale",
    "Formats the date of a timestamp as the locale writes it.",
    |input, args| {
        const NAME: &str = "format_date_in_locale";
        let date = Style::parse(NAME, args.date_format.as_ref())?;
        format(NAME, input, args.time_zone.as_ref(), &args.locale, date, None)
    }
);

declare_filter!(
    /// `{{ timestamp | format_datetime_in_locale: "en-US", "medium", "short" }}`
    /// gives `Dec 31, 2023, 7:30 PM`.
    pub FormatDatetimeInLocale => FormatDatetimeInLocaleFilter {
        args: DatetimeInLocaleArgs {
            locale: Expression => "The locale, e.g. en-US.",
            date_format: Option<Expression> => "short (default), medium, long or full.",
            time_format: Option<Expression> => "short (default), medium, long or full.",
            time_zone: Option<Expression> => "An IANA time zone to show the time in.",
        },
    },
    "format_datetime_in_locale",
    "Formats the date and time of a timestamp as the locale writes them.",
    |input, args| {
        const NAME: &str = "format_datetime_in_locale";
        let date = Style::parse(NAME, args.date_format.as_ref())?;
        let time = Style::parse(NAME, args.time_format.as_ref())?;
        format(NAME, input, args.time_zone.as_ref(), &args.locale, date, Some(time))
    }
);
