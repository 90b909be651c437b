//! RFC 9457 problem details: the one error envelope of the whole API.
//!
//! Every error response is `Content-Type: application/problem+json` with a `type` URN, a
//! `title`, the `status`, a `detail` sentence a person can read, and where it helps the
//! per-field `errors` or (on 412) the `current` job, and where an endpoint needs more, its own
//! extension members (RFC 9457 §3.2: `allowed` on a refused status move, `failures` on a
//! refused bulk edit). Each domain error enum is mapped by one `From` impl, exactly as the
//! contract's status table says.

use std::fmt;

use actix_web::{
    HttpResponse, ResponseError,
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
};
use printdesk_domain::{
    BulkEditError, BulkFailure, CreateJobError, CreatePrinterError, DeleteJobError,
    DeletePrinterError, EditJobError, ExportJobsError, FieldViolation, GetJobError,
    GetPrinterError, Job, JobHistoryError, JobId, JobStatus, ListJobsError, ListPrintersError,
    StorageFault, StoreError, UpdatePrinterError, ValidationErrors,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{PartialSchema, ToSchema, openapi::RefOr};

use crate::etag;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client is asked to wait before retrying when the database is unavailable.
const RETRY_AFTER_SECS: &str = "5";

/// Seconds to wait when the database cannot store anything: someone has to make room first.
const STORAGE_RETRY_AFTER_SECS: &str = "30";

/// What kind of problem occurred; each kind has its own `type` URN, title and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// 400: the request is malformed in a way no other kind describes (e.g. a bad query string).
    BadRequest,
    /// 400: a rule is broken, a field is not editable or unknown, a printer does not exist.
    Validation,
    /// 401: authentication is configured and the request lacks a valid token.
    Unauthorized,
    /// 403: the caller's role is too low, or a request with the session cookie came from
    /// another site.
    Forbidden,
    /// 404: no such job, printer or route.
    NotFound,
    /// 405: the resource exists but not with this method.
    MethodNotAllowed,
    /// 409: a printer with that id exists already.
    Duplicate,
    /// 409: the status workflow does not allow the move.
    TransitionNotAllowed,
    /// 412: `If-Match` does not match the current version.
    VersionMismatch,
    /// 408: the request body did not arrive in time.
    RequestTimeout,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 429: too many failed sign-ins; `Retry-After` says how long to wait.
    TooManyRequests,
    /// 422: the body is not JSON, or not a JSON object.
    MalformedBody,
    /// 422: a field has the wrong JSON type, or `status` is not one of the four.
    WrongType,
    /// 503: the database is unreachable; retry later.
    Unavailable,
    /// 503: the database answers but cannot store anything (disk full, read-only).
    StorageUnavailable,
    /// 500: anything else.
    Internal,
    /// Any other status, with no semantics beyond the status code (`type` is `about:blank`).
    Status(StatusCode),
}

impl ProblemKind {
    /// The `type` member.
    pub fn type_uri(self) -> &'static str {
        match self {
            Self::BadRequest => "urn:printdesk:problem:bad-request",
            Self::Validation => "urn:printdesk:problem:validation",
            Self::Unauthorized => "urn:printdesk:problem:unauthorized",
            Self::Forbidden => "urn:printdesk:problem:forbidden",
            Self::NotFound => "urn:printdesk:problem:not-found",
            Self::MethodNotAllowed => "urn:printdesk:problem:method-not-allowed",
            Self::Duplicate => "urn:printdesk:problem:duplicate",
            Self::TransitionNotAllowed => "urn:printdesk:problem:transition-not-allowed",
            Self::VersionMismatch => "urn:printdesk:problem:version-mismatch",
            Self::RequestTimeout => "urn:printdesk:problem:request-timeout",
            Self::PayloadTooLarge => "urn:printdesk:problem:payload-too-large",
            Self::UnsupportedMediaType => "urn:printdesk:problem:unsupported-media-type",
            Self::TooManyRequests => "urn:printdesk:problem:too-many-requests",
            Self::MalformedBody => "urn:printdesk:problem:malformed-body",
            Self::WrongType => "urn:printdesk:problem:wrong-type",
            Self::Unavailable => "urn:printdesk:problem:unavailable",
            Self::StorageUnavailable => "urn:printdesk:problem:storage-unavailable",
            Self::Internal => "urn:printdesk:problem:internal",
            Self::Status(_) => "about:blank",
        }
    }

    /// The `title` member: short, the same for every occurrence of the kind.
    pub fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::Validation => "Validation failed",
            Self::Unauthorized => "Authentication required",
            Self::Forbidden => "Not allowed",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Duplicate => "Already exists",
            Self::TransitionNotAllowed => "Status change not allowed",
            Self::VersionMismatch => "Version mismatch",
            Self::RequestTimeout => "Request body too slow",
            Self::PayloadTooLarge => "Request body too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::TooManyRequests => "Too many attempts",
            Self::MalformedBody => "Malformed request body",
            Self::WrongType => "Wrong field type",
            Self::Unavailable => "Service unavailable",
            Self::StorageUnavailable => "Storage unavailable",
            Self::Internal => "Internal server error",
            Self::Status(status) => status.canonical_reason().unwrap_or("Error"),
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest | Self::Validation => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Duplicate | Self::TransitionNotAllowed => StatusCode::CONFLICT,
            Self::VersionMismatch => StatusCode::PRECONDITION_FAILED,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MalformedBody | Self::WrongType => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable | Self::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Status(status) => status,
        }
    }

    /// The kind that best describes a bare status code (for responses actix made itself).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest,
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::FORBIDDEN => Self::Forbidden,
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::CONFLICT => Self::Duplicate,
            StatusCode::PRECONDITION_FAILED => Self::VersionMismatch,
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => Self::MalformedBody,
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable,
            StatusCode::INTERNAL_SERVER_ERROR => Self::Internal,
            other => Self::Status(other),
        }
    }
}

/// Members every problem has or may have; extensions cannot take these names.
const RESERVED_MEMBERS: [&str; 8] = [
    "type", "title", "status", "detail", "errors", "current", "allowed", "failures",
];

/// An RFC 9457 problem: the body of every error response.
///
/// Handlers return `Result<_, Problem>`; actix turns the `Err` into the response through
/// [`ResponseError`].
#[derive(Debug, Clone)]
pub struct Problem {
    kind: ProblemKind,
    detail: String,
    errors: Vec<FieldViolation>,
    current: Option<Box<Job>>,
    // Boxed: most problems have neither, and every handler's `Result` carries a `Problem`.
    listing: Option<Box<Listing>>,
    extensions: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The typed member only some problems have.
#[derive(Debug, Clone)]
enum Listing {
    /// `allowed`: the statuses a refused move's job may move to.
    Allowed(Vec<JobStatus>),
    /// `failures`: every failing job of a refused bulk edit.
    Failures(Vec<FailureEntry>),
}

/// The wire shape, and the document's `Problem` schema.
#[derive(Serialize, ToSchema)]
#[schema(
    description = "An RFC 9457 problem: the body of every error response.",
    example = json!({
    "type": "urn:printdesk:problem:validation",
    "title": "Validation failed",
    "status": 400,
    "detail": "job_name must not be empty; customer_name is required for business jobs",
    "errors": [
        { "field": "job_name", "message": "must not be empty" },
        { "field": "customer_name", "message": "is required for business jobs" }
    ]
    })
)]
struct ProblemBody<'a> {
    /// The kind of problem: `urn:printdesk:problem:<kind>` (`validation`, `bad-request`,
    /// `unauthorized`, `forbidden`, `not-found`, `method-not-allowed`, `duplicate`,
    /// `transition-not-allowed`, `version-mismatch`, `request-timeout`, `payload-too-large`,
    /// `unsupported-media-type`, `too-many-requests`, `malformed-body`, `wrong-type`,
    /// `unavailable`, `storage-unavailable`, `internal`), or `about:blank` for a status
    /// without a kind of its own.
    #[serde(rename = "type")]
    #[schema(value_type = String, format = "uri")]
    type_uri: &'static str,
    /// Short, the same for every problem of the kind.
    #[schema(value_type = String)]
    title: &'static str,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// A sentence a person can read (the page shows it).
    #[schema(value_type = String)]
    detail: &'a str,
    /// One entry per field (or query parameter) at fault.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<FieldViolation>, required = false)]
    errors: &'a [FieldViolation],
    /// On a 412: the job as it is stored now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Job, required = false)]
    current: Option<&'a Job>,
    /// On a refused status move (409): the statuses the job may move to from where it is.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<JobStatus>, required = false)]
    allowed: &'a [JobStatus],
    /// On a refused bulk edit: every failing job, in the order of the request's `ids`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<FailureEntry>, required = false)]
    failures: &'a [FailureEntry],
    #[serde(flatten)]
    #[schema(ignore)]
    extensions: &'a Map<String, Value>,
}

/// The document describes [`Problem`] by its wire shape.
impl PartialSchema for Problem {
    fn schema() -> RefOr<utoipa::openapi::Schema> {
        ProblemBody::schema()
    }
}

impl ToSchema for Problem {
    fn schemas(schemas: &mut Vec<(String, RefOr<utoipa::openapi::Schema>)>) {
        ProblemBody::schemas(schemas);
    }
}

/// Why one job of a refused bulk edit failed: what it would have got on its own.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BulkFailure)]
struct FailureEntry {
    /// The job.
    #[schema(value_type = String, format = "uuid")]
    id: JobId,
    /// As in a problem.
    #[serde(rename = "type")]
    #[schema(value_type = String, format = "uri")]
    type_uri: &'static str,
    /// 400 (a rule), 404 (no such job) or 412 (a stale `if_versions` entry).
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// A sentence a person can read.
    detail: String,
    /// The rules the job breaks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    errors: Vec<FieldViolation>,
    /// On a stale version: the job as it is stored now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Job, required = false)]
    current: Option<Box<Job>>,
}

impl Problem {
    /// A problem of `kind` with a `detail` sentence a person can read.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            current: None,
            listing: None,
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds per-field entries (`errors`).
    pub fn with_errors(mut self, errors: impl IntoIterator<Item = FieldViolation>) -> Self {
        self.errors.extend(errors);
        self
    }

    /// Adds an extension member (RFC 9457 §3.2) of no fixed shape. The standard members
    /// (`type`, `title`, `status`, `detail`, `errors`, `current`) and the typed ones
    /// (`allowed`, `failures`, which the document describes) are not taken.
    pub fn with_extension(mut self, name: &str, value: impl Into<Value>) -> Self {
        debug_assert!(
            !RESERVED_MEMBERS.contains(&name),
            "{name} is a standard member of a problem"
        );
        if !RESERVED_MEMBERS.contains(&name) {
            self.extensions.insert(name.to_owned(), value.into());
        }
        self
    }

    /// Adds a response header (e.g. `Allow` on a 405).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// A 400 listing every broken rule; `detail` names them all.
    pub fn validation(errors: &ValidationErrors) -> Self {
        Self::new(ProblemKind::Validation, errors.to_string())
            .with_errors(errors.violations().iter().cloned())
    }

    /// A 412 carrying the job as it is stored now, and its `ETag`.
    pub fn version_mismatch(current: Box<Job>) -> Self {
        let detail = format!(
            "The job was changed by someone else and is now at version {}; \
             reload it and apply your change again.",
            current.version
        );
        let (name, value) = etag::header(current.version);
        let mut problem = Self::new(ProblemKind::VersionMismatch, detail).with_header(name, value);
        problem.current = Some(current);
        problem
    }

    /// The 404 for a job id that names no job (or is not a UUID at all).
    pub fn job_not_found() -> Self {
        Self::new(ProblemKind::NotFound, "No job with this id exists.")
    }

    /// The 404 for a printer id that names no printer (or is not a valid printer id).
    pub fn printer_not_found() -> Self {
        Self::new(ProblemKind::NotFound, "No printer with this id exists.")
    }

    /// The 503 for a database that cannot store anything now.
    pub fn storage_unavailable(fault: StorageFault) -> Self {
        let detail = match fault {
            StorageFault::DiskFull => {
                "Nothing can be saved right now: the server's disk is full. Reading still \
                 works; please try again later."
            }
            StorageFault::ReadOnly => {
                "Nothing can be saved right now: the database is read-only. Reading still \
                 works; please try again later."
            }
        };
        Self::new(ProblemKind::StorageUnavailable, detail).with_header(
            header::RETRY_AFTER,
            HeaderValue::from_static(STORAGE_RETRY_AFTER_SECS),
        )
    }

    /// The generic 500. Whatever went wrong must already be logged; nothing of it is shown.
    pub fn internal() -> Self {
        Self::new(
            ProblemKind::Internal,
            "Something went wrong on the server; the error has been logged.",
        )
    }

    /// The kind.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The `detail` sentence.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The per-field entries.
    pub fn errors(&self) -> &[FieldViolation] {
        &self.errors
    }

    /// The current job, on a 412.
    pub fn current(&self) -> Option<&Job> {
        self.current.as_deref()
    }

    /// An extension member, if the problem has it.
    pub fn extension(&self, name: &str) -> Option<&Value> {
        self.extensions.get(name)
    }

    fn wire(&self) -> ProblemBody<'_> {
        ProblemBody {
            type_uri: self.kind.type_uri(),
            title: self.kind.title(),
            status: self.kind.status().as_u16(),
            detail: &self.detail,
            errors: &self.errors,
            current: self.current.as_deref(),
            allowed: match self.listing.as_deref() {
                Some(Listing::Allowed(allowed)) => allowed,
                _ => &[],
            },
            failures: match self.listing.as_deref() {
                Some(Listing::Failures(failures)) => failures,
                _ => &[],
            },
            extensions: &self.extensions,
        }
    }

    /// The JSON body, members in the RFC's order (`type`, `title`, `status`, `detail`, …).
    pub fn body(&self) -> String {
        serde_json::to_string(&self.wire()).expect("a problem always serialises")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.kind.title(),
            self.kind.status(),
            self.detail
        )
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(self.body())
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %error, "the database is unavailable");
                Self::new(
                    ProblemKind::Unavailable,
                    "The database is unavailable right now; please try again shortly.",
                )
                .with_header(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECS),
                )
            }
            // The store logs the failure once, when it starts; each request's own line says
            // 503.
            StoreError::Storage(fault, _) => Self::storage_unavailable(fault),
            StoreError::Internal(_) => {
                tracing::error!(error = %error, "the store failed");
                Self::internal()
            }
        }
    }
}

impl From<CreateJobError> for Problem {
    fn from(error: CreateJobError) -> Self {
        match error {
            CreateJobError::Invalid(errors) => Self::validation(&errors),
            CreateJobError::Store(e) => e.into(),
        }
    }
}

impl From<GetJobError> for Problem {
    fn from(error: GetJobError) -> Self {
        match error {
            GetJobError::NotFound => Self::job_not_found(),
            GetJobError::Store(e) => e.into(),
        }
    }
}

impl From<ListJobsError> for Problem {
    fn from(error: ListJobsError) -> Self {
        match error {
            ListJobsError::Store(e) => e.into(),
        }
    }
}

impl From<ExportJobsError> for Problem {
    fn from(error: ExportJobsError) -> Self {
        match error {
            ExportJobsError::Store(e) => e.into(),
        }
    }
}

impl From<JobHistoryError> for Problem {
    fn from(error: JobHistoryError) -> Self {
        match error {
            JobHistoryError::NotFound => Self::job_not_found(),
            JobHistoryError::Store(e) => e.into(),
        }
    }
}

impl From<EditJobError> for Problem {
    fn from(error: EditJobError) -> Self {
        match error {
            EditJobError::NotFound => Self::job_not_found(),
            EditJobError::VersionMismatch { current } => Self::version_mismatch(current),
            EditJobError::Invalid(errors) => Self::validation(&errors),
            EditJobError::Transition(refusal) => {
                let mut detail = refusal.to_string();
                if let Some(first) = detail.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                let mut problem =
                    Self::new(ProblemKind::TransitionNotAllowed, format!("{detail}."));
                let allowed = refusal.from_status().allowed_moves().into_iter().collect();
                problem.listing = Some(Box::new(Listing::Allowed(allowed)));
                problem
            }
            EditJobError::Store(e) => e.into(),
        }
    }
}

impl From<BulkEditError> for Problem {
    /// A refused bulk edit: 400 with `failures` (each job with the status, `detail`, `errors`
    /// and, on a stale version, `current` it would get alone), or 412 when every failure is a
    /// stale version. Failures are listed in the order given (the handler passes them in the
    /// request's order).
    fn from(error: BulkEditError) -> Self {
        match error {
            BulkEditError::Invalid(errors) => Self::validation(&errors),
            BulkEditError::Rejected { failures } => Self::bulk_rejected(failures),
            BulkEditError::Store(e) => e.into(),
        }
    }
}

impl Problem {
    fn bulk_rejected(failures: Vec<BulkFailure>) -> Self {
        let mut entries = Vec::with_capacity(failures.len());
        let mut all_stale = true;
        for BulkFailure { id, error } in failures {
            if let EditJobError::Store(e) = error {
                // Not a reason of the job: the store failed, so the whole request did.
                return e.into();
            }
            all_stale &= matches!(error, EditJobError::VersionMismatch { .. });
            let alone = Self::from(error);
            entries.push(FailureEntry {
                id,
                type_uri: alone.kind.type_uri(),
                status: alone.kind.status().as_u16(),
                detail: alone.detail,
                errors: alone.errors,
                current: alone.current,
            });
        }
        let count = entries.len();
        let all_stale = all_stale && count > 0;
        let jobs = if count == 1 { "job" } else { "jobs" };
        let (kind, detail) = if all_stale {
            let were = if count == 1 { "was" } else { "were" };
            (
                ProblemKind::VersionMismatch,
                format!(
                    "Nothing was saved: {count} {jobs} {were} changed by someone else since \
                     you loaded them; reload them and apply your change again."
                ),
            )
        } else {
            let cannot = match entries.as_slice() {
                [only] => format!(
                    "1 job cannot take the change (job {}: {})",
                    only.id,
                    only.detail.trim_end_matches('.'),
                ),
                _ => format!(
                    "{count} {jobs} cannot take the change; each is listed in failures \
                     with its reasons"
                ),
            };
            (
                ProblemKind::Validation,
                format!("Nothing was saved: {cannot}."),
            )
        };
        let mut problem = Self::new(kind, detail);
        problem.listing = Some(Box::new(Listing::Failures(entries)));
        problem
    }
}

impl From<DeleteJobError> for Problem {
    fn from(error: DeleteJobError) -> Self {
        match error {
            DeleteJobError::NotFound => Self::job_not_found(),
            DeleteJobError::VersionMismatch { current } => Self::version_mismatch(current),
            DeleteJobError::Store(e) => e.into(),
        }
    }
}

impl From<CreatePrinterError> for Problem {
    fn from(error: CreatePrinterError) -> Self {
        match error {
            CreatePrinterError::Invalid(errors) => Self::validation(&errors),
            CreatePrinterError::Duplicate { id } => Self::new(
                ProblemKind::Duplicate,
                format!("A printer with id '{id}' exists already."),
            )
            .with_errors([FieldViolation::new("id", "is taken by another printer")]),
            CreatePrinterError::Secrets(e) => sealing_failed(&e),
            CreatePrinterError::Store(e) => e.into(),
        }
    }
}

/// A secret that could not be sealed is the server's fault; the error names no secret.
fn sealing_failed(error: &printdesk_domain::SealError) -> Problem {
    tracing::error!(error = %error, "a connection secret could not be sealed");
    Problem::internal()
}

impl From<UpdatePrinterError> for Problem {
    fn from(error: UpdatePrinterError) -> Self {
        match error {
            UpdatePrinterError::NotFound => Self::printer_not_found(),
            UpdatePrinterError::Invalid(errors) => Self::validation(&errors),
            UpdatePrinterError::Secrets(e) => sealing_failed(&e),
            UpdatePrinterError::Store(e) => e.into(),
        }
    }
}

impl From<GetPrinterError> for Problem {
    fn from(error: GetPrinterError) -> Self {
        match error {
            GetPrinterError::NotFound => Self::printer_not_found(),
            GetPrinterError::Store(e) => e.into(),
        }
    }
}

impl From<ListPrintersError> for Problem {
    fn from(error: ListPrintersError) -> Self {
        match error {
            ListPrintersError::Store(e) => e.into(),
        }
    }
}

impl From<DeletePrinterError> for Problem {
    fn from(error: DeletePrinterError) -> Self {
        match error {
            DeletePrinterError::NotFound => Self::printer_not_found(),
            DeletePrinterError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use printdesk_domain::{JobStatus, TransitionError};

    use super::*;

    #[test]
    fn internal_store_errors_never_reach_the_body() {
        let problem = Problem::from(StoreError::Internal("password=hunter2 at db:5432".into()));
        assert_eq!(problem.kind(), ProblemKind::Internal);
        let body = problem.body();
        assert!(!body.contains("hunter2"), "{body}");
        assert!(!body.contains("5432"), "{body}");
    }

    #[test]
    fn storage_failures_are_503_saying_what_is_wrong() {
        let response = Problem::from(StoreError::Storage(
            StorageFault::DiskFull,
            "database or disk is full at /var/lib/printdesk".into(),
        ))
        .error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "30");
        let problem = Problem::from(StoreError::Storage(StorageFault::DiskFull, "x".into()));
        let body = body_of(&problem);
        assert_eq!(body["type"], "urn:printdesk:problem:storage-unavailable");
        assert!(body["detail"].as_str().unwrap().contains("disk is full"));
        assert!(!problem.body().contains("/var/lib"));
        let read_only = Problem::storage_unavailable(StorageFault::ReadOnly);
        assert!(read_only.detail().contains("read-only"));
    }

    #[test]
    fn unavailable_is_503_with_retry_after() {
        let response = Problem::from(StoreError::Unavailable("refused".into())).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }

    fn body_of(problem: &Problem) -> serde_json::Value {
        serde_json::from_str(&problem.body()).unwrap()
    }

    fn job(n: u128, version: i64) -> Job {
        let at = time::macros::datetime!(2026-11-28 16:34:28.123 UTC);
        Job {
            id: uuid::Uuid::from_u128(n).into(),
            job_name: printdesk_domain::JobName::parse("Benchy").unwrap(),
            status: JobStatus::Pending,
            is_business: false,
            customer_name: None,
            notes: None,
            file_name: None,
            printer_id: None,
            version: printdesk_domain::Version::new(version),
            created_at: at,
            updated_at: at,
            started_at: None,
            completed_at: None,
            auto_created: false,
            discovery_time: None,
        }
    }

    #[test]
    fn a_refused_move_names_the_allowed_moves() {
        let problem = Problem::from(EditJobError::Transition(TransitionError::NotAllowed {
            from: JobStatus::Pending,
            to: JobStatus::Completed,
        }));
        let body = body_of(&problem);
        assert_eq!(body["status"], 409);
        assert_eq!(body["type"], "urn:printdesk:problem:transition-not-allowed");
        assert_eq!(body["allowed"], serde_json::json!(["running", "failed"]));
        assert_eq!(
            body["detail"],
            "A pending job cannot move to completed; allowed moves: running, failed."
        );

        let problem = Problem::from(EditJobError::Transition(TransitionError::ForceRequired {
            from: JobStatus::Completed,
            to: JobStatus::Pending,
        }));
        assert_eq!(body_of(&problem)["allowed"], serde_json::json!(["pending"]));
    }

    #[test]
    fn extensions_cannot_replace_standard_members() {
        let problem = Problem::new(ProblemKind::BadRequest, "Bad.").with_extension("n", 1);
        assert_eq!(problem.extension("n"), Some(&serde_json::json!(1)));
        let body = body_of(&problem);
        assert_eq!(body["n"], 1);
        assert_eq!(body["status"], 400);
    }

    #[test]
    fn a_refused_bulk_edit_lists_each_job_as_it_would_fail_alone() {
        let invalid = ValidationErrors::single(FieldViolation::new(
            "customer_name",
            "is required for business jobs",
        ));
        let problem = Problem::from(BulkEditError::Rejected {
            failures: vec![
                BulkFailure {
                    id: job(1, 1).id,
                    error: EditJobError::Invalid(invalid),
                },
                BulkFailure {
                    id: job(2, 1).id,
                    error: EditJobError::NotFound,
                },
                BulkFailure {
                    id: job(3, 1).id,
                    error: EditJobError::VersionMismatch {
                        current: Box::new(job(3, 4)),
                    },
                },
            ],
        });
        assert_eq!(problem.kind(), ProblemKind::Validation);
        let body = body_of(&problem);
        assert_eq!(
            body["detail"],
            "Nothing was saved: 3 jobs cannot take the change; each is listed in failures \
             with its reasons."
        );
        let failures = body["failures"].as_array().unwrap();
        assert_eq!(
            failures[0],
            serde_json::json!({
                "id": "00000000-0000-0000-0000-000000000001",
                "type": "urn:printdesk:problem:validation",
                "status": 400,
                "detail": "customer_name is required for business jobs",
                "errors": [{ "field": "customer_name", "message": "is required for business jobs" }]
            })
        );
        assert_eq!(failures[1]["status"], 404);
        assert!(failures[1].get("errors").is_none());
        assert_eq!(failures[2]["status"], 412);
        assert_eq!(failures[2]["current"]["version"], 4);
    }

    #[test]
    fn a_bulk_edit_refused_only_for_stale_versions_is_412() {
        let stale = |n| BulkFailure {
            id: job(n, 1).id,
            error: EditJobError::VersionMismatch {
                current: Box::new(job(n, 2)),
            },
        };
        let problem = Problem::from(BulkEditError::Rejected {
            failures: vec![stale(1), stale(2)],
        });
        assert_eq!(problem.kind(), ProblemKind::VersionMismatch);
        assert!(
            problem
                .detail()
                .starts_with("Nothing was saved: 2 jobs were changed")
        );
        assert!(
            problem
                .error_response()
                .headers()
                .get(header::ETAG)
                .is_none()
        );

        let one = Problem::from(BulkEditError::Rejected {
            failures: vec![BulkFailure {
                id: job(7, 1).id,
                error: EditJobError::NotFound,
            }],
        });
        assert_eq!(
            one.detail(),
            "Nothing was saved: 1 job cannot take the change \
             (job 00000000-0000-0000-0000-000000000007: No job with this id exists)."
        );
    }

    #[test]
    fn a_store_failure_inside_a_bulk_edit_fails_the_request() {
        let problem = Problem::from(BulkEditError::Rejected {
            failures: vec![BulkFailure {
                id: job(1, 1).id,
                error: EditJobError::Store(StoreError::Unavailable("down".into())),
            }],
        });
        assert_eq!(problem.kind(), ProblemKind::Unavailable);
    }

    #[test]
    fn validation_problem_has_the_contract_shape() {
        let errors = ValidationErrors::from_violations(vec![
            FieldViolation::new("job_name", "must not be empty"),
            FieldViolation::new("customer_name", "is required for business jobs"),
        ])
        .unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&Problem::validation(&errors).body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "urn:printdesk:problem:validation",
                "title": "Validation failed",
                "status": 400,
                "detail": "job_name must not be empty; customer_name is required for business jobs",
                "errors": [
                    { "field": "job_name", "message": "must not be empty" },
                    { "field": "customer_name", "message": "is required for business jobs" }
                ]
            })
        );
    }
}
