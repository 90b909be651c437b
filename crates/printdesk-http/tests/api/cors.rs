//! CORS: closed by default; open to the configured origins only, with the headers the API
//! uses. And `nosniff` on every response.

use printdesk_http::{CorsOrigins, Security};
use reqwest::{Method, Response, StatusCode, header};
use serde_json::json;

use crate::{
    auth::{TILL_TOKEN, two_tokens},
    helpers::{TestApp, client, problem},
};

const ALLOWED: &str = "https://ha.local:8123";
const OTHER: &str = "https://evil.example";

/// CORS for [`ALLOWED`], no tokens.
pub fn one_origin() -> Security {
    Security {
        cors_origins: CorsOrigins::parse([ALLOWED, "http://localhost:3000"]).unwrap(),
        ..Security::default()
    }
}

/// CORS for [`ALLOWED`] and the tokens of [`two_tokens`].
pub fn one_origin_with_tokens() -> Security {
    Security {
        cors_origins: CorsOrigins::parse([ALLOWED]).unwrap(),
        ..two_tokens()
    }
}

api_tests!(closed_by_default, responses_are_nosniff);
api_tests!(security = crate::cors::one_origin(); open_to_configured_origins_only);
api_tests!(
    security = crate::cors::one_origin_with_tokens();
    preflights_need_no_token_and_401s_are_readable
);

fn cors_headers(response: &Response) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

fn header_of(response: &Response, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url("/jobs"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers)
        .send()
        .await
        .unwrap()
}

async fn closed_by_default(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let response = app
        .client
        .get(app.url("/jobs"))
        .header(header::ORIGIN, ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cors_headers(&response), Vec::<String>::new());

    let response = preflight(&app, ALLOWED, "PUT", "if-match,content-type").await;
    assert_eq!(cors_headers(&response), Vec::<String>::new());
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;

    let response = app.get_job(job["id"].as_str().unwrap()).await;
    assert_eq!(cors_headers(&response), Vec::<String>::new());
}

async fn open_to_configured_origins_only(app: TestApp) {
    // The preflight of a cross-origin edit.
    let response = preflight(&app, ALLOWED, "PUT", "authorization,if-match,content-type").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );
    let methods = header_of(&response, header::ACCESS_CONTROL_ALLOW_METHODS).unwrap();
    for method in ["GET", "POST", "PUT", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = header_of(&response, header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap()
        .to_lowercase();
    for name in ["authorization", "if-match", "content-type"] {
        assert!(headers.contains(name), "{headers}");
    }
    assert!(header_of(&response, header::ACCESS_CONTROL_MAX_AGE).is_some());
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        None
    );

    // The request itself: its origin allowed, the API's headers readable.
    let response = app
        .client
        .post(app.url("/jobs"))
        .header(header::ORIGIN, ALLOWED)
        .json(&json!({ "job_name": "Benchy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );
    let exposed = header_of(&response, header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .unwrap()
        .to_lowercase();
    for name in ["etag", "location", "x-request-id"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // Errors too, including those actix makes itself (a 405).
    let response = app
        .client
        .patch(app.url("/jobs"))
        .header(header::ORIGIN, ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;

    // Another origin: served (the browser keeps the response from the page), never allowed.
    let response = app
        .client
        .get(app.url("/jobs"))
        .header(header::ORIGIN, OTHER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        None
    );
    // Its preflight is refused, as problem+json.
    let response = preflight(&app, OTHER, "PUT", "content-type").await;
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        None
    );
    problem(response, StatusCode::BAD_REQUEST).await;
    // A method or a header the API does not use is refused too.
    let response = preflight(&app, ALLOWED, "PATCH", "content-type").await;
    problem(response, StatusCode::BAD_REQUEST).await;
    let response = preflight(&app, ALLOWED, "GET", "x-custom").await;
    problem(response, StatusCode::BAD_REQUEST).await;
    // Same-origin requests (no `Origin`) are unaffected.
    let response = app.client.get(app.url("/jobs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        None
    );
}

async fn preflights_need_no_token_and_401s_are_readable(app: TestApp) {
    let response = preflight(&app, ALLOWED, "GET", "authorization").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );

    let response = app
        .client
        .get(app.url("/jobs"))
        .header(header::ORIGIN, ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );
    let exposed = header_of(&response, header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    problem(response, StatusCode::UNAUTHORIZED).await;

    let response = client(Some(TILL_TOKEN))
        .get(app.url("/jobs"))
        .header(header::ORIGIN, ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );
}

async fn responses_are_nosniff(app: TestApp) {
    let created = app.post_job(&json!({ "job_name": "Benchy" })).await;
    let invalid = app.post_job(&json!({ "job_name": "" })).await;
    let missing = app.client.get(app.url("/nothing")).send().await.unwrap();
    let wrong_method = app.client.patch(app.url("/jobs")).send().await.unwrap();
    for response in [created, invalid, missing, wrong_method] {
        assert_eq!(
            header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
            Some("nosniff"),
            "{} {}",
            response.url(),
            response.status()
        );
    }
}
