//! Print times: `PUT /jobs/{id}` keeps `started_at` / `completed_at` true where a status
//! change is one of the workflow's moves, and the list sorts by both, NULLs last both ways.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of};

api_tests!(
    put_along_a_workflow_move_sets_print_times,
    put_that_is_no_workflow_move_leaves_print_times_alone,
    sort_by_started_at_and_completed_at_puts_nulls_last,
);

async fn put_status(app: &TestApp, id: &str, status: &str) -> Value {
    let response = app.put_job(id, &json!({ "status": status }), None).await;
    assert_eq!(response.status(), StatusCode::OK, "PUT status {status}");
    response.json().await.unwrap()
}

async fn put_along_a_workflow_move_sets_print_times(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);

    let running = put_status(&app, &id, "running").await;
    let started = running["started_at"]
        .as_str()
        .expect("started_at set")
        .to_owned();
    assert!(started.as_str() >= job["created_at"].as_str().unwrap());
    assert!(running["completed_at"].is_null());

    let completed = put_status(&app, &id, "completed").await;
    assert_eq!(completed["started_at"], started.as_str(), "kept");
    let done = completed["completed_at"]
        .as_str()
        .expect("completed_at set");
    assert!(done >= started.as_str());

    // Completed → pending is the workflow's reopen: the edit, a correction, needs no force.
    let reopened = put_status(&app, &id, "pending").await;
    assert_eq!(reopened["started_at"], started.as_str());
    assert!(
        reopened["completed_at"].is_null(),
        "a retry clears completed_at"
    );

    let failed = put_status(&app, &id, "failed").await;
    assert!(
        failed["completed_at"].is_string(),
        "pending → failed ends it"
    );
    assert_eq!(app.stored_job(&id).await, failed);

    // The event and the history carry the timestamp changes.
    let history: Value = app.history(&id, "").await.json().await.unwrap();
    let newest = &history["events"][0];
    assert_eq!(newest["changes"]["status"]["new"], "failed");
    assert_eq!(
        newest["changes"]["completed_at"]["new"],
        failed["completed_at"]
    );
}

async fn put_that_is_no_workflow_move_leaves_print_times_alone(app: TestApp) {
    let job = app.create_named_job("Calibration cube").await;
    let id = id_of(&job);
    // pending → completed is not a move of the workflow: a plain correction.
    let completed = put_status(&app, &id, "completed").await;
    assert_eq!(completed["status"], "completed");
    assert!(completed["started_at"].is_null());
    assert!(completed["completed_at"].is_null());
    // completed → running neither.
    let running = put_status(&app, &id, "running").await;
    assert!(running["started_at"].is_null());
    assert!(running["completed_at"].is_null());
    // A PUT of other fields never touches them.
    let renamed = app
        .put_job(&id, &json!({ "job_name": "Cube" }), None)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert!(renamed["started_at"].is_null() && renamed["completed_at"].is_null());
}

fn names(page: &Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_name"].as_str().unwrap().to_owned())
        .collect()
}

async fn sort_by_started_at_and_completed_at_puts_nulls_last(app: TestApp) {
    // "never" never starts; "first" starts and ends before "second"; "open" runs still.
    let mut ids = std::collections::HashMap::new();
    for name in ["never", "first", "second", "open"] {
        ids.insert(name, id_of(&app.create_named_job(name).await));
    }
    let moves = [
        ("first", "running"),
        ("second", "running"),
        ("open", "running"),
        ("first", "completed"),
        ("second", "completed"),
    ];
    for (name, status) in moves {
        let response = app
            .post_status(&ids[name], &json!({ "status": status }), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        // Distinct timestamps, so the order is unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    assert_eq!(
        names(&app.list_jobs("sort=started_at:asc").await),
        ["first", "second", "open", "never"]
    );
    assert_eq!(
        names(&app.list_jobs("sort=started_at:desc").await),
        ["open", "second", "first", "never"],
        "never-started last in both directions"
    );
    let by_completion = names(&app.list_jobs("sort=completed_at").await);
    assert_eq!(&by_completion[..2], ["first", "second"]);
    let desc = names(&app.list_jobs("sort=completed_at:desc").await);
    assert_eq!(&desc[..2], ["second", "first"]);
    // The two unfinished jobs follow in both directions (by id between themselves).
    for unfinished in [&by_completion[2..], &desc[2..]] {
        let mut rest = unfinished.to_vec();
        rest.sort();
        assert_eq!(rest, ["never", "open"]);
    }
    // Paging across the NULLs is stable.
    let first_page = names(&app.list_jobs("sort=completed_at:desc&limit=3").await);
    let second_page = names(
        &app.list_jobs("sort=completed_at:desc&limit=3&offset=3")
            .await,
    );
    assert_eq!([first_page, second_page].concat(), desc);
}
