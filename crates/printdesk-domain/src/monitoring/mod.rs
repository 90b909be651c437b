//! Printer monitoring: what a printer reports about itself, and what printdesk makes of it.
//!
//! Connectors (the `printdesk-monitor` adapter crate) translate each printer protocol into
//! [`PrinterReport`]s and hand them to a [`MonitorSession`]. The domain decides what a report
//! means for the printer's jobs ([`decide`], run inside the [`MonitorStore`]'s transaction),
//! publishes the committed job events, and sends the printer's live [`PrinterStatus`]
//! through a [`PrinterStatusPublisher`] ([`printer_status`], [`StatusThrottle`]).
//!
//! A printer that keeps its own job history (Moonraker) also hands it over on every
//! (re)connect: [`decide_history`] records the prints that started and ended while printdesk
//! was not watching.
//!
//! `docs/monitoring.md` states the rules for users; the table-driven tests in
//! `tests/monitoring.rs` check each of them.

mod connection;
mod decision;
mod errors;
mod history;
#[cfg(feature = "testing")]
mod in_memory;
mod lease;
mod memory;
mod naming;
mod ports;
mod print;
mod report;
mod service;
mod status;
mod throttle;

pub use connection::{ConnectionCondition, PRINTER_ERROR_MESSAGE, printer_status};
pub use decision::{
    ClosedJob, JobWrite, MonitorDecision, MonitorOutcome, MonitorSnapshot, NewPrint, PrintEnd,
    ReportContext, Unobserved, appended_note, decide, is_open_auto_job, monitor_actor,
};
pub use errors::MonitorError;
pub use history::{HistoryEntry, HistoryStatus, Interruption, decide_history};
#[cfg(feature = "testing")]
pub use in_memory::{InMemoryLeases, InMemoryMonitorStore, RecordingStatusPublisher};
pub use lease::{LEASE_RENEWAL, LEASE_TERM, MonitorLeases};
pub use memory::PrinterMemory;
pub use naming::{PRINT_FILE_SUFFIXES, file_name_for, job_name_for, print_name_of_file};
pub use ports::{MonitorDecide, MonitorStore, PrinterStatusPublisher, Recorded};
pub use print::{Matching, START_TOLERANCE, TrackedPrint};
pub use report::{PrintIdentity, PrinterReport, ReportedState};
pub use service::{MonitorSession, PrinterMonitor};
pub use status::{PrinterState, PrinterStatus};
pub use throttle::{PROGRESS_INTERVAL, StatusThrottle, is_progress_only};
