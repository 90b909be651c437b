//! The event log: one event per change, numbered by a gapless global `seq`, in the contract's
//! JSON shape, and replayable from any point.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    Clock, EventKind, EventLog, JobDraft, JobField, JobPatch, JobStatus, Nullable, Seq,
    SystemClock, VersionCondition,
};
use serde_json::{Value, json};
use support::{T0, World, anon, create_violations, named};
use time::Duration;

/// Drives one of every kind of change, plus refused ones, across several jobs.
async fn busy_world() -> World {
    let w = World::new();
    w.printer("mk4-1").await;
    let a = w
        .job(JobDraft {
            printer_id: Some("mk4-1".into()),
            ..named("A")
        })
        .await;
    let b = w.named_job("B").await;
    // Refused changes must not use up a number.
    create_violations(w.jobs.create(named(""), &anon()).await);
    w.jobs
        .edit(
            a.id,
            JobPatch {
                job_name: Some(String::new()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap_err();
    w.jobs
        .edit(b.id, JobPatch::default(), VersionCondition::Any, &anon())
        .await
        .unwrap();
    w.jobs
        .edit(
            b.id,
            JobPatch {
                status: Some(JobStatus::Running),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &anon(),
        )
        .await
        .unwrap();
    let c = w
        .job(JobDraft {
            printer_id: Some("mk4-1".into()),
            ..named("C")
        })
        .await;
    w.jobs
        .delete(b.id, VersionCondition::Any, &anon())
        .await
        .unwrap();
    w.jobs
        .delete(
            c.id,
            VersionCondition::from(printdesk_domain::Version::new(9)),
            &anon(),
        )
        .await
        .unwrap_err();
    w.printers
        .delete(
            &printdesk_domain::PrinterId::parse("mk4-1").unwrap(),
            &anon(),
        )
        .await
        .unwrap();
    w
}

#[tokio::test]
async fn events_are_numbered_1_2_3_without_gaps() {
    let w = busy_world().await;
    let logged = w.logged();

    // created A, created B, updated B, created C, deleted B, detached A, detached C
    let seqs: Vec<i64> = logged.iter().map(|e| e.seq.get()).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    let kinds: Vec<_> = logged.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::JobCreated,
            EventKind::JobCreated,
            EventKind::JobUpdated,
            EventKind::JobCreated,
            EventKind::JobDeleted,
            EventKind::JobUpdated,
            EventKind::JobUpdated,
        ]
    );
}

#[tokio::test]
async fn every_committed_event_is_published_once_in_commit_order() {
    let w = busy_world().await;
    assert_eq!(w.published(), w.logged());
}

#[tokio::test]
async fn a_client_that_has_seen_n_gets_every_later_event_exactly_once() {
    let w = busy_world().await;
    let repo: &dyn EventLog = w.store.as_ref();
    let all = w.logged();

    assert_eq!(repo.latest_seq().await.unwrap(), Seq::new(7));
    assert_eq!(repo.events_after(Seq::ZERO, 100).await.unwrap(), all);
    assert_eq!(repo.events_after(Seq::new(4), 100).await.unwrap(), all[4..]);
    assert!(
        repo.events_after(Seq::new(7), 100)
            .await
            .unwrap()
            .is_empty()
    );

    // Reading in small pages, each from the last seq seen, yields the log once.
    let mut seen = Vec::new();
    let mut after = Seq::ZERO;
    loop {
        let page = repo.events_after(after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        seen.extend(page);
    }
    assert_eq!(seen, all);
}

#[tokio::test]
async fn an_empty_log_starts_at_zero() {
    let w = World::new();
    assert_eq!(w.store.latest_seq().await.unwrap(), Seq::ZERO);
    let job = w.named_job("first").await;
    let event = &w.logged()[0];
    assert_eq!(event.seq, Seq::new(1));
    assert_eq!(event.job, job);
}

#[tokio::test]
async fn job_created_carries_every_editable_field_from_null() {
    let w = World::new();
    w.named_job("Benchy").await;
    let event = w.logged().remove(0);
    assert_eq!(event.kind, EventKind::JobCreated);
    let fields: Vec<_> = event.changes.iter().map(|(f, _)| f).collect();
    assert_eq!(fields, JobField::EDITABLE);
    assert!(event.changes.iter().all(|(_, c)| c.old == Value::Null));
    assert_eq!(
        event.changes.get(JobField::JobName).unwrap().new,
        json!("Benchy")
    );
    assert_eq!(
        event.changes.get(JobField::Status).unwrap().new,
        json!("pending")
    );
    assert_eq!(
        event.changes.get(JobField::IsBusiness).unwrap().new,
        json!(false)
    );
}

#[tokio::test]
async fn an_event_serialises_to_the_contract_shape() {
    let w = World::new();
    let job = w.named_job("Benchy").await;
    w.clock.advance(Duration::milliseconds(877));
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

    let event = serde_json::to_value(w.published().pop().unwrap()).unwrap();
    let id = job.id.to_string();
    assert_eq!(
        event,
        json!({
            "seq": 2,
            "type": "job_updated",
            "at": "2026-11-28T16:34:29.000Z",
            "job_id": id,
            "actor": null,
            "job": {
                "id": id,
                "job_name": "Benchy",
                "status": "pending",
                "is_business": false,
                "customer_name": null,
                "notes": "re-sliced",
                "file_name": null,
                "printer_id": null,
                "version": 2,
                "created_at": "2026-11-28T16:34:28.123Z",
                "updated_at": "2026-11-28T16:34:29.000Z",
                "started_at": null,
                "completed_at": null,
                "auto_created": false,
                "discovery_time": null,
            },
            "changes": { "notes": { "old": null, "new": "re-sliced" } },
        })
    );

    // And reads back to the same event.
    let back: printdesk_domain::JobEvent = serde_json::from_value(event).unwrap();
    assert_eq!(back, w.published().pop().unwrap());
}

#[test]
fn the_system_clock_is_utc_and_whole_milliseconds() {
    let now = SystemClock.now();
    assert!(now.offset().is_utc());
    assert_eq!(now.nanosecond() % 1_000_000, 0);
    assert!(now > T0 - Duration::days(365 * 10));
}
