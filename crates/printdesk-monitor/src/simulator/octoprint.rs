//! A real OctoPrint for tests (`octoprint` from PyPI, pinned by `just test-printers`) with its bundled
//! virtual printer, set up offline with OctoPrint's own CLI as `shared/printer-protocols.md`
//! §7.1 describes, and an application key made through OctoPrint's own API.
//!
//! One server per test binary (it takes ~8 s to start), shared by the tests one at a time
//! (they share its one virtual printer). It is stopped when the test process exits, however
//! it exits: it runs under a shell that kills it as soon as the test process's end of a pipe
//! closes.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// The OctoPrint version the suite is written against.
pub const VERSION: &str = "1.11.8";

/// A running OctoPrint with an application key.
#[derive(Debug)]
pub struct OctoPrint {
    pub base_url: String,
    pub api_key: String,
    _watchdog: Child,
    _basedir: PathBuf,
}

/// Serialises the tests that print (one virtual printer).
pub static PRINTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static SERVER: OnceLock<Option<OctoPrint>> = OnceLock::new();

/// The `octoprint` executable: `PRINTDESK_TEST_OCTOPRINT`, or the virtualenv that
/// `just test-printers` makes.
fn executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PRINTDESK_TEST_OCTOPRINT") {
        return Some(PathBuf::from(path));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let path = cache.join(format!("printdesk/octoprint-{VERSION}/bin/octoprint"));
    path.exists().then_some(path)
}

/// The shared server, started on first use; `None` (after a message) when OctoPrint is not
/// installed and the suite may skip.
pub fn server() -> Option<&'static OctoPrint> {
    SERVER
        .get_or_init(|| match executable() {
            Some(exe) => Some(start(&exe)),
            None => super::broker::missing_peer("OctoPrint"),
        })
        .as_ref()
}

fn run(exe: &PathBuf, args: &[&str]) {
    let status = Command::new(exe)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("run octoprint");
    assert!(status.success(), "octoprint {args:?} failed");
}

fn start(exe: &PathBuf) -> OctoPrint {
    let basedir = std::env::temp_dir().join(format!("printdesk-octoprint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&basedir);
    std::fs::create_dir_all(&basedir).expect("a basedir");
    let b = basedir.to_str().expect("a UTF-8 temporary path");
    // Offline: the online check points at a closed local port, every plugin that fetches from
    // the internet is disabled (§7.1 "Network attempts").
    run(
        exe,
        &[
            "-b",
            b,
            "config",
            "set",
            "--json",
            "server",
            r#"{"firstRun": false, "onlineCheck": {"enabled": true, "host": "127.0.0.1", "port": 9}, "pluginBlacklist": {"enabled": false}, "pythonEolCheck": {"enabled": false}}"#,
        ],
    );
    run(
        exe,
        &[
            "-b",
            b,
            "config",
            "set",
            "--json",
            "plugins",
            r#"{"_disabled": ["discovery","announcements","softwareupdate","pluginmanager","tracking","errortracking","health_check"], "virtual_printer": {"enabled": true}, "tracking": {"enabled": false}, "errortracking": {"enabled": false}}"#,
        ],
    );
    run(
        exe,
        &[
            "-b",
            b,
            "config",
            "set",
            "--json",
            "serial",
            r#"{"port": "VIRTUAL", "autoconnect": true}"#,
        ],
    );
    run(
        exe,
        &[
            "-b",
            b,
            "user",
            "add",
            "admin",
            "--password",
            "admin123",
            "--admin",
        ],
    );

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // `read` returns when this process's end of the pipe closes (at its exit, however it
    // exits); then the server is stopped.
    let script = format!(
        "'{exe}' serve --basedir '{b}' --host 127.0.0.1 --port {port} --iknowwhatimdoing \
         >'{b}/serve.log' 2>&1 & pid=$!; read _; kill $pid; wait $pid; rm -rf '{b}'",
        exe = exe.display()
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start OctoPrint");
    let base_url = format!("http://127.0.0.1:{port}");
    // A placeholder server answers 404 while OctoPrint starts: wait for 200 or 403.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let code = blocking_get(&format!("{base_url}/api/version"));
        if matches!(code, Some(200 | 403)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "OctoPrint did not start within 120 s (see {b}/serve.log)"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let api_key = std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(application_key(&base_url))
        })
        .join()
        .expect("make an application key")
    });
    OctoPrint {
        base_url,
        api_key,
        _watchdog: watchdog,
        _basedir: basedir,
    }
}

fn blocking_get(url: &str) -> Option<u16> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?
            .block_on(async { reqwest::get(&url).await.ok().map(|r| r.status().as_u16()) })
    })
    .join()
    .ok()
    .flatten()
}

/// An application key, made as a person would through OctoPrint's login: `GET /login` for
/// the CSRF and session cookies, `POST /api/login`, then `POST /api/plugin/appkeys`.
async fn application_key(base_url: &str) -> String {
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{base_url}/login"))
        .send()
        .await
        .expect("GET /login");
    let mut cookies = Vec::new();
    let mut csrf = String::new();
    for value in page.headers().get_all(reqwest::header::SET_COOKIE) {
        let pair = value
            .to_str()
            .expect("a cookie")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        if let Some(token) = pair
            .split_once('=')
            .filter(|(k, _)| k.starts_with("csrf_token"))
        {
            csrf = token.1.to_owned();
        }
        cookies.push(pair);
    }
    let post = |path: &str, body: Value, cookies: &Vec<String>| {
        http.post(format!("{base_url}{path}"))
            .header("X-CSRF-Token", &csrf)
            .header(reqwest::header::COOKIE, cookies.join("; "))
            .json(&body)
    };
    let login = post(
        "/api/login",
        json!({"user": "admin", "pass": "admin123", "remember": false}),
        &cookies,
    )
    .send()
    .await
    .expect("POST /api/login");
    assert!(login.status().is_success(), "login: {}", login.status());
    for value in login.headers().get_all(reqwest::header::SET_COOKIE) {
        let pair = value
            .to_str()
            .expect("a cookie")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let name = pair.split('=').next().unwrap_or_default().to_owned();
        cookies.retain(|c| !c.starts_with(&format!("{name}=")));
        cookies.push(pair);
    }
    let key: Value = post(
        "/api/plugin/appkeys",
        json!({"command": "generate", "app": "printdesk"}),
        &cookies,
    )
    .send()
    .await
    .expect("POST /api/plugin/appkeys")
    .json()
    .await
    .expect("the key as JSON");
    key["api_key"].as_str().expect("api_key").to_owned()
}

impl OctoPrint {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.base_url))
            .header("X-Api-Key", &self.api_key)
    }

    /// Uploads a G-code file of `moves` moves (the virtual printer runs ~10 lines/s).
    pub async fn upload(&self, name: &str, moves: usize) {
        let mut gcode = String::from("G28\nG90\n");
        for i in 0..moves {
            gcode.push_str(&format!(
                "G1 X{} Y{} F3000\n",
                10 + i % 50,
                10 + (i * 7) % 50
            ));
        }
        let boundary = "printdeskboundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{gcode}\r\n--{boundary}--\r\n"
        );
        let r = self
            .request(reqwest::Method::POST, "/api/files/local")
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status().as_u16(), 201, "upload of {name}");
    }

    /// Selects and prints an uploaded file, through OctoPrint's own API. OctoPrint answers 409
    /// while its virtual printer is still busy ending the previous print (seen on a loaded
    /// machine): then it asks again, for up to 30 s.
    pub async fn print(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self
                .request(reqwest::Method::POST, &format!("/api/files/local/{name}"))
                .json(&json!({"command": "select", "print": true}))
                .send()
                .await
                .expect("start a print");
            if r.status().as_u16() == 409 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            assert_eq!(r.status().as_u16(), 204, "start {name}");
            return;
        }
    }

    /// `POST /api/job` with `command` (`pause` with an `action`, `cancel`).
    pub async fn job_command(&self, body: Value) {
        let r = self
            .request(reqwest::Method::POST, "/api/job")
            .json(&body)
            .send()
            .await
            .expect("a job command");
        assert_eq!(r.status().as_u16(), 204, "{body}");
    }

    /// `GET /api/job`.
    pub async fn job(&self) -> Value {
        self.request(reqwest::Method::GET, "/api/job")
            .send()
            .await
            .expect("GET /api/job")
            .json()
            .await
            .expect("JSON")
    }

    /// Waits until OctoPrint's job state is `state` (`Printing`, `Paused`, …).
    pub async fn wait_for_state(&self, state: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while self.job().await["state"] != state {
            assert!(
                tokio::time::Instant::now() < deadline,
                "OctoPrint's job did not reach {state}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Pauses the print. OctoPrint ignores a pause sent while it is still starting the print
    /// (its own `PrintStarted` comes before that), so this waits for `Printing` and asks again
    /// until the job pauses.
    pub async fn pause(&self) {
        self.wait_for_state("Printing").await;
        for _ in 0..20 {
            self.job_command(json!({"command": "pause", "action": "pause"}))
                .await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
            while tokio::time::Instant::now() < deadline {
                let state = self.job().await["state"].clone();
                if state == "Paused" || state == "Pausing" {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("OctoPrint did not pause the print");
    }

    /// Resumes a paused print. OctoPrint answers 204 to a resume it then ignores while the
    /// virtual printer still works through the pause (seen in about one run of three, also
    /// after the job said `Paused`), so this asks again until the job prints.
    pub async fn resume(&self) {
        self.wait_for_state("Paused").await;
        for _ in 0..20 {
            self.job_command(json!({"command": "pause", "action": "resume"}))
                .await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
            while tokio::time::Instant::now() < deadline {
                if self.job().await["state"] != "Paused" {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("OctoPrint did not resume the print");
    }

    /// Makes sure nothing prints: cancels what a failed earlier test may have left running
    /// or paused, and waits until the printer is idle.
    pub async fn ensure_idle(&self) {
        if self.job().await["state"] != "Operational" {
            let _ = self
                .request(reqwest::Method::POST, "/api/job")
                .json(&json!({"command": "cancel"}))
                .send()
                .await;
        }
        self.wait_until_operational().await;
    }

    /// Waits until OctoPrint's printer is idle (Operational) again.
    pub async fn wait_until_operational(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while self.job().await["state"] != "Operational" {
            assert!(
                tokio::time::Instant::now() < deadline,
                "OctoPrint did not finish the print"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
