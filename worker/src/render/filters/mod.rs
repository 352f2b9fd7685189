//! The Liquid helpers of the hosted notification service that Herald's
//! templates come from, so that its templates render unchanged.
//!
//! - [`dates`]: `date` (replacing the crate's, which echoed what it could not
//!   parse) and `timezone`, on jiff with the IANA database built in;
//! - [`locale_dates`]: `format_date_in_locale`, `format_datetime_in_locale`;
//! - [`numbers`]: `format_number`, `currency`, `rounded_currency`;
//! - [`text`]: `pluralize`, `titlecase`, `from_markdown`;
//! - [`data`]: `json`, `from_json`, `intersect`, `compare_versions`;
//! - [`crypto`]: `md5`, `sha256`, `hmac_sha256`;
//! - [`translations`]: `<templates.dir>/translations/<locale>.json`, loaded
//!   once; [`translate`]: the `t` filter and the `{% t %}` tag over them.
//!
//! Locale formatters are cached per thread (`locales::cached`): building one
//! costs more than using it.
//!
//! Everything is registered on a [`liquid::ParserBuilder`] by [`register`];
//! what the filters need to know at parse time travels in a [`FilterContext`].

pub mod crypto;
pub mod data;
pub mod dates;
mod declare;
pub mod locale_dates;
mod locales;
pub mod numbers;
pub mod text;
pub mod translate;
pub mod translations;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod translation_tests;

pub(crate) use declare::{declare_filter, filter_args, Tag, Undeclared};

use std::path::Path;
use std::sync::Arc;

use liquid_core::parser::{FilterArguments, FilterReflection, ParseFilter};
use liquid_core::{Error, Filter, Result};

pub use translations::{TranslationError, Translations, EXAMPLE_TRANSLATIONS};

/// What the helpers need when templates are parsed: the translations of
/// `<templates.dir>/translations/` and the locale to fall back to.
#[derive(Debug, Clone)]
pub struct FilterContext {
    /// Every locale's translations, loaded once and shared by every template.
    pub translations: Arc<Translations>,
    /// The last locale `t` tries before it reports a key as missing.
    pub default_locale: String,
}

impl Default for FilterContext {
    /// No translations, English as the default locale.
    fn default() -> Self {
        FilterContext {
            translations: Arc::new(Translations::default()),
            default_locale: "en".to_owned(),
        }
    }
}

impl FilterContext {
    /// Reads `<templates_dir>/translations/<locale>.json` (a missing folder
    /// means no translations).
    pub fn load(templates_dir: &Path, default_locale: &str) -> Result<Self, TranslationError> {
        let translations = Translations::load_dir(&templates_dir.join("translations"))?;
        Ok(FilterContext::new(translations, default_locale))
    }

    /// A context over translations already loaded.
    pub fn new(translations: Translations, default_locale: &str) -> Self {
        FilterContext {
            translations: Arc::new(translations),
            default_locale: default_locale.to_owned(),
        }
    }
}

/// Adds every helper to `builder`. The `date` filter replaces the crate's.
pub fn register<P>(
    builder: liquid::ParserBuilder<P>,
    ctx: &FilterContext,
) -> liquid::ParserBuilder<P>
where
    P: liquid_core::partials::PartialCompiler,
{
    let builder = builder
        .filter(dates::Date)
        .filter(dates::Timezone)
        .filter(locale_dates::FormatDateInLocale)
        .filter(locale_dates::FormatDatetimeInLocale)
        .filter(numbers::FormatNumber)
        .filter(numbers::Currency)
        .filter(numbers::RoundedCurrency)
        .filter(text::Pluralize)
        .filter(text::Titlecase)
        .filter(text::FromMarkdown)
        .filter(data::Json)
        .filter(data::FromJson)
        .filter(data::Intersect)
        .filter(data::CompareVersions)
        .filter(crypto::Md5)
        .filter(crypto::Sha256)
        .filter(crypto::HmacSha256)
        .filter(translate::TFilter::new(ctx))
        .tag(translate::t_tag(ctx));
    DATA_LOADING
        .iter()
        .fold(builder, |b, (name, _)| b.filter(Unsupported::new(name)))
}

/// The hosted original's filters that load records from its own store.
const DATA_LOADING: &[(&str, &str)] = &[
    (
        "user",
        "the `user` filter reads the hosted service's data store, which Herald does not have; \
         pass the data in the job instead",
    ),
    (
        "object",
        "the `object` filter reads the hosted service's data store, which Herald does not have; \
         pass the data in the job instead",
    ),
    (
        "tenant",
        "the `tenant` filter reads the hosted service's data store, which Herald does not have; \
         pass the data in the job instead",
    ),
    (
        "subscriptions",
        "the `subscriptions` filter reads the hosted service's data store, which Herald does \
         not have; pass the data in the job instead",
    ),
];

/// The message `herald check` shows for a filter Herald cannot offer, or
/// `None` when `name` is not one of them.
pub fn unsupported_filter(name: &str) -> Option<&'static str> {
    DATA_LOADING
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, message)| *message)
}

/// A data-loading filter: registered so that parsing a template that uses
/// it fails with [`unsupported_filter`]'s message, never a job at send time.
#[derive(Clone)]
struct Unsupported(Undeclared);

impl Unsupported {
    fn new(name: &'static str) -> Self {
        Unsupported(Undeclared {
            name,
            description: "Reads the hosted service's data store; not available in Herald.",
        })
    }
}

impl ParseFilter for Unsupported {
    fn parse(&self, _arguments: FilterArguments) -> Result<Box<dyn Filter>> {
        let message = unsupported_filter(self.0.name).unwrap_or("unsupported filter");
        Err(Error::with_msg(message))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        &self.0
    }
}

/// An error naming the filter, for messages a template author can act on.
pub(crate) fn filter_error(filter: &str, message: impl std::fmt::Display) -> Error {
    Error::with_msg(format!("{filter}: {message}"))
}
