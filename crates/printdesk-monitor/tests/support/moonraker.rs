//! A real Moonraker (`moonraker` from PyPI, pinned by `just test-printers`) in front of the
//! suite's stand-in for Klippy's API socket (`klippy_standin.py`), set up offline as
//! `shared/printer-protocols.md` §7.2 describes.
//!
//! Found while writing the suite: Moonraker 0.11.0 records a print in its history only once
//! some client subscribed to printer objects after Klippy became ready. Its `job_state` keeps
//! the very dict of its first `print_stats` subscription that the status cache then updates in
//! place, so it never sees the state change to `printing` (a later subscription replaces the
//! cache's dict). The tests connect the connector before the first print, as a Mainsail or
//! Fluidd page would be.
//!
//! Each [`Moonraker`] is a data directory, a stand-in and a Moonraker, stopped when it is
//! dropped or when the test process exits, however it exits: both run under a shell that
//! kills them as soon as the test process's end of a pipe closes.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The Moonraker version the suite is written against.
pub const VERSION: &str = "0.11.0";

/// How long the stand-in's prints take.
pub const PRINT_SECONDS: f64 = 3.0;

/// A running Moonraker with its stand-in Klippy.
#[derive(Debug)]
pub struct Moonraker {
    pub base_url: String,
    /// The API key, when Moonraker was started with `[authorization]` and no trusted clients.
    pub api_key: Option<String>,
    watchdog: Child,
    datadir: PathBuf,
}

impl Drop for Moonraker {
    // Closing the watchdog's stdin ends its `read`: it stops Moonraker and the stand-in.
    fn drop(&mut self) {
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
        if std::thread::panicking() {
            // Kept for the failing test: Moonraker's log and the stand-in's conversation.
            eprintln!("Moonraker's data directory: {}", self.datadir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.datadir);
        }
    }
}

/// The `moonraker` executable: `PRINTDESK_TEST_MOONRAKER`, or the virtualenv that
/// `just test-printers` makes.
fn executable() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PRINTDESK_TEST_MOONRAKER") {
        return Some(PathBuf::from(path));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let path = cache.join(format!("printdesk/moonraker-{VERSION}/bin/moonraker"));
    path.exists().then_some(path)
}

/// Starts a Moonraker, trusting 127.0.0.1 or (`with_api_key`) requiring its API key;
/// `None` (after a message) when Moonraker is not installed and the suite may skip.
pub fn start(with_api_key: bool) -> Option<Moonraker> {
    let Some(exe) = executable() else {
        return super::missing_peer("Moonraker");
    };
    Some(launch(&exe, with_api_key))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn launch(exe: &Path, with_api_key: bool) -> Moonraker {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let datadir =
        std::env::temp_dir().join(format!("printdesk-moonraker-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&datadir);
    for dir in [
        "config", "logs", "misc", "comms", "gcodes", "database", "tmp",
    ] {
        std::fs::create_dir_all(datadir.join(dir)).expect("Moonraker's data directory");
    }
    // Offline: an empty usb.ids, or the machine component fetches it at start (§7.2).
    std::fs::write(datadir.join("misc/usb.ids"), "").expect("usb.ids");
    let d = datadir.to_str().expect("a UTF-8 temporary path").to_owned();
    let port = free_port();
    let trusted = if with_api_key {
        ""
    } else {
        "trusted_clients:\n  127.0.0.1\n"
    };
    std::fs::write(
        datadir.join("config/moonraker.conf"),
        format!(
            "[server]\nhost: 127.0.0.1\nport: {port}\nklippy_uds_address: {d}/comms/klippy.sock\n\
             [authorization]\n{trusted}[announcements]\nenable_moonlight: False\n[history]\n"
        ),
    )
    .expect("moonraker.conf");
    let standin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/klippy_standin.py");
    // Each Moonraker gets its own TMPDIR: uploads go through `moonraker.upload-<n>.mru` in
    // it, numbered per process, so two Moonrakers uploading at once would share a file.
    // `read` returns when this process's end of the pipe closes (at its exit, however it
    // exits, or when the Moonraker is dropped); then both are stopped.
    let script = format!(
        "python3 '{standin}' '{d}/comms/klippy.sock' '{d}/gcodes' --print-seconds {PRINT_SECONDS} \
         >'{d}/standin.log' 2>&1 & k=$!; \
         TMPDIR='{d}/tmp' '{exe}' -d '{d}' >'{d}/moonraker.out' 2>&1 & m=$!; \
         read _; kill $m $k; wait $m $k",
        standin = standin.display(),
        exe = exe.display()
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start Moonraker");
    let base_url = format!("http://127.0.0.1:{port}");
    let mut moonraker = Moonraker {
        base_url,
        api_key: None,
        watchdog,
        datadir,
    };
    if with_api_key {
        // Moonraker makes its key on first start; its own tool reads it from the database.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(key) = fetch_api_key(exe, &moonraker.datadir) {
                moonraker.api_key = Some(key);
                break;
            }
            assert!(Instant::now() < deadline, "no Moonraker API key (see {d})");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    moonraker.wait_until_ready();
    moonraker
}

/// Moonraker's `scripts/fetch-apikey.sh`, run with Moonraker's own virtualenv.
fn fetch_api_key(exe: &Path, datadir: &Path) -> Option<String> {
    let venv = exe.parent()?.parent()?;
    let package = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import moonraker, os; print(os.path.dirname(moonraker.__file__))",
        ])
        .output()
        .ok()?;
    let package = String::from_utf8(package.stdout).ok()?;
    let script = Path::new(package.trim()).join("scripts/fetch-apikey.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("-e")
        .arg(venv)
        .arg("-d")
        .arg(datadir.join("database"))
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let key = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()))
        .then_some(key)
}

impl Moonraker {
    fn blocking<T: Send>(&self, f: impl std::future::Future<Output = T> + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(f)
            })
            .join()
            .expect("a request")
        })
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let info = self.blocking(async { self.get("/server/info").await.ok() });
            if info
                .as_ref()
                .is_some_and(|i| i["result"]["klippy_state"] == "ready")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Moonraker's Klippy was not ready within 60 s (see {})",
                self.datadir.display()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = reqwest::Client::new().request(method, format!("{}{path}", self.base_url));
        match &self.api_key {
            Some(key) => request.header("X-Api-Key", key),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> Result<Value, reqwest::Error> {
        self.request(reqwest::Method::GET, path)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    /// Uploads a small G-code file (`POST /server/files/upload`).
    pub async fn upload(&self, name: &str) {
        let boundary = "printdeskboundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\nG28\nG1 X10 Y10\n\r\n--{boundary}--\r\n"
        );
        let r = self
            .request(reqwest::Method::POST, "/server/files/upload")
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload");
        assert!(r.status().is_success(), "upload of {name}: {}", r.status());
    }

    /// `POST /printer/print/start` (Moonraker's `printer.print.start`).
    pub async fn print(&self, name: &str) {
        let r = self
            .request(
                reqwest::Method::POST,
                &format!("/printer/print/start?filename={name}"),
            )
            .send()
            .await
            .expect("start a print");
        assert!(r.status().is_success(), "start {name}: {}", r.status());
    }

    /// `POST /printer/print/cancel` (Moonraker's `printer.print.cancel`).
    pub async fn cancel(&self) {
        let r = self
            .request(reqwest::Method::POST, "/printer/print/cancel")
            .send()
            .await
            .expect("cancel");
        assert!(r.status().is_success(), "cancel: {}", r.status());
    }

    /// `POST /printer/restart` (Moonraker's `printer.restart`): Klippy restarts.
    pub async fn restart_klippy(&self) {
        let r = self
            .request(reqwest::Method::POST, "/printer/restart")
            .send()
            .await
            .expect("restart");
        assert!(r.status().is_success(), "restart: {}", r.status());
    }

    /// `POST /printer/emergency_stop` (Moonraker's `printer.emergency_stop`): Klippy shuts
    /// down.
    pub async fn emergency_stop(&self) {
        let r = self
            .request(reqwest::Method::POST, "/printer/emergency_stop")
            .send()
            .await
            .expect("emergency stop");
        assert!(r.status().is_success(), "emergency stop: {}", r.status());
    }

    /// Moonraker's history, newest first (`GET /server/history/list`).
    pub async fn history(&self) -> Vec<Value> {
        let list = self.get("/server/history/list").await.expect("the history");
        list["result"]["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the newest history entry is a print of `file` that has ended.
    pub async fn wait_until_ended(&self, file: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(newest) = self.history().await.into_iter().next()
                && newest["filename"] == file
                && newest["status"] != "in_progress"
            {
                return newest;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "Moonraker's print did not end"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
