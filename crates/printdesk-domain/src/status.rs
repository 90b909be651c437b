use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Where a print job is in its life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Queued, not started. The default for a new job.
    #[default]
    Pending,
    /// On the printer now.
    Running,
    /// Finished successfully.
    Completed,
    /// Finished unsuccessfully or aborted.
    Failed,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 4] = [Self::Pending, Self::Running, Self::Completed, Self::Failed];

    /// The wire and storage name (`"pending"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the four statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status must be one of pending, running, completed, failed")]
pub struct UnknownStatus;

impl FromStr for JobStatus {
    type Err = UnknownStatus;

    /// ```
    /// use printdesk_domain::JobStatus;
    /// assert_eq!("running".parse(), Ok(JobStatus::Running));
    /// assert!("done".parse::<JobStatus>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(UnknownStatus)
    }
}
