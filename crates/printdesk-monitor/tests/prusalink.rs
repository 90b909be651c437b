//! The PrusaLink connector against a fake PrusaLink built from PrusaLink's OpenAPI
//! description (`support/prusalink_fake.rs`), with real digest authentication: prints followed
//! through pause and resume to FINISHED, STOPPED, no job (204) between jobs, the nonce reused
//! and a stale one renewed, refused credentials, a reboot of the printer, and the API key of
//! older firmware.

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use printdesk_domain::{
    PrinterId,
    monitoring::{PrintIdentity, PrinterReport, ReportedState},
};
use printdesk_monitor::{
    Connection, ConnectionProblem, ConnectorEvent, FollowedPrinter, MonitorTarget, PrinterWatch,
    Supervisor,
    prusalink::{self, PrusaLinkAuth, PrusaLinkSettings},
};
use support::prusalink_fake::{
    Algorithm, DigestStyle, FakeAuth, FakePrusaLink, M_TIMESTAMP, short_name,
};
use tokio::{sync::mpsc, task::JoinHandle};

const PASSWORD: &str = "Zq7BnsfxUMXh8rR";
const PATIENCE: Duration = Duration::from_secs(20);
/// Fast polls keep the suite short; a printer is asked every few seconds.
const POLL: Duration = Duration::from_millis(100);

fn digest(style: DigestStyle) -> FakeAuth {
    FakeAuth::Digest {
        password: PASSWORD.into(),
        style,
    }
}

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
    fn start(printer: &FakePrusaLink, auth: PrusaLinkAuth) -> Self {
        let (tx, events) = mpsc::channel(1024);
        let settings = PrusaLinkSettings {
            poll_interval: POLL,
            ..PrusaLinkSettings::new(printer.base_url(), auth)
        };
        Self {
            events,
            task: tokio::spawn(prusalink::follow(settings, tx)),
        }
    }

    async fn next(&mut self, what: &str) -> ConnectorEvent {
        match tokio::time::timeout(PATIENCE, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the connector stopped while waiting for {what}"),
            Err(_) => panic!("no {what} within {PATIENCE:?}"),
        }
    }

    /// The next report; any other event first fails the test.
    async fn report(&mut self, what: &str) -> PrinterReport {
        match self.next(what).await {
            ConnectorEvent::Report(report) => report,
            other => panic!("{other:?} while waiting for {what}"),
        }
    }

    /// Reports until one matches; fails on anything but a report.
    async fn report_where(
        &mut self,
        what: &str,
        matches: impl Fn(&PrinterReport) -> bool,
    ) -> PrinterReport {
        loop {
            let report = self.report(what).await;
            if matches(&report) {
                return report;
            }
        }
    }

    /// `Connecting`, `Connected` and the first report of the connection.
    async fn connected(&mut self) -> PrinterReport {
        assert_eq!(self.next("connecting").await, ConnectorEvent::Connecting);
        assert_eq!(self.next("connected").await, ConnectorEvent::Connected);
        self.report("the first report").await
    }

    /// Everything the connector says during `span` (several polls).
    async fn during(&mut self, span: Duration) -> Vec<ConnectorEvent> {
        let end = tokio::time::Instant::now() + span;
        let mut seen = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(end, self.events.recv()).await {
            seen.push(event);
        }
        seen
    }
}

fn job_identity(id: u64, file: &str) -> PrintIdentity {
    PrintIdentity::PrinterJobId(format!("{id}:{M_TIMESTAMP}:/usb/{}", short_name(file)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_is_followed_through_pause_and_resume_to_its_end() {
    let printer = FakePrusaLink::start(digest(DigestStyle::Buddy)).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker(PASSWORD));
    assert_eq!(followed.connected().await, PrinterReport::idle());

    let id = printer.start_job("Benchy_0.4n_0.2mm_PLA_MK4_1h2m.bgcode");
    printer.printer_state("BUSY");
    let identity = job_identity(id, "Benchy_0.4n_0.2mm_PLA_MK4_1h2m.bgcode");
    let preparing = followed.report("preparing").await;
    assert_eq!(preparing.state, ReportedState::Preparing);
    assert_eq!(preparing.identity, identity);
    printer.printer_state("PRINTING");
    let started = followed.report("printing").await;
    assert_eq!(started.state, ReportedState::Printing);
    assert_eq!(
        started.file.as_deref(),
        Some("Benchy_0.4n_0.2mm_PLA_MK4_1h2m.bgcode")
    );
    assert_eq!(started.identity, identity);

    printer.progress(42.0, 526);
    let progressed = followed.report("progress").await;
    assert_eq!(progressed.state, ReportedState::Printing);
    assert_eq!(progressed.progress, Some(42.0));
    assert_eq!(progressed.elapsed_s, Some(526));
    assert_eq!(progressed.remaining_s, Some(348));

    printer.pause();
    assert_eq!(followed.report("paused").await.state, ReportedState::Paused);
    printer.resume();
    let resumed = followed.report("resumed").await;
    assert_eq!(resumed.state, ReportedState::Printing);
    assert_eq!(resumed.identity, identity, "pause and resume are one print");

    // Filament ran out: the printer waits for a person, and the print goes on afterwards.
    printer.printer_state("ATTENTION");
    let attention = followed.report("attention").await;
    assert_eq!(attention.state, ReportedState::Error);
    assert_eq!(attention.identity, identity);
    printer.printer_state("PRINTING");
    assert_eq!(
        followed.report("printing again").await.state,
        ReportedState::Printing
    );

    printer.finish();
    let done = followed.report("finished").await;
    assert_eq!(done.state, ReportedState::Finished);
    assert_eq!(done.progress, Some(100.0));
    assert_eq!(done.identity, identity);
    // PrusaLink keeps showing FINISHED: the end is reported once.
    let later = followed.during(POLL * 10).await;
    assert!(later.is_empty(), "after the end: {later:?}");
    printer.go_idle();
    assert_eq!(
        followed.report("idle").await,
        PrinterReport::idle(),
        "no job (204) after the end was confirmed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_print_is_cancelled_and_the_next_job_is_another_print() {
    let printer = FakePrusaLink::start(digest(DigestStyle::Buddy)).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker(PASSWORD));
    followed.connected().await;

    let first = printer.start_job("cube.gcode");
    followed
        .report_where("printing", |r| r.state.is_active())
        .await;
    printer.stop();
    let stopped = followed.report("stopped").await;
    assert_eq!(stopped.state, ReportedState::Failed { cancelled: true });
    assert_eq!(stopped.identity, job_identity(first, "cube.gcode"));
    assert_eq!(stopped.file.as_deref(), Some("cube.gcode"));

    printer.go_idle();
    assert_eq!(followed.report("idle").await, PrinterReport::idle());

    let second = printer.start_job("cube.gcode");
    assert_ne!(first, second);
    let again = followed.report("the reprint").await;
    assert_eq!(again.state, ReportedState::Printing);
    assert_eq!(again.identity, job_identity(second, "cube.gcode"));
    assert_ne!(again.identity, stopped.identity, "a reprint is a new print");
}

/// Polls with one nonce until the printer makes it stale, then with the next one.
async fn the_nonce_is_reused_until_the_printer_makes_it_stale(style: DigestStyle) {
    let printer = FakePrusaLink::start(digest(style)).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker(PASSWORD));
    followed.connected().await;
    printer.start_job("cube.gcode");
    for percent in 1..=5 {
        printer.progress(f64::from(percent), i64::from(percent) * 10);
        followed
            .report_where("progress", |r| r.progress == Some(f64::from(percent)))
            .await;
    }
    assert!(printer.authenticated() >= 10, "{}", printer.authenticated());
    assert_eq!(printer.challenges(), 1, "one challenge for the connection");

    printer.expire_nonces();
    printer.progress(50.0, 300);
    let report = followed.report("progress with a new nonce").await;
    assert_eq!(report.progress, Some(50.0));
    assert_eq!(printer.stale_challenges(), 1);
    assert_eq!(printer.challenges(), 2);
    let later = followed.during(POLL * 5).await;
    assert!(later.is_empty(), "nothing changed: {later:?}");
    assert_eq!(printer.challenges(), 2, "the new nonce is reused in turn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_firmware_s_nonce_is_reused_until_it_goes_stale() {
    the_nonce_is_reused_until_the_printer_makes_it_stale(DigestStyle::Buddy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_qop_auth_the_nonce_count_goes_up_on_one_nonce() {
    // The fake refuses a nonce count that does not go up.
    the_nonce_is_reused_until_the_printer_makes_it_stale(DigestStyle::Rfc7616(Algorithm::Md5))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha_256_digest_works_too() {
    let printer = FakePrusaLink::start(digest(DigestStyle::Rfc7616(Algorithm::Sha256))).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker(PASSWORD));
    assert_eq!(followed.connected().await, PrinterReport::idle());
    printer.start_job("cube.gcode");
    assert_eq!(
        followed.report("printing").await.state,
        ReportedState::Printing
    );
    assert_eq!(printer.challenges(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_and_nothing_is_reported() {
    let printer = FakePrusaLink::start(digest(DigestStyle::Buddy)).await;
    printer.start_job("cube.gcode");
    let settings = PrusaLinkSettings::new(printer.base_url(), PrusaLinkAuth::maker("wrong"));
    let credential = Connection::Prusalink(settings).credential();
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker("wrong"));
    assert_eq!(
        followed.next("connecting").await,
        ConnectorEvent::Connecting
    );
    assert_eq!(
        followed.next("the refusal").await,
        ConnectorEvent::Disconnected(ConnectionProblem::CredentialsRefused)
    );
    assert_eq!(
        ConnectionProblem::CredentialsRefused.sentence(credential),
        "credentials refused"
    );
    // The first challenge and the one the wrong answer got.
    assert_eq!(printer.challenges(), 2);
    assert_eq!(printer.authenticated(), 0);
    // Refused credentials need a person: no retry soon, so nothing more.
    let later = followed.during(Duration::from_secs(2)).await;
    assert!(later.is_empty(), "{later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_reboot_the_print_that_finished_meanwhile_is_reported_once() {
    let printer = FakePrusaLink::start(digest(DigestStyle::Buddy)).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker(PASSWORD));
    followed.connected().await;
    let id = printer.start_job("cube.gcode");
    printer.progress(80.0, 480);
    followed
        .report_where("printing", |r| r.progress == Some(80.0))
        .await;

    printer.switch_off();
    match followed.next("the disconnection").await {
        ConnectorEvent::Disconnected(ConnectionProblem::Unreachable(_)) => {}
        other => panic!("{other:?} instead of unreachable"),
    }
    printer.finish();
    // Still off when the connector tries again after its first back-off.
    assert_eq!(
        followed.next("connecting").await,
        ConnectorEvent::Connecting
    );
    match followed.next("refused").await {
        ConnectorEvent::Disconnected(ConnectionProblem::Unreachable(why)) => {
            assert!(why.contains("onnect"), "{why}");
        }
        other => panic!("{other:?} instead of a refused connection"),
    }
    printer.switch_on().await;

    let back = followed.connected().await;
    assert_eq!(back.state, ReportedState::Finished);
    assert_eq!(back.identity, job_identity(id, "cube.gcode"));
    assert_eq!(back.progress, Some(100.0));
    // The rebooted printer forgot the nonce and called the old one stale: one new challenge,
    // and no question to a person.
    assert_eq!(printer.challenges(), 2);
    assert_eq!(printer.stale_challenges(), 1);
    let later = followed.during(POLL * 10).await;
    assert!(later.is_empty(), "the end is reported once: {later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_firmware_takes_an_api_key() {
    let printer = FakePrusaLink::start(FakeAuth::ApiKey("pXt4Ztm5Hh4WbYn".into())).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::ApiKey("pXt4Ztm5Hh4WbYn".into()));
    assert_eq!(followed.connected().await, PrinterReport::idle());
    printer.start_job("cube.gcode");
    assert_eq!(
        followed.report("printing").await.state,
        ReportedState::Printing
    );
    drop(followed);

    let mut refused = Followed::start(&printer, PrusaLinkAuth::ApiKey("not-the-key".into()));
    assert_eq!(refused.next("connecting").await, ConnectorEvent::Connecting);
    assert_eq!(
        refused.next("the refusal").await,
        ConnectorEvent::Disconnected(ConnectionProblem::CredentialsRefused)
    );
    let settings = PrusaLinkSettings::new(printer.base_url(), PrusaLinkAuth::ApiKey("k".into()));
    assert_eq!(Connection::Prusalink(settings).credential(), "API key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_for_a_printer_that_wants_an_api_key_says_so() {
    let printer = FakePrusaLink::start(FakeAuth::ApiKey("pXt4Ztm5Hh4WbYn".into())).await;
    let mut followed = Followed::start(&printer, PrusaLinkAuth::maker(PASSWORD));
    assert_eq!(
        followed.next("connecting").await,
        ConnectorEvent::Connecting
    );
    match followed.next("the problem").await {
        ConnectorEvent::Disconnected(problem @ ConnectionProblem::Protocol(_)) => assert_eq!(
            problem.sentence("credentials"),
            "unexpected answer from the printer: it asks for an API key (older firmware), \
             not a password"
        ),
        other => panic!("{other:?}"),
    }
}

/// One PrusaLink printer for the supervisor, its events collected.
#[derive(Debug)]
struct OnePrinter {
    printer: FollowedPrinter,
    seen: Arc<Mutex<Vec<ConnectorEvent>>>,
}

#[derive(Debug)]
struct Collect(Arc<Mutex<Vec<ConnectorEvent>>>);

#[async_trait]
impl PrinterWatch for Collect {
    async fn event(&mut self, event: ConnectorEvent) {
        self.0.lock().unwrap().push(event);
    }
    async fn stopped(&mut self) {}
}

#[async_trait]
impl MonitorTarget for OnePrinter {
    async fn printers(&self) -> Option<Vec<FollowedPrinter>> {
        Some(vec![self.printer.clone()])
    }
    fn watch(&self, _: &FollowedPrinter) -> Box<dyn PrinterWatch> {
        Box::new(Collect(self.seen.clone()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_follows_a_prusalink_printer() {
    let printer = FakePrusaLink::start(digest(DigestStyle::Buddy)).await;
    let id = printer.start_job("cube.gcode");
    let target = Arc::new(OnePrinter {
        printer: FollowedPrinter {
            id: PrinterId::parse("mk4-1").unwrap(),
            connection: Connection::Prusalink(PrusaLinkSettings {
                poll_interval: POLL,
                ..PrusaLinkSettings::new(printer.base_url(), PrusaLinkAuth::maker(PASSWORD))
            }),
        },
        seen: Arc::default(),
    });
    let _supervisor = Supervisor::spawn(target.clone(), Duration::from_secs(3600));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let expected = job_identity(id, "cube.gcode");
    while !target.seen.lock().unwrap().iter().any(|event| {
        matches!(event, ConnectorEvent::Report(r)
            if r.state == ReportedState::Printing && r.identity == expected)
    }) {
        assert!(tokio::time::Instant::now() < deadline, "no report");
        tokio::time::sleep(POLL).await;
    }
}

// ---- "Test connection" -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_connection_reaches_prusalink_refuses_a_wrong_password_and_names_a_closed_port() {
    use printdesk_domain::ConnectionTrial;
    use support::probe;

    let printer = FakePrusaLink::start(digest(DigestStyle::Buddy)).await;
    printer.start_job("cube.gcode");
    match probe::test(&probe::prusalink(&printer.base_url(), PASSWORD)).await {
        ConnectionTrial::Reached(Some(report)) => {
            assert_eq!(report.state, ReportedState::Printing, "{report:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        probe::test(&probe::prusalink(&printer.base_url(), "wrong")).await,
        ConnectionTrial::Refused("credentials refused".into())
    );
    let port = probe::closed_port();
    let trial = probe::test(&probe::prusalink(
        &format!("http://127.0.0.1:{port}"),
        PASSWORD,
    ))
    .await;
    assert_eq!(
        probe::unreachable(&trial),
        format!("printer not reachable: nothing answers at 127.0.0.1:{port} (connection refused)")
    );
}
