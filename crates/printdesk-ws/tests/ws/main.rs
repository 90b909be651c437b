//! Black-box tests of the live updates: real servers on loopback ports over real SQLite and
//! PostgreSQL databases, real HTTP edits, real WebSocket clients.

#[macro_use]
mod helpers;

mod access;
mod instances;
mod protocol;
mod resume;
mod slow;
mod subprotocol;
