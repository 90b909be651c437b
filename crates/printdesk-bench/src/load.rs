//! The load generator: Debian's `wrk`, one thread pinned to its own core, driven by a Lua
//! script this module writes (rotating paths, a fresh body per edit) and whose `done` hook
//! prints one machine-readable line.

use std::{
    fmt::Write as _,
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use crate::stats::{Latencies, key_values};

/// What one wrk run asks for.
#[derive(Debug, Clone)]
pub enum Load {
    /// `GET` each path in turn.
    Get(Vec<String>),
    /// `PUT {"notes": "bench N"}` to each path in turn; N counts up, so every edit changes
    /// the job.
    Put(Vec<String>),
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Completed requests.
    pub requests: u64,
    /// wrk's measured duration.
    pub duration: Duration,
    /// Responses with a status of 400 or more (wrk's count; the API answers no 3xx here).
    pub status_errors: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
    /// Latency percentiles.
    pub latencies: Latencies,
}

impl Measured {
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        if self.duration.is_zero() {
            0.0
        } else {
            self.requests as f64 / self.duration.as_secs_f64()
        }
    }

    /// Every failed request.
    pub fn errors(&self) -> u64 {
        self.status_errors + self.socket_errors
    }
}

const DONE_HOOK: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%.0f duration_us=%.0f status_errors=%.0f socket_errors=%.0f p50_us=%.0f p99_us=%.0f p999_us=%.0f\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
"#;

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Lua script for `load`.
pub fn script(load: &Load) -> String {
    let (paths, put) = match load {
        Load::Get(p) => (p, false),
        Load::Put(p) => (p, true),
    };
    let mut lua = String::from("local paths = {\n");
    for p in paths {
        let _ = writeln!(lua, "  {},", lua_string(p));
    }
    lua.push_str("}\nlocal n = 0\n");
    if put {
        lua.push_str(
            r#"local headers = { ["Content-Type"] = "application/json" }
request = function()
  n = n + 1
  return wrk.format("PUT", paths[(n % #paths) + 1], headers, '{"notes":"bench edit ' .. n .. '"}')
end
"#,
        );
    } else {
        lua.push_str(
            r#"request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"#,
        );
    }
    lua.push_str(DONE_HOOK);
    lua
}

/// A wrk invocation, ready to run.
#[derive(Debug, Clone)]
pub struct Wrk {
    /// The core wrk is pinned to.
    pub core: u32,
    /// Where its scripts go.
    pub dir: PathBuf,
}

impl Wrk {
    /// The command line for one run, as run (for the report).
    pub fn command(&self, script: &Path, addr: SocketAddr, conns: u32, secs: u64) -> Vec<String> {
        vec![
            "taskset".into(),
            "-c".into(),
            self.core.to_string(),
            "wrk".into(),
            "-t1".into(),
            format!("-c{conns}"),
            format!("-d{}", wrk_duration(secs)),
            "--timeout".into(),
            "5s".into(),
            "-s".into(),
            script.display().to_string(),
            format!("http://{addr}"),
        ]
    }

    /// Runs `load` against `addr` with `conns` connections for `secs` seconds.
    pub fn run(
        &self,
        name: &str,
        load: &Load,
        addr: SocketAddr,
        conns: u32,
        secs: u64,
    ) -> Result<(Measured, String), String> {
        let script_path = self.dir.join(format!("{name}.lua"));
        fs::write(&script_path, script(load))
            .map_err(|e| format!("{}: {e}", script_path.display()))?;
        let command = self.command(&script_path, addr, conns, secs);
        let output = Command::new(&command[0])
            .args(&command[1..])
            .output()
            .map_err(|e| format!("cannot run wrk (is it installed?): {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "wrk failed ({}): {}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("WRK "))
            .ok_or_else(|| format!("wrk printed no summary: {stdout}"))?;
        let kv = key_values(line);
        let get = |k: &str| kv.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok((
            Measured {
                requests: get("requests"),
                duration: Duration::from_micros(get("duration_us")),
                status_errors: get("status_errors"),
                socket_errors: get("socket_errors"),
                latencies: Latencies {
                    p50_us: get("p50_us"),
                    p99_us: get("p99_us"),
                    p999_us: get("p999_us"),
                },
            },
            command.join(" "),
        ))
    }
}

/// wrk takes whole seconds (`5s`), at least one.
fn wrk_duration(secs: u64) -> String {
    format!("{}s", secs.max(1))
}

/// Whether `wrk` can be run.
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wrk"))
        .unwrap_or(false)
}

/// wrk's version line.
pub fn version() -> String {
    Command::new("wrk")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.split("Copyright").next().unwrap_or(l).trim().to_owned())
        })
        .unwrap_or_else(|| "wrk (unknown version)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_quote_paths_and_report() {
        let lua = script(&Load::Put(vec!["/api/v1/jobs/a\"b".into()]));
        assert!(lua.contains(r#""/api/v1/jobs/a\"b","#));
        assert!(lua.contains("\"PUT\""));
        assert!(lua.contains("WRK requests="));
        let lua = script(&Load::Get(vec!["/api/v1/jobs?limit=50".into()]));
        assert!(lua.contains("\"GET\""));
    }

    #[test]
    fn durations() {
        assert_eq!(wrk_duration(5), "5s");
        assert_eq!(wrk_duration(0), "1s");
    }
}
