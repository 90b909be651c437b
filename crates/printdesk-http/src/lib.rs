//! # printdesk-http
//!
//! The HTTP adapter: the contract's REST API (`/api/v1`) over actix-web, calling the domain's
//! [`JobService`] and [`PrinterService`]. It owns the wire concerns only: routes, bodies,
//! `ETag`/`If-Match`, query strings, and the problem+json error envelope; every rule about
//! jobs lives in the domain.
//!
//! The application is put together in one place, the composition root (`printdesk-app`):
//! it registers `Data<ApiState>` and the [`Authenticator`], mounts [`api_scope`], the
//! WebSocket route, [`ops_routes`], [`docs_routes`] and the page, answers unknown paths with
//! [`not_found`], and wraps, outermost first, [`record_metrics`], [`trace_requests`],
//! [`security_headers`], [`problem_errors`], [`cors()`], [`edge_checks`] and [`authenticate`]. This crate
//! provides those parts; it does not build an `App` itself.
//!
//! ## Where the contract is silent
//!
//! - **Order of checks** for a body: content type and encoding (415), size (413), arrival in
//!   time (408), JSON syntax and nesting (422), a key twice (400), object shape (422), keys
//!   that are not editable or unknown (400), JSON types and `status` (422),
//!   then the job (404), `If-Match` (412), and the rules (400). The first failing step answers.
//! - **`null`** for `job_name`, `status` or `is_business` is a wrong type (422); for the other
//!   editable fields it clears them. In a create, absent fields take their defaults and an
//!   absent `job_name` is reported as `job_name must not be empty` (400).
//! - **`If-Match`**: a list of tags matches when any tag is the current version; weak tags
//!   (`W/"3"`) count as their version (some proxies weaken tags); `*` matches any version;
//!   a tag that is not a version (`"abc"`) matches nothing, so 412. A 412 carries the current
//!   job in `current` and its `ETag` header.
//! - **Query strings**: unknown parameters and repeated parameters are refused (400, named),
//!   so a typo never silently lists everything; an empty or blank `q` means no text filter.
//! - **Connection test** (`POST /printers/test`): `connection` and `printer_id` only (400
//!   otherwise), read like a registration's body; a printer that cannot be reached is a 200
//!   with `reachable: false`, never an error status.
//! - **Printers** have no `ETag`; their body is read with the same strictness as a job's
//!   (`id` at registration only, `name`, `printer_type`, `location`, `connection`,
//!   `monitoring`; anything else 400, down to `connection.<key>`; wrong types 422). A
//!   `PATCH` merges `connection` setting by setting; changing its `kind` starts afresh. A
//!   printer id of the wrong shape in a path is a 404, like a job id that is not a UUID
//!   in its canonical form (lower-case, hyphenated; other spellings name no job).
//! - **503** responses carry `Retry-After: 5`. **500** responses say nothing of the cause; the
//!   cause is logged inside the request's span.
//! - Every response carries `x-request-id`, the id recorded in the request's tracing span.
//! - **Status workflow** (`POST /jobs/{id}/status`): `status` is required (400 when absent),
//!   `force` defaults to `false`; other keys 400, wrong types 422, then 404, 412, and 409 for a
//!   move the table refuses, with the allowed target statuses in an `allowed` member.
//! - **Bulk edit** (`POST /jobs/bulk-edit`): 412 when every failing job failed only on its
//!   `if_versions` entry, 400 otherwise; `failures` lists each failing job in the request's
//!   order with the status, `detail`, `errors` and `current` it would get alone. Field names
//!   inside `changes` are the job's own (`job_name`, not `changes.job_name`), as in the edit.
//! - **Exports** (`GET /jobs/export.csv`, `GET /jobs/export.xlsx`): the list's filters and
//!   `sort` (oldest first without it); `limit` and `offset` are refused (400), not ignored.
//!   The CSV's first page is read before the response starts (so a database outage is a
//!   503); a failure after that is logged and cuts the transfer off, so the client sees an
//!   incomplete download instead of a file that looks complete. The xlsx is finished before
//!   its first byte is sent. Without `lang` the CSV writes keys and `true`/`false`, without
//!   `tz` API timestamps, as it always did; the xlsx takes its language from
//!   `Accept-Language` when `lang` is absent.
//! - **Dates** (`created_from`, …, `completed_to`): a date is a whole day in `tz` (UTC
//!   unless given), a `…_to` date inclusive; a span that ends before it starts is a 400 on its
//!   `…_to`; with an unknown `tz` only `tz` is reported.
//! - **Summary** (`GET /reports/summary`): `group_by` defaults to `month`; `from`/`to` are
//!   `created_from`/`created_to` by another name, and giving both names of one end is a 400;
//!   a month summary has a row for every month of its span, empty ones too, at most 600.
//! - **History** (`GET /jobs/{id}/history`): 404 only when the id is not a UUID or the job has
//!   no events at all (it never existed); an `offset` past the end is an empty page.
//! - **Authentication** ([`auth`]): with tokens configured, every `/api/v1` request (the
//!   WebSocket too) needs `Authorization: Bearer <token>` (or, on a WebSocket upgrade, the
//!   subprotocol `printdesk.bearer.<token>`), else 401 with `WWW-Authenticate: Bearer`; the
//!   token's name is the actor of the changes it makes. **CORS** ([`cors()`]) is closed unless
//!   origins are configured. Every response carries `X-Content-Type-Options: nosniff`.
//!
//! `docs/api.md` describes every endpoint for clients; [`openapi`] generates the OpenAPI 3.1
//! document (served at `/api/openapi.json`, with Swagger UI at `/api/docs/`).

pub mod auth;
mod body_deadline;
mod bulk_body;
mod cors;
mod csv_export;
mod customers;
mod edges;
mod edit_body;
mod etag;
mod export_format;
mod fallback;
mod jobs;
mod json_body;
mod list_query;
pub mod openapi;
mod ops;
mod printer_body;
mod printers;
mod problem;
mod reports;
mod request_span;
mod status_body;
mod time_zone;
mod xlsx_export;

use actix_web::{Scope, guard, web};
use printdesk_domain::{ConnectionTests, JobService, PrinterService};

pub use auth::{Authenticator, RequestActor, RequestPrincipal, allow, authenticate};
pub use body_deadline::{BodyTimeout, ConnectionRoom, body_deadline};
pub use cors::{CorsOrigins, EXPOSED_HEADERS, InvalidOrigin, cors, security_headers};
pub use edges::{WEBSOCKET_PATH, edge_checks};
pub use etag::IfMatch;
pub use fallback::{not_found, problem_errors};
pub use json_body::{BODY_LIMIT, JsonObject, NESTING_LIMIT, json_config, payload_config};
pub use list_query::query_config;
pub use openapi::{DOCS_PATH, OPENAPI_PATH, docs_routes};
pub use ops::{
    HEALTHZ_PATH, METRICS_PATH, OPS_PATHS, Ops, OpsProbe, PROBE_TIMEOUT, READYZ_PATH, ops_routes,
    record_metrics,
};
pub use problem::{PROBLEM_JSON, Problem, ProblemKind};
pub use request_span::{REQUEST_ID_HEADER, trace_requests};

/// Where the API is mounted.
pub const API_PREFIX: &str = "/api/v1";

/// What the handlers need: the domain's services. Register it as `web::Data<ApiState>`.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The job use cases.
    pub jobs: JobService,
    /// The printer use cases.
    pub printers: PrinterService,
    /// "Test connection" (`POST /printers/test`).
    pub connection_tests: ConnectionTests,
}

impl ApiState {
    /// Bundles the services.
    pub fn new(
        jobs: JobService,
        printers: PrinterService,
        connection_tests: ConnectionTests,
    ) -> Self {
        Self {
            jobs,
            printers,
            connection_tests,
        }
    }
}

/// The API under [`API_PREFIX`], with its extractor configurations (body limit, content type,
/// query errors) as scope data. Needs `web::Data<ApiState>` in the app.
pub fn api_scope() -> Scope {
    use printdesk_domain::access::Operation::*;
    web::scope(API_PREFIX)
        .app_data(json_config())
        .app_data(payload_config())
        .app_data(query_config())
        .service(
            web::resource("/jobs")
                .route(allow(ReadJobs, web::get().to(jobs::list)))
                .route(allow(CreateJobs, web::post().to(jobs::create))),
        )
        // Fixed paths before `/jobs/{id}`, which would otherwise take them as ids.
        .service(
            web::resource("/jobs/bulk-edit")
                .route(allow(EditJobs, web::post().to(jobs::bulk_edit))),
        )
        .service(
            web::resource("/jobs/export.csv")
                .route(allow(ReadJobs, web::get().to(jobs::export_csv))),
        )
        .service(
            web::resource("/jobs/export.xlsx")
                .route(allow(ReadJobs, web::get().to(jobs::export_xlsx))),
        )
        .service(
            web::resource("/jobs/{id}")
                .route(allow(ReadJobs, web::get().to(jobs::get)))
                .route(allow(EditJobs, web::put().to(jobs::edit)))
                .route(allow(DeleteJobs, web::delete().to(jobs::delete))),
        )
        .service(
            web::resource("/jobs/{id}/status")
                .route(allow(MoveJobs, web::post().to(jobs::change_status))),
        )
        .service(
            web::resource("/jobs/{id}/history")
                .route(allow(ReadJobs, web::get().to(jobs::history))),
        )
        .service(web::resource("/customers").route(allow(ReadJobs, web::get().to(customers::list))))
        .service(
            web::resource("/reports/summary")
                .route(allow(ReadJobs, web::get().to(reports::summary))),
        )
        .service(
            web::resource("/printers")
                .route(allow(ReadPrinters, web::get().to(printers::list)))
                .route(allow(ManagePrinters, web::post().to(printers::create))),
        )
        // A printer may be called `test`: only a POST (which `/printers/{id}` does not take)
        // is the connection test, a GET still reads that printer.
        .service(
            web::resource("/printers/test")
                .guard(guard::Post())
                .route(allow(
                    ManagePrinters,
                    web::post().to(printers::test_connection),
                )),
        )
        .service(
            web::resource("/printers/{id}")
                .route(allow(ReadPrinters, web::get().to(printers::get)))
                .route(allow(ManagePrinters, web::patch().to(printers::update)))
                .route(allow(ManagePrinters, web::delete().to(printers::delete))),
        )
        // Signing in and the first run need no credentials ([`auth::PUBLIC_PATHS`]).
        .service(
            web::resource("/session")
                .route(web::get().to(auth::session::who_am_i))
                .route(web::post().to(auth::session::sign_in))
                .route(web::delete().to(auth::session::sign_out)),
        )
        .service(
            web::resource("/setup")
                .route(web::get().to(auth::session::setup_status))
                .route(web::post().to(auth::session::setup)),
        )
        // Any signed-in user, for their own account (the handler needs a user's session).
        .service(web::resource("/account").route(web::patch().to(auth::users::update_account)))
        .service(
            web::resource("/users")
                .route(allow(ManageUsers, web::get().to(auth::users::list)))
                .route(allow(ManageUsers, web::post().to(auth::users::create))),
        )
        .service(
            web::resource("/users/{username}")
                .route(allow(ManageUsers, web::patch().to(auth::users::update)))
                .route(allow(ManageUsers, web::delete().to(auth::users::delete))),
        )
        .service(web::resource("/users/{username}/sessions").route(allow(
            ManageUsers,
            web::delete().to(auth::users::end_sessions),
        )))
        .service(
            web::resource("/tokens")
                .route(allow(ManageTokens, web::get().to(auth::api_tokens::list)))
                .route(allow(
                    ManageTokens,
                    web::post().to(auth::api_tokens::create),
                )),
        )
        .service(web::resource("/tokens/{id}").route(allow(
            ManageTokens,
            web::delete().to(auth::api_tokens::revoke),
        )))
}

/// Registers [`api_scope`] and the problem+json 404 for unknown paths; for
/// `App::configure`. The app still needs `web::Data<ApiState>`, and should wrap
/// [`problem_errors`] (for 405s and actix's own errors) and [`trace_requests`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(api_scope())
        .default_service(web::to(fallback::not_found));
}

/// What guards the API besides its rules: who may call it, and from which other origins.
/// The default is open: no tokens, no CORS.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// The tokens and which paths need one.
    pub authenticator: Authenticator,
    /// The origins allowed to call the API from a browser.
    pub cors_origins: CorsOrigins,
}
