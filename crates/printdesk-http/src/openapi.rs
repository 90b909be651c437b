//! The API's OpenAPI 3.1 document, generated from the code with `utoipa`, and the routes that
//! serve it: the document at [`OPENAPI_PATH`] and Swagger UI at [`DOCS_PATH`] (vendored into
//! the binary, so it works with no internet). Both are public: the authentication middleware
//! only guards `/api/v1`.
//!
//! ## Where each part of the document comes from
//!
//! - **Resources** (`Job`, `JobStatus`, `JobEvent`, `Printer`, …) are the domain's own types,
//!   which derive `utoipa::ToSchema` under `printdesk-domain`'s `openapi` feature: the schema
//!   is read off the very types the API serialises, so the two cannot drift apart.
//! - **Operations**: every handler carries `#[utoipa::path(...)]` next to its code
//!   (`jobs.rs`, `printers.rs`, `ops.rs`); query parameters are described by the structs in
//!   `list_query.rs`, beside the lists of names the parser accepts.
//! - **Request bodies** are read field by field by `ObjectReader` (so that every wrong key and
//!   type is named), not by serde; [`schema`] describes them with schema-only types. They
//!   deny unknown members (`additionalProperties: false`), like the parser.
//! - **Errors**: [`schema::Problem`], and reusable responses ([`responses`]). `Common` adds
//!   to every `/api/v1` operation the answers any of them can give (401, 500, 503, and 413,
//!   415, 422 to those that read a body), so no operation can forget one.
//! - **The WebSocket** (`GET /api/v1/ws`, served by `printdesk-ws`): its path entry and its
//!   message schemas (`WsHello`, `WsMessage`, `WsCloseCode`) are written here (`WebSocket`),
//!   since this crate cannot depend on `printdesk-ws`; that crate's tests check its constants
//!   against them.
//!
//! `tests/openapi.rs` snapshots the document (`insta`): every change to the API is a reviewed
//! diff of `tests/snapshots/openapi__openapi.snap`.

use std::sync::LazyLock;

use actix_web::{
    HttpResponse,
    http::header::{self, HeaderValue},
    middleware::DefaultHeaders,
    web,
};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::{
        self, Ref, RefOr, Required,
        path::{Operation, ParameterBuilder, ParameterIn, PathItemBuilder},
        response::{ResponseBuilder, Responses},
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{API_PREFIX, jobs, ops, printers};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// Where Swagger UI is served (`/api/docs` redirects to `/api/docs/`).
pub const DOCS_PATH: &str = "/api/docs";

/// The path of the WebSocket endpoint, as documented.
pub const WS_PATH: &str = "/api/v1/ws";

/// The name of the security scheme (`Authorization: Bearer <token>`).
pub const BEARER: &str = "bearer";

/// The media type of every error body.
const PROBLEM: &str = "application/problem+json";

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
- When the server has API tokens, every `/api/v1` request needs `Authorization: Bearer <token>` \
(401 otherwise). Without tokens (a server on loopback) no token is needed.\n\
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
        jobs::history,
        printers::list,
        printers::create,
        printers::get,
        printers::update,
        printers::delete,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    components(
        schemas(
            schema::Problem,
            schema::BulkFailure,
            schema::WsHello,
            schema::WsMessage,
            schema::WsCloseCode,
            printdesk_domain::JobEvent,
        ),
        responses(
            responses::Unauthorized,
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
    // Common last: it adds the shared answers to every /api/v1 operation, the WebSocket too.
    modifiers(&Security, &WebSocket, &Common),
    tags(
        (name = "jobs", description = "Print jobs: list, create, read, edit, delete, the status \
workflow, bulk edit, CSV export and the audit trail."),
        (name = "printers", description = "The printers jobs run on."),
        (name = "live", description = "Live updates over a WebSocket (`docs/websocket.md`)."),
        (name = "operations", description = "Health, readiness and metrics for operators; no \
token needed."),
    ),
)]
struct ApiDoc;

/// The OpenAPI document of the whole API, as served at [`OPENAPI_PATH`].
pub fn openapi() -> openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as served: built and serialised once per process.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
});

/// `GET /api/openapi.json`
async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        // Changes only with the binary; let clients revalidate cheaply.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(DOCUMENT.as_str())
}

/// `GET /api/docs`: Swagger UI's page loads its files relative to `/api/docs/`.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, format!("{DOCS_PATH}/")))
        .finish()
}

/// Registers [`OPENAPI_PATH`] and Swagger UI under [`DOCS_PATH`]; for `App::configure`, before
/// any catch-all route. Neither needs a token.
pub fn docs_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(OPENAPI_PATH, web::get().to(document)).service(
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
                        "An API token: `Authorization: Bearer <token>`. Needed on every \
                         `/api/v1` request when the server has tokens (it refuses to serve \
                         anything but loopback without them); `printdesk token create NAME` \
                         makes one. The token's name is the `actor` of the changes made \
                         with it.",
                    ))
                    .build(),
            ),
        );
        openapi.security = Some(vec![SecurityRequirement::new(BEARER, [""; 0])]);
    }
}

/// Answers every `/api/v1` operation can give whatever its own rules: 401 (the token), 500 and
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

/// `GET /api/v1/ws`: not an HTTP operation a generator can call, but documented like one so
/// that the upgrade, its parameters, its errors and the message schemas are in one place.
struct WebSocket;

impl Modify for WebSocket {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let since = ParameterBuilder::new()
            .name("since")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "The last `seq` the client received: first every stored event after it is \
                 replayed, then live ones follow, with no gap and no duplicate.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(openapi::SchemaFormat::KnownFormat(
                        openapi::KnownFormat::Int64,
                    )))
                    .minimum(Some(0)),
            ));
        let job_id = ParameterBuilder::new()
            .name("job_id")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "Only events about this job (the `hello` is sent all the same).",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(openapi::SchemaFormat::Custom("uuid".into()))),
            ));
        let protocol = ParameterBuilder::new()
            .name("Sec-WebSocket-Protocol")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "`printdesk.bearer.<token>`: the token for a client that cannot set \
                 `Authorization` on a WebSocket (a browser). The server echoes the subprotocol \
                 in its 101.",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)));

        let mut switching = ResponseBuilder::new()
            .description(
                "Switching Protocols: the connection is a WebSocket. The server sends JSON text \
                 frames, each a `WsMessage`: first one `WsHello`, then `JobEvent`s in \
                 increasing `seq`. The client needs to send nothing; pings are answered. The \
                 server closes with a `WsCloseCode` and the reason `… reconnect with since=N`.",
            )
            .build();
        // 101 has no body: the messages that follow are named by an extension.
        switching.extensions = Some(
            openapi::extensions::ExtensionsBuilder::new()
                .add(
                    "x-websocket-messages",
                    serde_json::json!({ "$ref": "#/components/schemas/WsMessage" }),
                )
                .add(
                    "x-websocket-close-codes",
                    serde_json::json!({ "$ref": "#/components/schemas/WsCloseCode" }),
                )
                .build(),
        );
        let bad_request = ResponseBuilder::new()
            .description(
                "A parameter is invalid or unknown (each is named in `errors`), or the request \
                 is not a WebSocket upgrade.",
            )
            .content(
                PROBLEM,
                openapi::ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema::Problem::name())))
                    .build(),
            )
            .build();

        // 401, 500 and 503 come from [`Common`], like every `/api/v1` operation's.
        let operation = openapi::path::OperationBuilder::new()
            .tag("live")
            .operation_id(Some("subscribe"))
            .summary(Some("Live updates (WebSocket)"))
            .description(Some(
                "Upgrades to a WebSocket that delivers every committed change to a job, in \
                 `seq` order, exactly once, whichever instance made it. Reconnect with `since` \
                 to get everything missed. See `docs/websocket.md`.",
            ))
            .parameter(since)
            .parameter(job_id)
            .parameter(protocol)
            .response("101", switching)
            .response("400", bad_request)
            .build();
        openapi.paths.paths.insert(
            WS_PATH.to_owned(),
            PathItemBuilder::new()
                .operation(openapi::HttpMethod::Get, operation)
                .build(),
        );
    }
}

/// Schemas of the wire that no domain type describes: request bodies (read by `ObjectReader`,
/// not by serde), the problem envelope, and the WebSocket's own messages.
///
/// Serde attributes here only tell utoipa about the wire (`deny_unknown_fields` is
/// `additionalProperties: false`); nothing deserialises into these types.
#[allow(
    dead_code,
    reason = "schema-only types: they describe the wire, they are never built"
)]
pub mod schema {
    use std::collections::HashMap;

    use printdesk_domain::{FieldViolation, Job, JobEvent, JobStatus, PrinterType};
    use serde::Deserialize;
    use utoipa::{
        PartialSchema, ToSchema,
        openapi::{
            KnownFormat, Ref, RefOr, Schema, SchemaFormat,
            schema::{ObjectBuilder, OneOfBuilder, Type},
        },
    };

    /// An RFC 9457 problem: the body of every error response.
    #[derive(Debug, ToSchema)]
    #[schema(example = json!({
        "type": "urn:printdesk:problem:validation",
        "title": "Validation failed",
        "status": 400,
        "detail": "job_name must not be empty; customer_name is required for business jobs",
        "errors": [
            { "field": "job_name", "message": "must not be empty" },
            { "field": "customer_name", "message": "is required for business jobs" }
        ]
    }))]
    pub struct Problem {
        /// The kind of problem: `urn:printdesk:problem:<kind>` (`validation`, `bad-request`,
        /// `unauthorized`, `not-found`, `method-not-allowed`, `duplicate`,
        /// `transition-not-allowed`, `version-mismatch`, `payload-too-large`,
        /// `unsupported-media-type`, `malformed-body`, `wrong-type`, `unavailable`,
        /// `internal`), or `about:blank` for a status without a kind of its own.
        #[schema(rename = "type", format = "uri")]
        pub type_uri: String,
        /// Short, the same for every problem of the kind.
        pub title: String,
        /// The HTTP status.
        #[schema(minimum = 400, maximum = 599)]
        pub status: u16,
        /// A sentence a person can read (the page shows it).
        pub detail: String,
        /// One entry per field (or query parameter) at fault.
        #[schema(required = false)]
        pub errors: Vec<FieldViolation>,
        /// On a 412: the job as it is stored now.
        #[schema(required = false)]
        pub current: Job,
        /// On a refused status move (409): the statuses the job may move to from where it is.
        #[schema(required = false)]
        pub allowed: Vec<JobStatus>,
        /// On a refused bulk edit: every failing job, in the order of the request's `ids`.
        #[schema(required = false)]
        pub failures: Vec<BulkFailure>,
    }

    /// Why one job of a refused bulk edit failed: what it would have got on its own.
    #[derive(Debug, ToSchema)]
    pub struct BulkFailure {
        /// The job.
        #[schema(format = "uuid")]
        pub id: String,
        /// As in a problem.
        #[schema(rename = "type", format = "uri")]
        pub type_uri: String,
        /// 400 (a rule), 404 (no such job) or 412 (a stale `if_versions` entry).
        #[schema(minimum = 400, maximum = 599)]
        pub status: u16,
        /// A sentence a person can read.
        pub detail: String,
        /// The rules the job breaks.
        #[schema(required = false)]
        pub errors: Vec<FieldViolation>,
        /// On a stale version: the job as it is stored now.
        #[schema(required = false)]
        pub current: Job,
    }

    /// A new job (`POST /jobs`). Absent fields take their defaults; the rules are those of
    /// the job (`docs/api.md`), judged on the job as it will be. Any other member is refused
    /// (400), each named. No text may contain U+0000.
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({
        "job_name": "Benchy", "is_business": true, "customer_name": "ACME",
        "file_name": "benchy.3mf", "notes": "0.2 mm, PLA"
    }))]
    pub struct NewJob {
        /// Trimmed; 1–200 characters after trimming.
        #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
        pub job_name: String,
        /// Default `pending`.
        #[schema(required = false)]
        pub status: JobStatus,
        /// Default `false`.
        #[schema(required = false)]
        pub is_business: bool,
        /// Trimmed, at most 200 characters after trimming; empty or blank becomes null.
        /// Required whenever the job is a business job.
        #[schema(pattern = "^[^\\u0000]*$")]
        pub customer_name: Option<String>,
        /// At most 1000 characters, kept exactly as sent.
        #[schema(max_length = 1000, pattern = "^[^\\u0000]*$")]
        pub notes: Option<String>,
        /// At most 255 characters.
        #[schema(max_length = 255, pattern = "^[^\\u0000]*$")]
        pub file_name: Option<String>,
        /// An existing printer's id; null (or absent) for a manual job.
        #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
        pub printer_id: Option<String>,
    }

    /// A change to a job (`PUT /jobs/{id}` and the bulk edit's `changes`): a partial update.
    /// An absent member keeps its stored value; `null` clears one that may be null. `{}`
    /// changes nothing. Server-owned members (`id`, `version`, `created_at`, …) and unknown
    /// ones are refused (400), each named. No text may contain U+0000.
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({ "notes": "re-sliced", "customer_name": "ACME" }))]
    pub struct JobEdit {
        /// Trimmed; 1–200 characters after trimming. Not null.
        #[schema(required = false, min_length = 1, pattern = "^[^\\u0000]*$")]
        pub job_name: String,
        /// Any of the four, from any status; `started_at` / `completed_at` are not touched
        /// (the status workflow sets those). Not null.
        #[schema(required = false)]
        pub status: JobStatus,
        /// Not null.
        #[schema(required = false)]
        pub is_business: bool,
        /// Trimmed, at most 200 characters after trimming; empty, blank or null clears it, which
        /// a business job refuses.
        #[schema(pattern = "^[^\\u0000]*$")]
        pub customer_name: Option<String>,
        /// At most 1000 characters, kept exactly as sent.
        #[schema(max_length = 1000, pattern = "^[^\\u0000]*$")]
        pub notes: Option<String>,
        /// At most 255 characters.
        #[schema(max_length = 255, pattern = "^[^\\u0000]*$")]
        pub file_name: Option<String>,
        /// An existing printer's id; null makes it a manual job.
        #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
        pub printer_id: Option<String>,
    }

    /// A move in the status workflow (`POST /jobs/{id}/status`).
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({ "status": "running" }))]
    pub struct StatusChange {
        /// The status to move to.
        pub status: JobStatus,
        /// Confirms the one move that needs it: `completed` → `pending`. Default `false`.
        #[schema(required = false, default = false)]
        pub force: bool,
    }

    /// One change to many jobs (`POST /jobs/bulk-edit`), all or nothing.
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({
        "ids": ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190a1b3-c3d4-7e5f-8a9b-0c1d2e3f4a5b"],
        "changes": { "is_business": true, "customer_name": "ACME" },
        "if_versions": { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b": 3 }
    }))]
    pub struct BulkEdit {
        /// The jobs, 1–500 distinct ids. The response lists them in this order.
        #[schema(min_items = 1, max_items = 500)]
        pub ids: Vec<uuid::Uuid>,
        /// The change every job takes, read exactly like the body of the edit.
        pub changes: JobEdit,
        /// For the jobs it names (each one of `ids`), the version the client saw: the bulk
        /// edit's `If-Match`.
        #[schema(required = false, schema_with = if_versions)]
        pub if_versions: HashMap<String, i64>,
    }

    fn if_versions() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "For the jobs it names (each one of `ids`), the version the client saw: the \
                 bulk edit's `If-Match`.",
            ))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("uuid".into()))),
            ))
            .additional_properties(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            ))
    }

    /// A printer to register (`POST /printers`). Any other member is refused (400).
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({
        "id": "bambu-x1c-1", "name": "Bambu X1C #1", "printer_type": "bambu_lab",
        "location": "Shelf A",
        "connection": { "kind": "bambu_lab", "host": "192.168.1.50",
                        "serial": "01S00C123456789", "access_code": "12345678" }
    }))]
    pub struct NewPrinter {
        /// A UUID or a slug such as `bambu-x1c-1` (1–64 of `a-z`, `0-9`, `-`, `_`); absent or
        /// null: a UUID is generated.
        #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
        pub id: Option<String>,
        /// Trimmed, 1–100 characters after trimming.
        #[schema(min_length = 1, pattern = "^[^\\u0000]*$")]
        pub name: String,
        /// The kind of printer.
        pub printer_type: PrinterType,
        /// Where it stands: trimmed, at most 200 characters; blank becomes null.
        #[schema(pattern = "^[^\\u0000]*$")]
        pub location: Option<String>,
        /// How printdesk reaches it; absent or null: a manual printer.
        pub connection: Option<Connection>,
        /// Whether printdesk watches it; default `true` when a connection is given. `true`
        /// without a connection is refused. Not null.
        #[schema(required = false)]
        pub monitoring: bool,
    }

    /// A printer edit (`PATCH /printers/{id}`): merge-patch, every member optional; any other
    /// member (`id`, `created_at`, `status`, …) is refused (400).
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[schema(example = json!({ "connection": { "host": "192.168.1.60" } }))]
    pub struct PrinterPatch {
        /// Trimmed, 1–100 characters after trimming. Not null.
        #[schema(required = false, min_length = 1, pattern = "^[^\\u0000]*$")]
        pub name: String,
        /// The kind of printer. Not null.
        #[schema(required = false)]
        pub printer_type: PrinterType,
        /// Where it stands; null or blank clears it.
        #[schema(pattern = "^[^\\u0000]*$")]
        pub location: Option<String>,
        /// Merged setting by setting into the stored connection; null: a manual printer.
        pub connection: Option<Connection>,
        /// `false` pauses monitoring and keeps the settings. Not null.
        #[schema(required = false)]
        pub monitoring: bool,
    }

    /// The kind of connection.
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ConnectionKind {
        /// Bambu Lab LAN mode: `host`, `serial`, `access_code`, optional `port` (8883),
        /// `ca_pem`.
        BambuLab,
        /// OctoPrint: `base_url`, `api_key`.
        Octoprint,
        /// Moonraker (Klipper): `base_url`, optional `api_key`.
        Moonraker,
        /// PrusaLink: `base_url` and `username` + `password`, or `api_key`.
        Prusalink,
    }

    /// A printer's connection as a client sends it. Each `kind` takes its own settings (a
    /// setting of another kind is refused, 400, naming it); secrets (`access_code`,
    /// `api_key`, `password`) are write-only: responses show `"set"` or null.
    #[derive(Debug, ToSchema, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Connection {
        /// Required in a new connection and when changing kind. Not null.
        #[schema(required = false)]
        pub kind: ConnectionKind,
        /// `bambu_lab`: host name or IP address.
        pub host: Option<String>,
        /// `bambu_lab`: MQTT port, 1–65535 (default 8883).
        #[schema(minimum = 1, maximum = 65535)]
        pub port: Option<i64>,
        /// `bambu_lab`: serial number, 1–32 letters and digits.
        pub serial: Option<String>,
        /// `bambu_lab`: LAN access code (write-only).
        #[schema(min_length = 1, write_only)]
        pub access_code: Option<String>,
        /// `bambu_lab`: set by printdesk on first connection; only `null` (clear it, to trust
        /// the printer's next certificate) is accepted.
        #[schema(required = false, schema_with = null_only)]
        pub tls_fingerprint: (),
        /// `bambu_lab`: a CA certificate (PEM) to verify the printer against instead of
        /// trusting its first certificate.
        pub ca_pem: Option<String>,
        /// `octoprint`, `moonraker`, `prusalink`: `http://` or `https://` URL.
        pub base_url: Option<String>,
        /// `octoprint`, `moonraker`, `prusalink`: API key (write-only).
        #[schema(min_length = 1, write_only)]
        pub api_key: Option<String>,
        /// `prusalink`: digest user name.
        pub username: Option<String>,
        /// `prusalink`: digest password (write-only).
        #[schema(min_length = 1, write_only)]
        pub password: Option<String>,
    }

    /// `{"type":"hello","seq":N}`: the first message on a new WebSocket.
    #[derive(Debug, ToSchema)]
    #[schema(example = json!({ "type": "hello", "seq": 1042 }))]
    pub struct WsHello {
        /// Always `hello`.
        #[schema(rename = "type", schema_with = hello)]
        pub kind: String,
        /// The newest event this instance had delivered when the client subscribed; without
        /// `since`, the client receives every event after it. 0 before the first event.
        #[schema(minimum = 0)]
        pub seq: i64,
    }

    fn hello() -> ObjectBuilder {
        literal("hello").description(Some("Always `hello`."))
    }

    /// A member whose only accepted value is `null`.
    fn null_only() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Null)
            .description(Some(
                "`bambu_lab`: set by printdesk on first connection (SHA-256 of the certificate); \
             only `null` is accepted, to clear it and trust the printer's next certificate.",
            ))
    }

    /// A string that is always `value`.
    fn literal(value: &str) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([value]))
    }

    /// A message from the server on the WebSocket: one `WsHello` first, then `JobEvent`s
    /// (`type` `job_created`, `job_updated` or `job_deleted`), strictly increasing in `seq`.
    /// Without `job_id`, consecutive events have consecutive `seq`s: a jump means something
    /// was lost, and reconnecting with `since` repairs it.
    #[derive(Debug)]
    pub struct WsMessage;

    impl PartialSchema for WsMessage {
        fn schema() -> RefOr<Schema> {
            OneOfBuilder::new()
                .item(Ref::from_schema_name(WsHello::name()))
                .item(Ref::from_schema_name(JobEvent::name()))
                .description(Some(
                    "A message from the server: one `WsHello` first, then `JobEvent`s \
                     (`type` `job_created`, `job_updated` or `job_deleted`), strictly \
                     increasing in `seq`. Without `job_id`, consecutive events have \
                     consecutive `seq`s: a jump means something was lost, and reconnecting \
                     with `since` repairs it.",
                ))
                .into()
        }
    }

    impl ToSchema for WsMessage {}

    /// The close codes the server sends, with what the client should do.
    #[derive(Debug)]
    pub struct WsCloseCode;

    /// Every close code the server sends, and when.
    pub const CLOSE_CODES: [(u16, &str); 6] = [
        (
            1000,
            "the reply to the client's own close frame (or the client's own code)",
        ),
        (
            1001,
            "the server is shutting down: reconnect with since=N, to another instance or \
             after a pause",
        ),
        (
            1002,
            "the client sent an invalid frame (the reason says which): fix the client",
        ),
        (
            1011,
            "the event log could not be read for a replay: reconnect after a pause with \
             since=N",
        ),
        (
            4000,
            "nothing (not even a pong) heard from the client for 30 s: reconnect with since=N",
        ),
        (
            4008,
            "the client could not keep up (more than 4096 events behind, or its connection \
             took nothing for 10 s): reconnect with since=N",
        ),
    ];

    impl PartialSchema for WsCloseCode {
        fn schema() -> RefOr<Schema> {
            let table: Vec<String> = CLOSE_CODES
                .iter()
                .map(|(code, when)| format!("- {code}: {when}"))
                .collect();
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some(CLOSE_CODES.iter().map(|(code, _)| *code)))
                .description(Some(format!(
                    "A close code the server sends. The close reason ends with \
                     `reconnect with since=N`, N being the last `seq` sent before the close \
                     frame, so reconnecting with it loses and repeats nothing.\n\n{}",
                    table.join("\n")
                )))
                .into()
        }
    }

    impl ToSchema for WsCloseCode {}

    /// `{"status":"ok"}`
    #[derive(Debug, ToSchema)]
    pub struct Health {
        /// Always `ok`.
        #[schema(schema_with = ok)]
        pub status: String,
    }

    fn ok() -> ObjectBuilder {
        literal("ok").description(Some("Always `ok`."))
    }
}

/// Reusable error responses, referenced by the operations (and added by `Common`).
#[allow(
    dead_code,
    reason = "schema-only types: they describe the wire, they are never built"
)]
pub mod responses {
    use utoipa::ToResponse;

    use super::schema::Problem;

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
