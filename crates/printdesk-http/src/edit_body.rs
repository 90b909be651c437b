//! The job body, shared by create (`POST /jobs`) and edit (`PUT /jobs/{id}`): which keys it may
//! hold, each field's JSON type, and its translation into a [`JobPatch`] or a [`JobDraft`].
//! [`JobFields`] (the edit) and [`NewJob`] are also the document's `JobEdit` and `NewJob`
//! schemas, with exactly the members the reader accepts.
//!
//! Only the *shape* is checked here (400 for a key that is not editable, 422 for a wrong JSON
//! type or an unknown status). The rules (lengths, trimming, the business customer, whether the
//! printer exists) belong to the domain and are judged there, on the job as it will be.

use printdesk_domain::{JobDraft, JobField, JobPatch, JobStatus, Nullable};
use serde_json::Value;
use utoipa::ToSchema;

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
///
/// In the document, `JobEdit`: a change to a job (`PUT /jobs/{id}` and the bulk edit's
/// `changes`): a partial update. An absent member keeps its stored value; `null` clears one
/// that may be null. `{}` changes nothing. Server-owned members (`id`, `version`,
/// `created_at`, …) and unknown ones are refused (400), each named. No text may contain
/// U+0000.
#[derive(Debug, Clone, Default, PartialEq, Eq, ToSchema)]
// Read by utoipa only (`additionalProperties: false`): `from_body` refuses unknown keys.
#[serde(deny_unknown_fields)]
#[schema(
    as = JobEdit,
    description = "A change to a job (`PUT /jobs/{id}` and the bulk edit's `changes`): a partial \
update.\nAn absent member keeps its stored value; `null` clears one that may be null. `{}`\n\
changes nothing. Server-owned members (`id`, `version`, `created_at`, …) and unknown\nones are \
refused (400), each named. No text may contain U+0000.",
    example = json!({ "notes": "re-sliced", "customer_name": "ACME" })
)]
pub struct JobFields {
    /// Trimmed; 1–200 characters after trimming. Not null.
    #[schema(value_type = String, required = false, min_length = 1, pattern = "^[^\\u0000]*$")]
    job_name: Option<String>,
    /// Any of the four, from any status; `started_at` / `completed_at` are not touched
    /// (the status workflow sets those). Not null.
    #[schema(value_type = JobStatus, required = false)]
    status: Option<JobStatus>,
    /// Not null.
    #[schema(value_type = bool, required = false)]
    is_business: Option<bool>,
    /// Trimmed, at most 200 characters after trimming; empty, blank or null clears it, which
    /// a business job refuses.
    #[schema(value_type = Option<String>, pattern = "^[^\\u0000]*$")]
    customer_name: Nullable<String>,
    /// At most 1000 characters, kept exactly as sent.
    #[schema(value_type = Option<String>, max_length = 1000, pattern = "^[^\\u0000]*$")]
    notes: Nullable<String>,
    /// At most 255 characters.
    #[schema(value_type = Option<String>, max_length = 255, pattern = "^[^\\u0000]*$")]
    file_name: Nullable<String>,
    /// An existing printer's id; null makes it a manual job.
    #[schema(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    printer_id: Nullable<String>,
}

/// A new job (`POST /jobs`). Absent fields take their defaults; the rules are those of
/// the job (`docs/api.md`), judged on the job as it will be. Any other member is refused
/// (400), each named. No text may contain U+0000.
// Read like the edit (`JobFields`); for a new job, an absent member and `null` are the same.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "job_name": "Benchy", "is_business": true, "customer_name": "ACME",
    "file_name": "benchy.3mf", "notes": "0.2 mm, PLA"
}))]
pub struct NewJob {
    /// Trimmed; 1–200 characters after trimming.
    #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
    job_name: String,
    /// Default `pending`.
    #[schema(required = false)]
    status: JobStatus,
    /// Default `false`.
    #[schema(required = false)]
    is_business: bool,
    /// Trimmed, at most 200 characters after trimming; empty or blank becomes null.
    /// Required whenever the job is a business job.
    #[schema(pattern = "^[^\\u0000]*$")]
    customer_name: Option<String>,
    /// At most 1000 characters, kept exactly as sent.
    #[schema(max_length = 1000, pattern = "^[^\\u0000]*$")]
    notes: Option<String>,
    /// At most 255 characters.
    #[schema(max_length = 255, pattern = "^[^\\u0000]*$")]
    file_name: Option<String>,
    /// An existing printer's id; null (or absent) for a manual job.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    printer_id: Option<String>,
}

impl NewJob {
    /// Reads a new job's body, exactly as [`JobFields::from_body`] does.
    pub fn from_body(body: JsonObject) -> Result<Self, Problem> {
        JobFields::from_body(body).map(JobFields::into_new)
    }

    /// The job to create, for the rules to judge.
    pub fn into_draft(self) -> JobDraft {
        JobDraft {
            job_name: self.job_name,
            status: self.status,
            is_business: self.is_business,
            customer_name: self.customer_name,
            notes: self.notes,
            file_name: self.file_name,
            printer_id: self.printer_id,
        }
    }
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
    fn into_new(self) -> NewJob {
        let defaults = JobDraft::default();
        let nullable = |n: Nullable<String>| n.apply(None);
        NewJob {
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

    #[test]
    fn each_schema_names_exactly_the_members_the_reader_accepts() {
        let editable: Vec<&str> = JobField::EDITABLE.iter().map(|f| f.as_str()).collect();
        for properties in [
            crate::openapi::property_names::<JobFields>(),
            crate::openapi::property_names::<NewJob>(),
        ] {
            assert!(
                properties.iter().all(|name| refusal(name).is_none()),
                "{properties:?}"
            );
            assert_eq!(properties, editable);
        }
    }

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
        assert_eq!(
            fields(json!({})).unwrap().into_new().into_draft(),
            JobDraft::default()
        );
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
