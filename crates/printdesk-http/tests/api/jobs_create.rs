//! `POST /jobs`: the same rules as the edit, defaults, `Location` and `ETag`.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, error_fields, etag, id_of, problem};

api_tests!(
    creates_with_defaults_location_and_etag,
    creates_with_every_field,
    refuses_server_owned_and_unknown_fields,
    reports_every_broken_rule,
    a_missing_job_name_is_refused,
    wrong_types_are_422,
    unknown_printer_is_400,
);

async fn creates_with_defaults_location_and_etag(app: TestApp) {
    let response = app.post_job(&json!({ "job_name": "  Benchy  " })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(etag(&response), "\"1\"");
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let job: serde_json::Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{}", id_of(&job)));
    assert_eq!(job["job_name"], "Benchy");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["is_business"], false);
    assert_eq!(job["version"], 1);
    assert_eq!(job["auto_created"], false);
    for nullable in [
        "customer_name",
        "notes",
        "file_name",
        "printer_id",
        "started_at",
        "completed_at",
        "discovery_time",
    ] {
        assert!(job[nullable].is_null(), "{nullable} in {job}");
    }
    assert_eq!(job["created_at"], job["updated_at"]);
    let created_at = job["created_at"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "{created_at}"
    );

    let fetched = app
        .client
        .get(format!("{}{location}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(etag(&fetched), "\"1\"");
    assert_eq!(fetched.json::<serde_json::Value>().await.unwrap(), job);
}

async fn creates_with_every_field(app: TestApp) {
    app.create_printer("x1c").await;
    let job = app
        .create_job(json!({
            "job_name": "Gears", "status": "running", "is_business": true,
            "customer_name": "  ACME  ", "notes": "two plates", "file_name": "gears.3mf",
            "printer_id": "x1c"
        }))
        .await;
    assert_eq!(job["status"], "running");
    assert_eq!(job["is_business"], true);
    assert_eq!(job["customer_name"], "ACME");
    assert_eq!(job["notes"], "two plates");
    assert_eq!(job["file_name"], "gears.3mf");
    assert_eq!(job["printer_id"], "x1c");
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn refuses_server_owned_and_unknown_fields(app: TestApp) {
    let response = app
        .post_job(
            &json!({ "job_name": "Benchy", "id": "00000000-0000-0000-0000-000000000000",
                           "version": 9, "colour": "red" }),
        )
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["colour", "id", "version"]);
    let detail = body["detail"].as_str().unwrap();
    for field in ["colour", "id", "version"] {
        assert!(detail.contains(field), "{detail}");
    }
    assert_eq!(app.list_jobs("").await["total_count"], 0);
}

async fn reports_every_broken_rule(app: TestApp) {
    let response = app
        .post_job(&json!({ "job_name": "   ", "is_business": true, "notes": "n".repeat(1001) }))
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["type"], "urn:printdesk:problem:validation");
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["customer_name", "job_name", "notes"]);
    assert_eq!(app.list_jobs("").await["total_count"], 0);
}

async fn a_missing_job_name_is_refused(app: TestApp) {
    let body = problem(
        app.post_job(&json!({ "notes": "x" })).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["job_name"]);
}

async fn wrong_types_are_422(app: TestApp) {
    let response = app
        .post_job(&json!({ "job_name": 5, "status": "done", "is_business": null, "notes": [] }))
        .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        error_fields(&body),
        ["job_name", "status", "is_business", "notes"]
    );
}

async fn unknown_printer_is_400(app: TestApp) {
    let response = app
        .post_job(&json!({ "job_name": "Benchy", "printer_id": "nowhere" }))
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["printer_id"]);
    assert_eq!(app.list_jobs("").await["total_count"], 0);
}
