//! The port contract suite: every test states a promise of the ports' documentation
//! (`printdesk_domain::JobRepository`, `EventLog`, `PrinterRepository`, whose MUSTs they
//! are) and runs against every store: the domain's in-memory adapters, real SQLite and real
//! PostgreSQL (when `PRINTDESK_TEST_POSTGRES_URL` is set; otherwise each PostgreSQL test says
//! it was skipped). A few tests at the end are about the Diesel store only (its files, its
//! import, its event format). Every test gets a fresh store.

use std::{collections::BTreeSet, sync::Arc};

use printdesk_domain::{
    Actor, BulkUpdateError, DeleteJobError, EditJobError, EventKind, EventLog, Job, JobChanges,
    JobDeletion, JobDraft, JobEdit, JobEvent, JobField, JobHistory, JobId, JobPatch, JobQuery,
    JobRepository, JobService, JobSort, JobStatus, Limit, NewJobEvent, NewPrinter, Nullable,
    PrinterId, PrinterRepository, PrinterService, SearchQuery, Seq, SystemClock, Version,
    VersionCondition,
    testing::{InMemoryStore, RecordingPublisher, TestSealer},
};
use printdesk_store_diesel::{Store, test_support::TestDatabase};

struct Ctx {
    repo: Arc<dyn JobRepository>,
    /// Users, sessions, tokens, failed sign-ins (the `access` contract).
    access: Arc<dyn printdesk_domain::access::AccessStore>,
    printer_repo: Arc<dyn PrinterRepository>,
    jobs: JobService,
    printers: PrinterService,
    /// The Diesel store's database; `None` for the in-memory store.
    db: Option<TestDatabase>,
}

impl Ctx {
    fn new<S: JobRepository + PrinterRepository + 'static>(
        store: Arc<S>,
        access: Arc<dyn printdesk_domain::access::AccessStore>,
        db: Option<TestDatabase>,
    ) -> Self {
        let publisher = Arc::new(RecordingPublisher::default());
        let clock = Arc::new(SystemClock);
        Self {
            jobs: JobService::new(
                store.clone(),
                store.clone(),
                publisher.clone(),
                clock.clone(),
            ),
            printers: PrinterService::new(store.clone(), publisher, clock, Arc::new(TestSealer)),
            repo: store.clone(),
            access,
            printer_repo: store,
            db,
        }
    }

    /// The Diesel store's database URL (the Diesel-only tests run on nothing else).
    fn url(&self) -> &str {
        &self.db.as_ref().expect("a Diesel store").url
    }
}

async fn ctx(db: TestDatabase) -> Ctx {
    let store = Arc::new(Store::connect(&db.url).await.expect("connect and migrate"));
    // Searches answered from the index in memory from the first one on (the tests
    // `*_without_the_index` run others on a store that keeps none).
    assert!(
        store
            .wait_for_search_index(std::time::Duration::from_secs(60))
            .await,
        "the search index is built"
    );
    Ctx::new(store.clone(), store, Some(db))
}

/// Another store on `ctx`'s database that keeps no search index: every search checks every
/// job's stored document.
async fn unindexed(ctx: &Ctx) -> Ctx {
    let (backend, _) = printdesk_store_diesel::parse_url(ctx.url()).unwrap();
    let options = printdesk_store_diesel::StoreOptions {
        search_index: false,
        ..printdesk_store_diesel::StoreOptions::for_backend(backend)
    };
    let store = Arc::new(Store::connect_with(ctx.url(), options).await.unwrap());
    Ctx::new(store.clone(), store, None)
}

fn in_memory() -> Ctx {
    Ctx::new(
        Arc::new(InMemoryStore::default()),
        Arc::new(printdesk_domain::access::InMemoryAccessStore::default()),
        None,
    )
}

/// Declares each test once and runs the contract on every store, the rest on both Diesel
/// backends.
macro_rules! on_every_store {
    (contract: $($name:ident),* $(,)?; diesel: $($diesel:ident),* $(,)?) => {
        mod in_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::in_memory()).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::ctx(printdesk_store_diesel::test_support::TestDatabase::sqlite()).await).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $diesel() {
                    super::$diesel(super::ctx(printdesk_store_diesel::test_support::TestDatabase::sqlite()).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = printdesk_store_diesel::test_support::TestDatabase::postgres(stringify!($name)) {
                        super::$name(super::ctx(db).await).await;
                    }
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $diesel() {
                    if let Some(db) = printdesk_store_diesel::test_support::TestDatabase::postgres(stringify!($diesel)) {
                        super::$diesel(super::ctx(db).await).await;
                    }
                }
            )*
        }
    };
}

on_every_store!(
    contract:
    created_job_reads_back_exactly,
    edit_is_stored_versioned_and_logged,
    unchanged_edit_keeps_version_and_logs_nothing,
    refused_edit_saves_nothing_and_logs_nothing,
    foreign_key_guards_a_printer_deleted_after_the_check,
    concurrent_edits_without_if_match_all_land,
    concurrent_edits_with_if_match_lose_nothing,
    concurrent_writes_keep_their_own_outcomes,
    deleting_a_printer_detaches_its_jobs,
    list_filters_sorts_and_pages,
    total_count_follows_every_kind_of_change,
    text_search_is_case_insensitive_and_literal,
    history_survives_deletion_newest_first,
    event_log_is_gapless_and_resumable,
    duplicate_printer_id_is_refused,
    status_workflow_sets_timestamps_and_logs,
    bulk_edit_is_all_or_nothing,
    bulk_edit_of_500_jobs_in_one_transaction,
    scan_reads_filtered_pages_in_the_query_order,
    jobs_without_a_value_sort_last_in_both_directions,
    text_search_folds_case_and_accents_in_every_script,
    text_search_follows_edits_and_deletions,
    text_search_keeps_the_requested_order_on_every_page,
    text_search_counts_each_job_once_over_many_index_terms,
    text_search_pages_hits_wherever_they_lie_in_the_order,
    text_sorts_follow_unicode_collation_with_empty_values_last,
    missing_jobs_are_not_found_and_never_decided,
    bulk_failures_come_in_the_order_of_the_edits,
    a_refused_deletion_deletes_and_logs_nothing,
    history_counts_every_event_and_nothing_for_an_unknown_id,
    printers_are_listed_by_name_then_id,
    insert_refuses_a_printer_that_is_not_there,
    customer_filter_is_the_whole_name_ignoring_case,
    date_filters_select_instants_with_each_end_as_given,
    summary_figures_are_the_sums_over_the_filtered_jobs,
    scan_follows_the_list_order_for_every_sort,
    customers_are_counted_by_name_and_found_by_folded_prefix,
    customers_follow_edits_and_deletions;
    diesel:
    a_database_before_customer_folds_finds_its_customers,
    a_write_that_panics_fails_and_the_store_keeps_working,
    data_survives_reopening_the_store,
    import_loads_jobs_with_their_events_after_the_log,
    events_written_in_the_current_format_read_back,
    a_migrated_database_finds_its_existing_jobs,
    a_second_store_finds_the_first_ones_writes_at_once,
    text_search_without_the_index_folds_the_same,
    text_search_without_the_index_pages_the_same,
);

/// The access contract: users, sessions, tokens, failed sign-ins.
#[path = "repository/access.rs"]
mod access;

fn draft(name: &str) -> JobDraft {
    JobDraft {
        job_name: name.into(),
        ..JobDraft::default()
    }
}

async fn printer(ctx: &Ctx, id: &str) -> PrinterId {
    ctx.printers
        .create(NewPrinter {
            id: Some(id.into()),
            name: id.into(),
            printer_type: "prusa".into(),
            location: None,
            ..NewPrinter::default()
        })
        .await
        .expect("create printer")
        .id
}

/// Creates `n` jobs named "`prefix` 0", "`prefix` 1", …; their ids in that order.
async fn create_jobs(ctx: &Ctx, prefix: &str, n: usize) -> Vec<printdesk_domain::JobId> {
    let actor = Actor::anonymous();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let job = ctx.jobs.create(draft(&format!("{prefix} {i}")), &actor);
        ids.push(job.await.unwrap().id);
    }
    ids
}

/// The event of an edit that turns `current` into `next`, as the domain would build it;
/// for edits the domain's own checks would refuse before the store sees them.
fn updated(current: &Job, next: Job) -> printdesk_domain::NewJobEvent {
    printdesk_domain::NewJobEvent {
        kind: EventKind::JobUpdated,
        changes: printdesk_domain::JobChanges::between(current, &next),
        job: next,
        actor: None,
        at: current.updated_at,
    }
}

async fn created_job_reads_back_exactly(ctx: Ctx) {
    let p = printer(&ctx, "mk4-1").await;
    let job = ctx
        .jobs
        .create(
            JobDraft {
                job_name: "Benchy ✓".into(),
                status: JobStatus::Running,
                is_business: true,
                customer_name: Some("ACME".into()),
                notes: Some("'; DROP TABLE jobs; --".into()),
                file_name: Some("benchy.gcode".into()),
                printer_id: Some(p.to_string()),
            },
            &Actor::anonymous(),
        )
        .await
        .unwrap();
    let read = ctx.repo.get(job.id).await.unwrap().expect("stored");
    assert_eq!(read, job);
    assert_eq!(read.version, Version::FIRST);
    assert_eq!(read.notes.unwrap().as_str(), "'; DROP TABLE jobs; --");
}

async fn edit_is_stored_versioned_and_logged(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("a"), &Actor::anonymous())
        .await
        .unwrap();
    let patch = JobPatch {
        notes: Nullable::Set("re-sliced".into()),
        ..JobPatch::default()
    };
    let edited = ctx
        .jobs
        .edit(
            job.id,
            patch,
            VersionCondition::from(job.version),
            &Actor::named("ops"),
        )
        .await
        .unwrap();
    assert_eq!(edited.version, Version::new(2));
    assert!(edited.updated_at >= job.updated_at);
    assert_eq!(ctx.repo.get(job.id).await.unwrap().unwrap(), edited);

    let events = ctx.repo.events_after(Seq::ZERO, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    let updated = &events[1];
    assert_eq!(updated.kind, EventKind::JobUpdated);
    assert_eq!(updated.actor.as_deref(), Some("ops"));
    assert_eq!(updated.changes.len(), 1);
    let change = updated.changes.get(JobField::Notes).unwrap();
    assert_eq!(
        (change.old.clone(), change.new.clone()),
        (serde_json::Value::Null, "re-sliced".into())
    );
    assert_eq!(updated.job, edited);
}

async fn unchanged_edit_keeps_version_and_logs_nothing(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("same"), &Actor::anonymous())
        .await
        .unwrap();
    let patch = JobPatch {
        job_name: Some("  same ".into()),
        ..JobPatch::default()
    };
    let after = ctx
        .jobs
        .edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
        .await
        .unwrap();
    assert_eq!(after, job);
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(1));
}

async fn refused_edit_saves_nothing_and_logs_nothing(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("keep"), &Actor::anonymous())
        .await
        .unwrap();
    let patch = JobPatch {
        job_name: Some("changed".into()),
        is_business: Some(true),
        ..JobPatch::default()
    };
    let err = ctx
        .jobs
        .edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
        .await
        .unwrap_err();
    assert!(matches!(err, EditJobError::Invalid(_)), "{err:?}");
    let stale = JobPatch {
        job_name: Some("changed".into()),
        ..JobPatch::default()
    };
    let err = ctx
        .jobs
        .edit(
            job.id,
            stale,
            VersionCondition::from(Version::new(7)),
            &Actor::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, EditJobError::VersionMismatch { ref current } if **current == job),
        "{err:?}"
    );
    assert_eq!(ctx.repo.get(job.id).await.unwrap().unwrap(), job);
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(1));
}

async fn foreign_key_guards_a_printer_deleted_after_the_check(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("fk"), &Actor::anonymous())
        .await
        .unwrap();
    // Bypass the service's existence check, as a concurrent printer delete would.
    let edit: JobEdit = Box::new(|current: &Job| {
        let mut next = current.clone();
        next.printer_id = Some(PrinterId::parse("ghost").unwrap());
        next.version = current.version.next();
        Ok(Some(updated(current, next)))
    });
    let err = ctx.repo.update(job.id, edit).await.unwrap_err();
    match err {
        EditJobError::Invalid(errors) => assert_eq!(errors.violations()[0].field, "printer_id"),
        other => panic!("expected a printer_id violation, got {other:?}"),
    }
    assert_eq!(ctx.repo.get(job.id).await.unwrap().unwrap(), job);
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(1));
}

async fn concurrent_edits_without_if_match_all_land(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("race"), &Actor::anonymous())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let jobs = ctx.jobs.clone();
            tokio::spawn(async move {
                let patch = JobPatch {
                    notes: Nullable::Set(format!("edit {i}")),
                    ..JobPatch::default()
                };
                jobs.edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
                    .await
            })
        })
        .collect();
    let mut versions = BTreeSet::new();
    for t in tasks {
        versions.insert(
            t.await
                .unwrap()
                .expect("edit without If-Match always lands")
                .version
                .get(),
        );
    }
    assert_eq!(
        versions,
        (2..=21).collect(),
        "every edit got its own version"
    );
    let stored = ctx.repo.get(job.id).await.unwrap().unwrap();
    assert_eq!(stored.version, Version::new(21));
    let events = ctx.repo.events_after(Seq::ZERO, 100).await.unwrap();
    assert_eq!(events.len(), 21);
    assert_eq!(
        events.last().unwrap().job,
        stored,
        "the newest event is the stored state"
    );
}

async fn concurrent_edits_with_if_match_lose_nothing(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("cas"), &Actor::anonymous())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let jobs = ctx.jobs.clone();
            tokio::spawn(async move {
                let seen = jobs.get(job.id).await.unwrap();
                let patch = JobPatch {
                    notes: Nullable::Set(format!("edit {i}")),
                    ..JobPatch::default()
                };
                jobs.edit(
                    job.id,
                    patch,
                    VersionCondition::from(seen.version),
                    &Actor::anonymous(),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(EditJobError::VersionMismatch { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(ok >= 1);
    let stored = ctx.repo.get(job.id).await.unwrap().unwrap();
    assert_eq!(stored.version.get(), 1 + ok);
    assert_eq!(ctx.repo.latest_seq().await.unwrap().get(), 1 + ok);
}

/// Concurrent writes may share a transaction (SQLite's group commit): a write that fails in
/// the database (here: the printer foreign key) or is refused by the domain must be rolled
/// back alone, and every other write must land with its event, the log staying gapless.
async fn concurrent_writes_keep_their_own_outcomes(ctx: Ctx) {
    let ids = create_jobs(&ctx, "job", 60).await;
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let repo = ctx.repo.clone();
            tokio::spawn(async move {
                let edit: JobEdit = Box::new(move |current: &Job| {
                    let mut next = current.clone();
                    next.version = current.version.next();
                    match i % 3 {
                        // The foreign key refuses this one inside the transaction.
                        0 => next.printer_id = Some(PrinterId::parse("ghost").unwrap()),
                        // The domain refuses this one before anything is written.
                        1 => {
                            return Err(EditJobError::VersionMismatch {
                                current: Box::new(current.clone()),
                            });
                        }
                        _ => {
                            next.notes =
                                Some(printdesk_domain::Notes::parse(format!("kept {i}")).unwrap())
                        }
                    }
                    Ok(Some(updated(current, next)))
                });
                (i, repo.update(id, edit).await)
            })
        })
        .collect();
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        match (i % 3, outcome) {
            (0, Err(EditJobError::Invalid(_))) | (1, Err(EditJobError::VersionMismatch { .. })) => {
            }
            (2, Ok(printdesk_domain::UpdateOutcome::Changed(event))) => {
                assert_eq!(event.job.version, Version::new(2));
            }
            (_, other) => panic!("write {i}: unexpected outcome {other:?}"),
        }
    }
    for (i, id) in ids.iter().enumerate() {
        let stored = ctx.repo.get(*id).await.unwrap().unwrap();
        if i % 3 == 2 {
            assert_eq!(stored.version, Version::new(2), "job {i}");
            assert_eq!(stored.notes.unwrap().as_str(), format!("kept {i}"));
        } else {
            assert_eq!(
                stored.version,
                Version::FIRST,
                "job {i} was refused: unchanged"
            );
            assert_eq!(stored.printer_id, None);
        }
    }
    let events = ctx.repo.events_after(Seq::ZERO, 1000).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq.get()).collect();
    assert_eq!(
        seqs,
        (1..=80).collect::<Vec<_>>(),
        "60 creations and 20 edits, no gap"
    );
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(80));
}

/// A bug that panics inside a write (here: in the edit closure) must not take the store down
/// or leave a half-written transaction: the write fails as an internal error, nothing of it is
/// stored, and the next write works (on SQLite the writer thread reopens its connection).
async fn a_write_that_panics_fails_and_the_store_keeps_working(ctx: Ctx) {
    let id = create_jobs(&ctx, "panic", 1).await[0];
    let edit: JobEdit = Box::new(|_current: &Job| panic!("a bug in an edit"));
    match ctx.repo.update(id, edit).await {
        Err(EditJobError::Store(printdesk_domain::StoreError::Internal(_))) => {}
        other => panic!("expected an internal store error, got {other:?}"),
    }
    assert_eq!(
        ctx.repo.get(id).await.unwrap().unwrap().version,
        Version::FIRST
    );
    let patch = JobPatch {
        notes: Nullable::Set("after the panic".into()),
        ..JobPatch::default()
    };
    let edited = ctx
        .jobs
        .edit(id, patch, VersionCondition::Any, &Actor::anonymous())
        .await
        .unwrap();
    assert_eq!(edited.version, Version::new(2));
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(2));
}

async fn deleting_a_printer_detaches_its_jobs(ctx: Ctx) {
    let p = printer(&ctx, "x1c").await;
    let on_printer = JobDraft {
        printer_id: Some(p.to_string()),
        ..draft("on printer")
    };
    let a = ctx
        .jobs
        .create(on_printer.clone(), &Actor::anonymous())
        .await
        .unwrap();
    let b = ctx
        .jobs
        .create(on_printer, &Actor::anonymous())
        .await
        .unwrap();
    let manual = ctx
        .jobs
        .create(draft("manual"), &Actor::anonymous())
        .await
        .unwrap();
    ctx.printers.delete(&p, &Actor::anonymous()).await.unwrap();

    assert!(ctx.printer_repo.get(&p).await.unwrap().is_none());
    for job in [&a, &b] {
        let now = ctx
            .repo
            .get(job.id)
            .await
            .unwrap()
            .expect("jobs are never deleted with their printer");
        assert_eq!(now.printer_id, None);
        assert_eq!(now.version, Version::new(2));
    }
    assert_eq!(ctx.repo.get(manual.id).await.unwrap().unwrap(), manual);
    let events = ctx.repo.events_after(Seq::new(3), 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.changes.get(JobField::PrinterId).is_some())
    );
    let detached: Vec<JobId> = events.iter().map(|e| e.job_id).collect();
    let mut by_id = vec![a.id, b.id];
    by_id.sort();
    assert_eq!(
        detached, by_id,
        "one event per detached job, in job id order"
    );
    assert!(matches!(
        ctx.printers.delete(&p, &Actor::anonymous()).await,
        Err(printdesk_domain::DeletePrinterError::NotFound)
    ));
}

async fn list_filters_sorts_and_pages(ctx: Ctx) {
    let p = printer(&ctx, "p1").await;
    for i in 0..12 {
        let status = JobStatus::ALL[i % 4];
        let d = JobDraft {
            job_name: format!("job {i:02}"),
            status,
            is_business: i % 3 == 0,
            customer_name: (i % 3 == 0).then(|| format!("cust {i}")),
            printer_id: (i % 2 == 0).then(|| p.to_string()),
            ..JobDraft::default()
        };
        ctx.jobs.create(d, &Actor::anonymous()).await.unwrap();
    }
    let all = ctx.jobs.list(&JobQuery::default()).await.unwrap();
    assert_eq!(all.total_count, 12);
    assert_eq!(
        all.jobs.first().unwrap().job_name.as_str(),
        "job 11",
        "newest first by default"
    );

    let q = JobQuery {
        status: Some(JobStatus::Running),
        ..JobQuery::default()
    };
    let page = ctx.jobs.list(&q).await.unwrap();
    assert_eq!(page.total_count, 3);
    assert!(page.jobs.iter().all(|j| j.status == JobStatus::Running));

    let q = JobQuery {
        printer_id: Some(p.clone()),
        is_business: Some(true),
        ..JobQuery::default()
    };
    let names: Vec<_> = ctx
        .jobs
        .list(&q)
        .await
        .unwrap()
        .jobs
        .into_iter()
        .map(|j| j.job_name.to_string())
        .collect();
    assert_eq!(names, ["job 06", "job 00"]);

    let q = JobQuery {
        sort: "job_name:asc".parse::<JobSort>().unwrap(),
        limit: Limit::new(5).unwrap(),
        offset: 10,
        ..JobQuery::default()
    };
    let page = ctx.jobs.list(&q).await.unwrap();
    assert_eq!(page.total_count, 12);
    let names: Vec<_> = page
        .jobs
        .into_iter()
        .map(|j| j.job_name.to_string())
        .collect();
    assert_eq!(names, ["job 10", "job 11"]);
}

/// `total_count` without a text search comes from counts the database keeps per status,
/// printer and business flag: after creations, edits of each counted field, workflow moves,
/// bulk edits, deletions and a printer deletion, it must equal the jobs that match, for every
/// combination of filters.
async fn total_count_follows_every_kind_of_change(ctx: Ctx) {
    let p1 = printer(&ctx, "p1").await;
    let p2 = printer(&ctx, "p2").await;
    let actor = Actor::anonymous();
    let mut ids = Vec::new();
    for i in 0..16 {
        let d = JobDraft {
            job_name: format!("job {i}"),
            status: JobStatus::ALL[i % 4],
            is_business: i % 3 == 0,
            customer_name: (i % 3 == 0).then(|| "ACME".into()),
            printer_id: [None, Some(p1.to_string()), Some(p2.to_string())][i % 4 % 3].clone(),
            ..JobDraft::default()
        };
        ids.push(ctx.jobs.create(d, &actor).await.unwrap().id);
    }
    // One edit of each counted field (printer set, printer cleared, business flag) and one
    // of a field that is not counted.
    let edits = [
        (
            ids[0],
            JobPatch {
                printer_id: Nullable::Set("p2".into()),
                ..JobPatch::default()
            },
        ),
        (
            ids[1],
            JobPatch {
                printer_id: Nullable::Clear,
                ..JobPatch::default()
            },
        ),
        (
            ids[2],
            JobPatch {
                is_business: Some(true),
                customer_name: Nullable::Set("ACME".into()),
                ..JobPatch::default()
            },
        ),
        (
            ids[3],
            JobPatch {
                notes: Nullable::Set("not counted".into()),
                ..JobPatch::default()
            },
        ),
    ];
    for (id, patch) in edits {
        ctx.jobs
            .edit(id, patch, VersionCondition::Any, &actor)
            .await
            .unwrap();
    }
    ctx.jobs
        .change_status(
            ids[4],
            JobStatus::Running,
            false,
            VersionCondition::Any,
            &actor,
        )
        .await
        .unwrap();
    ctx.jobs
        .change_status(
            ids[5],
            JobStatus::Completed,
            true,
            VersionCondition::Any,
            &actor,
        )
        .await
        .unwrap();
    ctx.jobs
        .bulk_edit(
            ids[6..10].to_vec(),
            JobPatch {
                status: Some(JobStatus::Failed),
                ..JobPatch::default()
            },
            Default::default(),
            &actor,
        )
        .await
        .unwrap();
    ctx.jobs
        .delete(ids[10], VersionCondition::Any, &actor)
        .await
        .unwrap();
    ctx.jobs
        .delete(ids[11], VersionCondition::Any, &actor)
        .await
        .unwrap();
    ctx.printers.delete(&p1, &actor).await.unwrap();

    let statuses = [None].into_iter().chain(JobStatus::ALL.map(Some));
    let mut checked = 0;
    for status in statuses {
        for printer_id in [None, Some(p1.clone()), Some(p2.clone())] {
            for is_business in [None, Some(true), Some(false)] {
                let filter = JobQuery {
                    status,
                    printer_id: printer_id.clone(),
                    is_business,
                    ..JobQuery::default()
                };
                let matching = ctx.repo.scan(&filter, None, 1000).await.unwrap().len() as u64;
                // A page that does not show the total by itself (offset > 0), so it is counted.
                let page = JobQuery {
                    limit: Limit::new(1).unwrap(),
                    offset: 1,
                    ..filter.clone()
                };
                let listed = ctx.repo.list(&page).await.unwrap();
                assert_eq!(listed.total_count, matching, "{filter:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * 3 * 3);
    let all = JobQuery {
        offset: 1,
        ..JobQuery::default()
    };
    assert_eq!(ctx.repo.list(&all).await.unwrap().total_count, 14);
}

async fn text_search_is_case_insensitive_and_literal(ctx: Ctx) {
    for (name, notes) in [
        ("Gear 100%", None),
        ("Gear 1000", Some("spare")),
        ("Bracket", Some("for GEAR box")),
    ] {
        let d = JobDraft {
            notes: notes.map(Into::into),
            ..draft(name)
        };
        ctx.jobs.create(d, &Actor::anonymous()).await.unwrap();
    }
    let search = |t: &str| JobQuery {
        text: SearchQuery::parse(t).unwrap(),
        ..JobQuery::default()
    };
    assert_eq!(ctx.jobs.list(&search("gear")).await.unwrap().total_count, 3);
    assert_eq!(
        ctx.jobs.list(&search("100%")).await.unwrap().total_count,
        1,
        "% is literal"
    );
    assert_eq!(
        ctx.jobs.list(&search("_")).await.unwrap().total_count,
        0,
        "_ is literal"
    );
    assert_eq!(
        ctx.jobs.list(&search("SPARE")).await.unwrap().total_count,
        1
    );
}

async fn history_survives_deletion_newest_first(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("h"), &Actor::anonymous())
        .await
        .unwrap();
    let patch = JobPatch {
        customer_name: Nullable::Set("Old Co".into()),
        ..JobPatch::default()
    };
    ctx.jobs
        .edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
        .await
        .unwrap();
    ctx.jobs
        .delete(
            job.id,
            VersionCondition::from(Version::new(2)),
            &Actor::anonymous(),
        )
        .await
        .unwrap();
    assert!(ctx.repo.get(job.id).await.unwrap().is_none());

    let JobHistory {
        events,
        total_count: total,
    } = ctx.repo.history(job.id, 10, 0).await.unwrap();
    assert_eq!(total, 3);
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::JobDeleted,
            EventKind::JobUpdated,
            EventKind::JobCreated
        ]
    );
    assert_eq!(
        events[0].job.customer_name.as_ref().unwrap().as_str(),
        "Old Co",
        "deletion keeps the last state"
    );
    let page = ctx.repo.history(job.id, 1, 1).await.unwrap().events;
    assert_eq!(page[0].kind, EventKind::JobUpdated);
}

async fn event_log_is_gapless_and_resumable(ctx: Ctx) {
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::ZERO);
    let job = ctx
        .jobs
        .create(draft("e"), &Actor::anonymous())
        .await
        .unwrap();
    for i in 0..5 {
        let patch = JobPatch {
            notes: Nullable::Set(i.to_string()),
            ..JobPatch::default()
        };
        ctx.jobs
            .edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
            .await
            .unwrap();
    }
    let all = ctx.repo.events_after(Seq::ZERO, 100).await.unwrap();
    let seqs: Vec<_> = all.iter().map(|e| e.seq.get()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    let tail: Vec<_> = ctx
        .repo
        .events_after(Seq::new(4), 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq.get())
        .collect();
    assert_eq!(tail, [5, 6]);
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(6));
}

async fn duplicate_printer_id_is_refused(ctx: Ctx) {
    printer(&ctx, "dup").await;
    let err = ctx
        .printers
        .create(NewPrinter {
            id: Some("dup".into()),
            name: "again".into(),
            printer_type: "other".into(),
            location: None,
            ..NewPrinter::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, printdesk_domain::CreatePrinterError::Duplicate { .. }),
        "{err:?}"
    );
}

async fn data_survives_reopening_the_store(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("durable"), &Actor::anonymous())
        .await
        .unwrap();
    let patch = JobPatch {
        status: Some(JobStatus::Completed),
        ..JobPatch::default()
    };
    let edited = ctx
        .jobs
        .edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
        .await
        .unwrap();
    let url = ctx.url().to_owned();
    drop(ctx.jobs);
    drop(ctx.printers);
    drop(ctx.repo);
    drop(ctx.printer_repo);
    let reopened = Store::connect(&url)
        .await
        .expect("reopen; migrations are idempotent");
    assert_eq!(
        JobRepository::get(&reopened, edited.id)
            .await
            .unwrap()
            .unwrap(),
        edited
    );
    assert_eq!(reopened.latest_seq().await.unwrap(), Seq::new(2));
}

async fn status_workflow_sets_timestamps_and_logs(ctx: Ctx) {
    let job = ctx
        .jobs
        .create(draft("wf"), &Actor::anonymous())
        .await
        .unwrap();
    let running = ctx
        .jobs
        .change_status(
            job.id,
            JobStatus::Running,
            false,
            VersionCondition::from(job.version),
            &Actor::anonymous(),
        )
        .await
        .unwrap();
    assert!(running.started_at.is_some());
    let done = ctx
        .jobs
        .change_status(
            job.id,
            JobStatus::Completed,
            false,
            VersionCondition::Any,
            &Actor::anonymous(),
        )
        .await
        .unwrap();
    assert!(done.completed_at.is_some());
    let err = ctx
        .jobs
        .change_status(
            job.id,
            JobStatus::Pending,
            false,
            VersionCondition::Any,
            &Actor::anonymous(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EditJobError::Transition(_)), "{err:?}");
    let stored = ctx.repo.get(job.id).await.unwrap().unwrap();
    assert_eq!(stored, done, "timestamps read back exactly");
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(3));
}

async fn bulk_edit_is_all_or_nothing(ctx: Ctx) {
    let a = ctx
        .jobs
        .create(draft("a"), &Actor::anonymous())
        .await
        .unwrap();
    let b = ctx
        .jobs
        .create(
            JobDraft {
                is_business: true,
                customer_name: Some("B".into()),
                ..draft("b")
            },
            &Actor::anonymous(),
        )
        .await
        .unwrap();
    let clear = JobPatch {
        customer_name: Nullable::Clear,
        notes: Nullable::Set("n".into()),
        ..JobPatch::default()
    };
    let err = ctx
        .jobs
        .bulk_edit(
            vec![a.id, b.id],
            clear,
            Default::default(),
            &Actor::anonymous(),
        )
        .await
        .unwrap_err();
    match err {
        printdesk_domain::BulkEditError::Rejected { failures } => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].id, b.id);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ctx.repo.get(a.id).await.unwrap().unwrap(),
        a,
        "nothing saved"
    );
    assert_eq!(
        ctx.repo.latest_seq().await.unwrap(),
        Seq::new(2),
        "no event for a rolled-back bulk edit"
    );
}

async fn bulk_edit_of_500_jobs_in_one_transaction(ctx: Ctx) {
    let ids = create_jobs(&ctx, "bulk", 500).await;
    let patch = JobPatch {
        is_business: Some(true),
        customer_name: Nullable::Set("ACME".into()),
        ..JobPatch::default()
    };
    let jobs = ctx
        .jobs
        .bulk_edit(ids.clone(), patch, Default::default(), &Actor::anonymous())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 500);
    assert!(
        jobs.iter().map(|j| j.id).eq(ids.iter().copied()),
        "outcomes in the order of the edits"
    );
    let q = JobQuery {
        is_business: Some(true),
        ..JobQuery::default()
    };
    assert_eq!(ctx.jobs.list(&q).await.unwrap().total_count, 500);
    assert_eq!(
        ctx.repo.latest_seq().await.unwrap(),
        Seq::new(1000),
        "one event per changed job"
    );
}

async fn scan_reads_filtered_pages_in_the_query_order(ctx: Ctx) {
    for i in 0..9 {
        let status = if i % 3 == 0 {
            JobStatus::Failed
        } else {
            JobStatus::Pending
        };
        ctx.jobs
            .create(
                JobDraft {
                    status,
                    ..draft(&format!("s{i}"))
                },
                &Actor::anonymous(),
            )
            .await
            .unwrap();
    }
    let q = JobQuery {
        status: Some(JobStatus::Failed),
        sort: "created_at:asc".parse().unwrap(),
        ..JobQuery::default()
    };
    let first = ctx.repo.scan(&q, None, 2).await.unwrap();
    let rest = ctx.repo.scan(&q, Some(&first[1]), 2).await.unwrap();
    let names: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|j| j.job_name.to_string())
        .collect();
    assert_eq!(names, ["s0", "s3", "s6"]);
}

async fn import_loads_jobs_with_their_events_after_the_log(ctx: Ctx) {
    let existing = ctx
        .jobs
        .create(draft("before"), &Actor::anonymous())
        .await
        .unwrap();
    let printer = NewPrinter {
        id: Some("imp".into()),
        name: "Imported".into(),
        printer_type: "other".into(),
        location: None,
        ..NewPrinter::default()
    }
    .validate(existing.created_at, &TestSealer)
    .unwrap();
    let jobs: Vec<Job> = (0..1500)
        .map(|i| Job {
            id: printdesk_domain::JobId::generate(),
            job_name: printdesk_domain::JobName::parse(format!("imported {i}")).unwrap(),
            printer_id: Some(printer.id.clone()),
            ..existing.clone()
        })
        .collect();
    let mut conn = {
        let (_, target) = printdesk_store_diesel::parse_url(ctx.url()).unwrap();
        use diesel::Connection;
        printdesk_store_diesel::AnyConnection::establish(&target).unwrap()
    };
    printdesk_store_diesel::import(&mut conn, std::slice::from_ref(&printer), &jobs).unwrap();

    assert!(ctx.printer_repo.get(&printer.id).await.unwrap().is_some());
    assert_eq!(
        ctx.repo.get(jobs[1499].id).await.unwrap().unwrap(),
        jobs[1499]
    );
    assert_eq!(
        ctx.repo.latest_seq().await.unwrap(),
        Seq::new(1501),
        "seq continues the log"
    );
    let imported = ctx.repo.events_after(Seq::new(1), 1).await.unwrap();
    assert_eq!(
        (imported[0].kind, &imported[0].job),
        (EventKind::JobCreated, &jobs[0])
    );
}

/// Creates a job from `draft`, which must be valid.
async fn create(ctx: &Ctx, draft: JobDraft) -> Job {
    ctx.jobs.create(draft, &Actor::anonymous()).await.unwrap()
}

/// Every job of `query`'s order, read page by page with `offset`, two at a time.
async fn paged_names(ctx: &Ctx, query: &JobQuery) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let page = ctx
            .repo
            .list(&JobQuery {
                limit: Limit::new(2).unwrap(),
                offset: names.len() as u64,
                ..query.clone()
            })
            .await
            .unwrap();
        if page.jobs.is_empty() {
            return names;
        }
        names.extend(page.jobs.iter().map(|j| j.job_name.to_string()));
    }
}

/// `JobRepository::list`: jobs without a value for the sort key come last in both
/// directions, the others in the key's order (ties by id in the same direction), and paging
/// with `offset` walks that order.
async fn jobs_without_a_value_sort_last_in_both_directions(ctx: Ctx) {
    let p = printer(&ctx, "pa").await;
    let q = printer(&ctx, "pb").await;
    /// A job's name, customer, printer and file.
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a PrinterId>,
        Option<&'a str>,
    );
    let rows: [Row<'_>; 5] = [
        ("n1", Some("Beta"), Some(&q), None),
        ("n2", None, None, Some("b.3mf")),
        ("n3", Some("Alpha"), None, Some("a.3mf")),
        ("n4", None, Some(&p), None),
        ("n5", Some("Beta"), Some(&p), Some("c.3mf")),
    ];
    let mut ids = Vec::new();
    for (name, customer, printer, file) in rows {
        let job = create(
            &ctx,
            JobDraft {
                is_business: customer.is_some(),
                customer_name: customer.map(Into::into),
                printer_id: printer.map(ToString::to_string),
                file_name: file.map(Into::into),
                ..draft(name)
            },
        )
        .await;
        ids.push((name, job.id));
    }
    // Ties (n1 and n5 for Beta, the printers' jobs, the nulls) go by id in the sort's
    // direction; ids grow with creation, so ascending ties are in creation order.
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "customer_name",
            &["n3", "n1", "n5", "n2", "n4"],
            &["n5", "n1", "n3", "n4", "n2"],
        ),
        (
            "printer_id",
            &["n4", "n5", "n1", "n2", "n3"],
            &["n1", "n5", "n4", "n3", "n2"],
        ),
        (
            "file_name",
            &["n3", "n2", "n5", "n1", "n4"],
            &["n5", "n2", "n3", "n4", "n1"],
        ),
    ];
    for (key, asc, desc) in cases {
        for (direction, expected) in [("asc", asc), ("desc", desc)] {
            let query = JobQuery {
                sort: format!("{key}:{direction}").parse::<JobSort>().unwrap(),
                ..JobQuery::default()
            };
            let page = ctx.repo.list(&query).await.unwrap();
            let names: Vec<_> = page.jobs.iter().map(|j| j.job_name.to_string()).collect();
            assert_eq!(names, expected, "{key}:{direction}");
            assert_eq!(
                paged_names(&ctx, &query).await,
                expected,
                "{key}:{direction}, paged"
            );
        }
    }
}

/// One job of the search table: name, customer, notes, file.
type SearchRow = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

const SEARCH_JOBS: [SearchRow; 9] = [
    ("GEHÄUSE FÜR ÖLPUMPE", Some("Müller GmbH"), None, None),
    ("Résumé Émile", None, Some("für Café Noël"), None),
    ("ΔΈΛΤΑ βάση", None, None, Some("delta.3mf")),
    ("МОСКВА заказ", None, None, Some("Ёлка.3mf")),
    ("IŞIK İstanbul", Some("Straße 5"), None, None),
    ("東京タワー模型", None, Some("大阪"), None),
    (
        r#"Syntax 50% a_b c\d "q" x* y-z AND NEAR(n)"#,
        None,
        None,
        None,
    ),
    (
        "Plain bracket",
        None,
        Some("spare part"),
        Some("bracket-7.3mf"),
    ),
    ("Long", None, None, None),
];

/// Creates [`SEARCH_JOBS`]; the last one's notes are 200 `ä`.
async fn create_search_jobs(ctx: &Ctx) {
    let long_notes = "ä".repeat(200);
    for (name, customer, notes, file) in SEARCH_JOBS {
        create(
            ctx,
            JobDraft {
                is_business: customer.is_some(),
                customer_name: customer.map(Into::into),
                notes: notes
                    .map(Into::into)
                    .or((name == "Long").then(|| long_notes.clone())),
                file_name: file.map(Into::into),
                ..draft(name)
            },
        )
        .await;
    }
}

/// The names of the jobs `text` finds, by name (and their count as the store reports it).
async fn found(ctx: &Ctx, text: &str) -> Vec<String> {
    let query = JobQuery {
        text: Some(SearchQuery::parse(text).unwrap().expect("a query")),
        sort: "job_name:asc".parse().unwrap(),
        limit: Limit::new(500).unwrap(),
        ..JobQuery::default()
    };
    let page = ctx.repo.list(&query).await.unwrap();
    let names: Vec<String> = page.jobs.iter().map(|j| j.job_name.to_string()).collect();
    assert_eq!(
        page.total_count,
        names.len() as u64,
        "{text:?}: total_count"
    );
    // The export's scan finds the same jobs.
    let scanned = ctx.repo.scan(&query, None, 500).await.unwrap();
    assert_eq!(scanned.len(), names.len(), "{text:?}: scan");
    // Paged one at a time (the store may take another way to its candidates), the same.
    let paged = paged_names(ctx, &query).await;
    assert_eq!(paged, names, "{text:?}: paged");
    names
}

/// `JobRepository::list` with `text` (issue 13): case- and accent-insensitive in every script,
/// words of three or more characters anywhere, shorter ones at word starts, all words
/// required in any of the four fields, and no character with a meaning of its own.
async fn text_search_folds_case_and_accents_in_every_script(ctx: Ctx) {
    create_search_jobs(&ctx).await;
    let german = "GEHÄUSE FÜR ÖLPUMPE";
    let french = "Résumé Émile";
    let greek = "ΔΈΛΤΑ βάση";
    let russian = "МОСКВА заказ";
    let turkish = "IŞIK İstanbul";
    let cjk = "東京タワー模型";
    let syntax = r#"Syntax 50% a_b c\d "q" x* y-z AND NEAR(n)"#;
    let plain = "Plain bracket";
    let long = "Long";
    let table: &[(&str, &[&str])] = &[
        // German: upper, lower, accented, unaccented, in the name and the customer.
        ("GEHÄUSE", &[german]),
        ("gehäuse", &[german]),
        ("gehause", &[german]),
        ("ölpumpe", &[german]),
        ("OLPUMPE", &[german]),
        ("pumpe", &[german]),
        ("muller", &[german]),
        ("MÜLLER", &[german]),
        ("Müller", &[german]),
        ("für", &[german, french]),
        ("fü", &[german, french]),
        ("ür", &[]),
        ("strasse", &[turkish]),
        ("STRAßE", &[turkish]),
        // Words in different fields, all required.
        ("ölpumpe müller", &[german]),
        ("müller résumé", &[]),
        ("emile noel cafe", &[french]),
        ("bracket spare 3mf", &[plain]),
        // French.
        ("resume", &[french]),
        ("RÉSUMÉ", &[french]),
        ("émile", &[french]),
        // Greek, with and without the accent, final and medial sigma.
        ("δέλτα", &[greek]),
        ("δελτα", &[greek]),
        ("ΔΕΛΤΑ", &[greek]),
        ("ΒΑΣΗ", &[greek]),
        // Cyrillic, ё as е.
        ("москва", &[russian]),
        ("Москва", &[russian]),
        ("ЗАКАЗ", &[russian]),
        ("елка", &[russian]),
        ("ЁЛКА", &[russian]),
        // Turkish dotted and dotless i.
        ("ışık", &[turkish]),
        ("isik", &[turkish]),
        ("IŞIK", &[turkish]),
        ("istanbul", &[turkish]),
        ("İSTANBUL", &[turkish]),
        // CJK: every character starts a word.
        ("東京", &[cjk]),
        ("タワー", &[cjk]),
        ("模型", &[cjk]),
        ("京", &[cjk]),
        ("大阪", &[cjk]),
        // LIKE and FTS syntax is plain text.
        ("50%", &[syntax]),
        ("%", &[syntax]),
        ("a_b", &[syntax]),
        ("_", &[syntax]),
        (r"c\d", &[syntax]),
        (r"\", &[syntax]),
        ("\"q\"", &[syntax]),
        ("\"", &[syntax]),
        ("x*", &[syntax]),
        ("*", &[syntax]),
        ("y-z", &[syntax]),
        ("-", &[plain, syntax]),
        ("AND", &[syntax]),
        ("near(", &[syntax]),
        ("NEAR(n)", &[syntax]),
        ("%ölpumpe", &[]),
        ("ö_pumpe", &[]),
        ("b*", &[]),
        ("-bracket", &[]),
        ("OR", &[]),
        // A 200-character query (the longest there is) finds the 200-character word.
        (&*"A".repeat(200), &[long]),
        (&*"a".repeat(199), &[long]),
        ("nothing like it", &[]),
    ];
    for (query, expected) in table {
        assert_eq!(found(&ctx, query).await, *expected, "{query:?}");
    }
    assert!(
        SearchQuery::parse(&"a".repeat(201)).is_err(),
        "201 characters are refused"
    );
}

/// `JobRepository::list` with `text` and an edit: the search follows every change of a
/// searched field (including the deletion), and only the changed words stop matching.
async fn text_search_follows_edits_and_deletions(ctx: Ctx) {
    let actor = Actor::anonymous();
    let job = ctx
        .jobs
        .create(
            JobDraft {
                notes: Some("bench edit 41".into()),
                ..draft("Zahnrad")
            },
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(found(&ctx, "41").await, ["Zahnrad"]);
    let patch = JobPatch {
        notes: Nullable::Set("bench edit 42".into()),
        job_name: Some("Zahnräder".into()),
        customer_name: Nullable::Set("Ölwerk".into()),
        is_business: Some(true),
        ..JobPatch::default()
    };
    ctx.jobs
        .edit(job.id, patch, VersionCondition::Any, &actor)
        .await
        .unwrap();
    assert_eq!(found(&ctx, "41").await, Vec::<String>::new());
    assert_eq!(
        found(&ctx, "42 bench zahnrader olwerk").await,
        ["Zahnräder"]
    );
    ctx.jobs
        .change_status(
            job.id,
            JobStatus::Running,
            false,
            VersionCondition::Any,
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(found(&ctx, "zahnräder").await, ["Zahnräder"]);
    ctx.jobs
        .delete(job.id, VersionCondition::Any, &actor)
        .await
        .unwrap();
    assert_eq!(found(&ctx, "zahn").await, Vec::<String>::new());
    ctx.jobs.create(draft("Zahnrad neu"), &actor).await.unwrap();
    assert_eq!(found(&ctx, "zahn").await, ["Zahnrad neu"]);
}

/// `JobRepository::list` with `text` over many matches: every page in the requested order,
/// whichever way the store finds the candidates (few matches or many, small pages or large).
async fn text_search_keeps_the_requested_order_on_every_page(ctx: Ctx) {
    let actor = Actor::anonymous();
    for i in 0..12 {
        let name = if i % 3 == 0 {
            format!("Vase {i}")
        } else {
            format!("Gear {i}")
        };
        ctx.jobs.create(draft(&name), &actor).await.unwrap();
    }
    for sort in ["created_at:desc", "job_name:asc", "job_name:desc"] {
        for text in ["gear", "vase", "ge", "e"] {
            let query = JobQuery {
                text: SearchQuery::parse(text).unwrap(),
                sort: sort.parse().unwrap(),
                limit: Limit::new(500).unwrap(),
                ..JobQuery::default()
            };
            let all: Vec<String> = ctx
                .repo
                .list(&query)
                .await
                .unwrap()
                .jobs
                .iter()
                .map(|j| j.job_name.to_string())
                .collect();
            let expected = match text {
                "vase" => 4,
                "e" => 0,
                _ => 8,
            };
            assert_eq!(all.len(), expected, "{text} {sort}");
            assert_eq!(paged_names(&ctx, &query).await, all, "{text} {sort}");
        }
    }
}

/// `JobRepository::list` with a word whose index range holds many distinct terms (`123`
/// begins `12300` … `12369`) or a job twice (`Vase 12301` in `12301.3mf`… `12351.3mf`), alone
/// and beside a rarer or a commoner word: every job counted once, on every page, whichever
/// range the store starts from.
async fn text_search_counts_each_job_once_over_many_index_terms(ctx: Ctx) {
    for i in 0..20 {
        create(
            &ctx,
            JobDraft {
                file_name: Some(format!("{}.3mf", 12350 + i)),
                notes: Some(format!("123{i:02} again")),
                ..draft(&format!("Vase 123{i:02}"))
            },
        )
        .await;
    }
    for i in 40..44 {
        create(&ctx, draft(&format!("Gear 123{i}"))).await;
    }
    for i in 500..525 {
        create(&ctx, draft(&format!("Gear {i}"))).await;
    }
    let cases: [(&str, usize); 8] = [
        ("123", 24),
        ("123 gear", 4),
        ("gear 123", 4),
        ("123 vase", 20),
        ("1234", 4),
        ("gear 1234", 4),
        ("again 123", 20),
        ("vase gear", 0),
    ];
    for (text, expected) in cases {
        assert_eq!(found(&ctx, text).await.len(), expected, "{text:?}");
    }
}

/// `JobRepository::list` with `text`, page by page, when the matching jobs are many and
/// spread over the order (`benchy`), few and bunched at its end (`rare`, the oldest jobs,
/// last in `created_at:desc`), with another filter (`status`), and none: each page is the
/// slice of the order that checking every job gives, and `total_count` its length.
async fn text_search_pages_hits_wherever_they_lie_in_the_order(ctx: Ctx) {
    let actor = Actor::anonymous();
    for i in 0..24 {
        create(&ctx, draft(&format!("Rare part {i}"))).await;
    }
    for i in 0..96 {
        let name = if i % 4 == 0 {
            format!("Benchy {i}")
        } else {
            format!("Gear {i}")
        };
        let job = create(&ctx, draft(&name)).await;
        if i % 8 == 0 {
            ctx.jobs
                .change_status(
                    job.id,
                    JobStatus::Running,
                    false,
                    VersionCondition::Any,
                    &actor,
                )
                .await
                .unwrap();
        }
    }
    let names = |page: &printdesk_domain::JobPage| -> Vec<String> {
        page.jobs.iter().map(|j| j.job_name.to_string()).collect()
    };
    /// A query, a status filter, and which names it matches.
    type Case = (&'static str, Option<JobStatus>, fn(&str) -> bool);
    let cases: [Case; 6] = [
        ("benchy", None, |n| n.starts_with("Benchy")),
        ("rare", None, |n| n.starts_with("Rare")),
        ("PART rare", None, |n| n.starts_with("Rare")),
        ("benchy", Some(JobStatus::Running), |n| {
            n.starts_with("Benchy")
        }),
        ("e", None, |_| false),
        ("benchy gear", None, |_| false),
    ];
    for sort in ["created_at:desc", "created_at:asc", "job_name:asc"] {
        for (text, status, matching) in cases {
            let every: Vec<String> = names(
                &ctx.repo
                    .list(&JobQuery {
                        status,
                        sort: sort.parse().unwrap(),
                        limit: Limit::new(500).unwrap(),
                        ..JobQuery::default()
                    })
                    .await
                    .unwrap(),
            )
            .into_iter()
            .filter(|n| matching(n))
            .collect();
            for (offset, limit) in [(0, 5), (3, 5), (20, 5), (23, 1), (24, 5), (0, 50), (11, 2)] {
                let page = ctx
                    .repo
                    .list(&JobQuery {
                        text: SearchQuery::parse(text).unwrap(),
                        status,
                        sort: sort.parse().unwrap(),
                        limit: Limit::new(limit).unwrap(),
                        offset,
                        ..JobQuery::default()
                    })
                    .await
                    .unwrap();
                let from = (offset as usize).min(every.len());
                let to = (from + limit as usize).min(every.len());
                assert_eq!(
                    names(&page),
                    every[from..to],
                    "{text:?} {status:?} {sort} offset {offset} limit {limit}"
                );
                assert_eq!(page.total_count, every.len() as u64, "{text:?} {status:?}");
            }
        }
    }
}

/// `JobRepository::list` sorted by a text column: Unicode collation (root order: letters
/// first, then accents, then case), not bytes; jobs without a value last in both directions.
async fn text_sorts_follow_unicode_collation_with_empty_values_last(ctx: Ctx) {
    let rows: [(&str, Option<&str>, Option<&str>); 6] = [
        ("Zylinder", Some("Zeiss"), Some("zylinder.3mf")),
        ("Ölwanne", None, Some("Ölwanne.3mf")),
        ("aufkleber", Some("Ärzte AG"), None),
        ("Äpfel", None, None),
        ("apfel", Some("adler"), Some("Apfel.3mf")),
        ("Éclair", Some("Ötker"), Some("eclair.3mf")),
    ];
    for (name, customer, file) in rows {
        create(
            &ctx,
            JobDraft {
                is_business: customer.is_some(),
                customer_name: customer.map(Into::into),
                file_name: file.map(Into::into),
                ..draft(name)
            },
        )
        .await;
    }
    // Ties among the jobs without a value go by id in the sort's direction (creation order
    // ascending).
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "job_name",
            &[
                "apfel",
                "Äpfel",
                "aufkleber",
                "Éclair",
                "Ölwanne",
                "Zylinder",
            ],
            &[
                "Zylinder",
                "Ölwanne",
                "Éclair",
                "aufkleber",
                "Äpfel",
                "apfel",
            ],
        ),
        (
            "customer_name",
            &[
                "apfel",
                "aufkleber",
                "Éclair",
                "Zylinder",
                "Ölwanne",
                "Äpfel",
            ],
            &[
                "Zylinder",
                "Éclair",
                "aufkleber",
                "apfel",
                "Äpfel",
                "Ölwanne",
            ],
        ),
        (
            "file_name",
            &[
                "apfel",
                "Éclair",
                "Ölwanne",
                "Zylinder",
                "aufkleber",
                "Äpfel",
            ],
            &[
                "Zylinder",
                "Ölwanne",
                "Éclair",
                "apfel",
                "Äpfel",
                "aufkleber",
            ],
        ),
    ];
    for (key, asc, desc) in cases {
        for (direction, expected) in [("asc", asc), ("desc", desc)] {
            let query = JobQuery {
                sort: format!("{key}:{direction}").parse::<JobSort>().unwrap(),
                ..JobQuery::default()
            };
            let page = ctx.repo.list(&query).await.unwrap();
            let names: Vec<_> = page.jobs.iter().map(|j| j.job_name.to_string()).collect();
            assert_eq!(names, expected, "{key}:{direction}");
            assert_eq!(
                paged_names(&ctx, &query).await,
                expected,
                "{key}:{direction}, paged"
            );
        }
    }
    // A search keeps the requested order.
    let query = JobQuery {
        text: SearchQuery::parse("3mf").unwrap(),
        sort: "job_name:asc".parse().unwrap(),
        ..JobQuery::default()
    };
    let names: Vec<_> = ctx
        .repo
        .list(&query)
        .await
        .unwrap()
        .jobs
        .iter()
        .map(|j| j.job_name.to_string())
        .collect();
    assert_eq!(names, ["apfel", "Éclair", "Ölwanne", "Zylinder"]);
}

/// A database from before the search columns, with jobs in it: the next start migrates it,
/// builds the search index and sort keys of the existing jobs, and finds and sorts them.
async fn a_migrated_database_finds_its_existing_jobs(ctx: Ctx) {
    use diesel::{Connection, connection::SimpleConnection};

    create_search_jobs(&ctx).await;
    // Back to the schema before the `job_search` migration (its down.sql, after those of the
    // later `customer_fold`, whose index holds a column of it, and `search_index_in_memory`,
    // which dropped the table it drops), jobs kept.
    let (backend, target) = printdesk_store_diesel::parse_url(ctx.url()).unwrap();
    let mut conn = printdesk_store_diesel::AnyConnection::establish(&target).unwrap();
    conn.batch_execute(match backend {
        printdesk_store_diesel::Backend::Sqlite => include_str!(
            "../../../migrations/sqlite/2026-12-01-000600_search_index_in_memory/down.sql"
        ),
        printdesk_store_diesel::Backend::Postgres => include_str!(
            "../../../migrations/postgres/2026-12-01-000600_search_index_in_memory/down.sql"
        ),
    })
    .unwrap();
    conn.batch_execute(include_str!(
        "../../../migrations/sqlite/2026-12-01-000500_customer_fold/down.sql"
    ))
    .unwrap();
    conn.batch_execute(include_str!(
        "../../../migrations/sqlite/2026-12-01-000300_job_search/down.sql"
    ))
    .unwrap();
    conn.batch_execute(
        "DELETE FROM __diesel_schema_migrations \
         WHERE version IN ('20261201000300', '20261201000500', '20261201000600')",
    )
    .unwrap();
    drop(conn);

    let store = Arc::new(Store::connect(ctx.url()).await.expect("migrate again"));
    let reopened = Ctx::new(store.clone(), store, None);
    let german = "GEHÄUSE FÜR ÖLPUMPE".to_owned();
    assert_eq!(
        found(&reopened, "muller olpumpe").await,
        std::slice::from_ref(&german)
    );
    assert_eq!(found(&reopened, "δέλτα").await, ["ΔΈΛΤΑ βάση"]);
    let query = JobQuery {
        sort: "job_name:asc".parse().unwrap(),
        limit: Limit::new(3).unwrap(),
        ..JobQuery::default()
    };
    let names: Vec<_> = reopened
        .repo
        .list(&query)
        .await
        .unwrap()
        .jobs
        .iter()
        .map(|j| j.job_name.to_string())
        .collect();
    assert_eq!(
        names,
        [german, "IŞIK İstanbul".to_owned(), "Long".to_owned()]
    );
    // The customer names are folded too.
    assert_eq!(
        customers(&reopened, "MUL", 10).await,
        named(&[("Müller GmbH", 1)])
    );
    // New jobs and edits are indexed as usual.
    create(&reopened, draft("Müllereimer")).await;
    assert_eq!(found(&reopened, "mülle").await.len(), 2);
}

/// Two stores on one database (two instances): what one writes, the other's search finds at
/// once, through the event log (each keeps its own index in memory).
async fn a_second_store_finds_the_first_ones_writes_at_once(ctx: Ctx) {
    let store = Arc::new(Store::connect(ctx.url()).await.unwrap());
    assert!(
        store
            .wait_for_search_index(std::time::Duration::from_secs(60))
            .await
    );
    let other = Ctx::new(store.clone(), store, None);
    let actor = Actor::anonymous();
    let job = create(&ctx, draft("Zahnrad")).await;
    assert_eq!(found(&other, "zahnrad").await, ["Zahnrad"]);
    let patch = JobPatch {
        job_name: Some("Kettenrad".into()),
        ..JobPatch::default()
    };
    ctx.jobs
        .edit(job.id, patch, VersionCondition::Any, &actor)
        .await
        .unwrap();
    assert_eq!(found(&other, "zahnrad").await, Vec::<String>::new());
    assert_eq!(found(&other, "kettenrad").await, ["Kettenrad"]);
    ctx.jobs
        .delete(job.id, VersionCondition::Any, &actor)
        .await
        .unwrap();
    assert_eq!(found(&other, "rad").await, Vec::<String>::new());
    // And the other way round.
    create(&other, draft("Ölwanne")).await;
    assert_eq!(found(&ctx, "olwanne").await, ["Ölwanne"]);
}

/// The text search contract on a store that keeps no index: the same answers.
async fn text_search_without_the_index_folds_the_same(ctx: Ctx) {
    let plain = unindexed(&ctx).await;
    text_search_folds_case_and_accents_in_every_script(plain).await;
    drop(ctx);
}

/// Paging a search on a store that keeps no index: the same pages.
async fn text_search_without_the_index_pages_the_same(ctx: Ctx) {
    let plain = unindexed(&ctx).await;
    text_search_pages_hits_wherever_they_lie_in_the_order(plain).await;
    drop(ctx);
}

/// `JobRepository::update` and `delete` on a job that is not there: not found, and the
/// decision is never asked.
async fn missing_jobs_are_not_found_and_never_decided(ctx: Ctx) {
    let ghost = JobId::generate();
    let edit: JobEdit = Box::new(|_| panic!("an edit of a missing job must not be decided"));
    assert!(matches!(
        ctx.repo.update(ghost, edit).await,
        Err(EditJobError::NotFound)
    ));
    let deletion: JobDeletion =
        Box::new(|_| panic!("a deletion of a missing job must not be decided"));
    assert!(matches!(
        ctx.repo.delete(ghost, deletion).await,
        Err(DeleteJobError::NotFound)
    ));
    let edits: Vec<(JobId, JobEdit)> = vec![(
        ghost,
        Box::new(|_| panic!("a bulk edit of a missing job must not be decided")),
    )];
    match ctx.repo.update_many(edits).await {
        Err(BulkUpdateError::Rejected(failures)) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].id, ghost);
            assert_eq!(failures[0].error, EditJobError::NotFound);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::ZERO);
}

/// `JobRepository::update_many`: every failure, missing jobs and refusals alike, in the order
/// of the edits; nothing written.
async fn bulk_failures_come_in_the_order_of_the_edits(ctx: Ctx) {
    let ids = create_jobs(&ctx, "bulk", 4).await;
    // Missing ids that sort before and after the existing ones, so that an order by id (the
    // lock order) would differ from the request's.
    let (early, late) = (
        JobId::from(uuid::Uuid::nil()),
        JobId::from(uuid::Uuid::max()),
    );
    let refuse = |current: &Job| -> Result<Option<NewJobEvent>, EditJobError> {
        Err(EditJobError::VersionMismatch {
            current: Box::new(current.clone()),
        })
    };
    let keep = |current: &Job| -> Result<Option<NewJobEvent>, EditJobError> {
        let mut next = current.clone();
        next.version = current.version.next();
        next.notes = Some(printdesk_domain::Notes::parse("kept").unwrap());
        Ok(Some(updated(current, next)))
    };
    let order = [ids[2], late, ids[0], ids[3], early, ids[1]];
    let edits: Vec<(JobId, JobEdit)> = vec![
        (order[0], Box::new(refuse)),
        (order[1], Box::new(keep)),
        (order[2], Box::new(keep)),
        (order[3], Box::new(refuse)),
        (order[4], Box::new(keep)),
        (order[5], Box::new(refuse)),
    ];
    let failures = match ctx.repo.update_many(edits).await {
        Err(BulkUpdateError::Rejected(failures)) => failures,
        other => panic!("expected a rejection, got {other:?}"),
    };
    let failed: Vec<JobId> = failures.iter().map(|f| f.id).collect();
    assert_eq!(failed, [order[0], order[1], order[3], order[4], order[5]]);
    assert_eq!(failures[1].error, EditJobError::NotFound);
    assert_eq!(failures[3].error, EditJobError::NotFound);
    assert!(matches!(
        failures[0].error,
        EditJobError::VersionMismatch { .. }
    ));
    for id in &ids {
        assert_eq!(
            ctx.repo.get(*id).await.unwrap().unwrap().version,
            Version::FIRST
        );
    }
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(4));
}

/// `JobRepository::delete`: the decision sees the stored job; its refusal deletes and logs
/// nothing; its event is logged with the next seq.
async fn a_refused_deletion_deletes_and_logs_nothing(ctx: Ctx) {
    let job = create(&ctx, draft("doomed")).await;
    let seen = job.clone();
    let refusal: JobDeletion = Box::new(move |current: &Job| {
        assert_eq!(*current, seen, "the decision sees the stored job");
        Err(DeleteJobError::VersionMismatch {
            current: Box::new(current.clone()),
        })
    });
    match ctx.repo.delete(job.id, refusal).await {
        Err(DeleteJobError::VersionMismatch { current }) => assert_eq!(*current, job),
        other => panic!("expected the refusal, got {other:?}"),
    }
    assert_eq!(ctx.repo.get(job.id).await.unwrap().unwrap(), job);
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(1));

    let deletion: JobDeletion = Box::new(|current: &Job| {
        Ok(NewJobEvent {
            kind: EventKind::JobDeleted,
            job: current.clone(),
            changes: JobChanges::default(),
            actor: Some("ops".into()),
            at: current.updated_at,
        })
    });
    let event = ctx.repo.delete(job.id, deletion).await.unwrap();
    assert_eq!(event.seq, Seq::new(2));
    assert_eq!(event.job, job);
    assert!(ctx.repo.get(job.id).await.unwrap().is_none());
    assert_eq!(
        ctx.repo.events_after(Seq::new(1), 10).await.unwrap(),
        [event]
    );
}

/// `EventLog::history`: `total_count` counts all of a job's events whatever the page, and is
/// 0 for an id no job ever had.
async fn history_counts_every_event_and_nothing_for_an_unknown_id(ctx: Ctx) {
    let job = create(&ctx, draft("h")).await;
    create(&ctx, draft("other")).await;
    for i in 0..3 {
        let patch = JobPatch {
            notes: Nullable::Set(i.to_string()),
            ..JobPatch::default()
        };
        ctx.jobs
            .edit(job.id, patch, VersionCondition::Any, &Actor::anonymous())
            .await
            .unwrap();
    }
    let past_the_end = ctx.repo.history(job.id, 10, 10).await.unwrap();
    assert_eq!(past_the_end.total_count, 4);
    assert!(past_the_end.events.is_empty());
    let page = ctx.repo.history(job.id, 2, 1).await.unwrap();
    let seqs: Vec<_> = page.events.iter().map(|e| e.seq.get()).collect();
    assert_eq!(seqs, [4, 3], "newest first, after skipping the newest");
    assert_eq!(
        ctx.repo.history(JobId::generate(), 10, 0).await.unwrap(),
        JobHistory::default()
    );
}

/// `PrinterRepository::list`: by name, ties by id.
async fn printers_are_listed_by_name_then_id(ctx: Ctx) {
    for (id, name) in [("c", "Alpha"), ("b", "Zeta"), ("a", "Alpha")] {
        ctx.printers
            .create(NewPrinter {
                id: Some(id.into()),
                name: name.into(),
                printer_type: "prusa".into(),
                location: None,
                ..NewPrinter::default()
            })
            .await
            .unwrap();
    }
    let ids: Vec<_> = ctx
        .printer_repo
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(ids, ["a", "c", "b"]);
}

/// Events written before the store owned its snapshot format (the API's JSON of the job and
/// its changes, as `job_events` rows held it) read back as the events they were.
async fn events_written_in_the_current_format_read_back(ctx: Ctx) {
    use diesel::{Connection, RunQueryDsl, sql_types::Timestamp};
    use time::macros::datetime;

    const JOB_ID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    const JOB: &str = r#"{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","job_name":"Benchy","status":"completed","is_business":true,"customer_name":"ACME, Inc.","notes":"re-sliced \"fine\"","file_name":"benchy.3mf","printer_id":"mk4-1","version":3,"created_at":"2026-11-28T16:34:28.123Z","updated_at":"2026-11-28T18:30:00.500Z","started_at":"2026-11-28T17:00:00.000Z","completed_at":"2026-11-28T18:30:00.500Z","auto_created":false,"discovery_time":null}"#;
    const CHANGES: &str = r#"{"status":{"old":"running","new":"completed"},"completed_at":{"old":null,"new":"2026-11-28T18:30:00.500Z"}}"#;

    let (_, target) = printdesk_store_diesel::parse_url(ctx.url()).unwrap();
    let mut conn = printdesk_store_diesel::AnyConnection::establish(&target).unwrap();
    diesel::sql_query(
        "INSERT INTO job_events (seq, kind, job_id, at, actor, changes, job) \
         VALUES (1, 'job_updated', $1, $2, 'ops', $3, $4)",
    )
    .bind::<diesel::sql_types::Text, _>(JOB_ID)
    .bind::<Timestamp, _>(datetime!(2026-11-28 18:30:00.5))
    .bind::<diesel::sql_types::Text, _>(CHANGES)
    .bind::<diesel::sql_types::Text, _>(JOB)
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE event_seq SET last = 1")
        .execute(&mut conn)
        .unwrap();

    let job = Job {
        id: JOB_ID.parse().unwrap(),
        job_name: printdesk_domain::JobName::parse("Benchy").unwrap(),
        status: JobStatus::Completed,
        is_business: true,
        customer_name: Some(printdesk_domain::CustomerName::parse("ACME, Inc.").unwrap()),
        notes: Some(printdesk_domain::Notes::parse("re-sliced \"fine\"").unwrap()),
        file_name: Some(printdesk_domain::FileName::parse("benchy.3mf").unwrap()),
        printer_id: Some(PrinterId::parse("mk4-1").unwrap()),
        version: Version::new(3),
        created_at: datetime!(2026-11-28 16:34:28.123 UTC),
        updated_at: datetime!(2026-11-28 18:30:00.5 UTC),
        started_at: Some(datetime!(2026-11-28 17:00:00 UTC)),
        completed_at: Some(datetime!(2026-11-28 18:30:00.5 UTC)),
        auto_created: false,
        discovery_time: None,
    };
    let running = Job {
        status: JobStatus::Running,
        completed_at: None,
        ..job.clone()
    };
    let expected = JobEvent {
        seq: Seq::new(1),
        kind: EventKind::JobUpdated,
        at: datetime!(2026-11-28 18:30:00.5 UTC),
        job_id: job.id,
        actor: Some("ops".into()),
        changes: JobChanges::between(&running, &job),
        job,
    };
    assert_eq!(
        expected.changes.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        [JobField::Status, JobField::CompletedAt],
        "the fixture's changes"
    );
    assert_eq!(
        ctx.repo.events_after(Seq::ZERO, 10).await.unwrap(),
        std::slice::from_ref(&expected)
    );
    let history = ctx.repo.history(expected.job_id, 10, 0).await.unwrap();
    assert_eq!(history.events, [expected]);
}

/// `JobRepository::insert`: a job naming a printer that is not there (deleted after the
/// domain checked) is refused as a `printer_id` violation, and nothing is stored.
async fn insert_refuses_a_printer_that_is_not_there(ctx: Ctx) {
    let template = create(&ctx, draft("template")).await;
    let ghost = Job {
        id: JobId::generate(),
        printer_id: Some(PrinterId::parse("ghost").unwrap()),
        ..template.clone()
    };
    let event = NewJobEvent {
        kind: EventKind::JobCreated,
        changes: JobChanges::created(&ghost),
        job: ghost.clone(),
        actor: None,
        at: ghost.created_at,
    };
    match ctx.repo.insert(event).await {
        Err(printdesk_domain::CreateJobError::Invalid(errors)) => {
            assert_eq!(errors.violations()[0].field, "printer_id");
        }
        other => panic!("expected a printer_id violation, got {other:?}"),
    }
    assert!(ctx.repo.get(ghost.id).await.unwrap().is_none());
    assert_eq!(ctx.repo.latest_seq().await.unwrap(), Seq::new(1));
}

/// A stored job with the given times and customer, inserted as is (the domain's clock would
/// not let a test choose them).
async fn stored(
    ctx: &Ctx,
    name: &str,
    customer: Option<&str>,
    created: time::OffsetDateTime,
    completed: Option<time::OffsetDateTime>,
) -> Job {
    let job = Job {
        id: JobId::generate(),
        job_name: printdesk_domain::JobName::parse(name).unwrap(),
        status: if completed.is_some() {
            JobStatus::Completed
        } else {
            JobStatus::Pending
        },
        is_business: customer.is_some(),
        customer_name: customer.map(|c| printdesk_domain::CustomerName::parse(c).unwrap()),
        notes: None,
        file_name: None,
        printer_id: None,
        version: Version::FIRST,
        created_at: created,
        updated_at: created,
        started_at: completed.map(|c| c - time::Duration::minutes(90)),
        completed_at: completed,
        auto_created: false,
        discovery_time: None,
    };
    let event = NewJobEvent {
        kind: EventKind::JobCreated,
        changes: JobChanges::created(&job),
        job,
        actor: None,
        at: created,
    };
    ctx.repo.insert(event).await.unwrap().job
}

/// The names `query` lists (one page of up to 50, by name) with its `total_count`, checked
/// against a page of one (so that the count is the store's, not the page's length) and
/// against the export's scan.
async fn selected(ctx: &Ctx, query: JobQuery) -> Vec<String> {
    let query = JobQuery {
        sort: "job_name:asc".parse().unwrap(),
        ..query
    };
    let page = ctx.repo.list(&query).await.unwrap();
    let names: Vec<String> = page.jobs.iter().map(|j| j.job_name.to_string()).collect();
    assert_eq!(page.total_count, names.len() as u64, "{query:?}");
    let one = ctx
        .repo
        .list(&JobQuery {
            limit: Limit::new(1).unwrap(),
            ..query.clone()
        })
        .await
        .unwrap();
    assert_eq!(one.total_count, names.len() as u64, "counted: {query:?}");
    let mut scanned: Vec<String> = ctx
        .repo
        .scan(&query, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|j| j.job_name.to_string())
        .collect();
    scanned.sort();
    assert_eq!(scanned, names, "the export's scan filters alike: {query:?}");
    names
}

/// `JobRepository::list`: `customer` selects the jobs whose whole customer name equals it,
/// ignoring case in every script (Unicode lower case), on every store alike.
async fn customer_filter_is_the_whole_name_ignoring_case(ctx: Ctx) {
    use time::macros::datetime;
    let t = datetime!(2026-11-02 10:00 UTC);
    stored(&ctx, "a", Some("Müller GmbH"), t, None).await;
    stored(&ctx, "b", Some("MÜLLER GMBH"), t, None).await;
    stored(&ctx, "c", Some("Mueller GmbH"), t, None).await;
    stored(&ctx, "d", Some("Müller GmbH & Co"), t, None).await;
    stored(&ctx, "e", Some("ΔΈΛΤΑ"), t, None).await;
    stored(&ctx, "f", None, t, None).await;
    let customer = |name: &str| JobQuery {
        customer: Some(printdesk_domain::CustomerName::parse(name).unwrap()),
        ..JobQuery::default()
    };
    assert_eq!(selected(&ctx, customer("müller gmbh")).await, ["a", "b"]);
    assert_eq!(selected(&ctx, customer("Müller GmbH")).await, ["a", "b"]);
    assert_eq!(selected(&ctx, customer("MUELLER GMBH")).await, ["c"]);
    assert_eq!(selected(&ctx, customer("δέλτα")).await, ["e"]);
    assert!(
        selected(&ctx, customer("Müller")).await.is_empty(),
        "not a prefix"
    );
    assert!(
        selected(&ctx, customer("%")).await.is_empty(),
        "not a pattern"
    );
    let with_status = JobQuery {
        status: Some(JobStatus::Completed),
        ..customer("müller gmbh")
    };
    assert!(
        selected(&ctx, with_status).await.is_empty(),
        "with the other filters"
    );
}

/// `JobRepository::list`: `created` and `completed` select by instant, each end included or
/// excluded as the span says; a bounded `completed` span leaves out jobs that have not ended.
/// The instants are the ones the HTTP adapter makes of "November in Europe/Berlin"
/// (`[2026-10-31T23:00Z, 2026-11-30T23:00Z)`).
async fn date_filters_select_instants_with_each_end_as_given(ctx: Ctx) {
    use std::ops::Bound::{Excluded, Included, Unbounded};

    use printdesk_domain::TimeRange;
    use time::macros::datetime;
    // Completed at 23:30 UTC on 31 October: 00:30 on 1 November in Berlin.
    stored(
        &ctx,
        "halloween",
        Some("ACME"),
        datetime!(2026-10-31 20:00 UTC),
        Some(datetime!(2026-10-31 23:30 UTC)),
    )
    .await;
    // Completed at 23:30 UTC on 30 November: 00:30 on 1 December in Berlin.
    stored(
        &ctx,
        "last night",
        Some("ACME"),
        datetime!(2026-11-30 22:00 UTC),
        Some(datetime!(2026-11-30 23:30 UTC)),
    )
    .await;
    stored(
        &ctx,
        "mid",
        None,
        datetime!(2026-11-15 10:00 UTC),
        Some(datetime!(2026-11-15 12:00:00.5 UTC)),
    )
    .await;
    stored(&ctx, "open", None, datetime!(2026-11-15 10:00 UTC), None).await;
    stored(
        &ctx,
        "december",
        None,
        datetime!(2026-12-01 08:00 UTC),
        Some(datetime!(2026-12-01 09:00 UTC)),
    )
    .await;

    let berlin_november = TimeRange::new(
        Included(datetime!(2026-10-31 23:00 UTC)),
        Excluded(datetime!(2026-11-30 23:00 UTC)),
    );
    let utc_november = TimeRange::new(
        Included(datetime!(2026-11-01 00:00 UTC)),
        Excluded(datetime!(2026-12-01 00:00 UTC)),
    );
    let completed = |range| JobQuery {
        completed: range,
        ..JobQuery::default()
    };
    let created = |range| JobQuery {
        created: range,
        ..JobQuery::default()
    };
    assert_eq!(
        selected(&ctx, completed(berlin_november)).await,
        ["halloween", "mid"]
    );
    assert_eq!(
        selected(&ctx, completed(utc_november)).await,
        ["last night", "mid"]
    );
    assert_eq!(
        selected(&ctx, created(berlin_november)).await,
        ["last night", "mid", "open"]
    );
    // An included end holds its own instant, to the millisecond; an excluded one does not.
    let at = datetime!(2026-11-15 12:00:00.5 UTC);
    assert_eq!(
        selected(&ctx, completed(TimeRange::new(Included(at), Included(at)))).await,
        ["mid"]
    );
    assert_eq!(
        selected(&ctx, completed(TimeRange::new(Excluded(at), Unbounded))).await,
        ["december", "last night"]
    );
    assert_eq!(
        selected(&ctx, completed(TimeRange::new(Unbounded, Excluded(at)))).await,
        ["halloween"]
    );
    // Open spans select everything, jobs that have not ended too.
    assert_eq!(selected(&ctx, JobQuery::default()).await.len(), 5);
    // With the other filters.
    let business_in_berlin_november = JobQuery {
        is_business: Some(true),
        created: berlin_november,
        completed: berlin_november,
        ..JobQuery::default()
    };
    assert!(selected(&ctx, business_in_berlin_november).await.is_empty());
    let acme = JobQuery {
        customer: Some(printdesk_domain::CustomerName::parse("acme").unwrap()),
        completed: utc_november,
        ..JobQuery::default()
    };
    assert_eq!(selected(&ctx, acme).await, ["last night"]);
}

/// `JobRepository::summarize`: for every key, the groups are those `group_of` names, and
/// each group's figures (and so the totals) are the sums of `SummaryFigures::of` over its
/// jobs, exactly as `list` selects them: counts by status and kind, print time in whole
/// seconds per job (milliseconds cut, a missing start or end counting nothing).
async fn summary_figures_are_the_sums_over_the_filtered_jobs(ctx: Ctx) {
    use std::collections::BTreeMap;

    use printdesk_domain::{GroupValue, SummaryFigures, SummaryKey, TimeRange, group_of};
    use time::{Duration, macros::datetime};

    let p1 = printer(&ctx, "p1").await;
    let p2 = printer(&ctx, "p2").await;
    let base = datetime!(2026-10-30 12:00 UTC);
    for i in 0..40_i64 {
        let status = JobStatus::ALL[(i % 4) as usize];
        let created = base + Duration::hours(7 * i) + Duration::milliseconds(i);
        let started =
            (status != JobStatus::Pending && i % 5 != 0).then(|| created + Duration::minutes(3));
        let completed = matches!(status, JobStatus::Completed | JobStatus::Failed)
            .then(|| created + Duration::minutes(3 + 17 * i) + Duration::milliseconds(999 - i));
        let customer = match i % 3 {
            0 => Some("ACME"),
            1 => Some("Müller GmbH"),
            _ => None,
        };
        let job = Job {
            id: JobId::generate(),
            job_name: printdesk_domain::JobName::parse(format!("j{i}")).unwrap(),
            status,
            is_business: customer.is_some() && i % 2 == 0,
            customer_name: customer.map(|c| printdesk_domain::CustomerName::parse(c).unwrap()),
            notes: None,
            file_name: None,
            printer_id: [Some(p1.clone()), Some(p2.clone()), None][(i % 3) as usize].clone(),
            version: Version::FIRST,
            created_at: created,
            updated_at: created,
            started_at: started,
            completed_at: completed,
            auto_created: false,
            discovery_time: None,
        };
        ctx.repo
            .insert(NewJobEvent {
                kind: EventKind::JobCreated,
                changes: JobChanges::created(&job),
                job,
                actor: None,
                at: created,
            })
            .await
            .unwrap();
    }
    let november = TimeRange::new(
        std::ops::Bound::Included(datetime!(2026-11-01 00:00 UTC)),
        std::ops::Bound::Excluded(datetime!(2026-12-01 00:00 UTC)),
    );
    let queries = [
        JobQuery::default(),
        JobQuery {
            created: november,
            ..JobQuery::default()
        },
        JobQuery {
            is_business: Some(false),
            completed: november,
            ..JobQuery::default()
        },
        JobQuery {
            customer: Some(printdesk_domain::CustomerName::parse("müller gmbh").unwrap()),
            printer_id: Some(p1.clone()),
            ..JobQuery::default()
        },
    ];
    let keys = [
        SummaryKey::Customer,
        SummaryKey::Printer,
        SummaryKey::Status,
        SummaryKey::CreatedPeriods(vec![]),
        SummaryKey::CreatedPeriods(vec![
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-11-15 06:00:00.5 UTC),
            datetime!(2026-12-01 00:00 UTC),
        ]),
    ];
    for query in &queries {
        let jobs = ctx
            .repo
            .list(&JobQuery {
                limit: Limit::new(500).unwrap(),
                ..query.clone()
            })
            .await
            .unwrap()
            .jobs;
        let mut all = SummaryFigures::default();
        for job in &jobs {
            all.add(&SummaryFigures::of(job));
        }
        assert!(
            all.print_seconds > 0 || jobs.is_empty(),
            "the data has print times"
        );
        for key in &keys {
            let mut expected: BTreeMap<GroupValue, SummaryFigures> = BTreeMap::new();
            for job in &jobs {
                expected
                    .entry(group_of(job, key))
                    .or_default()
                    .add(&SummaryFigures::of(job));
            }
            let groups = ctx.repo.summarize(query, key).await.unwrap();
            let mut totals = SummaryFigures::default();
            let got: BTreeMap<GroupValue, SummaryFigures> = groups
                .into_iter()
                .map(|g| {
                    totals.add(&g.figures);
                    (g.value, g.figures)
                })
                .collect();
            assert_eq!(got, expected, "{key:?} over {query:?}");
            assert_eq!(totals, all, "totals: {key:?} over {query:?}");
        }
    }
}

/// `JobRepository::scan`: page after page from the last job read, every order of the list
/// (each key, both directions, ties and jobs without a value included) comes out exactly as
/// `list` gives it, and a cursor job that is gone still places the next page.
async fn scan_follows_the_list_order_for_every_sort(ctx: Ctx) {
    use printdesk_domain::{JobSort, SortDirection, SortKey};
    use time::{Duration, macros::datetime};

    let p1 = printer(&ctx, "a-printer").await;
    let p2 = printer(&ctx, "b-printer").await;
    let names = [
        "Zylinder",
        "aufkleber",
        "Ölwanne",
        "Benchy",
        "benchy",
        "Benchy",
        "ärger",
        "Z",
    ];
    let base = datetime!(2026-11-02 10:00 UTC);
    for i in 0..24_usize {
        let created = base + Duration::seconds((i / 3) as i64); // three jobs per instant
        let started = (i % 4 != 0).then(|| created + Duration::minutes((i % 5) as i64));
        let completed = (i % 3 == 0).then(|| created + Duration::hours(1));
        let job = Job {
            id: JobId::generate(),
            job_name: printdesk_domain::JobName::parse(names[i % names.len()]).unwrap(),
            status: JobStatus::ALL[i % 4],
            is_business: false,
            customer_name: (i % 3 != 1)
                .then(|| printdesk_domain::CustomerName::parse(names[(i + 3) % 8]).unwrap()),
            notes: None,
            file_name: (i % 2 == 0)
                .then(|| printdesk_domain::FileName::parse(format!("f{}.3mf", i % 5)).unwrap()),
            printer_id: [Some(p1.clone()), None, Some(p2.clone())][i % 3].clone(),
            version: Version::FIRST,
            created_at: created,
            updated_at: created + Duration::milliseconds((i % 7) as i64),
            started_at: started,
            completed_at: completed,
            auto_created: false,
            discovery_time: None,
        };
        ctx.repo
            .insert(NewJobEvent {
                kind: EventKind::JobCreated,
                changes: JobChanges::created(&job),
                job,
                actor: None,
                at: created,
            })
            .await
            .unwrap();
    }
    let keys = [
        SortKey::CreatedAt,
        SortKey::UpdatedAt,
        SortKey::JobName,
        SortKey::Status,
        SortKey::CustomerName,
        SortKey::PrinterId,
        SortKey::FileName,
        SortKey::StartedAt,
        SortKey::CompletedAt,
    ];
    for key in keys {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            for status in [None, Some(JobStatus::Completed)] {
                let query = JobQuery {
                    sort: JobSort { key, direction },
                    status,
                    limit: Limit::new(500).unwrap(),
                    ..JobQuery::default()
                };
                let listed: Vec<JobId> = ctx
                    .repo
                    .list(&query)
                    .await
                    .unwrap()
                    .jobs
                    .iter()
                    .map(|j| j.id)
                    .collect();
                let mut scanned: Vec<Job> = Vec::new();
                loop {
                    let page = ctx.repo.scan(&query, scanned.last(), 4).await.unwrap();
                    if page.is_empty() {
                        break;
                    }
                    scanned.extend(page);
                }
                let scanned: Vec<JobId> = scanned.iter().map(|j| j.id).collect();
                assert_eq!(scanned, listed, "{key:?} {direction:?} {status:?}");
            }
        }
    }
    // The cursor is placed by its values: deleting it changes nothing.
    let query = JobQuery {
        sort: "job_name:asc".parse().unwrap(),
        ..JobQuery::default()
    };
    let first = ctx.repo.scan(&query, None, 5).await.unwrap();
    let expected = ctx.repo.scan(&query, first.last(), 100).await.unwrap();
    let cursor = first.last().unwrap().clone();
    ctx.jobs
        .delete(cursor.id, VersionCondition::Any, &Actor::anonymous())
        .await
        .unwrap();
    assert_eq!(
        ctx.repo.scan(&query, Some(&cursor), 100).await.unwrap(),
        expected
    );
}

/// The customers `q` finds (at most `limit`), as (name, jobs).
async fn customers(ctx: &Ctx, q: &str, limit: u32) -> Vec<(String, u64)> {
    let query = printdesk_domain::CustomerQuery::parse(Some(q), Some(limit)).unwrap();
    ctx.repo
        .customers(&query)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.jobs))
        .collect()
}

fn named(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

/// `JobRepository::customers`: each stored name once with its jobs, most jobs first, ties in
/// text order; a folded prefix of the whole name; jobs without a customer not counted.
async fn customers_are_counted_by_name_and_found_by_folded_prefix(ctx: Ctx) {
    use time::macros::datetime;
    let t = datetime!(2026-11-02 10:00 UTC);
    for (i, customer) in [
        Some("Müller GmbH"),
        Some("Müller GmbH"),
        Some("Müller GmbH"),
        Some("MÜLLER AG"),
        Some("Mueller GmbH"),
        Some("Mueller GmbH"),
        Some("müller gmbh"),
        Some("ACME Müller"),
        Some("Straße 5"),
        Some("Zylinderbau"),
        Some("Ölwerk"),
        Some("aufkleber"),
        Some("%_x"),
        None,
        None,
    ]
    .into_iter()
    .enumerate()
    {
        stored(&ctx, &format!("j{i}"), customer, t, None).await;
    }
    assert_eq!(
        customers(&ctx, "mül", 10).await,
        named(&[("Müller GmbH", 3), ("MÜLLER AG", 1), ("müller gmbh", 1)]),
        "accents and case folded, names as stored, most jobs first, then text order"
    );
    assert_eq!(
        customers(&ctx, "MU", 10).await,
        named(&[
            ("Müller GmbH", 3),
            ("Mueller GmbH", 2),
            ("MÜLLER AG", 1),
            ("müller gmbh", 1),
        ])
    );
    assert_eq!(customers(&ctx, "mu", 2).await.len(), 2, "the limit");
    assert_eq!(
        customers(&ctx, "MU", 2).await,
        named(&[("Müller GmbH", 3), ("Mueller GmbH", 2)]),
        "the first ones of the order"
    );
    assert_eq!(
        customers(&ctx, "strasse", 10).await,
        named(&[("Straße 5", 1)])
    );
    assert_eq!(
        customers(&ctx, "%", 10).await,
        named(&[("%_x", 1)]),
        "literal"
    );
    assert!(customers(&ctx, "_", 10).await.is_empty(), "not a pattern");
    assert!(
        customers(&ctx, "gmbh", 10).await.is_empty(),
        "a prefix of the whole name"
    );
    assert!(customers(&ctx, "müller gmbh x", 10).await.is_empty());
    let all = customers(&ctx, "", 100).await;
    assert_eq!(
        all.len(),
        10,
        "every name once, none for jobs without a customer"
    );
    assert_eq!(all.iter().map(|(_, n)| n).sum::<u64>(), 13);
    let ones: Vec<&str> = all[2..].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        ones,
        [
            "%_x",
            "ACME Müller",
            "aufkleber",
            "MÜLLER AG",
            "müller gmbh",
            "Ölwerk",
            "Straße 5",
            "Zylinderbau"
        ],
        "the list's text order among equal counts"
    );
}

/// `JobRepository::customers` counts the jobs as they are now: an edit moves a job to its new
/// name, a deletion takes it away, and a name no job has any more is gone.
async fn customers_follow_edits_and_deletions(ctx: Ctx) {
    let actor = Actor::anonymous();
    let mut ids = Vec::new();
    for name in ["Müller GmbH", "Müller GmbH", "Meier"] {
        let job = ctx
            .jobs
            .create(
                JobDraft {
                    customer_name: Some(name.into()),
                    ..draft("j")
                },
                &actor,
            )
            .await
            .unwrap();
        ids.push(job);
    }
    let edit = |customer: Nullable<String>| JobPatch {
        customer_name: customer,
        ..JobPatch::default()
    };
    ctx.jobs
        .edit(
            ids[0].id,
            edit(Nullable::Set("Mueller GmbH".into())),
            VersionCondition::Any,
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(
        customers(&ctx, "m", 10).await,
        named(&[("Meier", 1), ("Mueller GmbH", 1), ("Müller GmbH", 1)])
    );
    ctx.jobs
        .edit(
            ids[2].id,
            edit(Nullable::Clear),
            VersionCondition::Any,
            &actor,
        )
        .await
        .unwrap();
    ctx.jobs
        .delete(ids[1].id, VersionCondition::Any, &actor)
        .await
        .unwrap();
    assert_eq!(
        customers(&ctx, "M", 10).await,
        named(&[("Mueller GmbH", 1)])
    );
}

/// A database whose jobs were written before the `customer_fold` migration: the store folds
/// their customer names at start-up, and the autocomplete finds them.
async fn a_database_before_customer_folds_finds_its_customers(ctx: Ctx) {
    use diesel::{Connection, connection::SimpleConnection};

    for customer in ["Müller GmbH", "Müller GmbH", "Straße 5"] {
        create(
            &ctx,
            JobDraft {
                customer_name: Some(customer.into()),
                ..draft("j")
            },
        )
        .await;
    }
    create(&ctx, draft("without")).await;
    let (_, target) = printdesk_store_diesel::parse_url(ctx.url()).unwrap();
    let mut conn = printdesk_store_diesel::AnyConnection::establish(&target).unwrap();
    let backend = if ctx.url().starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let down = match backend {
        "postgres" => {
            include_str!("../../../migrations/postgres/2026-12-01-000500_customer_fold/down.sql")
        }
        _ => include_str!("../../../migrations/sqlite/2026-12-01-000500_customer_fold/down.sql"),
    };
    conn.batch_execute(down).unwrap();
    conn.batch_execute("DELETE FROM __diesel_schema_migrations WHERE version = '20261201000500'")
        .unwrap();
    drop(conn);

    let store = Arc::new(Store::connect(ctx.url()).await.expect("migrate again"));
    let reopened = Ctx::new(store.clone(), store, None);
    assert_eq!(
        customers(&reopened, "", 10).await,
        named(&[("Müller GmbH", 2), ("Straße 5", 1)])
    );
    assert_eq!(
        customers(&reopened, "STRASSE", 10).await,
        named(&[("Straße 5", 1)])
    );
}
