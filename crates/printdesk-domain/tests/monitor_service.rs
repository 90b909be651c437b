#![cfg(feature = "testing")]
//! The monitoring use case on the in-memory adapters: scripted report sequences from printers,
//! checked against the jobs stored, the events published and the statuses sent.

mod support;

use std::sync::Arc;

use printdesk_domain::{
    EventKind, Job, JobDraft, JobPatch, JobQuery, JobService, JobStatus, Nullable, PrinterId,
    PrinterService, Timestamp,
    monitoring::{
        MonitorSession, NewPrint, PrintEnd, PrinterMonitor, PrinterReport, PrinterState,
        PrinterStatus, ReportedState, Unobserved,
    },
    testing::{InMemoryMonitorStore, InMemoryStore, RecordingPublisher, RecordingStatusPublisher},
};
use support::{FixedClock, T0, anon};
use time::Duration;

use ReportedState::{Finished, Paused, Printing};

/// A farm: the job store, monitoring's store beside it, and what was published.
struct Farm {
    store: Arc<InMemoryStore>,
    monitor_store: Arc<InMemoryMonitorStore>,
    events: Arc<RecordingPublisher>,
    statuses: Arc<RecordingStatusPublisher>,
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
            statuses: Arc::new(RecordingStatusPublisher::default()),
            jobs: JobService::new(store.clone(), store.clone(), events.clone(), clock.clone()),
            printers: PrinterService::new(
                store.clone(),
                events.clone(),
                clock.clone(),
                Arc::new(printdesk_domain::testing::TestSealer),
            ),
            store,
            events,
            clock,
        }
    }

    /// A monitor over the farm's stores: a new one is printdesk restarted, or a second
    /// instance.
    fn monitor(&self) -> PrinterMonitor {
        PrinterMonitor::new(
            self.monitor_store.clone(),
            self.events.clone(),
            self.statuses.clone(),
            self.clock.clone(),
        )
    }

    async fn printer(&self, id: &str) -> PrinterId {
        self.printers
            .create(printdesk_domain::NewPrinter {
                id: Some(id.into()),
                name: format!("Printer {id}"),
                printer_type: "bambu_lab".into(),
                location: None,
                // Monitored: a connection, and monitoring on by default.
                connection: Some(printdesk_domain::ConnectionPatch {
                    kind: Some("bambu_lab".into()),
                    host: Nullable::Set("192.168.1.50".into()),
                    serial: Nullable::Set("01S00C123456789".into()),
                    access_code: Nullable::Set(printdesk_domain::SecretText::new("12345678")),
                    ..printdesk_domain::ConnectionPatch::default()
                }),
                monitoring: None,
            })
            .await
            .unwrap()
            .id
    }

    /// A connected session on `printer` of a fresh monitor.
    async fn watch(&self, printer: &PrinterId) -> MonitorSession {
        let mut session = self.monitor().session(printer.clone());
        session.connecting().await;
        session
    }

    /// The printer's jobs, oldest first.
    async fn jobs_of(&self, printer: &PrinterId) -> Vec<Job> {
        let query = JobQuery {
            printer_id: Some(printer.clone()),
            ..JobQuery::default()
        };
        let mut jobs = self.jobs.list(&query).await.unwrap().jobs;
        jobs.sort_by_key(|j| (j.created_at, j.id));
        jobs
    }

    async fn only_job_of(&self, printer: &PrinterId) -> Job {
        let jobs = self.jobs_of(printer).await;
        assert_eq!(jobs.len(), 1, "{jobs:#?}");
        jobs.into_iter().next().unwrap()
    }

    fn tick(&self, seconds: f64) -> Timestamp {
        self.clock
            .advance(Duration::milliseconds((seconds * 1000.0) as i64))
    }

    /// The kinds of the events published, which must be exactly the events logged.
    fn event_kinds(&self) -> Vec<EventKind> {
        let published = self.events.events();
        let monitor_events: Vec<_> = published
            .iter()
            .filter(|e| {
                e.actor
                    .as_deref()
                    .is_some_and(|a| a.starts_with("monitor:"))
            })
            .collect();
        assert_eq!(
            published,
            self.store.events(),
            "every committed event is published"
        );
        monitor_events.iter().map(|e| e.kind).collect()
    }

    fn states_sent(&self, printer: &PrinterId) -> Vec<PrinterState> {
        let mut states: Vec<_> = self
            .statuses
            .sent_for(printer)
            .iter()
            .map(|s| s.state)
            .collect();
        states.dedup();
        states
    }

    fn last_status(&self, printer: &PrinterId) -> PrinterStatus {
        self.statuses
            .sent_for(printer)
            .pop()
            .expect("a status was sent")
    }
}

fn at(state: ReportedState, file: &str, elapsed_s: u32) -> PrinterReport {
    PrinterReport {
        state,
        file: Some(file.into()),
        elapsed_s: Some(elapsed_s),
        progress: Some(f64::from(elapsed_s.min(100))),
        ..PrinterReport::idle()
    }
}

async fn send(session: &mut MonitorSession, report: PrinterReport) {
    let outcome = session
        .report(report)
        .await
        .expect("the in-memory store does not fail");
    assert!(outcome.monitored);
}

#[tokio::test]
async fn a_print_from_start_to_finish_is_one_job() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut session = farm.watch(&p).await;
    send(&mut session, PrinterReport::idle()).await;

    farm.tick(1.0);
    let started = farm.clock.advance(Duration::ZERO);
    send(&mut session, at(Printing, "Benchy.gcode.3mf", 0)).await;
    let mut elapsed = 0;
    for _ in 0..100 {
        farm.tick(0.5);
        elapsed += 1;
        send(&mut session, at(Printing, "Benchy.gcode.3mf", elapsed / 2)).await;
    }
    farm.tick(60.0);
    send(&mut session, at(Paused, "Benchy.gcode.3mf", elapsed / 2)).await;
    farm.tick(600.0);
    send(&mut session, at(Paused, "Benchy.gcode.3mf", elapsed / 2)).await;
    farm.tick(1.0);
    send(
        &mut session,
        at(Printing, "Benchy.gcode.3mf", elapsed / 2 + 1),
    )
    .await;
    farm.tick(30.0);
    let ended = farm.tick(0.0);
    send(
        &mut session,
        at(Finished, "Benchy.gcode.3mf", elapsed / 2 + 31),
    )
    .await;

    let job = farm.only_job_of(&p).await;
    assert_eq!(job.job_name.as_str(), "Benchy");
    assert_eq!(job.file_name.as_ref().unwrap().as_str(), "Benchy.gcode.3mf");
    assert_eq!(job.status, JobStatus::Completed);
    assert!(job.auto_created);
    assert_eq!(job.discovery_time, Some(started));
    assert_eq!(job.started_at, Some(started));
    assert_eq!(job.completed_at, Some(ended));
    assert_eq!(job.notes, None);
    assert_eq!(
        farm.event_kinds(),
        [EventKind::JobCreated, EventKind::JobUpdated]
    );
    assert!(
        farm.events
            .events()
            .iter()
            .all(|e| e.actor.as_deref() == Some("monitor:x1c-1"))
    );

    assert_eq!(
        farm.states_sent(&p),
        [
            PrinterState::Connecting,
            PrinterState::Idle,
            PrinterState::Printing,
            PrinterState::Paused,
            PrinterState::Printing,
            PrinterState::Finished,
        ]
    );
    // 100 progress reports over 50 s: about one status a second, not a hundred.
    let printing = farm
        .statuses
        .sent_for(&p)
        .into_iter()
        .filter(|s| s.state == PrinterState::Printing)
        .collect::<Vec<_>>();
    assert!(
        (40..=53).contains(&printing.len()),
        "{} printing statuses",
        printing.len()
    );
    assert!(printing.iter().all(|s| s.job_id == Some(job.id)));
    let last = farm.last_status(&p);
    assert_eq!(
        (last.state, last.job_id),
        (PrinterState::Finished, Some(job.id))
    );
    assert_eq!(session.status(), &last);
}

#[tokio::test]
async fn a_cancelled_print_fails_its_job_with_a_note() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut session = farm.watch(&p).await;
    send(&mut session, PrinterReport::idle()).await;
    send(&mut session, at(Printing, "Cube.3mf", 0)).await;
    farm.tick(120.0);
    let outcome = session
        .report(at(
            ReportedState::Failed { cancelled: true },
            "Cube.3mf",
            120,
        ))
        .await
        .unwrap();

    let job = farm.only_job_of(&p).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.completed_at, Some(farm.tick(0.0)));
    assert_eq!(
        job.notes.unwrap().as_str(),
        PrintEnd::Cancelled.note().unwrap()
    );
    assert_eq!(outcome.closed.unwrap().end, PrintEnd::Cancelled);
    assert_eq!(farm.last_status(&p).state, PrinterState::Failed);
}

#[tokio::test]
async fn a_restart_or_a_second_instance_mid_print_keeps_the_one_job() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut first = farm.watch(&p).await;
    send(&mut first, PrinterReport::idle()).await;
    send(&mut first, at(Printing, "Benchy.3mf", 0)).await;
    farm.tick(300.0);
    send(&mut first, at(Printing, "Benchy.3mf", 300)).await;
    let job = farm.only_job_of(&p).await;
    drop(first);

    // printdesk restarts five minutes later: a new monitor, the same store.
    farm.tick(300.0);
    let mut restarted = farm.watch(&p).await;
    let outcome = restarted
        .report(at(Printing, "Benchy.3mf", 600 - 20))
        .await
        .unwrap();
    assert_eq!((outcome.closed, outcome.new_print), (None, None));
    assert_eq!(outcome.job_id, Some(job.id));

    // Another instance takes the printer over and sees the same print, paused.
    farm.tick(60.0);
    let mut other_instance = farm.watch(&p).await;
    send(&mut other_instance, at(Paused, "Benchy.3mf", 660)).await;
    farm.tick(60.0);
    send(&mut other_instance, at(Finished, "Benchy.3mf", 700)).await;

    let done = farm.only_job_of(&p).await;
    assert_eq!(done.id, job.id);
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(
        farm.event_kinds(),
        [EventKind::JobCreated, EventKind::JobUpdated]
    );
}

#[tokio::test]
async fn an_end_printdesk_did_not_see_fails_the_job_with_a_note() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut session = farm.watch(&p).await;
    send(&mut session, PrinterReport::idle()).await;
    send(&mut session, at(Printing, "Benchy.3mf", 0)).await;
    session.offline(Some("no answer for 30 s".into())).await;
    assert_eq!(farm.last_status(&p).state, PrinterState::Offline);
    assert_eq!(
        farm.only_job_of(&p).await.status,
        JobStatus::Running,
        "offline: no guess"
    );

    farm.tick(3600.0);
    session.connecting().await;
    let outcome = session.report(PrinterReport::idle()).await.unwrap();
    assert_eq!(
        outcome.closed.unwrap().end,
        PrintEnd::Unobserved(Unobserved::PrinterIdle)
    );
    let job = farm.only_job_of(&p).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.notes.unwrap().as_str().contains("not observed"));
}

#[tokio::test]
async fn a_reprint_of_the_same_file_is_a_second_job() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut session = farm.watch(&p).await;
    send(&mut session, PrinterReport::idle()).await;
    for _ in 0..2 {
        farm.tick(60.0);
        send(&mut session, at(Printing, "Benchy.3mf", 0)).await;
        farm.tick(1800.0);
        send(&mut session, at(Finished, "Benchy.3mf", 1800)).await;
        // Bambu keeps saying FINISH until the next print.
        farm.tick(10.0);
        send(&mut session, at(Finished, "Benchy.3mf", 1800)).await;
    }
    let jobs = farm.jobs_of(&p).await;
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.status == JobStatus::Completed));
    assert!(jobs.iter().all(|j| j.job_name.as_str() == "Benchy"));
    assert_ne!(jobs[0].started_at, jobs[1].started_at);
}

#[tokio::test]
async fn two_printers_printing_the_same_file_make_two_jobs() {
    let farm = Farm::new();
    let (a, b) = (farm.printer("x1c-1").await, farm.printer("p1s-2").await);
    let (mut on_a, mut on_b) = (farm.watch(&a).await, farm.watch(&b).await);
    for session in [&mut on_a, &mut on_b] {
        send(session, PrinterReport::idle()).await;
        send(session, at(Printing, "Benchy.3mf", 0)).await;
    }
    let (job_a, job_b) = (farm.only_job_of(&a).await, farm.only_job_of(&b).await);
    assert_ne!(job_a.id, job_b.id);
    assert_eq!(
        farm.event_kinds(),
        [EventKind::JobCreated, EventKind::JobCreated]
    );
}

#[tokio::test]
async fn a_printer_with_monitoring_off_records_nothing() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    farm.monitor_store.set_monitoring(&p, false);
    let mut session = farm.monitor().session(p.clone());
    for report in [
        PrinterReport::idle(),
        at(Printing, "Benchy.3mf", 0),
        at(Finished, "Benchy.3mf", 60),
    ] {
        let outcome = session.report(report).await.unwrap();
        assert!(!outcome.monitored);
    }
    assert!(farm.jobs_of(&p).await.is_empty());
    assert!(farm.event_kinds().is_empty());
    assert!(farm.statuses.sent().is_empty());

    // Switched on again, it starts from what it sees.
    farm.monitor_store.set_monitoring(&p, true);
    send(&mut session, PrinterReport::idle()).await;
    send(&mut session, at(Printing, "Benchy.3mf", 0)).await;
    assert_eq!(farm.jobs_of(&p).await.len(), 1);
}

#[tokio::test]
async fn a_manual_job_already_running_the_file_means_no_auto_job() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let manual = farm
        .jobs
        .create(
            JobDraft {
                job_name: "Clips for ACME".into(),
                status: JobStatus::Running,
                file_name: Some("Benchy.3mf".into()),
                printer_id: Some(p.to_string()),
                ..JobDraft::default()
            },
            &anon(),
        )
        .await
        .unwrap();
    let mut session = farm.watch(&p).await;
    send(&mut session, PrinterReport::idle()).await;
    let outcome = session
        .report(at(Printing, "/sdcard/Benchy.3mf", 0))
        .await
        .unwrap();
    assert_eq!(outcome.new_print, Some(NewPrint::CoveredBy(manual.id)));
    assert_eq!(farm.last_status(&p).job_id, Some(manual.id));
    farm.tick(600.0);
    send(&mut session, at(Finished, "/sdcard/Benchy.3mf", 600)).await;

    assert_eq!(
        farm.only_job_of(&p).await,
        manual,
        "never closed by monitoring"
    );
    assert!(farm.event_kinds().is_empty());
}

#[tokio::test]
async fn an_operators_edits_survive_the_print_ending() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut session = farm.watch(&p).await;
    send(&mut session, PrinterReport::idle()).await;
    send(&mut session, at(Printing, "Benchy.3mf", 0)).await;
    let job = farm.only_job_of(&p).await;
    let patch = JobPatch {
        job_name: Some("Order 1187".into()),
        is_business: Some(true),
        customer_name: Nullable::Set("ACME".into()),
        notes: Nullable::Set("blue PETG".into()),
        ..JobPatch::default()
    };
    farm.jobs
        .edit(
            job.id,
            patch,
            printdesk_domain::VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    farm.tick(600.0);
    session.offline(None).await;
    farm.tick(600.0);
    session.connecting().await;
    send(&mut session, PrinterReport::idle()).await;

    let job = farm.only_job_of(&p).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.job_name.as_str(), "Order 1187");
    assert!(job.is_business);
    assert_eq!(job.customer_name.unwrap().as_str(), "ACME");
    let notes = job.notes.unwrap();
    assert!(notes.as_str().starts_with("blue PETG\n"), "{notes:?}");
    assert!(notes.as_str().contains("not observed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_sessions_reporting_one_print_at_once_make_one_job() {
    let farm = Arc::new(Farm::new());
    let p = farm.printer("x1c-1").await;
    send(&mut farm.watch(&p).await, PrinterReport::idle()).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (farm, p) = (farm.clone(), p.clone());
            tokio::spawn(async move {
                let mut session = farm.watch(&p).await;
                send(&mut session, at(Printing, "Benchy.3mf", 0)).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    farm.only_job_of(&p).await;
    assert_eq!(farm.event_kinds(), [EventKind::JobCreated]);
}

#[tokio::test]
async fn connection_trouble_shows_in_the_status_and_leaves_jobs_alone() {
    let farm = Farm::new();
    let p = farm.printer("x1c-1").await;
    let mut session = farm.watch(&p).await;
    assert_eq!(farm.last_status(&p).state, PrinterState::Connecting);
    session.refused("access code refused").await;
    let status = farm.last_status(&p);
    assert_eq!(status.state, PrinterState::Error);
    assert!(!status.online);
    assert_eq!(status.error.as_deref(), Some("access code refused"));
    session.refused("certificate changed").await;
    assert_eq!(
        farm.last_status(&p).error.as_deref(),
        Some("certificate changed")
    );

    send(&mut session, PrinterReport::idle()).await;
    let status = farm.last_status(&p);
    assert_eq!(
        (status.state, status.online, status.error),
        (PrinterState::Idle, true, None)
    );
    assert_eq!(status.last_seen, Some(T0));
    assert!(farm.jobs_of(&p).await.is_empty());
}
