//! One error enum per operation, so a caller matches exactly the failures that operation has.

use crate::{
    job::{Job, JobId},
    printer::PrinterId,
    secret::SealError,
    validation::ValidationErrors,
    workflow::TransitionError,
};

/// The store could not do its part. Adapters put everything a person debugging needs into
/// the message; the HTTP adapter logs it and never shows it to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is shutting down; retrying later may work.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database answers but cannot store anything: its disk is full, or it is read-only.
    /// Reads still work; writes may again once an operator has made room.
    #[error("the database cannot store anything ({0}): {1}")]
    Storage(StorageFault, String),
    /// Anything else.
    #[error("the store failed: {0}")]
    Internal(String),
}

/// Why the database cannot store anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StorageFault {
    /// No space is left where the database writes.
    #[error("the disk is full")]
    DiskFull,
    /// The database file or its file system is read-only.
    #[error("the database is read-only")]
    ReadOnly,
}

/// Why a job could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateJobError {
    /// One or more rules are broken (including a `printer_id` that names no printer).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a job could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetJobError {
    /// No job has that id.
    #[error("no job has that id")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the job list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListJobsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a job's history could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobHistoryError {
    /// No job with that id ever existed (a deleted job's history stays readable).
    #[error("no job with that id ever existed")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the export could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportJobsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a job edit was refused. Whatever the reason, nothing was saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditJobError {
    /// No job has that id.
    #[error("no job has that id")]
    NotFound,
    /// The client's version is not the current one; `current` is the job as stored now.
    #[error("the job was changed by someone else (now at version {})", current.version)]
    VersionMismatch {
        /// The job as it is stored now.
        current: Box<Job>,
    },
    /// One or more rules are broken by the job as it would be after the edit.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The status workflow refused the move ([`crate::JobService::change_status`] only; the
    /// plain edit may set any status).
    #[error("{0}")]
    Transition(TransitionError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One job a bulk edit could not change, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkFailure {
    /// The job.
    pub id: JobId,
    /// Why (not found, stale version, or broken rules).
    pub error: EditJobError,
}

/// Why a bulk edit was refused. Whatever the reason, no job was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BulkEditError {
    /// The request itself is unusable (no ids, too many, duplicates, a bad version map).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// One or more jobs cannot take the change; each is listed with its reasons.
    #[error("{} of the jobs cannot take the change", failures.len())]
    Rejected {
        /// Every job that failed.
        failures: Vec<BulkFailure>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a job could not be deleted. Whatever the reason, nothing was deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteJobError {
    /// No job has that id.
    #[error("no job has that id")]
    NotFound,
    /// The client's version is not the current one.
    #[error("the job was changed by someone else (now at version {})", current.version)]
    VersionMismatch {
        /// The job as it is stored now.
        current: Box<Job>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a printer could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreatePrinterError {
    /// One or more rules are broken.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A printer with that id exists already.
    #[error("a printer with id {id} exists already")]
    Duplicate {
        /// The id asked for.
        id: PrinterId,
    },
    /// A connection secret could not be sealed.
    #[error(transparent)]
    Secrets(SealError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a printer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetPrinterError {
    /// No printer has that id.
    #[error("no printer has that id")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the printer list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListPrintersError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a printer edit was refused. Whatever the reason, nothing was saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdatePrinterError {
    /// No printer has that id.
    #[error("no printer has that id")]
    NotFound,
    /// One or more rules are broken by the printer as it would be after the edit.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A connection secret could not be sealed.
    #[error(transparent)]
    Secrets(SealError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a printer could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeletePrinterError {
    /// No printer has that id.
    #[error("no printer has that id")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
