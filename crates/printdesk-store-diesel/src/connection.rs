//! One connection type for both backends, and the per-connection SQLite settings.

use diesel::{
    connection::SimpleConnection,
    pg::PgConnection,
    r2d2::{CustomizeConnection, Error as PoolError},
    sqlite::SqliteConnection,
};

/// A connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// The embedded default.
    Sqlite(SqliteConnection),
    /// For more than one machine.
    Postgres(PgConnection),
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "AnyConnection::Sqlite",
            Self::Postgres(_) => "AnyConnection::Postgres",
        })
    }
}

/// Initialises the bundled OpenSSL that libpq uses for TLS, before libpq does. Must run
/// before any PostgreSQL connection is made. libpq's own initialisation registers OpenSSL's
/// `atexit` clean-up, which frees OpenSSL's global state while other threads (a pool's
/// connections, the `LISTEN` thread) may still be in a TLS call: the process then dies of
/// SIGSEGV after `main` returns, and a clean shutdown ends with a crash. `openssl_sys::init`
/// initialises without that handler; whichever initialisation comes first decides.
pub(crate) fn init_tls() {
    openssl_sys::init();
}

/// Runs `$body` with `$conn` (an `&mut AnyConnection`) bound to the backend's own connection
/// type. The body is written once and compiled for each backend. Worth it for the hot
/// statements: through `AnyConnection` every execution first renders the statement's SQL text
/// even when it is prepared already (measured: 8% of a single-job GET); on the concrete
/// connection Diesel finds a prepared statement by the query's type.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::connection::AnyConnection::Sqlite($c) => $body,
            $crate::connection::AnyConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Applies printdesk's per-connection settings to every new pooled connection: SQLite's
/// pragmas (all but `journal_mode` are per connection), PostgreSQL's lock timeout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlitePragmas;

/// WAL lets readers run beside the writer; `synchronous=NORMAL` in WAL mode keeps every
/// commit across a process crash (only an OS crash or power loss can drop the newest ones);
/// the busy timeout makes a second process wait for the write lock instead of failing.
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
    PRAGMA busy_timeout = 5000;
    PRAGMA foreign_keys = ON;
    PRAGMA synchronous = NORMAL;";

/// How long a PostgreSQL statement waits for a lock before it fails (and its transaction is
/// retried, then answered 503): a lock held by a stuck session elsewhere must not hold the
/// pool's connections, and the requests on them, indefinitely.
pub(crate) const POSTGRES_SESSION: &str = "SET lock_timeout = '1s'";

diesel::define_sql_function! {
    /// Unicode lower-casing on SQLite, whose own `lower()` folds ASCII only: the domain's
    /// `customer_key`, so that the `customer` filter agrees with PostgreSQL's `lower()` and
    /// the in-memory store. Registered on every pooled connection.
    fn unicode_lower(
        x: diesel::sql_types::Nullable<diesel::sql_types::Text>,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

impl CustomizeConnection<AnyConnection, PoolError> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), PoolError> {
        match conn {
            AnyConnection::Sqlite(conn) => {
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(PoolError::QueryError)?;
                unicode_lower_utils::register_impl(conn, |text: Option<String>| {
                    text.map(|text| printdesk_domain::customer_key(&text))
                })
                .map_err(PoolError::QueryError)
            }
            AnyConnection::Postgres(conn) => conn
                .batch_execute(POSTGRES_SESSION)
                .map_err(PoolError::QueryError),
        }
    }
}
