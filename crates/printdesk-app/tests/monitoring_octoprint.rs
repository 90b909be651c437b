//! An OctoPrint printer (the real OctoPrint from PyPI and its virtual printer) followed
//! through the application the composition root builds: a print becomes a job and completes
//! by itself; and a print that ends while printdesk is stopped is completed when printdesk
//! comes back, from the file's `prints.last`, with the real end time.

use std::time::Duration;

use printdesk_app::{Application, Config};
use printdesk_monitor::simulator::octoprint::{OctoPrint, PRINTER, server};
use printdesk_store_diesel::test_support::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(90);

async fn start(database: &TestDatabase) -> (String, printdesk_app::AppHandle) {
    let config = Config {
        monitor_printers: true,
        ..Config::embedded(database.url.clone())
    };
    let listener = printdesk_app::bind(([127, 0, 0, 1], 0).into()).expect("a free port");
    let app = Application::build(config, listener)
        .await
        .expect("the application starts");
    let base = format!("http://{}/api/v1", app.address());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (base, handle)
}

async fn get(base: &str, path: &str) -> Value {
    let response = reqwest::get(format!("{base}{path}")).await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.expect("JSON")
}

async fn until(base: &str, what: &str, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let value = get(base, path).await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} within {PATIENCE:?}; last: {value}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn add_printer(base: &str, octoprint: &OctoPrint) {
    let response = reqwest::Client::new()
        .post(format!("{base}/printers"))
        .json(&json!({
            "id": "octopi", "name": "Prusa MK3 (OctoPi)", "printer_type": "octoprint",
            "connection": {"kind": "octoprint", "base_url": octoprint.base_url,
                           "api_key": octoprint.api_key},
        }))
        .send()
        .await
        .expect("POST /printers");
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_that_ends_while_printdesk_is_stopped_is_completed_when_it_comes_back() {
    let Some(octoprint) = server() else { return };
    let _printer = PRINTER.lock().await;
    octoprint.ensure_idle().await;
    // ~80 moves: about 8 s on the virtual printer.
    octoprint.upload("pd_downtime.gcode", 80).await;
    octoprint.wait_until_operational().await;
    let database = TestDatabase::sqlite();
    let (base, handle) = start(&database).await;
    add_printer(&base, octoprint).await;
    until(&base, "the printer online", "/printers/octopi", |p| {
        p["status"]["online"] == true
    })
    .await;

    octoprint.print("pd_downtime.gcode").await;
    let jobs = until(&base, "the job", "/jobs?printer_id=octopi", |j| {
        j["total_count"] == 1
    })
    .await;
    let job = &jobs["jobs"][0];
    assert_eq!(job["status"], "running");
    assert_eq!(job["auto_created"], true);
    assert_eq!(job["job_name"], "pd_downtime");
    let job_id = job["id"].as_str().expect("an id").to_owned();

    // printdesk stops mid-print; the print ends while nobody watches.
    handle.stop(true).await;
    octoprint.wait_until_operational().await;
    let (base, handle) = start(&database).await;
    let completed = until(
        &base,
        "the job completed",
        &format!("/jobs/{job_id}"),
        |j| j["status"] != "running",
    )
    .await;
    assert_eq!(
        completed["status"], "completed",
        "OctoPrint's prints.last says it succeeded: {completed}"
    );
    assert!(completed["completed_at"].is_string());
    let jobs = get(&base, "/jobs?printer_id=octopi").await;
    assert_eq!(
        jobs["total_count"], 1,
        "no second job for the same print: {jobs}"
    );
    handle.stop(false).await;
}
