//! `json`, `from_json`, `intersect` and `compare_versions`: helpers over
//! structured values.

use std::cmp::Ordering;

use liquid_core::{Expression, Result, Value, ValueView};

use super::declare_filter;
use super::filter_error;

declare_filter!(
    /// `{{ recipient | json }}`: the value as JSON text.
    pub Json => JsonFilter,
    "json",
    "The input as a JSON string.",
    |input| {
        let text = serde_json::to_string(&input.to_value()).map_err(|e| filter_error("json", e))?;
        Ok(Value::scalar(text))
    }
);

declare_filter!(
    /// `{% assign prefs = data.prefs_json | from_json %}`: JSON text parsed into
    /// a value that templates can index.
    pub FromJson => FromJsonFilter,
    "from_json",
    "Parses a JSON string into a value.",
    |input| {
        let text = input.to_kstr();
        serde_json::from_str::<Value>(&text).map_err(|e| filter_error("from_json", e))
    }
);

declare_filter!(
    /// `{{ recipient.roles | intersect: data.allowed_roles }}`: the elements of
    /// the input also in the argument, in the input's order, each once.
    pub Intersect => IntersectFilter {
        args: IntersectArgs {
            other: Expression => "The array to intersect with." as _,
        },
    },
    "intersect",
    "The elements of the input array that are also in the argument array.",
    |input, args| intersect(input, args.other.as_view())
);

/// The elements of `input` also in `other`, in `input`'s order, each once.
fn intersect(input: &dyn ValueView, other: &dyn ValueView) -> Result<Value> {
    let left = as_values(input, "input")?;
    let right = as_values(other, "argument")?;
    let mut out: Vec<Value> = Vec::new();
    for value in left {
        if right.contains(&value) && !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(Value::Array(out))
}

/// An array's elements; nil is the empty array, any other scalar a single
/// element (as Liquid's array filters treat them).
fn as_values(value: &dyn ValueView, what: &str) -> Result<Vec<Value>> {
    if let Some(array) = value.as_array() {
        return Ok(array.values().map(|v| v.to_value()).collect());
    }
    if value.is_nil() {
        return Ok(Vec::new());
    }
    if value.as_object().is_some() {
        return Err(filter_error(
            "intersect",
            format!("the {what} is not an array"),
        ));
    }
    Ok(vec![value.to_value()])
}

declare_filter!(
    /// `{{ recipient.app_version | compare_versions: "2.1.0" }}` gives -1, 0
    /// or 1; `{{ recipient.app_version | compare_versions: ">=", "2.1.0" }}`
    /// gives true or false. Versions are semantic versions; a leading `v` and
    /// missing minor or patch numbers (`v2`, `2.1`) are accepted.
    pub CompareVersions => CompareVersionsFilter {
        args: CompareVersionsArgs {
            first: Expression => "The version to compare with, or an operator (<, <=, ==, !=, >=, >).",
            second: Option<Expression> => "The version, after an operator.",
        },
    },
    "compare_versions",
    "Compares two semantic versions: -1, 0, 1, or true/false with an operator.",
    |input, args| compare_versions(&input.to_kstr(), &args.first, args.second.as_deref())
);

/// `version` against `first`: -1, 0 or 1; or, when `first` is an operator,
/// whether `version first second` holds.
fn compare_versions(version: &str, first: &str, second: Option<&str>) -> Result<Value> {
    let left = parse_version(version)?;
    let Some(second) = second else {
        let ordering = left.cmp(&parse_version(first)?);
        return Ok(Value::scalar(ordering as i64));
    };
    let ordering = left.cmp(&parse_version(second)?);
    let holds = match first.trim() {
        "<" => ordering == Ordering::Less,
        "<=" => ordering != Ordering::Greater,
        "==" | "=" => ordering == Ordering::Equal,
        "!=" => ordering != Ordering::Equal,
        ">=" => ordering != Ordering::Less,
        ">" => ordering == Ordering::Greater,
        other => {
            return Err(filter_error(
                "compare_versions",
                format!("unknown operator {other:?} (use <, <=, ==, !=, >= or >)"),
            ))
        }
    };
    Ok(Value::scalar(holds))
}

/// A semantic version, completed with zeros when minor or patch is missing.
pub fn parse_version(text: &str) -> Result<semver::Version> {
    let text = text.trim();
    let bare = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let core_end = bare.find(['-', '+']).unwrap_or(bare.len());
    let dots = bare[..core_end].matches('.').count();
    let padding = ".0".repeat(2usize.saturating_sub(dots));
    let full = format!("{}{padding}{}", &bare[..core_end], &bare[core_end..]);
    semver::Version::parse(&full).map_err(|e| {
        filter_error(
            "compare_versions",
            format!("{text:?} is not a version: {e}"),
        )
    })
}
