//! Starts the whole application on 127.0.0.1:0 over a fresh store, through the composition
//! root as the binary does (every route and middleware), and a client to talk to it.
//!
//! Every test gets its own server and its own database. Set `TEST_LOG=1` to see the server's
//! tracing output.

use std::sync::{Arc, LazyLock};

use futures_util::{StreamExt, stream};
use printdesk_app::{AppHandle, Application, Config};
use printdesk_domain::{Actor, Job, JobDraft};
use printdesk_http::{ApiState, Security};
use printdesk_store_diesel::{Store, test_support::TestDatabase};
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};

/// Which store a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server named by `PRINTDESK_TEST_POSTGRES_URL`.
    Postgres,
}

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_test_writer()
            .init();
    } else {
        // Otherwise every server's log, in full detail, is kept for tests that check what
        // the log must never hold (secrets).
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "printdesk_http=trace,printdesk_domain=trace,printdesk_store_diesel=trace,info",
            ))
            .with_writer(|| CapturedLog)
            .init();
    }
});

static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// Appends to [`LOG`].
struct CapturedLog;

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the test servers of this process have logged so far (empty with `TEST_LOG`,
/// whose output goes to the test's own output instead).
pub fn captured_log() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// A running server and a client for it. The server stops when this is dropped.
#[derive(Debug)]
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// A client without redirects.
    pub client: reqwest::Client,
    /// The services the server runs on, for seeding many jobs quickly (no HTTP round trips).
    pub state: ApiState,
    /// The access use cases the server runs on, for seeding users.
    pub access: printdesk_domain::access::AccessService,
    /// The database's URL, for a second instance on it.
    pub database_url: String,
    handle: AppHandle,
    /// Dropped (and so deleted) after the server is told to stop; `None` for a second
    /// instance on another's database.
    _database: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stopping is a future; start it and let the runtime (or its shutdown) finish it.
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}

/// Starts a server on `backend`; `None` when that backend is not available here (the test
/// then passes without running, and says so on stderr).
pub async fn spawn_app(backend: Backend, test_name: &str) -> Option<TestApp> {
    spawn_app_with(backend, test_name, |store| store).await
}

/// Like [`spawn_app`], with the job repository the server uses made by `jobs` from the store
/// (to wrap it, say, in one that fails on purpose): the composition root's
/// [`Config::wrap_job_repository`] seam.
pub async fn spawn_app_with(
    backend: Backend,
    test_name: &str,
    jobs: impl FnOnce(Arc<Store>) -> Arc<dyn printdesk_domain::JobRepository> + Send + 'static,
) -> Option<TestApp> {
    spawn(backend, test_name, Security::default(), |config| {
        config.wrap_job_repository(jobs)
    })
    .await
}

/// Like [`spawn_app`], guarded by `security`: tokens (none: authentication off) and CORS
/// origins.
pub async fn spawn_app_secured(
    backend: Backend,
    test_name: &str,
    security: Security,
) -> Option<TestApp> {
    spawn(backend, test_name, security, |config| config).await
}

/// Argon2 parameters that cost next to nothing: the tests check what sign-ins do, not what
/// they cost (production's are the default of [`printdesk_app::AccessSettings`]).
pub const CHEAP_ARGON2: printdesk_app::Argon2Params = printdesk_app::Argon2Params {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// Like [`spawn_app`], with the configuration changed by `configure` (after the test
/// defaults: cheap Argon2 parameters).
pub async fn spawn_app_configured(
    backend: Backend,
    test_name: &str,
    configure: impl FnOnce(Config) -> Config,
) -> Option<TestApp> {
    spawn(backend, test_name, Security::default(), configure).await
}

/// A second instance on `first`'s database, configured as [`spawn_app_configured`] does.
pub async fn spawn_second(first: &TestApp, configure: impl FnOnce(Config) -> Config) -> TestApp {
    start(
        first.database_url.clone(),
        None,
        Security::default(),
        configure,
    )
    .await
}

async fn spawn(
    backend: Backend,
    test_name: &str,
    security: Security,
    configure: impl FnOnce(Config) -> Config,
) -> Option<TestApp> {
    LazyLock::force(&TRACING);
    let database = match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => TestDatabase::postgres(test_name)?,
    };
    Some(start(database.url.clone(), Some(database), security, configure).await)
}

async fn start(
    url: String,
    database: Option<TestDatabase>,
    security: Security,
    configure: impl FnOnce(Config) -> Config,
) -> TestApp {
    LazyLock::force(&TRACING);
    let mut config = Config {
        security,
        ..Config::embedded(url.clone())
    };
    config.access.argon2 = CHEAP_ARGON2;
    let config = configure(config);
    let listener = printdesk_app::bind(([127, 0, 0, 1], 0).into()).expect("bind a free port");
    let app = Application::build(config, listener)
        .await
        .unwrap_or_else(|e| panic!("start the application on {url}: {e}"));
    let address = format!("http://{}", app.address());
    let state = app.services().clone();
    let access = app.access().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    TestApp {
        address,
        client: client(None),
        state,
        access,
        database_url: url,
        handle,
        _database: database,
    }
}

/// Declares API tests: each `async fn name(app: TestApp)` runs once per backend, as
/// `name::sqlite` and `name::postgres` (the latter passes without running, saying so on
/// stderr, when `PRINTDESK_TEST_POSTGRES_URL` is unset).
///
/// `api_tests!(security = EXPR; name, …)` runs them on a server guarded by `EXPR` (a
/// [`Security`], written with absolute paths such as `crate::auth::two_tokens()`).
macro_rules! api_tests {
    (security = $security:expr; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let test = concat!(module_path!(), "::sqlite");
                    let backend = crate::helpers::Backend::Sqlite;
                    if let Some(app) = crate::helpers::spawn_app_secured(backend, test, $security).await {
                        super::$name(app).await;
                    }
                }

                #[tokio::test]
                async fn postgres() {
                    let test = concat!(module_path!(), "::postgres");
                    let backend = crate::helpers::Backend::Postgres;
                    if let Some(app) = crate::helpers::spawn_app_secured(backend, test, $security).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let test = concat!(module_path!(), "::sqlite");
                    if let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite, test).await {
                        super::$name(app).await;
                    }
                }

                #[tokio::test]
                async fn postgres() {
                    let test = concat!(module_path!(), "::postgres");
                    if let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres, test).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

/// A client without redirects that sends `Authorization: Bearer <token>` with every request
/// when given a token.
pub fn client(token: Option<&str>) -> reqwest::Client {
    let mut headers = header::HeaderMap::new();
    if let Some(token) = token {
        let value = header::HeaderValue::from_str(&format!("Bearer {token}")).expect("a token");
        headers.insert(header::AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("a client")
}

impl TestApp {
    /// From now on, sends `Authorization: Bearer <token>` with every request (or nothing).
    pub fn use_token(&mut self, token: Option<&str>) {
        self.client = client(token);
    }

    /// The full URL of an API path (`/jobs` → `http://…/api/v1/jobs`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    /// `POST /jobs` with a JSON body.
    pub async fn post_job(&self, body: &Value) -> Response {
        self.client
            .post(self.url("/jobs"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a job and returns it.
    pub async fn create_job(&self, body: Value) -> Value {
        let response = self.post_job(&body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {body}");
        response.json().await.unwrap()
    }

    /// Creates a job with only a name.
    pub async fn create_named_job(&self, name: &str) -> Value {
        self.create_job(json!({ "job_name": name })).await
    }

    /// `GET /jobs/{id}`
    pub async fn get_job(&self, id: &str) -> Response {
        self.client
            .get(self.url(&format!("/jobs/{id}")))
            .send()
            .await
            .unwrap()
    }

    /// The stored job, asserting it exists.
    pub async fn stored_job(&self, id: &str) -> Value {
        let response = self.get_job(id).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// `PUT /jobs/{id}`, optionally with `If-Match`.
    pub async fn put_job(&self, id: &str, body: &Value, if_match: Option<&str>) -> Response {
        let mut request = self.client.put(self.url(&format!("/jobs/{id}"))).json(body);
        if let Some(tag) = if_match {
            request = request.header(header::IF_MATCH, tag);
        }
        request.send().await.unwrap()
    }

    /// `DELETE /jobs/{id}`, optionally with `If-Match`.
    pub async fn delete_job(&self, id: &str, if_match: Option<&str>) -> Response {
        let mut request = self.client.delete(self.url(&format!("/jobs/{id}")));
        if let Some(tag) = if_match {
            request = request.header(header::IF_MATCH, tag);
        }
        request.send().await.unwrap()
    }

    /// `GET /jobs?{query}`, asserting 200.
    pub async fn list_jobs(&self, query: &str) -> Value {
        let response = self
            .client
            .get(self.url(&format!("/jobs?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET /jobs?{query}");
        response.json().await.unwrap()
    }

    /// Creates `count` jobs straight through the domain service (as the API would, but without
    /// HTTP), `draft(n)` describing job `n`; returns them in no particular order.
    pub async fn seed_jobs(&self, count: usize, draft: impl Fn(usize) -> JobDraft) -> Vec<Job> {
        let jobs = &self.state.jobs;
        stream::iter((0..count).map(draft))
            .map(|draft| async move {
                jobs.create(draft, &Actor::anonymous())
                    .await
                    .expect("seed a job")
            })
            .buffer_unordered(8)
            .collect()
            .await
    }

    /// `POST /jobs/{id}/status`, optionally with `If-Match`.
    pub async fn post_status(&self, id: &str, body: &Value, if_match: Option<&str>) -> Response {
        let mut request = self
            .client
            .post(self.url(&format!("/jobs/{id}/status")))
            .json(body);
        if let Some(tag) = if_match {
            request = request.header(header::IF_MATCH, tag);
        }
        request.send().await.unwrap()
    }

    /// `POST /jobs/bulk-edit`
    pub async fn bulk_edit(&self, body: &Value) -> Response {
        self.client
            .post(self.url("/jobs/bulk-edit"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET /jobs/export.csv?{query}`
    pub async fn export_csv(&self, query: &str) -> Response {
        self.client
            .get(self.url(&format!("/jobs/export.csv?{query}")))
            .send()
            .await
            .unwrap()
    }

    /// `GET /jobs/{id}/history?{query}`
    pub async fn history(&self, id: &str, query: &str) -> Response {
        self.client
            .get(self.url(&format!("/jobs/{id}/history?{query}")))
            .send()
            .await
            .unwrap()
    }

    /// Registers a printer with that id.
    pub async fn create_printer(&self, id: &str) -> Value {
        let response = self
            .client
            .post(self.url("/printers"))
            .json(
                &json!({ "id": id, "name": format!("Printer {id}"), "printer_type": "bambu_lab" }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
}

/// The `ETag` header of a response.
pub fn etag(response: &Response) -> String {
    response
        .headers()
        .get(header::ETAG)
        .expect("an ETag header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Asserts that `response` is a problem+json of `status` with a human `detail`, and returns
/// its body.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: Value = response.json().await.expect("a JSON problem body");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(
        body["type"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.len() > 10 && detail.contains(' '),
        "detail is not a sentence: {body}"
    );
    body
}

/// The `field`s of a problem's `errors`, in order.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A job's id.
pub fn id_of(job: &Value) -> String {
    job["id"].as_str().expect("an id").to_owned()
}
