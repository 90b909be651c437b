//! The endpoint's protocol: hello, event shapes, filter, query errors, close and heartbeat.

use std::time::Duration;

use printdesk_store_diesel::test_support::TestDatabase;
use printdesk_ws::{CLOSE_GOING_AWAY, CLOSE_HEARTBEAT_TIMEOUT, HubConfig};
use serde_json::Value;
use tokio_tungstenite::tungstenite;

use crate::helpers::{Client, PATIENCE, Received, Stack, StackOptions, assert_contiguous, seq};

on_both_backends!(
    hello_then_every_change_as_the_contract_shows_it,
    hello_reports_the_latest_seq_and_live_starts_after_it,
    edits_without_clients_are_not_replayed_to_the_next_client,
    job_id_filter_passes_only_that_job,
    invalid_query_is_a_400_problem_before_the_upgrade,
    plain_get_is_a_problem,
    client_close_is_answered,
    silent_client_is_dropped_and_a_live_one_is_not,
    shutting_down_closes_every_client_with_1001,
);

async fn hello_then_every_change_as_the_contract_shows_it(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let mut client = Client::connect(&stack.ws_url("")).await;
    assert_eq!(client.hello().await, 0);

    let id = stack.create_job("Benchy").await;
    stack.set_notes(&id, "re-sliced").await;
    stack.delete_job(&id).await;
    let events = client.events(3).await;
    assert_contiguous(&events, 1);

    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["job_created", "job_updated", "job_deleted"]);
    for event in &events {
        assert_eq!(event["job_id"], id.as_str());
        assert_eq!(event["job"]["id"], id.as_str());
        let at = event["at"].as_str().expect("an `at` timestamp");
        assert!(at.ends_with('Z') && at.contains('T'), "RFC 3339 UTC: {at}");
        assert!(event.get("changes").is_some(), "{event}");
        assert!(event.get("actor").is_some(), "{event}");
    }
    let update = &events[1];
    assert_eq!(update["changes"]["notes"]["old"], Value::Null);
    assert_eq!(update["changes"]["notes"]["new"], "re-sliced");
    assert_eq!(update["job"]["notes"], "re-sliced");
    assert_eq!(update["job"]["version"], 2);
    // The deleted job's last state.
    assert_eq!(events[2]["job"]["notes"], "re-sliced");
    client.expect_quiet(Duration::from_millis(300)).await;
}

async fn hello_reports_the_latest_seq_and_live_starts_after_it(db: TestDatabase) {
    // Events from before the instance started are in the log, not live.
    let first = Stack::start(&db).await;
    let id = first.create_job("old").await;
    first.set_notes(&id, "older").await;
    drop(first);

    let stack = Stack::start(&db).await;
    assert_eq!(stack.hub.delivered().get(), 2);
    let mut client = Client::connect(&stack.ws_url("")).await;
    assert_eq!(client.hello().await, 2);
    stack.set_notes(&id, "new").await;
    let event = client.json().await;
    assert_eq!(seq(&event), 3);
    assert_eq!(event["changes"]["notes"]["old"], "older");

    // since=0 replays the whole log, then goes on live.
    let mut replaying = Client::connect(&stack.ws_url("since=0")).await;
    assert_eq!(replaying.hello().await, 3);
    let events = replaying.events(3).await;
    assert_contiguous(&events, 1);
    stack.set_notes(&id, "newer").await;
    assert_eq!(seq(&replaying.json().await), 4);
    assert_eq!(seq(&client.json().await), 4);
}

/// With nobody connected the hub does not read events back; a client that connects later
/// must still start at the latest `seq` and get the next edit, and only that.
async fn edits_without_clients_are_not_replayed_to_the_next_client(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let id = stack.create_job("unwatched").await;
    for i in 0..5 {
        stack.set_notes(&id, &format!("edit {i}")).await;
    }
    assert_eq!(stack.hub.delivered().get(), 6);
    let mut client = Client::connect(&stack.ws_url("")).await;
    assert_eq!(client.hello().await, 6);
    stack.set_notes(&id, "watched").await;
    let event = client.json().await;
    assert_eq!(seq(&event), 7);
    assert_eq!(event["changes"]["notes"]["new"], "watched");
    client.expect_quiet(Duration::from_millis(300)).await;

    // And `since` still replays what nobody saw live.
    let mut replaying = Client::connect(&stack.ws_url("since=1")).await;
    assert_eq!(replaying.hello().await, 7);
    assert_contiguous(&replaying.events(6).await, 2);
}

async fn job_id_filter_passes_only_that_job(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let watched = stack.create_job("watched").await;
    let other = stack.create_job("other").await;
    stack.caught_up().await;

    let mut live = Client::connect(&stack.ws_url(&format!("job_id={watched}"))).await;
    assert_eq!(live.hello().await, 2, "the hello is sent with a filter too");
    // The filter applies to the replay as well.
    let mut replay = Client::connect(&stack.ws_url(&format!("since=0&job_id={watched}"))).await;
    assert_eq!(replay.hello().await, 2);
    assert_eq!(seq(&replay.json().await), 1);

    for i in 0..3 {
        stack.set_notes(&other, &format!("o{i}")).await;
        stack.set_notes(&watched, &format!("w{i}")).await;
    }
    for client in [&mut live, &mut replay] {
        let events = client.events(3).await;
        let seqs: Vec<i64> = events.iter().map(seq).collect();
        assert_eq!(seqs, [4, 6, 8]);
        assert!(events.iter().all(|e| e["job_id"] == watched.as_str()));
        client.expect_quiet(Duration::from_millis(300)).await;
    }
}

async fn invalid_query_is_a_400_problem_before_the_upgrade(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let cases = [
        ("since=-1", vec!["since"]),
        ("since=abc", vec!["since"]),
        ("since=1&since=2", vec!["since"]),
        ("job_id=not-a-uuid", vec!["job_id"]),
        ("sinse=4", vec!["sinse"]),
        ("since=x&job_id=y", vec!["since", "job_id"]),
    ];
    for (query, fields) in cases {
        // Without the upgrade headers…
        let response = stack
            .http
            .get(stack.ws_url(query).replace("ws://", "http://"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/problem+json",
            "{query}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 400, "{body}");
        assert!(
            body["type"].as_str().is_some_and(|t| !t.is_empty()),
            "{body}"
        );
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{body}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains(' ') && fields.iter().all(|f| detail.contains(f)),
            "{body}"
        );
        let named: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{query}");

        // …and with them: the handshake is refused, nothing is upgraded.
        match Client::try_connect(&stack.ws_url(query)).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
            Err(e) => panic!("{query}: unexpected error {e}"),
            Ok(_) => panic!("{query}: the connection was upgraded"),
        }
    }
}

async fn plain_get_is_a_problem(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let response = stack
        .http
        .get(stack.ws_url("since=0").replace("ws://", "http://"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("WebSocket"),
        "{body}"
    );
    // Other methods are a 405 problem.
    let response = stack
        .http
        .post(stack.ws_url("").replace("ws://", "http://"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

async fn client_close_is_answered(db: TestDatabase) {
    // Quick pings: a connection dropped without a close frame is noticed by a failed ping.
    let stack = Stack::start_with(
        &db,
        StackOptions {
            hub: HubConfig {
                ping_interval: Duration::from_millis(200),
                ..HubConfig::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    let mut client = Client::connect(&stack.ws_url("")).await;
    client.hello().await;
    let other = Client::connect(&stack.ws_url("")).await;
    assert!(wait_for(|| stack.hub.clients() == 2).await);
    client.close(1000).await;
    match client.receive_within(PATIENCE).await {
        Some(Received::Close(code, _)) => assert_eq!(code, 1000),
        other => panic!("expected the close reply, got {other:?}"),
    }
    assert!(
        wait_for(|| stack.hub.clients() == 1).await,
        "the closed client is unsubscribed"
    );
    drop(other);
    assert!(
        wait_for(|| stack.hub.clients() == 0).await,
        "a dropped connection is unsubscribed"
    );
}

async fn silent_client_is_dropped_and_a_live_one_is_not(db: TestDatabase) {
    let stack = Stack::start_with(
        &db,
        StackOptions {
            hub: HubConfig {
                ping_interval: Duration::from_millis(200),
                client_timeout: Duration::from_millis(1000),
                ..HubConfig::default()
            },
            ..StackOptions::default()
        },
    )
    .await;
    let mut silent = Client::connect(&stack.ws_url("")).await;
    let mut live = Client::connect(&stack.ws_url("")).await;
    live.hello().await;

    // The live client reads (and so answers pings) for 2.5 timeouts; the silent one does not.
    live.expect_quiet(Duration::from_millis(2500)).await;
    assert_eq!(
        stack.hub.clients(),
        1,
        "only the live client is still subscribed"
    );

    silent.hello().await;
    // The server sends a close frame and drops the connection without waiting for a reply.
    // The pongs this client now sends for the pings it reads may make the server's side reset
    // the connection, and a reset can discard the close frame before it is read.
    match silent.receive_within(PATIENCE).await {
        Some(Received::Close(code, reason)) => {
            assert_eq!(code, CLOSE_HEARTBEAT_TIMEOUT);
            assert_eq!(reason, "no pong; reconnect with since=0");
        }
        Some(Received::Ended) => {}
        other => panic!("expected the silent client to be closed, got {other:?}"),
    }

    // The live one still gets events.
    let id = stack.create_job("still here").await;
    let event = live.json().await;
    assert_eq!(event["job_id"], id.as_str());
}

async fn shutting_down_closes_every_client_with_1001(db: TestDatabase) {
    let stack = Stack::start(&db).await;
    let id = stack.create_job("before").await;
    stack.caught_up().await;
    let mut client = Client::connect(&stack.ws_url("")).await;
    let mut filtered = Client::connect(&stack.ws_url(&format!("job_id={id}"))).await;
    assert_eq!(client.hello().await, 1);
    assert_eq!(filtered.hello().await, 1);
    stack.set_notes(&id, "last").await;
    assert_eq!(seq(&client.json().await), 2);
    assert_eq!(seq(&filtered.json().await), 2);

    stack.hub.shut_down();
    for client in [&mut client, &mut filtered] {
        match client.receive_within(PATIENCE).await {
            Some(Received::Close(code, reason)) => {
                assert_eq!(code, CLOSE_GOING_AWAY);
                assert_eq!(reason, "server shutting down; reconnect with since=2");
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    // A client that connects now is told the same at once.
    let mut late = Client::connect(&stack.ws_url("since=1")).await;
    late.hello().await;
    assert!(matches!(
        late.receive_within(PATIENCE).await,
        Some(Received::Close(CLOSE_GOING_AWAY, _))
    ));
}

/// Polls `condition` for up to the test patience.
pub async fn wait_for(condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The server's HTTP keep-alive (5 s) must not end an idle WebSocket: only the heartbeat does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_outlives_the_http_keep_alive() {
    let db = TestDatabase::sqlite();
    let stack = Stack::start(&db).await;
    let mut client = Client::connect(&stack.ws_url("")).await;
    client.hello().await;
    client.expect_quiet(Duration::from_secs(7)).await;
    let id = stack.create_job("after a pause").await;
    assert_eq!(client.json().await["job_id"], id.as_str());
}
