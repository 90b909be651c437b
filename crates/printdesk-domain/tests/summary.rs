//! The summary use case (`GET /reports/summary`): which rows, in which order, with which
//! labels, and totals that are the sums of the rows; months from the calendar the adapter
//! gives (here UTC's).
#![cfg(feature = "testing")]

mod support;

use std::ops::Bound;

use printdesk_domain::{
    JobDraft, JobQuery, JobStatus, MAX_MONTHS, MonthCalendar, PeriodStart, SummarizeJobsError,
    SummaryFigures, SummaryGrouping, TimeRange, Timestamp,
};
use support::{World, named};
use time::{Duration, Month, macros::datetime};

/// UTC's months.
#[derive(Debug)]
struct Utc;

impl MonthCalendar for Utc {
    fn month_containing(&self, t: Timestamp) -> PeriodStart {
        let first = t.date().replace_day(1).unwrap();
        PeriodStart {
            label: format!("{:04}-{:02}", first.year(), u8::from(first.month())),
            start: first.midnight().assume_utc(),
        }
    }

    fn next_month(&self, month: &PeriodStart) -> Option<PeriodStart> {
        let date = month.start.date();
        let (year, next) = match date.month() {
            Month::December => (date.year() + 1, Month::January),
            m => (date.year(), m.next()),
        };
        let first = time::Date::from_calendar_date(year, next, 1).ok()?;
        Some(self.month_containing(first.midnight().assume_utc()))
    }
}

fn keys(rows: &[printdesk_domain::SummaryRow]) -> Vec<(Option<&str>, u64)> {
    rows.iter()
        .map(|r| (r.key.as_deref(), r.figures.jobs))
        .collect()
}

#[tokio::test]
async fn months_run_from_the_first_job_to_the_last_with_empty_ones_between() {
    let world = World::new(); // 28 November 2026
    world.named_job("november").await;
    world.clock.advance(Duration::days(40)); // 7 January 2027
    world.named_job("january").await;
    let summary = world
        .jobs
        .summarize(&JobQuery::default(), SummaryGrouping::Month, &Utc)
        .await
        .unwrap();
    assert_eq!(summary.group_by, SummaryGrouping::Month);
    assert_eq!(
        keys(&summary.rows),
        [
            (Some("2026-11"), 1),
            (Some("2026-12"), 0),
            (Some("2027-01"), 1)
        ]
    );
    assert_eq!(summary.rows[1].figures, SummaryFigures::default());
    assert_eq!(summary.totals.jobs, 2);

    // A span asked for covers its own months, whatever the jobs.
    let span = JobQuery {
        created: TimeRange::new(
            Bound::Included(datetime!(2026-10-15 00:00 UTC)),
            Bound::Excluded(datetime!(2027-03-01 00:00 UTC)),
        ),
        ..JobQuery::default()
    };
    let summary = world
        .jobs
        .summarize(&span, SummaryGrouping::Month, &Utc)
        .await
        .unwrap();
    let months: Vec<_> = summary
        .rows
        .iter()
        .map(|r| r.label.clone().unwrap())
        .collect();
    assert_eq!(
        months,
        ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02"]
    );
}

#[tokio::test]
async fn nothing_selected_is_no_rows_and_zero_totals() {
    let world = World::new();
    for grouping in [
        SummaryGrouping::Month,
        SummaryGrouping::Customer,
        SummaryGrouping::Printer,
        SummaryGrouping::Status,
    ] {
        let summary = world
            .jobs
            .summarize(&JobQuery::default(), grouping, &Utc)
            .await
            .unwrap();
        assert!(summary.rows.is_empty(), "{grouping:?}");
        assert_eq!(summary.totals, SummaryFigures::default());
    }
}

#[tokio::test]
async fn more_months_than_a_summary_holds_are_refused() {
    let world = World::new();
    let centuries = JobQuery {
        created: TimeRange::new(
            Bound::Included(datetime!(1900-01-01 00:00 UTC)),
            Bound::Unbounded,
        ),
        ..JobQuery::default()
    };
    world.named_job("now").await;
    let error = world
        .jobs
        .summarize(&centuries, SummaryGrouping::Month, &Utc)
        .await
        .unwrap_err();
    assert_eq!(error, SummarizeJobsError::TooManyMonths);
    assert!(error.to_string().contains(&MAX_MONTHS.to_string()));
}

#[tokio::test]
async fn rows_are_in_the_grouping_s_order_with_readable_labels() {
    let world = World::new();
    world.printer("zz-first-by-name").await; // "Printer zz-first-by-name"
    world.printer("aa").await; // "Printer aa"
    let customer = |name: &str| JobDraft {
        is_business: true,
        customer_name: Some(name.into()),
        ..named(name)
    };
    world.job(customer("Zylinderbau")).await;
    world
        .job(JobDraft {
            printer_id: Some("zz-first-by-name".into()),
            status: JobStatus::Failed,
            ..customer("ACME")
        })
        .await;
    world
        .job(JobDraft {
            printer_id: Some("aa".into()),
            status: JobStatus::Running,
            ..named("private")
        })
        .await;

    let all = JobQuery::default();
    let by = |grouping| world.jobs.summarize(&all, grouping, &Utc);
    let customers = by(SummaryGrouping::Customer).await.unwrap();
    assert_eq!(
        keys(&customers.rows),
        [(Some("ACME"), 1), (Some("Zylinderbau"), 1), (None, 1)]
    );
    assert_eq!(customers.rows[0].figures.business, 1);
    assert_eq!(customers.rows[2].figures.private, 1);

    let printers = by(SummaryGrouping::Printer).await.unwrap();
    let labels: Vec<_> = printers.rows.iter().map(|r| r.label.as_deref()).collect();
    assert_eq!(
        labels,
        [Some("Printer aa"), Some("Printer zz-first-by-name"), None]
    );
    assert_eq!(printers.rows[0].key.as_deref(), Some("aa"));

    let statuses = by(SummaryGrouping::Status).await.unwrap();
    assert_eq!(
        keys(&statuses.rows),
        [
            (Some("pending"), 1),
            (Some("running"), 1),
            (Some("failed"), 1)
        ]
    );
    assert_eq!(statuses.rows[2].figures.failed, 1);
    for summary in [customers, printers, statuses] {
        let mut sums = SummaryFigures::default();
        summary.rows.iter().for_each(|r| sums.add(&r.figures));
        assert_eq!(summary.totals, sums);
        assert_eq!(summary.totals.jobs, 3);
        assert_eq!(summary.totals.business + summary.totals.private, 3);
    }
}

#[test]
fn print_time_is_cut_to_whole_seconds_per_job() {
    use printdesk_domain::print_seconds;
    let start = datetime!(2026-11-02 10:00 UTC);
    assert_eq!(
        print_seconds(Some(start), Some(start + Duration::milliseconds(5999))),
        5
    );
    assert_eq!(
        print_seconds(Some(start), Some(start + Duration::hours(2))),
        7200
    );
    assert_eq!(print_seconds(None, Some(start)), 0);
    assert_eq!(print_seconds(Some(start), None), 0);
    assert_eq!(
        print_seconds(Some(start), Some(start - Duration::seconds(9))),
        0,
        "an end before the start counts nothing"
    );
}
