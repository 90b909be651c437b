//! Bambu Lab's `push_status` messages, merged key by key into the printer's full state, and
//! read as a [`PrinterReport`].
//!
//! X1 printers send the whole `print` object every time; P1 and A1 printers send only what
//! changed (`"msg": 1`), so a 100-byte delta must never wipe the file name or the progress it
//! does not mention (Printernizer's bug, `shared/printer-protocols.md` §1 item 5).

use printdesk_domain::{
    Timestamp,
    monitoring::{PrintIdentity, PrinterReport, ReportedState},
};
use serde_json::{Map, Value};

/// `print_error` when a person cancelled the print (pybambu `models.py`).
const USER_CANCELLED: i64 = 50_348_044;

/// The printer's state as the sum of every `print` report since the connection began.
#[derive(Debug, Clone, Default)]
pub struct BambuState {
    print: Map<String, Value>,
}

impl BambuState {
    /// Merges one MQTT message from `device/{serial}/report`. Returns whether it was a
    /// `push_status` report (other messages — command replies, `info`, `system` — change
    /// nothing here).
    pub fn merge(&mut self, payload: &[u8]) -> bool {
        let Ok(Value::Object(mut message)) = serde_json::from_slice::<Value>(payload) else {
            return false;
        };
        let Some(Value::Object(print)) = message.remove("print") else {
            return false;
        };
        if print.get("command").and_then(Value::as_str) != Some("push_status") {
            return false;
        }
        for (key, value) in print {
            self.print.insert(key, value);
        }
        true
    }

    /// The report, once the printer has said which state it is in (a P1 that ignores
    /// `pushall` may first send deltas without `gcode_state`).
    pub fn report(&self) -> Option<PrinterReport> {
        let state = self.state()?;
        let subtask_id = self.text("subtask_id").filter(|id| !is_unset(id));
        // `gcode_start_time` is reused from the previous print when the task ids are 0
        // (Bambuddy #1011), so it is only believed for prints with an id of their own.
        let started_at = subtask_id
            .and(self.integer("gcode_start_time"))
            .filter(|&t| t > 0)
            .and_then(|t| Timestamp::from_unix_timestamp(t).ok());
        Some(PrinterReport {
            state,
            file: self
                .text("gcode_file")
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
            print_name: self
                .text("subtask_name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            progress: self.integer("mc_percent").map(|p| p.clamp(0, 100) as f64),
            // Minutes on the wire (pybambu's `timedelta(minutes=…)`), not seconds.
            remaining_s: self
                .integer("mc_remaining_time")
                .and_then(|m| u32::try_from(m.max(0)).ok())
                .map(|m| m.saturating_mul(60)),
            elapsed_s: None,
            identity: match subtask_id {
                Some(id) => PrintIdentity::PrinterJobId(id.to_owned()),
                None => PrintIdentity::FileAndStart,
            },
            started_at,
            ended_at: None,
        })
    }

    fn state(&self) -> Option<ReportedState> {
        Some(match self.text("gcode_state")? {
            "PREPARE" | "SLICING" => ReportedState::Preparing,
            "RUNNING" => ReportedState::Printing,
            "PAUSE" => ReportedState::Paused,
            "FINISH" => ReportedState::Finished,
            "FAILED" => ReportedState::Failed {
                cancelled: self.integer("print_error") == Some(USER_CANCELLED),
            },
            // IDLE, INIT, OFFLINE, UNKNOWN and anything newer firmware invents.
            _ => ReportedState::Idle,
        })
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.print.get(key).and_then(Value::as_str)
    }

    /// Bambu sends some numbers as strings (`"gcode_start_time": "1700000000"`).
    fn integer(&self, key: &str) -> Option<i64> {
        match self.print.get(key)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Local prints carry `"0"` (or nothing) where cloud prints carry their task's id.
fn is_unset(id: &str) -> bool {
    id.is_empty() || id.chars().all(|c| c == '0')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full report of `shared/printer-protocols.md` §2.1 (OpenBambuAPI's pushall sample
    /// with the FINISH values of ha-bambulab issue #174).
    const FULL_FINISH: &str = r#"{"print": {"command": "push_status", "msg": 0, "sequence_id": "58072",
        "gcode_state": "FINISH", "subtask_name": "Tobera bambu x1 v3",
        "gcode_file": "Tobera bambu x1 v3.gcode.3mf", "mc_percent": 100, "mc_remaining_time": 0,
        "gcode_start_time": "0", "print_error": 0, "print_type": "idle",
        "task_id": "0", "subtask_id": "0", "project_id": "0",
        "layer_num": 25, "total_layer_num": 25, "stg_cur": 255, "mc_print_stage": "1",
        "nozzle_temper": 28, "bed_temper": 25.625}}"#;

    fn merged(messages: &[&str]) -> BambuState {
        let mut state = BambuState::default();
        for m in messages {
            state.merge(m.as_bytes());
        }
        state
    }

    #[test]
    fn a_full_report_reads_as_finished_with_its_file() {
        let report = merged(&[FULL_FINISH]).report().expect("a state");
        assert_eq!(report.state, ReportedState::Finished);
        assert_eq!(report.file.as_deref(), Some("Tobera bambu x1 v3.gcode.3mf"));
        assert_eq!(report.print_name.as_deref(), Some("Tobera bambu x1 v3"));
        assert_eq!(report.progress, Some(100.0));
        assert_eq!(report.identity, PrintIdentity::FileAndStart);
        assert_eq!(
            report.started_at, None,
            "gcode_start_time 0 is no start time"
        );
    }

    #[test]
    fn a_delta_keeps_what_it_does_not_mention() {
        let delta = r#"{"print":{"bed_temper":11.96875,"wifi_signal":"-67dBm","command":"push_status","msg":1,"sequence_id":"40941"}}"#;
        let report = merged(&[FULL_FINISH, delta]).report().expect("a state");
        assert_eq!(report.file.as_deref(), Some("Tobera bambu x1 v3.gcode.3mf"));
        assert_eq!(report.progress, Some(100.0));
        assert_eq!(report.state, ReportedState::Finished);
    }

    #[test]
    fn a_paused_delta_changes_only_the_state() {
        let running = r#"{"print":{"command":"push_status","msg":0,"gcode_state":"RUNNING","gcode_file":"Benchy.gcode.3mf","mc_percent":41,"mc_remaining_time":17}}"#;
        let paused = r#"{"print":{"nozzle_temper":214.5,"mc_print_stage":"3","print_error":50364437,"gcode_state":"PAUSE","command":"push_status","msg":1,"sequence_id":"767"}}"#;
        let report = merged(&[running, paused]).report().expect("a state");
        assert_eq!(report.state, ReportedState::Paused);
        assert_eq!(report.progress, Some(41.0));
        assert_eq!(report.file.as_deref(), Some("Benchy.gcode.3mf"));
    }

    #[test]
    fn remaining_time_is_minutes_on_the_wire() {
        let running =
            r#"{"print":{"command":"push_status","gcode_state":"RUNNING","mc_remaining_time":17}}"#;
        assert_eq!(
            merged(&[running]).report().unwrap().remaining_s,
            Some(17 * 60)
        );
    }

    #[test]
    fn no_report_before_the_state_is_known() {
        let delta = r#"{"print":{"bed_temper":11.9,"command":"push_status","msg":1}}"#;
        assert_eq!(merged(&[delta]).report(), None);
    }

    #[test]
    fn other_messages_are_ignored() {
        let mut state = BambuState::default();
        assert!(!state.merge(br#"{"info":{"command":"get_version"}}"#));
        assert!(!state.merge(br#"{"print":{"command":"gcode_line","result":"success"}}"#));
        assert!(!state.merge(b"not json"));
        assert_eq!(state.report(), None);
    }

    #[test]
    fn failed_with_the_cancel_code_is_a_cancel() {
        let cancelled =
            r#"{"print":{"command":"push_status","gcode_state":"FAILED","print_error":50348044}}"#;
        let failed =
            r#"{"print":{"command":"push_status","gcode_state":"FAILED","print_error":1234}}"#;
        assert_eq!(
            merged(&[cancelled]).report().unwrap().state,
            ReportedState::Failed { cancelled: true }
        );
        assert_eq!(
            merged(&[failed]).report().unwrap().state,
            ReportedState::Failed { cancelled: false }
        );
    }

    #[test]
    fn a_cloud_print_has_its_own_id_and_start_time() {
        let cloud = r#"{"print":{"command":"push_status","gcode_state":"RUNNING","subtask_id":"98765","gcode_start_time":"1764576000"}}"#;
        let report = merged(&[cloud]).report().unwrap();
        assert_eq!(report.identity, PrintIdentity::PrinterJobId("98765".into()));
        assert_eq!(
            report.started_at,
            Some(Timestamp::from_unix_timestamp(1_764_576_000).unwrap())
        );
    }

    #[test]
    fn states_map_as_the_protocol_notes_say() {
        for (word, state) in [
            ("IDLE", ReportedState::Idle),
            ("INIT", ReportedState::Idle),
            ("OFFLINE", ReportedState::Idle),
            ("PREPARE", ReportedState::Preparing),
            ("SLICING", ReportedState::Preparing),
            ("RUNNING", ReportedState::Printing),
            ("PAUSE", ReportedState::Paused),
            ("FINISH", ReportedState::Finished),
        ] {
            let message =
                format!(r#"{{"print":{{"command":"push_status","gcode_state":"{word}"}}}}"#);
            assert_eq!(merged(&[&message]).report().unwrap().state, state, "{word}");
        }
    }
}
