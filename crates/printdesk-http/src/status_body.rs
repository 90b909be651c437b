//! The body of the status workflow (`POST /jobs/{id}/status`): `{ "status": …, "force": … }`.
//!
//! Checked like a job body: a key other than these two → 400 naming it; `status` not one of
//! the four or `force` not a boolean (`null` included) → 422; then an absent `status` → 400.

use printdesk_domain::{FieldViolation, JobStatus, ValidationErrors};
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    edit_body::STATUS_MESSAGE,
    json_body::{JsonObject, ObjectReader},
    problem::Problem,
};

/// A move in the status workflow (`POST /jobs/{id}/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
// Read by utoipa only (`additionalProperties: false`): `from_body` refuses unknown keys.
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "status": "running" }))]
pub struct StatusChange {
    /// The status to move to.
    pub status: JobStatus,
    /// Confirms the one move that needs it: `completed` → `pending`. Default `false`.
    #[schema(required = false, default = false)]
    pub force: bool,
}

fn refusal(key: &str) -> Option<&'static str> {
    match key {
        "status" | "force" => None,
        _ => Some("is not a field of a status change (use status, force)"),
    }
}

impl StatusChange {
    /// Reads the body: unknown keys (400), wrong types (422), a missing status (400).
    pub fn from_body(body: JsonObject) -> Result<Self, Problem> {
        let mut reader = ObjectReader::new(body);
        reader.refuse_keys(refusal)?;
        let status = reader.parsed("status", STATUS_MESSAGE, |v| match v {
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
        let force = reader.boolean("force");
        reader.finish()?;
        let status = status.ok_or_else(|| {
            let errors = ValidationErrors::single(FieldViolation::new("status", "is required"));
            Problem::validation(&errors)
        })?;
        Ok(Self {
            status,
            force: force.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::problem::ProblemKind;

    #[test]
    fn the_schema_names_exactly_the_members_the_reader_accepts() {
        let properties = crate::openapi::property_names::<StatusChange>();
        assert!(properties.iter().all(|name| refusal(name).is_none()));
        assert!(refusal("forced").is_some());
        assert_eq!(properties, ["status", "force"]);
    }

    fn change(body: Value) -> Result<StatusChange, Problem> {
        let Value::Object(map) = body else {
            panic!("not an object")
        };
        StatusChange::from_body(JsonObject(map))
    }

    fn fields(problem: &Problem) -> Vec<&str> {
        problem.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn reads_status_and_force_defaulting_to_false() {
        assert_eq!(
            change(json!({ "status": "running" })).unwrap(),
            StatusChange {
                status: JobStatus::Running,
                force: false
            }
        );
        assert_eq!(
            change(json!({ "status": "pending", "force": true })).unwrap(),
            StatusChange {
                status: JobStatus::Pending,
                force: true
            }
        );
    }

    #[test]
    fn unknown_keys_are_400_and_named() {
        let problem =
            change(json!({ "status": "running", "forced": true, "notes": "x" })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(fields(&problem), ["forced", "notes"]);
    }

    #[test]
    fn wrong_types_are_422_and_named() {
        let problem = change(json!({ "status": "done", "force": "yes" })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(fields(&problem), ["status", "force"]);
        for body in [json!({ "status": null }), json!({ "status": 1 })] {
            assert_eq!(change(body).unwrap_err().kind(), ProblemKind::WrongType);
        }
        let problem = change(json!({ "status": "running", "force": null })).unwrap_err();
        assert_eq!(fields(&problem), ["force"]);
    }

    #[test]
    fn a_missing_status_is_400() {
        let problem = change(json!({ "force": true })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(fields(&problem), ["status"]);
        assert_eq!(problem.detail(), "status is required");
    }
}
