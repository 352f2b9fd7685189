//! Locale names as templates and jobs write them (`en`, `pt-BR`, `pt_BR`),
//! turned into ICU4X locales, translation lookup chains and plural
//! categories.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;
use std::thread::LocalKey;

use icu_locale_core::Locale;
use icu_plurals::{PluralCategory, PluralOperands, PluralRules};
use liquid_core::Result;

use super::filter_error;

/// The ICU4X locale of `name`; `_` is accepted for `-`.
pub fn parse_locale(filter: &str, name: &str) -> Result<Locale> {
    let cleaned = name.trim().replace('_', "-");
    cleaned
        .parse::<Locale>()
        .map_err(|_| filter_error(filter, format!("{name:?} is not a locale")))
}

/// The lowercase locales a translation is looked up in, most specific
/// first: the requested one and its parents, then the default and its
/// parents (`pt-br`, `pt`, `en-gb`, `en`).
pub fn lookup_chain(requested: Option<&str>, default: &str) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    for locale in requested.into_iter().chain(std::iter::once(default)) {
        let mut current = locale.trim().replace('_', "-").to_ascii_lowercase();
        while !current.is_empty() {
            if !chain.contains(&current) {
                chain.push(current.clone());
            }
            match current.rfind('-') {
                Some(cut) => current.truncate(cut),
                None => break,
            }
        }
    }
    chain
}

/// The CLDR cardinal plural category of `count` in `locale` (`one`,
/// `few`, `other`, …); `other` when the locale or the number is unknown.
pub fn plural_category(locale: &str, count: f64) -> &'static str {
    let Ok(locale) = locale.parse::<Locale>() else {
        return "other";
    };
    let Ok(rules) = PluralRules::try_new_cardinal((&locale).into()) else {
        return "other";
    };
    let Ok(decimal) = count.abs().to_string().parse::<fixed_decimal::Decimal>() else {
        return "other";
    };
    let operands = PluralOperands::from(&decimal);
    match rules.category_for(operands) {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
}

/// Formatters kept per thread: at most this many, then the cache starts over
/// (locales come from job data, so the set of keys is not bounded).
const CACHE_LIMIT: usize = 64;

/// A per-thread cache of ICU4X formatters, whose construction costs more
/// than the formatting itself.
pub type Cache<K, V> = LocalKey<CacheMap<K, V>>;

/// What a [`Cache`] holds.
pub type CacheMap<K, V> = RefCell<HashMap<K, Rc<V>>>;

/// The value cached under `key`, made by `make` the first time.
pub fn cached<K, V>(
    cache: &'static Cache<K, V>,
    key: K,
    make: impl FnOnce() -> Result<V>,
) -> Result<Rc<V>>
where
    K: Eq + Hash,
{
    if let Some(value) = cache.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(value);
    }
    let value = Rc::new(make()?);
    cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(key, value.clone());
    });
    Ok(value)
}
