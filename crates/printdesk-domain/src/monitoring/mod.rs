//! Printer monitoring: what a printer reports about itself, and what printdesk makes of it.
//!
//! Connectors (the `printdesk-monitor` adapter crate) translate each printer protocol into
//! [`PrinterReport`]s; the domain decides what a report means for the printer's jobs and
//! publishes the printer's live [`PrinterStatus`].

mod report;
mod status;

pub use report::{PrintIdentity, PrinterReport, ReportedState};
pub use status::{PrinterState, PrinterStatus};
