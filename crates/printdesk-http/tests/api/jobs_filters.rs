//! The job list's customer and date filters through the API (`GET /jobs`, the CSV export),
//! with jobs stored at chosen times: the time-zone edges of "November in Europe/Berlin".

use std::sync::{Arc, Mutex};

use printdesk_domain::{
    CustomerName, EventKind, Job, JobChanges, JobId, JobName, JobRepository, JobStatus,
    NewJobEvent, Version,
};
use printdesk_store_diesel::Store;
use reqwest::StatusCode;
use serde_json::Value;
use time::{OffsetDateTime, macros::datetime};

use crate::helpers::{Backend, TestApp, error_fields, problem, spawn_app_with};

/// A server on `backend` and the store it runs on, to store jobs with chosen times.
pub async fn spawn_with_store(backend: Backend, test: &str) -> Option<(TestApp, Arc<Store>)> {
    let slot: Arc<Mutex<Option<Arc<Store>>>> = Arc::default();
    let keep = slot.clone();
    let app = spawn_app_with(backend, test, move |store| {
        *keep.lock().unwrap() = Some(store.clone());
        store
    })
    .await?;
    let store = slot.lock().unwrap().take().expect("the store was made");
    Some((app, store))
}

/// Stores a job as is: ended (completed) at `completed` after 90 minutes of printing, or
/// pending; a business job when it has a customer.
pub async fn store_job(
    store: &Store,
    name: &str,
    customer: Option<&str>,
    created: OffsetDateTime,
    completed: Option<OffsetDateTime>,
) -> Job {
    let job = Job {
        id: JobId::generate(),
        job_name: JobName::parse(name).unwrap(),
        status: if completed.is_some() {
            JobStatus::Completed
        } else {
            JobStatus::Pending
        },
        is_business: customer.is_some(),
        customer_name: customer.map(|c| CustomerName::parse(c).unwrap()),
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
    store.insert(event).await.unwrap().job
}

/// The five jobs of the November tests.
pub async fn november(store: &Store) {
    // Ended at 23:30 UTC on 31 October: 00:30 on 1 November in Berlin.
    let halloween = (
        datetime!(2026-10-31 20:00 UTC),
        datetime!(2026-10-31 23:30 UTC),
    );
    store_job(
        store,
        "halloween",
        Some("Müller GmbH"),
        halloween.0,
        Some(halloween.1),
    )
    .await;
    // Ended at 23:30 UTC on 30 November: 00:30 on 1 December in Berlin.
    let last = (
        datetime!(2026-11-30 21:00 UTC),
        datetime!(2026-11-30 23:30 UTC),
    );
    store_job(
        store,
        "last night",
        Some("MÜLLER GMBH"),
        last.0,
        Some(last.1),
    )
    .await;
    let mid = (
        datetime!(2026-11-15 10:00 UTC),
        datetime!(2026-11-15 12:00 UTC),
    );
    store_job(store, "mid", Some("Mueller GmbH"), mid.0, Some(mid.1)).await;
    store_job(store, "open", None, datetime!(2026-11-20 10:00 UTC), None).await;
    let december = (
        datetime!(2026-12-01 08:00 UTC),
        datetime!(2026-12-01 09:00 UTC),
    );
    store_job(store, "december", None, december.0, Some(december.1)).await;
}

/// The names `GET /jobs?{query}` lists, by name.
async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page = app.list_jobs(&format!("{query}&sort=job_name")).await;
    let names: Vec<String> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page["total_count"], names.len(), "{query}");
    names
}

async fn november_is_a_month_in_the_zone_asked_for(app: TestApp, store: Arc<Store>) {
    november(&store).await;
    let berlin = "completed_from=2026-11-01&completed_to=2026-11-30&tz=Europe/Berlin";
    assert_eq!(names(&app, berlin).await, ["halloween", "mid"]);
    let utc = "completed_from=2026-11-01&completed_to=2026-11-30";
    assert_eq!(names(&app, utc).await, ["last night", "mid"]);
    let created = "created_from=2026-11-01&created_to=2026-11-30&tz=Europe/Berlin";
    assert_eq!(names(&app, created).await, ["last night", "mid", "open"]);
    // Timestamps are instants, whatever the zone; an unencoded `+` (a space) is understood.
    let instants = "completed_from=2026-11-15T13:00:00%2B01:00&completed_to=2026-12-01T10:00:00 01:00&tz=Asia/Tokyo";
    assert_eq!(
        names(&app, instants).await,
        ["december", "last night", "mid"]
    );
    // The customer: the whole name, ignoring case.
    assert_eq!(
        names(&app, "customer=m%C3%BCller%20gmbh").await,
        ["halloween", "last night"]
    );
    assert_eq!(
        names(&app, &format!("customer=M%C3%BCller%20GmbH&{berlin}")).await,
        ["halloween"]
    );
}

async fn bad_dates_and_zones_are_named(app: TestApp, _store: Arc<Store>) {
    let response = app
        .client
        .get(app.url("/jobs?created_from=1.11.2026&completed_to=2026-11-31&tz=Europe/Berlin"))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["created_from", "completed_to"]);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("YYYY-MM-DD"), "{detail}");

    for path in [
        "/jobs?tz=Mars/Olympus&created_from=2026-11-01",
        "/jobs/export.csv?tz=%2B01:00",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let body: Value = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&body), ["tz"], "{path}");
    }
    let response = app
        .client
        .get(app.url("/jobs?created_from=2026-12-01&created_to=2026-11-30"))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error_fields(&body), ["created_to"]);
}

/// Declares each test once per backend, with the store.
macro_rules! with_store {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let test = concat!(module_path!(), "::sqlite");
                    if let Some((app, store)) = crate::jobs_filters::spawn_with_store(crate::helpers::Backend::Sqlite, test).await {
                        super::$name(app, store).await;
                    }
                }

                #[tokio::test]
                async fn postgres() {
                    let test = concat!(module_path!(), "::postgres");
                    if let Some((app, store)) = crate::jobs_filters::spawn_with_store(crate::helpers::Backend::Postgres, test).await {
                        super::$name(app, store).await;
                    }
                }
            }
        )*
    };
}

with_store!(
    november_is_a_month_in_the_zone_asked_for,
    bad_dates_and_zones_are_named
);
