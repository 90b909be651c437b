//! The store: a connection pool for either backend, with the blocking Diesel work moved off
//! the async threads.

use std::{sync::Arc, time::Duration};

use diesel::{
    connection::Connection,
    r2d2::{ConnectionManager, Pool, PooledConnection},
    result::{DatabaseErrorKind, Error as DieselError},
};
use printdesk_domain::{StorageFault, StoreError};

use crate::{
    connection::{AnyConnection, SqlitePragmas},
    diagnose,
    group_commit::GroupCommit,
    migrations,
    search_index::SearchProjection,
};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum StoreInitError {
    /// The URL names no supported database.
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
}

/// Settings for [`Store::connect_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections in the pool.
    pub max_connections: u32,
    /// How long a request waits for a connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
    /// Whether text searches are answered from an index in memory (built in the background
    /// at the first search, about 40 MB for 100,000 jobs) rather than by checking every job's
    /// stored document (the same answers; tens of milliseconds for 100,000 jobs).
    pub search_index: bool,
}

impl StoreOptions {
    /// Defaults for a backend: SQLite has one writer anyway, so a small pool of readers;
    /// PostgreSQL gets more.
    ///
    /// The acquire timeout is what turns a PostgreSQL outage into a quick 503, so it is short
    /// there. An SQLite file does not go away: waiting for a connection only means that other
    /// requests hold them all (16 concurrent text searches of 100,000 jobs queue for up to
    /// 3 s on one core), and then a slower answer is better than an error.
    pub fn for_backend(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self {
                max_connections: 8,
                acquire_timeout: Duration::from_secs(10),
                search_index: true,
            },
            Backend::Postgres => Self {
                max_connections: 16,
                acquire_timeout: Duration::from_secs(1),
                search_index: true,
            },
        }
    }
}

/// printdesk's persistence: jobs, printers and the event log in SQLite or PostgreSQL.
///
/// Implements [`printdesk_domain::JobRepository`] and [`printdesk_domain::PrinterRepository`].
/// Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<AnyConnection>>,
    backend: Backend,
    /// What the pool connects to, for connections outside the pool (the event listener).
    /// Not in `Debug`: it may hold a password.
    target: Arc<str>,
    /// SQLite allows one writer at a time: all writes go to one thread, which commits
    /// the writes that queued up together (far cheaper than connections taking turns, or
    /// sleeping in SQLite's busy handler). Other processes still wait via busy_timeout.
    group_commit: Option<Arc<GroupCommit>>,
    /// Whether the last write could not be stored for want of storage.
    storage: Arc<StorageHealth>,
    /// The text search's index, in memory (`search_index`).
    pub(crate) search: Arc<SearchProjection>,
}

/// Whether the database can store anything: set by a write that failed for want of storage
/// (a full disk, a read-only file), cleared by the next write that commits. Reads cannot
/// tell: a full disk still answers `SELECT 1`.
#[derive(Debug, Default)]
pub(crate) struct StorageHealth {
    fault: std::sync::Mutex<Option<StorageFault>>,
}

impl StorageHealth {
    /// Takes note of a write's outcome; logs when storage fails and when it works again.
    pub(crate) fn observe(&self, outcome: Result<(), &StoreError>) {
        let mut fault = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Err(StoreError::Storage(now, detail)) => {
                if fault.is_none() {
                    tracing::error!(
                        fault = %now,
                        error = %detail,
                        "the database cannot store anything: writes are answered 503 and \
                         /readyz is 503 until a write succeeds again"
                    );
                }
                *fault = Some(*now);
            }
            Ok(()) => {
                if let Some(was) = fault.take() {
                    tracing::info!(was = %was, "the database stores writes again");
                }
            }
            Err(_) => {}
        }
    }

    fn fault(&self) -> Option<StorageFault> {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// The part of a URL Diesel's connection wants, and the backend it names.
pub fn parse_url(url: &str) -> Result<(Backend, String), StoreInitError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok((Backend::Sqlite, path.to_owned()))
    } else if let Some(path) = url.strip_prefix("sqlite:") {
        Ok((Backend::Sqlite, path.to_owned()))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_owned()))
    } else {
        Err(StoreInitError::UnsupportedUrl(url.to_owned()))
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://printdesk.db`, `postgres://user@host/db`),
    /// creating an SQLite file if it is missing, and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreInitError> {
        let (backend, _) = parse_url(url)?;
        Self::connect_with(url, StoreOptions::for_backend(backend)).await
    }

    /// [`Store::connect`] with explicit pool settings.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self, StoreInitError> {
        let (backend, target) = parse_url(url)?;
        tokio::task::spawn_blocking(move || Self::open(backend, target, options))
            .await
            .map_err(|e| StoreInitError::Connect(e.to_string()))?
    }

    fn open(
        backend: Backend,
        target: String,
        options: StoreOptions,
    ) -> Result<Self, StoreInitError> {
        // Migrate on a connection of its own first: the pool's connections then all see the
        // final schema, and SQLite's WAL mode is set before the pool opens the file.
        crate::connection::init_tls();
        // Each backend's own connection, not `AnyConnection::establish`: that one reports
        // every failure as "Invalid connection url for multiconnection".
        let mut conn = match backend {
            Backend::Sqlite => {
                diagnose::sqlite_path(&target).map_err(StoreInitError::Connect)?;
                let sqlite_error =
                    |e: &dyn std::fmt::Display| diagnose::sqlite_error(&target, &e.to_string());
                let mut conn = diesel::sqlite::SqliteConnection::establish(&target)
                    .map_err(|e| StoreInitError::Connect(sqlite_error(&e)))?;
                use diesel::connection::SimpleConnection;
                // busy_timeout first: another process (or a store being dropped, checkpointing
                // as its last connection closes) may hold the lock for a moment.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| StoreInitError::Connect(sqlite_error(&e)))?;
                AnyConnection::Sqlite(conn)
            }
            Backend::Postgres => diesel::pg::PgConnection::establish(&target)
                .map(AnyConnection::Postgres)
                .map_err(|e| {
                    StoreInitError::Connect(diagnose::postgres_error(&target, &e.to_string()))
                })?,
        };
        let applied = migrations::run_pending(&mut conn)
            .map_err(|e| StoreInitError::Migrate(e.to_string()))?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
        drop(conn);

        let pool = Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(1))
            .connection_timeout(options.acquire_timeout)
            // A ping per checkout is worth it over a network (it finds connections a server
            // restart broke) but not for a file.
            .test_on_check_out(backend == Backend::Postgres)
            .connection_customizer(Box::new(SqlitePragmas))
            .build(ConnectionManager::new(target.clone()))
            .map_err(|e| StoreInitError::Connect(e.to_string()))?;
        let storage = Arc::new(StorageHealth::default());
        let group_commit = match backend {
            Backend::Sqlite => Some(Arc::new(GroupCommit::start(&target, storage.clone())?)),
            Backend::Postgres => None,
        };
        // Built at the first search: an instance nobody searches keeps no index.
        let search = SearchProjection::new(pool.clone(), options.search_index);
        Ok(Self {
            pool,
            backend,
            target: target.into(),
            group_commit,
            storage,
            search,
        })
    }

    /// Builds the text search's index, if it is not built, and waits until it is (it is
    /// built in the background at the first search; until then a search checks every job,
    /// with the same answer). Returns whether it was built within `timeout` (never, with
    /// [`StoreOptions::search_index`] off).
    pub async fn wait_for_search_index(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if self.search.built_within(left).await {
                return true;
            }
            if left.is_zero() || !self.search.enabled() {
                return false;
            }
            // The build failed: start another, as the next search would.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What the pool connects to: the URL without its `sqlite://` prefix, or the PostgreSQL URL.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Why the last write could not be stored (a full disk, a read-only database), until a
    /// write succeeds again.
    pub fn storage_fault(&self) -> Option<StorageFault> {
        self.storage.fault()
    }

    /// Whether the database answers a trivial query now, and could store the last write.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")
        })
        .await?;
        match self.storage.fault() {
            Some(fault) => Err(StoreError::Storage(
                fault,
                "the last write could not be stored".into(),
            )),
            None => Ok(()),
        }
    }

    /// Runs read-only work on a pooled connection on the blocking pool.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, DieselError> + Send + 'static,
    {
        self.run(move |conn| work(conn).map_err(StoreFailure::from))
            .await
            .map_err(|e| match e {
                StoreFailure::Store(e) => e,
                StoreFailure::Diesel(e) => map_diesel(e),
            })
    }

    /// Runs writing work atomically: its own transaction on the blocking pool (PostgreSQL),
    /// or a savepoint in the SQLite writer's next transaction. `work` returns the domain
    /// outcome; an `Err` from it rolls its writes back. Returns once the work is committed.
    ///
    /// On PostgreSQL a transaction the server aborted for a conflict (a deadlock, a
    /// serialization failure, a lock not granted within the lock timeout) is run again, up to
    /// [`WRITE_ATTEMPTS`] times in all, after a short random pause; if it still conflicts, the
    /// caller gets [`StoreError::Unavailable`] (a 503 with `Retry-After`). So `work` may run
    /// more than once, each time in a fresh transaction.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: Fn(&mut AnyConnection) -> Result<T, TxError<E>> + Send + 'static,
    {
        if let Some(group_commit) = &self.group_commit {
            return group_commit.write(work).await;
        }
        self.write_on_pool(move |conn| retrying(conn, &work)).await
    }

    /// [`Store::write`] for work that can run only once (it consumes what it writes): a
    /// conflict is not retried, only reported as [`StoreError::Unavailable`].
    pub(crate) async fn write_once<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, TxError<E>> + Send + 'static,
    {
        if let Some(group_commit) = &self.group_commit {
            return group_commit.write(work).await;
        }
        self.write_on_pool(move |conn| conn.transaction(|conn| work(conn)))
            .await
    }

    async fn write_on_pool<T, E, F>(&self, transaction: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, TxError<E>> + Send + 'static,
    {
        let result = self.run(move |conn| Ok(transaction(conn))).await;
        let failed = match result {
            Ok(Ok(value)) => {
                self.storage.observe(Ok(()));
                return Ok(value);
            }
            // A domain refusal rolled back; it says nothing about storage.
            Ok(Err(TxError::Domain(e))) => return Err(e),
            Ok(Err(TxError::Diesel(e))) | Err(StoreFailure::Diesel(e)) => map_diesel(e),
            Err(StoreFailure::Store(e)) => e,
        };
        self.storage.observe(Err(&failed));
        Err(E::from(failed))
    }

    async fn run<T, F>(&self, work: F) -> Result<T, StoreFailure>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreFailure> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn: PooledConnection<_> = pool.get().map_err(|e| {
                StoreFailure::Store(StoreError::Unavailable(format!(
                    "no database connection: {e}"
                )))
            })?;
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreFailure::Store(StoreError::Internal(format!("store task failed: {e}"))))?
    }
}

/// How many times a PostgreSQL write is tried before a conflict is reported.
pub(crate) const WRITE_ATTEMPTS: u32 = 4;

/// Runs `work` in a transaction until it commits, fails for a reason other than a conflict,
/// or has been tried [`WRITE_ATTEMPTS`] times. Between tries it waits 5–10 ms, then 10–20,
/// then 20–40 (random within each, so that the transactions that collided do not collide
/// again in step).
fn retrying<T, E>(
    conn: &mut AnyConnection,
    work: &impl Fn(&mut AnyConnection) -> Result<T, TxError<E>>,
) -> Result<T, TxError<E>> {
    let mut attempt = 1;
    loop {
        let outcome = conn.transaction(|conn| work(conn));
        match &outcome {
            Err(TxError::Diesel(e)) if is_conflict(e) => {
                if attempt == WRITE_ATTEMPTS {
                    tracing::warn!(
                        attempts = attempt,
                        error = %e,
                        "a write kept conflicting with others; answered as unavailable"
                    );
                    return outcome;
                }
                tracing::debug!(attempt, error = %e, "a write conflicted; trying again");
                let base = 5u64 << (attempt - 1);
                std::thread::sleep(Duration::from_millis(base + fastrand::u64(0..=base)));
                attempt += 1;
            }
            _ => return outcome,
        }
    }
}

/// A transaction PostgreSQL aborted because of other transactions, which may well succeed
/// when run again: a deadlock (40P01), a serialization failure (40001), a lock not granted in
/// time (55P03, `lock_timeout`). And the store's own signal that what a transaction locked
/// changed before it could lock the rest ([`conflict`]).
fn is_conflict(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("deadlock detected")
                || message.contains("could not serialize access")
                || message.contains("canceling statement due to lock timeout")
                || message.contains(CONFLICT)
        }
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_conflict(commit_error),
        _ => false,
    }
}

const CONFLICT: &str = "printdesk: the rows to lock changed; run the transaction again";

/// An error that makes [`Store::write`] run its transaction again, for a transaction that
/// found, once it held its locks, that it must lock more than it did (in an order it cannot
/// keep now).
pub(crate) fn conflict() -> DieselError {
    DieselError::DatabaseError(
        DatabaseErrorKind::SerializationFailure,
        Box::new(CONFLICT.to_owned()),
    )
}

/// Why a transaction body stopped: a domain decision (rolls back, reported as is) or a
/// database error.
#[derive(Debug)]
pub(crate) enum TxError<E> {
    Domain(E),
    Diesel(DieselError),
}

impl<E> From<DieselError> for TxError<E> {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

#[derive(Debug)]
enum StoreFailure {
    Store(StoreError),
    Diesel(DieselError),
}

impl From<DieselError> for StoreFailure {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

/// Connection-level failures mean "try again later"; the rest is a bug or corruption.
///
/// "Connection-level" includes what a PostgreSQL restart looks like from a connection that
/// was in use: the server's last words (`terminating connection due to administrator
/// command`, `the database system is shutting down`), a transaction whose connection broke
/// under it (Diesel's broken transaction manager), a commit that failed with its rollback,
/// and a write sent to a read-only server (a standby, during a failover).
pub(crate) fn map_diesel(e: DieselError) -> StoreError {
    map_diesel_ref(&e)
}

/// [`map_diesel`] of an error the caller keeps.
pub(crate) fn map_diesel_ref(e: &DieselError) -> StoreError {
    if let Some(fault) = storage_fault(e) {
        StoreError::Storage(fault, e.to_string())
    } else if is_unavailable(e) || is_conflict(e) {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Internal(e.to_string())
    }
}

fn is_unavailable(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        )
        | DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(_, info) => {
            is_sqlite_busy(info.message()) || is_connection_lost(info.message())
        }
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_unavailable(commit_error),
        _ => false,
    }
}

/// A write refused for want of storage: SQLite's `SQLITE_FULL` and `SQLITE_READONLY`,
/// PostgreSQL's `disk_full` (53100, "could not extend file …: No space left on device").
/// PostgreSQL's read-only transaction (a standby) stays "unavailable": that is a failover,
/// not a disk.
fn storage_fault(e: &DieselError) -> Option<StorageFault> {
    match e {
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            if message.contains("database or disk is full")
                || message.contains("No space left on device")
                || message.contains("could not extend file")
            {
                Some(StorageFault::DiskFull)
            } else if message.contains("attempt to write a readonly database")
                || message.contains("Read-only file system")
            {
                Some(StorageFault::ReadOnly)
            } else {
                None
            }
        }
        DieselError::RollbackErrorOnCommit { commit_error, .. } => storage_fault(commit_error),
        _ => None,
    }
}

fn is_sqlite_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

/// libpq's and the server's words for a connection that is gone or a server that is stopping
/// or starting; these come with an SQLSTATE Diesel does not classify (57P01, 57P03, …).
fn is_connection_lost(message: &str) -> bool {
    const SIGNS: [&str; 7] = [
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "server closed the connection unexpectedly",
        "no connection to the server",
        "could not receive data from server",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn connection_failures_are_unavailable_and_bugs_are_internal() {
        let unavailable = [
            db_error(DatabaseErrorKind::ClosedConnection, "gone"),
            db_error(DatabaseErrorKind::UnableToSendCommand, "no"),
            db_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            db_error(
                DatabaseErrorKind::Unknown,
                "FATAL:  the database system is shutting down",
            ),
            db_error(DatabaseErrorKind::Unknown, "database is locked"),
            DieselError::BrokenTransactionManager,
            DieselError::RollbackErrorOnCommit {
                rollback_error: Box::new(DieselError::BrokenTransactionManager),
                commit_error: Box::new(db_error(DatabaseErrorKind::ClosedConnection, "gone")),
            },
        ];
        for e in unavailable {
            let shown = e.to_string();
            assert!(
                matches!(map_diesel(e), StoreError::Unavailable(_)),
                "{shown}"
            );
        }
        let storage = [
            (
                db_error(DatabaseErrorKind::Unknown, "database or disk is full"),
                StorageFault::DiskFull,
            ),
            (
                db_error(
                    DatabaseErrorKind::Unknown,
                    "could not extend file \"base/16384/16385\": No space left on device",
                ),
                StorageFault::DiskFull,
            ),
            (
                db_error(
                    DatabaseErrorKind::Unknown,
                    "attempt to write a readonly database",
                ),
                StorageFault::ReadOnly,
            ),
        ];
        for (e, fault) in storage {
            let shown = e.to_string();
            assert!(
                matches!(map_diesel(e), StoreError::Storage(f, _) if f == fault),
                "{shown}"
            );
        }
        // Conflicts that outlived their retries: unavailable, never a 500.
        for e in [
            db_error(DatabaseErrorKind::Unknown, "deadlock detected"),
            db_error(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access",
            ),
            db_error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to lock timeout",
            ),
            conflict(),
        ] {
            assert!(is_conflict(&e));
            let shown = e.to_string();
            assert!(
                matches!(map_diesel(e), StoreError::Unavailable(_)),
                "{shown}"
            );
        }
        let internal = [
            db_error(
                DatabaseErrorKind::Unknown,
                "syntax error at or near \"SELEC\"",
            ),
            db_error(DatabaseErrorKind::UniqueViolation, "duplicate key"),
            DieselError::NotFound,
        ];
        for e in internal {
            let shown = e.to_string();
            assert!(matches!(map_diesel(e), StoreError::Internal(_)), "{shown}");
        }
    }
}
