use crate::{draft::JobDraft, job::Job, status::JobStatus};

/// One field of a partial edit that may be cleared: keep it, clear it, or set it.
///
/// JSON has three states for a key (absent, `null`, a value) and so does this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Nullable<T> {
    /// The key was absent: keep the stored value.
    #[default]
    Keep,
    /// The key was `null`: clear the stored value.
    Clear,
    /// The key had a value: store it.
    Set(T),
}

impl<T: Clone> Nullable<T> {
    /// The value after the patch, given the stored one.
    pub fn apply(&self, stored: Option<T>) -> Option<T> {
        match self {
            Self::Keep => stored,
            Self::Clear => None,
            Self::Set(v) => Some(v.clone()),
        }
    }

    /// Whether the key was absent.
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }
}

/// A partial edit of a job: every field is optional, an absent field keeps its stored value.
///
/// Values are raw client input; they are checked only after they are laid over the stored job,
/// because a rule such as "a business job needs a customer" is judged on the job as it will be.
///
/// ```
/// use printdesk_domain::{JobPatch, Nullable};
/// let patch = JobPatch { notes: Nullable::Set("re-sliced".into()), ..JobPatch::default() };
/// assert!(!patch.is_empty());
/// assert!(JobPatch::default().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobPatch {
    /// New name; cannot be cleared.
    pub job_name: Option<String>,
    /// New status; cannot be cleared.
    pub status: Option<JobStatus>,
    /// New business flag; cannot be cleared.
    pub is_business: Option<bool>,
    /// New customer; blank clears it too.
    pub customer_name: Nullable<String>,
    /// New notes.
    pub notes: Nullable<String>,
    /// New file name.
    pub file_name: Nullable<String>,
    /// New printer; clear for a manual job.
    pub printer_id: Nullable<String>,
}

impl JobPatch {
    /// Whether the patch names no field at all (`{}`).
    pub fn is_empty(&self) -> bool {
        self.job_name.is_none()
            && self.status.is_none()
            && self.is_business.is_none()
            && self.customer_name.is_keep()
            && self.notes.is_keep()
            && self.file_name.is_keep()
            && self.printer_id.is_keep()
    }

    /// The job as it will be once this patch is laid over `job`, not yet validated.
    pub fn apply_to(&self, job: &Job) -> JobDraft {
        let stored = JobDraft::from(job);
        JobDraft {
            job_name: self.job_name.clone().unwrap_or(stored.job_name),
            status: self.status.unwrap_or(stored.status),
            is_business: self.is_business.unwrap_or(stored.is_business),
            customer_name: self.customer_name.apply(stored.customer_name),
            notes: self.notes.apply(stored.notes),
            file_name: self.file_name.apply(stored.file_name),
            printer_id: self.printer_id.apply(stored.printer_id),
        }
    }
}
