//! Shopify filters the crate lacks: `sum`, the `base64_*` family, the
//! property filters `reject`, `find`, `find_index` and `has`, and
//! `replace_last` / `remove_last`.

use crate::render::filters::{declare_filter, filter_args};
use base64::engine::general_purpose::{GeneralPurpose, STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use liquid::ParserBuilder;
use liquid_core::model::{State, ValueViewCmp};
use liquid_core::parser::{
    FilterArguments, FilterParameters, FilterParametersReflection, ParameterReflection,
};
use liquid_core::{
    Error, Expression, Filter, FilterReflection, ParseFilter, Result, Runtime, Value, ValueCow,
    ValueView,
};

/// Adds the filters of this module to `builder`.
pub fn register(builder: ParserBuilder) -> ParserBuilder {
    builder
        .filter(Sum)
        .filter(Base64Encode)
        .filter(Base64Decode)
        .filter(Base64UrlSafeEncode)
        .filter(Base64UrlSafeDecode)
        .filter(Lookup::Reject)
        .filter(Lookup::Find)
        .filter(Lookup::FindIndex)
        .filter(Lookup::Has)
        .filter(ReplaceLast)
        .filter(RemoveLast)
}

fn invalid_input(cause: &str) -> Error {
    Error::with_msg("Invalid input").context("cause", cause.to_owned())
}

/// An array's elements, a single value as one element, nil as none.
fn elements(input: &dyn ValueView) -> Vec<&dyn ValueView> {
    if let Some(array) = input.as_array() {
        array.values().collect()
    } else if input.is_nil() {
        Vec::new()
    } else {
        vec![input]
    }
}

declare_filter!(
    Sum => SumFilter {
        args: PropertyArgs {
            property: Option<Expression> => "The property to look at.",
        },
    },
    "sum",
    "The sum of an array's numbers, or of a property of its objects.",
    |input, args| Ok(sum(input, args.property.as_deref()))
);

/// The sum of the numbers among `input`'s elements, or their `property`.
fn sum(input: &dyn ValueView, property: Option<&str>) -> Value {
    let (mut int, mut float, mut is_float) = (0i64, 0f64, false);
    for element in elements(input) {
        let value = match property {
            Some(p) => element.as_object().and_then(|o| o.get(p)),
            None => Some(element),
        };
        // Shopify counts what is not a number as 0
        let Some(scalar) = value.and_then(|v| v.as_scalar()) else {
            continue;
        };
        if let Some(i) = scalar.to_integer() {
            int = int.saturating_add(i);
        } else if let Some(f) = scalar.to_float() {
            float += f;
            is_float = true;
        }
    }
    if is_float {
        Value::scalar(float + int as f64)
    } else {
        Value::scalar(int)
    }
}

declare_filter!(
    Base64Encode => Base64EncodeFilter,
    "base64_encode",
    "Encodes a string in Base64.",
    |input| Ok(Value::scalar(STANDARD.encode(input.to_kstr().as_bytes())))
);
declare_filter!(
    Base64Decode => Base64DecodeFilter,
    "base64_decode",
    "Decodes a Base64 string.",
    |input| decoded(&STANDARD, &input.to_kstr(), "base64_decode")
);
declare_filter!(
    Base64UrlSafeEncode => Base64UrlSafeEncodeFilter,
    "base64_url_safe_encode",
    "Encodes a string in URL-safe Base64.",
    |input| Ok(Value::scalar(URL_SAFE.encode(input.to_kstr().as_bytes())))
);
declare_filter!(
    Base64UrlSafeDecode => Base64UrlSafeDecodeFilter,
    "base64_url_safe_decode",
    "Decodes a URL-safe Base64 string, padded or not.",
    |input| {
        let text = input.to_kstr();
        decoded(&URL_SAFE_NO_PAD, text.trim_end_matches('='), "base64_url_safe_decode")
    }
);

/// `text` decoded by `engine`, as UTF-8 text.
fn decoded(engine: &GeneralPurpose, text: &str, name: &str) -> Result<Value> {
    let bytes = engine
        .decode(text)
        .map_err(|_| invalid_input(&format!("invalid base64 provided to {name}")))?;
    String::from_utf8(bytes)
        .map(Value::scalar)
        .map_err(|_| invalid_input(&format!("{name}: decoded text is not UTF-8")))
}

filter_args! {
    /// What `reject`, `find`, `find_index` and `has` take.
    struct MatchArgs {
        property: Expression => "The property to test.",
        target_value: Option<Expression> => "The value it must equal; else truthy." as "any",
    }
}

/// Whether `element`'s `property` is truthy, or equals `target`.
fn matches(element: &dyn ValueView, property: &str, target: Option<&ValueCow<'_>>) -> bool {
    let Some(value) = element.as_object().and_then(|o| o.get(property)) else {
        return target.is_some_and(|t| t.is_nil());
    };
    match target {
        Some(target) => ValueViewCmp::new(value) == ValueViewCmp::new(target.as_view()),
        None => value.query_state(State::Truthy),
    }
}

/// `reject`, `find`, `find_index` and `has`: one parser, four outcomes.
#[derive(Clone, Copy, Debug)]
enum Lookup {
    Reject,
    Find,
    FindIndex,
    Has,
}

impl Lookup {
    fn name(self) -> &'static str {
        match self {
            Lookup::Reject => "reject",
            Lookup::Find => "find",
            Lookup::FindIndex => "find_index",
            Lookup::Has => "has",
        }
    }
}

impl FilterReflection for Lookup {
    fn name(&self) -> &str {
        Lookup::name(*self)
    }

    fn description(&self) -> &str {
        "Elements whose property is truthy, or equals the value."
    }

    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        MatchArgs::positional_parameters()
    }

    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        MatchArgs::keyword_parameters()
    }
}

impl ParseFilter for Lookup {
    fn parse(&self, arguments: FilterArguments<'_>) -> Result<Box<dyn Filter>> {
        let args = MatchArgs::from_args(arguments)?;
        Ok(Box::new(LookupFilter { args, how: *self }))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

#[derive(Debug)]
struct LookupFilter {
    args: MatchArgs,
    how: Lookup,
}

impl std::fmt::Display for LookupFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.how.name(), self.args)
    }
}

impl Filter for LookupFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let args = self.args.evaluate(runtime)?;
        let target = args.target_value.as_ref();
        let mut hits = elements(input)
            .into_iter()
            .map(|e| (matches(e, &args.property, target), e));
        Ok(match self.how {
            Lookup::Reject => Value::array(hits.filter(|(hit, _)| !hit).map(|(_, e)| e.to_value())),
            Lookup::Find => hits
                .find(|(hit, _)| *hit)
                .map_or(Value::Nil, |(_, e)| e.to_value()),
            Lookup::FindIndex => hits
                .position(|(hit, _)| hit)
                .map_or(Value::Nil, |i| Value::scalar(i as i64)),
            Lookup::Has => Value::scalar(hits.any(|(hit, _)| hit)),
        })
    }
}

filter_args! {
    /// What `replace_last` and `remove_last` take.
    struct LastArgs {
        search: Expression => "The text to search.",
        replace: Option<Expression> => "What replaces its last occurrence.",
    }
}

declare_filter!(
    ReplaceLast => ReplaceLastFilter { args: LastArgs },
    "replace_last",
    "Replaces the last occurrence of a string.",
    |input, args| {
        let replace = args.replace.as_deref().unwrap_or_default();
        Ok(Value::scalar(replace_last(&input.to_kstr(), &args.search, replace)))
    }
);

declare_filter!(
    RemoveLast => RemoveLastFilter { args: LastArgs },
    "remove_last",
    "Removes the last occurrence of a string.",
    |input, args| Ok(Value::scalar(replace_last(&input.to_kstr(), &args.search, "")))
);

fn replace_last(text: &str, search: &str, replace: &str) -> String {
    match text.rfind(search) {
        Some(at) => format!("{}{replace}{}", &text[..at], &text[at + search.len()..]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::filters::tests::parameters;

    #[test]
    fn reflections_tell_optional_parameters_from_required_ones() {
        assert_eq!(parameters(&Sum), "property?");
        assert_eq!(parameters(&Lookup::Find), "property, target_value?");
        assert_eq!(parameters(&ReplaceLast), "search, replace?");
        assert_eq!(parameters(&RemoveLast), "search, replace?");
    }

    #[test]
    fn a_required_argument_left_out_is_a_parse_error() {
        let parser = register(ParserBuilder::with_stdlib()).build().unwrap();
        for source in ["{{ list | find }}", "{{ 'a-b' | replace_last }}"] {
            let err = parser.parse(source).err().map(|e| e.to_string());
            let err = err.unwrap_or_else(|| panic!("{source} parsed"));
            assert!(
                err.contains("expected at least 1 positional argument"),
                "{err}"
            );
        }
    }
}
