//! # printdesk-store-diesel
//!
//! The persistence adapter: implements printdesk's [`JobRepository`](printdesk_domain::JobRepository),
//! [`EventLog`](printdesk_domain::EventLog) and
//! [`PrinterRepository`](printdesk_domain::PrinterRepository) ports with Diesel, on SQLite
//! (the embedded default) or PostgreSQL, through one code path ([`AnyConnection`]).
//!
//! - The modules follow the concerns: `job_queries` (reads), `job_repository` (the job
//!   writes), `event_log` (appending and reading events), `stored_event` (the store's own
//!   format for event snapshots), `constraint` (named constraint violations as domain errors),
//!   `printers`, `access_store` (users, sessions, API tokens, failed sign-ins).
//! - Migrations for both backends are embedded and run by [`Store::connect`].
//! - Every write is one transaction that stores the change and its event together (on SQLite,
//!   concurrent writes share one commit, each in a savepoint of its own).
//! - Blocking Diesel calls run on tokio's blocking pool, never on the async threads.
//! - On PostgreSQL every appended event is announced with `NOTIFY printdesk_events` on commit;
//!   [`Store::event_notifications`] listens, so that several instances wake each other.

mod access_store;
mod cached_update;
mod connection;
mod constraint;
mod db_time;
mod derived_columns;
mod diagnose;
mod event_log;
mod group_commit;
mod import;
mod job_customers;
mod job_queries;
mod job_repository;
mod job_summary;
mod listen;
mod migrations;
mod monitor_store;
mod printers;
mod raw_sql;
mod rows;
mod schema;
mod search_index;
mod store;
mod stored_event;
pub mod test_support;
mod wal_checkpoint;

pub use connection::AnyConnection;
pub use import::import;
pub use listen::{EVENTS_CHANNEL, LISTENER_APPLICATION_NAME};
pub use store::{Backend, Store, StoreInitError, StoreOptions, parse_url};
