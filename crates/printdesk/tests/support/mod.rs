//! The real `printdesk` binary as a child process on a free loopback port, with its JSON log
//! in a temporary directory; and small HTTP helpers. Everything it starts is stopped and
//! everything it creates is removed when it is dropped, also when a test fails (the log's
//! tail is then printed).

#![allow(dead_code)] // Each test file uses its own part.

use std::{
    fs,
    io::{self, BufRead, BufReader, Read},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, ChildStderr, Command, ExitStatus, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// Every request of a test gives up after this long, so that no test can hang on a server
/// that stopped answering: a hang shows up as a failed request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "printdesk-{label}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).expect("create a temporary directory");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `sqlite://<dir>/printdesk.db`
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("printdesk.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A `printdesk` process. Killed (SIGKILL) on drop if it still runs.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub base: String,
    log: PathBuf,
    exited: Option<ExitStatus>,
    /// The read end of stderr, when it is a pipe ([`Stderr::Pipe`]).
    pipe: Option<BufReader<ChildStderr>>,
}

/// Where a server's stderr goes, for [`Server::start_with_stderr`].
#[derive(Debug, Clone)]
pub enum Stderr {
    /// A log file in the log directory (what [`Server::start`] does).
    LogFile,
    /// This file, opened for writing (e.g. `/dev/full`): the test cannot read the log.
    File(PathBuf),
    /// A pipe the test reads from ([`Server::take_pipe`]); the server counts as started once
    /// it has said so there.
    Pipe,
}

static STARTS: AtomicU32 = AtomicU32::new(0);

impl Server {
    /// Starts the binary on `database_url` with two workers and JSON logs, and waits until
    /// `/healthz` answers. `log_dir` keeps the log (one file per start).
    pub fn start(database_url: &str, log_dir: &Path) -> Self {
        Self::start_with(database_url, log_dir, |_| {})
    }

    /// Like [`Server::start`], with `configure` adding to the command (flags, variables, the
    /// working directory) before each try.
    pub fn start_with(
        database_url: &str,
        log_dir: &Path,
        configure: impl Fn(&mut Command),
    ) -> Self {
        Self::start_with_stderr(database_url, log_dir, &Stderr::LogFile, configure)
    }

    /// Like [`Server::start_with`], with stderr sent where `stderr` says.
    pub fn start_with_stderr(
        database_url: &str,
        log_dir: &Path,
        stderr: &Stderr,
        configure: impl Fn(&mut Command),
    ) -> Self {
        Self::launch(database_url, log_dir, stderr, &[], configure)
    }

    /// Like [`Server::start_with`], with the binary run by `wrapper` (a program and its
    /// arguments, e.g. `prlimit --nofile=512:1024 --`).
    pub fn start_wrapped(
        database_url: &str,
        log_dir: &Path,
        wrapper: &[&str],
        configure: impl Fn(&mut Command),
    ) -> Self {
        Self::launch(database_url, log_dir, &Stderr::LogFile, wrapper, configure)
    }

    fn launch(
        database_url: &str,
        log_dir: &Path,
        stderr: &Stderr,
        wrapper: &[&str],
        configure: impl Fn(&mut Command),
    ) -> Self {
        // A port taken between asking for it and binding it makes the server exit at once;
        // then try another.
        for _ in 0..3 {
            let port = free_port();
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let log = log_dir.join(format!(
                "server-{}.log",
                STARTS.fetch_add(1, Ordering::Relaxed)
            ));
            let mut command = match wrapper {
                [program, args @ ..] => {
                    let mut command = Command::new(program);
                    command.args(args).arg(env!("CARGO_BIN_EXE_printdesk"));
                    command
                }
                [] => Command::new(env!("CARGO_BIN_EXE_printdesk")),
            };
            // Only what the test says: no token file or log level from the caller's shell.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("PRINTDESK_") {
                    command.env_remove(name);
                }
            }
            // No printer monitor unless a test asks for one (`--monitor true`, which wins over
            // the environment): tests make printers with made-up LAN addresses, which a
            // monitor would try to reach.
            command.env("PRINTDESK_MONITOR", "false");
            configure(&mut command);
            let child = command
                // Not the crate's directory: a `printdesk.tokens` there would turn tokens on.
                .current_dir(log_dir)
                .args(["--database-url", database_url])
                .args(["--bind", &addr.to_string()])
                .args(["--workers", "2"])
                .env("PRINTDESK_LOG_FORMAT", "json")
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(match stderr {
                    Stderr::LogFile => {
                        Stdio::from(fs::File::create(&log).expect("create the log file"))
                    }
                    Stderr::File(path) => Stdio::from(
                        fs::OpenOptions::new()
                            .write(true)
                            .open(path)
                            .expect("open the file for stderr"),
                    ),
                    Stderr::Pipe => Stdio::piped(),
                })
                .spawn()
                .expect("start the printdesk binary");
            let mut server = Self {
                child,
                addr,
                base: format!("http://{addr}"),
                log,
                exited: None,
                pipe: None,
            };
            let listening = match stderr {
                Stderr::LogFile => server.wait_until_listening(Duration::from_secs(60)),
                Stderr::File(_) => server.wait_until_healthy(Duration::from_secs(60)),
                Stderr::Pipe => server.wait_for_pipe(),
            };
            if listening {
                return server;
            }
            if !matches!(stderr, Stderr::LogFile) {
                // No log to tell "cannot listen" apart from anything else: try another port.
                continue;
            }
            let log = server.log_text();
            assert!(
                log.contains("cannot listen"),
                "the server did not start:\n{log}"
            );
        }
        panic!("no free port found in three tries");
    }

    fn wait_until_listening(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.try_exit().is_some() {
                return false;
            }
            // Listening, and it is this process that listens: another test's server may have
            // been given the same free port (then this one exits with "cannot listen").
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok()
                && self.log_text().contains("printdesk is serving")
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "the server did not listen within {limit:?}:\n{}",
            self.log_text()
        );
    }

    /// For a server whose log the test cannot read: until `/healthz` answers 200.
    fn wait_until_healthy(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.try_exit().is_some() {
                return false;
            }
            if raw_get(self.addr, "/healthz").is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
                // Give a server that lost the port to another test's a moment to exit.
                std::thread::sleep(Duration::from_millis(100));
                return self.try_exit().is_none();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the server did not answer /healthz within {limit:?}");
    }

    /// Reads stderr's pipe until the server says it is serving (or exits).
    fn wait_for_pipe(&mut self) -> bool {
        let mut pipe = BufReader::new(self.child.stderr.take().expect("stderr is piped"));
        let mut line = String::new();
        loop {
            line.clear();
            match pipe.read_line(&mut line) {
                Ok(0) | Err(_) => return false,
                Ok(_) if line.contains("printdesk is serving") => {
                    self.pipe = Some(pipe);
                    return true;
                }
                Ok(_) => {}
            }
        }
    }

    /// The read end of a [`Stderr::Pipe`] server's stderr (drop it to close the pipe).
    pub fn take_pipe(&mut self) -> BufReader<ChildStderr> {
        self.pipe
            .take()
            .expect("a server started with Stderr::Pipe")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// SIGKILL: no chance to clean up, like a crash or the OOM killer. Waits for the exit.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        self.exited = Some(self.child.wait().expect("reap the server"));
    }

    /// The exit status, if the process has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().expect("poll the server");
        }
        self.exited
    }

    /// Waits at most `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_exit() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log's lines, each parsed as JSON; panics on a line that is not a JSON object.
    pub fn log_json(&self) -> Vec<Value> {
        self.log_text()
            .lines()
            .map(|line| match serde_json::from_str::<Value>(line) {
                Ok(value) if value.is_object() => value,
                _ => panic!("a log line that is not one JSON object: {line}"),
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let text = self.log_text();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            eprintln!("--- last lines of the server log ({}):", self.log.display());
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A `GET` on a connection of its own, `Connection: close`; the whole response as text.
pub fn raw_get(addr: SocketAddr, path: &str) -> io::Result<String> {
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Sends `request` as is on a connection of its own and reads until the server closes it.
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> io::Result<String> {
    use std::io::Write;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.write_all(request)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A client that gives up after [`REQUEST_TIMEOUT`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("build a client")
}

/// A client that opens a new connection for every request (no keep-alive), so that a refused
/// connection and a request cut off mid-way are told apart.
pub fn client_without_keep_alive() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(0)
        .build()
        .expect("build a client")
}

/// Creates a job named `name`; returns its id.
pub async fn create_job(client: &reqwest::Client, server: &Server, name: &str) -> String {
    let response = client
        .post(server.url("/api/v1/jobs"))
        .json(&json!({ "job_name": name }))
        .send()
        .await
        .expect("create a job");
    assert_eq!(response.status(), 201, "create {name}");
    let job: Value = response.json().await.expect("a job");
    job["id"].as_str().expect("an id").to_owned()
}

/// Every event of a job's history, oldest first.
pub async fn history(client: &reqwest::Client, server: &Server, id: &str) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let page: Value = client
            .get(server.url(&format!(
                "/api/v1/jobs/{id}/history?limit=500&offset={}",
                events.len()
            )))
            .send()
            .await
            .expect("read the history")
            .error_for_status()
            .expect("a history")
            .json()
            .await
            .expect("a history page");
        let batch = page["events"].as_array().expect("events").clone();
        if batch.is_empty() {
            break;
        }
        events.extend(batch);
    }
    events.reverse();
    events
}

/// Sends the head of a `PUT` and half of its body on a raw connection and leaves the rest for
/// [`HeldRequest::finish`]: a request the server has started on and cannot have finished.
/// The head asks for `100 Continue`, and the body is sent only once the server has answered
/// it, so the request is known to be in the server's hands (a fixed sleep was not enough on
/// a loaded machine: a connection not yet picked up by a worker is dropped at shutdown).
#[derive(Debug)]
pub struct HeldRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HeldRequest {
    pub fn start(addr: SocketAddr, path: &str, body: &Value) -> Self {
        use std::io::Write;
        let body = body.to_string().into_bytes();
        let mut stream = TcpStream::connect(addr).expect("connect for a held request");
        stream
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .expect("set a read timeout");
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        );
        let half = body.len() / 2;
        stream.write_all(head.as_bytes()).expect("send the head");
        let mut interim = Vec::new();
        let mut byte = [0u8; 1];
        while !interim.ends_with(b"\r\n\r\n") {
            stream
                .read_exact(&mut byte)
                .expect("the server answers the head with 100 Continue");
            interim.push(byte[0]);
        }
        assert!(
            interim.starts_with(b"HTTP/1.1 100"),
            "expected 100 Continue, got {:?}",
            String::from_utf8_lossy(&interim)
        );
        stream.write_all(&body[..half]).expect("send half the body");
        Self {
            stream,
            rest: body[half..].to_vec(),
        }
    }

    /// Sends the rest of the body and reads the whole response: (status, body).
    pub fn finish(mut self) -> io::Result<(u16, String)> {
        use std::io::Write;
        self.stream.write_all(&self.rest)?;
        let mut raw = Vec::new();
        self.stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("no full head: {text:?}"),
            )
        })?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, head.to_owned()))?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(body.len());
        if body.len() < length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("body cut off after {} of {length} bytes", body.len()),
            ));
        }
        Ok((status, body.to_owned()))
    }
}
