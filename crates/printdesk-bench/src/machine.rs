//! The machine a run was made on, as the report describes it.

use std::{fs, process::Command, thread};

use crate::load;

/// What the report says about the machine.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub load_at_start: String,
    pub rustc: String,
    pub wrk: String,
    pub commit: String,
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

impl Machine {
    /// Reads the machine's description from `/proc`, `git`, `rustc` and `wrk`.
    pub fn describe() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_else(|| "unknown CPU".into());
        let mhz = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("cpu MHz"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned());
        let memory = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
            .map_or("unknown".into(), |kib| {
                format!("{:.1} GiB", kib as f64 / 1048576.0)
            });
        let dirty = command_line("git", &["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
        Machine {
            cpu: match mhz {
                Some(mhz) => format!("{cpu} ({mhz} MHz)"),
                None => cpu,
            },
            // `--all`: the fleet benchmark runs pinned to one core, the machine has more.
            cores: command_line("nproc", &["--all"])
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get())),
            memory,
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            load_at_start: fs::read_to_string("/proc/loadavg")
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            rustc: command_line("rustc", &["--version"])
                .unwrap_or_else(|| "rustc (unknown)".into()),
            wrk: load::version(),
            commit: command_line("git", &["rev-parse", "--short", "HEAD"]).map_or_else(
                || "unknown commit".into(),
                |c| {
                    if dirty {
                        format!("{c} with uncommitted changes")
                    } else {
                        c
                    }
                },
            ),
        }
    }
}
