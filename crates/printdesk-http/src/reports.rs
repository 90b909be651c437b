//! The reports: `GET /reports/summary`, the figures of the jobs the list's filters select,
//! per customer, printer, month or status.

use actix_web::{HttpResponse, web};
use printdesk_domain::{
    FieldViolation, SummarizeJobsError, SummaryFigures, SummaryGrouping, SummaryRow,
    ValidationErrors,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    ApiState,
    list_query::{FilterParams, SummaryParams, summary_query},
    problem::Problem,
};

/// The summary as the API returns it.
#[derive(Serialize, ToSchema)]
#[schema(as = JobSummary)]
pub(crate) struct Summary {
    /// What the rows are.
    group_by: SummaryGrouping,
    /// The time zone the dates and months are in.
    #[schema(example = "Europe/Berlin")]
    tz: String,
    /// The rows: customers and printers by name (jobs without one last), months oldest first
    /// (every month of the span, empty ones too), statuses in the workflow's order.
    rows: Vec<SummaryRow>,
    /// The figures of every selected job: the sums of the rows'.
    totals: SummaryFigures,
}

impl From<SummarizeJobsError> for Problem {
    fn from(error: SummarizeJobsError) -> Self {
        match error {
            SummarizeJobsError::TooManyMonths => Problem::validation(&ValidationErrors::single(
                FieldViolation::new("group_by", error.to_string()),
            )),
            SummarizeJobsError::Store(error) => error.into(),
        }
    }
}

/// Summarise jobs
///
/// How many jobs, how many completed and failed, business and private, and how long the
/// printers printed, per customer, printer, month (of `created_at`, in `tz`) or status, over
/// the jobs the list's filters select; `from`/`to` are the creation span.
#[utoipa::path(
    get,
    path = "/api/v1/reports/summary",
    tag = "reports",
    operation_id = "summarizeJobs",
    params(FilterParams, SummaryParams),
    responses(
        (status = 200, description = "The rows and their totals.", body = Summary,
            example = json!({
                "group_by": "month", "tz": "Europe/Berlin",
                "rows": [{ "key": "2026-11", "label": "2026-11", "jobs": 3, "completed": 2,
                    "failed": 1, "business": 2, "private": 1, "print_seconds": 19800 }],
                "totals": { "jobs": 3, "completed": 2, "failed": 1, "business": 2,
                    "private": 1, "print_seconds": 19800 }
            })),
        (status = 400, description = "A parameter is invalid, unknown or repeated, `from` is \
            given with `created_from` (or `to` with `created_to`), or a month summary would \
            have more than 600 rows; each is named in `errors`.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn summary(
    state: web::Data<ApiState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let (query, group_by, zone) = summary_query(query.into_inner())?;
    let summary = state.jobs.summarize(&query, group_by, &zone).await?;
    Ok(HttpResponse::Ok().json(Summary {
        group_by: summary.group_by,
        tz: zone.name().to_owned(),
        rows: summary.rows,
        totals: summary.totals,
    }))
}
