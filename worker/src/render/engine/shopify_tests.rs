//! Shopify Liquid behaviours where the crate departed: each row of
//! `shopify_cases.json` is a template, job data, and what Shopify's
//! documentation says it prints.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::render::TemplateStore;

const PARTIALS: &[(&str, &str)] = &[
    ("partials/greet.liquid", "Hi {{ name }}"),
    ("partials/item.liquid", "[{{ item }}]"),
    ("partials/product.liquid", "{{ product.title }}"),
    ("partials/row.liquid", "{{ forloop.index }}:{{ row }} "),
    ("w/subject.liquid", "s"),
    ("w/text.liquid", "t"),
];

/// The cases by group, and data that several cases share.
const CASES: &str = include_str!("shopify_cases.json");

#[derive(Deserialize)]
struct Cases {
    /// Data by name; a case whose data is a string uses the entry it names.
    #[serde(rename = "shared data")]
    shared: BTreeMap<String, Value>,
    #[serde(flatten)]
    groups: BTreeMap<String, Vec<Case>>,
}

/// A name, the template, the job data and the output Shopify prints; a case
/// without a name is named by its template.
#[derive(Deserialize)]
#[serde(untagged)]
enum Case {
    Named(String, String, Value, String),
    Unnamed(String, Value, String),
}

fn render(source: &str, data: Value) -> Result<String, String> {
    let store = TemplateStore::from_files("t", PARTIALS.iter().copied()).unwrap();
    let globals = liquid::to_object(&json!({ "data": data })).unwrap();
    let template = store.parse(source).map_err(|e| e.to_string())?;
    store
        .budget()
        .render(&template, &globals)
        .map_err(|e| e.to_string())
}

/// Renders every case of `group` and reports each one that differs.
fn assert_group_renders(group: &str) {
    let mut cases: Cases = serde_json::from_str(CASES).expect("shopify_cases.json");
    let group_cases = cases
        .groups
        .remove(group)
        .unwrap_or_else(|| panic!("no group {group:?} in shopify_cases.json"));
    let mut failures = Vec::new();
    for case in &group_cases {
        let (name, source, data, expected) = match case {
            Case::Named(name, source, data, expected) => (name, source, data, expected),
            Case::Unnamed(source, data, expected) => (source, source, data, expected),
        };
        let data = match data {
            Value::String(shared) => &cases.shared[shared],
            data => data,
        };
        match render(source, data.clone()) {
            Ok(out) if out == *expected => {}
            other => failures.push(format!(
                "{name}: {source:?} gave {other:?}, expected {expected:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{group}: {} of {} failed:\n{}",
        failures.len(),
        group_cases.len(),
        failures.join("\n")
    );
}

/// Absence: `default`, `if`/`unless`, nil-tolerant filters.
#[test]
fn absent_values_are_tolerated_where_shopify_tolerates_them() {
    assert_group_renders("absent values");
}

/// And/or: right to left, equal precedence.
#[test]
fn and_or_evaluate_right_to_left_with_equal_precedence() {
    assert_group_renders("and/or");
}

/// Loops.
#[test]
fn loops_render_as_in_shopify() {
    assert_group_renders("loops");
}

/// Tags.
#[test]
fn tags_render_as_in_shopify() {
    assert_group_renders("tags");
}

/// Filters over arrays: sums, `reject`, `find`, `has`.
#[test]
fn array_filters_render_as_in_shopify() {
    assert_group_renders("array filters");
}

/// The base64 filters, URL-safe ones included.
#[test]
fn base64_filters_render_as_in_shopify() {
    assert_group_renders("base64 filters");
}

/// Text filters: the last occurrence, splitting.
#[test]
fn text_filters_render_as_in_shopify() {
    assert_group_renders("text filters");
}

/// Partials.
#[test]
fn partials_render_as_in_shopify() {
    assert_group_renders("partials");
}

/// Numbers.
#[test]
fn numbers_render_as_in_shopify() {
    assert_group_renders("numbers");
}

/// Standard tags and filters.
#[test]
fn standard_tags_and_filters_behave_as_in_shopify() {
    assert_group_renders("standard tags and filters");
}

#[test]
fn plain_output_of_a_missing_variable_stays_an_error() {
    assert!(render("{{ data.missing }}", json!({})).is_err());
    assert!(render("{% echo data.missing %}", json!({})).is_err());
}

#[test]
fn broken_input_is_an_error_not_a_silent_echo() {
    let errors = [
        "{{ 9223372036854775808 }}",
        "{{ 'not base64!' | base64_decode }}",
        "{% render 'nope' %}",
        "{% for i in (1..3) limit 2 %}{% endfor %}",
        "{{ 5 | divided_by: 0 }}",
        "{{ 5 | modulo: 0 }}",
        "{{ 1e3 }}",
    ];
    for source in errors {
        assert!(render(source, json!({})).is_err(), "{source} rendered");
    }
}

#[test]
fn partials_are_read_from_the_partials_folder_and_reported_when_broken() {
    let store = TemplateStore::from_files("t", PARTIALS.iter().copied()).unwrap();
    assert_eq!(
        store.workflow_names(),
        vec!["w"],
        "partials are not a workflow"
    );
    let broken = [
        ("partials/bad.liquid", "{% if %}"),
        ("w/subject.liquid", "s"),
        ("w/text.liquid", "t"),
    ];
    let problems = TemplateStore::from_files("t", broken).err().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("t/partials/bad.liquid")),
        "{problems:?}"
    );
}
