//! What the store derives from each job's text and keeps beside it (the search document,
//! the collation sort keys, the folded customer name), filled in at start-up for the jobs of
//! a database written before those columns existed.

use std::time::{Duration, Instant};

use diesel::{prelude::*, result::Error as DieselError};
use printdesk_domain::customer_fold;

use crate::{
    connection::AnyConnection,
    rows::{DerivedColumns, JobRow},
    schema::jobs,
};

/// Jobs derived per transaction while building.
const BATCH: i64 = 500;

/// How often the build reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Fills in the derived columns of every job that lacks them (the jobs of a database that
/// existed before the `job_search` migration), in batches of [`BATCH`] jobs
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
        "deriving the search documents and sort keys of {pending} existing jobs"
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
                let derived = DerivedColumns::of(row);
                diesel::update(jobs::table.find(&row.id))
                    .set((
                        jobs::search_text.eq(derived.search_text),
                        jobs::name_key.eq(derived.name_key),
                        jobs::customer_key.eq(derived.customer_key),
                        jobs::file_key.eq(derived.file_key),
                        jobs::customer_fold.eq(derived.customer_fold),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })?;
        done += rows.len() as u64;
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            tracing::info!(
                done,
                jobs = pending,
                "search documents and sort keys: {done} of {pending} jobs"
            );
        }
    }
    tracing::info!(
        jobs = done,
        seconds = started.elapsed().as_secs_f64(),
        "search documents and sort keys derived for {done} jobs"
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
