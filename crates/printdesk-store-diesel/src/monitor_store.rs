//! [`MonitorStore`] and [`MonitorLeases`] on Diesel: a printer's report is decided and
//! written in one transaction with the printer's memory, beside the jobs it records.
//!
//! Locks, in the order every writer of this store takes them (so none can deadlock with
//! another): the printer's monitor lock (PostgreSQL: a transaction-scoped advisory lock, which
//! nothing else takes; SQLite: the writer's transaction), then the row lock of a job the
//! decision closes, then the event counter (`take_seq`), then the rows written.

use async_trait::async_trait;
use diesel::prelude::*;
use printdesk_domain::{
    Job, JobStatus, PrinterId, StoreError, Timestamp,
    monitoring::{
        JobWrite, MonitorDecide, MonitorError, MonitorLeases, MonitorSnapshot, MonitorStore,
        PrinterMemory, Recorded, ReportedState, TrackedPrint,
    },
};
use time::PrimitiveDateTime;

use crate::{
    connection::{AnyConnection, on_backend},
    constraint::{Constraint, OnConstraint},
    event_log::{record_event, take_seq},
    job_queries::read_job,
    job_repository::{insert_job, lock_job, write_job},
    rows::{JobRow, from_db_time, to_db_time},
    schema::{job_prints, jobs, monitor_leases, printer_memory, printers},
    store::{Store, TxError},
};

/// Serialises the reports of one printer across every instance (PostgreSQL). Advisory: no
/// other writer takes it, so it cannot join a lock cycle; the first key names the purpose.
fn lock_printer_monitor(
    conn: &mut AnyConnection,
    printer: &str,
) -> Result<(), diesel::result::Error> {
    if let AnyConnection::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(1886545252, hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(printer)
            .execute(c)?;
    }
    Ok(())
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = printer_memory)]
#[diesel(treat_none_as_null = true)]
struct MemoryRow {
    printer_id: String,
    last_state: Option<String>,
    print_job_id: Option<String>,
    print_file: Option<String>,
    print_started_at: Option<PrimitiveDateTime>,
    job_id: Option<String>,
}

impl MemoryRow {
    fn new(printer: &str, memory: &PrinterMemory) -> Self {
        let print = memory.last_print.as_ref();
        Self {
            printer_id: printer.to_owned(),
            last_state: memory.last_state.map(|s| s.as_str().to_owned()),
            print_job_id: print.and_then(|p| p.printer_job_id.clone()),
            print_file: print.and_then(|p| p.file.clone()),
            print_started_at: print.map(|p| to_db_time(p.started_at)),
            job_id: memory.job_id.map(|id| id.to_string()),
        }
    }

    fn into_memory(self) -> Result<PrinterMemory, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Internal(format!(
                "printer {}'s monitor memory holds {what} {value:?}",
                self.printer_id
            ))
        };
        let last_state = match &self.last_state {
            Some(name) => {
                Some(ReportedState::from_name(name).ok_or_else(|| corrupt("the state", name))?)
            }
            None => None,
        };
        let job_id = match &self.job_id {
            Some(id) => Some(id.parse().map_err(|_| corrupt("the job id", id))?),
            None => None,
        };
        let last_print = self.print_started_at.map(|started_at| TrackedPrint {
            printer_job_id: self.print_job_id.clone(),
            file: self.print_file.clone(),
            started_at: from_db_time(started_at),
        });
        Ok(PrinterMemory {
            last_state,
            last_print,
            job_id,
        })
    }
}

/// Reads what the decision needs, under the printer's monitor lock.
fn snapshot(
    conn: &mut AnyConnection,
    printer: &str,
) -> Result<MonitorSnapshot, TxError<MonitorError>> {
    let monitoring: Option<bool> = printers::table
        .find(printer)
        .select(printers::monitoring)
        .get_result(conn)
        .optional()?;
    let memory = printer_memory::table
        .find(printer)
        .select(MemoryRow::as_select())
        .get_result(conn)
        .optional()?
        .map(MemoryRow::into_memory)
        .transpose()
        .map_err(|e| TxError::Domain(e.into()))?
        .unwrap_or_default();
    let job = match memory.job_id {
        Some(id) => read_job(conn, &id.to_string()).map_err(lift)?,
        None => None,
    };
    let running_manual_jobs = if monitoring == Some(true) {
        jobs::table
            .filter(jobs::printer_id.eq(printer))
            .filter(jobs::status.eq(JobStatus::Running.as_str()))
            .filter(jobs::auto_created.eq(false))
            .order_by(jobs::id.asc())
            .select(JobRow::as_select())
            .load(conn)?
            .into_iter()
            .map(Job::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TxError::Domain(e.into()))?
    } else {
        Vec::new()
    };
    Ok(MonitorSnapshot {
        monitored: monitoring == Some(true),
        memory,
        job,
        running_manual_jobs,
    })
}

fn lift(e: TxError<StoreError>) -> TxError<MonitorError> {
    match e {
        TxError::Domain(e) => TxError::Domain(e.into()),
        TxError::Diesel(e) => TxError::Diesel(e),
    }
}

/// Applies one of the decision's job writes.
fn apply(
    conn: &mut AnyConnection,
    printer: &str,
    write: JobWrite,
) -> Result<printdesk_domain::JobEvent, TxError<MonitorError>> {
    match write {
        JobWrite::Create { event, print } => {
            let seq = take_seq(conn)?;
            insert_job(conn, &event.job)?;
            diesel::insert_into(job_prints::table)
                .values((
                    job_prints::job_id.eq(event.job.id.to_string()),
                    job_prints::printer_id.eq(printer),
                    job_prints::printer_job_id.eq(print.printer_job_id),
                    job_prints::file.eq(print.file),
                    job_prints::started_at.eq(to_db_time(print.started_at)),
                ))
                .execute(conn)
                .on_constraint(Constraint::JobPrint, || MonitorError::Conflict)?;
            record_event(conn, seq, event).map_err(lift)
        }
        JobWrite::Update { expected, event } => {
            let key = event.job.id.to_string();
            if !lock_job(conn, &key)? {
                return Err(TxError::Domain(MonitorError::Conflict));
            }
            let current = read_job(conn, &key)
                .map_err(lift)?
                .ok_or(TxError::Domain(MonitorError::Conflict))?;
            if current.version != expected {
                return Err(TxError::Domain(MonitorError::Conflict));
            }
            let seq = take_seq(conn)?;
            write_job(conn, &current, &event.job).map_err(lift)?;
            record_event(conn, seq, event).map_err(lift)
        }
    }
}

fn save_memory(
    conn: &mut AnyConnection,
    printer: &str,
    memory: &PrinterMemory,
) -> Result<(), diesel::result::Error> {
    let row = MemoryRow::new(printer, memory);
    on_backend!(conn, |c| diesel::insert_into(printer_memory::table)
        .values(&row)
        .on_conflict(printer_memory::printer_id)
        .do_update()
        .set(&row)
        .execute(c))?;
    Ok(())
}

#[async_trait]
impl MonitorStore for Store {
    async fn record(
        &self,
        printer: &PrinterId,
        decide: MonitorDecide,
    ) -> Result<Recorded, MonitorError> {
        let printer = printer.to_string();
        // The decision is made once (it is the monitor's, and consumes what it saw); the
        // monitor records the next report anyway if this one is answered "unavailable".
        self.write_once(move |conn| {
            lock_printer_monitor(conn, &printer)?;
            let decision = decide(&snapshot(conn, &printer)?);
            let mut events = Vec::with_capacity(decision.writes.len());
            for write in decision.writes {
                events.push(apply(conn, &printer, write)?);
            }
            if let Some(memory) = &decision.memory {
                save_memory(conn, &printer, memory)?;
            }
            Ok(Recorded {
                outcome: decision.outcome,
                events,
            })
        })
        .await
        .inspect(|recorded| self.search.written(&recorded.events))
    }
}

#[async_trait]
impl MonitorLeases for Store {
    async fn claim(
        &self,
        holder: &str,
        printers: &[PrinterId],
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<PrinterId>, StoreError> {
        let holder = holder.to_owned();
        let wanted: Vec<String> = printers.iter().map(ToString::to_string).collect();
        let (now, until) = (to_db_time(now), to_db_time(until));
        let held: Vec<String> = self
            .write(move |conn| -> Result<Vec<String>, TxError<StoreError>> {
                diesel::delete(
                    monitor_leases::table
                        .filter(monitor_leases::holder.eq(&holder))
                        .filter(monitor_leases::printer_id.ne_all(&wanted)),
                )
                .execute(conn)?;
                // Renew ours and take the expired ones; then add the printers nobody holds.
                // A row another instance inserted meanwhile stays theirs (DO NOTHING).
                diesel::update(
                    monitor_leases::table
                        .filter(monitor_leases::printer_id.eq_any(&wanted))
                        .filter(
                            monitor_leases::holder
                                .eq(&holder)
                                .or(monitor_leases::expires_at.lt(now)),
                        ),
                )
                .set((
                    monitor_leases::holder.eq(&holder),
                    monitor_leases::expires_at.eq(until),
                ))
                .execute(conn)?;
                let rows: Vec<_> = wanted
                    .iter()
                    .map(|printer| {
                        (
                            monitor_leases::printer_id.eq(printer),
                            monitor_leases::holder.eq(&holder),
                            monitor_leases::expires_at.eq(until),
                        )
                    })
                    .collect();
                for chunk in rows.chunks(200) {
                    on_backend!(conn, |c| diesel::insert_into(monitor_leases::table)
                        .values(chunk)
                        .on_conflict(monitor_leases::printer_id)
                        .do_nothing()
                        .execute(c))?;
                }
                Ok(monitor_leases::table
                    .filter(monitor_leases::holder.eq(&holder))
                    .select(monitor_leases::printer_id)
                    .load(conn)?)
            })
            .await?;
        Ok(printers
            .iter()
            .filter(|p| held.iter().any(|h| h == p.as_str()))
            .cloned()
            .collect())
    }

    async fn release_all(&self, holder: &str) -> Result<(), StoreError> {
        let holder = holder.to_owned();
        self.write(move |conn| -> Result<(), TxError<StoreError>> {
            diesel::delete(monitor_leases::table.filter(monitor_leases::holder.eq(&holder)))
                .execute(conn)?;
            Ok(())
        })
        .await
    }
}
