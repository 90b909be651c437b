//! Authentication: with tokens configured, `/api/v1` needs `Authorization: Bearer <token>`;
//! the token's name is the actor of the changes made with it; everything else stays public.

use printdesk_http::{
    Authenticator, CorsOrigins, Security,
    auth::{TokenHash, TokenSet},
};
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, id_of, problem};

/// Two tokens, named `till` and `ha`.
pub const TILL_TOKEN: &str = "pd_till-0123456789abcdefghijklmnopqrstuvwxyz";
pub const HA_TOKEN: &str = "pd_ha-zyxwvutsrqponmlkjihgfedcba9876543210";

/// A server that knows [`TILL_TOKEN`] (as `till`) and [`HA_TOKEN`] (as `ha`).
pub fn two_tokens() -> Security {
    let mut tokens = TokenSet::new();
    tokens
        .add_list(&format!(
            "till:{},ha:{}",
            TokenHash::of(TILL_TOKEN).to_hex(),
            TokenHash::of(HA_TOKEN).to_hex()
        ))
        .expect("valid tokens");
    Security {
        authenticator: Authenticator::new(tokens),
        cors_origins: CorsOrigins::none(),
    }
}

api_tests!(
    security = crate::auth::two_tokens();
    requests_without_a_token_are_401,
    wrong_tokens_are_401_invalid_token,
    the_right_tokens_are_accepted,
    the_tokens_name_is_the_actor,
    paths_outside_the_api_need_no_token,
    a_websocket_upgrade_may_carry_the_token_as_a_subprotocol,
);

api_tests!(without_tokens_everyone_is_anonymous);

const CHALLENGE: &str = "Bearer realm=\"printdesk\"";
const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"printdesk\", error=\"invalid_token\"";

/// Every kind of API request, without any token.
fn api_requests(app: &TestApp, id: &str) -> Vec<RequestBuilder> {
    let c = &app.client;
    vec![
        c.get(app.url("/jobs")),
        c.post(app.url("/jobs"))
            .json(&json!({ "job_name": "Benchy" })),
        c.get(app.url(&format!("/jobs/{id}"))),
        c.put(app.url(&format!("/jobs/{id}")))
            .json(&json!({ "notes": "x" })),
        c.delete(app.url(&format!("/jobs/{id}"))),
        c.post(app.url(&format!("/jobs/{id}/status")))
            .json(&json!({ "status": "running" })),
        c.get(app.url(&format!("/jobs/{id}/history"))),
        c.post(app.url("/jobs/bulk-edit"))
            .json(&json!({ "ids": [id], "changes": {} })),
        c.get(app.url("/jobs/export.csv")),
        c.get(app.url("/printers")),
        c.post(app.url("/printers")).json(&json!({ "id": "p1" })),
        c.delete(app.url("/printers/p1")),
        // The WebSocket endpoint's path, and paths that exist nowhere: no token, no answer
        // about what is there.
        c.get(app.url("/ws")),
        c.get(app.url("/nothing")),
        c.request(Method::PATCH, app.url("/jobs")),
        c.request(Method::OPTIONS, app.url("/jobs")),
        // Percent-encoded paths are routed as decoded; they are checked as decoded too.
        c.get(format!("{}/api/%76%31/jobs", app.address)),
        // A token in the query string is not read.
        c.get(app.url(&format!("/jobs?access_token={TILL_TOKEN}"))),
    ]
}

/// Asserts a 401 problem with `challenge`; returns its body.
async fn unauthorized(response: Response, challenge: &str) -> Value {
    let what = format!("{}", response.url());
    assert_eq!(
        response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap()),
        Some(challenge),
        "{what}"
    );
    assert!(response.headers().contains_key("x-request-id"), "{what}");
    let body = problem(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["type"], "urn:printdesk:problem:unauthorized", "{what}");
    assert_eq!(body["title"], "Authentication required", "{what}");
    body
}

async fn create_with(app: &TestApp, token: &str, name: &str) -> Value {
    let response = client(Some(token))
        .post(app.url("/jobs"))
        .json(&json!({ "job_name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn requests_without_a_token_are_401(app: TestApp) {
    let job = create_with(&app, TILL_TOKEN, "Benchy").await;
    for request in api_requests(&app, &id_of(&job)) {
        let body = unauthorized(request.send().await.unwrap(), CHALLENGE).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Authorization: Bearer"),
            "{body}"
        );
    }
    // Nothing was changed.
    let mut app = app;
    app.use_token(Some(TILL_TOKEN));
    let stored = app.stored_job(&id_of(&job)).await;
    assert_eq!(stored, job);
    assert_eq!(app.list_jobs("").await["total_count"], 1);
}

async fn wrong_tokens_are_401_invalid_token(app: TestApp) {
    let job = create_with(&app, TILL_TOKEN, "Benchy").await;
    let id = id_of(&job);
    // A near miss, another token's hash, the token with a different case, and nothing.
    let wrong = [
        &TILL_TOKEN[..TILL_TOKEN.len() - 1],
        &format!("{TILL_TOKEN}x"),
        &TokenHash::of(TILL_TOKEN).to_hex(),
        &TILL_TOKEN.to_uppercase(),
        "",
    ];
    for token in wrong {
        for request in api_requests(&app, &id) {
            // The same requests, each with the wrong token.
            let value = header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
            let response = request
                .header(header::AUTHORIZATION, value)
                .send()
                .await
                .unwrap();
            let body = unauthorized(response, INVALID_TOKEN_CHALLENGE).await;
            assert!(
                body["detail"].as_str().unwrap().contains("not valid"),
                "{body}"
            );
        }
    }
    // Another scheme is not a wrong token, just not a token.
    let response = app
        .client
        .get(app.url("/jobs"))
        .basic_auth("till", Some(TILL_TOKEN))
        .send()
        .await
        .unwrap();
    let body = unauthorized(response, CHALLENGE).await;
    assert!(
        body["detail"].as_str().unwrap().contains("bearer"),
        "{body}"
    );
}

async fn the_right_tokens_are_accepted(mut app: TestApp) {
    for token in [TILL_TOKEN, HA_TOKEN] {
        app.use_token(Some(token));
        let job = app.create_named_job("Benchy").await;
        let id = id_of(&job);
        assert_eq!(app.stored_job(&id).await, job);
        let response = app.put_job(&id, &json!({ "notes": "ok" }), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            app.delete_job(&id, None).await.status(),
            StatusCode::NO_CONTENT
        );
        app.create_printer(&format!("printer-{}", &token[3..7]))
            .await;
    }
    // The scheme is case-insensitive; spaces around the token do not matter.
    let response = app
        .client
        .get(app.url("/printers"))
        .header(header::AUTHORIZATION, format!("bearer  {HA_TOKEN} "))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // With a token, errors are the API's own.
    problem(
        app.client.get(app.url("/nothing")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let response = app.get_job("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").await;
    problem(response, StatusCode::NOT_FOUND).await;
}

async fn the_tokens_name_is_the_actor(mut app: TestApp) {
    app.use_token(Some(TILL_TOKEN));
    let id = id_of(&app.create_named_job("Benchy").await);
    app.use_token(Some(HA_TOKEN));
    let response = app
        .put_job(&id, &json!({ "notes": "re-sliced" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.use_token(Some(TILL_TOKEN));
    let response = app
        .post_status(&id, &json!({ "status": "running" }), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.use_token(Some(HA_TOKEN));
    let response = app
        .bulk_edit(&json!({ "ids": [id], "changes": { "notes": "bulk" } }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.delete_job(&id, None).await.status(),
        StatusCode::NO_CONTENT
    );

    let response = app.history(&id, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    let actors: Vec<(&str, &str)> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actors,
        [
            ("job_deleted", "ha"),
            ("job_updated", "ha"),
            ("job_updated", "till"),
            ("job_updated", "ha"),
            ("job_created", "till"),
        ]
    );
}

async fn without_tokens_everyone_is_anonymous(app: TestApp) {
    let id = id_of(&app.create_named_job("Benchy").await);
    // A token sent to a server without tokens is ignored, not refused.
    let response = client(Some(TILL_TOKEN))
        .put(app.url(&format!("/jobs/{id}")))
        .json(&json!({ "notes": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = app.history(&id, "").await.json().await.unwrap();
    for event in page["events"].as_array().unwrap() {
        assert_eq!(event["actor"], Value::Null, "{event}");
    }
}

async fn paths_outside_the_api_need_no_token(app: TestApp) {
    // This test server has no page and no operations endpoints: their paths are 404, the
    // answer anyone gets there, and not 401.
    for path in [
        "/",
        "/index.html",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v10/jobs",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_ne!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(!response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}

async fn a_websocket_upgrade_may_carry_the_token_as_a_subprotocol(app: TestApp) {
    // A request that gets past the authentication is upgraded (101), one that does not is a
    // 401. A new client each time: the server closes a connection whose upgrade it did not
    // take, and a pooled one could be reused just as it closes.
    let upgrade = |protocol: &str| {
        client(None)
            .get(app.url("/ws"))
            .header(header::CONNECTION, "Upgrade")
            .header(header::UPGRADE, "websocket")
            .header(header::SEC_WEBSOCKET_VERSION, "13")
            .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
            .header(header::SEC_WEBSOCKET_PROTOCOL, protocol.to_owned())
    };
    let response = upgrade(&format!("printdesk.bearer.{TILL_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let response = upgrade(&format!("chat, printdesk.bearer.{HA_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);

    let response = upgrade("printdesk.bearer.pd_wrong").send().await.unwrap();
    unauthorized(response, INVALID_TOKEN_CHALLENGE).await;
    let response = upgrade("chat").send().await.unwrap();
    unauthorized(response, CHALLENGE).await;
    // Not an upgrade: the subprotocol header means nothing.
    let response = client(None)
        .get(app.url("/jobs"))
        .header(
            header::SEC_WEBSOCKET_PROTOCOL,
            format!("printdesk.bearer.{TILL_TOKEN}"),
        )
        .send()
        .await
        .unwrap();
    unauthorized(response, CHALLENGE).await;
}
