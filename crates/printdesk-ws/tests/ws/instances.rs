//! Several instances on one PostgreSQL database: a change made through any of them reaches
//! the WebSocket clients of all of them (LISTEN/NOTIFY wakes them; the log is the truth).

use std::time::Duration;

use printdesk_store_diesel::test_support::TestDatabase;
use printdesk_ws::HubConfig;

use crate::helpers::{Client, Stack, StackOptions, assert_contiguous, seq};

/// A poll interval no test waits for: an event that arrives in time came by notification.
fn notified_only() -> StackOptions {
    StackOptions {
        hub: HubConfig {
            poll_interval: Duration::from_secs(600),
            ..HubConfig::default()
        },
        ..StackOptions::default()
    }
}

fn postgres(test: &str) -> Option<TestDatabase> {
    TestDatabase::postgres(test)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_via_one_instance_reaches_clients_of_another() {
    let Some(db) = postgres("an_edit_via_one_instance_reaches_clients_of_another") else {
        return;
    };
    let a = Stack::start_with(&db, notified_only()).await;
    let b = Stack::start_with(&db, notified_only()).await;
    let mut on_a = Client::connect(&a.ws_url("")).await;
    let mut on_b = Client::connect(&b.ws_url("")).await;
    assert_eq!(on_a.hello().await, 0);
    assert_eq!(on_b.hello().await, 0);

    let id = a.create_job("made on A").await;
    let within = Duration::from_secs(3);
    let event = tokio::time::timeout(within, on_b.json())
        .await
        .expect("A's edit reached B's client by notification");
    assert_eq!(
        (seq(&event), event["type"].as_str()),
        (1, Some("job_created"))
    );
    assert_eq!(event["job_id"], id.as_str());

    // And the other way round, interleaved.
    b.set_notes(&id, "edited on B").await;
    a.set_notes(&id, "edited on A").await;
    b.delete_job(&id).await;
    let mut from_a = Vec::new();
    for _ in 0..4 {
        from_a.push(
            tokio::time::timeout(within, on_a.json())
                .await
                .expect("every instance's edits reach A"),
        );
    }
    let mut from_b = vec![event];
    for _ in 0..3 {
        from_b.push(
            tokio::time::timeout(within, on_b.json())
                .await
                .expect("every instance's edits reach B"),
        );
    }
    for events in [&from_a, &from_b] {
        assert_contiguous(events, 1);
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["job_created", "job_updated", "job_updated", "job_deleted"]
        );
        assert_eq!(events[1]["changes"]["notes"]["new"], "edited on B");
        assert_eq!(events[2]["changes"]["notes"]["new"], "edited on A");
    }
    assert_eq!(from_a, from_b, "both instances deliver the same events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_notifications_catches_up_by_polling() {
    let Some(db) = postgres("an_instance_without_notifications_catches_up_by_polling") else {
        return;
    };
    // B hears no notification at all (as if every one were lost): its poll still delivers.
    let a = Stack::start(&db).await;
    let b = Stack::start_with(
        &db,
        StackOptions {
            hub: HubConfig {
                poll_interval: Duration::from_millis(200),
                ..HubConfig::default()
            },
            without_notifications: true,
            ..StackOptions::default()
        },
    )
    .await;
    let mut on_b = Client::connect(&b.ws_url("")).await;
    on_b.hello().await;
    let id = a.create_job("polled").await;
    for i in 0..20 {
        a.set_notes(&id, &i.to_string()).await;
    }
    let events = on_b.events(21).await;
    assert_contiguous(&events, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_on_another_instance() {
    let Some(db) = postgres("a_client_resumes_on_another_instance") else {
        return;
    };
    let a = Stack::start(&db).await;
    let b = Stack::start(&db).await;
    let id = a.create_job("moving").await;
    a.caught_up().await;
    let mut client = Client::connect(&a.ws_url("")).await;
    client.hello().await;
    a.set_notes(&id, "one").await;
    let last_seen = seq(&client.json().await);
    drop(client); // The load balancer sends the next connection elsewhere.

    for i in 0..10 {
        a.set_notes(&id, &format!("while away {i}")).await;
    }
    let mut client = Client::connect(&b.ws_url(&format!("since={last_seen}"))).await;
    client.hello().await;
    let events = client.events(10).await;
    assert_contiguous(&events, last_seen + 1);
    b.set_notes(&id, "back").await;
    assert_eq!(seq(&client.json().await), last_seen + 11);
}
