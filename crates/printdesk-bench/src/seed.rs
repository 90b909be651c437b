//! Seeds a migrated database with printers, jobs and their `job_created` events, in bulk:
//! multi-row inserts inside one transaction, straight through Diesel (no HTTP, no per-job
//! transaction), so 100,000 jobs take seconds.
//!
//! Rows are built from domain values ([`Job`], [`JobChanges::created`]) and stored exactly as
//! the store stores them (same column types, same event JSON), so the server reads them back
//! as if it had written them.

use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl, connection::SimpleConnection, prelude::*};
use printdesk_domain::{
    CustomerName, EventKind, FileName, Job, JobChanges, JobId, JobName, JobStatus, Notes,
    PrinterId, Version,
};
use printdesk_store_diesel::{AnyConnection, Backend};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The store's tables, as far as seeding needs them. Kept in step with the store's migrations
/// by the smoke run in CI: a column this misses that has no default fails the insert.
mod db {
    diesel::table! {
        printers (id) {
            id -> Text,
            name -> Text,
            printer_type -> Text,
            location -> Nullable<Text>,
            created_at -> Timestamp,
        }
    }

    diesel::table! {
        jobs (id) {
            id -> Text,
            job_name -> Text,
            status -> Text,
            is_business -> Bool,
            customer_name -> Nullable<Text>,
            notes -> Nullable<Text>,
            file_name -> Nullable<Text>,
            printer_id -> Nullable<Text>,
            version -> BigInt,
            created_at -> Timestamp,
            updated_at -> Timestamp,
            started_at -> Nullable<Timestamp>,
            completed_at -> Nullable<Timestamp>,
            auto_created -> Bool,
            discovery_time -> Nullable<Timestamp>,
        }
    }

    diesel::table! {
        job_events (seq) {
            seq -> BigInt,
            kind -> Text,
            job_id -> Text,
            at -> Timestamp,
            actor -> Nullable<Text>,
            changes -> Text,
            job -> Text,
        }
    }

    diesel::table! {
        event_seq (id) {
            id -> Integer,
            last -> BigInt,
        }
    }
}

/// How many printers the jobs are spread over.
pub const PRINTERS: usize = 20;

/// Rows per INSERT statement: 15 binds a job row, well under both backends' bind limits.
const CHUNK: usize = 1000;

/// Words the job names and file names are made of; `benchy` is one of eight, so a search for
/// it matches about one job in eight.
const PARTS: [&str; 8] = [
    "benchy", "bracket", "gear", "housing", "clip", "vase", "hinge", "spool",
];

const CUSTOMERS: [&str; 12] = [
    "Acme Robotics",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Stark Prototyping",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Industries",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka Works",
];

const NOTES: [&str; 5] = [
    "re-sliced at 0.2 mm",
    "PETG, 40% infill",
    "customer wants it by Friday",
    "second attempt after a spaghetti failure",
    "use the textured plate",
];

/// The printers' ids, `printer-01` … `printer-20`.
pub fn printer_ids() -> Vec<String> {
    (1..=PRINTERS).map(|n| format!("printer-{n:02}")).collect()
}

/// What was seeded.
#[derive(Debug)]
pub struct Seeded {
    /// Every job id, oldest first.
    pub ids: Vec<JobId>,
    /// How long the inserts and the commit took.
    pub elapsed: Duration,
}

#[derive(Insertable)]
#[diesel(table_name = db::printers)]
struct PrinterRow {
    id: String,
    name: String,
    printer_type: String,
    location: Option<String>,
    created_at: PrimitiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = db::jobs)]
#[diesel(treat_none_as_null = true)]
struct JobRow {
    id: String,
    job_name: String,
    status: String,
    is_business: bool,
    customer_name: Option<String>,
    notes: Option<String>,
    file_name: Option<String>,
    printer_id: Option<String>,
    version: i64,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
    started_at: Option<PrimitiveDateTime>,
    completed_at: Option<PrimitiveDateTime>,
    auto_created: bool,
    discovery_time: Option<PrimitiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = db::job_events)]
#[diesel(treat_none_as_null = true)]
struct EventRow {
    seq: i64,
    kind: String,
    job_id: String,
    at: PrimitiveDateTime,
    actor: Option<String>,
    changes: String,
    job: String,
}

/// Stored timestamps are UTC without an offset, as the store writes them.
fn db_time(t: OffsetDateTime) -> PrimitiveDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

/// A small deterministic generator (SplitMix64), so every run seeds the same data.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Job `i` of `n`: created evenly over the 90 days before `now`, with a realistic mix of
/// statuses, business jobs, notes, printers (5% manual) and auto-created jobs.
fn job(i: usize, n: usize, now: OffsetDateTime) -> Job {
    let r = mix(i as u64);
    let span_ms: u64 = 90 * 24 * 3600 * 1000;
    let offset_ms = span_ms * i as u64 / n.max(1) as u64;
    let created = now - Duration::from_millis(span_ms) + Duration::from_millis(offset_ms);
    let part = PARTS[(r % 8) as usize];
    let status = match (r >> 8) % 100 {
        0..55 => JobStatus::Completed,
        55..65 => JobStatus::Failed,
        65..75 => JobStatus::Running,
        _ => JobStatus::Pending,
    };
    let is_business = (r >> 16) % 10 < 3;
    let customer = if is_business || (r >> 20) % 10 == 0 {
        Some(CUSTOMERS[((r >> 24) % CUSTOMERS.len() as u64) as usize])
    } else {
        None
    };
    let notes = ((r >> 32) % 10 < 3).then(|| NOTES[((r >> 36) % NOTES.len() as u64) as usize]);
    let printer = ((r >> 40) % 20 != 0).then(|| format!("printer-{:02}", i % PRINTERS + 1));
    let auto_created = (r >> 48) % 5 == 0;
    let started = (status != JobStatus::Pending).then(|| created + Duration::from_secs(60));
    let completed = matches!(status, JobStatus::Completed | JobStatus::Failed)
        .then(|| created + Duration::from_secs(3600 + (r >> 52) % 14_400));
    let updated = completed.or(started).unwrap_or(created);
    let nanos = created.unix_timestamp_nanos();
    let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(nanos / 1_000_000_000).expect("after 1970"),
        u32::try_from(nanos % 1_000_000_000).expect("below a second"),
    ));
    Job {
        id: JobId::from(id),
        job_name: JobName::parse(format!("{part} v{} #{i}", 1 + (r >> 56) % 5))
            .expect("a valid name"),
        status,
        is_business,
        customer_name: customer.map(|c| CustomerName::parse(c).expect("a valid customer")),
        notes: notes.map(|t| Notes::parse(t).expect("valid notes")),
        file_name: Some(FileName::parse(format!("{part}-{i}.3mf")).expect("a valid file name")),
        printer_id: printer.map(|p| PrinterId::parse(p).expect("a valid printer id")),
        version: Version::FIRST,
        created_at: created,
        updated_at: updated,
        started_at: started,
        completed_at: completed,
        auto_created,
        discovery_time: auto_created.then_some(created),
    }
}

fn job_row(job: &Job) -> JobRow {
    JobRow {
        id: job.id.to_string(),
        job_name: job.job_name.to_string(),
        status: job.status.as_str().to_owned(),
        is_business: job.is_business,
        customer_name: job.customer_name.as_ref().map(ToString::to_string),
        notes: job.notes.as_ref().map(ToString::to_string),
        file_name: job.file_name.as_ref().map(ToString::to_string),
        printer_id: job.printer_id.as_ref().map(ToString::to_string),
        version: job.version.get(),
        created_at: db_time(job.created_at),
        updated_at: db_time(job.updated_at),
        started_at: job.started_at.map(db_time),
        completed_at: job.completed_at.map(db_time),
        auto_created: job.auto_created,
        discovery_time: job.discovery_time.map(db_time),
    }
}

fn event_row(job: &Job, seq: i64) -> Result<EventRow, serde_json::Error> {
    Ok(EventRow {
        seq,
        kind: EventKind::JobCreated.as_str().to_owned(),
        job_id: job.id.to_string(),
        at: db_time(job.created_at),
        actor: None,
        changes: serde_json::to_string(&JobChanges::created(job))?,
        job: serde_json::to_string(job)?,
    })
}

/// Opens a connection of the backend's own kind to `target` (what [`printdesk_store_diesel::parse_url`]
/// returns: a file path or a PostgreSQL URL).
pub fn connect(backend: Backend, target: &str) -> Result<AnyConnection, String> {
    let conn = match backend {
        Backend::Sqlite => diesel::sqlite::SqliteConnection::establish(target)
            .map(AnyConnection::Sqlite)
            .map_err(|e| e.to_string())?,
        Backend::Postgres => diesel::pg::PgConnection::establish(target)
            .map(AnyConnection::Postgres)
            .map_err(|e| e.to_string())?,
    };
    Ok(conn)
}

/// Inserts everything in one transaction on `$conn`, a backend's own connection type (Diesel's
/// multi-row inserts are not available through [`AnyConnection`]).
macro_rules! insert_all {
    ($conn:expr, $n:expr, $now:expr) => {{
        let (n, now) = ($n, $now);
        $conn.transaction::<_, diesel::result::Error, _>(|conn| {
            let printers: Vec<PrinterRow> = printer_ids()
                .into_iter()
                .enumerate()
                .map(|(k, id)| PrinterRow {
                    name: format!("Farm printer {:02}", k + 1),
                    printer_type: ["bambu_lab", "prusa", "octoprint", "klipper", "other"][k % 5]
                        .to_owned(),
                    location: Some(format!("rack {}", k / 5 + 1)),
                    created_at: db_time(now - Duration::from_secs(120 * 24 * 3600)),
                    id,
                })
                .collect();
            diesel::insert_into(db::printers::table)
                .values(&printers)
                .execute(conn)?;

            let mut ids = Vec::with_capacity(n);
            let mut start = 0;
            while start < n {
                let end = (start + CHUNK).min(n);
                let jobs: Vec<Job> = (start..end).map(|i| job(i, n, now)).collect();
                let rows: Vec<JobRow> = jobs.iter().map(job_row).collect();
                diesel::insert_into(db::jobs::table)
                    .values(&rows)
                    .execute(conn)?;
                let events = jobs
                    .iter()
                    .zip(start..)
                    .map(|(job, i)| event_row(job, i as i64 + 1))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                diesel::insert_into(db::job_events::table)
                    .values(&events)
                    .execute(conn)?;
                ids.extend(jobs.iter().map(|j| j.id));
                start = end;
            }
            diesel::update(db::event_seq::table.find(1))
                .set(db::event_seq::last.eq(n as i64))
                .execute(conn)?;
            Ok(ids)
        })
    }};
}

/// Seeds [`PRINTERS`] printers and `n` jobs (with one `job_created` event each, `seq` 1…n) into
/// the empty, migrated database at `target`. On PostgreSQL the tables are then vacuumed and
/// analysed, as autovacuum does to a table that grew over time (statistics for the planner, a
/// visibility map for index-only scans) and checkpointed; SQLite is left without statistics,
/// as a database grown through the API would be (closing the seeding connection checkpoints
/// its WAL).
pub fn seed(backend: Backend, target: &str, n: usize) -> Result<Seeded, String> {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid");
    let started = Instant::now();
    let ids = match connect(backend, target)? {
        AnyConnection::Sqlite(mut conn) => {
            conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                .map_err(|e| e.to_string())?;
            insert_all!(conn, n, now)
        }
        AnyConnection::Postgres(mut conn) => {
            let ids = insert_all!(conn, n, now);
            conn.batch_execute("VACUUM ANALYZE")
                .map_err(|e| format!("VACUUM ANALYZE failed: {e}"))?;
            // The load wrote a few hundred MB of WAL; without this the checkpoint it triggers
            // runs during the first measurements. Needs superuser; without it, carry on.
            if let Err(e) = conn.batch_execute("CHECKPOINT") {
                eprintln!(
                    "[bench] CHECKPOINT after seeding was refused ({e}); figures may include it"
                );
            }
            ids
        }
    }
    .map_err(|e| format!("seeding failed: {e}"))?;
    Ok(Seeded {
        ids,
        elapsed: started.elapsed(),
    })
}

/// The ids edits rotate over: `count` jobs spread evenly over the whole table.
pub fn spread(ids: &[JobId], count: usize) -> Vec<JobId> {
    let step = (ids.len() / count.max(1)).max(1);
    ids.iter().step_by(step).take(count).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_valid_and_in_creation_order() {
        let now = OffsetDateTime::now_utc();
        let jobs: Vec<Job> = (0..500).map(|i| job(i, 500, now)).collect();
        for pair in jobs.windows(2) {
            assert!(pair[0].created_at <= pair[1].created_at);
            assert!(pair[0].id < pair[1].id);
        }
        for j in &jobs {
            assert!(!j.is_business || j.customer_name.is_some());
            assert!(j.updated_at >= j.created_at);
        }
    }

    #[test]
    fn spread_takes_count_ids() {
        let now = OffsetDateTime::now_utc();
        let ids: Vec<JobId> = (0..2000).map(|i| job(i, 2000, now).id).collect();
        assert_eq!(spread(&ids, 1000).len(), 1000);
        assert_eq!(spread(&ids[..10], 1000).len(), 10);
    }
}
