//! The Liquid variables of one job (SPEC §4).

use herald_shared::Job;
use liquid::model::{to_value, Value as LiquidValue};
use liquid::Object;
use serde_json::{Map, Value};

/// Builds the globals every template of `job` sees. Attachment contents are
/// left out: templates may list attachments, but never need their bytes.
pub fn job_globals(job: &Job, vars: &Map<String, Value>, timestamp: &str) -> Object {
    let mut recipient = job.recipient.extra.clone();
    recipient.insert("id".into(), job.recipient.id.clone().into());
    for (key, value) in [
        ("email", &job.recipient.email),
        ("name", &job.recipient.name),
    ] {
        recipient.insert(key.into(), value.clone().map_or(Value::Null, Value::String));
    }
    let mut globals = Object::new();
    let mut put = |key: &str, value: &Value| {
        let value = to_value(value).unwrap_or(LiquidValue::Nil);
        globals.insert(key.to_owned().into(), value);
    };
    put("recipient", &Value::Object(recipient));
    put(
        "actor",
        job.actor.as_ref().unwrap_or(&Value::Object(Map::new())),
    );
    put("tenant", job.tenant.as_ref().unwrap_or(&Value::Null));
    put("data", &data_without_contents(&job.data));
    put("vars", &Value::Object(vars.clone()));
    put("workflow", &serde_json::json!({ "key": job.workflow }));
    put("current_message", &serde_json::json!({ "id": job.id }));
    put("timestamp", &Value::String(timestamp.to_owned()));
    globals
}

fn data_without_contents(data: &Value) -> Value {
    let Some(object) = data.as_object() else {
        return Value::Object(Map::new());
    };
    if !object.contains_key("attachments") {
        return data.clone();
    }
    let mut object = object.clone();
    let strip = |a: &mut Value| {
        if let Some(a) = a.as_object_mut() {
            a.remove("content");
        }
    };
    match object.get_mut("attachments") {
        Some(Value::Array(items)) => items.iter_mut().for_each(strip),
        Some(single) => strip(single),
        None => {}
    }
    Value::Object(object)
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
            "data": { "n": 3, "attachments": [{ "name": "x.pdf", "content": "QUJD" }] }
        }))
        .unwrap();
        let vars = serde_json::from_value(serde_json::json!({ "domain": "example.com" })).unwrap();
        let globals = job_globals(&job, &vars, "2026-11-30T12:00:00Z");
        let source = "{{ recipient.name }} {{ recipient.plan }} {{ actor.name }} {{ tenant }} \
            {{ data.n }} {{ data.attachments[0].name }} \
            {{ vars.domain }} {{ workflow.key }} {{ current_message.id }} {{ timestamp }}";
        let template = liquid::ParserBuilder::with_stdlib()
            .build()
            .unwrap()
            .parse(source)
            .unwrap();
        assert_eq!(
            template.render(&globals).unwrap(),
            "Ada pro Grace acme 3 x.pdf example.com welcome m1 2026-11-30T12:00:00Z"
        );
        let contents = liquid::ParserBuilder::with_stdlib().build().unwrap();
        let contents = contents.parse("{{ data.attachments[0].content }}").unwrap();
        assert!(
            contents.render(&globals).is_err(),
            "attachment bytes reach templates"
        );
    }
}
