//! Group commit for SQLite: one writer thread runs every write, many at a time in one
//! transaction.
//!
//! SQLite has one writer at a time, and most of a small write's cost is the transaction
//! around it: `BEGIN`, and at `COMMIT` appending every page it touched to the WAL (the event
//! log's last page, the counter row's page, index pages). Writes that queue up while one
//! transaction commits are therefore run together in the next: each in a savepoint of its
//! own, so one that fails (a version mismatch, an unknown printer) is rolled back alone and
//! the others keep their results. Every caller hears its outcome only after the transaction
//! committed; if the commit fails, every write in it is told so, and none is kept.
//!
//! The transaction starts with `BEGIN IMMEDIATE`: the write lock is taken before anything is
//! read, so a write's read and its decision can never be overtaken by another process, and
//! the statements inside need no locking of their own.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, mpsc},
    thread,
};

use diesel::{
    Connection,
    connection::{AnsiTransactionManager, SimpleConnection, TransactionManager},
};
use printdesk_domain::StoreError;
use tokio::sync::oneshot;

use crate::{
    connection::{AnyConnection, SQLITE_PRAGMAS},
    store::{StorageHealth, StoreInitError, TxError, map_diesel, map_diesel_ref},
    wal_checkpoint::Checkpointer,
};

/// Most writes in one transaction: bounds how long the first of them waits for its answer.
const MAX_BATCH: usize = 128;

/// One write waiting for the writer thread.
trait WriteTask: Send {
    /// Runs the write on the batch's connection, inside a savepoint of its own.
    fn run(&mut self, conn: &mut AnyConnection);
    /// Answers the caller once the batch's fate is known: `Ok` if it committed.
    fn finish(self: Box<Self>, committed: Result<(), StoreError>);
    /// Why its own statements failed for want of storage, if they did.
    fn storage_error(&self) -> Option<StoreError>;
}

/// A write of the store's, with the channel its outcome goes back on.
struct Task<T, E, F> {
    work: Option<F>,
    outcome: Option<Result<T, TxError<E>>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> WriteTask for Task<T, E, F>
where
    T: Send,
    E: From<StoreError> + Send,
    F: FnOnce(&mut AnyConnection) -> Result<T, TxError<E>> + Send,
{
    fn run(&mut self, conn: &mut AnyConnection) {
        if let Some(work) = self.work.take() {
            // Nested in the batch's transaction, Diesel makes this a savepoint: an `Err`
            // rolls back this write only.
            self.outcome = Some(conn.transaction(work));
        }
    }

    fn storage_error(&self) -> Option<StoreError> {
        match &self.outcome {
            Some(Err(TxError::Diesel(e))) => match map_diesel_ref(e) {
                error @ StoreError::Storage(..) => Some(error),
                _ => None,
            },
            _ => None,
        }
    }

    fn finish(self: Box<Self>, committed: Result<(), StoreError>) {
        let answer = match (committed, self.outcome) {
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), Some(Ok(value))) => Ok(value),
            (Ok(()), Some(Err(TxError::Domain(e)))) => Err(e),
            (Ok(()), Some(Err(TxError::Diesel(e)))) => Err(E::from(map_diesel(e))),
            (Ok(()), None) => Err(E::from(StoreError::Internal(
                "a write was committed without being run".into(),
            ))),
        };
        // The caller may have gone (a client disconnected); the write stands regardless.
        let _ = self.reply.send(answer);
    }
}

/// The handle to the writer thread. The thread stops when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    tasks: mpsc::Sender<Box<dyn WriteTask>>,
}

impl GroupCommit {
    /// Opens the writer's own connection to the SQLite file `path` and starts its thread.
    pub(crate) fn start(path: &str, storage: Arc<StorageHealth>) -> Result<Self, StoreInitError> {
        let conn = open(path).map_err(StoreInitError::Connect)?;
        let checkpointer = Checkpointer::start(path).map_err(StoreInitError::Connect)?;
        let (tasks, queue) = mpsc::channel();
        let path = path.to_owned();
        thread::Builder::new()
            .name("printdesk-sqlite-writer".into())
            .spawn(move || {
                Writer {
                    conn: Some(conn),
                    path,
                    checkpointer,
                    storage,
                }
                .serve(&queue)
            })
            .map_err(|e| StoreInitError::Connect(format!("cannot start the writer: {e}")))?;
        Ok(Self { tasks })
    }

    /// Runs `work` in the next batch and returns its outcome once that batch has committed.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, TxError<E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let task = Task {
            work: Some(work),
            outcome: None,
            reply,
        };
        self.tasks.send(Box::new(task)).map_err(|_| {
            E::from(StoreError::Unavailable(
                "the SQLite writer has stopped".into(),
            ))
        })?;
        answer.await.unwrap_or_else(|_| {
            Err(E::from(StoreError::Internal(
                "the SQLite writer dropped a write without answering".into(),
            )))
        })
    }
}

/// The writer's settings on top of the pool's:
/// - no automatic checkpoint: the [`Checkpointer`] does that off the write path;
/// - the WAL file keeps its largest size when it starts afresh: cap what it keeps;
/// - each write's savepoint keeps the pages it changes in a sub-journal, which would
///   otherwise be a temporary file written with a system call per page;
/// - a page cache large enough for the pages recent writes touched (default: 2 MiB).
const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 0;
    PRAGMA journal_size_limit = 67108864;
    PRAGMA temp_store = MEMORY;
    PRAGMA cache_size = -16384;";

/// The SQLite connection inside the writer's `AnyConnection`.
fn sqlite(conn: &mut AnyConnection) -> &mut diesel::sqlite::SqliteConnection {
    match conn {
        AnyConnection::Sqlite(sqlite) => sqlite,
        AnyConnection::Postgres(_) => unreachable!("group commit is only started for SQLite"),
    }
}

/// Opens the writer's connection.
fn open(path: &str) -> Result<AnyConnection, String> {
    let mut conn = AnyConnection::establish(path).map_err(|e| e.to_string())?;
    conn.batch_execute(SQLITE_PRAGMAS)
        .and_then(|()| conn.batch_execute(WRITER_PRAGMAS))
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

struct Writer {
    /// `None` after a failure left the connection in an unknown state; reopened on demand.
    conn: Option<AnyConnection>,
    path: String,
    checkpointer: Checkpointer,
    storage: Arc<StorageHealth>,
}

impl Writer {
    fn serve(mut self, queue: &mpsc::Receiver<Box<dyn WriteTask>>) {
        while let Ok(first) = queue.recv() {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(task) => batch.push(task),
                    Err(_) => break,
                }
            }
            let committed = self.commit(&mut batch);
            if committed.is_ok() {
                self.after_commit();
            }
            let own = batch.iter().find_map(|t| t.storage_error());
            match (&committed, &own) {
                (Err(e), _) | (Ok(()), Some(e)) => self.storage.observe(Err(e)),
                (Ok(()), None) => self.storage.observe(Ok(())),
            }
            for task in batch {
                task.finish(committed.clone());
            }
        }
    }

    /// Runs the batch in one transaction and commits it.
    fn commit(&mut self, batch: &mut [Box<dyn WriteTask>]) -> Result<(), StoreError> {
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => open(&self.path).map_err(StoreError::Unavailable)?,
        };
        if let Err(e) =
            AnsiTransactionManager::begin_transaction_sql(sqlite(&mut conn), "BEGIN IMMEDIATE")
        {
            // Typically another process holding the write lock past the busy timeout.
            self.conn = Some(conn);
            return Err(map_diesel(e));
        }
        let ran = catch_unwind(AssertUnwindSafe(|| {
            for task in batch.iter_mut() {
                task.run(&mut conn);
            }
        }));
        if ran.is_err() {
            // A write panicked part-way: the transaction's state is unknown. Closing the
            // connection rolls it back; the next batch opens a new one.
            return Err(StoreError::Internal(
                "a write failed unexpectedly; nothing in its transaction was saved".into(),
            ));
        }
        let sqlite = sqlite(&mut conn);
        // Every savepoint released or rolled back leaves exactly the batch's transaction open;
        // anything else (a failed rollback to a savepoint) means its state is unknown.
        let depth = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
            .transaction_depth()
            .ok()
            .flatten()
            .map(std::num::NonZeroU32::get);
        if depth != Some(1) {
            return Err(StoreError::Internal(
                "a write left its transaction unusable; nothing in it was saved".into(),
            ));
        }
        // On failure the connection is dropped (whatever state the failed commit left, a
        // fresh one starts clean); on success it serves the next batch.
        AnsiTransactionManager::commit_transaction(sqlite).map_err(map_diesel)?;
        self.conn = Some(conn);
        Ok(())
    }

    /// Lets the checkpointer know, and finishes its checkpoint here when the WAL has grown
    /// large: under a steady stream of writes a checkpoint running beside them never sees
    /// the end of the WAL, and only a complete one lets the next write start the WAL afresh.
    fn after_commit(&mut self) {
        self.checkpointer.committed();
        if self.checkpointer.wal_is_large()
            && let Some(conn) = self.conn.as_mut()
        {
            self.checkpointer.catch_up(conn);
        }
    }
}
