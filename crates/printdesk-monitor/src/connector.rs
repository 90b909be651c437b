//! What a connector tells the monitor: the connection's life and the printer's reports.

use printdesk_domain::monitoring::{HistoryEntry, PrinterReport};

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
