#![cfg(feature = "testing")]
//! A printer's own job history (Moonraker): the rules of `decide_history`, table-driven, and
//! the use case `MonitorSession::history` on the in-memory store.

mod support;

use std::sync::Arc;

use printdesk_domain::{
    Job, JobPatch, JobQuery, JobService, JobStatus, Nullable, PrinterId, PrinterService, Timestamp,
    VersionCondition,
    monitoring::{
        HistoryEntry, HistoryStatus, Interruption, MonitorSession, MonitorSnapshot, NewPrint,
        PrintEnd, PrintIdentity, PrinterMemory, PrinterMonitor, PrinterReport, ReportedState,
        TrackedPrint, decide_history,
    },
    testing::{InMemoryMonitorStore, InMemoryStore, RecordingPublisher, RecordingStatusPublisher},
};
use support::{FixedClock, T0, anon};
use time::Duration;

fn at(minutes: i64) -> Timestamp {
    T0 + Duration::minutes(minutes)
}

fn entry(id: &str, status: HistoryStatus, start: i64, end: Option<i64>) -> HistoryEntry {
    HistoryEntry {
        printer_job_id: id.into(),
        file: Some(format!("print-{id}.gcode")),
        status,
        started_at: at(start),
        ended_at: end.map(at),
    }
}

fn remembering(id: &str, state: ReportedState) -> MonitorSnapshot {
    MonitorSnapshot {
        monitored: true,
        memory: PrinterMemory {
            last_state: Some(state),
            last_print: Some(TrackedPrint {
                printer_job_id: Some(id.into()),
                file: Some(format!("print-{id}.gcode")),
                started_at: at(-100),
            }),
            job_id: None,
        },
        ..MonitorSnapshot::default()
    }
}

/// What a decision created: (file, status, started_at, completed_at, notes mention).
type Created = (
    String,
    JobStatus,
    Option<Timestamp>,
    Option<Timestamp>,
    bool,
);

fn created(snapshot: &MonitorSnapshot, entries: &[HistoryEntry]) -> Vec<Created> {
    let printer = PrinterId::parse("voron").unwrap();
    decide_history(snapshot, &printer, entries, at(600))
        .writes
        .iter()
        .filter(|w| w.event().kind == printdesk_domain::EventKind::JobCreated)
        .map(|w| {
            let job = &w.event().job;
            assert!(job.auto_created);
            (
                job.file_name.as_ref().unwrap().as_str().to_owned(),
                job.status,
                job.started_at,
                job.completed_at,
                job.notes.is_some(),
            )
        })
        .collect()
}

#[test]
fn entries_after_the_remembered_print_become_jobs_with_their_real_times_and_status() {
    use HistoryStatus::*;
    let idle = remembering("000005", ReportedState::Finished);
    let cases: Vec<(&str, Vec<HistoryEntry>, Vec<Created>)> = vec![
        (
            "a missed completed print",
            vec![entry("000006", Completed, 10, Some(70))],
            vec![(
                "print-000006.gcode".into(),
                JobStatus::Completed,
                Some(at(10)),
                Some(at(70)),
                false,
            )],
        ),
        (
            "cancelled and error are failed; a cancellation gets a note",
            vec![
                entry("000007", Error, 80, Some(90)),
                entry("000006", Cancelled, 10, Some(20)),
            ],
            vec![
                (
                    "print-000006.gcode".into(),
                    JobStatus::Failed,
                    Some(at(10)),
                    Some(at(20)),
                    true,
                ),
                (
                    "print-000007.gcode".into(),
                    JobStatus::Failed,
                    Some(at(80)),
                    Some(at(90)),
                    false,
                ),
            ],
        ),
        (
            "every interruption is failed with a note",
            [
                Interruption::Interrupted,
                Interruption::KlippyShutdown,
                Interruption::KlippyDisconnect,
                Interruption::ServerExit,
            ]
            .iter()
            .enumerate()
            .map(|(i, why)| entry(&format!("00000{}", 6 + i), Interrupted(*why), 10, Some(20)))
            .collect(),
            (6..10)
                .map(|i| {
                    (
                        format!("print-00000{i}.gcode"),
                        JobStatus::Failed,
                        Some(at(10)),
                        Some(at(20)),
                        true,
                    )
                })
                .collect(),
        ),
        (
            "the remembered print and older ones are not recorded again",
            vec![
                entry("000004", Completed, -200, Some(-150)),
                entry("000005", Completed, -100, Some(-50)),
            ],
            vec![],
        ),
        (
            "ids compare as hexadecimal numbers",
            vec![entry("00000A", Completed, 10, Some(20))],
            vec![(
                "print-00000A.gcode".into(),
                JobStatus::Completed,
                Some(at(10)),
                Some(at(20)),
                false,
            )],
        ),
        (
            "a print still in progress is left to the live reports",
            vec![entry("000006", InProgress, 10, None)],
            vec![],
        ),
        (
            "an end time after now or before the start is not trusted",
            vec![entry("000006", Completed, 10, Some(9_999))],
            vec![(
                "print-000006.gcode".into(),
                JobStatus::Completed,
                Some(at(10)),
                Some(at(600)),
                false,
            )],
        ),
    ];
    for (name, entries, expected) in cases {
        assert_eq!(created(&idle, &entries), expected, "{name}");
    }
}

#[test]
fn without_a_remembered_printer_job_id_nothing_is_imported_and_the_newest_entry_is_the_mark() {
    let printer = PrinterId::parse("voron").unwrap();
    let never_seen = MonitorSnapshot {
        monitored: true,
        ..MonitorSnapshot::default()
    };
    let entries = [
        entry("000001", HistoryStatus::Completed, 0, Some(10)),
        entry("000002", HistoryStatus::Cancelled, 20, Some(30)),
        entry("000003", HistoryStatus::InProgress, 40, None),
    ];
    let decision = decide_history(&never_seen, &printer, &entries, at(600));
    assert!(decision.writes.is_empty());
    let memory = decision.memory.expect("the mark is remembered");
    assert_eq!(
        memory.last_print.unwrap().printer_job_id.as_deref(),
        Some("000002")
    );
    assert_eq!(
        memory.last_state, None,
        "a print running now stays unrecorded"
    );

    let unmonitored = MonitorSnapshot::default();
    assert_eq!(
        decide_history(&unmonitored, &printer, &entries, at(600)),
        Default::default()
    );
}

/// A farm on the in-memory adapters.
struct Farm {
    monitor_store: Arc<InMemoryMonitorStore>,
    events: Arc<RecordingPublisher>,
    clock: Arc<FixedClock>,
    jobs: JobService,
    printers: PrinterService,
}

impl Farm {
    fn new() -> Self {
        let store = Arc::new(InMemoryStore::default());
        let events = Arc::new(RecordingPublisher::default());
        let clock = Arc::new(FixedClock::new(T0));
        Self {
            monitor_store: Arc::new(InMemoryMonitorStore::new(store.clone(), store.clone())),
            jobs: JobService::new(store.clone(), store.clone(), events.clone(), clock.clone()),
            printers: PrinterService::new(
                store.clone(),
                events.clone(),
                clock.clone(),
                Arc::new(printdesk_domain::testing::TestSealer),
            ),
            events,
            clock,
        }
    }

    async fn printer(&self) -> PrinterId {
        self.printers
            .create(printdesk_domain::NewPrinter {
                id: Some("voron".into()),
                name: "Voron".into(),
                printer_type: "klipper".into(),
                location: None,
                // Monitored: a connection, and monitoring on by default.
                connection: Some(moonraker_connection()),
                monitoring: None,
            })
            .await
            .unwrap()
            .id
    }

    /// A session of a fresh monitor (printdesk (re)started), connected.
    async fn watch(&self, printer: &PrinterId) -> MonitorSession {
        let monitor = PrinterMonitor::new(
            self.monitor_store.clone(),
            self.events.clone(),
            Arc::new(RecordingStatusPublisher::default()),
            self.clock.clone(),
        );
        let mut session = monitor.session(printer.clone());
        session.connecting().await;
        session
    }

    async fn jobs_of(&self, printer: &PrinterId) -> Vec<Job> {
        let query = JobQuery {
            printer_id: Some(printer.clone()),
            ..JobQuery::default()
        };
        let mut jobs = self.jobs.list(&query).await.unwrap().jobs;
        jobs.sort_by_key(|j| j.started_at);
        jobs
    }
}

/// A live report of Moonraker's print `id`.
fn live(state: ReportedState, id: &str, started: Timestamp) -> PrinterReport {
    PrinterReport {
        state,
        file: Some(format!("print-{id}.gcode")),
        identity: PrintIdentity::PrinterJobId(id.into()),
        started_at: Some(started),
        ..PrinterReport::idle()
    }
}

/// printdesk watched print 000001 end, then was stopped.
async fn watched_one_print(farm: &Farm, printer: &PrinterId) {
    let mut session = farm.watch(printer).await;
    session.report(PrinterReport::idle()).await.unwrap();
    let start = farm.clock.advance(Duration::minutes(1));
    session
        .report(live(ReportedState::Printing, "000001", start))
        .await
        .unwrap();
    farm.clock.advance(Duration::minutes(30));
    session
        .report(live(ReportedState::Finished, "000001", start))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_missed_print_is_recorded_once_even_when_the_history_is_seen_again() {
    let farm = Farm::new();
    let p = farm.printer().await;
    watched_one_print(&farm, &p).await;

    // printdesk is down from here on; the printer prints 000002.
    let missed = entry("000002", HistoryStatus::Completed, 60, Some(120));
    farm.clock.advance(Duration::hours(5));
    let history = vec![
        entry("000001", HistoryStatus::Completed, 1, Some(31)),
        missed.clone(),
    ];
    for _restart in 0..2 {
        let mut session = farm.watch(&p).await;
        session.history(history.clone()).await.unwrap();
        session
            .report(live(ReportedState::Finished, "000002", missed.started_at))
            .await
            .unwrap();
    }

    let jobs = farm.jobs_of(&p).await;
    assert_eq!(jobs.len(), 2, "{jobs:#?}");
    let job = &jobs[1];
    assert!(job.auto_created);
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.started_at, Some(missed.started_at));
    assert_eq!(job.completed_at, missed.ended_at);
    assert_eq!(
        farm.monitor_store
            .print_of(job.id)
            .unwrap()
            .printer_job_id
            .as_deref(),
        Some("000002")
    );
}

#[tokio::test]
async fn an_open_auto_job_is_closed_from_its_entry_with_the_operators_edits_kept() {
    let farm = Farm::new();
    let p = farm.printer().await;
    let mut session = farm.watch(&p).await;
    session.report(PrinterReport::idle()).await.unwrap();
    let start = farm.clock.advance(Duration::minutes(1));
    let outcome = session
        .report(live(ReportedState::Printing, "000001", start))
        .await
        .unwrap();
    let Some(NewPrint::Opened(job_id)) = outcome.new_print else {
        panic!("no job opened: {outcome:?}");
    };
    let patch = JobPatch {
        job_name: Some("Order 1187".into()),
        customer_name: Nullable::Set("ACME".into()),
        notes: Nullable::Set("blue PETG".into()),
        ..JobPatch::default()
    };
    farm.jobs
        .edit(job_id, patch, VersionCondition::Any, &anon())
        .await
        .unwrap();

    // printdesk stops; Moonraker restarts mid-print, so the entry says `interrupted`.
    farm.clock.advance(Duration::hours(2));
    let ended = start + Duration::minutes(40);
    let mut session = farm.watch(&p).await;
    let outcome = session
        .history(vec![HistoryEntry {
            printer_job_id: "000001".into(),
            file: Some("print-000001.gcode".into()),
            status: HistoryStatus::Interrupted(Interruption::Interrupted),
            started_at: start,
            ended_at: Some(ended),
        }])
        .await
        .unwrap();
    assert_eq!(
        outcome.closed.map(|c| (c.job_id, c.end)),
        Some((job_id, PrintEnd::Interrupted(Interruption::Interrupted)))
    );
    session.report(PrinterReport::idle()).await.unwrap();

    let jobs = farm.jobs_of(&p).await;
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    let job = &jobs[0];
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.completed_at, Some(ended));
    assert_eq!(job.job_name.as_str(), "Order 1187");
    assert_eq!(job.customer_name.as_ref().unwrap().as_str(), "ACME");
    let notes = job.notes.as_ref().unwrap().as_str();
    assert!(notes.starts_with("blue PETG\n"), "{notes}");
    assert!(notes.contains("interrupted"), "{notes}");
}

#[tokio::test]
async fn a_print_in_progress_on_reconnect_is_left_to_the_live_reports() {
    let farm = Farm::new();
    let p = farm.printer().await;
    watched_one_print(&farm, &p).await;

    farm.clock.advance(Duration::hours(1));
    let start = farm.clock.advance(Duration::minutes(-10));
    farm.clock.advance(Duration::minutes(10));
    let mut session = farm.watch(&p).await;
    let outcome = session
        .history(vec![
            entry("000001", HistoryStatus::Completed, 1, Some(31)),
            HistoryEntry {
                printer_job_id: "000002".into(),
                file: Some("print-000002.gcode".into()),
                status: HistoryStatus::InProgress,
                started_at: start,
                ended_at: None,
            },
        ])
        .await
        .unwrap();
    assert_eq!(outcome.new_print, None);
    assert_eq!(farm.jobs_of(&p).await.len(), 1);

    // The live report records it, with the history's start.
    session
        .report(live(ReportedState::Printing, "000002", start))
        .await
        .unwrap();
    let jobs = farm.jobs_of(&p).await;
    assert_eq!(jobs.len(), 2, "{jobs:#?}");
    assert_eq!(jobs[1].status, JobStatus::Running);
    assert_eq!(jobs[1].started_at, Some(start));
}

/// A Moonraker connection for a printer that is to be monitored.
fn moonraker_connection() -> printdesk_domain::ConnectionPatch {
    printdesk_domain::ConnectionPatch {
        kind: Some("moonraker".into()),
        base_url: printdesk_domain::Nullable::Set("http://voron.local:7125".into()),
        ..printdesk_domain::ConnectionPatch::default()
    }
}
