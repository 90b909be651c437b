//! Printers: their rules, registering them, and what deleting one does to its jobs.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    CreatePrinterError, DeletePrinterError, EventKind, FieldChange, GetPrinterError, JobDraft,
    JobField, JobPatch, NewPrinter, Nullable, PrinterId, PrinterName, PrinterType,
    ValidationErrors, Version, VersionCondition, testing::TestSealer,
};
use serde_json::{Value, json};
use support::{T0, World, anon, fields, named, pairs};
use time::Duration;

/// The rules a refused registration broke.
fn invalid(error: CreatePrinterError) -> ValidationErrors {
    match error {
        CreatePrinterError::Invalid(errors) => errors,
        other => panic!("not a validation error: {other:?}"),
    }
}

const ID_SHAPE: &str = "must be 1–64 characters of a–z, 0–9, '-' or '_'";

fn new_printer(id: Option<&str>, name: &str, printer_type: &str) -> NewPrinter {
    NewPrinter {
        id: id.map(Into::into),
        name: name.into(),
        printer_type: printer_type.into(),
        location: None,
        ..NewPrinter::default()
    }
}

// ---------------------------------------------------------------------------------------------
// PrinterId: a UUID or a slug, 1–64 of [a-z0-9_-]
// ---------------------------------------------------------------------------------------------

#[test]
fn printer_id_accepts_slugs_and_uuids() {
    let max = "a".repeat(64);
    for ok in [
        "bambu-x1c-1",
        "a",
        "0",
        "-",
        "_",
        "mk4_left",
        max.as_str(),
        "0192f7a4-3c1e-7d2a-9f00-4b8e1c2d3e4f",
    ] {
        let id = PrinterId::parse(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        assert_eq!(id.as_str(), ok);
        assert_eq!(id.to_string(), ok);
    }
    assert!(PrinterId::parse(PrinterId::generate().as_str()).is_ok());
}

#[test]
fn printer_id_rejects_anything_else() {
    let too_long = "a".repeat(65);
    for bad in [
        "",
        too_long.as_str(),
        "Bambu",
        "X1C",
        "a b",
        " a",
        "a.b",
        "a/b",
        "é",
        "ａ", // full-width a
        "0192F7A4-3C1E-7D2A-9F00-4B8E1C2D3E4F",
    ] {
        let violation = PrinterId::parse(bad).unwrap_err();
        assert_eq!(violation.field, "printer_id", "{bad:?}");
        assert_eq!(violation.message, ID_SHAPE, "{bad:?}");
    }
}

#[test]
fn printer_id_round_trips_through_json_and_rejects_bad_shapes() {
    let id: PrinterId = serde_json::from_value(json!("mk4-1")).unwrap();
    assert_eq!(serde_json::to_value(&id).unwrap(), json!("mk4-1"));
    assert!(serde_json::from_value::<PrinterId>(json!("MK4")).is_err());
}

// ---------------------------------------------------------------------------------------------
// PrinterName: 1–100 characters, trimmed
// ---------------------------------------------------------------------------------------------

#[test]
fn printer_name_is_trimmed() {
    assert_eq!(
        PrinterName::parse("  Prusa MK4 #1 \t").unwrap().as_str(),
        "Prusa MK4 #1"
    );
}

#[test]
fn printer_name_is_required() {
    for blank in ["", "   ", "\n"] {
        let violation = PrinterName::parse(blank).unwrap_err();
        assert_eq!(
            (violation.field.as_str(), violation.message.as_str()),
            ("name", "must not be empty")
        );
    }
}

#[test]
fn printer_name_is_at_most_100_unicode_scalar_values() {
    assert_eq!(
        PrinterName::parse("ñ".repeat(100)).unwrap().as_str(),
        "ñ".repeat(100)
    );
    assert!(PrinterName::parse(format!(" {} ", "ñ".repeat(100))).is_ok());
    let violation = PrinterName::parse("ñ".repeat(101)).unwrap_err();
    assert_eq!(
        (violation.field.as_str(), violation.message.as_str()),
        ("name", "must be at most 100 characters")
    );
}

// ---------------------------------------------------------------------------------------------
// NewPrinter: every rule at once, printer_type one of five
// ---------------------------------------------------------------------------------------------

#[test]
fn printer_type_is_one_of_five() {
    let names: Vec<_> = PrinterType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        names,
        ["bambu_lab", "prusa", "octoprint", "klipper", "other"]
    );

    for t in PrinterType::ALL {
        let printer = new_printer(Some("p"), "P", t.as_str())
            .validate(T0, &TestSealer)
            .map_err(invalid)
            .unwrap();
        assert_eq!(printer.printer_type, t);
        assert_eq!(t.as_str().parse::<PrinterType>(), Ok(t));
        assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
    }

    for bad in [
        "",
        "Prusa",
        "bambu",
        "bambu-lab",
        "BAMBU_LAB",
        "creality",
        " prusa",
    ] {
        let errors = new_printer(Some("p"), "P", bad)
            .validate(T0, &TestSealer)
            .map_err(invalid)
            .unwrap_err();
        assert_eq!(
            pairs(&errors),
            [(
                "printer_type",
                "must be one of bambu_lab, prusa, octoprint, klipper, other"
            )],
            "{bad:?}"
        );
    }
}

#[test]
fn new_printer_reports_every_violation_at_once() {
    let errors = NewPrinter {
        id: Some("Not An Id".into()),
        name: "  ".into(),
        printer_type: "creality".into(),
        location: Some("l".repeat(201)),
        ..NewPrinter::default()
    }
    .validate(T0, &TestSealer)
    .map_err(invalid)
    .unwrap_err();
    assert_eq!(fields(&errors), ["id", "name", "printer_type", "location"]);
    assert_eq!(errors.violations()[0].message, ID_SHAPE);
}

#[test]
fn new_printer_trims_its_fields_and_drops_a_blank_location() {
    let printer = NewPrinter {
        id: Some("mk4-1".into()),
        name: "  MK4  ".into(),
        printer_type: "prusa".into(),
        location: Some("  Shelf 2 ".into()),
        ..NewPrinter::default()
    }
    .validate(T0, &TestSealer)
    .map_err(invalid)
    .unwrap();
    assert_eq!(printer.id.as_str(), "mk4-1");
    assert_eq!(printer.name.as_str(), "MK4");
    assert_eq!(printer.location.as_deref(), Some("Shelf 2"));
    assert_eq!(printer.created_at, T0);

    let printer = NewPrinter {
        location: Some("   ".into()),
        ..new_printer(Some("mk4-1"), "MK4", "prusa")
    }
    .validate(T0, &TestSealer)
    .map_err(invalid)
    .unwrap();
    assert_eq!(printer.location, None);
}

#[test]
fn new_printer_without_an_id_gets_a_generated_one() {
    let a = new_printer(None, "A", "other")
        .validate(T0, &TestSealer)
        .map_err(invalid)
        .unwrap();
    let b = new_printer(None, "B", "other")
        .validate(T0, &TestSealer)
        .map_err(invalid)
        .unwrap();
    assert_ne!(a.id, b.id);
    assert!(PrinterId::parse(a.id.as_str()).is_ok());
    assert!(uuid::Uuid::parse_str(a.id.as_str()).is_ok());
}

// ---------------------------------------------------------------------------------------------
// PrinterService
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_registered_printer_can_be_read_and_listed() {
    let w = World::new();
    let created = w
        .printers
        .create(NewPrinter {
            location: Some("Lab".into()),
            ..new_printer(Some("x1c"), "Bambu X1C", "bambu_lab")
        })
        .await
        .unwrap();
    assert_eq!(created.created_at, T0);
    let id = PrinterId::parse("x1c").unwrap();
    assert_eq!(w.printers.get(&id).await.unwrap(), created);
    assert_eq!(w.printers.list().await.unwrap(), [created]);
}

#[tokio::test]
async fn printers_are_listed_by_name() {
    let w = World::new();
    for (id, name) in [("c", "Zeta"), ("a", "Alpha"), ("b", "Mid")] {
        w.printers
            .create(new_printer(Some(id), name, "other"))
            .await
            .unwrap();
    }
    let names: Vec<_> = w
        .printers
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name.as_str().to_owned())
        .collect();
    assert_eq!(names, ["Alpha", "Mid", "Zeta"]);
}

#[tokio::test]
async fn an_invalid_printer_is_not_registered() {
    let w = World::new();
    let result = w
        .printers
        .create(new_printer(Some("ok"), "", "prusa"))
        .await;
    match result {
        Err(CreatePrinterError::Invalid(errors)) => assert_eq!(fields(&errors), ["name"]),
        other => panic!("expected a validation failure, got {other:?}"),
    }
    assert!(w.printers.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_duplicate_printer_id_is_refused() {
    let w = World::new();
    let first = w
        .printers
        .create(new_printer(Some("mk4-1"), "First", "prusa"))
        .await
        .unwrap();

    let result = w
        .printers
        .create(new_printer(Some("mk4-1"), "Second", "klipper"))
        .await;
    assert_eq!(
        result,
        Err(CreatePrinterError::Duplicate {
            id: PrinterId::parse("mk4-1").unwrap()
        })
    );
    assert_eq!(w.printers.get(&first.id).await.unwrap(), first);
    assert_eq!(w.printers.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_missing_printer_is_not_found() {
    let w = World::new();
    let id = PrinterId::parse("nope").unwrap();
    assert_eq!(w.printers.get(&id).await, Err(GetPrinterError::NotFound));
    assert_eq!(
        w.printers.delete(&id, &anon()).await,
        Err(DeletePrinterError::NotFound)
    );
}

#[tokio::test]
async fn deleting_a_printer_detaches_its_jobs_and_never_deletes_them() {
    let w = World::new();
    let doomed = w.printer("doomed").await;
    w.printer("survivor").await;
    let on = |id: &str, name: &str| JobDraft {
        printer_id: Some(id.into()),
        ..named(name)
    };
    let a = w.job(on("doomed", "A")).await;
    let b = w.job(on("doomed", "B")).await;
    let c = w.job(on("survivor", "C")).await;
    let d = w.named_job("D").await;
    let published_before = w.published().len();
    let t = w.clock.advance(Duration::minutes(10));

    w.printers.delete(&doomed.id, &anon()).await.unwrap();

    // The printer is gone.
    assert_eq!(
        w.printers.get(&doomed.id).await,
        Err(GetPrinterError::NotFound)
    );

    // Its jobs are now manual jobs, versioned like any other change.
    for before in [&a, &b] {
        let after = w.stored(before.id).await;
        assert_eq!(after.printer_id, None);
        assert_eq!(after.version, Version::new(2));
        assert_eq!(after.updated_at, t);
        assert_eq!(after.job_name, before.job_name);
        assert_eq!(after.created_at, before.created_at);
    }
    // Other jobs are untouched; no job was deleted.
    assert_eq!(w.stored(c.id).await, c);
    assert_eq!(w.stored(d.id).await, d);
    assert_eq!(
        w.jobs.list(&Default::default()).await.unwrap().total_count,
        4
    );

    // One job_updated per detached job, carrying only the printer change.
    let published = w.published();
    let new_events = &published[published_before..];
    assert_eq!(new_events.len(), 2);
    let mut detached: Vec<_> = new_events.iter().map(|e| e.job_id).collect();
    detached.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(detached, expected);
    for event in new_events {
        assert_eq!(event.kind, EventKind::JobUpdated);
        assert_eq!(event.at, t);
        assert_eq!(event.job, w.stored(event.job_id).await);
        let changes: Vec<_> = event.changes.iter().collect();
        assert_eq!(
            changes,
            [(
                JobField::PrinterId,
                &FieldChange {
                    old: json!("doomed"),
                    new: Value::Null
                }
            )]
        );
    }
    assert_eq!(w.logged(), published);
}

#[tokio::test]
async fn deleting_a_printer_without_jobs_publishes_nothing() {
    let w = World::new();
    let idle = w.printer("idle").await;
    w.named_job("manual").await;
    w.printers.delete(&idle.id, &anon()).await.unwrap();
    assert_eq!(w.published().len(), 1);
    assert!(w.printers.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deleted_printer_can_no_longer_be_named_by_a_job() {
    let w = World::new();
    let printer = w.printer("gone").await;
    w.printers.delete(&printer.id, &anon()).await.unwrap();
    let errors = support::create_violations(
        w.jobs
            .create(
                JobDraft {
                    printer_id: Some("gone".into()),
                    ..named("Benchy")
                },
                &anon(),
            )
            .await,
    );
    assert_eq!(
        pairs(&errors),
        [("printer_id", "names no printer ('gone')")]
    );
}

#[tokio::test]
async fn a_detached_job_can_be_edited_with_its_new_version() {
    let w = World::new();
    let printer = w.printer("gone").await;
    let job = w
        .job(JobDraft {
            printer_id: Some("gone".into()),
            ..named("Benchy")
        })
        .await;
    w.printers.delete(&printer.id, &anon()).await.unwrap();

    // A client that read the job before the printer went holds a stale version.
    let stale = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("x".into()),
                ..Default::default()
            },
            VersionCondition::from(Version::FIRST),
            &anon(),
        )
        .await;
    assert!(stale.is_err());
    let fresh = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("x".into()),
                ..Default::default()
            },
            VersionCondition::from(Version::new(2)),
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(fresh.version, Version::new(3));
}
