//! `GET /customers` on both backends: the names the jobs have with their counts, found by a
//! prefix ignoring case and accents, most jobs first; jobs without a customer left out; bad
//! parameters refused as problems.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, id_of, problem};

api_tests!(
    names_are_counted_most_jobs_first,
    a_prefix_ignores_case_and_accents,
    bad_parameters_are_problems,
);

async fn customers(app: &TestApp, query: &str) -> Vec<(String, u64)> {
    let response = app
        .client
        .get(app.url(&format!("/customers?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let body: Value = response.json().await.unwrap();
    body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["jobs"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn named(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

async fn seed(app: &TestApp) {
    for (i, customer) in [
        Some("Müller GmbH"),
        Some("Müller GmbH"),
        Some("Müller GmbH"),
        Some("Mueller GmbH"),
        Some("ACME"),
        Some("ACME"),
        Some("Straße 5"),
        None,
        None,
        None,
        None,
    ]
    .into_iter()
    .enumerate()
    {
        app.create_job(json!({ "job_name": format!("j{i}"), "customer_name": customer }))
            .await;
    }
}

async fn names_are_counted_most_jobs_first(app: TestApp) {
    seed(&app).await;
    assert_eq!(
        customers(&app, "").await,
        named(&[
            ("Müller GmbH", 3),
            ("ACME", 2),
            ("Mueller GmbH", 1),
            ("Straße 5", 1)
        ]),
        "four jobs without a customer are not a customer"
    );
    assert_eq!(
        customers(&app, "limit=2").await,
        named(&[("Müller GmbH", 3), ("ACME", 2)])
    );
    // The counts are the jobs the list's customer filter finds.
    let page = app.list_jobs("customer=M%C3%BCller%20GmbH").await;
    assert_eq!(page["total_count"], 3);
    // An edit moves a job to its new name.
    let page = app.list_jobs("customer=ACME").await;
    let id = id_of(&page["jobs"][0]);
    let response = app
        .put_job(&id, &json!({ "customer_name": "Müller GmbH" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        customers(&app, "q=a").await,
        named(&[("ACME", 1)]),
        "one ACME job left"
    );
    assert_eq!(
        customers(&app, "q=m&limit=1").await,
        named(&[("Müller GmbH", 4)])
    );
}

async fn a_prefix_ignores_case_and_accents(app: TestApp) {
    seed(&app).await;
    app.create_job(json!({ "job_name": "x", "customer_name": "MÜLLER AG" }))
        .await;
    assert_eq!(
        customers(&app, "q=mul").await,
        named(&[("Müller GmbH", 3), ("MÜLLER AG", 1)]),
        "`mul` finds Müller, whatever the case"
    );
    assert_eq!(
        customers(&app, "q=M%C3%9CLLER%20G").await,
        named(&[("Müller GmbH", 3)])
    );
    assert_eq!(
        customers(&app, "q=mue").await,
        named(&[("Mueller GmbH", 1)])
    );
    assert_eq!(
        customers(&app, "q=%20strasse%20").await,
        named(&[("Straße 5", 1)]),
        "trimmed, ß as ss"
    );
    assert!(
        customers(&app, "q=gmbh").await.is_empty(),
        "a prefix of the name"
    );
    assert!(
        customers(&app, "q=%25").await.is_empty(),
        "% is a character"
    );
}

async fn bad_parameters_are_problems(app: TestApp) {
    let get = |query: String| {
        let app = &app;
        async move {
            let response = app
                .client
                .get(app.url(&format!("/customers?{query}")))
                .send()
                .await
                .unwrap();
            problem(response, StatusCode::BAD_REQUEST).await
        }
    };
    let body = get(format!("q={}", "x".repeat(201))).await;
    assert_eq!(error_fields(&body), ["q"]);
    assert!(body["detail"].as_str().unwrap().contains("200"), "{body}");
    assert_eq!(error_fields(&get("limit=0".into()).await), ["limit"]);
    assert_eq!(error_fields(&get("limit=101".into()).await), ["limit"]);
    assert_eq!(error_fields(&get("limit=ten".into()).await), ["limit"]);
    assert_eq!(error_fields(&get("q=a&q=b".into()).await), ["q"]);
    assert_eq!(error_fields(&get("q=%00".into()).await), ["q"]);
    assert_eq!(
        error_fields(&get("sort=name&limit=0".into()).await),
        ["sort", "limit"]
    );
    // 200 characters are fine.
    assert!(
        customers(&app, &format!("q={}", "ü".repeat(200)))
            .await
            .is_empty()
    );
}
