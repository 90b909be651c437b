//! Two printdesk processes on one PostgreSQL database, both monitoring: exactly one follows a
//! printer at a time (its lease), a print is one job whichever instance sees it, and when
//! the following instance dies (SIGKILL, no clean-up) the other takes the printer over within
//! the lease's term and records the print's end — still one job. The printer is a simulated
//! Bambu Lab printer on a real Mosquitto (TLS, test CA). Skipped without
//! `PRINTDESK_TEST_POSTGRES_URL` (and without Mosquitto, unless `PRINTDESK_REQUIRE_PEERS`).

mod support;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use printdesk_monitor::simulator::{
    Model, SimulatedBambu,
    broker::{Broker, TestCa},
};
use printdesk_store_diesel::test_support::TestDatabase;
use serde_json::{Value, json};
use support::{Server, TempDir, client};

const SERIAL: &str = "01S00C987654321";
const CODE: &str = "27182818";

async fn get(server: &Server, path: &str) -> Value {
    client()
        .get(server.url(path))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// Polls until `check` holds, for at most `limit`.
async fn until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "no {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `server`'s log says it follows `printer`.
fn follows(server: &Server, printer: &str) -> bool {
    server
        .log_json()
        .iter()
        .any(|line| line["message"] == "following printer" && line["printer"] == printer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_follows_a_printer_and_the_other_takes_over_when_it_dies() {
    let Some(db) = TestDatabase::postgres("one_instance_follows_a_printer") else {
        return;
    };
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), CODE) else {
        return;
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let dir = TempDir::new("instances");
    // Both instances open the printers' secrets with the same key.
    let key = dir.path().join("shared.key");
    let configure = |command: &mut Command| {
        command
            .arg("--secret-key-file")
            .arg(&key)
            .args(["--monitor", "true"]);
    };
    let first = Server::start_with(&db.url, dir.path(), configure);
    let second = Server::start_with(&db.url, dir.path(), configure);
    let mut servers = [first, second];

    let created = client()
        .post(servers[0].url("/api/v1/printers"))
        .json(&json!({
            "id": "farm-x1", "name": "Farm X1", "printer_type": "bambu_lab",
            "connection": {"kind": "bambu_lab", "host": "127.0.0.1", "port": broker.tls_port,
                           "serial": SERIAL, "access_code": CODE},
        }))
        .send()
        .await
        .expect("POST /printers");
    assert_eq!(created.status().as_u16(), 201);

    until(
        "an instance following the printer",
        Duration::from_secs(20),
        async || servers.iter().any(|s| follows(s, "farm-x1")),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await; // a renewal round: still only one
    let owners: Vec<usize> = (0..2)
        .filter(|&i| follows(&servers[i], "farm-x1"))
        .collect();
    assert_eq!(owners.len(), 1, "exactly one instance follows the printer");
    let owner = owners[0];
    let other = 1 - owner;

    // A browser on the instance that does not follow the printer sees its status too.
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws", servers[other].addr))
            .await
            .expect("the WebSocket of the other instance");

    printer.start_print("Gearbox.gcode.3mf", "Gearbox").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline.into(), socket.next())
            .await
            .expect("printer_status printing on the other instance within 10 s")
            .expect("the socket stays open")
            .expect("a frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let message: Value = serde_json::from_str(&text).expect("JSON");
            if message["type"] == "printer_status" && message["status"]["state"] == "printing" {
                assert_eq!(message["printer_id"], "farm-x1");
                break;
            }
        }
    }
    let jobs_path = "/api/v1/jobs?printer_id=farm-x1";
    until("the job", Duration::from_secs(10), async || {
        get(&servers[other], jobs_path).await["total_count"] == 1
    })
    .await;
    let job = get(&servers[other], jobs_path).await["jobs"][0].clone();
    assert_eq!(job["status"], "running");
    let job_id = job["id"].as_str().expect("an id").to_owned();

    // The owner dies without giving its lease up; the other takes over once it ran out.
    servers[owner].kill_9();
    let killed = Instant::now();
    until("the take-over", Duration::from_secs(40), async || {
        follows(&servers[other], "farm-x1")
    })
    .await;
    assert!(
        killed.elapsed() <= Duration::from_secs(30),
        "taken over after {:?}",
        killed.elapsed()
    );
    until(
        "the printer online again",
        Duration::from_secs(15),
        async || get(&servers[other], "/api/v1/printers/farm-x1").await["status"]["online"] == true,
    )
    .await;

    printer.finish().await;
    until("the job completed", Duration::from_secs(15), async || {
        get(&servers[other], &format!("/api/v1/jobs/{job_id}")).await["status"] == "completed"
    })
    .await;
    let jobs = get(&servers[other], jobs_path).await;
    assert_eq!(jobs["total_count"], 1, "no duplicate: {jobs}");
}
