//! Table tests of every helper, with the original's documented examples
//! where it gives them.

use liquid_core::parser::FilterReflection;
use serde_json::json;

use super::{register, unsupported_filter, FilterContext};

/// Renders `source` with the helpers over `globals`.
pub(super) fn render_in(
    ctx: &FilterContext,
    source: &str,
    globals: serde_json::Value,
) -> Result<String, String> {
    let parser = register(liquid::ParserBuilder::with_stdlib(), ctx)
        .build()
        .expect("parser");
    let template = parser.parse(source).map_err(|e| e.to_string())?;
    let globals = liquid::to_object(&globals).expect("globals");
    template.render(&globals).map_err(|e| e.to_string())
}

fn render(source: &str, globals: serde_json::Value) -> Result<String, String> {
    render_in(&FilterContext::default(), source, globals)
}

/// Checks each `(template, expected output)` over the same globals.
fn table(globals: serde_json::Value, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (source, expected) in cases {
        match render(source, globals.clone()) {
            Ok(out) if &out == expected => {}
            Ok(out) => failures.push(format!(
                "{source}\n  got      {out:?}\n  expected {expected:?}"
            )),
            Err(e) => failures.push(format!("{source}\n  failed: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks that each template fails with a message containing the text.
fn errors(globals: serde_json::Value, cases: &[(&str, &str)]) {
    for (source, needle) in cases {
        match render(source, globals.clone()) {
            Ok(out) => panic!("{source} rendered {out:?} instead of failing"),
            Err(e) => assert!(e.contains(needle), "{source}: {e:?} lacks {needle:?}"),
        }
    }
}

#[test]
fn timezone_and_date_follow_the_documented_examples() {
    let globals = json!({
        "timestamp": "2024-01-01T00:30:00Z",
        "startDate": "2024-01-01T19:30:00Z",
    });
    table(
        globals,
        &[
            (
                r#"{{ timestamp | timezone: "America/New_York" }}"#,
                "2023-12-31T19:30:00-05:00",
            ),
            (
                r#"{{ startDate | date: "%-I:%M %p %Z", "America/New_York" }}"#,
                "2:30 PM EST",
            ),
            (
                r#"{{ timestamp | timezone: "Asia/Kolkata" }}"#,
                "2024-01-01T06:00:00+05:30",
            ),
            (
                r#"{{ "2024-07-01T12:00:00.250Z" | timezone: "Europe/Paris" }}"#,
                "2024-07-01T14:00:00+02:00",
            ),
            (r#"{{ timestamp | date: "%B %d, %Y" }}"#, "January 01, 2024"),
            (
                r#"{{ timestamp | date: "%Y-%m-%d %H:%M", "Europe/Paris" }}"#,
                "2024-01-01 01:30",
            ),
        ],
    );
}

#[test]
fn date_reads_iso_8601_rfc_2822_and_unix_seconds() {
    table(
        json!({ "seconds": 1700000000, "fraction": 1700000000.5 }),
        &[
            (
                r#"{{ "2026-11-30T10:00:00Z" | date: "%B %d" }}"#,
                "November 30",
            ),
            (
                r#"{{ "2026-11-30T10:00:00+01:00" | date: "%H:%M %z" }}"#,
                "10:00 +0100",
            ),
            (
                r#"{{ "2026-11-30 10:00:00+01:00" | date: "%H:%M" }}"#,
                "10:00",
            ),
            (r#"{{ "2026-11-30" | date: "%d/%m/%Y" }}"#, "30/11/2026"),
            (
                r#"{{ "2026-11-30T12:00:00.123456789Z" | date: "%H:%M:%S.%3f" }}"#,
                "12:00:00.123",
            ),
            (
                r#"{{ "2026-11-30T10:00:00" | date: "%H:%M %Z" }}"#,
                "10:00 UTC",
            ),
            (
                r#"{{ "Mon, 30 Nov 2026 10:00:00 +0000" | date: "%Y-%m-%d %H:%M" }}"#,
                "2026-11-30 10:00",
            ),
            (
                r#"{{ "30 Nov 2026 10:00:00 -0500" | date: "%H:%M" }}"#,
                "10:00",
            ),
            (
                r#"{{ "2016-06-13 02:30:00 +0300" | date: "%Y-%m-%d" }}"#,
                "2016-06-13",
            ),
            (
                r#"{{ "2026-11-30T10:00:00-05:00[America/New_York]" | date: "%H:%M %Z" }}"#,
                "10:00 EST",
            ),
            (
                "{{ seconds | date: \"%Y-%m-%d %H:%M:%S\" }}",
                "2023-11-14 22:13:20",
            ),
            ("{{ fraction | date: \"%S.%3f\" }}", "20.500"),
            (r#"{{ "1700000000" | date: "%Y" }}"#, "2023"),
            (
                r#"{{ "2026-11-30T10:00:00Z" | date: "" }}"#,
                "2026-11-30T10:00:00Z",
            ),
        ],
    );
}

#[test]
fn now_and_today_are_the_current_time() {
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year()
        .to_string();
    let now = render(r#"{{ "now" | date: "%Y" }}"#, json!({})).unwrap();
    let today = render(r#"{{ "today" | date: "%Y" }}"#, json!({})).unwrap();
    assert_eq!(now, year);
    assert_eq!(today, year);
}

#[test]
fn a_date_that_cannot_be_parsed_is_an_error_not_an_echo() {
    errors(
        json!({ "timestamp": "2026-11-30T10:00:00Z", "list": [1, 2] }),
        &[
            (
                r#"{{ "next tuesday" | date: "%Y" }}"#,
                "\"next tuesday\" is not a date",
            ),
            (r#"{{ "2026-13-45" | date: "%Y" }}"#, "is not a date"),
            (r#"{{ list | date: "%Y" }}"#, "expected a date"),
            (
                r#"{{ "soon" | timezone: "UTC" }}"#,
                "timezone: \"soon\" is not a date",
            ),
            (
                r#"{{ timestamp | timezone: "Mars/Olympus" }}"#,
                "is not an IANA time zone",
            ),
            (
                r#"{{ timestamp | date: "%Y", "Nowhere" }}"#,
                "is not an IANA time zone",
            ),
            (
                r#"{{ "soon" | format_date_in_locale: "en" }}"#,
                "is not a date",
            ),
        ],
    );
}

#[test]
fn nil_and_empty_dates_render_nothing() {
    table(
        json!({ "missing": null }),
        &[
            (r#"[{{ missing | date: "%Y" }}]"#, "[]"),
            (r#"[{{ "" | date: "%Y" }}]"#, "[]"),
            (r#"[{{ missing | timezone: "UTC" }}]"#, "[]"),
        ],
    );
}

#[test]
fn the_zone_database_is_built_in() {
    let bundled = jiff::tz::TimeZoneDatabase::bundled();
    assert!(bundled.get("America/New_York").is_ok());
    assert!(bundled.get("Asia/Kathmandu").is_ok());
}

#[test]
fn locale_dates_follow_the_documented_examples() {
    let globals = json!({ "timestamp": "2023-12-31T19:30:00Z", "ny": "2023-12-31T19:30:00-05:00[America/New_York]" });
    table(
        globals,
        &[
            (
                r#"{{ timestamp | format_date_in_locale: "en-GB", "long" }}"#,
                "31 December 2023",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "en-US" }}"#,
                "12/31/23",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "en-US", "medium" }}"#,
                "Dec 31, 2023",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "en-US", "long" }}"#,
                "December 31, 2023",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "en-US", "full" }}"#,
                "Sunday, December 31, 2023",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "fr", "long" }}"#,
                "31 décembre 2023",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "de-DE", "short" }}"#,
                "31.12.23",
            ),
            (
                r#"{{ timestamp | format_date_in_locale: "en-US", "long", "Asia/Tokyo" }}"#,
                "January 1, 2024",
            ),
            (
                r#"{{ timestamp | format_datetime_in_locale: "en-US", "medium", "short" }}"#,
                "Dec 31, 2023, 7:30\u{202f}PM",
            ),
            (
                r#"{{ timestamp | format_datetime_in_locale: "en-US", "short", "medium" }}"#,
                "12/31/23, 7:30:00\u{202f}PM",
            ),
            (
                r#"{{ ny | format_datetime_in_locale: "en-US", "short", "long" }}"#,
                "12/31/23, 7:30:00\u{202f}PM EST",
            ),
            (
                r#"{{ timestamp | format_datetime_in_locale: "fr-FR", "short", "short" }}"#,
                "31/12/2023 19:30",
            ),
        ],
    );
}

#[test]
fn numbers_and_currencies_follow_the_documented_examples() {
    table(
        json!({ "price": 1234.5, "big": 1234567.891 }),
        &[
            (r#"{{ 10000 | format_number: "en" }}"#, "10,000"),
            ("{{ 10000 | format_number }}", "10,000"),
            (r#"{{ big | format_number: "en" }}"#, "1,234,567.891"),
            (r#"{{ 1234.56789 | format_number: "en" }}"#, "1,234.568"),
            (r#"{{ big | format_number: "de" }}"#, "1.234.567,891"),
            (r#"{{ "2500" | format_number: "en-IN" }}"#, "2,500"),
            (r#"{{ 10 | currency: "GBP", "en" }}"#, "£10.00"),
            ("{{ 10 | currency }}", "$10.00"),
            (r#"{{ price | currency: "EUR", "de" }}"#, "1.234,50\u{a0}€"),
            (
                r#"{{ price | currency: "EUR", "fr" }}"#,
                "1\u{202f}234,50\u{a0}€",
            ),
            (r#"{{ 1234 | currency: "JPY", "ja" }}"#, "￥1,234"),
            (r#"{{ 10.99 | rounded_currency: "GBP", "en" }}"#, "£11"),
            (r#"{{ 10.5 | rounded_currency }}"#, "$11"),
            (
                r#"{{ price | rounded_currency: "EUR", "de" }}"#,
                "1.235\u{a0}€",
            ),
        ],
    );
}

#[test]
fn numbers_that_are_not_numbers_are_errors() {
    errors(
        json!({}),
        &[
            (
                r#"{{ "ten" | format_number }}"#,
                "format_number: \"ten\" is not a number",
            ),
            (r#"{{ "ten" | currency }}"#, "is not a number"),
            (
                r#"{{ 10 | currency: "pounds" }}"#,
                "is not an ISO 4217 currency code",
            ),
            (
                r#"{{ 10 | format_number: "not a locale!" }}"#,
                "is not a locale",
            ),
        ],
    );
}

#[test]
fn text_helpers_follow_the_documented_examples() {
    table(
        json!({ "one": 1, "two": 2, "none": 0, "project_name": "my first project", "list": "- a\n- b" }),
        &[
            (r#"{{ one | pluralize: "user", "users" }}"#, "user"),
            (r#"{{ two | pluralize: "user", "users" }}"#, "users"),
            (r#"{{ none | pluralize: "user", "users" }}"#, "users"),
            (r#"{{ "1" | pluralize: "user", "users" }}"#, "user"),
            ("{{ project_name | titlecase }}", "My First Project"),
            (r#"{{ "hELLO  wORLD" | titlecase }}"#, "Hello  World"),
            (r#"{{ "élan vital" | titlecase }}"#, "Élan Vital"),
            (
                r#"{{ "**Hello** _world_" | from_markdown }}"#,
                "<p><strong>Hello</strong> <em>world</em></p>\n",
            ),
            (
                "{{ list | from_markdown }}",
                "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n",
            ),
            (
                r#"{{ "[docs](https://example.com)" | from_markdown }}"#,
                "<p><a href=\"https://example.com\">docs</a></p>\n",
            ),
            (
                r#"{{ "~~old~~" | from_markdown }}"#,
                "<p><del>old</del></p>\n",
            ),
        ],
    );
    errors(
        json!({}),
        &[(
            r#"{{ "many" | pluralize: "a", "b" }}"#,
            "pluralize: \"many\" is not a number",
        )],
    );
}

#[test]
fn data_helpers_follow_the_documented_examples() {
    let globals = json!({
        "recipient": { "id": "user_123", "tags": ["a", "b"] },
        "roles": ["admin", "editor", "viewer", "admin"],
        "allowed": ["viewer", "admin", "owner"],
        "prefs": "{\"digest\": {\"day\": \"monday\", \"hours\": [8, 18]}}",
    });
    table(
        globals,
        &[
            (r#"{{ "text" | json }}"#, "\"text\""),
            ("{{ 3 | json }}", "3"),
            (
                r#"{{ roles | json }}"#,
                r#"["admin","editor","viewer","admin"]"#,
            ),
            (
                "{% assign p = prefs | from_json %}{{ p.digest.day }} {{ p.digest.hours[1] }}",
                "monday 18",
            ),
            (
                r#"{% assign l = "[1, 2, 3]" | from_json %}{{ l | size }}"#,
                "3",
            ),
            (
                r#"{{ roles | intersect: allowed | join: "," }}"#,
                "admin,viewer",
            ),
            (r#"{{ roles | intersect: "editor" | join: "," }}"#, "editor"),
            (r#"{{ "1.2.0" | compare_versions: "1.10.0" }}"#, "-1"),
            (r#"{{ "v2.0" | compare_versions: "2.0.0" }}"#, "0"),
            (r#"{{ "2.1.0" | compare_versions: "2.1.0-beta.1" }}"#, "1"),
            (r#"{{ "1.4.2" | compare_versions: ">=", "1.4.0" }}"#, "true"),
            (r#"{{ "1.4.2" | compare_versions: "<", "1.4" }}"#, "false"),
        ],
    );
    let object = render(
        "{{ recipient | json }}",
        json!({ "recipient": { "id": "user_123", "tags": ["a", "b"] } }),
    )
    .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&object).unwrap();
    assert_eq!(parsed, json!({ "id": "user_123", "tags": ["a", "b"] }));
    errors(
        json!({ "recipient": { "id": "u" } }),
        &[
            (r#"{{ "{not json" | from_json }}"#, "from_json:"),
            (
                r#"{{ "1.x" | compare_versions: "1.0.0" }}"#,
                "is not a version",
            ),
            (
                r#"{{ "1.0.0" | compare_versions: "~", "1.0.0" }}"#,
                "unknown operator",
            ),
            (r#"{{ recipient | intersect: "a" }}"#, "not an array"),
        ],
    );
}

#[test]
fn digests_match_the_standard_test_vectors() {
    table(
        json!({ "secret": "key" }),
        &[
            (r#"{{ "" | md5 }}"#, "d41d8cd98f00b204e9800998ecf8427e"),
            (
                r#"{{ "The quick brown fox jumps over the lazy dog" | md5 }}"#,
                "9e107d9d372bb6826bd81d3542a419d6",
            ),
            (
                r#"{{ "abc" | sha256 }}"#,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                r#"{{ "what do ya want for nothing?" | hmac_sha256: "Jefe" }}"#,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                r#"{{ "The quick brown fox jumps over the lazy dog" | hmac_sha256: secret }}"#,
                "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
            ),
        ],
    );
}

#[test]
fn optional_arguments_may_be_left_out_and_required_ones_may_not() {
    let globals = json!({ "timestamp": "2023-12-31T19:30:00-05:00", "roles": ["admin"] });
    table(
        globals.clone(),
        &[
            (r#"{{ timestamp | date: "%Y" }}"#, "2023"),
            (
                r#"{{ timestamp | format_date_in_locale: "en-US" }}"#,
                "12/31/23",
            ),
            (
                r#"{{ timestamp | format_datetime_in_locale: "en-US" }}"#,
                "12/31/23, 7:30\u{202f}PM",
            ),
            ("{{ 10000 | format_number }}", "10,000"),
            ("{{ 10 | currency }}", "$10.00"),
            ("{{ 10.5 | rounded_currency }}", "$11"),
            (r#"{{ "2.0.0" | compare_versions: "2.1.0" }}"#, "-1"),
        ],
    );
    let one = "expected at least 1 positional argument";
    errors(
        globals,
        &[
            ("{{ timestamp | date }}", one),
            ("{{ timestamp | timezone }}", one),
            ("{{ timestamp | format_date_in_locale }}", one),
            ("{{ timestamp | format_datetime_in_locale }}", one),
            (
                r#"{{ 1 | pluralize: "user" }}"#,
                "expected at least 2 positional arguments",
            ),
            ("{{ roles | intersect }}", one),
            (r#"{{ "2.0.0" | compare_versions }}"#, one),
            (r#"{{ "abc" | hmac_sha256 }}"#, one),
        ],
    );
}

/// A filter's positional parameters, each optional one marked `?`.
pub(crate) fn parameters(filter: &dyn FilterReflection) -> String {
    let names = filter.positional_parameters().iter().map(|parameter| {
        let optional = if parameter.is_optional { "?" } else { "" };
        format!("{}{optional}", parameter.name)
    });
    names.collect::<Vec<_>>().join(", ")
}

#[test]
fn reflections_tell_optional_parameters_from_required_ones() {
    use super::{crypto, data, dates, locale_dates, numbers, text};
    let filters: [(&dyn FilterReflection, &str); 11] = [
        (&dates::Date, "format, time_zone?"),
        (&dates::Timezone, "time_zone"),
        (
            &locale_dates::FormatDateInLocale,
            "locale, date_format?, time_zone?",
        ),
        (
            &locale_dates::FormatDatetimeInLocale,
            "locale, date_format?, time_format?, time_zone?",
        ),
        (&numbers::FormatNumber, "locale?"),
        (&numbers::Currency, "currency?, locale?"),
        (&numbers::RoundedCurrency, "currency?, locale?"),
        (&text::Pluralize, "singular, plural"),
        (&data::Intersect, "other"),
        (&data::CompareVersions, "first, second?"),
        (&crypto::HmacSha256, "key"),
    ];
    for (filter, expected) in filters {
        assert_eq!(parameters(filter), expected, "{}", filter.name());
        assert!(filter.keyword_parameters().is_empty(), "{}", filter.name());
    }
}

#[test]
fn the_data_loading_filters_fail_when_the_template_is_parsed() {
    for name in ["user", "object", "tenant", "subscriptions"] {
        let message = unsupported_filter(name).expect(name);
        assert!(message.contains("Herald does not have"), "{message}");
        assert!(
            message.contains("pass the data in the job instead"),
            "{message}"
        );
        let parser = register(
            liquid::ParserBuilder::with_stdlib(),
            &FilterContext::default(),
        )
        .build()
        .unwrap();
        let err = match parser.parse(&format!("{{{{ recipient.id | {name} }}}}")) {
            Ok(_) => panic!("{name} parsed"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(message), "{name}: {err}");
    }
    assert_eq!(unsupported_filter("upcase"), None);
}

thread_local! {
    static COUNTED: std::cell::RefCell<std::collections::HashMap<u32, std::rc::Rc<u32>>> =
        Default::default();
}

#[test]
fn formatters_are_made_once_per_key_and_the_cache_stays_bounded() {
    use super::locales::cached;
    let mut made = 0;
    for _ in 0..3 {
        let value = cached(&COUNTED, 7, || {
            made += 1;
            Ok(70)
        });
        assert_eq!(*value.unwrap(), 70);
    }
    assert_eq!(made, 1);
    for key in 0..200 {
        cached(&COUNTED, key, || Ok(key)).unwrap();
    }
    let size = COUNTED.with(|c| c.borrow().len());
    assert!(size <= 64, "{size} formatters kept");
    let failed = cached(&COUNTED, 1000, || Err(liquid_core::Error::with_msg("no")));
    assert!(failed.is_err());
    assert!(COUNTED.with(|c| !c.borrow().contains_key(&1000)));
}
