//! `GET` and `DELETE /jobs/{id}`, and `If-Match` on edits and deletes.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, etag, id_of, problem};

api_tests!(
    get_returns_the_job_with_its_etag,
    missing_and_malformed_ids_are_404,
    matching_if_match_is_applied,
    stale_if_match_is_412_with_current,
    if_match_that_names_no_version_is_412,
    delete_without_if_match,
    delete_honours_if_match,
);

const MISSING: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

async fn get_returns_the_job_with_its_etag(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let response = app.get_job(&id_of(&job)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"1\"");
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(response.json::<Value>().await.unwrap(), job);
}

async fn missing_and_malformed_ids_are_404(app: TestApp) {
    for id in [MISSING, "not-a-uuid", "1"] {
        let body = problem(app.get_job(id).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["type"], "urn:printdesk:problem:not-found");
        problem(app.delete_job(id, None).await, StatusCode::NOT_FOUND).await;
        problem(
            app.delete_job(id, Some("\"1\"")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

async fn matching_if_match_is_applied(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let steps = [
        ("\"1\"", "\"2\""),
        ("W/\"2\"", "\"3\""),
        ("*", "\"4\""),
        ("\"1\", \"4\"", "\"5\""),
    ];
    for (n, (if_match, new_tag)) in steps.into_iter().enumerate() {
        let response = app
            .put_job(
                &id,
                &json!({ "notes": format!("edit {n}") }),
                Some(if_match),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "If-Match: {if_match}");
        assert_eq!(etag(&response), new_tag);
    }
    // `{}` with the current tag is fine too, and changes nothing.
    let response = app.put_job(&id, &json!({}), Some("\"5\"")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"5\"");
}

async fn stale_if_match_is_412_with_current(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let first = app
        .put_job(&id, &json!({ "notes": "first" }), Some("\"1\""))
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let current: Value = first.json().await.unwrap();

    for body in [json!({ "notes": "second" }), json!({})] {
        let response = app.put_job(&id, &body, Some("\"1\"")).await;
        assert_eq!(etag(&response), "\"2\"");
        let problem_body = problem(response, StatusCode::PRECONDITION_FAILED).await;
        assert_eq!(
            problem_body["type"],
            "urn:printdesk:problem:version-mismatch"
        );
        assert_eq!(problem_body["current"], current);
    }
    assert_eq!(app.stored_job(&id).await, current);
}

async fn if_match_that_names_no_version_is_412(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    for tag in ["\"abc\"", "1", "\"0\"", "\"7\", \"8\""] {
        let response = app.put_job(&id, &json!({ "notes": "x" }), Some(tag)).await;
        let body = problem(response, StatusCode::PRECONDITION_FAILED).await;
        assert_eq!(body["current"], job, "If-Match: {tag}");
    }
    assert_eq!(app.stored_job(&id).await, job);
}

async fn delete_without_if_match(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app.delete_job(&id, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    problem(app.get_job(&id).await, StatusCode::NOT_FOUND).await;
    problem(app.delete_job(&id, None).await, StatusCode::NOT_FOUND).await;
}

async fn delete_honours_if_match(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let edited: Value = app
        .put_job(&id, &json!({ "notes": "x" }), None)
        .await
        .json()
        .await
        .unwrap();
    let body = problem(
        app.delete_job(&id, Some("\"1\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(body["current"], edited);
    assert_eq!(app.stored_job(&id).await, edited);

    let response = app.delete_job(&id, Some("\"2\"")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    problem(app.get_job(&id).await, StatusCode::NOT_FOUND).await;
}
