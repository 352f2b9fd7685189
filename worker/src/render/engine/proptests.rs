//! No template text and no job data panics parsing or rendering: every input
//! ends in output or an error.

use proptest::prelude::*;
use serde_json::Value;

use super::{RenderBudget, RenderLimits};
use crate::render::TemplateStore;

/// Pieces of Liquid syntax, so that generated text reaches deep into the
/// parser instead of being plain text.
const SYNTAX: &[&str] = &[
    "{%",
    "%}",
    "{{",
    "}}",
    "{%-",
    "-%}",
    " ",
    "\n",
    "|",
    ":",
    ",",
    "(",
    ")",
    "..",
    "[",
    "]",
    ".",
    "'",
    "\"",
    "=",
    "==",
    "<",
    ">",
    "#",
    "if",
    "endif",
    "for",
    "endfor",
    "in",
    "unless",
    "case",
    "when",
    "else",
    "assign",
    "capture",
    "endcapture",
    "liquid",
    "echo",
    "render",
    "include",
    "tablerow",
    "endtablerow",
    "cycle",
    "raw",
    "endraw",
    "comment",
    "endcomment",
    "doc",
    "enddoc",
    "and",
    "or",
    "contains",
    "limit",
    "offset",
    "reversed",
    "cols",
    "nil",
    "true",
    "empty",
    "blank",
    "data",
    "x",
    "append",
    "plus",
    "divided_by",
    "modulo",
    "slice",
    "sum",
    "base64_decode",
    "find",
    "reject",
    "has",
    "split",
    "join",
    "replace",
    "default",
    "date",
    "size",
    "truncate",
    "sort",
    "where",
    "map",
    "first",
    "-1",
    "0",
    "2.5",
];

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(SYNTAX).prop_map(str::to_owned),
        "[0-9]{1,25}",
        "[a-z_]{1,6}",
        "\\PC{0,4}",
    ]
}

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|parts| parts.concat())
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn parse_and_render(store: &TemplateStore, source: &str, data: Value) {
    let globals = liquid::to_object(&serde_json::json!({ "data": data, "x": [1, 2] })).unwrap();
    if let Ok(template) = store.parse(source) {
        let budget = RenderBudget::new(store.limits());
        let _ = budget.render(&template, &globals);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn no_template_and_no_data_panics(source in template(), data in json()) {
        let limits = RenderLimits {
            max_render_time: std::time::Duration::from_millis(200),
            ..RenderLimits::default()
        };
        let files = [("partials/p.liquid", "{{ x | size }}{% render 'p' %}")];
        let store = TemplateStore::from_files_with("t", files, &limits).unwrap();
        parse_and_render(&store, &source, data);
    }

    #[test]
    fn no_arbitrary_text_panics(source in "\\PC{0,200}") {
        parse_and_render(&TemplateStore::empty(), &source, Value::Null);
    }
}
