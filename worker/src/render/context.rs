//! The Liquid variables of one job (SPEC §4).

use herald_shared::Job;
use liquid::model::{to_value, Value as LiquidValue};
use liquid::Object;
use serde_json::Value;

/// Builds the globals every template of `job` sees. Attachment contents are
/// left out: templates may list attachments, but never need their bytes, so
/// they are skipped while converting rather than copied and then dropped.
pub fn job_globals(job: &Job, vars: &LiquidValue, timestamp: &str) -> Object {
    let mut recipient = Object::new();
    for (key, value) in &job.recipient.extra {
        recipient.insert(key.clone().into(), liquid(value));
    }
    recipient.insert("id".into(), LiquidValue::scalar(job.recipient.id.clone()));
    for (key, value) in [
        ("email", &job.recipient.email),
        ("name", &job.recipient.name),
    ] {
        let value = value.clone().map_or(LiquidValue::Nil, LiquidValue::scalar);
        recipient.insert(key.into(), value);
    }
    let actor = job
        .actor
        .as_ref()
        .map_or(LiquidValue::Object(Object::new()), liquid);
    let mut globals = Object::new();
    globals.insert("recipient".into(), LiquidValue::Object(recipient));
    globals.insert("actor".into(), actor);
    globals.insert("tenant".into(), tenant(job.tenant.as_ref()));
    globals.insert("data".into(), data_without_contents(&job.data));
    globals.insert("vars".into(), vars.clone());
    let key = |k: &'static str, v: &str| [(k.into(), LiquidValue::scalar(v.to_owned()))];
    globals.insert("workflow".into(), object(key("key", &job.workflow)));
    globals.insert("current_message".into(), object(key("id", &job.id)));
    globals.insert(
        "timestamp".into(),
        LiquidValue::scalar(timestamp.to_owned()),
    );
    batch_and_locale(job, &mut globals);
    globals
}

/// The job's `locale` and the hosted original's batch variables, when given.
fn batch_and_locale(job: &Job, globals: &mut Object) {
    if let Some(locale) = &job.locale {
        globals.insert("locale".into(), LiquidValue::scalar(locale.clone()));
    }
    for (key, value) in [("activities", &job.activities), ("actors", &job.actors)] {
        if let Some(value) = value {
            globals.insert(key.into(), liquid(value));
        }
    }
    let totals = [
        ("total_activities", job.total_activities),
        ("total_actors", job.total_actors),
    ];
    for (key, count) in totals {
        if let Some(n) = count {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            globals.insert(key.into(), LiquidValue::scalar(n));
        }
    }
}

fn object<const N: usize>(fields: [(liquid::model::KString, LiquidValue); N]) -> LiquidValue {
    LiquidValue::Object(fields.into_iter().collect())
}

/// `tenant` as the hosted original gives it: a string is the tenant's id.
fn tenant(value: Option<&Value>) -> LiquidValue {
    match value {
        Some(Value::String(id)) => object([("id".into(), LiquidValue::scalar(id.clone()))]),
        Some(other) => liquid(other),
        None => LiquidValue::Nil,
    }
}

/// Converts JSON to Liquid. serde_json bounds the nesting of parsed input, so
/// the recursion is bounded too.
fn liquid(value: &Value) -> LiquidValue {
    to_value(value).unwrap_or(LiquidValue::Nil)
}

fn data_without_contents(data: &Value) -> LiquidValue {
    let Some(fields) = data.as_object() else {
        return LiquidValue::Object(Object::new());
    };
    let without_content = |a: &Value| match a.as_object() {
        Some(a) => LiquidValue::Object(
            a.iter()
                .filter(|(k, _)| k.as_str() != "content")
                .map(|(k, v)| (k.clone().into(), liquid(v)))
                .collect(),
        ),
        None => liquid(a),
    };
    let converted = fields.iter().map(|(key, value)| {
        let value = match (key.as_str(), value) {
            ("attachments", Value::Array(items)) => {
                LiquidValue::Array(items.iter().map(without_content).collect())
            }
            ("attachments", single) => without_content(single),
            _ => liquid(value),
        };
        (key.clone().into(), value)
    });
    LiquidValue::Object(converted.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_variable_is_available() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "id": "m1", "environment": "dev", "workflow": "welcome",
            "recipient": { "id": "u1", "email": "a@b.c", "name": "Ada", "plan": "pro" },
            "actor": { "name": "Grace" }, "tenant": "acme",
            "data": { "n": 3, "attachments": [{ "name": "x.pdf", "content": "QUJD" }] },
            "locale": "fr", "activities": [{ "id": "a1" }, { "id": "a2" }], "actors": [{ "name": "Grace" }],
            "total_activities": 2, "total_actors": 1
        }))
        .unwrap();
        let vars = to_value(&serde_json::json!({ "domain": "example.com" })).unwrap();
        let globals = job_globals(&job, &vars, "2026-11-30T12:00:00Z");
        let source = "{{ recipient.name }} {{ recipient.plan }} {{ actor.name }} {{ tenant.id }} \
            {{ data.n }} {{ data.attachments[0].name }} \
            {{ vars.domain }} {{ workflow.key }} {{ current_message.id }} {{ timestamp }} \
            {{ locale }} {{ activities[1].id }} {{ actors[0].name }} {{ total_activities }} {{ total_actors }}";
        let template = liquid::ParserBuilder::with_stdlib()
            .build()
            .unwrap()
            .parse(source)
            .unwrap();
        assert_eq!(
            template.render(&globals).unwrap(),
            "Ada pro Grace acme 3 x.pdf example.com welcome m1 2026-11-30T12:00:00Z fr a2 Grace 2 1"
        );
        let contents = liquid::ParserBuilder::with_stdlib().build().unwrap();
        let contents = contents.parse("{{ data.attachments[0].content }}").unwrap();
        assert!(
            contents.render(&globals).is_err(),
            "attachment bytes reach templates"
        );
    }
}
