//! The ports monitoring needs: a store that runs the decision in its transaction, and a way to
//! send printers' live status to listeners.

use std::fmt::Debug;

use async_trait::async_trait;

use super::{
    decision::{MonitorDecision, MonitorOutcome, MonitorSnapshot},
    errors::MonitorError,
    status::PrinterStatus,
};
use crate::{event::JobEvent, printer::PrinterId};

/// The decision a report makes, given what the store holds for the printer (a call of
/// [`super::decide`] with the report bound in).
pub type MonitorDecide = Box<dyn FnOnce(&MonitorSnapshot) -> MonitorDecision + Send>;

/// What [`MonitorStore::record`] committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// What the decision did.
    pub outcome: MonitorOutcome,
    /// The events of the decision's job writes, committed, in the order of the writes.
    pub events: Vec<JobEvent>,
}

/// Where monitoring keeps what it knows about printers, beside the jobs it records.
///
/// # What the store keeps
/// - Per printer, its [`super::PrinterMemory`]: the last settled state
///   ([`super::ReportedState::as_str`] names it), the last print seen (a
///   [`super::TrackedPrint`]: printer job id, file, start) and the id of the job that records
///   it. Deleting the printer deletes its memory; deleting that job clears `job_id` (or the
///   store returns `job: None` for a job id it no longer has).
/// - With every job monitoring creates, the [`super::TrackedPrint`] it was created for
///   ([`super::JobWrite::Create`]'s `print`), immutable.
///
/// # What must be unique
/// - At most one job per (printer, printer job id), for the prints that carry a printer job
///   id: a second [`super::JobWrite::Create`] for the same pair MUST fail the whole record
///   with [`MonitorError::Conflict`] (the backstop against a second instance that monitors the
///   same printer without holding its lock). This is why a connector gives a
///   [`super::PrintIdentity::PrinterJobId`] only for ids the printer never reuses; an id that
///   restarts after a printer reboot must be made unique by the connector, or not given.
/// - At most one job that monitoring follows per printer: the memory names one job id.
#[async_trait]
pub trait MonitorStore: Send + Sync + Debug {
    /// Records one report of `printer`, atomically.
    ///
    /// The store MUST, in one transaction:
    /// 1. take a lock that serialises every `record` of this printer across all instances
    ///    (PostgreSQL: e.g. `SELECT … FOR UPDATE` on the printer's memory row, created on first
    ///    use; SQLite: the writer's transaction), so two reports of one printer are decided
    ///    one after the other, each on what the other wrote;
    /// 2. read the [`MonitorSnapshot`]: `monitored` (the printer exists and its monitoring
    ///    is on), the printer's memory (default when it has none), the job the memory's
    ///    `job_id` names (any status, as stored), and the printer's running jobs with
    ///    `auto_created` false;
    /// 3. call `decide` once with it;
    /// 4. apply the decision's `writes` in order: [`super::JobWrite::Create`] inserts the job
    ///    (running, or already `completed`/`failed` for a print from the printer's history,
    ///    [`super::decide_history`]) and its `job_created` event and keeps the print with the
    ///    job;
    ///    [`super::JobWrite::Update`] writes the job only if it is still at `expected` (else
    ///    [`MonitorError::Conflict`]) and logs its `job_updated` event. Events take the next
    ///    `seq` exactly as [`crate::JobRepository`]'s writes do;
    /// 5. write the decision's `memory` when it is `Some` (and not otherwise: most reports
    ///    change nothing and MUST cost no write);
    /// 6. commit, then return the outcome and the committed events in the order of the writes.
    ///
    /// Any failure rolls everything back: no job write, no event, no memory change. The store
    /// MUST NOT publish the events; the caller does, after the commit.
    async fn record(
        &self,
        printer: &PrinterId,
        decide: MonitorDecide,
    ) -> Result<Recorded, MonitorError>;
}

/// Sends printers' live status to whoever shows it (the WebSocket's `printer_status`
/// messages, the API's `status` member).
#[async_trait]
pub trait PrinterStatusPublisher: Send + Sync + Debug {
    /// Hands on `printer`'s new status. Called only when the status must be sent (at most once
    /// a second for progress-only changes, [`super::StatusThrottle`]), in the order the
    /// statuses arise for that printer.
    ///
    /// The adapter MUST deliver it to the listeners of every printdesk instance (only one
    /// instance monitors a printer; every instance's clients see its status), MUST keep the
    /// latest status of each printer for a client that connects later, and MUST NOT fail or
    /// block the monitor for long: a status is soon superseded by the next.
    async fn publish(&self, printer: &PrinterId, status: &PrinterStatus);
}
