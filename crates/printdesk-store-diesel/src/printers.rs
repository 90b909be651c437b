//! [`PrinterRepository`] on Diesel: printers, their connections (secrets stored only as the
//! sealer sealed them) and the live status the monitor writes.

use std::collections::BTreeMap;

use async_trait::async_trait;
use diesel::{prelude::*, result::Error as DieselError, upsert::excluded};
use printdesk_domain::{
    ConnectionFields, CreatePrinterError, DeletePrinterError, Job, JobEvent, Printer,
    PrinterDetach, PrinterEdit, PrinterId, PrinterName, PrinterRepository, SealedSecret,
    StoreError, Timestamp, UpdatePrinterError, monitoring::PrinterStatus,
};
use serde::{Deserialize, Serialize};
use time::PrimitiveDateTime;

use crate::{
    connection::{AnyConnection, on_backend},
    constraint::{Constraint, OnConstraint},
    event_log::{record_event, take_seq},
    job_repository::{lock_job, write_job},
    rows::{JobRow, corrupt, from_db_time, to_db_time},
    schema::{jobs, printer_status, printers},
    store::{Store, TxError, conflict},
};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = printers)]
pub(crate) struct PrinterRow {
    id: String,
    name: String,
    printer_type: String,
    location: Option<String>,
    created_at: PrimitiveDateTime,
    connection: Option<String>,
    connection_secrets: Option<String>,
    tls_fingerprint: Option<String>,
    monitoring: bool,
}

/// The connection settings that are not secret, as this store keeps them in
/// `printers.connection`. Its own shape, not the API's: the API may change without a
/// migration of stored rows.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredSettings {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

/// `printers.connection_secrets`: each secret's name and its sealed bytes in hex.
type StoredSecrets = BTreeMap<String, String>;

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

fn encoding(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("cannot encode {what}: {e}"))
}

impl PrinterRow {
    pub(crate) fn new(p: &Printer) -> Result<Self, StoreError> {
        let (connection, connection_secrets, tls_fingerprint) = match p.connection.clone() {
            None => (None, None, None),
            Some(c) => {
                let f = c.into_fields();
                let settings = StoredSettings {
                    kind: f.kind.unwrap_or_default(),
                    host: f.host,
                    port: f.port,
                    serial: f.serial,
                    ca_pem: f.ca_pem,
                    base_url: f.base_url,
                    username: f.username,
                };
                let secrets: StoredSecrets = [
                    ("access_code", f.access_code),
                    ("api_key", f.api_key),
                    ("password", f.password),
                ]
                .into_iter()
                .filter_map(|(name, sealed)| Some((name.to_owned(), to_hex(sealed?.as_bytes()))))
                .collect();
                (
                    Some(
                        serde_json::to_string(&settings)
                            .map_err(|e| encoding("a connection", e))?,
                    ),
                    Some(serde_json::to_string(&secrets).map_err(|e| encoding("secrets", e))?),
                    f.tls_fingerprint,
                )
            }
        };
        Ok(Self {
            id: p.id.to_string(),
            name: p.name.as_str().to_owned(),
            printer_type: p.printer_type.as_str().to_owned(),
            location: p.location.clone(),
            created_at: to_db_time(p.created_at),
            connection,
            connection_secrets,
            tls_fingerprint,
            monitoring: p.monitoring,
        })
    }

    /// The printer this row and its status row (`status`, JSON) hold.
    fn into_printer(self, status: Option<String>) -> Result<Printer, StoreError> {
        let connection = match self.connection {
            None => None,
            Some(json) => {
                let settings: StoredSettings =
                    serde_json::from_str(&json).map_err(|e| corrupt("printer connection", e))?;
                let mut secrets: StoredSecrets = match &self.connection_secrets {
                    Some(json) => serde_json::from_str(json)
                        .map_err(|e| corrupt("printer connection secrets", e))?,
                    None => StoredSecrets::new(),
                };
                let mut secret = |name: &str| -> Result<Option<SealedSecret>, StoreError> {
                    secrets
                        .remove(name)
                        .map(|hex| {
                            from_hex(&hex)
                                .map(SealedSecret::from_bytes)
                                .ok_or_else(|| corrupt("printer connection secret", name))
                        })
                        .transpose()
                };
                let fields = ConnectionFields {
                    kind: Some(settings.kind),
                    host: settings.host,
                    port: settings.port,
                    serial: settings.serial,
                    access_code: secret("access_code")?,
                    tls_fingerprint: self.tls_fingerprint,
                    ca_pem: settings.ca_pem,
                    base_url: settings.base_url,
                    api_key: secret("api_key")?,
                    username: settings.username,
                    password: secret("password")?,
                };
                // The domain's rules judge what was stored, so a row that no longer obeys
                // them is reported rather than half-read.
                Some(
                    fields
                        .validate(|_, sealed| Ok(sealed))
                        .map_err(|e| corrupt("printer connection", e))?,
                )
            }
        };
        let status = status
            .map(|json| serde_json::from_str::<PrinterStatus>(&json))
            .transpose()
            .map_err(|e| corrupt("printer status", e))?;
        let printer = Printer {
            id: PrinterId::parse(self.id).map_err(|e| corrupt("printer id", e))?,
            name: PrinterName::parse(self.name).map_err(|e| corrupt("printer name", e))?,
            printer_type: self
                .printer_type
                .parse()
                .map_err(|e| corrupt("printer type", e))?,
            location: self.location,
            created_at: from_db_time(self.created_at),
            connection,
            monitoring: self.monitoring,
            status: PrinterStatus::default(),
        };
        Ok(printer.with_status(status))
    }
}

type PrinterWithStatus = (PrinterRow, Option<String>);

/// Printers with their status rows, in the shape every read selects.
macro_rules! printers_with_status {
    () => {
        printers::table
            .left_join(printer_status::table)
            .select((PrinterRow::as_select(), printer_status::status.nullable()))
    };
}

fn to_printers(rows: Vec<PrinterWithStatus>) -> Result<Vec<Printer>, StoreError> {
    rows.into_iter()
        .map(|(row, status)| row.into_printer(status))
        .collect()
}

fn read_printer(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<PrinterWithStatus>, DieselError> {
    printers_with_status!()
        .filter(printers::id.eq(key))
        .get_result(conn)
        .optional()
}

/// The ids of the jobs on printer `key`, in id order.
fn jobs_on(conn: &mut AnyConnection, key: &str) -> Result<Vec<String>, DieselError> {
    jobs::table
        .filter(jobs::printer_id.eq(key))
        .order_by(jobs::id.asc())
        .select(jobs::id)
        .load(conn)
}

/// Takes the printer row's exclusive lock (`FOR UPDATE`, which waits for and then keeps out
/// every transaction assigning a job to it), PostgreSQL only; returns whether it exists.
fn lock_printer_for_deletion(conn: &mut AnyConnection, key: &str) -> Result<bool, DieselError> {
    let found = match conn {
        AnyConnection::Postgres(pg) => printers::table
            .find(key)
            .select(printers::id)
            .for_update()
            .get_result::<String>(pg)
            .optional()?,
        AnyConnection::Sqlite(_) => printers::table
            .find(key)
            .select(printers::id)
            .get_result::<String>(conn)
            .optional()?,
    };
    Ok(found.is_some())
}

/// Takes the printer row's write lock for the rest of the transaction (PostgreSQL; on SQLite
/// the writer's transaction holds the database's). Returns whether the printer exists.
fn lock_printer(conn: &mut AnyConnection, key: &str) -> Result<bool, DieselError> {
    let touched = diesel::update(printers::table.find(key))
        .set(printers::name.eq(printers::name))
        .execute(conn)?;
    Ok(touched == 1)
}

#[async_trait]
impl PrinterRepository for Store {
    async fn insert(&self, printer: &Printer) -> Result<(), CreatePrinterError> {
        let row = PrinterRow::new(printer)?;
        let id = printer.id.clone();
        self.write(move |conn| {
            diesel::insert_into(printers::table)
                .values(&row)
                .execute(conn)
                .on_constraint(Constraint::PrinterId, || CreatePrinterError::Duplicate {
                    id: id.clone(),
                })?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: &PrinterId) -> Result<Option<Printer>, StoreError> {
        let key = id.to_string();
        let row = self.read(move |conn| read_printer(conn, &key)).await?;
        row.map(|(row, status)| row.into_printer(status))
            .transpose()
    }

    async fn list(&self) -> Result<Vec<Printer>, StoreError> {
        let rows = self
            .read(|conn| {
                printers_with_status!()
                    .order_by((printers::name.asc(), printers::id.asc()))
                    .load(conn)
            })
            .await?;
        to_printers(rows)
    }

    async fn update(
        &self,
        id: &PrinterId,
        edit: PrinterEdit,
    ) -> Result<Printer, UpdatePrinterError> {
        let key = id.to_string();
        let domain = |e: StoreError| TxError::Domain(UpdatePrinterError::from(e));
        // Once: the edit consumes what it seals. It locks the printer only, so it takes part
        // in no deadlock; a lock not granted in time is answered "unavailable".
        self.write_once(move |conn| {
            if !lock_printer(conn, &key)? {
                return Err(TxError::Domain(UpdatePrinterError::NotFound));
            }
            let (row, status) =
                read_printer(conn, &key)?.ok_or(TxError::Domain(UpdatePrinterError::NotFound))?;
            let current = row.into_printer(status).map_err(domain)?;
            let Some(changed) = edit(&current).map_err(TxError::Domain)? else {
                return Ok(current);
            };
            let row = PrinterRow::new(&changed).map_err(domain)?;
            // Everything an edit may change; never the id or the registration time.
            diesel::update(printers::table.find(&key))
                .set((
                    printers::name.eq(row.name),
                    printers::printer_type.eq(row.printer_type),
                    printers::location.eq(row.location),
                    printers::connection.eq(row.connection),
                    printers::connection_secrets.eq(row.connection_secrets),
                    printers::tls_fingerprint.eq(row.tls_fingerprint),
                    printers::monitoring.eq(row.monitoring),
                ))
                .execute(conn)?;
            let (row, status) = read_printer(conn, &key)?.ok_or(DieselError::NotFound)?;
            row.into_printer(status).map_err(domain)
        })
        .await
    }

    async fn list_monitored(&self) -> Result<Vec<Printer>, StoreError> {
        let rows = self
            .read(|conn| {
                printers_with_status!()
                    .filter(printers::monitoring.eq(true))
                    .filter(printers::connection.is_not_null())
                    .order_by(printers::id.asc())
                    .load(conn)
            })
            .await?;
        to_printers(rows)
    }

    async fn save_status(
        &self,
        id: &PrinterId,
        status: &PrinterStatus,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = id.to_string();
        let json = serde_json::to_string(status).map_err(|e| encoding("a printer status", e))?;
        let at = to_db_time(at);
        self.write(move |conn| {
            let exists: bool =
                diesel::select(diesel::dsl::exists(printers::table.find(&key))).get_result(conn)?;
            if !exists {
                return Ok(false);
            }
            // Through `AnyConnection` Diesel has no upsert; the same statement per backend.
            on_backend!(conn, |c| diesel::insert_into(printer_status::table)
                .values((
                    printer_status::printer_id.eq(&key),
                    printer_status::status.eq(&json),
                    printer_status::updated_at.eq(at),
                ))
                .on_conflict(printer_status::printer_id)
                .do_update()
                .set((
                    printer_status::status.eq(excluded(printer_status::status)),
                    printer_status::updated_at.eq(excluded(printer_status::updated_at)),
                ))
                .execute(c))?;
            Ok(true)
        })
        .await
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
            // The lock order of every write (docs/architecture.md, "Lock order"): the jobs in
            // id order, then the printer, then the event counter.
            let job_ids = jobs_on(conn, &key)?;
            for job_id in &job_ids {
                lock_job(conn, job_id)?;
            }
            if !lock_printer_for_deletion(conn, &key)? {
                return Err(TxError::Domain(DeletePrinterError::NotFound));
            }
            // A job assigned to it meanwhile (committed before the printer's lock was
            // granted; none can be now) is not locked: run again, locking it with the rest.
            if jobs_on(conn, &key)? != job_ids {
                return Err(TxError::Diesel(conflict()));
            }
            // Detach the jobs one by one, versioned and logged like any other change, before
            // the printer row goes (the foreign key's SET NULL would do it silently).
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
        .inspect(|events| self.search.written(events))
    }
}
