//! What PrusaLink's `/api/v1/status` and `/api/v1/job` say about the print, as
//! [`PrinterReport`]s (`shared/printer-protocols.md` §2.3, the state map in §6).
//!
//! The printer is polled, so most polls repeat the last one: the tracker reports only what
//! changed, and the end of a print only once per job, although PrusaLink keeps showing
//! `FINISHED` or `STOPPED` until the next job. The first poll of every connection is reported
//! whatever it says: it is the snapshot the domain reconciles with.

use printdesk_domain::monitoring::{PrintIdentity, PrinterReport, ReportedState};
use serde::Deserialize;

/// `printer.state` of `/api/v1/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PrinterState {
    Idle,
    Busy,
    Printing,
    Paused,
    Finished,
    Stopped,
    Error,
    Attention,
    Ready,
    /// A state newer firmware may add.
    #[serde(other)]
    Unknown,
}

/// `/api/v1/status` (`job`, `transfer`, `storage`, `camera` are read from `/api/v1/job` or not
/// needed).
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub printer: StatusPrinter,
}

/// The `StatusPrinter` schema: only `state` is required.
#[derive(Debug, Clone, Deserialize)]
pub struct StatusPrinter {
    pub state: PrinterState,
}

/// `state` of the `Job` schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobState {
    Printing,
    Paused,
    Finished,
    Stopped,
    Error,
    #[serde(other)]
    Unknown,
}

/// `/api/v1/job` when it answers 200: the `Job` schema (a file print, or a print from the
/// serial line without a file).
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: u64,
    pub state: JobState,
    pub progress: f64,
    pub time_remaining: Option<i64>,
    pub time_printing: i64,
    pub file: Option<JobFile>,
}

/// `file` of the `JobFilePrint` schema.
#[derive(Debug, Clone, Deserialize)]
pub struct JobFile {
    /// The 8.3 short name (`SPICE~1.gco`), unique in its folder.
    pub name: String,
    /// The folder (`/usb`).
    pub path: String,
    /// The long name people know the file by.
    pub display_name: Option<String>,
    /// When the file was last modified (Unix seconds).
    pub m_timestamp: i64,
}

impl Job {
    fn file_name(&self) -> Option<String> {
        self.file
            .as_ref()
            .map(|f| f.display_name.clone().unwrap_or_else(|| f.name.clone()))
    }

    /// The print's identity: the job id together with the file (its folder and short name,
    /// which every answer has, unlike the long name) and its modification time.
    ///
    /// PrusaLink numbers jobs, but nothing says the counter survives a reboot of the printer,
    /// and the domain takes the same id for the same print, for ever. With the file and its
    /// `m_timestamp` in the identity, a counter that starts over after a reboot cannot make a
    /// new print of another file (or of a re-uploaded one) the continuation of an old job;
    /// the same job seen before and after a reboot keeps its identity. What is left is a reset
    /// counter handing out the very same id for a reprint of the same, unchanged file.
    fn identity(&self) -> PrintIdentity {
        PrintIdentity::PrinterJobId(match &self.file {
            Some(file) => format!(
                "{}:{}:{}/{}",
                self.id,
                file.m_timestamp,
                file.path.trim_end_matches('/'),
                file.name
            ),
            // A print from the serial line has no file to tell it apart.
            None => format!("{}:serial", self.id),
        })
    }
}

fn seconds(s: Option<i64>) -> Option<u32> {
    s.and_then(|s| u32::try_from(s).ok())
}

/// Where the printer is, from the printer's state and the job's.
///
/// - `BUSY` with a job is the print being prepared; without one the printer is busy with
///   something else (a calibration, a transfer) and prints nothing.
/// - `ERROR` with a job ended that print (the printer stops on an error): a failure. Without a
///   job it is the printer's own error.
/// - `ATTENTION` waits for a person (filament run out, a crash to confirm) and the print goes
///   on afterwards: it is the printer's error, which leaves the job open, not a failure that
///   would close it.
/// - `IDLE`/`READY` with a job that ended says how it ended: the screen was confirmed between
///   two polls, and the job is the evidence.
/// - `FINISHED`/`STOPPED` without a job is a poll torn in two: `/api/v1/job`, asked after the
///   status, already found the screen confirmed. The printer is idle; an end without its
///   print's identity would tell the domain nothing (seen in CI: a confirmation that fell
///   between the two requests).
fn reported_state(printer: PrinterState, job: Option<&Job>) -> ReportedState {
    let job_state = job.map(|j| j.state);
    let ended = match job_state {
        Some(JobState::Finished) => Some(ReportedState::Finished),
        Some(JobState::Stopped) => Some(ReportedState::Failed { cancelled: true }),
        Some(JobState::Error) => Some(ReportedState::Failed { cancelled: false }),
        _ => None,
    };
    match printer {
        PrinterState::Printing => ReportedState::Printing,
        PrinterState::Paused => ReportedState::Paused,
        PrinterState::Finished if job.is_some() => ReportedState::Finished,
        PrinterState::Stopped if job.is_some() => ReportedState::Failed { cancelled: true },
        PrinterState::Busy if job.is_some() => ended.unwrap_or(ReportedState::Preparing),
        PrinterState::Error if job.is_some() => ReportedState::Failed { cancelled: false },
        PrinterState::Error | PrinterState::Attention => ReportedState::Error,
        PrinterState::Idle
        | PrinterState::Ready
        | PrinterState::Busy
        | PrinterState::Finished
        | PrinterState::Stopped
        | PrinterState::Unknown => ended.unwrap_or(ReportedState::Idle),
    }
}

/// The last poll's picture, to report only what changed.
#[derive(Debug, Default)]
pub struct PrintTracker {
    last: Option<PrinterReport>,
    /// The identity of the last print whose end was reported.
    ended: Option<PrintIdentity>,
}

impl PrintTracker {
    /// A new connection: its first poll is reported whatever it says.
    pub fn reconnected(&mut self) {
        self.last = None;
    }

    /// One poll: the status and the job (`None` for 204, no job). Returns the report to send,
    /// if anything changed.
    pub fn observe(&mut self, status: &Status, job: Option<&Job>) -> Option<PrinterReport> {
        let state = reported_state(status.printer.state, job);
        let report = match job {
            Some(job) => PrinterReport {
                state,
                file: job.file_name(),
                print_name: None,
                progress: Some(job.progress),
                remaining_s: if state.is_active() {
                    seconds(job.time_remaining)
                } else {
                    None
                },
                elapsed_s: seconds(Some(job.time_printing)),
                identity: job.identity(),
                started_at: None,
                ended_at: None,
            },
            None => PrinterReport {
                state,
                ..PrinterReport::idle()
            },
        };
        let first = self.last.is_none();
        if !first && self.last.as_ref() == Some(&report) {
            return None;
        }
        if state.is_terminal() {
            if !first && self.ended.as_ref() == Some(&report.identity) {
                // The same end again, with another number of seconds printed: said already.
                return None;
            }
            self.ended = Some(report.identity.clone());
        }
        self.last = Some(report.clone());
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn status(state: &str) -> Status {
        serde_json::from_value(json!({"printer": {"state": state, "temp_nozzle": 214.9}})).unwrap()
    }

    /// A `/api/v1/job` answer shaped as the spec's example.
    fn job(id: u64, state: &str, progress: f64) -> Job {
        serde_json::from_value(job_json(id, state, progress)).unwrap()
    }

    fn job_json(id: u64, state: &str, progress: f64) -> Value {
        json!({
            "id": id, "state": state, "progress": progress, "time_remaining": 520,
            "time_printing": 526, "inaccurate_estimates": false,
            "file": {"name": "SPICE~1.gco", "display_name": "Spice_Harvester_0.3mm_PLA_MK3S_12m.gcode",
                     "path": "/usb", "display_path": "/USB", "size": 2393142, "m_timestamp": 1648042843,
                     "refs": {"download": "/api/files/usb/SPICE~1.gco/raw"}},
        })
    }

    #[test]
    fn the_state_map() {
        let printing = job(420, "PRINTING", 42.0);
        let cases = [
            ("IDLE", None, ReportedState::Idle),
            ("READY", None, ReportedState::Idle),
            ("BUSY", None, ReportedState::Idle),
            ("BUSY", Some(&printing), ReportedState::Preparing),
            ("PRINTING", Some(&printing), ReportedState::Printing),
            ("PAUSED", Some(&printing), ReportedState::Paused),
            ("FINISHED", Some(&printing), ReportedState::Finished),
            // The screen confirmed between the status and the job request.
            ("FINISHED", None, ReportedState::Idle),
            ("STOPPED", None, ReportedState::Idle),
            (
                "STOPPED",
                Some(&printing),
                ReportedState::Failed { cancelled: true },
            ),
            (
                "ERROR",
                Some(&printing),
                ReportedState::Failed { cancelled: false },
            ),
            ("ERROR", None, ReportedState::Error),
            ("ATTENTION", Some(&printing), ReportedState::Error),
            ("ATTENTION", None, ReportedState::Error),
            ("SOMETHING_NEW", None, ReportedState::Idle),
        ];
        for (printer, job, expected) in cases {
            assert_eq!(
                reported_state(status(printer).printer.state, job),
                expected,
                "{printer} with {job:?}"
            );
        }
    }

    #[test]
    fn idle_with_an_ended_job_reports_how_it_ended() {
        for (state, expected) in [
            ("FINISHED", ReportedState::Finished),
            ("STOPPED", ReportedState::Failed { cancelled: true }),
            ("ERROR", ReportedState::Failed { cancelled: false }),
        ] {
            let ended = job(7, state, 100.0);
            assert_eq!(reported_state(PrinterState::Idle, Some(&ended)), expected);
        }
    }

    #[test]
    fn a_print_is_reported_with_its_file_progress_and_times() {
        let mut tracker = PrintTracker::default();
        let r = tracker
            .observe(&status("PRINTING"), Some(&job(420, "PRINTING", 42.0)))
            .unwrap();
        assert_eq!(r.state, ReportedState::Printing);
        assert_eq!(
            r.file.as_deref(),
            Some("Spice_Harvester_0.3mm_PLA_MK3S_12m.gcode")
        );
        assert_eq!(r.progress, Some(42.0));
        assert_eq!(r.remaining_s, Some(520));
        assert_eq!(r.elapsed_s, Some(526));
        assert_eq!(
            r.identity,
            PrintIdentity::PrinterJobId("420:1648042843:/usb/SPICE~1.gco".into())
        );
    }

    #[test]
    fn the_same_poll_again_is_not_reported() {
        let mut tracker = PrintTracker::default();
        let printing = job(1, "PRINTING", 10.0);
        assert!(
            tracker
                .observe(&status("PRINTING"), Some(&printing))
                .is_some()
        );
        assert_eq!(tracker.observe(&status("PRINTING"), Some(&printing)), None);
        let further = job(1, "PRINTING", 11.0);
        assert_eq!(
            tracker
                .observe(&status("PRINTING"), Some(&further))
                .unwrap()
                .progress,
            Some(11.0)
        );
    }

    #[test]
    fn the_end_is_reported_once_per_job() {
        let mut tracker = PrintTracker::default();
        tracker.observe(&status("PRINTING"), Some(&job(1, "PRINTING", 99.0)));
        let mut done = job(1, "FINISHED", 100.0);
        assert_eq!(
            tracker
                .observe(&status("FINISHED"), Some(&done))
                .unwrap()
                .state,
            ReportedState::Finished
        );
        done.time_printing += 3;
        assert_eq!(tracker.observe(&status("FINISHED"), Some(&done)), None);
        assert_eq!(tracker.observe(&status("IDLE"), Some(&done)), None);
        // The next job ends too.
        tracker.observe(&status("PRINTING"), Some(&job(2, "PRINTING", 1.0)));
        assert_eq!(
            tracker
                .observe(&status("STOPPED"), Some(&job(2, "STOPPED", 5.0)))
                .unwrap()
                .state,
            ReportedState::Failed { cancelled: true }
        );
    }

    #[test]
    fn the_first_poll_of_a_connection_is_always_reported() {
        let mut tracker = PrintTracker::default();
        let done = job(1, "FINISHED", 100.0);
        tracker.observe(&status("FINISHED"), Some(&done)).unwrap();
        tracker.reconnected();
        let again = tracker.observe(&status("FINISHED"), Some(&done)).unwrap();
        assert_eq!(again.state, ReportedState::Finished);
        assert_eq!(tracker.observe(&status("FINISHED"), Some(&done)), None);
        tracker.reconnected();
        assert_eq!(
            tracker.observe(&status("IDLE"), None).unwrap(),
            PrinterReport::idle()
        );
    }

    #[test]
    fn a_reset_job_counter_does_not_join_prints_of_other_files() {
        let before = job(1, "FINISHED", 100.0);
        let mut after: Job = serde_json::from_value(job_json(1, "PRINTING", 1.0)).unwrap();
        after.file.as_mut().unwrap().name = "CUBE~1.GCO".into();
        assert_ne!(before.identity(), after.identity());
        let mut reuploaded = job(1, "PRINTING", 1.0);
        reuploaded.file.as_mut().unwrap().m_timestamp += 60;
        assert_ne!(before.identity(), reuploaded.identity());
    }

    #[test]
    fn a_serial_print_has_an_identity_without_a_file() {
        let serial: Job = serde_json::from_value(json!({
            "serial_print": true, "id": 9, "state": "PRINTING", "progress": 3.0, "time_printing": 40,
        }))
        .unwrap();
        assert_eq!(serial.file_name(), None);
        assert_eq!(
            serial.identity(),
            PrintIdentity::PrinterJobId("9:serial".into())
        );
        assert_eq!(serial.time_remaining, None);
    }

    #[test]
    fn no_job_and_idle_is_an_idle_report() {
        let mut tracker = PrintTracker::default();
        let r = tracker.observe(&status("IDLE"), None).unwrap();
        assert_eq!(r, PrinterReport::idle());
    }
}
