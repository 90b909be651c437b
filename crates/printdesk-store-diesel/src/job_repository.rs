//! [`JobRepository`] on Diesel: every write locks the job, lets the domain decide, and
//! writes the decision with its event in one transaction.

use std::collections::HashSet;

use async_trait::async_trait;
use diesel::{prelude::*, result::Error as DieselError};
use printdesk_domain::{
    BulkFailure, BulkUpdateError, CreateJobError, CustomerCount, CustomerQuery, DeleteJobError,
    EditJobError, FieldViolation, Job, JobDeletion, JobEdit, JobEvent, JobId, JobPage, JobQuery,
    JobRepository, NewJobEvent, StoreError, SummaryGroup, SummaryKey, UpdateOutcome,
    ValidationErrors,
};

use crate::{
    cached_update::CachedUpdate,
    connection::{AnyConnection, on_backend},
    constraint::{Constraint, OnConstraint},
    event_log::{record_event, take_seq},
    job_queries::{find_job_row, list_page, read_job, scan_page},
    rows::{JobRow, JobRowChanges, NewJobRow},
    schema::jobs,
    store::{Store, TxError},
};

/// Takes the job's write lock before it is read, so the read, the decision and the write see
/// one state. On PostgreSQL that is a row lock (a no-op update), and a job that does not exist
/// is reported as `false`. On SQLite every write runs in a transaction begun with
/// `BEGIN IMMEDIATE` (see `group_commit`), which holds the database's write lock already:
/// nothing to do, and the read that follows tells whether the job exists.
pub(crate) fn lock_job(conn: &mut AnyConnection, id: &str) -> Result<bool, DieselError> {
    match conn {
        AnyConnection::Sqlite(_) => Ok(true),
        AnyConnection::Postgres(_) => {
            let touched = diesel::update(jobs::table.find(id))
                .set(jobs::version.eq(jobs::version))
                .execute(conn)?;
            Ok(touched == 1)
        }
    }
}

/// Takes a share of the lock on the printer a write assigns a job to, before the event
/// counter (see "Lock order" in docs/architecture.md): the foreign-key check would take it
/// anyway, but only after the counter, and a printer deletion holding the printer and
/// waiting for the counter would then deadlock with it. A printer that does not exist is
/// left to the foreign key to report. PostgreSQL only; SQLite's writer holds the database.
pub(crate) fn lock_assigned_printer(
    conn: &mut AnyConnection,
    current: Option<&Job>,
    next: &Job,
) -> Result<(), DieselError> {
    let Some(printer) = &next.printer_id else {
        return Ok(());
    };
    if current.is_some_and(|current| current.printer_id.as_ref() == Some(printer)) {
        return Ok(());
    }
    if let AnyConnection::Postgres(pg) = conn {
        use crate::schema::printers;
        printers::table
            .find(printer.to_string())
            .select(printers::id)
            .for_key_share()
            .get_result::<String>(pg)
            .optional()?;
    }
    Ok(())
}

/// Writes the columns in which `next` differs from `current`, guarded by the version
/// `current` was read at.
pub(crate) fn write_job(
    conn: &mut AnyConnection,
    current: &Job,
    next: &Job,
) -> Result<(), TxError<StoreError>> {
    let changes = JobRowChanges::between(&JobRow::from(current), JobRow::from(next));
    let key = current.id.to_string();
    let written = on_backend!(conn, |conn| CachedUpdate::new(
        jobs::table,
        &changes,
        jobs::id
            .eq(&key)
            .and(jobs::version.eq(current.version.get())),
    )
    .execute(conn))?;
    if written == 1 {
        Ok(())
    } else {
        // Cannot happen while the row lock is held; refuse rather than lose a change.
        Err(TxError::Domain(StoreError::Internal(format!(
            "job {} changed under its lock (expected version {})",
            current.id, current.version
        ))))
    }
}

/// Inserts `job` with its derived columns.
pub(crate) fn insert_job(conn: &mut AnyConnection, job: &Job) -> Result<(), DieselError> {
    diesel::insert_into(jobs::table)
        .values(&NewJobRow::new(job))
        .execute(conn)?;
    Ok(())
}

/// What a violation of [`Constraint::JobPrinter`] by `job` means to the domain: the same
/// violation it reports for a printer that does not exist (here: deleted after it checked).
fn unknown_printer(job: &Job) -> ValidationErrors {
    ValidationErrors::single(job.printer_id.as_ref().map_or_else(
        || FieldViolation::new("printer_id", "names no printer"),
        FieldViolation::unknown_printer,
    ))
}

/// Lifts a store-level failure inside a transaction into an operation's error type.
fn lift<E: From<StoreError>>(e: TxError<StoreError>) -> TxError<E> {
    match e {
        TxError::Domain(e) => TxError::Domain(E::from(e)),
        TxError::Diesel(e) => TxError::Diesel(e),
    }
}

/// Locks, reads and decides one job's edit, then writes the decision: the body of
/// [`JobRepository::update`], and of each job in a bulk edit, whose refusals are collected.
fn write_edit(
    conn: &mut AnyConnection,
    current: Job,
    event: Option<NewJobEvent>,
) -> Result<UpdateOutcome, TxError<EditJobError>> {
    let Some(event) = event else {
        return Ok(UpdateOutcome::Unchanged(current));
    };
    lock_assigned_printer(conn, Some(&current), &event.job)?;
    let seq = take_seq(conn)?;
    write_job(conn, &current, &event.job).on_constraint(Constraint::JobPrinter, || {
        EditJobError::Invalid(unknown_printer(&event.job))
    })?;
    record_event(conn, seq, event)
        .map(UpdateOutcome::Changed)
        .map_err(lift)
}

#[async_trait]
impl JobRepository for Store {
    async fn insert(&self, event: NewJobEvent) -> Result<JobEvent, CreateJobError> {
        self.write(move |conn| {
            lock_assigned_printer(conn, None, &event.job)?;
            let seq = take_seq(conn)?;
            insert_job(conn, &event.job).on_constraint(Constraint::JobPrinter, || {
                CreateJobError::Invalid(unknown_printer(&event.job))
            })?;
            record_event(conn, seq, event.clone()).map_err(lift)
        })
        .await
        .inspect(|event| self.search.written([event]))
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let row = self
            .read(move |conn| find_job_row(conn, &id.to_string()))
            .await?;
        row.map(Job::try_from).transpose()
    }

    async fn list(&self, query: &JobQuery) -> Result<JobPage, StoreError> {
        let query = query.clone();
        let search = self.search.clone();
        if query.text.is_some() {
            // The first search builds the index; it waits for it, holding no connection.
            search.built_within(crate::search_index::BUILD_WAIT).await;
        }
        let (rows, (query, total)) = self
            .read(move |conn| {
                let (rows, total) = list_page(conn, &query, &search)?;
                Ok((rows, (query, total)))
            })
            .await?;
        Ok(JobPage {
            jobs: rows
                .into_iter()
                .map(Job::try_from)
                .collect::<Result<_, _>>()?,
            total_count: u64::try_from(total).unwrap_or_default(),
            limit: query.limit,
            offset: query.offset,
        })
    }

    async fn summarize(
        &self,
        query: &JobQuery,
        key: &SummaryKey,
    ) -> Result<Vec<SummaryGroup>, StoreError> {
        let (query, key) = (query.clone(), key.clone());
        self.read(move |conn| crate::job_summary::summarize(conn, &query, &key))
            .await
    }

    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerCount>, StoreError> {
        let query = query.clone();
        self.read(move |conn| crate::job_customers::customers(conn, &query))
            .await
    }

    async fn update(&self, id: JobId, edit: JobEdit) -> Result<UpdateOutcome, EditJobError> {
        self.write(move |conn| {
            let key = id.to_string();
            if !lock_job(conn, &key)? {
                return Err(TxError::Domain(EditJobError::NotFound));
            }
            let current = read_job(conn, &key)
                .map_err(lift)?
                .ok_or(TxError::Domain(EditJobError::NotFound))?;
            let event = edit(&current).map_err(TxError::Domain)?;
            write_edit(conn, current, event)
        })
        .await
        .inspect(|outcome| {
            if let UpdateOutcome::Changed(event) = outcome {
                self.search.written([event]);
            }
        })
    }

    async fn update_many(
        &self,
        edits: Vec<(JobId, JobEdit)>,
    ) -> Result<Vec<UpdateOutcome>, BulkUpdateError> {
        self.write(move |conn| {
            // Lock in id order, so two bulk edits over overlapping jobs cannot deadlock.
            let mut keys: Vec<JobId> = edits.iter().map(|(id, _)| *id).collect();
            keys.sort_unstable();
            let mut missing = HashSet::new();
            for id in keys {
                if !lock_job(conn, &id.to_string())? {
                    missing.insert(id);
                }
            }
            // Failures are reported in the order of the edits (the port's contract).
            let mut failures = Vec::new();
            let mut decided = Vec::with_capacity(edits.len());
            for (id, edit) in &edits {
                let id = *id;
                let current = if missing.contains(&id) {
                    None
                } else {
                    read_job(conn, &id.to_string()).map_err(lift)?
                };
                let Some(current) = current else {
                    failures.push(BulkFailure {
                        id,
                        error: EditJobError::NotFound,
                    });
                    continue;
                };
                match edit(&current) {
                    Ok(event) => decided.push((current, event)),
                    Err(error) => failures.push(BulkFailure { id, error }),
                }
            }
            if !failures.is_empty() {
                return Err(TxError::Domain(BulkUpdateError::Rejected(failures)));
            }
            // The printers the jobs move to, in id order, before the first event takes the
            // counter (each write_edit would otherwise take its printer after it).
            let mut printers: Vec<&Job> = decided
                .iter()
                .filter_map(|(current, event)| {
                    let event = event.as_ref()?;
                    (event.job.printer_id != current.printer_id).then_some(&event.job)
                })
                .collect();
            printers.sort_by(|a, b| a.printer_id.cmp(&b.printer_id));
            printers.dedup_by(|a, b| a.printer_id == b.printer_id);
            for job in printers {
                lock_assigned_printer(conn, None, job)?;
            }
            let mut outcomes = Vec::with_capacity(decided.len());
            for (current, event) in decided {
                let id = current.id;
                match write_edit(conn, current, event) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(TxError::Domain(EditJobError::Store(e))) => {
                        return Err(TxError::Domain(BulkUpdateError::Store(e)));
                    }
                    Err(TxError::Domain(error)) => {
                        return Err(TxError::Domain(BulkUpdateError::Rejected(vec![
                            BulkFailure { id, error },
                        ])));
                    }
                    Err(TxError::Diesel(e)) => return Err(TxError::Diesel(e)),
                }
            }
            Ok(outcomes)
        })
        .await
        .inspect(|outcomes| {
            self.search.written(outcomes.iter().filter_map(|o| match o {
                UpdateOutcome::Changed(event) => Some(event),
                UpdateOutcome::Unchanged(_) => None,
            }))
        })
    }

    async fn scan(
        &self,
        query: &JobQuery,
        after: Option<&Job>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let (query, after) = (query.clone(), after.cloned());
        let rows = self
            .read(move |conn| scan_page(conn, &query, after.as_ref(), limit))
            .await?;
        rows.into_iter().map(Job::try_from).collect()
    }

    async fn delete(&self, id: JobId, deletion: JobDeletion) -> Result<JobEvent, DeleteJobError> {
        self.write(move |conn| {
            let key = id.to_string();
            if !lock_job(conn, &key)? {
                return Err(TxError::Domain(DeleteJobError::NotFound));
            }
            let current = read_job(conn, &key)
                .map_err(lift)?
                .ok_or(TxError::Domain(DeleteJobError::NotFound))?;
            let event = deletion(&current).map_err(TxError::Domain)?;
            let seq = take_seq(conn)?;
            diesel::delete(jobs::table.find(&key)).execute(conn)?;
            record_event(conn, seq, event).map_err(lift)
        })
        .await
        .inspect(|event| self.search.written([event]))
    }
}
