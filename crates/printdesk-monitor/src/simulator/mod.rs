//! A simulated Bambu Lab printer for tests and benchmarks: it publishes `push_status` reports
//! on `device/{serial}/report` of a real MQTT broker and answers `pushall` requests, as a
//! printer's own broker would. An X1 sends its full state every time, a P1 only what changed
//! (`shared/printer-protocols.md` §2.1).
//!
//! The broker stands in for the printer's: printdesk connects to it over TLS as `bblp`, the
//! simulator publishes over a plain listener. [`broker`] starts such a broker (Debian's
//! Mosquitto) with a test CA.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

pub mod broker;
pub mod octoprint;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

/// Which report style the printer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// The full `print` object in every report.
    X1,
    /// Only the changed keys (`"msg": 1`), and a full report only when asked.
    P1,
}

/// One simulated printer. Its publishing task stops when it is dropped.
#[derive(Debug)]
pub struct SimulatedBambu {
    serial: String,
    model: Model,
    client: AsyncClient,
    state: Arc<Mutex<Map<String, Value>>>,
    answer_pushall: Arc<Mutex<bool>>,
    pushall_requests: Arc<Mutex<u32>>,
    task: JoinHandle<()>,
}

impl Drop for SimulatedBambu {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimulatedBambu {
    /// Connects to the broker at `host:port` (plain MQTT, no credentials) as printer `serial`,
    /// idle.
    pub async fn connect(host: &str, port: u16, serial: &str, model: Model) -> Self {
        let mut options = MqttOptions::new(format!("sim-{serial}"), host, port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1024 * 1024, 1024 * 1024);
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let state = Arc::new(Mutex::new(idle_state()));
        let answer_pushall = Arc::new(Mutex::new(true));
        let pushall_requests = Arc::new(Mutex::new(0));
        let request_topic = format!("device/{serial}/request");
        client
            .subscribe(&request_topic, QoS::AtMostOnce)
            .await
            .expect("queue the subscription");
        let (connected_tx, connected_rx) = tokio::sync::oneshot::channel();
        let task = {
            let client = client.clone();
            let state = state.clone();
            let answer = answer_pushall.clone();
            let requests = pushall_requests.clone();
            let report_topic = format!("device/{serial}/report");
            let mut connected = Some(connected_tx);
            tokio::spawn(async move {
                loop {
                    match eventloop.poll().await {
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            if let Some(tx) = connected.take() {
                                let _ = tx.send(());
                            }
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) if p.topic == request_topic => {
                            let is_pushall = serde_json::from_slice::<Value>(&p.payload)
                                .ok()
                                .and_then(|v| v.pointer("/pushing/command").cloned())
                                == Some(json!("pushall"));
                            if !is_pushall {
                                continue;
                            }
                            *requests.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                            if !*answer.lock().unwrap_or_else(PoisonError::into_inner) {
                                continue;
                            }
                            let full =
                                full_report(&state.lock().unwrap_or_else(PoisonError::into_inner));
                            let _ = client
                                .publish(&report_topic, QoS::AtMostOnce, false, full)
                                .await;
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
            })
        };
        tokio::time::timeout(Duration::from_secs(10), connected_rx)
            .await
            .expect("the simulator reaches the broker within 10 s")
            .expect("the simulator's task runs");
        Self {
            serial: serial.to_owned(),
            model,
            client,
            state,
            answer_pushall,
            pushall_requests,
            task,
        }
    }

    /// The printer's serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Whether the printer answers `pushall` (some P1 firmware ignores it).
    pub fn set_answers_pushall(&self, answers: bool) {
        *self
            .answer_pushall
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = answers;
    }

    /// How many `pushall` requests the printer received.
    pub fn pushall_requests(&self) -> u32 {
        *self
            .pushall_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts printing `file` (`Benchy.gcode.3mf`) named `subtask_name`, as a LAN print
    /// (task ids `"0"`).
    pub async fn start_print(&self, file: &str, subtask_name: &str) {
        self.change(json!({
            "gcode_state": "RUNNING", "gcode_file": file, "subtask_name": subtask_name,
            "mc_percent": 0, "mc_remaining_time": 30, "print_error": 0,
            "subtask_id": "0", "task_id": "0", "gcode_start_time": "0",
            "layer_num": 0, "print_type": "local",
        }))
        .await;
    }

    /// Moves the print on.
    pub async fn progress(&self, percent: u8, remaining_minutes: u32) {
        self.change(json!({ "mc_percent": percent, "mc_remaining_time": remaining_minutes }))
            .await;
    }

    /// Pauses the print.
    pub async fn pause(&self) {
        self.change(json!({ "gcode_state": "PAUSE" })).await;
    }

    /// Resumes a paused print.
    pub async fn resume(&self) {
        self.change(json!({ "gcode_state": "RUNNING" })).await;
    }

    /// Finishes the print.
    pub async fn finish(&self) {
        self.change(json!({ "gcode_state": "FINISH", "mc_percent": 100, "mc_remaining_time": 0 }))
            .await;
    }

    /// Cancels the print (a person pressed stop).
    pub async fn cancel(&self) {
        self.change(json!({ "gcode_state": "FAILED", "print_error": 50_348_044 }))
            .await;
    }

    /// Sends a report that changes only the bed temperature, as P1 printers do every second.
    pub async fn heartbeat(&self, bed_temper: f64) {
        self.change(json!({ "bed_temper": bed_temper })).await;
    }

    /// Changes the state and publishes the report the model would send.
    async fn change(&self, changes: Value) {
        let Value::Object(changes) = changes else {
            unreachable!("changes are written as JSON objects")
        };
        let payload = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            for (k, v) in &changes {
                state.insert(k.clone(), v.clone());
            }
            match self.model {
                Model::X1 => full_report(&state),
                Model::P1 => {
                    let mut delta = changes;
                    delta.insert("command".into(), json!("push_status"));
                    delta.insert("msg".into(), json!(1));
                    json!({ "print": delta }).to_string()
                }
            }
        };
        self.client
            .publish(
                format!("device/{}/report", self.serial),
                QoS::AtMostOnce,
                false,
                payload,
            )
            .await
            .expect("queue the report");
    }
}

fn idle_state() -> Map<String, Value> {
    let Value::Object(state) = json!({
        "gcode_state": "IDLE", "gcode_file": "", "subtask_name": "", "mc_percent": 0,
        "mc_remaining_time": 0, "gcode_start_time": "0", "print_error": 0,
        "task_id": "0", "subtask_id": "0", "project_id": "0", "print_type": "idle",
        "layer_num": 0, "total_layer_num": 0, "nozzle_temper": 25.0, "bed_temper": 25.0,
    }) else {
        unreachable!("written as a JSON object")
    };
    state
}

fn full_report(state: &Map<String, Value>) -> String {
    let mut print = state.clone();
    print.insert("command".into(), json!("push_status"));
    print.insert("msg".into(), json!(0));
    json!({ "print": print }).to_string()
}
