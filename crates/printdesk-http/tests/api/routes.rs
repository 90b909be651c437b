//! Routes the API does not have, methods a route does not take, and the request id.

use reqwest::{Method, StatusCode, header};

use crate::helpers::{TestApp, id_of, problem};

api_tests!(
    unknown_routes_are_404_problems,
    wrong_methods_are_405_problems,
    responses_carry_a_request_id,
);

async fn unknown_routes_are_404_problems(app: TestApp) {
    for path in [
        "/api/v1/nothing",
        "/api/v1/jobs/a/b",
        // Not `/`: the page is served there.
        "/no-such-page",
        "/api/v2/jobs",
        "/api/v1/jobs/",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::NOT_FOUND).await;
        assert_eq!(body["type"], "urn:printdesk:problem:not-found", "{path}");
    }
}

async fn wrong_methods_are_405_problems(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let job_path = format!("/jobs/{}", id_of(&job));
    let cases = [
        (Method::PATCH, job_path.as_str()),
        (Method::POST, job_path.as_str()),
        (Method::DELETE, "/jobs"),
        (Method::PUT, "/printers"),
        (Method::PUT, "/printers/x"),
    ];
    for (method, path) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert!(
            response.headers().contains_key(header::ALLOW),
            "{method} {path}"
        );
        let body = problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
        assert!(body["detail"].as_str().unwrap().contains(method.as_str()));
    }
}

async fn responses_carry_a_request_id(app: TestApp) {
    let ok = app.client.get(app.url("/jobs")).send().await.unwrap();
    assert!(ok.headers().contains_key("x-request-id"));
    let not_found = app.client.get(app.url("/nothing")).send().await.unwrap();
    assert!(not_found.headers().contains_key("x-request-id"));
}
