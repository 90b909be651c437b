//! Wiring shared by the integration tests: the services on the in-memory adapters, and a
//! clock that moves only when a test moves it.

// Each test binary compiles this module on its own and uses a different part of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use printdesk_domain::{
    Actor, Clock, CreateJobError, EditJobError, Job, JobDraft, JobEvent, JobId, JobService,
    NewPrinter, Printer, PrinterService, Timestamp, ValidationErrors,
    testing::{InMemoryStore, RecordingPublisher, TestSealer},
};
use time::{Duration, macros::datetime};

/// When every test's world starts. Whole milliseconds, like every domain timestamp.
pub const T0: Timestamp = datetime!(2026-11-28 16:34:28.123 UTC);

/// A [`Clock`] that says whatever time the test last set.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock on by `by` and returns the new time.
    pub fn advance(&self, by: Duration) -> Timestamp {
        let mut now = self.0.lock().unwrap();
        *now += by;
        *now
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// Both services wired to one in-memory store, a recording publisher and a fixed clock.
#[derive(Debug)]
pub struct World {
    pub store: Arc<InMemoryStore>,
    pub publisher: Arc<RecordingPublisher>,
    pub clock: Arc<FixedClock>,
    pub jobs: JobService,
    pub printers: PrinterService,
}

impl World {
    pub fn new() -> Self {
        let store = Arc::new(InMemoryStore::default());
        let publisher = Arc::new(RecordingPublisher::default());
        let clock = Arc::new(FixedClock::new(T0));
        let jobs = JobService::new(
            store.clone(),
            store.clone(),
            publisher.clone(),
            clock.clone(),
        );
        let printers = PrinterService::new(
            store.clone(),
            publisher.clone(),
            clock.clone(),
            Arc::new(TestSealer),
        );
        Self {
            store,
            publisher,
            clock,
            jobs,
            printers,
        }
    }

    /// Registers a printer with that id.
    pub async fn printer(&self, id: &str) -> Printer {
        self.printers
            .create(NewPrinter {
                id: Some(id.into()),
                name: format!("Printer {id}"),
                printer_type: "prusa".into(),
                location: None,
                ..NewPrinter::default()
            })
            .await
            .expect("printer is valid")
    }

    /// Creates a job that must be valid.
    pub async fn job(&self, draft: JobDraft) -> Job {
        self.jobs
            .create(draft, &anon())
            .await
            .expect("draft is valid")
    }

    /// Creates a plain job with just a name.
    pub async fn named_job(&self, name: &str) -> Job {
        self.job(named(name)).await
    }

    /// The job as stored now.
    pub async fn stored(&self, id: JobId) -> Job {
        self.jobs.get(id).await.expect("job exists")
    }

    /// Every event the store logged.
    pub fn logged(&self) -> Vec<JobEvent> {
        self.store.events()
    }

    /// Every event the publisher was handed.
    pub fn published(&self) -> Vec<JobEvent> {
        self.publisher.events()
    }
}

/// A draft with only a name; every other field at its default.
pub fn named(name: &str) -> JobDraft {
    JobDraft {
        job_name: name.into(),
        ..JobDraft::default()
    }
}

/// Nobody in particular.
pub fn anon() -> Actor {
    Actor::anonymous()
}

/// The violations of a refused create.
pub fn create_violations(result: Result<Job, CreateJobError>) -> ValidationErrors {
    match result {
        Err(CreateJobError::Invalid(errors)) => errors,
        other => panic!("expected a validation failure, got {other:?}"),
    }
}

/// The violations of a refused edit.
pub fn edit_violations(result: Result<Job, EditJobError>) -> ValidationErrors {
    match result {
        Err(EditJobError::Invalid(errors)) => errors,
        other => panic!("expected a validation failure, got {other:?}"),
    }
}

/// The fields named by the violations, in order.
pub fn fields(errors: &ValidationErrors) -> Vec<&str> {
    errors
        .violations()
        .iter()
        .map(|v| v.field.as_str())
        .collect()
}

/// `(field, message)` pairs, in order.
pub fn pairs(errors: &ValidationErrors) -> Vec<(&str, &str)> {
    errors
        .violations()
        .iter()
        .map(|v| (v.field.as_str(), v.message.as_str()))
        .collect()
}
