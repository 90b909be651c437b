//! An unknown user takes as long to refuse as a wrong password: 200 sign-ins against a real
//! server on each backend, in a test binary of its own so that no other test competes for the
//! cores while it measures.

use std::time::{Duration, Instant};

use printdesk_app::{Application, Argon2Params, Config};
use printdesk_domain::access::{Role, ThrottlePolicy, UserDraft};
use printdesk_store_diesel::test_support::TestDatabase;
use reqwest::StatusCode;
use serde_json::json;

/// The lower quartile: the time a request takes when nothing else on the machine gets in its
/// way, which is what shows the work the server does.
fn lower_quartile(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 4]
}

async fn measure(database: TestDatabase) {
    let mut config = Config::embedded(database.url.clone());
    // Enough work per check (milliseconds even in a debug build) that skipping it would
    // show against the request's own time; no slow-down, which would end the checks early.
    config.access.argon2 = Argon2Params {
        memory_kib: 512,
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
    // Warm up (connections, the dummy hash), then 100 of each kind, each going first every
    // other time: whatever one request leaves behind (a checkpoint of the SQLite file, say)
    // falls on both kinds alike.
    for _ in 0..5 {
        attempt("anna").await;
        attempt("nobody").await;
    }
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for n in 0..100 {
        if n % 2 == 0 {
            wrong.push(attempt("anna").await);
            unknown.push(attempt("nobody").await);
        } else {
            unknown.push(attempt("nobody").await);
            wrong.push(attempt("anna").await);
        }
    }
    handle.stop(false).await;
    let (wrong, unknown) = (lower_quartile(wrong), lower_quartile(unknown));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    eprintln!(
        "lower quartile: wrong password {wrong:?}, unknown user {unknown:?}, ratio {ratio:.3}"
    );
    assert!(
        (0.9..=1.1).contains(&ratio),
        "wrong {wrong:?} vs unknown {unknown:?}"
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
