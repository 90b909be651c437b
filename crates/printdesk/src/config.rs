//! Settings, from flags or `PRINTDESK_*` environment variables (flags win).

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

/// printdesk: print-job records for 3D-printer farms.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Config {
    /// Database: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "PRINTDESK_DATABASE_URL",
        default_value = "sqlite://printdesk.db"
    )]
    pub database_url: String,

    /// Address and port to serve on.
    #[arg(long, env = "PRINTDESK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Log format.
    #[arg(long, env = "PRINTDESK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "PRINTDESK_WORKERS")]
    pub workers: Option<usize>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}
