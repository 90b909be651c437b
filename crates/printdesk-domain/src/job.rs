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

/// A job id is written one way only: a UUID in its canonical form, 36 characters, lower-case
/// and hyphenated (`0192f4e4-5b1c-7c3e-9a6f-3d2c1b0a9f8e`), as the API returns it. Other
/// spellings `Uuid` would read (upper case, braces, `urn:uuid:`, no hyphens) are not ids: one
/// job has one name, in URLs, caches and logs alike.
impl FromStr for JobId {
    type Err = InvalidJobId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let canonical = s.len() == 36
            && s.bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'-'));
        match Uuid::try_parse(s) {
            Ok(id) if canonical => Ok(Self(id)),
            _ => Err(InvalidJobId),
        }
    }
}

/// Text that is not a job id in its canonical form (see [`JobId`]'s `FromStr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a job id (a UUID, lower-case and hyphenated)")]
pub struct InvalidJobId;

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
/// Every member is always present (null where there is no value). This shape is the job's
/// representation everywhere: API responses, event snapshots, the audit trail.
// With the `openapi` feature this is also the OpenAPI document's `Job` schema; the `schema`
// attributes say what the newtypes and timestamps look like on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    /// Server-chosen at creation (a UUID v7, so ids sort by creation time); immutable.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid"))]
    pub id: JobId,
    /// The name shown in lists: trimmed, 1–200 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, min_length = 1, max_length = 200)
    )]
    pub job_name: JobName,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// Whether the job is billed to a business customer.
    pub is_business: bool,
    /// The customer: trimmed, 1–200 characters; never null for a business job.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, required = true, min_length = 1, max_length = 200)
    )]
    pub customer_name: Option<CustomerName>,
    /// Free-text notes, at most 1000 characters, kept exactly as written.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, required = true, max_length = 1000)
    )]
    pub notes: Option<Notes>,
    /// The printed file's name, at most 255 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, required = true, max_length = 255)
    )]
    pub file_name: Option<FileName>,
    /// The printer's id; null for a manual job.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, required = true, pattern = "^[a-z0-9_-]{1,64}$")
    )]
    pub printer_id: Option<PrinterId>,
    /// 1 at creation, +1 on every change that alters a field; the job's `ETag`.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub version: Version,
    /// When the job was recorded; immutable.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When any field last changed.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// When printing started; set by the status workflow, not by the edit.
    #[serde(with = "crate::timestamp::option")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, format = DateTime, required = true)
    )]
    pub started_at: Option<Timestamp>,
    /// When printing ended; set by the status workflow, not by the edit.
    #[serde(with = "crate::timestamp::option")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, format = DateTime, required = true)
    )]
    pub completed_at: Option<Timestamp>,
    /// Whether printer monitoring created the job rather than a person; immutable.
    pub auto_created: bool,
    /// When monitoring discovered the job, for auto-created jobs; immutable.
    #[serde(with = "crate::timestamp::option")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, format = DateTime, required = true)
    )]
    pub discovery_time: Option<Timestamp>,
}
