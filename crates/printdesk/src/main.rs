//! The printdesk server binary: reads the configuration, opens the store, and serves the API
//! and the page. Everything else lives in the library crates.

mod config;
mod ops;
mod security;
mod telemetry;

use std::{process::ExitCode, sync::Arc};

use actix_web::{App, HttpServer, middleware::from_fn, web};
use clap::Parser;
use printdesk_domain::{EventPublisher, JobService, PrinterService, SystemClock};
use printdesk_http::ApiState;
use printdesk_store_diesel::Store;
use printdesk_ws::{EventHub, HubConfig};

use crate::config::{Cli, Command, TokenCommand};

#[actix_web::main]
async fn main() -> ExitCode {
    let config = match Cli::parse().into_command() {
        Command::Serve(config) => config,
        Command::Token(command) => return token_command(command),
    };
    // Tokens and CORS origins first: a refusal is one line on stderr and exit code 2.
    let security = match security::settings(&config) {
        Ok(settings) => {
            telemetry::init(config.log_format);
            security::log(&config, &settings);
            settings.security
        }
        Err(refusal) => {
            eprintln!("printdesk: {refusal}");
            return ExitCode::from(2);
        }
    };

    let store = match Store::connect(&config.database_url).await {
        Ok(store) => store,
        Err(e) => {
            let database_url = telemetry::redact_password(&config.database_url);
            tracing::error!(%database_url, "{e}");
            eprintln!("printdesk: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sealer = match printdesk_secrets::KeyFileSealer::open_or_create(&config.secret_key_path()) {
        Ok((sealer, created)) => {
            if created {
                tracing::info!(
                    path = %config.secret_key_path().display(),
                    "created the key that seals printer connection secrets; keep it with the database's backups"
                );
            }
            sealer
        }
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("printdesk: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Live updates: the hub tails the event log, woken by this instance's commits and, on
    // PostgreSQL, by every other instance's NOTIFY.
    let hub = match EventHub::new(Arc::new(store.clone()), HubConfig::default()).await {
        Ok(hub) => hub,
        Err(e) => {
            tracing::error!("cannot read the event log: {e}");
            eprintln!("printdesk: cannot read the event log: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _tailer = hub.spawn_tailer(store.event_notifications());
    tokio::spawn(close_sockets_on_stop(hub.clone()));
    // /healthz, /readyz, /metrics: one set of counters for every worker.
    let ops = printdesk_http::Ops::new(Arc::new(ops::Probe::new(store.clone(), hub.clone())));
    let publisher: Arc<dyn EventPublisher> = Arc::new(hub.clone());
    let clock = Arc::new(SystemClock);
    let state = ApiState::new(
        JobService::new(
            Arc::new(store.clone()),
            Arc::new(store.clone()),
            publisher.clone(),
            clock.clone(),
        ),
        PrinterService::new(Arc::new(store.clone()), publisher, clock, Arc::new(sealer)),
    );

    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(security.authenticator.clone()))
            // Before the API's `/api/v1` scope, which would answer 404 for it.
            .service(printdesk_ws::service(hub.clone()))
            .service(printdesk_http::api_scope())
            // Before the page's catch-all route.
            .configure(printdesk_http::ops_routes(ops.clone()))
            // /api/openapi.json and Swagger UI at /api/docs/ (public: outside /api/v1).
            .configure(printdesk_http::docs_routes)
            .configure(printdesk_frontend::configure)
            .default_service(web::to(printdesk_http::not_found))
            // Tokens on /api/v1 (the WebSocket too), inside CORS: a preflight needs none.
            .wrap(from_fn(printdesk_http::authenticate))
            .wrap(printdesk_http::cors(&security.cors_origins))
            .wrap(printdesk_http::problem_errors())
            .wrap(printdesk_http::security_headers())
            .wrap(from_fn(printdesk_http::trace_requests))
            // Outermost: counts every response, whichever middleware made it.
            .wrap(from_fn(printdesk_http::record_metrics))
    })
    // In-flight requests get this long to finish after SIGTERM (actix stops at once on
    // Ctrl-C and SIGQUIT).
    .shutdown_timeout(30);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = match server.bind(config.bind) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("printdesk: cannot listen on {}: {e}", config.bind);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(bind = %config.bind, backend = ?store.backend(), "printdesk is serving");
    match server.run().await {
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
                    println!("{token}");
                    eprintln!(
                        "printdesk: token '{name}' added to {} (only its SHA-256 hash); it is \
                         not shown again. Restart printdesk to use it.",
                        tokens_file.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("printdesk: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Actix stops on SIGINT or SIGTERM but lets open connections finish, and a WebSocket never
/// does: on the same signals, tell every client to reconnect (elsewhere, or in a moment) so
/// the shutdown takes a second instead of the whole shutdown timeout.
async fn close_sockets_on_stop(hub: EventHub) {
    let terminate = async {
        #[cfg(unix)]
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    hub.shut_down();
}
