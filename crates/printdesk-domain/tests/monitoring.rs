//! The monitoring decision, rule by rule: each test is a table of (what printdesk remembered,
//! the job it follows, the report, first report or not) → what the decision does.

use printdesk_domain::{
    CustomerName, FileName, Job, JobId, JobName, JobStatus, Notes, PrinterId, Timestamp, Version,
    monitoring::{
        ConnectionCondition, JobWrite, Matching, MonitorDecision, MonitorSnapshot, NewPrint,
        PRINTER_ERROR_MESSAGE, PrintEnd, PrintIdentity, PrinterMemory, PrinterReport, PrinterState,
        PrinterStatus, ReportContext, ReportedState, START_TOLERANCE, StatusThrottle, TrackedPrint,
        Unobserved, decide, file_name_for, is_progress_only, job_name_for, print_name_of_file,
        printer_status,
    },
};
use time::{Duration, macros::datetime};

use ReportedState::{Error, Finished, Idle, Paused, Preparing, Printing};

/// "Now" in every row: 10:00 on 1 December.
const NOW: Timestamp = datetime!(2026-12-01 10:00:00.000 UTC);
const CANCELLED: ReportedState = ReportedState::Failed { cancelled: true };
const FAILED: ReportedState = ReportedState::Failed { cancelled: false };

fn printer() -> PrinterId {
    PrinterId::parse("x1c-1").unwrap()
}

fn ago(seconds: i64) -> Timestamp {
    NOW - Duration::seconds(seconds)
}

// ---- building the inputs ----------------------------------------------------------------------

/// A print of `file` that started `started_s_ago` seconds before now.
fn print(file: &str, started_s_ago: i64) -> TrackedPrint {
    TrackedPrint {
        printer_job_id: None,
        file: Some(file.into()),
        started_at: ago(started_s_ago),
    }
}

/// The same, known by the printer's own job id.
fn print_with_id(id: &str, file: &str, started_s_ago: i64) -> TrackedPrint {
    TrackedPrint {
        printer_job_id: Some(id.into()),
        ..print(file, started_s_ago)
    }
}

/// An auto job monitoring opened for `print` on the test printer.
fn auto_job(print: &TrackedPrint) -> Job {
    Job {
        id: JobId::generate(),
        job_name: JobName::parse(print_name_of_file(print.file.as_deref().unwrap_or("x"))).unwrap(),
        status: JobStatus::Running,
        is_business: false,
        customer_name: None,
        notes: None,
        file_name: print.file.clone().map(|f| FileName::parse(f).unwrap()),
        printer_id: Some(printer()),
        version: Version::new(3),
        created_at: print.started_at,
        updated_at: print.started_at,
        started_at: Some(print.started_at),
        completed_at: None,
        auto_created: true,
        discovery_time: Some(print.started_at),
    }
}

/// A job a person created, running on the test printer with `file`.
fn manual_job(file: &str) -> Job {
    Job {
        auto_created: false,
        discovery_time: None,
        file_name: Some(FileName::parse(file).unwrap()),
        ..auto_job(&print("manual", 600))
    }
}

fn with_status(job: Job, status: JobStatus) -> Job {
    Job { status, ..job }
}

/// The printer remembered in `state` with `print` recorded by `job` (the job stored as given).
fn remembered(state: ReportedState, print: TrackedPrint, job: Option<Job>) -> MonitorSnapshot {
    MonitorSnapshot {
        monitored: true,
        memory: PrinterMemory {
            last_state: Some(state),
            last_print: Some(print),
            job_id: job.as_ref().map(|j| j.id),
        },
        job,
        running_manual_jobs: Vec::new(),
    }
}

/// `print` printing (or in `state`) with its auto job open.
fn following(state: ReportedState, print: TrackedPrint) -> MonitorSnapshot {
    let job = auto_job(&print);
    remembered(state, print, Some(job))
}

/// A printer remembered only in `state`, with no print.
fn only_state(state: ReportedState) -> MonitorSnapshot {
    MonitorSnapshot {
        monitored: true,
        memory: PrinterMemory {
            last_state: Some(state),
            ..PrinterMemory::default()
        },
        ..MonitorSnapshot::default()
    }
}

/// A printer printdesk has never heard from.
fn never_seen() -> MonitorSnapshot {
    MonitorSnapshot {
        monitored: true,
        ..MonitorSnapshot::default()
    }
}

/// A report in `state` of `file`, with no timing.
fn report(state: ReportedState, file: &str) -> PrinterReport {
    PrinterReport {
        state,
        file: Some(file.into()),
        ..PrinterReport::idle()
    }
}

/// A report in `state` of `file` that has printed for `elapsed_s`.
fn elapsed(state: ReportedState, file: &str, elapsed_s: u32) -> PrinterReport {
    PrinterReport {
        elapsed_s: Some(elapsed_s),
        ..report(state, file)
    }
}

/// A report in `state` of `file` whose printer says it started `started_s_ago` ago.
fn started(state: ReportedState, file: &str, started_s_ago: i64) -> PrinterReport {
    PrinterReport {
        started_at: Some(ago(started_s_ago)),
        ..report(state, file)
    }
}

/// A report carrying the printer's own job id.
fn with_id(report: PrinterReport, id: &str) -> PrinterReport {
    PrinterReport {
        identity: PrintIdentity::PrinterJobId(id.into()),
        ..report
    }
}

// ---- running a table -----------------------------------------------------------------------

/// What a row expects the decision to do to jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// No job written.
    Nothing,
    /// A new auto job, nothing closed.
    Open,
    /// The open job closed, nothing opened.
    Close(PrintEnd),
    /// The open job closed, and a new auto job opened.
    CloseAndOpen(PrintEnd),
    /// No job written; the print is recorded by the manual job (its id checked by the row).
    Covered,
    /// No job written; the print is noted as seen but unrecorded.
    Unrecorded,
}

struct Row {
    name: &'static str,
    snapshot: MonitorSnapshot,
    report: PrinterReport,
    first_report: bool,
    expect: Expect,
    now: Timestamp,
}

impl Row {
    /// The same row, decided at `now` instead of [`NOW`].
    fn at(self, now: Timestamp) -> Self {
        Self { now, ..self }
    }
}

fn row(
    name: &'static str,
    snapshot: MonitorSnapshot,
    report: PrinterReport,
    first_report: bool,
    expect: Expect,
) -> Row {
    Row {
        name,
        snapshot,
        report,
        first_report,
        expect,
        now: NOW,
    }
}

fn run(row: &Row) -> MonitorDecision {
    decide(
        &row.snapshot,
        &ReportContext {
            printer: &printer(),
            report: &row.report,
            first_report: row.first_report,
            now: row.now,
        },
    )
}

/// What the decision actually did, in the terms of [`Expect`].
fn observed(decision: &MonitorDecision) -> Expect {
    let outcome = decision.outcome;
    match (outcome.closed, outcome.new_print) {
        (None, None) => Expect::Nothing,
        (None, Some(NewPrint::Opened(_))) => Expect::Open,
        (Some(c), None) => Expect::Close(c.end),
        (Some(c), Some(NewPrint::Opened(_))) => Expect::CloseAndOpen(c.end),
        (_, Some(NewPrint::CoveredBy(_))) => Expect::Covered,
        (_, Some(NewPrint::Unrecorded)) => Expect::Unrecorded,
    }
}

/// Runs every row, checks its expectation and that the writes agree with the outcome, and
/// returns the decisions for further checks.
fn check(rows: &[Row]) -> Vec<MonitorDecision> {
    rows.iter()
        .map(|row| {
            let decision = run(row);
            assert_eq!(observed(&decision), row.expect, "row {:?}", row.name);
            let creates = decision
                .writes
                .iter()
                .filter(|w| matches!(w, JobWrite::Create { .. }))
                .count();
            let updates = decision.writes.len() - creates;
            let (want_creates, want_updates) = match row.expect {
                Expect::Open => (1, 0),
                Expect::Close(_) => (0, 1),
                Expect::CloseAndOpen(_) => (1, 1),
                _ => (0, 0),
            };
            assert_eq!(
                (creates, updates),
                (want_creates, want_updates),
                "row {:?}: writes",
                row.name
            );
            if updates > 0 {
                let first_is_close = matches!(decision.writes[0], JobWrite::Update { .. });
                assert!(
                    first_is_close,
                    "row {:?}: a job is closed before the next opens",
                    row.name
                );
            }
            decision
        })
        .collect()
}

fn closed_job(decision: &MonitorDecision) -> &Job {
    decision
        .writes
        .iter()
        .find_map(|w| match w {
            JobWrite::Update { event, .. } => Some(&event.job),
            JobWrite::Create { .. } => None,
        })
        .expect("a job was closed")
}

fn created_job(decision: &MonitorDecision) -> &Job {
    decision
        .writes
        .iter()
        .find_map(|w| match w {
            JobWrite::Create { event, .. } => Some(&event.job),
            JobWrite::Update { .. } => None,
        })
        .expect("a job was created")
}

const OTHER_PRINT: PrintEnd = PrintEnd::Unobserved(Unobserved::OtherPrint);
const WENT_IDLE: PrintEnd = PrintEnd::Unobserved(Unobserved::PrinterIdle);

// ---- the rules ---------------------------------------------------------------------------------

#[test]
fn a_print_that_starts_creates_a_running_auto_job() {
    let decisions = check(&[
        row(
            "idle → printing",
            only_state(Idle),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "idle → paused",
            only_state(Idle),
            report(Paused, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "finished another file → printing",
            remembered(Finished, print("Cube.3mf", 7200), None),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "error → printing",
            only_state(Error),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
    ]);
    for decision in &decisions {
        let job = created_job(decision);
        assert_eq!(job.status, JobStatus::Running);
        assert!(job.auto_created);
        assert_eq!(job.discovery_time, Some(NOW));
        assert_eq!(job.printer_id, Some(printer()));
        assert_eq!(decision.outcome.job_id, Some(job.id));
        let memory = decision.memory.as_ref().expect("memory changes");
        assert_eq!(memory.job_id, Some(job.id));
        assert_eq!(
            memory.last_print.as_ref().unwrap().file.as_deref(),
            Some("Benchy.3mf")
        );
    }
}

#[test]
fn pause_and_resume_is_one_job() {
    let a = print("Benchy.3mf", 3600);
    check(&[
        // `elapsed` that leaves the pause out has drifted by ten minutes: still the same print.
        row(
            "printing → paused",
            following(Printing, a.clone()),
            elapsed(Paused, "Benchy.3mf", 3000),
            false,
            Expect::Nothing,
        ),
        row(
            "paused → printing",
            following(Paused, a.clone()),
            elapsed(Printing, "Benchy.3mf", 3000),
            false,
            Expect::Nothing,
        ),
        row(
            "paused → paused",
            following(Paused, a.clone()),
            report(Paused, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "reconnected while paused",
            following(Paused, a.clone()),
            elapsed(Paused, "Benchy.3mf", 3600 - 30),
            true,
            Expect::Nothing,
        ),
        row(
            "printing → paused with the printer's job id",
            following(Printing, print_with_id("7", "Benchy.3mf", 3600)),
            with_id(elapsed(Paused, "Benchy.3mf", 10), "7"),
            false,
            Expect::Nothing,
        ),
    ]);
}

#[test]
fn the_same_print_seen_again_is_one_job() {
    let a = print("Benchy.3mf", 3600);
    let rows = [
        row(
            "next progress report",
            following(Printing, a.clone()),
            elapsed(Printing, "Benchy.3mf", 3600),
            false,
            Expect::Nothing,
        ),
        row(
            "reconnect: elapsed agrees",
            following(Printing, a.clone()),
            elapsed(Printing, "Benchy.3mf", 3600 - 90),
            true,
            Expect::Nothing,
        ),
        row(
            "reconnect: elapsed 119 s off",
            following(Printing, a.clone()),
            elapsed(Printing, "Benchy.3mf", 3600 + 119),
            true,
            Expect::Nothing,
        ),
        row(
            "restart: the printer's start agrees",
            following(Printing, a.clone()),
            started(Printing, "Benchy.3mf", 3600 + 5),
            true,
            Expect::Nothing,
        ),
        row(
            "second instance: no timing, same file",
            following(Printing, a.clone()),
            report(Printing, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
        row(
            "restart: same printer job id, whatever the times",
            following(Printing, print_with_id("42", "plate_1.gcode", 3600)),
            with_id(elapsed(Printing, "plate_1.gcode", 10), "42"),
            true,
            Expect::Nothing,
        ),
        row(
            "restart across midnight: the print started 23:30, seen again 00:30",
            remembered(
                Printing,
                TrackedPrint {
                    started_at: datetime!(2026-11-30 23:30 UTC),
                    ..a.clone()
                },
                Some(auto_job(&a)),
            ),
            elapsed(Printing, "Benchy.3mf", 3600 - 40),
            true,
            Expect::Nothing,
        )
        .at(datetime!(2026-12-01 00:30 UTC)),
        row(
            "the same print after its job closed (an operator completed it)",
            remembered(
                Printing,
                a.clone(),
                Some(with_status(auto_job(&a), JobStatus::Completed)),
            ),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "the same print after its job was deleted",
            MonitorSnapshot {
                job: None,
                ..following(Printing, a.clone())
            },
            report(Printing, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
    ];
    for (row, decision) in rows.iter().zip(check(&rows)) {
        assert_eq!(
            decision.memory, None,
            "row {:?}: a known print changes no memory",
            row.name
        );
        let still_stored = row.snapshot.job.as_ref().map(|j| j.id);
        assert_eq!(
            decision.outcome.job_id, still_stored,
            "row {:?}: the status names the job",
            row.name
        );
    }
}

#[test]
fn a_reprint_of_the_same_file_is_a_new_job() {
    let a = print("Benchy.3mf", 3 * 3600);
    let done = with_status(auto_job(&a), JobStatus::Completed);
    let rows = [
        row(
            "finished → printing the same file",
            remembered(Finished, a.clone(), Some(done.clone())),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "failed → printing the same file",
            remembered(FAILED, a.clone(), Some(done.clone())),
            elapsed(Printing, "Benchy.3mf", 5),
            false,
            Expect::Open,
        ),
        row(
            "idle → printing the same file",
            remembered(Idle, a.clone(), Some(done.clone())),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "across midnight: printed 22:00–23:50, reprinted at 00:10",
            remembered(
                Finished,
                TrackedPrint {
                    started_at: datetime!(2026-11-30 22:00 UTC),
                    ..a.clone()
                },
                Some(done.clone()),
            ),
            started(Printing, "Benchy.3mf", 0),
            false,
            Expect::Open,
        )
        .at(datetime!(2026-12-01 00:10 UTC)),
        row(
            "across midnight, reconnecting: the open print ended at 23:50, reprinted at 00:10",
            following(
                Printing,
                TrackedPrint {
                    started_at: datetime!(2026-11-30 22:00 UTC),
                    ..a.clone()
                },
            ),
            elapsed(Printing, "Benchy.3mf", 300),
            true,
            Expect::CloseAndOpen(OTHER_PRINT),
        )
        .at(datetime!(2026-12-01 00:15 UTC)),
        row(
            "twice on the same day",
            remembered(
                Finished,
                TrackedPrint {
                    started_at: datetime!(2026-12-01 08:00 UTC),
                    ..a.clone()
                },
                Some(done.clone()),
            ),
            elapsed(Printing, "Benchy.3mf", 10),
            false,
            Expect::Open,
        ),
        row(
            "restart after it finished: printing the same file again",
            remembered(Finished, a.clone(), Some(done.clone())),
            report(Printing, "Benchy.3mf"),
            true,
            Expect::Open,
        ),
        row(
            "reconnect mid-reprint: the open job's print ended unseen",
            following(Printing, a.clone()),
            elapsed(Printing, "Benchy.3mf", 600),
            true,
            Expect::CloseAndOpen(OTHER_PRINT),
        ),
        row(
            "while watching: the printer reports a new start",
            following(Printing, TrackedPrint { ..a.clone() }),
            started(Printing, "Benchy.3mf", 60),
            false,
            Expect::CloseAndOpen(OTHER_PRINT),
        ),
        row(
            "while watching: a new printer job id for the same file",
            following(Printing, print_with_id("7", "Benchy.3mf", 3600)),
            with_id(report(Printing, "Benchy.3mf"), "8"),
            false,
            Expect::CloseAndOpen(OTHER_PRINT),
        ),
        row(
            "while watching: another file",
            following(Printing, a.clone()),
            elapsed(Printing, "Cube.3mf", 3 * 3600),
            false,
            Expect::CloseAndOpen(OTHER_PRINT),
        ),
    ];
    for (row, decision) in rows.iter().zip(check(&rows)) {
        let new = created_job(&decision);
        assert_ne!(
            Some(new.id),
            row.snapshot.memory.job_id,
            "row {:?}",
            row.name
        );
        assert_eq!(
            decision.memory.as_ref().unwrap().job_id,
            Some(new.id),
            "row {:?}",
            row.name
        );
    }
}

#[test]
fn the_first_report_never_starts_a_job_by_itself() {
    let rows = [
        row(
            "never seen, printing",
            never_seen(),
            report(Printing, "Benchy.3mf"),
            true,
            Expect::Unrecorded,
        ),
        row(
            "never seen, paused",
            never_seen(),
            elapsed(Paused, "Benchy.3mf", 60),
            true,
            Expect::Unrecorded,
        ),
        row(
            "never seen, preparing",
            never_seen(),
            report(Preparing, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
        row(
            "never seen, finished",
            never_seen(),
            report(Finished, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
        row(
            "never seen, idle",
            never_seen(),
            PrinterReport::idle(),
            true,
            Expect::Nothing,
        ),
        // What the unrecorded print looks like on the next report: still not a start.
        row(
            "the unrecorded print goes on",
            remembered(
                Printing,
                TrackedPrint::of(&report(Printing, "Benchy.3mf"), NOW),
                None,
            ),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
    ];
    let decisions = check(&rows);
    for decision in &decisions {
        assert!(decision.writes.is_empty());
    }
    // It is remembered, though, so its end and a later print are judged against it.
    let memory = decisions[0].memory.as_ref().unwrap();
    assert_eq!(memory.last_state, Some(Printing));
    assert_eq!(memory.job_id, None);
    assert_eq!(
        memory.last_print.as_ref().unwrap().file.as_deref(),
        Some("Benchy.3mf")
    );
    assert_eq!(
        decisions[2].memory.as_ref().unwrap().last_state,
        Some(Preparing)
    );
}

#[test]
fn the_first_report_reconciles_the_open_job() {
    let a = print("Benchy.3mf", 3600);
    let rows = [
        row(
            "printer idle",
            following(Printing, a.clone()),
            PrinterReport::idle(),
            true,
            Expect::Close(WENT_IDLE),
        ),
        row(
            "printer finished this print",
            following(Printing, a.clone()),
            report(Finished, "Benchy.3mf"),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "printer finished it, same start",
            following(Printing, a.clone()),
            started(Finished, "Benchy.3mf", 3600),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "printer finished the same job id",
            following(Printing, print_with_id("42", "Benchy.3mf", 3600)),
            with_id(report(Finished, "Benchy.3mf"), "42"),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "printer failed it",
            following(Printing, a.clone()),
            report(FAILED, "Benchy.3mf"),
            true,
            Expect::Close(PrintEnd::Failed),
        ),
        row(
            "printer cancelled it",
            following(Paused, a.clone()),
            report(CANCELLED, "Benchy.3mf"),
            true,
            Expect::Close(PrintEnd::Cancelled),
        ),
        row(
            "printer finished another file",
            following(Printing, a.clone()),
            report(Finished, "Cube.3mf"),
            true,
            Expect::Close(OTHER_PRINT),
        ),
        row(
            "printer finished a later print of it",
            following(Printing, a.clone()),
            started(Finished, "Benchy.3mf", 600),
            true,
            Expect::Close(OTHER_PRINT),
        ),
        row(
            "printer finished another job id",
            following(Printing, print_with_id("42", "Benchy.3mf", 3600)),
            with_id(report(Finished, "Benchy.3mf"), "43"),
            true,
            Expect::Close(OTHER_PRINT),
        ),
        row(
            "another print running",
            following(Printing, a.clone()),
            report(Printing, "Cube.3mf"),
            true,
            Expect::CloseAndOpen(OTHER_PRINT),
        ),
        row(
            "preparing another print",
            following(Printing, a.clone()),
            report(Preparing, "Cube.3mf"),
            true,
            Expect::Close(OTHER_PRINT),
        ),
        row(
            "same print running",
            following(Printing, a.clone()),
            elapsed(Printing, "Benchy.3mf", 3600),
            true,
            Expect::Nothing,
        ),
        row(
            "printer in error: no guess",
            following(Printing, a.clone()),
            report(Error, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
    ];
    let decisions = check(&rows);
    for (row, decision) in rows.iter().zip(&decisions) {
        let (Expect::Close(end) | Expect::CloseAndOpen(end)) = row.expect else {
            continue;
        };
        let job = closed_job(decision);
        assert_eq!(job.status, end.status(), "row {:?}", row.name);
        assert_eq!(job.completed_at, Some(NOW), "row {:?}", row.name);
        assert_eq!(
            job.notes.as_ref().map(Notes::as_str),
            end.note(),
            "row {:?}",
            row.name
        );
        // Only the printer's word completes a job.
        assert_eq!(
            job.status == JobStatus::Completed,
            end == PrintEnd::Finished,
            "row {:?}",
            row.name
        );
    }
    assert!(WENT_IDLE.note().unwrap().contains("not observed"));
    assert!(OTHER_PRINT.note().unwrap().contains("not observed"));
}

#[test]
fn a_print_that_ends_while_watched_closes_its_job() {
    let a = print("Benchy.3mf", 3600);
    let rows = [
        row(
            "printing → finished",
            following(Printing, a.clone()),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "paused → finished",
            following(Paused, a.clone()),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Close(PrintEnd::Finished),
        ),
        // A finished print's elapsed is its duration, not a hint of its start.
        row(
            "finished with its duration",
            following(Printing, a.clone()),
            elapsed(Finished, "Benchy.3mf", 1200),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "printing → failed",
            following(Printing, a.clone()),
            report(FAILED, "Benchy.3mf"),
            false,
            Expect::Close(PrintEnd::Failed),
        ),
        row(
            "printing → cancelled",
            following(Printing, a.clone()),
            report(CANCELLED, "Benchy.3mf"),
            false,
            Expect::Close(PrintEnd::Cancelled),
        ),
        row(
            "printing → idle",
            following(Printing, a.clone()),
            PrinterReport::idle(),
            false,
            Expect::Close(WENT_IDLE),
        ),
        row(
            "printing → finished another file",
            following(Printing, a.clone()),
            report(Finished, "Cube.3mf"),
            false,
            Expect::Close(OTHER_PRINT),
        ),
    ];
    let decisions = check(&rows);
    let finished = closed_job(&decisions[0]);
    assert_eq!(finished.status, JobStatus::Completed);
    assert_eq!(finished.completed_at, Some(NOW));
    assert_eq!(finished.notes, None);
    assert_eq!(finished.version, Version::new(4));
    assert_eq!(
        closed_job(&decisions[4]).notes.as_ref().map(Notes::as_str),
        PrintEnd::Cancelled.note()
    );
    for decision in &decisions {
        let closed = decision.outcome.closed.unwrap();
        let JobWrite::Update { expected, event } = &decision.writes[0] else {
            unreachable!()
        };
        assert_eq!(
            *expected,
            Version::new(3),
            "written only over the version read"
        );
        assert_eq!(event.job.id, closed.job_id);
        assert_eq!(event.actor.as_deref(), Some("monitor:x1c-1"));
        assert!(
            event
                .changes
                .get(printdesk_domain::JobField::Status)
                .is_some()
        );
        assert!(
            event
                .changes
                .get(printdesk_domain::JobField::CompletedAt)
                .is_some()
        );
    }
}

#[test]
fn the_printers_end_time_is_the_completion_time() {
    let a = print("Benchy.3mf", 3600);
    let ended = |at| PrinterReport {
        ended_at: Some(at),
        ..report(Finished, "Benchy.3mf")
    };
    let rows = [
        row(
            "ended 10 min ago",
            following(Printing, a.clone()),
            ended(ago(600)),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "an end before the start is not trusted",
            following(Printing, a.clone()),
            ended(ago(7200)),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "an end in the future is not trusted",
            following(Printing, a.clone()),
            ended(NOW + Duration::hours(1)),
            true,
            Expect::Close(PrintEnd::Finished),
        ),
    ];
    let decisions = check(&rows);
    assert_eq!(closed_job(&decisions[0]).completed_at, Some(ago(600)));
    assert_eq!(closed_job(&decisions[1]).completed_at, Some(NOW));
    assert_eq!(closed_job(&decisions[2]).completed_at, Some(NOW));
}

#[test]
fn a_terminal_state_after_the_job_closed_does_nothing() {
    // Bambu printers keep saying FINISH (or FAILED) until the next print starts.
    let a = print("Benchy.3mf", 3600);
    let completed = Some(with_status(auto_job(&a), JobStatus::Completed));
    let failed = Some(with_status(auto_job(&a), JobStatus::Failed));
    let rows = [
        row(
            "finished again",
            remembered(Finished, a.clone(), completed.clone()),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "finished again after a reconnect",
            remembered(Finished, a.clone(), completed.clone()),
            report(Finished, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
        row(
            "failed again",
            remembered(FAILED, a.clone(), failed.clone()),
            report(FAILED, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "idle after finishing",
            remembered(Finished, a.clone(), completed.clone()),
            PrinterReport::idle(),
            false,
            Expect::Nothing,
        ),
        // Someone reopened the closed job: the printer's old FINISH does not close it again.
        row(
            "finished again, job reopened by a person",
            remembered(Finished, a.clone(), Some(auto_job(&a))),
            report(Finished, "Benchy.3mf"),
            true,
            Expect::Nothing,
        ),
    ];
    let decisions = check(&rows);
    assert_eq!(decisions[0].memory, None, "nothing to remember either");
    assert_eq!(
        decisions[0].outcome.job_id,
        completed.map(|j| j.id),
        "the status still names it"
    );
}

#[test]
fn preparing_a_print_does_not_create_its_job_printing_does() {
    // Decided like Bambuddy: the job starts when the printer prints. A print that fails while
    // being prepared (Bambu FAILED from PREPARE) laid no material and gets no job.
    let a = print("Benchy.3mf", 3600);
    let rows = [
        row(
            "idle → preparing",
            only_state(Idle),
            report(Preparing, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "preparing → printing",
            only_state(Preparing),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "preparing → printing after a reconnect",
            only_state(Preparing),
            report(Printing, "Benchy.3mf"),
            true,
            Expect::Open,
        ),
        row(
            "preparing → failed",
            only_state(Preparing),
            report(FAILED, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "preparing → idle",
            only_state(Preparing),
            PrinterReport::idle(),
            false,
            Expect::Nothing,
        ),
        row(
            "printing → preparing the same print",
            following(Printing, a.clone()),
            report(Preparing, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "printing → preparing another print",
            following(Printing, a.clone()),
            report(Preparing, "Cube.3mf"),
            false,
            Expect::Close(OTHER_PRINT),
        ),
        row(
            "finished → preparing → printing the same file",
            remembered(
                Preparing,
                a.clone(),
                Some(with_status(auto_job(&a), JobStatus::Completed)),
            ),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
    ];
    let decisions = check(&rows);
    assert_eq!(
        decisions[0].memory.as_ref().unwrap().last_state,
        Some(Preparing)
    );
    assert_eq!(
        decisions[5].memory, None,
        "the same print: still remembered as printing"
    );
    assert_eq!(
        decisions[6].memory.as_ref().unwrap().last_state,
        Some(Preparing)
    );
}

#[test]
fn operator_fields_are_never_overwritten() {
    let a = print("Benchy.3mf", 3600);
    let edited = |notes: Option<String>| Job {
        job_name: JobName::parse("Order 1187 – 40 clips").unwrap(),
        is_business: true,
        customer_name: Some(CustomerName::parse("ACME").unwrap()),
        notes: notes.map(|n| Notes::parse(n).unwrap()),
        ..auto_job(&a)
    };
    let snapshot = |job: Job| remembered(Printing, a.clone(), Some(job));
    let rows = [
        row(
            "finished, operator notes",
            snapshot(edited(Some("blue PETG".into()))),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Close(PrintEnd::Finished),
        ),
        row(
            "unobserved end, operator notes",
            snapshot(edited(Some("blue PETG".into()))),
            PrinterReport::idle(),
            false,
            Expect::Close(WENT_IDLE),
        ),
        row(
            "unobserved end, notes nearly full",
            snapshot(edited(Some("n".repeat(990)))),
            PrinterReport::idle(),
            false,
            Expect::Close(WENT_IDLE),
        ),
        row(
            "unobserved end, notes full",
            snapshot(edited(Some("n".repeat(1000)))),
            PrinterReport::idle(),
            false,
            Expect::Close(WENT_IDLE),
        ),
        row(
            "replaced by another print",
            snapshot(edited(None)),
            report(Printing, "Cube.3mf"),
            false,
            Expect::CloseAndOpen(OTHER_PRINT),
        ),
    ];
    let decisions = check(&rows);
    for decision in &decisions {
        let job = closed_job(decision);
        assert_eq!(job.job_name.as_str(), "Order 1187 – 40 clips");
        assert!(job.is_business);
        assert_eq!(job.customer_name.as_ref().unwrap().as_str(), "ACME");
    }
    let notes = |i: usize| {
        closed_job(&decisions[i])
            .notes
            .as_ref()
            .map(|n| n.as_str().to_owned())
    };
    assert_eq!(notes(0).as_deref(), Some("blue PETG"));
    assert_eq!(
        notes(1),
        Some(format!("blue PETG\n{}", WENT_IDLE.note().unwrap()))
    );
    let nearly_full = notes(2).unwrap();
    assert!(nearly_full.starts_with(&"n".repeat(990)));
    assert_eq!(
        nearly_full.chars().count(),
        1000,
        "the note is shortened, the operator's kept"
    );
    assert_eq!(notes(3), Some("n".repeat(1000)), "no room: no note");
    assert_eq!(notes(4).as_deref(), OTHER_PRINT.note());
}

#[test]
fn manual_jobs_are_never_closed_and_cover_their_print() {
    let a = print("Benchy.3mf", 3600);
    let manual = manual_job("Benchy.3mf");
    let with_manual = |job: Job| MonitorSnapshot {
        running_manual_jobs: vec![job],
        ..only_state(Idle)
    };
    let rows = [
        row(
            "a manual job runs the file",
            with_manual(manual.clone()),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Covered,
        ),
        row(
            "…named without the printer's directories",
            with_manual(manual.clone()),
            report(Printing, "/sdcard/Benchy.3mf"),
            false,
            Expect::Covered,
        ),
        row(
            "a manual job runs another file",
            with_manual(manual_job("Cube.3mf")),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "a manual job of the file on another printer",
            with_manual(Job {
                printer_id: Some(PrinterId::parse("mk4").unwrap()),
                ..manual.clone()
            }),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Open,
        ),
        row(
            "the covered print finishes",
            remembered(Printing, a.clone(), Some(manual.clone())),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "the covered print: printer idle",
            remembered(Printing, a.clone(), Some(manual.clone())),
            PrinterReport::idle(),
            true,
            Expect::Nothing,
        ),
        row(
            "an auto job moved to another printer by a person",
            remembered(
                Printing,
                a.clone(),
                Some(Job {
                    printer_id: Some(PrinterId::parse("mk4").unwrap()),
                    ..auto_job(&a)
                }),
            ),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "an auto job a person moved back to pending",
            remembered(
                Printing,
                a.clone(),
                Some(with_status(auto_job(&a), JobStatus::Pending)),
            ),
            PrinterReport::idle(),
            false,
            Expect::Nothing,
        ),
    ];
    let decisions = check(&rows);
    assert_eq!(
        decisions[0].outcome.new_print,
        Some(NewPrint::CoveredBy(manual.id))
    );
    assert_eq!(
        decisions[0].outcome.job_id,
        Some(manual.id),
        "the status names the manual job"
    );
    assert_eq!(
        decisions[0].memory.as_ref().unwrap().job_id,
        Some(manual.id)
    );
}

#[test]
fn a_printer_that_is_not_monitored_is_ignored() {
    let a = print("Benchy.3mf", 3600);
    let off = |snapshot: MonitorSnapshot| MonitorSnapshot {
        monitored: false,
        ..snapshot
    };
    let rows = [
        row(
            "printing starts",
            off(only_state(Idle)),
            report(Printing, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
        row(
            "its open job's print ends",
            off(following(Printing, a.clone())),
            report(Finished, "Benchy.3mf"),
            false,
            Expect::Nothing,
        ),
    ];
    for decision in check(&rows) {
        assert_eq!(decision, MonitorDecision::default());
        assert!(!decision.outcome.monitored);
    }
}

#[test]
fn an_auto_job_is_named_from_its_print() {
    let long = "x".repeat(300);
    let cases: [(PrinterReport, &str, Option<&str>); 9] = [
        (
            report(Printing, "Benchy.gcode.3mf"),
            "Benchy",
            Some("Benchy.gcode.3mf"),
        ),
        (
            report(Printing, "/data/Metadata/plate_1.gcode"),
            "plate_1",
            Some("/data/Metadata/plate_1.gcode"),
        ),
        (
            report(Printing, "bracket.v2.GCODE"),
            "bracket.v2",
            Some("bracket.v2.GCODE"),
        ),
        (
            report(Printing, "cache\\Clip.bgcode"),
            "Clip",
            Some("cache\\Clip.bgcode"),
        ),
        (report(Printing, ".gcode"), ".gcode", Some(".gcode")),
        (
            PrinterReport {
                print_name: Some("Tobera bambu x1 v3".into()),
                ..report(Printing, "/data/Metadata/plate_1.gcode")
            },
            "Tobera bambu x1 v3",
            Some("/data/Metadata/plate_1.gcode"),
        ),
        (
            PrinterReport {
                print_name: Some("  ".into()),
                ..report(Printing, "Benchy.3mf")
            },
            "Benchy",
            Some("Benchy.3mf"),
        ),
        (
            PrinterReport {
                state: Printing,
                ..PrinterReport::idle()
            },
            "Print on x1c-1",
            None,
        ),
        (
            PrinterReport {
                print_name: Some("a\0b".into()),
                ..report(Printing, "")
            },
            "ab",
            None,
        ),
    ];
    for (report, name, file) in cases {
        assert_eq!(
            job_name_for(&report, &printer()).as_str(),
            name,
            "{report:?}"
        );
        assert_eq!(
            file_name_for(&report).as_ref().map(FileName::as_str),
            file,
            "{report:?}"
        );
    }
    let long_report = report(Printing, &format!("/deep/{long}.gcode"));
    assert_eq!(
        job_name_for(&long_report, &printer())
            .as_str()
            .chars()
            .count(),
        200
    );
    let file = file_name_for(&long_report).unwrap();
    assert_eq!(file.as_str().chars().count(), 255);
    assert!(
        file.as_str().ends_with(".gcode"),
        "a long path keeps its end"
    );
}

#[test]
fn an_auto_jobs_start_is_the_printers_when_given_else_its_discovery() {
    let rows = [
        row(
            "reported start",
            only_state(Idle),
            started(Printing, "Benchy.3mf", 300),
            false,
            Expect::Open,
        ),
        row(
            "no reported start",
            only_state(Idle),
            elapsed(Printing, "Benchy.3mf", 300),
            false,
            Expect::Open,
        ),
        row(
            "a reported start in the future",
            only_state(Idle),
            started(Printing, "Benchy.3mf", -300),
            false,
            Expect::Open,
        ),
    ];
    let decisions = check(&rows);
    let start = |i: usize| created_job(&decisions[i]).started_at;
    assert_eq!(start(0), Some(ago(300)));
    assert_eq!(start(1), Some(NOW));
    assert_eq!(start(2), Some(NOW));
    // The print's identity keeps the best estimate of its start either way.
    let JobWrite::Create { print, .. } = &decisions[1].writes[0] else {
        unreachable!()
    };
    assert_eq!(print.started_at, ago(300));
}

#[test]
fn progress_changes_nothing_stored() {
    let a = print("Benchy.3mf", 3600);
    let progress = |p| PrinterReport {
        progress: Some(p),
        remaining_s: Some(60),
        ..report(Printing, "Benchy.3mf")
    };
    for p in [1.0, 50.0, 99.9] {
        let decision = run(&row(
            "progress",
            following(Printing, a.clone()),
            progress(p),
            false,
            Expect::Nothing,
        ));
        assert!(decision.writes.is_empty());
        assert_eq!(decision.memory, None);
    }
}

/// The snapshot the store holds after writing `decision` over `snapshot`.
fn apply(snapshot: &MonitorSnapshot, decision: &MonitorDecision) -> MonitorSnapshot {
    let memory = decision
        .memory
        .clone()
        .unwrap_or_else(|| snapshot.memory.clone());
    let written = decision.writes.iter().map(|w| &w.event().job);
    let job = written
        .chain(snapshot.job.iter())
        .find(|job| Some(job.id) == memory.job_id)
        .cloned();
    MonitorSnapshot {
        memory,
        job,
        ..snapshot.clone()
    }
}

#[test]
fn a_report_that_only_moves_progress_after_one_recorded_changes_nothing() {
    // What lets a session skip the store for such reports (MonitorSession::report).
    let a = print("Benchy.3mf", 3600);
    let starts = [
        (never_seen(), true),
        (only_state(Idle), false),
        (following(Printing, a.clone()), false),
        (following(Printing, a.clone()), true),
        (following(Paused, a.clone()), true),
        (
            remembered(
                Finished,
                a.clone(),
                Some(with_status(auto_job(&a), JobStatus::Completed)),
            ),
            false,
        ),
    ];
    let reports = [
        elapsed(Printing, "Benchy.3mf", 3600),
        elapsed(Printing, "Benchy.3mf", 60),
        elapsed(Paused, "Cube.3mf", 60),
        elapsed(Preparing, "Cube.3mf", 0),
        started(Printing, "Benchy.3mf", 30),
        with_id(elapsed(Printing, "Benchy.3mf", 60), "5"),
        elapsed(Finished, "Benchy.3mf", 3600),
        elapsed(FAILED, "Cube.3mf", 60),
        elapsed(Error, "Benchy.3mf", 60),
        PrinterReport::idle(),
    ];
    let p = printer();
    for (snapshot, first_report) in &starts {
        for report in &reports {
            let context = |report, first_report| ReportContext {
                printer: &p,
                report,
                first_report,
                now: NOW,
            };
            let first = decide(snapshot, &context(report, *first_report));
            let after = apply(snapshot, &first);
            let moved = PrinterReport {
                progress: Some(77.0),
                remaining_s: Some(5),
                elapsed_s: report.elapsed_s.map(|e| e + 2),
                ..report.clone()
            };
            assert!(report.differs_only_in_progress(&moved));
            let second = decide(
                &after,
                &ReportContext {
                    now: NOW + Duration::seconds(2),
                    ..context(&moved, false)
                },
            );
            assert!(
                second.writes.is_empty(),
                "{report:?} after {snapshot:?}: {second:?}"
            );
            assert_eq!(second.memory, None, "{report:?} after {snapshot:?}");
            assert_eq!(
                second.outcome.job_id, first.outcome.job_id,
                "{report:?} after {snapshot:?}"
            );
        }
    }
}

// ---- the print identity ----------------------------------------------------------------------

#[test]
fn print_identity_compares_printer_job_ids_exactly_and_starts_within_the_tolerance() {
    let a = print("Benchy.3mf", 3600);
    let edge = START_TOLERANCE.whole_seconds();
    let cases: [(&str, TrackedPrint, PrinterReport, Matching, bool); 14] = [
        (
            "same id",
            print_with_id("9", "a", 10),
            with_id(report(Printing, "b"), "9"),
            Matching::AfterEnd,
            true,
        ),
        (
            "other id",
            print_with_id("9", "a", 10),
            with_id(report(Printing, "a"), "10"),
            Matching::Continuous,
            false,
        ),
        (
            "id on one side only: file decides",
            print_with_id("9", "Benchy.3mf", 3600),
            report(Printing, "Benchy.3mf"),
            Matching::Continuous,
            true,
        ),
        (
            "after an end",
            a.clone(),
            elapsed(Printing, "Benchy.3mf", 3600),
            Matching::AfterEnd,
            false,
        ),
        (
            "other file",
            a.clone(),
            elapsed(Printing, "Cube.3mf", 3600),
            Matching::AcrossGap,
            false,
        ),
        (
            "gap: at the tolerance",
            a.clone(),
            elapsed(Printing, "Benchy.3mf", (3600 - edge) as u32),
            Matching::AcrossGap,
            true,
        ),
        (
            "gap: past the tolerance",
            a.clone(),
            elapsed(Printing, "Benchy.3mf", (3600 - edge - 1) as u32),
            Matching::AcrossGap,
            false,
        ),
        (
            "gap: earlier, at the tolerance",
            a.clone(),
            elapsed(Printing, "Benchy.3mf", (3600 + edge) as u32),
            Matching::AcrossGap,
            true,
        ),
        (
            "gap: earlier, past it",
            a.clone(),
            elapsed(Printing, "Benchy.3mf", (3600 + edge + 1) as u32),
            Matching::AcrossGap,
            false,
        ),
        (
            "gap: reported start",
            a.clone(),
            started(Paused, "Benchy.3mf", 3600 + edge + 1),
            Matching::AcrossGap,
            false,
        ),
        (
            "gap: no timing",
            a.clone(),
            report(Printing, "Benchy.3mf"),
            Matching::AcrossGap,
            true,
        ),
        (
            "watching: elapsed drift is ignored",
            a.clone(),
            elapsed(Printing, "Benchy.3mf", 60),
            Matching::Continuous,
            true,
        ),
        (
            "watching: a reported start is not",
            a.clone(),
            started(Printing, "Benchy.3mf", 60),
            Matching::Continuous,
            false,
        ),
        (
            "finished: its elapsed is no start",
            a.clone(),
            elapsed(Finished, "Benchy.3mf", 60),
            Matching::AcrossGap,
            true,
        ),
    ];
    for (name, known, report, matching, same) in cases {
        assert_eq!(known.matches(&report, NOW, matching), same, "{name}");
    }
}

#[test]
fn how_strictly_a_report_is_compared_depends_on_what_printdesk_saw() {
    use Matching::*;
    let cases = [
        (None, false, AcrossGap),
        (None, true, AcrossGap),
        (Some(Printing), false, Continuous),
        (Some(Paused), false, Continuous),
        (Some(Printing), true, AcrossGap),
        (Some(Error), false, AcrossGap),
        (Some(Idle), true, AfterEnd),
        (Some(Finished), false, AfterEnd),
        (Some(FAILED), true, AfterEnd),
        (Some(Preparing), false, AfterEnd),
    ];
    for (last, first, matching) in cases {
        assert_eq!(
            Matching::since(last, first),
            matching,
            "{last:?}, first {first}"
        );
    }
}

// ---- live status ------------------------------------------------------------------------------

#[test]
fn a_printers_status_follows_its_connection_and_report() {
    let seen = Some(ago(30));
    let job = Some(JobId::generate());
    let printing = PrinterReport {
        progress: Some(42.5),
        remaining_s: Some(600),
        ..report(Printing, "Benchy.3mf")
    };
    let online = |report: &PrinterReport| {
        printer_status(&ConnectionCondition::Online, Some(report), job, seen, NOW)
    };
    let away = |c: ConnectionCondition| printer_status(&c, Some(&printing), job, seen, NOW);

    let status = online(&printing);
    assert_eq!(
        status,
        PrinterStatus {
            state: PrinterState::Printing,
            online: true,
            file: Some("Benchy.3mf".into()),
            progress: Some(42.5),
            remaining_s: Some(600),
            job_id: job,
            last_seen: Some(NOW),
            error: None,
        }
    );
    let states = [
        (Idle, PrinterState::Idle),
        (Preparing, PrinterState::Printing),
        (Paused, PrinterState::Paused),
        (Finished, PrinterState::Finished),
        (FAILED, PrinterState::Failed),
        (CANCELLED, PrinterState::Failed),
        (Error, PrinterState::Error),
    ];
    for (reported, shown) in states {
        assert_eq!(
            online(&PrinterReport {
                state: reported,
                ..printing.clone()
            })
            .state,
            shown,
            "{reported:?}"
        );
    }
    let idle = online(&PrinterReport {
        state: Idle,
        ..printing.clone()
    });
    assert_eq!(
        (idle.file, idle.progress, idle.remaining_s, idle.job_id),
        (None, None, None, None)
    );
    let finished = online(&PrinterReport {
        state: Finished,
        ..printing.clone()
    });
    assert_eq!(
        (finished.file.as_deref(), finished.remaining_s),
        (Some("Benchy.3mf"), None)
    );
    let error = online(&PrinterReport {
        state: Error,
        ..printing.clone()
    });
    assert_eq!(error.error.as_deref(), Some(PRINTER_ERROR_MESSAGE));
    for (progress, shown) in [
        (Some(140.0), Some(100.0)),
        (Some(-3.0), Some(0.0)),
        (Some(f64::NAN), None),
    ] {
        assert_eq!(
            online(&PrinterReport {
                progress,
                ..printing.clone()
            })
            .progress,
            shown
        );
    }

    let cases = [
        (
            ConnectionCondition::Connecting,
            PrinterState::Connecting,
            None,
        ),
        (
            ConnectionCondition::Offline(None),
            PrinterState::Offline,
            None,
        ),
        (
            ConnectionCondition::Offline(Some("no answer for 30 s".into())),
            PrinterState::Offline,
            Some("no answer for 30 s"),
        ),
        (
            ConnectionCondition::Error("access code refused".into()),
            PrinterState::Error,
            Some("access code refused"),
        ),
        (
            ConnectionCondition::Error("certificate changed".into()),
            PrinterState::Error,
            Some("certificate changed"),
        ),
    ];
    for (condition, state, error) in cases {
        let status = away(condition);
        assert_eq!(status.state, state);
        assert!(!status.online);
        assert_eq!(status.error.as_deref(), error);
        assert_eq!(
            status.last_seen, seen,
            "last seen stays when printdesk last heard from it"
        );
        assert_eq!((status.file, status.job_id), (None, None));
    }
    let unknown = printer_status(&ConnectionCondition::Online, None, None, None, NOW);
    assert_eq!(
        (unknown.state, unknown.online),
        (PrinterState::Unknown, true)
    );
}

#[test]
fn progress_only_changes_are_sent_at_most_once_a_second() {
    let base = PrinterStatus {
        state: PrinterState::Printing,
        online: true,
        progress: Some(1.0),
        ..PrinterStatus::default()
    };
    let with = |progress: f64| PrinterStatus {
        progress: Some(progress),
        remaining_s: Some(100),
        last_seen: Some(NOW),
        ..base.clone()
    };
    assert!(is_progress_only(&base, &with(2.0)));
    assert!(!is_progress_only(
        &base,
        &PrinterStatus {
            state: PrinterState::Paused,
            ..base.clone()
        }
    ));
    assert!(!is_progress_only(
        &base,
        &PrinterStatus {
            job_id: Some(JobId::generate()),
            ..base.clone()
        }
    ));

    let ms = Duration::milliseconds;
    // (after ms, status, sent?)
    let script = [
        (0, base.clone(), true, "the first status"),
        (100, base.clone(), false, "unchanged"),
        (200, with(2.0), false, "progress within the second"),
        (999, with(3.0), false, "still within it"),
        (1000, with(4.0), true, "a second after the last one sent"),
        (
            1100,
            PrinterStatus {
                state: PrinterState::Paused,
                ..with(4.0)
            },
            true,
            "a state change, at once",
        ),
        (
            1200,
            PrinterStatus {
                state: PrinterState::Paused,
                ..with(4.5)
            },
            false,
            "progress again within a second",
        ),
        (
            1300,
            PrinterStatus {
                state: PrinterState::Printing,
                online: false,
                ..with(4.5)
            },
            true,
            "online changed",
        ),
        (
            1400,
            PrinterStatus {
                error: Some("certificate changed".into()),
                ..with(4.5)
            },
            true,
            "an error appeared",
        ),
    ];
    let mut throttle = StatusThrottle::default();
    for (after, status, sent, why) in script {
        assert_eq!(
            throttle.should_send(&status, NOW + ms(after)),
            sent,
            "{why}"
        );
    }
    assert_eq!(
        throttle.last_sent().unwrap().error.as_deref(),
        Some("certificate changed")
    );
}
