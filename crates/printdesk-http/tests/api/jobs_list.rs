//! `GET /jobs`: filters, sort, paging and their bounds.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, id_of, problem};

api_tests!(
    empty_list_has_the_contract_shape,
    filters,
    sort_and_default_order,
    paging,
    limit_bounds,
    invalid_parameters_are_400_naming_each,
    search_ignores_case_and_accents_and_is_at_most_200_characters,
    text_sorts_in_collation_order_empty_last,
);

fn names(page: &Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_name"].as_str().unwrap().to_owned())
        .collect()
}

async fn empty_list_has_the_contract_shape(app: TestApp) {
    assert_eq!(
        app.list_jobs("").await,
        json!({ "jobs": [], "total_count": 0, "limit": 50, "offset": 0 })
    );
}

async fn filters(app: TestApp) {
    app.create_printer("x1c").await;
    app.create_job(json!({ "job_name": "Alpha", "status": "running", "printer_id": "x1c" }))
        .await;
    app.create_job(
        json!({ "job_name": "Bravo", "is_business": true, "customer_name": "Acme Corp" }),
    )
    .await;
    app.create_job(
        json!({ "job_name": "Charlie", "status": "failed", "notes": "Spaghetti at layer 3" }),
    )
    .await;
    app.create_job(json!({ "job_name": "Delta", "file_name": "delta_ACME.3mf" }))
        .await;

    let sorted = "&sort=job_name:asc";
    assert_eq!(
        names(&app.list_jobs(&format!("status=running{sorted}")).await),
        ["Alpha"]
    );
    assert_eq!(
        names(&app.list_jobs(&format!("status=pending{sorted}")).await),
        ["Bravo", "Delta"]
    );
    assert_eq!(
        names(&app.list_jobs(&format!("printer_id=x1c{sorted}")).await),
        ["Alpha"]
    );
    assert_eq!(
        names(&app.list_jobs(&format!("is_business=true{sorted}")).await),
        ["Bravo"]
    );
    assert_eq!(
        names(&app.list_jobs(&format!("is_business=false{sorted}")).await),
        ["Alpha", "Charlie", "Delta"]
    );
    // Text search is case-insensitive and looks in name, customer, notes and file name.
    assert_eq!(
        names(&app.list_jobs(&format!("q=acme{sorted}")).await),
        ["Bravo", "Delta"]
    );
    assert_eq!(
        names(&app.list_jobs(&format!("q=SPAGHETTI{sorted}")).await),
        ["Charlie"]
    );
    assert_eq!(
        names(&app.list_jobs(&format!("q=harl{sorted}")).await),
        ["Charlie"]
    );
    assert_eq!(
        names(&app.list_jobs("q=%20").await).len(),
        4,
        "a blank q filters nothing"
    );
    let page = app
        .list_jobs(&format!("status=pending&q=acme{sorted}"))
        .await;
    assert_eq!(names(&page), ["Bravo", "Delta"]);
    assert_eq!(page["total_count"], 2);
    assert_eq!(app.list_jobs("printer_id=nobody").await["total_count"], 0);
}

async fn sort_and_default_order(app: TestApp) {
    for name in ["b", "c", "a"] {
        app.create_named_job(name).await;
        // Distinct creation times, so the default order is unambiguous.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        names(&app.list_jobs("").await),
        ["a", "c", "b"],
        "newest first"
    );
    assert_eq!(
        names(&app.list_jobs("sort=created_at:asc").await),
        ["b", "c", "a"]
    );
    assert_eq!(
        names(&app.list_jobs("sort=job_name").await),
        ["a", "b", "c"]
    );
    assert_eq!(
        names(&app.list_jobs("sort=job_name:desc").await),
        ["c", "b", "a"]
    );

    // Editing "b" makes it the most recently updated.
    let b = app.list_jobs("q=b").await["jobs"][0].clone();
    let response = app
        .put_job(&id_of(&b), &json!({ "notes": "touched" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(names(&app.list_jobs("sort=updated_at:desc").await)[0], "b");
}

async fn paging(app: TestApp) {
    for n in 0..7 {
        app.create_named_job(&format!("job {n}")).await;
    }
    let page = app.list_jobs("sort=job_name:asc&limit=3&offset=2").await;
    assert_eq!(names(&page), ["job 2", "job 3", "job 4"]);
    assert_eq!(page["total_count"], 7);
    assert_eq!(page["limit"], 3);
    assert_eq!(page["offset"], 2);
    let last = app.list_jobs("sort=job_name:asc&limit=3&offset=6").await;
    assert_eq!(names(&last), ["job 6"]);
    let beyond = app.list_jobs("sort=job_name:asc&limit=3&offset=100").await;
    assert_eq!(names(&beyond).len(), 0);
    assert_eq!(beyond["total_count"], 7);
}

async fn limit_bounds(app: TestApp) {
    app.create_named_job("one").await;
    assert_eq!(app.list_jobs("").await["limit"], 50);
    assert_eq!(app.list_jobs("limit=1").await["limit"], 1);
    assert_eq!(app.list_jobs("limit=500").await["limit"], 500);
    for bad in ["0", "501", "-1", "ten", ""] {
        let response = app
            .client
            .get(app.url(&format!("/jobs?limit={bad}")))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), ["limit"], "limit={bad}");
    }
}

async fn invalid_parameters_are_400_naming_each(app: TestApp) {
    let response = app
        .client
        .get(app.url(
            "/jobs?status=done&printer_id=Not%20An%20Id&is_business=maybe&sort=colour:up&offset=-3&stauts=x",
        ))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["type"], "urn:printdesk:problem:validation");
    assert_eq!(
        error_fields(&body),
        [
            "status",
            "printer_id",
            "is_business",
            "sort",
            "offset",
            "stauts"
        ]
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("status") && detail.contains("stauts"),
        "{detail}"
    );
}

/// `q` (issue 13): case and accents ignored in every script, every word required, and at most
/// 200 characters: 201 is a 400 problem naming `q`, on the list and the export alike.
async fn search_ignores_case_and_accents_and_is_at_most_200_characters(app: TestApp) {
    app.create_job(
        json!({ "job_name": "GEHÄUSE FÜR ÖLPUMPE", "is_business": true,
                           "customer_name": "Müller" }),
    )
    .await;
    app.create_job(json!({ "job_name": "ΔΈΛΤΑ", "notes": "ä".repeat(200) }))
        .await;
    let sorted = "&sort=job_name:asc";
    for (q, expected) in [
        ("muller", vec!["GEHÄUSE FÜR ÖLPUMPE"]),
        ("M%C3%BCLLER%20%C3%B6lpumpe", vec!["GEHÄUSE FÜR ÖLPUMPE"]),
        ("gehause%20f%C3%BC", vec!["GEHÄUSE FÜR ÖLPUMPE"]),
        ("%CE%B4%CE%AD%CE%BB%CF%84%CE%B1", vec!["ΔΈΛΤΑ"]), // δέλτα
        ("muller%20delta", vec![]),
        ("%25", vec![]),
    ] {
        assert_eq!(
            names(&app.list_jobs(&format!("q={q}{sorted}")).await),
            expected,
            "{q}"
        );
    }
    let exactly_200 = "a".repeat(200);
    assert_eq!(
        names(&app.list_jobs(&format!("q={exactly_200}")).await),
        ["ΔΈΛΤΑ"]
    );
    let over = "%C3%A4".repeat(201); // 201 × ä: characters, not bytes, count
    for path in [
        format!("/jobs?q={over}"),
        format!("/jobs/export.csv?q={over}"),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), ["q"], "{path}");
        assert!(body.to_string().contains("200 characters"), "{body}");
    }
    let under = "%C3%A4".repeat(200);
    let response = app
        .client
        .get(app.url(&format!("/jobs?q={under}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Sorting by a text column follows Unicode collation, jobs without a value last both ways.
async fn text_sorts_in_collation_order_empty_last(app: TestApp) {
    for (name, customer) in [
        ("Zylinder", Some("Zeiss")),
        ("Ölwanne", None),
        ("aufkleber", Some("Ärzte")),
    ] {
        let mut job = json!({ "job_name": name });
        if let Some(customer) = customer {
            job["is_business"] = json!(true);
            job["customer_name"] = json!(customer);
        }
        app.create_job(job).await;
    }
    assert_eq!(
        names(&app.list_jobs("sort=job_name:asc").await),
        ["aufkleber", "Ölwanne", "Zylinder"]
    );
    assert_eq!(
        names(&app.list_jobs("sort=customer_name:asc").await),
        ["aufkleber", "Zylinder", "Ölwanne"]
    );
    assert_eq!(
        names(&app.list_jobs("sort=customer_name:desc").await),
        ["Zylinder", "aufkleber", "Ölwanne"]
    );
}
