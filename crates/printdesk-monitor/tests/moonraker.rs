//! The Moonraker connector against the real Moonraker (`moonraker` from PyPI) in front of the
//! suite's stand-in for Klippy: prints started and cancelled through Moonraker's own API, its
//! real history `job_id`s as the prints' identity, a print that started and ended while the
//! connector was stopped (handed over from `server.history.list` on reconnect, with its real
//! times), and Moonraker's `[authorization]` with an API key.

mod support;

use std::time::Duration;

use std::sync::Arc;

use printdesk_domain::{
    JobQuery, JobService, JobStatus, NewPrinter, PrinterId, PrinterService, SystemClock, Timestamp,
    monitoring::{
        HistoryEntry, HistoryStatus, MonitorSession, PrintIdentity, PrinterMonitor, PrinterReport,
        ReportedState,
    },
    testing::{InMemoryMonitorStore, InMemoryStore, RecordingPublisher, RecordingStatusPublisher},
};
use printdesk_monitor::{
    ConnectionProblem, ConnectorEvent,
    moonraker::{self, MoonrakerSettings},
};
use serde_json::Value;
use support::moonraker::{Moonraker, start};
use tokio::{sync::mpsc, task::JoinHandle};

const PATIENCE: Duration = Duration::from_secs(60);

struct Followed {
    events: mpsc::Receiver<ConnectorEvent>,
    task: JoinHandle<()>,
}

impl Drop for Followed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Followed {
    fn start(moonraker: &Moonraker, api_key: Option<&str>) -> Self {
        let (tx, events) = mpsc::channel(1024);
        let settings = MoonrakerSettings {
            base_url: moonraker.base_url.clone(),
            api_key: api_key.map(str::to_owned),
        };
        Self {
            events,
            task: tokio::spawn(moonraker::follow(settings, tx)),
        }
    }

    async fn next(&mut self, what: &str) -> ConnectorEvent {
        match tokio::time::timeout(PATIENCE, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the connector stopped while waiting for {what}"),
            Err(_) => panic!("no {what} within {PATIENCE:?}"),
        }
    }

    async fn report_where(
        &mut self,
        what: &str,
        matches: impl Fn(&PrinterReport) -> bool,
    ) -> PrinterReport {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(ConnectorEvent::Report(r))) if matches(&r) => return r,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the connector stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {PATIENCE:?}"),
            }
        }
    }

    /// Connecting, Connected, the history, the first report: in that order.
    async fn connected(&mut self) -> (Vec<HistoryEntry>, PrinterReport) {
        assert_eq!(self.next("connecting").await, ConnectorEvent::Connecting);
        let connected = self.next("connected").await;
        assert_eq!(connected, ConnectorEvent::Connected);
        let ConnectorEvent::History(history) = self.next("the history").await else {
            panic!("the history does not follow Connected");
        };
        let ConnectorEvent::Report(first) = self.next("the first report").await else {
            panic!("the first report does not follow the history");
        };
        (history, first)
    }
}

fn moonraker_time(value: &Value) -> Timestamp {
    let millis = (value.as_f64().expect("a time") * 1000.0).round() as i128;
    Timestamp::from_unix_timestamp_nanos(millis * 1_000_000).expect("a timestamp")
}

fn id(report: &PrinterReport) -> Option<&str> {
    report.identity.printer_job_id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_started_through_moonraker_is_followed_to_its_end_under_its_history_id() {
    let Some(moonraker) = start(false) else {
        return;
    };
    let mut followed = Followed::start(&moonraker, None);
    let (history, first) = followed.connected().await;
    assert!(history.is_empty(), "{history:?}");
    assert_eq!(first, PrinterReport::idle());

    moonraker.upload("cube.gcode").await;
    moonraker.print("cube.gcode").await;
    let printing = followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    assert_eq!(printing.file.as_deref(), Some("cube.gcode"));
    let job_id = id(&printing)
        .expect("the print's history job_id, from its first report on")
        .to_owned();
    let halfway = followed
        .report_where("progress", |r| r.progress.is_some_and(|p| p > 20.0))
        .await;
    assert_eq!(id(&halfway), Some(job_id.as_str()));
    assert!(halfway.elapsed_s.is_some());

    let finished = followed
        .report_where("finished with its end time", |r| {
            r.state == ReportedState::Finished && r.ended_at.is_some()
        })
        .await;
    assert_eq!(id(&finished), Some(job_id.as_str()));
    let entry = moonraker.wait_until_ended("cube.gcode").await;
    assert_eq!(entry["job_id"], job_id.as_str());
    assert_eq!(entry["status"], "completed");
    assert_eq!(
        finished.started_at,
        Some(moonraker_time(&entry["start_time"]))
    );
    assert_eq!(finished.ended_at, Some(moonraker_time(&entry["end_time"])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_cancelled_through_moonraker_is_reported_cancelled() {
    let Some(moonraker) = start(false) else {
        return;
    };
    let mut followed = Followed::start(&moonraker, None);
    followed.connected().await;
    moonraker.upload("cancel_me.gcode").await;
    moonraker.print("cancel_me.gcode").await;
    let printing = followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    moonraker.cancel().await;
    let cancelled = followed
        .report_where("cancelled", |r| {
            r.state == ReportedState::Failed { cancelled: true }
        })
        .await;
    assert_eq!(id(&cancelled), id(&printing));
    assert!(id(&cancelled).is_some());
    let entry = moonraker.wait_until_ended("cancel_me.gcode").await;
    assert_eq!(entry["status"], "cancelled");
    assert_eq!(Some(entry["job_id"].as_str().unwrap()), id(&cancelled));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_made_while_the_connector_was_stopped_is_handed_over_from_the_history() {
    let Some(moonraker) = start(false) else {
        return;
    };
    moonraker.upload("missed.gcode").await;
    let mut followed = Followed::start(&moonraker, None);
    followed.connected().await;
    drop(followed);

    // A whole print while printdesk is not watching.
    moonraker.print("missed.gcode").await;
    let entry = moonraker.wait_until_ended("missed.gcode").await;
    assert_eq!(entry["status"], "completed");

    let mut followed = Followed::start(&moonraker, None);
    let (history, first) = followed.connected().await;
    let missed = history.last().expect("the missed print in the history");
    assert_eq!(missed.printer_job_id, entry["job_id"].as_str().unwrap());
    assert_eq!(missed.file.as_deref(), Some("missed.gcode"));
    assert_eq!(missed.status, HistoryStatus::Completed);
    assert_eq!(missed.started_at, moonraker_time(&entry["start_time"]));
    assert_eq!(missed.ended_at, Some(moonraker_time(&entry["end_time"])));
    assert_eq!(first.state, ReportedState::Finished);
    assert_eq!(
        first.identity,
        PrintIdentity::PrinterJobId(missed.printer_job_id.clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moonraker_with_authorization_takes_its_api_key_and_refuses_a_wrong_one() {
    let Some(moonraker) = start(true) else { return };
    let key = moonraker.api_key.clone().expect("an API key");

    let mut followed = Followed::start(&moonraker, Some(&key));
    let (_, first) = followed.connected().await;
    assert_eq!(first, PrinterReport::idle());
    drop(followed);

    for wrong in [Some("0123456789abcdef0123456789abcdef"), None] {
        let mut followed = Followed::start(&moonraker, wrong);
        assert_eq!(
            followed.next("connecting").await,
            ConnectorEvent::Connecting
        );
        assert_eq!(
            followed.next("the refusal").await,
            ConnectorEvent::Disconnected(ConnectionProblem::CredentialsRefused),
            "with {wrong:?}"
        );
    }
}

/// Hands a connector's events to a monitoring session, as printdesk's monitor does.
async fn relay(session: &mut MonitorSession, event: ConnectorEvent) {
    match event {
        ConnectorEvent::Connecting => session.connecting().await,
        ConnectorEvent::History(entries) => {
            session
                .history(entries)
                .await
                .expect("the history recorded");
        }
        ConnectorEvent::Report(report) => {
            session.report(report).await.expect("the report recorded");
        }
        ConnectorEvent::Disconnected(problem) => {
            session.offline(Some(format!("{problem:?}"))).await
        }
        ConnectorEvent::Connected | ConnectorEvent::CertificateTrusted { .. } => {}
    }
}

impl Followed {
    /// Relays events to `session` until `done` holds for the jobs stored.
    async fn relay_until(
        &mut self,
        session: &mut MonitorSession,
        jobs: &JobService,
        what: &str,
        done: impl Fn(&MonitorSession, &[printdesk_domain::Job]) -> bool,
    ) -> Vec<printdesk_domain::Job> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let listed = jobs.list(&JobQuery::default()).await.unwrap().jobs;
            if done(session, &listed) {
                return listed;
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => relay(session, event).await,
                Ok(None) => panic!("the connector stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {PATIENCE:?}: {listed:#?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_missed_while_printdesk_was_stopped_becomes_a_job_with_its_real_times() {
    let Some(moonraker) = start(false) else {
        return;
    };
    let store = Arc::new(InMemoryStore::default());
    let events = Arc::new(RecordingPublisher::default());
    let clock = Arc::new(SystemClock);
    let jobs = JobService::new(store.clone(), store.clone(), events.clone(), clock.clone());
    let printer: PrinterId = PrinterService::new(
        store.clone(),
        events.clone(),
        clock.clone(),
        Arc::new(printdesk_domain::testing::TestSealer),
    )
    .create(NewPrinter {
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
    .id;
    let monitor_store = Arc::new(InMemoryMonitorStore::new(store.clone(), store.clone()));
    let monitor = PrinterMonitor::new(
        monitor_store,
        events,
        Arc::new(RecordingStatusPublisher::default()),
        clock,
    );
    moonraker.upload("watched.gcode").await;
    moonraker.upload("missed.gcode").await;

    // printdesk watches one print from start to end.
    let mut session = monitor.session(printer.clone());
    let mut followed = Followed::start(&moonraker, None);
    followed
        .relay_until(&mut session, &jobs, "the idle printer", |s, _| {
            s.status().online
        })
        .await;
    moonraker.print("watched.gcode").await;
    followed
        .relay_until(
            &mut session,
            &jobs,
            "the watched print completed",
            |_, jobs| jobs.len() == 1 && jobs[0].status == JobStatus::Completed,
        )
        .await;
    drop(followed);
    drop(session);
    moonraker.wait_until_ended("watched.gcode").await;

    // printdesk is stopped across a whole print.
    moonraker.print("missed.gcode").await;
    let entry = moonraker.wait_until_ended("missed.gcode").await;

    // printdesk restarts: the missed print is recorded from Moonraker's history.
    let mut session = monitor.session(printer.clone());
    let mut followed = Followed::start(&moonraker, None);
    let listed = followed
        .relay_until(&mut session, &jobs, "the missed print's job", |_, jobs| {
            jobs.len() == 2
        })
        .await;
    let missed = listed
        .iter()
        .find(|j| {
            j.file_name
                .as_ref()
                .is_some_and(|f| f.as_str() == "missed.gcode")
        })
        .expect("a job for the missed print");
    assert!(missed.auto_created);
    assert_eq!(missed.status, JobStatus::Completed, "{listed:#?} {entry}");
    assert_eq!(
        missed.started_at,
        Some(moonraker_time(&entry["start_time"]))
    );
    assert_eq!(
        missed.completed_at,
        Some(moonraker_time(&entry["end_time"]))
    );

    // The live reports after the history create nothing more.
    followed
        .relay_until(&mut session, &jobs, "the first report", |s, _| {
            s.status().online
        })
        .await;
    assert_eq!(jobs.list(&JobQuery::default()).await.unwrap().jobs.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_klipper_restart_mid_print_ends_the_connection_and_the_history_says_so() {
    let Some(moonraker) = start(false) else {
        return;
    };
    let mut followed = Followed::start(&moonraker, None);
    followed.connected().await;
    moonraker.upload("restarted.gcode").await;
    moonraker.print("restarted.gcode").await;
    let printing = followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    let job_id = id(&printing).expect("the print's job_id").to_owned();

    moonraker.restart_klippy().await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let problem = loop {
        match tokio::time::timeout_at(deadline, followed.events.recv()).await {
            Ok(Some(ConnectorEvent::Disconnected(problem))) => break problem,
            Ok(Some(_)) => {}
            other => panic!("no disconnection: {other:?}"),
        }
    };
    assert_eq!(
        problem,
        ConnectionProblem::Unreachable("Klipper disconnected from Moonraker".into())
    );

    // The next connection waits for Klippy, then hands over the history.
    let (history, first) = followed.connected().await;
    let entry = history
        .last()
        .expect("the interrupted print in the history");
    assert_eq!(entry.printer_job_id, job_id);
    assert_eq!(
        entry.status,
        HistoryStatus::Interrupted(printdesk_domain::monitoring::Interruption::KlippyDisconnect)
    );
    assert!(entry.ended_at.is_some());
    assert_eq!(first, PrinterReport::idle());
}

/// A Moonraker connection for a printer that is to be monitored.
fn moonraker_connection() -> printdesk_domain::ConnectionPatch {
    printdesk_domain::ConnectionPatch {
        kind: Some("moonraker".into()),
        base_url: printdesk_domain::Nullable::Set("http://voron.local:7125".into()),
        ..printdesk_domain::ConnectionPatch::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_stop_is_the_printers_error_until_klipper_restarts() {
    let Some(moonraker) = start(false) else {
        return;
    };
    let mut followed = Followed::start(&moonraker, None);
    followed.connected().await;
    moonraker.upload("stopped.gcode").await;
    moonraker.print("stopped.gcode").await;
    let printing = followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    let job_id = id(&printing).expect("the print's job_id").to_owned();

    moonraker.emergency_stop().await;
    followed
        .report_where("the printer's error", |r| r.state == ReportedState::Error)
        .await;
    drop(followed);

    // Connecting to a Moonraker whose Klipper is shut down: the error, right away.
    let mut followed = Followed::start(&moonraker, None);
    assert_eq!(
        followed.next("connecting").await,
        ConnectorEvent::Connecting
    );
    assert_eq!(followed.next("connected").await, ConnectorEvent::Connected);
    let ConnectorEvent::Report(report) = followed.next("the error").await else {
        panic!("no report of the shut-down Klipper");
    };
    assert_eq!(report.state, ReportedState::Error);

    // A restart brings Klipper back; the history says how the print ended.
    moonraker.restart_klippy().await;
    let ConnectorEvent::History(history) = followed.next("the history").await else {
        panic!("the history does not follow once Klipper is ready");
    };
    let entry = history.last().expect("the stopped print");
    assert_eq!(entry.printer_job_id, job_id);
    assert_eq!(
        entry.status,
        HistoryStatus::Interrupted(printdesk_domain::monitoring::Interruption::KlippyShutdown)
    );
    let ConnectorEvent::Report(first) = followed.next("the first report").await else {
        panic!("no report after the history");
    };
    assert_eq!(first, PrinterReport::idle());
}

// ---- "Test connection" -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_connection_reaches_moonraker_refuses_a_wrong_key_and_names_a_closed_port() {
    use printdesk_domain::ConnectionTrial;
    use support::probe;

    let Some(moonraker) = start(true) else { return };
    let key = moonraker.api_key.clone().expect("an API key");
    assert_eq!(
        probe::test(&probe::moonraker(&moonraker.base_url, Some(&key))).await,
        ConnectionTrial::Reached(Some(PrinterReport::idle()))
    );
    for wrong in [Some("0123456789abcdef0123456789abcdef"), None] {
        assert_eq!(
            probe::test(&probe::moonraker(&moonraker.base_url, wrong)).await,
            ConnectionTrial::Refused("API key refused".into()),
            "with {wrong:?}"
        );
    }
    let port = probe::closed_port();
    let trial = probe::test(&probe::moonraker(&format!("http://127.0.0.1:{port}"), None)).await;
    assert_eq!(
        probe::unreachable(&trial),
        format!("printer not reachable: nothing answers at 127.0.0.1:{port} (connection refused)")
    );
}
