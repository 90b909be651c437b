//! The server under test: started pinned to one core, probed over plain HTTP/1.1, and watched
//! through `/proc` (CPU time, resident memory, its peak).

use std::{
    fs,
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// A running `printdesk` process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The command line it was started with, for the report.
    pub command: String,
    started: Instant,
}

/// A port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

impl Server {
    /// Starts `bin` on `database_url` with one HTTP worker, pinned to `core` with `taskset`.
    /// Its log goes to `log`.
    pub fn start(bin: &Path, core: u32, database_url: &str, log: &Path) -> Result<Self, String> {
        Self::start_with(bin, core, database_url, log, &[])
    }

    /// Like [`Server::start`], with more command-line arguments (`--monitor true`).
    pub fn start_with(
        bin: &Path,
        core: u32,
        database_url: &str,
        log: &Path,
        extra: &[&str],
    ) -> Result<Self, String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut args = vec![
            "-c".to_owned(),
            core.to_string(),
            bin.display().to_string(),
            "--bind".to_owned(),
            addr.to_string(),
            "--database-url".to_owned(),
            database_url.to_owned(),
            "--workers".to_owned(),
            "1".to_owned(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let log_file = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let started = Instant::now();
        let child = Command::new("taskset")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {} under taskset: {e}", bin.display()))?;
        Ok(Self {
            child,
            addr,
            command: format!("taskset {}", args.join(" ")),
            started,
        })
    }

    /// The process id (taskset execs the server, so it is the server's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `GET path` every millisecond until it answers 200; returns the time from the
    /// process start to that answer.
    pub fn wait_ready(&mut self, path: &str, timeout: Duration) -> Result<Duration, String> {
        loop {
            if let Ok((200, _)) = request(self.addr, "GET", path, None) {
                return Ok(self.started.elapsed());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the server exited during start-up ({status})"));
            }
            if self.started.elapsed() > timeout {
                return Err(format!("the server did not answer within {timeout:?}"));
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn proc_file(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{name}", self.pid()))
    }

    /// User + system CPU time so far, in clock ticks (all threads).
    pub fn cpu_ticks(&self) -> Result<u64, String> {
        let stat = fs::read_to_string(self.proc_file("stat")).map_err(|e| e.to_string())?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')').ok_or("unreadable /proc/PID/stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
        let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
        let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(utime + stime)
    }

    /// A `Vm*` line of `/proc/PID/status`, in KiB.
    fn status_kib(&self, key: &str) -> Result<u64, String> {
        let status = fs::read_to_string(self.proc_file("status")).map_err(|e| e.to_string())?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no {key} in /proc/PID/status"))
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> Result<u64, String> {
        self.status_kib("VmRSS")
    }

    /// Peak resident memory since start or since the last [`Server::reset_peak`], in KiB.
    pub fn peak_kib(&self) -> Result<u64, String> {
        self.status_kib("VmHWM")
    }

    /// Resets the peak (`VmHWM`) to the current RSS, so a step reports its own peak.
    pub fn reset_peak(&self) {
        // Needs owning the process; if refused the peak is cumulative, which only overstates.
        let _ = fs::write(self.proc_file("clear_refs"), "5");
    }

    /// Threads the process runs.
    pub fn threads(&self) -> u64 {
        self.status_kib("Threads").unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then SIGKILL if it has not stopped within 10 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// However the benchmark ends (an error, a panic), the server does not outlive it.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request on a new connection; the status and the body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = json.unwrap_or("");
    let content = if json.is_some() {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    } else {
        String::new()
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{content}\r\n{body}"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status line"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// The payload of a `Transfer-Encoding: chunked` body.
pub fn dechunk(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk without a size line")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            return Err("a chunk shorter than its size".into());
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Busy time of one core so far (user, nice, system, irq, softirq, steal), in clock ticks,
/// from `/proc/stat`: with the server's own CPU time it tells how much else ran on its core.
pub fn core_busy_ticks(core: u32) -> Option<u64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&format!("cpu{core}")))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    Some([0, 1, 2, 5, 6, 7].iter().filter_map(|&i| v.get(i)).sum())
}

/// Clock ticks per second for `/proc/PID/stat` (`getconf CLK_TCK`, nearly always 100).
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunk_joins_chunks_and_refuses_a_truncated_body() {
        let body = b"5\r\nid,na\r\n7;ext=1\r\nme\r\n1,x\r\n0\r\n\r\n";
        assert_eq!(dechunk(body).unwrap(), b"id,name\r\n1,x");
        assert!(dechunk(b"5\r\nid").is_err());
        assert!(dechunk(b"zz\r\n").is_err());
    }
}
