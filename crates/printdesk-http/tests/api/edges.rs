//! The edges every request passes (docs/api.md, "Requests"): `HEAD` wherever `GET`, duplicate
//! keys, content types and encodings, query strings that are not UTF-8, `Upgrade` outside the
//! WebSocket route, ids in their canonical form only, the nesting limit, control characters
//! in a 404's `detail`.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, problem};

api_tests!(
    head_is_answered_wherever_get_is,
    a_key_twice_is_400_naming_it,
    only_application_json_in_utf8_is_read,
    an_unknown_content_encoding_is_415,
    a_query_that_is_not_utf8_is_400,
    upgrade_is_answered_outside_the_websocket_route,
    job_ids_are_canonical_uuids_only,
    the_nesting_limit_is_as_documented,
    a_404_shows_control_characters_escaped,
);

/// Sends `request` as is on a connection of its own; the whole answer, read until the server
/// closes the connection (which it must, within 5 s).
async fn raw(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("no complete answer within 5 s; got {answer:?}"))
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

async fn head_is_answered_wherever_get_is(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let root = &app.address;
    for url in [
        format!("{root}/healthz"),
        format!("{root}/readyz"),
        format!("{root}/metrics"),
        format!("{root}/api/openapi.json"),
        format!("{root}/"),
        app.url("/jobs"),
        app.url(&format!("/jobs/{id}")),
        app.url(&format!("/jobs/{id}/history")),
        app.url("/jobs/export.csv"),
        app.url("/printers"),
    ] {
        let get = app.client.get(&url).send().await.unwrap();
        let head = app.client.head(&url).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {url}");
        assert_eq!(head.status(), StatusCode::OK, "HEAD {url}");
        assert_eq!(
            head.headers().get(header::CONTENT_TYPE),
            get.headers().get(header::CONTENT_TYPE),
            "HEAD {url}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {url}");
    }
    let head = app
        .client
        .head(app.url(&format!("/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()[header::ETAG], "\"1\"");
    let missing = app
        .client
        .head(app.url("/jobs/00000000-0000-0000-0000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Only where GET is: HEAD of a POST-only route is a 405, like GET.
    let bulk = app
        .client
        .head(app.url("/jobs/bulk-edit"))
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

const JSON: (&str, &str) = ("content-type", "application/json");

async fn a_key_twice_is_400_naming_it(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let path = format!("/jobs/{}", id_of(&job));
    let response = send(
        &app,
        Method::PUT,
        &path,
        &[JSON],
        r#"{"status":"running","notes":"x","status":"pending"}"#,
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["type"], "urn:printdesk:problem:bad-request");
    assert_eq!(body["errors"][0]["field"], "status", "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("the key status more than once"),
        "{body}"
    );
    assert_eq!(app.stored_job(&id_of(&job)).await, job);

    let response = send(
        &app,
        Method::POST,
        "/printers",
        &[JSON],
        r#"{"id":"p1","name":"P","printer_type":"fdm","connection":{"kind":"octoprint","kind":"moonraker"}}"#,
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["errors"][0]["field"], "connection.kind", "{body}");
}

async fn only_application_json_in_utf8_is_read(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let path = format!("/jobs/{}", id_of(&job));
    for content_type in [
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/json; charset=latin1",
        "application/json; charset=utf-8; q=1",
        "text/json",
        "application/jsonx",
    ] {
        let response = send(
            &app,
            Method::PUT,
            &path,
            &[("content-type", content_type)],
            r#"{"notes":"x"}"#,
        )
        .await;
        let body = problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        assert_eq!(
            body["type"], "urn:printdesk:problem:unsupported-media-type",
            "{content_type}"
        );
    }
    for (i, content_type) in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON; Charset=\"UTF-8\"",
    ]
    .into_iter()
    .enumerate()
    {
        let notes = format!("n{i}");
        let response = send(
            &app,
            Method::PUT,
            &path,
            &[("content-type", content_type)],
            &json!({ "notes": notes }).to_string(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
    }
}

async fn an_unknown_content_encoding_is_415(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let path = format!("/jobs/{}", id_of(&job));
    for encoding in ["br", "compress", "zstd", "rot13", "gzip, br"] {
        let response = send(
            &app,
            Method::PUT,
            &path,
            &[JSON, ("content-encoding", encoding)],
            r#"{"notes":"x"}"#,
        )
        .await;
        let body = problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Content-Encoding"),
            "{encoding}: {body}"
        );
    }
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
    let response = send(
        &app,
        Method::PUT,
        &path,
        &[JSON, ("content-encoding", "identity")],
        r#"{"notes":"plain"}"#,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_query_that_is_not_utf8_is_400(app: TestApp) {
    for query in ["q=%ff", "status=pending&q=%C3", "limit=5&q=caf%E9"] {
        let response = app
            .client
            .get(format!("{}?{query}", app.url("/jobs")))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert!(
            body["detail"].as_str().unwrap().contains("UTF-8"),
            "{query}: {body}"
        );
    }
    let response = app
        .client
        .get(format!("{}?q=caf%C3%A9", app.url("/jobs")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn upgrade_is_answered_outside_the_websocket_route(app: TestApp) {
    let host = app.address.trim_start_matches("http://").to_owned();
    // A POST asking for a WebSocket: answered at once (it used to wait until the client
    // closed), and nothing is created.
    let body = r#"{"job_name":"sneaky"}"#;
    let answer = raw(
        &app,
        format!(
            "POST /api/v1/jobs HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("only GET /api/v1/ws upgrades"), "{answer}");
    assert_eq!(app.list_jobs("").await["total_count"], 0);

    // The WebSocket route, but on POST.
    let answer = raw(
        &app,
        format!(
            "POST /api/v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // A version other than 13.
    let answer = raw(
        &app,
        format!(
            "GET /api/v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    assert!(
        answer.to_lowercase().contains("sec-websocket-version: 13"),
        "{answer}"
    );

    // A GET with an Upgrade the server does not do (curl --http2 sends h2c): served as a
    // plain GET, and the connection closed after it.
    let answer = raw(
        &app,
        format!(
            "GET /api/v1/jobs HTTP/1.1\r\nHost: {host}\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\
             HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
}

async fn job_ids_are_canonical_uuids_only(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    assert_eq!(app.get_job(&id).await.status(), StatusCode::OK);
    let simple = id.replace('-', "");
    for other in [
        id.to_uppercase(),
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        simple.clone(),
    ] {
        let response = app.get_job(&other).await;
        problem(response, StatusCode::NOT_FOUND).await;
        let response = app.put_job(&other, &json!({ "notes": "x" }), None).await;
        problem(response, StatusCode::NOT_FOUND).await;
    }
    let response = app
        .bulk_edit(&json!({ "ids": [id.to_uppercase()], "changes": { "notes": "x" } }))
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["errors"][0]["field"], "ids", "{body}");
    assert_eq!(app.stored_job(&id).await, job);
}

async fn the_nesting_limit_is_as_documented(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let path = format!("/jobs/{}", id_of(&job));
    // The body's object is level 1; `notes` holds the rest (a wrong type at worst, 422, but
    // not for its depth).
    let nested = |depth: usize| {
        format!(
            r#"{{"notes":{}0{}}}"#,
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    };
    let response = send(
        &app,
        Method::PUT,
        &path,
        &[JSON],
        &nested(printdesk_http::NESTING_LIMIT),
    )
    .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["type"], "urn:printdesk:problem:wrong-type", "{body}");
    let response = send(
        &app,
        Method::PUT,
        &path,
        &[JSON],
        &nested(printdesk_http::NESTING_LIMIT + 1),
    )
    .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        body["type"], "urn:printdesk:problem:malformed-body",
        "{body}"
    );
    assert_eq!(
        body["detail"],
        "The request body is nested deeper than 127 levels of arrays and objects."
    );
}

async fn a_404_shows_control_characters_escaped(app: TestApp) {
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut request = b"GET /nothing-\x7f-\xc2\x85-here HTTP/1.1\r\nHost: ".to_vec();
    request.extend_from_slice(host.as_bytes());
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    let answer = raw(&app, &request).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    // actix may refuse such a request line itself (400); either way the body holds no raw
    // control character.
    assert!(
        head.starts_with("HTTP/1.1 404") || head.starts_with("HTTP/1.1 400"),
        "{head}"
    );
    assert!(!body.chars().any(char::is_control), "{body:?}");
    if head.starts_with("HTTP/1.1 404") {
        let problem: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            problem["detail"], "Nothing exists at /nothing-%7F-%C2%85-here.",
            "{problem}"
        );
    }
}
