//! `GET /reports/summary` on both backends: groups, their order and labels, months in the
//! zone asked for, and totals that are the sums over the job list with the same filters.

use std::sync::Arc;

use printdesk_store_diesel::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::{
    helpers::{TestApp, error_fields, problem},
    jobs_filters::{november, store_job},
};

async fn summary(app: &TestApp, query: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/reports/summary?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

/// The figures of the jobs `GET /jobs?{query}` lists, counted here from the jobs.
async fn figures_of_the_list(app: &TestApp, query: &str) -> Value {
    let page = app.list_jobs(&format!("{query}&limit=500")).await;
    let jobs = page["jobs"].as_array().unwrap();
    let count = |f: &dyn Fn(&Value) -> bool| jobs.iter().filter(|j| f(j)).count();
    let time = |v: &Value| printdesk_domain::timestamp::parse(v.as_str().unwrap()).unwrap();
    let print_seconds: i64 = jobs
        .iter()
        .filter(|j| !j["started_at"].is_null() && !j["completed_at"].is_null())
        .map(|j| (time(&j["completed_at"]) - time(&j["started_at"])).whole_seconds())
        .sum();
    json!({
        "jobs": jobs.len(),
        "completed": count(&|j| j["status"] == "completed"),
        "failed": count(&|j| j["status"] == "failed"),
        "business": count(&|j| j["is_business"] == true),
        "private": count(&|j| j["is_business"] == false),
        "print_seconds": print_seconds,
    })
}

/// The rows' keys and job counts.
fn keys_and_jobs(summary: &Value) -> Vec<(Value, u64)> {
    summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].clone(), r["jobs"].as_u64().unwrap()))
        .collect()
}

async fn months_are_in_the_zone_asked_for(app: TestApp, store: Arc<Store>) {
    november(&store).await;
    // Created at 23:30 UTC on 31 October: November in Berlin, October in UTC.
    store_job(&store, "edge", None, datetime!(2026-10-31 23:30 UTC), None).await;

    let berlin = summary(&app, "group_by=month&tz=Europe/Berlin").await;
    assert_eq!(berlin["tz"], "Europe/Berlin");
    assert_eq!(berlin["group_by"], "month");
    assert_eq!(
        keys_and_jobs(&berlin),
        [
            (json!("2026-10"), 1),
            (json!("2026-11"), 4),
            (json!("2026-12"), 1)
        ]
    );
    let utc = summary(&app, "group_by=month").await;
    assert_eq!(utc["tz"], "UTC");
    assert_eq!(
        keys_and_jobs(&utc),
        [
            (json!("2026-10"), 2),
            (json!("2026-11"), 3),
            (json!("2026-12"), 1)
        ]
    );
    // A span asked for has every one of its months, empty ones too.
    let year = summary(&app, "from=2026-09-01&to=2027-01-31&tz=Europe/Berlin").await;
    assert_eq!(
        keys_and_jobs(&year),
        [
            (json!("2026-09"), 0),
            (json!("2026-10"), 1),
            (json!("2026-11"), 4),
            (json!("2026-12"), 1),
            (json!("2027-01"), 0)
        ]
    );
    // Totals are the sums over the list's jobs, with the same filters.
    for (summary_query, list_query) in [
        ("tz=Europe/Berlin", "tz=Europe/Berlin"),
        (
            "from=2026-11-01&to=2026-11-30&tz=Europe/Berlin&group_by=status",
            "created_from=2026-11-01&created_to=2026-11-30&tz=Europe/Berlin",
        ),
        (
            "completed_from=2026-11-01&completed_to=2026-11-30&group_by=customer",
            "completed_from=2026-11-01&completed_to=2026-11-30",
        ),
        ("is_business=true&group_by=printer", "is_business=true"),
    ] {
        let summary = summary(&app, summary_query).await;
        let expected = figures_of_the_list(&app, list_query).await;
        assert_eq!(summary["totals"], expected, "{summary_query}");
        let mut sums = json!({});
        for field in [
            "jobs",
            "completed",
            "failed",
            "business",
            "private",
            "print_seconds",
        ] {
            let sum: u64 = summary["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[field].as_u64().unwrap())
                .sum();
            sums[field] = json!(sum);
        }
        assert_eq!(sums, expected, "rows add up: {summary_query}");
    }
    // The calendar's last months.
    let last = summary(&app, "from=9999-11-01&to=9999-12-31T23:59:59Z").await;
    assert_eq!(
        keys_and_jobs(&last),
        [(json!("9999-11"), 0), (json!("9999-12"), 0)]
    );
    let november = summary(&app, "from=2026-11-01&to=2026-11-30&tz=Europe/Berlin").await;
    // Two completed jobs of 90 minutes each.
    assert_eq!(november["totals"]["print_seconds"], 2 * 90 * 60);
}

async fn rows_are_labelled_and_ordered(app: TestApp, store: Arc<Store>) {
    november(&store).await;
    app.create_printer("x1c").await;
    let jobs = app.list_jobs("q=halloween").await;
    let halloween = jobs["jobs"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .put_job(&halloween, &json!({ "printer_id": "x1c" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let printers = summary(&app, "group_by=printer").await;
    let rows = printers["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[0]["key"], &rows[0]["label"]),
        (&json!("x1c"), &json!("Printer x1c"))
    );
    assert_eq!(rows[0]["jobs"], 1);
    assert_eq!(
        (&rows[1]["key"], &rows[1]["jobs"]),
        (&Value::Null, &json!(4))
    );

    let customers = summary(&app, "group_by=customer").await;
    let keys: Vec<Value> = keys_and_jobs(&customers)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys.len(),
        4,
        "customers as stored, one row each: {customers}"
    );
    assert_eq!(keys[3], Value::Null, "jobs without a customer last");

    let statuses = summary(&app, "group_by=status").await;
    assert_eq!(
        keys_and_jobs(&statuses),
        [(json!("pending"), 1), (json!("completed"), 4)]
    );
    let one_customer = summary(&app, "group_by=status&customer=m%C3%BCller%20gmbh").await;
    assert_eq!(keys_and_jobs(&one_customer), [(json!("completed"), 2)]);
}

async fn bad_parameters_are_named(app: TestApp, _store: Arc<Store>) {
    for (query, fields) in [
        ("group_by=week", vec!["group_by"]),
        ("from=2026-11-01&created_from=2026-11-01", vec!["from"]),
        ("tz=Europe/Nowhere&sort=job_name", vec!["tz", "sort"]),
        (
            "group_by=month&from=1900-01-01&to=2026-12-31",
            vec!["group_by"],
        ),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/reports/summary?{query}")))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), fields, "{query}");
    }
}

with_store!(
    months_are_in_the_zone_asked_for,
    rows_are_labelled_and_ordered,
    bad_parameters_are_named
);
