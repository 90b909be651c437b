//! Klipper through Moonraker: JSON-RPC 2.0 over `ws://host:port/websocket`
//! (`shared/printer-protocols.md` §2.2, §7.2).
//!
//! On every (re)connect: `server.connection.identify` (with the API key when one is set),
//! `server.info` until Klippy is `ready`, `printer.objects.subscribe` on `print_stats` and
//! `virtual_sdcard`, and `server.history.list` (the newest [`HISTORY_LIMIT`] entries). The
//! connector then says [`ConnectorEvent::Connected`], hands the history over
//! ([`ConnectorEvent::History`]: the prints that may have started and ended while printdesk
//! was not watching) and reports. After that, `notify_status_update`s (merged) and
//! `notify_history_changed` (the print's `job_id` and end time) make the reports. Klippy shut
//! down is the printer's error ([`ReportedState::Error`]); Klippy disconnecting (a restart)
//! ends the connection, and the next one waits for it to be ready.

mod tracker;

use std::{collections::VecDeque, fmt, time::Duration};

use futures_util::{SinkExt, StreamExt};
use printdesk_domain::monitoring::{PrinterReport, ReportedState};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::mpsc, time::Instant};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

pub use tracker::PrintTracker;
use tracker::history_entry;

use crate::{
    backoff::Backoff,
    connector::{
        ConnectionProblem, Connections, ConnectorEvent, describe_socket, reconnect_forever,
        socket_url, websocket_config,
    },
};

/// Moonraker pushes `notify_proc_stat_update` every second: this long without any message
/// means the connection is dead even if TCP has not noticed.
const SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How many of the newest history entries are read on connect: the prints that may have
/// ended while printdesk was away (Mainsail reads 50 too).
pub const HISTORY_LIMIT: u32 = 50;

/// How printdesk reaches one Moonraker.
#[derive(Clone, PartialEq, Eq)]
pub struct MoonrakerSettings {
    /// `http://host:port` (Moonraker's port, 7125 by default).
    pub base_url: String,
    /// Moonraker's API key, when its `[authorization]` does not trust printdesk's address.
    pub api_key: Option<String>,
}

impl fmt::Debug for MoonrakerSettings {
    // The API key is a secret: never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoonrakerSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl MoonrakerSettings {
    fn socket_url(&self) -> Result<String, ConnectionProblem> {
        socket_url(&self.base_url, "/websocket", "Moonraker")
    }
}

/// Follows one Moonraker until the task is aborted: connects, reports, and reconnects after
/// a back-off whenever the connection ends. Stops when `events` is closed.
pub async fn follow(settings: MoonrakerSettings, events: mpsc::Sender<ConnectorEvent>) {
    reconnect_forever(connections(settings), events).await;
}

/// Moonraker's connections, as [`follow`] makes them one after the other.
pub(crate) fn connections(settings: MoonrakerSettings) -> Followed {
    let tracker = PrintTracker::default();
    Followed { settings, tracker }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A JSON-RPC connection: requests answered in order, notifications kept for later.
struct Rpc {
    socket: Socket,
    next_id: u64,
    notifications: VecDeque<Value>,
}

/// Whether a JSON-RPC error answering `method` means the credentials were refused.
/// Moonraker turns its HTTP 401 into JSON-RPC's -32602 ("invalid params"): `Invalid API
/// Key` for `server.connection.identify`, `Unauthorized` for a call made without a key
/// it accepts.
fn refused(method: &str, error: &Value) -> bool {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match error.get("code").and_then(Value::as_i64) {
        Some(401 | 403) => true,
        Some(-32602) => method == "server.connection.identify" || message == "Unauthorized",
        _ => false,
    }
}

impl Rpc {
    /// The next message, as JSON; a closed or silent socket is a problem.
    async fn message(&mut self) -> Result<Value, ConnectionProblem> {
        loop {
            let message = match tokio::time::timeout(SILENCE_LIMIT, self.socket.next()).await {
                Err(_) => {
                    return Err(ConnectionProblem::Unreachable(format!(
                        "no message from Moonraker for {} s",
                        SILENCE_LIMIT.as_secs()
                    )));
                }
                Ok(None) => {
                    return Err(ConnectionProblem::Unreachable(
                        "Moonraker closed the connection".into(),
                    ));
                }
                Ok(Some(Err(e))) => return Err(ConnectionProblem::Unreachable(e.to_string())),
                Ok(Some(Ok(message))) => message,
            };
            if let Message::Text(text) = message
                && let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(&text)
            {
                return Ok(value);
            }
        }
    }

    /// Calls `method`; its `result`, or the problem its `error` is.
    async fn call(&mut self, method: &str, params: Value) -> Result<Value, ConnectionProblem> {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id});
        self.socket
            .send(Message::text(request.to_string()))
            .await
            .map_err(|e| ConnectionProblem::Unreachable(e.to_string()))?;
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let message = tokio::time::timeout_at(deadline, self.message())
                .await
                .map_err(|_| {
                    ConnectionProblem::Unreachable(format!("Moonraker did not answer {method}"))
                })??;
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                if message.get("method").is_some() {
                    self.notifications.push_back(message);
                }
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(if refused(method, error) {
                    ConnectionProblem::CredentialsRefused
                } else {
                    ConnectionProblem::Protocol(format!(
                        "{method}: {}",
                        error
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("error")
                    ))
                });
            }
            return Ok(message.get("result").cloned().unwrap_or(Value::Null));
        }
    }

    /// The next notification (kept or new).
    async fn notification(&mut self) -> Result<Value, ConnectionProblem> {
        if let Some(kept) = self.notifications.pop_front() {
            return Ok(kept);
        }
        loop {
            let message = self.message().await?;
            if message.get("method").is_some() {
                return Ok(message);
            }
        }
    }
}

/// What a printer whose Klipper shut down (an emergency stop, a fault; it prints again only
/// after a restart) reports: its own error, not an unreachable printer.
fn klippy_error() -> PrinterReport {
    PrinterReport {
        state: ReportedState::Error,
        ..PrinterReport::idle()
    }
}

/// Waits until Klippy is ready behind Moonraker (`server.info`, `notify_klippy_ready`).
/// A Klippy that is shut down is reported as the printer's error meanwhile; returns whether
/// it was (the connection was then announced already).
async fn klippy_ready(
    rpc: &mut Rpc,
    events: &mpsc::Sender<ConnectorEvent>,
) -> Result<bool, ConnectionProblem> {
    let mut announced = false;
    loop {
        let info = rpc.call("server.info", json!({})).await?;
        match info.get("klippy_state").and_then(Value::as_str) {
            Some("ready") => return Ok(announced),
            Some("shutdown" | "error") if !announced => {
                announced = true;
                // A closed channel ends the connection at the next send.
                let _ = events.send(ConnectorEvent::Connected).await;
                let _ = events.send(ConnectorEvent::Report(klippy_error())).await;
            }
            _ => {}
        }
        // Asked again every 2 s, or as soon as Moonraker says Klippy is ready.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(n) = rpc.notification().await {
                if n.get("method").and_then(Value::as_str) == Some("notify_klippy_ready") {
                    return;
                }
            }
        })
        .await;
    }
}

/// One connection, from connect to its end. `None` when the monitor stopped listening.
async fn connect_once(
    settings: &MoonrakerSettings,
    tracker: &mut PrintTracker,
    events: &mpsc::Sender<ConnectorEvent>,
    backoff: &mut Backoff,
) -> Option<ConnectionProblem> {
    let url = match settings.socket_url() {
        Ok(url) => url,
        Err(problem) => return Some(problem),
    };
    let socket = match tokio_tungstenite::connect_async_with_config(
        url.as_str(),
        Some(websocket_config()),
        false,
    )
    .await
    {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            return Some(ConnectionProblem::CredentialsRefused);
        }
        Err(e) => return Some(ConnectionProblem::Unreachable(describe_socket(&url, &e))),
    };
    let mut rpc = Rpc {
        socket,
        next_id: 0,
        notifications: VecDeque::new(),
    };
    session(&mut rpc, settings, tracker, events, backoff)
        .await
        .err()
}

/// The connection after the socket opened. `Ok` when the monitor stopped listening.
async fn session(
    rpc: &mut Rpc,
    settings: &MoonrakerSettings,
    tracker: &mut PrintTracker,
    events: &mpsc::Sender<ConnectorEvent>,
    backoff: &mut Backoff,
) -> Result<(), ConnectionProblem> {
    let mut identify = json!({
        "client_name": "printdesk",
        "version": env!("CARGO_PKG_VERSION"),
        "type": "other",
        "url": env!("CARGO_PKG_REPOSITORY"),
    });
    if let Some(key) = &settings.api_key {
        identify["api_key"] = json!(key);
    }
    rpc.call("server.connection.identify", identify).await?;
    let announced = klippy_ready(rpc, events).await?;
    let subscribed = rpc
        .call(
            "printer.objects.subscribe",
            json!({"objects": {"print_stats": null, "virtual_sdcard": ["progress"]}}),
        )
        .await?;
    let listed = rpc
        .call(
            "server.history.list",
            json!({"limit": HISTORY_LIMIT, "order": "desc"}),
        )
        .await?;
    let mut history: Vec<_> = listed
        .get("jobs")
        .and_then(Value::as_array)
        .map(|jobs| jobs.iter().filter_map(history_entry).collect())
        .unwrap_or_default();
    history.reverse();
    let first = tracker.connected(
        subscribed.get("status").unwrap_or(&Value::Null),
        history.last().cloned(),
    );
    backoff.reset();
    let send = |event| async move { events.send(event).await.map_err(|_| ()) };
    let stopped = || Ok(());
    if (!announced && send(ConnectorEvent::Connected).await.is_err())
        || send(ConnectorEvent::History(history)).await.is_err()
    {
        return stopped();
    }
    if let Some(report) = first
        && send(ConnectorEvent::Report(report)).await.is_err()
    {
        return stopped();
    }

    loop {
        let notification = match tracker.waiting_until() {
            Some(until) => match tokio::time::timeout_at(until.into(), rpc.notification()).await {
                Ok(n) => n?,
                Err(_) => {
                    if let Some(report) = tracker.stop_waiting()
                        && send(ConnectorEvent::Report(report)).await.is_err()
                    {
                        return stopped();
                    }
                    continue;
                }
            },
            None => rpc.notification().await?,
        };
        let params = notification.get("params").and_then(|p| p.get(0));
        let report = match notification.get("method").and_then(Value::as_str) {
            Some("notify_status_update") => {
                params.and_then(|changed| tracker.status(changed, std::time::Instant::now()))
            }
            Some("notify_history_changed") => params.and_then(|p| {
                tracker.history_changed(
                    p.get("action").and_then(Value::as_str).unwrap_or_default(),
                    p.get("job").unwrap_or(&Value::Null),
                )
            }),
            Some("notify_klippy_disconnected") => {
                return Err(ConnectionProblem::Unreachable(
                    "Klipper disconnected from Moonraker".into(),
                ));
            }
            // Klipper comes back through a restart, which disconnects it from Moonraker.
            Some("notify_klippy_shutdown") => Some(klippy_error()),
            _ => None,
        };
        if let Some(report) = report
            && send(ConnectorEvent::Report(report)).await.is_err()
        {
            return stopped();
        }
    }
}

/// One Moonraker's connections, with what they learnt about its print.
pub(crate) struct Followed {
    settings: MoonrakerSettings,
    tracker: PrintTracker,
}

impl Connections for Followed {
    async fn connect_once(
        &mut self,
        events: &mpsc::Sender<ConnectorEvent>,
        backoff: &mut Backoff,
    ) -> Option<ConnectionProblem> {
        connect_once(&self.settings, &mut self.tracker, events, backoff).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_never_shows_in_debug_output() {
        let settings = MoonrakerSettings {
            base_url: "http://voron.local:7125".into(),
            api_key: Some("0123456789abcdef0123456789abcdef".into()),
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.contains("voron.local"), "{shown}");
    }

    #[test]
    fn the_socket_is_moonrakers_websocket_and_only_plain_http_is_taken() {
        let settings = |base_url: &str| MoonrakerSettings {
            base_url: base_url.into(),
            api_key: None,
        };
        assert_eq!(
            settings("http://voron.local:7125/").socket_url(),
            Ok("ws://voron.local:7125/websocket".into())
        );
        assert!(matches!(
            settings("voron.local:7125").socket_url(),
            Err(ConnectionProblem::Protocol(_))
        ));
    }

    #[test]
    fn moonrakers_unauthorized_answers_are_refused_credentials() {
        let error = |code: i64, message: &str| json!({"code": code, "message": message});
        assert!(refused(
            "server.connection.identify",
            &error(-32602, "Invalid API Key")
        ));
        assert!(refused("server.info", &error(-32602, "Unauthorized")));
        assert!(refused("server.info", &error(401, "Unauthorized")));
        assert!(!refused(
            "printer.objects.subscribe",
            &error(-32602, "bad objects")
        ));
        assert!(!refused("server.info", &error(500, "Unauthorized")));
    }
}
