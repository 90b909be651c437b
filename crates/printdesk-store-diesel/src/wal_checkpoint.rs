//! Checkpoints of SQLite's write-ahead log, off the write path.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that crosses its threshold: that
//! write, and every write queued behind it, waits while pages are copied into the database
//! file and the file is synced (measured: the p99 of an edit went from 0.3 ms to 10–30 ms).
//! Here a thread of its own does that work shortly after writes happen, in `PASSIVE` mode,
//! which never blocks the writer or readers. The writer only finishes a checkpoint itself
//! when the WAL has grown large (see [`Checkpointer::catch_up`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
        mpsc,
    },
    thread,
    time::Duration,
};

use diesel::{Connection, QueryableByName, RunQueryDsl, connection::SimpleConnection, sql_types};

use crate::connection::AnyConnection;

/// The least time between two background checkpoints. Short, so that each one has little to
/// copy and its file sync little to flush, and the writer's own checkpoint (below) finds
/// next to nothing left (measured at 16 concurrent edits: edit p99 26 ms with 20 ms,
/// 10.5 ms with 10 ms, 5.6 ms with 2 ms). The thread only runs while writes happen.
const PAUSE: Duration = Duration::from_millis(2);

/// WAL frames (pages, 4 KiB by default) from which the writer finishes a checkpoint itself,
/// so that the WAL starts afresh (64 MiB, the writer's `journal_size_limit`, so the file is
/// reused rather than regrown). A background checkpoint never completes under a steady
/// stream of writes, and a WAL that keeps growing is what makes file syncs slow: on ext4 every
/// sync then also flushes the WAL's newly allocated blocks (measured: edit p99 41 ms with the
/// WAL left to grow, 14 ms with this). The writer's checkpoint ends with a sync of the
/// database file that all writes wait for, a few milliseconds: rarer is better (measured at
/// 16 concurrent edits: p99 13 ms at 16 MiB, 7.5 ms at 64 MiB).
const LARGE_WAL_FRAMES: i64 = 16384;

/// The handle the writer keeps. The thread stops when the handle is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
    /// Frames in the WAL at the last background checkpoint.
    wal_frames: Arc<AtomicI64>,
}

#[derive(Debug, QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = sql_types::Integer)]
    checkpointed: i32,
}

fn checkpoint(conn: &mut AnyConnection) -> Result<CheckpointResult, diesel::result::Error> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)
}

impl Checkpointer {
    /// Opens a connection of its own to the SQLite file at `path` and starts the thread.
    pub(crate) fn start(path: &str) -> Result<Self, String> {
        let mut conn = AnyConnection::establish(path).map_err(|e| e.to_string())?;
        conn.batch_execute("PRAGMA busy_timeout = 5000;")
            .map_err(|e| e.to_string())?;
        // SQLite syncs the database file only when a checkpoint reaches the end of the WAL,
        // which under a steady stream of writes only the writer's own checkpoint does (see
        // `catch_up`): it then had to flush every page copied since, hundreds of
        // milliseconds' worth, while all writes waited (measured: a 52 ms `fsync` every
        // 0.5 s, edit p99 45 ms). Syncing after each background checkpoint keeps that
        // flush small. Syncing more often than SQLite asks is always safe.
        let db_file = std::fs::File::open(path).ok();
        let (wake, woken) = mpsc::sync_channel(1);
        let wal_frames = Arc::new(AtomicI64::new(0));
        let frames = Arc::clone(&wal_frames);
        thread::Builder::new()
            .name("printdesk-wal-checkpoint".into())
            .spawn(move || {
                let mut last_copied = 0;
                while woken.recv().is_ok() {
                    match checkpoint(&mut conn) {
                        Ok(done) => {
                            frames.store(i64::from(done.log), Ordering::Relaxed);
                            if done.checkpointed != last_copied
                                && let Some(file) = &db_file
                                && let Err(e) = file.sync_data()
                            {
                                tracing::warn!(error = %e, "syncing the database file failed");
                            }
                            last_copied = done.checkpointed;
                        }
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    }
                    thread::sleep(PAUSE);
                }
            })
            .map_err(|e| format!("cannot start the WAL checkpointer: {e}"))?;
        Ok(Self { wake, wal_frames })
    }

    /// Called after each commit: a checkpoint is due soon.
    pub(crate) fn committed(&self) {
        // A full channel means a wake-up is already pending; one is enough.
        let _ = self.wake.try_send(());
    }

    /// Whether the WAL had grown large at the last background checkpoint.
    pub(crate) fn wal_is_large(&self) -> bool {
        self.wal_frames.load(Ordering::Relaxed) >= LARGE_WAL_FRAMES
    }

    /// Finishes a checkpoint on the writer's connection, between two transactions: the
    /// background checkpoints have copied all but the last few frames, and with no write in
    /// progress this one can reach the end of the WAL, so the next write starts it afresh.
    pub(crate) fn catch_up(&self, conn: &mut AnyConnection) {
        // Once per background checkpoint at most, whether or not readers let it complete.
        self.wal_frames.store(0, Ordering::Relaxed);
        match checkpoint(conn) {
            Ok(done) if done.busy != 0 || done.checkpointed < done.log => {
                tracing::debug!(
                    log = done.log,
                    checkpointed = done.checkpointed,
                    "WAL checkpoint incomplete: readers still use older frames"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}
