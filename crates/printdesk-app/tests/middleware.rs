//! The application the composition root builds — what the binary serves and every black-box
//! test starts — passes each request through the whole middleware stack: metrics, request id,
//! security headers, problem+json errors, CORS, authentication, the body limit; and serves
//! the WebSocket endpoint, the page and the operations routes beside the API. Stopping it
//! closes the WebSockets first.

use std::time::Duration;

use futures_util::StreamExt;
use printdesk_app::{Application, Config};
use printdesk_http::{
    Authenticator, BODY_LIMIT, CorsOrigins, Security,
    auth::{TokenHash, TokenSet},
};
use printdesk_store_diesel::test_support::TestDatabase;
use reqwest::{Response, StatusCode, header};
use serde_json::Value;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const TOKEN: &str = "pd_till-0123456789abcdefghijklmnopqrstuvwxyz";
const ORIGIN: &str = "https://ha.local:8123";

/// A running application on a fresh SQLite database, with one token and one CORS origin.
struct Running {
    base: String,
    http: reqwest::Client,
    handle: printdesk_app::AppHandle,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    _database: TestDatabase,
}

async fn start() -> Running {
    let database = TestDatabase::sqlite();
    let mut tokens = TokenSet::new();
    tokens
        .add_list(&format!("till:{}", TokenHash::of(TOKEN).to_hex()))
        .expect("a valid token");
    let config = Config {
        security: Security {
            authenticator: Authenticator::new(tokens),
            cors_origins: CorsOrigins::parse([ORIGIN]).expect("an origin"),
        },
        ..Config::embedded(database.url.clone())
    };
    let listener = printdesk_app::bind(([127, 0, 0, 1], 0).into()).expect("a free port");
    let app = Application::build(config, listener)
        .await
        .expect("the application starts");
    assert_ne!(app.port(), 0, "the port the system chose");
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    let served = tokio::spawn(app.run_until_stopped());
    Running {
        base,
        http: reqwest::Client::new(),
        handle,
        served,
        _database: database,
    }
}

impl Running {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }
}

/// The headers every response carries, whichever part of the application answered.
fn assert_common_headers(response: &Response) {
    let what = format!("{} {}", response.status(), response.url().path());
    assert_eq!(
        response
            .headers()
            .get(header::X_CONTENT_TYPE_OPTIONS)
            .unwrap(),
        "nosniff",
        "{what}"
    );
    let request_id = response
        .headers()
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no x-request-id on {what}"));
    assert!(!request_id.is_empty(), "{what}");
}

async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "{}", response.url());
    assert_common_headers(&response);
    assert_eq!(
        response.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    let body: Value = response.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    body
}

#[tokio::test]
async fn a_request_passes_the_middleware_the_binary_has() {
    let app = start().await;

    // Authentication on /api/v1.
    let response = app.get("/api/v1/jobs").send().await.unwrap();
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    problem(response, StatusCode::UNAUTHORIZED).await;

    // With the token: the API, with CORS for the configured origin.
    let response = app
        .get("/api/v1/jobs")
        .bearer_auth(TOKEN)
        .header(header::ORIGIN, ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_common_headers(&response);
    assert_eq!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        ORIGIN
    );
    // Each response its own request id.
    let first = app.get("/healthz").send().await.unwrap();
    let second = app.get("/healthz").send().await.unwrap();
    assert_ne!(
        first.headers().get("x-request-id"),
        second.headers().get("x-request-id")
    );

    // The 64 KiB body limit: one byte over is a 413 problem; at the limit, the body is read
    // (and refused for what it says, not for its size).
    let over = vec![b' '; BODY_LIMIT + 1];
    let response = app
        .post("/api/v1/jobs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(over)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    let mut at_limit = br#"{"job_name":"Benchy","notes":""#.to_vec();
    at_limit.resize(BODY_LIMIT - 2, b'x');
    at_limit.extend_from_slice(br#""}"#);
    assert_eq!(at_limit.len(), BODY_LIMIT);
    let response = app
        .post("/api/v1/jobs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(at_limit)
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_common_headers(&response);

    // Unknown paths, inside the API and outside it: problem+json 404s.
    for path in ["/api/v1/nothing", "/no-such-page.js"] {
        let response = app.get(path).bearer_auth(TOKEN).send().await.unwrap();
        let body = problem(response, StatusCode::NOT_FOUND).await;
        assert_eq!(body["type"], "urn:printdesk:problem:not-found", "{path}");
    }

    // Beside the API: the page, the OpenAPI document, the operations routes.
    for (path, content_type) in [
        ("/", "text/html"),
        ("/api/openapi.json", "application/json"),
        ("/readyz", "application/json"),
    ] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_common_headers(&response);
        let actual = response.headers().get(header::CONTENT_TYPE).unwrap();
        assert!(
            actual.to_str().unwrap().starts_with(content_type),
            "{path}: {actual:?}"
        );
    }

    // Metrics count every response, those the middleware made too.
    let metrics = app.get("/metrics").send().await.unwrap();
    assert_common_headers(&metrics);
    let metrics = metrics.text().await.unwrap();
    for line in [
        r#"printdesk_http_requests_total{method="GET",route="/api/v1/jobs",status="401"} 1"#,
        r#"printdesk_http_requests_total{method="GET",route="/api/v1/jobs",status="200"} 1"#,
        r#"printdesk_http_requests_total{method="POST",route="/api/v1/jobs",status="413"} 1"#,
        r#"printdesk_http_requests_total{method="GET",route="/healthz",status="200"} 2"#,
    ] {
        assert!(metrics.contains(line), "no `{line}` in:\n{metrics}");
    }

    app.handle.stop(true).await;
}

#[tokio::test]
async fn the_websocket_endpoint_is_served_and_stopping_closes_it() {
    let app = start().await;
    let mut request = format!("{}/api/v1/ws", app.base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL.as_str(),
        format!("printdesk.bearer.{TOKEN}").parse().unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade is accepted with the token");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    match ws.next().await {
        Some(Ok(Message::Text(hello))) => assert!(hello.as_str().contains("hello"), "{hello}"),
        other => panic!("expected a hello, got {other:?}"),
    }

    // A graceful stop would otherwise wait for the socket for its whole timeout.
    app.handle.stop(true).await;
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("the socket is closed when the application stops");
    assert_eq!(close, Some(printdesk_ws::CLOSE_GOING_AWAY));
    tokio::time::timeout(Duration::from_secs(5), app.served)
        .await
        .expect("the application stops")
        .expect("its task ends")
        .expect("it stops cleanly");
}
