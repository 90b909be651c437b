//! Hostile and broken input: invalid UTF-8, deeply nested JSON, numbers where strings belong,
//! the NUL character, SQL-looking text. Each is refused with its documented problem (or, for
//! SQL-looking text, stored verbatim), nothing is saved, and the server keeps serving.
//!
//! (Oversized bodies (413) and wrong content types (415) are in `bodies.rs`; schemathesis
//! covers the rest against the OpenAPI document: `just test-schema`.)

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, id_of, problem};

api_tests!(
    invalid_utf8_in_a_body_is_422,
    invalid_utf8_elsewhere_is_refused_or_harmless,
    deeply_nested_json_is_422_and_the_server_lives,
    numbers_where_strings_belong_are_422_naming_each,
    numbers_json_cannot_hold_are_422,
    nul_characters_are_400_on_every_backend,
    sql_looking_text_is_stored_and_searched_verbatim,
);

/// Sends `body` as `application/json` with `method` to the API path.
async fn send_json(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Every endpoint that reads a JSON body, for a stored job.
fn body_endpoints(job_id: &str) -> Vec<(reqwest::Method, String)> {
    vec![
        (reqwest::Method::POST, "/jobs".to_owned()),
        (reqwest::Method::PUT, format!("/jobs/{job_id}")),
        (reqwest::Method::POST, format!("/jobs/{job_id}/status")),
        (reqwest::Method::POST, "/jobs/bulk-edit".to_owned()),
        (reqwest::Method::POST, "/printers".to_owned()),
    ]
}

/// Asserts that nothing changed: the one job as it was, no printer.
async fn assert_unchanged(app: &TestApp, job: &Value) {
    assert_eq!(app.stored_job(&id_of(job)).await, *job);
    assert_eq!(app.list_jobs("").await["total_count"], 1);
    let printers: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(printers, json!({ "printers": [] }));
}

async fn invalid_utf8_in_a_body_is_422(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let bodies: [&[u8]; 3] = [
        b"{\"job_name\": \"caf\xe9\"}",    // Latin-1, not UTF-8
        b"{\"notes\": \"\xff\xfe\"}",      // not a UTF-8 sequence at all
        b"{\"status\": \"\xed\xa0\x80\"}", // an encoded surrogate
    ];
    for body in bodies {
        for (method, path) in body_endpoints(&id_of(&job)) {
            let response = send_json(&app, method.clone(), &path, body.to_vec()).await;
            let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(
                problem_body["type"], "urn:printdesk:problem:malformed-body",
                "{method} {path} {body:?}"
            );
        }
    }
    // A lone surrogate escaped in JSON is no Unicode scalar value either.
    let response = send_json(
        &app,
        reqwest::Method::PUT,
        &format!("/jobs/{}", id_of(&job)),
        r#"{"notes": "\ud800"}"#,
    )
    .await;
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_unchanged(&app, &job).await;
}

async fn invalid_utf8_elsewhere_is_refused_or_harmless(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    // In a path: names nothing.
    for path in [
        "/jobs/%FF%FE",
        "/printers/%C3%28",
        "/jobs/%ED%A0%80/history",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
    }
    // In a query value, whichever parameter: not text, refused before any is read.
    for query in ["q=%FF%FE", "status=%FF"] {
        let response = app
            .client
            .get(app.url(&format!("/jobs?{query}")))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["type"], "urn:printdesk:problem:bad-request", "{query}");
    }
    // In If-Match: a tag that is not visible ASCII names no version, so the change is refused.
    let response = app
        .client
        .put(app.url(&format!("/jobs/{}", id_of(&job))))
        .header(
            header::IF_MATCH,
            header::HeaderValue::from_bytes(b"\"\xff\"").unwrap(),
        )
        .json(&json!({ "notes": "x" }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::PRECONDITION_FAILED).await;
    assert_unchanged(&app, &job).await;
}

async fn deeply_nested_json_is_422_and_the_server_lives(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    // 20,000 levels (40 KB, under the size limit): past the JSON parser's recursion limit,
    // which refuses it before any stack is at risk.
    let depth = 20_000;
    let deep_array = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(depth / 3), "}".repeat(depth / 3));
    for nested in [&deep_array, &deep_object] {
        let body = format!(r#"{{"notes": {nested}}}"#);
        assert!(body.len() < 64 * 1024);
        for (method, path) in body_endpoints(&id_of(&job)) {
            let response = send_json(&app, method.clone(), &path, body.clone()).await;
            let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(
                problem_body["type"], "urn:printdesk:problem:malformed-body",
                "{method} {path}"
            );
        }
    }
    // Nesting the parser accepts is still the wrong type where a string belongs.
    let shallow = format!(r#"{{"notes": {}"x"{}}}"#, "[".repeat(100), "]".repeat(100));
    let response = send_json(
        &app,
        reqwest::Method::PUT,
        &format!("/jobs/{}", id_of(&job)),
        shallow,
    )
    .await;
    let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem_body["type"], "urn:printdesk:problem:wrong-type");
    assert_eq!(error_fields(&problem_body), ["notes"]);
    assert_unchanged(&app, &job).await;
}

async fn numbers_where_strings_belong_are_422_naming_each(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let cases = [
        (
            reqwest::Method::POST,
            "/jobs".to_owned(),
            json!({ "job_name": 1, "customer_name": 2.5, "notes": -3, "file_name": 4e10,
                    "printer_id": 5, "status": 6 }),
            vec![
                "job_name",
                "status",
                "customer_name",
                "notes",
                "file_name",
                "printer_id",
            ],
        ),
        (
            reqwest::Method::PUT,
            format!("/jobs/{id}"),
            json!({ "job_name": 0, "customer_name": 1, "status": 2 }),
            vec!["job_name", "status", "customer_name"],
        ),
        (
            reqwest::Method::POST,
            format!("/jobs/{id}/status"),
            json!({ "status": 1 }),
            vec!["status"],
        ),
        (
            reqwest::Method::POST,
            "/jobs/bulk-edit".to_owned(),
            json!({ "ids": [1, 2] }),
            vec!["ids"],
        ),
        (
            reqwest::Method::POST,
            "/jobs/bulk-edit".to_owned(),
            json!({ "ids": [id], "changes": { "notes": 7 } }),
            vec!["notes"],
        ),
        (
            reqwest::Method::POST,
            "/printers".to_owned(),
            json!({ "id": 1, "name": 2, "printer_type": 3, "location": 4 }),
            vec!["id", "name", "printer_type", "location"],
        ),
    ];
    for (method, path, body, fields) in cases {
        let response = send_json(&app, method.clone(), &path, body.to_string()).await;
        let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            problem_body["type"], "urn:printdesk:problem:wrong-type",
            "{method} {path}"
        );
        assert_eq!(error_fields(&problem_body), fields, "{method} {path}");
    }
    assert_unchanged(&app, &job).await;
}

async fn numbers_json_cannot_hold_are_422(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    // Out of f64's range: not a JSON number this server can read at all.
    let response = send_json(
        &app,
        reqwest::Method::PUT,
        &format!("/jobs/{}", id_of(&job)),
        r#"{"notes": 1e400}"#,
    )
    .await;
    let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem_body["type"], "urn:printdesk:problem:malformed-body");
    // A version past i64 in a bulk edit's if_versions: the wrong type, named.
    let body = format!(
        r#"{{"ids": ["{id}"], "changes": {{}}, "if_versions": {{"{id}": 18446744073709551616}}}}"#,
        id = id_of(&job)
    );
    let response = send_json(&app, reqwest::Method::POST, "/jobs/bulk-edit", body).await;
    let problem_body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem_body), ["if_versions"]);
    assert_unchanged(&app, &job).await;
}

async fn nul_characters_are_400_on_every_backend(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app
        .post_job(
            &json!({ "job_name": "Ben\u{0}chy", "customer_name": "\u{0}",
                           "notes": "a\u{0}", "file_name": "\u{0}.3mf" }),
        )
        .await;
    let problem_body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error_fields(&problem_body),
        ["job_name", "customer_name", "notes", "file_name"]
    );
    assert_eq!(
        problem_body["errors"][0]["message"],
        "must not contain the NUL character (U+0000)"
    );
    let response = app
        .put_job(&id, &json!({ "notes": "re-sliced\u{0}" }), None)
        .await;
    assert_eq!(
        error_fields(&problem(response, StatusCode::BAD_REQUEST).await),
        ["notes"]
    );
    let response = app
        .bulk_edit(&json!({ "ids": [id], "changes": { "customer_name": "\u{0}ACME" } }))
        .await;
    problem(response, StatusCode::BAD_REQUEST).await;
    let response = app
        .client
        .post(app.url("/printers"))
        .json(&json!({ "name": "X1C\u{0}", "printer_type": "other", "location": "\u{0}" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_fields(&problem(response, StatusCode::BAD_REQUEST).await),
        ["name", "location"]
    );
    for query in ["/jobs?q=a%00", "/jobs/export.csv?q=%00"] {
        let response = app.client.get(app.url(query)).send().await.unwrap();
        assert_eq!(
            error_fields(&problem(response, StatusCode::BAD_REQUEST).await),
            ["q"]
        );
    }
    assert_unchanged(&app, &job).await;
}

async fn sql_looking_text_is_stored_and_searched_verbatim(app: TestApp) {
    let injections = [
        "Robert'); DROP TABLE jobs;--",
        "' OR '1'='1",
        "\"; DELETE FROM printers; --",
        "1; UPDATE jobs SET is_business = 1",
        "%' OR job_name LIKE '%",
        "\\'; SELECT pg_sleep(10); --",
    ];
    let printer: Value = app
        .client
        .post(app.url("/printers"))
        .json(
            &json!({ "id": "sql-1", "name": injections[2], "printer_type": "other",
                       "location": injections[0] }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(printer["name"], injections[2]);
    assert_eq!(printer["location"], injections[0]);

    let mut ids = Vec::new();
    for (n, text) in injections.iter().enumerate() {
        let job = app
            .create_job(
                json!({ "job_name": text, "is_business": true, "customer_name": text,
                                "notes": text, "file_name": text, "printer_id": "sql-1" }),
            )
            .await;
        for field in ["job_name", "customer_name", "notes", "file_name"] {
            assert_eq!(job[field], *text, "{field} of job {n}");
        }
        assert_eq!(app.stored_job(&id_of(&job)).await, job);
        ids.push(id_of(&job));
    }
    // An edit with them is stored verbatim too.
    let edited: Value = app
        .put_job(&ids[0], &json!({ "notes": injections[1] }), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["notes"], injections[1]);

    // Every table is still there, and searching for the text finds exactly the jobs holding it.
    assert_eq!(app.list_jobs("").await["total_count"], injections.len());
    let search = |text: &str| {
        let q: String = url_encode(text);
        format!("q={q}&limit=500")
    };
    let page = app.list_jobs(&search("' OR '1'='1")).await;
    assert_eq!(
        page["total_count"], 2,
        "the second job, and the first's notes"
    );
    let page = app.list_jobs(&search("DROP TABLE")).await;
    assert_eq!(page["total_count"], 1);
    // LIKE wildcards in a search are plain characters.
    let page = app.list_jobs(&search("%' OR job_name LIKE '%")).await;
    assert_eq!(page["total_count"], 1);
    assert_eq!(app.list_jobs(&search("R_bert")).await["total_count"], 0);
    assert_eq!(app.list_jobs(&search("Rob%DROP")).await["total_count"], 0);
    let printers: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(printers["printers"].as_array().unwrap().len(), 1);
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
