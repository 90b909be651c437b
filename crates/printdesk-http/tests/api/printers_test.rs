//! `POST /printers/test` ("Test connection"): the body read like a registration's, a printer
//! that cannot be reached still a 200 that says why, a simulated Bambu Lab printer on a real
//! Mosquitto reached, refused and distrusted, stored secrets used without ever being sent back.
//! Every address tried is on loopback.

use reqwest::StatusCode;
use serde_json::{Value, json};

use printdesk_domain::{PrinterId, TlsFingerprint};
use printdesk_monitor::simulator::{
    Model, SimulatedBambu,
    broker::{Broker, TestCa},
};

use crate::helpers::{TestApp, captured_log, error_fields, problem};

api_tests!(
    every_broken_rule_and_refused_key_is_named_and_nothing_is_tried,
    a_printer_where_nothing_listens_is_a_200_that_names_the_address,
    a_simulated_bambu_printer_is_reached_refused_and_its_changed_certificate_not_trusted,
    a_printer_called_test_is_still_read_and_edited_at_its_path,
);

const SERIAL: &str = "01S00C000000042";
const ACCESS_CODE: &str = "58291734";

async fn test_connection(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/printers/test"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A 200 answer's body.
async fn answer(app: &TestApp, body: &Value) -> Value {
    let response = test_connection(app, body).await;
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    response.json().await.unwrap()
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

async fn every_broken_rule_and_refused_key_is_named_and_nothing_is_tried(app: TestApp) {
    let body = problem(
        test_connection(
            &app,
            &json!({ "printer_id": "nobody",
                     "connection": { "kind": "bambu_lab", "host": "a b", "port": 0 } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        error_fields(&body),
        [
            "connection.host",
            "connection.serial",
            "connection.access_code",
            "connection.port",
            "printer_id"
        ],
        "{body}"
    );
    let body = problem(
        test_connection(&app, &json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["connection"]);
    // Members of a printer that are not part of a test, and unknown settings.
    let body = problem(
        test_connection(
            &app,
            &json!({ "name": "X", "connection": { "kind": "octoprint", "url": "u" } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["name", "connection.url"]);
    let body = problem(
        test_connection(&app, &json!({ "connection": "bambu", "printer_id": 3 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&body), ["connection", "printer_id"]);
}

async fn a_printer_where_nothing_listens_is_a_200_that_names_the_address(app: TestApp) {
    let port = closed_port();
    for connection in [
        json!({ "kind": "bambu_lab", "host": "127.0.0.1", "port": port, "serial": SERIAL,
                "access_code": ACCESS_CODE }),
        json!({ "kind": "octoprint", "base_url": format!("http://127.0.0.1:{port}"),
                "api_key": "K-1" }),
        json!({ "kind": "moonraker", "base_url": format!("http://127.0.0.1:{port}") }),
        json!({ "kind": "prusalink", "base_url": format!("http://127.0.0.1:{port}"),
                "username": "maker", "password": "pw" }),
    ] {
        let found = answer(&app, &json!({ "connection": connection })).await;
        assert_eq!(found["reachable"], false, "{found}");
        assert_eq!(found["state"], "offline", "{found}");
        let detail = found["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!(
                "printer not reachable: nothing answers at 127.0.0.1:{port} ("
            )),
            "{found}"
        );
        assert_eq!(
            found.as_object().unwrap().len(),
            3,
            "reachable, state, detail"
        );
    }
}

async fn a_simulated_bambu_printer_is_reached_refused_and_its_changed_certificate_not_trusted(
    app: TestApp,
) {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let _printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let connection = |access_code: Option<&str>| {
        let mut c = json!({ "kind": "bambu_lab", "host": "127.0.0.1", "port": broker.tls_port,
                            "serial": SERIAL });
        if let Some(code) = access_code {
            c["access_code"] = json!(code);
        }
        c
    };

    let found = answer(
        &app,
        &json!({ "connection": connection(Some(ACCESS_CODE)) }),
    )
    .await;
    assert_eq!(
        found,
        json!({ "reachable": true, "state": "idle",
                "detail": "printdesk reached the printer: it is idle" })
    );
    let found = answer(&app, &json!({ "connection": connection(Some("00000000")) })).await;
    assert_eq!(
        found,
        json!({ "reachable": false, "state": "error", "detail": "access code refused" })
    );

    // A stored printer: its access code stands in for the one not typed, and a test trusts
    // no certificate.
    let response = app
        .client
        .post(app.url("/printers"))
        .json(
            &json!({ "id": "sim-x1", "name": "Simulated X1", "printer_type": "bambu_lab",
                       "connection": connection(Some(ACCESS_CODE)) }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let stored = json!({ "connection": connection(None), "printer_id": "sim-x1" });
    assert_eq!(answer(&app, &stored).await["reachable"], true);
    let printer: Value = app
        .client
        .get(app.url("/printers/sim-x1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(printer["connection"]["tls_fingerprint"], Value::Null);

    // Trusted as another certificate before: refused, and not trusted now.
    let id = PrinterId::parse("sim-x1").unwrap();
    let before = TlsFingerprint::parse("tls_fingerprint", &"0f".repeat(32)).unwrap();
    app.state
        .printers
        .trust_certificate(&id, before)
        .await
        .unwrap();
    let found = answer(&app, &stored).await;
    assert_eq!(found["reachable"], false, "{found}");
    assert_eq!(found["state"], "error", "{found}");
    assert!(
        found["detail"]
            .as_str()
            .unwrap()
            .starts_with("certificate changed (now "),
        "{found}"
    );
    // `tls_fingerprint: null` tests trusting the new one.
    let mut trusting = stored.clone();
    trusting["connection"]["tls_fingerprint"] = Value::Null;
    assert_eq!(answer(&app, &trusting).await["reachable"], true);
    let printer = app.state.printers.get(&id).await.unwrap();
    assert_eq!(
        printer
            .connection
            .and_then(|c| c.tls_fingerprint().cloned())
            .map(|f| f.as_str().to_owned()),
        Some("0f".repeat(32)),
        "the stored fingerprint is left as it was"
    );

    let log = captured_log();
    assert!(!log.contains(ACCESS_CODE), "the access code is in the log");
}

async fn a_printer_called_test_is_still_read_and_edited_at_its_path(app: TestApp) {
    app.create_printer("test").await;
    let response = app
        .client
        .get(app.url("/printers/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let printer: Value = response.json().await.unwrap();
    assert_eq!(printer["id"], "test");
    let response = app
        .client
        .patch(app.url("/printers/test"))
        .json(&json!({ "name": "Named test" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A POST there is the connection test, whatever printers exist.
    let body = problem(
        test_connection(&app, &json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error_fields(&body), ["connection"]);
}
