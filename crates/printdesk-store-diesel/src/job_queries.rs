//! Reading jobs: one job, the filtered and sorted list with its count, the keyset scan of
//! the export, and the per-status counts for metrics.

use std::ops::Bound;

use diesel::{
    dsl::count_star,
    prelude::*,
    result::Error as DieselError,
    sql_types::{Bool, Text},
};
use printdesk_domain::{
    Job, JobQuery, JobSort, JobStatus, SearchQuery, SortDirection, SortKey, StoreError, TimeRange,
    customer_key,
    search::{TermRange, sort_key},
};

use crate::{
    connection::{AnyConnection, on_backend, unicode_lower},
    rows::{JobRow, to_db_time},
    schema::{job_counts, jobs},
    search_index::{ABOVE_EVERY_TERM, SearchPlan},
    store::{Store, TxError},
};

diesel::define_sql_function! {
    /// SQL `lower()`: the `customer` filter on PostgreSQL, whose `lower()` folds every script.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQLite's `instr()`: where `needle` starts in `haystack` (from 1), 0 when nowhere.
    fn instr(haystack: diesel::sql_types::Nullable<diesel::sql_types::Text>, needle: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

diesel::define_sql_function! {
    /// PostgreSQL's `strpos()`, the same as SQLite's `instr()`.
    fn strpos(haystack: diesel::sql_types::Nullable<diesel::sql_types::Text>, needle: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Integer>;
}

diesel::postfix_operator!(
    NullsLast,
    " NULLS LAST",
    diesel::expression::expression_types::NotSelectable
);

pub(crate) type Backend = <AnyConnection as diesel::Connection>::Backend;

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

/// Whether the query filters by something `job_counts` does not count by.
fn needs_a_count_of_jobs(query: &JobQuery) -> bool {
    query.customer.is_some() || query.created.is_bounded() || query.completed.is_bounded()
}

/// How many jobs the filters other than the text select: a sum over the few `job_counts` rows
/// they name, or a count of the jobs when a filter is one that `job_counts` does not count by.
fn count_by_filters(conn: &mut AnyConnection, query: &JobQuery) -> Result<i64, DieselError> {
    if needs_a_count_of_jobs(query) {
        let without_text = JobQuery {
            text: None,
            ..query.clone()
        };
        return filtered(&without_text, conn, Candidates::Scan)
            .select(count_star())
            .get_result(conn);
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

/// Whether the query filters by anything but the text.
fn has_other_filters(query: &JobQuery) -> bool {
    query.status.is_some()
        || query.printer_id.is_some()
        || query.is_business.is_some()
        || needs_a_count_of_jobs(query)
}

/// How many jobs match `query`, a text search planned as `plan`. A search whose ranges
/// decide, with no other filter, is counted in the index alone (its smallest range, the
/// others probed per job); any other counts the jobs its candidates leave.
fn count_matching(
    conn: &mut AnyConnection,
    query: &JobQuery,
    search: &SearchQuery,
    plan: &SearchPlan,
) -> Result<i64, DieselError> {
    if plan.finds_nothing() {
        return Ok(0);
    }
    if search.index_is_exact()
        && !has_other_filters(query)
        && let Some(n) = plan.count_in_index(conn)?
    {
        return Ok(n);
    }
    filtered(query, conn, Candidates::Planned(plan))
        .select(count_star())
        .get_result(conn)
}

/// How many of a search's index ranges (the narrowest first) select its candidates: each one
/// more costs a range scan and a set as large as its jobs, and narrows less than the last.
const CANDIDATE_RANGES: usize = 2;

/// Where a text search takes its candidates from.
#[derive(Debug, Clone, Copy)]
enum Candidates<'p> {
    /// The jobs the index finds for each range (the fewer they are, the better).
    Index,
    /// The jobs of the plan's smallest range that have a term in each other range
    /// ([`SearchPlan`]).
    Planned(&'p SearchPlan),
    /// Every job, in the list's order, until the page is full (the more jobs match, the
    /// sooner).
    Scan,
}

impl Candidates<'_> {
    fn from_index(search: &SearchQuery) -> Self {
        if search.index_ranges().is_empty() {
            Self::Scan
        } else {
            Self::Index
        }
    }
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

/// The jobs `query` selects. A text search narrows to `candidates` and checks each one's
/// search document for every pattern (what decides, on every store alike).
fn filtered(
    query: &JobQuery,
    conn: &AnyConnection,
    candidates: Candidates<'_>,
) -> jobs::BoxedQuery<'static, Backend> {
    narrowed(jobs::table.into_boxed(), query, conn, candidates)
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
/// `jobs` (the summary's grouped one too); a text search takes its candidates from the index
/// whenever it has something to look up.
pub(crate) fn filter_jobs<ST, GB>(
    q: JobsStatement<ST, GB>,
    query: &JobQuery,
    conn: &AnyConnection,
) -> JobsStatement<ST, GB> {
    let candidates = query
        .text
        .as_ref()
        .map_or(Candidates::Scan, Candidates::from_index);
    narrowed(q, query, conn, candidates)
}

/// [`filter_jobs`] with the text search's candidates chosen by the caller.
fn narrowed<ST, GB>(
    mut q: JobsStatement<ST, GB>,
    query: &JobQuery,
    conn: &AnyConnection,
    candidates: Candidates<'_>,
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
    if let Some(search) = &query.text {
        if let Candidates::Planned(plan) = candidates {
            q = q.filter(plan.filter());
        }
        if let Candidates::Index = candidates {
            // Written as SQL: a boxed sub-select does not serve both of `AnyConnection`'s
            // backends. Two ranges are intersected inside the index, so that only the jobs
            // in both are read (`benchy acme`: a few hundred, not the 12,500 `benchy` finds).
            let ranges: Vec<&TermRange> = search
                .index_ranges()
                .into_iter()
                .take(CANDIDATE_RANGES)
                .collect();
            let bounds = |r: &TermRange| {
                (
                    r.prefix.clone(),
                    r.end.clone().unwrap_or_else(|| ABOVE_EVERY_TERM.to_owned()),
                )
            };
            const SELECT: &str = "SELECT job_id FROM job_search_terms WHERE term >= ";
            match ranges.as_slice() {
                [] => {}
                [one] => {
                    let (from, to) = bounds(one);
                    q = q.filter(
                        diesel::dsl::sql::<Bool>("jobs.id IN (")
                            .sql(SELECT)
                            .bind::<Text, _>(from)
                            .sql(" AND term < ")
                            .bind::<Text, _>(to)
                            .sql(")"),
                    );
                }
                [first, second, ..] => {
                    let ((from1, to1), (from2, to2)) = (bounds(first), bounds(second));
                    q = q.filter(
                        diesel::dsl::sql::<Bool>("jobs.id IN (")
                            .sql(SELECT)
                            .bind::<Text, _>(from1)
                            .sql(" AND term < ")
                            .bind::<Text, _>(to1)
                            .sql(" INTERSECT ")
                            .sql(SELECT)
                            .bind::<Text, _>(from2)
                            .sql(" AND term < ")
                            .bind::<Text, _>(to2)
                            .sql(")"),
                    );
                }
            }
        }
        for pattern in search.patterns() {
            let pattern = pattern.to_owned();
            q = match conn {
                AnyConnection::Sqlite(_) => q.filter(instr(jobs::search_text, pattern).gt(0)),
                AnyConnection::Postgres(_) => q.filter(strpos(jobs::search_text, pattern).gt(0)),
            };
        }
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
        // Text by its collation key (never NULL for the name; NULLS LAST would cost
        // PostgreSQL the index in descending order).
        SortKey::JobName => order!(jobs::name_key),
        SortKey::Status => order!(jobs::status),
        SortKey::CustomerName => order!(jobs::customer_key, nullable),
        SortKey::PrinterId => order!(jobs::printer_id, nullable),
        SortKey::FileName => order!(jobs::file_key, nullable),
        SortKey::StartedAt => order!(jobs::started_at, nullable),
        SortKey::CompletedAt => order!(jobs::completed_at, nullable),
    }
}

/// One page of the list and the number of matching jobs.
///
/// A text search with something to look up counts its matches first, and then takes the page
/// from the cheaper source: the index's candidates, sorted, when they are few; the list's own
/// order (an index walk) checked job by job when so many jobs match that the page fills
/// within fewer jobs than there are candidates (`benchy`, one job in eight, fills 50 within
/// about 400).
pub(crate) fn list_page(
    conn: &mut AnyConnection,
    query: &JobQuery,
) -> Result<(Vec<JobRow>, i64), DieselError> {
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let limit = i64::from(query.limit.get());
    let page = |conn: &mut AnyConnection, candidates| {
        sorted(filtered(query, conn, candidates), query)
            .select(JobRow::as_select())
            .limit(limit)
            .offset(offset)
            .load::<JobRow>(conn)
    };
    if let Some(search) = query.text.as_ref().filter(|s| !s.index_ranges().is_empty()) {
        let plan = SearchPlan::of(conn, &search.index_ranges())?;
        let total = count_matching(conn, query, search, &plan)?;
        if total == 0 || offset >= total {
            return Ok((Vec::new(), total));
        }
        let jobs = count_by_filters(conn, query)?;
        // Rows read: about `total` through the index, `(offset + limit) * jobs / total` in
        // the list's order.
        let window = offset.saturating_add(limit) as f64;
        let candidates = if (total as f64) * (total as f64) <= window * jobs as f64 {
            Candidates::Planned(&plan)
        } else {
            Candidates::Scan
        };
        return Ok((page(conn, candidates)?, total));
    }
    let rows = page(conn, Candidates::Scan)?;
    // Counting is only needed when the page does not already tell the total.
    let total = if query.offset == 0 && (rows.len() as u64) < u64::from(query.limit.get()) {
        rows.len() as i64
    } else {
        match &query.text {
            None => count_by_filters(conn, query)?,
            // A search with nothing to look up in the index: a check of every job.
            Some(_) => filtered(query, conn, Candidates::Scan)
                .select(count_star())
                .get_result(conn)?,
        }
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
        SortKey::JobName => after!(jobs::name_key, sort_key(after.job_name.as_str())),
        SortKey::Status => after!(jobs::status, after.status.as_str().to_owned()),
        SortKey::CustomerName => after!(
            jobs::customer_key,
            after.customer_name.as_ref().map(|v| sort_key(v.as_str())),
            nullable
        ),
        SortKey::PrinterId => after!(
            jobs::printer_id,
            text(after.printer_id.as_ref().map(|v| v.as_str())),
            nullable
        ),
        SortKey::FileName => after!(
            jobs::file_key,
            after.file_name.as_ref().map(|v| sort_key(v.as_str())),
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
    // Planned as the list is: the export of a search reads the smallest range's jobs.
    let plan = match query.text.as_ref().filter(|s| !s.index_ranges().is_empty()) {
        Some(search) => Some(SearchPlan::of(conn, &search.index_ranges())?),
        None => None,
    };
    if plan.as_ref().is_some_and(SearchPlan::finds_nothing) {
        return Ok(Vec::new());
    }
    let candidates = plan.as_ref().map_or(Candidates::Scan, Candidates::Planned);
    let mut q = filtered(query, conn, candidates);
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
