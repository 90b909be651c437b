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
    config::{Cli, Command, TokenCommand, UserCommand},
    log_writer::{LogWriter, say},
};

/// How long the log gets at exit to write what is queued (a sink that is stuck gets no more).
const LOG_FLUSH_AT_EXIT: Duration = Duration::from_secs(2);

#[actix_web::main]
async fn main() -> ExitCode {
    let config = match Cli::parse().into_command() {
        Command::Serve(config) => config,
        Command::Token(command) => return token_command(command),
        Command::User(command) => return user_command(command).await,
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
    // Tokens, CORS origins, an admin for a network address first: a refusal is one line on
    // stderr and exit code 2.
    let argon2 = match security::argon2_params(&config.argon2) {
        Ok(params) => params,
        Err(refusal) => {
            say(&refusal.to_string());
            return ExitCode::from(2);
        }
    };
    let access = printdesk_app::AccessSettings {
        argon2,
        ..printdesk_app::AccessSettings::default()
    };
    let settings = match security::settings(&config) {
        Ok(settings) => settings,
        Err(refusal) => {
            say(&refusal.to_string());
            return ExitCode::from(2);
        }
    };
    if settings.needs_admin
        && let Err(refusal) = security::require_admin(&config, access).await
    {
        say(&refusal.to_string());
        return ExitCode::from(2);
    }
    telemetry::init(config.log_format, log, transport_errors.clone());
    security::log(&config, &settings);
    let security = settings.security;
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
        access,
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

/// `printdesk user …`: the password from a prompt (a terminal) or stdin's first line.
async fn user_command(command: UserCommand) -> ExitCode {
    let UserCommand::Create {
        name,
        role,
        display_name,
        database_url,
        argon2,
    } = command;
    let argon2 = match security::argon2_params(&argon2) {
        Ok(params) => params,
        Err(refusal) => {
            eprintln!("printdesk: {refusal}");
            return ExitCode::from(2);
        }
    };
    let password = match read_password(&name) {
        Ok(password) => password,
        Err(e) => {
            eprintln!("printdesk: {e}");
            return ExitCode::FAILURE;
        }
    };
    let draft = printdesk_domain::access::UserDraft {
        username: name,
        display_name,
        role: printdesk_domain::access::Role::parse(&role).unwrap_or_default(),
        password,
    };
    let access = printdesk_app::AccessSettings {
        argon2,
        ..printdesk_app::AccessSettings::default()
    };
    match security::create_user(&database_url, access, draft).await {
        Ok(user) => {
            eprintln!(
                "printdesk: user '{}' ({}, {}) created; they can sign in on the page now.",
                user.username, user.display_name, user.role
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("printdesk: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Asks twice at a terminal (not shown); otherwise reads the first line of stdin.
fn read_password(username: &str) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| format!("cannot read the password: {e}"))?;
        let again = rpassword::prompt_password("Again: ")
            .map_err(|e| format!("cannot read the password: {e}"))?;
        if first != again {
            return Err("the two passwords differ; nothing was created".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err("no password on stdin (give it on the first line)".into());
        }
        Ok(password)
    }
}
