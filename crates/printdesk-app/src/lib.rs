//! # printdesk-app
//!
//! The composition root: the one place where printdesk is put together. [`Application::build`]
//! opens the store, wires the domain's services to it and to the event hub, starts the
//! adapters that run beside the server (the event-log tailer; later the printer monitor), and
//! builds the HTTP server with every route and middleware: the API, the WebSocket endpoint,
//! the operations and documentation routes, the page. The `printdesk` binary turns its flags
//! into a [`Config`] and calls it; so does every black-box test and benchmark, on port 0, so
//! what they test is what the binary serves.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = printdesk_app::bind("127.0.0.1:0".parse()?)?;
//! let app = printdesk_app::Application::build(
//!     printdesk_app::Config::embedded("sqlite://printdesk.db"),
//!     listener,
//! )
//! .await?;
//! println!("serving on http://{}", app.address());
//! let handle = app.handle();
//! tokio::spawn(app.run_until_stopped());
//! // … requests …
//! handle.stop(true).await;
//! # Ok(())
//! # }
//! ```

mod background;
mod http;
mod printer_changes;
mod probe;
mod signals;

use std::{fmt, io, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use actix_web::dev::{Server, ServerHandle};
use printdesk_domain::{
    Clock, ConnectionTests, EventPublisher, JobRepository, JobService, PrinterRepository,
    PrinterService, SystemClock,
};
use printdesk_http::{ApiState, Ops, Security};
use printdesk_secrets::KeyFileSealer;
use printdesk_store_diesel::{Store, StoreInitError};
use printdesk_ws::{EventHub, HubConfig, PrinterBoard};
use tokio::{sync::Notify, task::JoinHandle};

use crate::{background::BackgroundAdapters, printer_changes::NotifyingPrinters, probe::Probe};

pub use http::openapi;

/// Makes the job repository the domain's services use from the store: the one seam for tests
/// that need a repository that fails on purpose (see [`Config::wrap_job_repository`]).
pub type JobRepositoryLayer = Box<dyn FnOnce(Arc<Store>) -> Arc<dyn JobRepository> + Send>;

/// What the application is built from.
pub struct Config {
    /// `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    pub database_url: String,
    /// API tokens and CORS origins (the default: neither).
    pub security: Security,
    /// HTTP worker threads (`None`: one per CPU core).
    pub workers: Option<usize>,
    /// The event hub's settings (queues, heartbeat, slow-client limits).
    pub hub: HubConfig,
    /// Wake the hub on the store's PostgreSQL notifications (other instances' commits). Off,
    /// the hub learns of other instances' events by polling only.
    pub event_notifications: bool,
    /// Stop on SIGINT and SIGTERM (and close every WebSocket then). Off for a server inside
    /// another program, which stops it through [`AppHandle::stop`].
    pub os_signals: bool,
    /// How long in-flight requests get to finish after a graceful stop.
    pub shutdown_timeout: Duration,
    /// Where the key that seals printer connection secrets comes from.
    pub secret_key: SecretKey,
    /// Follow the monitored printers (connect to them and record their prints). Off in
    /// [`Config::embedded`]: tests create printers with made-up LAN addresses, and only the
    /// tests that watch a (simulated) printer on loopback turn it on.
    pub monitor_printers: bool,
    /// The test seam: when set, the job services use the repository this makes from the store
    /// instead of the store itself (to inject failures). The hub and the operations probe
    /// still read the store. `None` in production.
    pub wrap_job_repository: Option<JobRepositoryLayer>,
}

impl Config {
    /// As the binary serves: OS signals handled, 30 s for in-flight requests after SIGTERM,
    /// one worker per core, open (no tokens, no CORS).
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            security: Security::default(),
            workers: None,
            hub: HubConfig::default(),
            event_notifications: true,
            os_signals: true,
            shutdown_timeout: Duration::from_secs(30),
            secret_key: SecretKey::ForDatabase,
            monitor_printers: true,
            wrap_job_repository: None,
        }
    }

    /// For a server inside another program (tests, benchmarks): no signal handling (the host
    /// stops it), two workers, a 1 s shutdown timeout.
    /// The secret key lives beside a SQLite file as in production; on PostgreSQL it is a key
    /// of this process's own (nothing is written into the working directory).
    pub fn embedded(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        let secret_key = match printdesk_store_diesel::parse_url(&database_url) {
            Ok((printdesk_store_diesel::Backend::Sqlite, _)) => SecretKey::ForDatabase,
            _ => SecretKey::Ephemeral,
        };
        Self {
            workers: Some(2),
            secret_key,
            monitor_printers: false,
            os_signals: false,
            shutdown_timeout: Duration::from_secs(1),
            ..Self::new(database_url)
        }
    }

    /// Sets [`Config::wrap_job_repository`].
    pub fn wrap_job_repository(
        mut self,
        layer: impl FnOnce(Arc<Store>) -> Arc<dyn JobRepository> + Send + 'static,
    ) -> Self {
        self.wrap_job_repository = Some(Box::new(layer));
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("Config")
            .field("security", &self.security)
            .field("workers", &self.workers)
            .field("hub", &self.hub)
            .field("event_notifications", &self.event_notifications)
            .field("os_signals", &self.os_signals)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("secret_key", &self.secret_key)
            .field("monitor_printers", &self.monitor_printers)
            .field(
                "wrap_job_repository",
                &self.wrap_job_repository.as_ref().map(|_| "…"),
            )
            .finish_non_exhaustive()
    }
}

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The database is unreachable, or its schema cannot be migrated.
    #[error(transparent)]
    Store(#[from] StoreInitError),
    /// The hub could not read where the event log ends.
    #[error("cannot read the event log: {0}")]
    EventLog(printdesk_domain::StoreError),
    /// The key that seals printer connection secrets cannot be read or created.
    #[error("{0}")]
    SecretKey(String),
    /// The listener cannot be served on.
    #[error("cannot serve on {address}: {source}")]
    Listen {
        /// The listener's address, if it has one.
        address: String,
        /// What went wrong.
        source: io::Error,
    },
}

/// Where the key that seals printer connection secrets (access codes, API keys, passwords)
/// comes from. Instances sharing a database need the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretKey {
    /// This file (created with a fresh key, mode 0600, when missing).
    File(PathBuf),
    /// The default for the database: beside a SQLite file (`printdesk.db` → `printdesk.key`),
    /// `printdesk.key` in the working directory for PostgreSQL.
    ForDatabase,
    /// A random key for this process only: secrets stored under it cannot be read after a
    /// restart. For tests.
    Ephemeral,
}

impl SecretKey {
    /// The key file for a database at `database_url` (`None` for an ephemeral key).
    pub fn path(&self, database_url: &str) -> Option<PathBuf> {
        match self {
            Self::File(path) => Some(path.clone()),
            Self::ForDatabase => {
                let sqlite_file = match printdesk_store_diesel::parse_url(database_url) {
                    Ok((printdesk_store_diesel::Backend::Sqlite, path)) => {
                        Some(PathBuf::from(path))
                    }
                    _ => None,
                };
                Some(printdesk_secrets::default_key_path(sqlite_file.as_deref()))
            }
            Self::Ephemeral => None,
        }
    }

    fn sealer(&self, database_url: &str) -> Result<KeyFileSealer, BuildError> {
        let Some(path) = self.path(database_url) else {
            let mut key = [0; 32];
            getrandom::fill(&mut key).map_err(|e| BuildError::SecretKey(e.to_string()))?;
            return Ok(KeyFileSealer::from_key(key));
        };
        let (sealer, created) = KeyFileSealer::open_or_create(&path)
            .map_err(|e| BuildError::SecretKey(e.to_string()))?;
        if created {
            tracing::info!(
                path = %path.display(),
                "created the key that seals printer connection secrets; keep it with the database's backups"
            );
        }
        Ok(sealer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_lives_beside_the_sqlite_file_or_where_it_is_named() {
        let path = |key: SecretKey, url: &str| key.path(url);
        assert_eq!(
            path(
                SecretKey::ForDatabase,
                "sqlite:///var/lib/printdesk/farm.db"
            ),
            Some(PathBuf::from("/var/lib/printdesk/farm.key"))
        );
        assert_eq!(
            path(SecretKey::ForDatabase, "sqlite://printdesk.db"),
            Some(PathBuf::from("printdesk.key"))
        );
        assert_eq!(
            path(SecretKey::ForDatabase, "postgres://printdesk@db/printdesk"),
            Some(PathBuf::from("printdesk.key"))
        );
        assert_eq!(
            path(
                SecretKey::File("/etc/printdesk/key".into()),
                "sqlite://printdesk.db"
            ),
            Some(PathBuf::from("/etc/printdesk/key"))
        );
        assert_eq!(path(SecretKey::Ephemeral, "sqlite://printdesk.db"), None);
    }
}

/// A TCP listener on `address` with the socket options actix-web's own `bind` uses (address
/// reuse, a backlog of 1024). Port 0 picks a free port: [`Application::address`] tells which.
pub fn bind(address: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// What the parts of the application share: built once, cloned into every worker.
#[derive(Debug, Clone)]
struct Components {
    store: Store,
    services: ApiState,
    hub: EventHub,
    board: PrinterBoard,
    printer_changes: Arc<Notify>,
    clock: Arc<dyn Clock>,
    ops: Ops,
    security: Security,
}

/// The whole application, built and bound, not yet running: [`Application::run_until_stopped`]
/// runs it.
pub struct Application {
    address: SocketAddr,
    server: Server,
    handle: AppHandle,
    components: Components,
    background: BackgroundAdapters,
    signals: Option<JoinHandle<()>>,
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("address", &self.address)
            .field("components", &self.components)
            .field("background", &self.background)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Builds everything from `config` and binds the HTTP server to `listener` (see [`bind`]).
    /// Must be called inside a Tokio runtime (the background adapters start here).
    pub async fn build(
        mut config: Config,
        listener: std::net::TcpListener,
    ) -> Result<Self, BuildError> {
        let sealer = config.secret_key.sealer(&config.database_url)?;
        let store = Store::connect(&config.database_url).await?;
        // Live updates: the hub tails the event log, woken by this instance's commits and, on
        // PostgreSQL, by every other instance's NOTIFY.
        let hub = EventHub::new(Arc::new(store.clone()), config.hub.clone())
            .await
            .map_err(BuildError::EventLog)?;
        let jobs: Arc<dyn JobRepository> = match config.wrap_job_repository.take() {
            Some(layer) => layer(Arc::new(store.clone())),
            None => Arc::new(store.clone()),
        };
        let publisher: Arc<dyn EventPublisher> = Arc::new(hub.clone());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // Printers changed through this instance's API reach the printer board and the
        // monitor at once; other instances' changes at their next look.
        let printer_changes = Arc::new(Notify::new());
        let printers: Arc<dyn PrinterRepository> = Arc::new(NotifyingPrinters {
            inner: Arc::new(store.clone()),
            changed: printer_changes.clone(),
        });
        let printer_service =
            PrinterService::new(printers, publisher.clone(), clock.clone(), Arc::new(sealer));
        // "Test connection" runs the monitor's connectors once, monitor on or off.
        let connection_tests = ConnectionTests::new(
            printer_service.clone(),
            Arc::new(printdesk_monitor::ConnectorProbe::default()),
        );
        let services = ApiState::new(
            JobService::new(jobs, Arc::new(store.clone()), publisher, clock.clone()),
            printer_service,
            connection_tests,
        );
        // Printers' live status and changes for WebSocket clients, on every instance.
        let board = PrinterBoard::new(
            Arc::new(store.clone()),
            clock.clone(),
            Duration::from_secs(1),
        );
        // /healthz, /readyz, /metrics: one set of counters for every worker.
        let ops = Ops::new(Arc::new(Probe::new(store.clone(), hub.clone())));
        let components = Components {
            store,
            services,
            hub,
            board,
            printer_changes,
            clock,
            ops,
            security: config.security.clone(),
        };

        let address = listener.local_addr().map_err(|source| BuildError::Listen {
            address: "the listener".into(),
            source,
        })?;
        let server =
            http::server(&components, &config, listener).map_err(|source| BuildError::Listen {
                address: address.to_string(),
                source,
            })?;
        let handle = AppHandle {
            server: server.handle(),
            hub: components.hub.clone(),
        };
        let background = background::start_background_adapters(&components, &config);
        let signals = config
            .os_signals
            .then(|| tokio::spawn(signals::close_sockets_on_stop(components.hub.clone())));
        Ok(Self {
            address,
            server,
            handle,
            components,
            background,
            signals,
        })
    }

    /// Where the server listens (with the port the system chose for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Stops the application from elsewhere (a test, a benchmark).
    pub fn handle(&self) -> AppHandle {
        self.handle.clone()
    }

    /// The store the application runs on.
    pub fn store(&self) -> &Store {
        &self.components.store
    }

    /// The domain's services, as the HTTP handlers call them: for seeding data without HTTP
    /// round trips.
    pub fn services(&self) -> &ApiState {
        &self.components.services
    }

    /// The event hub behind the WebSocket endpoint.
    pub fn hub(&self) -> &EventHub {
        &self.components.hub
    }

    /// Serves until the server stops (a signal, when [`Config::os_signals`] is on, or
    /// [`AppHandle::stop`]), then stops the background adapters.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let served = self.server.await;
        if let Some(signals) = self.signals {
            signals.abort();
        }
        self.background.stop().await;
        served
    }
}

/// Stops a running [`Application`].
#[derive(Debug, Clone)]
pub struct AppHandle {
    server: ServerHandle,
    hub: EventHub,
}

impl AppHandle {
    /// Closes every WebSocket (clients are told to reconnect with `since`), then stops the
    /// server: `graceful` lets in-flight requests finish within the shutdown timeout.
    pub async fn stop(&self, graceful: bool) {
        self.hub.shut_down();
        self.server.stop(graceful).await;
    }
}
