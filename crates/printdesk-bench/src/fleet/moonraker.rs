//! Many Moonraker-shaped printers behind one loopback listener: printer `i` is
//! `http://127.0.0.1:PORT/m{i}`, its socket `/m{i}/websocket`. Each speaks the part of
//! Moonraker's JSON-RPC that printdesk's connector uses (identify, `server.info` with Klippy
//! ready, `printer.objects.subscribe`, `server.history.list`) and pushes what Moonraker pushes:
//! `notify_proc_stat_update` every second, `notify_status_update` with the print's durations
//! and progress every second while printing, and `notify_history_changed` when a print is
//! added and finished.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::mpsc, task::JoinHandle};
use tokio_tungstenite::tungstenite::{
    Message,
    handshake::server::{Request, Response},
};

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[derive(Debug, Default)]
struct Printer {
    /// `standby`, `printing`, `complete`, `cancelled`.
    state: &'static str,
    filename: String,
    started: f64,
    /// The history, oldest first.
    history: Vec<Value>,
    /// The open connection's outgoing messages.
    socket: Option<mpsc::UnboundedSender<String>>,
}

impl Printer {
    fn status(&self) -> Value {
        let elapsed = if self.state == "printing" {
            unix_now() - self.started
        } else {
            0.0
        };
        json!({
            "print_stats": {"state": self.state, "filename": self.filename,
                            "total_duration": elapsed, "print_duration": elapsed},
            "virtual_sdcard": {"progress": (elapsed / 600.0).min(1.0)},
        })
    }

    fn push(&self, method: &str, params: Value) -> bool {
        let text = json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string();
        self.socket.as_ref().is_some_and(|s| s.send(text).is_ok())
    }
}

/// The fleet of fake Moonrakers.
#[derive(Debug)]
pub struct Moonrakers {
    addr: SocketAddr,
    printers: Arc<Vec<Mutex<Printer>>>,
    server: JoinHandle<()>,
}

impl Drop for Moonrakers {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Moonrakers {
    /// `count` idle printers.
    pub async fn start(count: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let printers: Arc<Vec<Mutex<Printer>>> = Arc::new(
            (0..count)
                .map(|_| {
                    Mutex::new(Printer {
                        state: "standby",
                        ..Printer::default()
                    })
                })
                .collect(),
        );
        let server = tokio::spawn(accept(listener, printers.clone()));
        Ok(Self {
            addr,
            printers,
            server,
        })
    }

    /// Printer `i`'s `base_url`.
    pub fn base_url(&self, i: usize) -> String {
        format!("http://{}/m{i}", self.addr)
    }

    fn with<T>(&self, i: usize, f: impl FnOnce(&mut Printer) -> T) -> T {
        f(&mut self.printers[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// Starts printing `file`: the history entry, then `print_stats`, as Moonraker sends them.
    /// False when printdesk was not connected.
    pub fn start_print(&self, i: usize, file: &str) -> bool {
        self.with(i, |p| {
            p.state = "printing";
            p.filename = file.to_owned();
            p.started = unix_now();
            let entry = json!({"job_id": format!("{:06X}", p.history.len() + 1),
                               "filename": file, "status": "in_progress",
                               "start_time": p.started, "end_time": null,
                               "total_duration": 0.0, "print_duration": 0.0});
            p.history.push(entry.clone());
            let added = p.push(
                "notify_history_changed",
                json!([{"action": "added", "job": entry}]),
            );
            added && p.push("notify_status_update", json!([p.status(), unix_now()]))
        })
    }

    /// Ends the print, completed or cancelled: `print_stats`, then the history entry.
    pub fn end_print(&self, i: usize, completed: bool) -> bool {
        self.with(i, |p| {
            p.state = if completed { "complete" } else { "cancelled" };
            let sent = p.push(
                "notify_status_update",
                json!([{"print_stats": {"state": p.state}}, unix_now()]),
            );
            if let Some(entry) = p.history.last_mut() {
                entry["status"] = json!(if completed { "completed" } else { "cancelled" });
                entry["end_time"] = json!(unix_now());
                let entry = entry.clone();
                p.push(
                    "notify_history_changed",
                    json!([{"action": "finished", "job": entry}]),
                );
            }
            sent
        })
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the handshake callback's error type is tungstenite's, not ours"
)]
async fn accept(listener: TcpListener, printers: Arc<Vec<Mutex<Printer>>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // A start is two messages: without it the second waits for the delayed ACK of the
        // first (~40 ms), a delay of the fake's, not printdesk's.
        let _ = stream.set_nodelay(true);
        let printers = printers.clone();
        tokio::spawn(async move {
            let mut index = None;
            let callback = |request: &Request, response: Response| {
                index = request
                    .uri()
                    .path()
                    .strip_prefix("/m")
                    .and_then(|rest| rest.strip_suffix("/websocket"))
                    .and_then(|n| n.parse::<usize>().ok());
                Ok(response)
            };
            let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
                return;
            };
            if let Some(i) = index.filter(|&i| i < printers.len()) {
                serve(socket, &printers[i]).await;
            }
        });
    }
}

async fn serve(
    socket: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    printer: &Mutex<Printer>,
) {
    let lock = || printer.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    lock().socket = Some(tx.clone());
    // Moonraker's pushes start a random part of a second in, as real printers are not in step.
    let phase = Duration::from_millis(fastrand::u64(0..1000));
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + phase, Duration::from_secs(1));
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(text) = out else { break };
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            _ = ticks.tick() => {
                let p = lock();
                p.push("notify_proc_stat_update",
                       json!([{"moonraker_stats": {"time": unix_now(), "cpu_usage": 1.5,
                                                    "memory": 40000, "mem_units": "kB"},
                               "cpu_temp": 45.0, "websocket_connections": 1}]));
                if p.state == "printing" {
                    let status = p.status();
                    p.push("notify_status_update", json!([status, unix_now()]));
                }
            }
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                let Ok(request) = serde_json::from_str::<Value>(&text) else { continue };
                let id = request.get("id").cloned().unwrap_or(Value::Null);
                let result = {
                    let p = lock();
                    match request.get("method").and_then(Value::as_str).unwrap_or_default() {
                        "server.connection.identify" => Some(json!({"connection_id": 1})),
                        "server.info" => Some(json!({"klippy_connected": true,
                                                     "klippy_state": "ready",
                                                     "components": ["history"]})),
                        "printer.objects.subscribe" => Some(json!({"eventtime": unix_now(),
                                                                    "status": p.status()})),
                        "server.history.list" => {
                            let jobs: Vec<Value> = p.history.iter().rev().take(50).cloned().collect();
                            Some(json!({"count": jobs.len(), "jobs": jobs}))
                        }
                        _ => None,
                    }
                };
                let answer = match result {
                    Some(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
                    None => json!({"jsonrpc": "2.0", "id": id,
                                   "error": {"code": -32601, "message": "Method not found"}}),
                };
                let _ = tx.send(answer.to_string());
            }
        }
    }
    lock().socket = None;
}
