//! Bambu Lab printers over their LAN MQTT broker: TLS on port 8883, user `bblp`, the LAN
//! access code as password; reports on `device/{serial}/report`, requests on
//! `device/{serial}/request` (`shared/printer-protocols.md` §2.1).

mod report;
pub mod tls;

use std::{fmt, time::Duration};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, QoS,
    TlsConfiguration, Transport,
};
use tokio::sync::mpsc;

pub use report::BambuState;
pub use tls::Trust;

use crate::{
    backoff::Backoff,
    connector::{ConnectionProblem, Connections, ConnectorEvent, describe_io, reconnect_forever},
};

/// The MQTT user every Bambu Lab printer expects.
pub const USER: &str = "bblp";

/// The printer's TLS port.
pub const DEFAULT_PORT: u16 = 8883;

/// How long the TCP and TLS handshake with the printer may take.
const CONNECTION_TIMEOUT_S: u64 = 10;

/// Full reports with the AMS and the HMS list run to tens of KiB; rumqttc's default limit
/// (10 KiB) would drop the connection on the first one.
const MAX_PACKET: usize = 1024 * 1024;

/// How printdesk reaches one Bambu Lab printer.
#[derive(Clone, PartialEq, Eq)]
pub struct BambuSettings {
    /// The printer's address on the LAN (an IP address or a host name).
    pub host: String,
    /// The broker's port (8883).
    pub port: u16,
    /// The printer's serial: the topic's middle part and the certificate's name.
    pub serial: String,
    /// The LAN access code shown on the printer's screen.
    pub access_code: String,
    /// How the printer's certificate is checked.
    pub trust: Trust,
}

impl fmt::Debug for BambuSettings {
    // The access code is a secret: never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BambuSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("serial", &self.serial)
            .field("access_code", &"<redacted>")
            .field("trust", &self.trust)
            .finish()
    }
}

impl BambuSettings {
    fn report_topic(&self) -> String {
        format!("device/{}/report", self.serial)
    }

    fn request_topic(&self) -> String {
        format!("device/{}/request", self.serial)
    }
}

/// The request for a full report. Sent once per connection: P1 printers must not be asked
/// more often than every few minutes, and some ignore it (BambuStudio#4154), so the
/// connector works from deltas alone as well.
pub const PUSHALL: &str =
    r#"{"pushing":{"sequence_id":"0","command":"pushall","version":1,"push_target":1}}"#;

/// Follows one printer until the task is aborted: connects, reports, and reconnects after a
/// back-off whenever the connection ends. Stops when `events` is closed.
pub async fn follow(settings: BambuSettings, events: mpsc::Sender<ConnectorEvent>) {
    reconnect_forever(connections(settings), events).await;
}

/// The printer's connections, as [`follow`] makes them one after the other.
pub(crate) fn connections(settings: BambuSettings) -> Followed {
    // Kept across reconnects: a P1 that ignores `pushall` resends only what changes, so the
    // last known values are a better start than nothing.
    let state = BambuState::default();
    Followed { settings, state }
}

/// One connection, from connect to its end. `None` when the monitor stopped listening.
async fn connect_once(
    settings: &mut BambuSettings,
    state: &mut BambuState,
    events: &mpsc::Sender<ConnectorEvent>,
    backoff: &mut Backoff,
) -> Option<ConnectionProblem> {
    let (tls, observation) = match tls::client_config(&settings.trust, &settings.serial) {
        Ok(config) => config,
        Err(why) => return Some(ConnectionProblem::CertificateInvalid(why)),
    };
    let client_id = format!("printdesk-{}", uuid::Uuid::new_v4().simple());
    let mut options = MqttOptions::new(client_id, settings.host.clone(), settings.port);
    options
        .set_credentials(USER, settings.access_code.clone())
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET)
        .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    eventloop
        .network_options
        .set_connection_timeout(CONNECTION_TIMEOUT_S);
    loop {
        let event = match eventloop.poll().await {
            Ok(event) => event,
            Err(error) => {
                let observed = observation
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                return Some(problem(&error, &observed, settings));
            }
        };
        match event {
            Event::Incoming(Packet::ConnAck(_)) => {
                backoff.reset();
                let seen = observation
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .fingerprint
                    .clone();
                if let (
                    Trust::FirstUse {
                        fingerprint: pinned @ None,
                    },
                    Some(seen),
                ) = (&mut settings.trust, seen)
                {
                    *pinned = Some(seen.clone());
                    events
                        .send(ConnectorEvent::CertificateTrusted { fingerprint: seen })
                        .await
                        .ok()?;
                }
                events.send(ConnectorEvent::Connected).await.ok()?;
                // Queued: the event loop sends them as it polls on.
                let subscribed = client
                    .subscribe(settings.report_topic(), QoS::AtMostOnce)
                    .await;
                let asked = client
                    .publish(settings.request_topic(), QoS::AtMostOnce, false, PUSHALL)
                    .await;
                if let Err(e) = subscribed.and(asked) {
                    return Some(ConnectionProblem::Protocol(e.to_string()));
                }
            }
            Event::Incoming(Packet::Publish(message)) => {
                if state.merge(&message.payload)
                    && let Some(report) = state.report()
                {
                    events.send(ConnectorEvent::Report(report)).await.ok()?;
                }
            }
            _ => {}
        }
    }
}

/// What an MQTT error means for the printer's status.
fn problem(
    error: &ConnectionError,
    observed: &tls::Observed,
    settings: &BambuSettings,
) -> ConnectionProblem {
    match (&observed.refusal, error) {
        (Some(tls::Refusal::Changed), _) => ConnectionProblem::CertificateChanged {
            presented: observed.fingerprint.clone().unwrap_or_default(),
        },
        (Some(tls::Refusal::Invalid(why)), _) => ConnectionProblem::CertificateInvalid(why.clone()),
        (
            None,
            ConnectionError::ConnectionRefused(
                ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
            ),
        ) => ConnectionProblem::CredentialsRefused,
        (None, ConnectionError::ConnectionRefused(code)) => {
            ConnectionProblem::Protocol(format!("the broker refused the connection ({code:?})"))
        }
        (None, ConnectionError::Io(e)) => {
            ConnectionProblem::Unreachable(describe_io(&settings.host, settings.port, e))
        }
        (None, ConnectionError::NetworkTimeout) => ConnectionProblem::Unreachable(format!(
            "no answer from {}:{} within {} s",
            settings.host, settings.port, CONNECTION_TIMEOUT_S
        )),
        (None, other) => ConnectionProblem::Unreachable(other.to_string()),
    }
}

/// One printer's connections, with what they learnt: the pinned certificate and the merged
/// state.
pub(crate) struct Followed {
    settings: BambuSettings,
    state: BambuState,
}

impl Connections for Followed {
    async fn connect_once(
        &mut self,
        events: &mpsc::Sender<ConnectorEvent>,
        backoff: &mut Backoff,
    ) -> Option<ConnectionProblem> {
        connect_once(&mut self.settings, &mut self.state, events, backoff).await
    }
}
