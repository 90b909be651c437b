//! Printer connection secrets on the real binary over SQLite: the key file is created beside
//! the database on first start (owner-only) and kept after, and no secret reaches a response,
//! the log or the database files.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::{Server, TempDir, client};

const ACCESS_CODE: &str = "E2E-ACCESS-CODE-417";

fn contains(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_key_is_made_beside_the_database_and_no_secret_is_stored_shown_or_logged() {
    let dir = TempDir::new("secrets");
    let key_file = dir.path().join("printdesk.key");
    let mut server = Server::start(&dir.sqlite_url(), dir.path());
    let http = client();
    let response = http
        .post(server.url("/api/v1/printers"))
        .json(
            &json!({ "id": "x1c", "name": "X1C", "printer_type": "bambu_lab",
                       "connection": { "kind": "bambu_lab", "host": "192.168.1.50",
                                       "serial": "01S00C123456789",
                                       "access_code": ACCESS_CODE } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = response.text().await.unwrap();
    assert!(!created.contains(ACCESS_CODE), "{created}");
    let listed = http
        .get(server.url("/api/v1/printers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(r#""access_code":"set""#), "{listed}");
    assert!(!listed.contains(ACCESS_CODE));

    let key = std::fs::read_to_string(&key_file).expect("the key file beside printdesk.db");
    assert_eq!(key.trim().len(), 64, "32 bytes as hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(30)).is_some());
    let log = server.log_text();
    assert!(log.contains("created the key"), "{log}");
    assert!(!log.contains(ACCESS_CODE), "{log}");
    for file in ["printdesk.db", "printdesk.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            assert!(
                !contains(&bytes, ACCESS_CODE),
                "{file} holds the access code"
            );
        }
    }

    // A second start keeps the key (the stored secrets stay readable).
    let mut again = Server::start(&dir.sqlite_url(), dir.path());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
    again.terminate();
    assert!(again.wait_exit(Duration::from_secs(30)).is_some());
    assert!(!again.log_text().contains("created the key"));
}

#[test]
fn a_key_file_that_cannot_be_made_stops_the_start() {
    let dir = TempDir::new("secrets-bad");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_printdesk"))
        .current_dir(dir.path())
        .env_remove("PRINTDESK_SECRET_KEY_FILE")
        .args(["--database-url", &dir.sqlite_url(), "--bind", "127.0.0.1:0"])
        .args(["--secret-key-file", "/nonexistent-dir/printdesk.key"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run the binary");
    assert_eq!(status.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        stderr.contains("cannot use the secret key file /nonexistent-dir/printdesk.key"),
        "{stderr}"
    );
}
