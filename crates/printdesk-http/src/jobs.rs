//! `/jobs` and `/jobs/{id}`: list, create, read, edit, delete.

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::{Job, JobId};

use crate::{
    API_PREFIX, ApiState, actor, edit_body::JobFields, etag, json_body::JsonObject,
    list_query::job_query, problem::Problem,
};

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
pub async fn create(state: web::Data<ApiState>, body: JsonObject) -> Result<HttpResponse, Problem> {
    let draft = JobFields::from_body(body)?.into_draft();
    let job = state.jobs.create(draft, &actor()).await?;
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
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let patch = JobFields::from_body(body)?.into_patch();
    let id = job_id(&id)?;
    let expected = if_match.expected_version(&state.jobs, id).await?;
    let job = state.jobs.edit(id, patch, expected, &actor()).await?;
    Ok(with_etag(HttpResponse::Ok(), &job))
}

/// `DELETE /jobs/{id}`, honouring `If-Match`.
pub async fn delete(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    if_match: etag::IfMatch,
) -> Result<HttpResponse, Problem> {
    let id = job_id(&id)?;
    let expected = if_match.expected_version(&state.jobs, id).await?;
    state.jobs.delete(id, expected, &actor()).await?;
    Ok(HttpResponse::NoContent().finish())
}
