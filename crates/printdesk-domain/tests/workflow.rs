#![cfg(feature = "testing")]
//! The status workflow (one test per cell of the transition table) and the bulk edit.

mod support;

use std::collections::HashMap;

use time::Duration;

use JobStatus::*;
use printdesk_domain::{
    BulkEditError, Clock, EditJobError, JobDraft, JobField, JobId, JobPatch, JobQuery,
    JobRepository, JobStatus, Nullable, TransitionError, Version, VersionCondition,
};
use support::{World, anon, named};

/// Puts a fresh job into `status` through the plain edit (the correction tool, which does not
/// touch the workflow's timestamps).
async fn job_in(world: &World, status: JobStatus) -> printdesk_domain::Job {
    let job = world.named_job("cell").await;
    let patch = JobPatch {
        status: Some(status),
        ..JobPatch::default()
    };
    world
        .jobs
        .edit(job.id, patch, VersionCondition::Any, &anon())
        .await
        .unwrap()
}

/// What the table says for every (from, to, force) cell: `Some(true)` allowed, `Some(false)`
/// refused as needing force, `None` not allowed at all.
fn table(from: JobStatus, to: JobStatus) -> Option<bool> {
    match (from, to) {
        (Pending, Running)
        | (Pending, Failed)
        | (Running, Completed)
        | (Running, Failed)
        | (Failed, Pending) => Some(true),
        (Completed, Pending) => Some(false),
        _ => None,
    }
}

macro_rules! cell {
    ($name:ident, $from:expr, $to:expr) => {
        #[tokio::test]
        async fn $name() {
            check_cell($from, $to).await;
        }
    };
}

async fn check_cell(from: JobStatus, to: JobStatus) {
    for force in [false, true] {
        let world = World::new();
        let job = job_in(&world, from).await;
        world.clock.advance(Duration::seconds(60));
        let result = world
            .jobs
            .change_status(
                job.id,
                to,
                force,
                VersionCondition::from(job.version),
                &anon(),
            )
            .await;
        if from == to {
            assert_eq!(result.unwrap(), job, "same status is a no-op");
            continue;
        }
        match (table(from, to), force) {
            (Some(true), _) | (Some(false), true) => {
                let moved = result
                    .unwrap_or_else(|e| panic!("{from} -> {to} (force {force}) refused: {e}"));
                assert_eq!(moved.status, to);
                assert_eq!(moved.version, job.version.next());
            }
            (Some(false), false) => {
                assert_eq!(
                    result.unwrap_err(),
                    EditJobError::Transition(TransitionError::ForceRequired { from, to })
                );
                assert_eq!(world.stored(job.id).await, job);
            }
            (None, _) => {
                let err = result.unwrap_err();
                assert_eq!(
                    err,
                    EditJobError::Transition(TransitionError::NotAllowed { from, to })
                );
                assert_eq!(world.stored(job.id).await, job, "nothing saved");
            }
        }
    }
}

cell!(pending_to_pending, Pending, Pending);
cell!(pending_to_running, Pending, Running);
cell!(pending_to_completed, Pending, Completed);
cell!(pending_to_failed, Pending, Failed);
cell!(running_to_pending, Running, Pending);
cell!(running_to_running, Running, Running);
cell!(running_to_completed, Running, Completed);
cell!(running_to_failed, Running, Failed);
cell!(completed_to_pending, Completed, Pending);
cell!(completed_to_running, Completed, Running);
cell!(completed_to_completed, Completed, Completed);
cell!(completed_to_failed, Completed, Failed);
cell!(failed_to_pending, Failed, Pending);
cell!(failed_to_running, Failed, Running);
cell!(failed_to_completed, Failed, Completed);
cell!(failed_to_failed, Failed, Failed);

#[tokio::test]
async fn refusal_names_the_allowed_moves() {
    let err = TransitionError::NotAllowed {
        from: Pending,
        to: Completed,
    };
    assert_eq!(
        err.to_string(),
        "a pending job cannot move to completed; allowed moves: running, failed"
    );
}

#[tokio::test]
async fn timestamps_follow_the_workflow() {
    let world = World::new();
    let job = world.named_job("life").await;
    assert_eq!((job.started_at, job.completed_at), (None, None));

    let t1 = world.clock.advance(Duration::seconds(10));
    let running = world
        .jobs
        .change_status(job.id, Running, false, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!((running.started_at, running.completed_at), (Some(t1), None));

    let t2 = world.clock.advance(Duration::seconds(10));
    let failed = world
        .jobs
        .change_status(job.id, Failed, false, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(
        (failed.started_at, failed.completed_at),
        (Some(t1), Some(t2))
    );

    world.clock.advance(Duration::seconds(10));
    let retried = world
        .jobs
        .change_status(job.id, Pending, false, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(
        (retried.started_at, retried.completed_at),
        (Some(t1), None),
        "a retry clears completed_at"
    );

    world.clock.advance(Duration::seconds(10));
    let again = world
        .jobs
        .change_status(job.id, Running, false, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(again.started_at, Some(t1), "started_at is kept once set");

    let t5 = world.clock.advance(Duration::seconds(10));
    let done = world
        .jobs
        .change_status(job.id, Completed, false, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(done.completed_at, Some(t5));

    let event = world.published().pop().unwrap();
    assert!(
        event.changes.get(JobField::CompletedAt).is_some(),
        "the event carries the timestamp change"
    );
    assert!(event.changes.get(JobField::Status).is_some());
}

#[tokio::test]
async fn plain_edit_sets_any_status_and_leaves_timestamps_alone() {
    let world = World::new();
    let job = world.named_job("fix").await;
    let patch = JobPatch {
        status: Some(Completed),
        ..JobPatch::default()
    };
    let fixed = world
        .jobs
        .edit(job.id, patch, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(fixed.status, Completed);
    assert_eq!((fixed.started_at, fixed.completed_at), (None, None));
}

#[tokio::test]
async fn status_change_honours_if_match() {
    let world = World::new();
    let job = world.named_job("cas").await;
    let err = world
        .jobs
        .change_status(
            job.id,
            Running,
            false,
            VersionCondition::from(Version::new(9)),
            &anon(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EditJobError::VersionMismatch { .. }));
    assert_eq!(world.stored(job.id).await, job);
}

#[tokio::test]
async fn bulk_edit_changes_every_job_with_one_event_each() {
    let world = World::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(world.named_job(&format!("j{i}")).await.id);
    }
    let before = world.published().len();
    let patch = JobPatch {
        is_business: Some(true),
        customer_name: Nullable::Set("ACME".into()),
        ..JobPatch::default()
    };
    let jobs = world
        .jobs
        .bulk_edit(ids.clone(), patch, HashMap::new(), &anon())
        .await
        .unwrap();
    assert_eq!(
        jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        ids,
        "results in request order"
    );
    assert!(
        jobs.iter()
            .all(|j| j.is_business && j.version == Version::new(2))
    );
    assert_eq!(world.published().len() - before, 5);
}

#[tokio::test]
async fn bulk_edit_with_one_invalid_job_saves_nothing_and_names_it() {
    let world = World::new();
    let ok = world.named_job("fine").await;
    // Business jobs keep their customer unless the patch clears it; this one has none to keep.
    let bad = world
        .job(JobDraft {
            is_business: true,
            customer_name: Some("Old".into()),
            ..named("bad")
        })
        .await;
    let patch = JobPatch {
        customer_name: Nullable::Clear,
        ..JobPatch::default()
    };
    let err = world
        .jobs
        .bulk_edit(vec![ok.id, bad.id], patch, HashMap::new(), &anon())
        .await
        .unwrap_err();
    let BulkEditError::Rejected { failures } = err else {
        panic!("expected a rejection, got {err:?}")
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].id, bad.id);
    assert!(matches!(failures[0].error, EditJobError::Invalid(_)));
    assert_eq!(world.stored(ok.id).await, ok, "all or nothing");
    assert_eq!(world.stored(bad.id).await, bad);
}

#[tokio::test]
async fn bulk_edit_reports_missing_and_stale_jobs() {
    let world = World::new();
    let job = world.named_job("pinned").await;
    let ghost = JobId::generate();
    let pins = HashMap::from([(job.id, Version::new(5))]);
    let patch = JobPatch {
        notes: Nullable::Set("x".into()),
        ..JobPatch::default()
    };
    let err = world
        .jobs
        .bulk_edit(vec![job.id, ghost], patch, pins, &anon())
        .await
        .unwrap_err();
    let BulkEditError::Rejected { mut failures } = err else {
        panic!("{err:?}")
    };
    failures.sort_by_key(|f| f.id != job.id);
    assert!(matches!(
        failures[0].error,
        EditJobError::VersionMismatch { .. }
    ));
    assert_eq!(
        (failures[1].id, &failures[1].error),
        (ghost, &EditJobError::NotFound)
    );
}

#[tokio::test]
async fn bulk_edit_refuses_empty_duplicate_and_oversized_requests() {
    let world = World::new();
    let job = world.named_job("x").await;
    let patch = JobPatch {
        notes: Nullable::Set("x".into()),
        ..JobPatch::default()
    };
    for ids in [
        vec![],
        vec![job.id, job.id],
        (0..501).map(|_| JobId::generate()).collect(),
    ] {
        let err = world
            .jobs
            .bulk_edit(ids, patch.clone(), HashMap::new(), &anon())
            .await
            .unwrap_err();
        assert!(matches!(err, BulkEditError::Invalid(_)), "{err:?}");
    }
    let stray = HashMap::from([(JobId::generate(), Version::FIRST)]);
    let err = world
        .jobs
        .bulk_edit(vec![job.id], patch, stray, &anon())
        .await
        .unwrap_err();
    assert!(matches!(err, BulkEditError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn scan_pages_in_the_query_order_with_filters() {
    let world = World::new();
    for i in 0..7 {
        world
            .job(JobDraft {
                status: if i % 2 == 0 { Running } else { Pending },
                ..named(&format!("s{i}"))
            })
            .await;
    }
    let query = JobQuery {
        status: Some(Running),
        sort: "job_name:desc".parse().unwrap(),
        ..JobQuery::default()
    };
    let first = world.store.scan(&query, None, 3).await.unwrap();
    let rest = world.store.scan(&query, first.last(), 3).await.unwrap();
    let names: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|j| j.job_name.to_string())
        .collect();
    assert_eq!(names, ["s6", "s4", "s2", "s0"]);
}

// ---------------------------------------------------------------------------------------------
// The job edit's status correction keeps print times true (one test per cell)
// ---------------------------------------------------------------------------------------------

/// A job in `from` with both print times set at `t0` (so that each cell shows what it sets,
/// keeps and clears), then edited to `to` at a later `now`.
async fn check_edit_cell(from: JobStatus, to: JobStatus) {
    let world = World::new();
    let job = job_in(&world, from).await;
    let t0 = world.clock.now();
    let job = world
        .store
        .update(
            job.id,
            Box::new(move |current: &printdesk_domain::Job| {
                let mut next = current.clone();
                next.started_at = Some(t0);
                next.completed_at = Some(t0);
                Ok(current.with_changes_from(next, t0).map(|(job, changes)| {
                    printdesk_domain::NewJobEvent {
                        kind: printdesk_domain::EventKind::JobUpdated,
                        job,
                        changes,
                        actor: None,
                        at: t0,
                    }
                }))
            }),
        )
        .await
        .unwrap();
    let job = match job {
        printdesk_domain::UpdateOutcome::Changed(event) => event.job,
        printdesk_domain::UpdateOutcome::Unchanged(job) => job,
    };
    let now = world.clock.advance(Duration::seconds(60));
    let edited = world
        .jobs
        .edit(
            job.id,
            JobPatch {
                status: Some(to),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap_or_else(|e| panic!("{from} -> {to} by the edit refused: {e}"));
    assert_eq!(edited.status, to, "the edit sets any status");
    let expected = match (from, to) {
        _ if from == to => (Some(t0), Some(t0)),
        // The workflow's moves: as `change_status` would set them.
        (Pending, Running) | (Failed, Running) => (Some(t0), Some(t0)),
        (Pending, Failed) | (Running, Completed) | (Running, Failed) => (Some(t0), Some(now)),
        (Failed, Pending) | (Completed, Pending) => (Some(t0), None),
        // Not a move of the workflow: a plain correction.
        _ => (Some(t0), Some(t0)),
    };
    assert_eq!(
        (edited.started_at, edited.completed_at),
        expected,
        "{from} -> {to}"
    );
    assert_eq!(world.stored(job.id).await, edited, "stored as returned");
}

/// A job that has never run, edited to running: `started_at` is set now (`or` keeps an
/// existing one, which [`check_edit_cell`] shows).
#[tokio::test]
async fn edit_to_running_starts_a_job_that_never_ran() {
    let world = World::new();
    let job = world.named_job("never ran").await;
    let now = world.clock.advance(Duration::seconds(5));
    let patch = JobPatch {
        status: Some(Running),
        ..JobPatch::default()
    };
    let running = world
        .jobs
        .edit(job.id, patch, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(
        (running.started_at, running.completed_at),
        (Some(now), None)
    );
    let event = world.published().pop().unwrap();
    assert!(event.changes.get(JobField::StartedAt).is_some());
}

#[tokio::test]
async fn bulk_edit_of_the_status_leaves_print_times_alone() {
    let world = World::new();
    let job = world.named_job("bulk").await;
    world.clock.advance(Duration::seconds(5));
    let patch = JobPatch {
        status: Some(Running),
        ..JobPatch::default()
    };
    let jobs = world
        .jobs
        .bulk_edit(vec![job.id], patch, HashMap::new(), &anon())
        .await
        .unwrap();
    assert_eq!(jobs[0].status, Running);
    assert_eq!((jobs[0].started_at, jobs[0].completed_at), (None, None));
}

macro_rules! edit_cell {
    ($name:ident, $from:expr, $to:expr) => {
        #[tokio::test]
        async fn $name() {
            check_edit_cell($from, $to).await;
        }
    };
}

edit_cell!(edit_pending_to_pending, Pending, Pending);
edit_cell!(edit_pending_to_running, Pending, Running);
edit_cell!(edit_pending_to_completed, Pending, Completed);
edit_cell!(edit_pending_to_failed, Pending, Failed);
edit_cell!(edit_running_to_pending, Running, Pending);
edit_cell!(edit_running_to_running, Running, Running);
edit_cell!(edit_running_to_completed, Running, Completed);
edit_cell!(edit_running_to_failed, Running, Failed);
edit_cell!(edit_completed_to_pending, Completed, Pending);
edit_cell!(edit_completed_to_running, Completed, Running);
edit_cell!(edit_completed_to_completed, Completed, Completed);
edit_cell!(edit_completed_to_failed, Completed, Failed);
edit_cell!(edit_failed_to_pending, Failed, Pending);
edit_cell!(edit_failed_to_running, Failed, Running);
edit_cell!(edit_failed_to_completed, Failed, Completed);
edit_cell!(edit_failed_to_failed, Failed, Failed);
