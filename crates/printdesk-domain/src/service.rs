use std::sync::Arc;

use crate::{
    changes::JobChanges,
    clock::Clock,
    draft::JobDraft,
    errors::{
        CreateJobError, CreatePrinterError, DeleteJobError, DeletePrinterError, EditJobError,
        GetJobError, GetPrinterError, ListJobsError, ListPrintersError, StoreError,
    },
    event::{EventKind, JobEvent, NewJobEvent},
    job::{Job, JobId, Version},
    patch::{JobPatch, Nullable},
    ports::{EventPublisher, JobRepository, PrinterRepository, UpdateOutcome},
    printer::{NewPrinter, Printer, PrinterId},
    query::{JobPage, JobQuery},
    validation::{FieldViolation, ValidationErrors},
};

/// Who is making a change, as recorded in events and the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor(Option<String>);

impl Actor {
    /// Nobody in particular: authentication is off.
    pub fn anonymous() -> Self {
        Self(None)
    }

    /// A named actor, e.g. the name of the API token used.
    pub fn named(name: impl Into<String>) -> Self {
        Self(Some(name.into()))
    }

    /// The name, if any.
    pub fn name(&self) -> Option<&str> {
        self.0.as_deref()
    }
}


/// The job use cases: create, read, list, edit, delete. Every change is validated, stored with
/// its event in one transaction, and published after the commit.
#[derive(Debug, Clone)]
pub struct JobService {
    jobs: Arc<dyn JobRepository>,
    printers: Arc<dyn PrinterRepository>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl JobService {
    /// Wires the service to its ports.
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        printers: Arc<dyn PrinterRepository>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            jobs,
            printers,
            publisher,
            clock,
        }
    }

    /// The job repository, for read-only adapters (history, event replay).
    pub fn repository(&self) -> &Arc<dyn JobRepository> {
        &self.jobs
    }

    /// Checks that a printer the client names exists. The database's foreign key is what makes
    /// this safe against a concurrent delete; this check lets the violation be reported with
    /// all the others.
    async fn printer_violation(
        &self,
        printer_id: Option<&str>,
    ) -> Result<Option<FieldViolation>, StoreError> {
        let Some(Ok(id)) = printer_id.map(PrinterId::parse) else {
            return Ok(None); // absent, or malformed and so reported by validation
        };
        Ok((!self.printers.exists(&id).await?).then(|| FieldViolation::unknown_printer(&id)))
    }

    /// Records a new job. Runs the same rules as the edit.
    pub async fn create(&self, draft: JobDraft, actor: &Actor) -> Result<Job, CreateJobError> {
        let printer_violation = self.printer_violation(draft.printer_id.as_deref()).await?;
        let fields = merge_violations(draft.validate(), printer_violation)
            .map_err(CreateJobError::Invalid)?;
        let now = self.clock.now();
        let job = Job {
            id: JobId::generate(),
            job_name: fields.job_name,
            status: fields.status,
            is_business: fields.is_business,
            customer_name: fields.customer_name,
            notes: fields.notes,
            file_name: fields.file_name,
            printer_id: fields.printer_id,
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
            started_at: None,
            completed_at: None,
            auto_created: false,
            discovery_time: None,
        };
        let event = NewJobEvent {
            kind: EventKind::JobCreated,
            changes: JobChanges::created(&job),
            job,
            actor: actor.name().map(str::to_owned),
            at: now,
        };
        let event = self.jobs.insert(event).await?;
        self.publisher.publish(&event).await;
        Ok(event.job)
    }

    /// The job with that id.
    pub async fn get(&self, id: JobId) -> Result<Job, GetJobError> {
        self.jobs.get(id).await?.ok_or(GetJobError::NotFound)
    }

    /// One page of the job list.
    pub async fn list(&self, query: &JobQuery) -> Result<JobPage, ListJobsError> {
        Ok(self.jobs.list(query).await?)
    }

    /// The job edit: lays `patch` over the stored job, checks every rule on the result, and
    /// stores it if `expected` (the client's `If-Match`) is the current version or absent.
    ///
    /// An edit that changes nothing returns the job with its version unchanged and publishes
    /// nothing.
    pub async fn edit(
        &self,
        id: JobId,
        patch: JobPatch,
        expected: Option<Version>,
        actor: &Actor,
    ) -> Result<Job, EditJobError> {
        if patch.is_empty() {
            let job = self.jobs.get(id).await?.ok_or(EditJobError::NotFound)?;
            return match expected {
                Some(v) if v != job.version => Err(EditJobError::VersionMismatch {
                    current: Box::new(job),
                }),
                _ => Ok(job),
            };
        }
        let new_printer = match &patch.printer_id {
            Nullable::Set(id) => Some(id.as_str()),
            _ => None,
        };
        let printer_violation = self.printer_violation(new_printer).await?;
        let now = self.clock.now();
        let actor = actor.name().map(str::to_owned);

        let outcome = self
            .jobs
            .update(
                id,
                Box::new(move |current: &Job| {
                    if let Some(v) = expected
                        && v != current.version
                    {
                        return Err(EditJobError::VersionMismatch {
                            current: Box::new(current.clone()),
                        });
                    }
                    let fields =
                        merge_violations(patch.apply_to(current).validate(), printer_violation)
                            .map_err(EditJobError::Invalid)?;
                    Ok(current
                        .with_fields(fields, now)
                        .map(|(job, changes)| NewJobEvent {
                            kind: EventKind::JobUpdated,
                            job,
                            changes,
                            actor,
                            at: now,
                        }))
                }),
            )
            .await?;
        match outcome {
            UpdateOutcome::Changed(event) => {
                self.publisher.publish(&event).await;
                Ok(event.job)
            }
            UpdateOutcome::Unchanged(job) => Ok(job),
        }
    }

    /// Deletes a job if `expected` is its current version (or unconditionally when `None`).
    /// Its events stay, so its history remains readable.
    pub async fn delete(
        &self,
        id: JobId,
        expected: Option<Version>,
        actor: &Actor,
    ) -> Result<(), DeleteJobError> {
        let now = self.clock.now();
        let actor = actor.name().map(str::to_owned);
        let event = self
            .jobs
            .delete(
                id,
                expected,
                Box::new(move |job: &Job| NewJobEvent {
                    kind: EventKind::JobDeleted,
                    job: job.clone(),
                    changes: JobChanges::default(),
                    actor,
                    at: now,
                }),
            )
            .await?;
        self.publisher.publish(&event).await;
        Ok(())
    }
}

/// Adds the printer-existence violation to the validation outcome.
fn merge_violations<T>(
    validated: Result<T, ValidationErrors>,
    printer_violation: Option<FieldViolation>,
) -> Result<T, ValidationErrors> {
    match (validated, printer_violation) {
        (Ok(v), None) => Ok(v),
        (Ok(_), Some(p)) => Err(ValidationErrors::single(p)),
        (Err(e), None) => Err(e),
        (Err(mut e), Some(p)) => {
            e.push(p);
            Err(e)
        }
    }
}

/// The printer use cases.
#[derive(Debug, Clone)]
pub struct PrinterService {
    printers: Arc<dyn PrinterRepository>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl PrinterService {
    /// Wires the service to its ports.
    pub fn new(
        printers: Arc<dyn PrinterRepository>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            printers,
            publisher,
            clock,
        }
    }

    /// Registers a printer.
    pub async fn create(&self, new: NewPrinter) -> Result<Printer, CreatePrinterError> {
        let printer = new
            .validate(self.clock.now())
            .map_err(CreatePrinterError::Invalid)?;
        self.printers.insert(&printer).await?;
        Ok(printer)
    }

    /// The printer with that id.
    pub async fn get(&self, id: &PrinterId) -> Result<Printer, GetPrinterError> {
        self.printers
            .get(id)
            .await?
            .ok_or(GetPrinterError::NotFound)
    }

    /// Every printer.
    pub async fn list(&self) -> Result<Vec<Printer>, ListPrintersError> {
        Ok(self.printers.list().await?)
    }

    /// Deletes a printer. Its jobs stay and become manual jobs (`printer_id` null); each such
    /// change is versioned and published like any edit.
    pub async fn delete(&self, id: &PrinterId, actor: &Actor) -> Result<(), DeletePrinterError> {
        let now = self.clock.now();
        let actor = actor.name().map(str::to_owned);
        let events = self
            .printers
            .delete(
                id,
                Box::new(move |job: &Job| {
                    let mut detached = job.clone();
                    detached.printer_id = None;
                    detached.version = job.version.next();
                    detached.updated_at = now;
                    NewJobEvent {
                        kind: EventKind::JobUpdated,
                        changes: JobChanges::between(job, &detached),
                        job: detached,
                        actor: actor.clone(),
                        at: now,
                    }
                }),
            )
            .await?;
        for event in &events {
            self.publisher.publish(event).await;
        }
        Ok(())
    }
}

/// Lets adapters name a committed event's job without unpacking it.
impl JobEvent {
    /// Whether the event removed the job.
    pub fn is_deletion(&self) -> bool {
        self.kind == EventKind::JobDeleted
    }
}
