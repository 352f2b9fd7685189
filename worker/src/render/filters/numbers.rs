//! `format_number`, `currency` and `rounded_currency`: numbers in a
//! locale's own digits, separators and currency patterns (ICU4X with its
//! CLDR data compiled in, so no data files ship beside the binary).
//!
//! As in the original, the locale defaults to `en` and the currency to
//! `USD`: `{{ 10 | currency }}` is `$10.00`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use fixed_decimal::{Sign, SignedRoundingMode, UnsignedRoundingMode};
use icu_decimal::input::Decimal;
use icu_decimal::DecimalFormatter;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::dimension::currency::CurrencyType;
use liquid_core::{Expression, Result, Value, ValueView};

use super::filter_error;
use super::locales::{cached, parse_locale, CacheMap};
use super::{declare_filter, filter_args};

/// The locale when a template names none.
const DEFAULT_LOCALE: &str = "en";
/// The currency when a template names none.
const DEFAULT_CURRENCY: &str = "USD";

thread_local! {
    static DECIMALS: CacheMap<String, DecimalFormatter> = RefCell::new(HashMap::new());
    static CURRENCIES: CacheMap<(String, String), CurrencyFormatter<DecimalFormatter>> =
        RefCell::new(HashMap::new());
}

/// The decimal formatter of the locale `name`.
fn decimal_formatter(filter: &str, name: &str) -> Result<Rc<DecimalFormatter>> {
    cached(&DECIMALS, name.to_owned(), || {
        let locale = parse_locale(filter, name)?;
        DecimalFormatter::try_new((&locale).into(), Default::default())
            .map_err(|e| filter_error(filter, e))
    })
}

/// The input as an exact decimal: integers, floats and numeric strings.
pub fn to_decimal(filter: &str, input: &dyn ValueView) -> Result<Decimal> {
    let not_a_number = || filter_error(filter, format!("{} is not a number", input.source()));
    let scalar = input.as_scalar().ok_or_else(not_a_number)?;
    if let Some(whole) = scalar.to_integer() {
        return Ok(Decimal::from(whole));
    }
    let text = match scalar.to_float() {
        Some(float) if scalar.type_name() == "fractional number" => {
            if !float.is_finite() {
                return Err(not_a_number());
            }
            float.to_string()
        }
        _ => scalar.into_cow_str().trim().to_owned(),
    };
    text.parse::<Decimal>().map_err(|_| not_a_number())
}

declare_filter!(
    /// `{{ 10000 | format_number: "en" }}` gives `10,000`; at most three
    /// decimals are shown, as CLDR's default pattern does.
    pub FormatNumber => FormatNumberFilter {
        args: FormatNumberArgs {
            locale: Option<Expression> => "The locale (default en).",
        },
    },
    "format_number",
    "Formats a number with the locale's separators.",
    |input, args| {
        let name = args.locale.as_deref().unwrap_or(DEFAULT_LOCALE);
        let formatter = decimal_formatter("format_number", name)?;
        let mut value = to_decimal("format_number", input)?;
        value.round(-3);
        value.trim_end();
        Ok(Value::scalar(formatter.format(&value).to_string()))
    }
);

filter_args! {
    /// What `currency` and `rounded_currency` take.
    struct CurrencyArgs {
        currency: Option<Expression> => "The ISO 4217 currency code (default USD).",
        locale: Option<Expression> => "The locale (default en).",
    }
}

declare_filter!(
    /// `{{ 10 | currency: "GBP", "en" }}` gives `£10.00`: the amount with the
    /// currency's decimals (none for JPY).
    pub Currency => CurrencyFilter { args: CurrencyArgs },
    "currency",
    "Formats an amount in a currency (default USD) and locale (default en).",
    |input, args| in_currency("currency", input, &args, |amount| amount.pad_end(-2))
);

declare_filter!(
    /// `{{ 10.99 | rounded_currency: "GBP", "en" }}` gives `£11`: the amount
    /// rounded to a whole unit (halves away from zero).
    pub RoundedCurrency => RoundedCurrencyFilter { args: CurrencyArgs },
    "rounded_currency",
    "Formats an amount rounded to a whole unit in a currency and locale.",
    |input, args| {
        let half_up = SignedRoundingMode::Unsigned(UnsignedRoundingMode::HalfExpand);
        in_currency("rounded_currency", input, &args, |amount| {
            amount.round_with_mode(0, half_up);
            amount.trim_end();
        })
    }
);

/// The input as an amount, made ready by `adjust`, in the currency and
/// locale of `args`: with the currency's decimals, or with none when the
/// amount has none (`£11`).
fn in_currency(
    filter: &str,
    input: &dyn ValueView,
    args: &EvaluatedCurrencyArgs<'_>,
    adjust: impl FnOnce(&mut Decimal),
) -> Result<Value> {
    let mut amount = to_decimal(filter, input)?;
    adjust(&mut amount);
    let locale = args.locale.as_deref().unwrap_or(DEFAULT_LOCALE);
    let currency = args.currency.as_deref().unwrap_or(DEFAULT_CURRENCY);
    let formatted = format_currency(filter, &amount, currency, locale)?;
    let has_decimals = *amount.absolute.magnitude_range().start() < 0;
    if has_decimals {
        return Ok(Value::scalar(formatted));
    }
    without_fraction(filter, formatted, &amount, locale).map(Value::scalar)
}

/// The currency formatter always shows the currency's decimals (`£11.00`);
/// a whole amount drops them (`£11`). The number as the locale writes it
/// with zero decimals is swapped for the same number without them.
fn without_fraction(
    filter: &str,
    formatted: String,
    whole: &Decimal,
    locale: &str,
) -> Result<String> {
    let formatter = decimal_formatter(filter, locale)?;
    let unsigned = Decimal::new(Sign::None, whole.absolute.clone());
    let bare = formatter.format(&unsigned).to_string();
    for digits in [2, 3, 1] {
        let mut padded = unsigned.clone();
        padded.pad_end(-digits);
        let padded = formatter.format(&padded).to_string();
        if formatted.contains(&padded) {
            return Ok(formatted.replacen(&padded, &bare, 1));
        }
    }
    Ok(formatted)
}

/// `amount` in the currency `code`, as the locale `name` writes it.
fn format_currency(filter: &str, amount: &Decimal, code: &str, name: &str) -> Result<String> {
    let code = code.trim();
    let formatter = cached(&CURRENCIES, (name.to_owned(), code.to_owned()), || {
        let locale = parse_locale(filter, name)?;
        let currency = CurrencyType::try_from_str(code).map_err(|_| {
            filter_error(filter, format!("{code:?} is not an ISO 4217 currency code"))
        })?;
        CurrencyFormatter::try_new_symbol((&locale).into(), currency, Default::default())
            .map_err(|e| filter_error(filter, e))
    })?;
    let text = formatter.format_fixed_decimal(amount).to_string();
    Ok(text)
}
