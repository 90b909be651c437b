//! `POST /jobs/{id}/status`: the status workflow. The domain tests every cell of the table;
//! these tests cover a representative set through HTTP.

use printdesk_domain::{JobStatus, TRANSITIONS};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, etag, id_of, problem};

api_tests!(
    start_and_complete_set_the_timestamps,
    fail_and_retry,
    a_move_the_table_lacks_is_409_naming_the_allowed_moves,
    undoing_a_completed_job_needs_force,
    the_same_status_is_a_no_op,
    if_match_is_honoured,
    bodies_are_checked_like_the_edit,
    missing_and_malformed_ids_are_404,
    the_plain_edit_sets_any_status_and_leaves_the_timestamps,
);

/// Moves the job, asserting 200, and returns it.
async fn moved(app: &TestApp, id: &str, body: Value) -> Value {
    let response = app.post_status(id, &body, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    let tag = etag(&response);
    let job: Value = response.json().await.unwrap();
    assert_eq!(tag, format!("\"{}\"", job["version"]));
    job
}

async fn start_and_complete_set_the_timestamps(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    assert!(job["started_at"].is_null() && job["completed_at"].is_null());

    let running = moved(&app, &id, json!({ "status": "running" })).await;
    assert_eq!(running["status"], "running");
    assert_eq!(running["version"], 2);
    assert!(running["started_at"].is_string(), "{running}");
    assert!(running["completed_at"].is_null());
    assert_eq!(running["updated_at"], running["started_at"]);

    let completed = moved(&app, &id, json!({ "status": "completed" })).await;
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["version"], 3);
    assert_eq!(completed["started_at"], running["started_at"]);
    assert!(completed["completed_at"].is_string());
    assert!(completed["completed_at"].as_str() >= completed["started_at"].as_str());
    assert_eq!(app.stored_job(&id).await, completed);
}

async fn fail_and_retry(app: TestApp) {
    let id = id_of(&app.create_named_job("Spaghetti").await);
    let running = moved(&app, &id, json!({ "status": "running" })).await;
    let failed = moved(&app, &id, json!({ "status": "failed" })).await;
    assert!(failed["completed_at"].is_string());

    // A retry clears completed_at; started_at stays, and is not reset by the next start.
    let retried = moved(&app, &id, json!({ "status": "pending" })).await;
    assert_eq!(retried["status"], "pending");
    assert!(retried["completed_at"].is_null());
    assert_eq!(retried["started_at"], running["started_at"]);
    let restarted = moved(&app, &id, json!({ "status": "running" })).await;
    assert_eq!(restarted["started_at"], running["started_at"]);
    assert_eq!(restarted["version"], 5);

    // pending → failed is allowed too (a job that never started).
    let other = id_of(&app.create_named_job("Never started").await);
    let failed = moved(&app, &other, json!({ "status": "failed" })).await;
    assert!(failed["started_at"].is_null());
    assert!(failed["completed_at"].is_string());
}

async fn a_move_the_table_lacks_is_409_naming_the_allowed_moves(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let body = problem(
        app.post_status(&id, &json!({ "status": "completed" }), None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["type"], "urn:printdesk:problem:transition-not-allowed");
    assert_eq!(body["allowed"], json!(["running", "failed"]));
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("running, failed"), "{detail}");
    assert_eq!(app.stored_job(&id).await, job);

    // A failed job can only be retried.
    moved(&app, &id, json!({ "status": "failed" })).await;
    for to in ["running", "completed"] {
        let body = problem(
            app.post_status(&id, &json!({ "status": to }), None).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(body["allowed"], json!(["pending"]), "{to}");
    }
}

async fn undoing_a_completed_job_needs_force(app: TestApp) {
    let id = id_of(&app.create_named_job("Benchy").await);
    moved(&app, &id, json!({ "status": "running" })).await;
    let completed = moved(&app, &id, json!({ "status": "completed" })).await;

    for body in [
        json!({ "status": "pending" }),
        json!({ "status": "pending", "force": false }),
    ] {
        let refused = problem(
            app.post_status(&id, &body, None).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(refused["allowed"], json!(["pending"]));
        assert!(refused["detail"].as_str().unwrap().contains("force"));
    }
    // Nothing else leaves completed, force or not.
    let refused = problem(
        app.post_status(&id, &json!({ "status": "failed", "force": true }), None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["allowed"], json!(["pending"]));
    assert_eq!(app.stored_job(&id).await, completed);

    let reopened = moved(&app, &id, json!({ "status": "pending", "force": true })).await;
    assert_eq!(reopened["status"], "pending");
    assert!(reopened["completed_at"].is_null());
    assert_eq!(reopened["started_at"], completed["started_at"]);
}

async fn the_same_status_is_a_no_op(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app
        .post_status(&id, &json!({ "status": "pending" }), Some("\"1\""))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"1\"");
    assert_eq!(response.json::<Value>().await.unwrap(), job);

    let running = moved(&app, &id, json!({ "status": "running" })).await;
    let again = moved(&app, &id, json!({ "status": "running", "force": true })).await;
    assert_eq!(again, running);
}

async fn if_match_is_honoured(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    app.put_job(&id, &json!({ "notes": "changed" }), None).await;

    let body = problem(
        app.post_status(&id, &json!({ "status": "running" }), Some("\"1\""))
            .await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(body["current"]["version"], 2);
    assert_eq!(body["current"]["status"], "pending");
    assert_eq!(app.stored_job(&id).await["status"], "pending");

    let response = app
        .post_status(&id, &json!({ "status": "running" }), Some("\"2\""))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"3\"");
}

async fn bodies_are_checked_like_the_edit(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);

    let body = problem(
        app.post_status(
            &id,
            &json!({ "status": "running", "notes": "x", "forced": true }),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["forced", "notes"]);

    for (case, field) in [
        (json!({ "status": "done" }), "status"),
        (json!({ "status": "RUNNING" }), "status"),
        (json!({ "status": null }), "status"),
        (json!({ "status": 2 }), "status"),
        (json!({ "status": "running", "force": "true" }), "force"),
        (json!({ "status": "running", "force": null }), "force"),
    ] {
        let body = problem(
            app.post_status(&id, &case, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&body), [field], "{case}");
    }

    let body = problem(
        app.post_status(&id, &json!({}), None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["status"]);

    // Not JSON, not an object, not application/json.
    let url = app.url(&format!("/jobs/{id}/status"));
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app.client.post(&url).json(&json!(["running"])).send().await;
    problem(response.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app.client.post(&url).body("running").send().await.unwrap();
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    assert_eq!(app.stored_job(&id).await, job);
}

async fn missing_and_malformed_ids_are_404(app: TestApp) {
    for id in ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "not-a-uuid"] {
        problem(
            app.post_status(id, &json!({ "status": "running" }), None)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

async fn the_plain_edit_sets_any_status_and_leaves_the_timestamps(app: TestApp) {
    let id = id_of(&app.create_named_job("Benchy").await);
    // pending → completed is no move of the workflow, but the edit corrects records.
    let response = app
        .put_job(&id, &json!({ "status": "completed" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["status"], "completed");
    assert!(edited["started_at"].is_null());
    assert!(edited["completed_at"].is_null());
}

/// `docs/api.md` documents the transition table; it must say what the domain does.
#[test]
fn the_documented_transition_table_is_the_domains() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
    let docs = std::fs::read_to_string(path).expect("docs/api.md exists");
    let table = docs
        .split("<!-- transitions -->")
        .nth(1)
        .expect("docs/api.md marks the transition table with <!-- transitions -->");
    let mut documented = Vec::new();
    for line in table.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let (Ok(from), Ok(to)) = (
            cells[0].trim_matches('`').parse::<JobStatus>(),
            cells[1].trim_matches('`').parse::<JobStatus>(),
        ) else {
            continue; // the header and its rule
        };
        documented.push((from, to, cells[2] == "required"));
    }
    let actual: Vec<_> = TRANSITIONS
        .iter()
        .map(|t| (t.from, t.to, t.requires_force))
        .collect();
    assert_eq!(documented, actual);
}
