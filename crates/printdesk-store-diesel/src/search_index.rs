//! The text search's index, in the store's memory: the domain's [`SearchIndex`] over every
//! job's stored search document (`jobs.search_text`).
//!
//! - **Built** at the first search, on a thread of its own (under a second for 100,000 jobs
//!   in a release build, with a progress line in the log for a large database), and again
//!   after a build that failed, at the next search; an instance nobody searches keeps none
//!   (about 40 MB for 100,000 jobs). A search waits for the build up to
//!   [`BUILD_WAIT`]; after that, or with the build failed, it checks every job's document
//!   (the same answer, slower).
//! - **Kept current by the searches themselves**: before each one, the events after the
//!   index's `seq` are read with their jobs as they are now (one statement, which finds
//!   nothing when nothing was written since), and those jobs re-indexed (gone ones removed). Every
//!   write takes the next `seq` under the log's counter lock, so `seq` order is commit order
//!   and a search sees every write committed before it began, on this instance or another.
//! - **Own writes go in without the database** ([`SearchProjection::written`]): a committed
//!   write's job waits in memory and is applied with others (or by the next search), so on
//!   a single instance a search has nothing to read again. An edit writes no index rows in
//!   the database (the index table this replaced cost every edit of a searched field a page
//!   write per term); in memory it moves the job between the few lists of the terms it
//!   changed.

use std::{
    collections::{BTreeMap, HashMap},
    ops::Deref,
    sync::{
        Arc, PoisonError, RwLock, RwLockReadGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use diesel::{
    prelude::*,
    r2d2::{ConnectionManager, Pool},
    result::Error as DieselError,
};
use printdesk_domain::{
    EventKind, IndexedJob, JobEvent, JobField, JobId, SearchDocument, SearchIndex,
};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::{
    connection::AnyConnection,
    rows::{document_of_fields, from_db_time},
    schema::{event_seq, job_events, jobs},
};

/// Jobs read per statement while building.
const BUILD_BATCH: i64 = 5000;

/// How long a search waits for the index to be built before it checks every job instead
/// (the build of 100,000 jobs takes under a second; of a million, several).
pub(crate) const BUILD_WAIT: Duration = Duration::from_secs(2);

/// How often a build reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The columns what the index holds of a job is read from (see [`indexed`]).
macro_rules! document_columns {
    () => {
        (
            jobs::id,
            jobs::search_text,
            jobs::job_name,
            jobs::customer_name,
            jobs::notes,
            jobs::file_name,
            jobs::created_at,
            jobs::updated_at,
        )
    };
}

/// The index and how far into the event log it is current.
#[derive(Debug)]
struct Built {
    index: SearchIndex,
    /// Every write up to this `seq` is in the index.
    applied: i64,
    /// This store's own committed writes after `applied`, by `seq`, not yet in the index:
    /// applied [`APPLY_BATCH`] at a time, or by the next search, each once the writes before
    /// it are (commits are reported in any order).
    waiting: BTreeMap<i64, OwnWrite>,
}

/// How many own writes wait before the writer that reports the last of them applies them
/// all. Applied together, their terms' lists are still in the processor's cache from one
/// to the next (an edit applied alone, after the database's work, costs twice as much).
const APPLY_BATCH: usize = 256;

/// The most own writes kept waiting for an earlier `seq`: one that never comes (another
/// instance's write) is read by the next search's catch-up, which drops them.
const WAITING_WRITES: usize = 4096;

/// What one of this store's own committed events does to the index.
#[derive(Debug)]
enum OwnWrite {
    Remove(JobId),
    /// A change that left the searched text alone: only the times are recorded.
    Times(JobId, OffsetDateTime, OffsetDateTime),
    /// A new job, or a change of some of the searched fields: only those are folded again.
    Text(Box<TextWrite>),
}

/// A job's searched fields after a write, and which of them it changed.
#[derive(Debug)]
struct TextWrite {
    id: JobId,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    /// `job_name`, `customer_name`, `notes`, `file_name`, as `SearchDocument::of_fields`.
    fields: [Option<String>; 4],
    changed: [bool; 4],
}

/// The searched fields, in the order of `SearchDocument::of_fields`.
const SEARCHED: [JobField; 4] = [
    JobField::JobName,
    JobField::CustomerName,
    JobField::Notes,
    JobField::FileName,
];

impl OwnWrite {
    fn of(event: &JobEvent) -> Self {
        let job = &event.job;
        let changed = SEARCHED.map(|field| event.changes.get(field).is_some());
        let text = |changed| {
            Self::Text(Box::new(TextWrite {
                id: job.id,
                created_at: job.created_at,
                updated_at: job.updated_at,
                fields: [
                    Some(job.job_name.as_str().to_owned()),
                    job.customer_name.as_ref().map(|v| v.as_str().to_owned()),
                    job.notes.as_ref().map(|v| v.as_str().to_owned()),
                    job.file_name.as_ref().map(|v| v.as_str().to_owned()),
                ],
                changed,
            }))
        };
        match event.kind {
            EventKind::JobDeleted => Self::Remove(job.id),
            EventKind::JobUpdated if !changed.contains(&true) => {
                Self::Times(job.id, job.created_at, job.updated_at)
            }
            EventKind::JobUpdated => text(changed),
            EventKind::JobCreated => text([true; 4]),
        }
    }

    fn apply(self, index: &mut SearchIndex) {
        match self {
            Self::Remove(id) => index.remove(id),
            Self::Times(id, created_at, updated_at) => {
                // A job the index does not hold cannot follow every write before it; should
                // it, the next build or catch-up reads it.
                index.update_times(id, created_at, updated_at);
            }
            Self::Text(write) => {
                let TextWrite {
                    id,
                    created_at,
                    updated_at,
                    fields,
                    changed,
                } = *write;
                let values = fields.each_ref().map(|f| f.as_deref());
                let document = match index.document(id) {
                    Some(before) => {
                        let mut replaced = [None; 4];
                        for (i, value) in values.into_iter().enumerate() {
                            if changed[i] {
                                replaced[i] = Some(value);
                            }
                        }
                        before.with_fields(replaced)
                    }
                    None => SearchDocument::of_fields(values),
                };
                index.insert(IndexedJob {
                    id,
                    document,
                    created_at,
                    updated_at,
                });
            }
        }
    }
}

impl Built {
    /// Applies the waiting writes that follow `applied`, dropping those it has passed.
    fn apply_waiting(&mut self) {
        while let Some(entry) = self.waiting.first_entry() {
            let seq = *entry.key();
            if seq <= self.applied {
                entry.remove();
            } else if seq == self.applied + 1 {
                entry.remove().apply(&mut self.index);
                self.applied = seq;
            } else {
                return;
            }
        }
    }
}

/// The store's search index: missing until built, then kept current by each search.
pub(crate) struct SearchProjection {
    state: RwLock<Option<Built>>,
    building: AtomicBool,
    /// Off: never built, every search checks every job (`StoreOptions::search_index`).
    enabled: bool,
    pool: Pool<ConnectionManager<AnyConnection>>,
}

impl std::fmt::Debug for SearchProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchProjection")
            .field("state", &self.read())
            .finish_non_exhaustive()
    }
}

/// The index, current as of the search that asked for it; searches share it, a catch-up waits
/// for them.
pub(crate) struct CurrentIndex<'a>(RwLockReadGuard<'a, Option<Built>>);

impl Deref for CurrentIndex<'_> {
    type Target = SearchIndex;

    fn deref(&self) -> &SearchIndex {
        &self
            .0
            .as_ref()
            .expect("a CurrentIndex is made of a built index only")
            .index
    }
}

impl SearchProjection {
    /// A projection over the jobs `pool` reaches, not built yet; never built unless
    /// `enabled`.
    pub(crate) fn new(pool: Pool<ConnectionManager<AnyConnection>>, enabled: bool) -> Arc<Self> {
        Arc::new(Self {
            state: RwLock::new(None),
            building: AtomicBool::new(false),
            enabled,
            pool,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Built>> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts building the index on a thread of its own, unless it is built or being built.
    pub(crate) fn start_building(self: &Arc<Self>) {
        if !self.enabled || self.read().is_some() || self.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let projection = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("search-index".into())
            .spawn(move || {
                let started = Instant::now();
                let outcome = projection
                    .pool
                    .get()
                    .map_err(|e| e.to_string())
                    .and_then(|mut conn| build(&mut conn).map_err(|e| e.to_string()));
                match outcome {
                    Ok(built) => {
                        tracing::info!(
                            jobs = built.index.len(),
                            seconds = started.elapsed().as_secs_f64(),
                            "text search index built for {} jobs",
                            built.index.len()
                        );
                        *projection
                            .state
                            .write()
                            .unwrap_or_else(PoisonError::into_inner) = Some(built);
                    }
                    Err(error) => tracing::warn!(
                        %error,
                        "the text search index could not be built; searches check every job \
                         until it is (tried again at the next search)"
                    ),
                }
                projection.building.store(false, Ordering::Release);
            });
        if let Err(error) = spawned {
            self.building.store(false, Ordering::Release);
            tracing::warn!(%error, "could not start building the text search index");
        }
    }

    /// Whether the store keeps an index at all (`StoreOptions::search_index`).
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the index is built.
    pub(crate) fn is_built(&self) -> bool {
        self.read().is_some()
    }

    /// Starts building the index unless it is built, and waits until it is, for at most
    /// `timeout`, without holding a connection; returns whether it is built. A build that
    /// fails ends the wait at once (the search then checks every job, and the next one starts
    /// another build).
    pub(crate) async fn built_within(self: &Arc<Self>, timeout: Duration) -> bool {
        if !self.enabled {
            return false;
        }
        self.start_building();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.is_built() {
                return true;
            }
            if !self.building.load(Ordering::Acquire) || tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The index, brought up to date with every write committed so far; `None` while it is
    /// not built (and then a build is started).
    ///
    /// Reads the events after the index's `seq` with their jobs as they are now (one
    /// statement, which finds none when nothing was written since), then applies them under
    /// the write lock, unless another search has applied others meanwhile: then it reads
    /// again from there, so that a job read earlier never overwrites one read later.
    pub(crate) fn current(
        self: &Arc<Self>,
        conn: &mut AnyConnection,
    ) -> Result<Option<CurrentIndex<'_>>, DieselError> {
        if !self.enabled {
            return Ok(None);
        }
        loop {
            let Some((applied, waiting)) = self
                .read()
                .as_ref()
                .map(|built| (built.applied, !built.waiting.is_empty()))
            else {
                self.start_building();
                return Ok(None);
            };
            if waiting {
                if let Some(built) = self
                    .state
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_mut()
                {
                    built.apply_waiting();
                }
                if self.read().as_ref().map(|built| built.applied) != Some(applied) {
                    continue;
                }
            }
            let changes = changes_after(conn, applied)?;
            if changes.is_empty() {
                let guard = self.read();
                return Ok(guard.is_some().then_some(CurrentIndex(guard)));
            }
            let mut guard = self.state.write().unwrap_or_else(PoisonError::into_inner);
            let Some(built) = guard.as_mut() else {
                return Ok(None);
            };
            if built.applied != applied {
                continue;
            }
            changes.apply(built)?;
        }
    }
}

impl SearchProjection {
    /// Takes this store's own committed `events` for the index, so that its next search has
    /// nothing to read again from the database: they wait, and are applied in `seq` order,
    /// each once the one before it is, [`APPLY_BATCH`] at a time or by the next search.
    /// Commits are reported in any order (SQLite's writer commits a group at once); a `seq`
    /// of another instance never comes this way, and the next search's catch-up reads it,
    /// and what the writes waiting behind it changed.
    pub(crate) fn written<'e>(&self, events: impl IntoIterator<Item = &'e JobEvent>) {
        let mut guard = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let Some(built) = guard.as_mut() else {
            return;
        };
        for event in events {
            let seq = event.seq.get();
            if seq <= built.applied {
                continue;
            }
            if built.waiting.len() >= WAITING_WRITES {
                built.waiting.clear();
            }
            built.waiting.insert(seq, OwnWrite::of(event));
        }
        if built.waiting.len() >= APPLY_BATCH {
            built.apply_waiting();
        }
    }
}

/// The jobs written after some `seq`: each one's document as it is now, `None` for a job that
/// is gone; and the last `seq` read.
#[derive(Debug, Default)]
struct Changes {
    jobs: HashMap<String, Option<DocumentRow>>,
    last: i64,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    fn apply(self, built: &mut Built) -> Result<(), DieselError> {
        for (id, row) in self.jobs {
            match row {
                Some(row) => built.index.insert(indexed(row)?),
                None => {
                    if let Ok(id) = id.parse::<JobId>() {
                        built.index.remove(id);
                    }
                }
            }
        }
        built.applied = self.last;
        built.apply_waiting();
        Ok(())
    }
}

/// The events after `applied` joined with their jobs as they are now. (No `LIMIT`: SQLite
/// prepares a statement with a bound one again at every execution, and this one runs before
/// every search; the events since the last search are few.)
fn changes_after(conn: &mut AnyConnection, applied: i64) -> Result<Changes, DieselError> {
    let rows: Vec<(i64, String, Option<DocumentRow>)> = job_events::table
        .left_join(jobs::table.on(jobs::id.eq(job_events::job_id)))
        .filter(job_events::seq.gt(applied))
        .order(job_events::seq.asc())
        .select((
            job_events::seq,
            job_events::job_id,
            document_columns!().nullable(),
        ))
        .load(conn)?;
    let mut changes = Changes {
        last: applied,
        ..Changes::default()
    };
    for (seq, id, row) in rows {
        changes.last = seq;
        changes.jobs.insert(id, row);
    }
    Ok(changes)
}

/// The event log's last `seq`.
fn last_seq(conn: &mut AnyConnection) -> Result<i64, DieselError> {
    event_seq::table
        .find(1)
        .select(event_seq::last)
        .get_result(conn)
}

/// A job's stored document; derived from its fields when the row has none yet (written by a
/// version before the column, and not yet filled in).
type DocumentRow = (
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    PrimitiveDateTime,
    PrimitiveDateTime,
);

/// What the index holds of a job, from its row.
fn indexed(row: DocumentRow) -> Result<IndexedJob, DieselError> {
    let (id, text, name, customer, notes, file, created_at, updated_at) = row;
    let id = id
        .parse::<JobId>()
        .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
    let document = match text {
        Some(text) => SearchDocument::from_stored(text),
        None => document_of_fields(
            &name,
            customer.as_deref(),
            notes.as_deref(),
            file.as_deref(),
        ),
    };
    Ok(IndexedJob {
        id,
        document,
        created_at: from_db_time(created_at),
        updated_at: from_db_time(updated_at),
    })
}

/// Reads every job's document into a new index, current as of the log's `seq` read first
/// (a write committed meanwhile may be in it already; the next catch-up reads it again).
fn build(conn: &mut AnyConnection) -> Result<Built, DieselError> {
    let applied = last_seq(conn)?;
    let total: i64 = jobs::table.count().get_result(conn)?;
    let mut index = SearchIndex::new();
    let mut after: Option<String> = None;
    let mut reported = Instant::now();
    if total >= BUILD_BATCH * 4 {
        tracing::info!(
            jobs = total,
            "building the text search index of {total} jobs"
        );
    }
    loop {
        let mut q = jobs::table
            .select(document_columns!())
            .order(jobs::id)
            .limit(BUILD_BATCH)
            .into_boxed();
        if let Some(after) = &after {
            q = q.filter(jobs::id.gt(after.clone()));
        }
        let rows: Vec<DocumentRow> = q.load(conn)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.0.clone());
        for row in rows {
            index.insert(indexed(row)?);
        }
        if reported.elapsed() >= PROGRESS_EVERY {
            reported = Instant::now();
            tracing::info!(
                done = index.len(),
                jobs = total,
                "text search index: {} of {total} jobs",
                index.len()
            );
        }
    }
    index.shrink_to_fit();
    Ok(Built {
        index,
        applied,
        waiting: BTreeMap::new(),
    })
}
