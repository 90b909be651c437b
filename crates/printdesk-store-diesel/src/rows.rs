//! Rows as Diesel reads and writes them, and their translation to and from domain values.
//! This is the only place where storage shapes meet domain types.

use diesel::prelude::*;
use printdesk_domain::{
    CustomerName, EventKind, FileName, Job, JobEvent, JobId, JobName, NewJobEvent, Notes,
    PrinterId, SearchDocument, Seq, StoreError, Version, customer_fold, search::sort_key,
};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::{
    db_time::{DbTime, NullableDbTime},
    schema::{job_events, jobs},
    stored_event,
};

/// Stored timestamps are UTC without an offset.
pub(crate) fn to_db_time(t: OffsetDateTime) -> PrimitiveDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

pub(crate) fn from_db_time(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} is invalid: {detail}"))
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs)]
pub(crate) struct JobRow {
    pub id: String,
    pub job_name: String,
    pub status: String,
    pub is_business: bool,
    pub customer_name: Option<String>,
    pub notes: Option<String>,
    pub file_name: Option<String>,
    pub printer_id: Option<String>,
    pub version: i64,
    #[diesel(deserialize_as = DbTime)]
    pub created_at: PrimitiveDateTime,
    #[diesel(deserialize_as = DbTime)]
    pub updated_at: PrimitiveDateTime,
    #[diesel(deserialize_as = NullableDbTime)]
    pub started_at: Option<PrimitiveDateTime>,
    #[diesel(deserialize_as = NullableDbTime)]
    pub completed_at: Option<PrimitiveDateTime>,
    pub auto_created: bool,
    #[diesel(deserialize_as = NullableDbTime)]
    pub discovery_time: Option<PrimitiveDateTime>,
}

impl From<&Job> for JobRow {
    fn from(job: &Job) -> Self {
        Self {
            id: job.id.to_string(),
            job_name: job.job_name.to_string(),
            status: job.status.as_str().to_owned(),
            is_business: job.is_business,
            customer_name: job.customer_name.as_ref().map(ToString::to_string),
            notes: job.notes.as_ref().map(ToString::to_string),
            file_name: job.file_name.as_ref().map(ToString::to_string),
            printer_id: job.printer_id.as_ref().map(ToString::to_string),
            version: job.version.get(),
            created_at: to_db_time(job.created_at),
            updated_at: to_db_time(job.updated_at),
            started_at: job.started_at.map(to_db_time),
            completed_at: job.completed_at.map(to_db_time),
            auto_created: job.auto_created,
            discovery_time: job.discovery_time.map(to_db_time),
        }
    }
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Self, Self::Error> {
        let field =
            |what: &'static str| move |e: printdesk_domain::FieldViolation| corrupt(what, e);
        Ok(Job {
            id: row.id.parse::<JobId>().map_err(|e| corrupt("job id", e))?,
            job_name: JobName::parse(row.job_name).map_err(field("job_name"))?,
            status: row.status.parse().map_err(|e| corrupt("status", e))?,
            is_business: row.is_business,
            customer_name: row
                .customer_name
                .map(CustomerName::parse)
                .transpose()
                .map_err(field("customer_name"))?,
            notes: row
                .notes
                .map(Notes::parse)
                .transpose()
                .map_err(field("notes"))?,
            file_name: row
                .file_name
                .map(FileName::parse)
                .transpose()
                .map_err(field("file_name"))?,
            printer_id: row
                .printer_id
                .map(PrinterId::parse)
                .transpose()
                .map_err(field("printer_id"))?,
            version: Version::new(row.version),
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            started_at: row.started_at.map(from_db_time),
            completed_at: row.completed_at.map(from_db_time),
            auto_created: row.auto_created,
            discovery_time: row.discovery_time.map(from_db_time),
        })
    }
}

/// What the store derives from a job's text with the domain's rules and keeps beside it: the
/// search document and the collation sort keys (see the `job_search` migration), and the
/// folded customer name (the `customer_fold` migration).
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = jobs)]
pub(crate) struct DerivedColumns {
    pub search_text: String,
    pub name_key: Vec<u8>,
    pub customer_key: Option<Vec<u8>>,
    pub file_key: Option<Vec<u8>>,
    pub customer_fold: Option<String>,
}

impl DerivedColumns {
    /// The columns of `row`.
    pub(crate) fn of(row: &JobRow) -> Self {
        let document = document_of(row);
        Self {
            search_text: document.as_str().to_owned(),
            name_key: sort_key(&row.job_name),
            customer_key: row.customer_name.as_deref().map(sort_key),
            file_key: row.file_name.as_deref().map(sort_key),
            customer_fold: row.customer_name.as_deref().map(customer_fold),
        }
    }
}

/// The search document of a stored job.
pub(crate) fn document_of(row: &JobRow) -> SearchDocument {
    document_of_fields(
        &row.job_name,
        row.customer_name.as_deref(),
        row.notes.as_deref(),
        row.file_name.as_deref(),
    )
}

/// The search document of a job with these searched fields.
pub(crate) fn document_of_fields(
    job_name: &str,
    customer_name: Option<&str>,
    notes: Option<&str>,
    file_name: Option<&str>,
) -> SearchDocument {
    SearchDocument::of_fields([Some(job_name), customer_name, notes, file_name])
}

/// A job as it is inserted: its row and what is derived from it.
#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub(crate) struct NewJobRow {
    #[diesel(embed)]
    pub row: JobRow,
    #[diesel(embed)]
    pub derived: DerivedColumns,
}

impl NewJobRow {
    /// The row of `job`.
    pub(crate) fn new(job: &Job) -> Self {
        let row = JobRow::from(job);
        let derived = DerivedColumns::of(&row);
        Self { row, derived }
    }
}

/// The columns an edit changed, and only those: what `UPDATE … SET` names. SQLite rewrites
/// the entries of every index over a column named in `SET`, changed or not, so writing the
/// whole row touched all six job indexes on every edit (measured: about 7 WAL pages per edit
/// instead of 3). An absent field is left alone; `Some(None)` sets a column to NULL.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = jobs)]
pub(crate) struct JobRowChanges {
    job_name: Option<String>,
    status: Option<String>,
    is_business: Option<bool>,
    customer_name: Option<Option<String>>,
    notes: Option<Option<String>>,
    file_name: Option<Option<String>>,
    printer_id: Option<Option<String>>,
    version: Option<i64>,
    created_at: Option<PrimitiveDateTime>,
    updated_at: Option<PrimitiveDateTime>,
    started_at: Option<Option<PrimitiveDateTime>>,
    completed_at: Option<Option<PrimitiveDateTime>>,
    auto_created: Option<bool>,
    discovery_time: Option<Option<PrimitiveDateTime>>,
    search_text: Option<String>,
    name_key: Option<Vec<u8>>,
    customer_key: Option<Option<Vec<u8>>>,
    file_key: Option<Option<Vec<u8>>>,
    customer_fold: Option<Option<String>>,
}

impl JobRowChanges {
    /// What turns `old` into `new` (the same job). The derived columns are computed only for
    /// fields that changed: most edits (a status, the notes) need no sort key, and only an edit
    /// of a searched field a new search document.
    pub(crate) fn between(old: &JobRow, new: JobRow) -> Self {
        let searched = old.job_name != new.job_name
            || old.customer_name != new.customer_name
            || old.notes != new.notes
            || old.file_name != new.file_name;
        let name_key = (old.job_name != new.job_name).then(|| sort_key(&new.job_name));
        let customer_key = (old.customer_name != new.customer_name)
            .then(|| new.customer_name.as_deref().map(sort_key));
        let file_key =
            (old.file_name != new.file_name).then(|| new.file_name.as_deref().map(sort_key));
        let customer_fold = (old.customer_name != new.customer_name)
            .then(|| new.customer_name.as_deref().map(customer_fold));
        let search_text = searched.then(|| document_of(&new).as_str().to_owned());
        macro_rules! changed {
            ($($field:ident),* $(,)?) => {
                Self {
                    $($field: (old.$field != new.$field).then_some(new.$field),)*
                    search_text,
                    name_key,
                    customer_key,
                    file_key,
                    customer_fold,
                }
            };
        }
        changed!(
            job_name,
            status,
            is_business,
            customer_name,
            notes,
            file_name,
            printer_id,
            version,
            created_at,
            updated_at,
            started_at,
            completed_at,
            auto_created,
            discovery_time,
        )
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = job_events)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub job_id: String,
    pub at: PrimitiveDateTime,
    pub actor: Option<String>,
    pub changes: String,
    pub job: String,
}

impl EventRow {
    /// The row for `event` at position `seq`, its snapshot in the store's own format
    /// ([`crate::stored_event`]).
    pub(crate) fn new(event: &NewJobEvent, seq: Seq) -> Result<Self, StoreError> {
        Ok(Self {
            seq: seq.get(),
            kind: event.kind.as_str().to_owned(),
            job_id: event.job.id.to_string(),
            at: to_db_time(event.at),
            actor: event.actor.clone(),
            changes: stored_event::encode_changes(&event.changes)?,
            job: stored_event::encode_job(&event.job)?,
        })
    }
}

impl TryFrom<EventRow> for JobEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let job = stored_event::decode_job(&row.job)?;
        let changes = stored_event::decode_changes(&row.changes)?;
        Ok(JobEvent {
            seq: Seq::new(row.seq),
            kind: EventKind::from_name(&row.kind)
                .ok_or_else(|| corrupt("event kind", &row.kind))?,
            at: from_db_time(row.at),
            job_id: job.id,
            actor: row.actor,
            job,
            changes,
        })
    }
}
