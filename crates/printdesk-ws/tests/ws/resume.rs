//! Resuming with `since`: nothing missed, nothing repeated, also while edits keep coming.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use printdesk_store_diesel::test_support::TestDatabase;

use crate::helpers::{Client, Stack, assert_contiguous, seq};

on_both_backends!(
    reconnecting_client_gets_exactly_the_events_it_missed,
    seam_between_replay_and_live_has_no_gap_and_no_duplicate,
);

async fn reconnecting_client_gets_exactly_the_events_it_missed(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let id = stack.create_job("resume").await;
    stack.caught_up().await;

    let mut client = Client::connect(&stack.ws_url("")).await;
    let head = client.hello().await;
    stack.set_notes(&id, "seen").await;
    let last_seen = seq(&client.json().await);
    assert_eq!(last_seen, head + 1);
    drop(client); // Wi-Fi gone.

    for i in 0..100 {
        stack.set_notes(&id, &format!("missed {i}")).await;
    }

    let mut client = Client::connect(&stack.ws_url(&format!("since={last_seen}"))).await;
    let hello = client.hello().await;
    assert!(hello >= last_seen, "hello {hello} is not behind the client");
    let events = client.events(100).await;
    assert_contiguous(&events, last_seen + 1);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["type"], "job_updated");
        assert_eq!(event["changes"]["notes"]["new"], format!("missed {i}"));
    }
    client.expect_quiet(Duration::from_millis(500)).await;

    // And it goes on live after the replay.
    stack.set_notes(&id, "live again").await;
    assert_eq!(seq(&client.json().await), last_seen + 101);
}

async fn seam_between_replay_and_live_has_no_gap_and_no_duplicate(db: TestDatabase) {
    let stack = Arc::new(Stack::start(&db).await);
    let id = stack.create_job("seam").await;
    for i in 0..30 {
        stack.set_notes(&id, &format!("before {i}")).await;
    }

    // Edits keep committing while clients connect and replay.
    let stop = Arc::new(AtomicBool::new(false));
    let editor = {
        let (stack, stop, id) = (stack.clone(), stop.clone(), id.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                stack.set_notes(&id, &format!("during {n}")).await;
                n += 1;
            }
            n
        })
    };

    let mut clients = Vec::new();
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        // Some clients start a little behind (a short replay), one from the very beginning.
        let since = if round == 0 {
            0
        } else {
            (stack.hub.delivered().get() - 5 * round).max(0)
        };
        let mut client = Client::connect(&stack.ws_url(&format!("since={since}"))).await;
        client.hello().await;
        clients.push((since, client));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let during = editor.await.unwrap();
    assert!(during > 10, "only {during} edits ran during the test");

    let last = 1 + 30 + i64::from(during);
    for (since, client) in &mut clients {
        let events = client.events_through(last).await;
        assert_contiguous(&events, *since + 1);
        client.expect_quiet(Duration::from_millis(200)).await;
    }
}
