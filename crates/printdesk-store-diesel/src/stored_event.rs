//! The event log's snapshot format: how `job_events.job` and `job_events.changes` hold a
//! job and what changed, as JSON text.
//!
//! The store owns this format. It is written and read through the structs below, not through
//! the domain's `Serialize` (the API's JSON), so that a change of the API's shape cannot
//! silently change what is stored, or make old events unreadable. Today both happen to be the
//! same JSON (the format was the API's until the store took it over); the tests pin the
//! stored one.
//!
//! - `job`: an object with every job column by name; text as stored, `null` for no value;
//!   `status` by its name; timestamps RFC 3339 UTC with milliseconds
//!   (`2026-11-28T16:34:28.123Z`).
//! - `changes`: an object keyed by field name (`job_name`, `status`, `is_business`,
//!   `customer_name`, `notes`, `file_name`, `printer_id`, `started_at`, `completed_at`),
//!   each `{"old": …, "new": …}` with the values as JSON (strings, booleans, timestamps as
//!   above, `null`).

use printdesk_domain::{FieldChange, Job, JobChanges, JobField, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::well_known::Rfc3339,
    macros::format_description,
};

use crate::rows::{JobRow, to_db_time};

/// How a timestamp is written.
const TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// `job_events.job`.
#[derive(Debug, Serialize, Deserialize)]
struct StoredJob {
    id: String,
    job_name: String,
    status: String,
    is_business: bool,
    customer_name: Option<String>,
    notes: Option<String>,
    file_name: Option<String>,
    printer_id: Option<String>,
    version: i64,
    #[serde(with = "stored_time")]
    created_at: PrimitiveDateTime,
    #[serde(with = "stored_time")]
    updated_at: PrimitiveDateTime,
    #[serde(with = "stored_time::option")]
    started_at: Option<PrimitiveDateTime>,
    #[serde(with = "stored_time::option")]
    completed_at: Option<PrimitiveDateTime>,
    auto_created: bool,
    #[serde(with = "stored_time::option")]
    discovery_time: Option<PrimitiveDateTime>,
}

/// One entry of `job_events.changes`.
#[derive(Debug, Serialize, Deserialize)]
struct StoredChange {
    old: Value,
    new: Value,
}

/// The stored name of a tracked field.
fn field_name(field: JobField) -> &'static str {
    match field {
        JobField::JobName => "job_name",
        JobField::Status => "status",
        JobField::IsBusiness => "is_business",
        JobField::CustomerName => "customer_name",
        JobField::Notes => "notes",
        JobField::FileName => "file_name",
        JobField::PrinterId => "printer_id",
        JobField::StartedAt => "started_at",
        JobField::CompletedAt => "completed_at",
    }
}

fn field_named(name: &str) -> Option<JobField> {
    JobField::ALL.into_iter().find(|f| field_name(*f) == name)
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored event {what} is invalid: {detail}"))
}

fn encode(what: &str, value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Internal(format!("cannot encode the event's {what}: {e}")))
}

/// `job_events.job` for `job`.
pub(crate) fn encode_job(job: &Job) -> Result<String, StoreError> {
    let row = JobRow::from(job);
    encode(
        "job",
        &StoredJob {
            id: row.id,
            job_name: row.job_name,
            status: row.status,
            is_business: row.is_business,
            customer_name: row.customer_name,
            notes: row.notes,
            file_name: row.file_name,
            printer_id: row.printer_id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            started_at: row.started_at,
            completed_at: row.completed_at,
            auto_created: row.auto_created,
            discovery_time: row.discovery_time,
        },
    )
}

/// The job `job_events.job` holds.
pub(crate) fn decode_job(text: &str) -> Result<Job, StoreError> {
    let stored: StoredJob = serde_json::from_str(text).map_err(|e| corrupt("job", e))?;
    Job::try_from(JobRow {
        id: stored.id,
        job_name: stored.job_name,
        status: stored.status,
        is_business: stored.is_business,
        customer_name: stored.customer_name,
        notes: stored.notes,
        file_name: stored.file_name,
        printer_id: stored.printer_id,
        version: stored.version,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        started_at: stored.started_at,
        completed_at: stored.completed_at,
        auto_created: stored.auto_created,
        discovery_time: stored.discovery_time,
    })
}

/// `job_events.changes` for `changes`.
pub(crate) fn encode_changes(changes: &JobChanges) -> Result<String, StoreError> {
    let stored: std::collections::BTreeMap<&str, StoredChange> = changes
        .iter()
        .map(|(field, change)| {
            (
                field_name(field),
                StoredChange {
                    old: change.old.clone(),
                    new: change.new.clone(),
                },
            )
        })
        .collect();
    encode("changes", &stored)
}

/// The changes `job_events.changes` holds.
pub(crate) fn decode_changes(text: &str) -> Result<JobChanges, StoreError> {
    let stored: std::collections::BTreeMap<String, StoredChange> =
        serde_json::from_str(text).map_err(|e| corrupt("changes", e))?;
    stored
        .into_iter()
        .map(|(name, change)| {
            let field = field_named(&name).ok_or_else(|| corrupt("changes", &name))?;
            Ok((
                field,
                FieldChange {
                    old: change.old,
                    new: change.new,
                },
            ))
        })
        .collect()
}

/// Timestamps in the stored format; any RFC 3339 timestamp is read (and converted to UTC).
mod stored_time {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use super::*;

    pub(super) fn format(t: PrimitiveDateTime) -> String {
        t.format(TIME_FORMAT)
            .expect("every four-digit year formats")
    }

    pub(super) fn parse(s: &str) -> Result<PrimitiveDateTime, time::error::Parse> {
        OffsetDateTime::parse(s, &Rfc3339).map(to_db_time)
    }

    pub(super) fn serialize<S: Serializer>(t: &PrimitiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<PrimitiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(D::Error::custom)
    }

    pub(super) mod option {
        use super::*;

        pub(in super::super) fn serialize<S: Serializer>(
            t: &Option<PrimitiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&format(*t)),
                None => s.serialize_none(),
            }
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<PrimitiveDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| parse(&s).map_err(D::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use printdesk_domain::{CustomerName, FileName, JobName, JobStatus, Notes, PrinterId, Version};
    use time::macros::datetime;

    use super::*;

    fn job() -> Job {
        Job {
            id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().unwrap(),
            job_name: JobName::parse("Benchy").unwrap(),
            status: JobStatus::Completed,
            is_business: true,
            customer_name: Some(CustomerName::parse("ACME, Inc.").unwrap()),
            notes: Some(Notes::parse("re-sliced \"fine\"").unwrap()),
            file_name: Some(FileName::parse("benchy.3mf").unwrap()),
            printer_id: Some(PrinterId::parse("mk4-1").unwrap()),
            version: Version::new(3),
            created_at: datetime!(2026-11-28 16:34:28.123 UTC),
            updated_at: datetime!(2026-11-28 18:30:00.5 UTC),
            started_at: Some(datetime!(2026-11-28 17:00:00 UTC)),
            completed_at: Some(datetime!(2026-11-28 18:30:00.5 UTC)),
            auto_created: false,
            discovery_time: None,
        }
    }

    /// The stored text, byte for byte: a change here is a change of the stored format (and
    /// needs a way to read what is stored already).
    #[test]
    fn a_job_is_written_in_the_stored_format() {
        assert_eq!(
            encode_job(&job()).unwrap(),
            r#"{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","job_name":"Benchy","status":"completed","is_business":true,"customer_name":"ACME, Inc.","notes":"re-sliced \"fine\"","file_name":"benchy.3mf","printer_id":"mk4-1","version":3,"created_at":"2026-11-28T16:34:28.123Z","updated_at":"2026-11-28T18:30:00.500Z","started_at":"2026-11-28T17:00:00.000Z","completed_at":"2026-11-28T18:30:00.500Z","auto_created":false,"discovery_time":null}"#
        );
        assert_eq!(decode_job(&encode_job(&job()).unwrap()).unwrap(), job());
    }

    #[test]
    fn changes_are_written_in_the_stored_format() {
        let running = Job {
            status: JobStatus::Running,
            completed_at: None,
            ..job()
        };
        let changes = JobChanges::between(&running, &job());
        let text = encode_changes(&changes).unwrap();
        assert_eq!(
            text,
            r#"{"completed_at":{"old":null,"new":"2026-11-28T18:30:00.500Z"},"status":{"old":"running","new":"completed"}}"#
        );
        assert_eq!(decode_changes(&text).unwrap(), changes);
    }

    #[test]
    fn unreadable_snapshots_are_internal_errors() {
        assert!(matches!(decode_job("{}"), Err(StoreError::Internal(_))));
        assert!(matches!(
            decode_changes(r#"{"colour":{"old":null,"new":"red"}}"#),
            Err(StoreError::Internal(_))
        ));
    }
}
