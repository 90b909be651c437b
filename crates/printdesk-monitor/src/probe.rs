//! "Test connection" with the monitor's own connectors: one connection made exactly as the
//! monitor makes it (the same `connect_once`), followed until the printer's first status
//! report or its end, within the domain's limit, then dropped. Nothing it learns is kept: a
//! certificate seen on first use is not trusted, no status is published.

use std::time::Duration;

use async_trait::async_trait;
use printdesk_domain::{
    CONNECTION_TEST_LIMIT, ConnectionTester, ConnectionTrial, PrinterConnection, Secret,
    monitoring::PrinterReport,
};
use tokio::{sync::mpsc, time::Instant};

use crate::{
    Connection, ConnectionProblem, ConnectorEvent,
    backoff::Backoff,
    bambu,
    connector::Connections,
    fleet::{cannot_follow_kind, connector_settings},
    moonraker, octoprint, prusalink,
};

/// The [`ConnectionTester`] of the application: each kind's connector, once.
#[derive(Debug, Clone, Copy)]
pub struct ConnectorProbe {
    limit: Duration,
}

impl Default for ConnectorProbe {
    fn default() -> Self {
        Self {
            limit: CONNECTION_TEST_LIMIT,
        }
    }
}

impl ConnectorProbe {
    /// A probe that gives up after `limit` instead of [`CONNECTION_TEST_LIMIT`] (for tests of
    /// a printer that never answers).
    pub fn with_limit(limit: Duration) -> Self {
        Self { limit }
    }
}

/// What one connection showed.
enum Probed {
    /// Connected and signed in, with the first report if one came in time.
    Reached(Option<PrinterReport>),
    /// It ended, or never began, for this reason.
    Failed(ConnectionProblem),
}

#[async_trait]
impl ConnectionTester for ConnectorProbe {
    async fn try_connection(&self, connection: &PrinterConnection<Secret>) -> ConnectionTrial {
        let kind = connection.kind();
        let Some(connection) = connector_settings(connection.clone()) else {
            return ConnectionTrial::Unreachable(cannot_follow_kind(kind));
        };
        let credential = connection.credential();
        let probed = match connection {
            Connection::Bambu(settings) => probe(bambu::connections(settings), self.limit).await,
            Connection::OctoPrint(settings) => match crate::http_client() {
                Ok(http) => probe(octoprint::connections(settings, http), self.limit).await,
                Err(problem) => Probed::Failed(problem),
            },
            Connection::Prusalink(settings) => match crate::http_client() {
                Ok(http) => probe(prusalink::connections(settings, http), self.limit).await,
                Err(problem) => Probed::Failed(problem),
            },
            Connection::Moonraker(settings) => {
                probe(moonraker::connections(settings), self.limit).await
            }
        };
        match probed {
            Probed::Reached(report) => ConnectionTrial::Reached(report),
            Probed::Failed(problem) if problem.needs_a_person() => {
                ConnectionTrial::Refused(problem.sentence(credential))
            }
            Probed::Failed(problem) => ConnectionTrial::Unreachable(problem.sentence(credential)),
        }
    }
}

/// What an event of the connection decides: a report or the end answer the test; being
/// connected is noted.
fn note(event: ConnectorEvent, connected: &mut bool) -> Option<Probed> {
    match event {
        ConnectorEvent::Connected => {
            *connected = true;
            None
        }
        ConnectorEvent::Report(report) => Some(Probed::Reached(Some(report))),
        ConnectorEvent::Disconnected(problem) => Some(Probed::Failed(problem)),
        // A certificate seen on first use is not trusted by a test.
        ConnectorEvent::Connecting
        | ConnectorEvent::CertificateTrusted { .. }
        | ConnectorEvent::History(_) => None,
    }
}

/// Runs one connection until its first report, its end, or `limit`.
async fn probe(mut connections: impl Connections, limit: Duration) -> Probed {
    let (events, mut heard) = mpsc::channel(16);
    let mut backoff = Backoff::default();
    let deadline = Instant::now() + limit;
    let mut connected = false;
    let connection = connections.connect_once(&events, &mut backoff);
    tokio::pin!(connection);
    loop {
        tokio::select! {
            biased;
            Some(event) = heard.recv() => {
                if let Some(probed) = note(event, &mut connected) {
                    return probed;
                }
            }
            ended = &mut connection => {
                // What it said before it ended counts first: a report, then the reason.
                while let Ok(event) = heard.try_recv() {
                    if let Some(probed) = note(event, &mut connected) {
                        return probed;
                    }
                }
                return match ended {
                    Some(problem) => Probed::Failed(problem),
                    // Only when nobody listens, and this function does until it returns.
                    None => Probed::Failed(ConnectionProblem::Protocol("the connection ended".into())),
                };
            }
            () = tokio::time::sleep_until(deadline) => {
                return if connected {
                    Probed::Reached(None)
                } else {
                    Probed::Failed(ConnectionProblem::Unreachable(format!(
                        "no answer within {} s",
                        limit.as_secs_f64().ceil()
                    )))
                };
            }
        }
    }
}
