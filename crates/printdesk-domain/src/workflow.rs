//! The status workflow: which moves a job may make, and what each move does to its timestamps.
//!
//! The plain edit may set any status (it corrects records); the workflow is how a job moves
//! through its life, and it keeps `started_at` and `completed_at` true.

use std::fmt;

use crate::{clock::Timestamp, job::Job, status::JobStatus};

/// One allowed move of the status workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The status the job is in.
    pub from: JobStatus,
    /// The status it moves to.
    pub to: JobStatus,
    /// Whether the client must confirm the move with `force` (it undoes a finished job).
    pub requires_force: bool,
}

const fn mv(from: JobStatus, to: JobStatus, requires_force: bool) -> Transition {
    Transition {
        from,
        to,
        requires_force,
    }
}

/// Every allowed move. A move to the status the job already has is a no-op and always allowed;
/// anything not listed is refused.
pub const TRANSITIONS: [Transition; 6] = {
    use JobStatus::*;
    [
        mv(Pending, Running, false),
        mv(Pending, Failed, false),
        mv(Running, Completed, false),
        mv(Running, Failed, false),
        mv(Failed, Pending, false),
        mv(Completed, Pending, true),
    ]
};

impl JobStatus {
    /// The statuses a job in this status may move to, in the workflow's order.
    ///
    /// ```
    /// use printdesk_domain::JobStatus::*;
    /// assert_eq!(Pending.allowed_moves(), vec![Running, Failed]);
    /// assert_eq!(Completed.allowed_moves(), vec![Pending]); // with force only
    /// ```
    pub fn allowed_moves(self) -> Vec<JobStatus> {
        TRANSITIONS
            .iter()
            .filter(|t| t.from == self)
            .map(|t| t.to)
            .collect()
    }
}

/// Why the workflow refused a move. Nothing was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The table has no such move.
    NotAllowed {
        /// The job's status.
        from: JobStatus,
        /// The status asked for.
        to: JobStatus,
    },
    /// The move exists but undoes a finished job, and `force` was not given.
    ForceRequired {
        /// The job's status.
        from: JobStatus,
        /// The status asked for.
        to: JobStatus,
    },
}

impl TransitionError {
    /// The job's current status.
    pub fn from_status(&self) -> JobStatus {
        match self {
            Self::NotAllowed { from, .. } | Self::ForceRequired { from, .. } => *from,
        }
    }
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAllowed { from, to } => {
                let allowed: Vec<_> = from.allowed_moves().iter().map(|s| s.as_str()).collect();
                let allowed = if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(", ")
                };
                write!(
                    f,
                    "a {from} job cannot move to {to}; allowed moves: {allowed}"
                )
            }
            Self::ForceRequired { from, to } => {
                write!(
                    f,
                    "moving a {from} job back to {to} undoes it; send \"force\": true to confirm"
                )
            }
        }
    }
}

impl std::error::Error for TransitionError {}

impl Job {
    /// The job after moving to `to`, with its timestamps kept true: entering `running` sets
    /// `started_at` (if unset); entering `completed` or `failed` sets `completed_at`; going back
    /// to `pending` (a retry) clears `completed_at`. `Ok(None)` when the job is already in `to`.
    ///
    /// The version and `updated_at` are not touched here; [`Job::with_changes_from`] does that.
    pub fn moved_to(
        &self,
        to: JobStatus,
        force: bool,
        now: Timestamp,
    ) -> Result<Option<Job>, TransitionError> {
        if self.status == to {
            return Ok(None);
        }
        let from = self.status;
        let transition = TRANSITIONS
            .iter()
            .find(|t| t.from == from && t.to == to)
            .ok_or(TransitionError::NotAllowed { from, to })?;
        if transition.requires_force && !force {
            return Err(TransitionError::ForceRequired { from, to });
        }
        let mut next = self.clone();
        next.status = to;
        next.enter_print_times(to, now);
        Ok(Some(next))
    }

    /// This job (the job edit's result, whose status may have been corrected from `from`)
    /// with its print times kept true: where `from → status` is one of the workflow's moves
    /// ([`TRANSITIONS`], force or not: the edit is a correction and asks for no confirmation),
    /// `started_at` and `completed_at` change as [`Job::moved_to`] would change them; any other
    /// status change, or none, leaves them as they are.
    ///
    /// ```
    /// # use printdesk_domain::{Job, JobStatus};
    /// # fn check(job: Job, now: printdesk_domain::Timestamp) {
    /// // A pending job set to running by the edit starts now.
    /// let edited = Job { status: JobStatus::Running, ..job.clone() };
    /// assert_eq!(edited.with_print_times_from(JobStatus::Pending, now).started_at, Some(now));
    /// # }
    /// ```
    pub fn with_print_times_from(mut self, from: JobStatus, now: Timestamp) -> Job {
        let to = self.status;
        if TRANSITIONS.iter().any(|t| t.from == from && t.to == to) {
            self.enter_print_times(to, now);
        }
        self
    }

    /// What entering `to` does to the print times: `running` sets `started_at` (if unset),
    /// `completed` and `failed` set `completed_at`, `pending` (a retry) clears `completed_at`.
    fn enter_print_times(&mut self, to: JobStatus, now: Timestamp) {
        match to {
            JobStatus::Running => self.started_at = self.started_at.or(Some(now)),
            JobStatus::Completed | JobStatus::Failed => self.completed_at = Some(now),
            JobStatus::Pending => self.completed_at = None,
        }
    }
}
