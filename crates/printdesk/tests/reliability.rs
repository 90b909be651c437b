//! Faults of the process that must never leave a client without an answer (docs/operations.md,
//! "Faults and what they look like"), on the real binary over SQLite:
//!
//! - the log sink gone (`2>/dev/full`, a pipe whose reader closed, a reader that stalls):
//!   every request is answered, the lost lines are counted, and the server stops cleanly;
//! - start-up errors: one line naming the cause.

mod support;

use std::{
    io::{BufRead, Read},
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, Stderr, TempDir, client};

/// The value of the sample `series` (name and labels exactly as exposed), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

async fn dropped_log_lines(http: &reqwest::Client, server: &Server) -> f64 {
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics");
    sample(&metrics, "printdesk_log_lines_dropped_total")
        .unwrap_or_else(|| panic!("no printdesk_log_lines_dropped_total in:\n{metrics}"))
}

/// Creates `n` jobs at once, 8 at a time; asserts every one was answered 201.
async fn create_jobs(http: &reqwest::Client, server: &Server, n: usize, label: &str) {
    let mut pending = Vec::new();
    for i in 0..n {
        let request = http
            .post(server.url("/api/v1/jobs"))
            .json(&json!({ "job_name": format!("{label} {i}") }))
            .send();
        pending.push(tokio::spawn(request));
        if pending.len() == 8 || i + 1 == n {
            for task in pending.drain(..) {
                let response = task.await.unwrap().unwrap_or_else(|e| {
                    panic!("{label}: a create got no answer: {e}");
                });
                assert_eq!(response.status(), StatusCode::CREATED, "{label}");
            }
        }
    }
}

async fn count_jobs(http: &reqwest::Client, server: &Server) -> u64 {
    let response = http
        .get(server.url("/api/v1/jobs?limit=1"))
        .send()
        .await
        .expect("GET /jobs is answered");
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    page["total_count"].as_u64().expect("a total_count")
}

/// SIGTERM: the server must stop by itself with exit code 0.
fn stops_cleanly(server: &mut Server, what: &str) {
    server.terminate();
    let status = server
        .wait_exit(Duration::from_secs(15))
        .unwrap_or_else(|| panic!("{what}: the server did not stop after SIGTERM"));
    assert_eq!(status.code(), Some(0), "{what}: exit status {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stderr_on_a_full_device_fails_no_request() {
    let dir = TempDir::new("log-full");
    let mut server = Server::start_with_stderr(
        &dir.sqlite_url(),
        dir.path(),
        &Stderr::File(PathBuf::from("/dev/full")),
        |_| {},
    );
    let http = client();
    create_jobs(&http, &server, 50, "full").await;
    assert_eq!(count_jobs(&http, &server).await, 50);
    assert!(dropped_log_lines(&http, &server).await >= 50.0);
    stops_cleanly(&mut server, "stderr on /dev/full");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_pipe_whose_reader_is_gone_fails_no_request() {
    let dir = TempDir::new("log-closed");
    let mut server =
        Server::start_with_stderr(&dir.sqlite_url(), dir.path(), &Stderr::Pipe, |_| {});
    drop(server.take_pipe());
    let http = client();
    create_jobs(&http, &server, 50, "closed").await;
    assert_eq!(count_jobs(&http, &server).await, 50);
    assert!(dropped_log_lines(&http, &server).await >= 50.0);
    stops_cleanly(&mut server, "stderr's reader gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_log_reader_loses_lines_and_is_told_how_many_once_it_reads_again() {
    let dir = TempDir::new("log-stalled");
    let mut server =
        Server::start_with_stderr(&dir.sqlite_url(), dir.path(), &Stderr::Pipe, |_| {});
    let mut pipe = server.take_pipe();
    let http = client();
    // One INFO line per request; the pipe holds about 64 KiB and the queue 1,024 lines, so
    // these overflow both while nobody reads.
    let deadline = Instant::now() + Duration::from_secs(60);
    while dropped_log_lines(&http, &server).await == 0.0 {
        assert!(Instant::now() < deadline, "no log line was dropped");
        create_jobs(&http, &server, 400, "stalled").await;
    }
    let dropped = dropped_log_lines(&http, &server).await;

    // Read again, from a thread of its own (the pipe blocks).
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        while pipe.read_line(&mut line).is_ok_and(|n| n > 0) {
            if lines.send(std::mem::take(&mut line)).is_err() {
                break;
            }
        }
    });
    // Reports are cumulative (`dropped_total`); one written as the pipe drained may cover
    // only part of the loss, a later one the rest.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        create_jobs(&http, &server, 1, "after").await;
        let reports: Vec<Value> = seen
            .try_iter()
            .filter(|line| line.contains("log lines were dropped"))
            .map(|line| serde_json::from_str(&line).expect("the report is a JSON log line"))
            .collect();
        for report in &reports {
            assert_eq!(report["level"], "WARN", "{report}");
            assert!(report["dropped"].as_f64().unwrap() >= 1.0, "{report}");
        }
        if reports
            .iter()
            .any(|r| r["dropped_total"].as_f64().unwrap() >= dropped)
        {
            break;
        }
        assert!(Instant::now() < deadline, "no line reported the drop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stops_cleanly(&mut server, "a stalled reader");
}

/// `printdesk` started with these arguments (and no `PRINTDESK_*` from the caller): its exit
/// status and stderr. It must exit within 30 s.
fn run(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_printdesk"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PRINTDESK_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .current_dir(dir)
        .args(args)
        .args(["--monitor", "false", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start printdesk");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("printdesk {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

/// The one `printdesk: …` line of a failed start.
fn start_failure(args: &[&str], dir: &std::path::Path) -> String {
    let (code, stderr) = run(args, dir);
    assert_eq!(code, Some(1), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("printdesk: "))
        .collect();
    assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
    lines[0].to_owned()
}

#[test]
fn a_wrong_sqlite_path_is_named_in_one_line() {
    let dir = TempDir::new("start-sqlite");
    let missing = dir.path().join("no-such-dir").join("printdesk.db");
    let line = start_failure(
        &["--database-url", &format!("sqlite://{}", missing.display())],
        dir.path(),
    );
    assert!(
        line.contains(&format!(
            "the directory {} of the database file",
            dir.path().join("no-such-dir").display()
        )) && line.contains("does not exist"),
        "{line}"
    );

    let line = start_failure(
        &[
            "--database-url",
            &format!("sqlite://{}", dir.path().display()),
        ],
        dir.path(),
    );
    assert!(
        line.contains(&format!(
            "the database path {} is a directory",
            dir.path().display()
        )),
        "{line}"
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, just some notes\n").unwrap();
    let line = start_failure(
        &["--database-url", &format!("sqlite://{}", text.display())],
        dir.path(),
    );
    assert!(
        line.contains(&format!(
            "the file {} is not an SQLite database",
            text.display()
        )),
        "{line}"
    );
}

/// As root (CI), the server runs as `nobody` on a database root owns; otherwise on a file
/// nobody may write.
#[test]
fn a_database_file_printdesk_may_not_write_is_named_as_such() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("start-perm");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = dir.path().join("printdesk.db");
    // A real database: made by a server that started and stopped.
    {
        let mut server = Server::start(&format!("sqlite://{}", db.display()), dir.path());
        stops_cleanly(&mut server, "making the database");
    }
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let url = format!("sqlite://{}", db.display());
    let args = ["--database-url", url.as_str()];
    let (code, stderr) = if is_root {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_printdesk"))
            .args(args)
            .args(["--monitor", "false", "--bind", "127.0.0.1:0"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PRINTDESK_") {
                command.env_remove(name);
            }
        }
        let output = command.output().expect("run setpriv");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    } else {
        run(&args, dir.path())
    };
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("printdesk: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(&format!("cannot write the database file {}", db.display()))
            && lines[0].contains("permission denied"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_postgresql_names_host_and_port() {
    let dir = TempDir::new("start-pg");
    let port = support::free_port();
    let line = start_failure(
        &[
            "--database-url",
            &format!("postgres://printdesk:secret@127.0.0.1:{port}/farm"),
        ],
        dir.path(),
    );
    assert!(
        line.contains(&format!("PostgreSQL at 127.0.0.1:{port} is unreachable")),
        "{line}"
    );
    assert!(!line.contains("secret"), "{line}");
}

#[test]
fn a_missing_postgresql_database_is_named() {
    let Ok(url) = std::env::var("PRINTDESK_TEST_POSTGRES_URL") else {
        eprintln!(
            "SKIPPED a_missing_postgresql_database_is_named: PRINTDESK_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let dir = TempDir::new("start-pg-db");
    let name = format!("printdesk_missing_{}", std::process::id());
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    let line = start_failure(&["--database-url", &format!("{base}/{name}")], dir.path());
    assert!(
        line.contains(&format!(
            "the PostgreSQL database \"{name}\" does not exist"
        )),
        "{line}"
    );
}
