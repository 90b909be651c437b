use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    clock::Timestamp,
    fields::{CustomerName, FileName, JobName, Notes},
    printer::PrinterId,
    status::JobStatus,
};

/// A job's id, a UUID chosen by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(Uuid);

impl JobId {
    /// A new id. Version 7 UUIDs sort by creation time, which keeps index inserts local.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for JobId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl FromStr for JobId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// How many times a job has changed: 1 at creation, +1 on every change that alters a field.
/// It is the job's `ETag`, and the basis of optimistic concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(i64);

impl Version {
    /// The version of a job just created.
    pub const FIRST: Version = Version(1);

    /// Wraps a stored version number.
    pub const fn new(n: i64) -> Self {
        Self(n)
    }

    /// The number.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The version after one more change.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A print job: one print on one printer (or a manual one), with who it was for.
///
/// Serialises to the contract's JSON shape; that shape is the job's representation everywhere
/// (API responses, event snapshots, the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Server-chosen, immutable.
    pub id: JobId,
    /// The name shown in lists.
    pub job_name: JobName,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// Whether the job is billed to a business customer.
    pub is_business: bool,
    /// The customer; always `Some` for a business job.
    pub customer_name: Option<CustomerName>,
    /// Free-text notes.
    pub notes: Option<Notes>,
    /// The printed file's name.
    pub file_name: Option<FileName>,
    /// The printer; `None` for a manual job.
    pub printer_id: Option<PrinterId>,
    /// Change counter (see [`Version`]).
    pub version: Version,
    /// When the job was recorded.
    #[serde(with = "crate::timestamp")]
    pub created_at: Timestamp,
    /// When any field last changed.
    #[serde(with = "crate::timestamp")]
    pub updated_at: Timestamp,
    /// When printing started; set by the status workflow, not by the edit.
    #[serde(with = "crate::timestamp::option")]
    pub started_at: Option<Timestamp>,
    /// When printing ended; set by the status workflow, not by the edit.
    #[serde(with = "crate::timestamp::option")]
    pub completed_at: Option<Timestamp>,
    /// Whether printer monitoring created the job rather than a person.
    pub auto_created: bool,
    /// When monitoring discovered the job, for auto-created jobs.
    #[serde(with = "crate::timestamp::option")]
    pub discovery_time: Option<Timestamp>,
}
