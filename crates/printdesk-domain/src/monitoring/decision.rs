//! The monitoring decision: what one printer report means for the printer's jobs.
//!
//! A pure function of what the store holds for the printer ([`MonitorSnapshot`]) and the
//! report ([`ReportContext`]). The store runs it inside its transaction
//! ([`super::MonitorStore::record`]) and writes exactly what it decided.

use super::{
    history::Interruption,
    memory::PrinterMemory,
    naming::{file_name_for, job_name_for},
    print::{Matching, TrackedPrint},
    report::{PrinterReport, ReportedState},
};
use crate::{
    changes::JobChanges,
    clock::Timestamp,
    event::{EventKind, NewJobEvent},
    fields::{NOTES_MAX_CHARS, Notes},
    job::{Job, JobId, Version},
    printer::PrinterId,
    status::JobStatus,
};

/// What the store holds for one printer, read inside the transaction that will write the
/// decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorSnapshot {
    /// Whether the printer exists and has monitoring switched on. A report for any other
    /// printer is ignored, so a report racing a `PATCH` that switches monitoring off writes
    /// nothing.
    pub monitored: bool,
    /// What printdesk last knew about the printer.
    pub memory: PrinterMemory,
    /// The job `memory.job_id` names, as stored now (`None` when there is none or it was
    /// deleted). Monitoring treats it as *open* only while it is an auto job, running, on this
    /// printer ([`is_open_auto_job`]).
    pub job: Option<Job>,
    /// The jobs running on this printer that a person created (`auto_created` false). A print
    /// whose file one of them names is recorded by it, and no auto job is created.
    pub running_manual_jobs: Vec<Job>,
}

/// The report being decided, and when.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// The printer that reported.
    pub printer: &'a PrinterId,
    /// What it reported.
    pub report: &'a PrinterReport,
    /// Whether this is the first report since printdesk (re)connected to the printer.
    pub first_report: bool,
    /// When printdesk received it.
    pub now: Timestamp,
}

/// Why monitoring did not see a print end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unobserved {
    /// The printer was idle, without saying how the print ended.
    PrinterIdle,
    /// The printer was busy with (or had ended) another print.
    OtherPrint,
}

/// How a print ended, as far as monitoring can tell, and so how its job is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintEnd {
    /// The printer reported the print finished: `completed`.
    Finished,
    /// The printer reported the print failed: `failed`.
    Failed,
    /// The printer reported the print cancelled: `failed`, with a note.
    Cancelled,
    /// printdesk did not see the end: `failed`, with a note saying so. Only the printer's
    /// word makes a job `completed`.
    Unobserved(Unobserved),
    /// The printer's job history says the print stopped because its host went away
    /// (Moonraker's `interrupted`, `klippy_shutdown`, …): `failed`, with a note saying so.
    Interrupted(Interruption),
}

impl PrintEnd {
    /// The status the job is closed with.
    pub const fn status(self) -> JobStatus {
        match self {
            Self::Finished => JobStatus::Completed,
            _ => JobStatus::Failed,
        }
    }

    /// The note appended to the job's notes, if this end needs one.
    pub const fn note(self) -> Option<&'static str> {
        match self {
            Self::Finished | Self::Failed => None,
            Self::Cancelled => Some("Monitoring: the print was cancelled on the printer."),
            Self::Unobserved(Unobserved::PrinterIdle) => Some(
                "Monitoring: the end of this print was not observed; the printer was idle \
                 without saying whether it finished.",
            ),
            Self::Unobserved(Unobserved::OtherPrint) => Some(
                "Monitoring: the end of this print was not observed; the printer had moved on \
                 to another print.",
            ),
            Self::Interrupted(why) => Some(why.note()),
        }
    }

    /// Whether the printer itself reported this end.
    pub const fn observed(self) -> bool {
        !matches!(self, Self::Unobserved(_))
    }
}

/// What became of a print monitoring saw for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPrint {
    /// An auto job was created for it.
    Opened(JobId),
    /// A running manual job on the printer names its file; that job records it.
    CoveredBy(JobId),
    /// No job: the print was already underway when printdesk first heard from the printer,
    /// so printdesk cannot tell when it started or whether another record of it exists.
    Unrecorded,
}

/// A job monitoring closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedJob {
    /// The job.
    pub job_id: JobId,
    /// How its print ended.
    pub end: PrintEnd,
}

/// What a decision did, for the caller (status, logs, metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonitorOutcome {
    /// `false` when the printer is not monitored and the report was ignored.
    pub monitored: bool,
    /// The open auto job that was closed, if any.
    pub closed: Option<ClosedJob>,
    /// A print seen for the first time, if any.
    pub new_print: Option<NewPrint>,
    /// The job that records the print the printer shows now (the printer status's `job_id`).
    pub job_id: Option<JobId>,
}

/// One job write of a decision, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobWrite {
    /// Insert a new auto job (`event.job`) with its `job_created` event, and keep `print`
    /// with it.
    Create {
        /// The `job_created` event, carrying the job.
        event: NewJobEvent,
        /// The print the job records.
        print: TrackedPrint,
    },
    /// Update a job that is stored at version `expected` to `event.job`, with its
    /// `job_updated` event.
    Update {
        /// The version the decision read.
        expected: Version,
        /// The `job_updated` event, carrying the job as it will be.
        event: NewJobEvent,
    },
}

impl JobWrite {
    /// The event this write logs.
    pub fn event(&self) -> &NewJobEvent {
        match self {
            Self::Create { event, .. } | Self::Update { event, .. } => event,
        }
    }
}

/// A decision, for the store to write atomically.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorDecision {
    /// What was decided.
    pub outcome: MonitorOutcome,
    /// The job writes, in order (a closed job before the job opened after it).
    pub writes: Vec<JobWrite>,
    /// The printer's new memory; `None` when it stays as it is (most reports: progress).
    pub memory: Option<PrinterMemory>,
}

/// The actor monitoring's events name: `monitor:<printer id>`.
pub fn monitor_actor(printer: &PrinterId) -> String {
    format!("monitor:{printer}")
}

/// Whether monitoring may close `job` for `printer`: an auto job, still running, still on
/// that printer. A job a person closed, reopened elsewhere or created is theirs.
pub fn is_open_auto_job(job: &Job, printer: &PrinterId) -> bool {
    job.auto_created && job.status == JobStatus::Running && job.printer_id.as_ref() == Some(printer)
}

impl Matching {
    /// How a report is compared with the remembered print, given the printer's last settled
    /// state and whether printdesk just (re)connected.
    pub const fn since(last_state: Option<ReportedState>, first_report: bool) -> Self {
        match last_state {
            Some(
                ReportedState::Idle
                | ReportedState::Finished
                | ReportedState::Failed { .. }
                | ReportedState::Preparing,
            ) => Self::AfterEnd,
            Some(ReportedState::Printing | ReportedState::Paused) if !first_report => {
                Self::Continuous
            }
            _ => Self::AcrossGap,
        }
    }
}

/// Decides what `context.report` means for the printer's jobs.
///
/// The rules (`docs/monitoring.md` says them for users):
/// - A print seen printing or paused that is not the remembered one gets an auto job
///   (`running`, `started_at` = the reported start, else now), unless a running manual job on
///   the printer names its file, or printdesk has no memory of the printer at all (a print
///   already underway when it first hears from a printer is not recorded). A print only
///   being prepared gets its job when it starts printing.
/// - The open auto job is closed when its print ends: `completed` when the printer reports it
///   finished, `failed` when it reports a failure or a cancellation; `failed` with a note when
///   printdesk did not see the end (the printer idle, or on another print). A terminal state
///   the printer keeps showing after that changes nothing.
/// - Pausing and resuming, reconnecting, restarting printdesk or another instance taking over
///   never makes a second job: the report is compared with the remembered print
///   ([`TrackedPrint::matches`]).
/// - Operator fields (`job_name`, `customer_name`, `is_business`, `notes`) are never
///   replaced; a note is appended to `notes`.
///
/// ```
/// use printdesk_domain::{JobStatus, PrinterId};
/// use printdesk_domain::monitoring::{
///     MonitorSnapshot, NewPrint, PrinterMemory, PrinterReport, ReportContext, ReportedState,
///     decide,
/// };
/// use time::macros::datetime;
///
/// let printer = PrinterId::parse("x1c").unwrap();
/// let idle = MonitorSnapshot {
///     monitored: true,
///     memory: PrinterMemory { last_state: Some(ReportedState::Idle), ..PrinterMemory::default() },
///     ..MonitorSnapshot::default()
/// };
/// let report = PrinterReport {
///     state: ReportedState::Printing,
///     file: Some("/sdcard/Benchy.gcode.3mf".into()),
///     ..PrinterReport::idle()
/// };
/// let now = datetime!(2026-12-01 10:00 UTC);
/// let decision = decide(&idle, &ReportContext { printer: &printer, report: &report, first_report: false, now });
///
/// let created = &decision.writes[0].event().job;
/// assert_eq!(created.job_name.as_str(), "Benchy");
/// assert_eq!(created.status, JobStatus::Running);
/// assert!(created.auto_created);
/// assert_eq!(decision.outcome.new_print, Some(NewPrint::Opened(created.id)));
/// assert_eq!(decision.writes[0].event().actor.as_deref(), Some("monitor:x1c"));
/// ```
pub fn decide(snapshot: &MonitorSnapshot, context: &ReportContext<'_>) -> MonitorDecision {
    if !snapshot.monitored {
        return MonitorDecision::default();
    }
    let mut plan = Plan::new(snapshot, context.printer, context.now);
    let report = context.report;
    let state = context.report.state;
    let memory = &snapshot.memory;
    let matching = Matching::since(memory.last_state, context.first_report);
    // A terminal state names the print that ended; after an end that is the remembered one.
    let compare = match matching {
        Matching::AfterEnd if state.is_terminal() => Matching::AcrossGap,
        other => other,
    };
    let shows_last = memory
        .last_print
        .as_ref()
        .is_some_and(|print| print.matches(context.report, context.now, compare));
    // The job recording the remembered print, while it exists.
    let recorded_by = memory.job_id.filter(|_| snapshot.job.is_some());
    // Once printdesk recorded the remembered print's end, a job still running is a person's
    // doing (they reopened it): monitoring leaves it alone.
    let open = match matching {
        Matching::AfterEnd => None,
        _ => snapshot
            .job
            .as_ref()
            .filter(|job| is_open_auto_job(job, context.printer)),
    };
    let other_print = PrintEnd::Unobserved(Unobserved::OtherPrint);

    match state {
        ReportedState::Printing | ReportedState::Paused => {
            plan.memory.last_state = Some(state);
            if shows_last {
                plan.outcome.job_id = recorded_by;
            } else {
                if let Some(job) = open {
                    plan.close(job, other_print, None);
                }
                plan.new_print(report);
            }
        }
        ReportedState::Preparing => {
            if shows_last {
                plan.outcome.job_id = recorded_by;
            } else {
                if let Some(job) = open {
                    plan.close(job, other_print, None);
                }
                plan.memory.last_state = Some(state);
            }
        }
        ReportedState::Finished | ReportedState::Failed { .. } => {
            plan.memory.last_state = Some(state);
            if let Some(job) = open {
                plan.close(
                    job,
                    if shows_last {
                        end_of(state)
                    } else {
                        other_print
                    },
                    report.ended_at,
                );
            }
            if shows_last {
                plan.outcome.job_id = recorded_by;
            }
        }
        ReportedState::Idle => {
            plan.memory.last_state = Some(state);
            if let Some(job) = open {
                plan.close(job, PrintEnd::Unobserved(Unobserved::PrinterIdle), None);
            }
        }
        ReportedState::Error => plan.memory.last_state = Some(state),
    }
    plan.finish()
}

fn end_of(state: ReportedState) -> PrintEnd {
    match state {
        ReportedState::Finished => PrintEnd::Finished,
        ReportedState::Failed { cancelled: true } => PrintEnd::Cancelled,
        _ => PrintEnd::Failed,
    }
}

/// A decision being built (a report's, or a printer history's: `super::history`).
pub(super) struct Plan<'a> {
    snapshot: &'a MonitorSnapshot,
    printer: &'a PrinterId,
    now: Timestamp,
    actor: String,
    pub(super) memory: PrinterMemory,
    writes: Vec<JobWrite>,
    pub(super) outcome: MonitorOutcome,
}

impl<'a> Plan<'a> {
    pub(super) fn new(
        snapshot: &'a MonitorSnapshot,
        printer: &'a PrinterId,
        now: Timestamp,
    ) -> Self {
        Self {
            snapshot,
            printer,
            now,
            actor: monitor_actor(printer),
            memory: snapshot.memory.clone(),
            writes: Vec::new(),
            outcome: MonitorOutcome {
                monitored: true,
                ..MonitorOutcome::default()
            },
        }
    }

    /// Closes the open auto job `job` for `end`, at the printer's own end time `ended_at`
    /// when it gives one for the end it reports.
    pub(super) fn close(&mut self, job: &Job, end: PrintEnd, ended_at: Option<Timestamp>) {
        let now = self.now;
        let Ok(Some(mut next)) = job.moved_to(end.status(), false, now) else {
            return; // only a running job is open, and running → completed/failed is allowed
        };
        if let Some(ended) = ended_at.filter(|ended| {
            end.observed() && *ended <= now && job.started_at.is_none_or(|s| *ended >= s)
        }) {
            next.completed_at = Some(ended);
        }
        if let Some(note) = end.note() {
            next.notes = appended_note(job.notes.as_ref(), note);
        }
        if let Some((job_after, changes)) = job.with_changes_from(next, now) {
            self.writes.push(JobWrite::Update {
                expected: job.version,
                event: self.event(EventKind::JobUpdated, job_after, changes),
            });
            self.outcome.closed = Some(ClosedJob {
                job_id: job.id,
                end,
            });
        }
    }

    /// Records a print seen for the first time: an auto job, a manual job that covers it, or
    /// nothing when printdesk has no memory of the printer to say the print is new.
    fn new_print(&mut self, report: &PrinterReport) {
        let print = TrackedPrint::of(report, self.now);
        let recorded = if self.snapshot.memory.last_state.is_none() {
            NewPrint::Unrecorded
        } else if let Some(manual) = self.covering_manual_job(report) {
            NewPrint::CoveredBy(manual.id)
        } else {
            NewPrint::Opened(self.create(self.auto_job(report), print.clone()))
        };
        let job_id = match recorded {
            NewPrint::Opened(id) | NewPrint::CoveredBy(id) => Some(id),
            NewPrint::Unrecorded => None,
        };
        self.memory.last_print = Some(print);
        self.memory.job_id = job_id;
        self.outcome.new_print = Some(recorded);
        self.outcome.job_id = job_id;
    }

    /// A new running auto job for the print `report` shows.
    pub(super) fn auto_job(&self, report: &PrinterReport) -> Job {
        let now = self.now;
        Job {
            id: JobId::generate(),
            job_name: job_name_for(report, self.printer),
            status: JobStatus::Running,
            is_business: false,
            customer_name: None,
            notes: None,
            file_name: file_name_for(report),
            printer_id: Some(self.printer.clone()),
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
            // A start in the future is no start time to trust.
            started_at: Some(report.started_at.filter(|s| *s <= now).unwrap_or(now)),
            completed_at: None,
            auto_created: true,
            discovery_time: Some(now),
        }
    }

    /// Creates `job` (with its `job_created` event), recording `print`.
    pub(super) fn create(&mut self, job: Job, print: TrackedPrint) -> JobId {
        let id = job.id;
        let changes = JobChanges::created(&job);
        let event = self.event(EventKind::JobCreated, job, changes);
        self.writes.push(JobWrite::Create { event, print });
        id
    }

    /// A running manual job on this printer whose file is the reported one (compared without
    /// directories: a person types `Benchy.3mf`, the printer says `/sdcard/Benchy.3mf`).
    pub(super) fn covering_manual_job(&self, report: &PrinterReport) -> Option<&'a Job> {
        let reported = base_name(report.file.as_deref()?);
        self.snapshot.running_manual_jobs.iter().find(|job| {
            !job.auto_created
                && job.status == JobStatus::Running
                && job.printer_id.as_ref() == Some(self.printer)
                && job
                    .file_name
                    .as_ref()
                    .is_some_and(|f| base_name(f.as_str()) == reported)
        })
    }

    fn event(&self, kind: EventKind, job: Job, changes: JobChanges) -> NewJobEvent {
        NewJobEvent {
            kind,
            job,
            changes,
            actor: Some(self.actor.clone()),
            at: self.now,
        }
    }

    pub(super) fn finish(self) -> MonitorDecision {
        let memory = (self.memory != self.snapshot.memory).then_some(self.memory);
        MonitorDecision {
            outcome: self.outcome,
            writes: self.writes,
            memory,
        }
    }
}

fn base_name(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// `existing` with `note` appended on a line of its own; what a person wrote stays as it is.
/// The note is shortened to fit [`NOTES_MAX_CHARS`], and left out when there is no room.
pub fn appended_note(existing: Option<&Notes>, note: &str) -> Option<Notes> {
    let Some(existing) = existing else {
        return Notes::parse(note.chars().take(NOTES_MAX_CHARS).collect::<String>()).ok();
    };
    let room = NOTES_MAX_CHARS.saturating_sub(existing.as_str().chars().count() + 1);
    if room == 0 {
        return Some(existing.clone());
    }
    let note: String = note.chars().take(room).collect();
    Notes::parse(format!("{}\n{note}", existing.as_str()))
        .ok()
        .or_else(|| Some(existing.clone()))
}
