//! `LISTEN/NOTIFY` wake-ups on the event log: announced on commit, heard by another
//! connection, and the listener comes back after its connection is killed.
//!
//! PostgreSQL tests need `PRINTDESK_TEST_POSTGRES_URL`; without it they say they were skipped.

use std::{sync::Arc, time::Duration};

use diesel::{Connection, RunQueryDsl, pg::PgConnection, sql_types::Text};
use printdesk_domain::{
    Actor, EditJobError, JobDraft, JobPatch, JobService, Nullable, SystemClock, Version,
    VersionCondition, testing::RecordingPublisher,
};
use printdesk_store_diesel::{
    EVENTS_CHANNEL, LISTENER_APPLICATION_NAME, Store, test_support::TestDatabase,
};
use tokio::{sync::mpsc, time::timeout};

fn service(store: &Store) -> JobService {
    JobService::new(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        Arc::new(RecordingPublisher::default()),
        Arc::new(SystemClock),
    )
}

fn draft(name: &str) -> JobDraft {
    JobDraft {
        job_name: name.into(),
        ..JobDraft::default()
    }
}

/// Waits for one wake-up, failing the test after `within`.
async fn woken(rx: &mut mpsc::Receiver<()>, within: Duration, what: &str) {
    match timeout(within, rx.recv()).await {
        Ok(Some(())) => {}
        Ok(None) => panic!("the listener stopped while waiting for {what}"),
        Err(_) => panic!("no wake-up within {within:?} for {what}"),
    }
}

/// Empties the channel of wake-ups already delivered (e.g. the one after connecting).
async fn settle(rx: &mut mpsc::Receiver<()>) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    while rx.try_recv().is_ok() {}
}

/// The payloads of the next `n` notifications on `conn` (fewer if they take over 2 s).
async fn payloads(conn: &mut PgConnection, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut out = Vec::new();
    while out.len() < n && std::time::Instant::now() < deadline {
        out.extend(conn.notifications_iter().map(|n| n.unwrap().payload));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    out
}

#[tokio::test]
async fn sqlite_has_no_notifications() {
    let db = TestDatabase::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    assert!(store.event_notifications().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_commit_wakes_a_listener_and_carries_the_seq() {
    let Some(db) = TestDatabase::postgres("postgres_commit_wakes_a_listener_and_carries_the_seq")
    else {
        return;
    };
    let store = Store::connect(&db.url).await.unwrap();
    let mut rx = store.event_notifications().expect("PostgreSQL notifies");
    woken(
        &mut rx,
        Duration::from_secs(5),
        "the wake-up after connecting",
    )
    .await;
    settle(&mut rx).await;

    // A second, plain listener sees the payload: the seq being committed.
    let mut raw = PgConnection::establish(&db.url).unwrap();
    diesel::sql_query(format!("LISTEN {EVENTS_CHANNEL}"))
        .execute(&mut raw)
        .unwrap();

    let jobs = service(&store);
    let job = jobs.create(draft("n"), &Actor::anonymous()).await.unwrap();
    woken(&mut rx, Duration::from_secs(2), "a created job").await;
    assert_eq!(payloads(&mut raw, 1).await, ["1"]);

    // A refused edit rolls back: no event, no notification.
    settle(&mut rx).await;
    let refused = jobs
        .edit(
            job.id,
            JobPatch {
                notes: Nullable::Set("x".into()),
                ..JobPatch::default()
            },
            VersionCondition::from(Version::new(99)),
            &Actor::anonymous(),
        )
        .await;
    assert!(matches!(refused, Err(EditJobError::VersionMismatch { .. })));
    assert!(
        timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "a rolled-back change woke the listener"
    );
    assert_eq!(raw.notifications_iter().count(), 0);

    // Two quick commits: at least one wake-up, and both seqs announced in order.
    for note in ["a", "b"] {
        jobs.edit(
            job.id,
            JobPatch {
                notes: Nullable::Set(note.into()),
                ..JobPatch::default()
            },
            VersionCondition::Any,
            &Actor::anonymous(),
        )
        .await
        .unwrap();
    }
    woken(&mut rx, Duration::from_secs(2), "two edits").await;
    assert_eq!(payloads(&mut raw, 2).await, ["2", "3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listener_reconnects_after_its_connection_is_killed() {
    let Some(db) =
        TestDatabase::postgres("postgres_listener_reconnects_after_its_connection_is_killed")
    else {
        return;
    };
    let store = Store::connect(&db.url).await.unwrap();
    let mut rx = store.event_notifications().expect("PostgreSQL notifies");
    woken(
        &mut rx,
        Duration::from_secs(5),
        "the wake-up after connecting",
    )
    .await;
    settle(&mut rx).await;

    // What a PostgreSQL restart does to the listener: its backend goes away.
    let mut admin = PgConnection::establish(&db.url).unwrap();
    let killed = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind::<Text, _>(LISTENER_APPLICATION_NAME)
    .execute(&mut admin)
    .unwrap();
    assert_eq!(killed, 1, "exactly one listener connection to kill");

    // It reconnects (and says so with a wake-up, as notifications may have been missed)...
    woken(
        &mut rx,
        Duration::from_secs(5),
        "the wake-up after reconnecting",
    )
    .await;
    settle(&mut rx).await;
    // ...and hears commits again.
    service(&store)
        .create(draft("after"), &Actor::anonymous())
        .await
        .unwrap();
    woken(
        &mut rx,
        Duration::from_secs(2),
        "a commit after reconnecting",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listener_stops_when_the_receiver_is_dropped() {
    let Some(db) = TestDatabase::postgres("postgres_listener_stops_when_the_receiver_is_dropped")
    else {
        return;
    };
    let store = Store::connect(&db.url).await.unwrap();
    let mut rx = store.event_notifications().expect("PostgreSQL notifies");
    woken(
        &mut rx,
        Duration::from_secs(5),
        "the wake-up after connecting",
    )
    .await;
    drop(rx);

    let mut admin = PgConnection::establish(&db.url).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let count: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database()",
        )
        .bind::<Text, _>(LISTENER_APPLICATION_NAME)
        .get_result(&mut admin)
        .unwrap();
        if count.n == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the listener connection is still open 5 s after the receiver was dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
