//! The report: Markdown tables for stdout and for `docs/performance.md`, the issue's targets
//! judged against the figures, and the update of this harness's own marked section of that
//! file (every other section, such as the WebSocket fan-out's, is kept as it is).

use std::{fmt::Write as _, fs, path::Path, time::Duration};

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Plan,
    load::{self, Load, Measured},
    machine::Machine,
    reference::Reference,
    stats::ms,
};

/// Marks the start of the section this harness owns in `docs/performance.md`.
pub const START: &str = "<!-- http-bench:start -->";
/// Marks its end.
pub const END: &str = "<!-- http-bench:end -->";

/// What kind of request a step sends, for judging targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `PUT /jobs/{id}` rotating over many jobs.
    EditMany,
    /// `PUT /jobs/{id}` on one job.
    EditOne,
    /// `GET /jobs/{id}`.
    GetOne,
    /// `GET /jobs?…` filtered and sorted.
    List,
    /// `GET /jobs?q=…`: a text search.
    Search,
}

/// One measured load step.
#[derive(Debug, Clone)]
pub struct Step {
    /// What was requested.
    pub label: String,
    /// Its kind.
    pub kind: Kind,
    /// Connections (concurrency).
    pub conns: u32,
    /// wrk's figures.
    pub measured: Measured,
    /// Server CPU time over the step, as a percentage of one core.
    pub cpu_percent: f64,
    /// The server's peak RSS during the step, KiB.
    pub peak_kib: u64,
    /// CPU time of everything else on the server's core over the step, as a percentage of
    /// that core: other processes on the machine, which the figures do not control.
    pub other_percent: Option<f64>,
}

/// Everything measured on one backend.
#[derive(Debug, Clone, Default)]
pub struct BackendReport {
    /// `SQLite` or `PostgreSQL`.
    pub name: String,
    /// Why it was not measured, if it was not.
    pub skipped: Option<String>,
    /// The database's version.
    pub version: String,
    /// Jobs seeded.
    pub jobs: usize,
    /// How long seeding took.
    pub seed: Duration,
    /// The direct-store reference.
    pub reference: Option<Reference>,
    /// The same reference on a store without the text search's index (SQLite only).
    pub reference_without_index: Option<Reference>,
    /// Process start → first 200, for each start on the seeded database.
    pub startups: Vec<Duration>,
    /// RSS after start-up, idle, KiB.
    pub idle_kib: u64,
    /// Threads of the idle server.
    pub threads: u64,
    /// The load steps, in the order run.
    pub steps: Vec<Step>,
    /// The database's size on disk after the run, bytes (SQLite: file + WAL).
    pub db_bytes: Option<u64>,
    /// The CSV export of every job, measured once after the load steps.
    pub export: Option<Export>,
    /// Commands run, for the report.
    pub commands: Vec<String>,
    /// Checks after the load that found something wrong.
    pub failures: Vec<String>,
}

impl BackendReport {
    /// The median start-up time.
    pub fn startup_median(&self) -> Option<Duration> {
        let mut s = self.startups.clone();
        s.sort();
        s.get(s.len() / 2).copied()
    }

    /// The edit step rotating over many jobs at `conns`.
    pub fn edit_many(&self, conns: u32) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| s.kind == Kind::EditMany && s.conns == conns)
    }

    /// Requests that failed, over every step.
    pub fn errors(&self) -> u64 {
        self.steps.iter().map(|s| s.measured.errors()).sum()
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// The table of steps.
pub fn steps_table(report: &BackendReport) -> String {
    let mut t = String::from(
        "| request | conc. | req/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU | peak RSS MiB | other load on its core |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in &report.steps {
        let m = &s.measured;
        let _ = writeln!(
            t,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {:.0}% | {} | {} |",
            s.label,
            s.conns,
            m.rate(),
            ms(m.latencies.p50_us),
            ms(m.latencies.p99_us),
            ms(m.latencies.p999_us),
            m.errors(),
            s.cpu_percent,
            mib(s.peak_kib),
            s.other_percent
                .map_or("?".to_owned(), |p| format!("{p:.0}%")),
        );
    }
    t
}

/// The figures that are not per step.
pub fn summary(report: &BackendReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "- Database: {}; {} jobs over 20 printers (with their {} `job_created` events), seeded in {:.2} s{}.",
        report.version,
        report.jobs,
        report.jobs,
        report.seed.as_secs_f64(),
        report
            .db_bytes
            .map(|b| format!("; {:.0} MiB on disk after the run", b as f64 / 1048576.0))
            .unwrap_or_default()
    );
    if let Some(r) = &report.reference {
        let _ = writeln!(
            t,
            "- Reference (the same edit through `JobService::edit` on the store, no HTTP, one connection, sequential): **{:.0} edits/s**, p50 {} ms, p99 {} ms, p99.9 {} ms ({} edits).",
            r.rate(),
            ms(r.latencies.p50_us),
            ms(r.latencies.p99_us),
            ms(r.latencies.p999_us),
            r.edits
        );
        if let Some(w) = &report.reference_without_index {
            let _ = writeln!(
                t,
                "- The same reference on a store without the text search's index (`StoreOptions::search_index` off; on the same database, four runs in the order without, with, with, without, each pair's edits over its time; the reference above is the two runs with it): {:.0} edits/s, p99 {} ms: with the index, edits keep **{:.2} ×** that throughput.",
                w.rate(),
                ms(w.latencies.p99_us),
                r.rate() / w.rate()
            );
        }
        if let Some(s) = report.edit_many(16) {
            let _ = writeln!(
                t,
                "- HTTP edits at concurrency 16 (1,000 jobs): {:.0} req/s = **{:.2} × the reference**.",
                s.measured.rate(),
                s.measured.rate() / r.rate()
            );
        }
    }
    let starts: Vec<String> = report
        .startups
        .iter()
        .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
        .collect();
    if let Some(median) = report.startup_median() {
        let _ = writeln!(
            t,
            "- Start-up to first answer on the existing {}-job database: **{:.0} ms** median (each start, ms: {}).",
            report.jobs,
            median.as_secs_f64() * 1000.0,
            starts.join(", ")
        );
    }
    let _ = writeln!(
        t,
        "- Idle RSS after start-up: **{} MiB** ({} threads).",
        mib(report.idle_kib),
        report.threads
    );
    if let Some(e) = &report.export {
        let _ = writeln!(
            t,
            "- CSV export of all {} jobs (`GET /jobs/export.csv`, streamed in pages of 1,000): {:.1} MiB in {:.2} s; server RSS {} MiB before, peak {} MiB during it.",
            e.rows,
            e.bytes as f64 / 1_048_576.0,
            e.took.as_secs_f64(),
            mib(e.before_kib),
            mib(e.peak_kib)
        );
    }
    for f in &report.failures {
        let _ = writeln!(t, "- **Check failed:** {f}");
    }
    t
}

/// `GET /jobs/export.csv` of every job.
#[derive(Debug, Clone)]
pub struct Export {
    /// Data rows received (without the header).
    pub rows: usize,
    /// Bytes of CSV received.
    pub bytes: usize,
    /// From sending the request to the last byte.
    pub took: Duration,
    /// The server's peak RSS during the export, KiB.
    pub peak_kib: u64,
    /// The server's RSS before it, KiB.
    pub before_kib: u64,
}

/// One target of the issue, judged.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the issue asks.
    pub goal: String,
    /// What was measured.
    pub measured: String,
    /// Whether it is met.
    pub met: bool,
}

/// The issue's targets, judged on the SQLite figures.
pub fn targets(report: &BackendReport) -> Vec<Target> {
    let mut out = Vec::new();
    let edit = report.edit_many(16);
    if let Some(s) = edit {
        out.push(Target {
            goal: "edits/s on SQLite at concurrency 16 ≥ 8,000".into(),
            measured: format!("{:.0}", s.measured.rate()),
            met: s.measured.rate() >= 8000.0 && s.measured.errors() == 0,
        });
        if let Some(r) = &report.reference {
            let ratio = s.measured.rate() / r.rate();
            out.push(Target {
                goal: "… and ≥ 0.5 of the direct-store reference".into(),
                measured: format!("{ratio:.2} ({:.0} / {:.0})", s.measured.rate(), r.rate()),
                met: ratio >= 0.5,
            });
        }
        out.push(Target {
            goal: "edit p99 at concurrency 16 < 5 ms".into(),
            measured: format!("{} ms", ms(s.measured.latencies.p99_us)),
            met: s.measured.latencies.p99_us < 5000,
        });
    }
    for (kind, what) in [
        (Kind::List, "list (`limit=50`, filtered/sorted)"),
        (Kind::Search, "text search (`limit=50&q=…`)"),
    ] {
        for conns in [1, 16] {
            let worst = report
                .steps
                .iter()
                .filter(|s| s.kind == kind && s.conns == conns)
                .max_by_key(|s| s.measured.latencies.p99_us);
            if let Some(s) = worst {
                out.push(Target {
                    goal: format!("{what} p99 < 10 ms, concurrency {conns}"),
                    measured: format!(
                        "worst {} ms ({})",
                        ms(s.measured.latencies.p99_us),
                        s.label.replace('|', "\\|")
                    ),
                    met: s.measured.latencies.p99_us < 10_000,
                });
            }
        }
    }
    out.extend(search_targets(report));
    for conns in [1, 16] {
        if let Some(s) = report
            .steps
            .iter()
            .find(|s| s.kind == Kind::GetOne && s.conns == conns)
        {
            out.push(Target {
                goal: format!("single job GET p99 < 2 ms, concurrency {conns}"),
                measured: format!("{} ms", ms(s.measured.latencies.p99_us)),
                met: s.measured.latencies.p99_us < 2000,
            });
        }
    }
    out.push(Target {
        goal: "idle RSS < 30 MB".into(),
        measured: format!("{} MiB", mib(report.idle_kib)),
        met: report.idle_kib * 1024 < 30_000_000,
    });
    if let Some(m) = report.startup_median() {
        out.push(Target {
            goal: "start-up to first answer < 300 ms".into(),
            measured: format!("{:.0} ms", m.as_secs_f64() * 1000.0),
            met: m < Duration::from_millis(300),
        });
    }
    out
}

/// Issue 13's targets: text search p99 (SQLite < 5 ms at concurrency 1 and < 15 ms at 16;
/// PostgreSQL < 20 ms at 16), edits with the search index ≥ 0.9 × without it, and sorting by
/// name within 1.2 × of sorting by `updated_at`.
pub fn search_targets(report: &BackendReport) -> Vec<Target> {
    let mut out = Vec::new();
    let sqlite = report.name == "SQLite";
    let limits: &[(u32, u64)] = if sqlite {
        &[(1, 5_000), (16, 15_000)]
    } else {
        &[(16, 20_000)]
    };
    for &(conns, limit_us) in limits {
        let worst = report
            .steps
            .iter()
            .filter(|s| s.kind == Kind::Search && s.conns == conns)
            .max_by_key(|s| s.measured.latencies.p99_us);
        if let Some(s) = worst {
            out.push(Target {
                goal: format!(
                    "text search p99 < {} ms, concurrency {conns} (issue 13)",
                    limit_us / 1000
                ),
                measured: format!(
                    "worst {} ms ({})",
                    ms(s.measured.latencies.p99_us),
                    s.label.replace('|', "\\|")
                ),
                met: s.measured.latencies.p99_us < limit_us,
            });
        }
    }
    if let (Some(with), Some(without)) = (&report.reference, &report.reference_without_index) {
        let ratio = with.rate() / without.rate();
        out.push(Target {
            goal: "edits with the search index ≥ 0.9 × without it (direct store)".into(),
            measured: format!("{ratio:.2} ({:.0} / {:.0})", with.rate(), without.rate()),
            met: ratio >= 0.9,
        });
    }
    for conns in [1, 16] {
        let p99 = |label: &str| {
            report
                .steps
                .iter()
                .find(|s| s.conns == conns && s.label.contains(label))
                .map(|s| s.measured.latencies.p99_us)
        };
        let by_updated = p99("sort=updated_at:desc");
        let by_name = [p99("sort=job_name:asc"), p99("sort=job_name:desc")]
            .into_iter()
            .flatten()
            .max();
        if let (Some(updated), Some(name)) = (by_updated, by_name) {
            let ratio = name as f64 / updated.max(1) as f64;
            out.push(Target {
                goal: format!("sort by name p99 ≤ 1.2 × sort by updated_at, concurrency {conns}"),
                measured: format!("{ratio:.2} ({} / {} ms)", ms(name), ms(updated)),
                met: ratio <= 1.2,
            });
        }
    }
    out
}

/// The targets as a table.
pub fn targets_table(targets: &[Target]) -> String {
    let mut t = String::from("| target | measured | |\n|---|---|---|\n");
    for x in targets {
        let _ = writeln!(
            t,
            "| {} | {} | {} |",
            x.goal,
            x.measured,
            if x.met { "met" } else { "**missed**" }
        );
    }
    t
}

/// Replaces the harness's marked section of the file at `path` with `section`, keeping every
/// other byte of the file (the WebSocket engineer's section, hand-written analysis). Creates
/// the file, with a title, when it does not exist; appends the section when the file has no
/// markers yet.
pub fn update_docs(path: &Path, section: &str) -> std::io::Result<()> {
    let block = format!("{START}\n{}\n{END}", section.trim_end());
    let text = match fs::read_to_string(path) {
        Ok(existing) => splice(&existing, &block),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!(
            "# Performance\n\nHow fast printdesk is, measured by its own benchmarks. Each marked \
             section is regenerated by the command it names; everything outside the markers is \
             written by hand and kept.\n\n{block}\n"
        ),
        Err(e) => return Err(e),
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("md.tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}

fn splice(existing: &str, block: &str) -> String {
    match (existing.find(START), existing.find(END)) {
        (Some(s), Some(e)) if s < e => {
            format!("{}{block}{}", &existing[..s], &existing[e + END.len()..])
        }
        _ => format!("{}\n\n{block}\n", existing.trim_end()),
    }
}

/// The whole Markdown report of a run: how it was made, on what machine, the targets judged
/// on SQLite, each backend's summary and steps, the commands, and the edit script. Printed to
/// stdout and spliced into `docs/performance.md` by [`update_docs`].
pub fn document(
    plan: &Plan,
    machine: &Machine,
    reports: &[BackendReport],
    total: Duration,
) -> String {
    let mut md = String::new();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let mut w = |s: String| md.push_str(&s);
    w(format!(
        "## HTTP API and store\n\n\
         Generated by `just bench{}` on {now} ({:.0} s in all), commit {}. \
         Regenerate with `just bench`; this section (between the `http-bench` markers) is \
         rewritten, the rest of the file is kept.\n\n",
        if plan.smoke { "-smoke" } else { "" },
        total.as_secs_f64(),
        machine.commit
    ));
    w(format!(
        "**Machine:** {}, `nproc` = {}, {} memory, Linux {}; load average at start {} \
         (other work on the machine shows up in the figures). {}; {}.\n\n",
        machine.cpu,
        machine.cores,
        machine.memory,
        machine.kernel,
        machine.load_at_start,
        machine.rustc,
        machine.wrk
    ));
    w(format!(
        "**Method:** a fresh database per backend, seeded in bulk (multi-row inserts in one \
         transaction, no HTTP) with {} jobs over 20 printers, then `sync` so that the seed's \
         dirty pages are on disk before anything is measured; the release server started as \
         `taskset -c {core} printdesk --workers 1` (one HTTP worker on core {core}, default \
         settings and logging, log to a file); `wrk -t1` pinned to core {client}; one warm-up \
         second before the edits, before the reads and before the searches (the first search \
         starts building the server's search index), then {} s per step. Latencies are wrk's \
         (from sending a request to its full response, keep-alive connections). Errors are \
         responses ≥ 400 plus socket errors and timeouts. Server CPU is utime + stime from \
         `/proc/PID/stat` over the step (100% = one core busy); peak RSS is `VmHWM`, reset \
         before each step. Edits send `{{\"notes\": \"bench edit N\"}}` (N counts up, so every \
         edit changes the job and writes an event) without `If-Match`. The reference runs the \
         same edit through `JobService::edit` on a `Store` with one connection, sequentially, \
         on core {core}, before the server starts (same pragmas, same transaction and event \
         append; no publishing).\n\n",
        plan.jobs,
        plan.step_secs,
        core = plan.server_core,
        client = plan.wrk.core,
    ));
    if let Some(sqlite) = reports
        .iter()
        .find(|r| r.name == "SQLite" && r.skipped.is_none())
    {
        w("### Targets (issues 7 and 13, judged on SQLite)\n\n".into());
        w(targets_table(&targets(sqlite)));
        w("\n".into());
    }
    if let Some(postgres) = reports
        .iter()
        .find(|r| r.name == "PostgreSQL" && r.skipped.is_none())
    {
        w("### Targets of issue 13 on PostgreSQL\n\n".into());
        w(targets_table(&search_targets(postgres)));
        w("\n".into());
    }
    for r in reports {
        w(format!("### {}\n\n", r.name));
        if let Some(why) = &r.skipped {
            w(format!("Not measured: {why}.\n\n"));
            continue;
        }
        w(summary(r));
        w("\n".into());
        w(steps_table(r));
        w("\n".into());
    }
    w(format!(
        "### Commands\n\n`just bench{}` runs `cargo build {}-p printdesk -p printdesk-bench` and \
         `printdesk-bench run{}`, which ran these (`$BENCH_DIR` is a fresh temporary directory, \
         removed afterwards; each step's wrk script is generated there):\n\n```sh\n",
        if plan.smoke { "-smoke" } else { "" },
        if plan.smoke { "" } else { "--release " },
        if plan.smoke { " --smoke" } else { "" },
    ));
    let dir = plan.work.display().to_string();
    for r in reports {
        for c in &r.commands {
            w(format!("{}\n", c.replace(&dir, "$BENCH_DIR")));
        }
    }
    w("```\n\nThe edit script, with 3 of its 1,000 paths (the read scripts differ only in `GET` and their paths):\n\n```lua\n".into());
    w(load::script(&Load::Put(
        ["0190a1b2-…-1", "0190a1b2-…-2", "0190a1b2-…-3"]
            .iter()
            .map(|id| format!("/api/v1/jobs/{id}"))
            .collect(),
    )));
    w("```\n".into());
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_keeps_other_sections() {
        let doc = format!(
            "# Performance\n\nintro\n\n{START}\nold\n{END}\n\n<!-- ws-bench:start -->\nws\n<!-- ws-bench:end -->\n"
        );
        let out = splice(&doc, &format!("{START}\nnew\n{END}"));
        assert_eq!(
            out,
            format!(
                "# Performance\n\nintro\n\n{START}\nnew\n{END}\n\n<!-- ws-bench:start -->\nws\n<!-- ws-bench:end -->\n"
            )
        );
    }

    #[test]
    fn splice_appends_without_markers() {
        let out = splice(
            "# Performance\n\n<!-- ws-bench:start -->\nws\n<!-- ws-bench:end -->\n",
            "B",
        );
        assert_eq!(
            out,
            "# Performance\n\n<!-- ws-bench:start -->\nws\n<!-- ws-bench:end -->\n\nB\n"
        );
    }
}
