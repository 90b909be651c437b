//! A simulated Bambu Lab printer to try printdesk's monitoring without a printer: starts a
//! Mosquitto (Debian's `mosquitto` package) with a TLS listener that plays the printer's
//! broker, prints the `curl` that adds the printer to a printdesk at
//! `http://127.0.0.1:8080`, waits 30 s idle (a print already underway when printdesk first
//! hears from a printer is not recorded: printdesk cannot tell when it started), and then
//! prints `Benchy.gcode.3mf` in a loop: two minutes of progress with a pause, a finish, a
//! minute idle, again. Stop it with Ctrl-C.
//!
//! ```sh
//! cargo run --release                                   # printdesk, in one terminal
//! cargo run -p printdesk-monitor --features simulator --example simulated_bambu
//! ```
//!
//! With `--control` (the browser tests use it) it runs no script: it prints one JSON line
//! (`{"host", "port", "serial", "access_code"}`) and then does what each line on its standard
//! input says, answering `ok` (or `error: …`) to each:
//!
//! ```text
//! start FILE NAME      a print of FILE named NAME starts
//! progress PERCENT MINUTES_LEFT
//! pause | resume | finish | cancel
//! ```
//!
//! It stops, and its Mosquitto with it, when its standard input closes.

use std::{io::BufRead, time::Duration};

use printdesk_monitor::simulator::{
    Model, SimulatedBambu,
    broker::{Broker, TestCa},
};

const SERIAL: &str = "01S00C000000001";
const ACCESS_CODE: &str = "12345678";

#[tokio::main]
async fn main() {
    let controlled = std::env::args().skip(1).any(|a| a == "--control");
    let ca = TestCa::new();
    let Some(broker) = Broker::start(&ca.server_certificate(SERIAL), ACCESS_CODE) else {
        eprintln!("install Mosquitto first (apt-get install mosquitto)");
        std::process::exit(1);
    };
    let printer = SimulatedBambu::connect("127.0.0.1", broker.plain_port, SERIAL, Model::P1).await;
    if controlled {
        println!(
            "{}",
            serde_json::json!({
                "host": "127.0.0.1", "port": broker.tls_port,
                "serial": SERIAL, "access_code": ACCESS_CODE,
            })
        );
        controlled_by_stdin(&printer).await;
        return;
    }
    println!(
        "A simulated Bambu Lab P1 is on 127.0.0.1:{port} (serial {SERIAL}, access code \
         {ACCESS_CODE}). Add it to printdesk:\n\n\
         curl -X POST http://127.0.0.1:8080/api/v1/printers -H 'Content-Type: application/json' \\\n  \
         -d '{{\"id\":\"sim-p1\",\"name\":\"Simulated P1\",\"printer_type\":\"bambu_lab\",\
         \"connection\":{{\"kind\":\"bambu_lab\",\"host\":\"127.0.0.1\",\"port\":{port},\
         \"serial\":\"{SERIAL}\",\"access_code\":\"{ACCESS_CODE}\"}}}}'\n\n\
         Then open http://127.0.0.1:8080: the first print starts in 30 s. Ctrl-C stops.",
        port = broker.tls_port
    );
    let script = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        loop {
            printer.start_print("Benchy.gcode.3mf", "Benchy").await;
            for percent in (0..=100u8).step_by(5) {
                if percent == 50 {
                    printer.pause().await;
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    printer.resume().await;
                }
                printer
                    .progress(percent, u32::from(100 - percent) * 2 / 10)
                    .await;
                tokio::time::sleep(Duration::from_secs(6)).await;
            }
            printer.finish().await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    };
    tokio::select! {
        () = script => {}
        _ = tokio::signal::ctrl_c() => println!("stopped"),
    }
}

/// Runs the commands read from standard input until it closes.
async fn controlled_by_stdin(printer: &SimulatedBambu) {
    let (lines, mut commands) = tokio::sync::mpsc::channel::<String>(16);
    // Standard input is read on a thread of its own: a blocking read must not hold a worker.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.blocking_send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = commands.recv().await {
        let words: Vec<&str> = line.split_whitespace().collect();
        let done = match words.as_slice() {
            ["start", file, name] => {
                printer.start_print(file, name).await;
                Ok(())
            }
            ["progress", percent, minutes] => match (percent.parse(), minutes.parse()) {
                (Ok(percent), Ok(minutes)) => {
                    printer.progress(percent, minutes).await;
                    Ok(())
                }
                _ => Err("progress takes a percentage and minutes left"),
            },
            ["pause"] => {
                printer.pause().await;
                Ok(())
            }
            ["resume"] => {
                printer.resume().await;
                Ok(())
            }
            ["finish"] => {
                printer.finish().await;
                Ok(())
            }
            ["cancel"] => {
                printer.cancel().await;
                Ok(())
            }
            _ => Err("unknown command"),
        };
        match done {
            Ok(()) => println!("ok"),
            Err(why) => println!("error: {why}"),
        }
    }
}
