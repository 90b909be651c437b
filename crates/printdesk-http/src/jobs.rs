//! The job handlers: `/jobs` (list, create), `/jobs/{id}` (read, edit, delete), the status
//! workflow (`/jobs/{id}/status`), the bulk edit (`/jobs/bulk-edit`), the exports
//! (`/jobs/export.csv`, `/jobs/export.xlsx`) and the audit trail (`/jobs/{id}/history`).

use actix_web::{HttpRequest, HttpResponse, body::SizedStream, http::header, web};
use futures_util::stream;
use printdesk_domain::{Job, JobEvent, JobHistory, JobId, JobPage, Limit};
use serde::Serialize;
use time::{OffsetDateTime, macros::format_description};
use utoipa::ToSchema;

use crate::{
    API_PREFIX, ApiState,
    auth::RequestActor,
    bulk_body::BulkEdit,
    csv_export::{self, CsvFormat, ExportAborted},
    edit_body::{JobFields, NewJob},
    etag,
    export_format::{Lang, PrinterNames},
    json_body::JsonObject,
    list_query::{
        CsvParams, FilterParams, ListParams, PageParams, XlsxParams, csv_export_query, job_query,
        page_query, xlsx_export_query,
    },
    openapi::responses,
    problem::{Problem, ProblemKind},
    status_body::StatusChange,
    xlsx_export::{MAX_JOBS, XlsxExportError, XlsxFormat, XlsxWriter, read_chunk},
};

/// The media type of the CSV export.
const CSV: &str = "text/csv; charset=utf-8";

/// The media type of the xlsx export.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A job id from the path; one that is not a UUID names no job (404).
fn job_id(raw: &str) -> Result<JobId, Problem> {
    raw.parse().map_err(|_| Problem::job_not_found())
}

/// A job response with its `ETag`.
fn with_etag(mut response: actix_web::HttpResponseBuilder, job: &Job) -> HttpResponse {
    response.insert_header(etag::header(job.version)).json(job)
}

/// List jobs
///
/// One page of the jobs matching the filters, in the order asked for.
#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    tag = "jobs",
    operation_id = "listJobs",
    params(FilterParams, ListParams),
    responses(
        (status = 200, description = "A page of jobs, and how many match in all.",
            body = JobPage),
        (status = 400, description = "A parameter is invalid, unknown or repeated; each is \
            named in `errors`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    state: web::Data<ApiState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let query = job_query(query.into_inner())?;
    // `JobPage` serialises to the contract's shape: jobs, total_count, limit, offset.
    let page = state.jobs.list(&query).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Create a job
///
/// The rules are the edit's, judged on the new job; every broken rule is reported at once.
#[utoipa::path(
    post,
    path = "/api/v1/jobs",
    tag = "jobs",
    operation_id = "createJob",
    request_body = NewJob,
    responses(
        (status = 201, description = "The job as stored.", body = Job, headers(
            ("Location" = String, description = "`/api/v1/jobs/{id}`"),
            ("ETag" = String, description = "The version: `\"1\"`."),
        )),
        (status = 400, description = "A rule is broken, a member is server-owned or unknown, \
            or `printer_id` names no printer; each is named in `errors`. Nothing is saved.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    state: web::Data<ApiState>,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let draft = NewJob::from_body(body)?.into_draft();
    let job = state.jobs.create(draft, &actor).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("{API_PREFIX}/jobs/{}", job.id)));
    Ok(with_etag(response, &job))
}

/// Read a job
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}",
    tag = "jobs",
    operation_id = "getJob",
    params(("id" = String, Path, format = "uuid", description = "The job's id.")),
    responses(
        (status = 200, description = "The job.", body = Job,
            headers(("ETag" = String, description = "The job's version, e.g. `\"3\"`."))),
        (status = 404, response = responses::JobNotFound),
    ),
)]
pub async fn get(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let job = state.jobs.get(job_id(&id)?).await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// Edit a job
///
/// A partial update of the editable fields: absent keeps, `null` clears. Any status may be
/// set; `started_at` and `completed_at` are left alone (the status workflow sets them). A
/// change that alters nothing keeps the version and writes no event. Checks, the first
/// failing one answering: content type (415), size (413), JSON (422), members (400), types
/// (422), the job (404), `If-Match` (412), the rules (400).
#[utoipa::path(
    put,
    path = "/api/v1/jobs/{id}",
    tag = "jobs",
    operation_id = "editJob",
    params(
        ("id" = String, Path, format = "uuid", description = "The job's id."),
        etag::IfMatchParam,
    ),
    request_body = JobFields,
    responses(
        (status = 200, description = "The job as it now is (`version` +1 if anything changed).",
            body = Job,
            headers(("ETag" = String, description = "The job's version, e.g. `\"4\"`."))),
        (status = 400, description = "A rule is broken, a member is server-owned or unknown, \
            or `printer_id` names no printer; each is named in `errors`. Nothing is saved.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, response = responses::JobNotFound),
        (status = 412, response = responses::VersionMismatch),
    ),
)]
pub async fn edit(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let patch = JobFields::from_body(body)?.into_patch();
    let id = job_id(&id)?;
    let job = state
        .jobs
        .edit(id, patch, if_match.into_condition(), &actor)
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// Delete a job
///
/// The job's history stays readable; a `job_deleted` event carries its last state.
#[utoipa::path(
    delete,
    path = "/api/v1/jobs/{id}",
    tag = "jobs",
    operation_id = "deleteJob",
    params(
        ("id" = String, Path, format = "uuid", description = "The job's id."),
        etag::IfMatchParam,
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, response = responses::JobNotFound),
        (status = 412, response = responses::VersionMismatch),
    ),
)]
pub async fn delete(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
    actor: RequestActor,
) -> Result<HttpResponse, Problem> {
    let id = job_id(&id)?;
    state
        .jobs
        .delete(id, if_match.into_condition(), &actor)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Move a job through its life
///
/// The status workflow: only the moves of the transition table (`docs/api.md`), setting and
/// clearing `started_at` / `completed_at` as it says. The same status again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/status",
    tag = "jobs",
    operation_id = "changeJobStatus",
    params(
        ("id" = String, Path, format = "uuid", description = "The job's id."),
        etag::IfMatchParam,
    ),
    request_body = StatusChange,
    responses(
        (status = 200, description = "The job as it now is.", body = Job,
            headers(("ETag" = String, description = "The job's version, e.g. `\"4\"`."))),
        (status = 400, description = "`status` is missing, or another member is given; each \
            is named in `errors`.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, response = responses::JobNotFound),
        (status = 409, description = "The workflow does not allow the move, or it needs \
            `force` (`urn:printdesk:problem:transition-not-allowed`); `allowed` lists the \
            statuses the job may move to.", body = Problem,
            content_type = "application/problem+json",
            example = json!({
                "type": "urn:printdesk:problem:transition-not-allowed",
                "title": "Status change not allowed", "status": 409,
                "detail": "A pending job cannot move to completed; allowed moves: running, failed.",
                "allowed": ["running", "failed"]
            })),
        (status = 412, response = responses::VersionMismatch),
    ),
)]
pub async fn change_status(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let change = StatusChange::from_body(body)?;
    let id = job_id(&id)?;
    let job = state
        .jobs
        .change_status(
            id,
            change.status,
            change.force,
            if_match.into_condition(),
            &actor,
        )
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// The body of a successful bulk edit.
#[derive(Serialize, ToSchema)]
pub(crate) struct BulkEdited {
    /// Every job, as it now is, in the order of the request's `ids`.
    jobs: Vec<Job>,
}

/// Edit many jobs at once
///
/// One change to up to 500 jobs, all or nothing, in one transaction; every rule is checked for
/// every job against its own stored state.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/bulk-edit",
    tag = "jobs",
    operation_id = "bulkEditJobs",
    request_body = BulkEdit,
    responses(
        (status = 200, description = "Every job as it now is, in the order of `ids`.",
            body = BulkEdited),
        (status = 400, description = "The request is malformed (members, ids, counts: named \
            in `errors`), or a job cannot take the change: nothing is saved, and `failures` \
            lists every failing job with its reasons.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "Every failing job failed only on its `if_versions` \
            entry (`urn:printdesk:problem:version-mismatch`): nothing is saved; reload them \
            (each `failures` entry has `current`) and try again.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn bulk_edit(
    state: web::Data<ApiState>,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let BulkEdit {
        ids,
        patch,
        if_versions,
    } = BulkEdit::from_body(body)?;
    // A refusal lists the failing jobs in the order of `ids` (the domain's contract).
    let jobs = state
        .jobs
        .bulk_edit(ids, patch, if_versions, &actor)
        .await?;
    Ok(HttpResponse::Ok().json(BulkEdited { jobs }))
}

/// Export jobs as CSV
///
/// Every job matching the filters, in the list's order (`sort`; the oldest first without
/// it), as a streamed RFC 4180 file: UTF-8 with a byte order mark, CRLF line ends, a header
/// row, then columns `id`, `job_name`, `status`, `is_business`, `customer_name`,
/// `printer_id`, `file_name`, `notes`, `version`, `created_at`, `updated_at`, `started_at`,
/// `completed_at`, `auto_created`, `discovery_time`, `printer_name` (new columns are only
/// ever appended). `delimiter=;` separates fields by semicolons; `tz` writes timestamps as
/// that zone's local `YYYY-MM-DD HH:MM:SS` (without it, as the API writes them); `lang`
/// writes headings, statuses and yes/no as the page's words (without it, keys and
/// `true`/`false`). A field that begins with `=`, `+`, `-`, `@`, a tab or a CR gets a
/// leading `'`.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/export.csv",
    tag = "jobs",
    operation_id = "exportJobsCsv",
    params(FilterParams, CsvParams),
    responses(
        (status = 200, description = "The CSV file, streamed.", body = String,
            content_type = "text/csv; charset=utf-8",
            headers(
                ("Content-Disposition" = String,
                    description = "`attachment; filename=\"printdesk-jobs-<YYYY-MM-DD>.csv\"`"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "A parameter is invalid, unknown or repeated, or is \
            `limit` or `offset` (the export holds every matching job); each is named in \
            `errors`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn export_csv(
    state: web::Data<ApiState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let (query, options) = csv_export_query(query.into_inner())?;
    let format = CsvFormat {
        delimiter: options.delimiter,
        zone: options.zone,
        lang: options.lang,
        printers: printer_names(&state).await?,
    };
    let mut export = state.jobs.export(query);
    // Read before the response starts, so that a store that is down is a 503, not a cut-off.
    let first_page = export.next_page().await?.unwrap_or_default();
    let later_pages = stream::unfold(export, |mut export| async move {
        let page = export.next_page().await.transpose()?;
        Some((page, export))
    });
    let body = csv_export::body(first_page, later_pages, format);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CSV))
        .insert_header(attachment("csv"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// The printers' names by id, for the exports' printer column.
async fn printer_names(state: &ApiState) -> Result<PrinterNames, Problem> {
    Ok(state
        .printers
        .list()
        .await?
        .into_iter()
        .map(|p| (p.id.as_str().to_owned(), p.name.as_str().to_owned()))
        .collect())
}

/// `Content-Disposition` for today's export file with that extension.
fn attachment(extension: &str) -> (header::HeaderName, String) {
    let today = OffsetDateTime::now_utc()
        .date()
        .format(format_description!("[year]-[month]-[day]"))
        .expect("a date formats");
    (
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"printdesk-jobs-{today}.{extension}\""),
    )
}

/// Runs the xlsx writer's blocking work off the async threads; any failure is logged and a
/// 500 (or the 400 for more jobs than a worksheet holds).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, XlsxExportError> + Send + 'static,
) -> Result<T, Problem> {
    match web::block(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(XlsxExportError::TooManyJobs)) => Err(Problem::new(
            ProblemKind::BadRequest,
            format!(
                "More than {MAX_JOBS} jobs match, more than a worksheet holds; narrow the \
                 filters, or use the CSV export."
            ),
        )),
        Ok(Err(error)) => {
            tracing::error!(error = %error, "the xlsx export failed");
            Err(Problem::internal())
        }
        Err(error) => {
            tracing::error!(error = %error, "the xlsx export's blocking task failed");
            Err(Problem::internal())
        }
    }
}

/// An xlsx file: a zip of the workbook's parts.
#[derive(ToSchema)]
#[allow(
    dead_code,
    reason = "describes the response body, which is streamed from a file"
)]
#[schema(value_type = String, format = Binary)]
pub(crate) struct XlsxFile(Vec<u8>);

/// Export jobs as an Excel workbook
///
/// Every job matching the filters, in the list's order (`sort`; the oldest first without
/// it), as one worksheet: a frozen header row, the printer's name beside its id, timestamps
/// as date cells in `tz` (UTC without it), statuses and yes/no as the page's words in `lang`
/// (from `Accept-Language` without it: German or English), every text as a text cell (never
/// a formula). The file is complete before it is sent.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/export.xlsx",
    tag = "jobs",
    operation_id = "exportJobsXlsx",
    params(
        FilterParams,
        XlsxParams,
        ("Accept-Language" = Option<String>, Header,
            description = "The language when `lang` is absent: `de` or `en`, else English."),
    ),
    responses(
        (status = 200, description = "The workbook.", body = XlsxFile,
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers(
                ("Content-Disposition" = String,
                    description = "`attachment; filename=\"printdesk-jobs-<YYYY-MM-DD>.xlsx\"`"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "A parameter is invalid, unknown or repeated, or is \
            `limit` or `offset`; each is named in `errors`. Or more than 1,048,575 jobs match \
            (more than a worksheet holds).", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn export_xlsx(
    state: web::Data<ApiState>,
    request: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let (query, options) = xlsx_export_query(query.into_inner())?;
    let accept_language = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let format = XlsxFormat {
        zone: options.zone.unwrap_or_default(),
        lang: options
            .lang
            .unwrap_or_else(|| Lang::from_accept_language(accept_language)),
        printers: printer_names(&state).await?,
    };
    let mut export = state.jobs.export(query);
    let mut writer = blocking(move || XlsxWriter::new(format)).await?;
    while let Some(page) = export.next_page().await? {
        writer = blocking(move || {
            writer.write(&page)?;
            Ok(writer)
        })
        .await?;
    }
    let (file, len) = blocking(move || writer.finish()).await?;
    let body = stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        match web::block(move || read_chunk(&mut file).map(|chunk| (chunk, file))).await {
            Ok(Ok((chunk, _))) if chunk.is_empty() => None,
            Ok(Ok((chunk, file))) => Some((Ok(web::Bytes::from(chunk)), Some(file))),
            Ok(Err(error)) => {
                tracing::error!(error = %error, "reading the finished xlsx export failed");
                Some((Err(ExportAborted), None))
            }
            Err(error) => {
                tracing::error!(error = %error, "the xlsx export's blocking task failed");
                Some((Err(ExportAborted), None))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XLSX))
        .insert_header(attachment("xlsx"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(SizedStream::new(len, body)))
}

/// One page of a job's audit trail.
#[derive(Serialize, ToSchema)]
#[schema(as = JobHistory)]
pub(crate) struct History {
    /// The events, newest first.
    events: Vec<JobEvent>,
    /// How many events the job has in all.
    total_count: u64,
    /// The page size asked for (1–500).
    #[schema(value_type = u32, minimum = 1, maximum = 500)]
    limit: Limit,
    /// The events skipped.
    offset: u64,
}

/// A job's audit trail
///
/// The job's events, newest first, exactly as the WebSocket delivers them: who changed what,
/// from what, to what. Readable after the job is deleted.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/history",
    tag = "jobs",
    operation_id = "getJobHistory",
    params(
        ("id" = String, Path, format = "uuid", description = "The job's id."),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of the job's events, newest first.",
            body = History),
        (status = 400, description = "A parameter is invalid, unknown or repeated; each is \
            named in `errors`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No job with this id ever existed (or the id is not a \
            UUID).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn history(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let (limit, offset) = page_query(query.into_inner())?;
    let id = job_id(&id)?;
    let JobHistory {
        events,
        total_count,
    } = state.jobs.history(id, limit, offset).await?;
    Ok(HttpResponse::Ok().json(History {
        events,
        total_count,
        limit,
        offset,
    }))
}
