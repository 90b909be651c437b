//! The real peers the connector suites run against, started by the tests themselves.

#![allow(dead_code)] // Each test file uses its own part.

pub mod moonraker;
pub mod probe;
pub mod prusalink_fake;

pub use printdesk_monitor::simulator::broker::missing_peer;
