//! `/printers`: register, read, list, edit, delete; deleting a printer keeps its jobs;
//! connections per kind, secrets never shown, merge-patch edits, monitoring and status.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use printdesk_domain::{
    PrinterConnection, PrinterId, TlsFingerprint,
    monitoring::{PrinterState, PrinterStatus},
};

use crate::helpers::{TestApp, captured_log, error_fields, etag, id_of, problem};

api_tests!(
    register_read_and_list,
    id_is_generated_when_absent,
    duplicate_id_is_409,
    invalid_printers_are_400,
    unknown_fields_and_wrong_types,
    missing_printer_is_404,
    deleting_a_printer_keeps_its_jobs,
    each_kind_registers_with_its_settings_and_secrets_show_as_set,
    each_kind_names_every_setting_it_misses,
    settings_of_another_kind_and_unknown_settings_are_named,
    connection_settings_of_the_wrong_type_are_422,
    an_edit_merges_into_the_stored_connection,
    an_edit_names_every_refused_key_and_saves_nothing,
    an_edit_reports_every_broken_rule_at_once,
    changing_the_kind_needs_the_new_kinds_settings,
    the_fingerprint_is_cleared_with_null_and_never_set_by_a_client,
    monitoring_defaults_to_on_with_a_connection_and_pauses,
    status_is_shown_for_monitored_printers_only,
    editing_a_missing_printer_is_404,
    secrets_never_reach_a_response_or_the_log,
);

async fn post_printer(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/printers"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn register_read_and_list(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "id": "x1c-1", "name": "  X1 Carbon ", "printer_type": "bambu_lab",
                 "location": "Shelf 2" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/api/v1/printers/x1c-1"
    );
    let printer: Value = response.json().await.unwrap();
    assert_eq!(printer["id"], "x1c-1");
    assert_eq!(printer["name"], "X1 Carbon");
    assert_eq!(printer["printer_type"], "bambu_lab");
    assert_eq!(printer["location"], "Shelf 2");
    assert!(printer["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched = app
        .client
        .get(app.url("/printers/x1c-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.json::<Value>().await.unwrap(), printer);

    app.create_printer("aaa").await;
    let list: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = list["printers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"x1c-1") && ids.contains(&"aaa"));
}

async fn id_is_generated_when_absent(app: TestApp) {
    let response = post_printer(&app, &json!({ "name": "Mini", "printer_type": "prusa" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let printer: Value = response.json().await.unwrap();
    let id = printer["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert!(printer["location"].is_null());
    let fetched = app
        .client
        .get(app.url(&format!("/printers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
}

async fn duplicate_id_is_409(app: TestApp) {
    app.create_printer("mk4").await;
    let response = post_printer(
        &app,
        &json!({ "id": "mk4", "name": "Other", "printer_type": "other" }),
    )
    .await;
    let body = problem(response, StatusCode::CONFLICT).await;
    assert!(body["detail"].as_str().unwrap().contains("mk4"));
}

async fn invalid_printers_are_400(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "id": "Bad Id", "name": " ", "printer_type": "makerbot" }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["id", "name", "printer_type"]);
    let body = problem(
        post_printer(&app, &json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(fields, ["name", "printer_type"]);
    let list: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({ "printers": [] }));
}

async fn unknown_fields_and_wrong_types(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other", "created_at": "x", "ip": "10.0.0.1" }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["created_at", "ip"]);
    let response = post_printer(
        &app,
        &json!({ "name": 1, "printer_type": null, "location": true }),
    )
    .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&body), ["name", "printer_type", "location"]);
}

async fn missing_printer_is_404(app: TestApp) {
    for id in ["nope", "Not%20Valid", &"x".repeat(65)] {
        let response = app
            .client
            .get(app.url(&format!("/printers/{id}")))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
        let response = app
            .client
            .delete(app.url(&format!("/printers/{id}")))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
    }
}

async fn deleting_a_printer_keeps_its_jobs(app: TestApp) {
    app.create_printer("doomed").await;
    app.create_printer("other").await;
    let on_doomed = app
        .create_job(json!({ "job_name": "On doomed", "printer_id": "doomed" }))
        .await;
    let on_other = app
        .create_job(json!({ "job_name": "On other", "printer_id": "other" }))
        .await;

    let response = app
        .client
        .delete(app.url("/printers/doomed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .client
        .get(app.url("/printers/doomed"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;

    let response = app.get_job(&id_of(&on_doomed)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(etag(&response), "\"2\"", "detaching is a versioned change");
    let detached: Value = response.json().await.unwrap();
    assert!(detached["printer_id"].is_null());
    assert_eq!(detached["job_name"], "On doomed");
    assert_eq!(app.stored_job(&id_of(&on_other)).await, on_other);
    assert_eq!(app.list_jobs("").await["total_count"], 2);

    // The old printer id is no longer accepted for jobs.
    let response = app
        .put_job(&id_of(&on_doomed), &json!({ "printer_id": "doomed" }), None)
        .await;
    problem(response, StatusCode::BAD_REQUEST).await;
}

async fn patch_printer(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/printers/{id}")))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_printer(app: &TestApp, id: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/printers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Registers a Bambu Lab printer with `access_code`; returns the response body.
async fn bambu_printer(app: &TestApp, id: &str, access_code: &str) -> Value {
    let response = post_printer(
        app,
        &json!({ "id": id, "name": "X1C", "printer_type": "bambu_lab",
                 "connection": { "kind": "bambu_lab", "host": "192.168.1.50",
                                 "serial": "01S00C123456789", "access_code": access_code } }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// The printer's connection with its secrets opened, as the monitor gets it.
async fn opened(app: &TestApp, id: &str) -> PrinterConnection<printdesk_domain::Secret> {
    let monitored = app.state.printers.monitored().await.unwrap();
    let printer = monitored
        .into_iter()
        .find(|m| m.printer.id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} is monitored"));
    printer.connection.expect("the secrets open")
}

async fn each_kind_registers_with_its_settings_and_secrets_show_as_set(app: TestApp) {
    let cases = [
        (
            json!({ "kind": "bambu_lab", "host": "192.168.1.50", "serial": "01S00C123456789",
                    "access_code": "S1-BAMBU-CODE", "port": 8884 }),
            json!({ "kind": "bambu_lab", "host": "192.168.1.50", "port": 8884,
                    "serial": "01S00C123456789", "access_code": "set",
                    "tls_fingerprint": null, "ca_pem": null }),
        ),
        (
            json!({ "kind": "octoprint", "base_url": "http://octopi.local/",
                    "api_key": "S1-OCTO-KEY" }),
            json!({ "kind": "octoprint", "base_url": "http://octopi.local", "api_key": "set" }),
        ),
        (
            json!({ "kind": "moonraker", "base_url": "http://voron.local:7125" }),
            json!({ "kind": "moonraker", "base_url": "http://voron.local:7125",
                    "api_key": null }),
        ),
        (
            json!({ "kind": "prusalink", "base_url": "http://mk4.local", "username": "maker",
                    "password": "S1-PRUSA-PASSWORD" }),
            json!({ "kind": "prusalink", "base_url": "http://mk4.local", "username": "maker",
                    "password": "set", "api_key": null }),
        ),
    ];
    for (i, (connection, shown)) in cases.into_iter().enumerate() {
        let id = format!("p{i}");
        let response = post_printer(
            &app,
            &json!({ "id": id, "name": "P", "printer_type": "other", "connection": connection }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{connection}");
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["connection"], shown);
        assert_eq!(created["monitoring"], true);
        assert_eq!(get_printer(&app, &id).await, created);
    }
    let list = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in ["S1-BAMBU-CODE", "S1-OCTO-KEY", "S1-PRUSA-PASSWORD"] {
        assert!(!list.contains(secret), "{list}");
    }
    let PrinterConnection::Prusalink(c) = opened(&app, "p3").await else {
        panic!("a prusalink connection")
    };
    let printdesk_domain::PrusalinkAuth::Digest { password, .. } = c.auth else {
        panic!("digest")
    };
    assert_eq!(
        password.expose(),
        "S1-PRUSA-PASSWORD",
        "stored, sealed, and opened"
    );
}

async fn each_kind_names_every_setting_it_misses(app: TestApp) {
    let cases: [(&str, &[&str]); 4] = [
        (
            "bambu_lab",
            &[
                "connection.host",
                "connection.serial",
                "connection.access_code",
            ],
        ),
        ("octoprint", &["connection.base_url", "connection.api_key"]),
        ("moonraker", &["connection.base_url"]),
        ("prusalink", &["connection.base_url", "connection.api_key"]),
    ];
    for (kind, fields) in cases {
        let response = post_printer(
            &app,
            &json!({ "name": "P", "printer_type": "other", "connection": { "kind": kind } }),
        )
        .await;
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), fields, "{kind}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("is required for a {kind} connection"))
        );
    }
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other", "connection": { "host": "h" } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["connection.kind"]);
    let list: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({ "printers": [] }), "nothing saved");
}

async fn settings_of_another_kind_and_unknown_settings_are_named(app: TestApp) {
    // A setting no kind has: 400 before anything else is judged.
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other",
                 "connection": { "kind": "octoprint", "url": "http://x", "apikey": "k" } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["connection.apikey", "connection.url"]);
    // A setting of another kind, named with the kind's own violations.
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other",
                 "connection": { "kind": "octoprint", "base_url": "http://octopi.local",
                                 "api_key": "k", "host": "10.0.0.2", "access_code": "c" } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error_fields(&body),
        ["connection.host", "connection.access_code"]
    );
    assert_eq!(
        body["errors"][0]["message"],
        "is not a setting of a octoprint connection"
    );
}

async fn connection_settings_of_the_wrong_type_are_422(app: TestApp) {
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other", "monitoring": "yes",
                 "connection": { "kind": "bambu_lab", "host": 1, "port": "8883",
                                 "access_code": 12345678 } }),
    )
    .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let mut fields = error_fields(&body);
    fields.sort();
    assert_eq!(
        fields,
        [
            "connection.access_code",
            "connection.host",
            "connection.port",
            "monitoring"
        ]
    );
    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other", "connection": "bambu" }),
    )
    .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&body), ["connection"]);
}

async fn an_edit_merges_into_the_stored_connection(app: TestApp) {
    bambu_printer(&app, "x1c", "S2-KEEP-ME").await;
    let response = patch_printer(
        &app,
        "x1c",
        &json!({ "connection": { "host": "192.168.1.60" }, "location": "Shelf 4" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["connection"]["host"], "192.168.1.60");
    assert_eq!(edited["connection"]["serial"], "01S00C123456789");
    assert_eq!(edited["connection"]["access_code"], "set");
    assert_eq!(edited["location"], "Shelf 4");
    assert_eq!(get_printer(&app, "x1c").await, edited);
    let PrinterConnection::BambuLab(c) = opened(&app, "x1c").await else {
        panic!("a bambu_lab connection")
    };
    assert_eq!(
        c.access_code.expose(),
        "S2-KEEP-ME",
        "the stored code is kept"
    );
    assert_eq!(c.host.as_str(), "192.168.1.60");

    // null clears an optional setting (the port goes back to its default) and the location.
    let response = patch_printer(
        &app,
        "x1c",
        &json!({ "connection": { "port": 1883 }, "location": null }),
    )
    .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["connection"]["port"],
        1883
    );
    let response = patch_printer(&app, "x1c", &json!({ "connection": { "port": null } })).await;
    let cleared: Value = response.json().await.unwrap();
    assert_eq!(cleared["connection"]["port"], 8883);
    assert!(cleared["location"].is_null());

    // {} changes nothing.
    let response = patch_printer(&app, "x1c", &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), cleared);

    // A new access code replaces the old one.
    patch_printer(
        &app,
        "x1c",
        &json!({ "connection": { "access_code": "S2-NEW" } }),
    )
    .await;
    let PrinterConnection::BambuLab(c) = opened(&app, "x1c").await else {
        panic!("a bambu_lab connection")
    };
    assert_eq!(c.access_code.expose(), "S2-NEW");

    // connection: null makes it a manual printer again.
    let response = patch_printer(&app, "x1c", &json!({ "connection": null })).await;
    let manual: Value = response.json().await.unwrap();
    assert!(manual["connection"].is_null());
    assert_eq!(manual["monitoring"], false);
}

async fn an_edit_names_every_refused_key_and_saves_nothing(app: TestApp) {
    let before = bambu_printer(&app, "x1c", "S3-CODE").await;
    let response = patch_printer(
        &app,
        "x1c",
        &json!({ "id": "new-id", "created_at": "2026-01-01T00:00:00Z", "status": {},
                 "colour": "red", "name": "Renamed",
                 "connection": { "hostname": "h", "host": "10.0.0.9" } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error_fields(&body),
        [
            "colour",
            "created_at",
            "id",
            "status",
            "connection.hostname"
        ]
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("id is set at registration and cannot be changed"),
        "{detail}"
    );
    assert!(detail.contains("status is set by the server"), "{detail}");
    assert_eq!(get_printer(&app, "x1c").await, before, "nothing saved");

    let response = patch_printer(&app, "x1c", &json!({ "name": null, "monitoring": 1 })).await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&body), ["name", "monitoring"]);
    assert_eq!(get_printer(&app, "x1c").await, before, "nothing saved");
}

async fn an_edit_reports_every_broken_rule_at_once(app: TestApp) {
    let before = bambu_printer(&app, "x1c", "S4-CODE").await;
    let response = patch_printer(
        &app,
        "x1c",
        &json!({ "name": "  ", "printer_type": "creality",
                 "connection": { "serial": null, "port": 70000, "base_url": "http://x" } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error_fields(&body),
        [
            "name",
            "printer_type",
            "connection.base_url",
            "connection.serial",
            "connection.port"
        ]
    );
    assert_eq!(get_printer(&app, "x1c").await, before, "nothing saved");
}

async fn changing_the_kind_needs_the_new_kinds_settings(app: TestApp) {
    bambu_printer(&app, "p", "S5-CODE").await;
    let response = patch_printer(
        &app,
        "p",
        &json!({ "connection": { "kind": "octoprint", "base_url": "http://octopi.local" } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["connection.api_key"]);
    let response = patch_printer(
        &app,
        "p",
        &json!({ "printer_type": "octoprint",
                 "connection": { "kind": "octoprint", "base_url": "http://octopi.local",
                                 "api_key": "S5-OCTO" } }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["printer_type"], "octoprint");
    assert_eq!(
        edited["connection"],
        json!({ "kind": "octoprint", "base_url": "http://octopi.local", "api_key": "set" }),
        "nothing of the old kind is left"
    );
}

async fn the_fingerprint_is_cleared_with_null_and_never_set_by_a_client(app: TestApp) {
    bambu_printer(&app, "x1c", "S6-CODE").await;
    let fingerprint = TlsFingerprint::from_sha256(&[0x42; 32]);
    app.state
        .printers
        .trust_certificate(&PrinterId::parse("x1c").unwrap(), fingerprint.clone())
        .await
        .unwrap();
    let trusted = get_printer(&app, "x1c").await;
    assert_eq!(
        trusted["connection"]["tls_fingerprint"],
        fingerprint.as_str()
    );

    let response = patch_printer(
        &app,
        "x1c",
        &json!({ "connection": { "tls_fingerprint": "ab".repeat(32) } }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["connection.tls_fingerprint"]);
    assert_eq!(get_printer(&app, "x1c").await, trusted, "nothing saved");

    let response = patch_printer(
        &app,
        "x1c",
        &json!({ "connection": { "tls_fingerprint": null } }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared: Value = response.json().await.unwrap();
    assert!(cleared["connection"]["tls_fingerprint"].is_null());
    assert_eq!(
        cleared["connection"]["access_code"], "set",
        "the rest is kept"
    );
}

async fn monitoring_defaults_to_on_with_a_connection_and_pauses(app: TestApp) {
    let with = bambu_printer(&app, "with", "S7-CODE").await;
    assert_eq!(with["monitoring"], true);
    let without = app.create_printer("without").await;
    assert_eq!(without["monitoring"], false);
    assert!(without["connection"].is_null());

    let response = post_printer(
        &app,
        &json!({ "name": "P", "printer_type": "other", "monitoring": true }),
    )
    .await;
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["monitoring"]);

    // Paused: the settings stay, and the monitor no longer gets the printer.
    let response = patch_printer(&app, "with", &json!({ "monitoring": false })).await;
    let paused: Value = response.json().await.unwrap();
    assert_eq!(paused["monitoring"], false);
    assert_eq!(paused["connection"], with["connection"]);
    assert!(app.state.printers.monitored().await.unwrap().is_empty());

    // Adding a connection to a manual printer turns monitoring on.
    let response = patch_printer(
        &app,
        "without",
        &json!({ "connection": { "kind": "moonraker", "base_url": "http://voron.local" } }),
    )
    .await;
    assert_eq!(response.json::<Value>().await.unwrap()["monitoring"], true);
}

async fn status_is_shown_for_monitored_printers_only(app: TestApp) {
    let created = bambu_printer(&app, "x1c", "S8-CODE").await;
    assert_eq!(created["status"]["state"], "unknown");
    assert_eq!(created["status"]["online"], false);
    let manual = app.create_printer("manual").await;
    assert_eq!(manual["status"]["state"], "unknown");

    let printing = PrinterStatus {
        state: PrinterState::Printing,
        online: true,
        file: Some("Benchy.gcode.3mf".into()),
        progress: Some(37.0),
        remaining_s: Some(1500),
        ..PrinterStatus::default()
    };
    let id = PrinterId::parse("x1c").unwrap();
    assert!(
        app.state
            .printers
            .record_status(&id, &printing)
            .await
            .unwrap()
    );
    let shown = get_printer(&app, "x1c").await;
    assert_eq!(
        shown["status"],
        json!({ "state": "printing", "online": true, "file": "Benchy.gcode.3mf",
                "progress": 37.0, "remaining_s": 1500, "job_id": null, "last_seen": null,
                "error": null })
    );
    let list: Value = app
        .client
        .get(app.url("/printers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = list["printers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "x1c")
        .unwrap();
    assert_eq!(listed["status"], shown["status"]);

    // The status is read-only through the API …
    let response = patch_printer(&app, "x1c", &json!({ "status": { "state": "idle" } })).await;
    problem(response, StatusCode::BAD_REQUEST).await;
    // … and not shown once monitoring is off.
    let response = patch_printer(&app, "x1c", &json!({ "monitoring": false })).await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"]["state"],
        "unknown"
    );
}

async fn editing_a_missing_printer_is_404(app: TestApp) {
    for id in ["nope", "Not%20Valid"] {
        for body in [json!({}), json!({ "name": "x" })] {
            let response = patch_printer(&app, id, &body).await;
            problem(response, StatusCode::NOT_FOUND).await;
        }
    }
}

async fn secrets_never_reach_a_response_or_the_log(app: TestApp) {
    const SECRETS: [&str; 3] = ["S9-LOG-CODE-1", "S9-LOG-KEY-2", "S9-LOG-CODE-3"];
    let mut bodies = Vec::new();
    // Accepted, refused by a rule, of a wrong type, and an edit.
    let requests = [
        json!({ "id": "x1c", "name": "X1C", "printer_type": "bambu_lab",
                "connection": { "kind": "bambu_lab", "host": "10.0.0.5",
                                "serial": "01S00C123456789", "access_code": SECRETS[0] } }),
        json!({ "name": "", "printer_type": "octoprint",
                "connection": { "kind": "octoprint", "api_key": SECRETS[1] } }),
        json!({ "name": "P", "printer_type": "octoprint",
                "connection": { "kind": "octoprint", "api_key": [SECRETS[1]], "port": "x" } }),
    ];
    for body in &requests {
        bodies.push(post_printer(&app, body).await.text().await.unwrap());
    }
    for body in [
        json!({ "connection": { "access_code": SECRETS[2] } }),
        json!({ "connection": { "access_code": SECRETS[2], "serial": null } }),
        json!({ "connection": { "access_code": SECRETS[2], "frobnicate": 1 } }),
    ] {
        bodies.push(
            patch_printer(&app, "x1c", &body)
                .await
                .text()
                .await
                .unwrap(),
        );
    }
    bodies.push(
        app.client
            .get(app.url("/printers"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let log = captured_log();
    if std::env::var_os("TEST_LOG").is_none() {
        assert!(log.contains("request finished"), "the log is captured");
    }
    for secret in SECRETS {
        for body in &bodies {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        assert!(!log.contains(secret), "{secret} in the log");
    }
}
