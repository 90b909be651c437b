//! Printers that report their own jobs, end to end through the application the composition
//! root builds: a Bambu Lab printer (a simulated one, publishing on a real Mosquitto with a
//! TLS listener, a test CA and a `bblp` password file) added through the API, a print that
//! appears as a job, progresses and completes by itself, live on the WebSocket; and the
//! printer's status for a wrong access code.

use std::time::Duration;

use futures_util::StreamExt;
use printdesk_app::{Application, Config};
use printdesk_monitor::simulator::{
    Model, SimulatedBambu,
    broker::{Broker, TestCa},
};
use printdesk_store_diesel::test_support::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const SERIAL: &str = "01P00A381200123";
const ACCESS_CODE: &str = "31415926";
const PATIENCE: Duration = Duration::from_secs(15);

struct Running {
    base: String,
    http: reqwest::Client,
    handle: printdesk_app::AppHandle,
    _database: TestDatabase,
}

impl Drop for Running {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}

async fn start() -> Running {
    let database = TestDatabase::sqlite();
    let config = Config {
        monitor_printers: true,
        ..Config::embedded(database.url.clone())
    };
    let listener = printdesk_app::bind(([127, 0, 0, 1], 0).into()).expect("a free port");
    let app = Application::build(config, listener)
        .await
        .expect("the application starts");
    let base = format!("http://{}", app.address());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Running {
        base,
        http: reqwest::Client::new(),
        handle,
        _database: database,
    }
}

impl Running {
    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("JSON")
    }

    async fn add_bambu(&self, id: &str, port: u16, access_code: &str) {
        let response = self
            .http
            .post(format!("{}/api/v1/printers", self.base))
            .json(&json!({
                "id": id, "name": "X1 Carbon", "printer_type": "bambu_lab",
                "connection": {"kind": "bambu_lab", "host": "127.0.0.1", "port": port,
                               "serial": SERIAL, "access_code": access_code},
            }))
            .send()
            .await
            .expect("POST /printers");
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    /// Polls `GET path` until `check` holds.
    async fn until(&self, what: &str, path: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let value = self.get(path).await;
            if check(&value) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what} within {PATIENCE:?}; last: {value}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client's messages. Job events and printer statuses travel separately (the
/// events through the log, the statuses at once), so a test takes what it waits for in any
/// order: a message received while waiting for another is kept for later.
struct Feed {
    socket: Socket,
    kept: Vec<Value>,
}

impl Feed {
    /// The first message, kept or new, that `matches`.
    async fn next(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.kept.iter().position(&matches) {
            return self.kept.remove(i);
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no {what} on the WebSocket within {PATIENCE:?}"))
                .expect("the socket stays open")
                .expect("a frame");
            if let Message::Text(text) = frame {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if matches(&value) {
                    return value;
                }
                self.kept.push(value);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_becomes_a_job_that_progresses_and_completes_by_itself() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::P1).await;
    let app = start().await;
    let (socket, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/api/v1/ws",
        app.base.trim_start_matches("http://")
    ))
    .await
    .expect("the WebSocket");
    let mut feed = Feed {
        socket,
        kept: Vec::new(),
    };

    app.add_bambu("x1c-1", broker.tls_port, ACCESS_CODE).await;
    // The printer added through the API reaches the other clients live.
    feed.next("printer_changed", |m| {
        m["type"] == "printer_changed" && m["printer_id"] == "x1c-1"
    })
    .await;
    let online = app
        .until("the printer online", "/printers/x1c-1", |p| {
            p["status"]["online"] == true && p["status"]["state"] == "idle"
        })
        .await;
    assert_eq!(online["connection"]["access_code"], "set", "{online}");
    let fingerprint = app
        .until(
            "the certificate trusted on first use",
            "/printers/x1c-1",
            |p| p["connection"]["tls_fingerprint"].is_string(),
        )
        .await;
    assert_eq!(
        fingerprint["connection"]["tls_fingerprint"]
            .as_str()
            .map(str::len),
        Some(64),
        "a SHA-256 in hex"
    );

    printer.start_print("Benchy.gcode.3mf", "Benchy").await;
    let created = feed
        .next("job_created", |m| m["type"] == "job_created")
        .await;
    let job = &created["job"];
    assert_eq!(job["job_name"], "Benchy");
    assert_eq!(job["status"], "running");
    assert_eq!(job["auto_created"], true);
    assert_eq!(job["printer_id"], "x1c-1");
    assert_eq!(job["file_name"], "Benchy.gcode.3mf");
    assert!(job["started_at"].is_string() && job["discovery_time"].is_string());
    assert_eq!(created["actor"], "monitor:x1c-1");
    let job_id = job["id"].as_str().expect("an id").to_owned();
    let printing = feed
        .next("printer_status printing", |m| {
            m["type"] == "printer_status" && m["status"]["state"] == "printing"
        })
        .await;
    assert_eq!(printing["status"]["job_id"], job_id.as_str());

    printer.progress(42, 17).await;
    let progressed = feed
        .next("progress", |m| {
            m["type"] == "printer_status" && m["status"]["progress"] == 42.0
        })
        .await;
    assert_eq!(
        progressed["status"]["remaining_s"],
        17 * 60,
        "minutes on the wire"
    );
    printer.pause().await;
    printer.resume().await;
    printer.finish().await;
    let completed = app
        .until("the job completed", &format!("/jobs/{job_id}"), |j| {
            j["status"] == "completed"
        })
        .await;
    assert!(completed["completed_at"].is_string());
    let jobs = app.get("/jobs?printer_id=x1c-1").await;
    assert_eq!(
        jobs["total_count"], 1,
        "pause and resume are one job: {jobs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_access_code_shows_in_the_status_and_records_nothing() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    printer.start_print("Cube.gcode.3mf", "Cube").await;
    let app = start().await;
    app.add_bambu("p1s", broker.tls_port, "00000000").await;
    let refused = app
        .until("the refusal", "/printers/p1s", |p| {
            p["status"]["state"] == "error"
        })
        .await;
    assert_eq!(refused["status"]["error"], "access code refused");
    assert_eq!(refused["status"]["online"], false);
    let jobs = app.get("/jobs?printer_id=p1s").await;
    assert_eq!(jobs["total_count"], 0);
}
