//! A client that stops reading is closed with 4008 and can resume; the others get everything.

use std::time::Duration;

use printdesk_store_diesel::test_support::TestDatabase;
use printdesk_ws::{CLOSE_LAGGED, HubConfig};
use serde_json::Value;

use crate::{
    helpers::{Client, PATIENCE, Received, Stack, StackOptions, assert_contiguous, seq},
    protocol::wait_for,
};

on_both_backends!(
    client_that_falls_behind_the_broadcast_is_closed_with_4008,
    client_whose_connection_stalls_is_closed_with_4008,
);

/// Edits that make ~2.5 KB events, so a stalled client's buffers fill after a few dozen.
const EDITS: usize = 300;

async fn client_that_falls_behind_the_broadcast_is_closed_with_4008(db: TestDatabase) {
    // A small broadcast, and a send timeout long enough that only the lag can trigger.
    let hub = HubConfig {
        capacity: 64,
        send_timeout: Duration::from_secs(120),
        // Frequent pings: the pongs the client sends while it reads its backlog must not
        // cost it the close frame.
        ping_interval: Duration::from_millis(100),
        client_timeout: Duration::from_secs(120),
        ..HubConfig::default()
    };
    slow_consumer(db, hub).await;
}

async fn client_whose_connection_stalls_is_closed_with_4008(db: TestDatabase) {
    // A broadcast large enough for every edit, and a short send timeout.
    let hub = HubConfig {
        capacity: 4096,
        send_timeout: Duration::from_millis(300),
        ping_interval: Duration::from_millis(100),
        client_timeout: Duration::from_secs(120),
        ..HubConfig::default()
    };
    slow_consumer(db, hub).await;
}

async fn slow_consumer(db: TestDatabase, hub: HubConfig) {
    let stack = Stack::start_with(
        &db,
        StackOptions {
            hub,
            small_send_buffer: true,
            ..StackOptions::default()
        },
    )
    .await;
    let id = stack.create_job("slow").await;
    stack.caught_up().await;

    let mut slow = Client::connect_small(&stack.ws_url("")).await;
    let head = slow.hello().await;
    let mut normal = Client::connect(&stack.ws_url("")).await;
    assert_eq!(normal.hello().await, head);
    let last = head + EDITS as i64;

    // The normal client reads as events come; the slow one reads nothing meanwhile.
    let reader = tokio::spawn(async move {
        let events = normal.events_through(last).await;
        (normal, events)
    });
    let filler = "x".repeat(900);
    for i in 0..EDITS {
        stack.set_notes(&id, &format!("{i} {filler}")).await;
    }
    let (mut normal, events) = tokio::time::timeout(PATIENCE, reader)
        .await
        .expect("the normal client got every event in time")
        .unwrap();
    assert_contiguous(&events, head + 1);
    assert_eq!(events.len(), EDITS);

    // Now the slow client reads what it was sent: events without a gap, then 4008.
    let mut received: Vec<Value> = Vec::new();
    let (code, reason) = loop {
        match slow.receive_within(PATIENCE).await {
            Some(Received::Json(event)) => received.push(event),
            Some(Received::Close(code, reason)) => break (code, reason),
            other => panic!(
                "expected events then a close frame, got {other:?} after {} events",
                received.len()
            ),
        }
    };
    assert_eq!(code, CLOSE_LAGGED, "{reason}");
    assert!(
        received.len() < EDITS,
        "the slow client got all {EDITS} events: the test did not make it slow"
    );
    assert_contiguous(&received, head + 1);
    let resume_at = received.last().map_or(head, seq);
    assert_eq!(reason, format!("lagged; reconnect with since={resume_at}"));
    assert!(
        wait_for(|| stack.hub.clients() == 1).await,
        "the slow client's subscription is released"
    );

    // Resuming where the close said loses nothing.
    let mut resumed = Client::connect(&stack.ws_url(&format!("since={resume_at}"))).await;
    resumed.hello().await;
    let rest = resumed.events_through(last).await;
    assert_contiguous(&rest, resume_at + 1);

    // The normal client is still connected and live.
    stack.set_notes(&id, "after").await;
    assert_eq!(seq(&normal.json().await), last + 1);
}
