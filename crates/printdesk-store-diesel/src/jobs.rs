//! [`JobRepository`] on Diesel: jobs and their event log.

use async_trait::async_trait;
use diesel::{
    dsl::count_star,
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};
use printdesk_domain::{
    BulkFailure, BulkUpdateError, CreateJobError, DeleteJobError, EditJobError, FieldViolation,
    Job, JobDeletion, JobEdit, JobEvent, JobId, JobPage, JobQuery, JobRepository, JobStatus,
    NewJobEvent, Seq, SortDirection, SortKey, StoreError, UpdateOutcome, ValidationErrors, Version,
};

use crate::{
    cached_update::CachedUpdate,
    connection::{AnyConnection, on_backend},
    rows::{EventRow, JobRow, JobRowChanges},
    schema::{event_seq, job_counts, job_events, jobs},
    store::{Store, TxError},
};

diesel::define_sql_function! {
    /// SQL `lower()`, for case-insensitive search on PostgreSQL.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

type Backend = <AnyConnection as diesel::Connection>::Backend;

// Single-row reads use `get_result`, not `first`: `first` binds `LIMIT ?`, and SQLite
// re-prepares a statement whose LIMIT parameter is re-bound (measured: 12% of an edit's CPU,
// 23% of a single GET; see docs/performance.md).

/// Takes the event log's next `seq`. Every write does this before it changes a job:
/// incrementing the single counter row takes its write lock until commit, so concurrent
/// transactions commit in `seq` order, a rolled back one gives its number back, and only one
/// transaction at a time goes on to change jobs (and, through triggers, the per-status job
/// counts, which therefore cannot deadlock).
pub(crate) fn take_seq(conn: &mut AnyConnection) -> Result<Seq, DieselError> {
    on_backend!(conn, |conn| CachedUpdate::new(
        event_seq::table,
        event_seq::last.eq(event_seq::last + 1),
        event_seq::id.eq(1),
    )
    .returning(event_seq::last)
    .get_result(conn))
    .map(Seq::new)
}

/// Records `event` in the log under `seq` (from [`take_seq`] in the same transaction). On
/// PostgreSQL it also queues `NOTIFY printdesk_events`, which is sent on commit.
pub(crate) fn record_event(
    conn: &mut AnyConnection,
    seq: Seq,
    event: NewJobEvent,
) -> Result<JobEvent, TxError<StoreError>> {
    let row = EventRow::new(&event, seq).map_err(TxError::Domain)?;
    on_backend!(conn, |conn| diesel::insert_into(job_events::table)
        .values(&row)
        .execute(conn))?;
    // PostgreSQL only: wakes the other instances' tailers when (and only if) this commits.
    crate::listen::notify_appended(conn, seq)?;
    Ok(event.committed(seq))
}

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

/// The stored row of the job `id`, if there is one.
fn find_job_row(conn: &mut AnyConnection, id: &str) -> Result<Option<JobRow>, DieselError> {
    on_backend!(conn, |conn| jobs::table
        .find(id)
        .select(JobRow::as_select())
        .get_result(conn)
        .optional())
}

fn read_job(conn: &mut AnyConnection, id: &str) -> Result<Option<Job>, TxError<StoreError>> {
    let row = find_job_row(conn, id)?;
    row.map(Job::try_from).transpose().map_err(TxError::Domain)
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

/// The text to search for, if the query searches.
fn search_text(query: &JobQuery) -> Option<&str> {
    query.text.as_deref().filter(|t| !t.is_empty())
}

/// How many jobs match `query`. Without a text search that is a sum over the few
/// `job_counts` rows the filters select; a search has to count the matching jobs.
fn count_matching(conn: &mut AnyConnection, query: &JobQuery) -> Result<i64, DieselError> {
    if search_text(query).is_some() {
        return filtered(query, conn).select(count_star()).get_result(conn);
    }
    // Named field by field: a filter added to `JobQuery` must be added here too.
    let JobQuery {
        status,
        printer_id,
        is_business,
        text: _,
        sort: _,
        limit: _,
        offset: _,
    } = query;
    let mut counts = job_counts::table.select(job_counts::n).into_boxed();
    if let Some(status) = status {
        counts = counts.filter(job_counts::status.eq(status.as_str()));
    }
    if let Some(printer) = printer_id {
        counts = counts.filter(job_counts::printer_key.eq(printer.to_string()));
    }
    if let Some(business) = is_business {
        counts = counts.filter(job_counts::is_business.eq(*business));
    }
    Ok(counts.load::<i64>(conn)?.into_iter().sum())
}

/// The jobs `query` selects. The text search is written for `conn`'s backend.
fn filtered(query: &JobQuery, conn: &AnyConnection) -> jobs::BoxedQuery<'static, Backend> {
    let mut q = jobs::table.into_boxed();
    if let Some(status) = query.status {
        q = q.filter(jobs::status.eq(status.as_str()));
    }
    if let Some(printer) = &query.printer_id {
        q = q.filter(jobs::printer_id.eq(printer.to_string()));
    }
    if let Some(business) = query.is_business {
        q = q.filter(jobs::is_business.eq(business));
    }
    if let Some(text) = search_text(query) {
        let escaped: String = text
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        // The four columns, each passed through `$fold` before the match.
        macro_rules! any_column_like {
            ($fold:path) => {
                $fold(jobs::job_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or($fold(jobs::customer_name.assume_not_null())
                        .like(pattern.clone())
                        .escape('\\'))
                    .or($fold(jobs::notes.assume_not_null())
                        .like(pattern.clone())
                        .escape('\\'))
                    .or($fold(jobs::file_name.assume_not_null())
                        .like(pattern)
                        .escape('\\'))
            };
        }
        q = match conn {
            // SQLite's LIKE ignores ASCII case by itself, and its `lower()` folds nothing
            // beyond ASCII, so `lower()` would only cost time: a search scans every job,
            // and without it the scan takes half as long (measured: 13 → 23 searches/s).
            AnyConnection::Sqlite(_) => q.filter(any_column_like!(std::convert::identity)),
            // PostgreSQL's LIKE is case-sensitive; its `lower()` folds all of Unicode.
            AnyConnection::Postgres(_) => q.filter(any_column_like!(lower)),
        };
    }
    q
}

fn sorted(
    q: jobs::BoxedQuery<'static, Backend>,
    query: &JobQuery,
) -> jobs::BoxedQuery<'static, Backend> {
    macro_rules! order {
        ($col:expr) => {
            match query.sort.direction {
                SortDirection::Asc => q.order_by(($col.asc(), jobs::id.asc())),
                SortDirection::Desc => q.order_by(($col.desc(), jobs::id.desc())),
            }
        };
    }
    match query.sort.key {
        SortKey::CreatedAt => order!(jobs::created_at),
        SortKey::UpdatedAt => order!(jobs::updated_at),
        SortKey::JobName => order!(jobs::job_name),
        SortKey::Status => order!(jobs::status),
        SortKey::CustomerName => order!(jobs::customer_name),
        SortKey::PrinterId => order!(jobs::printer_id),
        SortKey::FileName => order!(jobs::file_name),
    }
}

/// The printer foreign key refused `job`: the same violation the domain reports for a
/// printer that does not exist (here: deleted after the domain checked).
fn unknown_printer(e: &TxError<StoreError>, job: &Job) -> Option<ValidationErrors> {
    let fk_violation = matches!(
        e,
        TxError::Diesel(DieselError::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation,
            _
        ))
    );
    let printer = job.printer_id.as_ref().filter(|_| fk_violation)?;
    Some(ValidationErrors::single(FieldViolation::unknown_printer(
        printer,
    )))
}

/// Lifts a store-level failure inside a transaction into an operation's error type.
fn lift<E: From<StoreError>>(e: TxError<StoreError>) -> TxError<E> {
    match e {
        TxError::Domain(e) => TxError::Domain(E::from(e)),
        TxError::Diesel(e) => TxError::Diesel(e),
    }
}

#[async_trait]
impl JobRepository for Store {
    async fn insert(&self, event: NewJobEvent) -> Result<JobEvent, CreateJobError> {
        self.write(move |conn| {
            let seq = take_seq(conn)?;
            let row = JobRow::from(&event.job);
            let inserted = diesel::insert_into(jobs::table)
                .values(&row)
                .execute(conn)
                .map_err(TxError::from);
            if let Err(e) = inserted {
                return Err(match unknown_printer(&e, &event.job) {
                    Some(violation) => TxError::Domain(CreateJobError::Invalid(violation)),
                    None => lift(e),
                });
            }
            record_event(conn, seq, event).map_err(lift)
        })
        .await
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let row = self
            .read(move |conn| find_job_row(conn, &id.to_string()))
            .await?;
        row.map(Job::try_from).transpose()
    }

    async fn list(&self, query: &JobQuery) -> Result<JobPage, StoreError> {
        let query = query.clone();
        let (rows, total) = self
            .read(move |conn| {
                let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
                let rows: Vec<JobRow> = sorted(filtered(&query, conn), &query)
                    .select(JobRow::as_select())
                    .limit(i64::from(query.limit.get()))
                    .offset(offset)
                    .load(conn)?;
                // Counting is only needed when the page does not already tell the total.
                let total =
                    if query.offset == 0 && (rows.len() as u64) < u64::from(query.limit.get()) {
                        rows.len() as i64
                    } else {
                        count_matching(conn, &query)?
                    };
                Ok((rows, (query, total)))
            })
            .await?;
        let (query, total) = total;
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

    async fn update(&self, id: JobId, edit: JobEdit) -> Result<UpdateOutcome, EditJobError> {
        self.write(move |conn| {
            let key = id.to_string();
            if !lock_job(conn, &key)? {
                return Err(TxError::Domain(EditJobError::NotFound));
            }
            let current = read_job(conn, &key)
                .map_err(lift)?
                .ok_or(TxError::Domain(EditJobError::NotFound))?;
            let Some(event) = edit(&current).map_err(TxError::Domain)? else {
                return Ok(UpdateOutcome::Unchanged(current));
            };
            let seq = take_seq(conn)?;
            if let Err(e) = write_job(conn, &current, &event.job) {
                return Err(match unknown_printer(&e, &event.job) {
                    Some(violation) => TxError::Domain(EditJobError::Invalid(violation)),
                    None => lift(e),
                });
            }
            record_event(conn, seq, event)
                .map(UpdateOutcome::Changed)
                .map_err(lift)
        })
        .await
    }

    async fn update_many(
        &self,
        edits: Vec<(JobId, JobEdit)>,
    ) -> Result<Vec<UpdateOutcome>, BulkUpdateError> {
        self.write(move |conn| {
            // Lock in id order, so two bulk edits over overlapping jobs cannot deadlock.
            let mut keys: Vec<JobId> = edits.iter().map(|(id, _)| *id).collect();
            keys.sort_unstable();
            let mut failures = Vec::new();
            for id in &keys {
                if !lock_job(conn, &id.to_string())? {
                    failures.push(BulkFailure {
                        id: *id,
                        error: EditJobError::NotFound,
                    });
                }
            }
            let mut decided = Vec::with_capacity(edits.len());
            for (id, edit) in edits {
                if failures.iter().any(|f| f.id == id) {
                    continue;
                }
                let Some(current) = read_job(conn, &id.to_string()).map_err(lift)? else {
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
            let mut outcomes = Vec::with_capacity(decided.len());
            for (current, event) in decided {
                let Some(event) = event else {
                    outcomes.push(UpdateOutcome::Unchanged(current));
                    continue;
                };
                let seq = take_seq(conn)?;
                if let Err(e) = write_job(conn, &current, &event.job) {
                    return Err(match unknown_printer(&e, &event.job) {
                        Some(violation) => {
                            TxError::Domain(BulkUpdateError::Rejected(vec![BulkFailure {
                                id: current.id,
                                error: EditJobError::Invalid(violation),
                            }]))
                        }
                        None => lift(e),
                    });
                }
                outcomes.push(UpdateOutcome::Changed(
                    record_event(conn, seq, event).map_err(lift)?,
                ));
            }
            Ok(outcomes)
        })
        .await
    }

    async fn scan(
        &self,
        query: &JobQuery,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let query = query.clone();
        let rows = self
            .read(move |conn| {
                let mut q = filtered(&query, conn);
                if let Some(after) = after {
                    q = q.filter(jobs::id.gt(after.to_string()));
                }
                q.order_by(jobs::id.asc())
                    .limit(i64::from(limit))
                    .select(JobRow::as_select())
                    .load::<JobRow>(conn)
            })
            .await?;
        rows.into_iter().map(Job::try_from).collect()
    }

    async fn delete(
        &self,
        id: JobId,
        expected: Option<Version>,
        deletion: JobDeletion,
    ) -> Result<JobEvent, DeleteJobError> {
        self.write(move |conn| {
            let key = id.to_string();
            if !lock_job(conn, &key)? {
                return Err(TxError::Domain(DeleteJobError::NotFound));
            }
            let current = read_job(conn, &key)
                .map_err(lift)?
                .ok_or(TxError::Domain(DeleteJobError::NotFound))?;
            if expected.is_some_and(|v| v != current.version) {
                return Err(TxError::Domain(DeleteJobError::VersionMismatch {
                    current: Box::new(current),
                }));
            }
            let seq = take_seq(conn)?;
            diesel::delete(jobs::table.find(&key)).execute(conn)?;
            record_event(conn, seq, deletion(&current)).map_err(lift)
        })
        .await
    }

    async fn events_after(&self, after: Seq, limit: u32) -> Result<Vec<JobEvent>, StoreError> {
        let rows = self
            .read(move |conn| {
                on_backend!(conn, |conn| job_events::table
                    .filter(job_events::seq.gt(after.get()))
                    .order_by(job_events::seq.asc())
                    .limit(i64::from(limit))
                    .select(EventRow::as_select())
                    .load(conn))
            })
            .await?;
        rows.into_iter().map(JobEvent::try_from).collect()
    }

    async fn latest_seq(&self) -> Result<Seq, StoreError> {
        let last = self
            .read(|conn| {
                event_seq::table
                    .find(1)
                    .select(event_seq::last)
                    .get_result::<i64>(conn)
            })
            .await?;
        Ok(Seq::new(last))
    }

    async fn history(
        &self,
        id: JobId,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<JobEvent>, u64), StoreError> {
        let (rows, total) = self
            .read(move |conn| {
                let key = id.to_string();
                let rows: Vec<EventRow> = job_events::table
                    .filter(job_events::job_id.eq(&key))
                    .order_by(job_events::seq.desc())
                    .limit(i64::from(limit))
                    .offset(i64::try_from(offset).unwrap_or(i64::MAX))
                    .select(EventRow::as_select())
                    .load(conn)?;
                let total: i64 = job_events::table
                    .filter(job_events::job_id.eq(&key))
                    .select(count_star())
                    .get_result(conn)?;
                Ok((rows, total))
            })
            .await?;
        let events = rows
            .into_iter()
            .map(JobEvent::try_from)
            .collect::<Result<_, _>>()?;
        Ok((events, u64::try_from(total).unwrap_or_default()))
    }
}

impl Store {
    /// How many jobs are in each status; statuses without jobs are absent. One grouped count,
    /// answered from the `(status, …)` index: cheap enough for every metrics scrape.
    pub async fn count_jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .read(|conn| {
                jobs::table
                    .group_by(jobs::status)
                    .select((jobs::status, count_star()))
                    .load(conn)
            })
            .await?;
        rows.into_iter()
            .map(|(status, n)| {
                let status = status.parse::<JobStatus>().map_err(|e| {
                    StoreError::Internal(format!("a stored job has status '{status}': {e}"))
                })?;
                Ok((status, u64::try_from(n).unwrap_or_default()))
            })
            .collect()
    }
}
