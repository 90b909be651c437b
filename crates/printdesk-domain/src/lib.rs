//! # printdesk-domain
//!
//! The heart of printdesk: print jobs, the rules every change to a job must obey, and the
//! *ports* (traits) through which the domain talks to storage and to live listeners.
//!
//! This crate does no I/O. Adapters (the Diesel store, the HTTP API, the WebSocket fan-out)
//! implement or call the ports; other Rust services can link this crate to share the rules.
//!
//! ```
//! use printdesk_domain::{JobDraft, JobStatus};
//!
//! let draft = JobDraft {
//!     job_name: "  Benchy  ".into(),
//!     is_business: true,
//!     customer_name: None,
//!     ..JobDraft::default()
//! };
//! let errors = draft.validate().unwrap_err();
//! assert_eq!(errors.violations()[0].field.as_str(), "customer_name");
//! assert_eq!(JobStatus::default(), JobStatus::Pending);
//! ```
//!
//! With the `testing` feature the crate also ships in-memory adapters
//! (`testing::InMemoryStore` and `testing::RecordingPublisher`) so a service can exercise
//! [`JobService`] without a database; see `examples/edit_a_job.rs`.

pub mod access;
mod changes;
mod clock;
mod connection;
mod connection_test;
mod customers;
mod draft;
mod errors;
mod event;
mod export;
mod fields;
mod job;
pub mod monitoring;
mod patch;
mod ports;
mod precondition;
mod printer;
mod printer_patch;
mod query;
pub mod search;
mod search_index;
mod secret;
mod service;
mod status;
mod summary;
pub mod timestamp;
mod validation;
mod workflow;

#[cfg(feature = "testing")]
pub mod testing;

pub use changes::{FieldChange, JobChanges, JobField, PrintTimes};
pub use clock::{Clock, SystemClock, Timestamp};
pub use connection::{
    BAMBU_DEFAULT_PORT, BambuLabConnection, BambuSerial, BaseUrl, CaPem, ConnectionFields,
    ConnectionKind, Host, MonitoredPrinter, MoonrakerConnection, OctoprintConnection,
    PrinterConnection, PrusalinkAuth, PrusalinkConnection, TlsFingerprint, Username,
};
pub use connection_test::{
    CONNECTION_TEST_LIMIT, ConnectionTest, ConnectionTestRequest, ConnectionTester,
    ConnectionTests, ConnectionTrial, TestConnectionError,
};
pub use customers::{
    CUSTOMERS_DEFAULT_LIMIT, CUSTOMERS_MAX_LIMIT, CustomerCount, CustomerQuery, customer_fold,
    customer_order,
};
pub use draft::{JobDraft, ValidJobFields};
pub use errors::{
    BulkEditError, BulkFailure, CreateJobError, CreatePrinterError, DeleteJobError,
    DeletePrinterError, EditJobError, ExportJobsError, GetJobError, GetPrinterError,
    JobHistoryError, ListJobsError, ListPrintersError, StorageFault, StoreError,
    UpdatePrinterError,
};
pub use event::{EventKind, JobEvent, JobHistory, NewJobEvent, Seq};
pub use export::JobExport;
pub use fields::{
    CUSTOMER_NAME_MAX_CHARS, CustomerName, FILE_NAME_MAX_CHARS, FileName, JOB_NAME_MAX_CHARS,
    JobName, NOTES_MAX_CHARS, NUL_CHARACTER_MESSAGE, Notes,
};
pub use job::{InvalidJobId, Job, JobId, Version};
pub use patch::{JobPatch, Nullable};
pub use ports::{
    BulkUpdateError, EventLog, EventPublisher, JobDeletion, JobEdit, JobRepository, PrinterDetach,
    PrinterEdit, PrinterRepository, UpdateOutcome,
};
pub use precondition::VersionCondition;
pub use printer::{NewPrinter, Printer, PrinterId, PrinterName, PrinterType};
pub use printer_patch::{ConnectionPatch, PrinterPatch};
pub use query::{
    JobPage, JobQuery, JobSort, Limit, SortDirection, SortKey, TimeRange, customer_key,
};
pub use search::{SEARCH_MAX_CHARS, SearchDocument, SearchQuery};
pub use search_index::{IndexedJob, SearchHits, SearchIndex};
pub use secret::{SealError, SealedSecret, Secret, SecretSealer, SecretText};
pub use service::{Actor, JobService, PrinterService};
pub use status::{JobStatus, UnknownStatus};
pub use summary::{
    GroupValue, JobSummary, MAX_MONTHS, MonthCalendar, PeriodStart, SummarizeJobsError,
    SummaryFigures, SummaryGroup, SummaryGrouping, SummaryKey, SummaryRow, group_of, print_seconds,
};
pub use validation::{FieldViolation, ValidationErrors};
pub use workflow::{TRANSITIONS, Transition, TransitionError};
