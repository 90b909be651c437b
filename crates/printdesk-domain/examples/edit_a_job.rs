//! Editing a print job with nothing but the domain crate and its in-memory adapters.
//!
//! ```text
//! cargo run -p printdesk-domain --example edit_a_job --features testing
//! ```
//!
//! The same `JobService` runs in the HTTP server on the Diesel store; here the ports are
//! filled by `testing::InMemoryStore` (jobs, printers and the event log) and
//! `testing::RecordingPublisher` (which keeps every event it is handed for live listeners).

use std::sync::Arc;

use printdesk_domain::{
    Actor, EditJobError, JobDraft, JobPatch, JobService, JobStatus, NewPrinter, Nullable,
    PrinterService, SystemClock, VersionCondition,
    testing::{InMemoryStore, RecordingPublisher, TestSealer},
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Wire the services to their ports. One store plays both the job and the printer
    //    repository, so a printer delete can detach its jobs in the same "transaction".
    let store = Arc::new(InMemoryStore::default());
    let publisher = Arc::new(RecordingPublisher::default());
    let clock = Arc::new(SystemClock);
    let jobs = JobService::new(
        store.clone(),
        store.clone(),
        publisher.clone(),
        clock.clone(),
    );
    let printers = PrinterService::new(
        store.clone(),
        publisher.clone(),
        clock,
        Arc::new(TestSealer),
    );
    let alice = Actor::named("alice");

    // 2. Register a printer: jobs may only name printers that exist.
    let printer = printers
        .create(NewPrinter {
            id: Some("mk4-1".into()),
            name: "Prusa MK4 (left)".into(),
            printer_type: "prusa".into(),
            location: Some("Shelf 2".into()),
            ..NewPrinter::default()
        })
        .await?;
    println!(
        "registered printer {} ({})",
        printer.id,
        printer.name.as_str()
    );

    // 3. Create a job. A `JobDraft` holds raw client input; the service trims and checks it
    //    with exactly the rules the edit uses.
    let job = jobs
        .create(
            JobDraft {
                job_name: "  Bracket  ".into(), // stored trimmed: "Bracket"
                is_business: true,
                customer_name: Some("ACME".into()), // business jobs need a customer
                printer_id: Some("mk4-1".into()),
                ..JobDraft::default() // status defaults to pending
            },
            &alice,
        )
        .await?;
    println!(
        "created job {} '{}' [{}], version {}",
        job.id,
        job.job_name.as_str(),
        job.status,
        job.version
    );

    // 4. Edit it. A `JobPatch` is a partial update: `None`/`Nullable::Keep` keep the stored
    //    value, `Nullable::Clear` is JSON null, `Set` stores a value. Passing the version we
    //    read is the `If-Match` header.
    let edited = jobs
        .edit(
            job.id,
            JobPatch {
                status: Some(JobStatus::Running),
                notes: Nullable::Set("re-sliced at 0.2 mm".into()),
                ..JobPatch::default()
            },
            VersionCondition::from(job.version),
            &alice,
        )
        .await?;
    println!(
        "edited: status {}, notes {:?}, version {} -> {}",
        edited.status,
        edited.notes.as_ref().map(|n| n.as_str()),
        job.version,
        edited.version
    );

    // The change was published as one `job_updated` event listing only what changed.
    let event = publisher
        .events()
        .pop()
        .expect("the edit published an event");
    println!(
        "published event #{} {}: {}",
        event.seq,
        event.kind.as_str(),
        serde_json::to_string(&event.changes)?
    );

    // 5. A validation failure: every broken rule is reported at once, each with its field,
    //    and nothing is saved. Here the business job loses its customer, the name is blank
    //    and the printer does not exist.
    let refused = jobs
        .edit(
            job.id,
            JobPatch {
                job_name: Some("   ".into()),
                customer_name: Nullable::Clear,
                printer_id: Nullable::Set("no-such-printer".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &alice,
        )
        .await;
    match refused {
        Err(EditJobError::Invalid(errors)) => {
            println!("refused (400): {errors}");
            for v in errors.violations() {
                println!("  - {}: {}", v.field, v.message);
            }
        }
        other => println!("unexpected: {other:?}"),
    }

    // 6. A version conflict: someone still holding version 1 tries to edit. They get the
    //    current job back (the 412 body's `current`) and nothing is saved.
    let stale = jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Clear,
                ..JobPatch::default()
            },
            VersionCondition::from(job.version),
            &Actor::named("bob"),
        )
        .await;
    match stale {
        Err(EditJobError::VersionMismatch { current }) => println!(
            "conflict (412): the job is at version {} now, not {}",
            current.version, job.version
        ),
        other => println!("unexpected: {other:?}"),
    }

    // 7. Nothing the refused edits sent was stored, and the log holds just the two changes.
    let stored = jobs.get(job.id).await?;
    assert_eq!(stored, edited);
    println!(
        "stored job is still version {}; event log: {}",
        stored.version,
        store
            .events()
            .iter()
            .map(|e| format!("#{} {}", e.seq, e.kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
