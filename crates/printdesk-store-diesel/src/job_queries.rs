//! Reading jobs: one job, the filtered and sorted list with its count, the keyset scan of
//! the export, and the per-status counts for metrics.

use std::ops::Bound;

use diesel::{dsl::count_star, prelude::*, result::Error as DieselError};
use printdesk_domain::{
    Job, JobId, JobQuery, JobSort, JobStatus, SearchHits, SortDirection, SortKey, StoreError,
    TimeRange, customer_key, search::sort_key,
};

use crate::{
    connection::{AnyConnection, on_backend, unicode_lower},
    raw_sql::RawSql,
    rows::{JobRow, to_db_time},
    schema::{job_counts, jobs},
    search_index::SearchProjection,
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
        return filtered(&without_text, conn)
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

/// The jobs `query` selects; a text search checks every job's search document for every
/// pattern (what decides, on every store alike). The list answers a search from the index
/// instead ([`indexed_page`]).
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
/// `jobs` (the summary's grouped one too). A text search is checked on each job's search
/// document: the summary and the export of a search read every job once anyway.
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
    if let Some(search) = &query.text {
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

/// `jobs.id IN (…)` for the jobs `ids`, bound as one JSON array whatever their number (one
/// statement to keep prepared, and no backend's limit on parameters).
fn id_in(conn: &AnyConnection, ids: impl Iterator<Item = JobId>) -> RawSql {
    let mut json = String::from("[");
    for (i, id) in ids.enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push('"');
        json.push_str(&id.to_string());
        json.push('"');
    }
    json.push(']');
    let mut sql = RawSql::default();
    match conn {
        AnyConnection::Sqlite(_) => sql
            .push("jobs.id IN (SELECT value FROM json_each(")
            .bind(json)
            .push("))"),
        AnyConnection::Postgres(_) => sql
            .push("jobs.id IN (SELECT json_array_elements_text(CAST(")
            .bind(json)
            .push(" AS json)))"),
    };
    sql
}

/// How many rows of the list's order a page may walk per job the search found before it
/// reads the found jobs themselves instead: reading one of those (a key look-up, then a sort)
/// costs a few rows of walking an index.
const WALK_PER_HIT: i64 = 4;

/// One page of a search's `hits` (exactly the jobs its text matches) and their number, with
/// `query`'s other filters and order. With no other filter, the count is the index's own,
/// and in time order (`created_at`, `updated_at`) so is the page: only its jobs are read.
/// Otherwise the page comes from the cheaper source: the list's order walked (ids only) and each
/// job tested against the hits, when so many match that the page fills within a few hundred
/// rows (`benchy`, one job in eight, fills 50 within about 400); the hits themselves, looked
/// up and sorted, when they are few.
fn indexed_page(
    conn: &mut AnyConnection,
    query: &JobQuery,
    hits: &SearchHits<'_>,
    indexed_jobs: usize,
) -> Result<(Vec<JobRow>, i64), DieselError> {
    if hits.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let limit = i64::from(query.limit.get());
    let window = offset.saturating_add(limit);
    let rest = JobQuery {
        text: None,
        ..query.clone()
    };
    let others = has_other_filters(query);
    // Every hit's id as one parameter: built once, for the count with other filters and for
    // a page read from the hits themselves.
    let every_hit = std::cell::OnceCell::new();
    let every_hit =
        |conn: &AnyConnection| every_hit.get_or_init(|| id_in(conn, hits.ids())).clone();
    let total: i64 = if others {
        filtered(&rest, conn)
            .filter(every_hit(conn))
            .select(count_star())
            .get_result(conn)?
    } else {
        i64::try_from(hits.len()).unwrap_or(i64::MAX)
    };
    if total == 0 || offset >= total {
        return Ok((Vec::new(), total));
    }
    let by_ids = |conn: &mut AnyConnection, ids: Vec<JobId>| {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sorted(
            filtered(&rest, conn).filter(id_in(conn, ids.into_iter())),
            query,
        )
        .select(JobRow::as_select())
        .load::<JobRow>(conn)
    };
    // In time order (the list's default), the index orders the hits itself.
    if !others
        && let Some(page) = hits.page(
            query.sort,
            usize::try_from(offset).unwrap_or(usize::MAX),
            usize::try_from(limit).unwrap_or(usize::MAX),
        )
    {
        return Ok((by_ids(conn, page)?, total));
    }
    let population = if others {
        count_by_filters(conn, &rest)?
    } else {
        i64::try_from(indexed_jobs).unwrap_or(i64::MAX)
    };
    // Rows walked to fill the window if the hits are spread evenly over the order, and half
    // as many again for an uneven spread.
    let expected = (window as f64 * population as f64 / total as f64).ceil() as i64;
    if expected <= WALK_PER_HIT.saturating_mul(i64::try_from(hits.len()).unwrap_or(i64::MAX)) {
        let walk = expected
            .saturating_add(expected / 2)
            .saturating_add(limit)
            .min(population.max(1));
        let ids: Vec<String> = sorted(filtered(&rest, conn), query)
            .select(jobs::id)
            .limit(walk)
            .load(conn)?;
        let walked = ids.len() as i64;
        let found: Vec<JobId> = ids
            .iter()
            .filter_map(|id| id.parse::<JobId>().ok())
            .filter(|id| hits.contains(*id))
            .take(usize::try_from(window).unwrap_or(usize::MAX))
            .collect();
        if found.len() as i64 >= window.min(total) || walked < walk {
            let page: Vec<JobId> = found
                .into_iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .collect();
            return Ok((by_ids(conn, page)?, total));
        }
        // The hits lie further along the order than an even spread: read them instead.
    }
    let rows = sorted(filtered(&rest, conn).filter(every_hit(conn)), query)
        .select(JobRow::as_select())
        .limit(limit)
        .offset(offset)
        .load::<JobRow>(conn)?;
    Ok((rows, total))
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

/// One page of the list and the number of matching jobs. A text search is answered from
/// the search index when it is built ([`indexed_page`]); until then, by checking each job.
pub(crate) fn list_page(
    conn: &mut AnyConnection,
    query: &JobQuery,
    search: &std::sync::Arc<SearchProjection>,
) -> Result<(Vec<JobRow>, i64), DieselError> {
    if let Some(text) = &query.text
        && let Some(index) = search.current(conn)?
    {
        let hits = index.search(text);
        return indexed_page(conn, query, &hits, index.len());
    }
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let limit = i64::from(query.limit.get());
    let rows = sorted(filtered(query, conn), query)
        .select(JobRow::as_select())
        .limit(limit)
        .offset(offset)
        .load::<JobRow>(conn)?;
    // Counting is only needed when the page does not already tell the total.
    let total = if query.offset == 0 && (rows.len() as u64) < u64::from(query.limit.get()) {
        rows.len() as i64
    } else {
        match &query.text {
            None => count_by_filters(conn, query)?,
            Some(_) => filtered(query, conn)
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

/// Up to `limit` jobs matching the filters after `after` in the query's order. A text
/// search checks each job's document: the export reads every matching job, so it walks the
/// order once.
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
