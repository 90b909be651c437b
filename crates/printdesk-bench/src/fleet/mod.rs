//! `printdesk-bench fleet` (`just bench-fleet`): one release server pinned to one core, on a
//! fresh SQLite database with `--monitor true`, following a fleet of simulated printers of
//! three kinds over their real transports — Bambu Lab printers on one real Mosquitto (TLS on
//! printdesk's side; each printer publishes once a second, P1 deltas or X1 full reports),
//! Moonraker-shaped printers (JSON-RPC over WebSocket) and PrusaLink-shaped printers (polled
//! REST), both in-process fakes. Prints start and end at a steady rate across the fleet;
//! the benchmark measures the server's CPU and peak memory, and how long after a printer's
//! report its start or end is visible in `GET /api/v1/jobs` and on a WebSocket client.

mod latency;
mod moonraker;
mod prusalink;

use std::{
    collections::VecDeque,
    fmt::Write as _,
    path::PathBuf,
    process::ExitCode,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Args;
use futures_util::StreamExt;
use printdesk_monitor::simulator::{
    Model, SimulatedBambu,
    broker::{Broker, TestCa},
};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use self::{
    latency::{Edge, Recorder, Samples, Seen},
    moonraker::Moonrakers,
    prusalink::PrusaLinks,
};
use crate::{
    machine::Machine,
    server::{self, Server},
    stats::{Latencies, ms},
};

const ACCESS_CODE: &str = "31415926";

/// How long a printer rests between two prints.
const REST: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Smoke mode for CI: 20 printers, 30 s; fails on errors only, never on speed.
    #[arg(long)]
    smoke: bool,
    /// Fleet sizes, one run each [default: 50,500; smoke: 20].
    #[arg(long, value_delimiter = ',')]
    printers: Vec<usize>,
    /// Seconds measured per fleet size, after the warm-up [default: 120; smoke: 15].
    #[arg(long)]
    window_secs: Option<u64>,
    /// How long each print runs, seconds [default: 30; smoke: 8].
    #[arg(long)]
    print_secs: Option<u64>,
    /// Prints started (and ended) per minute across the fleet.
    #[arg(long, default_value_t = 50)]
    per_minute: u32,
    /// The server binary [default: `printdesk` beside this binary].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The core the server runs on.
    #[arg(long, default_value_t = 0)]
    server_core: u32,
    /// The kinds of printer in the fleet, taken in turn (e.g. `moonraker` alone, to see what
    /// one kind costs) [default: bambu,moonraker,prusalink].
    #[arg(long, value_delimiter = ',', value_enum)]
    kinds: Vec<Kind>,
}

/// One kind of simulated printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Kind {
    Bambu,
    Moonraker,
    PrusaLink,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Bambu, Kind::Moonraker, Kind::PrusaLink];

    /// The kind of printer `i`: the fleet's kinds in turn.
    fn of(i: usize) -> Self {
        let kinds = fleet_kinds();
        kinds[i % kinds.len()]
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Bambu => "Bambu Lab (MQTT, TLS)",
            Kind::Moonraker => "Moonraker (WebSocket)",
            Kind::PrusaLink => "PrusaLink (polled every 3 s)",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Bambu => "bambu-",
            Kind::Moonraker => "klipper-",
            Kind::PrusaLink => "prusa-",
        }
    }
}

/// The kinds the fleet is made of (`--kinds`), set once before the first fleet starts.
static FLEET_KINDS: std::sync::OnceLock<Vec<Kind>> = std::sync::OnceLock::new();

fn fleet_kinds() -> &'static [Kind] {
    FLEET_KINDS.get_or_init(|| Kind::ALL.to_vec())
}

/// Printer `i`'s index among the printers of its kind.
fn index_in_kind(i: usize) -> usize {
    i / fleet_kinds().len()
}

/// Printer `i` of the fleet: its id in printdesk, and its index among its kind.
fn printer_id(i: usize) -> String {
    format!("{}{:03}", Kind::of(i).prefix(), index_in_kind(i))
}

/// What one fleet size measured.
#[derive(Debug, Clone, Default)]
struct SizeReport {
    printers: usize,
    per_kind: [usize; 3],
    cpu_percent: f64,
    other_on_core: Option<f64>,
    peak_kib: u64,
    idle_kib: u64,
    load: String,
    all: Samples,
    kinds: Vec<(Kind, Samples)>,
    errors: Vec<String>,
    connect_secs: f64,
}

fn say(line: impl AsRef<str>) {
    eprintln!("[bench-fleet] {}", line.as_ref());
}

/// The `fleet` subcommand.
pub fn main(args: FleetArgs) -> ExitCode {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("printdesk-bench fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: FleetArgs) -> Result<ExitCode, String> {
    if !args.kinds.is_empty() {
        let mut kinds = args.kinds.clone();
        kinds.dedup();
        FLEET_KINDS
            .set(kinds)
            .map_err(|_| "the fleet's kinds were already set")?;
    }
    let smoke = args.smoke;
    let sizes = if args.printers.is_empty() {
        if smoke { vec![20] } else { vec![50, 500] }
    } else {
        args.printers.clone()
    };
    let window = Duration::from_secs(args.window_secs.unwrap_or(if smoke { 15 } else { 120 }));
    let print = Duration::from_secs(args.print_secs.unwrap_or(if smoke { 8 } else { 30 }));
    let server_bin = match &args.server_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("printdesk"),
    };
    if !server_bin.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --release -p printdesk)",
            server_bin.display()
        ));
    }
    let machine = Machine::describe();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut reports = Vec::new();
    for &n in &sizes {
        say(format!(
            "{n} printers: {} s warm-up, {} s measured, prints of {} s, {} starts and ends a minute",
            (print + Duration::from_secs(5)).as_secs(),
            window.as_secs(),
            print.as_secs(),
            args.per_minute
        ));
        let plan = SizePlan {
            printers: n,
            window,
            print,
            per_minute: args.per_minute,
            server_bin: server_bin.clone(),
            server_core: args.server_core,
        };
        // Ctrl-C or SIGTERM end the run through the same clean-up as an error: every
        // process this run started is stopped when its owner is dropped.
        let report = runtime.block_on(async {
            tokio::select! {
                r = measure(&plan) => r,
                _ = stop_signal() => Err("interrupted".to_owned()),
            }
        })?;
        for e in &report.errors {
            say(format!("{n} printers: error: {e}"));
        }
        reports.push(report);
    }
    drop(runtime);
    println!("{}", document(&machine, &reports, &args, print, smoke));
    let errors: usize = reports.iter().map(|r| r.errors.len()).sum();
    if errors > 0 {
        say(format!("{errors} errors"));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn stop_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[derive(Debug, Clone)]
struct SizePlan {
    printers: usize,
    window: Duration,
    print: Duration,
    per_minute: u32,
    server_bin: PathBuf,
    server_core: u32,
}

/// A temporary directory removed when dropped.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Errors seen by the observers and drivers, shared.
#[derive(Debug, Clone, Default)]
struct Errors(Arc<Mutex<Vec<String>>>);

impl Errors {
    fn push(&self, e: String) {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // The first few tell what went wrong; thousands would only hide it.
        if list.len() < 20 {
            list.push(e);
        } else if list.len() == 20 {
            list.push("(further errors not listed)".into());
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The simulated fleet.
struct Fleet {
    bambu: Vec<Arc<SimulatedBambu>>,
    bambu_printing: Vec<Arc<AtomicBool>>,
    moonrakers: Moonrakers,
    prusalinks: PrusaLinks,
    recorder: Recorder,
}

impl Fleet {
    async fn start_print(&self, i: usize, n: u64) -> Result<(), String> {
        let k = index_in_kind(i);
        let id = printer_id(i);
        let file = format!("fleet-{n}.gcode");
        match Kind::of(i) {
            Kind::Bambu => {
                self.bambu_printing[k].store(true, Ordering::Relaxed);
                self.bambu[k]
                    .start_print(&format!("fleet-{n}.gcode.3mf"), &format!("fleet-{n}"))
                    .await;
                self.recorder.reported(&id, Edge::Start);
            }
            Kind::Moonraker => {
                if !self.moonrakers.start_print(k, &file) {
                    return Err(format!("{id}: printdesk was not connected at a start"));
                }
                self.recorder.reported(&id, Edge::Start);
            }
            Kind::PrusaLink => {
                self.recorder.changed(&id, Edge::Start);
                self.prusalinks.start_print(k, &file);
            }
        }
        Ok(())
    }

    async fn end_print(&self, i: usize, completed: bool) -> Result<(), String> {
        let k = index_in_kind(i);
        let id = printer_id(i);
        match Kind::of(i) {
            Kind::Bambu => {
                self.bambu_printing[k].store(false, Ordering::Relaxed);
                if completed {
                    self.bambu[k].finish().await;
                } else {
                    self.bambu[k].cancel().await;
                }
                self.recorder.reported(&id, Edge::End);
            }
            Kind::Moonraker => {
                if !self.moonrakers.end_print(k, completed) {
                    return Err(format!("{id}: printdesk was not connected at an end"));
                }
                self.recorder.reported(&id, Edge::End);
            }
            Kind::PrusaLink => {
                self.recorder.changed(&id, Edge::End);
                self.prusalinks.end_print(k, completed);
            }
        }
        Ok(())
    }
}

async fn measure(plan: &SizePlan) -> Result<SizeReport, String> {
    let n = plan.printers;
    let work = WorkDir(
        std::env::temp_dir().join(format!("printdesk-fleet-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&work.0).map_err(|e| format!("{}: {e}", work.0.display()))?;
    let mut report = SizeReport {
        printers: n,
        ..SizeReport::default()
    };
    for i in 0..n {
        report.per_kind[Kind::of(i) as usize] += 1;
    }
    let recorder = Recorder::default();
    let errors = Errors::default();

    // The printers.
    let ca = TestCa::new();
    let broker = Broker::start(
        &ca.server_certificate("printdesk-fleet-broker"),
        ACCESS_CODE,
    )
    .ok_or("Mosquitto is not installed (apt-get install -y mosquitto)")?;
    let mut bambu = Vec::new();
    for i in (0..n).filter(|&i| Kind::of(i) == Kind::Bambu) {
        let model = if index_in_kind(i).is_multiple_of(2) {
            Model::P1
        } else {
            Model::X1
        };
        bambu.push(Arc::new(
            SimulatedBambu::connect("127.0.0.1", broker.plain_port, &serial(i), model).await,
        ));
    }
    let moonrakers = Moonrakers::start(report.per_kind[Kind::Moonraker as usize])
        .await
        .map_err(|e| e.to_string())?;
    let prusa_names = (0..n)
        .filter(|&i| Kind::of(i) == Kind::PrusaLink)
        .map(printer_id)
        .collect();
    let prusalinks = PrusaLinks::start(prusa_names, recorder.clone())
        .await
        .map_err(|e| e.to_string())?;
    let fleet = Arc::new(Fleet {
        bambu_printing: bambu
            .iter()
            .map(|_| Arc::new(AtomicBool::new(false)))
            .collect(),
        bambu,
        moonrakers,
        prusalinks,
        recorder: recorder.clone(),
    });

    // The server, and the printers added to it through its API.
    let url = format!("sqlite://{}", work.0.join("fleet.db").display());
    let log = work.0.join("server.log");
    let mut server = Server::start_with(
        &plan.server_bin,
        plan.server_core,
        &url,
        &log,
        &["--monitor", "true"],
    )?;
    server.wait_ready("/api/v1/jobs?limit=1", Duration::from_secs(30))?;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let added = Instant::now();
    for i in 0..n {
        let id = printer_id(i);
        let body = match Kind::of(i) {
            Kind::Bambu => json!({
                "id": id, "name": id, "printer_type": "bambu_lab",
                "connection": {"kind": "bambu_lab", "host": "127.0.0.1", "port": broker.tls_port,
                               "serial": serial(i), "access_code": ACCESS_CODE},
            }),
            Kind::Moonraker => json!({
                "id": id, "name": id, "printer_type": "klipper",
                "connection": {"kind": "moonraker", "base_url": fleet.moonrakers.base_url(index_in_kind(i))},
            }),
            Kind::PrusaLink => json!({
                "id": id, "name": id, "printer_type": "prusa",
                "connection": {"kind": "prusalink", "base_url": fleet.prusalinks.base_url(index_in_kind(i)),
                               "api_key": prusalink::API_KEY},
            }),
        };
        let response = http
            .post(format!("{base}/api/v1/printers"))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST /printers: {e}"))?;
        if response.status().as_u16() != 201 {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            return Err(format!("POST /printers {id}: {status}: {text}"));
        }
    }
    let limit = Duration::from_secs(60 + n as u64 / 5);
    loop {
        let online = online_printers(&http, &base).await.unwrap_or(0);
        if online == n {
            break;
        }
        if added.elapsed() > limit {
            return Err(format!(
                "only {online} of {n} printers online after {limit:?}; log: {}",
                log.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    report.connect_secs = added.elapsed().as_secs_f64();
    say(format!(
        "{n} printers online {:.1} s after they were added",
        report.connect_secs
    ));
    report.idle_kib = server.rss_kib()?;

    // The observers and the printers' own chatter.
    let mut tasks = JoinSet::new();
    let socket_ready = Arc::new(tokio::sync::Notify::new());
    tasks.spawn(watch_socket(
        format!("ws://{}/api/v1/ws", server.addr),
        recorder.clone(),
        errors.clone(),
        socket_ready.clone(),
    ));
    tokio::time::timeout(Duration::from_secs(10), socket_ready.notified())
        .await
        .map_err(|_| "the WebSocket sent no hello within 10 s")?;
    tasks.spawn(poll_jobs(
        http.clone(),
        base.clone(),
        recorder.clone(),
        errors.clone(),
    ));
    for (k, printer) in fleet.bambu.iter().enumerate() {
        tasks.spawn(bambu_chatter(
            printer.clone(),
            fleet.bambu_printing[k].clone(),
        ));
    }

    // The prints: one start (on an idle printer picked at random) and the ends that are due
    // every 60/per_minute s.
    let every = Duration::from_secs_f64(60.0 / f64::from(plan.per_minute.max(1)));
    let warmup = plan.print + Duration::from_secs(5);
    let began = Instant::now();
    let mut window_start = None;
    let mut cpu_start = (0, None);
    let mut printing: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut busy = vec![false; n];
    let mut idle_since = vec![began - REST; n];
    let mut started = 0u64;
    let mut ended = 0u64;
    let ticks_per_second = server::clock_ticks_per_second() as f64;
    let mut ticks = tokio::time::interval(every);
    let window_end = loop {
        ticks.tick().await;
        let now = Instant::now();
        if window_start.is_none() && now >= began + warmup {
            window_start = Some(now);
            cpu_start = (
                server.cpu_ticks()?,
                server::core_busy_ticks(plan.server_core),
            );
        }
        if let Some(from) = window_start
            && now >= from + plan.window
        {
            break now;
        }
        while printing.front().is_some_and(|(due, _)| *due <= now) {
            let (_, i) = printing.pop_front().expect("a print is due");
            ended += 1;
            // One print in ten is cancelled.
            if let Err(e) = fleet.end_print(i, !ended.is_multiple_of(10)).await {
                errors.push(e);
            }
            busy[i] = false;
            idle_since[i] = now;
        }
        // A printer that finished stays idle for a while (someone clears its bed), at least
        // longer than PrusaLink's 3 s poll: restarted before its next poll, a polled printer
        // would never show the end.
        let idle: Vec<usize> = (0..n)
            .filter(|&i| !busy[i] && now.duration_since(idle_since[i]) >= REST)
            .collect();
        if !idle.is_empty() {
            let i = idle[fastrand::usize(..idle.len())];
            started += 1;
            if let Err(e) = fleet.start_print(i, started).await {
                errors.push(e);
            }
            busy[i] = true;
            printing.push_back((now + plan.print, i));
        }
        if !server.alive() {
            return Err(format!("the server exited; log: {}", log.display()));
        }
    };
    let window_start = window_start.ok_or("the window never started")?;
    let cpu_end = (
        server.cpu_ticks()?,
        server::core_busy_ticks(plan.server_core),
    );
    let seconds = window_end.duration_since(window_start).as_secs_f64();
    let server_ticks = cpu_end.0.saturating_sub(cpu_start.0) as f64;
    report.cpu_percent = server_ticks / ticks_per_second / seconds * 100.0;
    report.other_on_core = match (cpu_start.1, cpu_end.1) {
        (Some(a), Some(b)) => Some(
            ((b.saturating_sub(a)) as f64 - server_ticks).max(0.0) / ticks_per_second / seconds
                * 100.0,
        ),
        _ => None,
    };
    report.peak_kib = server.peak_kib()?;
    report.load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();

    // What was reported in the window has 10 s to show up.
    let settle = Instant::now() + Duration::from_secs(10);
    while recorder.pending(window_end) > 0 && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    report.all = recorder.samples(window_start, window_end, |_| true);
    for &kind in fleet_kinds() {
        report.kinds.push((
            kind,
            recorder.samples(window_start, window_end, |p| p.starts_with(kind.prefix())),
        ));
    }
    if report.all.missing > 0 {
        errors.push(format!(
            "{} starts or ends of the window were not seen within 10 s in one of the two places",
            report.all.missing
        ));
        for m in recorder
            .missing(window_start, window_end)
            .into_iter()
            .take(5)
        {
            errors.push(format!("not seen: {m}"));
        }
    }
    if report.all.starts == 0 || report.all.ends == 0 {
        errors.push("no start or no end in the measured window".into());
    }
    for stranger in recorder.unexpected().into_iter().take(5) {
        errors.push(format!("a job no printer reported: {stranger}"));
    }
    // One job per print: every start made one job, no more.
    match job_count(&http, &base).await {
        Ok(count) if count == started => {}
        Ok(count) => errors.push(format!("{count} jobs for {started} prints started")),
        Err(e) => errors.push(e),
    }
    match online_printers(&http, &base).await {
        Ok(online) if online == n => {}
        Ok(online) => errors.push(format!("only {online} of {n} printers online at the end")),
        Err(e) => errors.push(e),
    }
    // The observers stop before the server does, so that its going away is not an error.
    tasks.shutdown().await;
    server.stop();
    drop(fleet);
    drop(broker);
    report.errors = errors.take();
    say(format!(
        "{n} printers: server CPU {:.1}% of one core, peak RSS {:.1} MiB, {} starts and {} ends measured",
        report.cpu_percent,
        report.peak_kib as f64 / 1024.0,
        report.all.starts,
        report.all.ends
    ));
    Ok(report)
}

fn serial(i: usize) -> String {
    format!("01P00A{:09}", i)
}

/// An error with its causes, which reqwest keeps out of its own message.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", chain(&e)))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: {}", response.status()));
    }
    response.json().await.map_err(|e| format!("GET {url}: {e}"))
}

async fn online_printers(http: &reqwest::Client, base: &str) -> Result<usize, String> {
    let printers = get_json(http, &format!("{base}/api/v1/printers")).await?;
    Ok(printers["printers"].as_array().map_or(0, |list| {
        list.iter()
            .filter(|p| p["status"]["online"] == true)
            .count()
    }))
}

async fn job_count(http: &reqwest::Client, base: &str) -> Result<u64, String> {
    let jobs = get_json(http, &format!("{base}/api/v1/jobs?limit=1")).await?;
    jobs["total_count"]
        .as_u64()
        .ok_or_else(|| "GET /jobs without total_count".to_owned())
}

/// A WebSocket client: every `job_created` / `job_updated` it reads.
async fn watch_socket(
    url: String,
    recorder: Recorder,
    errors: Errors,
    ready: Arc<tokio::sync::Notify>,
) {
    let mut socket = match tokio_tungstenite::connect_async(url.as_str()).await {
        Ok((socket, _)) => socket,
        Err(e) => {
            errors.push(format!("WebSocket {url}: {e}"));
            return;
        }
    };
    while let Some(message) = socket.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(_) => continue,
            Err(e) => {
                errors.push(format!("WebSocket: {e}"));
                return;
            }
        };
        let at = Instant::now();
        let Ok(event) = serde_json::from_str::<Value>(&text) else {
            errors.push("WebSocket: a message that is not JSON".into());
            continue;
        };
        match event["type"].as_str() {
            Some("hello") => ready.notify_one(),
            Some("job_created" | "job_updated") => {
                let job = &event["job"];
                if let (Some(printer), Some(id), Some(status)) = (
                    job["printer_id"].as_str(),
                    job["id"].as_str(),
                    job["status"].as_str(),
                ) {
                    recorder.observed(Seen::Socket, printer, id, status, at);
                }
            }
            _ => {}
        }
    }
    errors.push("the WebSocket closed".into());
}

/// How often `GET /api/v1/jobs` is polled: about ten times a second, and not a divisor of
/// the schedule's tick (1.2 s at 50 a minute), or the two would stay in step and every
/// change would wait the same part of a poll.
const POLL_EVERY: Duration = Duration::from_millis(97);

/// `GET /api/v1/jobs`, the most recently changed first, every [`POLL_EVERY`] (as a page that
/// polls would, but far more often, to time what it shows).
async fn poll_jobs(http: reqwest::Client, base: String, recorder: Recorder, errors: Errors) {
    let url = format!("{base}/api/v1/jobs?limit=20&sort=updated_at:desc");
    let mut ticks = tokio::time::interval(POLL_EVERY);
    loop {
        ticks.tick().await;
        match get_json(&http, &url).await {
            Ok(page) => {
                let at = Instant::now();
                for job in page["jobs"].as_array().into_iter().flatten() {
                    if let (Some(printer), Some(id), Some(status)) = (
                        job["printer_id"].as_str(),
                        job["id"].as_str(),
                        job["status"].as_str(),
                    ) {
                        recorder.observed(Seen::List, printer, id, status, at);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
}

/// A Bambu printer's report every second: its progress while it prints, else a temperature.
async fn bambu_chatter(printer: Arc<SimulatedBambu>, printing: Arc<AtomicBool>) {
    let phase = Duration::from_millis(fastrand::u64(0..1000));
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + phase, Duration::from_secs(1));
    let counter = AtomicU64::new(0);
    loop {
        ticks.tick().await;
        let n = counter.fetch_add(1, Ordering::Relaxed);
        if printing.load(Ordering::Relaxed) {
            printer.progress((n % 100) as u8, 30).await;
        } else {
            printer.heartbeat(25.0 + (n % 10) as f64 / 10.0).await;
        }
    }
}

fn row(label: &str, s: &Samples) -> String {
    let mut list = s.list.clone();
    let mut socket = s.socket.clone();
    let l = Latencies::from_samples(&mut list);
    let w = Latencies::from_samples(&mut socket);
    let max = |v: &[Duration]| v.iter().max().map_or(0, |d| d.as_micros() as u64);
    format!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} |",
        s.starts,
        s.ends,
        ms(l.p50_us),
        ms(l.p99_us),
        ms(w.p50_us),
        ms(w.p99_us),
        ms(max(&list).max(max(&socket)))
    )
}

fn document(
    machine: &Machine,
    reports: &[SizeReport],
    args: &FleetArgs,
    print: Duration,
    smoke: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Fleet monitoring{}\n",
        if smoke { " (smoke run)" } else { "" }
    );
    let _ = writeln!(
        out,
        "Machine: {}, {} cores, {}, Linux {}; load average at start {}; {}; commit {}.\n",
        machine.cpu,
        machine.cores,
        machine.memory,
        machine.kernel,
        machine.load_at_start,
        machine.rustc,
        machine.commit
    );
    let _ = writeln!(
        out,
        "{} prints started and {} ended a minute across the fleet, each printing {} s; \
         printers of the kinds {} in turn.\n",
        args.per_minute,
        args.per_minute,
        print.as_secs(),
        fleet_kinds()
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "| printers (Bambu / Moonraker / PrusaLink) | online after | server CPU (% of one core) | other load on its core | RSS idle → peak MiB | load average at end | errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|");
    for r in reports {
        let _ = writeln!(
            out,
            "| {} ({} / {} / {}) | {:.1} s | {:.1}% | {} | {:.1} → {:.1} | {} | {} |",
            r.printers,
            r.per_kind[0],
            r.per_kind[1],
            r.per_kind[2],
            r.connect_secs,
            r.cpu_percent,
            r.other_on_core.map_or("?".into(), |p| format!("{p:.0}%")),
            r.idle_kib as f64 / 1024.0,
            r.peak_kib as f64 / 1024.0,
            r.load,
            r.errors.len()
        );
    }
    let _ = writeln!(
        out,
        "\nLatency from the printer's report to the job's start or end being visible, ms \
         (`GET /api/v1/jobs` polled every 97 ms, so up to 97 ms of it is the poll's):\n"
    );
    let _ = writeln!(
        out,
        "| printers | kind | starts | ends | GET /jobs p50 | p99 | WebSocket p50 | p99 | max |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in reports {
        let _ = writeln!(out, "{}", row(&format!("{} | all", r.printers), &r.all));
        for (kind, s) in &r.kinds {
            let _ = writeln!(
                out,
                "{}",
                row(&format!("{} | {}", r.printers, kind.label()), s)
            );
        }
    }
    for r in reports {
        if let Some((_, s)) = r.kinds.iter().find(|(k, _)| *k == Kind::PrusaLink) {
            let mut v = s.change_to_list.clone();
            let l = Latencies::from_samples(&mut v);
            let _ = writeln!(
                out,
                "\n{} printers, PrusaLink from the printer's change (not its answer) to `GET /jobs`: \
                 p50 {} ms, p99 {} ms (includes waiting for the next 3 s poll).",
                r.printers,
                ms(l.p50_us),
                ms(l.p99_us)
            );
        }
    }
    out
}
