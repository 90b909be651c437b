//! Settings, from flags or `PRINTDESK_*` environment variables (flags win); and the commands.
//!
//! `printdesk [FLAGS]` serves, as does `printdesk serve [FLAGS]`; `printdesk token create NAME`
//! makes an API token for the tokens file; `printdesk user create NAME --role ROLE` a user.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum, builder::BoolishValueParser};

/// The tokens file used when none is named, if it exists (in the working directory).
pub const DEFAULT_TOKENS_FILE: &str = "printdesk.tokens";

/// printdesk: print-job records for 3D-printer farms.
#[derive(Debug, Clone, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without one, serve.
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: Config,
}

impl Cli {
    /// The command given, or `serve` with the top-level flags.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the API and the page (the default).
    Serve(Config),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
}

/// `printdesk user …`
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create a user in the database. The password is asked for (twice, not shown) at a
    /// terminal, or read from the first line of stdin otherwise (for scripts:
    /// `printf '%s\n' "$PASSWORD" | printdesk user create anna --role admin`).
    Create {
        /// The username: 1-64 letters, digits, '.', '_', '-' or '@' (kept in lower case).
        name: String,

        /// What the user may do: viewer (reads), operator (also creates, edits, moves and
        /// deletes jobs) or admin (also manages printers, users and tokens).
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,

        /// The name the history shows (default: the username).
        #[arg(long)]
        display_name: Option<String>,

        /// The database, as for serving.
        #[arg(
            long,
            env = "PRINTDESK_DATABASE_URL",
            default_value = "sqlite://printdesk.db"
        )]
        database_url: String,

        #[command(flatten)]
        argon2: Argon2Args,
    },
}

/// Argon2id's cost for new password hashes (stored hashes keep their own).
#[derive(Debug, Clone, Copy, Args)]
pub struct Argon2Args {
    /// Argon2id memory per password hash, in KiB.
    #[arg(long, env = "PRINTDESK_ARGON2_MEMORY_KIB", default_value_t = 19456)]
    pub argon2_memory_kib: u32,

    /// Argon2id passes over the memory.
    #[arg(long, env = "PRINTDESK_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// Argon2id lanes.
    #[arg(long, env = "PRINTDESK_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,
}

/// `printdesk token …`
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create a token: print it once on stdout, and append its name and SHA-256 hash (never the
    /// token) to the tokens file. Restart the server to use it.
    Create {
        /// The token's name, recorded as the actor of every change made with it: 1-64 letters,
        /// digits, '.', '_', '-' or '@' (e.g. front-desk, home-assistant).
        name: String,

        /// The tokens file to append to (created with mode 0600 if missing).
        #[arg(long, env = "PRINTDESK_TOKENS_FILE", default_value = DEFAULT_TOKENS_FILE)]
        tokens_file: PathBuf,
    },
}

/// How to serve.
#[derive(Debug, Clone, Args)]
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

    /// API tokens file: one NAME:SHA256 line per token (`printdesk token create` writes it).
    /// Default: printdesk.tokens in the working directory, if it exists.
    #[arg(long, env = "PRINTDESK_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,

    /// More API tokens, comma-separated NAME:SHA256 entries (added to the file's).
    #[arg(long, env = "PRINTDESK_API_TOKENS", hide_env_values = true)]
    pub api_tokens: Option<String>,

    /// Serve on a non-loopback address without an admin user or an API token: anyone who can
    /// reach the server can change every job.
    #[arg(long, env = "PRINTDESK_INSECURE_NO_AUTH", value_parser = BoolishValueParser::new())]
    pub insecure_no_auth: bool,

    /// printdesk is behind a reverse proxy (e.g. TLS termination) that sets X-Forwarded-For,
    /// X-Forwarded-Proto and X-Forwarded-Host: trust them for the client's address (sign-in
    /// slow-down, first-run set-up from loopback), HTTPS (the session cookie becomes Secure)
    /// and the host (the cross-site check). Never without such a proxy in front.
    #[arg(long, env = "PRINTDESK_TRUST_PROXY", value_parser = BoolishValueParser::new())]
    pub trust_proxy: bool,

    #[command(flatten)]
    pub argon2: Argon2Args,

    /// Origins allowed to call the API from a browser (CORS), comma-separated, e.g.
    /// https://ha.local:8123 (default: none, CORS closed).
    #[arg(long, env = "PRINTDESK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// The key that seals printer connection secrets (created, mode 0600, if missing).
    /// Default: beside the SQLite file (printdesk.db -> printdesk.key), or printdesk.key in
    /// the working directory for PostgreSQL; instances sharing a database need the same key.
    #[arg(long, env = "PRINTDESK_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Seconds a request's body may take to arrive, counted from the request's arrival; a body
    /// still incomplete then is answered 408 and its connection closed.
    #[arg(
        long,
        env = "PRINTDESK_BODY_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub body_timeout: u64,

    /// Most connections served at once, shared by the workers (default: from the open-file
    /// limit, which is raised to the hard limit at start, keeping an eighth, at least 256,
    /// for the database, the log and the printers).
    #[arg(long, env = "PRINTDESK_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,

    /// Follow the printers that have a connection and monitoring on, and record their prints
    /// (`--monitor false` serves the API and the page only, e.g. for a second instance that
    /// should not connect to printers).
    #[arg(
        long,
        env = "PRINTDESK_MONITOR",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_parser = BoolishValueParser::new()
    )]
    pub monitor: bool,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}
