//! "Test connection": the settings are checked as a registration checks them, the stored
//! printer's secrets (and trusted certificate) stand in for those not typed, and the tester's
//! trial becomes the answer the dialog shows.
#![cfg(feature = "testing")]

mod support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use printdesk_domain::{
    ConnectionPatch, ConnectionTest, ConnectionTestRequest, ConnectionTester, ConnectionTests,
    ConnectionTrial, NewPrinter, Nullable, PrinterConnection, PrinterId, PrinterRepository,
    PrusalinkAuth, SealedSecret, Secret, SecretText, TestConnectionError, TlsFingerprint,
    monitoring::{PrinterReport, PrinterState, ReportedState},
};
use support::{World, pairs};

/// A tester that records what it was asked to try and answers with a scripted trial.
#[derive(Debug)]
struct ScriptedTester {
    tried: Mutex<Vec<PrinterConnection<Secret>>>,
    answer: ConnectionTrial,
}

#[async_trait]
impl ConnectionTester for ScriptedTester {
    async fn try_connection(&self, connection: &PrinterConnection<Secret>) -> ConnectionTrial {
        self.tried.lock().unwrap().push(connection.clone());
        self.answer.clone()
    }
}

struct Setup {
    world: World,
    tester: Arc<ScriptedTester>,
    tests: ConnectionTests,
}

fn setup(answer: ConnectionTrial) -> Setup {
    let world = World::new();
    let tester = Arc::new(ScriptedTester {
        tried: Mutex::new(Vec::new()),
        answer,
    });
    let tests = ConnectionTests::new(world.printers.clone(), tester.clone());
    Setup {
        world,
        tester,
        tests,
    }
}

fn idle() -> ConnectionTrial {
    ConnectionTrial::Reached(Some(PrinterReport::idle()))
}

fn set(value: &str) -> Nullable<String> {
    Nullable::Set(value.into())
}

fn secret(value: &str) -> Nullable<SecretText> {
    Nullable::Set(SecretText::new(value))
}

fn bambu(access_code: Nullable<SecretText>) -> ConnectionPatch {
    ConnectionPatch {
        kind: Some("bambu_lab".into()),
        host: set("192.168.1.50"),
        serial: set("01S00C123456789"),
        access_code,
        ..ConnectionPatch::default()
    }
}

fn request(connection: ConnectionPatch, printer_id: Option<&str>) -> ConnectionTestRequest {
    ConnectionTestRequest {
        connection: Some(connection),
        printer_id: printer_id.map(str::to_owned),
    }
}

async fn register(world: &World, id: &str, connection: ConnectionPatch) {
    world
        .printers
        .create(NewPrinter {
            id: Some(id.into()),
            name: format!("Printer {id}"),
            printer_type: "other".into(),
            connection: Some(connection),
            ..NewPrinter::default()
        })
        .await
        .expect("a valid printer");
}

fn invalid(result: Result<ConnectionTest, TestConnectionError>) -> Vec<(String, String)> {
    match result {
        Err(TestConnectionError::Invalid(errors)) => pairs(&errors)
            .into_iter()
            .map(|(f, m)| (f.to_owned(), m.to_owned()))
            .collect(),
        other => panic!("expected violations, got {other:?}"),
    }
}

fn access_code(tried: &PrinterConnection<Secret>) -> &str {
    match tried {
        PrinterConnection::BambuLab(c) => c.access_code.expose(),
        other => panic!("not a Bambu Lab connection: {other:?}"),
    }
}

#[tokio::test]
async fn a_new_connection_is_checked_as_a_registration_is_and_nothing_is_tried_when_wrong() {
    let s = setup(idle());
    let errors = invalid(
        s.tests
            .test(request(
                ConnectionPatch {
                    kind: Some("bambu_lab".into()),
                    host: set("http://printer"),
                    port: Nullable::Set(0),
                    ..ConnectionPatch::default()
                },
                Some("no-such-printer"),
            ))
            .await,
    );
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "connection.host",
            "connection.serial",
            "connection.access_code",
            "connection.port",
            "printer_id"
        ],
        "{errors:?}"
    );
    assert!(errors.contains(&("printer_id".into(), "names no printer".into())));
    let errors = invalid(
        s.tests
            .test(ConnectionTestRequest {
                connection: None,
                printer_id: Some("Not An Id".into()),
            })
            .await,
    );
    assert_eq!(
        errors.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        ["printer_id", "connection"]
    );
    // The server owns the fingerprint: a client may only clear it, here as in a registration.
    let errors = invalid(
        s.tests
            .test(request(
                ConnectionPatch {
                    tls_fingerprint: set(&"ab".repeat(32)),
                    ..bambu(secret("12345678"))
                },
                None,
            ))
            .await,
    );
    assert_eq!(errors[0].0, "connection.tls_fingerprint");
    assert!(s.tester.tried.lock().unwrap().is_empty(), "nothing tried");
}

#[tokio::test]
async fn typed_settings_are_tried_as_typed() {
    let s = setup(idle());
    let answer = s.tests.test(request(bambu(secret("31415926")), None)).await;
    assert_eq!(
        answer,
        Ok(ConnectionTest {
            reachable: true,
            state: PrinterState::Idle,
            detail: "printdesk reached the printer: it is idle".into(),
        })
    );
    let tried = s.tester.tried.lock().unwrap();
    let PrinterConnection::BambuLab(c) = &tried[0] else {
        panic!("{tried:?}")
    };
    assert_eq!(
        (c.host.as_str(), c.port, c.access_code.expose()),
        ("192.168.1.50", 8883, "31415926")
    );
    assert_eq!(c.tls_fingerprint, None);
}

#[tokio::test]
async fn a_stored_printers_secret_and_certificate_stand_in_for_what_was_not_typed() {
    let s = setup(idle());
    register(&s.world, "x1c", bambu(secret("stored-code"))).await;
    let pinned = TlsFingerprint::parse("f", &"cd".repeat(32)).unwrap();
    s.world
        .printers
        .trust_certificate(&PrinterId::parse("x1c").unwrap(), pinned.clone())
        .await
        .unwrap();

    // Another host typed, no access code: the stored code and fingerprint, the typed host.
    let moved = ConnectionPatch {
        host: set("192.168.1.77"),
        ..bambu(Nullable::Keep)
    };
    s.tests
        .test(request(moved.clone(), Some("x1c")))
        .await
        .unwrap();
    // A typed code wins; `tls_fingerprint: null` tests trusting the next certificate.
    let retyped = ConnectionPatch {
        tls_fingerprint: Nullable::Clear,
        ..bambu(secret("typed-code"))
    };
    s.tests.test(request(retyped, Some("x1c"))).await.unwrap();
    // Without the printer's id nothing stored is used.
    let errors = invalid(s.tests.test(request(moved, None)).await);
    assert_eq!(
        errors,
        [(
            "connection.access_code".to_owned(),
            "is required for a bambu_lab connection".to_owned()
        )]
    );

    let tried = s.tester.tried.lock().unwrap();
    let PrinterConnection::BambuLab(first) = &tried[0] else {
        panic!()
    };
    assert_eq!(first.host.as_str(), "192.168.1.77");
    assert_eq!(first.access_code.expose(), "stored-code");
    assert_eq!(first.tls_fingerprint, Some(pinned));
    let PrinterConnection::BambuLab(second) = &tried[1] else {
        panic!()
    };
    assert_eq!(access_code(&tried[1]), "typed-code");
    assert_eq!(second.tls_fingerprint, None);
}

#[tokio::test]
async fn only_settings_of_the_stored_kind_and_mode_are_taken() {
    let s = setup(idle());
    register(&s.world, "x1c", bambu(secret("stored-code"))).await;
    // Another kind: the stored access code is no API key.
    let errors = invalid(
        s.tests
            .test(request(
                ConnectionPatch {
                    kind: Some("octoprint".into()),
                    base_url: set("http://octopi.local"),
                    ..ConnectionPatch::default()
                },
                Some("x1c"),
            ))
            .await,
    );
    assert_eq!(errors[0].0, "connection.api_key");

    register(
        &s.world,
        "mk4",
        ConnectionPatch {
            kind: Some("prusalink".into()),
            base_url: set("http://192.168.1.63"),
            username: set("maker"),
            password: secret("stored-password"),
            ..ConnectionPatch::default()
        },
    )
    .await;
    let prusalink = |username: Nullable<String>, api_key| ConnectionPatch {
        kind: Some("prusalink".into()),
        base_url: set("http://192.168.1.64"),
        username,
        api_key,
        ..ConnectionPatch::default()
    };
    // Digest with the stored password; an API key typed instead is tried without it.
    s.tests
        .test(request(
            prusalink(set("maker"), Nullable::Keep),
            Some("mk4"),
        ))
        .await
        .unwrap();
    s.tests
        .test(request(
            prusalink(Nullable::Keep, secret("typed-key")),
            Some("mk4"),
        ))
        .await
        .unwrap();
    // Neither typed: the stored password needs a user name to go with it.
    let errors = invalid(
        s.tests
            .test(request(
                prusalink(Nullable::Keep, Nullable::Keep),
                Some("mk4"),
            ))
            .await,
    );
    assert_eq!(errors[0].0, "connection.api_key");

    let tried = s.tester.tried.lock().unwrap();
    let auths: Vec<_> = tried
        .iter()
        .map(|c| match c {
            PrinterConnection::Prusalink(c) => match &c.auth {
                PrusalinkAuth::Digest { username, password } => {
                    format!("{}:{}", username.as_str(), password.expose())
                }
                PrusalinkAuth::ApiKey(key) => format!("key {}", key.expose()),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(auths, ["maker:stored-password", "key typed-key"]);
}

#[tokio::test]
async fn a_stored_secret_sealed_with_another_key_is_named_at_its_field() {
    let s = setup(idle());
    register(&s.world, "x1c", bambu(secret("stored-code"))).await;
    // As if another instance with another key file had sealed it.
    PrinterRepository::update(
        s.world.store.as_ref(),
        &PrinterId::parse("x1c").unwrap(),
        Box::new(|stored| {
            let mut printer = stored.clone();
            if let Some(PrinterConnection::BambuLab(c)) = &mut printer.connection {
                c.access_code = SealedSecret::from_bytes(b"sealed elsewhere".to_vec());
            }
            Ok(Some(printer))
        }),
    )
    .await
    .unwrap();

    let errors = invalid(
        s.tests
            .test(request(bambu(Nullable::Keep), Some("x1c")))
            .await,
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "connection.access_code");
    assert!(errors[0].1.contains("type it again"), "{errors:?}");
    // Typed again, it is tried.
    s.tests
        .test(request(bambu(secret("new-code")), Some("x1c")))
        .await
        .unwrap();
    assert_eq!(access_code(&s.tester.tried.lock().unwrap()[0]), "new-code");
}

#[test]
fn each_trial_is_the_answer_a_card_would_show() {
    let printing = PrinterReport {
        state: ReportedState::Preparing,
        file: Some("Benchy.gcode.3mf".into()),
        ..PrinterReport::idle()
    };
    let cases = [
        (
            ConnectionTrial::Reached(Some(printing)),
            true,
            PrinterState::Printing,
            "printdesk reached the printer: it is printing Benchy.gcode.3mf",
        ),
        (
            ConnectionTrial::Reached(Some(PrinterReport {
                state: ReportedState::Error,
                ..PrinterReport::idle()
            })),
            true,
            PrinterState::Error,
            "printdesk reached the printer: the printer reports an error",
        ),
        (
            ConnectionTrial::Reached(None),
            true,
            PrinterState::Unknown,
            "printdesk reached the printer and signed in, but it sent no status within 10 s",
        ),
        (
            ConnectionTrial::Refused("access code refused".into()),
            false,
            PrinterState::Error,
            "access code refused",
        ),
        (
            ConnectionTrial::Unreachable("printer not reachable: connection refused".into()),
            false,
            PrinterState::Offline,
            "printer not reachable: connection refused",
        ),
    ];
    for (trial, reachable, state, detail) in cases {
        assert_eq!(
            ConnectionTest::from(trial),
            ConnectionTest {
                reachable,
                state,
                detail: detail.into()
            }
        );
    }
}
