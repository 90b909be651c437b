//! The job body, shared by create (`POST /jobs`) and edit (`PUT /jobs/{id}`): which keys it may
//! hold, each field's JSON type, and its translation into a [`JobPatch`] or a [`JobDraft`].
//!
//! Only the *shape* is checked here (400 for a key that is not editable, 422 for a wrong JSON
//! type or an unknown status). The rules (lengths, trimming, the business customer, whether the
//! printer exists) belong to the domain and are judged there, on the job as it will be.

use printdesk_domain::{JobDraft, JobField, JobPatch, JobStatus, Nullable};
use serde_json::Value;

use crate::{
    json_body::{JsonObject, ObjectReader},
    problem::Problem,
};

pub(crate) const STATUS_MESSAGE: &str = "must be one of pending, running, completed, failed";

/// Why a key may not appear in a job body, or `None` for an editable field.
fn refusal(key: &str) -> Option<&'static str> {
    if JobField::from_name(key).is_some() {
        None
    } else if JobField::SERVER_OWNED.contains(&key) {
        Some("is set by the server and cannot be changed")
    } else {
        Some("is not a field of a job")
    }
}

/// The editable fields a job body names, each of the right JSON type, none checked against
/// the rules yet. Absent keys are `None` / [`Nullable::Keep`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFields {
    job_name: Option<String>,
    status: Option<JobStatus>,
    is_business: Option<bool>,
    customer_name: Nullable<String>,
    notes: Nullable<String>,
    file_name: Nullable<String>,
    printer_id: Nullable<String>,
}

impl JobFields {
    /// Reads a job body: every key that is not an editable field → 400 naming each; then every
    /// field of the wrong JSON type → 422 naming each.
    pub fn from_body(body: JsonObject) -> Result<Self, Problem> {
        let mut reader = ObjectReader::new(body);
        reader.refuse_keys(refusal)?;
        let fields = Self {
            job_name: reader.string(JobField::JobName.as_str()),
            status: reader.parsed(JobField::Status.as_str(), STATUS_MESSAGE, |v| match v {
                Value::String(s) => s.parse().ok(),
                _ => None,
            }),
            is_business: reader.boolean(JobField::IsBusiness.as_str()),
            customer_name: reader.nullable_string(JobField::CustomerName.as_str()),
            notes: reader.nullable_string(JobField::Notes.as_str()),
            file_name: reader.nullable_string(JobField::FileName.as_str()),
            printer_id: reader.nullable_string(JobField::PrinterId.as_str()),
        };
        reader.finish()?;
        Ok(fields)
    }

    /// The edit: every absent field keeps its stored value, `null` clears.
    pub fn into_patch(self) -> JobPatch {
        JobPatch {
            job_name: self.job_name,
            status: self.status,
            is_business: self.is_business,
            customer_name: self.customer_name,
            notes: self.notes,
            file_name: self.file_name,
            printer_id: self.printer_id,
        }
    }

    /// A new job: absent fields take their defaults (`status` pending, `is_business` false,
    /// the rest null); an absent `job_name` is empty and so refused by the rules.
    pub fn into_draft(self) -> JobDraft {
        let defaults = JobDraft::default();
        let nullable = |n: Nullable<String>| n.apply(None);
        JobDraft {
            job_name: self.job_name.unwrap_or(defaults.job_name),
            status: self.status.unwrap_or(defaults.status),
            is_business: self.is_business.unwrap_or(defaults.is_business),
            customer_name: nullable(self.customer_name),
            notes: nullable(self.notes),
            file_name: nullable(self.file_name),
            printer_id: nullable(self.printer_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use printdesk_domain::FieldViolation;
    use serde_json::json;

    use super::*;
    use crate::problem::ProblemKind;

    fn fields(body: Value) -> Result<JobFields, Problem> {
        let Value::Object(map) = body else {
            panic!("not an object")
        };
        JobFields::from_body(JsonObject(map))
    }

    #[test]
    fn a_full_body_becomes_a_patch_with_every_field() {
        let patch = fields(json!({
            "job_name": "Benchy", "status": "running", "is_business": true,
            "customer_name": "ACME", "notes": null, "file_name": "benchy.3mf", "printer_id": null
        }))
        .unwrap()
        .into_patch();
        assert_eq!(
            patch,
            JobPatch {
                job_name: Some("Benchy".into()),
                status: Some(JobStatus::Running),
                is_business: Some(true),
                customer_name: Nullable::Set("ACME".into()),
                notes: Nullable::Clear,
                file_name: Nullable::Set("benchy.3mf".into()),
                printer_id: Nullable::Clear,
            }
        );
    }

    #[test]
    fn an_empty_body_is_an_empty_patch_and_a_default_draft() {
        assert!(fields(json!({})).unwrap().into_patch().is_empty());
        assert_eq!(fields(json!({})).unwrap().into_draft(), JobDraft::default());
    }

    #[test]
    fn server_owned_and_unknown_keys_are_each_named() {
        let problem =
            fields(json!({ "created_at": "x", "version": 3, "colour": "red", "notes": "ok" }))
                .unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        let named: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["colour", "created_at", "version"]);
        assert!(problem.detail().contains("created_at"));
        assert!(problem.detail().contains("colour is not a field of a job"));
    }

    #[test]
    fn wrong_types_are_each_named() {
        let problem = fields(json!({
            "job_name": null, "status": "done", "is_business": "yes", "notes": 5
        }))
        .unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(
            problem.errors(),
            [
                FieldViolation::new("job_name", "must be a string"),
                FieldViolation::new("status", STATUS_MESSAGE),
                FieldViolation::new("is_business", "must be true or false"),
                FieldViolation::new("notes", "must be a string or null"),
            ]
        );
    }
}
