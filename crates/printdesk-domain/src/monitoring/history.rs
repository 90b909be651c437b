//! A printer's own job history: the prints that started and ended while printdesk was not
//! watching, and the end of the print it was watching when it stopped.
//!
//! Moonraker keeps a history of every print (`server.history.list`). On every (re)connect
//! its connector hands the recent entries to [`super::MonitorSession::history`], and
//! [`decide_history`] decides — in the same [`super::MonitorStore::record`] transaction as a
//! report — which of them printdesk has not recorded yet.
//!
//! # Which entries are new
//!
//! Moonraker numbers its history entries with an increasing counter (`job_id`, six hex
//! digits). printdesk remembers the printer job id of the last print it saw
//! ([`super::PrinterMemory::last_print`]); an entry is new when its id is greater. The
//! remembered print's own entry closes its open auto job. Limits:
//! - a printer printdesk never saw print has no remembered id: its history is not imported
//!   (printdesk cannot tell which of those prints predate it); the newest ended entry becomes
//!   the mark the next reconnect compares with;
//! - if Moonraker's history database is reset, its counter starts again below the mark and
//!   new prints are imported only once the counter passes it (the live reports still record
//!   every print printdesk sees);
//! - entries deleted from the history, or older than what the connector asks for, are not
//!   seen.

use super::{
    decision::{MonitorDecision, MonitorSnapshot, NewPrint, Plan, PrintEnd, is_open_auto_job},
    print::TrackedPrint,
    report::{PrintIdentity, PrinterReport, ReportedState},
};
use crate::{clock::Timestamp, printer::PrinterId};

/// Why a print stopped without finishing, when its host (not the print) went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interruption {
    /// Moonraker restarted while the print ran (its `interrupted`).
    Interrupted,
    /// Klipper shut down during the print (`klippy_shutdown`).
    KlippyShutdown,
    /// Moonraker lost its connection to Klipper during the print (`klippy_disconnect`).
    KlippyDisconnect,
    /// Moonraker exited during the print (`server_exit`).
    ServerExit,
}

impl Interruption {
    /// The note appended to the job it closes.
    pub const fn note(self) -> &'static str {
        match self {
            Self::Interrupted => {
                "Monitoring: the printer's history says this print was interrupted (Moonraker \
                 restarted while it ran)."
            }
            Self::KlippyShutdown => {
                "Monitoring: the printer's history says Klipper shut down during this print."
            }
            Self::KlippyDisconnect => {
                "Monitoring: the printer's history says Moonraker lost its connection to \
                 Klipper during this print."
            }
            Self::ServerExit => {
                "Monitoring: the printer's history says Moonraker stopped during this print."
            }
        }
    }
}

/// How a history entry's print is doing or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryStatus {
    /// Still printing (or paused): left to the live reports.
    InProgress,
    /// Finished: the job is `completed`.
    Completed,
    /// Cancelled by a person: `failed`, with a note.
    Cancelled,
    /// Ended with an error: `failed`.
    Error,
    /// Stopped because its host went away: `failed`, with a note saying how.
    Interrupted(Interruption),
}

impl HistoryStatus {
    /// How the print ended; `None` while it is in progress.
    pub const fn end(self) -> Option<PrintEnd> {
        match self {
            Self::InProgress => None,
            Self::Completed => Some(PrintEnd::Finished),
            Self::Cancelled => Some(PrintEnd::Cancelled),
            Self::Error => Some(PrintEnd::Failed),
            Self::Interrupted(why) => Some(PrintEnd::Interrupted(why)),
        }
    }

    /// The state a printer shows after such an end.
    const fn state(self) -> ReportedState {
        match self {
            Self::InProgress => ReportedState::Printing,
            Self::Completed => ReportedState::Finished,
            Self::Cancelled => ReportedState::Failed { cancelled: true },
            Self::Error | Self::Interrupted(_) => ReportedState::Failed { cancelled: false },
        }
    }
}

/// One print in a printer's own history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The printer's id for the print (Moonraker: six hex digits, increasing), the same id
    /// its live reports carry as [`PrintIdentity::PrinterJobId`].
    pub printer_job_id: String,
    /// The file printed, as the printer names it.
    pub file: Option<String>,
    /// How the print is doing or ended.
    pub status: HistoryStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended; `None` while in progress.
    pub ended_at: Option<Timestamp>,
}

impl HistoryEntry {
    /// The entry's place in the printer's numbering (its id read as hexadecimal).
    fn sequence(&self) -> Option<u64> {
        u64::from_str_radix(&self.printer_job_id, 16).ok()
    }

    /// The report a printer would have sent at the end of this print.
    fn report(&self) -> PrinterReport {
        PrinterReport {
            state: self.status.state(),
            file: self.file.clone(),
            identity: PrintIdentity::PrinterJobId(self.printer_job_id.clone()),
            started_at: Some(self.started_at),
            ended_at: self.ended_at,
            ..PrinterReport::idle()
        }
    }
}

/// Decides what a printer's history (`entries`, in any order) means for its jobs, at `now`.
///
/// - The entry of the remembered print closes its open auto job: `completed` with the
///   entry's end time when it completed, `failed` otherwise (with a note for a cancellation
///   or an interruption).
/// - Each entry after the remembered print (see the module's rule) that has ended becomes an
///   auto job with the entry's real start and end and its final status, unless a running
///   manual job on the printer names its file; the open auto job, if its entry was not
///   there, is closed as `failed` ("the printer had moved on to another print").
/// - An entry still in progress is left to the live reports, which follow it.
/// - Operator fields are never replaced (notes are appended to), and an entry printdesk
///   recorded once is never recorded again: the printer's memory moves on to the newest
///   entry recorded.
///
/// ```
/// use printdesk_domain::{JobStatus, PrinterId};
/// use printdesk_domain::monitoring::{
///     HistoryEntry, HistoryStatus, MonitorSnapshot, PrinterMemory, ReportedState,
///     TrackedPrint, decide_history,
/// };
/// use time::macros::datetime;
///
/// let printer = PrinterId::parse("voron").unwrap();
/// let snapshot = MonitorSnapshot {
///     monitored: true,
///     memory: PrinterMemory {
///         last_state: Some(ReportedState::Finished),
///         last_print: Some(TrackedPrint {
///             printer_job_id: Some("00000A".into()),
///             file: Some("cube.gcode".into()),
///             started_at: datetime!(2026-11-30 08:00 UTC),
///         }),
///         job_id: None,
///     },
///     ..MonitorSnapshot::default()
/// };
/// let missed = HistoryEntry {
///     printer_job_id: "00000B".into(),
///     file: Some("benchy.gcode".into()),
///     status: HistoryStatus::Completed,
///     started_at: datetime!(2026-11-30 22:00 UTC),
///     ended_at: Some(datetime!(2026-11-30 23:10 UTC)),
/// };
/// let decision = decide_history(&snapshot, &printer, &[missed], datetime!(2026-12-01 08:00 UTC));
///
/// let job = &decision.writes[0].event().job;
/// assert_eq!(job.status, JobStatus::Completed);
/// assert_eq!(job.started_at, Some(datetime!(2026-11-30 22:00 UTC)));
/// assert_eq!(job.completed_at, Some(datetime!(2026-11-30 23:10 UTC)));
/// ```
pub fn decide_history(
    snapshot: &MonitorSnapshot,
    printer: &PrinterId,
    entries: &[HistoryEntry],
    now: Timestamp,
) -> MonitorDecision {
    if !snapshot.monitored {
        return MonitorDecision::default();
    }
    let mut entries: Vec<(u64, &HistoryEntry)> = entries
        .iter()
        .filter_map(|e| e.sequence().map(|s| (s, e)))
        .collect();
    entries.sort_by_key(|(sequence, _)| *sequence);
    let mut plan = Plan::new(snapshot, printer, now);
    let memory = &snapshot.memory;
    let remembered = memory
        .last_print
        .as_ref()
        .and_then(|p| p.printer_job_id.as_deref())
        .and_then(|id| u64::from_str_radix(id, 16).ok());
    let Some(remembered) = remembered.filter(|_| memory.last_state.is_some()) else {
        // Nothing to compare with: the newest ended entry becomes the mark.
        if memory.last_print.is_none()
            && let Some((_, newest)) = entries.iter().rev().find(|(_, e)| e.status.end().is_some())
        {
            plan.memory.last_print = Some(TrackedPrint::of(&newest.report(), now));
        }
        return plan.finish();
    };
    let mut open = snapshot
        .job
        .as_ref()
        .filter(|job| memory.job_id == Some(job.id) && is_open_auto_job(job, printer));
    for (sequence, entry) in entries {
        if sequence < remembered {
            continue;
        }
        let Some(end) = entry.status.end() else {
            break; // in progress: the live reports follow it
        };
        if sequence == remembered {
            if let Some(job) = open.take() {
                plan.close(job, end, entry.ended_at);
                plan.memory.last_state = Some(entry.status.state());
            }
            continue;
        }
        if let Some(job) = open.take() {
            plan.close(
                job,
                PrintEnd::Unobserved(super::Unobserved::OtherPrint),
                None,
            );
        }
        let report = entry.report();
        let print = TrackedPrint::of(&report, now);
        let job_id = if let Some(manual) = plan.covering_manual_job(&report) {
            plan.outcome.new_print = Some(NewPrint::CoveredBy(manual.id));
            manual.id
        } else {
            let mut job = plan.auto_job(&report);
            job.status = end.status();
            let started = job.started_at.unwrap_or(now);
            job.completed_at = Some(
                entry
                    .ended_at
                    .filter(|e| *e <= now && *e >= started)
                    .unwrap_or(now),
            );
            job.notes = end.note().and_then(|note| super::appended_note(None, note));
            let id = plan.create(job, print.clone());
            plan.outcome.new_print = Some(NewPrint::Opened(id));
            id
        };
        plan.memory.last_print = Some(print);
        plan.memory.job_id = Some(job_id);
        plan.memory.last_state = Some(entry.status.state());
        plan.outcome.job_id = Some(job_id);
    }
    plan.finish()
}
