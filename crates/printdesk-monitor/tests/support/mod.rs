//! The real peers the connector suites run against, started by the tests themselves.

#![allow(dead_code)] // Each test file uses its own part.

pub mod moonraker;
pub mod mosquitto;
pub mod octoprint;
pub mod prusalink_fake;

/// Whether a peer that is not installed fails the suite (CI sets `PRINTDESK_REQUIRE_PEERS=1`)
/// or skips it with a message (a newcomer's `cargo test` without Mosquitto or OctoPrint).
pub fn missing_peer<T>(what: &str) -> Option<T> {
    if std::env::var_os("PRINTDESK_REQUIRE_PEERS").is_some() {
        panic!("{what} is required (PRINTDESK_REQUIRE_PEERS is set) but not installed");
    }
    eprintln!("SKIPPED: {what} is not installed (`just test-printers` installs it)");
    None
}
