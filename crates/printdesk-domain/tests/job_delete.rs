//! Deleting a job (`DELETE /jobs/{id}`, `If-Match` honoured) and the history it leaves behind.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    Actor, DeleteJobError, EditJobError, EventKind, GetJobError, JobHistory, JobHistoryError,
    JobId, JobPatch, Limit, Nullable, Version, VersionCondition,
};
use support::{World, anon};
use time::Duration;

#[tokio::test]
async fn delete_without_if_match_removes_the_job() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    w.jobs
        .delete(job.id, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(w.jobs.get(job.id).await, Err(GetJobError::NotFound));
    let page = w.jobs.list(&Default::default()).await.unwrap();
    assert_eq!(page.total_count, 0);
}

#[tokio::test]
async fn delete_with_the_current_version_removes_the_job() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    w.jobs
        .delete(job.id, VersionCondition::from(Version::FIRST), &anon())
        .await
        .unwrap();
    assert_eq!(w.jobs.get(job.id).await, Err(GetJobError::NotFound));
}

#[tokio::test]
async fn delete_with_a_stale_version_is_refused_and_deletes_nothing() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let v2 = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("changed meanwhile".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();

    let result = w
        .jobs
        .delete(job.id, VersionCondition::from(Version::FIRST), &anon())
        .await;
    assert_eq!(
        result,
        Err(DeleteJobError::VersionMismatch {
            current: Box::new(v2.clone())
        })
    );
    assert_eq!(w.stored(job.id).await, v2);
    assert_eq!(w.logged().len(), 2, "no job_deleted logged");
    assert_eq!(w.published().len(), 2, "no job_deleted published");
}

#[tokio::test]
async fn deleting_a_missing_job_is_not_found() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    assert_eq!(
        w.jobs
            .delete(JobId::generate(), VersionCondition::Any, &anon())
            .await,
        Err(DeleteJobError::NotFound)
    );

    // Deleting twice: the second time there is nothing to delete.
    w.jobs
        .delete(job.id, VersionCondition::Any, &anon())
        .await
        .unwrap();
    assert_eq!(
        w.jobs.delete(job.id, VersionCondition::Any, &anon()).await,
        Err(DeleteJobError::NotFound)
    );
    assert_eq!(
        w.jobs
            .edit(
                job.id,
                JobPatch {
                    notes: Nullable::Set("too late".into()),
                    ..JobPatch::default()
                },
                VersionCondition::Any,
                &anon()
            )
            .await,
        Err(EditJobError::NotFound)
    );
    assert_eq!(w.logged().len(), 2, "job_created and one job_deleted");
}

#[tokio::test]
async fn delete_logs_and_publishes_job_deleted_with_the_last_state() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    let last = w
        .jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("last words".into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    let t = w.clock.advance(Duration::hours(1));

    w.jobs
        .delete(
            job.id,
            VersionCondition::from(last.version),
            &Actor::named("bob"),
        )
        .await
        .unwrap();

    let published = w.published();
    assert_eq!(published.len(), 3);
    let event = published.last().unwrap();
    assert_eq!(event.kind, EventKind::JobDeleted);
    assert!(event.is_deletion());
    assert_eq!(event.job_id, job.id);
    assert_eq!(event.job, last, "the event carries the job's last state");
    assert_eq!(event.at, t);
    assert_eq!(event.actor.as_deref(), Some("bob"));
    assert_eq!(w.logged(), published);
}

#[tokio::test]
async fn history_is_still_readable_after_delete() {
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
    let other = w.named_job("Other").await;
    w.jobs
        .delete(job.id, VersionCondition::Any, &anon())
        .await
        .unwrap();

    let JobHistory {
        events,
        total_count: total,
    } = w.jobs.history(job.id, limit(50), 0).await.unwrap();
    assert_eq!(total, 3);
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::JobDeleted,
            EventKind::JobUpdated,
            EventKind::JobCreated
        ],
        "newest first"
    );
    assert!(events.iter().all(|e| e.job_id == job.id));

    // Paging through the history.
    let JobHistory {
        events: page,
        total_count: total,
    } = w.jobs.history(job.id, limit(1), 1).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].kind, EventKind::JobUpdated);

    // The other job's history is its own.
    let JobHistory {
        events,
        total_count: total,
    } = w.jobs.history(other.id, limit(50), 0).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(events[0].kind, EventKind::JobCreated);
}

fn limit(n: i64) -> Limit {
    Limit::new(n).unwrap()
}

/// Every job that existed has its `job_created` event, so an id without events never named
/// a job: its history is not found, while a deleted job's is.
#[tokio::test]
async fn the_history_of_a_job_that_never_existed_is_not_found() {
    let w = World::new();
    assert_eq!(
        w.jobs.history(JobId::generate(), limit(50), 0).await,
        Err(JobHistoryError::NotFound)
    );
    let job = w.named_job("Benchy").await;
    w.jobs
        .delete(job.id, VersionCondition::Any, &anon())
        .await
        .unwrap();
    // A page past the end is empty, not "not found": the job existed.
    let past_the_end = w.jobs.history(job.id, limit(50), 10).await.unwrap();
    assert_eq!(past_the_end.total_count, 2);
    assert!(past_the_end.events.is_empty());
}

/// `If-Match` with several tags: the deletion goes ahead when any of them is the current
/// version, and is refused with the current job when none is (an empty list never matches).
#[tokio::test]
async fn delete_honours_a_list_of_versions() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    for refused in [vec![], vec![Version::new(2), Version::new(3)]] {
        assert_eq!(
            w.jobs
                .delete(job.id, VersionCondition::OneOf(refused), &anon())
                .await,
            Err(DeleteJobError::VersionMismatch {
                current: Box::new(job.clone())
            })
        );
    }
    w.jobs
        .delete(
            job.id,
            VersionCondition::OneOf(vec![Version::new(5), Version::FIRST]),
            &anon(),
        )
        .await
        .unwrap();
    assert_eq!(w.jobs.get(job.id).await, Err(GetJobError::NotFound));
}
