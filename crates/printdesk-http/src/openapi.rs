//! The API's OpenAPI 3.1 document, generated from the code with `utoipa`, and the routes that
//! serve it: the document at [`OPENAPI_PATH`] and Swagger UI at [`DOCS_PATH`] (vendored into
//! the binary, so it works with no internet). Both are public: the authentication middleware
//! only guards `/api/v1`.
//!
//! This module holds the document itself (its paths, tags, security and shared responses);
//! every schema is derived on the type that is serialised or parsed:
//!
//! - **Resources** (`Job`, `JobStatus`, `JobEvent`, `Printer`, …) are the domain's own types,
//!   which derive `utoipa::ToSchema` under `printdesk-domain`'s `openapi` feature.
//! - **Operations**: every handler carries `#[utoipa::path(...)]` next to its code
//!   (`jobs.rs`, `printers.rs`, `ops.rs`); query parameters are described by the structs in
//!   `list_query.rs`, beside the lists of names the parser accepts.
//! - **Request bodies** are read field by field by `ObjectReader` (so that every wrong key and
//!   type is named), not by serde, into structs that carry the schema (`edit_body.rs`,
//!   `status_body.rs`, `bulk_body.rs`, `printer_body.rs`); each module's tests check that its
//!   schema's members are exactly the keys its reader accepts. They deny unknown members
//!   (`additionalProperties: false`), like the reader.
//! - **Errors**: [`Problem`](crate::Problem)'s wire shape, and reusable responses
//!   ([`responses`]). [`document`] adds to every `/api/v1` operation the answers any of them
//!   can give (401, 500, 503, and 413, 415, 422 to those that read a body), so no operation
//!   can forget one.
//! - **Other adapters' parts**: the WebSocket (`GET /api/v1/ws`) is described by
//!   `printdesk-ws`; the composition root merges it in with [`document`] and serves the
//!   result with [`docs_routes`].
//!
//! `tests/openapi.rs` snapshots the document as served (`insta`): every change to the API is a
//! reviewed diff of `tests/snapshots/openapi__openapi.snap`.

use actix_web::{
    HttpResponse,
    http::header::{self, HeaderValue},
    middleware::DefaultHeaders,
    web,
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, Ref, RefOr,
        path::Operation,
        response::Responses,
        security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        },
    },
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{API_PREFIX, Problem, customers, jobs, ops, printers, reports};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// Where Swagger UI is served (`/api/docs` redirects to `/api/docs/`).
pub const DOCS_PATH: &str = "/api/docs";

/// The name of the security scheme (`Authorization: Bearer <token>`).
pub const BEARER: &str = "bearer";

/// The name of the session cookie's security scheme.
pub const SESSION: &str = "session";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "printdesk API",
        description = "The print-job desk's HTTP API: jobs, their status workflow, bulk edits, \
CSV export, audit trail, printers, and live updates over a WebSocket.\n\n\
- JSON in, JSON out, UTF-8. Timestamps are RFC 3339 in UTC with milliseconds \
(`2026-11-28T16:34:28.123Z`).\n\
- Request bodies are `Content-Type: application/json` (else 415), at most 64 KiB (else 413), \
and a JSON object (else 422). Unknown members are refused (400), each named.\n\
- Every error is `application/problem+json` (RFC 9457): `type`, `title`, `status`, a `detail` \
sentence, and where it helps `errors`, `current`, `allowed` or `failures`.\n\
- Once the server has a user or an API token, every `/api/v1` request needs a session (the \
cookie `POST /api/v1/session` sets) or `Authorization: Bearer <token>` (401 otherwise), and a \
role that may do what it asks (403 otherwise, naming the role). Before that (a new server on \
loopback) nothing is needed.\n\
- Every response carries `X-Request-Id`, the id the server's log lines for the request carry.\n\n\
More in `docs/api.md` and `docs/websocket.md`.",
    ),
    paths(
        jobs::list,
        jobs::create,
        jobs::get,
        jobs::edit,
        jobs::delete,
        jobs::change_status,
        jobs::bulk_edit,
        jobs::export_csv,
        jobs::export_xlsx,
        jobs::history,
        customers::list,
        reports::summary,
        printers::list,
        printers::create,
        printers::get,
        printers::update,
        printers::delete,
        printers::test_connection,
        crate::auth::session::sign_in,
        crate::auth::session::who_am_i,
        crate::auth::session::sign_out,
        crate::auth::session::setup_status,
        crate::auth::session::setup,
        crate::auth::users::list,
        crate::auth::users::create,
        crate::auth::users::update,
        crate::auth::users::delete,
        crate::auth::users::end_sessions,
        crate::auth::users::update_account,
        crate::auth::api_tokens::list,
        crate::auth::api_tokens::create,
        crate::auth::api_tokens::revoke,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    components(
        schemas(Problem, printdesk_domain::JobEvent),
        responses(
            responses::Unauthorized,
            responses::Forbidden,
            responses::JobNotFound,
            responses::PrinterNotFound,
            responses::VersionMismatch,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::Unprocessable,
            responses::Unavailable,
            responses::Internal,
        ),
    ),
    modifiers(&Security),
    tags(
        (name = "jobs", description = "Print jobs: list, create, read, edit, delete, the status \
workflow, bulk edit, CSV and xlsx exports, the audit trail, and the customer names the \
jobs have."),
        (name = "reports", description = "Figures over the jobs: counts, business and \
private, print time, per customer, printer, month or status."),
        (name = "printers", description = "The printers jobs run on."),
        (name = "access", description = "Users, sign-in sessions, API tokens and the first-run \
set-up. Roles: `viewer` reads; `operator` also creates, edits, moves and deletes jobs; `admin` \
also manages printers, users and tokens."),
        (name = "operations", description = "Health, readiness and metrics for operators; no \
token needed."),
    ),
)]
struct ApiDoc;

/// The HTTP API's document with `parts` from other adapters (the WebSocket's) merged in, and
/// the answers every `/api/v1` operation can give added to each, theirs too.
pub fn document(parts: impl IntoIterator<Item = openapi::OpenApi>) -> openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for part in parts {
        document.merge(part);
    }
    Common.modify(&mut document);
    document
}

/// `GET /api/openapi.json`: `document`, serialised once.
async fn serve(document: web::Data<web::Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        // Changes only with the binary; let clients revalidate cheaply.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(document.get_ref().clone())
}

/// `GET /api/docs`: Swagger UI's page loads its files relative to `/api/docs/`.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, format!("{DOCS_PATH}/")))
        .finish()
}

/// Serves `document` (see [`document`]) at [`OPENAPI_PATH`] and Swagger UI under
/// [`DOCS_PATH`]; the result is for `App::configure` in every worker, before any catch-all
/// route. Neither needs a token.
pub fn docs_routes(
    document: &openapi::OpenApi,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let json = web::Bytes::from(
        document
            .to_pretty_json()
            .expect("the OpenAPI document serialises"),
    );
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::resource(OPENAPI_PATH)
                .app_data(web::Data::new(json.clone()))
                .route(web::get().to(serve)),
        )
        .service(
            web::scope(DOCS_PATH)
                .wrap(docs_headers())
                .route("", web::get().to(docs_redirect))
                .service(
                    SwaggerUi::new("/{_:.*}").config(
                        Config::new([OPENAPI_PATH])
                            // The page is about this API only: no box to load another document.
                            .use_base_layout()
                            .display_request_duration(true)
                            .try_it_out_enabled(false),
                    ),
                ),
        );
    }
}

/// The headers of Swagger UI's files: it runs in this origin and may hold a token, so it is
/// never framed, never leaks a referrer, and runs only its own scripts (its styles are
/// partly inline).
fn docs_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
            ),
        ))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// The bearer scheme, required by every operation that does not say otherwise.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token: `Authorization: Bearer <token>`. Admins make them with \
                         `POST /api/v1/tokens` (acting with the token's role); the tokens file \
                         and `PRINTDESK_API_TOKENS` hold more (`printdesk token create NAME`; \
                         admins). The token's name is the `actor` of the changes made with it.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The session cookie `POST /api/v1/session` sets (`HttpOnly; SameSite=Strict`). \
                 Requests that change something must come from the page's own origin.",
            ))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new(BEARER, [""; 0]),
            SecurityRequirement::new(SESSION, [""; 0]),
        ]);
    }
}

/// Answers every `/api/v1` operation can give whatever its own rules: 401 (the token), 403
/// (the role, outside the public paths), 500 and
/// 503 (the server and its database); and for those that read a body, 413, 415 and 422 (the
/// body extractor). Added only where the operation does not describe that status itself.
struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with(API_PREFIX) {
                continue;
            }
            for operation in operations(item) {
                let mut common = vec![
                    ("401", "Unauthorized"),
                    ("500", "Internal"),
                    ("503", "Unavailable"),
                ];
                // Every route but signing in and the first run checks the caller's role.
                if !crate::auth::PUBLIC_PATHS.contains(&path.as_str()) {
                    common.push(("403", "Forbidden"));
                }
                if operation.request_body.is_some() {
                    common.extend([
                        ("413", "PayloadTooLarge"),
                        ("415", "UnsupportedMediaType"),
                        ("422", "Unprocessable"),
                    ]);
                }
                add_responses(&mut operation.responses, &common);
            }
        }
    }
}

/// The operations of a path item.
fn operations(item: &mut openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Adds a reference to each named response component, unless the status is described already.
fn add_responses(responses: &mut Responses, common: &[(&str, &str)]) {
    for (status, component) in common {
        responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*component)));
    }
}

/// Reusable error responses, referenced by the operations (and added by `Common`).
#[allow(
    dead_code,
    reason = "response components: each names what a status means; never built"
)]
pub mod responses {
    use utoipa::ToResponse;

    use crate::Problem;

    /// The server has API tokens and the request has no valid one
    /// (`urn:printdesk:problem:unauthorized`).
    #[derive(Debug, ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(
            ("WWW-Authenticate" = String, description = "`Bearer realm=\"printdesk\"`, plus \
              `error=\"invalid_token\"` for a token that is not valid.")
        )
    )]
    pub struct Unauthorized(Problem);

    /// The caller's role is too low (`urn:printdesk:problem:forbidden`): `detail` and
    /// `role_needed` name the role needed. Also for a request with the session cookie that
    /// comes from another site.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Forbidden(Problem);

    /// No job with this id exists (also for an id that is not a UUID).
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct JobNotFound(Problem);

    /// No printer with this id exists (also for an id of the wrong shape).
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PrinterNotFound(Problem);

    /// `If-Match` names another version than the job's current one
    /// (`urn:printdesk:problem:version-mismatch`): nothing was saved; `current` holds the job
    /// as it is now.
    #[derive(Debug, ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(("ETag" = String, description = "The current version, e.g. `\"4\"`."))
    )]
    pub struct VersionMismatch(Problem);

    /// The body is larger than 64 KiB (`urn:printdesk:problem:payload-too-large`).
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PayloadTooLarge(Problem);

    /// The body is not sent as `application/json`
    /// (`urn:printdesk:problem:unsupported-media-type`).
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UnsupportedMediaType(Problem);

    /// The body is not JSON or not a JSON object (`urn:printdesk:problem:malformed-body`), or
    /// a member has the wrong JSON type or `status` is not one of the four
    /// (`urn:printdesk:problem:wrong-type`, each named in `errors`).
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unprocessable(Problem);

    /// The database is unreachable (`urn:printdesk:problem:unavailable`); retry later.
    #[derive(Debug, ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(("Retry-After" = u32, description = "Seconds to wait: 5."))
    )]
    pub struct Unavailable(Problem);

    /// Anything else (`urn:printdesk:problem:internal`); the body says nothing of the cause,
    /// the server's log says everything (quote `X-Request-Id`).
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Internal(Problem);
}

/// The names of the members of `T`'s schema, in order: for the tests that compare them with the
/// keys a body's reader accepts.
#[cfg(test)]
pub(crate) fn property_names<T: utoipa::PartialSchema>() -> Vec<String> {
    match T::schema() {
        RefOr::T(openapi::Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => panic!("not an object schema"),
    }
}
