//! The printdesk server binary: reads the configuration and hands it to the composition root
//! (`printdesk-app`), which builds and runs the whole application.

mod config;
mod limits;
mod log_writer;
mod security;
mod telemetry;

use std::{io::Write, process::ExitCode, time::Duration};

use clap::Parser;
use printdesk_app::Application;

use crate::{
    config::{Cli, Command, TokenCommand},
    log_writer::{LogWriter, say},
};

/// How long the log gets at exit to write what is queued (a sink that is stuck gets no more).
const LOG_FLUSH_AT_EXIT: Duration = Duration::from_secs(2);

#[actix_web::main]
async fn main() -> ExitCode {
    let config = match Cli::parse().into_command() {
        Command::Serve(config) => config,
        Command::Token(command) => return token_command(command),
    };
    let dropped = log_writer::dropped_counter();
    let log = match LogWriter::start(std::io::stderr(), dropped.clone()) {
        Ok(log) => log,
        Err(e) => {
            say(&format!("cannot start the log writer: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let code = serve(config, log.clone(), dropped).await;
    log.flush(LOG_FLUSH_AT_EXIT);
    code
}

async fn serve(
    config: config::Config,
    log: LogWriter,
    dropped: prometheus::IntCounter,
) -> ExitCode {
    let transport_errors = telemetry::transport_error_counter();
    // Tokens and CORS origins first: a refusal is one line on stderr and exit code 2.
    let security = match security::settings(&config) {
        Ok(settings) => {
            telemetry::init(config.log_format, log, transport_errors.clone());
            security::log(&config, &settings);
            settings.security
        }
        Err(refusal) => {
            say(&refusal.to_string());
            return ExitCode::from(2);
        }
    };
    let file_limit = match limits::raise_open_file_limit() {
        Ok(limit) => {
            if limit.now > limit.was {
                tracing::info!(
                    was = limit.was,
                    now = limit.now,
                    "raised the open-file limit (soft RLIMIT_NOFILE) to the hard limit"
                );
            } else {
                tracing::info!(limit = limit.now, "open-file limit (RLIMIT_NOFILE)");
            }
            Some(limit.now)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            None
        }
    };
    let max_connections = match (config.max_connections, file_limit) {
        (Some(n), limit) => {
            if limit.is_some_and(|limit| n >= limit) {
                tracing::warn!(
                    max_connections = n,
                    open_file_limit = limit,
                    "--max-connections is not below the open-file limit: with that many \
                     connections the server cannot open anything else, not even for a probe"
                );
            }
            Some(usize::try_from(n).unwrap_or(usize::MAX))
        }
        (None, Some(limit)) => Some(limits::connection_cap(limit)),
        (None, None) => None,
    };
    if let Some(n) = max_connections {
        tracing::info!(max_connections = n, "connections served at once, at most");
    }
    let listener = match printdesk_app::bind(config.bind) {
        Ok(listener) => listener,
        Err(e) => {
            let message = format!("cannot listen on {}: {e}", config.bind);
            tracing::error!("{message}");
            say(&message);
            return ExitCode::FAILURE;
        }
    };
    let app_config = printdesk_app::Config {
        security,
        workers: config.workers,
        monitor_printers: config.monitor,
        secret_key: config.secret_key_file.clone().map_or(
            printdesk_app::SecretKey::ForDatabase,
            printdesk_app::SecretKey::File,
        ),
        metrics: vec![Box::new(dropped), Box::new(transport_errors)],
        body_timeout: Duration::from_secs(config.body_timeout),
        max_connections,
        ..printdesk_app::Config::new(config.database_url.clone())
    };
    let app = match Application::build(app_config, listener).await {
        Ok(app) => app,
        Err(e) => {
            let database_url = telemetry::redact_password(&config.database_url);
            tracing::error!(%database_url, "{e}");
            say(&e.to_string());
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(bind = %app.address(), backend = ?app.store().backend(), "printdesk is serving");
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("printdesk stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `printdesk token …`: prints a new token once on stdout, a hint on stderr.
fn token_command(command: TokenCommand) -> ExitCode {
    match command {
        TokenCommand::Create { name, tokens_file } => {
            let env_list = std::env::var("PRINTDESK_API_TOKENS").ok();
            match security::create_token(&name, &tokens_file, env_list.as_deref()) {
                Ok(token) => {
                    if let Err(e) = writeln!(std::io::stdout(), "{token}") {
                        say(&format!(
                            "token '{name}' was added to {} but could not be printed ({e}): \
                             delete its line and create it again",
                            tokens_file.display()
                        ));
                        return ExitCode::FAILURE;
                    }
                    say(&format!(
                        "token '{name}' added to {} (only its SHA-256 hash); it is not shown \
                         again. Restart printdesk to use it.",
                        tokens_file.display()
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    say(&e.to_string());
                    ExitCode::FAILURE
                }
            }
        }
    }
}
