use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    changes::JobChanges,
    clock::Timestamp,
    job::{Job, JobId},
};

/// An event's position in the global event log. Increases by one per committed event, in
/// commit order, with no gaps: a client that has seen `N` asks for everything after `N`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Seq(i64);

impl Seq {
    /// Before the first event.
    pub const ZERO: Seq = Seq(0);

    /// Wraps a stored sequence number.
    pub const fn new(n: i64) -> Self {
        Self(n)
    }

    /// The number.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What happened to the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The job was recorded.
    JobCreated,
    /// One or more fields changed.
    JobUpdated,
    /// The job was deleted; the event carries its last state.
    JobDeleted,
}

impl EventKind {
    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::JobCreated => "job_created",
            Self::JobUpdated => "job_updated",
            Self::JobDeleted => "job_deleted",
        }
    }

    /// The kind for a stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::JobCreated, Self::JobUpdated, Self::JobDeleted]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// An event about to be written, in the same transaction as the change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJobEvent {
    /// What happened.
    pub kind: EventKind,
    /// The job after the change (its last state for a deletion).
    pub job: Job,
    /// What changed, field by field.
    pub changes: JobChanges,
    /// Who made the change; `None` while authentication is off.
    pub actor: Option<String>,
    /// When.
    pub at: Timestamp,
}

impl NewJobEvent {
    /// The event once the log has given it its place.
    pub fn committed(self, seq: Seq) -> JobEvent {
        JobEvent {
            seq,
            kind: self.kind,
            at: self.at,
            job_id: self.job.id,
            actor: self.actor,
            job: self.job,
            changes: self.changes,
        }
    }
}

/// A committed change to a job, as delivered to live clients and kept as audit history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobEvent {
    /// Position in the global event log: increases by one per committed event, in commit
    /// order, with no gaps.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub seq: Seq,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When it was committed.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The job it is about.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid"))]
    pub job_id: JobId,
    /// Who made the change: the name of the API token used; null when the server has no tokens.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub actor: Option<String>,
    /// The job after the change (its last state for a deletion).
    pub job: Job,
    /// Old and new value of each changed field.
    pub changes: JobChanges,
}

/// One page of a job's audit trail, newest event first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobHistory {
    /// The events on this page, newest first.
    pub events: Vec<JobEvent>,
    /// How many events the job has in all.
    pub total_count: u64,
}
