//! JSON Schemas (draft 2020-12) of the job and of the status events, for
//! producers and consumers written in other languages.

/// Schema of a notification job body.
pub const JOB_SCHEMA: &str = include_str!("../schema/job.schema.json");

/// Schema of a status event body.
pub const EVENT_SCHEMA: &str = include_str!("../schema/event.schema.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schemas_are_json_and_require_what_the_types_require() {
        let job: serde_json::Value = serde_json::from_str(JOB_SCHEMA).unwrap();
        assert_eq!(
            job["required"],
            serde_json::json!(["id", "environment", "workflow", "recipient"])
        );
        let closed = serde_json::Value::Bool(false);
        assert_eq!(job["additionalProperties"], closed, "unknown job fields");
        assert_eq!(
            job["properties"]["overrides"]["additionalProperties"],
            closed
        );
        for open in ["recipient", "data"] {
            assert_eq!(
                job["properties"][open]["additionalProperties"], true,
                "{open}"
            );
        }
        let event: serde_json::Value = serde_json::from_str(EVENT_SCHEMA).unwrap();
        let types = event["properties"]["type"]["enum"].as_array().unwrap();
        assert_eq!(types.len(), crate::EventType::ALL.len());
        for kind in crate::EventType::ALL {
            assert!(types.contains(&kind.as_str().into()), "{}", kind.as_str());
        }
    }
}
