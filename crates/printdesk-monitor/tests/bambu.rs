//! The Bambu Lab connector against a real MQTT broker: a Mosquitto this suite starts with a TLS
//! listener whose certificate is named after the printer's serial and signed by a CA the test
//! makes, and a password file for `bblp`; a simulated printer publishes X1 full reports and
//! P1 partial reports on it.

mod support;

use std::time::Duration;

use printdesk_domain::{
    ConnectionTester,
    monitoring::{PrintIdentity, ReportedState},
};
use printdesk_monitor::simulator::broker::{Broker, TestCa};
use printdesk_monitor::{
    ConnectionProblem, ConnectorEvent,
    bambu::{self, BambuSettings, Trust, tls::fingerprint},
    simulator::{Model, SimulatedBambu},
};
use rustls::pki_types::{CertificateDer, pem::PemObject};
use tokio::{sync::mpsc, task::JoinHandle};

const SERIAL: &str = "01P00A381200123";
const ACCESS_CODE: &str = "31415926";
const PATIENCE: Duration = Duration::from_secs(15);

struct Followed {
    events: mpsc::Receiver<ConnectorEvent>,
    task: JoinHandle<()>,
}

impl Drop for Followed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Followed {
    /// The next event that `matches`, skipping others; fails after [`PATIENCE`].
    async fn until(
        &mut self,
        what: &str,
        matches: impl Fn(&ConnectorEvent) -> bool,
    ) -> ConnectorEvent {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if matches(&event) => return event,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the connector stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {PATIENCE:?}"),
            }
        }
    }

    async fn report_where(
        &mut self,
        what: &str,
        matches: impl Fn(&printdesk_domain::monitoring::PrinterReport) -> bool,
    ) -> printdesk_domain::monitoring::PrinterReport {
        match self
            .until(
                what,
                |e| matches!(e, ConnectorEvent::Report(r) if matches(r)),
            )
            .await
        {
            ConnectorEvent::Report(r) => r,
            _ => unreachable!(),
        }
    }

    /// Every event within `window`.
    async fn drain(&mut self, window: Duration) -> Vec<ConnectorEvent> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            seen.push(event);
        }
        seen
    }
}

fn settings(broker: &Broker, access_code: &str, trust: Trust) -> BambuSettings {
    BambuSettings {
        host: "127.0.0.1".into(),
        port: broker.tls_port,
        serial: SERIAL.into(),
        access_code: access_code.into(),
        trust,
    }
}

fn follow(settings: BambuSettings) -> Followed {
    let (tx, events) = mpsc::channel(256);
    Followed {
        events,
        task: tokio::spawn(bambu::follow(settings, tx)),
    }
}

fn first_use() -> Trust {
    Trust::FirstUse { fingerprint: None }
}

fn der_fingerprint(pem: &str) -> String {
    fingerprint(&CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate"))
}

#[tokio::test]
async fn an_x1_print_is_followed_from_start_to_finish() {
    let ca = TestCa::new();
    let cert = ca.server_certificate(SERIAL);
    let Some(broker) = Broker::start(&cert, ACCESS_CODE) else {
        return;
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let mut followed = follow(settings(&broker, ACCESS_CODE, first_use()));

    let trusted = followed
        .until("the certificate trusted", |e| {
            matches!(e, ConnectorEvent::CertificateTrusted { .. })
        })
        .await;
    assert_eq!(
        trusted,
        ConnectorEvent::CertificateTrusted {
            fingerprint: der_fingerprint(&cert.0)
        }
    );
    followed
        .until("connected", |e| *e == ConnectorEvent::Connected)
        .await;
    // The answer to the connector's pushall: the idle printer.
    let idle = followed.report_where("the idle state", |_| true).await;
    assert_eq!(idle.state, ReportedState::Idle);
    assert_eq!(printer.pushall_requests(), 1);

    printer.start_print("Benchy.gcode.3mf", "Benchy").await;
    let started = followed
        .report_where("printing", |r| r.state == ReportedState::Printing)
        .await;
    assert_eq!(started.file.as_deref(), Some("Benchy.gcode.3mf"));
    assert_eq!(started.print_name.as_deref(), Some("Benchy"));
    assert_eq!(started.identity, PrintIdentity::FileAndStart);

    printer.progress(42, 17).await;
    let moved = followed
        .report_where("42 %", |r| r.progress == Some(42.0))
        .await;
    assert_eq!(moved.remaining_s, Some(17 * 60), "minutes on the wire");

    printer.pause().await;
    followed
        .report_where("paused", |r| r.state == ReportedState::Paused)
        .await;
    printer.resume().await;
    followed
        .report_where("resumed", |r| r.state == ReportedState::Printing)
        .await;
    printer.finish().await;
    let done = followed
        .report_where("finished", |r| r.state == ReportedState::Finished)
        .await;
    assert_eq!(done.progress, Some(100.0));
    assert_eq!(done.file.as_deref(), Some("Benchy.gcode.3mf"));
}

#[tokio::test]
async fn p1_partial_reports_are_merged_and_work_without_pushall() {
    let ca = TestCa::new();
    let cert = ca.server_certificate(SERIAL);
    let Some(broker) = Broker::start(&cert, ACCESS_CODE) else {
        return;
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::P1).await;
    printer.set_answers_pushall(false);
    let mut followed = follow(settings(&broker, ACCESS_CODE, first_use()));
    followed
        .until("connected", |e| *e == ConnectorEvent::Connected)
        .await;
    // Wait until the pushall request reached the printer, so that the print below is seen.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while printer.pushall_requests() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no pushall request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A delta without gcode_state says nothing about the print yet: no report.
    printer.heartbeat(30.5).await;
    printer.start_print("Cube.gcode.3mf", "Cube").await;
    let first = followed.report_where("a report", |_| true).await;
    assert_eq!(
        first.state,
        ReportedState::Printing,
        "the first report is the print"
    );

    printer.progress(10, 55).await;
    printer.heartbeat(60.1).await; // a 100-byte delta must not wipe the file or the progress
    let after_heartbeat = followed
        .report_where("10 %", |r| r.progress == Some(10.0))
        .await;
    assert_eq!(after_heartbeat.file.as_deref(), Some("Cube.gcode.3mf"));
    let seen = followed.drain(Duration::from_millis(500)).await;
    for event in seen {
        if let ConnectorEvent::Report(r) = event {
            assert_eq!(r.file.as_deref(), Some("Cube.gcode.3mf"));
            assert_eq!(r.progress, Some(10.0));
            assert_eq!(r.remaining_s, Some(55 * 60));
        }
    }

    printer.cancel().await;
    let cancelled = followed
        .report_where("cancelled", |r| r.state.is_terminal())
        .await;
    assert_eq!(cancelled.state, ReportedState::Failed { cancelled: true });
}

#[tokio::test]
async fn a_wrong_access_code_is_refused_and_reports_nothing() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let _printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let mut followed = follow(settings(&broker, "00000000", first_use()));
    followed
        .until("the refusal", |e| {
            *e == ConnectorEvent::Disconnected(ConnectionProblem::CredentialsRefused)
        })
        .await;
    let after = followed.drain(Duration::from_millis(500)).await;
    assert!(
        !after
            .iter()
            .any(|e| matches!(e, ConnectorEvent::Report(_) | ConnectorEvent::Connected)),
        "nothing after a refusal: {after:?}"
    );
    assert_eq!(
        ConnectionProblem::CredentialsRefused.sentence("access code"),
        "access code refused"
    );
}

#[tokio::test]
async fn a_changed_certificate_is_refused() {
    let ca = TestCa::new();
    let old = ca.server_certificate(SERIAL);
    let new = ca.server_certificate(SERIAL);
    let Some(broker) = Broker::start(&new, ACCESS_CODE) else {
        return;
    };
    let _printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let pinned = Trust::FirstUse {
        fingerprint: Some(der_fingerprint(&old.0)),
    };
    let mut followed = follow(settings(&broker, ACCESS_CODE, pinned));
    let refused = followed
        .until("the refusal", |e| {
            matches!(e, ConnectorEvent::Disconnected(_))
        })
        .await;
    assert_eq!(
        refused,
        ConnectorEvent::Disconnected(ConnectionProblem::CertificateChanged {
            presented: der_fingerprint(&new.0)
        })
    );
    assert!(
        followed
            .drain(Duration::from_millis(300))
            .await
            .iter()
            .all(|e| !matches!(e, ConnectorEvent::Report(_)))
    );
}

#[tokio::test]
async fn a_pinned_certificate_is_accepted_again() {
    let ca = TestCa::new();
    let cert = ca.server_certificate(SERIAL);
    let Some(broker) = Broker::start(&cert, ACCESS_CODE) else {
        return;
    };
    let _printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let pinned = Trust::FirstUse {
        fingerprint: Some(der_fingerprint(&cert.0)),
    };
    let mut followed = follow(settings(&broker, ACCESS_CODE, pinned));
    let first = followed
        .until("connected", |e| {
            matches!(
                e,
                ConnectorEvent::Connected | ConnectorEvent::CertificateTrusted { .. }
            )
        })
        .await;
    assert_eq!(
        first,
        ConnectorEvent::Connected,
        "a pinned certificate is not trusted anew"
    );
}

#[tokio::test]
async fn a_given_ca_verifies_the_certificate_by_serial() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let _printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let mut followed = follow(settings(&broker, ACCESS_CODE, Trust::Ca { pem: ca.pem() }));
    followed
        .until("connected", |e| *e == ConnectorEvent::Connected)
        .await;

    // Another printer's certificate (another serial) under the same CA is refused.
    let mut other = settings(&broker, ACCESS_CODE, Trust::Ca { pem: ca.pem() });
    other.serial = "01P00A381299999".into();
    let mut followed = follow(other);
    let refused = followed
        .until("the refusal", |e| {
            matches!(e, ConnectorEvent::Disconnected(_))
        })
        .await;
    assert!(
        matches!(
            refused,
            ConnectorEvent::Disconnected(ConnectionProblem::CertificateInvalid(_))
        ),
        "{refused:?}"
    );

    // And so is a certificate from another CA.
    let mut followed = follow(settings(
        &broker,
        ACCESS_CODE,
        Trust::Ca {
            pem: TestCa::new().pem(),
        },
    ));
    let refused = followed
        .until("the refusal", |e| {
            matches!(e, ConnectorEvent::Disconnected(_))
        })
        .await;
    assert!(
        matches!(
            refused,
            ConnectorEvent::Disconnected(ConnectionProblem::CertificateInvalid(_))
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_lost_connection_is_reported_and_made_again() {
    let ca = TestCa::new();
    let cert = ca.server_certificate(SERIAL);
    let Some(broker) = Broker::start(&cert, ACCESS_CODE) else {
        return;
    };
    let (tls_port, plain_port) = (broker.tls_port, broker.plain_port);
    let mut followed = follow(settings(&broker, ACCESS_CODE, first_use()));
    followed
        .until("connected", |e| *e == ConnectorEvent::Connected)
        .await;

    drop(broker);
    followed
        .until("the loss", |e| {
            matches!(
                e,
                ConnectorEvent::Disconnected(ConnectionProblem::Unreachable(_))
            )
        })
        .await;
    let broker =
        Broker::start_on(&cert, ACCESS_CODE, tls_port, plain_port).expect("Mosquitto ran before");
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    followed
        .until("connected again", |e| *e == ConnectorEvent::Connected)
        .await;
    followed
        .report_where("a report on the new connection", |_| true)
        .await;
    assert_eq!(printer.pushall_requests(), 1, "one pushall per connection");
}

// ---- "Test connection" -------------------------------------------------------------------

use printdesk_domain::ConnectionTrial;
use support::probe;

#[tokio::test]
async fn a_test_connection_reaches_the_printer_and_reads_its_state_without_trusting_anything() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let trial = probe::test(&probe::bambu(broker.tls_port, SERIAL, ACCESS_CODE, None)).await;
    match trial {
        ConnectionTrial::Reached(Some(report)) => assert_eq!(report.state, ReportedState::Idle),
        other => panic!("{other:?}"),
    }
    printer.start_print("Benchy.gcode.3mf", "Benchy").await;
    let trial = probe::test(&probe::bambu(broker.tls_port, SERIAL, ACCESS_CODE, None)).await;
    match trial {
        ConnectionTrial::Reached(Some(report)) => {
            assert_eq!(report.state, ReportedState::Printing);
            assert_eq!(report.file.as_deref(), Some("Benchy.gcode.3mf"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_test_connection_with_a_wrong_access_code_says_it_was_refused() {
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        return;
    };
    let trial = probe::test(&probe::bambu(broker.tls_port, SERIAL, "27182818", None)).await;
    assert_eq!(
        trial,
        ConnectionTrial::Refused("access code refused".into())
    );
}

#[tokio::test]
async fn a_test_connection_to_a_printer_with_a_changed_certificate_does_not_trust_it() {
    let ca = TestCa::new();
    let cert = ca.server_certificate(SERIAL);
    let Some(broker) = Broker::start(&cert, ACCESS_CODE) else {
        return;
    };
    let _printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::X1).await;
    let presented = der_fingerprint(&cert.0);
    let trusted_before = "0f".repeat(32);
    let trial = probe::test(&probe::bambu(
        broker.tls_port,
        SERIAL,
        ACCESS_CODE,
        Some(&trusted_before),
    ))
    .await;
    match trial {
        ConnectionTrial::Refused(sentence) => {
            assert!(sentence.starts_with("certificate changed"), "{sentence}");
            assert!(sentence.contains(&presented[..16]), "{sentence}");
        }
        other => panic!("{other:?}"),
    }
    // The certificate it trusts: reached.
    let trial = probe::test(&probe::bambu(
        broker.tls_port,
        SERIAL,
        ACCESS_CODE,
        Some(&presented),
    ))
    .await;
    assert!(
        matches!(trial, ConnectionTrial::Reached(Some(_))),
        "{trial:?}"
    );
}

#[tokio::test]
async fn a_test_connection_where_nothing_listens_names_the_address() {
    let port = probe::closed_port();
    let trial = probe::test(&probe::bambu(port, SERIAL, ACCESS_CODE, None)).await;
    assert_eq!(
        probe::unreachable(&trial),
        format!("printer not reachable: nothing answers at 127.0.0.1:{port} (connection refused)")
    );
}

#[tokio::test]
async fn a_test_connection_to_a_peer_that_never_answers_ends_at_its_limit() {
    // Accepts the TCP connection and then says nothing, as a wedged printer would.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let started = std::time::Instant::now();
    let trial = printdesk_monitor::ConnectorProbe::with_limit(Duration::from_secs(1))
        .try_connection(&probe::bambu(port, SERIAL, ACCESS_CODE, None))
        .await;
    assert_eq!(
        trial,
        ConnectionTrial::Unreachable("printer not reachable: no answer within 1 s".into())
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
