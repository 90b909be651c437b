//! Request bodies: content type (415), size (413), JSON syntax and shape (422).

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, id_of, problem};

api_tests!(
    malformed_json_is_422,
    a_body_that_is_not_an_object_is_422,
    wrong_or_missing_content_type_is_415,
    body_over_64_kib_is_413,
    body_under_the_limit_is_read,
);

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).body(body);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    request.send().await.unwrap()
}

async fn malformed_json_is_422(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let path = format!("/jobs/{}", id_of(&job));
    for body in [
        "{",
        "{\"notes\": }",
        "",
        "nonsense",
        "{\"notes\": \"x\"} trailing",
    ] {
        for (method, path) in [
            (reqwest::Method::PUT, path.as_str()),
            (reqwest::Method::POST, "/jobs"),
            (reqwest::Method::POST, "/printers"),
        ] {
            let response = send(&app, method.clone(), path, Some("application/json"), body).await;
            let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(
                problem_body["type"], "urn:printdesk:problem:malformed-body",
                "{method} {path} {body:?}"
            );
        }
    }
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn a_body_that_is_not_an_object_is_422(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    for body in [json!([]), json!("x"), json!(null), json!(1)] {
        let response = app.put_job(&id_of(&job), &body, None).await;
        let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            problem_body["detail"]
                .as_str()
                .unwrap()
                .contains("JSON object")
        );
        problem(app.post_job(&body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

async fn wrong_or_missing_content_type_is_415(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let path = format!("/jobs/{}", id_of(&job));
    let body = r#"{"notes": "x"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        for (method, path) in [
            (reqwest::Method::PUT, path.as_str()),
            (reqwest::Method::POST, "/jobs"),
            (reqwest::Method::POST, "/printers"),
        ] {
            let response = send(&app, method, path, content_type, body).await;
            let problem_body = problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
            assert_eq!(
                problem_body["type"],
                "urn:printdesk:problem:unsupported-media-type"
            );
        }
    }
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
    // A charset parameter is fine.
    let response = send(
        &app,
        reqwest::Method::PUT,
        &path,
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn body_over_64_kib_is_413(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let big = json!({ "notes": "n".repeat(64 * 1024) }).to_string();
    let response = send(
        &app,
        reqwest::Method::PUT,
        &format!("/jobs/{}", id_of(&job)),
        Some("application/json"),
        big.clone(),
    )
    .await;
    let body = problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(body["detail"].as_str().unwrap().contains("64 KiB"));
    let response = send(
        &app,
        reqwest::Method::POST,
        "/jobs",
        Some("application/json"),
        big.clone(),
    )
    .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Without a Content-Length (chunked), the limit still holds.
    let stream = futures_util::stream::iter(
        big.into_bytes()
            .chunks(8 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = app
        .client
        .put(app.url(&format!("/jobs/{}", id_of(&job))))
        .header(header::CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn body_under_the_limit_is_read(app: TestApp) {
    // 60 KiB is read and judged by the rules (notes are too long), not refused as too large.
    let job = app.create_named_job("Benchy").await;
    let response = app
        .put_job(
            &id_of(&job),
            &json!({ "notes": "n".repeat(60 * 1024) }),
            None,
        )
        .await;
    problem(response, StatusCode::BAD_REQUEST).await;
}
