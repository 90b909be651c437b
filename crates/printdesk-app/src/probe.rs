//! What the operations endpoints (`/readyz`, `/metrics`) read, from the store and the
//! WebSocket hub: [`printdesk_http::OpsProbe`], implemented in the composition root, where
//! both are known, so that the HTTP adapter depends on neither.

use async_trait::async_trait;
use printdesk_domain::{EventLog, JobStatus, StorageFault, StoreError};
use printdesk_http::OpsProbe;
use printdesk_store_diesel::Store;
use printdesk_ws::EventHub;

/// The store and the hub, as the operations endpoints see them.
#[derive(Debug, Clone)]
pub struct Probe {
    store: Store,
    hub: EventHub,
}

impl Probe {
    /// Reads `store` and `hub`.
    pub fn new(store: Store, hub: EventHub) -> Self {
        Self { store, hub }
    }
}

#[async_trait]
impl OpsProbe for Probe {
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    async fn jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError> {
        self.store.count_jobs_by_status().await
    }

    async fn event_log_lag(&self) -> Result<u64, StoreError> {
        // What the hub delivered first: the log's newest seq, read after, is never older, so
        // the lag is never negative.
        let delivered = self.hub.delivered();
        let latest = self.store.latest_seq().await?;
        Ok(u64::try_from(latest.get().saturating_sub(delivered.get())).unwrap_or_default())
    }

    fn websocket_clients(&self) -> u64 {
        u64::try_from(self.hub.clients()).unwrap_or(u64::MAX)
    }

    fn storage_fault(&self) -> Option<StorageFault> {
        self.store.storage_fault()
    }
}
