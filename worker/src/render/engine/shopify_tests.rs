//! Shopify Liquid behaviours where the crate departed: each row
//! is a template, job data, and what Shopify's documentation says it prints.

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

fn render(source: &str, data: Value) -> Result<String, String> {
    let store = TemplateStore::from_files("t", PARTIALS.iter().copied()).unwrap();
    let globals = liquid::to_object(&json!({ "data": data })).unwrap();
    let template = store.parse(source).map_err(|e| e.to_string())?;
    store
        .budget()
        .render(&template, &globals)
        .map_err(|e| e.to_string())
}

/// Renders each case (name, template, data, expected output) and reports
/// every one that differs.
fn assert_renders(cases: &[(&str, &str, Value, &str)]) {
    let mut failures = Vec::new();
    for (name, source, data, expected) in cases {
        match render(source, data.clone()) {
            Ok(out) if out == *expected => {}
            other => failures.push(format!(
                "{name}: {source:?} gave {other:?}, expected {expected:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn products() -> Value {
    json!({ "products": [
        { "title": "A", "price": 1, "available": true },
        { "title": "B", "price": 2.5, "available": false },
        { "title": "C", "price": 3, "available": true },
    ]})
}

/// Absence: `default`, `if`/`unless`, nil-tolerant filters.
#[test]
fn absent_values_are_tolerated_where_shopify_tolerates_them() {
    assert_renders(&[
        (
            "default",
            "{{ data.nickname | default: 'there' }}",
            json!({}),
            "there",
        ),
        ("nil plus", "{{ nil | plus: 5 }}", json!({}), "5"),
        ("missing plus", "{{ data.count | plus: 5 }}", json!({}), "5"),
        (
            "missing times",
            "{{ data.count | times: 2 }}",
            json!({}),
            "0",
        ),
        ("missing ceil", "{{ data.n | ceil }}", json!({}), "0"),
        (
            "missing upcase",
            "[{{ data.name | upcase }}]",
            json!({}),
            "[]",
        ),
        (
            "missing append",
            "{{ data.name | append: '!' }}",
            json!({}),
            "!",
        ),
        (
            "if missing",
            "{% if data.vip %}a{% else %}b{% endif %}",
            json!({}),
            "b",
        ),
        (
            "unless missing",
            "{% unless data.vip %}a{% endunless %}",
            json!({}),
            "a",
        ),
        (
            "deep missing",
            "{% if data.a.b.c %}a{% else %}b{% endif %}",
            json!({}),
            "b",
        ),
        (
            "missing == nil",
            "{% if data.x == nil %}nil{% endif %}",
            json!({}),
            "nil",
        ),
        (
            "missing != 1",
            "{% if data.x != 1 %}ne{% endif %}",
            json!({}),
            "ne",
        ),
        (
            "present",
            "{{ data.name | default: 'x' }}",
            json!({"name": "Ada"}),
            "Ada",
        ),
    ]);
}

/// And/or: right to left, equal precedence.
#[test]
fn and_or_evaluate_right_to_left_with_equal_precedence() {
    assert_renders(&[
        (
            "and/or",
            "{% if false and true or true %}t{% else %}f{% endif %}",
            json!({}),
            "f",
        ),
        (
            "or/and",
            "{% if true or false and false %}t{% else %}f{% endif %}",
            json!({}),
            "t",
        ),
        (
            "chain",
            "{% if true and false and false or true %}t{% else %}f{% endif %}",
            json!({}),
            "f",
        ),
    ]);
}

/// Loops.
#[test]
fn loops_render_as_in_shopify() {
    assert_renders(&[
        ("for commas", "{% for i in (1..5) limit: 2, offset: 1 %}{{ i }}{% endfor %}", json!({}), "23"),
        ("for spaces", "{% for i in (1..5) limit: 2 offset: 1 %}{{ i }}{% endfor %}", json!({}), "23"),
        (
            "tablerow",
            "{% tablerow i in (1..3) cols: 2 %}{{ i }}{% endtablerow %}",
            json!({}),
            "<tr class=\"row1\">\n<td class=\"col1\">1</td><td class=\"col2\">2</td></tr>\n<tr class=\"row2\"><td class=\"col1\">3</td></tr>\n",
        ),
        (
            "tablerow one row",
            "{% tablerow i in data.xs %}{{ tablerowloop.col }}{% endtablerow %}",
            json!({"xs": ["a", "b"]}),
            "<tr class=\"row1\">\n<td class=\"col1\">1</td><td class=\"col2\">2</td></tr>\n",
        ),
        ("tablerow empty", "{% tablerow i in data.xs %}{{ i }}{% endtablerow %}", json!({"xs": []}), "<tr class=\"row1\">\n</tr>\n"),
    ]);
}

/// Tags.
#[test]
fn tags_render_as_in_shopify() {
    assert_renders(&[
        (
            "liquid tag",
            "{% liquid\n  assign x = 'hi'\n  echo x | upcase\n%}",
            json!({}),
            "HI",
        ),
        (
            "liquid if",
            "{%- liquid\n if data.n > 1\n  echo 'many'\n else\n  echo 'one'\n endif\n-%}",
            json!({"n": 2}),
            "many",
        ),
        ("echo", "{% echo 'a' | append: 'b' %}", json!({}), "ab"),
        (
            "inline comment",
            "a{% # a comment, 'quoted' %}b",
            json!({}),
            "ab",
        ),
        ("inline comment trim", "a {%- # note -%} b", json!({}), "ab"),
        (
            "doc",
            "a{% doc %}@param {string} x - {% if %}{% enddoc %}b",
            json!({}),
            "ab",
        ),
    ]);
}

/// Filters over arrays: sums, `reject`, `find`, `has`.
#[test]
fn array_filters_render_as_in_shopify() {
    assert_renders(&[
        (
            "sum",
            "{{ data.nums | sum }}",
            json!({"nums": [1, 2, 3]}),
            "6",
        ),
        (
            "sum property",
            "{{ data.products | sum: 'price' }}",
            products(),
            "6.5",
        ),
        (
            "reject",
            "{{ data.products | reject: 'available' | map: 'title' | join: ',' }}",
            products(),
            "B",
        ),
        (
            "reject value",
            "{{ data.products | reject: 'title', 'A' | map: 'title' | join: ',' }}",
            products(),
            "B,C",
        ),
        (
            "find",
            "{% assign p = data.products | find: 'title', 'B' %}{{ p.price }}",
            products(),
            "2.5",
        ),
        (
            "find none",
            "{% assign p = data.products | find: 'title', 'Z' %}{{ p | default: 'none' }}",
            products(),
            "none",
        ),
        (
            "find_index",
            "{{ data.products | find_index: 'title', 'C' }}",
            products(),
            "2",
        ),
        (
            "has",
            "{{ data.products | has: 'available' }}",
            products(),
            "true",
        ),
        (
            "has value",
            "{{ data.products | has: 'title', 'Z' }}",
            products(),
            "false",
        ),
    ]);
}

/// The base64 filters, URL-safe ones included.
#[test]
fn base64_filters_render_as_in_shopify() {
    assert_renders(&[
        (
            "base64_encode",
            "{{ 'one two three' | base64_encode }}",
            json!({}),
            "b25lIHR3byB0aHJlZQ==",
        ),
        (
            "base64_decode",
            "{{ 'b25lIHR3byB0aHJlZQ==' | base64_decode }}",
            json!({}),
            "one two three",
        ),
        (
            "url safe encode",
            "{{ '???>>>' | base64_url_safe_encode }}",
            json!({}),
            "Pz8_Pj4-",
        ),
        (
            "url safe decode",
            "{{ 'Pz8_Pj4-' | base64_url_safe_decode }}",
            json!({}),
            "???>>>",
        ),
        (
            "url safe unpadded",
            "{{ 'b25lIHR3bw' | base64_url_safe_decode }}",
            json!({}),
            "one two",
        ),
    ]);
}

/// Text filters: the last occurrence, splitting.
#[test]
fn text_filters_render_as_in_shopify() {
    assert_renders(&[
        (
            "replace_last",
            "{{ 'a-b-c' | replace_last: '-', '+' }}",
            json!({}),
            "a-b+c",
        ),
        (
            "remove_last",
            "{{ 'a-b-c' | remove_last: '-' }}",
            json!({}),
            "a-bc",
        ),
        (
            "split chars",
            "{{ 'abc' | split: '' | join: '-' }}",
            json!({}),
            "a-b-c",
        ),
        (
            "split trailing",
            "{{ 'a,b,,' | split: ',' | size }}",
            json!({}),
            "2",
        ),
    ]);
}

/// Partials.
#[test]
fn partials_render_as_in_shopify() {
    assert_renders(&[
        (
            "render args",
            "{% render 'greet', name: 'Bo' %}",
            json!({}),
            "Hi Bo",
        ),
        (
            "render for",
            "{% render 'item' for data.list as item %}",
            json!({"list": ["a", "b"]}),
            "[a][b]",
        ),
        (
            "render for default name",
            "{% render 'item' for data.list %}",
            json!({"list": [1, 2]}),
            "[1][2]",
        ),
        (
            "render forloop",
            "{% render 'row' for data.list as row %}",
            json!({"list": ["x", "y"]}),
            "1:x 2:y ",
        ),
        (
            "render with",
            "{% render 'product' with data.p %}",
            json!({"p": {"title": "Hat"}}),
            "Hat",
        ),
        (
            "render with as",
            "{% render 'item' with data.p.title as item %}",
            json!({"p": {"title": "Hat"}}),
            "[Hat]",
        ),
        (
            "include",
            "{% assign name = 'Ada' %}{% include 'greet' %}",
            json!({}),
            "Hi Ada",
        ),
        (
            "include args",
            "{% include 'greet', name: 'Bo' %}",
            json!({}),
            "Hi Bo",
        ),
        (
            "include args no comma",
            "{% include 'greet' name: 'Bo' %}",
            json!({}),
            "Hi Bo",
        ),
        (
            "include with",
            "{% include 'product' with data.p %}",
            json!({"p": {"title": "Hat"}}),
            "Hat",
        ),
        (
            "include with as",
            "{% include 'item' with 'x' as item %}",
            json!({}),
            "[x]",
        ),
    ]);
}

/// Numbers.
#[test]
fn numbers_render_as_in_shopify() {
    assert_renders(&[
        (
            "float round trip",
            "{{ data.x }}",
            json!({"x": 0.30000000000000004}),
            "0.30000000000000004",
        ),
        (
            "big integer",
            "{{ 9223372036854775807 | minus: 1 }}",
            json!({}),
            "9223372036854775806",
        ),
    ]);
}

/// Standard tags and filters: each row is a template, its data (JSON) and
/// what Shopify prints.
const STANDARD: &[(&str, &str, &str)] = &[
    ("{% for i in (1..5) reversed limit: 2 %}{{ i }}{% endfor %}", r#"{}"#, "21"),
    ("{% for i in (1..5) limit: 2 reversed %}{{ i }}{% endfor %}", r#"{}"#, "21"),
    ("{% for c in data.s %}[{{ c }}]{% endfor %}", r#"{"s": "abc"}"#, "[abc]"),
    ("{% for i in (1..3) %}{% for j in (1..2) %}{{ forloop.parentloop.index }}{% endfor %}{% endfor %}", r#"{}"#, "112233"),
    ("{{ false | default: 'x', allow_false: true }}", r#"{}"#, "false"),
    ("{{ '' | default: 'x' }}", r#"{}"#, "x"),
    ("{{ '3' | plus: 1 }}", r#"{}"#, "4"),
    ("{{ 'abc' | plus: 1 }}", r#"{}"#, "1"),
    ("{{ 7 | divided_by: 2 }}", r#"{}"#, "3"),
    ("{{ 7 | divided_by: 2.0 }}", r#"{}"#, "3.5"),
    ("{{ -7 | divided_by: 2 }}", r#"{}"#, "-4"),
    ("{{ 4.6 | round }}", r#"{}"#, "5"),
    ("{{ 4.5612 | round: 2 }}", r#"{}"#, "4.56"),
    ("{{ 'hello' | first }}", r#"{}"#, "h"),
    ("{{ data.a | first }}", r#"{"a": [1,2]}"#, "1"),
    ("{{ data.a | size }}", r#"{"a": [1,2]}"#, "2"),
    ("{{ 'abc' | size }}", r#"{}"#, "3"),
    ("{{ data.a | sort: 'n' | map: 'n' | join: ',' }}", r#"{"a": [{"n": 2}, {"n": 1}]}"#, "1,2"),
    ("{{ data.a | where: 'ok' | size }}", r#"{"a": [{"ok": true}, {"ok": false}]}"#, "1"),
    ("{{ data.a | uniq | join: ',' }}", r#"{"a": [1,1,2]}"#, "1,2"),
    ("{{ 'Ground control' | truncate: 8 }}", r#"{}"#, "Groun..."),
    ("{{ 'Ground control to Major Tom.' | truncatewords: 3 }}", r#"{}"#, "Ground control to..."),
    ("{{ 'a b' | url_encode }}", r#"{}"#, "a+b"),
    ("{{ '<p>x</p>' | escape }}", r#"{}"#, "&lt;p&gt;x&lt;/p&gt;"),
    ("{{ nil | escape }}", r#"{}"#, ""),
    ("{{ 'abc' | slice: -2, 2 }}", r#"{}"#, "bc"),
    ("{{ 1.0 }}", r#"{}"#, "1.0"),
    ("{{ 10 | times: 1.5 }}", r#"{}"#, "15.0"),
    ("{{ data.x }}", r#"{"x": 1.0}"#, "1.0"),
    ("{% assign a = 'x,y' | split: ',' %}{{ a | last }}", r#"{}"#, "y"),
    ("{% case 2 %}{% when 1, 2 %}a{% else %}b{% endcase %}", r#"{}"#, "a"),
    ("{% case 2 %}{% when 1 or 2 %}a{% else %}b{% endcase %}", r#"{}"#, "a"),
    ("{% cycle 'a', 'b' %}{% cycle 'a', 'b' %}{% cycle 'a', 'b' %}", r#"{}"#, "aba"),
    ("{% for i in (1..4) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", r#"{}"#, "12"),
    ("{% increment c %}{% increment c %}", r#"{}"#, "01"),
    ("{% if 'abc' contains 'b' %}y{% endif %}", r#"{}"#, "y"),
    ("{% if data.a contains 2 %}y{% endif %}", r#"{"a": [1,2]}"#, "y"),
    ("{% if data.a == empty %}y{% endif %}", r#"{"a": []}"#, "y"),
    ("{% if data.s == blank %}y{% endif %}", r#"{"s": " "}"#, "y"),
    ("{{ data.h.size }}", r#"{"h": {"a": 1}}"#, "1"),
    ("{{ data.a.first }}", r#"{"a": [5,6]}"#, "5"),
    ("{{ data.a.last }}", r#"{"a": [5,6]}"#, "6"),
    ("{{ data.a.size }}", r#"{"a": [5,6]}"#, "2"),
    ("{{ 'x' | append: nil }}", r#"{}"#, "x"),
    ("{{ data.a | concat: data.b | join: ',' }}", r#"{"a": [1], "b": [2]}"#, "1,2"),
    ("{{ data.a | compact | size }}", r#"{"a": [1, null]}"#, "1"),
    ("{{ 'a' | prepend: 'b' }}", r#"{}"#, "ba"),
    ("{{ 'ab' | remove: 'a' }}", r#"{}"#, "b"),
    ("{{ data.a | sum }}", r#"{"a": ["1", 2]}"#, "3"),
    ("{{ 'A b' | downcase | capitalize }}", r#"{}"#, "A b"),
    ("{{ 5 | at_most: 3 }}", r#"{}"#, "3"),
    ("{{ 'x' | default: 'y' }}", r#"{}"#, "x"),
    ("{% unless false %}a{% else %}b{% endunless %}", r#"{}"#, "a"),
    ("{% if 1 > 0 %}{% elsif x %}{% endif %}ok", r#"{}"#, "ok"),
    ("{%- if true -%}  a  {%- endif -%}", r#"{}"#, "a"),
    ("{% for i in (1..3) %}{{ forloop.length }}{{ forloop.rindex }}{% endfor %}", r#"{}"#, "333231"),
    ("{% for i in (data.n..2) %}{{ i }}{% endfor %}", r#"{}"#, "012"),
    ("{% for i in (1..data.m) %}{{ i }}{% endfor %}", r#"{"m": "3"}"#, "123"),
    ("{% for i in (1..4) %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}", r#"{}"#, "134"),
    ("{% for i in (1..3) %}{% cycle 'g': 'a', 'b' %}{% endfor %}", r#"{}"#, "aba"),
    ("{% for i in data.a %}{% ifchanged %}{{ i }}{% endifchanged %}{% endfor %}", r#"{"a": [1,1,2]}"#, "12"),
    ("{% for i in (1..3) reversed %}{{ i }}{% endfor %}", r#"{}"#, "321"),
    ("{% for i in (1..3) limit: 0 %}{{ i }}{% else %}e{% endfor %}", r#"{}"#, "e"),
    ("{% for i in (1..3) limit:2 %}{{ i }}{% endfor %}", r#"{}"#, "12"),
    ("{% for i in data.a offset: 2 %}{{ i }}{% endfor %}", r#"{"a": [1,2,3]}"#, "3"),
    ("{% for i in (1..2) %}{% for j in (1..2) %}{{ forloop.parentloop.index }}{{ j }} {% endfor %}{% endfor %}", r#"{}"#, "11 12 21 22 "),
    ("{{ data.a | slice: 1, 2 | join: ',' }}", r#"{"a": [1,2,3]}"#, "2,3"),
    ("{{ data.a | sort_natural | join: ',' }}", r#"{"a": ["b","A","c"]}"#, "A,b,c"),
    ("{{ data.a | where: 'k', 'x' | size }}", r#"{"a": [{"k": "x"}, {"k": "y"}]}"#, "1"),
    ("{{ data.a | first | default: 'none' }}", r#"{"a": []}"#, "none"),
    ("{{ data.a | join }}", r#"{"a": [1,2]}"#, "1 2"),
    ("{{ '-3' | abs }}", r#"{}"#, "3"),
    ("{{ 'Hello' | truncate: 3, '' }}", r#"{}"#, "Hel"),
    ("{{ 'a\nb' | newline_to_br }}", r#"{}"#, "a<br />\nb"),
    ("{{ '&lt;' | escape_once }}", r#"{}"#, "&lt;"),
    ("{{ data.a | map: 'x' | compact | size }}", r#"{"a": [{"x": 1}, {}]}"#, "1"),
    ("{{ 3.14159 | round: 2 }}", r#"{}"#, "3.14"),
    ("{{ 2 | round }}", r#"{}"#, "2"),
    ("{{ 1.5 | ceil }}", r#"{}"#, "2"),
    ("{{ 10 | divided_by: 4.0 }}", r#"{}"#, "2.5"),
    ("{{ 0.1 | plus: 0.2 }}", r#"{}"#, "0.30000000000000004"),
    ("{{ 5 | minus: 7.0 }}", r#"{}"#, "-2.0"),
    ("{{ data.t }}", r#"{"t": true}"#, "true"),
    ("{{ data.n }}", r#"{"n": null}"#, ""),
    ("{{ data.a }}", r#"{"a": [1, 2]}"#, "12"),
    ("{{ data.a | size | plus: 1 }}", r#"{"a": "xy"}"#, "3"),
    ("{% if data.a.size > 1 %}y{% endif %}", r#"{"a": [1,2]}"#, "y"),
    ("{% if data.s contains 'x' %}y{% else %}n{% endif %}", r#"{}"#, "n"),
    ("{% if nil == false %}y{% else %}n{% endif %}", r#"{}"#, "n"),
    ("{% if '' %}y{% else %}n{% endif %}", r#"{}"#, "y"),
    ("{% if 0 %}y{% else %}n{% endif %}", r#"{}"#, "y"),
    ("{% case data.x %}{% when nil %}nil{% else %}other{% endcase %}", r#"{}"#, "nil"),
    ("{% capture x %}a{{ 1 | plus: 1 }}{% endcapture %}{{ x }}", r#"{}"#, "a2"),
    ("{% raw %}{{ x }}{% endraw %}", r#"{}"#, "{{ x }}"),
    ("{% comment %}{% if %}{% endcomment %}ok", r#"{}"#, "ok"),
    ("{{ 'x' | upcase }}{{- ' ' -}}{{ 'y' }}", r#"{}"#, "X y"),
    ("{% decrement d %}{% decrement d %}", r#"{}"#, "-1-2"),
    ("{{ 'abc' | slice: 1 }}", r#"{}"#, "b"),
    ("{{ data.a | slice: -1 | join }}", r#"{"a": [1,2,3]}"#, "3"),
    ("{{ 'hello world' | capitalize }}", r#"{}"#, "Hello world"),
    ("{{ 'HELLO' | capitalize }}", r#"{}"#, "Hello"),
    ("{{ '  x  ' | strip }}|", r#"{}"#, "x|"),
    ("{{ 'a,b' | split: ',' | reverse | join: ',' }}", r#"{}"#, "b,a"),
    ("{{ 'x' | times: 2 }}", r#"{}"#, "0"),
    ("{{ 1 | plus: '2' }}", r#"{}"#, "3"),
    ("{{ '1.5' | plus: 1 }}", r#"{}"#, "2.5"),
    ("{{ 183.357 | round: 1 }}", r#"{}"#, "183.4"),
    ("{{ -5.5 | abs }}", r#"{}"#, "5.5"),
    ("{{ data.a | map: 'n' | sum }}", r#"{"a": [{"n": 1}, {"n": 2}]}"#, "3"),
    ("{{ 'Tom & Jerry' | escape }}", r#"{}"#, "Tom &amp; Jerry"),
    ("{{ \"it's\" | escape }}", r#"{}"#, "it&#39;s"),
    ("{{ '<b>x</b>' | strip_html }}", r#"{}"#, "x"),
    ("{{ 'a\nb' | strip_newlines }}", r#"{}"#, "ab"),
    ("{{ 'one two' | truncatewords: 1 }}", r#"{}"#, "one..."),
    ("{{ 'one two' | truncatewords: 5 }}", r#"{}"#, "one two"),
    ("{{ 'abcdef' | truncate: 5 }}", r#"{}"#, "ab..."),
    ("{{ 'ab' | truncate: 5 }}", r#"{}"#, "ab"),
    ("{{ '%27' | url_decode }}", r#"{}"#, "'"),
    ("{{ 'a+b' | url_decode }}", r#"{}"#, "a b"),
    ("{{ data.a | sort | join }}", r#"{"a": [3, 1, 2]}"#, "1 2 3"),
    ("{{ data.a | sort: 'n' | first | map: 'n' }}", r#"{"a": [{"n": 2}, {"n": 1}]}"#, "1"),
    ("{{ data.a | compact: 'n' | size }}", r#"{"a": [{"n": 1}, {"n": null}]}"#, "1"),
    ("{{ nil | size }}", r#"{}"#, "0"),
    ("{{ data.a | last }}", r#"{"a": []}"#, ""),
    ("{{ 'x' | at_least: 5 }}", r#"{}"#, "5"),
    ("{{ data.f | floor }}", r#"{"f": 2.7}"#, "2"),
    ("{{ 4 | divided_by: 2 }}", r#"{}"#, "2"),
    ("{{ 6.0 | divided_by: 4 }}", r#"{}"#, "1.5"),
    ("{{ 20 | minus: 0.5 }}", r#"{}"#, "19.5"),
    ("{{ 3 | times: 0.5 }}", r#"{}"#, "1.5"),
    ("{{ 'abc' | remove_first: 'b' }}", r#"{}"#, "ac"),
    ("{{ 'aXbX' | replace_first: 'X', '-' }}", r#"{}"#, "a-bX"),
    ("{{ 'a' | append: 1 }}", r#"{}"#, "a1"),
    ("{{ data.a | join: ', ' | upcase }}", r#"{"a": ["x", "y"]}"#, "X, Y"),
];

#[test]
fn standard_tags_and_filters_behave_as_in_shopify() {
    let cases: Vec<_> = STANDARD
        .iter()
        .map(|(source, data, expected)| {
            let data = serde_json::from_str(data).expect("the row's data is JSON");
            (*source, *source, data, *expected)
        })
        .collect();
    assert_renders(&cases);
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
