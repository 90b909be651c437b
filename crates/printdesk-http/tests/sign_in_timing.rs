//! An unknown user takes as long to refuse as a wrong password: 200 sign-ins against a real
//! server on each backend, in a test binary of its own so that no other test competes for the
//! cores while it measures.

use std::time::{Duration, Instant};

use printdesk_app::{Application, Argon2Params, Config};
use printdesk_domain::access::{Role, ThrottlePolicy, UserDraft};
use printdesk_store_diesel::test_support::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;

/// The middle value.
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

async fn measure(database: TestDatabase) {
    let mut config = Config::embedded(database.url.clone());
    // Enough work per check (milliseconds even in a debug build) that skipping it would
    // show against the request's own time; no slow-down, which would end the checks early.
    config.access.argon2 = Argon2Params {
        memory_kib: 2048,
        iterations: 1,
        parallelism: 1,
    };
    config.access.throttle = ThrottlePolicy {
        free_per_user: u32::MAX,
        free_per_address: u32::MAX,
        ..ThrottlePolicy::default()
    };
    let listener = printdesk_app::bind(([127, 0, 0, 1], 0).into()).unwrap();
    let app = Application::build(config, listener).await.unwrap();
    let url = format!("http://{}/api/v1/session", app.address());
    app.access()
        .create_user(UserDraft {
            username: "anna".into(),
            display_name: None,
            role: Role::Viewer,
            password: "anna-password-1".into(),
        })
        .await
        .unwrap();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::new();
    let attempt = |username: &'static str| {
        let request = client
            .post(&url)
            .json(&json!({ "username": username, "password": "not-the-password" }));
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            let took = started.elapsed();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            took
        }
    };
    // Warm up (connections, the dummy hash), then 100 pairs: a wrong password and an unknown
    // user one right after the other, each going first every other time, so that both meet
    // the same load of the (shared, busy) machine and whatever one request leaves behind (a
    // checkpoint of the SQLite file, say) falls on both kinds alike. The verdict is the median
    // of the pairs' ratios, which drifting load does not move.
    for _ in 0..5 {
        attempt("anna").await;
        attempt("nobody").await;
    }
    let (mut ratios, mut wrong_total, mut unknown_total) =
        (Vec::new(), Duration::ZERO, Duration::ZERO);
    for n in 0..100 {
        let (wrong, unknown) = if n % 2 == 0 {
            let wrong = attempt("anna").await;
            (wrong, attempt("nobody").await)
        } else {
            let unknown = attempt("nobody").await;
            (attempt("anna").await, unknown)
        };
        wrong_total += wrong;
        unknown_total += unknown;
        ratios.push(unknown.as_secs_f64() / wrong.as_secs_f64());
    }
    handle.stop(false).await;
    let ratio = median(ratios);
    eprintln!(
        "100 pairs: wrong password {:?}, unknown user {:?} on average; median ratio {ratio:.3}",
        wrong_total / 100,
        unknown_total / 100
    );
    assert!(
        (0.9..=1.1).contains(&ratio),
        "an unknown user takes {ratio:.3} times as long as a wrong password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_takes_as_long_as_a_wrong_password() {
    measure(TestDatabase::sqlite()).await;
    if let Some(database) =
        TestDatabase::postgres("an_unknown_user_takes_as_long_as_a_wrong_password")
    {
        measure(database).await;
    }
}
