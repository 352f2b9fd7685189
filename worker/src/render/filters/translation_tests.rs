//! The `t` filter and tag: lookups, fallbacks, interpolation, plurals and
//! loading translation files.

use serde_json::json;

use super::tests::render_in;
use super::{FilterContext, Translations, EXAMPLE_TRANSLATIONS};

fn example_context(default_locale: &str) -> FilterContext {
    FilterContext::new(
        Translations::from_sources(EXAMPLE_TRANSLATIONS.iter().copied()).unwrap(),
        default_locale,
    )
}

const SUBJECT: &str = r#"{{ "password_reset.subject" | t }}"#;
const FR_SUBJECT: &str = "Réinitialisez votre mot de passe";
const EN_SUBJECT: &str = "Reset your password";

/// Job variables (JSON) and the password-reset subject they are sent.
const SUBJECT_CASES: &[(&str, &str)] = &[
    (r#"{ "recipient": { "locale": "fr" } }"#, FR_SUBJECT),
    (r#"{ "recipient": { "locale": "fr-CA" } }"#, FR_SUBJECT),
    (r#"{ "recipient": { "locale": "fr_FR" } }"#, FR_SUBJECT),
    (r#"{ "recipient": { "locale": "pt-BR" } }"#, EN_SUBJECT),
    (r#"{ "recipient": {} }"#, EN_SUBJECT),
    (r#"{ "recipient": {}, "locale": "fr" }"#, FR_SUBJECT),
    (
        r#"{ "recipient": { "locale": "en" }, "locale": "fr" }"#,
        EN_SUBJECT,
    ),
];

/// The recipient's locale, a template, and what it renders to for a
/// recipient named Ada.
const TEMPLATE_CASES: &[(&str, &str, &str)] = &[
    (
        "fr",
        r#"{{ "footer" | t }}"#,
        "You receive this email because you have an account with us.",
    ),
    (
        "fr",
        r#"{{ "welcome.greeting" | t: name: recipient.name }}"#,
        "Bonjour Ada,",
    ),
    (
        "fr",
        r#"{% t "welcome.greeting", name: recipient.name %}"#,
        "Bonjour Ada,",
    ),
    (
        "en",
        r#"{% t "welcome.invited" actor: "Grace", plan: "pro" %}"#,
        "Grace invited you to the pro plan.",
    ),
    (
        "en",
        r#"{{ "unread" | t: count: 0 }}"#,
        "You have no unread messages.",
    ),
    (
        "en",
        r#"{{ "unread" | t: count: 1 }}"#,
        "You have one unread message.",
    ),
    (
        "en",
        r#"{{ "unread" | t: count: 5 }}"#,
        "You have 5 unread messages.",
    ),
    (
        "fr",
        r#"{{ "unread" | t: count: 1 }}"#,
        "Vous avez 1 message non lu.",
    ),
    (
        "fr",
        r#"{{ "unread" | t: count: 2 }}"#,
        "Vous avez 2 messages non lus.",
    ),
    (
        "fr",
        r#"{{ "password_reset.subject" | t | upcase }}"#,
        "RÉINITIALISEZ VOTRE MOT DE PASSE",
    ),
];

/// Renders `source` with `globals` in the example translations (default
/// locale `en`) and checks the text.
fn assert_renders(globals: serde_json::Value, source: &str, expected: &str) {
    let ctx = example_context("en");
    let out = render_in(&ctx, source, globals.clone()).unwrap_or_else(|e| panic!("{source}: {e}"));
    assert_eq!(out, expected, "{source} with {globals}");
}

#[test]
fn translations_follow_the_recipient_locale_with_fallbacks() {
    for (globals, expected) in SUBJECT_CASES {
        assert_renders(serde_json::from_str(globals).unwrap(), SUBJECT, expected);
    }
    for (locale, source, expected) in TEMPLATE_CASES {
        let globals = json!({ "recipient": { "locale": locale, "name": "Ada" } });
        assert_renders(globals, source, expected);
    }
}

#[test]
fn the_default_locale_is_the_last_fallback() {
    let ctx = example_context("fr");
    let out = render_in(
        &ctx,
        r#"{{ "password_reset.subject" | t }}"#,
        json!({ "recipient": { "locale": "de" } }),
    );
    assert_eq!(out.unwrap(), "Réinitialisez votre mot de passe");
}

#[test]
fn a_missing_translation_is_an_error_naming_the_key_and_locales() {
    let ctx = example_context("en");
    let cases: &[(serde_json::Value, &str, &str)] = &[
        (
            json!({ "recipient": { "locale": "pt-BR" } }),
            r#"{{ "nope.key" | t }}"#,
            "no translation for \"nope.key\" (locales tried: pt-br, pt, en)",
        ),
        (
            json!({ "recipient": {} }),
            r#"{{ "welcome.greeting" | t }}"#,
            "uses {{ name }}, which was not passed",
        ),
        (
            json!({ "recipient": {} }),
            r#"{{ "unread" | t }}"#,
            "has plural forms; pass `count`",
        ),
        (
            json!({ "recipient": {} }),
            r#"{{ "welcome" | t: count: 2 }}"#,
            "has no form for a count of 2",
        ),
        (
            json!({ "recipient": {} }),
            r#"{% t "nope" %}"#,
            "no translation for \"nope\"",
        ),
    ];
    for (globals, source, needle) in cases {
        match render_in(&ctx, source, globals.clone()) {
            Ok(out) => panic!("{source} rendered {out:?}"),
            Err(e) => assert!(e.contains(needle), "{source}: {e}"),
        }
    }
}

#[test]
fn translations_load_from_the_templates_folder() {
    let dir = std::env::temp_dir().join(format!("herald-translations-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("translations")).unwrap();
    std::fs::write(
        dir.join("translations/de.json"),
        r#"{ "hi": "Hallo {{ name }}" }"#,
    )
    .unwrap();
    std::fs::write(dir.join("translations/notes.txt"), "ignored").unwrap();
    let ctx = FilterContext::load(&dir, "de").unwrap();
    let out = render_in(&ctx, r#"{{ "hi" | t: name: "Ada" }}"#, json!({}));
    std::fs::write(dir.join("translations/en.json"), "[1, 2]").unwrap();
    let broken = FilterContext::load(&dir, "en").unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.unwrap(), "Hallo Ada");
    assert!(
        broken.contains("en.json") && broken.contains("not a JSON object"),
        "{broken}"
    );
    let none = FilterContext::load(std::path::Path::new("/nonexistent-herald"), "en").unwrap();
    assert_eq!(none.translations.locales().count(), 0);
}
