//! Users, sessions, roles and API tokens of users: the role table (every endpoint × every
//! role), sign-in and sign-out, session expiry, the first-run set-up, the sign-in slow-down and
//! its timing, cross-site requests with the session cookie, revocation across two instances,
//! and the names the history records.

use std::time::{Duration, Instant};

use printdesk_app::Config;
use printdesk_domain::{
    JobDraft,
    access::{Principal, Role, SessionPolicy, ThrottlePolicy, UserDraft},
};
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, id_of, problem, spawn_app_configured, spawn_second};

api_tests!(
    every_endpoint_answers_each_role_as_the_table_says,
    signing_in_sets_a_strict_cookie_and_signing_out_ends_the_session,
    a_wrong_password_and_an_unknown_user_get_the_same_401,
    the_history_records_display_names_and_token_names,
    a_cross_site_request_with_the_session_cookie_is_refused,
    the_websocket_accepts_the_session_cookie_from_the_page_only,
    the_first_admin_is_created_once_from_loopback_only,
    tokens_are_made_listed_and_revoked_by_admins,
    an_admin_ends_a_lost_phones_session,
    configured_tokens_are_admins_without_a_user,
    an_admin_changes_a_users_name_role_and_password,
    users_change_their_own_name_and_password_with_the_current_one,
);

/// Declares a test that needs its own configuration: `name(backend, test_name)`, once per
/// backend.
macro_rules! configured_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(crate::helpers::Backend::Sqlite, concat!(module_path!(), "::sqlite")).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(crate::helpers::Backend::Postgres, concat!(module_path!(), "::postgres")).await;
                }
            }
        )*
    };
}

configured_tests!(
    sessions_end_when_idle_or_too_old,
    failed_sign_ins_are_slowed_per_user_and_per_address,
    a_revoked_token_and_an_ended_session_are_refused_by_another_instance_at_once,
    behind_a_trusted_proxy_the_cookie_is_secure_and_the_client_is_forwarded,
);

/// `name`'s password in these tests.
fn password(name: &str) -> String {
    format!("{name}-password-1")
}

impl TestApp {
    /// Creates a user straight through the use case.
    async fn add_user(&self, username: &str, display_name: &str, role: Role) {
        self.access
            .create_user(UserDraft {
                username: username.into(),
                display_name: Some(display_name.into()),
                role,
                password: password(username),
            })
            .await
            .expect("create a user");
    }

    /// `POST /session` as `username` with `password`, from the page's own origin.
    async fn sign_in_with(&self, username: &str, password: &str) -> Response {
        reqwest::Client::new()
            .post(self.url("/session"))
            .header(header::ORIGIN, &self.address)
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs `username` in; the session cookie (`name=value`).
    async fn sign_in(&self, username: &str) -> String {
        let response = self.sign_in_with(username, &password(username)).await;
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "signing {username} in"
        );
        cookie_of(&response)
    }

    /// A client that sends `cookie` and the page's own `Origin` with every request.
    fn browser(&self, cookie: &str) -> reqwest::Client {
        let mut headers = header::HeaderMap::new();
        headers.insert(header::COOKIE, cookie.parse().unwrap());
        headers.insert(header::ORIGIN, self.address.parse().unwrap());
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// The principal behind a session cookie, for the use cases that want one.
    async fn principal(&self, cookie: &str) -> Principal {
        let secret = cookie.split_once('=').unwrap().1;
        self.access.resolve_session(secret).await.unwrap().unwrap()
    }
}

/// The `name=value` of the session cookie a response sets.
fn cookie_of(response: &Response) -> String {
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn bearer(token: &str) -> reqwest::Client {
    crate::helpers::client(Some(token))
}

/// Who is asking in a cell of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Viewer,
    Operator,
    Admin,
}

const CALLERS: [Caller; 4] = [
    Caller::Nobody,
    Caller::Viewer,
    Caller::Operator,
    Caller::Admin,
];

/// What a cell expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 401.
    SignIn,
    /// 403 naming this role.
    Needs(Role),
    /// This success.
    Ok(u16),
}

use Expect::{Needs, Ok as Is, SignIn};

/// One endpoint, with a fresh target for each cell (a job, a printer, a user or a token made
/// for it), and what each caller gets.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: [Expect; 4],
}

fn row(method: Method, path: &'static str, body: Option<Value>, expect: [Expect; 4]) -> Row {
    Row {
        method,
        path,
        body,
        expect,
    }
}

async fn every_endpoint_answers_each_role_as_the_table_says(app: TestApp) {
    app.add_user("vera", "Vera Viewer", Role::Viewer).await;
    app.add_user("olaf", "Olaf Operator", Role::Operator).await;
    app.add_user("anna", "Anna Admin", Role::Admin).await;
    let cookies = [
        None,
        Some(app.sign_in("vera").await),
        Some(app.sign_in("olaf").await),
        Some(app.sign_in("anna").await),
    ];
    let anna = app.principal(cookies[3].as_deref().unwrap()).await;

    use Method as M;
    let op = Role::Operator;
    let admin = Role::Admin;
    let table = [
        row(M::GET, "/jobs", None, [SignIn, Is(200), Is(200), Is(200)]),
        row(
            M::POST,
            "/jobs",
            Some(json!({ "job_name": "t" })),
            [SignIn, Needs(op), Is(201), Is(201)],
        ),
        row(
            M::GET,
            "/jobs/{job}",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::PUT,
            "/jobs/{job}",
            Some(json!({ "notes": "x" })),
            [SignIn, Needs(op), Is(200), Is(200)],
        ),
        row(
            M::POST,
            "/jobs/{job}/status",
            Some(json!({ "status": "running" })),
            [SignIn, Needs(op), Is(200), Is(200)],
        ),
        row(
            M::DELETE,
            "/jobs/{job}",
            None,
            [SignIn, Needs(op), Is(204), Is(204)],
        ),
        row(
            M::POST,
            "/jobs/bulk-edit",
            Some(json!({ "ids": ["{job}"], "changes": { "notes": "b" } })),
            [SignIn, Needs(op), Is(200), Is(200)],
        ),
        row(
            M::GET,
            "/jobs/export.csv",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::GET,
            "/jobs/export.xlsx",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::GET,
            "/customers?q=a",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::GET,
            "/reports/summary",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::GET,
            "/jobs/{job}/history",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::GET,
            "/printers",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::POST,
            "/printers",
            Some(json!({ "name": "P", "printer_type": "prusa" })),
            [SignIn, Needs(admin), Needs(admin), Is(201)],
        ),
        row(
            M::GET,
            "/printers/{printer}",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::PATCH,
            "/printers/{printer}",
            Some(json!({ "location": "shelf" })),
            [SignIn, Needs(admin), Needs(admin), Is(200)],
        ),
        row(
            M::DELETE,
            "/printers/{printer}",
            None,
            [SignIn, Needs(admin), Needs(admin), Is(204)],
        ),
        // Trying a connection makes the server connect where the caller says: as much a
        // printer manager's act as registering the printer (nothing listens on port 1).
        row(
            M::POST,
            "/printers/test",
            Some(json!({ "connection": {
                "kind": "octoprint", "base_url": "http://127.0.0.1:1", "api_key": "k"
            } })),
            [SignIn, Needs(admin), Needs(admin), Is(200)],
        ),
        row(
            M::GET,
            "/users",
            None,
            [SignIn, Needs(admin), Needs(admin), Is(200)],
        ),
        row(
            M::POST,
            "/users",
            Some(json!({ "username": "{user}", "password": "long enough", "role": "viewer" })),
            [SignIn, Needs(admin), Needs(admin), Is(201)],
        ),
        row(
            M::PATCH,
            "/users/{user}",
            Some(json!({ "display_name": "Renamed", "role": "operator" })),
            [SignIn, Needs(admin), Needs(admin), Is(200)],
        ),
        row(
            M::DELETE,
            "/users/{user}",
            None,
            [SignIn, Needs(admin), Needs(admin), Is(204)],
        ),
        // Everyone signed in has an account of their own ({} changes nothing).
        row(
            M::PATCH,
            "/account",
            Some(json!({})),
            [SignIn, Is(200), Is(200), Is(200)],
        ),
        row(
            M::DELETE,
            "/users/{user}/sessions",
            None,
            [SignIn, Needs(admin), Needs(admin), Is(200)],
        ),
        row(
            M::GET,
            "/tokens",
            None,
            [SignIn, Needs(admin), Needs(admin), Is(200)],
        ),
        row(
            M::POST,
            "/tokens",
            Some(json!({ "name": "{user}" })),
            [SignIn, Needs(admin), Needs(admin), Is(201)],
        ),
        row(
            M::DELETE,
            "/tokens/{token}",
            None,
            [SignIn, Needs(admin), Needs(admin), Is(204)],
        ),
        row(
            M::GET,
            "/session",
            None,
            [SignIn, Is(200), Is(200), Is(200)],
        ),
    ];

    let mut n = 0;
    for row in &table {
        for (caller, expected) in CALLERS.iter().zip(row.expect) {
            n += 1;
            // A fresh target for every cell, so that a delete in one is not a 404 in the next.
            let job = app
                .state
                .jobs
                .create(
                    JobDraft {
                        job_name: format!("job {n}"),
                        ..JobDraft::default()
                    },
                    anna.actor(),
                )
                .await
                .unwrap()
                .id
                .to_string();
            let printer = format!("p{n}");
            app.state
                .printers
                .create(printdesk_domain::NewPrinter {
                    id: Some(printer.clone()),
                    name: printer.clone(),
                    printer_type: "prusa".into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            let user = format!("user{n}");
            if row.path.contains("{user}") && row.method != M::POST {
                app.add_user(&user, &user, Role::Viewer).await;
            }
            let (token, _) = app
                .access
                .create_token(&anna, &format!("token{n}"), None)
                .await
                .unwrap();
            let fill = |text: &str| {
                text.replace("{job}", &job)
                    .replace("{printer}", &printer)
                    .replace("{user}", &user)
                    .replace("{token}", &token.id.to_string())
            };
            let client = match &cookies[*caller as usize] {
                Some(cookie) => app.browser(cookie),
                None => reqwest::Client::new(),
            };
            let mut request: RequestBuilder =
                client.request(row.method.clone(), app.url(&fill(row.path)));
            if let Some(body) = &row.body {
                let body: Value = serde_json::from_str(&fill(&body.to_string())).unwrap();
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let cell = format!("{} {} as {caller:?}", row.method, row.path);
            match expected {
                SignIn => {
                    problem(response, StatusCode::UNAUTHORIZED).await;
                }
                Needs(role) => {
                    let body = problem(response, StatusCode::FORBIDDEN).await;
                    assert_eq!(body["role_needed"], role.as_str(), "{cell}");
                    assert!(
                        body["detail"].as_str().unwrap().contains(role.as_str()),
                        "{cell}: {body}"
                    );
                }
                Is(status) => assert_eq!(response.status().as_u16(), status, "{cell}"),
            }
        }
    }
    assert_eq!(n, table.len() * 4);
}

async fn signing_in_sets_a_strict_cookie_and_signing_out_ends_the_session(app: TestApp) {
    app.add_user("anna", "Anna Berg", Role::Operator).await;
    // Before any sign-in the server is closed: a user exists.
    problem(
        reqwest::get(app.url("/jobs")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let response = app.sign_in_with("ANNA", &password("anna")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("printdesk_session="), "{set}");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=604800"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = cookie_of(&response);
    let browser = app.browser(&cookie);

    let me: Value = browser
        .get(app.url("/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({ "username": "anna", "display_name": "Anna Berg", "actor": "Anna Berg",
                "role": "operator", "via": "session" })
    );
    assert_eq!(
        browser.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK
    );

    let out = browser.delete(app.url("/session")).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let body = problem(
        browser.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{body}"
    );
    problem(
        browser.get(app.url("/session")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_401(app: TestApp) {
    app.add_user("anna", "Anna", Role::Viewer).await;
    let wrong = problem(
        app.sign_in_with("anna", "not-the-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = problem(
        app.sign_in_with("nobody", "not-the-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["detail"], "The username or the password is wrong.");
    // Missing and unknown members are named.
    let response = reqwest::Client::new()
        .post(app.url("/session"))
        .json(&json!({ "username": "anna", "remember": true }))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["errors"][0]["field"], "remember", "{body}");
    let response = reqwest::Client::new()
        .post(app.url("/session"))
        .json(&json!({ "username": "anna" }))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["errors"][0]["field"], "password", "{body}");
}

async fn the_history_records_display_names_and_token_names(app: TestApp) {
    app.add_user("olaf", "Olaf Krause", Role::Operator).await;
    let cookie = app.sign_in("olaf").await;
    let olaf = app.browser(&cookie);
    let job: Value = olaf
        .post(app.url("/jobs"))
        .json(&json!({ "job_name": "Benchy" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = id_of(&job);
    let (_, secret) = app
        .access
        .create_token(&app.principal(&cookie).await, "ci-bot", None)
        .await
        .unwrap();
    let response = bearer(secret.expose())
        .put(app.url(&format!("/jobs/{id}")))
        .json(&json!({ "customer_name": "ACME" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let history: Value = olaf
        .get(app.url(&format!("/jobs/{id}/history")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actors: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["ci-bot", "Olaf Krause"], "newest first");
}

async fn a_cross_site_request_with_the_session_cookie_is_refused(app: TestApp) {
    app.add_user("anna", "Anna", Role::Admin).await;
    let cookie = app.sign_in("anna").await;
    let post = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/jobs"))
            .header(header::COOKIE, &cookie)
            .json(&json!({ "job_name": "Planted" }));
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    for (origin, site) in [
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (None, Some("cross-site")),
        (None, None),
    ] {
        let body = problem(post(origin, site).await.unwrap(), StatusCode::FORBIDDEN).await;
        assert!(
            body["detail"].as_str().unwrap().contains("another site"),
            "{body}"
        );
    }
    let page = app.browser(&cookie);
    let jobs: Value = page
        .get(app.url("/jobs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jobs["total_count"], 0, "nothing was created");
    // Reading with the cookie from anywhere is fine (SameSite keeps other sites out anyway).
    let read = reqwest::Client::new()
        .get(app.url("/jobs"))
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    // From the page itself it works.
    assert_eq!(
        post(Some(&app.address), None).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        post(None, Some("same-origin")).await.unwrap().status(),
        StatusCode::CREATED
    );
    // A cross-site sign-in is refused too (it would sign the victim in as the attacker).
    let response = reqwest::Client::new()
        .post(app.url("/session"))
        .header(header::ORIGIN, "https://evil.example")
        .json(&json!({ "username": "anna", "password": password("anna") }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
}

fn upgrade(app: &TestApp) -> RequestBuilder {
    reqwest::Client::new()
        .get(app.url("/ws"))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
}

async fn the_websocket_accepts_the_session_cookie_from_the_page_only(app: TestApp) {
    app.add_user("vera", "Vera", Role::Viewer).await;
    let cookie = app.sign_in("vera").await;
    problem(
        upgrade(&app).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let response = upgrade(&app)
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let response = upgrade(&app)
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
}

async fn the_first_admin_is_created_once_from_loopback_only(app: TestApp) {
    // Open: no user yet, every request is the anonymous admin.
    assert_eq!(
        reqwest::get(app.url("/jobs")).await.unwrap().status(),
        StatusCode::OK
    );
    let me: Value = reqwest::get(app.url("/session"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["via"], "open");
    let status: Value = reqwest::get(app.url("/setup"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, json!({ "first_run": true, "sign_in": false }));
    // Users cannot be made by nobody in particular: the set-up makes the first.
    let response = reqwest::Client::new()
        .post(app.url("/users"))
        .json(&json!({ "username": "mallory", "password": "long enough", "role": "admin" }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;

    let setup = |body: Value| {
        reqwest::Client::new()
            .post(app.url("/setup"))
            .header(header::ORIGIN, &app.address)
            .json(&body)
            .send()
    };
    let body = problem(
        setup(json!({ "username": "a b", "password": "short" }))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password"]);

    let response = setup(json!({ "username": "Anna", "display_name": "Anna Berg",
                                 "password": "anna-password-1" }))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = cookie_of(&response);
    let me: Value = response.json().await.unwrap();
    assert_eq!(
        (me["username"].as_str(), me["role"].as_str()),
        (Some("anna"), Some("admin"))
    );
    // Closed now, at once.
    problem(
        reqwest::get(app.url("/jobs")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.browser(&cookie)
            .get(app.url("/jobs"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let status: Value = reqwest::get(app.url("/setup"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, json!({ "first_run": false, "sign_in": true }));
    problem(
        setup(json!({ "username": "mallory", "password": "long enough" }))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn tokens_are_made_listed_and_revoked_by_admins(app: TestApp) {
    app.add_user("anna", "Anna", Role::Admin).await;
    let admin = app.browser(&app.sign_in("anna").await);
    let response = admin
        .post(app.url("/tokens"))
        .json(&json!({ "name": "shop-floor-phone", "role": "operator" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pd_") && secret.len() > 40, "{created}");
    assert_eq!(
        (created["role"].as_str(), created["user"].as_str()),
        (Some("operator"), Some("anna"))
    );

    let listed: Value = admin
        .get(app.url("/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = listed.to_string();
    assert!(
        !text.contains(&secret),
        "the secret is shown once only: {text}"
    );
    assert_eq!(listed["tokens"][0]["name"], "shop-floor-phone");
    assert!(listed["tokens"][0].get("token").is_none());

    let phone = bearer(&secret);
    let me: Value = phone
        .get(app.url("/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            me["actor"].as_str(),
            me["role"].as_str(),
            me["via"].as_str()
        ),
        (Some("shop-floor-phone"), Some("operator"), Some("token"))
    );
    // An operator's token cannot manage tokens.
    let body = problem(
        phone.get(app.url("/tokens")).send().await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body["role_needed"], "admin");
    // Duplicates and bad names.
    let again = admin
        .post(app.url("/tokens"))
        .json(&json!({ "name": "shop-floor-phone" }))
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::CONFLICT).await;
    let bad = admin
        .post(app.url("/tokens"))
        .json(&json!({ "name": "shop floor" }))
        .send()
        .await
        .unwrap();
    problem(bad, StatusCode::BAD_REQUEST).await;
    let bad = admin
        .post(app.url("/tokens"))
        .json(&json!({ "name": "x", "role": "root" }))
        .send()
        .await
        .unwrap();
    problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;

    let id = created["id"].as_str().unwrap();
    let revoked = admin
        .delete(app.url(&format!("/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let body = problem(
        phone.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    problem(
        admin
            .delete(app.url(&format!("/tokens/{id}")))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        admin
            .delete(app.url("/tokens/not-a-uuid"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn an_admin_ends_a_lost_phones_session(app: TestApp) {
    app.add_user("anna", "Anna", Role::Admin).await;
    app.add_user("olaf", "Olaf", Role::Operator).await;
    let admin = app.browser(&app.sign_in("anna").await);
    let phone = app.browser(&app.sign_in("olaf").await);
    let desk = app.browser(&app.sign_in("olaf").await);
    assert_eq!(
        phone.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let ended: Value = admin
        .delete(app.url("/users/olaf/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ended, json!({ "ended": 2 }));
    for client in [&phone, &desk] {
        problem(
            client.get(app.url("/jobs")).send().await.unwrap(),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    assert_eq!(
        admin.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK
    );
    // The last admin stays.
    problem(
        admin.delete(app.url("/users/anna")).send().await.unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        admin
            .delete(app.url("/users/olaf"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        admin.delete(app.url("/users/olaf")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn configured_tokens_are_admins_without_a_user(_app: TestApp) {
    let Some(app) = crate::helpers::spawn_app_secured(
        Backend::Sqlite,
        "configured_tokens_are_admins_without_a_user",
        crate::auth::two_tokens(),
    )
    .await
    else {
        return;
    };
    let till = bearer(crate::auth::TILL_TOKEN);
    // A server with tokens is set up: no first run, even from loopback.
    let status: Value = reqwest::get(app.url("/setup"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, json!({ "first_run": false, "sign_in": false }));
    let response = reqwest::Client::new()
        .post(app.url("/setup"))
        .json(&json!({ "username": "mallory", "password": "long enough" }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
    let me: Value = till
        .get(app.url("/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({ "username": null, "display_name": null, "actor": "till", "role": "admin",
                "via": "configured_token" })
    );
    let response = till
        .post(app.url("/printers"))
        .json(&json!({ "name": "MK4", "printer_type": "prusa" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // It may create users (the first admin too), but no token: tokens belong to users.
    let response = till
        .post(app.url("/users"))
        .json(&json!({ "username": "anna", "password": "anna-password-1", "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = problem(
        till.post(app.url("/tokens"))
            .json(&json!({ "name": "x" }))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("belong to users"),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests with their own configuration
// ---------------------------------------------------------------------------------------------

async fn sessions_end_when_idle_or_too_old(backend: Backend, test: &str) {
    let Some(app) = spawn_app_configured(backend, test, |mut config: Config| {
        config.access.sessions = SessionPolicy {
            idle: Duration::from_millis(1500),
            absolute: Duration::from_secs(4),
            touch_after: Duration::ZERO,
        };
        config
    })
    .await
    else {
        return;
    };
    app.add_user("anna", "Anna", Role::Viewer).await;
    let idle = app.browser(&app.sign_in("anna").await);
    let busy = app.browser(&app.sign_in("anna").await);
    let started = Instant::now();
    // The busy one is used every half second: it outlives the idle limit, not the absolute one.
    while started.elapsed() < Duration::from_millis(3300) {
        assert_eq!(
            busy.get(app.url("/jobs")).send().await.unwrap().status(),
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let body = problem(
        idle.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("session has ended"),
        "{body}"
    );
    while started.elapsed() < Duration::from_millis(4100) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    problem(
        busy.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

fn throttle(free_per_user: u32, free_per_address: u32) -> ThrottlePolicy {
    ThrottlePolicy {
        free_per_user,
        free_per_address,
        ..ThrottlePolicy::default()
    }
}

async fn failed_sign_ins_are_slowed_per_user_and_per_address(backend: Backend, test: &str) {
    let Some(app) = spawn_app_configured(backend, test, |mut config: Config| {
        config.access.throttle = throttle(3, 8);
        config
    })
    .await
    else {
        return;
    };
    app.add_user("anna", "Anna", Role::Viewer).await;
    for _ in 0..3 {
        problem(
            app.sign_in_with("anna", "wrong").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    // Even the right password waits now.
    let response = app.sign_in_with("anna", &password("anna")).await;
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    let body = problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("try again in 1 s"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.sign_in_with("anna", &password("anna")).await.status(),
        StatusCode::NO_CONTENT
    );

    // From one address: eight failures (anna's three and five more, over five names; a
    // success does not reset the address's count) slow down every further name.
    for n in 0..5 {
        problem(
            app.sign_in_with(&format!("guess{n}"), "x").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    problem(
        app.sign_in_with("someone-else", "x").await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

async fn a_revoked_token_and_an_ended_session_are_refused_by_another_instance_at_once(
    backend: Backend,
    test: &str,
) {
    let Some(first) = spawn_app_configured(backend, test, |config| config).await else {
        return;
    };
    let second = spawn_second(&first, |config| config).await;
    first.add_user("anna", "Anna", Role::Admin).await;
    let cookie = first.sign_in("anna").await;
    let (token, secret) = first
        .access
        .create_token(&first.principal(&cookie).await, "phone", None)
        .await
        .unwrap();
    let phone = bearer(secret.expose());
    // The other instance knows the session and the token from the database.
    assert_eq!(
        phone
            .get(second.url("/jobs"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let on_second = second.browser(&cookie);
    assert_eq!(
        on_second
            .get(second.url("/jobs"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let revoked = first
        .browser(&cookie)
        .delete(first.url(&format!("/tokens/{}", token.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let at = Instant::now();
    let refused = phone.get(second.url("/jobs")).send().await.unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "the very next request"
    );
    assert!(at.elapsed() < Duration::from_secs(1));

    let out = first
        .browser(&cookie)
        .delete(first.url("/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    problem(
        on_second.get(second.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn behind_a_trusted_proxy_the_cookie_is_secure_and_the_client_is_forwarded(
    backend: Backend,
    test: &str,
) {
    let Some(app) = spawn_app_configured(backend, test, |mut config: Config| {
        config.security.authenticator = config.security.authenticator.trust_proxy(true);
        config
    })
    .await
    else {
        return;
    };
    // The proxy says the client is on the LAN: no first-run set-up for it.
    let from_lan = |request: RequestBuilder| {
        request
            .header("x-forwarded-for", "192.0.2.44")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "print.example.com")
    };
    let status: Value = from_lan(reqwest::Client::new().get(app.url("/setup")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, json!({ "first_run": false, "sign_in": false }));
    let response = from_lan(reqwest::Client::new().post(app.url("/setup")))
        .json(&json!({ "username": "mallory", "password": "long enough" }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;

    app.add_user("anna", "Anna", Role::Operator).await;
    let response = from_lan(reqwest::Client::new().post(app.url("/session")))
        .header(header::ORIGIN, "https://print.example.com")
        .json(&json!({ "username": "anna", "password": password("anna") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let set = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.ends_with("; Secure"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    // The page at the proxy's origin may change things.
    let response = from_lan(reqwest::Client::new().post(app.url("/jobs")))
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "https://print.example.com")
        .json(&json!({ "job_name": "Benchy" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn an_admin_changes_a_users_name_role_and_password(app: TestApp) {
    app.add_user("anna", "Anna Admin", Role::Admin).await;
    app.add_user("olaf", "Olaf", Role::Operator).await;
    let anna = app.browser(&app.sign_in("anna").await);
    let anna_elsewhere = app.browser(&app.sign_in("anna").await);
    let olaf = app.browser(&app.sign_in("olaf").await);
    let patch = |path: &str, body: Value| anna.patch(app.url(path)).json(&body).send();

    // A new display name: the session stays, and the history uses the new name at once.
    let renamed = patch("/users/OLAF", json!({ "display_name": "  Olaf Krause " }))
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let body: Value = renamed.json().await.unwrap();
    assert_eq!(
        (
            body["username"].as_str(),
            body["display_name"].as_str(),
            body["role"].as_str()
        ),
        (Some("olaf"), Some("Olaf Krause"), Some("operator"))
    );
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    let me: Value = olaf
        .get(app.url("/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "Olaf Krause");

    // Refusals, each a problem naming why; nothing changes.
    let unknown = problem(
        patch("/users/olaf", json!({ "username": "olga" }))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "username");
    let bad_role = problem(
        patch("/users/olaf", json!({ "role": "root" }))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad_role["errors"][0]["field"], "role");
    let short = problem(
        patch(
            "/users/olaf",
            json!({ "password": "short", "display_name": "" }),
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let fields: Vec<&str> = short["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["display_name", "password"]);
    let missing = problem(
        patch("/users/nobody", json!({ "role": "viewer" }))
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(missing["detail"].as_str().unwrap().contains("No user"));
    let last = problem(
        patch("/users/anna", json!({ "role": "operator" }))
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        last["detail"].as_str().unwrap().contains("last admin"),
        "{last}"
    );
    assert_eq!(
        olaf.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK,
        "a refused change ends no session"
    );

    // A new role signs the user out everywhere; they sign in again with the new role.
    let demoted = patch("/users/olaf", json!({ "role": "viewer" }))
        .await
        .unwrap();
    assert_eq!(demoted.status(), StatusCode::OK);
    problem(
        olaf.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let olaf = app.browser(&app.sign_in("olaf").await);
    let me: Value = olaf
        .get(app.url("/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "viewer");

    // A new password: the old one no longer signs in, the user's sessions end.
    let reset = patch("/users/olaf", json!({ "password": "olaf-new-password" }))
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::OK);
    problem(
        olaf.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        app.sign_in_with("olaf", &password("olaf")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.sign_in_with("olaf", "olaf-new-password").await.status(),
        StatusCode::NO_CONTENT
    );

    // An admin who sets their own password stays signed in here, not elsewhere.
    let own = patch("/users/anna", json!({ "password": "anna-new-password" }))
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(
        anna.get(app.url("/users")).send().await.unwrap().status(),
        StatusCode::OK
    );
    problem(
        anna_elsewhere.get(app.url("/users")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Once there is a second admin, the first may step down.
    let promoted = patch("/users/olaf", json!({ "role": "admin" }))
        .await
        .unwrap();
    assert_eq!(promoted.status(), StatusCode::OK);
    let stepped_down = patch("/users/anna", json!({ "role": "operator" }))
        .await
        .unwrap();
    assert_eq!(stepped_down.status(), StatusCode::OK);
    problem(
        anna.get(app.url("/users")).send().await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn users_change_their_own_name_and_password_with_the_current_one(app: TestApp) {
    app.add_user("vera", "Vera", Role::Viewer).await;
    let here_cookie = app.sign_in("vera").await;
    let here = app.browser(&here_cookie);
    let phone = app.browser(&app.sign_in("vera").await);
    let patch = |body: Value| here.patch(app.url("/account")).json(&body).send();

    let renamed = patch(json!({ "display_name": "Vera Lang" })).await.unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let body: Value = renamed.json().await.unwrap();
    assert_eq!(
        (body["display_name"].as_str(), body["role"].as_str()),
        (Some("Vera Lang"), Some("viewer"))
    );
    assert_eq!(
        phone.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK
    );

    let no_role = problem(
        patch(json!({ "role": "admin" })).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(no_role["errors"][0]["field"], "role");
    let no_current = problem(
        patch(json!({ "password": "vera-new-password" }))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(no_current["errors"][0]["field"], "current_password");
    let wrong = problem(
        patch(json!({ "password": "vera-new-password", "current_password": "guess" }))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    assert_eq!(
        phone.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK
    );

    let changed = patch(json!({
        "password": "vera-new-password",
        "current_password": password("vera"),
    }))
    .await
    .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        here.get(app.url("/jobs")).send().await.unwrap().status(),
        StatusCode::OK
    );
    problem(
        phone.get(app.url("/jobs")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.sign_in_with("vera", "vera-new-password").await.status(),
        StatusCode::NO_CONTENT
    );

    // A token speaks for its user but cannot change the account.
    app.add_user("anna", "Anna", Role::Admin).await;
    let anna = app.principal(&app.sign_in("anna").await).await;
    let (_, secret) = app
        .access
        .create_token(&anna, "anna-bot", None)
        .await
        .unwrap();
    let by_token = problem(
        bearer(secret.expose())
            .patch(app.url("/account"))
            .json(&json!({ "display_name": "Bot" }))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        by_token["detail"].as_str().unwrap().contains("token"),
        "{by_token}"
    );
}
