//! The job list (`GET /jobs`): sort parsing, the page-size limit, filters and paging.
#![cfg(feature = "testing")]

mod support;

use printdesk_domain::{
    JobDraft, JobQuery, JobSort, JobStatus, Limit, PrinterId, SearchQuery, SortDirection, SortKey,
};
use support::{World, named};
use time::Duration;

// ---------------------------------------------------------------------------------------------
// JobSort: `key` or `key:asc|desc`, default created_at:desc
// ---------------------------------------------------------------------------------------------

#[test]
fn sort_defaults_to_created_at_descending() {
    let sort = JobSort::default();
    assert_eq!(
        (sort.key, sort.direction),
        (SortKey::CreatedAt, SortDirection::Desc)
    );
    assert_eq!(sort.to_string(), "created_at:desc");
    assert_eq!(JobQuery::default().sort, sort);
}

#[test]
fn sort_parses_every_key_in_both_directions() {
    let keys = [
        ("created_at", SortKey::CreatedAt),
        ("updated_at", SortKey::UpdatedAt),
        ("job_name", SortKey::JobName),
        ("status", SortKey::Status),
        ("customer_name", SortKey::CustomerName),
        ("printer_id", SortKey::PrinterId),
        ("file_name", SortKey::FileName),
        ("started_at", SortKey::StartedAt),
        ("completed_at", SortKey::CompletedAt),
    ];
    for (name, key) in keys {
        assert_eq!(key.as_str(), name);
        for (dir_name, direction) in [("asc", SortDirection::Asc), ("desc", SortDirection::Desc)] {
            let text = format!("{name}:{dir_name}");
            let sort: JobSort = text.parse().unwrap();
            assert_eq!((sort.key, sort.direction), (key, direction), "{text}");
            assert_eq!(sort.to_string(), text, "Display round-trips");
        }
    }
}

#[test]
fn sort_without_a_direction_is_ascending() {
    let sort: JobSort = "job_name".parse().unwrap();
    assert_eq!(
        (sort.key, sort.direction),
        (SortKey::JobName, SortDirection::Asc)
    );
}

#[test]
fn sort_rejects_unknown_keys_and_directions() {
    for bad in [
        "",
        "colour",
        "id",
        "notes",
        "CREATED_AT",
        "created_at:",
        "created_at:up",
        "created_at:DESC",
        "created_at:desc:asc",
        ":desc",
        " created_at",
    ] {
        let violation = bad.parse::<JobSort>().unwrap_err();
        assert_eq!(violation.field, "sort", "{bad:?}");
        assert_eq!(
            violation.message,
            "must be one of created_at, updated_at, job_name, status, customer_name, \
             printer_id, file_name, started_at, completed_at with an optional :asc or :desc",
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Limit: 1–500, default 50
// ---------------------------------------------------------------------------------------------

#[test]
fn limit_defaults_to_50() {
    assert_eq!(Limit::default().get(), 50);
    assert_eq!(JobQuery::default().limit.get(), 50);
}

#[test]
fn limit_is_between_1_and_500() {
    for ok in [1, 2, 50, 499, 500] {
        assert_eq!(Limit::new(ok).unwrap().get() as i64, ok);
    }
    assert_eq!(Limit::MAX, 500);
    for bad in [
        0,
        -1,
        501,
        1_000,
        i64::from(u32::MAX) + 1,
        i64::MIN,
        i64::MAX,
    ] {
        let violation = Limit::new(bad).unwrap_err();
        assert_eq!(
            (violation.field.as_str(), violation.message.as_str()),
            ("limit", "must be between 1 and 500"),
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Listing through JobService
// ---------------------------------------------------------------------------------------------

async fn catalogue(w: &World) {
    w.printer("mk4-1").await;
    let jobs = [
        JobDraft {
            status: JobStatus::Completed,
            printer_id: Some("mk4-1".into()),
            ..named("Benchy")
        },
        JobDraft {
            is_business: true,
            customer_name: Some("ACME".into()),
            ..named("Bracket")
        },
        JobDraft {
            notes: Some("Needs BENCHY-style hull".into()),
            ..named("Boat")
        },
        JobDraft {
            file_name: Some("clip.3mf".into()),
            printer_id: Some("mk4-1".into()),
            ..named("Clip")
        },
    ];
    for draft in jobs {
        w.job(draft).await;
        w.clock.advance(Duration::seconds(1));
    }
}

fn names(page: &printdesk_domain::JobPage) -> Vec<&str> {
    page.jobs.iter().map(|j| j.job_name.as_str()).collect()
}

#[tokio::test]
async fn the_default_list_is_newest_first() {
    let w = World::new();
    catalogue(&w).await;
    let page = w.jobs.list(&JobQuery::default()).await.unwrap();
    assert_eq!(names(&page), ["Clip", "Boat", "Bracket", "Benchy"]);
    assert_eq!(page.total_count, 4);
    assert_eq!(page.limit, Limit::default());
    assert_eq!(page.offset, 0);
}

#[tokio::test]
async fn the_list_filters_by_status_printer_business_and_text() {
    let w = World::new();
    catalogue(&w).await;
    let list = |query: JobQuery| {
        let jobs = w.jobs.clone();
        async move { jobs.list(&query).await.unwrap() }
    };
    let sorted = "job_name:asc".parse::<JobSort>().unwrap();

    let page = list(JobQuery {
        status: Some(JobStatus::Completed),
        sort: sorted,
        ..JobQuery::default()
    })
    .await;
    assert_eq!(names(&page), ["Benchy"]);

    let page = list(JobQuery {
        printer_id: Some(PrinterId::parse("mk4-1").unwrap()),
        sort: sorted,
        ..JobQuery::default()
    })
    .await;
    assert_eq!(names(&page), ["Benchy", "Clip"]);

    let page = list(JobQuery {
        is_business: Some(true),
        sort: sorted,
        ..JobQuery::default()
    })
    .await;
    assert_eq!(names(&page), ["Bracket"]);

    // Text in the name, the customer, the notes or the file, ignoring case.
    for (text, expected) in [
        ("benchy", vec!["Benchy", "Boat"]),
        ("acme", vec!["Bracket"]),
        ("CLIP.3MF", vec!["Clip"]),
        ("nothing like it", vec![]),
    ] {
        let page = list(JobQuery {
            text: SearchQuery::parse(text).unwrap(),
            sort: sorted,
            ..JobQuery::default()
        })
        .await;
        assert_eq!(names(&page), expected, "{text}");
        assert_eq!(page.total_count, expected.len() as u64);
    }
}

#[tokio::test]
async fn the_list_pages_with_limit_and_offset() {
    let w = World::new();
    catalogue(&w).await;
    let sort: JobSort = "created_at:asc".parse().unwrap();
    let page = |offset: u64| JobQuery {
        sort,
        limit: Limit::new(3).unwrap(),
        offset,
        ..JobQuery::default()
    };

    let first = w.jobs.list(&page(0)).await.unwrap();
    assert_eq!(names(&first), ["Benchy", "Bracket", "Boat"]);
    assert_eq!(first.total_count, 4);

    let second = w.jobs.list(&page(3)).await.unwrap();
    assert_eq!(names(&second), ["Clip"]);
    assert_eq!(second.total_count, 4);
    assert_eq!(second.offset, 3);

    let beyond = w.jobs.list(&page(10)).await.unwrap();
    assert!(beyond.jobs.is_empty());
    assert_eq!(beyond.total_count, 4);
}
