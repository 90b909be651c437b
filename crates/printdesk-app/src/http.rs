//! The HTTP server: every route and every middleware, in the order they must run.

use actix_web::{
    App, Error, HttpServer,
    body::MessageBody,
    dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse},
    middleware::from_fn,
    web,
};

use printdesk_http::{BodyTimeout, ConnectionRoom};

use crate::{Components, Config};

/// The whole API's OpenAPI document, as served at `/api/openapi.json`: the HTTP API's, with
/// the WebSocket's part merged in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    printdesk_http::openapi::document([printdesk_ws::openapi()])
}

/// The HTTP server over `listener`, not yet running.
pub(crate) fn server(
    components: &Components,
    config: &Config,
    listener: std::net::TcpListener,
) -> std::io::Result<Server> {
    let components = components.clone();
    // Serialised once, shared by every worker.
    let docs = printdesk_http::docs_routes(&openapi());
    let body_timeout = BodyTimeout(config.body_timeout);
    let mut server = HttpServer::new(move || app(components.clone(), docs.clone(), body_timeout))
        // In-flight requests get this long to finish after a graceful stop (actix stops at
        // once on Ctrl-C and SIGQUIT).
        .shutdown_timeout(config.shutdown_timeout.as_secs());
    // actix's own default, made explicit: the connection cap is shared among the workers.
    let workers = config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    server = server.workers(workers);
    if let Some(total) = config.max_connections {
        let per_worker = (total / workers).max(1);
        let room = ConnectionRoom::for_cap(per_worker);
        server = server
            .max_connections(per_worker)
            .on_connect(move |io, data| room.on_connect(io, data));
    }
    if !config.os_signals {
        server = server.disable_signals();
    }
    Ok(server.listen(listener)?.run())
}

/// One worker's application. Routes are matched in registration order; middleware runs from
/// the last `wrap` (outermost) to the first.
fn app(
    components: Components,
    docs: impl FnOnce(&mut web::ServiceConfig),
    body_timeout: BodyTimeout,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(components.services))
        .app_data(web::Data::new(body_timeout))
        .app_data(web::Data::new(components.security.authenticator.clone()))
        // Before the API's `/api/v1` scope, which would answer 404 for it.
        .service(printdesk_ws::service(components.hub, components.board))
        .service(printdesk_http::api_scope())
        // Before the page's catch-all route.
        .configure(printdesk_http::ops_routes(components.ops))
        // /api/openapi.json and Swagger UI at /api/docs/ (public: outside /api/v1).
        .configure(docs)
        .configure(printdesk_frontend::configure)
        .default_service(web::to(printdesk_http::not_found))
        // A deadline on every request body (innermost: it must see the payload first).
        .wrap(from_fn(printdesk_http::body_deadline))
        // Tokens on /api/v1 (the WebSocket too), inside CORS: a preflight needs none.
        .wrap(from_fn(printdesk_http::authenticate))
        // HEAD as GET, the query's encoding, where `Upgrade` may be: before any route or
        // token check, inside the middleware that records the request as it came.
        .wrap(from_fn(printdesk_http::edge_checks))
        .wrap(printdesk_http::cors(&components.security.cors_origins))
        .wrap(printdesk_http::problem_errors())
        .wrap(printdesk_http::security_headers())
        .wrap(from_fn(printdesk_http::trace_requests))
        // Outermost: counts every response, whichever middleware made it.
        .wrap(from_fn(printdesk_http::record_metrics))
}
