//! [`PrinterRepository`] on Diesel.

use async_trait::async_trait;
use diesel::prelude::*;
use printdesk_domain::{
    CreatePrinterError, DeletePrinterError, Job, JobEvent, Printer, PrinterDetach, PrinterId,
    PrinterRepository, StoreError,
};

use crate::{
    constraint::{Constraint, OnConstraint},
    event_log::{record_event, take_seq},
    job_repository::{lock_job, write_job},
    rows::{JobRow, PrinterRow},
    schema::{jobs, printers},
    store::{Store, TxError},
};

#[async_trait]
impl PrinterRepository for Store {
    async fn insert(&self, printer: &Printer) -> Result<(), CreatePrinterError> {
        let row = PrinterRow::from(printer);
        let id = printer.id.clone();
        self.write(move |conn| {
            diesel::insert_into(printers::table)
                .values(&row)
                .execute(conn)
                .on_constraint(Constraint::PrinterId, || CreatePrinterError::Duplicate {
                    id,
                })?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: &PrinterId) -> Result<Option<Printer>, StoreError> {
        let key = id.to_string();
        let row = self
            .read(move |conn| {
                printers::table
                    .find(key)
                    .select(PrinterRow::as_select())
                    .get_result(conn)
                    .optional()
            })
            .await?;
        row.map(Printer::try_from).transpose()
    }

    async fn list(&self) -> Result<Vec<Printer>, StoreError> {
        let rows = self
            .read(|conn| {
                printers::table
                    .order_by((printers::name.asc(), printers::id.asc()))
                    .select(PrinterRow::as_select())
                    .load(conn)
            })
            .await?;
        rows.into_iter().map(Printer::try_from).collect()
    }

    async fn exists(&self, id: &PrinterId) -> Result<bool, StoreError> {
        let key = id.to_string();
        self.read(move |conn| {
            diesel::select(diesel::dsl::exists(printers::table.find(key))).get_result(conn)
        })
        .await
    }

    async fn delete(
        &self,
        id: &PrinterId,
        detach: PrinterDetach,
    ) -> Result<Vec<JobEvent>, DeletePrinterError> {
        let key = id.to_string();
        let lift = |e: TxError<StoreError>| match e {
            TxError::Domain(e) => TxError::Domain(DeletePrinterError::from(e)),
            TxError::Diesel(e) => TxError::Diesel(e),
        };
        self.write(move |conn| {
            let deleted_printer = printers::table
                .find(&key)
                .select(printers::id)
                .get_result::<String>(conn)
                .optional()?;
            if deleted_printer.is_none() {
                return Err(TxError::Domain(DeletePrinterError::NotFound));
            }
            // Detach the jobs one by one, versioned and logged like any other change, before
            // the printer row goes (the foreign key's SET NULL would do it silently).
            let job_ids: Vec<String> = jobs::table
                .filter(jobs::printer_id.eq(&key))
                .order_by(jobs::id.asc())
                .select(jobs::id)
                .load(conn)?;
            // All locks first, in id order, as a bulk edit takes them: taking one while
            // holding the event counter could deadlock with a writer waiting for the counter.
            for job_id in &job_ids {
                lock_job(conn, job_id)?;
            }
            let mut events = Vec::with_capacity(job_ids.len());
            for job_id in job_ids {
                let row = jobs::table
                    .find(&job_id)
                    .select(JobRow::as_select())
                    .get_result(conn)?;
                let job =
                    Job::try_from(row).map_err(|e| TxError::Domain(DeletePrinterError::from(e)))?;
                let event = detach(&job);
                let seq = take_seq(conn)?;
                write_job(conn, &job, &event.job).map_err(lift)?;
                events.push(record_event(conn, seq, event).map_err(lift)?);
            }
            diesel::delete(printers::table.find(&key)).execute(conn)?;
            Ok(events)
        })
        .await
    }
}
