//! Printer connections: each kind's settings, secrets sealed and never shown, the printer edit
//! with merge-patch semantics down into the connection, and the monitoring flag.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    ConnectionPatch, CreatePrinterError, NewPrinter, Nullable, Printer, PrinterConnection,
    PrinterId, PrinterPatch, PrinterRepository, SecretSealer, SecretText, TlsFingerprint,
    UpdatePrinterError, ValidationErrors,
    monitoring::{PrinterState, PrinterStatus},
    testing::TestSealer,
};
use serde_json::{Value, json};
use support::{T0, World, pairs};

fn set(value: &str) -> Nullable<String> {
    Nullable::Set(value.into())
}

fn secret(value: &str) -> Nullable<SecretText> {
    Nullable::Set(SecretText::new(value))
}

fn bambu() -> ConnectionPatch {
    ConnectionPatch {
        kind: Some("bambu_lab".into()),
        host: set("192.168.1.50"),
        serial: set("01S00C123456789"),
        access_code: secret("AC-90417"),
        ..ConnectionPatch::default()
    }
}

fn octoprint() -> ConnectionPatch {
    ConnectionPatch {
        kind: Some("octoprint".into()),
        base_url: set("http://octopi.local/"),
        api_key: secret("OCTO-KEY-1"),
        ..ConnectionPatch::default()
    }
}

fn new_printer(id: &str, connection: Option<ConnectionPatch>) -> NewPrinter {
    NewPrinter {
        id: Some(id.into()),
        name: format!("Printer {id}"),
        printer_type: "bambu_lab".into(),
        connection,
        ..NewPrinter::default()
    }
}

fn refused(error: CreatePrinterError) -> ValidationErrors {
    match error {
        CreatePrinterError::Invalid(errors) => errors,
        other => panic!("not a validation error: {other:?}"),
    }
}

fn refused_edit(error: UpdatePrinterError) -> ValidationErrors {
    match error {
        UpdatePrinterError::Invalid(errors) => errors,
        other => panic!("not a validation error: {other:?}"),
    }
}

fn id(raw: &str) -> PrinterId {
    PrinterId::parse(raw).unwrap()
}

fn connection_patch(patch: ConnectionPatch) -> PrinterPatch {
    PrinterPatch {
        connection: Nullable::Set(patch),
        ..PrinterPatch::default()
    }
}

/// The connection's secrets opened with the test sealer, to check what was sealed.
fn opened(printer: &Printer) -> PrinterConnection<String> {
    printer
        .connection
        .clone()
        .expect("a connection")
        .try_map_secrets(|sealed| TestSealer.open(&sealed).map(|s| s.expose().to_owned()))
        .expect("the test sealer opens what it sealed")
}

async fn create(w: &World, new: NewPrinter) -> Result<Printer, ValidationErrors> {
    w.printers.create(new).await.map_err(refused)
}

// ---------------------------------------------------------------------------------------------
// Each kind names its own settings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_kind_reports_every_required_setting_it_misses() {
    let cases: [(&str, &[(&str, &str)]); 4] = [
        (
            "bambu_lab",
            &[
                ("connection.host", "is required for a bambu_lab connection"),
                (
                    "connection.serial",
                    "is required for a bambu_lab connection",
                ),
                (
                    "connection.access_code",
                    "is required for a bambu_lab connection",
                ),
            ],
        ),
        (
            "octoprint",
            &[
                (
                    "connection.base_url",
                    "is required for a octoprint connection",
                ),
                (
                    "connection.api_key",
                    "is required for a octoprint connection",
                ),
            ],
        ),
        (
            "moonraker",
            &[(
                "connection.base_url",
                "is required for a moonraker connection",
            )],
        ),
        (
            "prusalink",
            &[
                (
                    "connection.base_url",
                    "is required for a prusalink connection",
                ),
                (
                    "connection.api_key",
                    "or username and password are required for a prusalink connection",
                ),
            ],
        ),
    ];
    let w = World::new();
    for (kind, expected) in cases {
        let patch = ConnectionPatch {
            kind: Some(kind.into()),
            ..ConnectionPatch::default()
        };
        let errors = create(&w, new_printer("p", Some(patch))).await.unwrap_err();
        assert_eq!(pairs(&errors), expected, "{kind}");
    }
}

#[tokio::test]
async fn each_kind_is_created_with_exactly_its_settings() {
    let w = World::new();
    let cases = [
        (
            bambu(),
            json!({ "kind": "bambu_lab", "host": "192.168.1.50", "port": 8883,
                    "serial": "01S00C123456789", "access_code": "set",
                    "tls_fingerprint": null, "ca_pem": null }),
        ),
        (
            octoprint(),
            json!({ "kind": "octoprint", "base_url": "http://octopi.local", "api_key": "set" }),
        ),
        (
            ConnectionPatch {
                kind: Some("moonraker".into()),
                base_url: set("http://voron.local:7125"),
                ..ConnectionPatch::default()
            },
            json!({ "kind": "moonraker", "base_url": "http://voron.local:7125", "api_key": null }),
        ),
        (
            ConnectionPatch {
                kind: Some("prusalink".into()),
                base_url: set("http://mk4.local"),
                username: set("maker"),
                password: secret("pw"),
                ..ConnectionPatch::default()
            },
            json!({ "kind": "prusalink", "base_url": "http://mk4.local", "username": "maker",
                    "password": "set", "api_key": null }),
        ),
        (
            ConnectionPatch {
                kind: Some("prusalink".into()),
                base_url: set("http://mk3.local"),
                api_key: secret("PL-KEY"),
                ..ConnectionPatch::default()
            },
            json!({ "kind": "prusalink", "base_url": "http://mk3.local", "username": null,
                    "password": null, "api_key": "set" }),
        ),
    ];
    for (i, (patch, shown)) in cases.into_iter().enumerate() {
        let printer = create(&w, new_printer(&format!("p{i}"), Some(patch)))
            .await
            .unwrap();
        let json = serde_json::to_value(&printer).unwrap();
        assert_eq!(json["connection"], shown);
        assert_eq!(json["monitoring"], json!(true));
    }
}

#[tokio::test]
async fn a_setting_of_another_kind_and_a_bad_value_are_each_named_with_the_rest() {
    let w = World::new();
    let patch = ConnectionPatch {
        base_url: set("http://x"),
        username: set("u"),
        port: Nullable::Set(70000),
        host: set("http://192.168.1.50/"),
        serial: set("01S-00C"),
        ca_pem: set("not a certificate"),
        ..bambu()
    };
    let errors = create(
        &w,
        NewPrinter {
            name: " ".into(),
            ..new_printer("p", Some(patch))
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [
            ("name", "must not be empty"),
            (
                "connection.base_url",
                "is not a setting of a bambu_lab connection"
            ),
            (
                "connection.username",
                "is not a setting of a bambu_lab connection"
            ),
            (
                "connection.host",
                "must be a host name or IP address (no scheme, path or spaces)"
            ),
            ("connection.serial", "must be 1–32 letters and digits"),
            ("connection.port", "must be a port number, 1–65535"),
            (
                "connection.ca_pem",
                "must be a PEM certificate (-----BEGIN CERTIFICATE----- …)"
            ),
        ]
    );
}

#[tokio::test]
async fn a_missing_or_unknown_kind_is_named() {
    let w = World::new();
    let no_kind = ConnectionPatch {
        kind: None,
        ..bambu()
    };
    let errors = create(&w, new_printer("p", Some(no_kind)))
        .await
        .unwrap_err();
    assert_eq!(pairs(&errors), [("connection.kind", "is required")]);
    let unknown = ConnectionPatch {
        kind: Some("creality".into()),
        ..bambu()
    };
    let errors = create(&w, new_printer("p", Some(unknown)))
        .await
        .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [(
            "connection.kind",
            "must be one of bambu_lab, octoprint, moonraker, prusalink"
        )]
    );
}

#[tokio::test]
async fn secrets_must_be_non_empty() {
    let w = World::new();
    let patch = ConnectionPatch {
        access_code: secret(""),
        ..bambu()
    };
    let errors = create(&w, new_printer("p", Some(patch))).await.unwrap_err();
    assert_eq!(
        pairs(&errors),
        [("connection.access_code", "must not be empty")]
    );
}

#[tokio::test]
async fn prusalink_takes_a_digest_login_or_an_api_key_not_both_nor_half() {
    let w = World::new();
    let base = ConnectionPatch {
        kind: Some("prusalink".into()),
        base_url: set("http://mk4.local"),
        ..ConnectionPatch::default()
    };
    let cases = [
        (
            ConnectionPatch {
                username: set("maker"),
                password: secret("pw"),
                api_key: secret("k"),
                ..base.clone()
            },
            (
                "connection.api_key",
                "cannot be combined with username and password",
            ),
        ),
        (
            ConnectionPatch {
                username: set("maker"),
                ..base.clone()
            },
            (
                "connection.password",
                "is required for a prusalink connection",
            ),
        ),
        (
            ConnectionPatch {
                password: secret("pw"),
                ..base.clone()
            },
            (
                "connection.username",
                "is required for a prusalink connection",
            ),
        ),
    ];
    for (patch, expected) in cases {
        let errors = create(&w, new_printer("p", Some(patch))).await.unwrap_err();
        assert_eq!(pairs(&errors), [expected]);
    }
}

#[tokio::test]
async fn bambu_port_defaults_to_8883_and_may_be_given() {
    let w = World::new();
    let printer = create(&w, new_printer("a", Some(bambu()))).await.unwrap();
    let PrinterConnection::BambuLab(c) = printer.connection.unwrap() else {
        panic!("a bambu_lab connection")
    };
    assert_eq!(c.port, 8883);
    let patch = ConnectionPatch {
        port: Nullable::Set(1883),
        ..bambu()
    };
    let printer = create(&w, new_printer("b", Some(patch))).await.unwrap();
    let PrinterConnection::BambuLab(c) = printer.connection.unwrap() else {
        panic!("a bambu_lab connection")
    };
    assert_eq!(c.port, 1883);
}

// ---------------------------------------------------------------------------------------------
// Secrets: sealed, never shown
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn secrets_are_stored_sealed_and_shown_as_set() {
    let w = World::new();
    let printer = create(&w, new_printer("x1c", Some(bambu()))).await.unwrap();
    let stored = PrinterRepository::get(w.store.as_ref(), &id("x1c"))
        .await
        .unwrap()
        .unwrap();
    let PrinterConnection::BambuLab(c) = stored.connection.clone().unwrap() else {
        panic!("a bambu_lab connection")
    };
    assert!(
        !String::from_utf8_lossy(c.access_code.as_bytes()).contains("AC-90417"),
        "the store holds the sealed form only"
    );
    let PrinterConnection::BambuLab(plain) = opened(&stored) else {
        panic!("a bambu_lab connection")
    };
    assert_eq!(plain.access_code, "AC-90417");
    let shown = serde_json::to_string(&printer).unwrap();
    assert!(!shown.contains("AC-90417"), "{shown}");
    assert!(!format!("{printer:?}").contains("AC-90417"));
    assert!(!format!("{:?}", bambu()).contains("AC-90417"));
}

#[tokio::test]
async fn the_monitor_gets_every_monitored_printer_with_its_secrets_opened() {
    let w = World::new();
    create(&w, new_printer("a-bambu", Some(bambu())))
        .await
        .unwrap();
    create(&w, new_printer("b-octo", Some(octoprint())))
        .await
        .unwrap();
    create(
        &w,
        NewPrinter {
            monitoring: Some(false),
            ..new_printer("c-paused", Some(octoprint()))
        },
    )
    .await
    .unwrap();
    create(&w, new_printer("d-manual", None)).await.unwrap();

    let monitored = w.printers.monitored().await.unwrap();
    let ids: Vec<_> = monitored.iter().map(|m| m.printer.id.as_str()).collect();
    assert_eq!(ids, ["a-bambu", "b-octo"]);
    let Ok(PrinterConnection::Octoprint(c)) = &monitored[1].connection else {
        panic!("an opened octoprint connection")
    };
    assert_eq!(c.api_key.expose(), "OCTO-KEY-1");
    assert_eq!(c.base_url.as_str(), "http://octopi.local");
}

// ---------------------------------------------------------------------------------------------
// The printer edit: merge-patch
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn changing_the_host_keeps_the_stored_access_code() {
    let w = World::new();
    let before = create(&w, new_printer("x1c", Some(bambu()))).await.unwrap();
    let after = w
        .printers
        .update(
            &id("x1c"),
            connection_patch(ConnectionPatch {
                host: set("192.168.1.60"),
                ..ConnectionPatch::default()
            }),
        )
        .await
        .unwrap();
    let (PrinterConnection::BambuLab(old), PrinterConnection::BambuLab(new)) = (
        before.connection.unwrap(),
        after.connection.clone().unwrap(),
    ) else {
        panic!("bambu_lab connections")
    };
    assert_eq!(new.host.as_str(), "192.168.1.60");
    assert_eq!(new.access_code, old.access_code, "kept sealed as stored");
    assert_eq!(new.serial, old.serial);
    assert_eq!(w.printers.get(&id("x1c")).await.unwrap(), after);
}

#[tokio::test]
async fn null_clears_a_setting_and_a_required_one_cannot_be_cleared() {
    let w = World::new();
    create(
        &w,
        new_printer(
            "x1c",
            Some(ConnectionPatch {
                port: Nullable::Set(1883),
                ..bambu()
            }),
        ),
    )
    .await
    .unwrap();
    let printer = w
        .printers
        .update(
            &id("x1c"),
            connection_patch(ConnectionPatch {
                port: Nullable::Clear,
                ..ConnectionPatch::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&printer).unwrap()["connection"]["port"],
        8883
    );

    let errors = w
        .printers
        .update(
            &id("x1c"),
            connection_patch(ConnectionPatch {
                access_code: Nullable::Clear,
                serial: Nullable::Clear,
                ..ConnectionPatch::default()
            }),
        )
        .await
        .map_err(refused_edit)
        .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [
            (
                "connection.serial",
                "is required for a bambu_lab connection"
            ),
            (
                "connection.access_code",
                "is required for a bambu_lab connection"
            ),
        ]
    );
    assert_eq!(
        w.printers.get(&id("x1c")).await.unwrap().connection,
        printer.connection,
        "nothing saved"
    );
}

#[tokio::test]
async fn changing_the_kind_needs_the_new_kinds_settings_and_drops_the_old_ones() {
    let w = World::new();
    create(&w, new_printer("p", Some(bambu()))).await.unwrap();
    let errors = w
        .printers
        .update(
            &id("p"),
            connection_patch(ConnectionPatch {
                kind: Some("octoprint".into()),
                base_url: set("http://octopi.local"),
                ..ConnectionPatch::default()
            }),
        )
        .await
        .map_err(refused_edit)
        .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [(
            "connection.api_key",
            "is required for a octoprint connection"
        )]
    );
    let printer = w
        .printers
        .update(&id("p"), connection_patch(octoprint()))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&printer).unwrap()["connection"],
        json!({ "kind": "octoprint", "base_url": "http://octopi.local", "api_key": "set" })
    );
}

#[tokio::test]
async fn the_fingerprint_is_server_owned_a_client_may_only_clear_it() {
    let w = World::new();
    create(&w, new_printer("x1c", Some(bambu()))).await.unwrap();
    let fingerprint = TlsFingerprint::from_sha256(&[0xab; 32]);
    assert_eq!(fingerprint.as_str(), "ab".repeat(32));

    let errors = create(
        &w,
        new_printer(
            "other",
            Some(ConnectionPatch {
                tls_fingerprint: set(fingerprint.as_str()),
                ..bambu()
            }),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [(
            "connection.tls_fingerprint",
            "is set by printdesk when it first connects; it can only be cleared (null)"
        )]
    );

    w.printers
        .trust_certificate(&id("x1c"), fingerprint.clone())
        .await
        .unwrap();
    let printer = w.printers.get(&id("x1c")).await.unwrap();
    assert_eq!(
        printer.connection.as_ref().unwrap().tls_fingerprint(),
        Some(&fingerprint)
    );

    let cleared = w
        .printers
        .update(
            &id("x1c"),
            connection_patch(ConnectionPatch {
                tls_fingerprint: Nullable::Clear,
                ..ConnectionPatch::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(cleared.connection.unwrap().tls_fingerprint(), None);
}

#[tokio::test]
async fn the_plain_fields_are_edited_with_the_same_rules_as_registration() {
    let w = World::new();
    create(&w, new_printer("p", None)).await.unwrap();
    let printer = w
        .printers
        .update(
            &id("p"),
            PrinterPatch {
                name: Some("  Left MK4 ".into()),
                printer_type: Some("prusa".into()),
                location: set("Shelf 3"),
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(printer.name.as_str(), "Left MK4");
    assert_eq!(printer.location.as_deref(), Some("Shelf 3"));
    let errors = w
        .printers
        .update(
            &id("p"),
            PrinterPatch {
                name: Some("".into()),
                printer_type: Some("creality".into()),
                location: Nullable::Clear,
                ..PrinterPatch::default()
            },
        )
        .await
        .map_err(refused_edit)
        .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [
            ("name", "must not be empty"),
            (
                "printer_type",
                "must be one of bambu_lab, prusa, octoprint, klipper, other"
            ),
        ]
    );
    let cleared = w
        .printers
        .update(
            &id("p"),
            PrinterPatch {
                location: Nullable::Clear,
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.location, None);
}

#[tokio::test]
async fn an_edit_of_a_missing_printer_is_not_found_and_an_empty_one_changes_nothing() {
    let w = World::new();
    for patch in [PrinterPatch::default(), connection_patch(bambu())] {
        assert_eq!(
            w.printers.update(&id("nope"), patch).await,
            Err(UpdatePrinterError::NotFound)
        );
    }
    let printer = create(&w, new_printer("p", Some(bambu()))).await.unwrap();
    assert_eq!(
        w.printers
            .update(&id("p"), PrinterPatch::default())
            .await
            .unwrap(),
        printer
    );
}

// ---------------------------------------------------------------------------------------------
// Monitoring flag and status
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn monitoring_defaults_to_whether_there_is_a_connection() {
    let w = World::new();
    assert!(
        create(&w, new_printer("a", Some(bambu())))
            .await
            .unwrap()
            .monitoring
    );
    assert!(!create(&w, new_printer("b", None)).await.unwrap().monitoring);
    let paused = create(
        &w,
        NewPrinter {
            monitoring: Some(false),
            ..new_printer("c", Some(bambu()))
        },
    )
    .await
    .unwrap();
    assert!(!paused.monitoring);
    assert!(paused.connection.is_some(), "paused, settings kept");

    // Adding a connection to a manual printer turns monitoring on; clearing it turns it off.
    let added = w
        .printers
        .update(&id("b"), connection_patch(octoprint()))
        .await
        .unwrap();
    assert!(added.monitoring);
    let removed = w
        .printers
        .update(
            &id("b"),
            PrinterPatch {
                connection: Nullable::Clear,
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(!removed.monitoring);
    assert_eq!(removed.connection, None);

    // Editing a paused printer's settings leaves it paused.
    let edited = w
        .printers
        .update(
            &id("c"),
            connection_patch(ConnectionPatch {
                host: set("10.0.0.9"),
                ..ConnectionPatch::default()
            }),
        )
        .await
        .unwrap();
    assert!(!edited.monitoring);
}

#[tokio::test]
async fn monitoring_needs_a_connection() {
    let w = World::new();
    let errors = create(
        &w,
        NewPrinter {
            monitoring: Some(true),
            ..new_printer("a", None)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        pairs(&errors),
        [(
            "monitoring",
            "needs a connection to watch the printer through"
        )]
    );
}

#[tokio::test]
async fn a_printer_that_is_not_monitored_shows_an_unknown_status() {
    let w = World::new();
    create(&w, new_printer("x1c", Some(bambu()))).await.unwrap();
    let printing = PrinterStatus {
        state: PrinterState::Printing,
        online: true,
        progress: Some(42.0),
        ..PrinterStatus::default()
    };
    assert!(
        w.store
            .save_status(&id("x1c"), &printing, T0)
            .await
            .unwrap()
    );
    assert!(
        !w.store
            .save_status(&id("nope"), &printing, T0)
            .await
            .unwrap()
    );
    assert_eq!(w.printers.get(&id("x1c")).await.unwrap().status, printing);

    let paused = w
        .printers
        .update(
            &id("x1c"),
            PrinterPatch {
                monitoring: Some(false),
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    let status: Value = serde_json::to_value(&paused).unwrap()["status"].clone();
    assert_eq!(status["state"], "unknown");
    assert_eq!(status["online"], false);
    assert_eq!(paused.status, PrinterStatus::default());
}
