//! One `tracing` span per request, with its method, path, request id, actor (the token's
//! name, when authenticated), status and latency, and one event when the response is ready.
//! Everything logged while the request is handled (store errors, say) is inside the span, so a
//! log line can always be tied to its request. The event is at INFO, WARN for a 5xx, and
//! DEBUG for a successful `/healthz`, `/readyz` or `/metrics` (probes and scrapes, every few
//! seconds).

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::{Instrument, field::Empty};
use uuid::Uuid;

/// The response header carrying the request id that is also in the request's span.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The middleware function; mount it with `actix_web::middleware::from_fn(trace_requests)`,
/// outermost, so that the status it records is the one the client gets.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = Uuid::new_v4();
    // Probes and scrapes come every few seconds; their successes are not news.
    let routine = crate::ops::OPS_PATHS.contains(&req.path());
    let span = tracing::info_span!(
        "http_request",
        method = %req.method(),
        path = %req.path(),
        request_id = %request_id,
        // The token's name, recorded by the authentication middleware.
        actor = Empty,
        status = Empty,
        latency_ms = Empty,
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    // Microsecond precision is plenty, and keeps log lines short.
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;

    let status = match &result {
        Ok(res) => res.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    span.record("status", status.as_u16());
    span.record("latency_ms", latency_ms);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!("request failed");
        } else if routine {
            tracing::debug!("request finished");
        } else {
            tracing::info!("request finished");
        }
    });

    let mut res = result?;
    res.headers_mut().insert(
        REQUEST_ID_HEADER,
        HeaderValue::from_str(&request_id.to_string()).expect("a UUID is a valid header value"),
    );
    Ok(res)
}
