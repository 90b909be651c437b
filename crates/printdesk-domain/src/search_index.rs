//! An in-memory index of the jobs' [`SearchDocument`]s: for each index term
//! ([`SearchDocument::terms`]) the jobs that have it, as a sorted list of small numbers.
//!
//! A search ([`SearchIndex::search`]) takes the jobs of each of its index ranges
//! ([`SearchQuery::index_ranges`]), intersects them, smallest first, and, where the ranges do
//! not decide on their own ([`SearchQuery::index_is_exact`]), checks each remaining job's
//! document: the answer is exactly the jobs [`SearchQuery::matches`] accepts, so a store that
//! answers from this index gives the same jobs as one that checks every document. It is
//! counted and tested for membership without reading a job: what makes a search's exact
//! count cheap, however many jobs match.
//!
//! The index keeps nothing on disk: a store builds it from the documents it keeps and brings
//! it up to date with the jobs that changed since ([`SearchIndex::insert`],
//! [`SearchIndex::remove`]). About 2 million terms for 100,000 jobs take some 40 MB.

use std::{
    borrow::Cow,
    cmp::Ordering,
    collections::{BTreeSet, HashMap},
    fmt,
    ops::Bound,
};

use time::OffsetDateTime;

use crate::{
    job::{Job, JobId},
    query::{JobSort, SortDirection, SortKey},
    search::{SearchDocument, SearchQuery, TermRange},
};

/// A job's number in the index: its place in [`SearchIndex::slots`]. Numbers, not ids, so that
/// a term's jobs are 4 bytes each and intersect as sorted lists.
type Ordinal = u32;

/// One job the index has seen.
#[derive(Debug, Clone)]
struct Slot {
    id: JobId,
    /// `None` once the job is removed; the number is kept for it, should it come back.
    document: Option<SearchDocument>,
}

/// What the index holds of a job: its search document and the times the list sorts by most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedJob {
    /// The job.
    pub id: JobId,
    /// Its search document.
    pub document: SearchDocument,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl IndexedJob {
    /// What the index holds of `job`.
    pub fn of(job: &Job) -> Self {
        Self {
            id: job.id,
            document: SearchDocument::of(job),
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

/// Milliseconds since 1970.
fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

/// The jobs' search documents and, per index term, the jobs that have it.
///
/// ```
/// use printdesk_domain::{IndexedJob, JobId, SearchDocument, SearchIndex, SearchQuery};
/// use time::OffsetDateTime;
/// let mut index = SearchIndex::new();
/// let (a, b) = (JobId::generate(), JobId::generate());
/// let job = |id, fields| IndexedJob {
///     id,
///     document: SearchDocument::of_fields(fields),
///     created_at: OffsetDateTime::UNIX_EPOCH,
///     updated_at: OffsetDateTime::UNIX_EPOCH,
/// };
/// index.insert(job(a, [Some("GEHÄUSE FÜR ÖLPUMPE"), Some("Müller"), None, None]));
/// index.insert(job(b, [Some("Benchy"), None, None, Some("benchy.3mf")]));
/// let q = SearchQuery::parse("muller olpumpe").unwrap().unwrap();
/// let hits = index.search(&q);
/// assert_eq!(hits.len(), 1);
/// assert!(hits.contains(a) && !hits.contains(b));
/// index.remove(a);
/// assert!(index.search(&q).is_empty());
/// ```
#[derive(Clone, Default)]
pub struct SearchIndex {
    slots: Vec<Slot>,
    /// Each job's `created_at` and `updated_at` by number, in milliseconds since 1970 (the
    /// domain's timestamps are whole milliseconds): what a page of hits in time order is
    /// sorted by. Apart from the slots, so that ordering thousands of hits reads 8 bytes each.
    created: Vec<i64>,
    updated: Vec<i64>,
    ordinals: HashMap<JobId, Ordinal>,
    /// Each term's jobs, sorted, none twice.
    terms: HashMap<Box<str>, Vec<Ordinal>>,
    /// The terms in order, for the ranges of a search. Apart from `terms`, so that an edit's
    /// few terms are found by hashing (one or two memory reads), not by walking a tree of
    /// 100,000 terms (a dozen, mostly out of cache after the database's work); only a term
    /// that appears or disappears touches the tree.
    ordered: BTreeSet<Box<str>>,
    live: usize,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex")
            .field("jobs", &self.live)
            .field("terms", &self.terms.len())
            .finish()
    }
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many jobs the index holds.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the index holds no job.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Adds a job, or replaces what the index holds of it: only the terms that differ are
    /// touched (an edit of one word touches that word's few terms, a status change none).
    pub fn insert(&mut self, job: IndexedJob) {
        let IndexedJob {
            id,
            document,
            created_at,
            updated_at,
        } = job;
        let ordinal = match self.ordinals.get(&id) {
            Some(&ordinal) => ordinal,
            None => {
                let ordinal = Ordinal::try_from(self.slots.len())
                    .expect("fewer than 4 billion jobs in one index");
                self.slots.push(Slot { id, document: None });
                self.created.push(0);
                self.updated.push(0);
                self.ordinals.insert(id, ordinal);
                ordinal
            }
        };
        let old = self.slots[ordinal as usize].document.take();
        match &old {
            None => {
                self.live += 1;
                for term in document.term_slices() {
                    self.link(term, ordinal);
                }
            }
            Some(old) if *old == document => {}
            Some(old) => {
                // Both sorted: one merge finds the terms gone and the terms new.
                let (before, after) = (old.term_slices(), document.term_slices());
                let (mut b, mut a) = (before.iter().peekable(), after.iter().peekable());
                loop {
                    match (b.peek(), a.peek()) {
                        (None, None) => break,
                        (Some(x), Some(y)) if x == y => {
                            b.next();
                            a.next();
                        }
                        (Some(x), Some(y)) if x < y => {
                            self.unlink(x, ordinal);
                            b.next();
                        }
                        (Some(x), None) => {
                            self.unlink(x, ordinal);
                            b.next();
                        }
                        (_, Some(y)) => {
                            self.link(y, ordinal);
                            a.next();
                        }
                    }
                }
            }
        }
        self.slots[ordinal as usize].document = Some(document);
        self.created[ordinal as usize] = millis(created_at);
        self.updated[ordinal as usize] = millis(updated_at);
    }

    /// Gives back the memory the index's lists grew beyond what they hold (after a build: a
    /// list that grew by doubling holds up to twice its jobs' room).
    pub fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
        self.created.shrink_to_fit();
        self.updated.shrink_to_fit();
        self.ordinals.shrink_to_fit();
        self.terms.shrink_to_fit();
        for jobs in self.terms.values_mut() {
            jobs.shrink_to_fit();
        }
    }

    /// Records new times for a job the index holds, whose searched text did not change;
    /// returns whether it holds it.
    pub fn update_times(
        &mut self,
        id: JobId,
        created_at: OffsetDateTime,
        updated_at: OffsetDateTime,
    ) -> bool {
        match self.ordinals.get(&id) {
            Some(&ordinal) if self.slots[ordinal as usize].document.is_some() => {
                self.created[ordinal as usize] = millis(created_at);
                self.updated[ordinal as usize] = millis(updated_at);
                true
            }
            _ => false,
        }
    }

    /// Removes the job `id`, if the index holds it.
    pub fn remove(&mut self, id: JobId) {
        let Some(&ordinal) = self.ordinals.get(&id) else {
            return;
        };
        let Some(document) = self.slots[ordinal as usize].document.take() else {
            return;
        };
        self.live -= 1;
        for term in document.term_slices() {
            self.unlink(term, ordinal);
        }
    }

    /// Whether the index holds the job `id`.
    pub fn contains(&self, id: JobId) -> bool {
        self.document(id).is_some()
    }

    /// The document the index holds for the job `id`.
    pub fn document(&self, id: JobId) -> Option<&SearchDocument> {
        let ordinal = *self.ordinals.get(&id)?;
        self.slots[ordinal as usize].document.as_ref()
    }

    fn link(&mut self, term: &str, ordinal: Ordinal) {
        let jobs = match self.terms.get_mut(term) {
            Some(jobs) => jobs,
            None => {
                self.ordered.insert(term.into());
                self.terms.entry(term.into()).or_default()
            }
        };
        // A new job has the highest number: appended, the usual case.
        match jobs.last() {
            Some(&last) if last >= ordinal => {
                if let Err(at) = jobs.binary_search(&ordinal) {
                    jobs.insert(at, ordinal);
                }
            }
            _ => jobs.push(ordinal),
        }
    }

    fn unlink(&mut self, term: &str, ordinal: Ordinal) {
        if let Some(jobs) = self.terms.get_mut(term) {
            if let Ok(at) = jobs.binary_search(&ordinal) {
                jobs.remove(at);
            }
            if jobs.is_empty() {
                self.terms.remove(term);
                self.ordered.remove(term);
            }
        }
    }

    /// The lists of the terms in `range`, and how many jobs they hold together (a job with
    /// two terms in it counted twice).
    fn range_lists(&self, range: &TermRange) -> (Vec<&[Ordinal]>, usize) {
        let end = match &range.end {
            Some(end) => Bound::Excluded(end.as_str()),
            None => Bound::Unbounded,
        };
        let lists: Vec<&[Ordinal]> = self
            .ordered
            .range::<str, _>((Bound::Included(range.prefix.as_str()), end))
            .filter_map(|term| self.terms.get(term).map(Vec::as_slice))
            .collect();
        let size = lists.iter().map(|l| l.len()).sum();
        (lists, size)
    }

    /// The jobs in `lists`, sorted, each once: borrowed when one term holds them all.
    fn union<'a>(lists: &[&'a [Ordinal]]) -> Cow<'a, [Ordinal]> {
        match lists {
            [] => Cow::Borrowed(&[]),
            [one] => Cow::Borrowed(one),
            // Several terms (`bench` has `bench` and `benchy`; `12` has every number that
            // starts with it): their union.
            several => {
                let mut union: Vec<Ordinal> = several.concat();
                union.sort_unstable();
                union.dedup();
                Cow::Owned(union)
            }
        }
    }

    /// The jobs that match `query`: exactly those whose document [`SearchQuery::matches`].
    pub fn search(&self, query: &SearchQuery) -> SearchHits<'_> {
        let ranges = query.index_ranges();
        let mut hits: Vec<Ordinal> = if ranges.is_empty() {
            // Nothing to look up (a query of punctuation only): every job is a candidate.
            (0..self.slots.len() as Ordinal)
                .filter(|&o| self.slots[o as usize].document.is_some())
                .collect()
        } else {
            let mut lists: Vec<(&TermRange, Vec<&[Ordinal]>, usize)> = ranges
                .iter()
                .map(|&r| {
                    let (lists, size) = self.range_lists(r);
                    (r, lists, size)
                })
                .collect();
            lists.sort_by_key(|(_, _, size)| *size);
            let mut lists = lists.into_iter();
            let mut hits = lists
                .next()
                .map(|(_, first, _)| Self::union(&first).into_owned())
                .unwrap_or_default();
            for (range, list, size) in lists {
                if hits.is_empty() {
                    break;
                }
                // A range of an undecided word only narrows, and its word's pattern is
                // checked on every candidate anyway: one as large as the candidates is not
                // worth its union (`0.2`'s `\u{1}2`, every number that starts with 2).
                if size >= hits.len() && !query.range_decides(range) {
                    continue;
                }
                intersect(&mut hits, &Self::union(&list));
            }
            hits
        };
        if ranges.is_empty() {
            hits.retain(|&o| {
                self.slots[o as usize]
                    .document
                    .as_ref()
                    .is_some_and(|d| query.matches(d))
            });
        } else if !query.index_is_exact() {
            // The words the ranges decided need no second look.
            let undecided: Vec<&str> = query.undecided_patterns().collect();
            hits.retain(|&o| {
                self.slots[o as usize]
                    .document
                    .as_ref()
                    .is_some_and(|d| undecided.iter().all(|p| d.as_str().contains(p)))
            });
        }
        SearchHits {
            index: self,
            ordinals: hits,
        }
    }
}

/// Keeps in `hits` (sorted) the numbers that are in `other` (sorted): by walking both when
/// they are of a size, by a binary search in what is left of `other` for each hit when
/// `other` is much longer (a rare word beside a common one), so the cost follows the shorter
/// list.
fn intersect(hits: &mut Vec<Ordinal>, other: &[Ordinal]) {
    let mut rest = other;
    if other.len() <= hits.len().saturating_mul(8) {
        hits.retain(|&o| {
            while let Some((&x, tail)) = rest.split_first()
                && x < o
            {
                rest = tail;
            }
            rest.first() == Some(&o)
        });
    } else {
        hits.retain(|&o| {
            let at = rest.partition_point(|&x| x < o);
            rest = &rest[at..];
            rest.first() == Some(&o)
        });
    }
}

/// The jobs a search found, in the index they came from.
pub struct SearchHits<'a> {
    index: &'a SearchIndex,
    ordinals: Vec<Ordinal>,
}

impl fmt::Debug for SearchHits<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchHits")
            .field("jobs", &self.ordinals.len())
            .finish()
    }
}

impl SearchHits<'_> {
    /// How many jobs match.
    pub fn len(&self) -> usize {
        self.ordinals.len()
    }

    /// Whether no job matches.
    pub fn is_empty(&self) -> bool {
        self.ordinals.is_empty()
    }

    /// Whether the job `id` matches.
    pub fn contains(&self, id: JobId) -> bool {
        self.index
            .ordinals
            .get(&id)
            .is_some_and(|o| self.ordinals.binary_search(o).is_ok())
    }

    /// The ids of the jobs that match (in no particular order).
    pub fn ids(&self) -> impl Iterator<Item = JobId> + '_ {
        self.ordinals
            .iter()
            .map(|&o| self.index.slots[o as usize].id)
    }

    /// The ids of the matching jobs from `offset` on, at most `limit`, in the order `sort`
    /// gives (the list's: the key in its direction, ties by id in the same direction), when
    /// the index holds the key: `created_at` and `updated_at`. `None` for other keys, which a
    /// store orders itself.
    pub fn page(&self, sort: JobSort, offset: usize, limit: usize) -> Option<Vec<JobId>> {
        let keys = match sort.key {
            SortKey::CreatedAt => &self.index.created,
            SortKey::UpdatedAt => &self.index.updated,
            _ => return None,
        };
        let slots = &self.index.slots;
        let mut keyed: Vec<(i64, Ordinal)> = self
            .ordinals
            .iter()
            .map(|&o| (keys[o as usize], o))
            .collect();
        // Ties by id, as the stores order them.
        let order = |a: &(i64, Ordinal), b: &(i64, Ordinal)| -> Ordering {
            let ascending =
                a.0.cmp(&b.0)
                    .then_with(|| slots[a.1 as usize].id.cmp(&slots[b.1 as usize].id));
            match sort.direction {
                SortDirection::Asc => ascending,
                SortDirection::Desc => ascending.reverse(),
            }
        };
        let window = offset.saturating_add(limit).min(keyed.len());
        if offset >= window {
            return Some(Vec::new());
        }
        // Only the window is sorted: the jobs before its end are found in linear time.
        if window < keyed.len() {
            keyed.select_nth_unstable_by(window - 1, order);
            keyed.truncate(window);
        }
        keyed.sort_unstable_by(order);
        Some(
            keyed
                .into_iter()
                .skip(offset)
                .map(|(_, o)| slots[o as usize].id)
                .collect(),
        )
    }
}
