//! `/printers` and `/printers/{id}`: list, register, read, delete.
//!
//! The body of `POST /printers` is read like a job body: only `id`, `name`, `printer_type` and
//! `location` are accepted (400 naming any other key), each of its JSON type (422 otherwise).

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::{NewPrinter, Printer, PrinterId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    API_PREFIX, ApiState,
    auth::RequestActor,
    json_body::{JsonObject, ObjectReader},
    openapi::{responses, schema},
    problem::Problem,
};

/// A printer id from the path; one of the wrong shape names no printer (404).
fn printer_id(raw: &str) -> Result<PrinterId, Problem> {
    PrinterId::parse(raw).map_err(|_| Problem::printer_not_found())
}

/// Why a key may not appear in a printer body, or `None` for one that may.
fn refusal(key: &str) -> Option<&'static str> {
    match key {
        "id" | "name" | "printer_type" | "location" => None,
        "created_at" => Some("is set by the server and cannot be changed"),
        _ => Some("is not a field of a printer"),
    }
}

/// Reads a printer body into a [`NewPrinter`]; its rules are checked by the domain.
fn new_printer(body: JsonObject) -> Result<NewPrinter, Problem> {
    let mut reader = ObjectReader::new(body);
    reader.refuse_keys(refusal)?;
    let new = NewPrinter {
        id: reader.nullable_string("id").apply(None),
        name: reader.string("name").unwrap_or_default(),
        printer_type: reader.string("printer_type").unwrap_or_default(),
        location: reader.nullable_string("location").apply(None),
    };
    reader.finish()?;
    Ok(new)
}

/// The list's wire shape.
#[derive(Serialize, ToSchema)]
pub(crate) struct PrinterList {
    /// Every printer, by name.
    printers: Vec<Printer>,
}

/// List printers
#[utoipa::path(
    get,
    path = "/api/v1/printers",
    tag = "printers",
    operation_id = "listPrinters",
    responses((status = 200, description = "Every printer, by name.", body = PrinterList)),
)]
pub async fn list(state: web::Data<ApiState>) -> Result<HttpResponse, Problem> {
    let printers = state.printers.list().await?;
    Ok(HttpResponse::Ok().json(PrinterList { printers }))
}

/// Register a printer
#[utoipa::path(
    post,
    path = "/api/v1/printers",
    tag = "printers",
    operation_id = "createPrinter",
    request_body = schema::NewPrinter,
    responses(
        (status = 201, description = "The printer as stored.", body = Printer,
            headers(("Location" = String, description = "`/api/v1/printers/{id}`"))),
        (status = 400, description = "A rule is broken or a member is unknown; each is named \
            in `errors`.", body = schema::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A printer with this id exists already \
            (`urn:printdesk:problem:duplicate`).", body = schema::Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn create(state: web::Data<ApiState>, body: JsonObject) -> Result<HttpResponse, Problem> {
    let printer = state.printers.create(new_printer(body)?).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{API_PREFIX}/printers/{}", printer.id),
        ))
        .json(printer))
}

/// Read a printer
#[utoipa::path(
    get,
    path = "/api/v1/printers/{id}",
    tag = "printers",
    operation_id = "getPrinter",
    params(("id" = String, Path, description = "The printer's id.")),
    responses(
        (status = 200, description = "The printer.", body = Printer),
        (status = 404, response = responses::PrinterNotFound),
    ),
)]
pub async fn get(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let printer = state.printers.get(&printer_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(printer))
}

/// Delete a printer
///
/// Its jobs stay: in the same transaction each gets `printer_id` null, a new version and a
/// `job_updated` event.
#[utoipa::path(
    delete,
    path = "/api/v1/printers/{id}",
    tag = "printers",
    operation_id = "deletePrinter",
    params(("id" = String, Path, description = "The printer's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, response = responses::PrinterNotFound),
    ),
)]
pub async fn delete(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    actor: RequestActor,
) -> Result<HttpResponse, Problem> {
    state.printers.delete(&printer_id(&id)?, &actor).await?;
    Ok(HttpResponse::NoContent().finish())
}
