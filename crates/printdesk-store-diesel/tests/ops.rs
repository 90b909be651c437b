//! What the operations endpoints read from the store: `ping` and the job count per status, on
//! SQLite and (when `PRINTDESK_TEST_POSTGRES_URL` is set) PostgreSQL.

use std::sync::Arc;

use printdesk_domain::{
    Actor, JobDraft, JobService, JobStatus, SystemClock, VersionCondition,
    testing::RecordingPublisher,
};
use printdesk_store_diesel::{Store, test_support::TestDatabase};

async fn counts_jobs_by_status(db: TestDatabase) {
    let store = Store::connect(&db.url).await.expect("connect and migrate");
    store.ping().await.expect("the database answers");
    assert_eq!(store.count_jobs_by_status().await.unwrap(), vec![]);

    let jobs = JobService::new(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        Arc::new(RecordingPublisher::default()),
        Arc::new(SystemClock),
    );
    let actor = Actor::anonymous();
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let draft = JobDraft {
            job_name: name.into(),
            ..JobDraft::default()
        };
        ids.push(jobs.create(draft, &actor).await.unwrap().id);
    }
    jobs.change_status(
        ids[0],
        JobStatus::Running,
        false,
        VersionCondition::Any,
        &actor,
    )
    .await
    .unwrap();
    jobs.change_status(
        ids[1],
        JobStatus::Failed,
        true,
        VersionCondition::Any,
        &actor,
    )
    .await
    .unwrap();

    let mut counts = store.count_jobs_by_status().await.unwrap();
    counts.sort_by_key(|(status, _)| status.as_str());
    assert_eq!(
        counts,
        vec![
            (JobStatus::Failed, 1),
            (JobStatus::Pending, 2),
            (JobStatus::Running, 1),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_jobs_by_status_on_sqlite() {
    counts_jobs_by_status(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_jobs_by_status_on_postgres() {
    if let Some(db) = TestDatabase::postgres("counts_jobs_by_status") {
        counts_jobs_by_status(db).await;
    }
}
