use std::{fmt, ops::Bound, str::FromStr};

use serde::Serialize;

use crate::{
    clock::Timestamp, fields::CustomerName, job::Job, printer::PrinterId, search::SearchQuery,
    status::JobStatus, validation::FieldViolation,
};

/// How many jobs one page holds: 1–500, 50 unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Limit(u32);

impl Limit {
    /// Most jobs one page may hold.
    pub const MAX: u32 = 500;

    /// Checks the range.
    pub fn new(n: i64) -> Result<Self, FieldViolation> {
        match u32::try_from(n) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(FieldViolation::new("limit", "must be between 1 and 500")),
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(50)
    }
}

/// A column the job list can be sorted by. The text columns (`job_name`, `customer_name`,
/// `file_name`) sort in Unicode collation order ([`crate::search::sort_key`]); `status` and
/// `printer_id` by their (ASCII) wire values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `job_name`
    JobName,
    /// `status`
    Status,
    /// `customer_name`
    CustomerName,
    /// `printer_id`
    PrinterId,
    /// `file_name`
    FileName,
    /// `started_at`: when the print began; jobs never started sort last.
    StartedAt,
    /// `completed_at`: when the print ended; jobs not finished sort last.
    CompletedAt,
}

impl SortKey {
    const ALL: [SortKey; 9] = [
        Self::CreatedAt,
        Self::UpdatedAt,
        Self::JobName,
        Self::Status,
        Self::CustomerName,
        Self::PrinterId,
        Self::FileName,
        Self::StartedAt,
        Self::CompletedAt,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::JobName => "job_name",
            Self::Status => "status",
            Self::CustomerName => "customer_name",
            Self::PrinterId => "printer_id",
            Self::FileName => "file_name",
            Self::StartedAt => "started_at",
            Self::CompletedAt => "completed_at",
        }
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// The list's order, written `key` or `key:asc|desc` (`updated_at:desc`).
///
/// Ties are broken by the job id, so paging is stable.
///
/// ```
/// use printdesk_domain::{JobSort, SortKey, SortDirection};
/// let sort: JobSort = "updated_at:desc".parse().unwrap();
/// assert_eq!((sort.key, sort.direction), (SortKey::UpdatedAt, SortDirection::Desc));
/// assert_eq!(JobSort::default().to_string(), "created_at:desc");
/// assert!("colour".parse::<JobSort>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobSort {
    /// The column.
    pub key: SortKey,
    /// The direction.
    pub direction: SortDirection,
}

impl Default for JobSort {
    fn default() -> Self {
        Self {
            key: SortKey::CreatedAt,
            direction: SortDirection::Desc,
        }
    }
}

impl FromStr for JobSort {
    type Err = FieldViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            let keys: Vec<_> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
            FieldViolation::new(
                "sort",
                format!(
                    "must be one of {} with an optional :asc or :desc",
                    keys.join(", ")
                ),
            )
        };
        let (key, direction) = s.split_once(':').unwrap_or((s, "asc"));
        let key = SortKey::ALL
            .into_iter()
            .find(|k| k.as_str() == key)
            .ok_or_else(invalid)?;
        let direction = match direction {
            "asc" => SortDirection::Asc,
            "desc" => SortDirection::Desc,
            _ => return Err(invalid()),
        };
        Ok(Self { key, direction })
    }
}

impl fmt::Display for JobSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            SortDirection::Asc => "asc",
            SortDirection::Desc => "desc",
        };
        write!(f, "{}:{dir}", self.key.as_str())
    }
}

/// A span of time between two instants, each end included, excluded or open: what the
/// date filters select. The domain knows no calendars: an adapter turns "30 November in
/// Europe/Berlin, the whole day" into the instants (`[start of the day, start of the next)`).
///
/// ```
/// use std::ops::Bound;
/// use printdesk_domain::TimeRange;
/// use time::macros::datetime;
/// let november = TimeRange::new(
///     Bound::Included(datetime!(2026-11-01 00:00 +1)),
///     Bound::Excluded(datetime!(2026-12-01 00:00 +1)),
/// );
/// assert!(november.contains(datetime!(2026-10-31 23:30 UTC)));
/// assert!(!november.contains(datetime!(2026-11-30 23:00 UTC)));
/// assert!(TimeRange::default().contains(datetime!(1970-01-01 00:00 UTC)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// The earliest instant, if any.
    pub start: Bound<Timestamp>,
    /// The latest instant, if any.
    pub end: Bound<Timestamp>,
}

impl Default for TimeRange {
    fn default() -> Self {
        Self::new(Bound::Unbounded, Bound::Unbounded)
    }
}

impl TimeRange {
    /// The span between `start` and `end`.
    pub const fn new(start: Bound<Timestamp>, end: Bound<Timestamp>) -> Self {
        Self { start, end }
    }

    /// Whether either end is set (a filter is asked for).
    pub const fn is_bounded(&self) -> bool {
        !matches!((self.start, self.end), (Bound::Unbounded, Bound::Unbounded))
    }

    /// Whether `t` lies in the span.
    pub fn contains(&self, t: Timestamp) -> bool {
        let after_start = match self.start {
            Bound::Included(s) => t >= s,
            Bound::Excluded(s) => t > s,
            Bound::Unbounded => true,
        };
        let before_end = match self.end {
            Bound::Included(e) => t <= e,
            Bound::Excluded(e) => t < e,
            Bound::Unbounded => true,
        };
        after_start && before_end
    }

    /// Whether a job's optional time matches: a job without the time (never completed)
    /// matches only an open span.
    pub fn contains_optional(&self, t: Option<Timestamp>) -> bool {
        match t {
            Some(t) => self.contains(t),
            None => !self.is_bounded(),
        }
    }
}

/// The rule of the `customer` filter: names are equal when their Unicode lower-case forms
/// are (`MÜLLER GmbH` is `Müller GmbH`; `Mueller GmbH` is another customer). Every store
/// compares the lower-case form this returns with the stored name's.
pub fn customer_key(name: &str) -> String {
    name.to_lowercase()
}

/// Which jobs to list, in which order, which page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobQuery {
    /// Only jobs in this status.
    pub status: Option<JobStatus>,
    /// Only jobs on this printer.
    pub printer_id: Option<PrinterId>,
    /// Only business (or only non-business) jobs.
    pub is_business: Option<bool>,
    /// Only jobs whose name, customer, notes or file name match this text search (case- and
    /// accent-insensitive; see [`crate::search`]).
    pub text: Option<SearchQuery>,
    /// Only jobs of this customer, ignoring case ([`customer_key`]).
    pub customer: Option<CustomerName>,
    /// Only jobs created in this span.
    pub created: TimeRange,
    /// Only jobs completed (or failed: the time the print ended) in this span; a bounded span
    /// leaves out jobs that have not ended.
    pub completed: TimeRange,
    /// Order.
    pub sort: JobSort,
    /// Page size.
    pub limit: Limit,
    /// Jobs to skip.
    pub offset: u64,
}

/// One page of the job list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobPage {
    /// The jobs on this page.
    pub jobs: Vec<Job>,
    /// How many jobs match the filters in all.
    pub total_count: u64,
    /// The page size asked for (1–500).
    #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1, maximum = 500))]
    pub limit: Limit,
    /// The jobs skipped.
    pub offset: u64,
}
