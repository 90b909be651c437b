//! `printdesk-bench`: the reproducible benchmark behind `just bench` (and, in a short smoke
//! mode, `just bench-smoke` in CI).
//!
//! For SQLite and then PostgreSQL it creates a fresh database, seeds it in bulk, measures the
//! job edit directly against the store (the reference), starts the release server pinned to
//! one core with one worker, measures its start-up and idle memory, and drives it with `wrk`
//! pinned to the other core. It prints the tables and rewrites its own section of
//! `docs/performance.md`.

mod fleet;
mod load;
mod machine;
mod reference;
mod report;
mod seed;
mod server;
mod stats;

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    thread,
    time::{Duration, Instant},
};

use clap::{Args, Parser, Subcommand};
use printdesk_domain::{JobId, JobStatus};
use printdesk_store_diesel::{Backend, test_support::TestDatabase};

use crate::{
    load::{Load, Wrk},
    report::{BackendReport, Kind, Step},
    server::Server,
};

#[derive(Debug, Parser)]
#[command(about = "printdesk's HTTP and store benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The whole benchmark (or its smoke version).
    Run(RunArgs),
    /// Internal: the direct-store reference, run as a child pinned to the server's core.
    Reference(ReferenceArgs),
    /// Migrates and seeds a database as the benchmark does, and keeps it: for profiling by
    /// hand. Prints the ids the edit steps rotate over, one per line.
    Seed(SeedArgs),
    /// One monitoring server following a fleet of simulated printers (`just bench-fleet`).
    Fleet(fleet::FleetArgs),
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// An empty (or missing) database: `sqlite://FILE` or `postgres://…`.
    #[arg(long)]
    database_url: String,
    /// Jobs to seed.
    #[arg(long, default_value_t = 100_000)]
    jobs: usize,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Smoke mode for CI: a tiny seed, 1 s steps, SQLite only, docs untouched. Checks that
    /// the benchmark still works and that no request failed; asserts nothing about speed.
    #[arg(long, env = "BENCH_SMOKE", value_parser = clap::builder::FalseyValueParser::new())]
    smoke: bool,
    /// Jobs to seed [default: 100000; smoke: 2000].
    #[arg(long)]
    jobs: Option<usize>,
    /// Seconds per load step [default: 5; smoke: 1].
    #[arg(long, env = "BENCH_STEP_SECS")]
    step_secs: Option<u64>,
    /// The PostgreSQL server to benchmark on; a database `printdesk_test_<random>` is created
    /// there (by the store's test-database helper) and dropped afterwards.
    #[arg(
        long,
        env = "PRINTDESK_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Skip PostgreSQL (always skipped in smoke mode).
    #[arg(long)]
    no_postgres: bool,
    /// The file whose marked section is regenerated (not in smoke mode).
    #[arg(long, default_value = "docs/performance.md")]
    docs: PathBuf,
    /// Leave the docs alone.
    #[arg(long)]
    no_docs: bool,
    /// The server binary [default: `printdesk` beside this binary].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The core the server (and the reference) run on.
    #[arg(long, default_value_t = 0)]
    server_core: u32,
    /// The core wrk runs on.
    #[arg(long, default_value_t = 1)]
    client_core: u32,
}

#[derive(Debug, Args)]
struct ReferenceArgs {
    /// The seeded database.
    #[arg(long)]
    database_url: String,
    /// A file with one job id per line, edited in turn.
    #[arg(long)]
    ids_file: PathBuf,
    /// Seconds of warm-up.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 5)]
    secs: u64,
    /// Edit on a store without the text search's index in memory (the comparison for what
    /// the index costs an edit). By default the index is built first, and every edit keeps
    /// it current as it commits, inside the edit's measured time.
    #[arg(long)]
    without_search_index: bool,
}

/// One-word searches, URL-encoded: common (`benchy`, one job in eight), with umlauts
/// (`müller`, `köhler`: one job in 20 and in 40), in the notes (`spaghetti`), rare (`54321`: the
/// job numbers that contain it, a handful) and absent.
const ONE_WORD_TERMS: [&str; 6] = [
    "benchy",
    "m%C3%BCller",
    "K%C3%B6hler",
    "spaghetti",
    "54321",
    "no-such-text",
];

/// Three-word searches, URL-encoded: common words together (`benchy acme v3`), umlauts in
/// one field (`müller ölwanne größe`), punctuation (`re-sliced 0.2 mm`) and words of
/// different fields that no job has together.
const THREE_WORD_TERMS: [&str; 4] = [
    "benchy%20acme%20v3",
    "M%C3%9CLLER%20%C3%B6lwanne%20gr%C3%B6%C3%9Fe",
    "re-sliced%200.2%20mm",
    "vase%20hooli%20spaghetti",
];

/// The settings of one run, defaults resolved.
#[derive(Debug, Clone)]
struct Plan {
    smoke: bool,
    jobs: usize,
    step_secs: u64,
    warmup_secs: u64,
    server_bin: PathBuf,
    server_core: u32,
    wrk: Wrk,
    work: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Reference(args) => reference_main(args),
        Cmd::Fleet(args) => fleet::main(args),
        Cmd::Seed(args) => match seed_main(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("printdesk-bench seed: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Run(args) => match run_main(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("printdesk-bench: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn reference_main(args: ReferenceArgs) -> ExitCode {
    let ids: Result<Vec<JobId>, _> = fs::read_to_string(&args.ids_file)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            text.lines()
                .filter(|l| !l.is_empty())
                .map(|l| l.parse::<JobId>().map_err(|e| e.to_string()))
                .collect()
        });
    let result = ids.and_then(|ids| {
        runtime().block_on(reference::run(
            &args.database_url,
            &ids,
            Duration::from_secs(args.warmup_secs),
            Duration::from_secs(args.secs),
            !args.without_search_index,
        ))
    });
    match result {
        Ok(r) => {
            println!("{}", r.to_line());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("printdesk-bench reference: {e}");
            ExitCode::FAILURE
        }
    }
}

fn seed_main(args: &SeedArgs) -> Result<(), String> {
    let (backend, target) =
        printdesk_store_diesel::parse_url(&args.database_url).map_err(|e| e.to_string())?;
    runtime()
        .block_on(printdesk_store_diesel::Store::connect(&args.database_url))
        .map_err(|e| e.to_string())?;
    let seeded = seed::seed(backend, &target, args.jobs)?;
    eprintln!(
        "seeded {} jobs in {:.2} s",
        seeded.ids.len(),
        seeded.elapsed.as_secs_f64()
    );
    for id in seed::spread(&seeded.ids, 1000) {
        println!("{id}");
    }
    Ok(())
}

fn say(line: impl AsRef<str>) {
    eprintln!("[bench] {}", line.as_ref());
}

fn run_main(args: RunArgs) -> Result<ExitCode, String> {
    let began = Instant::now();
    let smoke = args.smoke;
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let (server_core, client_core) = if cores >= 2 {
        (args.server_core, args.client_core)
    } else {
        say("only one core: server and wrk share it, figures will be low");
        (0, 0)
    };
    let server_bin = match args.server_bin {
        Some(p) => p,
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
    if !load::available() {
        return Err("wrk is not installed (apt-get install -y wrk; `just bench` does it)".into());
    }
    let work =
        std::env::temp_dir().join(format!("printdesk-bench-{}", uuid::Uuid::new_v4().simple()));
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let plan = Plan {
        smoke,
        jobs: args.jobs.unwrap_or(if smoke { 2_000 } else { 100_000 }),
        step_secs: args.step_secs.unwrap_or(if smoke { 1 } else { 5 }),
        warmup_secs: 1,
        server_bin,
        server_core,
        wrk: Wrk {
            core: client_core,
            dir: work.clone(),
        },
        work: work.clone(),
    };
    let machine = machine::Machine::describe();
    say(format!(
        "{} mode: {} jobs, {} s per step, server on core {server_core}, wrk on core {client_core}",
        if smoke { "smoke" } else { "full" },
        plan.jobs,
        plan.step_secs
    ));

    let mut reports = Vec::new();
    let sqlite_url = format!("sqlite://{}", work.join("bench.db").display());
    reports.push(run_backend(&plan, "SQLite", &sqlite_url));

    if smoke || args.no_postgres {
        reports.push(BackendReport {
            name: "PostgreSQL".into(),
            skipped: Some(if smoke {
                "skipped in smoke mode".into()
            } else {
                "skipped (--no-postgres)".into()
            }),
            ..BackendReport::default()
        });
    } else {
        match postgres_database(&args.postgres_url) {
            Ok(db) => reports.push(run_backend(&plan, "PostgreSQL", &db.url)),
            Err(e) => {
                say(format!("PostgreSQL skipped: {e}"));
                reports.push(BackendReport {
                    name: "PostgreSQL".into(),
                    skipped: Some(format!("skipped: {e}")),
                    ..BackendReport::default()
                });
            }
        }
    }
    let _ = fs::remove_dir_all(&work);

    let total = began.elapsed();
    let markdown = report::document(&plan, &machine, &reports, total);
    println!("{markdown}");
    if !smoke && !args.no_docs {
        report::update_docs(&args.docs, &markdown)
            .map_err(|e| format!("{}: {e}", args.docs.display()))?;
        say(format!("wrote {}", args.docs.display()));
    }

    let mut failed = false;
    for r in &reports {
        if r.skipped.is_some() && r.name == "SQLite" {
            say(format!("SQLite: {}", r.skipped.as_deref().unwrap_or("")));
            failed = true;
        }
        if r.errors() > 0 {
            say(format!("{}: {} requests failed", r.name, r.errors()));
            // In a full run failed requests are a finding, reported in the table; in smoke
            // mode they mean the benchmark (or the server) is broken.
            failed |= smoke;
        }
        for f in &r.failures {
            say(format!("{}: {f}", r.name));
            failed = true;
        }
        if r.skipped.is_none() && r.steps.iter().any(|s| s.measured.requests == 0) {
            say(format!("{}: a step completed no request", r.name));
            failed = true;
        }
    }
    say(format!("done in {:.0} s", total.as_secs_f64()));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Measures one backend; a failure is recorded in the report (as `skipped` when nothing could
/// be measured), never a panic, so the other backend still runs.
fn run_backend(plan: &Plan, name: &str, url: &str) -> BackendReport {
    let mut report = BackendReport {
        name: name.into(),
        jobs: plan.jobs,
        ..BackendReport::default()
    };
    if let Err(e) = measure_backend(plan, url, &mut report) {
        say(format!("{name}: {e}"));
        if report.steps.is_empty() {
            report.skipped = Some(format!("failed: {e}"));
        } else {
            report.failures.push(e);
        }
    }
    report
}

fn measure_backend(plan: &Plan, url: &str, report: &mut BackendReport) -> Result<(), String> {
    let (backend, target) = printdesk_store_diesel::parse_url(url).map_err(|e| e.to_string())?;
    let name = report.name.clone();

    // Schema: the store's own migrations.
    runtime()
        .block_on(printdesk_store_diesel::Store::connect(url))
        .map_err(|e| e.to_string())?;
    report.version = database_version(backend, &target);

    say(format!("{name}: seeding {} jobs", plan.jobs));
    let seeded = seed::seed(backend, &target, plan.jobs)?;
    report.seed = seeded.elapsed;
    say(format!(
        "{name}: seeded in {:.2} s",
        seeded.elapsed.as_secs_f64()
    ));
    // The seed leaves hundreds of MiB of dirty pages. Written back during the first steps,
    // they would make the edits' file syncs wait behind them: a cost of seeding, not of
    // printdesk (suspected cause of edit p99s at c16 of 7.5 to 35 ms from run to run).
    match Command::new("sync").status() {
        Ok(status) if status.success() => {}
        other => say(format!("{name}: `sync` after seeding failed: {other:?}")),
    }
    let rotation = seed::spread(&seeded.ids, 1000);
    let one = seeded.ids[seeded.ids.len() / 2];

    // The reference, on the server's core, before the server runs.
    let ids_file = plan.work.join("ids.txt");
    let ids_text: String = rotation.iter().map(|id| format!("{id}\n")).collect();
    fs::write(&ids_file, ids_text).map_err(|e| e.to_string())?;
    if backend == Backend::Sqlite {
        // The same edits on a store without the search index: what keeping the index current
        // costs an edit (issue 13: at least 0.9 × the throughput without it). Four runs,
        // without, with, with, without, so that the database's growth (every edit appends
        // an event) weighs on both alike.
        let mut runs: Vec<(bool, reference::Reference)> = Vec::new();
        for search_index in [false, true, true, false] {
            let which = if search_index { "with" } else { "without" };
            say(format!("{name}: reference {which} the search index"));
            let (run, command) = run_reference(plan, url, &ids_file, search_index)?;
            say(format!(
                "{name}: reference {which} the search index {:.0} edits/s",
                run.rate()
            ));
            report
                .commands
                .push(format!("{command}   # {which} the search index"));
            runs.push((search_index, run));
        }
        let both = |with: bool| {
            let mut of_kind = runs.iter().filter(|(w, _)| *w == with).map(|(_, r)| r);
            let (a, b) = (of_kind.next(), of_kind.next());
            a.zip(b).map(|(a, b)| reference::Reference::combined(a, b))
        };
        report.reference_without_index = both(false);
        report.reference = both(true);
    } else {
        say(format!("{name}: reference (direct store edits)"));
        let (reference, command) = run_reference(plan, url, &ids_file, true)?;
        report.commands.push(command);
        say(format!("{name}: reference {:.0} edits/s", reference.rate()));
        report.reference = Some(reference);
    }

    // Start-up on the existing database: three starts, the last one stays up.
    let log = plan
        .work
        .join(format!("server-{}.log", name.to_lowercase()));
    let ready_path = "/api/v1/jobs?limit=1";
    let mut server = None;
    for attempt in 0..3 {
        let mut s = Server::start(&plan.server_bin, plan.server_core, url, &log)?;
        let took = s
            .wait_ready(ready_path, Duration::from_secs(30))
            .map_err(|e| format!("{e}; log: {}", tail(&log)))?;
        report.startups.push(took);
        if attempt == 0 {
            report.commands.push(s.command.clone());
        }
        if attempt < 2 {
            s.stop();
        } else {
            server = Some(s);
        }
    }
    let mut server = server.expect("the third start stays up");
    thread::sleep(Duration::from_secs(1));
    report.idle_kib = server.rss_kib()?;
    report.threads = server.threads();
    say(format!(
        "{name}: up in {:.0} ms, idle RSS {} KiB",
        report.startup_median().unwrap_or_default().as_secs_f64() * 1000.0,
        report.idle_kib
    ));

    let result = run_steps(plan, &mut server, &rotation, one, report);
    let checked = result
        .and_then(|()| check_after(&server, one, plan.jobs))
        .and_then(|()| measure_export(&server, plan.jobs))
        .map(|export| report.export = Some(export));
    server.stop();
    if let Err(e) = checked {
        return Err(format!("{e}; log: {}", tail(&log)));
    }
    if backend == Backend::Sqlite {
        let size = |p: &str| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        report.db_bytes = Some(size(&target) + size(&format!("{target}-wal")));
    }
    Ok(())
}

/// The direct-store reference on `url`, as a child pinned to the server's core; its figures
/// and its command line.
fn run_reference(
    plan: &Plan,
    url: &str,
    ids_file: &Path,
    search_index: bool,
) -> Result<(reference::Reference, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut reference_args = vec![
        "-c".to_owned(),
        plan.server_core.to_string(),
        exe.display().to_string(),
        "reference".to_owned(),
        "--database-url".to_owned(),
        url.to_owned(),
        "--ids-file".to_owned(),
        ids_file.display().to_string(),
        "--warmup-secs".to_owned(),
        plan.warmup_secs.to_string(),
        "--secs".to_owned(),
        plan.step_secs.to_string(),
    ];
    if !search_index {
        reference_args.push("--without-search-index".to_owned());
    }
    let output = Command::new("taskset")
        .args(&reference_args)
        .output()
        .map_err(|e| format!("cannot run the reference: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let reference = stdout
        .lines()
        .find_map(reference::Reference::from_line)
        .ok_or_else(|| {
            format!(
                "the reference failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })?;
    Ok((reference, format!("taskset {}", reference_args.join(" "))))
}

/// The load steps, in order: edits, then single reads, then lists.
fn run_steps(
    plan: &Plan,
    server: &mut Server,
    rotation: &[JobId],
    one: JobId,
    report: &mut BackendReport,
) -> Result<(), String> {
    let ticks = server::clock_ticks_per_second();
    let job_path = |id: &JobId| format!("/api/v1/jobs/{id}");
    let rotating: Vec<String> = rotation.iter().map(job_path).collect();
    let list = |q: &str| format!("/api/v1/jobs?limit=50{q}");
    let statuses: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
    let printers = seed::printer_ids();

    let mut steps: Vec<(String, Kind, Load, Vec<u32>)> = vec![
        (
            "`PUT /jobs/{id}`, 1,000 jobs in turn".into(),
            Kind::EditMany,
            Load::Put(rotating.clone()),
            vec![1, 16, 64],
        ),
        (
            "`PUT /jobs/{id}`, all on one job".into(),
            Kind::EditOne,
            Load::Put(vec![job_path(&one)]),
            vec![1, 16, 64],
        ),
        (
            "`GET /jobs/{id}`, 1,000 jobs in turn".into(),
            Kind::GetOne,
            Load::Get(rotating),
            vec![1, 16],
        ),
    ];
    let lists: Vec<(&str, Vec<String>)> = vec![
        ("`GET /jobs?limit=50`", vec![list("")]),
        (
            "`GET /jobs?limit=50&status=…` (4 in turn)",
            statuses
                .iter()
                .map(|s| list(&format!("&status={s}")))
                .collect(),
        ),
        (
            "`GET /jobs?limit=50&printer_id=…` (20 in turn)",
            printers
                .iter()
                .map(|p| list(&format!("&printer_id={p}")))
                .collect(),
        ),
        (
            "`GET /jobs?limit=50&status=…&printer_id=…`",
            printers
                .iter()
                .zip(statuses.iter().cycle())
                .map(|(p, s)| list(&format!("&status={s}&printer_id={p}")))
                .collect(),
        ),
        (
            "`GET /jobs?limit=50&sort=updated_at:desc`",
            vec![list("&sort=updated_at:desc")],
        ),
        (
            "`GET /jobs?limit=50&sort=job_name:asc`",
            vec![list("&sort=job_name:asc")],
        ),
        (
            "`GET /jobs?limit=50&sort=job_name:desc`",
            vec![list("&sort=job_name:desc")],
        ),
        (
            "`GET /jobs?limit=50&q=…` (one word, 6 terms in turn)",
            ONE_WORD_TERMS
                .iter()
                .map(|q| list(&format!("&q={q}")))
                .collect(),
        ),
        (
            "`GET /jobs?limit=50&q=…` (three words, 4 queries in turn)",
            THREE_WORD_TERMS
                .iter()
                .map(|q| list(&format!("&q={q}")))
                .collect(),
        ),
    ];
    for (label, paths) in lists {
        let kind = if label.contains("q=") {
            Kind::Search
        } else {
            Kind::List
        };
        steps.push((label.into(), kind, Load::Get(paths), vec![1, 16]));
    }

    // A warm-up before the first step of each kind: the first search also starts the
    // building of the server's search index (in the background; searches meanwhile check
    // every job), which is not what the search steps measure.
    let mut warmed: Vec<&'static str> = Vec::new();
    for (index, (label, kind, load, concurrencies)) in steps.into_iter().enumerate() {
        let group = match kind {
            Kind::EditMany | Kind::EditOne => "edits",
            Kind::Search => "searches",
            _ => "reads",
        };
        if !warmed.contains(&group) {
            say(format!("{}: warm-up", report.name));
            let (m, _) = plan.wrk.run(
                &format!("warmup-{index}"),
                &load,
                server.addr,
                16,
                plan.warmup_secs,
            )?;
            if m.errors() > 0 {
                report.failures.push(format!(
                    "{} failed requests while warming up for {label}",
                    m.errors()
                ));
            }
            warmed.push(group);
        }
        for &conns in &concurrencies {
            server.reset_peak();
            let cpu_before = server.cpu_ticks()?;
            let core_before = server::core_busy_ticks(plan.server_core);
            let started = Instant::now();
            let (measured, command) = plan.wrk.run(
                &format!("step-{index}-c{conns}"),
                &load,
                server.addr,
                conns,
                plan.step_secs,
            )?;
            let wall = started.elapsed().as_secs_f64();
            let cpu_ticks = server.cpu_ticks()?.saturating_sub(cpu_before);
            let core_ticks = core_before
                .zip(server::core_busy_ticks(plan.server_core))
                .map(|(before, after)| after.saturating_sub(before));
            let cpu = cpu_ticks as f64 / ticks as f64;
            let peak_kib = server.peak_kib().unwrap_or(0);
            if !server.alive() {
                return Err(format!("the server died during {label} at c{conns}"));
            }
            say(format!(
                "{}: {label} c{conns}: {:.0} req/s, p99 {} ms, {} errors",
                report.name,
                measured.rate(),
                stats::ms(measured.latencies.p99_us),
                measured.errors()
            ));
            if report.steps.iter().all(|s| s.label != label) {
                let others: Vec<String> = concurrencies
                    .iter()
                    .filter(|&&c| c != conns)
                    .map(|c| format!("-c{c}"))
                    .collect();
                let also = if others.is_empty() {
                    String::new()
                } else {
                    format!("; then with {}", others.join(", "))
                };
                let plain = label.replace('`', "");
                report.commands.push(format!("{command}   # {plain}{also}"));
            }
            report.steps.push(Step {
                label: label.clone(),
                kind,
                conns,
                measured,
                cpu_percent: 100.0 * cpu / wall,
                peak_kib,
                other_percent: core_ticks
                    .map(|t| 100.0 * t.saturating_sub(cpu_ticks) as f64 / ticks as f64 / wall),
            });
        }
    }
    Ok(())
}

/// After the load: the edits of the job every "one job" edit went to were really stored, and
/// the list still counts every job.
fn check_after(server: &Server, edited: JobId, jobs: usize) -> Result<(), String> {
    let (status, body) =
        server::request(server.addr, "GET", &format!("/api/v1/jobs/{edited}"), None)
            .map_err(|e| format!("GET after the load: {e}"))?;
    let job: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("GET after the load: {e}: {body}"))?;
    let version = job["version"].as_i64().unwrap_or(0);
    let notes = job["notes"].as_str().unwrap_or("");
    if status != 200 || version < 2 || !notes.starts_with("bench edit") {
        return Err(format!(
            "an edited job does not show the edits (status {status}, version {version}, notes {notes:?})"
        ));
    }
    let (status, body) = server::request(server.addr, "GET", "/api/v1/jobs?limit=1", None)
        .map_err(|e| format!("list after the load: {e}"))?;
    let page: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("list after the load: {e}: {body}"))?;
    if status != 200 || page["total_count"].as_u64() != Some(jobs as u64) {
        return Err(format!(
            "the list counts {} jobs, not {jobs}",
            page["total_count"]
        ));
    }
    Ok(())
}

/// The CSV export of every job, once: how long it takes, its size, and the server's peak
/// memory meanwhile (the export streams pages of 1,000 jobs, so the peak should not grow
/// with the number of jobs). Checks that every job is in it.
fn measure_export(server: &Server, jobs: usize) -> Result<report::Export, String> {
    let before_kib = server.rss_kib()?;
    server.reset_peak();
    let started = Instant::now();
    let (status, body) = server::request(server.addr, "GET", "/api/v1/jobs/export.csv", None)
        .map_err(|e| format!("CSV export: {e}"))?;
    let took = started.elapsed();
    let peak_kib = server.peak_kib()?;
    if status != 200 {
        return Err(format!("CSV export: status {status}"));
    }
    let csv = server::dechunk(body.as_bytes()).map_err(|e| format!("CSV export: {e}"))?;
    // The benchmark's jobs have no line breaks in their fields: one line per job.
    let rows = csv.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count() - 1;
    if rows != jobs {
        return Err(format!("CSV export has {rows} rows, not {jobs}"));
    }
    Ok(report::Export {
        rows,
        bytes: csv.len(),
        took,
        peak_kib,
        before_kib,
    })
}

/// The last lines of the server log, for error messages.
fn tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn database_version(backend: Backend, target: &str) -> String {
    use diesel::RunQueryDsl;
    let query = match backend {
        Backend::Sqlite => "sqlite_version()",
        Backend::Postgres => "current_setting('server_version')",
    };
    let version = seed::connect(backend, target).ok().and_then(|mut conn| {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(query))
            .get_result::<String>(&mut conn)
            .ok()
    });
    match (backend, version) {
        (Backend::Sqlite, Some(v)) => format!("SQLite {v} (bundled), WAL, synchronous=NORMAL"),
        (Backend::Postgres, Some(v)) => format!("PostgreSQL {v} on 127.0.0.1"),
        (_, None) => "unknown version".into(),
    }
}

/// A fresh database on the PostgreSQL server `admin_url` names, dropped with the value (the
/// store's test-database helper); or why there is none.
fn postgres_database(admin_url: &str) -> Result<TestDatabase, String> {
    use diesel::Connection;
    // The helper panics on an unreachable server; the benchmark skips PostgreSQL instead.
    diesel::pg::PgConnection::establish(admin_url)
        .map_err(|e| format!("{admin_url} is unreachable: {e}"))?;
    Ok(TestDatabase::postgres_on(admin_url.to_owned()))
}
