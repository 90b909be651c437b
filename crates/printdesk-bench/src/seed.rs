//! Seeds a migrated database with printers, jobs and their `job_created` events, in bulk
//! through the store's [`printdesk_store_diesel::import`] (multi-row inserts in one
//! transaction; no HTTP, no per-job transaction), so 100,000 jobs take seconds. The data is
//! generated as domain values, so the server reads it back as if it had written it.

use std::time::{Duration, Instant};

use diesel::{Connection, connection::SimpleConnection};
use printdesk_domain::{
    CustomerName, FileName, Job, JobId, JobName, JobStatus, Notes, Printer, PrinterId, PrinterName,
    PrinterType, Version,
};
use printdesk_store_diesel::{AnyConnection, Backend};
use time::OffsetDateTime;

/// How many printers the jobs are spread over.
pub const PRINTERS: usize = 20;

/// Words the job names and file names are made of; `benchy` is one of eight, so a search for
/// it matches about one job in eight.
const PARTS: [&str; 8] = [
    "benchy", "bracket", "gear", "housing", "clip", "vase", "hinge", "spool",
];

/// Customers; two of them German, for searches with umlauts (`köhler`: about one job in 40).
const CUSTOMERS: [&str; 14] = [
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
    "Bäckerei Köhler",
    "Müller Modellbau",
];

/// Notes on three jobs in ten; one of them German (`ölwanne`: about one job in 20).
const NOTES: [&str; 6] = [
    "re-sliced at 0.2 mm",
    "Ölwanne für Kunde Müller, Größe M",
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
    let customer = if is_business || (r >> 20).is_multiple_of(10) {
        Some(CUSTOMERS[((r >> 24) % CUSTOMERS.len() as u64) as usize])
    } else {
        None
    };
    let notes = ((r >> 32) % 10 < 3).then(|| NOTES[((r >> 36) % NOTES.len() as u64) as usize]);
    let printer =
        (!(r >> 40).is_multiple_of(20)).then(|| format!("printer-{:02}", i % PRINTERS + 1));
    let auto_created = (r >> 48).is_multiple_of(5);
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

/// The farm's printers, registered 120 days before `now`.
fn printers(now: OffsetDateTime) -> Vec<Printer> {
    const TYPES: [PrinterType; 5] = [
        PrinterType::BambuLab,
        PrinterType::Prusa,
        PrinterType::Octoprint,
        PrinterType::Klipper,
        PrinterType::Other,
    ];
    printer_ids()
        .into_iter()
        .enumerate()
        .map(|(k, id)| Printer {
            id: PrinterId::parse(id).expect("a valid printer id"),
            name: PrinterName::parse(format!("Farm printer {:02}", k + 1)).expect("a valid name"),
            printer_type: TYPES[k % 5],
            location: Some(format!("rack {}", k / 5 + 1)),
            created_at: now - Duration::from_secs(120 * 24 * 3600),
            connection: None,
            monitoring: false,
            status: printdesk_domain::monitoring::PrinterStatus::default(),
        })
        .collect()
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
    let mut conn = connect(backend, target)?;
    if backend == Backend::Sqlite {
        conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| e.to_string())?;
    }
    let started = Instant::now();
    let jobs: Vec<Job> = (0..n).map(|i| job(i, n, now)).collect();
    printdesk_store_diesel::import(&mut conn, &printers(now), &jobs)
        .map_err(|e| format!("seeding failed: {e}"))?;
    if backend == Backend::Postgres {
        conn.batch_execute("VACUUM ANALYZE")
            .map_err(|e| format!("VACUUM ANALYZE failed: {e}"))?;
        // The load wrote a few hundred MB of WAL; without this the checkpoint it triggers
        // runs during the first measurements. Needs superuser; without it, carry on.
        if let Err(e) = conn.batch_execute("CHECKPOINT") {
            eprintln!("[bench] CHECKPOINT after seeding was refused ({e}); figures may include it");
        }
    }
    let ids = jobs.iter().map(|j| j.id).collect();
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
