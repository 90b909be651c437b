//! A fake PrusaLink printer, built from PrusaLink's published OpenAPI description
//! (prusa3d/Prusa-Link-Web `spec/openapi.yaml`): `GET /api/v1/status` and `GET /api/v1/job`
//! answer in the shapes of its `StatusPrinter`, `StatusJob` and `Job` schemas (with the
//! spec's example values where a test does not care), 204 when there is no job, and the
//! spec's `digestAuth` security scheme is real HTTP digest authentication — as the Buddy
//! firmware does it (RFC 2069: MD5, no `qop`, the nonce reused until it goes stale, a right
//! digest with a nonce from before a reboot answered `stale=true`) or as RFC 7616 has it
//! (`qop=auth`, MD5 or SHA-256, the nonce count checked to go up) — or, as older firmware
//! does, an `X-Api-Key` header.
//!
//! No public PrusaLink v1 mock exists (`shared/printer-protocols.md` §5), hence this fake: a
//! small HTTP/1.1 server on tokio (keep-alive, GET only), on a free loopback port. The tests
//! drive the printer through its controls (start a job, progress, pause, resume, finish, stop,
//! go idle, the printer's state alone) and can reboot it: it stops listening (connections refused), and listens again on
//! the same port, having forgotten every nonce.
//!
//! The digest is checked here with its own computation (md-5, sha2), not with the
//! `digest_auth` crate the connector answers with, so the two sides check each other.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use serde_json::{Value, json};
use sha2::Digest as _;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};

/// The realm Prusa's firmware names.
const REALM: &str = "Printer API";

/// The user PrusaLink's digest knows.
pub const USERNAME: &str = "maker";

/// When the fake's files were last modified (the spec's example `m_timestamp`).
pub const M_TIMESTAMP: i64 = 1_648_042_843;

/// The hash a digest challenge asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    fn hash(self, text: &str) -> String {
        let bytes: Vec<u8> = match self {
            Self::Md5 => <md5::Md5 as md5::Digest>::digest(text.as_bytes()).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(text.as_bytes()).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Which digest the fake printer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestStyle {
    /// What Prusa's Buddy firmware sends (its HTTP server's own tests, Prusa-Firmware-Buddy
    /// nhttp): RFC 2069, MD5 without `qop`:
    /// `Digest realm="Printer API", nonce="…", stale=false`.
    Buddy,
    /// RFC 7616 with `qop="auth"`, a nonce count, and this hash.
    Rfc7616(Algorithm),
}

impl DigestStyle {
    fn algorithm(self) -> Algorithm {
        match self {
            Self::Buddy => Algorithm::Md5,
            Self::Rfc7616(algorithm) => algorithm,
        }
    }
}

/// How the fake printer wants to be authenticated.
#[derive(Debug, Clone)]
pub enum FakeAuth {
    /// Digest as `maker` with this password.
    Digest {
        password: String,
        style: DigestStyle,
    },
    /// Older firmware: this `X-Api-Key`.
    ApiKey(String),
}

/// The print the fake printer has, as `/api/v1/job` shows it.
#[derive(Debug, Clone)]
struct FakeJob {
    id: u64,
    state: &'static str,
    progress: f64,
    time_printing: i64,
    time_remaining: i64,
    display_name: String,
}

#[derive(Debug, Default)]
struct Nonces {
    /// Every nonce handed out since the printer (re)started, with the highest nonce count seen.
    issued: HashMap<String, u32>,
    /// Nonces the printer no longer accepts, to be answered with `stale=true`.
    stale: Vec<String>,
    next: u64,
}

#[derive(Debug)]
struct State {
    printer: &'static str,
    job: Option<FakeJob>,
    next_job_id: u64,
    nonces: Nonces,
    challenges: u32,
    stale_challenges: u32,
    authenticated: u32,
}

#[derive(Debug)]
struct Shared {
    auth: FakeAuth,
    /// Part of every nonce, different on every boot (the firmware's nonce is a random half and a
    /// time half).
    boot_secret: Mutex<u32>,
    state: Mutex<State>,
}

/// A running fake printer.
#[derive(Debug)]
pub struct FakePrusaLink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for FakePrusaLink {
    fn drop(&mut self) {
        if let Some(server) = self.server.lock().unwrap().take() {
            server.abort();
        }
    }
}

impl FakePrusaLink {
    /// An idle printer (no job: `/api/v1/job` answers 204) on a free loopback port.
    pub async fn start(auth: FakeAuth) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("the port");
        let shared = Arc::new(Shared {
            auth,
            boot_secret: Mutex::new(fastrand::u32(..)),
            state: Mutex::new(State {
                printer: "IDLE",
                job: None,
                next_job_id: 1,
                nonces: Nonces::default(),
                challenges: 0,
                stale_challenges: 0,
                authenticated: 0,
            }),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        Self {
            addr,
            shared,
            server: Mutex::new(Some(server)),
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        change(&mut self.shared.state.lock().unwrap())
    }

    fn with_job(&self, change: impl FnOnce(&mut FakeJob)) {
        self.with(|s| change(s.job.as_mut().expect("a job")));
    }

    /// Starts printing `display_name` as a new job; returns its id.
    pub fn start_job(&self, display_name: &str) -> u64 {
        self.with(|s| {
            let id = s.next_job_id;
            s.next_job_id += 1;
            s.printer = "PRINTING";
            s.job = Some(FakeJob {
                id,
                state: "PRINTING",
                progress: 0.0,
                time_printing: 0,
                time_remaining: 600,
                display_name: display_name.to_owned(),
            });
            id
        })
    }

    /// The print got to `progress` per cent after `time_printing` seconds.
    pub fn progress(&self, progress: f64, time_printing: i64) {
        self.with_job(|job| {
            job.progress = progress;
            job.time_printing = time_printing;
            job.time_remaining = ((100.0 - progress) * 6.0) as i64;
        });
    }

    fn set(&self, printer: &'static str, job_state: &'static str) {
        self.with(|s| {
            s.printer = printer;
            s.job.as_mut().expect("a job").state = job_state;
        });
    }

    /// The printer's state alone, the job unchanged: `BUSY` while a print is prepared,
    /// `ATTENTION` while it waits for a person.
    pub fn printer_state(&self, state: &'static str) {
        self.with(|s| s.printer = state);
    }

    pub fn pause(&self) {
        self.set("PAUSED", "PAUSED");
    }

    pub fn resume(&self) {
        self.set("PRINTING", "PRINTING");
    }

    /// The print finished: `FINISHED` until the next job or [`FakePrusaLink::go_idle`].
    pub fn finish(&self) {
        self.with_job(|job| {
            job.progress = 100.0;
            job.time_remaining = 0;
        });
        self.set("FINISHED", "FINISHED");
    }

    /// Stopped on the printer (`DELETE /api/v1/job/{id}` or the knob): `STOPPED`.
    pub fn stop(&self) {
        self.set("STOPPED", "STOPPED");
    }

    /// The end was confirmed on the screen: `IDLE` and no job (204).
    pub fn go_idle(&self) {
        self.with(|s| {
            s.printer = "IDLE";
            s.job = None;
        });
    }

    /// Every nonce handed out so far is answered with `stale=true` from now on.
    pub fn expire_nonces(&self) {
        self.with(|s| {
            let issued: Vec<String> = s.nonces.issued.keys().cloned().collect();
            s.nonces.stale.extend(issued);
        });
    }

    /// How many challenges (401 with `WWW-Authenticate`) the printer sent.
    pub fn challenges(&self) -> u32 {
        self.with(|s| s.challenges)
    }

    /// How many of them said `stale=true`.
    pub fn stale_challenges(&self) -> u32 {
        self.with(|s| s.stale_challenges)
    }

    /// How many requests were let through.
    pub fn authenticated(&self) -> u32 {
        self.with(|s| s.authenticated)
    }

    /// The printer switches off: it stops listening and drops its connections, so connecting
    /// is refused.
    pub fn switch_off(&self) {
        if let Some(server) = self.server.lock().unwrap().take() {
            server.abort();
        }
    }

    /// The printer is back, on the same port, having forgotten every nonce.
    pub async fn switch_on(&self) {
        *self.shared.boot_secret.lock().unwrap() = fastrand::u32(..);
        self.with(|s| s.nonces = Nonces::default());
        // The old listener's port may linger for a moment after the abort.
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        *self.server.lock().unwrap() = Some(tokio::spawn(serve(listener, self.shared.clone())));
    }
}

/// Accepts connections until aborted; aborting drops the connections' tasks with it.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(connection(stream, shared.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One HTTP/1.1 connection: requests one after another until the client closes it.
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let response = respond(&shared, method, target, &headers);
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn http(status: &str, extra_headers: &[String], body: Option<&Value>) -> String {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for header in extra_headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    if !body.is_empty() {
        text.push_str("Content-Type: application/json\r\n");
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    text
}

fn respond(
    shared: &Shared,
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
) -> String {
    if let Some(refusal) = check_auth(shared, method, target, headers) {
        return refusal;
    }
    let state = shared.state.lock().unwrap();
    match (method, target) {
        ("GET", "/api/v1/status") => {
            // StatusPrinter with the spec's example telemetry; StatusJob while there is a job.
            let mut status = json!({
                "printer": {
                    "state": state.printer, "temp_nozzle": 214.9, "target_nozzle": 215.0,
                    "temp_bed": 59.5, "target_bed": 60.0, "axis_z": 0.5, "flow": 95, "speed": 100,
                    "fan_hotend": 420, "fan_print": 420,
                    "status_printer": {"ok": true, "message": "OK"},
                    "status_connect": {"ok": true, "message": "OK"},
                },
                "storage": {"path": "/usb/", "name": "usb", "read_only": false},
            });
            if let Some(job) = &state.job {
                status["job"] = json!({
                    "id": job.id, "progress": job.progress,
                    "time_remaining": job.time_remaining, "time_printing": job.time_printing,
                });
            }
            http("200 OK", &[], Some(&status))
        }
        ("GET", "/api/v1/job") => match &state.job {
            None => http("204 No Content", &[], None),
            Some(job) => http(
                "200 OK",
                &[],
                Some(&json!({
                    "id": job.id, "state": job.state, "progress": job.progress,
                    "time_remaining": job.time_remaining, "time_printing": job.time_printing,
                    "inaccurate_estimates": false,
                    "file": {
                        "name": short_name(&job.display_name), "display_name": job.display_name,
                        "path": "/usb", "display_path": "/USB", "size": 2_393_142,
                        "m_timestamp": M_TIMESTAMP,
                        "meta": {"bed_temperature": 60},
                        "refs": {"download": format!("/api/files/usb/{}/raw", short_name(&job.display_name))},
                    },
                })),
            ),
        },
        _ => http("404 Not Found", &[], None),
    }
}

/// The 8.3 name FAT gives a long one: `Benchy_0.4n.bgcode` → `BENCHY~1.BGC`.
pub fn short_name(display_name: &str) -> String {
    let (stem, extension) = display_name.rsplit_once('.').unwrap_or((display_name, ""));
    let stem: String = stem
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect();
    let extension: String = extension.chars().take(3).collect();
    format!(
        "{}~1.{}",
        stem.to_ascii_uppercase(),
        extension.to_ascii_uppercase()
    )
}

/// `None` when the request may pass; else the 401 to send.
fn check_auth(
    shared: &Shared,
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
) -> Option<String> {
    let mut state = shared.state.lock().unwrap();
    match &shared.auth {
        FakeAuth::ApiKey(key) => {
            if headers.get("x-api-key") == Some(key) {
                state.authenticated += 1;
                None
            } else {
                Some(http(
                    "401 Unauthorized",
                    &["WWW-Authenticate: ApiKey".to_owned()],
                    None,
                ))
            }
        }
        FakeAuth::Digest { password, style } => {
            let verdict = headers
                .get("authorization")
                .and_then(|value| value.strip_prefix("Digest "))
                .map(|value| verify(&mut state.nonces, password, *style, method, target, value));
            match verdict {
                Some(Verdict::Valid) => {
                    state.authenticated += 1;
                    None
                }
                Some(Verdict::Stale) => Some(challenge(shared, &mut state, *style, true)),
                Some(Verdict::Invalid) | None => Some(challenge(shared, &mut state, *style, false)),
            }
        }
    }
}

enum Verdict {
    Valid,
    /// The digest is right for the password, but the nonce is not (any longer) accepted.
    Stale,
    Invalid,
}

fn challenge(shared: &Shared, state: &mut State, style: DigestStyle, stale: bool) -> String {
    let nonce = format!(
        "{:08x}{:08x}",
        *shared.boot_secret.lock().unwrap(),
        state.nonces.next
    );
    state.nonces.next += 1;
    state.nonces.issued.insert(nonce.clone(), 0);
    state.challenges += 1;
    if stale {
        state.stale_challenges += 1;
    }
    let header = match style {
        DigestStyle::Buddy => {
            format!("WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"{nonce}\", stale={stale}")
        }
        DigestStyle::Rfc7616(algorithm) => format!(
            "WWW-Authenticate: Digest realm=\"{REALM}\", qop=\"auth\", algorithm={}, \
             nonce=\"{nonce}\", opaque=\"c0ffee\"{}",
            algorithm.name(),
            if stale { ", stale=true" } else { "" },
        ),
    };
    http(
        "401 Unauthorized",
        &[header],
        Some(&json!({"title": "Unauthorized", "text": "Digest authentication required"})),
    )
}

/// The `key="value"` and `key=value` pairs of an `Authorization: Digest …` header.
fn parameters(value: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = value.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        out.insert(key, value.to_owned());
        rest = after.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    }
    out
}

/// Checks an answer to a challenge.
///
/// - RFC 2069 (the firmware): `response = H(H(user:realm:password):nonce:H(method:uri))`.
/// - RFC 7616 §3.4.1 with `qop=auth`:
///   `response = H(H(user:realm:password):nonce:nc:cnonce:auth:H(method:uri))`, and the nonce
///   count must go up from one request to the next (else it is a replay).
///
/// A right digest with a nonce this boot did not hand out, or one made stale, is stale: as
/// the firmware does after a reboot, so that the client retries without asking a person.
fn verify(
    nonces: &mut Nonces,
    password: &str,
    style: DigestStyle,
    method: &str,
    target: &str,
    value: &str,
) -> Verdict {
    let p = parameters(value);
    let get = |key: &str| p.get(key).map(String::as_str).unwrap_or("");
    let nonce = get("nonce");
    if get("username") != USERNAME || get("realm") != REALM || get("uri") != target {
        return Verdict::Invalid;
    }
    let algorithm = style.algorithm();
    if !p
        .get("algorithm")
        .is_none_or(|name| name.eq_ignore_ascii_case(algorithm.name()))
    {
        return Verdict::Invalid;
    }
    let ha1 = algorithm.hash(&format!("{USERNAME}:{REALM}:{password}"));
    let ha2 = algorithm.hash(&format!("{method}:{target}"));
    let (expected, nc) = match style {
        DigestStyle::Buddy => (algorithm.hash(&format!("{ha1}:{nonce}:{ha2}")), None),
        DigestStyle::Rfc7616(_) => {
            let (nc_hex, cnonce) = (get("nc"), get("cnonce"));
            let Ok(nc) = u32::from_str_radix(nc_hex, 16) else {
                return Verdict::Invalid;
            };
            if get("qop") != "auth" || cnonce.is_empty() {
                return Verdict::Invalid;
            }
            (
                algorithm.hash(&format!("{ha1}:{nonce}:{nc_hex}:{cnonce}:auth:{ha2}")),
                Some(nc),
            )
        }
    };
    if get("response") != expected {
        return Verdict::Invalid;
    }
    let Some(&last_nc) = nonces.issued.get(nonce) else {
        return Verdict::Stale;
    };
    if nonces.stale.iter().any(|stale| stale == nonce) {
        return Verdict::Stale;
    }
    if let Some(nc) = nc {
        if nc <= last_nc {
            return Verdict::Invalid;
        }
        nonces.issued.insert(nonce.to_owned(), nc);
    }
    Verdict::Valid
}
