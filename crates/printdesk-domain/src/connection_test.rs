//! "Test connection": whether printdesk reaches a printer with the settings a person is typing,
//! before anything is saved. The printer dialog asks it; the monitor's connectors answer it
//! through the [`ConnectionTester`] port, with the same sentences the printer's live status uses.

use std::{fmt::Debug, sync::Arc, time::Duration};

use async_trait::async_trait;
use serde::Serialize;

use crate::{
    connection::PrinterConnection,
    errors::StoreError,
    monitoring::{PRINTER_ERROR_MESSAGE, PrinterReport, PrinterState},
    printer_patch::ConnectionPatch,
    secret::{SealError, Secret},
    service::PrinterService,
    validation::ValidationErrors,
};

/// How long a test may take, connecting, signing in and reading one status together: a person
/// is waiting in front of the dialog.
pub const CONNECTION_TEST_LIMIT: Duration = Duration::from_secs(10);

/// What one try to reach a printer found.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionTrial {
    /// Connected and signed in; `report` is the first status the printer gave, `None` when it
    /// gave none within [`CONNECTION_TEST_LIMIT`].
    Reached(Option<PrinterReport>),
    /// The printer answered but refused printdesk, in a way a person must act on: credentials
    /// refused, a certificate other than the trusted one or not valid. The sentence is the one
    /// the printer's status `error` would show ("access code refused", "certificate changed …").
    Refused(String),
    /// Nothing usable answered: nothing listens, no answer within the limit, the connection
    /// dropped, or the peer does not speak the protocol. The sentence says which, as the
    /// printer's status `error` would.
    Unreachable(String),
}

/// The port that tries a printer connection once, the way the monitor connects to it.
///
/// An implementation:
/// - MUST connect to the connection's address, sign in with its secrets and wait for the
///   printer's first status report, exactly as the monitor's connector for the kind does
///   (the same code, so that a test that passes means the monitor will follow the printer);
/// - MUST answer within [`CONNECTION_TEST_LIMIT`]: a printer that says nothing by then is
///   [`ConnectionTrial::Unreachable`], or [`ConnectionTrial::Reached`] without a report when it
///   connected and signed in but sent no status;
/// - MUST NOT change anything: no certificate trusted on first use, no status published, no job
///   recorded. A Bambu Lab connection with a trusted fingerprint that meets another certificate
///   MUST be [`ConnectionTrial::Refused`] with the monitor's "certificate changed" sentence;
/// - MUST contact no address other than the connection's, and MUST NOT put a secret in a
///   sentence or a log line.
#[async_trait]
pub trait ConnectionTester: Send + Sync + Debug {
    /// Tries `connection` once.
    async fn try_connection(&self, connection: &PrinterConnection<Secret>) -> ConnectionTrial;
}

/// What to test: a connection as a client sends it for a new printer, and the printer whose
/// stored secrets stand in for the secrets the client did not type.
///
/// Secrets (and a Bambu Lab printer's trusted certificate fingerprint) are taken from the
/// stored printer only when the connection is of the stored kind and leaves them out; `null`
/// for one tests without it. For PrusaLink the stored password is used with a `username`, the
/// stored API key without one. Every other setting is as given: nothing else comes from the
/// stored printer, so a setting the client cleared is tested as cleared.
///
/// With the `openapi` feature this is also the document's `ConnectionTestRequest` schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Read by utoipa only: `additionalProperties: false`, since the adapter refuses other members.
#[cfg_attr(feature = "openapi", serde(deny_unknown_fields))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A connection to test (`POST /printers/test`). Any other member is \
refused (400).",
        example = json!({
            "connection": { "kind": "bambu_lab", "host": "192.168.1.50",
                            "serial": "01S00C123456789" },
            "printer_id": "bambu-x1c-1"
        })
    )
)]
pub struct ConnectionTestRequest {
    /// The settings, as for a new printer (`kind` and the kind's required settings); secrets
    /// left out are taken from `printer_id`'s stored connection of the same kind.
    #[cfg_attr(feature = "openapi", schema(value_type = ConnectionPatch))]
    pub connection: Option<ConnectionPatch>,
    /// An existing printer whose stored secrets (and trusted certificate) fill in what the
    /// connection leaves out.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, required = false, pattern = "^[a-z0-9_-]{1,64}$")
    )]
    pub printer_id: Option<String>,
}

/// The answer to a connection test (`200` of `POST /printers/test`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({
        "reachable": false, "state": "error", "detail": "access code refused"
    }))
)]
pub struct ConnectionTest {
    /// Whether printdesk connected, signed in and (unless `state` is `unknown`) read the
    /// printer's status: the settings work.
    pub reachable: bool,
    /// The printer's state as its card would show it: `idle`, `printing`, … when reached,
    /// `unknown` when reached without a status, `error` when refused, `offline` when not
    /// reached.
    pub state: PrinterState,
    /// A sentence for the person testing: what printdesk found, or why it failed, in the words
    /// of the printer's status `error` ("access code refused", "certificate changed …").
    pub detail: String,
}

impl From<ConnectionTrial> for ConnectionTest {
    fn from(trial: ConnectionTrial) -> Self {
        match trial {
            ConnectionTrial::Reached(None) => Self {
                reachable: true,
                state: PrinterState::Unknown,
                detail: format!(
                    "printdesk reached the printer and signed in, but it sent no status within {} s",
                    CONNECTION_TEST_LIMIT.as_secs()
                ),
            },
            ConnectionTrial::Reached(Some(report)) => {
                let state = PrinterState::from(report.state);
                let doing = match state {
                    PrinterState::Printing => match &report.file {
                        Some(file) => format!("it is printing {file}"),
                        None => "it is printing".to_owned(),
                    },
                    PrinterState::Paused => "its print is paused".to_owned(),
                    PrinterState::Finished => "it is idle; its last print finished".to_owned(),
                    PrinterState::Failed => "it is idle; its last print failed".to_owned(),
                    PrinterState::Error => PRINTER_ERROR_MESSAGE.to_owned(),
                    _ => "it is idle".to_owned(),
                };
                Self {
                    reachable: true,
                    state,
                    detail: format!("printdesk reached the printer: {doing}"),
                }
            }
            ConnectionTrial::Refused(sentence) => Self {
                reachable: false,
                state: PrinterState::Error,
                detail: sentence,
            },
            ConnectionTrial::Unreachable(sentence) => Self {
                reachable: false,
                state: PrinterState::Offline,
                detail: sentence,
            },
        }
    }
}

/// Why a connection could not be tested. Nothing was tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestConnectionError {
    /// The settings (or `printer_id`) break a rule; each violation is named, as a printer's
    /// registration names them.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// A stored secret could not be opened for a reason other than another key.
    #[error(transparent)]
    Secrets(SealError),
    /// The store failed reading the printer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The "Test connection" use case: checks the settings as a registration would, fills in the
/// stored secrets, and has the [`ConnectionTester`] try them.
#[derive(Debug, Clone)]
pub struct ConnectionTests {
    printers: PrinterService,
    tester: Arc<dyn ConnectionTester>,
}

impl ConnectionTests {
    /// Wires the use case to the printers (for stored secrets) and the tester.
    pub fn new(printers: PrinterService, tester: Arc<dyn ConnectionTester>) -> Self {
        Self { printers, tester }
    }

    /// Tests `request`'s connection once; at most [`CONNECTION_TEST_LIMIT`] once the settings
    /// are checked.
    pub async fn test(
        &self,
        request: ConnectionTestRequest,
    ) -> Result<ConnectionTest, TestConnectionError> {
        let connection = self.printers.connection_to_test(request).await?;
        Ok(self.tester.try_connection(&connection).await.into())
    }
}
