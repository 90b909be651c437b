//! `/printers` and `/printers/{id}`: list, register, read, edit, delete; `/printers/test`:
//! "Test connection".
//!
//! Bodies are read by [`crate::printer_body`] like a job body: only the printer's fields (and,
//! inside `connection`, connection settings) are accepted (400 naming any other key), each of
//! its JSON type (422 otherwise). Responses show `connection` with its secrets as `"set"`,
//! never their values, and the printer's live `status`.

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::{
    ConnectionTest, ConnectionTestRequest, NewPrinter, Printer, PrinterId, PrinterPatch,
    TestConnectionError,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    API_PREFIX, ApiState,
    auth::RequestActor,
    json_body::JsonObject,
    openapi::responses,
    printer_body::{self, PrinterFields, Purpose},
    problem::Problem,
};

/// A printer id from the path; one of the wrong shape names no printer (404).
fn printer_id(raw: &str) -> Result<PrinterId, Problem> {
    PrinterId::parse(raw).map_err(|_| Problem::printer_not_found())
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
    request_body = NewPrinter,
    responses(
        (status = 201, description = "The printer as stored.", body = Printer,
            headers(("Location" = String, description = "`/api/v1/printers/{id}`"))),
        (status = 400, description = "A rule is broken or a member is unknown; each is named \
            in `errors`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A printer with this id exists already \
            (`urn:printdesk:problem:duplicate`).", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn create(state: web::Data<ApiState>, body: JsonObject) -> Result<HttpResponse, Problem> {
    let new = PrinterFields::from_body(body, Purpose::Register)?.into_new();
    let printer = state.printers.create(new).await?;
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

/// Edit a printer
///
/// JSON merge-patch: an absent member keeps its stored value, `null` clears it. `connection`
/// is merged setting by setting (changing `host` keeps the stored `access_code`); changing
/// its `kind` starts from no settings, so the new kind's required ones must be given.
/// `tls_fingerprint` can only be cleared (`null`), to trust the printer's next certificate.
#[utoipa::path(
    patch,
    path = "/api/v1/printers/{id}",
    tag = "printers",
    operation_id = "editPrinter",
    params(("id" = String, Path, description = "The printer's id.")),
    request_body = PrinterPatch,
    responses(
        (status = 200, description = "The printer as stored now.", body = Printer),
        (status = 400, description = "A rule is broken or a member is unknown or not editable; \
            each is named in `errors`. Nothing was saved.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, response = responses::PrinterNotFound),
    ),
)]
pub async fn update(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let id = printer_id(&id)?;
    let patch = PrinterFields::from_body(body, Purpose::Edit)?.into_patch();
    let printer = state.printers.update(&id, patch).await?;
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

/// Test a connection
///
/// Connects to the printer once, signs in and reads its status, as monitoring would, within
/// 10 s, and says what it found; nothing is saved (a Bambu Lab certificate seen for the first
/// time is not trusted by a test). `connection` is checked as a registration's (400 naming
/// every broken rule). With `printer_id`, the stored printer's secrets (and trusted
/// certificate fingerprint) stand in for the ones not given, so a form can test its values
/// without the stored secrets ever being sent back; every other setting is tested as given.
/// A printer that cannot be reached or refuses is still a 200: `reachable` is false and
/// `detail` says why, in the words of the printer's status `error`.
#[utoipa::path(
    post,
    path = "/api/v1/printers/test",
    tag = "printers",
    operation_id = "testPrinterConnection",
    request_body = ConnectionTestRequest,
    responses(
        (status = 200, description = "What the test found.", body = ConnectionTest),
        (status = 400, description = "A rule is broken or a member is unknown; each is named \
            in `errors`. Nothing was tried.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn test_connection(
    state: web::Data<ApiState>,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let request = printer_body::connection_test(body)?;
    let answer = state.connection_tests.test(request).await?;
    Ok(HttpResponse::Ok().json(answer))
}

impl From<TestConnectionError> for Problem {
    fn from(error: TestConnectionError) -> Self {
        match error {
            TestConnectionError::Invalid(errors) => Self::validation(&errors),
            TestConnectionError::Secrets(e) => {
                tracing::error!(error = %e, "a stored connection secret could not be opened");
                Self::internal()
            }
            TestConnectionError::Store(e) => e.into(),
        }
    }
}
