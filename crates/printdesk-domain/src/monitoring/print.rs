//! The identity of one print: how printdesk tells "the print it already knows" from "another
//! print", including a reprint of the same file.

use time::Duration;

use super::report::{PrintIdentity, PrinterReport};
use crate::clock::Timestamp;

/// How far apart two estimates of a print's start may be and still name the same print.
///
/// Estimates drift: `now − elapsed` moves with report latency, clock skew and rounding (and,
/// where a protocol leaves pauses out of `elapsed`, with pauses). 120 s is the window
/// Moonraker's own re-adoption of an orphaned job uses (Arksine/moonraker#1102); a reprint of
/// the same file starts a whole print later, far outside it.
pub const START_TOLERANCE: Duration = Duration::seconds(120);

/// The print a job records (or that printdesk saw without recording it), as the printer
/// identified it. Written once, when printdesk first sees the print; stored with the job
/// monitoring creates for it and in the printer's [`super::PrinterMemory`], so a restart of
/// printdesk or a second instance recognises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedPrint {
    /// The printer's own id for the print ([`PrintIdentity::PrinterJobId`]); `None` for
    /// printers known by file and start time.
    pub printer_job_id: Option<String>,
    /// The file as the printer named it.
    pub file: Option<String>,
    /// When the print started, as well as printdesk could tell when it first saw it: the
    /// printer's reported start, else `now − elapsed`, else when printdesk first saw it.
    pub started_at: Timestamp,
}

/// How strictly a report is compared with a print printdesk remembers, which depends on what
/// printdesk saw in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// printdesk watched without interruption and the printer was printing: only a different
    /// printer job id, a different file or a different *reported* start make another print.
    /// `now − elapsed` is not compared, so its drift never splits a print in two.
    Continuous,
    /// printdesk was not watching (first report after connecting, or after a printer error):
    /// the start estimates must agree within [`START_TOLERANCE`] too. A report with no start
    /// and no elapsed time is judged by its file alone (printdesk cannot tell, and a duplicate
    /// job is the worse mistake).
    AcrossGap,
    /// printdesk knows the remembered print ended (the printer was idle, finished, failed or
    /// started preparing another print since): whatever prints now is another print, unless
    /// the printer's own job id says otherwise.
    AfterEnd,
}

impl PrintIdentity {
    /// The printer's own id for the print, if it gives one.
    pub fn printer_job_id(&self) -> Option<&str> {
        match self {
            Self::PrinterJobId(id) => Some(id),
            Self::FileAndStart => None,
        }
    }
}

impl PrinterReport {
    /// When this report says its print started: the reported start, else (while the print is
    /// underway) `now − elapsed`. `None` when the report says neither. A finished print's
    /// `elapsed` is its whole duration, which says nothing about when it started.
    pub fn start_estimate(&self, now: Timestamp) -> Option<Timestamp> {
        self.started_at.or_else(|| {
            self.state
                .is_active()
                .then_some(self.elapsed_s)
                .flatten()
                .map(|elapsed| now - Duration::seconds(i64::from(elapsed)))
        })
    }
}

impl TrackedPrint {
    /// The print a report shows, as first seen at `now`.
    pub fn of(report: &PrinterReport, now: Timestamp) -> Self {
        Self {
            printer_job_id: report.identity.printer_job_id().map(str::to_owned),
            file: report.file.clone(),
            started_at: report.start_estimate(now).unwrap_or(now),
        }
    }

    /// Whether `report` shows this print, judged as `matching` says.
    ///
    /// ```
    /// use printdesk_domain::monitoring::{Matching, PrinterReport, ReportedState, TrackedPrint};
    /// use time::{Duration, macros::datetime};
    ///
    /// let now = datetime!(2026-12-01 10:00 UTC);
    /// let print = TrackedPrint {
    ///     printer_job_id: None,
    ///     file: Some("Benchy.gcode.3mf".into()),
    ///     started_at: now - Duration::hours(1),
    /// };
    /// let report = |elapsed_s| PrinterReport {
    ///     state: ReportedState::Printing,
    ///     file: Some("Benchy.gcode.3mf".into()),
    ///     elapsed_s: Some(elapsed_s),
    ///     ..PrinterReport::idle()
    /// };
    /// assert!(print.matches(&report(3_600 - 90), now, Matching::AcrossGap)); // 90 s of drift
    /// assert!(!print.matches(&report(60), now, Matching::AcrossGap)); // a reprint
    /// ```
    pub fn matches(&self, report: &PrinterReport, now: Timestamp, matching: Matching) -> bool {
        if let (Some(known), Some(reported)) = (
            self.printer_job_id.as_deref(),
            report.identity.printer_job_id(),
        ) {
            return known == reported;
        }
        if matching == Matching::AfterEnd {
            return false;
        }
        if let (Some(known), Some(reported)) = (self.file.as_deref(), report.file.as_deref())
            && known != reported
        {
            return false;
        }
        let estimate = match matching {
            Matching::Continuous => report.started_at,
            _ => report.start_estimate(now),
        };
        estimate.is_none_or(|start| (start - self.started_at).abs() <= START_TOLERANCE)
    }
}
