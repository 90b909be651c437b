//! In-memory adapters for every port, for tests of code that uses the domain (this crate's
//! own, and other services'). They keep the same promises as the real store: atomic edits,
//! a gapless event log, printers' jobs detached on delete.
//!
//! ```
//! # tokio_test_shim::block_on(async {
//! use std::sync::Arc;
//! use printdesk_domain::{testing::{InMemoryStore, RecordingPublisher}, *};
//!
//! let store = Arc::new(InMemoryStore::default());
//! let publisher = Arc::new(RecordingPublisher::default());
//! let jobs = JobService::new(store.clone(), store.clone(), publisher.clone(), Arc::new(SystemClock));
//! let job = jobs
//!     .create(JobDraft { job_name: "Benchy".into(), ..JobDraft::default() }, &Actor::anonymous())
//!     .await
//!     .unwrap();
//! assert_eq!(job.version, Version::FIRST);
//! assert_eq!(publisher.events().len(), 1);
//! # });
//! # mod tokio_test_shim { pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) } }
//! ```

use std::{
    cmp::Ordering,
    collections::BTreeMap,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;

use crate::{
    customers::{CustomerCount, CustomerQuery, customer_order},
    errors::{
        BulkFailure, CreateJobError, CreatePrinterError, DeleteJobError, DeletePrinterError,
        EditJobError, StoreError, UpdatePrinterError,
    },
    event::{JobEvent, JobHistory, NewJobEvent, Seq},
    job::{Job, JobId},
    monitoring::PrinterStatus,
    ports::{
        BulkUpdateError, EventLog, EventPublisher, JobDeletion, JobEdit, JobRepository,
        PrinterDetach, PrinterEdit, PrinterRepository, UpdateOutcome,
    },
    printer::{Printer, PrinterId},
    query::{JobPage, JobQuery, SortDirection, SortKey, customer_key},
    search::{SearchDocument, sort_key},
    secret::{SealError, SealedSecret, Secret, SecretSealer},
    summary::{GroupValue, SummaryFigures, SummaryGroup, SummaryKey, group_of},
    validation::ValidationErrors,
};

pub use crate::monitoring::{InMemoryLeases, InMemoryMonitorStore, RecordingStatusPublisher};

#[derive(Debug, Default)]
struct State {
    jobs: BTreeMap<JobId, Job>,
    printers: BTreeMap<PrinterId, Printer>,
    statuses: BTreeMap<PrinterId, PrinterStatus>,
    events: Vec<JobEvent>,
}

impl State {
    /// A stored printer as reads return it: with its status.
    fn printer(&self, id: &PrinterId) -> Option<Printer> {
        let printer = self.printers.get(id)?.clone();
        Some(printer.with_status(self.statuses.get(id).cloned()))
    }
}

impl State {
    fn log(&mut self, event: NewJobEvent) -> JobEvent {
        let seq = Seq::new(self.events.len() as i64 + 1);
        let event = event.committed(seq);
        self.events.push(event.clone());
        event
    }

    /// What the real store's printer foreign key refuses: a job naming a printer that is
    /// not there.
    fn unknown_printer(&self, job: &Job) -> Option<ValidationErrors> {
        let printer = job
            .printer_id
            .as_ref()
            .filter(|p| !self.printers.contains_key(*p))?;
        Some(ValidationErrors::single(
            crate::FieldViolation::unknown_printer(printer),
        ))
    }
}

/// Jobs, printers and the event log in memory; implements [`JobRepository`], [`EventLog`]
/// and [`PrinterRepository`]. One mutex makes every operation atomic.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every write is one insert).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every event logged so far, oldest first.
    pub fn events(&self) -> Vec<JobEvent> {
        self.state().events.clone()
    }
}

fn matches_filters(job: &Job, query: &JobQuery) -> bool {
    query.status.is_none_or(|s| job.status == s)
        && query
            .printer_id
            .as_ref()
            .is_none_or(|p| job.printer_id.as_ref() == Some(p))
        && query.is_business.is_none_or(|b| job.is_business == b)
        && query
            .text
            .as_ref()
            .is_none_or(|q| q.matches(&SearchDocument::of(job)))
        && query.customer.as_ref().is_none_or(|c| {
            job.customer_name
                .as_ref()
                .is_some_and(|n| customer_key(n.as_str()) == customer_key(c.as_str()))
        })
        && query.created.contains(job.created_at)
        && query.completed.contains_optional(job.completed_at)
}

/// The order of `key`, ascending. A missing value compares as `None`, which
/// [`sort_jobs`] puts last in either direction.
fn compare(a: &Job, b: &Job, key: SortKey) -> Option<Ordering> {
    // Text in collation order: by the sort keys the real stores keep and index.
    let opt = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => Some(sort_key(x).cmp(&sort_key(y))),
        (None, None) => Some(Ordering::Equal),
        _ => None,
    };
    let time = |x: Option<crate::Timestamp>, y: Option<crate::Timestamp>| match (x, y) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        (None, None) => Some(Ordering::Equal),
        _ => None,
    };
    match key {
        SortKey::CreatedAt => Some(a.created_at.cmp(&b.created_at)),
        SortKey::UpdatedAt => Some(a.updated_at.cmp(&b.updated_at)),
        SortKey::JobName => Some(sort_key(a.job_name.as_str()).cmp(&sort_key(b.job_name.as_str()))),
        SortKey::Status => Some(a.status.as_str().cmp(b.status.as_str())),
        SortKey::CustomerName => opt(
            a.customer_name.as_ref().map(|v| v.as_str()),
            b.customer_name.as_ref().map(|v| v.as_str()),
        ),
        SortKey::PrinterId => match (&a.printer_id, &b.printer_id) {
            (Some(x), Some(y)) => Some(x.as_str().cmp(y.as_str())),
            (None, None) => Some(Ordering::Equal),
            _ => None,
        },
        SortKey::FileName => opt(
            a.file_name.as_ref().map(|v| v.as_str()),
            b.file_name.as_ref().map(|v| v.as_str()),
        ),
        SortKey::StartedAt => time(a.started_at, b.started_at),
        SortKey::CompletedAt => time(a.completed_at, b.completed_at),
    }
}

/// Whether `job` has no value for `key`.
fn lacks(job: &Job, key: SortKey) -> bool {
    match key {
        SortKey::CustomerName => job.customer_name.is_none(),
        SortKey::PrinterId => job.printer_id.is_none(),
        SortKey::FileName => job.file_name.is_none(),
        SortKey::StartedAt => job.started_at.is_none(),
        SortKey::CompletedAt => job.completed_at.is_none(),
        SortKey::CreatedAt | SortKey::UpdatedAt | SortKey::JobName | SortKey::Status => false,
    }
}

/// The list's order: by the key in its direction, ties by id in the same direction, jobs
/// without a value for the key last whatever the direction.
fn sort_jobs(jobs: &mut [&Job], sort: crate::JobSort) {
    jobs.sort_by(|a, b| in_order(a, b, sort));
}

/// Where `a` comes relative to `b` in the list's order.
fn in_order(a: &Job, b: &Job, sort: crate::JobSort) -> Ordering {
    let by_value = match compare(a, b, sort.key) {
        Some(ord) => ord.then_with(|| a.id.cmp(&b.id)),
        // Exactly one of the two lacks a value: it goes last, before the direction.
        None => {
            return if lacks(a, sort.key) {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
    };
    match sort.direction {
        SortDirection::Asc => by_value,
        SortDirection::Desc => by_value.reverse(),
    }
}

#[async_trait]
impl JobRepository for InMemoryStore {
    async fn insert(&self, event: NewJobEvent) -> Result<JobEvent, CreateJobError> {
        let mut state = self.state();
        if let Some(violation) = state.unknown_printer(&event.job) {
            return Err(CreateJobError::Invalid(violation));
        }
        state.jobs.insert(event.job.id, event.job.clone());
        Ok(state.log(event))
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        Ok(self.state().jobs.get(&id).cloned())
    }

    async fn list(&self, query: &JobQuery) -> Result<JobPage, StoreError> {
        let state = self.state();
        let mut jobs: Vec<&Job> = state
            .jobs
            .values()
            .filter(|j| matches_filters(j, query))
            .collect();
        sort_jobs(&mut jobs, query.sort);
        let total_count = jobs.len() as u64;
        let jobs = jobs
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(query.limit.get() as usize)
            .cloned()
            .collect();
        Ok(JobPage {
            jobs,
            total_count,
            limit: query.limit,
            offset: query.offset,
        })
    }

    async fn update(&self, id: JobId, edit: JobEdit) -> Result<UpdateOutcome, EditJobError> {
        let mut state = self.state();
        let current = state.jobs.get(&id).cloned().ok_or(EditJobError::NotFound)?;
        let Some(event) = edit(&current)? else {
            return Ok(UpdateOutcome::Unchanged(current));
        };
        if let Some(violation) = state.unknown_printer(&event.job) {
            return Err(EditJobError::Invalid(violation));
        }
        state.jobs.insert(id, event.job.clone());
        Ok(UpdateOutcome::Changed(state.log(event)))
    }

    async fn update_many(
        &self,
        edits: Vec<(JobId, JobEdit)>,
    ) -> Result<Vec<UpdateOutcome>, BulkUpdateError> {
        let mut state = self.state();
        let mut decided = Vec::with_capacity(edits.len());
        let mut failures = Vec::new();
        for (id, edit) in edits {
            let Some(current) = state.jobs.get(&id).cloned() else {
                failures.push(BulkFailure {
                    id,
                    error: EditJobError::NotFound,
                });
                continue;
            };
            match edit(&current) {
                Ok(event) => match event.as_ref().and_then(|e| state.unknown_printer(&e.job)) {
                    Some(violation) => failures.push(BulkFailure {
                        id,
                        error: EditJobError::Invalid(violation),
                    }),
                    None => decided.push((current, event)),
                },
                Err(error) => failures.push(BulkFailure { id, error }),
            }
        }
        if !failures.is_empty() {
            return Err(BulkUpdateError::Rejected(failures));
        }
        Ok(decided
            .into_iter()
            .map(|(current, event)| match event {
                None => UpdateOutcome::Unchanged(current),
                Some(event) => {
                    state.jobs.insert(event.job.id, event.job.clone());
                    UpdateOutcome::Changed(state.log(event))
                }
            })
            .collect())
    }

    async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerCount>, StoreError> {
        let state = self.state();
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for name in state.jobs.values().filter_map(|j| j.customer_name.as_ref()) {
            if query.matches(name.as_str()) {
                *counts.entry(name.as_str()).or_default() += 1;
            }
        }
        let mut names: Vec<CustomerCount> = counts
            .into_iter()
            .map(|(name, jobs)| CustomerCount {
                name: name.to_owned(),
                jobs,
            })
            .collect();
        names.sort_by(customer_order);
        names.truncate(query.limit() as usize);
        Ok(names)
    }

    async fn scan(
        &self,
        query: &JobQuery,
        after: Option<&Job>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let state = self.state();
        let mut jobs: Vec<&Job> = state
            .jobs
            .values()
            .filter(|j| matches_filters(j, query))
            .filter(|j| after.is_none_or(|a| in_order(a, j, query.sort) == Ordering::Less))
            .collect();
        sort_jobs(&mut jobs, query.sort);
        Ok(jobs.into_iter().take(limit as usize).cloned().collect())
    }

    async fn summarize(
        &self,
        query: &JobQuery,
        key: &SummaryKey,
    ) -> Result<Vec<SummaryGroup>, StoreError> {
        let state = self.state();
        let mut groups: BTreeMap<GroupValue, SummaryFigures> = BTreeMap::new();
        for job in state.jobs.values().filter(|j| matches_filters(j, query)) {
            groups
                .entry(group_of(job, key))
                .or_default()
                .add(&SummaryFigures::of(job));
        }
        Ok(groups
            .into_iter()
            .map(|(value, figures)| SummaryGroup { value, figures })
            .collect())
    }

    async fn delete(&self, id: JobId, deletion: JobDeletion) -> Result<JobEvent, DeleteJobError> {
        let mut state = self.state();
        let current = state
            .jobs
            .get(&id)
            .cloned()
            .ok_or(DeleteJobError::NotFound)?;
        let event = deletion(&current)?;
        state.jobs.remove(&id);
        Ok(state.log(event))
    }
}

#[async_trait]
impl EventLog for InMemoryStore {
    async fn events_after(&self, after: Seq, limit: u32) -> Result<Vec<JobEvent>, StoreError> {
        Ok(self
            .state()
            .events
            .iter()
            .filter(|e| e.seq > after)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn latest_seq(&self) -> Result<Seq, StoreError> {
        Ok(self.state().events.last().map_or(Seq::ZERO, |e| e.seq))
    }

    async fn history(&self, id: JobId, limit: u32, offset: u64) -> Result<JobHistory, StoreError> {
        let state = self.state();
        let all: Vec<_> = state
            .events
            .iter()
            .rev()
            .filter(|e| e.job_id == id)
            .collect();
        let total_count = all.len() as u64;
        let events = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .cloned()
            .collect();
        Ok(JobHistory {
            events,
            total_count,
        })
    }
}

#[async_trait]
impl PrinterRepository for InMemoryStore {
    async fn insert(&self, printer: &Printer) -> Result<(), CreatePrinterError> {
        let mut state = self.state();
        if state.printers.contains_key(&printer.id) {
            return Err(CreatePrinterError::Duplicate {
                id: printer.id.clone(),
            });
        }
        state.printers.insert(printer.id.clone(), printer.clone());
        Ok(())
    }

    async fn get(&self, id: &PrinterId) -> Result<Option<Printer>, StoreError> {
        Ok(self.state().printer(id))
    }

    async fn list(&self) -> Result<Vec<Printer>, StoreError> {
        let state = self.state();
        let mut printers: Vec<_> = state
            .printers
            .keys()
            .filter_map(|id| state.printer(id))
            .collect();
        printers.sort_by(|a, b| {
            a.name
                .as_str()
                .cmp(b.name.as_str())
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(printers)
    }

    async fn exists(&self, id: &PrinterId) -> Result<bool, StoreError> {
        Ok(self.state().printers.contains_key(id))
    }

    async fn update(
        &self,
        id: &PrinterId,
        edit: PrinterEdit,
    ) -> Result<Printer, UpdatePrinterError> {
        let mut state = self.state();
        let current = state.printer(id).ok_or(UpdatePrinterError::NotFound)?;
        if let Some(changed) = edit(&current)? {
            state.printers.insert(id.clone(), changed);
        }
        Ok(state.printer(id).expect("the printer is there"))
    }

    async fn list_monitored(&self) -> Result<Vec<Printer>, StoreError> {
        let state = self.state();
        Ok(state
            .printers
            .keys()
            .filter_map(|id| state.printer(id))
            .filter(Printer::is_monitored)
            .collect())
    }

    async fn save_status(
        &self,
        id: &PrinterId,
        status: &PrinterStatus,
        _at: crate::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if !state.printers.contains_key(id) {
            return Ok(false);
        }
        state.statuses.insert(id.clone(), status.clone());
        Ok(true)
    }

    async fn delete(
        &self,
        id: &PrinterId,
        detach: PrinterDetach,
    ) -> Result<Vec<JobEvent>, DeletePrinterError> {
        let mut state = self.state();
        if state.printers.remove(id).is_none() {
            return Err(DeletePrinterError::NotFound);
        }
        state.statuses.remove(id);
        let affected: Vec<Job> = state
            .jobs
            .values()
            .filter(|j| j.printer_id.as_ref() == Some(id))
            .cloned()
            .collect();
        Ok(affected
            .iter()
            .map(|job| {
                let event = detach(job);
                state.jobs.insert(job.id, event.job.clone());
                state.log(event)
            })
            .collect())
    }
}

/// An [`EventPublisher`] that remembers what it was given.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    events: Mutex<Vec<JobEvent>>,
}

impl RecordingPublisher {
    /// Every event published so far, in order.
    pub fn events(&self) -> Vec<JobEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, event: &JobEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.clone());
    }
}

/// A [`SecretSealer`] for tests: reversible without a key, so NOT a protection. It marks
/// what it seals, so that opening anything it did not seal fails like a wrong key would.
#[derive(Debug, Default, Clone, Copy)]
pub struct TestSealer;

impl TestSealer {
    const MARK: &'static [u8] = b"test-sealed:";
}

impl SecretSealer for TestSealer {
    fn seal(&self, secret: &Secret) -> Result<SealedSecret, SealError> {
        let mut bytes = Self::MARK.to_vec();
        bytes.extend(secret.expose().bytes().rev());
        Ok(SealedSecret::from_bytes(bytes))
    }

    fn open(&self, sealed: &SealedSecret) -> Result<Secret, SealError> {
        let body = sealed
            .as_bytes()
            .strip_prefix(Self::MARK)
            .ok_or(SealError::WrongKey)?;
        let plain = String::from_utf8(body.iter().rev().copied().collect())
            .map_err(|_| SealError::WrongKey)?;
        Ok(Secret::from_opened(plain))
    }
}
