//! The OctoPrint connector against the real OctoPrint (`octoprint` from PyPI) and its bundled
//! virtual printer: prints started, paused, resumed, finished and cancelled through
//! OctoPrint's own API, and a print that ended while printdesk was not watching.

mod support;

use std::time::Duration;

use printdesk_domain::monitoring::{PrinterReport, ReportedState};
use printdesk_monitor::simulator::octoprint::{OctoPrint, PRINTER, server};
use printdesk_monitor::{
    ConnectionProblem, ConnectorEvent,
    octoprint::{self, OctoPrintSettings},
};
use serde_json::json;
use tokio::{sync::mpsc, task::JoinHandle};

// Generous: OctoPrint on a loaded 2-core machine was seen taking 70 s to start.
const PATIENCE: Duration = Duration::from_secs(120);

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
    fn start(octoprint: &OctoPrint, api_key: &str) -> Self {
        let (tx, events) = mpsc::channel(1024);
        let settings = OctoPrintSettings {
            base_url: octoprint.base_url.clone(),
            api_key: api_key.to_owned(),
        };
        Self {
            events,
            task: tokio::spawn(octoprint::follow(settings, tx)),
        }
    }

    async fn until(
        &mut self,
        what: &str,
        matches: impl Fn(&ConnectorEvent) -> bool,
    ) -> ConnectorEvent {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if matches(&event) => return event,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the connector stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {PATIENCE:?}"),
            }
        }
    }

    async fn report_where(
        &mut self,
        what: &str,
        matches: impl Fn(&PrinterReport) -> bool,
    ) -> PrinterReport {
        match self
            .until(
                what,
                |e| matches!(e, ConnectorEvent::Report(r) if matches(r)),
            )
            .await
        {
            ConnectorEvent::Report(r) => r,
            _ => unreachable!(),
        }
    }

    /// The first report of the connection.
    async fn connected(&mut self) -> PrinterReport {
        self.until("connected", |e| *e == ConnectorEvent::Connected)
            .await;
        self.report_where("the first report", |_| true).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_is_followed_through_pause_and_resume_to_its_end() {
    let Some(octoprint) = server() else { return };
    let _printer = PRINTER.lock().await;
    octoprint.ensure_idle().await;
    // Long enough (~20 s on the virtual printer) that progress still shows after the resume on
    // a loaded machine.
    octoprint.upload("pd_done.gcode", 200).await;
    let mut followed = Followed::start(octoprint, &octoprint.api_key);
    let first = followed.connected().await;
    assert!(!first.state.is_active(), "nothing prints yet: {first:?}");

    octoprint.print("pd_done.gcode").await;
    let started = followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    assert_eq!(started.file.as_deref(), Some("pd_done.gcode"));

    octoprint.pause().await;
    followed
        .report_where("paused", |r| r.state == ReportedState::Paused)
        .await;
    // Through OctoPrint's API, asking again if it ignores the first resume.
    octoprint.resume().await;
    followed
        .report_where("resumed", |r| r.state == ReportedState::Printing)
        .await;
    let progressed = followed
        .report_where("progress", |r| {
            r.progress.is_some_and(|p| p > 0.0 && p < 100.0)
        })
        .await;
    assert!(progressed.elapsed_s.is_some());

    let done = followed
        .report_where("finished", |r| r.state.is_terminal())
        .await;
    assert_eq!(done.state, ReportedState::Finished);
    assert_eq!(done.file.as_deref(), Some("pd_done.gcode"));
    assert_eq!(done.progress, Some(100.0));
    // OctoPrint then says Operational; the connector keeps saying how the print ended.
    let after = followed.report_where("a later report", |_| true).await;
    assert_eq!(after.state, ReportedState::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_print_is_a_cancelled_failure() {
    let Some(octoprint) = server() else { return };
    let _printer = PRINTER.lock().await;
    octoprint.ensure_idle().await;
    octoprint.upload("pd_cancel.gcode", 400).await;
    let mut followed = Followed::start(octoprint, &octoprint.api_key);
    followed.connected().await;
    octoprint.print("pd_cancel.gcode").await;
    followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    octoprint.job_command(json!({"command": "cancel"})).await;
    let ended = followed
        .report_where("the end", |r| r.state.is_terminal())
        .await;
    assert_eq!(ended.state, ReportedState::Failed { cancelled: true });
    assert_eq!(ended.file.as_deref(), Some("pd_cancel.gcode"));
    octoprint.wait_until_operational().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_that_ended_while_nobody_watched_is_read_from_prints_last() {
    let Some(octoprint) = server() else { return };
    let _printer = PRINTER.lock().await;
    octoprint.ensure_idle().await;
    octoprint.upload("pd_offline.gcode", 30).await;
    octoprint.print("pd_offline.gcode").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    octoprint.wait_until_operational().await;

    let mut followed = Followed::start(octoprint, &octoprint.api_key);
    let first = followed.connected().await;
    assert_eq!(first.state, ReportedState::Finished, "{first:?}");
    assert_eq!(first.file.as_deref(), Some("pd_offline.gcode"));
    let (started, ended) = (
        first.started_at.expect("a start"),
        first.ended_at.expect("an end"),
    );
    let now = time::OffsetDateTime::now_utc();
    assert!(
        ended <= now && now - ended < time::Duration::seconds(60),
        "ended {ended}"
    );
    assert!(
        started < ended && ended - started < time::Duration::seconds(60),
        "started {started}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_key_is_refused() {
    let Some(octoprint) = server() else { return };
    let mut followed = Followed::start(octoprint, "not-the-key");
    let refused = followed
        .until("the refusal", |e| {
            matches!(e, ConnectorEvent::Disconnected(_))
        })
        .await;
    assert_eq!(
        refused,
        ConnectorEvent::Disconnected(ConnectionProblem::CredentialsRefused)
    );
    assert_eq!(
        ConnectionProblem::CredentialsRefused.sentence("API key"),
        "API key refused"
    );
}

// ---- "Test connection" -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_connection_reaches_octoprint_refuses_a_wrong_key_and_names_a_closed_port() {
    use printdesk_domain::ConnectionTrial;
    use support::probe;

    let Some(octoprint) = server() else { return };
    let _printer = PRINTER.lock().await;
    octoprint.ensure_idle().await;
    match probe::test(&probe::octoprint(&octoprint.base_url, &octoprint.api_key)).await {
        ConnectionTrial::Reached(Some(report)) => {
            // Idle, or how the selected file's last print ended.
            assert!(
                !report.state.is_active() && report.state != ReportedState::Error,
                "{report:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        probe::test(&probe::octoprint(
            &octoprint.base_url,
            "NOT-THE-KEY-0123456789"
        ))
        .await,
        ConnectionTrial::Refused("API key refused".into())
    );
    let port = probe::closed_port();
    let trial = probe::test(&probe::octoprint(&format!("http://127.0.0.1:{port}"), "k")).await;
    assert_eq!(
        probe::unreachable(&trial),
        format!("printer not reachable: nothing answers at 127.0.0.1:{port} (connection refused)")
    );
}
