//! `printdesk_printer_*`: what the monitor counts, exposed on `/metrics`.

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::ConnectionProblem;

/// The monitor's metrics, by printer. Cheap to clone; clones share the counters.
#[derive(Debug, Clone)]
pub struct MonitorMetrics {
    online: IntGaugeVec,
    reports: IntCounterVec,
    connections: IntCounterVec,
    errors: IntCounterVec,
}

impl Default for MonitorMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl MonitorMetrics {
    /// Counters at zero, registered nowhere yet.
    pub fn new() -> Self {
        let by_printer = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help), &["printer"]).expect("valid metric")
        };
        Self {
            online: IntGaugeVec::new(
                Opts::new(
                    "printdesk_printer_online",
                    "1 while this instance hears from the printer, 0 while it cannot reach it.",
                ),
                &["printer"],
            )
            .expect("valid metric"),
            reports: by_printer(
                "printdesk_printer_reports_total",
                "Reports received from the printer.",
            ),
            connections: by_printer(
                "printdesk_printer_connections_total",
                "Connections made to the printer (the first and every reconnect).",
            ),
            errors: IntCounterVec::new(
                Opts::new(
                    "printdesk_printer_errors_total",
                    "Connections to the printer that ended or failed, by why: credentials, \
                     certificate, unreachable, protocol.",
                ),
                &["printer", "error"],
            )
            .expect("valid metric"),
        }
    }

    /// Adds the metrics to `registry` (the one `/metrics` exposes).
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.online.clone()))?;
        registry.register(Box::new(self.reports.clone()))?;
        registry.register(Box::new(self.connections.clone()))?;
        registry.register(Box::new(self.errors.clone()))?;
        Ok(())
    }

    pub(crate) fn connected(&self, printer: &str) {
        self.connections.with_label_values(&[printer]).inc();
        self.online.with_label_values(&[printer]).set(1);
    }

    pub(crate) fn report(&self, printer: &str) {
        self.reports.with_label_values(&[printer]).inc();
    }

    pub(crate) fn disconnected(&self, printer: &str, problem: &ConnectionProblem) {
        let kind = match problem {
            ConnectionProblem::CredentialsRefused => "credentials",
            ConnectionProblem::CertificateChanged { .. }
            | ConnectionProblem::CertificateInvalid(_) => "certificate",
            ConnectionProblem::Unreachable(_) => "unreachable",
            ConnectionProblem::Protocol(_) => "protocol",
        };
        self.errors.with_label_values(&[printer, kind]).inc();
        self.online.with_label_values(&[printer]).set(0);
    }

    /// The printer is no longer followed here: its series go (another instance, or none,
    /// reports it now).
    pub(crate) fn forget(&self, printer: &str) {
        let _ = self.online.remove_label_values(&[printer]);
    }
}
