//! The monitoring ports' contract (`MonitorStore`, `MonitorLeases`), run on the in-memory
//! adapters, real SQLite and real PostgreSQL (when `PRINTDESK_TEST_POSTGRES_URL` is set;
//! otherwise each PostgreSQL test says it was skipped). Every test gets a fresh database.

use std::sync::Arc;

use printdesk_domain::{
    Clock, ConnectionPatch, EventKind, Job, JobChanges, JobId, JobName, JobQuery, JobService,
    JobStatus, NewJobEvent, NewPrinter, Nullable, PrinterId, PrinterPatch, PrinterService,
    SecretText, SystemClock, Timestamp, Version, VersionCondition,
    monitoring::{
        JobWrite, MonitorDecision, MonitorError, MonitorLeases, MonitorStore, PrinterMemory,
        PrinterMonitor, PrinterReport, ReportedState, TrackedPrint, monitor_actor,
    },
    testing::{
        InMemoryLeases, InMemoryMonitorStore, InMemoryStore, RecordingPublisher,
        RecordingStatusPublisher, TestSealer,
    },
};
use printdesk_store_diesel::{Store, test_support::TestDatabase};

struct Ctx {
    jobs: JobService,
    printers: PrinterService,
    store: Arc<dyn MonitorStore>,
    leases: Arc<dyn MonitorLeases>,
    _db: Option<TestDatabase>,
}

impl Ctx {
    fn monitor(&self) -> PrinterMonitor {
        PrinterMonitor::new(
            self.store.clone(),
            Arc::new(RecordingPublisher::default()),
            Arc::new(RecordingStatusPublisher::default()),
            Arc::new(SystemClock),
        )
    }

    /// A monitored Bambu Lab printer.
    async fn printer(&self, id: &str) -> PrinterId {
        self.printers
            .create(NewPrinter {
                id: Some(id.into()),
                name: format!("Printer {id}"),
                printer_type: "bambu_lab".into(),
                location: None,
                connection: Some(ConnectionPatch {
                    kind: Some("bambu_lab".into()),
                    host: Nullable::Set("192.168.1.50".into()),
                    serial: Nullable::Set("01S00C123456789".into()),
                    access_code: Nullable::Set(SecretText::new("12345678")),
                    ..ConnectionPatch::default()
                }),
                monitoring: None,
            })
            .await
            .expect("create the printer")
            .id
    }

    async fn jobs_of(&self, printer: &PrinterId) -> Vec<printdesk_domain::Job> {
        let mut jobs = self
            .jobs
            .list(&JobQuery {
                printer_id: Some(printer.clone()),
                ..JobQuery::default()
            })
            .await
            .expect("list")
            .jobs;
        // Ids are UUID v7: creation order, also within one millisecond.
        jobs.sort_by_key(|j| j.id);
        jobs
    }
}

fn in_memory() -> Ctx {
    let store = Arc::new(InMemoryStore::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let clock = Arc::new(SystemClock);
    Ctx {
        jobs: JobService::new(
            store.clone(),
            store.clone(),
            publisher.clone(),
            clock.clone(),
        ),
        printers: PrinterService::new(store.clone(), publisher, clock, Arc::new(TestSealer)),
        store: Arc::new(InMemoryMonitorStore::new(store.clone(), store)),
        leases: Arc::new(InMemoryLeases::default()),
        _db: None,
    }
}

async fn ctx(db: TestDatabase) -> Ctx {
    let store = Arc::new(Store::connect(&db.url).await.expect("connect and migrate"));
    let publisher = Arc::new(RecordingPublisher::default());
    let clock = Arc::new(SystemClock);
    Ctx {
        jobs: JobService::new(
            store.clone(),
            store.clone(),
            publisher.clone(),
            clock.clone(),
        ),
        printers: PrinterService::new(store.clone(), publisher, clock, Arc::new(TestSealer)),
        store: store.clone(),
        leases: store,
        _db: Some(db),
    }
}

macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::in_memory()).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::ctx(printdesk_store_diesel::test_support::TestDatabase::sqlite()).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = printdesk_store_diesel::test_support::TestDatabase::postgres(stringify!($name)) {
                        super::$name(super::ctx(db).await).await;
                    }
                }
            )*
        }
    };
}

on_every_store!(
    a_print_from_start_to_end_is_one_job_that_a_restart_keeps,
    a_reprint_of_the_same_file_is_a_new_job,
    concurrent_reports_of_one_printer_make_one_job,
    a_second_job_for_a_printer_job_id_conflicts_and_writes_nothing,
    memory_survives_and_a_deleted_job_reads_as_none,
    a_printer_with_monitoring_off_is_not_monitored,
    leases_are_exclusive_until_they_expire,
    leases_not_claimed_again_are_given_up,
);

fn report(state: ReportedState, file: &str) -> PrinterReport {
    PrinterReport {
        state,
        file: Some(file.into()),
        progress: Some(10.0),
        ..PrinterReport::idle()
    }
}

fn idle() -> PrinterReport {
    PrinterReport::idle()
}

/// `record` runs the decision and writes its jobs and memory; a new monitor over the same
/// store (a restart, another instance) finds the print it recorded.
async fn a_print_from_start_to_end_is_one_job_that_a_restart_keeps(ctx: Ctx) {
    let printer = ctx.printer("x1c").await;
    let mut session = ctx.monitor().session(printer.clone());
    session.connecting().await;
    session.report(idle()).await.unwrap();
    session
        .report(report(ReportedState::Printing, "Benchy.gcode.3mf"))
        .await
        .unwrap();
    let jobs = ctx.jobs_of(&printer).await;
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert!(job.auto_created);
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.job_name.as_str(), "Benchy");
    assert!(job.started_at.is_some() && job.discovery_time.is_some());

    // printdesk restarts mid-print: a new monitor, a new session.
    let mut after_restart = ctx.monitor().session(printer.clone());
    after_restart.connecting().await;
    after_restart
        .report(report(ReportedState::Printing, "Benchy.gcode.3mf"))
        .await
        .unwrap();
    after_restart
        .report(report(ReportedState::Finished, "Benchy.gcode.3mf"))
        .await
        .unwrap();
    let jobs = ctx.jobs_of(&printer).await;
    assert_eq!(jobs.len(), 1, "one job: {jobs:?}");
    assert_eq!(jobs[0].id, job.id);
    assert_eq!(jobs[0].status, JobStatus::Completed);
    assert!(jobs[0].completed_at.is_some());
    let history = ctx
        .jobs
        .history(job.id, printdesk_domain::Limit::new(10).unwrap(), 0)
        .await
        .unwrap();
    assert!(
        history
            .events
            .iter()
            .all(|e| e.actor.as_deref() == Some(monitor_actor(&printer).as_str())),
        "every event names the monitor"
    );
    assert_eq!(
        history.events.last().map(|e| e.kind),
        Some(EventKind::JobCreated)
    );
}

async fn a_reprint_of_the_same_file_is_a_new_job(ctx: Ctx) {
    let printer = ctx.printer("p1s").await;
    let mut session = ctx.monitor().session(printer.clone());
    session.connecting().await;
    session.report(idle()).await.unwrap();
    for state in [
        ReportedState::Printing,
        ReportedState::Finished,
        ReportedState::Printing,
    ] {
        session
            .report(report(state, "Cube.gcode.3mf"))
            .await
            .unwrap();
    }
    let jobs = ctx.jobs_of(&printer).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].status, JobStatus::Completed);
    assert_eq!(jobs[1].status, JobStatus::Running);
}

/// The per-printer lock: twenty sessions (twenty instances, say) reporting the same new
/// print at once record one job.
async fn concurrent_reports_of_one_printer_make_one_job(ctx: Ctx) {
    let printer = ctx.printer("a1").await;
    let mut first = ctx.monitor().session(printer.clone());
    first.connecting().await;
    first.report(idle()).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let monitor = ctx.monitor();
        let printer = printer.clone();
        tasks.push(tokio::spawn(async move {
            let mut session = monitor.session(printer);
            session.connecting().await;
            // Each starts where the first left off: idle remembered, so a print is new.
            session
                .report(report(ReportedState::Printing, "Gear.gcode"))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(ctx.jobs_of(&printer).await.len(), 1);
}

/// The unique (printer, printer job id): a second job for the same print is a conflict, and
/// the whole record (job, event, memory) rolls back.
async fn a_second_job_for_a_printer_job_id_conflicts_and_writes_nothing(ctx: Ctx) {
    let printer = ctx.printer("mk4").await;
    let print = TrackedPrint {
        printer_job_id: Some("420".into()),
        file: Some("Vase.gcode".into()),
        started_at: Timestamp::now_utc(),
    };
    let creates = |job_name: &'static str| {
        let printer = printer.clone();
        let print = print.clone();
        Box::new(move |_: &printdesk_domain::monitoring::MonitorSnapshot| {
            let now = SystemClock.now();
            let job = Job {
                id: JobId::generate(),
                job_name: JobName::parse(job_name).unwrap(),
                status: JobStatus::Running,
                is_business: false,
                customer_name: None,
                notes: None,
                file_name: None,
                printer_id: Some(printer.clone()),
                version: Version::FIRST,
                created_at: now,
                updated_at: now,
                started_at: Some(now),
                completed_at: None,
                auto_created: true,
                discovery_time: Some(now),
            };
            MonitorDecision {
                writes: vec![JobWrite::Create {
                    event: NewJobEvent {
                        kind: EventKind::JobCreated,
                        changes: JobChanges::created(&job),
                        job,
                        actor: Some(monitor_actor(&printer)),
                        at: now,
                    },
                    print: print.clone(),
                }],
                memory: Some(PrinterMemory {
                    last_state: Some(ReportedState::Printing),
                    last_print: Some(print.clone()),
                    job_id: None,
                }),
                ..MonitorDecision::default()
            }
        })
    };
    let first = ctx.store.record(&printer, creates("first")).await.unwrap();
    assert_eq!(first.events.len(), 1);
    let second = ctx.store.record(&printer, creates("second")).await;
    assert_eq!(second, Err(MonitorError::Conflict));
    let jobs = ctx.jobs_of(&printer).await;
    assert_eq!(jobs.len(), 1, "the conflicting job was not kept: {jobs:?}");
    assert_eq!(jobs[0].job_name.as_str(), "first");
}

async fn memory_survives_and_a_deleted_job_reads_as_none(ctx: Ctx) {
    let printer = ctx.printer("k1").await;
    let mut session = ctx.monitor().session(printer.clone());
    session.connecting().await;
    session.report(idle()).await.unwrap();
    session
        .report(report(ReportedState::Printing, "Clip.gcode"))
        .await
        .unwrap();
    let job = ctx.jobs_of(&printer).await.remove(0);
    ctx.jobs
        .delete(
            job.id,
            VersionCondition::Any,
            &printdesk_domain::Actor::anonymous(),
        )
        .await
        .unwrap();
    let seen = ctx
        .store
        .record(
            &printer,
            Box::new(move |snapshot| {
                assert!(snapshot.monitored);
                assert_eq!(
                    snapshot.memory.job_id,
                    Some(job.id),
                    "the memory names the job"
                );
                assert_eq!(
                    snapshot
                        .memory
                        .last_print
                        .as_ref()
                        .and_then(|p| p.file.as_deref()),
                    Some("Clip.gcode")
                );
                assert_eq!(snapshot.memory.last_state, Some(ReportedState::Printing));
                assert_eq!(snapshot.job, None, "a deleted job reads as none");
                MonitorDecision::default()
            }),
        )
        .await
        .unwrap();
    assert!(seen.events.is_empty());
}

async fn a_printer_with_monitoring_off_is_not_monitored(ctx: Ctx) {
    let printer = ctx.printer("off").await;
    ctx.printers
        .update(
            &printer,
            PrinterPatch {
                monitoring: Some(false),
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    let mut session = ctx.monitor().session(printer.clone());
    session.connecting().await;
    session.report(idle()).await.unwrap();
    session
        .report(report(ReportedState::Printing, "X.gcode"))
        .await
        .unwrap();
    assert!(ctx.jobs_of(&printer).await.is_empty());
    let unknown = PrinterId::parse("nobody").unwrap();
    let recorded = ctx
        .store
        .record(
            &unknown,
            Box::new(|snapshot| {
                assert!(!snapshot.monitored, "a printer that does not exist");
                MonitorDecision::default()
            }),
        )
        .await
        .unwrap();
    assert!(recorded.events.is_empty());
}

fn ids(names: &[&str]) -> Vec<PrinterId> {
    names
        .iter()
        .map(|n| PrinterId::parse(*n).unwrap())
        .collect()
}

async fn leases_are_exclusive_until_they_expire(ctx: Ctx) {
    let printers = ids(&["a", "b"]);
    let t0 = Timestamp::now_utc();
    let term = time::Duration::seconds(20);
    let held = ctx
        .leases
        .claim("one", &printers, t0, t0 + term)
        .await
        .unwrap();
    assert_eq!(held, printers);
    let other = ctx
        .leases
        .claim(
            "two",
            &printers,
            t0 + time::Duration::seconds(5),
            t0 + time::Duration::seconds(25),
        )
        .await
        .unwrap();
    assert!(other.is_empty(), "held by one: {other:?}");
    // One renews; two still gets nothing.
    let renewed = ctx
        .leases
        .claim(
            "one",
            &printers,
            t0 + time::Duration::seconds(10),
            t0 + time::Duration::seconds(30),
        )
        .await
        .unwrap();
    assert_eq!(renewed, printers);
    // One dies: after its lease ran out, two takes over.
    let taken = ctx
        .leases
        .claim(
            "two",
            &printers,
            t0 + time::Duration::seconds(31),
            t0 + time::Duration::seconds(51),
        )
        .await
        .unwrap();
    assert_eq!(taken, printers);
    let back = ctx
        .leases
        .claim(
            "one",
            &printers,
            t0 + time::Duration::seconds(32),
            t0 + time::Duration::seconds(52),
        )
        .await
        .unwrap();
    assert!(back.is_empty(), "one lost its leases: {back:?}");
    // A graceful stop gives them up at once.
    ctx.leases.release_all("two").await.unwrap();
    let now_free = ctx
        .leases
        .claim(
            "one",
            &printers,
            t0 + time::Duration::seconds(33),
            t0 + time::Duration::seconds(53),
        )
        .await
        .unwrap();
    assert_eq!(now_free, printers);
}

async fn leases_not_claimed_again_are_given_up(ctx: Ctx) {
    let t0 = Timestamp::now_utc();
    let until = t0 + time::Duration::seconds(20);
    ctx.leases
        .claim("one", &ids(&["a", "b", "c"]), t0, until)
        .await
        .unwrap();
    // "b" was deleted or switched off: one stops claiming it, and two may take it at once.
    ctx.leases
        .claim("one", &ids(&["a", "c"]), t0, until)
        .await
        .unwrap();
    let two = ctx
        .leases
        .claim("two", &ids(&["a", "b", "c"]), t0, until)
        .await
        .unwrap();
    assert_eq!(two, ids(&["b"]));
}
