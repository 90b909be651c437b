//! OctoPrint: the REST API for the state on connect (`/api/printer`, `/api/job`, a file's
//! `prints.last`) and the push socket (`/sockjs/websocket`) for everything after, authenticated
//! with a passive login's `user:session` (`shared/printer-protocols.md` §2.4, §7.1).

mod tracker;

use std::{fmt, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub use tracker::PrintTracker;
use tracker::{Flags, JobInfo, LastPrint};

use crate::{
    backoff::Backoff,
    connector::{
        ConnectionProblem, Connections, ConnectorEvent, describe, describe_socket, http_client,
        reconnect_forever, socket_url, websocket_config,
    },
};

/// OctoPrint sends `current` about twice a second; this long without any message means the
/// connection is dead even if TCP has not noticed.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// How printdesk reaches one OctoPrint server.
#[derive(Clone, PartialEq, Eq)]
pub struct OctoPrintSettings {
    /// `http://host:port` (a path prefix is kept: `http://host/octoprint`).
    pub base_url: String,
    /// An application key (Settings → Application Keys) or the user's API key.
    pub api_key: String,
}

impl fmt::Debug for OctoPrintSettings {
    // The API key is a secret: never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OctoPrintSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl OctoPrintSettings {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    fn socket_url(&self) -> Result<String, ConnectionProblem> {
        socket_url(&self.base_url, "/sockjs/websocket", "OctoPrint")
    }
}

/// Follows one OctoPrint server until the task is aborted: connects, reports, and reconnects
/// after a back-off whenever the connection ends. Stops when `events` is closed.
pub async fn follow(settings: OctoPrintSettings, events: mpsc::Sender<ConnectorEvent>) {
    match http_client() {
        Ok(http) => follow_with(settings, http, events).await,
        Err(problem) => {
            let _ = events.send(ConnectorEvent::Disconnected(problem)).await;
        }
    }
}

/// [`follow`] with an HTTP client shared with other printers ([`crate::http_client`]).
pub async fn follow_with(
    settings: OctoPrintSettings,
    http: reqwest::Client,
    events: mpsc::Sender<ConnectorEvent>,
) {
    reconnect_forever(connections(settings, http), events).await;
}

/// The server's connections, as [`follow`] makes them one after the other.
pub(crate) fn connections(settings: OctoPrintSettings, http: reqwest::Client) -> Followed {
    Followed {
        settings,
        http,
        tracker: PrintTracker::default(),
    }
}

/// The answer to a passive login: who the API key belongs to, and a session for the socket.
#[derive(Debug, Deserialize)]
struct PassiveLogin {
    name: String,
    session: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PrinterState {
    state: StateFlags,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StateFlags {
    flags: Flags,
}

#[derive(Debug, Deserialize)]
struct FileEntry {
    prints: Option<Prints>,
}

#[derive(Debug, Deserialize)]
struct Prints {
    last: Option<LastPrint>,
}

/// One connection, from connect to its end. `None` when the monitor stopped listening.
async fn connect_once(
    settings: &OctoPrintSettings,
    http: &reqwest::Client,
    tracker: &mut PrintTracker,
    events: &mpsc::Sender<ConnectorEvent>,
    backoff: &mut Backoff,
) -> Option<ConnectionProblem> {
    let get = |path: &str| {
        http.get(settings.url(path))
            .header("X-Api-Key", &settings.api_key)
            .send()
    };
    let refused = |status: reqwest::StatusCode, path: &str| {
        if matches!(status.as_u16(), 401 | 403) {
            ConnectionProblem::CredentialsRefused
        } else {
            ConnectionProblem::Protocol(format!("{path} answered {status}"))
        }
    };

    // An unknown key is not refused as such: OctoPrint treats the request as anonymous (403
    // on the API, 400 "CSRF validation failed" on the login). Ask something that needs a key.
    match get("/api/version").await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => return Some(refused(r.status(), "/api/version")),
        Err(e) => return Some(ConnectionProblem::Unreachable(describe(&e))),
    }
    let login = match http
        .post(settings.url("/api/login"))
        .header("X-Api-Key", &settings.api_key)
        .json(&json!({ "passive": true }))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => match r.json::<PassiveLogin>().await {
            Ok(login) => login,
            Err(e) => return Some(ConnectionProblem::Protocol(describe(&e))),
        },
        Ok(r) => return Some(refused(r.status(), "/api/login")),
        Err(e) => return Some(ConnectionProblem::Unreachable(describe(&e))),
    };
    let socket_url = match settings.socket_url() {
        Ok(url) => url,
        Err(problem) => return Some(problem),
    };
    let mut socket = match tokio_tungstenite::connect_async_with_config(
        socket_url.as_str(),
        Some(websocket_config()),
        false,
    )
    .await
    {
        Ok((socket, _)) => socket,
        Err(e) => {
            return Some(ConnectionProblem::Unreachable(describe_socket(
                &socket_url,
                &e,
            )));
        }
    };
    let auth = json!({ "auth": format!("{}:{}", login.name, login.session) }).to_string();
    if let Err(e) = socket.send(Message::text(auth)).await {
        return Some(ConnectionProblem::Unreachable(e.to_string()));
    }

    // The state now: the first report of this connection, which the domain reconciles with.
    let flags = match get("/api/printer").await {
        Ok(r) if r.status().is_success() => r
            .json::<PrinterState>()
            .await
            .map(|p| p.state.flags)
            .unwrap_or_default(),
        // 409: OctoPrint runs but its printer is not connected.
        Ok(r) if r.status().as_u16() == 409 => Flags {
            closed_or_error: true,
            ..Flags::default()
        },
        Ok(r) => return Some(refused(r.status(), "/api/printer")),
        Err(e) => return Some(ConnectionProblem::Unreachable(describe(&e))),
    };
    let job = match get("/api/job").await {
        Ok(r) if r.status().is_success() => r.json::<JobInfo>().await.unwrap_or_default(),
        Ok(r) => return Some(refused(r.status(), "/api/job")),
        Err(e) => return Some(ConnectionProblem::Unreachable(describe(&e))),
    };
    backoff.reset();
    events.send(ConnectorEvent::Connected).await.ok()?;
    let mut first = tracker.snapshot(flags, &job, std::time::Instant::now());
    let idle = first.as_ref().is_none_or(|r| {
        !r.state.is_active() && r.state != printdesk_domain::monitoring::ReportedState::Error
    });
    if idle && let Some(path) = tracker.file().map(str::to_owned) {
        // How the selected file's last print ended: evidence for a print that ended while
        // printdesk was not watching.
        let origin = job.job.file.origin.as_deref().unwrap_or("local");
        if let Ok(r) = get(&format!("/api/files/{origin}/{path}")).await
            && r.status().is_success()
            && let Ok(FileEntry {
                prints: Some(Prints { last: Some(last) }),
            }) = r.json().await
        {
            first = tracker.last_print(&last).or(first);
        }
    }
    if let Some(report) = first {
        events.send(ConnectorEvent::Report(report)).await.ok()?;
    }

    loop {
        let message = match tokio::time::timeout(SILENCE_LIMIT, socket.next()).await {
            Err(_) => {
                return Some(ConnectionProblem::Unreachable(format!(
                    "no message from OctoPrint for {} s",
                    SILENCE_LIMIT.as_secs()
                )));
            }
            Ok(None) => {
                return Some(ConnectionProblem::Unreachable(
                    "OctoPrint closed the push socket".into(),
                ));
            }
            Ok(Some(Err(e))) => return Some(ConnectionProblem::Unreachable(e.to_string())),
            Ok(Some(Ok(message))) => message,
        };
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let report = if let Some(current) = message.get("current") {
            let flags = current
                .pointer("/state/flags")
                .and_then(|f| Flags::deserialize(f).ok())
                .unwrap_or_default();
            let job = JobInfo::deserialize(current).unwrap_or_default();
            tracker.observe(flags, &job, std::time::Instant::now())
        } else if let Some(event) = message.get("event") {
            let kind = event
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            tracker.event(kind, event.get("payload").unwrap_or(&Value::Null))
        } else if message.contains_key("reauthRequired") {
            return Some(ConnectionProblem::Protocol(
                "OctoPrint asked to log in again".into(),
            ));
        } else {
            None
        };
        if let Some(report) = report {
            events.send(ConnectorEvent::Report(report)).await.ok()?;
        }
    }
}

/// One server's connections, with what they learnt about its print.
pub(crate) struct Followed {
    settings: OctoPrintSettings,
    http: reqwest::Client,
    tracker: PrintTracker,
}

impl Connections for Followed {
    async fn connect_once(
        &mut self,
        events: &mpsc::Sender<ConnectorEvent>,
        backoff: &mut Backoff,
    ) -> Option<ConnectionProblem> {
        connect_once(
            &self.settings,
            &self.http,
            &mut self.tracker,
            events,
            backoff,
        )
        .await
    }
}
