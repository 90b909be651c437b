//! Why a printer report could not be recorded.

use crate::errors::StoreError;

/// Why [`super::MonitorStore::record`] (and so [`super::MonitorSession::report`]) wrote
/// nothing. Whatever the reason, the decision's job writes and memory were rolled back
/// together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitorError {
    /// What the decision read changed before it could be written: another writer recorded a
    /// job for the same printer job id, or a job the decision closes changed version. Deciding
    /// again on the fresh state resolves it; [`super::PrinterMonitor`] does so once.
    #[error("the printer's jobs changed while the report was being recorded")]
    Conflict,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
