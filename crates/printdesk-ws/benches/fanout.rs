//! WebSocket fan-out: how long one edit takes to reach 1,000 connected clients.
//!
//! ```text
//! cargo bench -p printdesk-ws --bench fanout                  # SQLite, 1,000 clients, 20 edits
//! PRINTDESK_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p printdesk-ws --bench fanout              # …and two instances on PostgreSQL
//! SMOKE=1 cargo test -p printdesk-ws --bench fanout           # 20 clients, 2 edits (CI)
//! ```
//!
//! `CLIENTS=N` and `EDITS=N` override the counts. Server(s) and clients run in this one
//! process on loopback, so they share the machine's cores, as they would share a small server.
//!
//! What is measured, per client and edit: from the moment just before the `PUT` is sent to the
//! moment the client has read the event. The commit happens somewhere inside that `PUT`, so
//! this is an upper bound on commit-to-receipt; the figure from the `200` response on (a lower
//! bound: the event may arrive before the response is read) is printed beside it. With
//! PostgreSQL, two instances share one database, edits go through instance A, and half the
//! clients are connected to instance B (reached through `NOTIFY`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{App, HttpServer, dev::ServerHandle, middleware::from_fn, web};
use futures_util::StreamExt;
use printdesk_domain::{JobService, PrinterService, SystemClock};
use printdesk_http::ApiState;
use printdesk_store_diesel::{Store, test_support::TestDatabase};
use printdesk_ws::{EventHub, HubConfig};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

struct Settings {
    clients: usize,
    edits: usize,
    smoke: bool,
}

impl Settings {
    fn from_env() -> Self {
        let smoke = std::env::var_os("SMOKE").is_some_and(|v| v != "0")
            || std::env::args().any(|a| a == "--smoke");
        let number = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            clients: number("CLIENTS", if smoke { 20 } else { 1000 }),
            edits: number("EDITS", if smoke { 2 } else { 20 }),
            smoke,
        }
    }
}

/// One server instance.
struct Instance {
    addr: std::net::SocketAddr,
    handle: ServerHandle,
    _tailer: JoinHandle<()>,
}

async fn start(url: &str) -> Instance {
    let store = Store::connect(url).await.expect("open the database");
    let hub = EventHub::new(Arc::new(store.clone()), HubConfig::default())
        .await
        .expect("a hub");
    let tailer = hub.spawn_tailer(store.event_notifications());
    let clock = Arc::new(SystemClock);
    let publisher = Arc::new(hub.clone());
    let state = ApiState::new(
        JobService::new(
            Arc::new(store.clone()),
            Arc::new(store.clone()),
            publisher.clone(),
            clock.clone(),
        ),
        PrinterService::new(
            Arc::new(store),
            publisher,
            clock,
            Arc::new(printdesk_secrets::KeyFileSealer::from_key([7; 32])),
        ),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .service(printdesk_ws::service(hub.clone()))
            .service(printdesk_http::api_scope())
            .default_service(web::to(printdesk_http::not_found))
            .wrap(printdesk_http::problem_errors())
            .wrap(from_fn(printdesk_http::trace_requests))
    })
    .backlog(4096)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Instance {
        addr,
        handle,
        _tailer: tailer,
    }
}

/// A connected client's receive times, in `seq` order.
type Arrivals = Vec<(i64, Instant)>;

/// Connects `n` clients to `addrs` in turn; each records when each event arrived.
async fn connect_clients(
    addrs: &[std::net::SocketAddr],
    n: usize,
    expected: usize,
    received: Arc<AtomicUsize>,
) -> Vec<JoinHandle<Arrivals>> {
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let url = format!("ws://{}/api/v1/ws", addrs[i % addrs.len()]);
        let (mut ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .unwrap_or_else(|e| panic!("client {i} cannot connect: {e}"));
        // The hello: the client is subscribed once it is here.
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains("hello") => {}
            other => panic!("client {i}: expected a hello, got {other:?}"),
        }
        let received = received.clone();
        clients.push(tokio::spawn(async move {
            let mut arrivals = Vec::with_capacity(expected);
            while arrivals.len() < expected {
                match ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let at = Instant::now();
                        // Just the `seq`, without parsing the whole event: the clients share
                        // the cores with the server, and are not what is measured.
                        let seq = seq_of(text.as_str()).expect("an event with a seq");
                        arrivals.push((seq, at));
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Ok(_)) => {}
                    other => panic!("client lost its connection: {other:?}"),
                }
            }
            arrivals
        }));
    }
    clients
}

/// The `seq` of an event's JSON (`{"seq":1042,…}`).
fn seq_of(json: &str) -> Option<i64> {
    let rest = &json[json.find("\"seq\":")? + 6..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

struct Report {
    from_send: Vec<f64>,
    from_response: Vec<f64>,
    put: Vec<f64>,
}

async fn run(label: &str, urls: &[&str], settings: &Settings) -> Result<Report, String> {
    let mut instances = Vec::new();
    for url in urls {
        instances.push(start(url).await);
    }
    let addrs: Vec<_> = instances.iter().map(|i| i.addr).collect();
    let http = reqwest::Client::new();
    let api = format!("http://{}/api/v1", addrs[0]);
    let job: Value = http
        .post(format!("{api}/jobs"))
        .json(&json!({ "job_name": "bench" }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let id = job["id"].as_str().ok_or("no job id")?.to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let connecting = Instant::now();
    let received = Arc::new(AtomicUsize::new(0));
    let clients = connect_clients(&addrs, settings.clients, settings.edits, received.clone()).await;
    eprintln!(
        "{label}: {} clients connected in {:.1} s",
        settings.clients,
        connecting.elapsed().as_secs_f64()
    );

    let mut sent_at = Vec::new();
    let mut answered_at = Vec::new();
    let mut put = Vec::new();
    for edit in 0..settings.edits {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = Instant::now();
        let response = http
            .put(format!("{api}/jobs/{id}"))
            .json(&json!({ "notes": format!("edit {edit}") }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let after = Instant::now();
        if response.status() != 200 {
            return Err(format!("the edit failed: {}", response.status()));
        }
        sent_at.push(before);
        answered_at.push(after);
        put.push(ms(after - before));
        let want = (edit + 1) * settings.clients;
        let deadline = Instant::now() + Duration::from_secs(30);
        while received.load(Ordering::Relaxed) < want {
            if Instant::now() > deadline {
                return Err(format!(
                    "edit {edit}: only {} of {want} deliveries after 30 s",
                    received.load(Ordering::Relaxed)
                ));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    let mut from_send = Vec::new();
    let mut from_response = Vec::new();
    for client in clients {
        let arrivals = client.await.map_err(|e| e.to_string())?;
        let first = arrivals.first().map(|a| a.0).ok_or("no events")?;
        for (i, (seq, at)) in arrivals.iter().enumerate() {
            if *seq != first + i as i64 {
                return Err(format!("a client's events are not contiguous at {seq}"));
            }
            from_send.push(ms(at.duration_since(sent_at[i])));
            // Negative when the event beat the HTTP response.
            from_response.push(
                ms(at.saturating_duration_since(answered_at[i]))
                    - ms(answered_at[i].saturating_duration_since(*at)),
            );
        }
    }
    for instance in instances {
        instance.handle.stop(false).await;
    }
    Ok(Report {
        from_send,
        from_response,
        put,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>6.1} ms",
        percentile(values, 50.0),
        percentile(values, 99.0),
        values[values.len() - 1]
    )
}

fn print(label: &str, settings: &Settings, mut report: Report) {
    println!(
        "{label}: {} clients x {} edits = {} deliveries",
        settings.clients,
        settings.edits,
        report.from_send.len()
    );
    println!(
        "  before PUT -> received (upper bound): {}",
        summary(&mut report.from_send)
    );
    println!(
        "  200 OK -> received (lower bound):     {}",
        summary(&mut report.from_response)
    );
    println!(
        "  PUT round trip:                       {}",
        summary(&mut report.put)
    );
}

/// The open-file limit: every client is two sockets here (its own and the server's end).
fn check_fd_limit(clients: usize) -> Result<(), String> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    let needed = clients * 2 + 256;
    match soft {
        Some(limit) if limit < needed => Err(format!(
            "{clients} clients need about {needed} open files, but the limit is {limit}: \
             raise it first (e.g. `ulimit -n {}`)",
            needed.next_power_of_two()
        )),
        _ => Ok(()),
    }
}

fn main() {
    let settings = Settings::from_env();
    // Other work on the machine moves the tail a lot; say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "fan-out benchmark, {} cores, load average {} at the start",
            std::thread::available_parallelism().map_or(0, usize::from),
            load.join(" ")
        );
    }
    if let Err(e) = check_fd_limit(settings.clients) {
        eprintln!("fanout: {e}");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcome = runtime.block_on(async {
        let sqlite = TestDatabase::sqlite();
        let report = run("SQLite, one instance", &[&sqlite.url], &settings).await?;
        print("SQLite, one instance", &settings, report);

        if let Ok(admin_url) = std::env::var("PRINTDESK_BENCH_POSTGRES_URL") {
            let pg = TestDatabase::postgres_on(admin_url);
            let label = "PostgreSQL, two instances (edits via A, half the clients on B)";
            let report = run(label, &[&pg.url, &pg.url], &settings).await?;
            print(label, &settings, report);
        } else if !settings.smoke {
            println!(
                "(set PRINTDESK_BENCH_POSTGRES_URL to also measure two instances on PostgreSQL)"
            );
        }
        Ok::<(), String>(())
    });
    if let Err(e) = outcome {
        eprintln!("fanout: {e}");
        std::process::exit(1);
    }
}
