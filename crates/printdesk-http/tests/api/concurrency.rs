//! Concurrent edits of one job with `If-Match`: every 200 is stored, every other is a 412.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, etag, id_of, problem};

api_tests!(fifty_concurrent_conditional_edits);

const CLIENTS: usize = 50;

async fn fifty_concurrent_conditional_edits(app: TestApp) {
    let job = app.create_named_job("Contended").await;
    let id = id_of(&job);

    // Each client reads the job, then writes its own note conditioned on what it read.
    let outcomes = join_all((0..CLIENTS).map(|n| {
        let app = &app;
        let id = &id;
        async move {
            // Staggered starts, so reads and writes of different clients interleave.
            tokio::time::sleep(Duration::from_millis(n as u64 % 10 * 3)).await;
            let seen = app.get_job(id).await;
            assert_eq!(seen.status(), StatusCode::OK);
            let tag = etag(&seen);
            let note = format!("client {n}");
            let response = app.put_job(id, &json!({ "notes": note }), Some(&tag)).await;
            match response.status() {
                StatusCode::OK => {
                    let new_tag = etag(&response);
                    let job: Value = response.json().await.unwrap();
                    assert_eq!(job["notes"], note);
                    assert_eq!(new_tag, format!("\"{}\"", job["version"]));
                    Some((job["version"].as_i64().unwrap(), note))
                }
                StatusCode::PRECONDITION_FAILED => {
                    let body = problem(response, StatusCode::PRECONDITION_FAILED).await;
                    assert!(body["current"]["version"].as_i64().unwrap() > 1);
                    None
                }
                other => panic!(
                    "client {n}: unexpected {other}: {}",
                    response.text().await.unwrap()
                ),
            }
        }
    }))
    .await;

    let mut won: Vec<(i64, String)> = outcomes.into_iter().flatten().collect();
    assert!(!won.is_empty(), "at least one edit must win");
    won.sort_unstable();
    eprintln!("{} of {CLIENTS} conditional edits won", won.len());
    // Every 200 produced its own version: 2, 3, … with no version handed out twice, so each
    // was applied on top of the one before and none was lost.
    let versions: Vec<i64> = won.iter().map(|(v, _)| *v).collect();
    let expected: Vec<i64> = (2..2 + won.len() as i64).collect();
    assert_eq!(versions, expected);

    let stored = app.stored_job(&id).await;
    assert_eq!(stored["version"], 1 + won.len() as i64);
    let (_, last_note) = won.last().unwrap();
    assert_eq!(stored["notes"], last_note.as_str());
}
