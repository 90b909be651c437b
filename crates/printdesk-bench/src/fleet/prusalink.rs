//! Many PrusaLink-shaped printers behind one loopback HTTP/1.1 listener (keep-alive, GET only):
//! printer `i` is `http://127.0.0.1:PORT/p{i}` with `GET /api/v1/status` and `GET /api/v1/job`
//! in the shapes of PrusaLink's OpenAPI description (204 without a job), authenticated with
//! the `X-Api-Key` header of older firmware. PrusaLink pushes nothing: printdesk learns of a
//! change at its next poll, so the fake tells the [`Recorder`] when an answer first showed it.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

use super::latency::Recorder;

/// The key every fake printer takes.
pub const API_KEY: &str = "bench-prusalink-key";

#[derive(Debug, Default)]
struct Printer {
    name: String,
    /// `IDLE`, `PRINTING`, `FINISHED`, `STOPPED`.
    state: &'static str,
    job_id: u64,
    file: String,
    polls_since_change: u32,
    /// A change the printer has not shown printdesk yet.
    unshown: bool,
}

/// The fleet of fake PrusaLink printers.
#[derive(Debug)]
pub struct PrusaLinks {
    addr: SocketAddr,
    printers: Arc<Vec<Mutex<Printer>>>,
    server: JoinHandle<()>,
}

impl Drop for PrusaLinks {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl PrusaLinks {
    /// Idle printers with these names (the names the recorder knows them by).
    pub async fn start(names: Vec<String>, recorder: Recorder) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let printers: Arc<Vec<Mutex<Printer>>> = Arc::new(
            names
                .into_iter()
                .map(|name| {
                    Mutex::new(Printer {
                        name,
                        state: "IDLE",
                        ..Printer::default()
                    })
                })
                .collect(),
        );
        let server = tokio::spawn(accept(listener, printers.clone(), recorder));
        Ok(Self {
            addr,
            printers,
            server,
        })
    }

    /// Printer `i`'s `base_url`.
    pub fn base_url(&self, i: usize) -> String {
        format!("http://{}/p{i}", self.addr)
    }

    fn with<T>(&self, i: usize, f: impl FnOnce(&mut Printer) -> T) -> T {
        f(&mut self.printers[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// Starts a new job printing `file`.
    pub fn start_print(&self, i: usize, file: &str) {
        self.with(i, |p| {
            p.job_id += 1;
            p.state = "PRINTING";
            p.file = file.to_owned();
            p.polls_since_change = 0;
            p.unshown = true;
        });
    }

    /// Ends the job, finished or stopped.
    pub fn end_print(&self, i: usize, completed: bool) {
        self.with(i, |p| {
            p.state = if completed { "FINISHED" } else { "STOPPED" };
            p.polls_since_change = 0;
            p.unshown = true;
        });
    }
}

async fn accept(listener: TcpListener, printers: Arc<Vec<Mutex<Printer>>>, recorder: Recorder) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Without it the status line and the body go out as two segments and the second
        // waits for the delayed ACK of the first (~40 ms): the fake's delay, not printdesk's.
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, printers.clone(), recorder.clone()));
    }
}

async fn connection(stream: TcpStream, printers: Arc<Vec<Mutex<Printer>>>, recorder: Recorder) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut authorised = false;
        loop {
            line.clear();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("x-api-key")
                && value.trim() == API_KEY
            {
                authorised = true;
            }
        }
        let (status, body) = answer(&path, authorised, &printers, &recorder);
        let reason = match status {
            200 => "OK",
            204 => "No Content",
            401 => "Unauthorized",
            _ => "Not Found",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        if write.write_all(head.as_bytes()).await.is_err()
            || write.write_all(body.as_bytes()).await.is_err()
        {
            return;
        }
    }
}

fn answer(
    path: &str,
    authorised: bool,
    printers: &[Mutex<Printer>],
    recorder: &Recorder,
) -> (u16, String) {
    let Some((index, endpoint)) = path
        .strip_prefix("/p")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(n, endpoint)| Some((n.parse::<usize>().ok()?, endpoint)))
    else {
        return (404, String::new());
    };
    let Some(printer) = printers.get(index) else {
        return (404, String::new());
    };
    if !authorised {
        return (401, String::new());
    }
    let mut p = printer.lock().unwrap_or_else(PoisonError::into_inner);
    match endpoint {
        "api/v1/status" => {
            let body = json!({"printer": {"state": p.state, "temp_nozzle": 214.9,
                                          "target_nozzle": 215.0, "temp_bed": 60.1,
                                          "target_bed": 60.0, "axis_z": 2.4, "flow": 100,
                                          "speed": 100, "fan_hotend": 3800, "fan_print": 2900}});
            (200, body.to_string())
        }
        "api/v1/job" => {
            // printdesk reads the status, then the job: this answer completes its poll.
            if p.unshown {
                p.unshown = false;
                recorder.polled(&p.name);
            }
            if p.job_id == 0 {
                return (204, String::new());
            }
            p.polls_since_change += 1;
            let printing = p.state == "PRINTING";
            let seconds = i64::from(p.polls_since_change) * 3;
            let progress = if printing {
                (seconds as f64 / 6.0).min(99.0)
            } else {
                100.0
            };
            let body = json!({
                "id": p.job_id, "state": p.state, "progress": progress,
                "time_remaining": if printing { 600 - seconds.min(600) } else { 0 },
                "time_printing": seconds, "inaccurate_estimates": false,
                "file": {"name": format!("JOB{}~1.GCO", p.job_id), "display_name": p.file,
                         "path": "/usb", "display_path": "/USB", "size": 2_393_142,
                         "m_timestamp": 1_648_042_843,
                         "refs": {"download": format!("/api/files/usb/JOB{}~1.GCO/raw", p.job_id)}},
            });
            (200, body.to_string())
        }
        _ => (404, String::new()),
    }
}
