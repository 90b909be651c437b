//! The text search's index (`job_search_terms`): written with each job, rewritten by the
//! difference only when a searched field changes, and built for existing jobs at start-up.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use diesel::{prelude::*, result::Error as DieselError};
use printdesk_domain::{SearchDocument, customer_fold};

use crate::{
    connection::AnyConnection,
    rows::{DerivedColumns, DocumentChange, JobRow},
    schema::{job_search_terms, jobs},
};

/// Terms per INSERT: two binds each, well under both backends' bind limits.
pub(crate) const CHUNK: usize = 4000;

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
/// SQLite gets one single-row statement per term: it runs in-process, and a statement of a
/// fixed shape stays prepared, where a multi-row one is prepared again for every edit (an
/// edit changes a term or two). PostgreSQL gets one multi-row statement: there each statement
/// is a round trip.
fn insert(
    conn: &mut AnyConnection,
    job_id: &str,
    terms: &BTreeSet<&str>,
) -> Result<(), DieselError> {
    match conn {
        AnyConnection::Sqlite(c) => {
            for term in terms {
                diesel::insert_or_ignore_into(job_search_terms::table)
                    .values(TermRow { term, job_id })
                    .execute(c)?;
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

/// Removes the (term, job) rows of `terms`: point deletes on the primary key (one prepared
/// single-row statement per term on SQLite, one statement on PostgreSQL, as for [`insert`]).
fn delete(
    conn: &mut AnyConnection,
    job_id: &str,
    terms: &BTreeSet<&str>,
) -> Result<(), DieselError> {
    match conn {
        AnyConnection::Sqlite(c) => {
            for term in terms {
                diesel::delete(
                    job_search_terms::table
                        .filter(job_search_terms::term.eq(term))
                        .filter(job_search_terms::job_id.eq(job_id)),
                )
                .execute(c)?;
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
