//! What a connector tells the monitor: the connection's life and the printer's reports.

use std::time::Duration;

use printdesk_domain::monitoring::{HistoryEntry, PrinterReport};
use tokio::sync::mpsc;

use crate::backoff::Backoff;

/// One thing a connector observed, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectorEvent {
    /// Trying to reach the printer.
    Connecting,
    /// Connected and authenticated; the next report is the first of this connection (the
    /// domain reconciles on it instead of taking it for the start of a print).
    Connected,
    /// The printer's TLS certificate was trusted on first use; its SHA-256 fingerprint
    /// (lower-case hex) is to be stored so that a later different certificate is refused.
    CertificateTrusted {
        /// SHA-256 of the certificate's DER, lower-case hex.
        fingerprint: String,
    },
    /// The printer's own job history (Moonraker), newest last, sent after `Connected` and
    /// before the connection's first report of a print (a Moonraker whose Klipper is shut
    /// down reports that error first): the prints that may have started and ended while
    /// printdesk was not watching (the domain's `decide_history` records them).
    History(Vec<HistoryEntry>),
    /// What the printer reports, with partial updates already merged.
    Report(PrinterReport),
    /// The connection ended or could not be made; the connector tries again after a back-off.
    Disconnected(ConnectionProblem),
}

/// Why a connection ended or could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionProblem {
    /// The printer refused the credentials (Bambu access code, API key, password).
    CredentialsRefused,
    /// The printer presented another certificate than the one trusted before.
    CertificateChanged {
        /// The fingerprint now presented.
        presented: String,
    },
    /// The certificate does not verify against the configured CA for the printer's serial.
    CertificateInvalid(String),
    /// The printer could not be reached (refused, timed out, no route), or the connection
    /// dropped.
    Unreachable(String),
    /// The printer answered something the protocol does not allow.
    Protocol(String),
}

impl ConnectionProblem {
    /// A sentence for the printer's status `error` (the contract's examples: "access code
    /// refused", "certificate changed").
    pub fn sentence(&self, credential: &str) -> String {
        match self {
            Self::CredentialsRefused => format!("{credential} refused"),
            Self::CertificateChanged { presented } => format!(
                "certificate changed (now {}…); clear the stored fingerprint to trust the new one",
                &presented[..presented.len().min(16)]
            ),
            Self::CertificateInvalid(why) => format!("certificate not valid: {why}"),
            Self::Unreachable(why) => format!("printer not reachable: {why}"),
            Self::Protocol(why) => format!("unexpected answer from the printer: {why}"),
        }
    }

    /// Whether retrying soon can help: refused credentials and a changed certificate need a
    /// person to act, so the monitor retries those slowly.
    pub fn needs_a_person(&self) -> bool {
        matches!(
            self,
            Self::CredentialsRefused
                | Self::CertificateChanged { .. }
                | Self::CertificateInvalid(_)
        )
    }
}

/// One connector's connections: each call makes one, follows it until it ends and says why,
/// or `None` when the monitor stopped listening. It keeps what it learnt across calls.
pub(crate) trait Connections {
    /// One connection; resets `backoff` once connected.
    async fn connect_once(
        &mut self,
        events: &mpsc::Sender<ConnectorEvent>,
        backoff: &mut Backoff,
    ) -> Option<ConnectionProblem>;
}

/// The life every connector shares: say `Connecting`, run one connection until it ends, say
/// why it ended, wait a back-off (a minute at least when a person must act: retrying a
/// refused access code every second helps nobody, and some firmware locks its LAN mode after
/// repeated failures), again. Ends when the monitor stops listening.
pub(crate) async fn reconnect_forever(
    mut connections: impl Connections,
    events: mpsc::Sender<ConnectorEvent>,
) {
    let mut backoff = Backoff::default();
    loop {
        if events.send(ConnectorEvent::Connecting).await.is_err() {
            return;
        }
        let Some(problem) = connections.connect_once(&events, &mut backoff).await else {
            return;
        };
        let slow = problem.needs_a_person();
        if events
            .send(ConnectorEvent::Disconnected(problem))
            .await
            .is_err()
        {
            return;
        }
        let mut wait = backoff.next_wait();
        if slow {
            wait = wait.max(Duration::from_secs(60));
        }
        tokio::time::sleep(wait).await;
    }
}

/// Describes an HTTP error with its causes ("connection refused"), without secrets: they
/// travel in headers, never in the URL.
/// A failure to connect at all is said as what it means to a person: "nothing answers at
/// 10.0.0.5:80 (connection refused)".
pub(crate) fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let address = e
        .url()
        .and_then(|url| Some((url.host_str()?.to_owned(), url.port_or_known_default()?)));
    if let Some((host, port)) = &address {
        let mut source = e.source();
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>()
                && let Some(said) = unreachable_at(host, *port, io)
            {
                return said;
            }
            source = cause.source();
        }
        if e.is_timeout() {
            return format!("no answer from {host}:{port} in time");
        }
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a TCP/TLS failure at `host:port` means to a person: "nothing answers at
/// 10.0.0.5:8883 (connection refused)" when nothing listens or the address has no route, else
/// the error's own words.
pub(crate) fn describe_io(host: &str, port: u16, error: &std::io::Error) -> String {
    unreachable_at(host, port, error).unwrap_or_else(|| error.to_string())
}

fn unreachable_at(host: &str, port: u16, error: &std::io::Error) -> Option<String> {
    use std::io::ErrorKind::{
        ConnectionRefused, HostUnreachable, NetworkUnreachable, NotFound, TimedOut,
    };
    matches!(
        error.kind(),
        ConnectionRefused | HostUnreachable | NetworkUnreachable | TimedOut | NotFound
    )
    .then(|| format!("nothing answers at {host}:{port} ({})", error.kind()))
}

/// What a failure to open the WebSocket at `url` (`ws://host:port/path`) means to a person,
/// as [`describe_io`] says it for a connection that could not be made.
pub(crate) fn describe_socket(url: &str, e: &tokio_tungstenite::tungstenite::Error) -> String {
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let (host, port) = authority
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse().ok()?)))
        .unwrap_or((authority, 80));
    match e {
        tokio_tungstenite::tungstenite::Error::Io(io) => describe_io(host, port, io),
        other => other.to_string(),
    }
}

/// The WebSocket URL at `path` of a peer reached at `base_url` (`http://host:port`, a path
/// prefix kept); `peer` names it in the refusal of anything but plain `http://`.
pub(crate) fn socket_url(
    base_url: &str,
    path: &str,
    peer: &str,
) -> Result<String, ConnectionProblem> {
    let base = base_url.trim_end_matches('/');
    let rest = base.strip_prefix("http://").ok_or_else(|| {
        ConnectionProblem::Protocol(format!(
            "{base} is not an http:// address (printdesk reaches {peer} over plain HTTP on the LAN)"
        ))
    })?;
    Ok(format!("ws://{rest}{path}"))
}

/// How long one HTTP request to a printer may take, connecting included.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client of the connectors that ask printers over HTTP (OctoPrint's REST API,
/// PrusaLink's polls). The supervisor makes one and hands it to every printer it follows: a
/// `reqwest::Client` is a connection pool with its resolver, and one per printer cost memory
/// for each of 500 printers (docs/performance.md, "Fleet monitoring"), while the shared pool
/// still keeps one keep-alive connection per printer. Not one client per process: a pooled
/// connection belongs to the runtime that opened it.
pub fn http_client() -> Result<reqwest::Client, ConnectionProblem> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .connect_timeout(HTTP_TIMEOUT)
        // A printer is asked every few seconds: its connection is kept longer than that, and
        // one idle connection per printer is all the polls need.
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build()
        .map_err(|e| ConnectionProblem::Protocol(describe(&e)))
}

/// The WebSocket settings of the connectors that follow a printer over a WebSocket (Moonraker,
/// OctoPrint's push socket). Their messages are a few KiB at most; tungstenite's default read
/// buffer of 128 KiB per connection was most of what each such printer cost.
pub(crate) fn websocket_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
}
