//! The body of the bulk edit (`POST /jobs/bulk-edit`):
//! `{ "ids": [...], "changes": { …job fields… }, "if_versions": { "<id>": <version> } }`.
//!
//! Checked in this order, the first failing step answering:
//! 1. a top-level key other than `ids`, `changes`, `if_versions` → 400 naming each;
//! 2. `ids` not an array of strings, `changes` not an object, `if_versions` not an object of
//!    whole numbers → 422 naming each;
//! 3. `changes` read exactly like the body of the job edit ([`JobFields`]): keys that are not
//!    editable → 400, wrong JSON types → 422 (field names are the job's, e.g. `job_name`);
//! 4. `ids` or `changes` absent, an id or an `if_versions` key that is not a UUID → 400, every
//!    one named.
//!
//! The request's own rules (1–500 ids, no duplicates, `if_versions` naming only listed ids) are
//! the domain's ([`printdesk_domain::JobService::bulk_edit`]) and also answer 400.

use std::collections::HashMap;

use printdesk_domain::{FieldViolation, JobId, JobPatch, ValidationErrors, Version};
use serde_json::Value;
use utoipa::{
    ToSchema,
    openapi::{
        KnownFormat, SchemaFormat,
        schema::{ObjectBuilder, Type},
    },
};

use crate::{
    edit_body::JobFields,
    json_body::{JsonObject, ObjectReader},
    problem::Problem,
};

fn refusal(key: &str) -> Option<&'static str> {
    match key {
        "ids" | "changes" | "if_versions" => None,
        _ => Some("is not a field of a bulk edit (use ids, changes, if_versions)"),
    }
}

/// A JSON number that is a whole number within `i64`. JSON Schema's `integer` includes `3.0`
/// (and some serialisers write whole numbers that way), so it is read as 3.
fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let n = value.as_f64()?;
        // `i64::MAX as f64` rounds up to 2^63, which is out of range: hence `<`.
        let in_range = (i64::MIN as f64..i64::MAX as f64).contains(&n);
        (n.fract() == 0.0 && in_range).then_some(n as i64)
    })
}

fn not_a_job_id(field: &str, raw: &str) -> FieldViolation {
    FieldViolation::new(field, format!("names '{raw}', which is not a job id"))
}

/// One change to many jobs (`POST /jobs/bulk-edit`), all or nothing, as the domain takes it.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
// Read by utoipa only (`additionalProperties: false`): `from_body` refuses unknown keys.
#[serde(deny_unknown_fields)]
#[schema(
    description = "One change to many jobs (`POST /jobs/bulk-edit`), all or nothing.",
    example = json!({
        "ids": ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190a1b3-c3d4-7e5f-8a9b-0c1d2e3f4a5b"],
        "changes": { "is_business": true, "customer_name": "ACME" },
        "if_versions": { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b": 3 }
    })
)]
pub struct BulkEdit {
    /// The jobs, 1–500 distinct ids. The response lists them in this order.
    #[schema(value_type = Vec<uuid::Uuid>, min_items = 1, max_items = 500)]
    pub ids: Vec<JobId>,
    /// The change every job takes, read exactly like the body of the edit.
    #[schema(rename = "changes", value_type = JobFields)]
    pub patch: JobPatch,
    /// For the jobs it names (each one of `ids`), the version the client saw: the bulk
    /// edit's `If-Match`.
    #[schema(required = false, schema_with = if_versions_schema)]
    pub if_versions: HashMap<JobId, Version>,
}

/// `if_versions`: an object from job ids to versions.
fn if_versions_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "For the jobs it names (each one of `ids`), the version the client saw: the bulk \
             edit's `If-Match`.",
        ))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::Custom("uuid".into()))),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
        ))
}

impl BulkEdit {
    /// Reads the body (see the module's documentation for the order of checks).
    pub fn from_body(body: JsonObject) -> Result<Self, Problem> {
        let mut reader = ObjectReader::new(body);
        reader.refuse_keys(refusal)?;
        let ids = reader.parsed(
            "ids",
            "must be an array of job ids (strings)",
            |v| match v {
                Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            },
        );
        let changes = reader.parsed("changes", "must be an object of job fields", |v| match v {
            Value::Object(map) => Some(JsonObject(map)),
            _ => None,
        });
        let if_versions = reader.parsed(
            "if_versions",
            "must be an object mapping job ids to versions (whole numbers)",
            |v| match v {
                Value::Object(map) => map
                    .into_iter()
                    .map(|(id, version)| whole_number(&version).map(|n| (id, Version::new(n))))
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            },
        );
        reader.finish()?;
        let patch = changes.map(JobFields::from_body).transpose()?;

        let mut violations = Vec::new();
        let ids: Vec<JobId> = match ids {
            None => {
                violations.push(FieldViolation::new("ids", "is required"));
                Vec::new()
            }
            Some(raw) => raw
                .iter()
                .filter_map(|s| match s.parse() {
                    Ok(id) => Some(id),
                    Err(_) => {
                        violations.push(not_a_job_id("ids", s));
                        None
                    }
                })
                .collect(),
        };
        let if_versions: HashMap<JobId, Version> = if_versions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(raw, version)| match raw.parse() {
                Ok(id) => Some((id, version)),
                Err(_) => {
                    violations.push(not_a_job_id("if_versions", &raw));
                    None
                }
            })
            .collect();
        if patch.is_none() {
            violations.push(FieldViolation::new("changes", "is required"));
        }
        if let Some(errors) = ValidationErrors::from_violations(violations) {
            return Err(Problem::validation(&errors));
        }
        Ok(Self {
            ids,
            // Present: its absence is a violation above.
            patch: patch.unwrap_or_default().into_patch(),
            if_versions,
        })
    }
}

#[cfg(test)]
mod tests {
    use printdesk_domain::Nullable;
    use serde_json::json;

    use super::*;
    use crate::problem::ProblemKind;

    const A: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    const B: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";

    #[test]
    fn the_schema_names_exactly_the_members_the_reader_accepts() {
        let properties = crate::openapi::property_names::<BulkEdit>();
        assert!(properties.iter().all(|name| refusal(name).is_none()));
        assert!(refusal("patch").is_some());
        assert_eq!(properties, ["ids", "changes", "if_versions"]);
    }

    fn bulk(body: Value) -> Result<BulkEdit, Problem> {
        let Value::Object(map) = body else {
            panic!("not an object")
        };
        BulkEdit::from_body(JsonObject(map))
    }

    fn fields(problem: &Problem) -> Vec<&str> {
        problem.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn reads_ids_in_order_changes_and_versions() {
        let edit = bulk(json!({
            "ids": [B, A],
            "changes": { "customer_name": "ACME", "notes": null },
            "if_versions": { A: 3 }
        }))
        .unwrap();
        assert_eq!(edit.ids, [B.parse().unwrap(), A.parse().unwrap()]);
        assert_eq!(edit.patch.customer_name, Nullable::Set("ACME".into()));
        assert_eq!(edit.patch.notes, Nullable::Clear);
        assert!(edit.patch.job_name.is_none());
        assert_eq!(
            edit.if_versions,
            HashMap::from([(A.parse().unwrap(), Version::new(3))])
        );
    }

    #[test]
    fn a_version_written_as_a_whole_float_is_that_version() {
        // JSON Schema's `integer` includes 3.0; the document says `integer`.
        let edit = bulk(json!({ "ids": [A], "changes": {}, "if_versions": { A: 3.0 } })).unwrap();
        assert_eq!(edit.if_versions[&A.parse().unwrap()], Version::new(3));
        for out_of_range in [
            json!(1e19),
            json!(-1e19),
            json!(18_446_744_073_709_551_615_u64),
        ] {
            let body = json!({ "ids": [A], "changes": {}, "if_versions": { A: out_of_range } });
            assert_eq!(bulk(body).unwrap_err().kind(), ProblemKind::WrongType);
        }
    }

    #[test]
    fn unknown_top_level_keys_are_400() {
        let problem = bulk(json!({ "ids": [A], "changes": {}, "job_name": "x" })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(fields(&problem), ["job_name"]);
    }

    #[test]
    fn wrong_shapes_are_422() {
        let problem =
            bulk(json!({ "ids": [A, 7], "changes": [], "if_versions": { A: "3" } })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(fields(&problem), ["ids", "changes", "if_versions"]);
        let problem =
            bulk(json!({ "ids": [A], "changes": {}, "if_versions": { A: 2.5 } })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(fields(&problem), ["if_versions"]);
        let problem = bulk(json!({ "ids": A, "changes": {} })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
    }

    #[test]
    fn changes_are_read_like_the_edit() {
        let problem = bulk(json!({ "ids": [A], "changes": { "version": 2 } })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(fields(&problem), ["version"]);
        let problem = bulk(json!({ "ids": [A], "changes": { "status": "done" } })).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(fields(&problem), ["status"]);
    }

    #[test]
    fn missing_members_and_bad_ids_are_each_named() {
        let problem = bulk(json!({})).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(fields(&problem), ["ids", "changes"]);

        let problem = bulk(json!({
            "ids": [A, "nope", "42"], "changes": {}, "if_versions": { "zz": 1 }
        }))
        .unwrap_err();
        assert_eq!(fields(&problem), ["ids", "ids", "if_versions"]);
        assert!(
            problem
                .detail()
                .contains("ids names 'nope', which is not a job id")
        );
    }
}
