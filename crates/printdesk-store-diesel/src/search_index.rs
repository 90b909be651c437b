//! The text search's index (`job_search_terms`): written with each job, rewritten by the
//! difference only when a searched field changes, and built for existing jobs at start-up.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use diesel::{
    QueryResult,
    expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping},
    prelude::*,
    query_builder::{AstPass, QueryFragment, QueryId},
    result::Error as DieselError,
    sql_types::{Bool, Text},
};
use printdesk_domain::{SearchDocument, customer_fold};

use crate::{
    connection::AnyConnection,
    rows::{DerivedColumns, DocumentChange, JobRow},
    schema::{job_search_terms, jobs},
};

/// Terms per INSERT: two binds each, well under both backends' bind limits.
pub(crate) const CHUNK: usize = 4000;

/// Terms per statement on SQLite (two binds each; SQLite allows 32,766).
const SQLITE_CHUNK: usize = 500;

/// One row of the index.
#[derive(Insertable)]
#[diesel(table_name = job_search_terms)]
pub(crate) struct TermRow<'a> {
    pub term: &'a str,
    pub job_id: &'a str,
}

/// Adds the (term, job) rows of `terms`. A row that is there already is left alone, so that a
/// rebuild after an interrupted one cannot fail on its own leftovers.
///
/// One multi-row statement on both backends. On SQLite it is written as SQL, so that it stays
/// prepared under its text (one statement per number of terms, and an edit changes a few):
/// Diesel's multi-row insert is prepared again on every execution, which is why this used one
/// single-row statement per term, three to six for an edit of the notes.
fn insert(
    conn: &mut AnyConnection,
    job_id: &str,
    terms: &BTreeSet<&str>,
) -> Result<(), DieselError> {
    match conn {
        AnyConnection::Sqlite(_) => {
            let terms: Vec<&str> = terms.iter().copied().collect();
            for chunk in terms.chunks(SQLITE_CHUNK) {
                let mut sql = RawSql::default();
                sql.push("INSERT OR IGNORE INTO job_search_terms (term, job_id) VALUES ");
                for (i, term) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.push("(").bind(*term).push(", ").bind(job_id).push(")");
                }
                sql.query().execute(conn)?;
            }
        }
        AnyConnection::Postgres(c) => {
            let rows: Vec<TermRow<'_>> =
                terms.iter().map(|term| TermRow { term, job_id }).collect();
            for chunk in rows.chunks(CHUNK) {
                diesel::insert_into(job_search_terms::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Removes the (term, job) rows of `terms`: point deletes on the primary key, in one statement
/// (`term IN (…)`, kept prepared under its text on SQLite, as for [`insert`]).
fn delete(
    conn: &mut AnyConnection,
    job_id: &str,
    terms: &BTreeSet<&str>,
) -> Result<(), DieselError> {
    match conn {
        AnyConnection::Sqlite(_) => {
            let terms: Vec<String> = terms.iter().map(|t| (*t).to_owned()).collect();
            for chunk in terms.chunks(SQLITE_CHUNK) {
                let mut sql = RawSql::default();
                sql.push("DELETE FROM job_search_terms WHERE job_id = ")
                    .bind(job_id)
                    .push(" AND term IN (")
                    .bind_list(chunk)
                    .push(")");
                sql.query().execute(conn)?;
            }
        }
        AnyConnection::Postgres(c) => {
            let terms: Vec<&str> = terms.iter().copied().collect();
            for chunk in terms.chunks(CHUNK) {
                diesel::delete(
                    job_search_terms::table
                        .filter(job_search_terms::term.eq_any(chunk))
                        .filter(job_search_terms::job_id.eq(job_id)),
                )
                .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Indexes a new job.
pub(crate) fn index_new(
    conn: &mut AnyConnection,
    job_id: &str,
    document: &SearchDocument,
) -> Result<(), DieselError> {
    let terms = document.terms();
    insert(conn, job_id, &terms.iter().map(String::as_str).collect())
}

/// Re-indexes an edited job: deletes the terms it lost and adds the ones it gained. An edit of
/// one word touches that word's few terms, not the whole job's.
pub(crate) fn reindex(
    conn: &mut AnyConnection,
    job_id: &str,
    change: &DocumentChange,
) -> Result<(), DieselError> {
    let before = change.before.terms();
    let after = change.after.terms();
    let gone: BTreeSet<&str> = before.difference(&after).map(String::as_str).collect();
    let new: BTreeSet<&str> = after.difference(&before).map(String::as_str).collect();
    if !gone.is_empty() {
        delete(conn, job_id, &gone)?;
    }
    if !new.is_empty() {
        insert(conn, job_id, &new)?;
    }
    Ok(())
}

/// Removes a deleted job's terms.
pub(crate) fn unindex(
    conn: &mut AnyConnection,
    job_id: &str,
    document: &SearchDocument,
) -> Result<(), DieselError> {
    let terms = document.terms();
    delete(conn, job_id, &terms.iter().map(String::as_str).collect())
}

/// Jobs derived per transaction while building.
const BATCH: i64 = 500;

/// How often the build reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Fills in the derived columns and the index terms of every job that lacks them (the jobs of
/// a database that existed before the `job_search` migration), in batches of [`BATCH`] jobs
/// per transaction, logging the progress every [`PROGRESS_EVERY`]. Returns how many jobs it
/// did. Interrupted, it carries on with the jobs still lacking them at the next start.
pub(crate) fn build_missing(conn: &mut AnyConnection) -> Result<u64, DieselError> {
    let pending: i64 = jobs::table
        .filter(jobs::search_text.is_null())
        .count()
        .get_result(conn)?;
    if pending == 0 {
        return fold_missing_customers(conn);
    }
    let pending = u64::try_from(pending).unwrap_or_default();
    tracing::info!(
        jobs = pending,
        "building the text search index and sort keys of {pending} existing jobs"
    );
    let started = Instant::now();
    let mut reported = Instant::now();
    let mut done = 0_u64;
    loop {
        let rows: Vec<JobRow> = jobs::table
            .filter(jobs::search_text.is_null())
            .order(jobs::id)
            .limit(BATCH)
            .select(JobRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        conn.transaction::<_, DieselError, _>(|conn| {
            for row in &rows {
                let (derived, document) = DerivedColumns::of(row);
                diesel::update(jobs::table.find(&row.id))
                    .set((
                        jobs::search_text.eq(derived.search_text),
                        jobs::name_key.eq(derived.name_key),
                        jobs::customer_key.eq(derived.customer_key),
                        jobs::file_key.eq(derived.file_key),
                        jobs::customer_fold.eq(derived.customer_fold),
                    ))
                    .execute(conn)?;
                index_new(conn, &row.id, &document)?;
            }
            Ok(())
        })?;
        done += rows.len() as u64;
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            tracing::info!(
                done,
                jobs = pending,
                "text search index: {done} of {pending} jobs"
            );
        }
    }
    tracing::info!(
        jobs = done,
        seconds = started.elapsed().as_secs_f64(),
        "text search index built for {done} jobs"
    );
    Ok(done + fold_missing_customers(conn)?)
}

/// Fills in `customer_fold` for the jobs that have a customer but no folded name yet (those
/// of a database that existed before the `customer_fold` migration), [`BATCH`] jobs per
/// transaction; returns how many. Their other derived columns and terms are there already.
fn fold_missing_customers(conn: &mut AnyConnection) -> Result<u64, DieselError> {
    let started = Instant::now();
    let mut done = 0_u64;
    loop {
        let rows: Vec<(String, Option<String>)> = jobs::table
            .filter(jobs::customer_name.is_not_null())
            .filter(jobs::customer_fold.is_null())
            .order(jobs::id)
            .limit(BATCH)
            .select((jobs::id, jobs::customer_name))
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        conn.transaction::<_, DieselError, _>(|conn| {
            for (id, name) in &rows {
                diesel::update(jobs::table.find(id))
                    .set(jobs::customer_fold.eq(name.as_deref().map(customer_fold)))
                    .execute(conn)?;
            }
            Ok(())
        })?;
        done += rows.len() as u64;
    }
    if done > 0 {
        tracing::info!(
            jobs = done,
            seconds = started.elapsed().as_secs_f64(),
            "customer names folded for {done} existing jobs"
        );
    }
    Ok(done)
}

// ---------------------------------------------------------------------------------------
// Reading the index: which of a search's ranges to start from, and how to test the others.
// ---------------------------------------------------------------------------------------

/// Greater than every index term (terms hold at most 17 characters): the end of a range
/// that has none.
pub(crate) const ABOVE_EVERY_TERM: &str = "\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}";

/// The most distinct terms a range is tested by one by one. A query word that is a whole
/// word of the documents has one or two (`benchy`; `bench` has `bench` and `benchy`); a short
/// prefix can have thousands (`123`), and is then tested as a range.
const PROBE_TERMS: usize = 16;

/// The terms of the index in one of a search's ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RangeTerms {
    /// Every distinct term in the range (at most [`PROBE_TERMS`]): the range is tested by
    /// point look-ups on the `(term, job_id)` key, one per term.
    Few(Vec<String>),
    /// More distinct terms than [`PROBE_TERMS`].
    Many {
        /// The range's first term.
        from: String,
        /// The first term after the range.
        to: String,
    },
}

/// One range of a search, as the index holds it.
#[derive(Debug, Clone)]
pub(crate) struct PlannedRange {
    pub terms: RangeTerms,
    /// Index rows in the range: an upper bound of the jobs it selects (one row per term and
    /// job), what the ranges are ordered by.
    pub rows: i64,
}

/// How a search reads the index: its ranges with their terms and sizes, the smallest first.
/// A job matches only if it has a term in every range, so the smallest range's jobs are the
/// candidates and the others are tested on each of them (`EXISTS` on the primary key): the
/// work is the smallest range's size, never the largest one's, and no range is collected
/// into a set (the `INTERSECT` this replaces built a temporary B-tree of both ranges).
#[derive(Debug, Clone)]
pub(crate) struct SearchPlan {
    pub ranges: Vec<PlannedRange>,
}

#[derive(QueryableByName)]
struct TermAt {
    #[diesel(sql_type = Text)]
    term: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A statement's SQL and its text parameters, in order: the index's statements vary in shape with the
/// number of ranges and terms, which Diesel's typed builder cannot express for both
/// backends at once.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawSql {
    pub sql: String,
    pub binds: Vec<String>,
}

impl RawSql {
    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// A placeholder bound to `value` (marked `\u{0}` in the text, rendered by Diesel as the
    /// backend's own).
    fn bind(&mut self, value: impl Into<String>) -> &mut Self {
        self.sql.push('\u{0}');
        self.binds.push(value.into());
        self
    }

    /// A comma-separated list of placeholders bound to `values`.
    fn bind_list(&mut self, values: &[String]) -> &mut Self {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v.clone());
        }
        self
    }

    /// The statement, to run on `conn`. Unlike Diesel's `sql_query`, which is prepared again
    /// on every execution, it is kept prepared under its SQL text.
    fn query(&self) -> RawStatement<'_> {
        RawStatement(self)
    }
}

/// The first term after `after` (or from `from`, inclusive) below `to`.
fn next_term(
    conn: &mut AnyConnection,
    from: &str,
    inclusive: bool,
    to: &str,
) -> Result<Option<String>, DieselError> {
    let mut sql = RawSql::default();
    sql.push("SELECT term FROM job_search_terms WHERE term ")
        .push(if inclusive { ">= " } else { "> " })
        .bind(from)
        .push(" AND term < ")
        .bind(to)
        // A literal LIMIT: a bound one is prepared again on every execution on SQLite.
        .push(" ORDER BY term LIMIT 1");
    let q = sql.query();
    Ok(q.get_result::<TermAt>(conn).optional()?.map(|t| t.term))
}

/// `column` tested against `terms`: `= ?` for one, `IN (…)` for several.
fn term_test(sql: &mut RawSql, column: &str, terms: &RangeTerms) {
    match terms {
        RangeTerms::Few(terms) if terms.len() == 1 => {
            sql.push(column).push(" = ").bind(terms[0].clone());
        }
        RangeTerms::Few(terms) => {
            sql.push(column).push(" IN (").bind_list(terms).push(")");
        }
        RangeTerms::Many { from, to } => {
            sql.push(column)
                .push(" >= ")
                .bind(from.clone())
                .push(" AND ")
                .push(column)
                .push(" < ")
                .bind(to.clone());
        }
    }
}

impl SearchPlan {
    /// Looks up `ranges` in the index: their distinct terms (up to [`PROBE_TERMS`], by
    /// seeking from one to the next) and their sizes. A few index look-ups per range.
    pub(crate) fn of(
        conn: &mut AnyConnection,
        ranges: &[&printdesk_domain::search::TermRange],
    ) -> Result<Self, DieselError> {
        let mut planned = Vec::with_capacity(ranges.len());
        for range in ranges {
            let to = range
                .end
                .clone()
                .unwrap_or_else(|| ABOVE_EVERY_TERM.to_owned());
            let mut found: Vec<String> = Vec::new();
            let mut many = false;
            let mut next = next_term(conn, &range.prefix, true, &to)?;
            while let Some(term) = next {
                if found.len() == PROBE_TERMS {
                    many = true;
                    break;
                }
                next = next_term(conn, &term, false, &to)?;
                found.push(term);
            }
            let terms = if many {
                RangeTerms::Many {
                    from: range.prefix.clone(),
                    to,
                }
            } else {
                RangeTerms::Few(found)
            };
            let rows = match &terms {
                RangeTerms::Few(t) if t.is_empty() => 0,
                terms => {
                    let mut sql = RawSql::default();
                    sql.push("SELECT COUNT(*) AS n FROM job_search_terms WHERE ");
                    term_test(&mut sql, "term", terms);
                    sql.query().get_result::<CountRow>(conn)?.n
                }
            };
            planned.push(PlannedRange { terms, rows });
        }
        planned.sort_by_key(|r| r.rows);
        Ok(Self { ranges: planned })
    }

    /// Whether some range has no term at all: then no job matches.
    pub(crate) fn finds_nothing(&self) -> bool {
        self.ranges.iter().any(|r| r.rows == 0)
    }

    /// Whether the index alone answers for every range, so that with a search whose ranges
    /// decide ([`printdesk_domain::SearchQuery::index_is_exact`]) the jobs need not be read.
    fn probes_every_range(&self) -> bool {
        self.ranges
            .iter()
            .skip(1)
            .all(|r| matches!(r.terms, RangeTerms::Few(_)))
    }

    /// `SELECT a.job_id FROM job_search_terms a WHERE …`: the jobs with a term in every range
    /// that is tested in the index (the smallest range scanned, the others probed per job;
    /// a range of many terms, unless it is the smallest, is left to the document check). A
    /// job appears once per term it has in the smallest range.
    fn candidates(&self, sql: &mut RawSql) {
        let Some((first, rest)) = self.ranges.split_first() else {
            // No range: every job (not used: a search without ranges scans the jobs).
            sql.push("SELECT job_id FROM job_search_terms a WHERE 0 = 1");
            return;
        };
        sql.push("SELECT a.job_id FROM job_search_terms a WHERE ");
        term_test(sql, "a.term", &first.terms);
        for range in rest {
            if matches!(range.terms, RangeTerms::Few(_)) {
                sql.push(" AND EXISTS (SELECT 1 FROM job_search_terms b WHERE ");
                term_test(sql, "b.term", &range.terms);
                sql.push(" AND b.job_id = a.job_id)");
            }
        }
    }

    /// The jobs with a term in every range, counted in the index alone; `None` when some
    /// range is left to the document check ([`Self::candidates`]).
    pub(crate) fn count_in_index(
        &self,
        conn: &mut AnyConnection,
    ) -> Result<Option<i64>, DieselError> {
        if self.finds_nothing() {
            return Ok(Some(0));
        }
        if !self.probes_every_range() {
            return Ok(None);
        }
        let mut sql = RawSql::default();
        let one_term = matches!(&self.ranges[0].terms, RangeTerms::Few(t) if t.len() == 1);
        if one_term {
            // One term: one row per job, no DISTINCT (which costs a temporary B-tree of
            // every job: 6 ms for `benchy`'s 12,500, against 0.5 ms for the count).
            sql.push("SELECT COUNT(*) AS n FROM (");
        } else {
            sql.push("SELECT COUNT(DISTINCT job_id) AS n FROM (");
        }
        self.candidates(&mut sql);
        sql.push(") c");
        Ok(Some(sql.query().get_result::<CountRow>(conn)?.n))
    }

    /// The condition `jobs.id IN (…candidates…)`, as a filter on `jobs`.
    pub(crate) fn filter(&self) -> RawSql {
        let mut sql = RawSql::default();
        sql.push("jobs.id IN (");
        self.candidates(&mut sql);
        sql.push(")");
        sql
    }
}

/// A [`RawSql`] used as a condition in a Diesel statement over `jobs`: its text, with each
/// placeholder bound in turn.
impl<DB> QueryFragment<DB> for RawSql
where
    DB: diesel::backend::Backend,
    String: diesel::serialize::ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut binds = self.binds.iter();
        for (i, piece) in self.sql.split('\u{0}').enumerate() {
            if i > 0 {
                let value = binds.next().expect("a value for every placeholder");
                out.push_bind_param::<Text, String>(value)?;
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl Expression for RawSql {
    type SqlType = Bool;
}

impl QueryId for RawSql {
    type QueryId = ();
    // Kept prepared under its SQL text, which its shape (the number of ranges and terms)
    // decides; the terms themselves are parameters.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> AppearsOnTable<QS> for RawSql {}

impl<QS> SelectableExpression<QS> for RawSql {}

impl<GB> ValidGrouping<GB> for RawSql {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// A [`RawSql`] as a whole statement: run with `execute`, or loaded into a
/// `QueryableByName` row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawStatement<'a>(&'a RawSql);

impl<DB> QueryFragment<DB> for RawStatement<'_>
where
    DB: diesel::backend::Backend,
    String: diesel::serialize::ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl QueryId for RawStatement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for RawStatement<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for RawStatement<'_> {}
