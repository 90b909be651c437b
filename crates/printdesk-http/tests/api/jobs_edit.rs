//! `PUT /jobs/{id}`: the job edit.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_fields, etag, id_of, problem};

api_tests!(
    full_edit,
    partial_edit_keeps_absent_fields,
    empty_body_changes_nothing,
    same_values_change_nothing,
    null_clears_nullable_fields,
    job_name_length_bounds,
    whitespace_is_trimmed,
    invalid_status_is_422,
    wrong_types_are_422,
    business_job_needs_a_customer,
    clearing_the_customer_of_a_stored_business_job_is_refused,
    notes_and_file_name_limits,
    printer_must_exist,
    non_editable_field_is_refused_and_nothing_saved,
    unknown_field_is_refused_naming_it,
    every_violation_is_reported_at_once,
    missing_and_malformed_ids_are_404,
);

async fn full_edit(app: TestApp) {
    app.create_printer("mk4").await;
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app
        .put_job(
            &id,
            &json!({
                "job_name": "Benchy v2", "status": "completed", "is_business": true,
                "customer_name": "ACME", "notes": "re-sliced", "file_name": "benchy.gcode",
                "printer_id": "mk4"
            }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"2\"");
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["job_name"], "Benchy v2");
    assert_eq!(edited["status"], "completed");
    assert_eq!(edited["is_business"], true);
    assert_eq!(edited["customer_name"], "ACME");
    assert_eq!(edited["notes"], "re-sliced");
    assert_eq!(edited["file_name"], "benchy.gcode");
    assert_eq!(edited["printer_id"], "mk4");
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["created_at"], job["created_at"]);
    assert!(edited["updated_at"].as_str() >= job["updated_at"].as_str());
    assert_eq!(app.stored_job(&id).await, edited);
}

async fn partial_edit_keeps_absent_fields(app: TestApp) {
    let job = app
        .create_job(json!({ "job_name": "Gears", "notes": "first", "file_name": "g.3mf" }))
        .await;
    let id = id_of(&job);
    let response = app.put_job(&id, &json!({ "notes": "second" }), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["notes"], "second");
    assert_eq!(edited["job_name"], "Gears");
    assert_eq!(edited["file_name"], "g.3mf");
    assert_eq!(edited["version"], 2);
    assert_eq!(app.stored_job(&id).await, edited);
}

async fn empty_body_changes_nothing(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let response = app.put_job(&id_of(&job), &json!({}), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"1\"");
    assert_eq!(response.json::<Value>().await.unwrap(), job);
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn same_values_change_nothing(app: TestApp) {
    let job = app
        .create_job(json!({ "job_name": "Benchy", "notes": "n" }))
        .await;
    let response = app
        .put_job(
            &id_of(&job),
            &json!({ "job_name": " Benchy ", "notes": "n" }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["version"], 1);
}

async fn null_clears_nullable_fields(app: TestApp) {
    app.create_printer("p1").await;
    let job = app
        .create_job(
            json!({ "job_name": "Benchy", "customer_name": "Bob", "notes": "n",
                            "file_name": "f", "printer_id": "p1" }),
        )
        .await;
    let response = app
        .put_job(
            &id_of(&job),
            &json!({ "customer_name": null, "notes": null, "file_name": null, "printer_id": null }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    for field in ["customer_name", "notes", "file_name", "printer_id"] {
        assert!(edited[field].is_null(), "{field} in {edited}");
    }
    assert_eq!(edited["version"], 2);
}

async fn job_name_length_bounds(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    for bad in ["".to_owned(), "   ".to_owned(), "é".repeat(201)] {
        let body = problem(
            app.put_job(&id, &json!({ "job_name": bad }), None).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(error_fields(&body), ["job_name"]);
    }
    // 200 characters (400 bytes) is fine: characters are counted, not bytes.
    let response = app
        .put_job(&id, &json!({ "job_name": "é".repeat(200) }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.stored_job(&id).await["version"], 2);
}

async fn whitespace_is_trimmed(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app
        .put_job(
            &id,
            &json!({ "job_name": "  Boat \t", "customer_name": "  ACME  " }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["job_name"], "Boat");
    assert_eq!(edited["customer_name"], "ACME");
    // A blank customer is no customer.
    let response = app
        .put_job(&id, &json!({ "customer_name": "   " }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Value>().await.unwrap()["customer_name"].is_null());
}

async fn invalid_status_is_422(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    for status in [json!("done"), json!("PENDING"), json!(null), json!(1)] {
        let body = problem(
            app.put_job(&id_of(&job), &json!({ "status": status }), None)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&body), ["status"]);
    }
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn wrong_types_are_422(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let cases = [
        json!({ "job_name": null }),
        json!({ "job_name": 42 }),
        json!({ "is_business": "true" }),
        json!({ "is_business": null }),
        json!({ "customer_name": false }),
        json!({ "notes": { "a": 1 } }),
        json!({ "file_name": ["f"] }),
        json!({ "printer_id": 7 }),
    ];
    for case in cases {
        let field = case.as_object().unwrap().keys().next().unwrap().clone();
        let body = problem(
            app.put_job(&id_of(&job), &case, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&body), vec![field.clone()], "{case}");
        assert!(body["detail"].as_str().unwrap().contains(&field));
    }
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn business_job_needs_a_customer(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let body = problem(
        app.put_job(&id_of(&job), &json!({ "is_business": true }), None)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["customer_name"]);
    assert_eq!(
        body["errors"][0]["message"],
        "is required for business jobs"
    );
    let response = app
        .put_job(
            &id_of(&job),
            &json!({ "is_business": true, "customer_name": "ACME" }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn clearing_the_customer_of_a_stored_business_job_is_refused(app: TestApp) {
    let job = app
        .create_job(json!({ "job_name": "Benchy", "is_business": true, "customer_name": "ACME" }))
        .await;
    let id = id_of(&job);
    for body in [
        json!({ "customer_name": null }),
        json!({ "customer_name": "  " }),
    ] {
        let problem_body =
            problem(app.put_job(&id, &body, None).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&problem_body), ["customer_name"]);
    }
    assert_eq!(app.stored_job(&id).await, job);
    // Turning the job into a private one at the same time is fine.
    let response = app
        .put_job(
            &id,
            &json!({ "customer_name": null, "is_business": false }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn notes_and_file_name_limits(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let body = problem(
        app.put_job(&id, &json!({ "notes": "n".repeat(1001) }), None)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["notes"]);
    let body = problem(
        app.put_job(&id, &json!({ "file_name": "f".repeat(256) }), None)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["file_name"]);
    assert_eq!(app.stored_job(&id).await, job);
    let response = app
        .put_job(
            &id,
            &json!({ "notes": "n".repeat(1000), "file_name": "f".repeat(255) }),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn printer_must_exist(app: TestApp) {
    app.create_printer("x1c").await;
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let body = problem(
        app.put_job(&id, &json!({ "printer_id": "nowhere" }), None)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["printer_id"]);
    assert!(body["detail"].as_str().unwrap().contains("printer_id"));
    let response = app
        .put_job(&id, &json!({ "printer_id": "x1c" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.stored_job(&id).await["printer_id"], "x1c");
}

async fn non_editable_field_is_refused_and_nothing_saved(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app
        .put_job(
            &id,
            &json!({ "created_at": "2020-01-01T00:00:00.000Z", "notes": "would be saved" }),
            None,
        )
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["created_at"]);
    assert!(body["detail"].as_str().unwrap().contains("created_at"));
    assert_eq!(app.stored_job(&id).await, job);

    for field in [
        "id",
        "version",
        "updated_at",
        "started_at",
        "completed_at",
        "auto_created",
        "discovery_time",
    ] {
        let response = app
            .put_job(&id, &json!({ field: job[field].clone() }), None)
            .await;
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), [field]);
    }
    assert_eq!(app.stored_job(&id).await, job);
}

async fn unknown_field_is_refused_naming_it(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let id = id_of(&job);
    let response = app
        .put_job(
            &id,
            &json!({ "colour": "red", "jobname": "x", "notes": "n" }),
            None,
        )
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["colour", "jobname"]);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("colour") && detail.contains("jobname"),
        "{detail}"
    );
    assert_eq!(app.stored_job(&id).await, job);
}

async fn every_violation_is_reported_at_once(app: TestApp) {
    let job = app.create_named_job("Benchy").await;
    let response = app
        .put_job(
            &id_of(&job),
            &json!({ "job_name": "", "is_business": true, "notes": "n".repeat(1001),
                     "printer_id": "nowhere" }),
            None,
        )
        .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["customer_name", "job_name", "notes", "printer_id"]);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("job_name must not be empty"), "{detail}");
    assert!(
        detail.contains("customer_name is required for business jobs"),
        "{detail}"
    );
    assert_eq!(app.stored_job(&id_of(&job)).await, job);
}

async fn missing_and_malformed_ids_are_404(app: TestApp) {
    let missing = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    for id in [missing, "not-a-uuid", "42"] {
        problem(
            app.put_job(id, &json!({ "notes": "x" }), None).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        problem(
            app.put_job(id, &json!({}), None).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}
