//! Operations endpoints, outside `/api/v1`: `GET /healthz` (the process runs), `GET /readyz`
//! (the database answers) and `GET /metrics` (Prometheus text exposition), plus the
//! [`record_metrics`] middleware that counts every request by route pattern, method and status.
//!
//! The adapter knows neither the store nor the WebSocket hub: what it needs from them is the
//! [`OpsProbe`] trait, which the composition root (`printdesk-app`) implements over both. The
//! domain's ports stay about use cases; counting jobs per status for a dashboard is not one.
//!
//! The composition root (`printdesk-app`) mounts [`ops_routes`] before any catch-all route
//! (such as the page's) and wraps [`record_metrics`] outermost, so that it counts every
//! response, whichever middleware made it.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{
    Error, HttpResponse, ResponseError,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
    web,
};
use async_trait::async_trait;
use printdesk_domain::{JobStatus, StorageFault, StoreError};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::problem::{Problem, ProblemKind};

/// Where the liveness probe is.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Where the readiness probe is.
pub const READYZ_PATH: &str = "/readyz";
/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";
/// The paths [`ops_routes`] serves; none of them needs a token.
pub const OPS_PATHS: [&str; 3] = [HEALTHZ_PATH, READYZ_PATH, METRICS_PATH];

/// How long `/readyz` (and each database read of a scrape) waits for the database.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The `route` label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets, in seconds: most requests on SQLite take well under a millisecond.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What the operations endpoints need from the rest of the process. The binary implements it
/// over the store and the WebSocket hub.
#[async_trait]
pub trait OpsProbe: Send + Sync + fmt::Debug {
    /// Whether the database answers a trivial query now.
    async fn ping(&self) -> Result<(), StoreError>;

    /// How many jobs are in each status. Statuses that are missing count as zero. Called on
    /// every scrape, so it must be cheap (one grouped count on an index).
    async fn jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError>;

    /// The newest committed event `seq` minus the newest one the WebSocket hub has delivered
    /// to its clients.
    async fn event_log_lag(&self) -> Result<u64, StoreError>;

    /// WebSocket clients connected now.
    fn websocket_clients(&self) -> u64;

    /// Why the last write could not be stored (a full disk, a read-only database), until a
    /// write succeeds again; `None` while writes are stored.
    fn storage_fault(&self) -> Option<StorageFault> {
        None
    }
}

/// The operations endpoints' state: the probe and the request metrics. Cheap to clone; clones
/// share the counters, so make one per process and give clones to every worker.
#[derive(Clone)]
pub struct Ops {
    inner: Arc<Inner>,
}

struct Inner {
    probe: Arc<dyn OpsProbe>,
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl fmt::Debug for Ops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ops")
            .field("probe", &self.inner.probe)
            .finish_non_exhaustive()
    }
}

impl Ops {
    /// Request counters start at zero.
    pub fn new(probe: Arc<dyn OpsProbe>) -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "printdesk_http_requests_total",
                "HTTP requests answered, by matched route pattern, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "printdesk_http_request_duration_seconds",
                "Time from the request's arrival to its response head, by matched route \
                 pattern and method.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )
        .expect("valid metric");
        let registry = Registry::new();
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        registry
            .register(Box::new(latency.clone()))
            .expect("registered once");
        Self {
            inner: Arc::new(Inner {
                probe,
                registry,
                requests,
                latency,
            }),
        }
    }

    /// The registry `/metrics` exposes, for adapters that count things of their own (the
    /// printer monitor's `printdesk_printer_*`).
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Counts one answered request.
    pub fn observe(&self, route: &str, method: &str, status: StatusCode, elapsed: Duration) {
        let inner = &self.inner;
        inner
            .requests
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        inner
            .latency
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    /// The whole exposition: request metrics, then the gauges sampled now. A gauge whose
    /// database read fails or times out is left out of this scrape (Prometheus then marks it
    /// stale) and `printdesk_database_up` is 0.
    pub async fn render(&self) -> String {
        let mut families = self.inner.registry.gather();
        families.extend(self.sample().await.gather());
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&families, &mut text)
            .expect("text encoding writes to memory");
        String::from_utf8(text).expect("the text format is UTF-8")
    }

    /// The scrape-time gauges, in a registry of their own made for this scrape: no state is
    /// shared between concurrent scrapes, and a value that could not be read is absent rather
    /// than stale.
    async fn sample(&self) -> Registry {
        let probe = &self.inner.probe;
        let registry = Registry::new();
        let mut database_up = true;

        match bounded(probe.jobs_by_status()).await {
            Ok(counts) => {
                let jobs = IntGaugeVec::new(
                    Opts::new("printdesk_jobs", "Jobs stored now, by status."),
                    &["status"],
                )
                .expect("valid metric");
                for status in JobStatus::ALL {
                    let n = counts
                        .iter()
                        .filter(|(s, _)| *s == status)
                        .map(|(_, n)| *n)
                        .sum::<u64>();
                    jobs.with_label_values(&[status.as_str()])
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
                register(&registry, jobs);
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot count jobs by status");
                database_up = false;
            }
        }

        match bounded(probe.event_log_lag()).await {
            Ok(lag) => register(
                &registry,
                gauge(
                    "printdesk_event_log_lag",
                    "Newest committed event seq minus the newest seq the WebSocket hub has \
                     delivered.",
                    lag,
                ),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot read the event log's newest seq");
                database_up = false;
            }
        }

        register(
            &registry,
            gauge(
                "printdesk_websocket_clients",
                "WebSocket clients connected now.",
                probe.websocket_clients(),
            ),
        );
        register(
            &registry,
            gauge(
                "printdesk_database_up",
                "1 when this scrape's database reads succeeded, else 0.",
                u64::from(database_up),
            ),
        );
        register(
            &registry,
            gauge(
                "printdesk_database_writable",
                "0 from a write that could not be stored for want of storage (a full disk, a \
                 read-only database) until a write succeeds again, else 1.",
                u64::from(probe.storage_fault().is_none()),
            ),
        );
        registry
    }
}

fn gauge(name: &str, help: &str, value: u64) -> IntGauge {
    let gauge = IntGauge::new(name, help).expect("valid metric");
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
    gauge
}

fn register(registry: &Registry, metric: impl prometheus::core::Collector + 'static) {
    registry
        .register(Box::new(metric))
        .expect("each gauge is registered once per scrape");
}

/// Runs a database read for at most [`PROBE_TIMEOUT`].
async fn bounded<T>(read: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    actix_web::rt::time::timeout(PROBE_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                PROBE_TIMEOUT.as_millis()
            )))
        })
}

/// Registers `/healthz`, `/readyz` and `/metrics` and `ops` as app data (which
/// [`record_metrics`] reads); for `App::configure`, before any catch-all route.
pub fn ops_routes(ops: Ops) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(ops))
            .route(HEALTHZ_PATH, web::get().to(healthz))
            .route(READYZ_PATH, web::get().to(readyz))
            .route(METRICS_PATH, web::get().to(metrics));
    }
}

/// `{"status":"ok"}`
// The body of a healthy `/healthz` and `/readyz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    #[schema(schema_with = ok)]
    status: &'static str,
}

impl Health {
    const OK: Self = Self { status: "ok" };
}

fn ok() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["ok"]))
        .description(Some("Always `ok`."))
}

/// Liveness
///
/// The process answers; nothing else is checked.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    security(()),
    responses((status = 200, description = "Alive.", body = Health)),
)]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(Health::OK)
}

/// Readiness
///
/// The database answers a trivial query within a second.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    security(()),
    responses(
        (status = 200, description = "Ready.", body = Health),
        (status = 503, response = crate::openapi::responses::Unavailable),
    ),
)]
pub(crate) async fn readyz(ops: web::Data<Ops>) -> HttpResponse {
    let started = Instant::now();
    match bounded(ops.inner.probe.ping()).await {
        Ok(()) => HttpResponse::Ok()
            .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
            .json(Health::OK),
        Err(StoreError::Storage(fault, detail)) => {
            tracing::warn!(%fault, error = %detail, "not ready: the database cannot store anything");
            Problem::storage_unavailable(fault).error_response()
        }
        Err(e) => {
            // The cause may name hosts; it goes to the log, not to an unauthenticated client.
            tracing::warn!(error = %e, elapsed_ms = started.elapsed().as_millis() as u64, "not ready");
            Problem::new(
                ProblemKind::Unavailable,
                "The database is not answering, so printdesk cannot serve requests right \
                 now; it keeps retrying by itself.",
            )
            // As on the API's other 503s.
            .with_header(header::RETRY_AFTER, header::HeaderValue::from_static("5"))
            .error_response()
        }
    }
}

/// Prometheus metrics
///
/// Requests by route pattern, method and status with a latency histogram; jobs by status;
/// WebSocket clients; the event log's lag; whether the database answered the scrape.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    security(()),
    responses(
        (status = 200, description = "The Prometheus text exposition (format 0.0.4).",
            body = String, content_type = "text/plain; version=0.0.4; charset=utf-8"),
    ),
)]
pub(crate) async fn metrics(ops: web::Data<Ops>) -> HttpResponse {
    let text = ops.render().await;
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, TextEncoder::new().format_type()))
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .body(text)
}

/// Middleware counting every request in `printdesk_http_requests_total` and
/// `printdesk_http_request_duration_seconds`, labelled by the route pattern that matched
/// (`/api/v1/jobs/{id}`, never the raw path) or [`UNMATCHED_ROUTE`]. Does nothing in an app
/// without [`ops_routes`]. Mount it with `actix_web::middleware::from_fn(record_metrics)`,
/// outermost, so that it sees the status the client gets.
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(ops) = req.app_data::<web::Data<Ops>>().cloned() else {
        return next.call(req).await;
    };
    let method = method_label(req.method());
    let started = Instant::now();
    let result = next.call(req).await;
    let elapsed = started.elapsed();
    match &result {
        Ok(res) => {
            let route = res.request().match_pattern();
            ops.observe(
                route.as_deref().unwrap_or(UNMATCHED_ROUTE),
                method,
                res.status(),
                elapsed,
            );
        }
        // The request was consumed; its route is unknown here. Actix turns the error into
        // a response further out.
        Err(error) => ops.observe(
            UNMATCHED_ROUTE,
            method,
            error.as_response_error().status_code(),
            elapsed,
        ),
    }
    result
}

/// Known methods by name; anything else is one `other` label, so a client cannot create series
/// by inventing methods.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use actix_web::{App, middleware::from_fn, test};

    use super::*;

    #[derive(Debug, Default)]
    struct FakeProbe {
        down: AtomicBool,
        hang: AtomicBool,
    }

    impl FakeProbe {
        async fn check(&self) -> Result<(), StoreError> {
            if self.hang.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("connection refused".into()));
            }
            Ok(())
        }
    }

    #[async_trait]
    impl OpsProbe for FakeProbe {
        async fn ping(&self) -> Result<(), StoreError> {
            self.check().await
        }
        async fn jobs_by_status(&self) -> Result<Vec<(JobStatus, u64)>, StoreError> {
            self.check().await?;
            Ok(vec![(JobStatus::Pending, 3), (JobStatus::Failed, 1)])
        }
        async fn event_log_lag(&self) -> Result<u64, StoreError> {
            self.check().await?;
            Ok(2)
        }
        fn websocket_clients(&self) -> u64 {
            5
        }
    }

    async fn ok() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    macro_rules! app {
        ($probe:expr) => {
            test::init_service(
                App::new()
                    .configure(ops_routes(Ops::new($probe)))
                    .route("/api/v1/jobs/{id}", web::get().to(ok))
                    .default_service(web::to(crate::not_found))
                    .wrap(crate::problem_errors())
                    .wrap(from_fn(record_metrics)),
            )
            .await
        };
    }

    /// GETs `path`: (status, body, content type).
    macro_rules! get {
        ($app:expr, $path:expr) => {{
            let res =
                test::call_service(&$app, test::TestRequest::get().uri($path).to_request()).await;
            let status = res.status();
            let ct = res
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned());
            let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            (status, body, ct)
        }};
    }

    #[actix_web::test]
    async fn healthz_and_readyz_answer_ok_while_the_database_answers() {
        let app = app!(Arc::new(FakeProbe::default()));
        let (status, body, _) = get!(app, "/healthz");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, r#"{"status":"ok"}"#);
        let (status, body, _) = get!(app, "/readyz");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, r#"{"status":"ok"}"#);
    }

    #[actix_web::test]
    async fn readyz_is_a_503_problem_when_the_database_is_down_or_silent() {
        let probe = Arc::new(FakeProbe::default());
        let app = app!(probe.clone());
        probe.down.store(true, Ordering::SeqCst);
        let (status, body, ct) = get!(app, "/readyz");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ct.as_deref(), Some(crate::PROBLEM_JSON));
        assert!(body.contains("urn:printdesk:problem:unavailable"), "{body}");
        assert!(
            !body.contains("refused"),
            "the cause stays in the log: {body}"
        );
        // Liveness does not depend on the database.
        assert_eq!(get!(app, "/healthz").0, StatusCode::OK);

        probe.hang.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let (status, _, _) = get!(app, "/readyz");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < PROBE_TIMEOUT + Duration::from_millis(500));
    }

    #[actix_web::test]
    async fn metrics_count_requests_by_route_pattern_never_by_raw_path() {
        let app = app!(Arc::new(FakeProbe::default()));
        get!(app, "/api/v1/jobs/1");
        get!(app, "/api/v1/jobs/2");
        get!(app, "/no/such/path");
        get!(app, "/another/unknown");
        let (status, text, ct) = get!(app, "/metrics");
        assert_eq!(status, StatusCode::OK);
        assert!(ct.unwrap().starts_with("text/plain; version=0.0.4"));
        assert!(
            text.contains(
                r#"printdesk_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"printdesk_http_requests_total{method="GET",route="unmatched",status="404"} 2"#
            ),
            "{text}"
        );
        assert!(!text.contains("/no/such/path"), "{text}");
        assert!(
            text.contains(
                r#"printdesk_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/{id}"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"printdesk_jobs{status="pending"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"printdesk_jobs{status="running"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"printdesk_jobs{status="failed"} 1"#),
            "{text}"
        );
        assert!(text.contains("printdesk_websocket_clients 5"), "{text}");
        assert!(text.contains("printdesk_event_log_lag 2"), "{text}");
        assert!(text.contains("printdesk_database_up 1"), "{text}");
    }

    #[actix_web::test]
    async fn metrics_still_answer_while_the_database_is_down() {
        let probe = Arc::new(FakeProbe::default());
        let app = app!(probe.clone());
        probe.down.store(true, Ordering::SeqCst);
        let (status, text, _) = get!(app, "/metrics");
        assert_eq!(status, StatusCode::OK);
        assert!(text.contains("printdesk_database_up 0"), "{text}");
        assert!(text.contains("printdesk_websocket_clients 5"), "{text}");
        assert!(!text.contains("printdesk_jobs{"), "{text}");
        assert!(!text.contains("printdesk_event_log_lag "), "{text}");
    }
}
