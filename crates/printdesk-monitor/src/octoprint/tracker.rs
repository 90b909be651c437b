//! What OctoPrint's messages say about the print, as [`PrinterReport`]s.
//!
//! OctoPrint says a print ended only through events (`PrintDone`, `PrintFailed`,
//! `PrintCancelled`); its periodic `current` messages then show the printer `Operational`,
//! exactly as before the print. So the tracker keeps the end it was told of and reports it,
//! instead of `Idle`, until the next print starts (as Bambu printers keep saying `FINISH`): an
//! `Idle` right after a print then means the end was not observed.

use std::time::{Duration, Instant};

use printdesk_domain::{
    Timestamp,
    monitoring::{PrintIdentity, PrinterReport, ReportedState},
};
use serde::Deserialize;
use serde_json::Value;

/// How long an `Operational` after printing waits for the end event that should accompany it
/// (OctoPrint fires `PrintDone` before the state change, but a `current` message may be in
/// flight).
const END_EVENT_GRACE: Duration = Duration::from_secs(3);

/// `state.flags` of `/api/printer` and of `current` messages.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Flags {
    pub operational: bool,
    pub printing: bool,
    pub paused: bool,
    pub pausing: bool,
    pub cancelling: bool,
    pub finishing: bool,
    pub resuming: bool,
    pub error: bool,
    #[serde(rename = "closedOrError")]
    pub closed_or_error: bool,
}

/// The job part of `/api/job` and `current` messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JobInfo {
    pub job: JobFile,
    pub progress: Progress,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JobFile {
    pub file: FileRef,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FileRef {
    pub name: Option<String>,
    pub path: Option<String>,
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// Per cent, 0–100.
    pub completion: Option<f64>,
    /// Seconds printed.
    #[serde(rename = "printTime")]
    pub print_time: Option<f64>,
    /// Seconds left (estimate).
    #[serde(rename = "printTimeLeft")]
    pub print_time_left: Option<f64>,
}

/// A file's `prints.last` (`GET /api/files/{origin}/{path}`): how its last print ended.
#[derive(Debug, Clone, Deserialize)]
pub struct LastPrint {
    /// When it ended (Unix seconds).
    pub date: f64,
    /// Whether it finished.
    pub success: bool,
    /// How long it printed (only after a successful print).
    #[serde(rename = "printTime")]
    pub print_time: Option<f64>,
}

/// The print as the connector understands it from what it has been told.
#[derive(Debug, Default)]
pub struct PrintTracker {
    file: Option<String>,
    progress: Option<f64>,
    remaining_s: Option<u32>,
    elapsed_s: Option<u32>,
    /// The end OctoPrint announced, kept until the next print starts.
    ended: Option<ReportedState>,
    /// When the printer was seen idle after printing without an end event.
    idle_since: Option<Instant>,
    was_active: bool,
}

fn is_active(flags: Flags) -> bool {
    flags.printing
        || flags.paused
        || flags.pausing
        || flags.cancelling
        || flags.finishing
        || flags.resuming
}

fn seconds(s: Option<f64>) -> Option<u32> {
    s.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| s.round() as u32)
}

impl PrintTracker {
    /// The `/api/printer` + `/api/job` snapshot read on connect: unlike a `current` message
    /// it may say a new print runs after the end this tracker was told of.
    pub fn snapshot(&mut self, flags: Flags, job: &JobInfo, now: Instant) -> Option<PrinterReport> {
        if is_active(flags) {
            self.ended = None;
        }
        self.observe(flags, job, now)
    }

    /// A `current` message. Once an end event was received, only `PrintStarted` (or the next
    /// connection's snapshot) starts another print: `current` messages are throttled and can
    /// still show the print running after its `PrintDone`.
    pub fn observe(&mut self, flags: Flags, job: &JobInfo, now: Instant) -> Option<PrinterReport> {
        let file = job
            .job
            .file
            .path
            .clone()
            .or_else(|| job.job.file.name.clone());
        if file.is_some() {
            self.file = file;
        }
        self.progress = job.progress.completion.or(self.progress);
        self.remaining_s = seconds(job.progress.print_time_left);
        self.elapsed_s = seconds(job.progress.print_time).or(self.elapsed_s);
        let state = if let Some(ended) = self.ended {
            ended
        } else if flags.paused || flags.pausing {
            ReportedState::Paused
        } else if is_active(flags) {
            ReportedState::Printing
        } else if flags.error || flags.closed_or_error && !flags.operational {
            ReportedState::Error
        } else if self.was_active {
            // Printing a moment ago, no end event yet: wait a little for it.
            let since = *self.idle_since.get_or_insert(now);
            if now.duration_since(since) < END_EVENT_GRACE {
                return None;
            }
            self.was_active = false;
            ReportedState::Idle
        } else {
            ReportedState::Idle
        };
        if state.is_active() {
            self.was_active = true;
            self.idle_since = None;
        }
        Some(self.report(state))
    }

    /// An `event` message. Returns the report it implies, if any.
    pub fn event(&mut self, kind: &str, payload: &Value) -> Option<PrinterReport> {
        let path = payload
            .get("path")
            .or_else(|| payload.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let time = seconds(payload.get("time").and_then(Value::as_f64));
        let state = match kind {
            "PrintStarted" => {
                self.ended = None;
                if path.is_some() {
                    self.file.clone_from(&path);
                }
                self.progress = Some(0.0);
                self.elapsed_s = Some(0);
                self.remaining_s = None;
                ReportedState::Printing
            }
            "PrintPaused" => ReportedState::Paused,
            "PrintResumed" => ReportedState::Printing,
            "PrintDone" => {
                self.progress = Some(100.0);
                self.remaining_s = Some(0);
                ReportedState::Finished
            }
            // A cancel fires PrintCancelled and then PrintFailed (reason "cancelled"): both
            // say the same end, and the domain closes the job once.
            "PrintCancelled" => ReportedState::Failed { cancelled: true },
            "PrintFailed" => ReportedState::Failed {
                cancelled: payload.get("reason").and_then(Value::as_str) == Some("cancelled"),
            },
            _ => return None,
        };
        if path.is_some() {
            self.file = path;
        }
        if time.is_some() {
            self.elapsed_s = time;
        }
        if state.is_terminal() {
            self.ended = Some(state);
            self.was_active = false;
        } else {
            self.was_active = true;
        }
        self.idle_since = None;
        Some(self.report(state))
    }

    /// On connect, with the printer idle: how the selected file's last print ended, read from
    /// its `prints.last` — OctoPrint keeps no job history, this is the evidence there is.
    pub fn last_print(&mut self, last: &LastPrint) -> Option<PrinterReport> {
        let ended_at = Timestamp::from_unix_timestamp(last.date as i64).ok()?;
        let state = if last.success {
            ReportedState::Finished
        } else {
            ReportedState::Failed { cancelled: false }
        };
        self.ended = Some(state);
        self.was_active = false;
        let mut report = self.report(state);
        report.ended_at = Some(ended_at);
        report.started_at = last
            .print_time
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| ended_at - time::Duration::seconds_f64(t));
        report.elapsed_s = seconds(last.print_time);
        Some(report)
    }

    /// The file the printer has selected, if any.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    fn report(&self, state: ReportedState) -> PrinterReport {
        PrinterReport {
            state,
            file: self.file.clone(),
            print_name: None,
            progress: self.progress,
            remaining_s: if state.is_active() {
                self.remaining_s
            } else {
                None
            },
            elapsed_s: self.elapsed_s,
            identity: PrintIdentity::FileAndStart,
            started_at: None,
            ended_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn printing() -> Flags {
        Flags {
            operational: true,
            printing: true,
            ..Flags::default()
        }
    }

    fn operational() -> Flags {
        Flags {
            operational: true,
            ..Flags::default()
        }
    }

    fn job(path: &str, completion: f64, print_time: f64, left: Option<f64>) -> JobInfo {
        serde_json::from_value(json!({
            "job": {"file": {"name": path, "path": path, "origin": "local"}},
            "progress": {"completion": completion, "printTime": print_time, "printTimeLeft": left},
        }))
        .unwrap()
    }

    #[test]
    fn current_messages_while_printing_report_progress() {
        let mut tracker = PrintTracker::default();
        let r = tracker
            .observe(
                printing(),
                &job("cube.gcode", 49.9, 14.0, Some(15.0)),
                Instant::now(),
            )
            .unwrap();
        assert_eq!(r.state, ReportedState::Printing);
        assert_eq!(r.file.as_deref(), Some("cube.gcode"));
        assert_eq!(r.progress, Some(49.9));
        assert_eq!(r.remaining_s, Some(15));
        assert_eq!(r.elapsed_s, Some(14));
    }

    #[test]
    fn print_done_is_kept_until_the_next_print() {
        let mut tracker = PrintTracker::default();
        let now = Instant::now();
        tracker.observe(printing(), &job("cube.gcode", 90.0, 27.0, Some(3.0)), now);
        let done = tracker
            .event("PrintDone", &json!({"path": "cube.gcode", "time": 29.84}))
            .unwrap();
        assert_eq!(done.state, ReportedState::Finished);
        assert_eq!(done.elapsed_s, Some(30));
        let later = tracker
            .observe(
                operational(),
                &job("cube.gcode", 100.0, 30.0, None),
                now + Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(
            later.state,
            ReportedState::Finished,
            "Operational after PrintDone"
        );
        tracker.event("PrintStarted", &json!({"path": "cube.gcode"}));
        let again = tracker
            .observe(
                printing(),
                &job("cube.gcode", 1.0, 1.0, None),
                now + Duration::from_secs(20),
            )
            .unwrap();
        assert_eq!(again.state, ReportedState::Printing);
        let after = tracker
            .observe(
                operational(),
                &job("cube.gcode", 100.0, 30.0, None),
                now + Duration::from_secs(21),
            )
            .unwrap_or_else(|| tracker.report(ReportedState::Idle));
        assert_ne!(
            after.state,
            ReportedState::Finished,
            "the old end is not reported for a new print"
        );
    }

    #[test]
    fn a_late_current_message_does_not_restart_an_ended_print() {
        let mut tracker = PrintTracker::default();
        let now = Instant::now();
        tracker.event("PrintStarted", &json!({"path": "cube.gcode"}));
        tracker.event("PrintDone", &json!({"path": "cube.gcode", "time": 30.0}));
        let late = tracker
            .observe(printing(), &job("cube.gcode", 99.0, 29.0, Some(1.0)), now)
            .unwrap();
        assert_eq!(late.state, ReportedState::Finished);
        // The next connection's snapshot may show a new print.
        let next = tracker
            .snapshot(printing(), &job("cube.gcode", 5.0, 2.0, Some(28.0)), now)
            .unwrap();
        assert_eq!(next.state, ReportedState::Printing);
    }

    #[test]
    fn a_cancel_is_a_cancelled_failure_whichever_event_says_it() {
        let mut tracker = PrintTracker::default();
        tracker.event("PrintStarted", &json!({"path": "cube.gcode"}));
        let cancelled = tracker
            .event("PrintCancelled", &json!({"time": 6.02}))
            .unwrap();
        let failed = tracker
            .event("PrintFailed", &json!({"reason": "cancelled"}))
            .unwrap();
        assert_eq!(cancelled.state, ReportedState::Failed { cancelled: true });
        assert_eq!(failed.state, ReportedState::Failed { cancelled: true });
        let error = tracker
            .event("PrintFailed", &json!({"reason": "error"}))
            .unwrap();
        assert_eq!(error.state, ReportedState::Failed { cancelled: false });
    }

    #[test]
    fn idle_after_printing_without_an_end_event_waits_then_says_idle() {
        let mut tracker = PrintTracker::default();
        let now = Instant::now();
        tracker.observe(printing(), &job("cube.gcode", 50.0, 10.0, Some(10.0)), now);
        assert_eq!(
            tracker.observe(operational(), &JobInfo::default(), now),
            None
        );
        let idle = tracker
            .observe(operational(), &JobInfo::default(), now + END_EVENT_GRACE)
            .unwrap();
        assert_eq!(idle.state, ReportedState::Idle);
    }

    #[test]
    fn pause_and_resume_events() {
        let mut tracker = PrintTracker::default();
        tracker.event("PrintStarted", &json!({"path": "a.gcode"}));
        assert_eq!(
            tracker.event("PrintPaused", &json!({})).unwrap().state,
            ReportedState::Paused
        );
        assert_eq!(
            tracker.event("PrintResumed", &json!({})).unwrap().state,
            ReportedState::Printing
        );
        assert_eq!(
            tracker.event("plugin_achievements_achievement_unlocked", &json!({})),
            None
        );
    }

    #[test]
    fn the_last_print_of_a_file_is_evidence_of_its_end() {
        let mut tracker = PrintTracker::default();
        tracker.observe(
            operational(),
            &job("cube.gcode", 100.0, 30.0, None),
            Instant::now(),
        );
        let last: LastPrint = serde_json::from_value(
            json!({"date": 1796110740.23, "printTime": 29.85, "success": true}),
        )
        .unwrap();
        let r = tracker.last_print(&last).unwrap();
        assert_eq!(r.state, ReportedState::Finished);
        assert_eq!(
            r.ended_at,
            Some(Timestamp::from_unix_timestamp(1_796_110_740).unwrap())
        );
        let started = r.started_at.unwrap();
        assert_eq!(started.unix_timestamp(), 1_796_110_740 - 30);
        let cancelled: LastPrint =
            serde_json::from_value(json!({"date": 1796110740.23, "success": false})).unwrap();
        let r = tracker.last_print(&cancelled).unwrap();
        assert_eq!(r.state, ReportedState::Failed { cancelled: false });
        assert_eq!(r.started_at, None);
    }
}
