//! Translations: the `t` filter and the `{% t %}` tag.
//!
//! Each `<templates.dir>/translations/<locale>.json` is one locale's JSON
//! object; keys nest (`{{ "emails.welcome.subject" | t }}`). A translation
//! may use `{{ name }}` placeholders, filled from the arguments
//! (`{{ "greeting" | t: name: recipient.name }}`). With a `count` argument,
//! an object entry is chosen by the locale's plural rules
//! (`zero` when the count is 0 and the entry has one, then `one`, `two`,
//! `few`, `many`, `other`).
//!
//! The locale is `recipient.locale`, else the job's `locale` variable, else
//! the environment's default. Each is tried from the most to the least
//! specific (`pt-BR`, then `pt`), and a key found nowhere is an error that
//! names it and the locales tried, never an empty string in a sent email.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

use liquid_core::model::{KString, ScalarCow};
use liquid_core::parser::{FilterArguments, FilterReflection, ParseFilter};
use liquid_core::{
    Error, Expression, Filter, ParseTag, Renderable, Result, Runtime, TagTokenIter, Value,
    ValueView,
};
use serde_json::Value as Json;

use super::locales::{lookup_chain, plural_category};
use super::translations::Translations;
use super::{FilterContext, Tag, Undeclared};

/// Translates `key` for the locale the runtime's variables ask for.
fn translate(
    ctx: &Shared,
    key: &str,
    args: &[(KString, Expression)],
    runtime: &dyn Runtime,
) -> Result<String> {
    let requested = requested_locale(runtime);
    let chain = lookup_chain(requested.as_deref(), &ctx.default_locale);
    let Some((locale, entry)) = ctx.translations.find(&chain, key) else {
        return Err(Error::with_msg(format!(
            "t: no translation for {key:?} (locales tried: {})",
            chain.join(", ")
        )));
    };
    let mut values = HashMap::new();
    for (name, expression) in args {
        values.insert(name.as_str(), expression.evaluate(runtime)?.to_value());
    }
    let text = match entry {
        Json::String(text) => text.as_str(),
        Json::Object(forms) => {
            let count = values.get("count").and_then(|c| c.as_scalar()?.to_float());
            let Some(count) = count else {
                return Err(Error::with_msg(format!(
                    "t: {key:?} has plural forms; pass `count`"
                )));
            };
            plural_form(forms, locale, count).ok_or_else(|| {
                Error::with_msg(format!("t: {key:?} has no form for a count of {count}"))
            })?
        }
        other => {
            return Err(Error::with_msg(format!(
                "t: {key:?} in {locale} is {other}, not text"
            )))
        }
    };
    interpolate(key, text, &values)
}

fn plural_form<'a>(
    forms: &'a serde_json::Map<String, Json>,
    locale: &str,
    count: f64,
) -> Option<&'a str> {
    let form = |name: &str| forms.get(name).and_then(Json::as_str);
    let zero = if count == 0.0 { form("zero") } else { None };
    zero.or_else(|| form(plural_category(locale, count)))
        .or_else(|| form("other"))
}

/// `recipient.locale`, else the job's `locale`, when either is text.
fn requested_locale(runtime: &dyn Runtime) -> Option<String> {
    let paths: [&[ScalarCow<'_>]; 2] = [
        &[ScalarCow::new("recipient"), ScalarCow::new("locale")],
        &[ScalarCow::new("locale")],
    ];
    paths.iter().find_map(|path| {
        let value = runtime.try_get(path)?;
        let text = value.as_scalar()?.into_owned().into_string();
        (!text.trim().is_empty()).then(|| text.to_string())
    })
}

/// Replaces each `{{ name }}` of `text` with the argument `name`.
fn interpolate(key: &str, text: &str, values: &HashMap<&str, Value>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + len].trim();
        let value = values.get(name).ok_or_else(|| {
            Error::with_msg(format!(
                "t: {key:?} uses {{{{ {name} }}}}, which was not passed to it"
            ))
        })?;
        out.push_str(&value.to_kstr());
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What the filter and the tag share: the translations and default locale.
#[derive(Debug, Clone)]
struct Shared {
    translations: Arc<Translations>,
    default_locale: String,
}

impl Shared {
    fn new(ctx: &FilterContext) -> Self {
        Shared {
            translations: ctx.translations.clone(),
            default_locale: ctx.default_locale.clone(),
        }
    }
}

/// `{{ "greeting" | t: name: recipient.name }}`.
#[derive(Debug, Clone)]
pub struct TFilter(Shared);

impl TFilter {
    pub fn new(ctx: &FilterContext) -> Self {
        TFilter(Shared::new(ctx))
    }
}

impl ParseFilter for TFilter {
    fn parse(&self, mut arguments: FilterArguments) -> Result<Box<dyn Filter>> {
        if arguments.positional.next().is_some() {
            return Err(Error::with_msg(
                "t: arguments are named (`t: name: recipient.name`)",
            ));
        }
        let args = arguments
            .keyword
            .map(|(name, value)| (KString::from_ref(name), value))
            .collect();
        Ok(Box::new(Translate {
            shared: self.0.clone(),
            args,
        }))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        const REFLECTION: Undeclared = Undeclared {
            name: "t",
            description: "The translation of the input key in the recipient's locale.",
        };
        &REFLECTION
    }
}

#[derive(Debug)]
struct Translate {
    shared: Shared,
    args: Vec<(KString, Expression)>,
}

impl fmt::Display for Translate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t")?;
        for (i, (name, value)) in self.args.iter().enumerate() {
            let sep = if i == 0 { ": " } else { ", " };
            write!(f, "{sep}{name}: {value}")?;
        }
        Ok(())
    }
}

impl Filter for Translate {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let text = translate(&self.shared, &input.to_kstr(), &self.args, runtime)?;
        Ok(Value::scalar(text))
    }
}

/// `{% t "greeting", name: recipient.name %}`: the filter as a tag.
pub fn t_tag(ctx: &FilterContext) -> impl ParseTag {
    let shared = Shared::new(ctx);
    Tag::new(
        "t",
        "Prints the translation of a key in the recipient's locale.",
        move |arguments, _options| parse_t_tag(&shared, arguments),
    )
}

/// Parses `{% t key, name: value, … %}` into what renders it.
fn parse_t_tag(shared: &Shared, mut arguments: TagTokenIter<'_>) -> Result<Box<dyn Renderable>> {
    let key = arguments
        .expect_next("t: a translation key expected")?
        .expect_value()
        .into_result()?;
    let mut args = Vec::new();
    while let Ok(mut token) = arguments.expect_next("") {
        if token.as_str() == "," {
            token = arguments.expect_next("t: an argument name expected after \",\"")?;
        }
        let name = token.expect_identifier().into_result()?.to_owned();
        arguments
            .expect_next("t: \":\" expected")?
            .expect_str(":")
            .into_result_custom_msg("t: arguments are written `name: value`")?;
        let value = arguments
            .expect_next("t: a value expected")?
            .expect_value()
            .into_result()?;
        args.push((KString::from_string(name), value));
    }
    arguments.expect_nothing()?;
    Ok(Box::new(TagRender {
        shared: shared.clone(),
        key,
        args,
    }))
}

#[derive(Debug)]
struct TagRender {
    shared: Shared,
    key: Expression,
    args: Vec<(KString, Expression)>,
}

impl Renderable for TagRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        let key = self.key.evaluate(runtime)?.to_kstr().into_owned();
        let text = translate(&self.shared, &key, &self.args, runtime)?;
        writer
            .write_all(text.as_bytes())
            .map_err(|e| Error::with_msg(format!("t: {e}")))
    }
}
