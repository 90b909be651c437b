//! Authentication and CORS on the real binary: the refusal to serve a network without tokens,
//! `printdesk token create`, a token it printed opening the API and the WebSocket, the page
//! staying public, and `--cors-origins`.

mod support;

use std::{
    fs,
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use printdesk_http::auth::TokenHash;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use support::{Server, TempDir, client};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// The binary with no `PRINTDESK_*` variable from the caller's shell, run in `dir`.
fn printdesk(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_printdesk"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PRINTDESK_") {
            command.env_remove(name);
        }
    }
    command.current_dir(dir).stdin(Stdio::null());
    command
}

/// Runs `command` to its end (killed after 30 s: a server that should have refused to start
/// must not hang the test).
fn run(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start printdesk");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("poll printdesk").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("reap printdesk");
            panic!(
                "printdesk did not exit: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("printdesk's output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn a_network_address_without_tokens_is_refused_in_one_line() {
    let dir = TempDir::new("auth-refusal");
    let output = run(printdesk(dir.path()).args([
        "--bind",
        "0.0.0.0:0",
        "--database-url",
        &dir.sqlite_url(),
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("printdesk: refusing to serve on 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(stderr.contains("printdesk token create NAME"), "{stderr}");
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
    // Refused before touching anything.
    assert!(!dir.path().join("printdesk.db").exists());

    // The same through the environment, and with the `serve` subcommand.
    let output = run(printdesk(dir.path())
        .args(["serve", "--database-url", &dir.sqlite_url()])
        .env("PRINTDESK_BIND", "[::]:0"));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stderr).lines().count(), 1);

    // `--insecure-no-auth` (here from the environment) gets past the check: this start then
    // fails on its database instead, without ever listening.
    let output = run(printdesk(dir.path())
        .args([
            "--bind",
            "0.0.0.0:0",
            "--database-url",
            "mysql://nowhere/db",
        ])
        .env("PRINTDESK_INSECURE_NO_AUTH", "1"));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("refusing"));
}

#[test]
fn a_malformed_tokens_file_is_refused_with_its_line_number() {
    let dir = TempDir::new("auth-bad-file");
    let hash = TokenHash::of("secret").to_hex();
    fs::write(
        dir.path().join("printdesk.tokens"),
        format!("# tokens\nfront-desk:{hash}\n\npd_this-is-a-token-not-a-hash\n"),
    )
    .unwrap();
    let output = run(printdesk(dir.path()).args(["--database-url", &dir.sqlite_url()]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("printdesk: tokens file printdesk.tokens, line 4: "),
        "{stderr}"
    );
    assert!(!stderr.contains("this-is-a-token"), "{stderr}");

    // A tokens file that is named but missing is an error too (not silently no tokens).
    let output = run(printdesk(dir.path()).args([
        "--database-url",
        &dir.sqlite_url(),
        "--tokens-file",
        "elsewhere.tokens",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("elsewhere.tokens"));
}

/// `printdesk token create NAME` in `dir`: the printed token.
fn create_token(dir: &Path, args: &[&str]) -> String {
    let output = run(printdesk(dir).args(["token", "create"]).args(args));
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one hint: {stderr}");
    assert!(stderr.contains("not shown again"), "{stderr}");
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "the token alone: {stdout}");
    stdout.trim_end().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_token_opens_the_api_and_names_the_actor() {
    let dir = TempDir::new("auth-create");
    let file = dir.path().join("printdesk.tokens");
    let desk = create_token(dir.path(), &["front-desk"]);
    let ha = create_token(dir.path(), &["ha", "--tokens-file", "printdesk.tokens"]);

    // At least 32 random bytes, in characters fit for a header and a subprotocol.
    assert!(desk.len() >= 43, "{desk}");
    assert!(
        desk.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{desk}"
    );
    assert_ne!(desk, ha);
    // The file holds the names and hashes, never the tokens; only its owner may read it.
    let stored = fs::read_to_string(&file).unwrap();
    let entries: Vec<&str> = stored
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        entries,
        [
            format!("front-desk:{}", TokenHash::of(&desk).to_hex()),
            format!("ha:{}", TokenHash::of(&ha).to_hex()),
        ]
    );
    assert!(!stored.contains(&desk) && !stored.contains(&ha));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // A name that is taken is refused, and nothing is written.
    let output = run(printdesk(dir.path()).args(["token", "create", "ha"]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert!(text(&output.stderr).contains("'ha' exists already"));
    assert_eq!(fs::read_to_string(&file).unwrap(), stored);

    // A server started in that directory reads the file by default.
    let root = dir.path().to_owned();
    let server = Server::start_with(&dir.sqlite_url(), dir.path(), |command| {
        command.current_dir(&root);
    });
    let http = client();
    let jobs = server.url("/api/v1/jobs");

    let response = http.get(&jobs).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"printdesk\""
    );
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let response = http
        .get(&jobs)
        .bearer_auth("pd_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"printdesk\", error=\"invalid_token\""
    );

    let response = http
        .post(&jobs)
        .bearer_auth(&desk)
        .json(&json!({ "job_name": "Benchy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()[header::X_CONTENT_TYPE_OPTIONS],
        "nosniff"
    );
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = http
        .put(format!("{jobs}/{id}"))
        .bearer_auth(&ha)
        .json(&json!({ "notes": "from Home Assistant" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let history: Value = http
        .get(format!("{jobs}/{id}/history"))
        .bearer_auth(&ha)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actors: Vec<&Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["actor"])
        .collect();
    assert_eq!(actors, [&json!("ha"), &json!("front-desk")]);

    // The page, its files and the operations endpoints need no token.
    let page = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }

    // The WebSocket: refused without a token; with the token as a subprotocol, accepted and
    // the subprotocol echoed (the client checks that, as a browser does).
    let ws_url = format!("ws://{}/api/v1/ws", server.addr);
    match tokio_tungstenite::connect_async(ws_url.as_str()).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED.as_u16());
        }
        other => panic!("expected a 401 handshake, got {other:?}"),
    }
    let mut request = ws_url.as_str().into_client_request().unwrap();
    let protocol = format!("printdesk.bearer.{desk}");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("a WebSocket with the token as its subprotocol");
    assert_eq!(response.status(), 101);
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        protocol.as_str()
    );
    let hello = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a hello in time")
        .expect("a frame")
        .expect("a message");
    let hello: Value = serde_json::from_str(hello.to_text().unwrap()).unwrap();
    assert_eq!(hello["type"], "hello");

    let mut request = ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "printdesk.bearer.pd_wrong".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED.as_u16());
        }
        other => panic!("expected a 401 handshake, got {other:?}"),
    }

    // The log says how many tokens there are, and nothing of them.
    let log = server.log_text();
    let loaded = server
        .log_json()
        .into_iter()
        .find(|line| line["fields"]["tokens"].is_number() || line["tokens"].is_number())
        .unwrap_or_else(|| panic!("no token count in the log:\n{log}"));
    let count = loaded["tokens"]
        .as_u64()
        .or_else(|| loaded["fields"]["tokens"].as_u64());
    assert_eq!(count, Some(2), "{loaded}");
    for secret in [&desk, &ha] {
        assert!(!log.contains(secret.as_str()));
        assert!(!log.contains(&TokenHash::of(secret).to_hex()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_closed_unless_origins_are_configured() {
    const ORIGIN: &str = "https://ha.local:8123";
    let dir = TempDir::new("auth-cors");
    let http = client();
    let allow_origin = |response: &reqwest::Response| {
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.to_str().unwrap().to_owned())
    };

    let closed = Server::start(&dir.sqlite_url(), dir.path());
    let response = http
        .get(closed.url("/api/v1/jobs"))
        .header(header::ORIGIN, ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cors: Vec<_> = response
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");
    drop(closed);

    let open = Server::start_with(&dir.sqlite_url(), dir.path(), |command| {
        command.env(
            "PRINTDESK_CORS_ORIGINS",
            format!("{ORIGIN},http://localhost:3000"),
        );
    });
    let response = http
        .get(open.url("/api/v1/jobs"))
        .header(header::ORIGIN, ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(allow_origin(&response).as_deref(), Some(ORIGIN));
    let preflight = http
        .request(reqwest::Method::OPTIONS, open.url("/api/v1/jobs"))
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,if-match,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(allow_origin(&preflight).as_deref(), Some(ORIGIN));
    let response = http
        .get(open.url("/api/v1/jobs"))
        .header(header::ORIGIN, "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&response), None);

    // An origin that is not one is refused at start-up, in one line.
    let output = run(printdesk(dir.path()).args([
        "--database-url",
        &dir.sqlite_url(),
        "--cors-origins",
        "https://ha.local/app",
    ]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not an origin"), "{stderr}");
}

/// `printdesk user create …` in `dir` with `password` on stdin.
fn create_user(dir: &Path, args: &[&str], password: &str) -> Output {
    use std::io::Write;
    let mut child = printdesk(dir)
        .args(["user", "create"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start printdesk");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().expect("printdesk's output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_on_the_command_line_signs_in_and_opens_a_network_bind() {
    let dir = TempDir::new("auth-user");
    let url = dir.sqlite_url();
    let cheap = ["--argon2-memory-kib", "64", "--argon2-iterations", "1"];
    let output = create_user(
        dir.path(),
        &[
            &["vera", "--role", "viewer", "--database-url", &url][..],
            &cheap,
        ]
        .concat(),
        "vera-password-1",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "", "the password is never echoed");
    let output = create_user(
        dir.path(),
        &["nobody", "--role", "viewer", "--database-url", &url],
        "short",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("password must be at least 8 characters"));

    // A viewer is no admin: a network address is still refused, now that the database exists.
    let output = run(printdesk(dir.path()).args(["--bind", "0.0.0.0:0", "--database-url", &url]));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("without an admin user or an API token"));

    let output = create_user(
        dir.path(),
        &[
            &[
                "Anna",
                "--role",
                "admin",
                "--display-name",
                "Anna Berg",
                "--database-url",
                &url,
            ][..],
            &cheap,
        ]
        .concat(),
        "anna-password-1",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("user 'anna' (Anna Berg, admin) created"));
    // With an admin it serves (we stop it once it says so).
    let log = dir.path().join("network.log");
    let mut child = printdesk(dir.path())
        .args([
            "--bind",
            "0.0.0.0:0",
            "--database-url",
            &url,
            "--monitor",
            "false",
        ])
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let serving = loop {
        let text = fs::read_to_string(&log).unwrap_or_default();
        if text.contains("printdesk is serving") {
            break true;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(serving, "{}", fs::read_to_string(&log).unwrap_or_default());

    // On loopback, the user signs in on the page's API.
    let server = support::Server::start(&url, dir.path());
    let response = client()
        .post(server.url("/api/v1/session"))
        .json(&json!({ "username": "anna", "password": "anna-password-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers().contains_key(header::SET_COOKIE));
    let response = client()
        .get(server.url("/api/v1/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "closed: users exist"
    );
}
