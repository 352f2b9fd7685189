//! Each hostile input of issue 11 stops at a named limit, quickly and within
//! bounded memory, instead of aborting, overflowing or stalling the worker.

use std::time::{Duration, Instant};

use liquid::{object, Object};

use super::{RenderBudget, RenderLimits, TemplateError};
use crate::render::TemplateStore;

/// Parses and renders `source` with `limits`, timing it.
fn run(source: &str, globals: &Object, limits: &RenderLimits) -> Result<String, TemplateError> {
    let started = Instant::now();
    let store = TemplateStore::empty_with(limits);
    let result = store
        .parse(source)
        .and_then(|t| RenderBudget::new(limits).render(&t, globals));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(peak_rss_mib() < 600, "peak RSS {} MiB", peak_rss_mib());
    result
}

fn limit_of(result: Result<String, TemplateError>) -> &'static str {
    match result {
        Err(TemplateError::Limit { limit, .. }) => limit,
        other => panic!("expected a limit, got {other:?}"),
    }
}

/// Renders `source` under `limits` and checks that the limit named `limit`
/// stops it.
#[track_caller]
fn assert_stops_at(source: &str, globals: &Object, limits: &RenderLimits, limit: &str) {
    assert_eq!(limit_of(run(source, globals, limits)), limit);
}

/// The test process's peak resident memory (VmHWM), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

fn defaults() -> RenderLimits {
    RenderLimits::default()
}

/// Hostile inputs that the default limits stop: what each one is, its
/// template and data, and the limit that stops it.
#[test]
fn hostile_inputs_stop_at_a_named_limit() {
    let kilobyte_line = || object!({ "line": "y".repeat(1024) });
    let cases = [
        (
            "a billion-element range is refused before it is built",
            "{% for i in (1..1000000000) %}x{% endfor %}".to_owned(),
            object!({}),
            "max_range",
        ),
        (
            "append doubling stops at the value size limit",
            "{% assign s = 'ab' %}".to_owned()
                + &"{% assign s = s | append: s %}".repeat(28)
                + "{{ s | size }}",
            object!({}),
            "max_value_bytes",
        ),
        (
            "a five-megabyte template is refused unparsed",
            "x".repeat(5 << 20),
            object!({}),
            "max_template_bytes",
        ),
        (
            "a deep filter chain is refused",
            format!("{{{{ 'a'{} }}}}", " | upcase".repeat(20_000)),
            object!({}),
            "max_nesting_depth",
        ),
        (
            "nested loops stop at the iteration limit",
            "{% for i in (1..20000) %}{% for j in (1..20000) %}{% endfor %}{% endfor %}".to_owned(),
            object!({}),
            "max_loop_iterations",
        ),
        (
            "output past the cap stops the render",
            "{% for i in (1..100000) %}{{ line }}{% endfor %}".to_owned(),
            kilobyte_line(),
            "max_output_bytes",
        ),
        (
            "replacing the empty string is refused before the result is built",
            "{{ text | replace: '', text }}".to_owned(),
            object!({ "text": "z".repeat(100_000) }),
            "max_value_bytes",
        ),
        (
            "capture stops at the value size limit",
            "{% capture c %}{% for i in (1..100000) %}{{ line }}{% endfor %}{% endcapture %}"
                .to_owned(),
            kilobyte_line(),
            "max_value_bytes",
        ),
    ];
    for (case, source, globals, limit) in &cases {
        let outcome = run(source, globals, &defaults()).map(|out| format!("{} bytes", out.len()));
        assert!(
            matches!(&outcome, Err(e) if e.limit_name() == Some(*limit)),
            "{case}: expected {limit}, got {outcome:?}"
        );
    }
}

#[test]
fn ten_thousand_nested_ifs_are_refused_before_parsing() {
    let source = "{%if a%}".repeat(10_000) + &"{%endif%}".repeat(10_000);
    assert!(source.len() < defaults().max_template_bytes);
    let globals = object!({ "a": true });
    assert_stops_at(&source, &globals, &defaults(), "max_nesting_depth");
}

#[test]
fn a_hundred_thousand_nested_ifs_are_refused_even_when_the_size_would_allow_them() {
    let source = "{%if a%}".repeat(100_000) + &"{%endif%}".repeat(100_000);
    let globals = object!({ "a": true });
    assert_stops_at(&source, &globals, &defaults(), "max_template_bytes");
    let roomy = RenderLimits {
        max_template_bytes: 4 << 20,
        ..defaults()
    };
    assert_stops_at(&source, &globals, &roomy, "max_nesting_depth");
}

#[test]
fn nesting_up_to_the_limit_parses_and_renders() {
    let depth = defaults().max_nesting_depth;
    let source = "{%if a%}".repeat(depth) + "deep" + &"{%endif%}".repeat(depth);
    let globals = object!({ "a": true });
    assert_eq!(run(&source, &globals, &defaults()).unwrap(), "deep");
}

#[test]
fn deeply_nested_brackets_are_refused() {
    let source = format!("{{{{ {}a{} }}}}", "a[".repeat(50_000), "]".repeat(50_000));
    let roomy = RenderLimits {
        max_template_bytes: 1 << 20,
        ..defaults()
    };
    assert_stops_at(&source, &object!({}), &roomy, "max_nesting_depth");
}

#[test]
fn a_slow_render_stops_at_the_time_limit() {
    let limits = RenderLimits {
        max_render_time: Duration::from_millis(50),
        max_loop_iterations: u64::MAX,
        ..defaults()
    };
    let items: Vec<i64> = (0..2000).rev().collect();
    let source = "{% for i in (1..100000) %}{{ items | sort | first }}{% endfor %}";
    let started = Instant::now();
    let result = run(source, &object!({ "items": items }), &limits);
    assert_eq!(limit_of(result), "max_render_time");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_partial_that_includes_itself_stops_at_the_partial_depth() {
    let files = [
        ("partials/loop.liquid", "x{% include 'loop' %}"),
        ("w/subject.liquid", "{% render 'loop' %}"),
        ("w/text.liquid", "t"),
    ];
    let store = TemplateStore::from_files("t", files).unwrap();
    let subject = &store.workflow("w").unwrap().subject;
    let result = store.budget().render(subject, &object!({}));
    assert_eq!(limit_of(result), "max_partial_depth");
}

#[test]
fn a_long_and_chain_renders_without_exhausting_the_stack() {
    let terms = vec!["a"; 30_000].join(" and ");
    let source = format!("{{% if {terms} %}}yes{{% endif %}}");
    let globals = object!({ "a": true });
    assert_eq!(run(&source, &globals, &defaults()).unwrap(), "yes");
}

#[test]
fn an_integer_literal_beyond_64_bits_is_a_syntax_error() {
    let result = run("{{ 9223372036854775808 }}", &object!({}), &defaults());
    assert!(
        matches!(result, Err(TemplateError::Syntax(_))),
        "{result:?}"
    );
    assert_eq!(
        run("{{ 9223372036854775807 }}", &object!({}), &defaults()).unwrap(),
        "9223372036854775807"
    );
}

#[test]
fn one_budget_spans_every_render_of_a_job() {
    let limits = RenderLimits {
        max_loop_iterations: 150,
        ..defaults()
    };
    let store = TemplateStore::empty_with(&limits);
    let template = store.parse("{% for i in (1..100) %}{% endfor %}").unwrap();
    let budget = RenderBudget::new(&limits);
    assert!(budget.render(&template, &object!({})).is_ok());
    let second = budget.render(&template, &object!({}));
    assert_eq!(limit_of(second), "max_loop_iterations");
    assert!(RenderBudget::new(&limits)
        .render(&template, &object!({}))
        .is_ok());
}

#[test]
fn a_limit_error_names_the_limit_and_is_told_apart() {
    let err = run(
        "{% for i in (1..1000000000) %}{% endfor %}",
        &object!({}),
        &defaults(),
    )
    .unwrap_err();
    assert!(err.is_limit());
    assert!(err.to_string().contains("max_range: 100000"), "{err}");
    let size = run(&"x".repeat(300_000), &object!({}), &defaults()).unwrap_err();
    assert!(size.to_string().contains("max_template_bytes: "), "{size}");
    let syntax = run("{% if %}", &object!({}), &defaults()).unwrap_err();
    assert!(!syntax.is_limit());
    assert!(
        syntax.to_string().contains("1:"),
        "line:column kept: {syntax}"
    );
}

#[test]
fn the_deepest_allowed_templates_render_on_a_two_megabyte_stack() {
    // every partial nests blocks to the limit and renders the next, down to
    // the partial depth limit: the deepest render the limits allow
    let limits = defaults();
    let depth = limits.max_nesting_depth - 1;
    let nest = |inner: &str| "{%if a%}".repeat(depth) + inner + &"{%endif%}".repeat(depth);
    let mut sources: Vec<(String, String)> = (0..limits.max_partial_depth)
        .map(|i| {
            let next = format!("{{% include 'p{}' %}}", i + 1);
            (format!("partials/p{i}.liquid"), nest(&next))
        })
        .collect();
    sources.push((
        format!("partials/p{}.liquid", limits.max_partial_depth),
        "bottom".into(),
    ));
    sources.push(("w/subject.liquid".into(), nest("{% include 'p1' %}")));
    sources.push(("w/text.liquid".into(), "t".into()));
    let rendered = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let files = sources.iter().map(|(p, s)| (p.as_str(), s.as_str()));
            let store = TemplateStore::from_files_with("t", files, &limits).unwrap();
            let subject = &store.workflow("w").unwrap().subject;
            store.budget().render(subject, &object!({ "a": true }))
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(rendered.unwrap(), "bottom");
}

#[test]
fn the_limits_are_read_from_the_limits_section() {
    let config = r#"
[limits]
max_template_bytes = 4096
max_nesting_depth = 8
max_range = 10
max_value_bytes = 1024
max_output_bytes = 2048
max_render_time = "150ms"
max_partial_depth = 3
"#;
    let settings = crate::settings::Settings::from_toml("t", config, &|_| None).unwrap();
    let limits = settings.limits.render();
    let expected = RenderLimits {
        max_template_bytes: 4096,
        max_nesting_depth: 8,
        max_range: 10,
        max_value_bytes: 1024,
        max_output_bytes: 2048,
        max_render_time: Duration::from_millis(150),
        max_partial_depth: 3,
        ..defaults()
    };
    assert_eq!(
        limits, expected,
        "each key read, max_loop_iterations left at its default"
    );
    let source = "{% for i in (1..11) %}{% endfor %}";
    assert_stops_at(source, &object!({}), &limits, "max_range");
}
