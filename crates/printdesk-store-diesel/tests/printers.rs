//! Printers' connections, sealed secrets, monitoring flag and live status in the store, on
//! real SQLite and real PostgreSQL (when `PRINTDESK_TEST_POSTGRES_URL` is set).

use std::sync::Arc;

use diesel::{Connection, QueryableByName, RunQueryDsl, sql_types::Text};
use printdesk_domain::{
    ConnectionPatch, NewPrinter, Nullable, Printer, PrinterConnection, PrinterId, PrinterPatch,
    PrinterRepository, PrinterService, SecretText, SystemClock, TlsFingerprint, UpdatePrinterError,
    monitoring::{PrinterState, PrinterStatus},
    testing::RecordingPublisher,
};
use printdesk_secrets::KeyFileSealer;
use printdesk_store_diesel::{AnyConnection, Store, test_support::TestDatabase};

/// The access code the tests store; it must never be found in the database.
const ACCESS_CODE: &str = "AC-90417-SECRET";
const API_KEY: &str = "OCTO-KEY-7f3e9";

struct Ctx {
    store: Store,
    printers: PrinterService,
    db: TestDatabase,
}

async fn ctx(db: TestDatabase) -> Ctx {
    let store = Store::connect(&db.url).await.expect("connect and migrate");
    let printers = PrinterService::new(
        Arc::new(store.clone()),
        Arc::new(RecordingPublisher::default()),
        Arc::new(SystemClock),
        Arc::new(KeyFileSealer::from_key([9; 32])),
    );
    Ctx {
        store,
        printers,
        db,
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::ctx(printdesk_store_diesel::test_support::TestDatabase::sqlite()).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = printdesk_store_diesel::test_support::TestDatabase::postgres(stringify!($name)) {
                        super::$name(super::ctx(db).await).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    a_connection_reads_back_as_created,
    the_database_holds_no_secret_in_plain_text,
    an_edit_merges_into_the_stored_connection,
    a_refused_edit_saves_nothing,
    an_edit_of_a_missing_printer_is_not_found,
    the_fingerprint_is_trusted_and_cleared,
    monitored_printers_come_with_their_secrets_opened,
    status_is_written_read_and_goes_with_the_printer,
    printers_without_connections_still_read_as_before,
    concurrent_edits_of_different_fields_all_land,
);

fn set(v: &str) -> Nullable<String> {
    Nullable::Set(v.into())
}

fn bambu() -> ConnectionPatch {
    ConnectionPatch {
        kind: Some("bambu_lab".into()),
        host: set("192.168.1.50"),
        serial: set("01S00C123456789"),
        access_code: Nullable::Set(SecretText::new(ACCESS_CODE)),
        ..ConnectionPatch::default()
    }
}

fn octoprint() -> ConnectionPatch {
    ConnectionPatch {
        kind: Some("octoprint".into()),
        base_url: set("http://octopi.local"),
        api_key: Nullable::Set(SecretText::new(API_KEY)),
        ..ConnectionPatch::default()
    }
}

fn id(raw: &str) -> PrinterId {
    PrinterId::parse(raw).unwrap()
}

async fn create(ctx: &Ctx, id: &str, connection: Option<ConnectionPatch>) -> Printer {
    ctx.printers
        .create(NewPrinter {
            id: Some(id.into()),
            name: format!("Printer {id}"),
            printer_type: "bambu_lab".into(),
            connection,
            ..NewPrinter::default()
        })
        .await
        .expect("a valid printer")
}

fn host_patch(host: &str) -> PrinterPatch {
    PrinterPatch {
        connection: Nullable::Set(ConnectionPatch {
            host: set(host),
            ..ConnectionPatch::default()
        }),
        ..PrinterPatch::default()
    }
}

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Text)]
    raw: String,
}

/// Every printer row's text columns, as anyone with a copy of the database reads them.
fn raw_printer_rows(url: &str) -> String {
    let (_, target) = printdesk_store_diesel::parse_url(url).unwrap();
    let mut conn = AnyConnection::establish(&target).unwrap();
    diesel::sql_query(
        "SELECT id || ' ' || name || ' ' || COALESCE(connection, '') || ' ' \
         || COALESCE(connection_secrets, '') || ' ' || COALESCE(tls_fingerprint, '') AS raw \
         FROM printers",
    )
    .load::<Raw>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|r| r.raw)
    .collect::<Vec<_>>()
    .join("\n")
}

async fn a_connection_reads_back_as_created(ctx: Ctx) {
    let created = create(&ctx, "x1c", Some(bambu())).await;
    let octo = create(&ctx, "octo", Some(octoprint())).await;
    assert_eq!(ctx.printers.get(&id("x1c")).await.unwrap(), created);
    assert_eq!(ctx.printers.get(&id("octo")).await.unwrap(), octo);
    assert_eq!(ctx.printers.list().await.unwrap(), [octo, created.clone()]);
    assert!(created.monitoring);
    assert_eq!(created.status.state, PrinterState::Unknown);
}

async fn the_database_holds_no_secret_in_plain_text(ctx: Ctx) {
    create(&ctx, "x1c", Some(bambu())).await;
    create(&ctx, "octo", Some(octoprint())).await;
    let raw = raw_printer_rows(&ctx.db.url);
    assert!(
        raw.contains("192.168.1.50"),
        "the settings are there: {raw}"
    );
    assert!(!raw.contains(ACCESS_CODE), "{raw}");
    assert!(!raw.contains(API_KEY), "{raw}");
    // On SQLite, also the files themselves: the database and its write-ahead log.
    if let Some(path) = ctx.db.url.strip_prefix("sqlite://") {
        for file in [path.to_owned(), format!("{path}-wal")] {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for secret in [ACCESS_CODE, API_KEY] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{file} holds {secret}"
                );
            }
        }
    }
}

async fn an_edit_merges_into_the_stored_connection(ctx: Ctx) {
    create(&ctx, "x1c", Some(bambu())).await;
    let edited = ctx
        .printers
        .update(&id("x1c"), host_patch("192.168.1.60"))
        .await
        .unwrap();
    assert_eq!(ctx.printers.get(&id("x1c")).await.unwrap(), edited);
    let monitored = ctx.printers.monitored().await.unwrap();
    let Ok(PrinterConnection::BambuLab(c)) = &monitored[0].connection else {
        panic!("an opened bambu_lab connection")
    };
    assert_eq!(c.host.as_str(), "192.168.1.60");
    assert_eq!(c.access_code.expose(), ACCESS_CODE, "kept as stored");

    let renamed = ctx
        .printers
        .update(
            &id("x1c"),
            PrinterPatch {
                name: Some("X1C left".into()),
                location: set("Shelf 1"),
                monitoring: Some(false),
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_str(), "X1C left");
    assert_eq!(renamed.location.as_deref(), Some("Shelf 1"));
    assert!(!renamed.monitoring);
    assert_eq!(
        renamed.connection, edited.connection,
        "paused, settings kept"
    );
    assert_eq!(ctx.printers.get(&id("x1c")).await.unwrap(), renamed);
}

async fn a_refused_edit_saves_nothing(ctx: Ctx) {
    let created = create(&ctx, "x1c", Some(bambu())).await;
    let refused = ctx
        .printers
        .update(
            &id("x1c"),
            PrinterPatch {
                name: Some("renamed".into()),
                connection: Nullable::Set(ConnectionPatch {
                    serial: Nullable::Clear,
                    ..ConnectionPatch::default()
                }),
                ..PrinterPatch::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(UpdatePrinterError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(ctx.printers.get(&id("x1c")).await.unwrap(), created);
}

async fn an_edit_of_a_missing_printer_is_not_found(ctx: Ctx) {
    assert_eq!(
        ctx.printers.update(&id("nope"), host_patch("h")).await,
        Err(UpdatePrinterError::NotFound)
    );
}

async fn the_fingerprint_is_trusted_and_cleared(ctx: Ctx) {
    create(&ctx, "x1c", Some(bambu())).await;
    let fingerprint = TlsFingerprint::from_sha256(&[0x5c; 32]);
    let trusted = ctx
        .printers
        .trust_certificate(&id("x1c"), fingerprint.clone())
        .await
        .unwrap();
    let stored = ctx.printers.get(&id("x1c")).await.unwrap();
    assert_eq!(stored, trusted);
    assert_eq!(
        stored.connection.unwrap().tls_fingerprint(),
        Some(&fingerprint)
    );
    let cleared = ctx
        .printers
        .update(
            &id("x1c"),
            PrinterPatch {
                connection: Nullable::Set(ConnectionPatch {
                    tls_fingerprint: Nullable::Clear,
                    ..ConnectionPatch::default()
                }),
                ..PrinterPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.connection.unwrap().tls_fingerprint(), None);
    let stored = ctx.printers.get(&id("x1c")).await.unwrap();
    assert_eq!(stored.connection.unwrap().tls_fingerprint(), None);
}

async fn monitored_printers_come_with_their_secrets_opened(ctx: Ctx) {
    create(&ctx, "b-octo", Some(octoprint())).await;
    create(&ctx, "a-x1c", Some(bambu())).await;
    create(&ctx, "c-manual", None).await;
    ctx.printers
        .create(NewPrinter {
            id: Some("d-paused".into()),
            name: "Paused".into(),
            printer_type: "octoprint".into(),
            connection: Some(octoprint()),
            monitoring: Some(false),
            ..NewPrinter::default()
        })
        .await
        .unwrap();
    let monitored = ctx.printers.monitored().await.unwrap();
    let ids: Vec<_> = monitored.iter().map(|m| m.printer.id.as_str()).collect();
    assert_eq!(ids, ["a-x1c", "b-octo"]);
    let Ok(PrinterConnection::Octoprint(c)) = &monitored[1].connection else {
        panic!("an opened octoprint connection")
    };
    assert_eq!(c.api_key.expose(), API_KEY);

    // Secrets sealed under another key do not open: the monitor is told, per printer.
    let other_key = PrinterService::new(
        Arc::new(ctx.store.clone()),
        Arc::new(RecordingPublisher::default()),
        Arc::new(SystemClock),
        Arc::new(KeyFileSealer::from_key([1; 32])),
    );
    let monitored = other_key.monitored().await.unwrap();
    assert!(monitored.iter().all(|m| m.connection.is_err()));
}

async fn status_is_written_read_and_goes_with_the_printer(ctx: Ctx) {
    create(&ctx, "x1c", Some(bambu())).await;
    let printing = PrinterStatus {
        state: PrinterState::Printing,
        online: true,
        file: Some("Benchy.gcode.3mf".into()),
        progress: Some(42.5),
        remaining_s: Some(1260),
        ..PrinterStatus::default()
    };
    let now = printdesk_domain::Clock::now(&SystemClock);
    assert!(
        ctx.store
            .save_status(&id("x1c"), &printing, now)
            .await
            .unwrap()
    );
    assert_eq!(ctx.printers.get(&id("x1c")).await.unwrap().status, printing);
    let idle = PrinterStatus {
        state: PrinterState::Idle,
        online: true,
        ..PrinterStatus::default()
    };
    assert!(ctx.store.save_status(&id("x1c"), &idle, now).await.unwrap());
    assert_eq!(ctx.printers.list().await.unwrap()[0].status, idle);
    assert_eq!(
        ctx.store.list_monitored().await.unwrap()[0].status,
        idle,
        "the monitor sees the last status too"
    );
    assert!(
        !ctx.store
            .save_status(&id("nope"), &idle, now)
            .await
            .unwrap()
    );

    // Paused: the stored status is stale and shown as unknown.
    let paused = ctx
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
    assert_eq!(paused.status, PrinterStatus::default());

    // Deleting the printer deletes its status; a new printer of that id starts unknown.
    ctx.printers
        .delete(&id("x1c"), &printdesk_domain::Actor::anonymous())
        .await
        .unwrap();
    let again = create(&ctx, "x1c", Some(bambu())).await;
    assert_eq!(
        ctx.printers.get(&again.id).await.unwrap().status,
        PrinterStatus::default()
    );
}

async fn printers_without_connections_still_read_as_before(ctx: Ctx) {
    let manual = create(&ctx, "manual", None).await;
    assert_eq!(manual.connection, None);
    assert!(!manual.monitoring);
    assert_eq!(ctx.printers.get(&id("manual")).await.unwrap(), manual);
    assert!(ctx.printers.monitored().await.unwrap().is_empty());
}

async fn concurrent_edits_of_different_fields_all_land(ctx: Ctx) {
    create(&ctx, "x1c", Some(bambu())).await;
    // Each edit reads the printer and writes it whole: without the row lock, two edits that
    // read the same state would each write back the other's field unchanged.
    let edits = [
        PrinterPatch {
            name: Some("Renamed".into()),
            ..PrinterPatch::default()
        },
        PrinterPatch {
            location: set("Shelf 9"),
            ..PrinterPatch::default()
        },
        host_patch("10.0.0.77"),
        PrinterPatch {
            connection: Nullable::Set(ConnectionPatch {
                port: Nullable::Set(1883),
                ..ConnectionPatch::default()
            }),
            ..PrinterPatch::default()
        },
        PrinterPatch {
            printer_type: Some("other".into()),
            ..PrinterPatch::default()
        },
        PrinterPatch {
            monitoring: Some(false),
            ..PrinterPatch::default()
        },
    ];
    let tasks: Vec<_> = edits
        .into_iter()
        .map(|patch| {
            let printers = ctx.printers.clone();
            tokio::spawn(async move { printers.update(&id("x1c"), patch).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let printer = ctx.printers.get(&id("x1c")).await.unwrap();
    assert_eq!(printer.name.as_str(), "Renamed");
    assert_eq!(printer.location.as_deref(), Some("Shelf 9"));
    assert_eq!(printer.printer_type.as_str(), "other");
    assert!(!printer.monitoring);
    let Some(PrinterConnection::BambuLab(c)) = printer.connection else {
        panic!("a bambu_lab connection")
    };
    assert_eq!((c.host.as_str(), c.port), ("10.0.0.77", 1883));
}
