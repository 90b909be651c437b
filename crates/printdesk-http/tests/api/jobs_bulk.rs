//! `POST /jobs/bulk-edit`: one change to many jobs, all or nothing.

use printdesk_domain::JobDraft;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, error_fields, id_of, problem};

api_tests!(
    every_job_takes_the_change_in_request_order,
    one_invalid_job_saves_nothing_and_is_reported,
    missing_jobs_are_reported_in_request_order,
    stale_versions_are_412_with_the_current_jobs,
    stale_and_invalid_together_are_400,
    five_hundred_jobs_in_one_request,
    invalid_requests_are_400_naming_each_problem,
    wrong_shapes_are_422,
    the_route_is_not_a_job_id,
);

const MISSING: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn failures(problem: &Value) -> &Vec<Value> {
    problem["failures"].as_array().expect("a failures list")
}

async fn every_job_takes_the_change_in_request_order(app: TestApp) {
    let a = app.create_named_job("A").await;
    let b = app
        .create_job(json!({ "job_name": "B", "notes": "keep" }))
        .await;
    let c = app.create_named_job("C").await;
    let ids = [id_of(&c), id_of(&a), id_of(&b)];

    let response = app
        .bulk_edit(&json!({
            "ids": ids,
            "changes": { "is_business": true, "customer_name": "  ACME  " }
        }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs.iter().map(id_of).collect::<Vec<_>>(), ids);
    for job in jobs {
        assert_eq!(job["is_business"], true);
        assert_eq!(job["customer_name"], "ACME");
        assert_eq!(job["version"], 2);
        assert_eq!(app.stored_job(&id_of(job)).await, *job);
    }
    assert_eq!(jobs[2]["notes"], "keep");
    assert_eq!(jobs[1]["job_name"], "A");

    // One event per changed job, with its changes.
    let history: Value = app.history(&id_of(&a), "").await.json().await.unwrap();
    assert_eq!(history["total_count"], 2);
    assert_eq!(history["events"][0]["type"], "job_updated");
    assert_eq!(
        history["events"][0]["changes"]["customer_name"],
        json!({ "old": null, "new": "ACME" })
    );

    // A change a job already has leaves it (and its version) alone.
    let response = app
        .bulk_edit(&json!({ "ids": [id_of(&a)], "changes": { "customer_name": "ACME" } }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["jobs"][0]["version"], 2);
}

async fn one_invalid_job_saves_nothing_and_is_reported(app: TestApp) {
    let plain = app.create_named_job("Plain").await;
    let business = app
        .create_job(json!({ "job_name": "Billed", "is_business": true, "customer_name": "ACME" }))
        .await;
    let other = app.create_named_job("Other").await;

    // Clearing the customer is fine for private jobs, not for the business one.
    let body = problem(
        app.bulk_edit(&json!({
            "ids": [id_of(&plain), id_of(&business), id_of(&other)],
            "changes": { "customer_name": null, "notes": "batch" }
        }))
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["type"], "urn:printdesk:problem:validation");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with("Nothing was saved"), "{detail}");
    assert!(detail.contains(&id_of(&business)), "{detail}");
    assert!(
        detail.contains("customer_name is required for business jobs"),
        "{detail}"
    );
    let failures = failures(&body);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["id"], business["id"]);
    assert_eq!(failures[0]["status"], 400);
    assert_eq!(failures[0]["type"], "urn:printdesk:problem:validation");
    assert_eq!(error_fields(&failures[0]), ["customer_name"]);
    assert!(failures[0].get("current").is_none());

    for job in [&plain, &business, &other] {
        assert_eq!(app.stored_job(&id_of(job)).await, *job);
    }
    assert_eq!(
        app.history(&id_of(&plain), "")
            .await
            .json::<Value>()
            .await
            .unwrap()["total_count"],
        1
    );
}

async fn missing_jobs_are_reported_in_request_order(app: TestApp) {
    let a = app.create_named_job("A").await;
    let b = app
        .create_job(json!({ "job_name": "B", "is_business": true, "customer_name": "X" }))
        .await;
    // The missing id sorts before a's and b's, and the store finds it missing first: the
    // report still follows the request.
    let missing_first = "00000000-0000-7000-8000-000000000000";
    let body = problem(
        app.bulk_edit(&json!({
            "ids": [id_of(&b), missing_first, id_of(&a), MISSING],
            "changes": { "customer_name": "" }
        }))
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let failures = failures(&body);
    let reported: Vec<_> = failures
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        reported,
        [
            (id_of(&b).as_str(), 400),
            (missing_first, 404),
            (MISSING, 404)
        ]
    );
    assert!(failures[1]["detail"].as_str().unwrap().contains("No job"));
    assert!(body["detail"].as_str().unwrap().contains("3 jobs"));
    assert_eq!(app.stored_job(&id_of(&a)).await, a);
}

async fn stale_versions_are_412_with_the_current_jobs(app: TestApp) {
    let a = app.create_named_job("A").await;
    let b = app.create_named_job("B").await;
    let c = app.create_named_job("C").await;
    app.put_job(&id_of(&a), &json!({ "notes": "someone else" }), None)
        .await;

    let body = problem(
        app.bulk_edit(&json!({
            "ids": [id_of(&a), id_of(&b), id_of(&c)],
            "changes": { "notes": "mine" },
            "if_versions": { id_of(&a): 1, id_of(&b): 1 }
        }))
        .await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(body["type"], "urn:printdesk:problem:version-mismatch");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Nothing was saved")
    );
    let failures = failures(&body);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["id"], a["id"]);
    assert_eq!(failures[0]["status"], 412);
    assert_eq!(failures[0]["current"]["version"], 2);
    assert_eq!(failures[0]["current"]["notes"], "someone else");
    assert_eq!(app.stored_job(&id_of(&b)).await, b);
    assert_eq!(app.stored_job(&id_of(&c)).await, c);

    // With the current versions it goes through.
    let response = app
        .bulk_edit(&json!({
            "ids": [id_of(&a), id_of(&b), id_of(&c)],
            "changes": { "notes": "mine" },
            "if_versions": { id_of(&a): 2, id_of(&b): 1 }
        }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn stale_and_invalid_together_are_400(app: TestApp) {
    let a = app.create_named_job("A").await;
    let b = app
        .create_job(json!({ "job_name": "B", "is_business": true, "customer_name": "X" }))
        .await;
    let body = problem(
        app.bulk_edit(&json!({
            "ids": [id_of(&a), id_of(&b)],
            "changes": { "customer_name": null },
            "if_versions": { id_of(&a): 7 }
        }))
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let statuses: Vec<_> = failures(&body)
        .iter()
        .map(|f| f["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(412), json!(400)]);
    assert_eq!(failures(&body)[0]["current"]["version"], 1);
}

async fn five_hundred_jobs_in_one_request(app: TestApp) {
    let jobs = app
        .seed_jobs(500, |n| JobDraft {
            job_name: format!("Order item {n}"),
            ..JobDraft::default()
        })
        .await;
    let ids: Vec<String> = jobs.iter().map(|j| j.id.to_string()).collect();
    let if_versions: Map<String, Value> = ids.iter().map(|id| (id.clone(), json!(1))).collect();
    let response = app
        .bulk_edit(&json!({
            "ids": ids,
            "changes": { "is_business": true, "customer_name": "Big Customer Ltd" },
            "if_versions": if_versions
        }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let edited = body["jobs"].as_array().unwrap();
    assert_eq!(edited.len(), 500);
    assert_eq!(edited.iter().map(id_of).collect::<Vec<_>>(), ids);
    assert!(edited.iter().all(|j| j["version"] == 2));
    let page = app.list_jobs("q=big%20customer&limit=1").await;
    assert_eq!(page["total_count"], 500);
}

async fn invalid_requests_are_400_naming_each_problem(app: TestApp) {
    let job = app.create_named_job("A").await;
    let id = id_of(&job);
    let random_ids =
        |n: usize| -> Vec<String> { (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect() };
    let cases = [
        (
            json!({ "ids": [], "changes": { "notes": "x" } }),
            vec!["ids"],
            "at least one",
        ),
        (
            json!({ "ids": random_ids(501), "changes": {} }),
            vec!["ids"],
            "at most 500",
        ),
        (
            json!({ "ids": [id, id], "changes": {} }),
            vec!["ids"],
            "more than once",
        ),
        (
            json!({ "ids": [id, "nope"], "changes": {} }),
            vec!["ids"],
            "'nope', which is not a job id",
        ),
        (
            json!({ "ids": [id], "changes": {}, "if_versions": { MISSING: 1 } }),
            vec!["if_versions"],
            "not in ids",
        ),
        (
            json!({ "ids": [id], "changes": {}, "if_versions": { "x": 1 } }),
            vec!["if_versions"],
            "not a job id",
        ),
        (json!({ "changes": {} }), vec!["ids"], "ids is required"),
        (
            json!({ "ids": [id] }),
            vec!["changes"],
            "changes is required",
        ),
        (
            json!({ "ids": [id], "changes": {}, "notes": "x" }),
            vec!["notes"],
            "not a field of a bulk edit",
        ),
        (
            json!({ "ids": [id], "changes": { "version": 3, "colour": "red" } }),
            vec!["colour", "version"],
            "not a field of a job",
        ),
        (
            json!({ "ids": [id], "changes": { "job_name": " " } }),
            vec![],
            "job_name must not be empty",
        ),
    ];
    for (case, fields, needle) in cases {
        let body = problem(app.bulk_edit(&case).await, StatusCode::BAD_REQUEST).await;
        if !fields.is_empty() {
            assert_eq!(error_fields(&body), fields, "{case}");
        }
        let text = body.to_string();
        assert!(text.contains(needle), "{needle} in {text}");
    }
    assert_eq!(app.stored_job(&id).await, job);
}

async fn wrong_shapes_are_422(app: TestApp) {
    let id = id_of(&app.create_named_job("A").await);
    for (case, fields) in [
        (json!({ "ids": id, "changes": {} }), vec!["ids"]),
        (json!({ "ids": [1], "changes": {} }), vec!["ids"]),
        (json!({ "ids": [id], "changes": null }), vec!["changes"]),
        (
            json!({ "ids": [id], "changes": {}, "if_versions": [] }),
            vec!["if_versions"],
        ),
        (
            json!({ "ids": [id], "changes": {}, "if_versions": { id.clone(): "1" } }),
            vec!["if_versions"],
        ),
        (
            json!({ "ids": [id], "changes": { "status": "done", "notes": 1 } }),
            vec!["status", "notes"],
        ),
    ] {
        let body = problem(app.bulk_edit(&case).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&body), fields, "{case}");
    }
}

async fn the_route_is_not_a_job_id(app: TestApp) {
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let response = app
            .client
            .request(method.clone(), app.url("/jobs/bulk-edit"))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    }
}
