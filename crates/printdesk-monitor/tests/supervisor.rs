//! The supervisor follows the printers its target names, applies changed settings without a
//! restart, and stops following deleted printers — against a real Mosquitto.

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use printdesk_domain::PrinterId;
use printdesk_monitor::simulator::broker::{Broker, TestCa};
use printdesk_monitor::{
    Connection, ConnectionProblem, ConnectorEvent, FollowedPrinter, MonitorTarget, PrinterWatch,
    Supervisor,
    bambu::{BambuSettings, Trust},
    simulator::{Model, SimulatedBambu},
};

const SERIAL: &str = "01S00C123456789";
const CODE: &str = "12345678";

#[derive(Debug, Default)]
struct Target {
    printers: Mutex<Vec<FollowedPrinter>>,
    seen: Arc<Mutex<Vec<(PrinterId, ConnectorEvent)>>>,
    unfollowed: Arc<Mutex<Vec<PrinterId>>>,
}

#[derive(Debug)]
struct Watch {
    printer: PrinterId,
    seen: Arc<Mutex<Vec<(PrinterId, ConnectorEvent)>>>,
    unfollowed: Arc<Mutex<Vec<PrinterId>>>,
}

#[async_trait]
impl PrinterWatch for Watch {
    async fn event(&mut self, event: ConnectorEvent) {
        self.seen
            .lock()
            .unwrap()
            .push((self.printer.clone(), event));
    }
    async fn stopped(&mut self) {
        self.unfollowed.lock().unwrap().push(self.printer.clone());
    }
}

#[async_trait]
impl MonitorTarget for Target {
    async fn printers(&self) -> Option<Vec<FollowedPrinter>> {
        Some(self.printers.lock().unwrap().clone())
    }
    fn watch(&self, printer: &FollowedPrinter) -> Box<dyn PrinterWatch> {
        Box::new(Watch {
            printer: printer.id.clone(),
            seen: self.seen.clone(),
            unfollowed: self.unfollowed.clone(),
        })
    }
}

impl Target {
    async fn wait_for(&self, what: &str, check: impl Fn(&[(PrinterId, ConnectorEvent)]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !check(&self.seen.lock().unwrap()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what} within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn printer(id: &str, port: u16, code: &str) -> FollowedPrinter {
    FollowedPrinter {
        id: PrinterId::parse(id).unwrap(),
        connection: Connection::Bambu(BambuSettings {
            host: "127.0.0.1".into(),
            port,
            serial: SERIAL.into(),
            access_code: code.into(),
            trust: Trust::FirstUse { fingerprint: None },
        }),
    }
}

#[tokio::test]
async fn printers_are_followed_changed_and_dropped_without_a_restart() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), CODE) else {
        return;
    };
    let sim = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let target = Arc::new(Target::default());
    // A wrong access code first, as a person might type it.
    target
        .printers
        .lock()
        .unwrap()
        .push(printer("x1c-1", broker.tls_port, "00000000"));
    let supervisor = Supervisor::spawn(target.clone(), Duration::from_secs(3600));
    let id = PrinterId::parse("x1c-1").unwrap();
    target
        .wait_for("the refusal", |seen| {
            seen.iter().any(|(p, e)| {
                *p == id
                    && *e == ConnectorEvent::Disconnected(ConnectionProblem::CredentialsRefused)
            })
        })
        .await;

    // The access code corrected: followed anew at once (the refusal's one-minute back-off does
    // not hold it up).
    *target.printers.lock().unwrap() = vec![printer("x1c-1", broker.tls_port, CODE)];
    target.seen.lock().unwrap().clear();
    supervisor.wake();
    target
        .wait_for("a report", |seen| {
            seen.iter()
                .any(|(_, e)| matches!(e, ConnectorEvent::Report(_)))
        })
        .await;
    assert_eq!(*target.unfollowed.lock().unwrap(), vec![id.clone()]);

    sim.start_print("Benchy.gcode.3mf", "Benchy").await;
    target
        .wait_for("the print", |seen| {
            seen.iter()
                .any(|(_, e)| matches!(e, ConnectorEvent::Report(r) if r.state.is_active()))
        })
        .await;

    // Deleted: no more events.
    target.printers.lock().unwrap().clear();
    supervisor.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while target.unfollowed.lock().unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "not unfollowed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    target.seen.lock().unwrap().clear();
    sim.progress(50, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        target.seen.lock().unwrap().is_empty(),
        "events after the printer was dropped"
    );
}

/// A certificate fingerprint the connector pinned itself and the monitor then stored does not
/// restart the connection; clearing it (to trust the next certificate) does.
#[tokio::test]
async fn a_pinned_fingerprint_keeps_the_connection_and_clearing_it_restarts_it() {
    // Nothing listens there: the connector just keeps trying, which is all this test needs.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let with_fingerprint = |fingerprint: Option<&str>| {
        let mut p = printer("x1c-2", port, CODE);
        if let Connection::Bambu(settings) = &mut p.connection {
            settings.trust = Trust::FirstUse {
                fingerprint: fingerprint.map(str::to_owned),
            };
        }
        p
    };
    let target = Arc::new(Target::default());
    *target.printers.lock().unwrap() = vec![with_fingerprint(None)];
    let supervisor = Supervisor::spawn(target.clone(), Duration::from_secs(3600));
    let settle = || tokio::time::sleep(Duration::from_millis(300));
    settle().await;

    *target.printers.lock().unwrap() = vec![with_fingerprint(Some("ab12"))];
    supervisor.wake();
    settle().await;
    assert!(
        target.unfollowed.lock().unwrap().is_empty(),
        "the fingerprint the connector pinned does not restart it"
    );

    *target.printers.lock().unwrap() = vec![with_fingerprint(None)];
    supervisor.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while target.unfollowed.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "clearing the fingerprint restarts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
