//! `GET /jobs/{id}/history`: a job's audit trail, newest first, paged, kept after a delete.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, id_of, problem};

api_tests!(
    events_are_newest_first_with_old_and_new_values,
    a_deleted_job_keeps_its_history,
    paging,
    invalid_parameters_are_400,
    unknown_and_malformed_ids_are_404,
);

async fn history(app: &TestApp, id: &str, query: &str) -> Value {
    let response = app.history(id, query).await;
    assert_eq!(response.status(), StatusCode::OK, "history?{query}");
    response.json().await.unwrap()
}

fn types(page: &Value) -> Vec<&str> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

async fn events_are_newest_first_with_old_and_new_values(app: TestApp) {
    let job = app
        .create_job(json!({ "job_name": "Benchy", "notes": "first" }))
        .await;
    let id = id_of(&job);
    let response = app
        .put_job(
            &id,
            &json!({ "notes": "re-sliced", "customer_name": "Bob" }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    let started = app
        .post_status(&id, &json!({ "status": "running" }), None)
        .await;
    let started: Value = started.json().await.unwrap();

    let page = history(&app, &id, "").await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(page["limit"], 50);
    assert_eq!(page["offset"], 0);
    assert_eq!(types(&page), ["job_updated", "job_updated", "job_created"]);
    let events = page["events"].as_array().unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    for event in events {
        assert_eq!(event["job_id"], job["id"]);
        assert!(event["at"].is_string());
    }

    // The status move: status and started_at, and the job as it was after it.
    assert_eq!(
        events[0]["changes"],
        json!({
            "status": { "old": "pending", "new": "running" },
            "started_at": { "old": null, "new": started["started_at"] }
        })
    );
    assert_eq!(events[0]["job"], started);
    // The edit: exactly the fields it changed.
    assert_eq!(
        events[1]["changes"],
        json!({
            "notes": { "old": "first", "new": "re-sliced" },
            "customer_name": { "old": null, "new": "Bob" }
        })
    );
    assert_eq!(events[1]["job"], edited);
    assert_eq!(events[1]["at"], edited["updated_at"]);
    // The creation: every editable field from null.
    assert_eq!(
        events[2]["changes"]["job_name"],
        json!({ "old": null, "new": "Benchy" })
    );
    assert_eq!(events[2]["job"], job);
}

async fn a_deleted_job_keeps_its_history(app: TestApp) {
    let job = app.create_named_job("Short-lived").await;
    let id = id_of(&job);
    app.put_job(&id, &json!({ "notes": "about to go" }), None)
        .await;
    assert_eq!(
        app.delete_job(&id, None).await.status(),
        StatusCode::NO_CONTENT
    );
    problem(app.get_job(&id).await, StatusCode::NOT_FOUND).await;

    let page = history(&app, &id, "").await;
    assert_eq!(page["total_count"], 3);
    assert_eq!(types(&page), ["job_deleted", "job_updated", "job_created"]);
    assert_eq!(page["events"][0]["job"]["notes"], "about to go");
    assert_eq!(page["events"][1]["changes"]["notes"]["new"], "about to go");
}

async fn paging(app: TestApp) {
    let id = id_of(&app.create_named_job("Busy").await);
    for n in 1..=5 {
        app.put_job(&id, &json!({ "notes": format!("edit {n}") }), None)
            .await;
    }
    let notes = |page: &Value| -> Vec<Value> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["job"]["notes"].clone())
            .collect()
    };

    let first = history(&app, &id, "limit=2").await;
    assert_eq!(first["total_count"], 6);
    assert_eq!(first["limit"], 2);
    assert_eq!(notes(&first), [json!("edit 5"), json!("edit 4")]);

    let last = history(&app, &id, "limit=2&offset=4").await;
    assert_eq!(last["offset"], 4);
    assert_eq!(notes(&last), [json!("edit 1"), Value::Null]);
    assert_eq!(types(&last), ["job_updated", "job_created"]);

    let beyond = history(&app, &id, "offset=10").await;
    assert_eq!(beyond["events"], json!([]));
    assert_eq!(beyond["total_count"], 6);

    let all = history(&app, &id, "limit=500").await;
    assert_eq!(all["events"].as_array().unwrap().len(), 6);
}

async fn invalid_parameters_are_400(app: TestApp) {
    let id = id_of(&app.create_named_job("Benchy").await);
    for (query, fields) in [
        ("limit=0", vec!["limit"]),
        ("limit=501", vec!["limit"]),
        ("limit=x&offset=-1", vec!["limit", "offset"]),
        ("status=pending", vec!["status"]),
        ("limit=1&limit=2", vec!["limit"]),
    ] {
        let body = problem(app.history(&id, query).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), fields, "{query}");
    }
}

async fn unknown_and_malformed_ids_are_404(app: TestApp) {
    app.create_named_job("Someone else").await;
    for id in ["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "not-a-uuid"] {
        let body = problem(app.history(id, "").await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["type"], "urn:printdesk:problem:not-found");
    }
}
