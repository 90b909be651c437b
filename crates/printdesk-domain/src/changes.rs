use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{clock::Timestamp, draft::ValidJobFields, job::Job};

/// A field whose changes are tracked in events: the editable ones, and the workflow's
/// timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobField {
    /// `job_name`
    JobName,
    /// `status`
    Status,
    /// `is_business`
    IsBusiness,
    /// `customer_name`
    CustomerName,
    /// `notes`
    Notes,
    /// `file_name`
    FileName,
    /// `printer_id`
    PrinterId,
    /// `started_at` (set by the status workflow only)
    StartedAt,
    /// `completed_at` (set by the status workflow only)
    CompletedAt,
}

impl JobField {
    /// Every field a client may edit, in the contract's order.
    pub const EDITABLE: [JobField; 7] = [
        Self::JobName,
        Self::Status,
        Self::IsBusiness,
        Self::CustomerName,
        Self::Notes,
        Self::FileName,
        Self::PrinterId,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JobName => "job_name",
            Self::Status => "status",
            Self::IsBusiness => "is_business",
            Self::CustomerName => "customer_name",
            Self::Notes => "notes",
            Self::FileName => "file_name",
            Self::PrinterId => "printer_id",
            Self::StartedAt => "started_at",
            Self::CompletedAt => "completed_at",
        }
    }

    /// Every tracked field.
    pub const ALL: [JobField; 9] = [
        Self::JobName,
        Self::Status,
        Self::IsBusiness,
        Self::CustomerName,
        Self::Notes,
        Self::FileName,
        Self::PrinterId,
        Self::StartedAt,
        Self::CompletedAt,
    ];

    /// The field for a wire name, if it is an editable one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::EDITABLE.into_iter().find(|f| f.as_str() == name)
    }

    /// Fields the server owns: a client sending one of these in an edit is told so.
    pub const SERVER_OWNED: [&'static str; 8] = [
        "id",
        "version",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
        "auto_created",
        "discovery_time",
    ];

    fn value_in(self, job: &Job) -> Value {
        let to_value = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
        match self {
            Self::JobName => Value::String(job.job_name.to_string()),
            Self::Status => Value::String(job.status.as_str().to_owned()),
            Self::IsBusiness => Value::Bool(job.is_business),
            Self::CustomerName => to_value(job.customer_name.as_ref().map(|v| v.as_str())),
            Self::Notes => to_value(job.notes.as_ref().map(|v| v.as_str())),
            Self::FileName => to_value(job.file_name.as_ref().map(|v| v.as_str())),
            Self::PrinterId => to_value(job.printer_id.as_ref().map(|v| v.as_str())),
            Self::StartedAt => job
                .started_at
                .map_or(Value::Null, |t| crate::timestamp::format(t).into()),
            Self::CompletedAt => job
                .completed_at
                .map_or(Value::Null, |t| crate::timestamp::format(t).into()),
        }
    }
}

impl fmt::Display for JobField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field's value before and after a change, as JSON values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// Before (null when unset, and for every field of a `job_created` event).
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::field_value))]
    pub old: Value,
    /// After (null when cleared).
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::field_value))]
    pub new: Value,
}

/// What a change altered, field by field. Empty means the change altered nothing.
///
/// With the `openapi` feature its schema is an object with one optional member per
/// [`JobField`] (so a client sees which keys can occur) and no other members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobChanges(BTreeMap<JobField, FieldChange>);

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::{
        PartialSchema, ToSchema,
        openapi::{
            RefOr, Schema,
            schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type},
        },
    };

    use super::{FieldChange, JobChanges, JobField};

    /// A tracked field's JSON value: a string (text, status, timestamp), a boolean
    /// (`is_business`) or null.
    pub(super) fn field_value() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([
            Type::String,
            Type::Boolean,
            Type::Null,
        ]))
    }

    impl PartialSchema for JobChanges {
        fn schema() -> RefOr<Schema> {
            let field_change =
                RefOr::Ref(utoipa::openapi::Ref::from_schema_name(FieldChange::name()));
            JobField::ALL
                .into_iter()
                .fold(
                    ObjectBuilder::new()
                        .description(Some(
                            "The old and new value of each field the change altered, keyed by \
                             the field's name. Empty for a deletion; every editable field (from \
                             null) for a creation.",
                        ))
                        .additional_properties(Some(AdditionalProperties::FreeForm(false))),
                    |object, field| object.property(field.as_str(), field_change.clone()),
                )
                .into()
        }
    }

    impl ToSchema for JobChanges {
        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((FieldChange::name().into_owned(), FieldChange::schema()));
            <FieldChange as ToSchema>::schemas(schemas);
        }
    }
}

/// Changes as an adapter reads them back (a stored event): the fields and their values.
impl FromIterator<(JobField, FieldChange)> for JobChanges {
    fn from_iter<I: IntoIterator<Item = (JobField, FieldChange)>>(changes: I) -> Self {
        Self(changes.into_iter().collect())
    }
}

impl JobChanges {
    /// The differences between two states of a job.
    pub fn between(old: &Job, new: &Job) -> Self {
        Self(
            JobField::ALL
                .into_iter()
                .filter_map(|field| {
                    let (old, new) = (field.value_in(old), field.value_in(new));
                    (old != new).then_some((field, FieldChange { old, new }))
                })
                .collect(),
        )
    }

    /// Every editable field of a new job, each from `null`.
    pub fn created(job: &Job) -> Self {
        Self(
            JobField::EDITABLE
                .into_iter()
                .map(|field| {
                    (
                        field,
                        FieldChange {
                            old: Value::Null,
                            new: field.value_in(job),
                        },
                    )
                })
                .collect(),
        )
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The changed fields and their values.
    pub fn iter(&self) -> impl Iterator<Item = (JobField, &FieldChange)> {
        self.0.iter().map(|(f, c)| (*f, c))
    }

    /// How many fields changed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The change of one field, if it changed.
    pub fn get(&self, field: JobField) -> Option<&FieldChange> {
        self.0.get(&field)
    }
}

/// What an edit that changes a job's status does to `started_at` and `completed_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintTimes {
    /// Set them as the workflow would where the status change is one of its moves.
    FollowWorkflow,
    /// Leave them as they are.
    Keep,
}

impl Job {
    /// Lays validated fields over this job, leaving the print times as they are. Returns the
    /// new state and what changed, or `None` when nothing would change, in which case the
    /// version stays as it is.
    pub fn with_fields(&self, fields: ValidJobFields, now: Timestamp) -> Option<(Job, JobChanges)> {
        self.with_edited_fields(fields, PrintTimes::Keep, now)
    }

    /// [`Job::with_fields`], with `print_times` saying what a status change does to
    /// `started_at` and `completed_at`: [`PrintTimes::FollowWorkflow`] for the job edit (a
    /// status corrected along one of the workflow's moves sets them as the move would),
    /// [`PrintTimes::Keep`] for the bulk edit.
    pub fn with_edited_fields(
        &self,
        fields: ValidJobFields,
        print_times: PrintTimes,
        now: Timestamp,
    ) -> Option<(Job, JobChanges)> {
        let next = Job {
            job_name: fields.job_name,
            status: fields.status,
            is_business: fields.is_business,
            customer_name: fields.customer_name,
            notes: fields.notes,
            file_name: fields.file_name,
            printer_id: fields.printer_id,
            ..self.clone()
        };
        let next = match print_times {
            PrintTimes::FollowWorkflow => next.with_print_times_from(self.status, now),
            PrintTimes::Keep => next,
        };
        self.with_changes_from(next, now)
    }

    /// Turns `next` (this job with some fields changed) into the job's next version: what
    /// changed, `version` + 1 and `updated_at` = `now`; `None` when `next` changes nothing.
    pub fn with_changes_from(&self, mut next: Job, now: Timestamp) -> Option<(Job, JobChanges)> {
        let changes = JobChanges::between(self, &next);
        if changes.is_empty() {
            return None;
        }
        next.version = self.version.next();
        next.updated_at = now;
        Some((next, changes))
    }
}
