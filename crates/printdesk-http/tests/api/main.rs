//! Black-box tests of the HTTP API: a real server on a loopback port, a real HTTP client.

#[macro_use]
mod helpers;

mod auth;
mod bad_input;
mod bodies;
mod concurrency;
mod cors;
mod customers;
mod docs;
mod edges;
mod jobs_bulk;
mod jobs_create;
mod jobs_edit;
mod jobs_export;
#[macro_use]
mod jobs_filters;
mod exports;
mod jobs_history;
mod jobs_list;
mod jobs_print_times;
mod jobs_read_delete;
mod jobs_status;
mod printers;
mod printers_test;
mod reports;
mod routes;
mod users;
