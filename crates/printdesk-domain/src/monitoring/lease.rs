//! Which printdesk instance follows which printer, when several share one database.

use std::{fmt::Debug, time::Duration};

use async_trait::async_trait;

use crate::{clock::Timestamp, errors::StoreError, printer::PrinterId};

/// How long a lease lasts unless renewed. An instance renews its leases every
/// [`LEASE_RENEWAL`]; when it dies, another instance takes its printers once the lease ran
/// out, so within `LEASE_TERM + LEASE_RENEWAL` (25 s; the contract asks for 30 s).
pub const LEASE_TERM: Duration = Duration::from_secs(20);

/// How often an instance renews its leases and looks for printers to take.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(5);

/// Leases on printers: exactly one instance follows a printer at a time.
///
/// A lease names its holder (an instance's id, unique per process) and when it expires.
/// Expiry is judged by the `now` the caller passes, so instances must agree on the time
/// within a few seconds (a fraction of [`LEASE_TERM`]).
#[async_trait]
pub trait MonitorLeases: Send + Sync + Debug {
    /// For `holder`, atomically: claims the lease of every printer in `printers` that no one
    /// holds or whose lease expired before `now`, renews the ones `holder` already holds (all
    /// until `until`), and gives up `holder`'s leases of printers not in `printers`.
    /// Returns the printers `holder` holds afterwards, in the order of `printers`.
    ///
    /// Two holders claiming the same free printer at once MUST NOT both get it. A lease held
    /// by another holder and not expired MUST NOT be taken.
    async fn claim(
        &self,
        holder: &str,
        printers: &[PrinterId],
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<PrinterId>, StoreError>;

    /// Gives up every lease `holder` holds (a graceful stop), so that another instance takes
    /// its printers at its next claim instead of after the term.
    async fn release_all(&self, holder: &str) -> Result<(), StoreError>;
}
