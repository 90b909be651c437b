//! The ports: what the domain needs from the outside world, named for the need, not for the
//! technology. Adapters implement them; [`crate::JobService`] uses them.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::{
    clock::Timestamp,
    errors::{
        BulkFailure, CreateJobError, CreatePrinterError, DeleteJobError, DeletePrinterError,
        EditJobError, StoreError, UpdatePrinterError,
    },
    event::{JobEvent, NewJobEvent, Seq},
    job::{Job, JobId, Version},
    monitoring::PrinterStatus,
    printer::{Printer, PrinterId},
    query::{JobPage, JobQuery},
};

/// The decision an edit makes, given the job as currently stored: the event to write (which
/// carries the new state), `None` when the edit changes nothing, or why it is refused.
///
/// The repository calls it inside the transaction that holds the job's write lock, so the
/// decision and the write see the same stored state.
pub type JobEdit = Box<dyn FnOnce(&Job) -> Result<Option<NewJobEvent>, EditJobError> + Send>;

/// What [`JobRepository::update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The change was committed as this event.
    Changed(JobEvent),
    /// The edit changed nothing; this is the job as stored, version unchanged.
    Unchanged(Job),
}

/// Why [`JobRepository::update_many`] wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkUpdateError {
    /// These jobs are missing or refused their edit.
    Rejected(Vec<BulkFailure>),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for BulkUpdateError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Builds the `job_deleted` event from the job's last state.
pub type JobDeletion = Box<dyn FnOnce(&Job) -> NewJobEvent + Send>;

/// Builds the event for a job that loses its printer because the printer is deleted.
pub type PrinterDetach = Box<dyn Fn(&Job) -> NewJobEvent + Send + Sync>;

/// Where jobs and their event log are kept.
///
/// Every write stores the job and its event in one transaction, and assigns the event the next
/// [`Seq`] in commit order.
#[async_trait]
pub trait JobRepository: Send + Sync + Debug {
    /// Stores a new job (the event's `job`) and its `job_created` event.
    ///
    /// A `printer_id` that names no printer is [`CreateJobError::Invalid`].
    async fn insert(&self, event: NewJobEvent) -> Result<JobEvent, CreateJobError>;

    /// The job with that id, if any.
    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError>;

    /// One page of jobs.
    async fn list(&self, query: &JobQuery) -> Result<JobPage, StoreError>;

    /// Atomically: locks the job, reads it, lets `edit` decide, and writes the decision.
    ///
    /// Returns the committed event, or the job as stored when `edit` decided nothing changes.
    async fn update(&self, id: JobId, edit: JobEdit) -> Result<UpdateOutcome, EditJobError>;

    /// Atomically applies one [`JobEdit`] per job, all or nothing: if any job is missing or
    /// any edit refuses, nothing is written and every failure is returned. Outcomes are in the
    /// order of `edits`.
    async fn update_many(
        &self,
        edits: Vec<(JobId, JobEdit)>,
    ) -> Result<Vec<UpdateOutcome>, BulkUpdateError>;

    /// Up to `limit` jobs matching the query's filters (its sort and paging are ignored) with
    /// an id greater than `after`, by id — creation order. Reading a large export page by
    /// page this way costs the same for every page.
    async fn scan(
        &self,
        query: &JobQuery,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// Atomically deletes the job if its version is `expected` (or whatever it is, when
    /// `None`) and logs `deletion` built from its last state.
    async fn delete(
        &self,
        id: JobId,
        expected: Option<Version>,
        deletion: JobDeletion,
    ) -> Result<JobEvent, DeleteJobError>;

    /// Events with a `seq` greater than `after`, oldest first, at most `limit`.
    async fn events_after(&self, after: Seq, limit: u32) -> Result<Vec<JobEvent>, StoreError>;

    /// The newest committed `seq` ([`Seq::ZERO`] when the log is empty).
    async fn latest_seq(&self) -> Result<Seq, StoreError>;

    /// One job's events, newest first; kept after the job is deleted.
    async fn history(
        &self,
        id: JobId,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<JobEvent>, u64), StoreError>;
}

/// The decision a printer edit makes, given the printer as currently stored: the printer as
/// it is to be stored, `None` when nothing changes, or why it is refused. Called inside the
/// transaction that holds the printer's write lock.
pub type PrinterEdit =
    Box<dyn FnOnce(&Printer) -> Result<Option<Printer>, UpdatePrinterError> + Send>;

/// Where printers are kept.
#[async_trait]
pub trait PrinterRepository: Send + Sync + Debug {
    /// Stores a new printer.
    async fn insert(&self, printer: &Printer) -> Result<(), CreatePrinterError>;

    /// The printer with that id, if any.
    async fn get(&self, id: &PrinterId) -> Result<Option<Printer>, StoreError>;

    /// Every printer, by name.
    async fn list(&self) -> Result<Vec<Printer>, StoreError>;

    /// Whether a printer has that id.
    async fn exists(&self, id: &PrinterId) -> Result<bool, StoreError>;

    /// Atomically: locks the printer, reads it, lets `edit` decide, and writes the decision
    /// (its settings, connection, sealed secrets and monitoring flag; never its status).
    /// Returns the printer as stored afterwards, with its status.
    async fn update(
        &self,
        id: &PrinterId,
        edit: PrinterEdit,
    ) -> Result<Printer, UpdatePrinterError>;

    /// The printers with monitoring on and a connection, by id, with their status.
    async fn list_monitored(&self) -> Result<Vec<Printer>, StoreError>;

    /// Stores a monitored printer's live status as of `at`, replacing the previous one.
    /// Returns `false` (and stores nothing) when no printer has that id.
    async fn save_status(
        &self,
        id: &PrinterId,
        status: &PrinterStatus,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Deletes the printer and, in the same transaction, detaches its jobs (their
    /// `printer_id` becomes null), logging `detach`'s event for each. Jobs are never deleted.
    async fn delete(
        &self,
        id: &PrinterId,
        detach: PrinterDetach,
    ) -> Result<Vec<JobEvent>, DeletePrinterError>;
}

/// Tells live listeners about committed changes. Called only after the commit, never for a
/// change that was rolled back.
#[async_trait]
pub trait EventPublisher: Send + Sync + Debug {
    /// Hands one committed event on. Must not fail the change: the event is already stored,
    /// and listeners catch up from the log.
    async fn publish(&self, event: &JobEvent);
}
