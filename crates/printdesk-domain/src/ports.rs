//! The ports: what the domain needs from the outside world, named for the need, not for the
//! technology. Adapters implement them; [`crate::JobService`] uses them.
//!
//! Each method's documentation is its contract: what every implementation MUST do. The
//! store's contract suite (`printdesk-store-diesel/tests/repository.rs`) runs the same tests
//! against the in-memory adapters ([`crate::testing`]), SQLite and PostgreSQL; a behaviour
//! not stated here is not promised.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::{
    clock::Timestamp,
    customers::{CustomerCount, CustomerQuery},
    errors::{
        BulkFailure, CreateJobError, CreatePrinterError, DeleteJobError, DeletePrinterError,
        EditJobError, StoreError, UpdatePrinterError,
    },
    event::{JobEvent, JobHistory, NewJobEvent, Seq},
    job::{Job, JobId},
    monitoring::PrinterStatus,
    printer::{Printer, PrinterId},
    query::{JobPage, JobQuery},
    summary::{SummaryGroup, SummaryKey},
};

/// The decision an edit makes, given the job as currently stored: the event to write (which
/// carries the new state), `None` when the edit changes nothing, or why it is refused.
///
/// The repository calls it inside the transaction that holds the job's write lock, so the
/// decision and the write see the same stored state. It may call it more than once: a
/// transaction the database aborted (a deadlock, a serialization failure) is run again, and
/// decided again against the state stored then.
pub type JobEdit = Box<dyn Fn(&Job) -> Result<Option<NewJobEvent>, EditJobError> + Send + Sync>;

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
    /// These jobs are missing or refused their edit, in the order of the edits.
    Rejected(Vec<BulkFailure>),
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for BulkUpdateError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The decision a deletion makes, given the job as currently stored: the `job_deleted` event
/// to log (built from the job's last state), or why the deletion is refused (a version the
/// client did not expect).
///
/// Like [`JobEdit`], the repository calls it inside the transaction that holds the job's
/// write lock, possibly more than once.
pub type JobDeletion = Box<dyn Fn(&Job) -> Result<NewJobEvent, DeleteJobError> + Send + Sync>;

/// Builds the event for a job that loses its printer because the printer is deleted.
pub type PrinterDetach = Box<dyn Fn(&Job) -> NewJobEvent + Send + Sync>;

/// The event log: every committed change to a job, numbered by [`Seq`].
///
/// Read by the live fan-out (which follows the log) and by [`crate::JobService::history`];
/// written only by [`JobRepository`]'s writes.
#[async_trait]
pub trait EventLog: Send + Sync + Debug {
    /// Events with a `seq` greater than `after`, oldest first, at most `limit`.
    ///
    /// - MUST return events in increasing `seq` order, the first committed write being
    ///   `seq` 1 and each later one the next number: no gap, no duplicate (a refused or
    ///   rolled-back write takes no number).
    /// - MUST return each event exactly as it was committed: `kind`, `at`, `actor`, `job`
    ///   and `changes`, for a deleted job too.
    async fn events_after(&self, after: Seq, limit: u32) -> Result<Vec<JobEvent>, StoreError>;

    /// The newest committed `seq`.
    ///
    /// MUST be [`Seq::ZERO`] for an empty log, and the `seq` of the newest event
    /// [`EventLog::events_after`] returns otherwise.
    async fn latest_seq(&self) -> Result<Seq, StoreError>;

    /// One page of a job's events, newest first: `limit` events after skipping `offset`.
    ///
    /// - MUST hold only the events of job `id`, newest (highest `seq`) first, and MUST keep
    ///   them after the job is deleted (the `job_deleted` event first).
    /// - `total_count` MUST be the number of the job's events, whatever the page; 0 means no
    ///   job with that id ever existed.
    async fn history(&self, id: JobId, limit: u32, offset: u64) -> Result<JobHistory, StoreError>;
}

/// Where jobs are kept, with their event log.
///
/// Every write MUST store the job and its event in one transaction and assign the event the
/// next [`Seq`] in commit order. A write that is refused or fails MUST leave no trace: no
/// job change, no event, no `seq` used.
#[async_trait]
pub trait JobRepository: EventLog {
    /// Stores a new job (the event's `job`) and its `job_created` event.
    ///
    /// MUST refuse a `printer_id` that names no printer, even one deleted after the domain
    /// checked it, as [`CreateJobError::Invalid`] naming `printer_id`.
    async fn insert(&self, event: NewJobEvent) -> Result<JobEvent, CreateJobError>;

    /// The job with that id, if any.
    ///
    /// MUST return the job exactly as last written (every field, timestamps to the
    /// millisecond), and `None` for an id no job has (never had, or deleted).
    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError>;

    /// One page of jobs.
    ///
    /// - MUST hold the jobs matching every filter of the query: `status`, `printer_id` and
    ///   `is_business` exactly; `text` when it occurs in `job_name`, `customer_name`, `notes`
    ///   or `file_name`, with ASCII letters matched case-insensitively and every other
    ///   character, `%` and `_` included, literally. Case folding beyond ASCII and accent
    ///   folding are not promised yet: stores differ there today (issue 13 makes them agree).
    ///   `customer` when it equals the whole `customer_name` after both are lower-cased by
    ///   [`crate::customer_key`] (Unicode lower case, every store alike; no pattern, no
    ///   prefix). `created` and `completed` when `created_at` / `completed_at` lie in the
    ///   span, each end included or excluded as it says; a bounded `completed` span MUST
    ///   leave out jobs without `completed_at`.
    /// - MUST order by the sort key in the sort direction, ties broken by job id in the same
    ///   direction; jobs without a value for the key (null `customer_name`, `printer_id`,
    ///   `file_name`) MUST come last in both directions.
    /// - MUST skip `offset` jobs of that order and hold at most `limit`; `total_count` MUST be
    ///   the number of matching jobs, whatever the page.
    async fn list(&self, query: &JobQuery) -> Result<JobPage, StoreError>;

    /// Atomically: locks the job, reads it, lets `edit` decide, and writes the decision.
    ///
    /// - MUST return [`EditJobError::NotFound`] for a missing job without calling `edit`.
    /// - MUST return `edit`'s refusal as is, and [`UpdateOutcome::Unchanged`] with the stored
    ///   job when `edit` decides nothing changes; neither writes anything.
    /// - MUST otherwise store the event's job and log the event, and return it with its `seq`.
    /// - MUST refuse a `printer_id` that names no printer as [`EditJobError::Invalid`].
    /// - Concurrent updates of one job MUST be serialised: each `edit` sees the state the
    ///   previous one left.
    async fn update(&self, id: JobId, edit: JobEdit) -> Result<UpdateOutcome, EditJobError>;

    /// Atomically applies one [`JobEdit`] per job, all or nothing.
    ///
    /// - If any job is missing (reported as [`EditJobError::NotFound`], its edit not called)
    ///   or any edit refuses, MUST write nothing and return every failure, in the order of
    ///   `edits`.
    /// - Otherwise MUST return one outcome per edit, in the order of `edits`, each as
    ///   [`JobRepository::update`] would.
    async fn update_many(
        &self,
        edits: Vec<(JobId, JobEdit)>,
    ) -> Result<Vec<UpdateOutcome>, BulkUpdateError>;

    /// Up to `limit` jobs matching the query's filters that come after `after` in the query's
    /// order (its sort; its paging is ignored), in that order; from the first when `after`
    /// is `None`.
    ///
    /// MUST apply the filters and the order exactly as [`JobRepository::list`] does (ties by
    /// id, jobs without a value for the key last in both directions), and MUST place `after`
    /// by its values as given (it need not be stored any more), so that reading page after
    /// page from the last job read yields every matching job once, in the list's order. A job
    /// whose sort value changes while the pages are read may be missed or read twice. Reading
    /// a large export page by page this way costs about the same for every page.
    async fn scan(
        &self,
        query: &JobQuery,
        after: Option<&Job>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// The figures of the jobs matching the query's filters (its sort and paging are
    /// ignored), one [`SummaryGroup`] per value of `key` that has jobs, in no particular
    /// order.
    ///
    /// MUST apply the filters exactly as [`JobRepository::list`] does, MUST put each job in
    /// the group [`crate::group_of`] names, and MUST count and sum as
    /// [`crate::SummaryFigures::of`] does for one job, so that the figures of all groups add
    /// up to those of the matching jobs one by one.
    async fn summarize(
        &self,
        query: &JobQuery,
        key: &SummaryKey,
    ) -> Result<Vec<SummaryGroup>, StoreError>;

    /// The customer names of the stored jobs that match `query`, each with its number of
    /// jobs, for an autocomplete.
    ///
    /// - MUST return each distinct `customer_name` (exactly as stored: names that differ only
    ///   in case or accents are separate entries) whose [`crate::customer_fold`] begins with
    ///   [`CustomerQuery::prefix`], once, with the number of jobs that have exactly that name;
    ///   jobs without a customer MUST NOT count.
    /// - MUST order them as [`crate::customer_order`] does (most jobs first, then the list's
    ///   text order, then the stored text) and return at most [`CustomerQuery::limit`],
    ///   the first ones of that order.
    /// - Should find the names through an index of the folded names: an autocomplete asks at
    ///   every keystroke.
    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerCount>, StoreError>;

    /// Atomically: locks the job, reads it, lets `deletion` decide, and if it agrees deletes
    /// the job and logs its event.
    ///
    /// - MUST return [`DeleteJobError::NotFound`] for a missing job without calling
    ///   `deletion`.
    /// - MUST return `deletion`'s refusal as is, deleting and logging nothing.
    /// - MUST otherwise delete the job, log the event, and return it with its `seq`; the
    ///   job's earlier events stay.
    async fn delete(&self, id: JobId, deletion: JobDeletion) -> Result<JobEvent, DeleteJobError>;
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
    ///
    /// MUST refuse an id that a printer has already as [`CreatePrinterError::Duplicate`].
    async fn insert(&self, printer: &Printer) -> Result<(), CreatePrinterError>;

    /// The printer with that id, if any.
    async fn get(&self, id: &PrinterId) -> Result<Option<Printer>, StoreError>;

    /// Every printer, by name.
    ///
    /// MUST order by name, ties broken by id.
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
    ///
    /// MUST return [`DeletePrinterError::NotFound`] for a missing printer, and MUST log one
    /// event per detached job (in job id order) and none for other jobs.
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
