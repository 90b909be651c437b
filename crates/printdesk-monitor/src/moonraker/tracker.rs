//! What Moonraker's objects and history say about the print, as [`PrinterReport`]s.
//!
//! `notify_status_update` carries only the fields that changed: the tracker keeps the rest.
//! A print's identity is its history `job_id`, which Moonraker announces in
//! `notify_history_changed` ("added") just *after* the `print_stats` change to `printing`;
//! the tracker holds the new print's reports back until the id arrives (or
//! [`ID_WAIT`] passed, for a Moonraker without `[history]`), so the domain never sees the
//! print under two identities.

use std::time::{Duration, Instant};

use printdesk_domain::{
    Timestamp,
    monitoring::{
        HistoryEntry, HistoryStatus, Interruption, PrintIdentity, PrinterReport, ReportedState,
    },
};
use serde_json::Value;

/// How long a new print's reports wait for its history entry.
pub const ID_WAIT: Duration = Duration::from_secs(5);

/// The print as the connector understands it from what Moonraker said.
#[derive(Debug, Default)]
pub struct PrintTracker {
    state: Option<String>,
    filename: String,
    total_duration: Option<f64>,
    progress: Option<f64>,
    /// The history entry of the print `print_stats` shows (current or last).
    job: Option<HistoryEntry>,
    /// An "added" entry that arrived before the `printing` it belongs to.
    added_early: bool,
    /// A print started and its history entry has not arrived yet.
    awaiting_since: Option<Instant>,
}

fn active(state: Option<&str>) -> bool {
    matches!(state, Some("printing" | "paused"))
}

impl PrintTracker {
    /// The state on (re)connect: the subscription's full `status` and the newest history
    /// entry. Returns the connection's first report.
    pub fn connected(
        &mut self,
        status: &Value,
        newest: Option<HistoryEntry>,
    ) -> Option<PrinterReport> {
        *self = Self::default();
        self.merge(status);
        self.job = newest.filter(|e| {
            self.state.as_deref() != Some("standby")
                && e.file.as_deref() == Some(self.filename.as_str())
        });
        self.report()
    }

    /// A `notify_status_update`'s changed fields.
    pub fn status(&mut self, changed: &Value, now: Instant) -> Option<PrinterReport> {
        let was_active = active(self.state.as_deref());
        self.merge(changed);
        if !was_active && self.state.as_deref() == Some("printing") {
            if self.added_early {
                self.added_early = false;
            } else {
                self.job = None;
                self.awaiting_since = Some(now);
            }
        }
        self.report()
    }

    /// A `notify_history_changed` with its action and entry.
    pub fn history_changed(&mut self, action: &str, job: &Value) -> Option<PrinterReport> {
        let entry = history_entry(job)?;
        match action {
            "added" => {
                // Announced before its `printing` arrives: kept for it.
                self.added_early = !active(self.state.as_deref());
                self.awaiting_since = None;
                self.job = Some(entry);
            }
            "finished"
                if self
                    .job
                    .as_ref()
                    .is_some_and(|j| j.printer_job_id == entry.printer_job_id) =>
            {
                self.job = Some(entry);
            }
            _ => return None,
        }
        self.report()
    }

    /// When the connector stops waiting for the new print's history entry.
    pub fn waiting_until(&self) -> Option<Instant> {
        self.awaiting_since.map(|since| since + ID_WAIT)
    }

    /// Stops waiting: the print is reported by file and start.
    pub fn stop_waiting(&mut self) -> Option<PrinterReport> {
        self.awaiting_since = None;
        self.report()
    }

    fn merge(&mut self, status: &Value) {
        if let Some(stats) = status.get("print_stats") {
            if let Some(state) = stats.get("state").and_then(Value::as_str) {
                self.state = Some(state.to_owned());
            }
            if let Some(file) = stats.get("filename").and_then(Value::as_str) {
                self.filename = file.to_owned();
            }
            if let Some(total) = stats.get("total_duration").and_then(Value::as_f64) {
                self.total_duration = Some(total);
            }
        }
        if let Some(progress) = status
            .pointer("/virtual_sdcard/progress")
            .and_then(Value::as_f64)
        {
            self.progress = Some(progress);
        }
    }

    /// The report of what the tracker knows now; `None` before `print_stats` said its state,
    /// for a state outside Klipper's list, and while a new print waits for its id.
    pub fn report(&self) -> Option<PrinterReport> {
        if self.awaiting_since.is_some() {
            return None;
        }
        let state = match self.state.as_deref()? {
            "standby" => return Some(PrinterReport::idle()),
            "printing" => ReportedState::Printing,
            "paused" => ReportedState::Paused,
            "complete" => ReportedState::Finished,
            "cancelled" => ReportedState::Failed { cancelled: true },
            "error" => ReportedState::Failed { cancelled: false },
            _ => return None,
        };
        let job = self.job.as_ref();
        Some(PrinterReport {
            state,
            file: (!self.filename.is_empty()).then(|| self.filename.clone()),
            progress: self.progress.map(|p| (p * 100.0).clamp(0.0, 100.0)),
            // Total duration includes pauses: `now − elapsed` stays the print's start.
            elapsed_s: self
                .total_duration
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(|d| d.round() as u32),
            identity: job.map_or(PrintIdentity::FileAndStart, |j| {
                PrintIdentity::PrinterJobId(j.printer_job_id.clone())
            }),
            started_at: job.map(|j| j.started_at),
            ended_at: job.and_then(|j| j.ended_at).filter(|_| state.is_terminal()),
            ..PrinterReport::idle()
        })
    }
}

fn timestamp(value: &Value) -> Option<Timestamp> {
    let seconds = value.as_f64().filter(|s| s.is_finite())?;
    let millis = (seconds * 1000.0).round() as i128;
    Timestamp::from_unix_timestamp_nanos(millis * 1_000_000).ok()
}

/// One entry of `server.history.list` or `notify_history_changed`; `None` when it lacks its
/// id, its start or a status Moonraker documents.
pub fn history_entry(job: &Value) -> Option<HistoryEntry> {
    let status = match job.get("status")?.as_str()? {
        "in_progress" => HistoryStatus::InProgress,
        "completed" => HistoryStatus::Completed,
        "cancelled" => HistoryStatus::Cancelled,
        "error" => HistoryStatus::Error,
        "interrupted" => HistoryStatus::Interrupted(Interruption::Interrupted),
        "klippy_shutdown" => HistoryStatus::Interrupted(Interruption::KlippyShutdown),
        "klippy_disconnect" => HistoryStatus::Interrupted(Interruption::KlippyDisconnect),
        "server_exit" => HistoryStatus::Interrupted(Interruption::ServerExit),
        _ => return None,
    };
    Some(HistoryEntry {
        printer_job_id: job.get("job_id")?.as_str()?.to_owned(),
        file: job
            .get("filename")
            .and_then(Value::as_str)
            .filter(|f| !f.is_empty())
            .map(str::to_owned),
        status,
        started_at: timestamp(job.get("start_time")?)?,
        ended_at: job.get("end_time").and_then(timestamp),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(id: &str, status: &str, end: Option<f64>) -> Value {
        json!({"job_id": id, "filename": "cube.gcode", "status": status,
               "start_time": 1_796_000_000.5, "end_time": end, "total_duration": 3.0})
    }

    fn full(state: &str) -> Value {
        json!({"print_stats": {"state": state, "filename": "cube.gcode", "total_duration": 0.0,
                               "print_duration": 0.0},
               "virtual_sdcard": {"progress": 0.0}})
    }

    #[test]
    fn states_map_as_the_protocol_table_says() {
        let cases = [
            ("standby", Some(ReportedState::Idle)),
            ("printing", Some(ReportedState::Printing)),
            ("paused", Some(ReportedState::Paused)),
            ("complete", Some(ReportedState::Finished)),
            ("cancelled", Some(ReportedState::Failed { cancelled: true })),
            ("error", Some(ReportedState::Failed { cancelled: false })),
            ("startup", None),
        ];
        for (state, expected) in cases {
            let mut tracker = PrintTracker::default();
            assert_eq!(
                tracker.connected(&full(state), None).map(|r| r.state),
                expected,
                "{state}"
            );
        }
    }

    #[test]
    fn a_new_print_waits_for_its_history_id_and_partial_updates_merge() {
        let mut tracker = PrintTracker::default();
        let now = Instant::now();
        assert_eq!(
            tracker.connected(&full("standby"), None),
            Some(PrinterReport::idle())
        );
        assert_eq!(
            tracker.status(&json!({"print_stats": {"state": "printing"}}), now),
            None,
            "no report before the id"
        );
        assert_eq!(tracker.waiting_until(), Some(now + ID_WAIT));
        let report = tracker
            .history_changed("added", &entry("00000B", "in_progress", None))
            .unwrap();
        assert_eq!(report.state, ReportedState::Printing);
        assert_eq!(
            report.identity,
            PrintIdentity::PrinterJobId("00000B".into())
        );
        assert!(report.started_at.is_some());
        let report = tracker
            .status(&json!({"virtual_sdcard": {"progress": 0.5}, "print_stats": {"total_duration": 61.6}}), now)
            .unwrap();
        assert_eq!((report.progress, report.elapsed_s), (Some(50.0), Some(62)));
        assert_eq!(report.file.as_deref(), Some("cube.gcode"));
        let done = tracker
            .status(&json!({"print_stats": {"state": "complete"}}), now)
            .unwrap();
        assert_eq!(done.state, ReportedState::Finished);
        assert_eq!(
            done.ended_at, None,
            "the end time comes with the history entry"
        );
        let finished = tracker
            .history_changed(
                "finished",
                &entry("00000B", "completed", Some(1_796_000_010.0)),
            )
            .unwrap();
        assert_eq!(finished.ended_at, timestamp(&json!(1_796_000_010.0)));
    }

    #[test]
    fn without_a_history_entry_the_print_is_reported_by_file_after_the_wait() {
        let mut tracker = PrintTracker::default();
        tracker.connected(&full("complete"), None);
        tracker.status(
            &json!({"print_stats": {"state": "printing"}}),
            Instant::now(),
        );
        let report = tracker.stop_waiting().unwrap();
        assert_eq!(report.identity, PrintIdentity::FileAndStart);
        assert_eq!(tracker.waiting_until(), None);
    }

    #[test]
    fn an_entry_announced_before_its_state_change_is_kept() {
        let mut tracker = PrintTracker::default();
        tracker.connected(&full("complete"), None);
        assert!(
            tracker
                .history_changed("added", &entry("00000C", "in_progress", None))
                .is_some()
        );
        let report = tracker
            .status(
                &json!({"print_stats": {"state": "printing"}}),
                Instant::now(),
            )
            .unwrap();
        assert_eq!(
            report.identity,
            PrintIdentity::PrinterJobId("00000C".into())
        );
    }

    #[test]
    fn on_connect_the_newest_entry_names_the_print_shown() {
        let mut tracker = PrintTracker::default();
        let newest = history_entry(&entry("000007", "in_progress", None));
        let report = tracker
            .connected(&full("printing"), newest.clone())
            .unwrap();
        assert_eq!(
            report.identity,
            PrintIdentity::PrinterJobId("000007".into())
        );
        let idle = tracker.connected(&full("standby"), newest).unwrap();
        assert_eq!(idle, PrinterReport::idle());
    }

    #[test]
    fn history_statuses_translate_and_unknown_entries_are_left_out() {
        let cases = [
            ("completed", Some(HistoryStatus::Completed)),
            ("cancelled", Some(HistoryStatus::Cancelled)),
            ("error", Some(HistoryStatus::Error)),
            (
                "klippy_shutdown",
                Some(HistoryStatus::Interrupted(Interruption::KlippyShutdown)),
            ),
            (
                "klippy_disconnect",
                Some(HistoryStatus::Interrupted(Interruption::KlippyDisconnect)),
            ),
            (
                "interrupted",
                Some(HistoryStatus::Interrupted(Interruption::Interrupted)),
            ),
            (
                "server_exit",
                Some(HistoryStatus::Interrupted(Interruption::ServerExit)),
            ),
            ("in_progress", Some(HistoryStatus::InProgress)),
            ("exploded", None),
        ];
        for (status, expected) in cases {
            assert_eq!(
                history_entry(&entry("000001", status, Some(1.0))).map(|e| e.status),
                expected,
                "{status}"
            );
        }
        let e = history_entry(&entry("000001", "completed", None)).unwrap();
        assert_eq!(
            e.started_at.unix_timestamp_nanos(),
            1_796_000_000_500_000_000
        );
        assert_eq!(e.ended_at, None);
    }
}
