//! Query strings → domain values: the job list's (`GET /jobs?status=…&sort=…&limit=…`), the
//! export's (`GET /jobs/export.csv?status=…`: the list's filters only) and the history's
//! (`GET /jobs/{id}/history?limit=…&offset=…`).
//!
//! Every parameter is checked and all invalid ones are reported together (400, one `errors`
//! entry each). Unknown parameters are refused too, so a typo (`stauts=`) is not silently a
//! list of every job. An empty `q` means no text filter.

use actix_web::web;
use printdesk_domain::{
    FieldViolation, JobQuery, JobSort, JobStatus, Limit, NUL_CHARACTER_MESSAGE, PrinterId,
    SearchQuery, ValidationErrors,
};
use utoipa::IntoParams;

use crate::problem::{Problem, ProblemKind};

/// The list's parameters: the filters, then order and paging.
const PARAMETERS: [&str; 7] = [
    "status",
    "printer_id",
    "is_business",
    "q",
    "sort",
    "limit",
    "offset",
];

/// The filters alone: what the export takes.
const FILTERS: [&str; 4] = ["status", "printer_id", "is_business", "q"];

/// Paging alone: what the history takes.
const PAGING: [&str; 2] = ["limit", "offset"];

/// The list's parameters as the OpenAPI document describes them; a test keeps the names equal
/// to [`PARAMETERS`]. Any other parameter, or one given twice, is refused (400), each named.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `job_query` reads"
)]
pub struct JobListParams {
    /// Only jobs in this status.
    status: Option<JobStatus>,
    /// Only jobs on this printer.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    printer_id: Option<String>,
    /// Only business (`true`) or only other (`false`) jobs.
    is_business: Option<bool>,
    /// Text search over `job_name`, `customer_name`, `notes` and `file_name`, ignoring case
    /// and accents in every script: every word must occur, a word of three or more
    /// characters anywhere, a shorter one at the start of a word; no character has a special
    /// meaning. At most 200 characters; empty or blank means no text filter.
    #[param(pattern = "^[^\\u0000]*$", max_length = 200)]
    q: Option<String>,
    /// `key`, `key:asc` or `key:desc` (`key` alone is ascending); ties are broken by id so
    /// pages are stable.
    #[param(
        pattern = "^(created_at|updated_at|job_name|status|customer_name|printer_id|file_name|started_at|completed_at)(:(asc|desc))?$",
        default = "created_at:desc"
    )]
    sort: Option<String>,
    /// Jobs per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    limit: Option<u32>,
    /// Jobs to skip.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64, default = 0)]
    offset: Option<u64>,
}

/// The export's parameters: the list's filters (a test keeps the names equal to [`FILTERS`]).
/// `sort`, `limit` and `offset` are refused (400): the export holds every matching job, in
/// creation order.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `export_query` reads"
)]
pub struct ExportParams {
    /// Only jobs in this status.
    status: Option<JobStatus>,
    /// Only jobs on this printer.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    printer_id: Option<String>,
    /// Only business (`true`) or only other (`false`) jobs.
    is_business: Option<bool>,
    /// Text search over `job_name`, `customer_name`, `notes` and `file_name`, ignoring case
    /// and accents in every script: every word must occur, a word of three or more
    /// characters anywhere, a shorter one at the start of a word; no character has a special
    /// meaning. At most 200 characters; empty or blank means no text filter.
    #[param(pattern = "^[^\\u0000]*$", max_length = 200)]
    q: Option<String>,
}

/// A sub-list's paging (a test keeps the names equal to [`PAGING`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `page_query` reads"
)]
pub struct PageParams {
    /// Entries per page.
    #[param(minimum = 1, maximum = 500, default = 50)]
    limit: Option<u32>,
    /// Entries to skip.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64, default = 0)]
    offset: Option<u64>,
}

/// The largest `offset`: `i64::MAX`, what both stores can count to.
const MAX_OFFSET: u64 = i64::MAX as u64;

/// The query extractor configuration: a query string that cannot be decoded is a problem.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        Problem::new(
            ProblemKind::BadRequest,
            format!("The query string could not be decoded: {error}."),
        )
        .into()
    })
}

/// Builds the job list's query from the decoded `key=value` pairs.
pub fn job_query(pairs: Vec<(String, String)>) -> Result<JobQuery, Problem> {
    read_query(&pairs, &PARAMETERS, |_| None)
}

/// Builds the export's query: the list's filters. `sort`, `limit` and `offset` are refused
/// (400, named) rather than ignored: the export always holds every matching job in creation
/// order, and a client asking for one page of it should learn that it gets them all.
pub fn export_query(pairs: Vec<(String, String)>) -> Result<JobQuery, Problem> {
    read_query(&pairs, &FILTERS, |name| {
        ["sort", "limit", "offset"].contains(&name).then_some(
            "is not supported by the export, which holds every matching job in creation order",
        )
    })
}

/// Reads `limit` (1–500, default 50) and `offset` (default 0) for a paged sub-list such as a
/// job's history.
pub fn page_query(pairs: Vec<(String, String)>) -> Result<(Limit, u64), Problem> {
    let query = read_query(&pairs, &PAGING, |_| None)?;
    Ok((query.limit, query.offset))
}

/// Reads the `accepted` parameters into a [`JobQuery`]. `unsupported` may give a reason for a
/// parameter that is known elsewhere but not accepted here; any other unknown parameter is
/// named with the list of accepted ones.
fn read_query(
    pairs: &[(String, String)],
    accepted: &[&'static str],
    unsupported: impl Fn(&str) -> Option<&'static str>,
) -> Result<JobQuery, Problem> {
    let mut query = JobQuery::default();
    let mut violations = Vec::new();
    let mut seen: Vec<&str> = Vec::new();

    for (key, value) in pairs {
        let Some(&name) = accepted.iter().find(|p| **p == key.as_str()) else {
            let message = unsupported(key).map_or_else(
                || format!("is not a known parameter (use {})", accepted.join(", ")),
                str::to_owned,
            );
            violations.push(FieldViolation::new(key.as_str(), message));
            continue;
        };
        if seen.contains(&name) {
            violations.push(FieldViolation::new(name, "must be given at most once"));
            continue;
        }
        seen.push(name);
        if let Err(message) = apply(&mut query, name, value) {
            violations.push(FieldViolation::new(name, message));
        }
    }

    match ValidationErrors::from_violations(violations) {
        None => Ok(query),
        Some(errors) => Err(Problem::validation(&errors)),
    }
}

fn apply(query: &mut JobQuery, name: &str, value: &str) -> Result<(), String> {
    match name {
        "status" => {
            query.status =
                Some(value.parse().map_err(|_| {
                    "must be one of pending, running, completed, failed".to_owned()
                })?);
        }
        "printer_id" => {
            query.printer_id = Some(PrinterId::parse(value).map_err(|v| v.message)?);
        }
        "is_business" => {
            query.is_business = Some(match value {
                "true" => true,
                "false" => false,
                _ => return Err("must be true or false".into()),
            });
        }
        "q" => {
            // No stored text holds U+0000, and PostgreSQL cannot even compare with it.
            if value.contains('\0') {
                return Err(NUL_CHARACTER_MESSAGE.to_owned());
            }
            query.text = SearchQuery::parse(value).map_err(|v| v.message)?;
        }
        "sort" => query.sort = value.parse::<JobSort>().map_err(|v| v.message)?,
        "limit" => {
            let out_of_range = || Limit::new(0).expect_err("0 is out of range").message;
            let n: i64 = value.parse().map_err(|_| out_of_range())?;
            query.limit = Limit::new(n).map_err(|v| v.message)?;
        }
        "offset" => {
            // Within i64, as the document says (`format: int64`) and the stores count.
            query.offset = value
                .parse::<u64>()
                .ok()
                .filter(|&n| n <= MAX_OFFSET)
                .ok_or_else(|| format!("must be a whole number from 0 to {MAX_OFFSET}"))?;
        }
        _ => unreachable!("only known parameters are applied"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use printdesk_domain::{JobStatus, SortDirection, SortKey};

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_without_parameters() {
        assert_eq!(job_query(vec![]).unwrap(), JobQuery::default());
    }

    #[test]
    fn every_parameter_is_read() {
        let query = job_query(pairs(&[
            ("status", "failed"),
            ("printer_id", "x1c"),
            ("is_business", "true"),
            ("q", " benchy "),
            ("sort", "job_name:asc"),
            ("limit", "500"),
            ("offset", "10"),
        ]))
        .unwrap();
        assert_eq!(query.status, Some(JobStatus::Failed));
        assert_eq!(query.printer_id.unwrap().as_str(), "x1c");
        assert_eq!(query.is_business, Some(true));
        assert_eq!(query.text.as_ref().map(|t| t.as_str()), Some("benchy"));
        assert_eq!(query.sort.key, SortKey::JobName);
        assert_eq!(query.sort.direction, SortDirection::Asc);
        assert_eq!(query.limit.get(), 500);
        assert_eq!(query.offset, 10);
    }

    #[test]
    fn every_invalid_parameter_is_reported() {
        let problem = job_query(pairs(&[
            ("status", "done"),
            ("is_business", "yes"),
            ("sort", "colour"),
            ("limit", "501"),
            ("offset", "-1"),
            ("stauts", "x"),
            ("q", "a"),
            ("q", "b"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "status",
                "is_business",
                "sort",
                "limit",
                "offset",
                "stauts",
                "q"
            ]
        );
    }

    #[test]
    fn the_export_takes_the_filters_and_refuses_order_and_paging() {
        let query = export_query(pairs(&[("status", "running"), ("q", "benchy")])).unwrap();
        assert_eq!(query.status, Some(JobStatus::Running));
        assert_eq!(query.text.as_ref().map(|t| t.as_str()), Some("benchy"));

        let problem = export_query(pairs(&[
            ("sort", "job_name"),
            ("limit", "10"),
            ("offset", "5"),
            ("colour", "red"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sort", "limit", "offset", "colour"]);
        assert!(
            problem.errors()[0]
                .message
                .contains("not supported by the export")
        );
        assert!(
            problem.errors()[3]
                .message
                .contains("use status, printer_id, is_business, q")
        );
    }

    #[test]
    fn a_page_query_takes_limit_and_offset_only() {
        let (limit, offset) = page_query(vec![]).unwrap();
        assert_eq!((limit.get(), offset), (50, 0));
        let (limit, offset) = page_query(pairs(&[("limit", "500"), ("offset", "7")])).unwrap();
        assert_eq!((limit.get(), offset), (500, 7));
        let problem = page_query(pairs(&[("limit", "0"), ("status", "running")])).unwrap_err();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "status"]);
    }

    /// The names the OpenAPI document gives, in its order.
    fn documented<P: IntoParams>() -> Vec<String> {
        P::into_params(|| None)
            .into_iter()
            .map(|parameter| parameter.name)
            .collect()
    }

    #[test]
    fn the_documented_parameters_are_the_accepted_ones() {
        assert_eq!(documented::<JobListParams>(), PARAMETERS);
        assert_eq!(documented::<ExportParams>(), FILTERS);
        assert_eq!(documented::<PageParams>(), PAGING);
    }

    #[test]
    fn offset_bounds() {
        let query = job_query(pairs(&[("offset", "9223372036854775807")])).unwrap();
        assert_eq!(query.offset, 9_223_372_036_854_775_807);
        for bad in ["9223372036854775808", "-1", "1.0", ""] {
            let problem = job_query(pairs(&[("offset", bad)])).unwrap_err();
            assert_eq!(
                problem.errors()[0].message,
                "must be a whole number from 0 to 9223372036854775807",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn limit_bounds() {
        assert!(job_query(pairs(&[("limit", "0")])).is_err());
        assert!(job_query(pairs(&[("limit", "1")])).is_ok());
        assert!(job_query(pairs(&[("limit", "abc")])).is_err());
    }
}
