//! The summary use case (`GET /reports/summary`): how many jobs, how many completed and
//! failed, business and private, and how long the printers printed, per customer, printer,
//! month or status, over the jobs a query's filters select.
//!
//! The store counts and sums ([`crate::JobRepository::summarize`], in SQL on the Diesel
//! store); the domain decides the groups (which months a span covers, in the calendar the
//! adapter gives), their order and labels, and the totals.

use std::{collections::HashMap, fmt, ops::Bound, str::FromStr};

use serde::Serialize;

use crate::{
    clock::Timestamp, errors::StoreError, job::Job, status::JobStatus, validation::FieldViolation,
};

/// What the summary's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SummaryGrouping {
    /// One row per customer name (jobs without a customer in one row, key `null`), by name.
    Customer,
    /// One row per printer (manual jobs in one row, key `null`), by the printer's name.
    Printer,
    /// One row per calendar month of `created_at`, oldest first, empty months included.
    Month,
    /// One row per status that has jobs, in the workflow's order.
    Status,
}

impl SummaryGrouping {
    const ALL: [Self; 4] = [Self::Customer, Self::Printer, Self::Month, Self::Status];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Printer => "printer",
            Self::Month => "month",
            Self::Status => "status",
        }
    }
}

impl FromStr for SummaryGrouping {
    type Err = FieldViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                FieldViolation::new(
                    "group_by",
                    "must be one of customer, printer, month, status",
                )
            })
    }
}

/// Where a period of a calendar begins, and its name (`2026-11`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodStart {
    /// The period's name, e.g. `2026-11`.
    pub label: String,
    /// Its first instant.
    pub start: Timestamp,
}

/// A calendar's months, in some time zone. The domain has no time-zone database: the adapter
/// that knows the zone the client asked for implements this.
pub trait MonthCalendar: Send + Sync + fmt::Debug {
    /// The month `t` falls in.
    fn month_containing(&self, t: Timestamp) -> PeriodStart;
    /// The month after `month`; `None` past the last month the calendar knows.
    fn next_month(&self, month: &PeriodStart) -> Option<PeriodStart>;
}

/// The figures of a group of jobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryFigures {
    /// Jobs.
    pub jobs: u64,
    /// Jobs in status `completed`.
    pub completed: u64,
    /// Jobs in status `failed`.
    pub failed: u64,
    /// Business jobs.
    pub business: u64,
    /// Jobs that are not business jobs.
    pub private: u64,
    /// Time printed, in whole seconds: the sum over the jobs that have both `started_at` and
    /// a later `completed_at` (completed or failed: a failed print used the printer too) of
    /// `completed_at − started_at`, each job's time cut to whole seconds.
    pub print_seconds: u64,
}

impl SummaryFigures {
    /// The figures of one job.
    pub fn of(job: &Job) -> Self {
        Self {
            jobs: 1,
            completed: u64::from(job.status == JobStatus::Completed),
            failed: u64::from(job.status == JobStatus::Failed),
            business: u64::from(job.is_business),
            private: u64::from(!job.is_business),
            print_seconds: print_seconds(job.started_at, job.completed_at),
        }
    }

    /// Adds `other`'s figures to these.
    pub fn add(&mut self, other: &Self) {
        self.jobs += other.jobs;
        self.completed += other.completed;
        self.failed += other.failed;
        self.business += other.business;
        self.private += other.private;
        self.print_seconds += other.print_seconds;
    }
}

/// A job's print time in whole seconds (cut, not rounded), 0 without both times or when the
/// end is not after the start.
pub fn print_seconds(started: Option<Timestamp>, completed: Option<Timestamp>) -> u64 {
    match (started, completed) {
        (Some(s), Some(c)) if c > s => {
            u64::try_from((c - s).whole_milliseconds() / 1000).unwrap_or(u64::MAX)
        }
        _ => 0,
    }
}

/// What a store groups by for [`crate::JobRepository::summarize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryKey {
    /// `customer_name`, as stored.
    Customer,
    /// `printer_id`.
    Printer,
    /// `status`.
    Status,
    /// Periods of `created_at` divided at these instants, in increasing order: period 0 holds
    /// the jobs created before the first, period `i` those created at or after the `i`-th
    /// and before the next, the last period those at or after the last.
    CreatedPeriods(Vec<Timestamp>),
}

/// Which group a store's figures are for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupValue {
    /// The stored value of the column (`None`: NULL).
    Value(Option<String>),
    /// The period's number (see [`SummaryKey::CreatedPeriods`]).
    Period(usize),
}

/// One group's figures, as a store reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryGroup {
    /// The group.
    pub value: GroupValue,
    /// Its figures.
    pub figures: SummaryFigures,
}

/// The group a job falls in, by `key` (for stores that summarise job by job).
pub fn group_of(job: &Job, key: &SummaryKey) -> GroupValue {
    match key {
        SummaryKey::Customer => {
            GroupValue::Value(job.customer_name.as_ref().map(|c| c.as_str().to_owned()))
        }
        SummaryKey::Printer => {
            GroupValue::Value(job.printer_id.as_ref().map(|p| p.as_str().to_owned()))
        }
        SummaryKey::Status => GroupValue::Value(Some(job.status.as_str().to_owned())),
        SummaryKey::CreatedPeriods(starts) => {
            GroupValue::Period(starts.partition_point(|start| *start <= job.created_at))
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryRow {
    /// What the row is for: the customer name, printer id, month (`2026-11`) or status;
    /// `null` for jobs without a customer, or without a printer.
    pub key: Option<String>,
    /// How a person reads the key: the printer's name for a printer (its id if it has none
    /// any more), else the key itself.
    pub label: Option<String>,
    /// The row's figures.
    #[serde(flatten)]
    pub figures: SummaryFigures,
}

/// The summary: its rows and their totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSummary {
    /// What the rows are.
    pub group_by: SummaryGrouping,
    /// The rows, in the grouping's order.
    pub rows: Vec<SummaryRow>,
    /// The sums of the rows' figures: the figures of every job the filters select.
    pub totals: SummaryFigures,
}

/// Why a summary could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummarizeJobsError {
    /// A month summary over more months than [`MAX_MONTHS`].
    #[error("a summary by month covers at most {MAX_MONTHS} months; narrow the span")]
    TooManyMonths,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most months one summary has rows for (50 years).
pub const MAX_MONTHS: usize = 600;

/// The months from the one holding `first` to the one holding `last`, at most
/// [`MAX_MONTHS`].
pub(crate) fn months(
    calendar: &dyn MonthCalendar,
    first: Timestamp,
    last: Timestamp,
) -> Result<Vec<PeriodStart>, SummarizeJobsError> {
    let mut months = vec![calendar.month_containing(first)];
    loop {
        let next = calendar.next_month(months.last().expect("one month at least"));
        let Some(next) = next.filter(|next| next.start <= last) else {
            return Ok(months);
        };
        if months.len() == MAX_MONTHS {
            return Err(SummarizeJobsError::TooManyMonths);
        }
        months.push(next);
    }
}

/// The latest instant a span's end lets in (an excluded end lets in the millisecond
/// before it: timestamps are whole milliseconds).
pub(crate) fn last_instant(end: Bound<Timestamp>) -> Option<Timestamp> {
    match end {
        Bound::Included(t) => Some(t),
        Bound::Excluded(t) => Some(t - time::Duration::milliseconds(1)),
        Bound::Unbounded => None,
    }
}

/// The earliest instant a span's start lets in.
pub(crate) fn first_instant(start: Bound<Timestamp>) -> Option<Timestamp> {
    match start {
        Bound::Included(t) => Some(t),
        Bound::Excluded(t) => Some(t + time::Duration::milliseconds(1)),
        Bound::Unbounded => None,
    }
}

/// Turns a store's groups into the summary's rows, in the grouping's order, with the totals.
/// `printer_names` names the printers by id; `months` are the periods of a month summary.
pub(crate) fn assemble(
    group_by: SummaryGrouping,
    groups: Vec<SummaryGroup>,
    months: &[PeriodStart],
    printer_names: &HashMap<String, String>,
) -> JobSummary {
    let mut rows: Vec<SummaryRow> = match group_by {
        SummaryGrouping::Month => {
            let mut figures = vec![SummaryFigures::default(); months.len()];
            for group in groups {
                if let GroupValue::Period(i) = group.value
                    && let Some(slot) = figures.get_mut(i)
                {
                    slot.add(&group.figures);
                }
            }
            months
                .iter()
                .zip(figures)
                .map(|(month, figures)| SummaryRow {
                    key: Some(month.label.clone()),
                    label: Some(month.label.clone()),
                    figures,
                })
                .collect()
        }
        _ => groups
            .into_iter()
            .filter_map(|group| match group.value {
                GroupValue::Value(key) => Some(SummaryRow {
                    label: match (&key, group_by) {
                        (Some(id), SummaryGrouping::Printer) => {
                            Some(printer_names.get(id).unwrap_or(id).clone())
                        }
                        _ => key.clone(),
                    },
                    key,
                    figures: group.figures,
                }),
                GroupValue::Period(_) => None,
            })
            .collect(),
    };
    match group_by {
        SummaryGrouping::Month => {}
        SummaryGrouping::Status => rows.sort_by_key(|row| {
            row.key
                .as_deref()
                .and_then(|k| k.parse::<JobStatus>().ok())
                .map_or(usize::MAX, |s| {
                    JobStatus::ALL
                        .iter()
                        .position(|x| *x == s)
                        .unwrap_or(usize::MAX)
                })
        }),
        // By what a person reads, the row without a customer or printer last.
        SummaryGrouping::Customer | SummaryGrouping::Printer => rows.sort_by(|a, b| {
            (a.key.is_none(), &a.label, &a.key).cmp(&(b.key.is_none(), &b.label, &b.key))
        }),
    }
    let mut totals = SummaryFigures::default();
    for row in &rows {
        totals.add(&row.figures);
    }
    JobSummary {
        group_by,
        rows,
        totals,
    }
}
