//! In-memory adapters of monitoring's ports, for tests (the `testing` feature).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll},
};

use async_trait::async_trait;

use super::{
    decision::{JobWrite, MonitorSnapshot},
    errors::MonitorError,
    lease::MonitorLeases,
    memory::PrinterMemory,
    ports::{MonitorDecide, MonitorStore, PrinterStatusPublisher, Recorded},
    print::TrackedPrint,
    status::PrinterStatus,
};
use crate::{
    errors::{CreateJobError, EditJobError, StoreError},
    job::JobId,
    ports::{JobRepository, PrinterRepository, UpdateOutcome},
    printer::PrinterId,
    query::{JobQuery, Limit},
    status::JobStatus,
};

#[derive(Debug, Default)]
struct State {
    memories: HashMap<PrinterId, PrinterMemory>,
    prints: BTreeMap<JobId, (PrinterId, TrackedPrint)>,
    switched_off: HashSet<PrinterId>,
    /// Printers whose report is being recorded: the per-printer lock.
    busy: HashSet<PrinterId>,
    records: usize,
}

/// A [`MonitorStore`] over any [`JobRepository`] and [`PrinterRepository`] (typically
/// [`crate::testing::InMemoryStore`]), keeping printers' memories and auto jobs' prints in
/// memory.
///
/// Reports of one printer are recorded one at a time (a per-printer lock), and every job
/// write goes through the job repository, where a job edited by someone else since the
/// decision read it is a [`MonitorError::Conflict`] detected before anything is written.
/// Unlike a database it cannot roll back a job write when a later write of the same decision
/// fails (only a printer deleted in between can cause that).
///
/// A printer is monitored while it exists with `monitoring` on, unless
/// [`InMemoryMonitorStore::set_monitoring`] switches it off here.
#[derive(Debug)]
pub struct InMemoryMonitorStore {
    jobs: Arc<dyn JobRepository>,
    printers: Arc<dyn PrinterRepository>,
    state: Mutex<State>,
}

impl InMemoryMonitorStore {
    /// A store recording jobs in `jobs`, for the printers in `printers`.
    pub fn new(jobs: Arc<dyn JobRepository>, printers: Arc<dyn PrinterRepository>) -> Self {
        Self {
            jobs,
            printers,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is a single insert or remove: a panic leaves it whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Switches monitoring of `printer` on or off (the printer's `monitoring` setting).
    pub fn set_monitoring(&self, printer: &PrinterId, on: bool) {
        let mut state = self.state();
        if on {
            state.switched_off.remove(printer);
        } else {
            state.switched_off.insert(printer.clone());
        }
    }

    /// What the store remembers about `printer`.
    pub fn memory(&self, printer: &PrinterId) -> PrinterMemory {
        self.state()
            .memories
            .get(printer)
            .cloned()
            .unwrap_or_default()
    }

    /// How many times [`MonitorStore::record`] was called (each a transaction in a database).
    pub fn records(&self) -> usize {
        self.state().records
    }

    /// The print kept with an auto job, if monitoring created that job.
    pub fn print_of(&self, job: JobId) -> Option<TrackedPrint> {
        self.state()
            .prints
            .get(&job)
            .map(|(_, print)| print.clone())
    }

    async fn lock(&self, printer: &PrinterId) -> PrinterLock<'_> {
        while !self.state().busy.insert(printer.clone()) {
            YieldOnce(false).await;
        }
        PrinterLock {
            store: self,
            printer: printer.clone(),
        }
    }

    async fn snapshot(&self, printer: &PrinterId) -> Result<MonitorSnapshot, StoreError> {
        let switched_off = self.state().switched_off.contains(printer);
        let monitored = !switched_off
            && self
                .printers
                .get(printer)
                .await?
                .is_some_and(|p| p.monitoring);
        let memory = self.memory(printer);
        let job = match memory.job_id {
            Some(id) => self.jobs.get(id).await?,
            None => None,
        };
        let running_manual_jobs = if monitored {
            let query = JobQuery {
                status: Some(JobStatus::Running),
                printer_id: Some(printer.clone()),
                limit: Limit::new(i64::from(Limit::MAX)).expect("the largest page is a page"),
                ..JobQuery::default()
            };
            let page = self.jobs.list(&query).await?;
            page.jobs.into_iter().filter(|j| !j.auto_created).collect()
        } else {
            Vec::new()
        };
        Ok(MonitorSnapshot {
            monitored,
            memory,
            job,
            running_manual_jobs,
        })
    }

    fn already_recorded(&self, printer: &PrinterId, print: &TrackedPrint) -> bool {
        let Some(id) = print.printer_job_id.as_deref() else {
            return false;
        };
        self.state()
            .prints
            .values()
            .any(|(p, t)| p == printer && t.printer_job_id.as_deref() == Some(id))
    }
}

/// Holds one printer's lock; releases it when dropped.
struct PrinterLock<'a> {
    store: &'a InMemoryMonitorStore,
    printer: PrinterId,
}

impl Drop for PrinterLock<'_> {
    fn drop(&mut self) {
        self.store.state().busy.remove(&self.printer);
    }
}

/// Lets other tasks run once (any executor): the lock is held only across a few in-memory
/// calls, so waiting by yielding is enough for tests.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[async_trait]
impl MonitorStore for InMemoryMonitorStore {
    async fn record(
        &self,
        printer: &PrinterId,
        decide: MonitorDecide,
    ) -> Result<Recorded, MonitorError> {
        let _lock = self.lock(printer).await;
        self.state().records += 1;
        let decision = decide(&self.snapshot(printer).await?);
        // A database answers after a round trip; so does this store, so that concurrent
        // records of one printer would interleave here if the lock did not keep them apart.
        YieldOnce(false).await;
        let duplicate = decision.writes.iter().any(|write| match write {
            JobWrite::Create { print, .. } => self.already_recorded(printer, print),
            JobWrite::Update { .. } => false,
        });
        if duplicate {
            return Err(MonitorError::Conflict);
        }
        let mut events = Vec::with_capacity(decision.writes.len());
        for write in decision.writes {
            match write {
                JobWrite::Create { event, print } => {
                    let id = event.job.id;
                    let committed = self.jobs.insert(event).await.map_err(|e| match e {
                        CreateJobError::Invalid(_) => MonitorError::Conflict, // printer deleted
                        CreateJobError::Store(e) => MonitorError::Store(e),
                    })?;
                    self.state().prints.insert(id, (printer.clone(), print));
                    events.push(committed);
                }
                JobWrite::Update { expected, event } => {
                    let outcome = self
                        .jobs
                        .update(
                            event.job.id,
                            Box::new(move |current| {
                                if current.version == expected {
                                    Ok(Some(event.clone()))
                                } else {
                                    Err(EditJobError::VersionMismatch {
                                        current: Box::new(current.clone()),
                                    })
                                }
                            }),
                        )
                        .await;
                    match outcome {
                        Ok(UpdateOutcome::Changed(committed)) => events.push(committed),
                        Ok(UpdateOutcome::Unchanged(_)) => {}
                        Err(EditJobError::Store(e)) => return Err(MonitorError::Store(e)),
                        Err(_) => return Err(MonitorError::Conflict),
                    }
                }
            }
        }
        if let Some(memory) = decision.memory {
            self.state().memories.insert(printer.clone(), memory);
        }
        Ok(Recorded {
            outcome: decision.outcome,
            events,
        })
    }
}

/// A [`PrinterStatusPublisher`] that remembers what it was given.
#[derive(Debug, Default)]
pub struct RecordingStatusPublisher {
    sent: Mutex<Vec<(PrinterId, PrinterStatus)>>,
}

impl RecordingStatusPublisher {
    /// Every status published so far, in order, with its printer.
    pub fn sent(&self) -> Vec<(PrinterId, PrinterStatus)> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The statuses published for `printer`, in order.
    pub fn sent_for(&self, printer: &PrinterId) -> Vec<PrinterStatus> {
        self.sent()
            .into_iter()
            .filter(|(p, _)| p == printer)
            .map(|(_, status)| status)
            .collect()
    }
}

#[async_trait]
impl PrinterStatusPublisher for RecordingStatusPublisher {
    async fn publish(&self, printer: &PrinterId, status: &PrinterStatus) {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((printer.clone(), status.clone()));
    }
}

/// [`MonitorLeases`] in memory, for several monitors in one process (tests of a take-over).
#[derive(Debug, Default)]
pub struct InMemoryLeases {
    leases: Mutex<HashMap<PrinterId, (String, crate::clock::Timestamp)>>,
}

#[async_trait]
impl MonitorLeases for InMemoryLeases {
    async fn claim(
        &self,
        holder: &str,
        printers: &[PrinterId],
        now: crate::clock::Timestamp,
        until: crate::clock::Timestamp,
    ) -> Result<Vec<PrinterId>, StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        leases.retain(|printer, (h, _)| h != holder || printers.contains(printer));
        let mut held = Vec::new();
        for printer in printers {
            let free = leases
                .get(printer)
                .is_none_or(|(h, expires)| h == holder || *expires < now);
            if free {
                leases.insert(printer.clone(), (holder.to_owned(), until));
                held.push(printer.clone());
            }
        }
        Ok(held)
    }

    async fn release_all(&self, holder: &str) -> Result<(), StoreError> {
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (h, _)| h != holder);
        Ok(())
    }
}
