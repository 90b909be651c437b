//! Reading jobs: one job, the filtered and sorted list with its count, the keyset scan of
//! the export, and the per-status counts for metrics.

use std::ops::Bound;

use diesel::{dsl::count_star, prelude::*, result::Error as DieselError};
use printdesk_domain::{
    Job, JobQuery, JobSort, JobStatus, SortDirection, SortKey, StoreError, TimeRange, customer_key,
};

use crate::{
    connection::{AnyConnection, on_backend, unicode_lower},
    rows::{JobRow, to_db_time},
    schema::{job_counts, jobs},
    store::{Store, TxError},
};

diesel::define_sql_function! {
    /// SQL `lower()`, for case-insensitive search on PostgreSQL.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::postfix_operator!(
    NullsLast,
    " NULLS LAST",
    diesel::expression::expression_types::NotSelectable
);

type Backend = <AnyConnection as diesel::Connection>::Backend;

// Single-row reads use `get_result`, not `first`: `first` binds `LIMIT ?`, and SQLite
// re-prepares a statement whose LIMIT parameter is re-bound (measured: 12% of an edit's CPU,
// 23% of a single GET; see docs/performance.md).

/// The stored row of the job `id`, if there is one.
pub(crate) fn find_job_row(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<JobRow>, DieselError> {
    on_backend!(conn, |conn| jobs::table
        .find(id)
        .select(JobRow::as_select())
        .get_result(conn)
        .optional())
}

/// The job `id`, if there is one.
pub(crate) fn read_job(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Job>, TxError<StoreError>> {
    let row = find_job_row(conn, id)?;
    row.map(Job::try_from).transpose().map_err(TxError::Domain)
}

/// The text to search for, if the query searches.
fn search_text(query: &JobQuery) -> Option<&str> {
    query.text.as_deref().filter(|t| !t.is_empty())
}

/// Whether the query filters by something `job_counts` does not count by.
fn needs_a_count_of_jobs(query: &JobQuery) -> bool {
    query.customer.is_some() || query.created.is_bounded() || query.completed.is_bounded()
}

/// How many jobs match `query`. Without a text search that is a sum over the few
/// `job_counts` rows the filters select; a search has to count the matching jobs.
fn count_matching(conn: &mut AnyConnection, query: &JobQuery) -> Result<i64, DieselError> {
    if search_text(query).is_some() || needs_a_count_of_jobs(query) {
        return filtered(query, conn).select(count_star()).get_result(conn);
    }
    // Named field by field: a filter added to `JobQuery` must be added here too.
    let JobQuery {
        status,
        printer_id,
        is_business,
        text: _,
        customer: _,
        created: _,
        completed: _,
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

/// `$q` narrowed to the rows whose `$column` lies in `$range` (a macro: one body for a
/// column and for a nullable column taken as not null).
macro_rules! within {
    ($q:expr, $column:expr, $range:expr) => {{
        let (q, range): (_, TimeRange) = ($q, $range);
        let q = match range.start {
            Bound::Included(t) => q.filter($column.ge(to_db_time(t))),
            Bound::Excluded(t) => q.filter($column.gt(to_db_time(t))),
            Bound::Unbounded => q,
        };
        match range.end {
            Bound::Included(t) => q.filter($column.le(to_db_time(t))),
            Bound::Excluded(t) => q.filter($column.lt(to_db_time(t))),
            Bound::Unbounded => q,
        }
    }};
}

/// The jobs `query` selects. The text search is written for `conn`'s backend.
fn filtered(query: &JobQuery, conn: &AnyConnection) -> jobs::BoxedQuery<'static, Backend> {
    filter_jobs(jobs::table.into_boxed(), query, conn)
}

/// A boxed statement over `jobs`, whatever it selects and groups by.
pub(crate) type JobsStatement<ST, GB> = diesel::internal::table_macro::BoxedSelectStatement<
    'static,
    ST,
    diesel::internal::table_macro::FromClause<jobs::table>,
    Backend,
    GB,
>;

/// `q` narrowed to the jobs `query` selects: the list's filters, for any statement over
/// `jobs` (the summary's grouped one too).
pub(crate) fn filter_jobs<ST, GB>(
    mut q: JobsStatement<ST, GB>,
    query: &JobQuery,
    conn: &AnyConnection,
) -> JobsStatement<ST, GB> {
    if let Some(status) = query.status {
        q = q.filter(jobs::status.eq(status.as_str()));
    }
    if let Some(printer) = &query.printer_id {
        q = q.filter(jobs::printer_id.eq(printer.to_string()));
    }
    if let Some(business) = query.is_business {
        q = q.filter(jobs::is_business.eq(business));
    }
    if let Some(customer) = &query.customer {
        let key = customer_key(customer.as_str());
        q = match conn {
            // SQLite's `lower()` folds ASCII only; `unicode_lower` is the domain's rule.
            AnyConnection::Sqlite(_) => q.filter(unicode_lower(jobs::customer_name).eq(key)),
            AnyConnection::Postgres(_) => {
                q.filter(lower(jobs::customer_name.assume_not_null()).eq(key))
            }
        };
    }
    q = within!(q, jobs::created_at, query.created);
    // A bounded span compares with NULL, which leaves out the jobs that have not ended.
    q = within!(q, jobs::completed_at.assume_not_null(), query.completed);
    if let Some(text) = search_text(query) {
        let escape = |text: &str| -> String {
            let escaped: String = text
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("%{escaped}%")
        };
        // The four columns, each passed through `$fold` before the match.
        macro_rules! any_column_like {
            ($fold:path, $pattern:expr) => {{
                let pattern = $pattern;
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
            }};
        }
        q = match conn {
            // SQLite's LIKE ignores ASCII case by itself, and its `lower()` folds nothing
            // beyond ASCII, so `lower()` would only cost time: a search scans every job,
            // and without it the scan takes half as long (measured: 13 → 23 searches/s).
            // The text is matched as given: lowering it here would fold letters beyond ASCII
            // that the column keeps, and `MÜLLER` would no longer find `MÜLLER`.
            AnyConnection::Sqlite(_) => {
                q.filter(any_column_like!(std::convert::identity, escape(text)))
            }
            // PostgreSQL's LIKE is case-sensitive; its `lower()` folds all of Unicode, on
            // the column and on the text alike.
            AnyConnection::Postgres(_) => {
                q.filter(any_column_like!(lower, escape(&text.to_lowercase())))
            }
        };
    }
    q
}

/// The list's order: the key in its direction, ties by id in the same direction, and jobs
/// without a value for the key last in both directions (the port's contract). `NULLS LAST`
/// is each backend's own order for some directions (PostgreSQL ascending, SQLite
/// descending), where an index over the column still yields it; elsewhere it costs a sort,
/// as any order over these unindexed columns does.
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
        ($col:expr, nullable) => {
            match query.sort.direction {
                SortDirection::Asc => q.order_by((NullsLast::new($col.asc()), jobs::id.asc())),
                SortDirection::Desc => q.order_by((NullsLast::new($col.desc()), jobs::id.desc())),
            }
        };
    }
    match query.sort.key {
        SortKey::CreatedAt => order!(jobs::created_at),
        SortKey::UpdatedAt => order!(jobs::updated_at),
        SortKey::JobName => order!(jobs::job_name),
        SortKey::Status => order!(jobs::status),
        SortKey::CustomerName => order!(jobs::customer_name, nullable),
        SortKey::PrinterId => order!(jobs::printer_id, nullable),
        SortKey::FileName => order!(jobs::file_name, nullable),
        SortKey::StartedAt => order!(jobs::started_at, nullable),
        SortKey::CompletedAt => order!(jobs::completed_at, nullable),
    }
}

/// One page of the list and the number of matching jobs.
pub(crate) fn list_page(
    conn: &mut AnyConnection,
    query: &JobQuery,
) -> Result<(Vec<JobRow>, i64), DieselError> {
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let rows: Vec<JobRow> = sorted(filtered(query, conn), query)
        .select(JobRow::as_select())
        .limit(i64::from(query.limit.get()))
        .offset(offset)
        .load(conn)?;
    // Counting is only needed when the page does not already tell the total.
    let total = if query.offset == 0 && (rows.len() as u64) < u64::from(query.limit.get()) {
        rows.len() as i64
    } else {
        count_matching(conn, query)?
    };
    Ok((rows, total))
}

/// `q` narrowed to the jobs that come after `after` in the list's order: the keyset form of
/// [`sorted`], which it mirrors key by key (the contract suite reads every order both ways
/// and compares). A job without a value for the key comes after every job with one; among
/// those without, by id.
fn after_in_order(
    q: jobs::BoxedQuery<'static, Backend>,
    sort: JobSort,
    after: &Job,
) -> jobs::BoxedQuery<'static, Backend> {
    let id = after.id.to_string();
    let asc = sort.direction == SortDirection::Asc;
    macro_rules! after {
        ($col:expr, $value:expr) => {{
            let v = $value;
            if asc {
                q.filter($col.gt(v.clone()).or($col.eq(v).and(jobs::id.gt(id))))
            } else {
                q.filter($col.lt(v.clone()).or($col.eq(v).and(jobs::id.lt(id))))
            }
        }};
        ($col:expr, $value:expr, nullable) => {{
            match ($value, asc) {
                (Some(v), true) => q.filter(
                    $col.gt(v.clone())
                        .or($col.eq(v).and(jobs::id.gt(id)))
                        .or($col.is_null()),
                ),
                (Some(v), false) => q.filter(
                    $col.lt(v.clone())
                        .or($col.eq(v).and(jobs::id.lt(id)))
                        .or($col.is_null()),
                ),
                (None, true) => q.filter($col.is_null().and(jobs::id.gt(id))),
                (None, false) => q.filter($col.is_null().and(jobs::id.lt(id))),
            }
        }};
    }
    let text = |v: Option<&str>| v.map(str::to_owned);
    match sort.key {
        SortKey::CreatedAt => after!(jobs::created_at, to_db_time(after.created_at)),
        SortKey::UpdatedAt => after!(jobs::updated_at, to_db_time(after.updated_at)),
        SortKey::JobName => after!(jobs::job_name, after.job_name.as_str().to_owned()),
        SortKey::Status => after!(jobs::status, after.status.as_str().to_owned()),
        SortKey::CustomerName => after!(
            jobs::customer_name,
            text(after.customer_name.as_ref().map(|v| v.as_str())),
            nullable
        ),
        SortKey::PrinterId => after!(
            jobs::printer_id,
            text(after.printer_id.as_ref().map(|v| v.as_str())),
            nullable
        ),
        SortKey::FileName => after!(
            jobs::file_name,
            text(after.file_name.as_ref().map(|v| v.as_str())),
            nullable
        ),
        SortKey::StartedAt => after!(jobs::started_at, after.started_at.map(to_db_time), nullable),
        SortKey::CompletedAt => after!(
            jobs::completed_at,
            after.completed_at.map(to_db_time),
            nullable
        ),
    }
}

/// Up to `limit` jobs matching the filters after `after` in the query's order.
pub(crate) fn scan_page(
    conn: &mut AnyConnection,
    query: &JobQuery,
    after: Option<&Job>,
    limit: u32,
) -> Result<Vec<JobRow>, DieselError> {
    let mut q = filtered(query, conn);
    if let Some(after) = after {
        q = after_in_order(q, query.sort, after);
    }
    sorted(q, query)
        .limit(i64::from(limit))
        .select(JobRow::as_select())
        .load::<JobRow>(conn)
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
