//! A printer's live status, from the state of printdesk's connection to it and its last report.

use super::{
    report::{PrinterReport, ReportedState},
    status::{PrinterState, PrinterStatus},
};
use crate::{clock::Timestamp, job::JobId};

/// The state of printdesk's connection to a printer, as a connector tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionCondition {
    /// printdesk is trying to reach the printer.
    Connecting,
    /// Connected; reports arrive.
    Online,
    /// The printer cannot be reached; the sentence says how, when the connector knows
    /// ("connection refused", "no answer for 30 s").
    Offline(Option<String>),
    /// printdesk reached the printer but cannot monitor it, said as a sentence a person can act
    /// on: "access code refused", "certificate changed".
    Error(String),
}

/// What the status says when the printer itself reports [`ReportedState::Error`].
pub const PRINTER_ERROR_MESSAGE: &str = "the printer reports an error";

/// The printer's status for the API and the WebSocket.
///
/// Online, it follows `report` (printing and preparing both show as `printing`; file and
/// progress only while a print is underway or just ended; progress clamped to 0–100), with
/// `job_id` the job that records the print and `last_seen` = `now`. Connecting, offline or in
/// error, it says so, `online` is false and `last_seen` stays `last_seen`.
///
/// ```
/// use printdesk_domain::monitoring::{ConnectionCondition, PrinterState, printer_status};
/// use time::macros::datetime;
///
/// let status = printer_status(
///     &ConnectionCondition::Error("access code refused".into()),
///     None,
///     None,
///     Some(datetime!(2026-12-01 09:58 UTC)),
///     datetime!(2026-12-01 10:00 UTC),
/// );
/// assert_eq!(status.state, PrinterState::Error);
/// assert!(!status.online);
/// assert_eq!(status.error.as_deref(), Some("access code refused"));
/// ```
pub fn printer_status(
    connection: &ConnectionCondition,
    report: Option<&PrinterReport>,
    job_id: Option<JobId>,
    last_seen: Option<Timestamp>,
    now: Timestamp,
) -> PrinterStatus {
    let away = |state, error: Option<&String>| PrinterStatus {
        state,
        online: false,
        last_seen,
        error: error.cloned(),
        ..PrinterStatus::default()
    };
    match (connection, report) {
        (ConnectionCondition::Connecting, _) => away(PrinterState::Connecting, None),
        (ConnectionCondition::Offline(reason), _) => away(PrinterState::Offline, reason.as_ref()),
        (ConnectionCondition::Error(sentence), _) => away(PrinterState::Error, Some(sentence)),
        // Connected, but nothing reported yet: the printer's state is not known.
        (ConnectionCondition::Online, None) => PrinterStatus {
            state: PrinterState::Unknown,
            online: true,
            last_seen,
            ..PrinterStatus::default()
        },
        (ConnectionCondition::Online, Some(report)) => online_status(report, job_id, now),
    }
}

/// The state a connected printer's card shows for what it reports: printing and preparing
/// both show as printing.
impl From<ReportedState> for PrinterState {
    fn from(reported: ReportedState) -> Self {
        match reported {
            ReportedState::Idle => PrinterState::Idle,
            ReportedState::Preparing | ReportedState::Printing => PrinterState::Printing,
            ReportedState::Paused => PrinterState::Paused,
            ReportedState::Finished => PrinterState::Finished,
            ReportedState::Failed { .. } => PrinterState::Failed,
            ReportedState::Error => PrinterState::Error,
        }
    }
}

fn online_status(report: &PrinterReport, job_id: Option<JobId>, now: Timestamp) -> PrinterStatus {
    let state = PrinterState::from(report.state);
    let shows_print = report.state.is_active() || report.state.is_terminal();
    PrinterStatus {
        state,
        online: true,
        file: report.file.clone().filter(|_| shows_print),
        progress: report
            .progress
            .filter(|p| shows_print && p.is_finite())
            .map(|p| p.clamp(0.0, 100.0)),
        remaining_s: report.remaining_s.filter(|_| report.state.is_active()),
        job_id: job_id.filter(|_| shows_print),
        last_seen: Some(now),
        error: (report.state == ReportedState::Error).then(|| PRINTER_ERROR_MESSAGE.to_owned()),
    }
}
