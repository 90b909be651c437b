//! The API description: `/api/openapi.json` is the generated document, Swagger UI is served from
//! the binary at `/api/docs/`, neither needs a token, and every operation the document
//! describes is routed and answers with a status it documents.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    auth::TILL_TOKEN,
    helpers::{TestApp, client, id_of, problem},
};

api_tests!(
    the_served_document_is_the_generated_one,
    swagger_ui_is_served_from_the_binary,
    every_documented_operation_is_routed_and_answers_as_documented,
);

api_tests!(
    security = crate::auth::two_tokens();
    the_document_and_swagger_ui_need_no_token,
);

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

async fn the_served_document_is_the_generated_one(app: TestApp) {
    let response = get(&app, "/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/json",
        "served as JSON"
    );
    let served: Value = response.json().await.unwrap();
    let generated = serde_json::to_value(printdesk_app::openapi()).unwrap();
    assert_eq!(served, generated);
    assert_eq!(served["openapi"], "3.1.0");
}

async fn swagger_ui_is_served_from_the_binary(app: TestApp) {
    let response = get(&app, "/api/docs").await;
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(response.headers()[header::LOCATION], "/api/docs/");

    let response = get(&app, "/api/docs/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    // Every script and stylesheet is one of its own files: nothing is fetched from elsewhere.
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );

    let initializer = get(&app, "/api/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status(), StatusCode::OK);
    let initializer = initializer.text().await.unwrap();
    assert!(
        initializer.contains(r#""url": "/api/openapi.json""#),
        "{initializer}"
    );
    // The vendored bundle itself (about 1 MB), not a stub.
    let bundle = get(&app, "/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(bundle.bytes().await.unwrap().len() > 500_000);

    problem(
        get(&app, "/api/docs/no-such-file.js").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn the_document_and_swagger_ui_need_no_token(app: TestApp) {
    for path in [
        "/api/openapi.json",
        "/api/docs/",
        "/api/docs/swagger-ui.css",
    ] {
        assert_eq!(get(&app, path).await.status(), StatusCode::OK, "{path}");
    }
    // While the API itself does.
    problem(get(&app, "/api/v1/jobs").await, StatusCode::UNAUTHORIZED).await;
    let response = client(Some(TILL_TOKEN))
        .get(app.url("/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// The statuses the document gives `method` on `path`.
fn documented_statuses(document: &Value, path: &str, method: &str) -> Vec<u16> {
    document["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .map(|status| status.parse().unwrap())
        .collect()
}

async fn every_documented_operation_is_routed_and_answers_as_documented(app: TestApp) {
    let document = serde_json::to_value(printdesk_app::openapi()).unwrap();
    app.create_printer("docs-printer").await;
    let job = app
        .create_job(json!({ "job_name": "Benchy", "printer_id": "docs-printer" }))
        .await;
    let job_id = id_of(&job);

    let mut operations: Vec<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/") && path.as_str() != "/api/v1/ws")
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (path.clone(), method.clone()))
        })
        .collect();
    // Deletes last, so that every other operation finds the job and the printer.
    operations.sort_by_key(|(path, method)| (method == "delete", path.clone()));
    assert!(operations.len() >= 13, "{operations:?}");

    for (path, method) in operations {
        let operation = &document["paths"][&path][&method];
        let url = path
            .replace("/jobs/{id}", &format!("/jobs/{job_id}"))
            .replace("/printers/{id}", "/printers/docs-printer")
            .replacen("/api/v1", "", 1);
        let mut request = app.client.request(
            Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            app.url(&url),
        );
        if operation.get("requestBody").is_some() {
            request = request.json(&json!({}));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert!(
            documented_statuses(&document, &path, &method).contains(&status.as_u16()),
            "{method} {path} answered {status}, which the document does not list"
        );
        assert!(
            !matches!(
                status,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::INTERNAL_SERVER_ERROR
            ),
            "{method} {path}: {status}"
        );
        if status == StatusCode::NOT_FOUND {
            let body: Value = response.json().await.unwrap();
            // An open server has no user to seed users and tokens with: their handlers' own
            // 404 shows the route is there (the fallback says "Nothing exists at …").
            let own_answer = (path.starts_with("/api/v1/users/")
                || path.starts_with("/api/v1/tokens/"))
                && !body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("Nothing exists");
            if !own_answer {
                panic!("{method} {path} is not routed, or the seeded object is gone: {body}");
            }
        }
    }
}
