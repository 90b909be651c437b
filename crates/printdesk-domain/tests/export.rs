//! The export use case (`GET /jobs/export.csv`): every job the filters select, in the
//! query's order, in keyset pages of `JobExport::PAGE_SIZE`.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{Job, JobDraft, JobExport, JobQuery, JobStatus};
use support::{World, named};

/// Reads the export to its end; the pages' sizes.
async fn drain(world: &World, query: JobQuery) -> (Vec<Job>, Vec<usize>) {
    let mut export = world.jobs.export(query);
    let (mut jobs, mut sizes) = (Vec::new(), Vec::new());
    while let Some(page) = export.next_page().await.unwrap() {
        sizes.push(page.len());
        jobs.extend(page);
    }
    (jobs, sizes)
}

#[tokio::test]
async fn pages_are_read_until_a_short_one() {
    let world = World::new();
    let page = JobExport::PAGE_SIZE as usize;
    let mut created = Vec::new();
    for i in 0..2 * page + 3 {
        created.push(world.job(named(&format!("job {i}"))).await);
    }
    let oldest_first = JobQuery {
        sort: "created_at:asc".parse().unwrap(),
        ..JobQuery::default()
    };
    let (jobs, sizes) = drain(&world, oldest_first).await;
    assert_eq!(sizes, [page, page, 3]);
    assert_eq!(jobs, created, "every job once, in creation order");
    let (jobs, _) = drain(&world, JobQuery::default()).await;
    created.reverse();
    assert_eq!(jobs, created, "newest first, the list's default");
}

#[tokio::test]
async fn a_full_last_page_is_followed_by_nothing() {
    let world = World::new();
    let page = JobExport::PAGE_SIZE as usize;
    for i in 0..page {
        world.job(named(&format!("job {i}"))).await;
    }
    let (jobs, sizes) = drain(&world, JobQuery::default()).await;
    assert_eq!(sizes, [page], "the empty read after a full page is no page");
    assert_eq!(jobs.len(), page);
}

#[tokio::test]
async fn an_export_of_nothing_is_one_empty_page() {
    let world = World::new();
    world.named_job("not matching").await;
    let query = JobQuery {
        status: Some(JobStatus::Failed),
        ..JobQuery::default()
    };
    let mut export = world.jobs.export(query);
    assert_eq!(export.next_page().await.unwrap(), Some(Vec::new()));
    assert_eq!(export.next_page().await.unwrap(), None);
}

#[tokio::test]
async fn the_filters_and_the_sort_apply_and_the_paging_does_not() {
    let world = World::new();
    let mut failed = Vec::new();
    for i in 0..6 {
        let job = world
            .job(JobDraft {
                status: if i % 2 == 0 {
                    JobStatus::Failed
                } else {
                    JobStatus::Pending
                },
                ..named(&format!("job {i}"))
            })
            .await;
        if job.status == JobStatus::Failed {
            failed.push(job);
        }
    }
    let query = JobQuery {
        status: Some(JobStatus::Failed),
        sort: "job_name:desc".parse().unwrap(),
        limit: printdesk_domain::Limit::new(1).unwrap(),
        offset: 2,
        ..JobQuery::default()
    };
    let (jobs, _) = drain(&world, query).await;
    failed.reverse();
    assert_eq!(jobs, failed, "by name, descending");
}
