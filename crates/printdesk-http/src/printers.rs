//! `/printers` and `/printers/{id}`: list, register, read, delete.
//!
//! The body of `POST /printers` is read like a job body: only `id`, `name`, `printer_type` and
//! `location` are accepted (400 naming any other key), each of its JSON type (422 otherwise).

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::{NewPrinter, Printer, PrinterId};
use serde::Serialize;

use crate::{
    API_PREFIX, ApiState,
    auth::RequestActor,
    json_body::{JsonObject, ObjectReader},
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
#[derive(Serialize)]
struct PrinterList {
    printers: Vec<Printer>,
}

/// `GET /printers`
pub async fn list(state: web::Data<ApiState>) -> Result<HttpResponse, Problem> {
    let printers = state.printers.list().await?;
    Ok(HttpResponse::Ok().json(PrinterList { printers }))
}

/// `POST /printers`
pub async fn create(state: web::Data<ApiState>, body: JsonObject) -> Result<HttpResponse, Problem> {
    let printer = state.printers.create(new_printer(body)?).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{API_PREFIX}/printers/{}", printer.id),
        ))
        .json(printer))
}

/// `GET /printers/{id}`
pub async fn get(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let printer = state.printers.get(&printer_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(printer))
}

/// `DELETE /printers/{id}`: the printer's jobs stay, with `printer_id` null.
pub async fn delete(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    actor: RequestActor,
) -> Result<HttpResponse, Problem> {
    state.printers.delete(&printer_id(&id)?, &actor).await?;
    Ok(HttpResponse::NoContent().finish())
}
