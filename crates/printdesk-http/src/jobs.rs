//! The job handlers: `/jobs` (list, create), `/jobs/{id}` (read, edit, delete), the status
//! workflow (`/jobs/{id}/status`), the bulk edit (`/jobs/bulk-edit`), the CSV export
//! (`/jobs/export.csv`) and the audit trail (`/jobs/{id}/history`).

use std::{collections::HashMap, sync::Arc};

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::{BulkEditError, Job, JobEvent, JobId, Limit};
use serde::Serialize;
use time::{OffsetDateTime, macros::format_description};

use crate::{
    API_PREFIX, ApiState,
    auth::RequestActor,
    bulk_body::BulkEdit,
    csv_export::{self, PAGE_SIZE},
    edit_body::JobFields,
    etag,
    json_body::JsonObject,
    list_query::{export_query, job_query, page_query},
    problem::Problem,
    status_body::StatusChange,
};

/// The media type of the export.
const CSV: &str = "text/csv; charset=utf-8";

/// A job id from the path; one that is not a UUID names no job (404).
fn job_id(raw: &str) -> Result<JobId, Problem> {
    raw.parse().map_err(|_| Problem::job_not_found())
}

/// A job response with its `ETag`.
fn with_etag(mut response: actix_web::HttpResponseBuilder, job: &Job) -> HttpResponse {
    response.insert_header(etag::header(job.version)).json(job)
}

/// `GET /jobs`
pub async fn list(
    state: web::Data<ApiState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let query = job_query(query.into_inner())?;
    // `JobPage` serialises to the contract's shape: jobs, total_count, limit, offset.
    let page = state.jobs.list(&query).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /jobs`
pub async fn create(
    state: web::Data<ApiState>,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let draft = JobFields::from_body(body)?.into_draft();
    let job = state.jobs.create(draft, &actor).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("{API_PREFIX}/jobs/{}", job.id)));
    Ok(with_etag(response, &job))
}

/// `GET /jobs/{id}`
pub async fn get(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let job = state.jobs.get(job_id(&id)?).await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// `PUT /jobs/{id}`: the job edit, a partial update honouring `If-Match`.
pub async fn edit(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let patch = JobFields::from_body(body)?.into_patch();
    let id = job_id(&id)?;
    let expected = if_match.expected_version(&state.jobs, id).await?;
    let job = state.jobs.edit(id, patch, expected, &actor).await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// `DELETE /jobs/{id}`, honouring `If-Match`.
pub async fn delete(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
    actor: RequestActor,
) -> Result<HttpResponse, Problem> {
    let id = job_id(&id)?;
    let expected = if_match.expected_version(&state.jobs, id).await?;
    state.jobs.delete(id, expected, &actor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /jobs/{id}/status`: the status workflow, honouring `If-Match`.
pub async fn change_status(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
    actor: RequestActor,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let change = StatusChange::from_body(body)?;
    let id = job_id(&id)?;
    let expected = if_match.expected_version(&state.jobs, id).await?;
    let job = state
        .jobs
        .change_status(id, change.status, change.force, expected, &actor)
        .await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// The body of a successful bulk edit.
#[derive(Serialize)]
struct BulkEdited {
    /// Every job, as it now is, in the order of the request's `ids`.
    jobs: Vec<Job>,
}

/// `POST /jobs/bulk-edit`: one change to many jobs, all or nothing.
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
    let position: HashMap<JobId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    match state.jobs.bulk_edit(ids, patch, if_versions, &actor).await {
        Ok(jobs) => Ok(HttpResponse::Ok().json(BulkEdited { jobs })),
        Err(BulkEditError::Rejected { mut failures }) => {
            // The store reports missing jobs first; the client reads them in its own order.
            failures.sort_by_key(|f| position.get(&f.id).copied().unwrap_or(usize::MAX));
            Err(BulkEditError::Rejected { failures }.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// `GET /jobs/export.csv`: every job matching the list's filters, as a streamed CSV file.
pub async fn export_csv(
    state: web::Data<ApiState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let query = Arc::new(export_query(query.into_inner())?);
    let repository = Arc::clone(state.jobs.repository());
    // Read before the response starts, so that a store that is down is a 503, not a cut-off.
    let first_page = repository.scan(&query, None, PAGE_SIZE).await?;
    let body = csv_export::body(first_page, move |after| {
        let (repository, query) = (Arc::clone(&repository), Arc::clone(&query));
        async move { repository.scan(&query, Some(after), PAGE_SIZE).await }
    });
    let today = OffsetDateTime::now_utc()
        .date()
        .format(format_description!("[year]-[month]-[day]"))
        .expect("a date formats");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CSV))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"printdesk-jobs-{today}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// One page of a job's audit trail.
#[derive(Serialize)]
struct History {
    /// The events, newest first.
    events: Vec<JobEvent>,
    /// How many events the job has in all.
    total_count: u64,
    /// The page size asked for.
    limit: Limit,
    /// The events skipped.
    offset: u64,
}

/// `GET /jobs/{id}/history`: the job's events, newest first; readable after a delete.
pub async fn history(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let (limit, offset) = page_query(query.into_inner())?;
    let id = job_id(&id)?;
    let (events, total_count) = state
        .jobs
        .repository()
        .history(id, limit.get(), offset)
        .await?;
    // Every job that ever existed has at least its `job_created` event.
    if total_count == 0 {
        return Err(Problem::job_not_found());
    }
    Ok(HttpResponse::Ok().json(History {
        events,
        total_count,
        limit,
        offset,
    }))
}
