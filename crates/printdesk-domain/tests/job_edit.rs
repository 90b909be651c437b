//! The job edit (`PUT /jobs/{id}`) through `JobService::edit`: partial updates, no-op edits,
//! the effects of a real change, `If-Match`, and what is (not) saved when the edit is refused.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    Actor, EditJobError, EventKind, FieldChange, Job, JobDraft, JobField, JobId, JobPatch,
    JobStatus, Notes, Nullable, Version, VersionCondition,
};
use serde_json::{Value, json};
use support::{T0, World, anon, edit_violations, fields, named};
use time::Duration;

/// A job with every optional field filled, on printer `mk4-1`.
async fn full_job(w: &World) -> Job {
    w.printer("mk4-1").await;
    w.job(JobDraft {
        job_name: "Bracket".into(),
        status: JobStatus::Running,
        is_business: true,
        customer_name: Some("ACME".into()),
        notes: Some("PETG".into()),
        file_name: Some("bracket.3mf".into()),
        printer_id: Some("mk4-1".into()),
    })
    .await
}

fn change(old: Value, new: Value) -> FieldChange {
    FieldChange { old, new }
}

// ---------------------------------------------------------------------------------------------
// Partial update: absent keeps, null clears, a value sets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn absent_fields_keep_their_stored_values() {
    let w = World::new();
    let job = full_job(&w).await;

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("PETG, 0.6 nozzle".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    assert_eq!(
        edited,
        Job {
            notes: Some(Notes::parse("PETG, 0.6 nozzle").unwrap()),
            version: Version::new(2),
            ..job
        }
    );
}

#[tokio::test]
async fn null_clears_every_nullable_field() {
    let w = World::new();
    let job = full_job(&w).await;

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                is_business: Some(false),
                customer_name: Nullable::Clear,
                notes: Nullable::Clear,
                file_name: Nullable::Clear,
                printer_id: Nullable::Clear,
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    assert_eq!(edited.customer_name, None);
    assert_eq!(edited.notes, None);
    assert_eq!(edited.file_name, None);
    assert_eq!(edited.printer_id, None);
    assert_eq!(edited.job_name, job.job_name);
    assert_eq!(edited.status, job.status);
}

#[tokio::test]
async fn server_owned_fields_are_not_touched_by_an_edit() {
    let w = World::new();
    let job = full_job(&w).await;
    w.clock.advance(Duration::minutes(5));

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                // running → pending is no move of the workflow: a plain correction, which
                // leaves the print times alone (a workflow move sets them: tests/workflow.rs).
                status: Some(JobStatus::Pending),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    assert_eq!(edited.id, job.id);
    assert_eq!(edited.created_at, job.created_at);
    assert_eq!(edited.started_at, job.started_at);
    assert_eq!(edited.completed_at, job.completed_at);
    assert_eq!(edited.auto_created, job.auto_created);
    assert_eq!(edited.discovery_time, job.discovery_time);
}

// ---------------------------------------------------------------------------------------------
// `{}` and edits that set what is already stored change nothing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn empty_patch_returns_the_job_with_version_unchanged_and_publishes_nothing() {
    let w = World::new();
    let job = full_job(&w).await;
    w.clock.advance(Duration::minutes(1));

    let returned = w
        .jobs
        .edit(job.id, JobPatch::default(), VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(returned, job);
    assert_eq!(returned.version, Version::FIRST);
    assert_eq!(returned.updated_at, T0);

    // With the current version as If-Match it is the same.
    let returned = w
        .jobs
        .edit(
            job.id,
            JobPatch::default(),
            VersionCondition::from(job.version),
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(returned, job);

    assert_eq!(w.stored(job.id).await, job);
    assert_eq!(w.logged().len(), 1);
    assert_eq!(w.published().len(), 1);
}

#[tokio::test]
async fn an_edit_that_sets_the_stored_values_changes_nothing() {
    let w = World::new();
    let job = full_job(&w).await;
    w.clock.advance(Duration::minutes(1));

    // Every field sent, each equal to what is stored once normalised (the names are trimmed).
    let returned = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                job_name: Some("  Bracket ".into()),
                status: Some(JobStatus::Running),
                is_business: Some(true),
                customer_name: Nullable::Set(" ACME".into()),
                notes: Nullable::Set("PETG".into()),
                file_name: Nullable::Set("bracket.3mf".into()),
                printer_id: Nullable::Set("mk4-1".into()),
            },
            VersionCondition::from(Version::FIRST),
            &anon(),
        )
        .await
        .unwrap();

    assert_eq!(returned, job);
    assert_eq!(returned.version, Version::FIRST);
    assert_eq!(returned.updated_at, T0, "updated_at only moves on a change");
    assert_eq!(w.stored(job.id).await, job);
    assert_eq!(w.logged().len(), 1, "no event logged");
    assert_eq!(w.published().len(), 1, "no event published");
}

#[tokio::test]
async fn clearing_a_field_that_is_already_null_changes_nothing() {
    let w = World::new();
    let job = w.named_job("Benchy").await;

    let returned = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Clear,
                customer_name: Nullable::Set("   ".into()),
                printer_id: Nullable::Clear,
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(returned, job);
    assert_eq!(w.published().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Effects of a real change: version +1, updated_at, one job_updated event with the changes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_change_bumps_the_version_by_one_and_sets_updated_at() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let t1 = w.clock.advance(Duration::seconds(90));

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("re-sliced".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    assert_eq!(edited.version, Version::new(2));
    assert_eq!(edited.updated_at, t1);
    assert_eq!(edited.created_at, T0);
    assert_eq!(
        w.stored(job.id).await,
        edited,
        "the returned change is stored"
    );

    let t2 = w.clock.advance(Duration::seconds(1));
    let again = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                status: Some(JobStatus::Running),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(again.version, Version::new(3));
    assert_eq!(again.updated_at, t2);
}

#[tokio::test]
async fn a_change_bumps_the_version_once_however_many_fields_change() {
    let w = World::new();
    let job = w.named_job("Benchy").await;

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                job_name: Some("Benchy v2".into()),
                status: Some(JobStatus::Completed),
                notes: Nullable::Set("done".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.version, Version::new(2));
}

#[tokio::test]
async fn a_change_publishes_exactly_one_job_updated_event_with_only_the_changed_fields() {
    let w = World::new();
    let job = full_job(&w).await;
    let t1 = w.clock.advance(Duration::seconds(3));

    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                job_name: Some("Bracket".into()),          // same: not a change
                status: Some(JobStatus::Completed),        // running → completed
                notes: Nullable::Clear,                    // "PETG" → null
                file_name: Nullable::Set("b2.3mf".into()), // bracket.3mf → b2.3mf
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &Actor::named("alice"),
        )
        .await
        .unwrap();

    let published = w.published();
    assert_eq!(
        published.len(),
        2,
        "job_created, then exactly one job_updated"
    );
    let event = published.last().unwrap();
    assert_eq!(event.kind, EventKind::JobUpdated);
    assert_eq!(event.job_id, job.id);
    assert_eq!(
        event.job, edited,
        "the event carries the job as GET returns it"
    );
    assert_eq!(event.at, t1);
    assert_eq!(event.actor.as_deref(), Some("alice"));

    let changes: Vec<(JobField, FieldChange)> =
        event.changes.iter().map(|(f, c)| (f, c.clone())).collect();
    assert_eq!(
        changes,
        [
            (
                JobField::Status,
                change(json!("running"), json!("completed"))
            ),
            (JobField::Notes, change(json!("PETG"), Value::Null)),
            (
                JobField::FileName,
                change(json!("bracket.3mf"), json!("b2.3mf"))
            ),
            // running → completed is a workflow move: the edit keeps the print times true.
            (
                JobField::CompletedAt,
                change(Value::Null, json!("2026-11-28T16:34:31.123Z"))
            ),
        ]
    );

    // The wire form is the contract's `changes` object.
    assert_eq!(
        serde_json::to_value(&event.changes).unwrap(),
        json!({
            "status": { "old": "running", "new": "completed" },
            "notes": { "old": "PETG", "new": null },
            "file_name": { "old": "bracket.3mf", "new": "b2.3mf" },
            "completed_at": { "old": null, "new": "2026-11-28T16:34:31.123Z" },
        })
    );

    // What was published is what was logged.
    assert_eq!(w.logged(), published);
}

#[tokio::test]
async fn a_change_from_null_records_null_as_the_old_value() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    w.jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("re-sliced".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    let event = w.published().pop().unwrap();
    assert_eq!(event.changes.len(), 1);
    assert_eq!(
        event.changes.get(JobField::Notes),
        Some(&change(Value::Null, json!("re-sliced")))
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency: If-Match
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn if_match_with_the_current_version_is_applied() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let edited = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("a".into()),
                ..JobPatch::default()
            },
            VersionCondition::from(Version::FIRST),
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.version, Version::new(2));
}

#[tokio::test]
async fn if_match_with_a_stale_version_is_refused_with_the_current_job_and_nothing_saved() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let v2 = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("first writer".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    let before = (w.logged().len(), w.published().len());

    // A client that still holds version 1.
    let result = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("second writer".into()),
                ..JobPatch::default()
            },
            VersionCondition::from(Version::FIRST),
            &anon(),
        )
        .await;

    match result {
        Err(EditJobError::VersionMismatch { current }) => assert_eq!(*current, v2),
        other => panic!("expected a version mismatch, got {other:?}"),
    }
    assert_eq!(w.stored(job.id).await, v2);
    assert_eq!((w.logged().len(), w.published().len()), before);
}

#[tokio::test]
async fn if_match_with_a_stale_version_is_refused_even_for_an_empty_patch() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let result = w
        .jobs
        .edit(
            job.id,
            JobPatch::default(),
            VersionCondition::from(Version::new(7)),
            &anon(),
        )
        .await;
    assert_eq!(
        result,
        Err(EditJobError::VersionMismatch {
            current: Box::new(job)
        })
    );
}

#[tokio::test]
async fn if_match_is_checked_before_the_rules() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let result = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                job_name: Some(String::new()),
                ..JobPatch::default()
            },
            VersionCondition::from(Version::new(2)),
            &anon(),
        )
        .await;
    assert!(matches!(result, Err(EditJobError::VersionMismatch { .. })));
}

#[tokio::test]
async fn without_if_match_the_last_write_wins() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    for (i, notes) in ["one", "two", "three"].into_iter().enumerate() {
        let edited = w
            .jobs
            .edit(
                job.id,
                JobPatch {
                    notes: Nullable::Set(notes.into()),
                    ..JobPatch::default()
                },
                VersionCondition::Any,
                &anon(),
            )
            .await
            .unwrap();
        assert_eq!(edited.version, Version::new(i as i64 + 2));
    }
    assert_eq!(w.stored(job.id).await.notes.unwrap().as_str(), "three");
}

#[tokio::test]
async fn concurrent_edits_with_the_same_if_match_let_exactly_one_win() {
    let w = World::new();
    let job = w.named_job("Benchy").await;

    let edits = (0..8).map(|i| {
        let jobs = w.jobs.clone();
        tokio::spawn(async move {
            jobs.edit(
                job.id,
                JobPatch {
                    notes: Nullable::Set(format!("writer {i}")),
                    ..JobPatch::default()
                },
                VersionCondition::from(Version::FIRST),
                &Actor::anonymous(),
            )
            .await
        })
    });
    let mut won = Vec::new();
    for edit in edits.collect::<Vec<_>>() {
        match edit.await.unwrap() {
            Ok(job) => won.push(job),
            Err(EditJobError::VersionMismatch { current }) => {
                assert_eq!(current.version, Version::new(2));
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won.len(), 1);
    assert_eq!(w.stored(job.id).await, won[0]);
    assert_eq!(w.published().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// A job that does not exist
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn editing_a_missing_job_is_not_found() {
    let w = World::new();
    w.named_job("Benchy").await;
    let missing = JobId::generate();

    assert_eq!(
        w.jobs
            .edit(missing, JobPatch::default(), VersionCondition::Any, &anon())
            .await,
        Err(EditJobError::NotFound)
    );
    assert_eq!(
        w.jobs
            .edit(
                missing,
                JobPatch {
                    notes: Nullable::Set("x".into()),
                    ..JobPatch::default()
                },
                VersionCondition::from(Version::FIRST),
                &anon(),
            )
            .await,
        Err(EditJobError::NotFound)
    );
    assert_eq!(w.logged().len(), 1);
}

#[tokio::test]
async fn a_refused_edit_leaves_the_store_and_the_event_log_as_they_were() {
    let w = World::new();
    let job = full_job(&w).await;

    // Every way an edit can be refused for its content.
    let refused = [
        JobPatch {
            job_name: Some(" ".into()),
            ..JobPatch::default()
        },
        JobPatch {
            customer_name: Nullable::Clear,
            ..JobPatch::default()
        },
        JobPatch {
            notes: Nullable::Set("n".repeat(1001)),
            ..JobPatch::default()
        },
        JobPatch {
            status: Some(JobStatus::Failed),
            printer_id: Nullable::Set("ghost".into()),
            ..JobPatch::default()
        },
        JobPatch {
            printer_id: Nullable::Set("GHOST".into()),
            ..JobPatch::default()
        },
    ];
    for patch in refused {
        let errors = edit_violations(
            w.jobs
                .edit(job.id, patch, VersionCondition::Any, &anon())
                .await,
        );
        assert_eq!(fields(&errors).len(), 1);
    }

    assert_eq!(w.stored(job.id).await, job);
    assert_eq!(w.logged().len(), 1);
    assert_eq!(w.published().len(), 1);
}

#[tokio::test]
async fn a_created_job_starts_the_audit_trail() {
    let w = World::new();
    let job = w.job(named("Benchy")).await;
    let events = w.logged();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::JobCreated);
    assert_eq!(events[0].job, job);
}

/// `If-Match` with several tags: the edit (and the status move) goes ahead when any of them
/// is the current version; a list naming none of them, or empty (only tags that are not
/// versions), is refused with the current job.
#[tokio::test]
async fn if_match_with_several_versions_admits_any_of_them() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let notes = |text: &str| JobPatch {
        notes: Nullable::Set(text.into()),
        ..JobPatch::default()
    };
    for refused in [vec![], vec![Version::new(2), Version::new(3)]] {
        assert_eq!(
            w.jobs
                .edit(
                    job.id,
                    notes("refused"),
                    VersionCondition::OneOf(refused.clone()),
                    &anon()
                )
                .await,
            Err(EditJobError::VersionMismatch {
                current: Box::new(job.clone())
            })
        );
        assert!(matches!(
            w.jobs
                .change_status(
                    job.id,
                    JobStatus::Running,
                    false,
                    VersionCondition::OneOf(refused),
                    &anon()
                )
                .await,
            Err(EditJobError::VersionMismatch { .. })
        ));
    }
    let edited = w
        .jobs
        .edit(
            job.id,
            notes("admitted"),
            VersionCondition::OneOf(vec![Version::new(9), Version::FIRST]),
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(edited.version, Version::new(2));
    let moved = w
        .jobs
        .change_status(
            job.id,
            JobStatus::Running,
            false,
            VersionCondition::OneOf(vec![Version::FIRST, Version::new(2)]),
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(moved.status, JobStatus::Running);
}
