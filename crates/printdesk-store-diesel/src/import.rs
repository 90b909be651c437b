//! Bulk loading: printers and jobs that already exist elsewhere (another tool's history, a
//! benchmark's data set) written in one transaction with multi-row inserts, each job with its
//! `job_created` event, exactly as the store itself would have written them.

use diesel::{Connection, RunQueryDsl, prelude::*};
use printdesk_domain::{EventKind, Job, JobChanges, NewJobEvent, Printer, Seq, StoreError};

use crate::{
    connection::AnyConnection,
    printers::PrinterRow,
    rows::{EventRow, NewJobRow},
    schema::{event_seq, job_events, jobs, printers},
    store::map_diesel,
};

/// Rows per INSERT: 19 binds a job row (with its derived columns), well under both backends'
/// bind limits.
const CHUNK: usize = 1000;

/// Inserts `printers`, then `jobs` with one `job_created` event each (at the job's
/// `created_at`, no actor), continuing the event log's `seq`; all in one transaction.
///
/// For loading data in bulk into a migrated database; it bypasses the domain's use cases,
/// so the caller vouches that the jobs are what the rules allow (they are domain values, so
/// each field is valid) and that their printers exist.
pub fn import(
    conn: &mut AnyConnection,
    printers: &[Printer],
    jobs: &[Job],
) -> Result<(), StoreError> {
    let printers = printers
        .iter()
        .map(PrinterRow::new)
        .collect::<Result<Vec<_>, _>>()?;
    // Diesel's multi-row inserts are not available through `AnyConnection`, so the same body
    // runs on each backend's own connection type.
    macro_rules! load {
        ($conn:expr) => {
            $conn.transaction::<_, diesel::result::Error, _>(|conn| {
                insert_all!(conn, printers, jobs)
            })
        };
    }
    let loaded = match conn {
        AnyConnection::Sqlite(c) => load!(c),
        AnyConnection::Postgres(c) => load!(c),
    };
    loaded.map_err(map_diesel)
}

macro_rules! insert_all {
    ($conn:expr, $printers:expr, $jobs:expr) => {{
        let conn = $conn;
        for chunk in $printers.chunks(CHUNK) {
            diesel::insert_into(printers::table)
                .values(chunk)
                .execute(conn)?;
        }
        let last: i64 = event_seq::table
            .find(1)
            .select(event_seq::last)
            .get_result(conn)?;
        for (n, chunk) in $jobs.chunks(CHUNK).enumerate() {
            let rows: Vec<NewJobRow> = chunk.iter().map(NewJobRow::new).collect();
            diesel::insert_into(jobs::table)
                .values(&rows)
                .execute(conn)?;
            let first = last + 1 + (n * CHUNK) as i64;
            let events = chunk
                .iter()
                .zip(first..)
                .map(|(job, seq)| {
                    let event = NewJobEvent {
                        kind: EventKind::JobCreated,
                        changes: JobChanges::created(job),
                        job: job.clone(),
                        actor: None,
                        at: job.created_at,
                    };
                    EventRow::new(&event, Seq::new(seq))
                })
                .collect::<Result<Vec<_>, StoreError>>()
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            diesel::insert_into(job_events::table)
                .values(&events)
                .execute(conn)?;
        }
        diesel::update(event_seq::table.find(1))
            .set(event_seq::last.eq(last + $jobs.len() as i64))
            .execute(conn)?;
        Ok(())
    }};
}
use insert_all;
