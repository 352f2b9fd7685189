//! JSON overrides of the `SendEmail` request: the environment's
//! `json_overrides`, then the job's `overrides.json`, both Liquid in every
//! string, deep-merged over what Herald computed.

use liquid::{Object, Template};
use serde_json::{Map, Value};

use super::fields::{self, RequestFields, Tag};
use crate::render::{RenderBudget, RenderError, TemplateStore};

/// A JSON override that does not fit the `SendEmail` request, or does not
/// render: `path` names the field (`Destination.ToAddresses`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("`{path}`: ") })]
pub struct OverrideError {
    pub path: String,
    pub message: String,
    /// The render limit a template in the overrides reached, if that is why.
    pub limit: Option<&'static str>,
}

impl OverrideError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> OverrideError {
        OverrideError {
            path: path.into(),
            message: message.into(),
            limit: None,
        }
    }

    /// The render error of the job field or setting these overrides came from.
    pub fn at(self, field: &str) -> RenderError {
        match self.limit {
            Some(limit) => RenderError::Limit {
                field: field.to_owned(),
                limit,
                message: self.to_string(),
            },
            None => crate::render::invalid(field, self.to_string()),
        }
    }
}

/// A JSON tree whose strings are parsed Liquid templates.
pub enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Text(Template),
    Literal(Value),
}

impl Node {
    /// Parses a JSON object of overrides: checks every field name and type
    /// against the request, and parses every string as Liquid.
    pub fn parse(store: &TemplateStore, json: &Value) -> Result<Node, OverrideError> {
        if !json.is_object() {
            return Err(OverrideError::new("", "must be a JSON object"));
        }
        fields::from_json(json.clone())?;
        Node::build(store, json, "")
    }

    fn build(store: &TemplateStore, json: &Value, path: &str) -> Result<Node, OverrideError> {
        Ok(match json {
            Value::Object(map) => Node::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), Node::build(store, v, &join(path, k))?)))
                    .collect::<Result<_, OverrideError>>()?,
            ),
            Value::Array(items) => Node::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Node::build(store, v, &format!("{path}[{i}]")))
                    .collect::<Result<_, OverrideError>>()?,
            ),
            Value::String(s) => Node::Text(
                store
                    .parse(s)
                    .map_err(|e| OverrideError::new(path, e.to_string()))?,
            ),
            other => Node::Literal(other.clone()),
        })
    }

    /// The JSON this tree renders to with a job's variables.
    /// Renders with the job's `budget`, the allowance its templates share.
    pub fn render(&self, budget: &RenderBudget, globals: &Object) -> Result<Value, OverrideError> {
        self.render_at(budget, globals, "")
    }

    fn render_at(
        &self,
        budget: &RenderBudget,
        globals: &Object,
        path: &str,
    ) -> Result<Value, OverrideError> {
        Ok(match self {
            Node::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render_at(budget, globals, &join(path, k))?)))
                    .collect::<Result<Map<_, _>, OverrideError>>()?,
            ),
            Node::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.render_at(budget, globals, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Text(t) => {
                Value::String(budget.render(t, globals).map_err(|e| OverrideError {
                    path: path.to_owned(),
                    message: e.to_string(),
                    limit: e.limit_name(),
                })?)
            }
            Node::Literal(v) => v.clone(),
        })
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Applies each override in turn: objects merge field by field, `null`
/// removes a field, other values replace; `EmailTags` merge by `Name`.
pub fn apply(base: RequestFields, overrides: &[Value]) -> Result<RequestFields, OverrideError> {
    if overrides.is_empty() {
        return Ok(base);
    }
    let mut merged = serde_json::to_value(&base).expect("request fields serialise");
    for layer in overrides {
        merge_layer(&mut merged, layer);
    }
    let fields = fields::from_json(merged)?;
    let list = fields.list_management_options.as_ref();
    if list.is_some_and(|l| l.contact_list_name.is_none()) {
        return Err(OverrideError::new(
            "ListManagementOptions.ContactListName",
            "missing field",
        ));
    }
    Ok(fields)
}

fn merge_layer(base: &mut Value, layer: &Value) {
    let (Value::Object(base), Value::Object(layer)) = (base, layer) else {
        return;
    };
    for (key, value) in layer.clone() {
        if key == "EmailTags" {
            merge_tags(base.entry(key).or_insert(Value::Array(Vec::new())), value);
        } else {
            merge_value(base, key, value);
        }
    }
}

fn merge_value(base: &mut Map<String, Value>, key: String, value: Value) {
    match (base.get_mut(&key), value) {
        (_, Value::Null) => {
            base.remove(&key);
        }
        (Some(Value::Object(inner)), Value::Object(layer)) => {
            for (k, v) in layer {
                merge_value(inner, k, v);
            }
        }
        (_, value) => {
            base.insert(key, value);
        }
    }
}

fn merge_tags(base: &mut Value, layer: Value) {
    if let (Some(tags), Some(new)) = (base.as_array_mut(), layer.as_array()) {
        for tag in new {
            let name = tag.get("Name");
            tags.retain(|t| name.is_none() || t.get("Name") != name);
            tags.push(tag.clone());
        }
        return;
    }
    *base = layer;
}

/// Makes every tag fit SES's rules.
pub fn sanitize_tags(fields: &mut RequestFields) {
    use herald_shared::tags::sanitize_tag_value;
    for Tag { name, value } in fields.email_tags.iter_mut().flatten() {
        *name = sanitize_tag_value(name);
        *value = sanitize_tag_value(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::fields::Destination;
    use serde_json::json;

    fn base() -> RequestFields {
        RequestFields {
            from_email_address: Some("a@example.com".into()),
            destination: Some(Destination {
                to_addresses: vec!["to@example.com".into()],
                ..Default::default()
            }),
            email_tags: Some(vec![Tag {
                name: "sender".into(),
                value: "herald".into(),
            }]),
            configuration_set_name: Some("base".into()),
            ..Default::default()
        }
    }

    #[test]
    fn layers_deep_merge_in_order_and_tags_merge_by_name() {
        let env = json!({ "ConfigurationSetName": "marketing", "Destination": { "CcAddresses": ["cc@example.com"] },
                          "EmailTags": [{ "Name": "team", "Value": "growth" }] });
        let job = json!({ "ConfigurationSetName": null, "EmailTags": [{ "Name": "team", "Value": "core" }],
                          "ListManagementOptions": { "ContactListName": "news" } });
        let merged = apply(base(), &[env, job]).unwrap();
        assert_eq!(merged.configuration_set_name, None);
        let destination = merged.destination.unwrap();
        assert_eq!(destination.to_addresses, ["to@example.com"]);
        assert_eq!(destination.cc_addresses, ["cc@example.com"]);
        let tags = merged.email_tags.unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(
            tags[1],
            Tag {
                name: "team".into(),
                value: "core".into()
            }
        );
        assert_eq!(
            merged
                .list_management_options
                .unwrap()
                .contact_list_name
                .as_deref(),
            Some("news")
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_name_the_field() {
        let store = TemplateStore::empty();
        let unknown = Node::parse(&store, &json!({ "ConfigurationSetNam": "x" }))
            .err()
            .unwrap()
            .to_string();
        assert!(unknown.contains("ConfigurationSetNam"), "{unknown}");
        let content = Node::parse(&store, &json!({ "Content": {} }))
            .err()
            .unwrap()
            .to_string();
        assert!(content.contains("Content"), "{content}");
        let typed = Node::parse(
            &store,
            &json!({ "Destination": { "ToAddresses": "a@b.c" } }),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(typed.starts_with("`Destination.ToAddresses`"), "{typed}");
        let topic_only = json!({ "ListManagementOptions": { "TopicName": "t" } });
        Node::parse(&store, &topic_only).unwrap();
        let nested = apply(base(), &[topic_only]).err().unwrap().to_string();
        assert!(nested.contains("ContactListName"), "{nested}");
        assert!(Node::parse(&store, &json!(["x"])).is_err());
    }

    #[test]
    fn strings_are_liquid() {
        let store = TemplateStore::empty();
        let node = Node::parse(&store, &json!({ "ConfigurationSetName": "{{ vars.set }}", "EmailTags": [{ "Name": "n", "Value": "{{ vars.set }}" }] })).unwrap();
        let mut globals = Object::new();
        let vars: Object = [("set".into(), liquid::model::Value::scalar("promo"))]
            .into_iter()
            .collect();
        globals.insert("vars".into(), liquid::model::Value::Object(vars));
        assert_eq!(
            node.render(&store.budget(), &globals).unwrap()["ConfigurationSetName"],
            "promo"
        );
    }
}
