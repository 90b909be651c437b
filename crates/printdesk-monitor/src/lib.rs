//! # printdesk-monitor
//!
//! The printer monitor: an inbound adapter beside the HTTP API and the WebSocket. Each
//! connector speaks one printer protocol and turns what the printer says into
//! [`ConnectorEvent`]s — the connection's life and normalised
//! [`PrinterReport`](printdesk_domain::monitoring::PrinterReport)s; what a report means for the
//! printer's jobs is decided by the domain.
//!
//! - [`bambu`]: Bambu Lab's LAN MQTT over TLS (certificate trusted on first use or checked
//!   against a CA with the serial as its name), partial reports merged key by key.
//! - [`octoprint`]: OctoPrint's REST API on connect and its push socket after, with the
//!   file's `prints.last` as evidence of a print that ended while printdesk was away.
//! - [`prusalink`]: PrusaLink's `/api/v1/status` and `/api/v1/job`, polled, with HTTP digest
//!   authentication (or an API key on older firmware).
//!
//! - [`moonraker`]: Klipper through Moonraker's JSON-RPC WebSocket, its history `job_id` as
//!   the print's identity, and its job history on every (re)connect for the prints that
//!   ended while printdesk was away.
//!
//! [`ConnectorProbe`] is the domain's `ConnectionTester` ("Test connection" in the printer
//! dialog) on the same connectors: one connection until the first status, nothing kept.
//!
//! With the `simulator` feature, [`simulator`] has a simulated Bambu Lab printer that publishes
//! scripted prints on a real MQTT broker, for tests and benchmarks.

pub mod backoff;
pub mod bambu;
mod connector;
mod fleet;
mod metrics;
pub mod moonraker;
pub mod octoprint;
mod probe;
pub mod prusalink;
#[cfg(feature = "simulator")]
pub mod simulator;
mod supervisor;

pub use connector::{ConnectionProblem, ConnectorEvent, http_client};
pub use fleet::{FleetMonitor, FleetParts};
pub use metrics::MonitorMetrics;
pub use probe::ConnectorProbe;
pub use supervisor::{Connection, FollowedPrinter, MonitorTarget, PrinterWatch, Supervisor};
