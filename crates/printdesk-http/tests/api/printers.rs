//! `/printers`: register, read, list, delete; deleting a printer keeps its jobs.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, etag, id_of, problem};

api_tests!(
    register_read_and_list,
    id_is_generated_when_absent,
    duplicate_id_is_409,
    invalid_printers_are_400,
    unknown_fields_and_wrong_types,
    missing_printer_is_404,
    deleting_a_printer_keeps_its_jobs,
);

async fn post_printer(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/printers"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn register_read_and_list(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "id": "x1c-1", "name": "  X1 Carbon ", "printer_type": "bambu_lab",
                 "location": "Shelf 2" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/api/v1/printers/x1c-1"
    );
    let printer: Value = response.json().await.unwrap();
    assert_eq!(printer["id"], "x1c-1");
    assert_eq!(printer["name"], "X1 Carbon");
    assert_eq!(printer["printer_type"], "bambu_lab");
    assert_eq!(printer["location"], "Shelf 2");
    assert!(printer["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched = app
        .client
        .get(app.url("/printers/x1c-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.json::<Value>().await.unwrap(), printer);

    app.create_printer("aaa").await;
    let list: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = list["printers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"x1c-1") && ids.contains(&"aaa"));
}

async fn id_is_generated_when_absent(app: TestApp) {
    let response = post_printer(&app, &json!({ "name": "Mini", "printer_type": "prusa" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let printer: Value = response.json().await.unwrap();
    let id = printer["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert!(printer["location"].is_null());
    let fetched = app
        .client
        .get(app.url(&format!("/printers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
}

async fn duplicate_id_is_409(app: TestApp) {
    app.create_printer("mk4").await;
    let response = post_printer(
        &app,
        &json!({ "id": "mk4", "name": "Other", "printer_type": "other" }),
    )
    .await;
    let body = problem(response, StatusCode::CONFLICT).await;
    assert!(body["detail"].as_str().unwrap().contains("mk4"));
}

async fn invalid_printers_are_400(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "id": "Bad Id", "name": " ", "printer_type": "makerbot" }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["id", "name", "printer_type"]);
    let body = problem(
        post_printer(&app, &json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["name", "printer_type"]);
    let list: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({ "printers": [] }));
}

async fn unknown_fields_and_wrong_types(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other", "created_at": "x", "ip": "10.0.0.1" }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["created_at", "ip"]);
    let response = post_printer(
        &app,
        &json!({ "name": 1, "printer_type": null, "location": true }),
    )
    .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&body), ["name", "printer_type", "location"]);
}

async fn missing_printer_is_404(app: TestApp) {
    for id in ["nope", "Not%20Valid", &"x".repeat(65)] {
        let response = app
            .client
            .get(app.url(&format!("/printers/{id}")))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
        let response = app
            .client
            .delete(app.url(&format!("/printers/{id}")))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
    }
}

async fn deleting_a_printer_keeps_its_jobs(app: TestApp) {
    app.create_printer("doomed").await;
    app.create_printer("other").await;
    let on_doomed = app
        .create_job(json!({ "job_name": "On doomed", "printer_id": "doomed" }))
        .await;
    let on_other = app
        .create_job(json!({ "job_name": "On other", "printer_id": "other" }))
        .await;

    let response = app
        .client
        .delete(app.url("/printers/doomed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .client
        .get(app.url("/printers/doomed"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;

    let response = app.get_job(&id_of(&on_doomed)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"2\"", "detaching is a versioned change");
    let detached: Value = response.json().await.unwrap();
    assert!(detached["printer_id"].is_null());
    assert_eq!(detached["job_name"], "On doomed");
    assert_eq!(app.stored_job(&id_of(&on_other)).await, on_other);
    assert_eq!(app.list_jobs("").await["total_count"], 2);

    // The old printer id is no longer accepted for jobs.
    let response = app
        .put_job(&id_of(&on_doomed), &json!({ "printer_id": "doomed" }), None)
        .await;
    problem(response, StatusCode::BAD_REQUEST).await;
}
