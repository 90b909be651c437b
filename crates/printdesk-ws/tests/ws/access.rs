//! An open socket does not outlive its access: signing out, an admin ending the sessions or
//! changing the user, a revoked token — each closes the sockets they opened, within a second,
//! on every instance (the socket asks the database again, as a request would).

use std::time::{Duration, Instant};

use printdesk_store_diesel::test_support::TestDatabase;
use printdesk_ws::{CLOSE_ACCESS_ENDED, CLOSE_ROLE_CHANGED};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{Client, PATIENCE, Received, Stack};

/// What "within about a second" allows: the recheck every 500 ms, plus the look-up.
const WITHIN: Duration = Duration::from_secs(1);

const PASSWORD: &str = "correct horse battery";

/// A request to `stack` with the session `cookie` (and the page's own `Origin`, which a
/// state-changing request with a cookie needs).
async fn call(
    stack: &Stack,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = stack
        .http
        .request(method, stack.url(path))
        .header("origin", format!("http://{}", stack.addr));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn session_cookie(response: &reqwest::Response) -> String {
    let set = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// Creates the first admin `anna` through the first-run set-up; returns its cookie.
async fn first_admin(stack: &Stack) -> String {
    let response = call(
        stack,
        Method::POST,
        "/setup",
        None,
        Some(json!({ "username": "anna", "password": PASSWORD })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    session_cookie(&response)
}

async fn add_user(stack: &Stack, admin: &str, username: &str, role: &str) {
    let response = call(
        stack,
        Method::POST,
        "/users",
        Some(admin),
        Some(json!({ "username": username, "password": PASSWORD, "role": role })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn sign_in(stack: &Stack, username: &str) -> String {
    let response = call(
        stack,
        Method::POST,
        "/session",
        None,
        Some(json!({ "username": username, "password": PASSWORD })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    session_cookie(&response)
}

/// A token made by the user of `cookie`: its id and secret.
async fn new_token(stack: &Stack, cookie: &str, name: &str) -> (String, String) {
    let response = call(
        stack,
        Method::POST,
        "/tokens",
        Some(cookie),
        Some(json!({ "name": name })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// A socket opened with the session `cookie`, as the page opens it.
async fn socket_with_cookie(stack: &Stack, cookie: &str) -> Client {
    let mut request = stack.ws_url("").into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert("origin", format!("http://{}", stack.addr).parse().unwrap());
    let mut client = Client::connect_request(request, stack.addr).await;
    client.hello().await;
    client
}

async fn socket_with_token(stack: &Stack, token: &str) -> Client {
    let mut request = stack.ws_url("").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let mut client = Client::connect_request(request, stack.addr).await;
    client.hello().await;
    client
}

/// Waits for the close frame; how long it took from `since`.
async fn closed_with(client: &mut Client, code: u16, since: Instant) -> Duration {
    match client.receive_within(PATIENCE).await {
        Some(Received::Close(got, reason)) => {
            assert_eq!(got, code, "{reason}");
            assert!(reason.contains("since="), "{reason}");
        }
        other => panic!("expected a close with {code}, got {other:?}"),
    }
    since.elapsed()
}

async fn stays_open(client: &mut Client) {
    // Two rechecks and more.
    client.expect_quiet(Duration::from_millis(1200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_closes_that_sessions_socket_within_a_second() {
    let db = TestDatabase::sqlite();
    let stack = Stack::start(&db).await;
    let anna = first_admin(&stack).await;
    let other = sign_in(&stack, "anna").await;
    let mut closing = socket_with_cookie(&stack, &anna).await;
    let mut staying = socket_with_cookie(&stack, &other).await;

    let at = Instant::now();
    let response = call(&stack, Method::DELETE, "/session", Some(&anna), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let took = closed_with(&mut closing, CLOSE_ACCESS_ENDED, at).await;
    assert!(took <= WITHIN, "closed after {took:?}");
    stays_open(&mut staying).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_user_closes_the_open_servers_sockets() {
    let db = TestDatabase::sqlite();
    let stack = Stack::start(&db).await;
    let mut client = Client::connect(&stack.ws_url("")).await;
    client.hello().await;
    // Hashing the password takes a while in a debug build: count from the answer (the socket
    // may well be closed before it).
    first_admin(&stack).await;
    let at = Instant::now();
    let took = closed_with(&mut client, CLOSE_ACCESS_ENDED, at).await;
    assert!(
        took <= WITHIN,
        "closed {took:?} after the first user was made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_closes_its_socket_and_no_other() {
    let db = TestDatabase::sqlite();
    let stack = Stack::start(&db).await;
    let anna = first_admin(&stack).await;
    let (id, secret) = new_token(&stack, &anna, "anna-phone").await;
    let (_, kept) = new_token(&stack, &anna, "anna-desk").await;
    let mut closing = socket_with_token(&stack, &secret).await;
    let mut staying = socket_with_token(&stack, &kept).await;

    let at = Instant::now();
    let response = call(
        &stack,
        Method::DELETE,
        &format!("/tokens/{id}"),
        Some(&anna),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let took = closed_with(&mut closing, CLOSE_ACCESS_ENDED, at).await;
    assert!(took <= WITHIN, "closed after {took:?}");
    stays_open(&mut staying).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_changes_close_the_users_sockets() {
    let db = TestDatabase::sqlite();
    let stack = Stack::start(&db).await;
    let anna = first_admin(&stack).await;
    add_user(&stack, &anna, "olaf", "admin").await;
    add_user(&stack, &anna, "vera", "operator").await;
    let olaf = sign_in(&stack, "olaf").await;
    let (_, olaf_token) = new_token(&stack, &olaf, "olaf-bot").await;
    let mut by_session = socket_with_cookie(&stack, &olaf).await;
    let mut by_token = socket_with_token(&stack, &olaf_token).await;
    let mut admins = socket_with_cookie(&stack, &anna).await;

    // A new display name changes nothing the socket acts with.
    let renamed = call(
        &stack,
        Method::PATCH,
        "/users/olaf",
        Some(&anna),
        Some(json!({ "display_name": "Olaf Krause" })),
    )
    .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    stays_open(&mut by_session).await;

    // A new role ends the user's sessions (sign in again) and changes what the token may do
    // (reconnect with the new role).
    let at = Instant::now();
    let demoted = call(
        &stack,
        Method::PATCH,
        "/users/olaf",
        Some(&anna),
        Some(json!({ "role": "viewer" })),
    )
    .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let took = closed_with(&mut by_session, CLOSE_ACCESS_ENDED, at).await;
    assert!(took <= WITHIN, "closed after {took:?}");
    closed_with(&mut by_token, CLOSE_ROLE_CHANGED, at).await;
    // The token's socket reconnects, with the role it has now.
    let mut again = socket_with_token(&stack, &olaf_token).await;

    // Signing a user out everywhere, and deleting a user, close their sockets too.
    let vera = sign_in(&stack, "vera").await;
    let mut veras = socket_with_cookie(&stack, &vera).await;
    let at = Instant::now();
    let ended = call(
        &stack,
        Method::DELETE,
        "/users/vera/sessions",
        Some(&anna),
        None,
    )
    .await;
    assert_eq!(ended.status(), StatusCode::OK);
    closed_with(&mut veras, CLOSE_ACCESS_ENDED, at).await;
    let at = Instant::now();
    let deleted = call(&stack, Method::DELETE, "/users/olaf", Some(&anna), None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    closed_with(&mut again, CLOSE_ACCESS_ENDED, at).await;

    stays_open(&mut admins).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_or_sign_out_on_one_instance_closes_sockets_on_another() {
    let Some(db) = TestDatabase::postgres(
        "a_revocation_or_sign_out_on_one_instance_closes_sockets_on_another",
    ) else {
        return;
    };
    let a = Stack::start(&db).await;
    let b = Stack::start(&db).await;
    let anna = first_admin(&a).await;
    let (id, secret) = new_token(&a, &anna, "anna-phone").await;
    // Both credentials were made on A; the sockets are on B.
    let mut by_token = socket_with_token(&b, &secret).await;
    let mut by_session = socket_with_cookie(&b, &anna).await;

    let at = Instant::now();
    let response = call(
        &a,
        Method::DELETE,
        &format!("/tokens/{id}"),
        Some(&anna),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let took = closed_with(&mut by_token, CLOSE_ACCESS_ENDED, at).await;
    assert!(took <= WITHIN, "B closed the token's socket after {took:?}");

    let at = Instant::now();
    let response = call(&a, Method::DELETE, "/session", Some(&anna), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let took = closed_with(&mut by_session, CLOSE_ACCESS_ENDED, at).await;
    assert!(
        took <= WITHIN,
        "B closed the session's socket after {took:?}"
    );
}
