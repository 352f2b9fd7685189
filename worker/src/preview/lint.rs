//! What breaks every job, found before any job runs: a `vars` path the
//! environment does not have, a data-loading filter of the hosted original, a
//! layout that drops the body; and the locations of Liquid's own errors.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::scan::{self, PathUse, Segment};

/// One problem and where it is: `file:line:column`, `file` or a setting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a filter cannot work in Herald, for the hosted original's filters
/// that read its data store.
// The list moves to `crate::render::filters::unsupported_filter`.
pub fn unsupported_filter(name: &str) -> Option<&'static str> {
    crate::render::filters::unsupported_filter(name)
}

/// `file:line:column`, or `file` when the position is unknown.
pub fn at(file: &str, position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!("{file}:{line}:{column}"),
        None => file.to_owned(),
    }
}

/// The environments' `vars`, by the name problems give them.
pub type VarsByEnvironment<'a> = BTreeMap<String, &'a Map<String, Value>>;

/// Problems of one Liquid source: data-loading filters and `vars` paths
/// missing from some environment. `base` maps an offset in `source` to a
/// position in the file (a sender field sits inside a TOML string).
pub fn lint_source(
    file: &str,
    source: &str,
    vars: &VarsByEnvironment<'_>,
    base: &dyn Fn(usize) -> Option<(usize, usize)>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for markup in scan::markups(source) {
        for filter in scan::filters(&markup) {
            if let Some(why) = unsupported_filter(filter.name) {
                problems.push(Problem {
                    location: at(file, base(filter.offset)),
                    message: why.to_owned(),
                });
            }
        }
        for path in scan::paths_from(&markup, "vars") {
            if let Some(message) = missing_in(&path, vars) {
                problems.push(Problem {
                    location: at(file, base(path.offset)),
                    message,
                });
            }
        }
    }
    problems
}

/// A layout must print the body it wraps.
pub fn lint_layout(file: &str, source: &str) -> Option<Problem> {
    (!scan::outputs_variable(source, "content")).then(|| Problem {
        location: file.to_owned(),
        message: "a layout without {{ content }} drops the email's body".into(),
    })
}

fn missing_in(path: &PathUse, vars: &VarsByEnvironment<'_>) -> Option<String> {
    if path.guarded {
        return None;
    }
    let missing: Vec<(&str, String)> = vars
        .iter()
        .filter_map(|(env, vars)| {
            let known = resolve(&path.segments[1..], vars)?;
            Some((env.as_str(), known))
        })
        .collect();
    let (_, known) = missing.first()?;
    let names: Vec<&str> = missing.iter().map(|(e, _)| *e).collect();
    Some(format!(
        "{} does not exist in the vars of {} {} ({known}): every job would fail",
        path.display(),
        if names.len() == 1 {
            "environment"
        } else {
            "environments"
        },
        names.join(", ")
    ))
}

/// `None` when the path exists (or cannot be checked); else what is known at
/// the point where it stops.
fn resolve(segments: &[Segment], vars: &Map<String, Value>) -> Option<String> {
    let mut current = Value::Object(vars.clone());
    let mut walked = String::from("vars");
    for segment in segments {
        let next = match (segment, &current) {
            (Segment::Dynamic, _) => return None,
            (Segment::Key(k), _) if ["size", "first", "last"].contains(&k.as_str()) => return None,
            (Segment::Key(k), Value::Object(o)) => o.get(k).cloned(),
            (Segment::Index(i), Value::Array(a)) => {
                let i = if *i < 0 { a.len() as i64 + i } else { *i };
                usize::try_from(i).ok().and_then(|i| a.get(i)).cloned()
            }
            _ => None,
        };
        match next {
            Some(value) => current = value,
            None => return Some(describe(&walked, &current)),
        }
        walked = match segment {
            Segment::Key(k) => format!("{walked}.{k}"),
            Segment::Index(i) => format!("{walked}[{i}]"),
            Segment::Dynamic => walked,
        };
    }
    None
}

fn describe(walked: &str, value: &Value) -> String {
    match value {
        Value::Object(o) if o.is_empty() => format!("{walked} is empty"),
        Value::Object(o) => {
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            format!("{walked} has {}", keys.join(", "))
        }
        Value::Array(a) => format!("{walked} is a list of {}", a.len()),
        _ => format!("{walked} is a value, not an object"),
    }
}

/// The variable a Liquid render error names (`data.plan`), from the
/// `requested variable=` or `variable= … requested index=` context.
pub fn variable_of(message: &str) -> Option<String> {
    let words: Vec<&str> = message.split_whitespace().collect();
    let value = |key: &str, requested: bool| {
        words.iter().enumerate().find_map(|(n, w)| {
            let after_requested = n > 0 && words[n - 1] == "requested";
            (after_requested == requested)
                .then(|| w.strip_prefix(key))
                .flatten()
        })
    };
    if let Some(variable) = value("variable=", true) {
        return Some(variable.to_owned());
    }
    let parent = value("variable=", false)?;
    match value("index=", true) {
        Some(index) if index.parse::<i64>().is_ok() => Some(format!("{parent}[{index}]")),
        Some(index) => Some(format!("{parent}.{index}")),
        None => Some(parent.to_owned()),
    }
}

/// Where `variable` is first printed or tested in `source`; else where its
/// root first is.
pub fn find_variable(source: &str, variable: &str) -> Option<usize> {
    let root = variable.split(['.', '[']).next()?;
    let markups = scan::markups(source);
    let exact = markups.iter().find_map(|markup| {
        let text = markup.text;
        let (at, _) = text.match_indices(variable).find(|(at, _)| {
            let before = text[..*at].chars().next_back();
            let after = text[at + variable.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })?;
        Some(markup.offset + at)
    });
    exact.or_else(|| {
        markups
            .iter()
            .find_map(|m| scan::paths_from(m, root).first().map(|p| p.offset))
    })
}

/// The `line:column` pest puts in a Liquid parse error (` --> 3:14`).
pub fn parse_error_position(message: &str) -> Option<(usize, usize)> {
    let after = message.split("--> ").nth(1)?;
    let spot: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let (line, column) = spot.split_once(':')?;
    Some((line.parse().ok()?, column.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(json: Value) -> Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn a_vars_path_missing_from_an_environment_is_reported_where_it_is() {
        let dev = vars(serde_json::json!({ "domain": "example.com", "app": { "name": "X" } }));
        let prod = vars(serde_json::json!({ "domain": "example.org" }));
        let all = VarsByEnvironment::from([("dev".into(), &dev), ("prod".into(), &prod)]);
        let source =
            "{{ vars.domain }}\n  {{ vars.domian }} {{ vars.app.name }} {{ vars.x | default: 1 }}";
        let problems = lint_source("t.liquid", source, &all, &|o| {
            Some(scan::line_col(source, o))
        });
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("t.liquid:2:6: vars.domian does not exist in the vars of environments dev, prod (vars has app, domain)"), "{shown:?}");
        assert!(shown[1].starts_with("t.liquid:2:24: vars.app.name does not exist in the vars of environment prod (vars has domain)"), "{shown:?}");
    }

    #[test]
    fn data_loading_filters_are_reported_with_their_position() {
        let all = VarsByEnvironment::new();
        let source = "{% assign u = recipient.id | user %}";
        let problems = lint_source("t", source, &all, &|o| Some(scan::line_col(source, o)));
        assert_eq!(problems.len(), 1);
        assert!(problems[0]
            .to_string()
            .starts_with("t:1:30: the `user` filter reads the hosted service's data store"));
    }

    #[test]
    fn liquid_errors_name_the_variable_and_the_source_shows_where() {
        let unknown_index =
            "liquid: Unknown index with: variable=data requested index=plan available indexes=";
        assert_eq!(variable_of(unknown_index).as_deref(), Some("data.plan"));
        let unknown =
            "liquid: Unknown variable with: requested variable=reciptient available variables=data";
        assert_eq!(variable_of(unknown).as_deref(), Some("reciptient"));
        let source = "Hi\n{{ data.planet }} {{ data.plan | upcase }}";
        let offset = find_variable(source, "data.plan").unwrap();
        assert_eq!(scan::line_col(source, offset), (2, 22));
    }

    #[test]
    fn a_parse_error_position_is_read_from_pests_arrow() {
        let message = "liquid: --> 3:14 | 3 | {% if %} | ^--- expected Expression";
        assert_eq!(parse_error_position(message), Some((3, 14)));
        assert_eq!(parse_error_position("liquid: Unknown filter"), None);
    }

    #[test]
    fn a_layout_that_drops_the_body_is_a_problem() {
        assert!(lint_layout("l", "<p>{{ content }}</p>").is_none());
        assert!(lint_layout("l", "<p>{{ vars.x }}</p>").is_some());
    }
}
