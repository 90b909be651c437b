//! A real printdesk stack per test — the Diesel store on a fresh database, the domain
//! services, the HTTP API, the event hub and its WebSocket endpoint, built by the composition
//! root as the `printdesk` binary builds them — on 127.0.0.1:0, and a real WebSocket client.
//!
//! Set `TEST_LOG=1` (and optionally `RUST_LOG`) to see the servers' tracing output.

use std::{net::SocketAddr, sync::LazyLock, time::Duration};

use futures_util::{SinkExt, StreamExt};
use printdesk_app::{AppHandle, Application, Config};
use printdesk_store_diesel::{Store, test_support::TestDatabase};
use printdesk_ws::{EventHub, HubConfig};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{self, Message, protocol::CloseFrame},
};

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info,printdesk_ws=debug".into()),
            )
            .with_test_writer()
            .init();
    }
});

/// How long a test waits for something that should happen at once before failing.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// How a stack is started.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// The hub's settings.
    pub hub: HubConfig,
    /// Listen on a socket with a small kernel send buffer, so that a client that does not read
    /// backs up into the server after a few frames instead of a few megabytes.
    pub small_send_buffer: bool,
    /// Do not wire the store's PostgreSQL notifications into the hub (polling only).
    pub without_notifications: bool,
}

/// One running instance: store, services, API, hub. Stops when dropped.
#[derive(Debug)]
pub struct Stack {
    /// `127.0.0.1:PORT`
    pub addr: SocketAddr,
    /// The instance's hub.
    pub hub: EventHub,
    /// The instance's store.
    pub store: Store,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    handle: AppHandle,
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Stopping closes the instance's sockets, stops its server, then its tailer.
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}

impl Stack {
    /// Starts an instance on `db` with the default hub settings.
    pub async fn start(db: &TestDatabase) -> Self {
        Self::start_with(db, StackOptions::default()).await
    }

    /// Starts an instance on `db`.
    pub async fn start_with(db: &TestDatabase, options: StackOptions) -> Self {
        LazyLock::force(&TRACING);
        let config = Config {
            hub: options.hub.clone(),
            event_notifications: !options.without_notifications,
            ..Config::embedded(db.url.clone())
        };
        let app = Application::build(config, listener(options.small_send_buffer))
            .await
            .expect("connect, migrate and serve");
        let stack = Self {
            addr: app.address(),
            hub: app.hub().clone(),
            store: app.store().clone(),
            http: reqwest::Client::new(),
            handle: app.handle(),
        };
        tokio::spawn(app.run_until_stopped());
        stack
    }

    /// Waits until the hub has broadcast every event committed so far, so that a client
    /// connecting now gets a `hello` with the newest `seq` (the hub delivers asynchronously:
    /// an HTTP response can come back before its event has been broadcast).
    pub async fn caught_up(&self) {
        use printdesk_domain::EventLog;
        let latest = self.store.latest_seq().await.unwrap();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.hub.delivered() < latest {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the hub did not catch up"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The URL of an API path (`/jobs` → `http://…/api/v1/jobs`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/api/v1{path}", self.addr)
    }

    /// The WebSocket URL with a query string (`""` for none).
    pub fn ws_url(&self, query: &str) -> String {
        if query.is_empty() {
            format!("ws://{}/api/v1/ws", self.addr)
        } else {
            format!("ws://{}/api/v1/ws?{query}", self.addr)
        }
    }

    /// Creates a job; returns its id.
    pub async fn create_job(&self, name: &str) -> String {
        let response = self
            .http
            .post(self.url("/jobs"))
            .json(&json!({ "job_name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "creating a job");
        let job: Value = response.json().await.unwrap();
        job["id"].as_str().unwrap().to_owned()
    }

    /// Sets a job's notes (one `job_updated` event).
    pub async fn set_notes(&self, id: &str, notes: &str) {
        let response = self
            .http
            .put(self.url(&format!("/jobs/{id}")))
            .json(&json!({ "notes": notes }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "editing job {id}");
    }

    /// Deletes a job.
    pub async fn delete_job(&self, id: &str) {
        let response = self
            .http
            .delete(self.url(&format!("/jobs/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "deleting job {id}");
    }
}

fn listener(small_send_buffer: bool) -> std::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    if small_send_buffer {
        // Accepted connections inherit it (and the kernel then does not grow it).
        socket.set_send_buffer_size(8 * 1024).expect("SO_SNDBUF");
    }
    socket
        .bind("127.0.0.1:0".parse().unwrap())
        .expect("bind a free port");
    socket
        .listen(1024)
        .expect("listen")
        .into_std()
        .expect("a std listener")
}

/// A WebSocket client.
#[derive(Debug)]
pub struct Client {
    ws: WebSocketStream<TcpStream>,
}

/// What the server sent, in the terms a test cares about.
#[derive(Debug)]
pub enum Received {
    /// A text frame, parsed.
    Json(Value),
    /// A close frame: code and reason.
    Close(u16, String),
    /// The connection ended without a close frame.
    Ended,
}

impl Client {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Self {
        Self::connect_with_buffer(url, None).await
    }

    /// Connects with a small kernel receive buffer, for a client that is meant to fall behind.
    pub async fn connect_small(url: &str) -> Self {
        Self::connect_with_buffer(url, Some(4 * 1024)).await
    }

    async fn connect_with_buffer(url: &str, receive_buffer: Option<u32>) -> Self {
        let addr: SocketAddr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let stream = socket.connect(addr).await.expect("TCP connect");
        let (ws, response) = client_async(url, stream)
            .await
            .expect("WebSocket handshake");
        assert_eq!(response.status(), 101);
        Self { ws }
    }

    /// Connects with a request of the test's making (headers: a cookie, a token).
    pub async fn connect_request(
        request: tungstenite::handshake::client::Request,
        addr: SocketAddr,
    ) -> Self {
        let stream = TcpStream::connect(addr).await.expect("TCP connect");
        let (ws, response) = client_async(request, stream)
            .await
            .expect("WebSocket handshake");
        assert_eq!(response.status(), 101);
        Self { ws }
    }

    /// Tries to connect; the handshake's error (e.g. the HTTP response it got) on failure.
    pub async fn try_connect(url: &str) -> Result<Self, tungstenite::Error> {
        client_async(
            url,
            TcpStream::connect(url.trim_start_matches("ws://").split('/').next().unwrap())
                .await
                .unwrap(),
        )
        .await
        .map(|(ws, _)| Self { ws })
    }

    /// The next meaningful thing the server sends (pings and pongs are skipped), or `None`
    /// if nothing comes within `within`.
    pub async fn receive_within(&mut self, within: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            return Some(match frame {
                None => Received::Ended,
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => Received::Ended,
                Some(Err(tungstenite::Error::Io(_) | tungstenite::Error::Protocol(_))) => {
                    Received::Ended
                }
                Some(Err(e)) => panic!("WebSocket error: {e}"),
                Some(Ok(Message::Text(text))) => {
                    Received::Json(serde_json::from_str(text.as_str()).expect("a JSON frame"))
                }
                Some(Ok(Message::Close(frame))) => match frame {
                    Some(CloseFrame { code, reason }) => {
                        Received::Close(u16::from(code), reason.as_str().to_owned())
                    }
                    None => Received::Close(1005, String::new()),
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(_))) => panic!("the server sent a binary frame"),
            });
        }
    }

    /// The next JSON message; fails the test on anything else.
    pub async fn json(&mut self) -> Value {
        match self.receive_within(PATIENCE).await {
            Some(Received::Json(value)) => value,
            other => panic!("expected a JSON message, got {other:?}"),
        }
    }

    /// Reads the hello; returns its `seq`.
    pub async fn hello(&mut self) -> i64 {
        let hello = self.json().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        assert_eq!(hello.as_object().unwrap().len(), 2, "{hello}");
        hello["seq"].as_i64().expect("a numeric seq")
    }

    /// The next `n` events.
    pub async fn events(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.json().await);
        }
        out
    }

    /// Reads events until one with `seq >= last` arrives; returns them all.
    pub async fn events_through(&mut self, last: i64) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        while out.last().is_none_or(|e| seq(e) < last) {
            out.push(self.json().await);
        }
        out
    }

    /// Asserts that nothing more arrives for a while.
    pub async fn expect_quiet(&mut self, for_: Duration) {
        if let Some(r) = self.receive_within(for_).await {
            panic!("expected nothing more, got {r:?}");
        }
    }

    /// Sends a close frame.
    pub async fn close(&mut self, code: u16) {
        self.ws
            .send(Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: "bye".into(),
            })))
            .await
            .unwrap();
    }
}

/// An event's `seq`.
pub fn seq(event: &Value) -> i64 {
    event["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("no seq in {event}"))
}

/// Asserts that `events` are numbered `first, first + 1, …` (no gap, no duplicate).
pub fn assert_contiguous(events: &[Value], first: i64) {
    let seqs: Vec<i64> = events.iter().map(seq).collect();
    let expected: Vec<i64> = (first..first + events.len() as i64).collect();
    assert_eq!(seqs, expected, "events must be contiguous from {first}");
}

/// Declares WebSocket tests: each `async fn name(db: TestDatabase)` runs once on SQLite and
/// once on PostgreSQL (which says it was skipped when `PRINTDESK_TEST_POSTGRES_URL` is unset).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(printdesk_store_diesel::test_support::TestDatabase::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    if let Some(db) = printdesk_store_diesel::test_support::TestDatabase::postgres(test) {
                        super::$name(db).await;
                    }
                }
            }
        )*
    };
}
