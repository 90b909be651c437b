use serde::{Deserialize, Serialize};

use crate::{clock::Timestamp, job::JobId};

/// A printer's live state as the API and the WebSocket's `printer_status` messages show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Not monitored, or not heard from since printdesk started.
    #[default]
    Unknown,
    /// printdesk is trying to reach the printer.
    Connecting,
    /// The printer cannot be reached (the last job stays as it was: printdesk does not guess).
    Offline,
    /// Connected and not printing.
    Idle,
    /// Printing (or preparing a print).
    Printing,
    /// A print is paused.
    Paused,
    /// The last print finished.
    Finished,
    /// The last print failed or was cancelled.
    Failed,
    /// The printer, or printdesk's connection to it, is in error; `error` says why.
    Error,
}

/// The `status` object of a printer (contract, "Printers: edit, connection, live status").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrinterStatus {
    /// Where the printer is.
    pub state: PrinterState,
    /// Whether printdesk hears from the printer now.
    pub online: bool,
    /// The file being printed, or null.
    pub file: Option<String>,
    /// Progress in per cent, 0–100, or null.
    pub progress: Option<f64>,
    /// Seconds left, or null.
    pub remaining_s: Option<u32>,
    /// The printdesk job being printed, or null.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = "uuid"))]
    pub job_id: Option<JobId>,
    /// When printdesk last heard from the printer.
    #[serde(with = "crate::timestamp::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_seen: Option<Timestamp>,
    /// Why the printer is in error or offline, as a sentence ("access code refused"), or null.
    pub error: Option<String>,
}
