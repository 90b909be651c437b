//! The monitor as the application runs it: the printers this instance holds the lease of,
//! each followed by its protocol's connector, each connector's events handed to the domain's
//! [`MonitorSession`]. The translation from the domain's connection settings to the
//! connectors' happens here and nowhere else.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use printdesk_domain::{
    Clock, ConnectionKind, PrinterConnection, PrinterId, PrinterService, PrusalinkAuth, Secret,
    TlsFingerprint,
    monitoring::{
        LEASE_RENEWAL, LEASE_TERM, MonitorLeases, MonitorSession, PrinterMonitor, PrinterState,
        PrinterStatus, PrinterStatusPublisher,
    },
};

use crate::{
    Connection, ConnectorEvent, FollowedPrinter, MonitorTarget, PrinterWatch, Supervisor,
    bambu::{BambuSettings, Trust},
    metrics::MonitorMetrics,
    moonraker::MoonrakerSettings,
    octoprint::OctoPrintSettings,
    prusalink::{PrusaLinkAuth, PrusaLinkSettings},
};

/// What the fleet monitor needs from the rest of the application.
#[derive(Debug, Clone)]
pub struct FleetParts {
    /// Which printers to follow, with their connections' secrets opened; trusts Bambu
    /// certificates on first use.
    pub printers: PrinterService,
    /// The monitoring use case.
    pub monitor: PrinterMonitor,
    /// Where this instance's statuses go (also for printers it cannot follow).
    pub statuses: Arc<dyn PrinterStatusPublisher>,
    /// Who follows which printer, with several instances.
    pub leases: Arc<dyn MonitorLeases>,
    /// "now", for leases.
    pub clock: Arc<dyn Clock>,
    /// `printdesk_printer_*`.
    pub metrics: MonitorMetrics,
}

/// The running monitor. [`FleetMonitor::stop`] stops it and gives its printers up for other
/// instances at once.
#[derive(Debug)]
pub struct FleetMonitor {
    supervisor: Supervisor,
    target: Arc<FleetTarget>,
}

impl FleetMonitor {
    /// Starts following this instance's printers; `holder` names this instance in leases
    /// (unique per process).
    pub fn start(parts: FleetParts, holder: String) -> Self {
        let target = Arc::new(FleetTarget {
            parts,
            holder,
            unfollowable: Mutex::new(HashSet::new()),
        });
        // The lease renewal is also how often printers' settings are looked at: a change made
        // on another instance applies within that time; one made here at once (`wake`).
        let supervisor = Supervisor::spawn(target.clone(), LEASE_RENEWAL);
        Self { supervisor, target }
    }

    /// Looks at the printers now: one was added, changed or deleted on this instance.
    pub fn wake(&self) {
        self.supervisor.wake();
    }

    /// Stops every connector and gives up this instance's leases.
    pub async fn stop(self) {
        self.supervisor.stop().await;
        if let Err(e) = self
            .target
            .parts
            .leases
            .release_all(&self.target.holder)
            .await
        {
            tracing::warn!(error = %e, "cannot give up the printer leases; they expire by themselves");
        }
    }
}

#[derive(Debug)]
struct FleetTarget {
    parts: FleetParts,
    holder: String,
    /// Printers whose status says why they cannot be followed, so it is said once.
    unfollowable: Mutex<HashSet<PrinterId>>,
}

impl FleetTarget {
    async fn cannot_follow(&self, printer: &PrinterId, why: String) {
        let first = self
            .unfollowable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(printer.clone());
        if first {
            tracing::warn!(%printer, "{why}");
            let status = PrinterStatus {
                state: PrinterState::Error,
                error: Some(why),
                ..PrinterStatus::default()
            };
            self.parts.statuses.publish(printer, &status).await;
        }
    }
}

/// Why a printer of `kind` is not followed, when printdesk has no connector for it.
pub(crate) fn cannot_follow_kind(kind: ConnectionKind) -> String {
    format!("printdesk cannot follow {} printers yet", kind.as_str())
}

/// The connector settings for a domain connection: the one place they are translated.
pub(crate) fn connector_settings(connection: PrinterConnection<Secret>) -> Option<Connection> {
    Some(match connection {
        PrinterConnection::BambuLab(c) => Connection::Bambu(BambuSettings {
            host: c.host.as_str().to_owned(),
            port: c.port,
            serial: c.serial.as_str().to_owned(),
            access_code: c.access_code.expose().to_owned(),
            trust: match c.ca_pem {
                Some(pem) => Trust::Ca {
                    pem: pem.as_str().to_owned(),
                },
                None => Trust::FirstUse {
                    fingerprint: c.tls_fingerprint.map(|f| f.as_str().to_owned()),
                },
            },
        }),
        PrinterConnection::Octoprint(c) => Connection::OctoPrint(OctoPrintSettings {
            base_url: c.base_url.as_str().to_owned(),
            api_key: c.api_key.expose().to_owned(),
        }),
        PrinterConnection::Prusalink(c) => Connection::Prusalink(PrusaLinkSettings::new(
            c.base_url.as_str(),
            match c.auth {
                PrusalinkAuth::Digest { username, password } => PrusaLinkAuth::Digest {
                    username: username.as_str().to_owned(),
                    password: password.expose().to_owned(),
                },
                PrusalinkAuth::ApiKey(key) => PrusaLinkAuth::ApiKey(key.expose().to_owned()),
            },
        )),
        PrinterConnection::Moonraker(c) => Connection::Moonraker(MoonrakerSettings {
            base_url: c.base_url.as_str().to_owned(),
            api_key: c.api_key.map(|key| key.expose().to_owned()),
        }),
    })
}

#[async_trait]
impl MonitorTarget for FleetTarget {
    async fn printers(&self) -> Option<Vec<FollowedPrinter>> {
        let monitored = match self.parts.printers.monitored().await {
            Ok(monitored) => monitored,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the monitored printers; following those followed");
                return None;
            }
        };
        let ids: Vec<PrinterId> = monitored.iter().map(|m| m.printer.id.clone()).collect();
        let now = self.parts.clock.now();
        let until = now + LEASE_TERM;
        let held = match self
            .parts
            .leases
            .claim(&self.holder, &ids, now, until)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the printer leases");
                return None;
            }
        };
        let mut followed = Vec::with_capacity(held.len());
        for printer in monitored {
            let id = printer.printer.id.clone();
            if !held.contains(&id) {
                continue;
            }
            let connection = match printer.connection {
                Ok(connection) => connection,
                Err(_) => {
                    self.cannot_follow(
                        &id,
                        "its access code or key cannot be read with this instance's secret key \
                         (printdesk.key): give every instance the same key file, or enter the \
                         secret again"
                            .into(),
                    )
                    .await;
                    continue;
                }
            };
            let kind = connection.kind();
            match connector_settings(connection) {
                Some(connection) => {
                    self.unfollowable
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                    followed.push(FollowedPrinter { id, connection });
                }
                None => {
                    self.cannot_follow(&id, cannot_follow_kind(kind)).await;
                }
            }
        }
        Some(followed)
    }

    fn watch(&self, printer: &FollowedPrinter) -> Box<dyn PrinterWatch> {
        Box::new(DomainWatch {
            session: self.parts.monitor.session(printer.id.clone()),
            printers: self.parts.printers.clone(),
            metrics: self.parts.metrics.clone(),
            credential: printer.connection.credential(),
        })
    }
}

/// One followed printer's events, handed to its monitor session.
#[derive(Debug)]
struct DomainWatch {
    session: MonitorSession,
    printers: PrinterService,
    metrics: MonitorMetrics,
    credential: &'static str,
}

#[async_trait]
impl PrinterWatch for DomainWatch {
    async fn event(&mut self, event: ConnectorEvent) {
        let printer = self.session.printer().clone();
        let label = printer.as_str();
        match event {
            ConnectorEvent::Connecting => self.session.connecting().await,
            ConnectorEvent::Connected => self.metrics.connected(label),
            ConnectorEvent::CertificateTrusted { fingerprint } => {
                let stored = match TlsFingerprint::parse("tls_fingerprint", &fingerprint) {
                    Ok(fingerprint) => self
                        .printers
                        .trust_certificate(&printer, fingerprint)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.message.clone()),
                };
                match stored {
                    Ok(()) => {
                        tracing::info!(%printer, %fingerprint, "trusted the printer's certificate on first use")
                    }
                    Err(e) => {
                        tracing::warn!(%printer, error = %e, "cannot store the printer's certificate fingerprint")
                    }
                }
            }
            ConnectorEvent::History(entries) => {
                if let Err(e) = self.session.history(entries).await {
                    tracing::warn!(%printer, error = %e, "cannot record the printer's history; the next connection reads it again");
                }
            }
            ConnectorEvent::Report(report) => {
                self.metrics.report(label);
                if let Err(e) = self.session.report(report).await {
                    tracing::warn!(%printer, error = %e, "cannot record a printer's report; the next one reconciles");
                }
            }
            ConnectorEvent::Disconnected(problem) => {
                self.metrics.disconnected(label, &problem);
                let sentence = problem.sentence(self.credential);
                if problem.needs_a_person() {
                    tracing::warn!(%printer, "{sentence}");
                    self.session.refused(sentence).await;
                } else {
                    tracing::info!(%printer, "{sentence}");
                    self.session.offline(Some(sentence)).await;
                }
            }
        }
    }

    async fn tick(&mut self) {
        self.session.flush().await;
    }

    async fn stopped(&mut self) {
        self.metrics.forget(self.session.printer().as_str());
    }
}
