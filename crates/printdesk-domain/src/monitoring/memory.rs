//! What printdesk remembers about one printer between two reports.

use super::{print::TrackedPrint, report::ReportedState};
use crate::job::JobId;

/// What printdesk last knew about one printer, kept by the store so that it survives a
/// reconnect, a restart of printdesk and a change of the instance that monitors the printer.
/// Every decision reads it and may write a new one in the same transaction as its job changes.
///
/// `PrinterMemory::default()` is a printer printdesk has never heard from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrinterMemory {
    /// The printer's last settled state. A [`ReportedState::Preparing`] report is recorded
    /// only when it is not the print already remembered (preparing *another* print means the
    /// remembered one is over). `None` until the printer's first report.
    pub last_state: Option<ReportedState>,
    /// The print printdesk saw last, active or ended, whether or not a job records it. It is
    /// what the next report is compared with; it changes only when another print is seen.
    pub last_print: Option<TrackedPrint>,
    /// The job that records `last_print`: the auto job monitoring created for it, or a
    /// manual job that was already running with its file. `None` when no job records it (a
    /// print already underway when printdesk first heard from the printer). The job may
    /// have been closed, edited or deleted since; the decision looks at it as stored.
    pub job_id: Option<JobId>,
}
