//! Faults of the process that must never leave a client without an answer (docs/operations.md,
//! "Faults and what they look like"), on the real binary over SQLite:
//!
//! - the log sink gone (`2>/dev/full`, a pipe whose reader closed, a reader that stalls):
//!   every request is answered, the lost lines are counted, and the server stops cleanly;
//! - start-up errors: one line naming the cause;
//! - connections the HTTP library gives up on: counted, and logged at WARN at most once per
//!   10 s instead of one ERROR line each;
//! - bodies that never arrive: 408 at the deadline, and 1,100 of them at once (more than the
//!   open-file limit) cannot keep `/healthz` from answering within a second;
//! - a full disk under SQLite (a small tmpfs, as root): a named 503, and `/readyz` 503 until a
//!   write succeeds again.

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

async fn scrape(http: &reqwest::Client, server: &Server) -> String {
    http.get(server.url("/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics")
}

async fn dropped_log_lines(http: &reqwest::Client, server: &Server) -> f64 {
    let metrics = scrape(http, server).await;
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
    // A signal sent the moment the server said it serves can come before actix's handler is
    // installed; a request answered means the server's tasks have run.
    let _ = support::raw_get(server.addr, "/healthz");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_request_heads_are_counted_and_logged_at_warn_with_a_rate_limit() {
    let dir = TempDir::new("transport");
    let server = Server::start(&dir.sqlite_url(), dir.path());
    let http = client();
    let started = Instant::now();
    let mut statuses = Vec::new();
    for i in 0..20 {
        // 120 headers (actix reads at most 96), or a URI of 70 KiB.
        let request = if i % 2 == 0 {
            let headers: String = (0..120).map(|h| format!("X-H{h}: {h}\r\n")).collect();
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n")
        } else {
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70 * 1024))
        };
        let answer = support::raw_request(server.addr, request.as_bytes()).unwrap_or_default();
        statuses.push(answer.get(..12).unwrap_or_default().to_owned());
    }
    assert!(
        statuses
            .iter()
            .all(|s| s == "HTTP/1.1 400" || s == "HTTP/1.1 431"),
        "{statuses:?}"
    );
    // The server still serves.
    assert_eq!(
        http.get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = sample(&metrics, "printdesk_http_transport_errors_total").unwrap_or_default();
    assert!(counted >= 10.0, "{counted}");

    let deadline = started + Duration::from_secs(25);
    let warnings = loop {
        let warnings: Vec<Value> = server
            .log_json()
            .into_iter()
            .filter(|line| line["target"] == "printdesk::transport")
            .collect();
        if !warnings.is_empty() || Instant::now() > deadline {
            break warnings;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // One line for the whole burst (it took well under 10 s), at WARN, with the count.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["level"], "WARN");
    assert!(
        warnings[0]["errors"].as_f64().unwrap() >= 10.0,
        "{warnings:?}"
    );
    let errors: Vec<Value> = server
        .log_json()
        .into_iter()
        .filter(|line| line["level"] == "ERROR")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// A `PUT` of job `id` whose head and first 10 of 100 body bytes are sent, and no more.
async fn start_slow_body(
    addr: std::net::SocketAddr,
    id: &str,
) -> std::io::Result<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!(
                "PUT /api/v1/jobs/{id} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{\"notes\": \""
            )
            .as_bytes(),
        )
        .await?;
    Ok(stream)
}

/// What the server sent on `stream` within `limit`, until it closed the connection.
async fn answer(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut raw = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut raw)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&raw).into_owned()),
        _ => None,
    }
}

async fn a_job(http: &reqwest::Client, server: &Server) -> String {
    let response = http
        .post(server.url("/api/v1/jobs"))
        .json(&json!({ "job_name": "slow" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_is_408() {
    let dir = TempDir::new("body-timeout");
    let server = Server::start_with(&dir.sqlite_url(), dir.path(), |c| {
        c.args(["--body-timeout", "1"]);
    });
    let http = client();
    let id = a_job(&http, &server).await;
    let started = Instant::now();
    let mut stream = start_slow_body(server.addr, &id).await.unwrap();
    let text = answer(&mut stream, Duration::from_secs(5))
        .await
        .expect("an answer, and the connection closed, within 5 s");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(
        text.contains("urn:printdesk:problem:request-timeout"),
        "{text}"
    );
    let job: Value = http
        .get(server.url(&format!("/api/v1/jobs/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["version"], 1);
}

/// The server under a hard open-file limit of 1,024 (soft 512, which it raises), 1,100 clients
/// that send a head and part of a body and then nothing: the probe still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_bodies_beyond_the_descriptor_limit_cannot_lock_out_healthz() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED slow_bodies_beyond_the_descriptor_limit_cannot_lock_out_healthz: no prlimit (util-linux)"
        );
        return;
    }
    // The test's own 1,100 sockets need descriptors too.
    let _ = rlimit::increase_nofile_limit(4096);
    let dir = TempDir::new("slow-bodies");
    let server = Server::start_wrapped(
        &dir.sqlite_url(),
        dir.path(),
        &["prlimit", "--nofile=512:1024", "--"],
        // Long enough that only making room, not the deadline, can free connections here.
        |c| {
            c.args(["--body-timeout", "120"]);
        },
    );
    let log = server.log_json();
    assert!(
        log.iter().any(|l| l["was"] == 512
            && l["now"] == 1024
            && l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("raised the open-file limit"))),
        "no line about the raised limit"
    );
    assert!(
        log.iter().any(|l| l["max_connections"] == 768),
        "no line about the connection cap"
    );
    let http = client();
    let id = a_job(&http, &server).await;

    let mut slow = Vec::new();
    for _ in 0..1100 {
        match start_slow_body(server.addr, &id).await {
            Ok(stream) => slow.push(stream),
            // Refused while the server makes room: the probe is what matters.
            Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    assert!(
        slow.len() >= 1000,
        "only {} slow connections opened",
        slow.len()
    );

    for attempt in 0..3 {
        let started = Instant::now();
        let response = support::client_without_keep_alive()
            .get(server.url("/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .unwrap_or_else(|e| panic!("probe {attempt}: no answer within 1 s: {e}"));
        assert_eq!(response.status(), StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    // The oldest slow bodies made room, each told why.
    let text = answer(&mut slow[0], Duration::from_secs(2))
        .await
        .expect("the oldest slow body was ended");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("urn:printdesk:problem:request-timeout"),
        "{text}"
    );
}

/// A tmpfs mounted for one test, unmounted (lazily, so a process still inside cannot stop it)
/// when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (the test is skipped, with a message) when not root or when mounting fails.
    fn mount(at: PathBuf, size: &str, test: &str) -> Option<Self> {
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if !is_root {
            eprintln!("SKIPPED {test}: mounting a tmpfs needs root");
            return None;
        }
        std::fs::create_dir_all(&at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("SKIPPED {test}: cannot mount a tmpfs at {}", at.display());
            return None;
        }
        Some(Self(at))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `dir` with `dir/filler` until nothing more fits.
fn fill(dir: &std::path::Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
    path
}

async fn create_with_notes(http: &reqwest::Client, server: &Server, i: usize) -> reqwest::Response {
    http.post(server.url("/api/v1/jobs"))
        .json(&json!({ "job_name": format!("big {i}"), "notes": "n".repeat(1000) }))
        .send()
        .await
        .expect("every write is answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_named_503_and_readyz_says_so_until_a_write_succeeds() {
    let test = "a_full_disk_is_a_named_503_and_readyz_says_so_until_a_write_succeeds";
    let dir = TempDir::new("disk-full");
    let Some(disk) = Tmpfs::mount(dir.path().join("disk"), "16m", test) else {
        return;
    };
    let url = format!("sqlite://{}", disk.0.join("printdesk.db").display());
    let mut server = Server::start(&url, dir.path());
    let http = client();
    assert_eq!(
        create_with_notes(&http, &server, 0).await.status(),
        StatusCode::CREATED
    );

    let filler = fill(&disk.0);
    let mut refused = None;
    for i in 1..=500 {
        let response = create_with_notes(&http, &server, i).await;
        match response.status() {
            StatusCode::CREATED => continue,
            StatusCode::SERVICE_UNAVAILABLE => {
                refused = Some(response);
                break;
            }
            other => panic!(
                "write {i} on a full disk: {other}: {}",
                response.text().await.unwrap()
            ),
        }
    }
    let refused = refused.expect("a write refused once the disk is full");
    assert_eq!(refused.headers()["retry-after"], "30");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["type"], "urn:printdesk:problem:storage-unavailable",
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("disk is full"),
        "{body}"
    );

    // Reads still work; readiness says why writes do not.
    let list = http.get(server.url("/api/v1/jobs")).send().await.unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers().contains_key("retry-after"));
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(
        ready["type"], "urn:printdesk:problem:storage-unavailable",
        "{ready}"
    );
    let writable = |metrics: &str| sample(metrics, "printdesk_database_writable");
    let metrics = scrape(&http, &server).await;
    assert_eq!(writable(&metrics), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, "printdesk_database_up"), Some(1.0));

    // Room again: the next write succeeds, and with it readiness.
    std::fs::remove_file(filler).unwrap();
    let response = create_with_notes(&http, &server, 1000).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(writable(&scrape(&http, &server).await), Some(1.0));

    // The log is written by a thread of its own: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (failed, back) = loop {
        let log = server.log_json();
        let failed = log.iter().any(|l| {
            l["level"] == "ERROR"
                && l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("the database cannot store anything"))
        });
        let back = log
            .iter()
            .any(|l| l["message"] == "the database stores writes again");
        if (failed && back) || Instant::now() > deadline {
            break (failed, back);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(failed, "no ERROR line when storage failed");
    assert!(back, "no line when storage came back");
    stops_cleanly(&mut server, "after a full disk");
}
