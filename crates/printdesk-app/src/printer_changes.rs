//! Printers created, edited or deleted through this instance's API, told to whoever follows
//! the printers here (the WebSocket's printer board, the monitor) at once instead of at their
//! next look.

use std::sync::Arc;

use async_trait::async_trait;
use printdesk_domain::{
    CreatePrinterError, DeletePrinterError, JobEvent, Printer, PrinterDetach, PrinterEdit,
    PrinterId, PrinterRepository, StoreError, Timestamp, UpdatePrinterError,
    monitoring::PrinterStatus,
};
use tokio::sync::Notify;

/// A [`PrinterRepository`] that signals `changed` after every write that changes a printer
/// (not after status writes: those reach the clients their own way).
#[derive(Debug)]
pub(crate) struct NotifyingPrinters {
    pub(crate) inner: Arc<dyn PrinterRepository>,
    pub(crate) changed: Arc<Notify>,
}

#[async_trait]
impl PrinterRepository for NotifyingPrinters {
    async fn insert(&self, printer: &Printer) -> Result<(), CreatePrinterError> {
        let result = self.inner.insert(printer).await;
        self.changed.notify_one();
        result
    }

    async fn get(&self, id: &PrinterId) -> Result<Option<Printer>, StoreError> {
        self.inner.get(id).await
    }

    async fn list(&self) -> Result<Vec<Printer>, StoreError> {
        self.inner.list().await
    }

    async fn exists(&self, id: &PrinterId) -> Result<bool, StoreError> {
        self.inner.exists(id).await
    }

    async fn update(
        &self,
        id: &PrinterId,
        edit: PrinterEdit,
    ) -> Result<Printer, UpdatePrinterError> {
        let result = self.inner.update(id, edit).await;
        self.changed.notify_one();
        result
    }

    async fn list_monitored(&self) -> Result<Vec<Printer>, StoreError> {
        self.inner.list_monitored().await
    }

    async fn save_status(
        &self,
        id: &PrinterId,
        status: &PrinterStatus,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.save_status(id, status, at).await
    }

    async fn delete(
        &self,
        id: &PrinterId,
        detach: PrinterDetach,
    ) -> Result<Vec<JobEvent>, DeletePrinterError> {
        let result = self.inner.delete(id, detach).await;
        self.changed.notify_one();
        result
    }
}
