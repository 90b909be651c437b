//! The operations endpoints and the JSON log, on the real binary over SQLite.

mod support;

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, TempDir, client, create_job};

/// The value of the sample `series` (name and labels exactly as exposed), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

async fn scrape(http: &reqwest::Client, server: &Server) -> String {
    let response = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "Prometheus text exposition"
    );
    response.text().await.unwrap()
}

/// Opens a WebSocket by hand (the upgrade is all it takes to count as a client).
fn open_websocket(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 101", "the upgrade was refused");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_readyz_and_metrics_on_the_binary() {
    let dir = TempDir::new("ops");
    let server = Server::start(&dir.sqlite_url(), dir.path());
    let http = client();

    for path in ["/healthz", "/readyz"] {
        let response = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "status": "ok" })
        );
    }

    let a = create_job(&http, &server, "pending one").await;
    let b = create_job(&http, &server, "running one").await;
    let moved = http
        .post(server.url(&format!("/api/v1/jobs/{b}/status")))
        .json(&json!({ "status": "running" }))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    for id in [&a, &b] {
        let got = http
            .get(server.url(&format!("/api/v1/jobs/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), StatusCode::OK);
    }
    let missing = http
        .get(server.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let _socket = open_websocket(&server);

    // The hub delivers after each commit; the lag is back to 0 at once (at most a poll later).
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        let metrics = scrape(&http, &server).await;
        let settled = sample(&metrics, "printdesk_event_log_lag") == Some(0.0)
            && sample(&metrics, "printdesk_websocket_clients") == Some(1.0);
        if settled || Instant::now() > deadline {
            break metrics;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let expect = [
        (r#"printdesk_jobs{status="pending"}"#, 1.0),
        (r#"printdesk_jobs{status="running"}"#, 1.0),
        (r#"printdesk_jobs{status="completed"}"#, 0.0),
        (r#"printdesk_jobs{status="failed"}"#, 0.0),
        (
            r#"printdesk_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="200"}"#,
            2.0,
        ),
        (
            r#"printdesk_http_requests_total{method="POST",route="/api/v1/jobs",status="201"}"#,
            2.0,
        ),
        (
            r#"printdesk_http_requests_total{method="POST",route="/api/v1/jobs/{id}/status",status="200"}"#,
            1.0,
        ),
        (
            r#"printdesk_http_requests_total{method="GET",route="unmatched",status="404"}"#,
            1.0,
        ),
        (
            r#"printdesk_http_requests_total{method="GET",route="/api/v1/ws",status="101"}"#,
            1.0,
        ),
        (
            r#"printdesk_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/{id}"}"#,
            2.0,
        ),
        ("printdesk_websocket_clients", 1.0),
        ("printdesk_event_log_lag", 0.0),
        ("printdesk_database_up", 1.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&metrics, series), Some(value), "{series}\n{metrics}");
    }
    // Route patterns, never raw paths: no job id appears in any label.
    assert!(!metrics.contains(&a) && !metrics.contains(&b), "{metrics}");
    assert!(metrics.contains("# TYPE printdesk_http_request_duration_seconds histogram"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_is_one_object_per_line_with_the_request_id() {
    let dir = TempDir::new("logs");
    let server = Server::start(&dir.sqlite_url(), dir.path());
    let http = client();

    let mut ids = Vec::new();
    for (path, status) in [("/api/v1/jobs", 200), ("/api/v1/jobs/nope", 404)] {
        let response = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        ids.push((id, path, status));
    }

    // The line is written after the response; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    for (id, path, status) in ids {
        let line = loop {
            // Every line, not just the one looked for, must be a JSON object.
            let found = server.log_json().into_iter().find(|l| {
                l["message"] == "request finished" && l["span"]["request_id"] == id.as_str()
            });
            if let Some(line) = found {
                break line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with request id {id}:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(line["level"], "INFO");
        assert!(line["timestamp"].is_string());
        assert_eq!(line["span"]["method"], "GET");
        assert_eq!(line["span"]["path"], path);
        assert_eq!(line["span"]["status"], status);
        assert!(line["span"]["latency_ms"].is_number());
    }
}
