use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use crate::{
    changes::{JobChanges, PrintTimes},
    clock::Clock,
    connection::{BambuLabConnection, MonitoredPrinter, PrinterConnection, TlsFingerprint},
    connection_test::{ConnectionTestRequest, TestConnectionError},
    customers::{CustomerCount, CustomerQuery},
    draft::JobDraft,
    errors::{
        BulkEditError, CreateJobError, CreatePrinterError, DeleteJobError, DeletePrinterError,
        EditJobError, GetJobError, GetPrinterError, JobHistoryError, ListJobsError,
        ListPrintersError, StoreError, UpdatePrinterError,
    },
    event::{EventKind, JobEvent, JobHistory, NewJobEvent},
    export::JobExport,
    job::{Job, JobId, Version},
    monitoring::PrinterStatus,
    patch::{JobPatch, Nullable},
    ports::{
        BulkUpdateError, EventPublisher, JobEdit, JobRepository, PrinterRepository, UpdateOutcome,
    },
    precondition::VersionCondition,
    printer::{NewPrinter, Printer, PrinterId},
    printer_patch::{PrinterPatch, Refusal},
    query::{JobPage, JobQuery, JobSort, Limit, SortDirection, SortKey},
    secret::{Secret, SecretSealer},
    status::JobStatus,
    summary::{
        JobSummary, MonthCalendar, PeriodStart, SummarizeJobsError, SummaryGrouping, SummaryKey,
        first_instant, last_instant, months,
    },
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

/// The job use cases: create, read, list, export, edit, move, bulk edit, delete, history.
/// Every change is validated, stored with its event in one transaction, and published after
/// the commit.
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

    /// The customer names the jobs have that match `query`, most jobs first (see
    /// [`crate::CustomerQuery`]).
    pub async fn customers(
        &self,
        query: &CustomerQuery,
    ) -> Result<Vec<CustomerCount>, ListJobsError> {
        Ok(self.jobs.customers(query).await?)
    }

    /// Every job the query's filters select, page by page in the query's order (its paging
    /// is ignored); see [`JobExport`]. Nothing is read until the first
    /// [`JobExport::next_page`].
    pub fn export(&self, query: JobQuery) -> JobExport {
        JobExport::new(Arc::clone(&self.jobs), query)
    }

    /// The summary of the jobs the query's filters select (its sort and paging are
    /// ignored), grouped as asked; months are the `calendar`'s. A month summary has a row for
    /// every month from the span's start (or the first selected job's month) to its end (or
    /// the last selected job's month), empty months too.
    pub async fn summarize(
        &self,
        query: &JobQuery,
        group_by: SummaryGrouping,
        calendar: &dyn MonthCalendar,
    ) -> Result<JobSummary, SummarizeJobsError> {
        let (key, months) = match group_by {
            SummaryGrouping::Customer => (SummaryKey::Customer, Vec::new()),
            SummaryGrouping::Printer => (SummaryKey::Printer, Vec::new()),
            SummaryGrouping::Status => (SummaryKey::Status, Vec::new()),
            SummaryGrouping::Month => {
                let months = self.months_of(query, calendar).await?;
                let starts = months.iter().skip(1).map(|m| m.start).collect();
                (SummaryKey::CreatedPeriods(starts), months)
            }
        };
        let groups = self.jobs.summarize(query, &key).await?;
        let printer_names = match group_by {
            SummaryGrouping::Printer => self
                .printers
                .list()
                .await?
                .into_iter()
                .map(|p| (p.id.as_str().to_owned(), p.name.as_str().to_owned()))
                .collect(),
            _ => HashMap::new(),
        };
        Ok(crate::summary::assemble(
            group_by,
            groups,
            &months,
            &printer_names,
        ))
    }

    /// The months a month summary of `query` covers: from the span's start, or else the
    /// first selected job's creation, to the span's end, or else the last one's.
    async fn months_of(
        &self,
        query: &JobQuery,
        calendar: &dyn MonthCalendar,
    ) -> Result<Vec<PeriodStart>, SummarizeJobsError> {
        let edge = |direction| async move {
            let page = self
                .jobs
                .list(&JobQuery {
                    sort: JobSort {
                        key: SortKey::CreatedAt,
                        direction,
                    },
                    limit: Limit::new(1).expect("1 is a valid page size"),
                    offset: 0,
                    ..query.clone()
                })
                .await?;
            Ok::<_, StoreError>(page.jobs.first().map(|j| j.created_at))
        };
        let first = match first_instant(query.created.start) {
            Some(t) => Some(t),
            None => edge(SortDirection::Asc).await?,
        };
        let last = match last_instant(query.created.end) {
            Some(t) => Some(t),
            None => edge(SortDirection::Desc).await?,
        };
        match (first, last) {
            (Some(first), Some(last)) if first <= last => months(calendar, first, last),
            _ => Ok(Vec::new()),
        }
    }

    /// One page of a job's audit trail, newest first: who changed what, from what, to what.
    /// Readable after the job is deleted; a job that never existed is
    /// [`JobHistoryError::NotFound`] (every job that existed has its `job_created` event).
    pub async fn history(
        &self,
        id: JobId,
        limit: Limit,
        offset: u64,
    ) -> Result<JobHistory, JobHistoryError> {
        let history = self.jobs.history(id, limit.get(), offset).await?;
        if history.total_count == 0 {
            return Err(JobHistoryError::NotFound);
        }
        Ok(history)
    }

    /// The job edit: lays `patch` over the stored job, checks every rule on the result, and
    /// stores it if `expected` (the client's `If-Match`) admits the current version.
    ///
    /// An edit that changes nothing returns the job with its version unchanged and publishes
    /// nothing.
    pub async fn edit(
        &self,
        id: JobId,
        patch: JobPatch,
        expected: VersionCondition,
        actor: &Actor,
    ) -> Result<Job, EditJobError> {
        if patch.is_empty() {
            let job = self.jobs.get(id).await?.ok_or(EditJobError::NotFound)?;
            check_version(&job, &expected)?;
            return Ok(job);
        }
        let printer_violation = self.patch_printer_violation(&patch).await?;
        let edit = self.edit_decision(
            patch,
            expected,
            printer_violation,
            PrintTimes::FollowWorkflow,
            actor,
            self.clock.now(),
        );
        let outcome = self.jobs.update(id, edit).await?;
        Ok(self.finish(outcome).await)
    }

    async fn patch_printer_violation(
        &self,
        patch: &JobPatch,
    ) -> Result<Option<FieldViolation>, StoreError> {
        let new_printer = match &patch.printer_id {
            Nullable::Set(id) => Some(id.as_str()),
            _ => None,
        };
        self.printer_violation(new_printer).await
    }

    /// The decision of an edit, made inside the repository's transaction against the stored job.
    fn edit_decision(
        &self,
        patch: JobPatch,
        expected: VersionCondition,
        printer_violation: Option<FieldViolation>,
        print_times: PrintTimes,
        actor: &Actor,
        now: crate::Timestamp,
    ) -> JobEdit {
        let actor = actor.name().map(str::to_owned);
        Box::new(move |current: &Job| {
            check_version(current, &expected)?;
            let fields = merge_violations(
                patch.apply_to(current).validate(),
                printer_violation.clone(),
            )
            .map_err(EditJobError::Invalid)?;
            Ok(current
                .with_edited_fields(fields, print_times, now)
                .map(|(job, changes)| NewJobEvent {
                    kind: EventKind::JobUpdated,
                    job,
                    changes,
                    actor: actor.clone(),
                    at: now,
                }))
        })
    }

    /// Publishes a committed change and returns the job as it now is.
    async fn finish(&self, outcome: UpdateOutcome) -> Job {
        match outcome {
            UpdateOutcome::Changed(event) => {
                self.publisher.publish(&event).await;
                event.job
            }
            UpdateOutcome::Unchanged(job) => job,
        }
    }

    /// The status workflow: moves the job to `to` if [`crate::TRANSITIONS`] allows it (with
    /// `force` for a move that undoes a finished job), keeping `started_at` and `completed_at`
    /// true. Moving to the status the job has is a no-op that returns the job unchanged.
    pub async fn change_status(
        &self,
        id: JobId,
        to: JobStatus,
        force: bool,
        expected: VersionCondition,
        actor: &Actor,
    ) -> Result<Job, EditJobError> {
        let now = self.clock.now();
        let actor = actor.name().map(str::to_owned);
        let outcome = self
            .jobs
            .update(
                id,
                Box::new(move |current: &Job| {
                    check_version(current, &expected)?;
                    let Some(moved) = current
                        .moved_to(to, force, now)
                        .map_err(EditJobError::Transition)?
                    else {
                        return Ok(None);
                    };
                    Ok(current
                        .with_changes_from(moved, now)
                        .map(|(job, changes)| NewJobEvent {
                            kind: EventKind::JobUpdated,
                            job,
                            changes,
                            actor: actor.clone(),
                            at: now,
                        }))
                }),
            )
            .await?;
        Ok(self.finish(outcome).await)
    }

    /// Most jobs one bulk edit may change.
    pub const BULK_MAX: usize = 500;

    /// Applies one patch to many jobs atomically: every rule is checked for every job (each
    /// against its own stored state), and either every job takes the change or none does.
    /// `if_versions` optionally pins jobs to the versions the client saw.
    ///
    /// A refusal lists every failing job in the order of `ids` (the repository's contract).
    pub async fn bulk_edit(
        &self,
        ids: Vec<JobId>,
        patch: JobPatch,
        if_versions: HashMap<JobId, Version>,
        actor: &Actor,
    ) -> Result<Vec<Job>, BulkEditError> {
        let mut problems = Vec::new();
        if ids.is_empty() {
            problems.push(FieldViolation::new("ids", "must name at least one job"));
        }
        if ids.len() > Self::BULK_MAX {
            problems.push(FieldViolation::new(
                "ids",
                format!("must name at most {} jobs", Self::BULK_MAX),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = ids.iter().find(|id| !seen.insert(**id)) {
            problems.push(FieldViolation::new(
                "ids",
                format!("names job {dup} more than once"),
            ));
        }
        if let Some(stray) = if_versions.keys().find(|id| !seen.contains(*id)) {
            problems.push(FieldViolation::new(
                "if_versions",
                format!("names job {stray}, which is not in ids"),
            ));
        }
        if let Some(errors) = ValidationErrors::from_violations(problems) {
            return Err(BulkEditError::Invalid(errors));
        }

        let printer_violation = self.patch_printer_violation(&patch).await?;
        let now = self.clock.now();
        let edits = ids
            .into_iter()
            .map(|id| {
                let expected = if_versions
                    .get(&id)
                    .map_or(VersionCondition::Any, |v| VersionCondition::from(*v));
                (
                    id,
                    self.edit_decision(
                        patch.clone(),
                        expected,
                        printer_violation.clone(),
                        // The bulk edit stays a correction of the status alone.
                        PrintTimes::Keep,
                        actor,
                        now,
                    ),
                )
            })
            .collect();
        let outcomes = self.jobs.update_many(edits).await.map_err(|e| match e {
            BulkUpdateError::Rejected(failures) => BulkEditError::Rejected { failures },
            BulkUpdateError::Store(e) => BulkEditError::Store(e),
        })?;
        let mut jobs = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            jobs.push(self.finish(outcome).await);
        }
        Ok(jobs)
    }

    /// Deletes a job if `expected` (the client's `If-Match`) admits its current version. Its
    /// events stay, so its history remains readable.
    pub async fn delete(
        &self,
        id: JobId,
        expected: VersionCondition,
        actor: &Actor,
    ) -> Result<(), DeleteJobError> {
        let now = self.clock.now();
        let actor = actor.name().map(str::to_owned);
        let event = self
            .jobs
            .delete(
                id,
                Box::new(move |job: &Job| {
                    if !expected.admits(job.version) {
                        return Err(DeleteJobError::VersionMismatch {
                            current: Box::new(job.clone()),
                        });
                    }
                    Ok(NewJobEvent {
                        kind: EventKind::JobDeleted,
                        job: job.clone(),
                        changes: JobChanges::default(),
                        actor: actor.clone(),
                        at: now,
                    })
                }),
            )
            .await?;
        self.publisher.publish(&event).await;
        Ok(())
    }
}

/// The `If-Match` check: refuses when the client's condition does not admit the stored
/// version.
fn check_version(current: &Job, expected: &VersionCondition) -> Result<(), EditJobError> {
    if expected.admits(current.version) {
        Ok(())
    } else {
        Err(EditJobError::VersionMismatch {
            current: Box::new(current.clone()),
        })
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
    sealer: Arc<dyn SecretSealer>,
}

impl PrinterService {
    /// Wires the service to its ports; `sealer` seals connection secrets before they are
    /// stored and opens them for the monitor.
    pub fn new(
        printers: Arc<dyn PrinterRepository>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
        sealer: Arc<dyn SecretSealer>,
    ) -> Self {
        Self {
            printers,
            publisher,
            clock,
            sealer,
        }
    }

    /// Registers a printer, with its connection if it has one.
    pub async fn create(&self, new: NewPrinter) -> Result<Printer, CreatePrinterError> {
        let printer = new.validate(self.clock.now(), self.sealer.as_ref())?;
        self.printers.insert(&printer).await?;
        Ok(printer)
    }

    /// The printer edit: lays `patch` over the stored printer (merge-patch, down into the
    /// connection), checks every rule on the result, seals new secrets and stores it, all in
    /// one transaction. An edit that changes nothing returns the printer as stored.
    pub async fn update(
        &self,
        id: &PrinterId,
        patch: PrinterPatch,
    ) -> Result<Printer, UpdatePrinterError> {
        if patch.is_empty() {
            return self
                .printers
                .get(id)
                .await?
                .ok_or(UpdatePrinterError::NotFound);
        }
        let sealer = self.sealer.clone();
        self.printers
            .update(
                id,
                Box::new(move |current: &Printer| {
                    patch
                        .decide(current, sealer.as_ref())
                        .map_err(|refusal| match refusal {
                            Refusal::Invalid(errors) => UpdatePrinterError::Invalid(errors),
                            Refusal::Sealing(e) => UpdatePrinterError::Secrets(e),
                        })
                }),
            )
            .await
    }

    /// Trust on first use: stores the fingerprint of the certificate a Bambu Lab printer
    /// showed on its first connection (the monitor calls this; clients can only clear it).
    /// A printer of another kind is left as it is.
    pub async fn trust_certificate(
        &self,
        id: &PrinterId,
        fingerprint: TlsFingerprint,
    ) -> Result<Printer, UpdatePrinterError> {
        self.printers
            .update(
                id,
                Box::new(move |current: &Printer| {
                    let Some(PrinterConnection::BambuLab(c)) = &current.connection else {
                        return Ok(None);
                    };
                    let connection = PrinterConnection::BambuLab(BambuLabConnection {
                        tls_fingerprint: Some(fingerprint),
                        ..c.clone()
                    });
                    Ok(Some(Printer {
                        connection: Some(connection),
                        ..current.clone()
                    }))
                }),
            )
            .await
    }

    /// The connection a test asks for, checked as a registration's, with the stored
    /// printer's secrets standing in for those left out ([`ConnectionTestRequest`]); every
    /// violation at once, `printer_id`'s too.
    pub(crate) async fn connection_to_test(
        &self,
        request: ConnectionTestRequest,
    ) -> Result<PrinterConnection<Secret>, TestConnectionError> {
        let mut violations = Vec::new();
        let stored = match request.printer_id.map(PrinterId::parse) {
            None => None,
            Some(Err(violation)) => {
                violations.push(violation);
                None
            }
            Some(Ok(id)) => match self.printers.get(&id).await? {
                Some(printer) => printer.connection,
                None => {
                    violations.push(FieldViolation::new("printer_id", "names no printer"));
                    None
                }
            },
        };
        let Some(patch) = request.connection else {
            violations.push(FieldViolation::new("connection", "is required"));
            let errors = ValidationErrors::from_violations(violations).expect("one at least");
            return Err(TestConnectionError::Invalid(errors));
        };
        match patch.opened_for_test(stored.as_ref(), self.sealer.as_ref()) {
            Ok(connection) if violations.is_empty() => Ok(connection),
            Ok(_) => Err(TestConnectionError::Invalid(
                ValidationErrors::from_violations(violations).expect("not empty"),
            )),
            Err(Refusal::Invalid(errors)) => {
                let mut all = errors.violations().to_vec();
                all.extend(violations);
                Err(TestConnectionError::Invalid(
                    ValidationErrors::from_violations(all).expect("not empty"),
                ))
            }
            Err(Refusal::Sealing(e)) => Err(TestConnectionError::Secrets(e)),
        }
    }

    /// Records a monitored printer's live status as of now (the monitor calls this). Returns
    /// `false` when no printer has that id.
    pub async fn record_status(
        &self,
        id: &PrinterId,
        status: &PrinterStatus,
    ) -> Result<bool, StoreError> {
        self.printers
            .save_status(id, status, self.clock.now())
            .await
    }

    /// Every printer to watch, its connection's secrets opened, for the monitor.
    pub async fn monitored(&self) -> Result<Vec<MonitoredPrinter>, ListPrintersError> {
        let printers = self.printers.list_monitored().await?;
        Ok(printers
            .into_iter()
            .filter_map(|printer| {
                let connection = printer
                    .connection
                    .clone()?
                    .try_map_secrets(|sealed| self.sealer.open(&sealed));
                Some(MonitoredPrinter {
                    printer,
                    connection,
                })
            })
            .collect())
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
                    let detached = Job {
                        printer_id: None,
                        ..job.clone()
                    };
                    let (detached, changes) = job
                        .with_changes_from(detached, now)
                        .expect("only jobs on the printer are detached, so printer_id changes");
                    NewJobEvent {
                        kind: EventKind::JobUpdated,
                        changes,
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
