//! Query strings → domain values: the job list's (`GET /jobs?status=…&sort=…&limit=…`), the
//! export's (`GET /jobs/export.csv?status=…`: the list's filters and order) and the history's
//! (`GET /jobs/{id}/history?limit=…&offset=…`).
//!
//! Every parameter is checked and all invalid ones are reported together (400, one `errors`
//! entry each). Unknown parameters are refused too, so a typo (`stauts=`) is not silently a
//! list of every job. An empty `q` or `customer` means no such filter.
//!
//! The date filters (`created_from`, `created_to`, `completed_from`, `completed_to`) take an
//! RFC 3339 timestamp (that instant) or a date (`YYYY-MM-DD`: the whole day in `tz`, so a
//! `…_to` date includes its last second); the domain gets the instants.

use std::ops::Bound;

use actix_web::web;
use printdesk_domain::{
    CustomerName, FieldViolation, JobQuery, JobSort, JobStatus, Limit, NUL_CHARACTER_MESSAGE,
    PrinterId, SearchQuery, SummaryGrouping, TimeRange, ValidationErrors,
};
use utoipa::IntoParams;

use crate::{
    export_format::Lang,
    problem::{Problem, ProblemKind},
    time_zone::{self, End, Zone},
};

/// The filters: what the list, the exports and the summary take alike.
const FILTERS: [&str; 10] = [
    "status",
    "printer_id",
    "is_business",
    "q",
    "customer",
    "created_from",
    "created_to",
    "completed_from",
    "completed_to",
    "tz",
];

/// The list's own parameters, after the filters: order and paging.
const LIST: [&str; 3] = ["sort", "limit", "offset"];

/// The CSV export's own parameters, after the filters.
const CSV: [&str; 3] = ["sort", "delimiter", "lang"];

/// The xlsx export's own parameters, after the filters.
const XLSX: [&str; 2] = ["sort", "lang"];

/// The summary's own parameters, after the filters.
const SUMMARY: [&str; 3] = ["from", "to", "group_by"];

/// Paging alone: what the history takes.
const PAGING: [&str; 2] = ["limit", "offset"];

/// The filters as the OpenAPI document describes them; a test keeps the names equal to
/// [`FILTERS`]. Any other parameter than an operation's own, or one given twice, is refused
/// (400), each named.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `read_query` reads"
)]
pub struct FilterParams {
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
    /// Only jobs of this customer: the whole name, ignoring case (`müller gmbh` selects
    /// `Müller GmbH`, not `Müller GmbH & Co`); empty means no customer filter.
    #[param(max_length = 200)]
    customer: Option<String>,
    /// Only jobs created at or after this: an RFC 3339 timestamp, or a date (`YYYY-MM-DD`,
    /// from the start of that day in `tz`).
    #[param(example = "2026-11-01")]
    created_from: Option<String>,
    /// Only jobs created at or before this: an RFC 3339 timestamp, or a date (`YYYY-MM-DD`,
    /// up to the end of that whole day in `tz`).
    #[param(example = "2026-11-30")]
    created_to: Option<String>,
    /// Only jobs whose print ended (`completed_at`: completed or failed) at or after this;
    /// as `created_from`. Jobs that have not ended are left out.
    #[param(example = "2026-11-01")]
    completed_from: Option<String>,
    /// Only jobs whose print ended at or before this; as `created_to`. Jobs that have not
    /// ended are left out.
    #[param(example = "2026-11-30")]
    completed_to: Option<String>,
    /// The IANA time zone the dates are days in, e.g. `Europe/Berlin`.
    #[param(default = "UTC", example = "Europe/Berlin")]
    tz: Option<String>,
}

/// The list's order and paging (a test keeps the names equal to [`LIST`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `job_query` reads"
)]
pub struct ListParams {
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

/// The CSV export's order and format (a test keeps the names equal to [`CSV`]). `limit`
/// and `offset` are refused (400): the export holds every matching job.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `export_query` reads"
)]
pub struct CsvParams {
    /// The list's order, as on the page: `key`, `key:asc` or `key:desc`; without it the
    /// oldest job comes first (creation order, as before `sort` was taken).
    #[param(
        pattern = "^(created_at|updated_at|job_name|status|customer_name|printer_id|file_name|started_at|completed_at)(:(asc|desc))?$",
        default = "created_at:asc"
    )]
    sort: Option<String>,
    /// The field delimiter: `,` or `;` (what spreadsheet apps set up for German and other
    /// languages with a decimal comma expect); `comma` and `semicolon` also do.
    #[param(default = ",", pattern = "^(,|;|comma|semicolon)$")]
    delimiter: Option<String>,
    /// Headings, statuses and yes/no as the page's words in this language (`Abgeschlossen`,
    /// `Ja`); without it the keys and `true`/`false`, as before.
    #[param(inline)]
    lang: Option<Lang>,
}

/// The xlsx export's order and language (a test keeps the names equal to [`XLSX`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `xlsx_export_query` reads"
)]
pub struct XlsxParams {
    /// The list's order, as on the page: `key`, `key:asc` or `key:desc`; without it the
    /// oldest job comes first.
    #[param(
        pattern = "^(created_at|updated_at|job_name|status|customer_name|printer_id|file_name|started_at|completed_at)(:(asc|desc))?$",
        default = "created_at:asc"
    )]
    sort: Option<String>,
    /// The language of the headings, statuses and yes/no; without it the first of `de` and
    /// `en` that `Accept-Language` prefers, else English.
    #[param(inline)]
    lang: Option<Lang>,
}

/// The summary's span and grouping (a test keeps the names equal to [`SUMMARY`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `summary_query` reads"
)]
pub struct SummaryParams {
    /// Jobs created at or after this: the same as `created_from` (give one of the two).
    #[param(example = "2026-11-01")]
    from: Option<String>,
    /// Jobs created at or before this: the same as `created_to` (give one of the two).
    #[param(example = "2026-11-30")]
    to: Option<String>,
    /// What the rows are: customers, printers, months of `created_at` in `tz`, or statuses.
    #[param(inline, default = "month")]
    group_by: Option<SummaryGrouping>,
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
    Ok(read_query(&pairs, &[&FILTERS, &LIST], |_| None)?.query)
}

/// What an export asks for besides its jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// The `tz` the request named, if it named one.
    pub zone: Option<Zone>,
    /// The CSV's field delimiter.
    pub delimiter: char,
    /// The `lang` the request named, if it named one.
    pub lang: Option<Lang>,
}

/// Builds the CSV export's query: the list's filters and order (the oldest job first when no
/// `sort` is given), with the file's delimiter, zone and language.
pub fn csv_export_query(
    pairs: Vec<(String, String)>,
) -> Result<(JobQuery, ExportOptions), Problem> {
    export_query(pairs, &CSV)
}

/// Builds the xlsx export's query: the list's filters and order (the oldest job first when
/// no `sort` is given), with the zone and language.
pub fn xlsx_export_query(
    pairs: Vec<(String, String)>,
) -> Result<(JobQuery, ExportOptions), Problem> {
    export_query(pairs, &XLSX)
}

/// `limit` and `offset` are refused (400, named) rather than ignored: an export always holds
/// every matching job, and a client asking for one page of it should learn that it gets them
/// all.
fn export_query(
    pairs: Vec<(String, String)>,
    own: &[&'static str],
) -> Result<(JobQuery, ExportOptions), Problem> {
    let mut read = read_query(&pairs, &[&FILTERS, own], |name| {
        ["limit", "offset"]
            .contains(&name)
            .then_some("is not supported by the export, which holds every matching job")
    })?;
    if !read.sort_given {
        read.query.sort = "created_at:asc".parse().expect("a valid order");
    }
    Ok((
        read.query,
        ExportOptions {
            zone: read.zone,
            delimiter: read.delimiter.unwrap_or(','),
            lang: read.lang,
        },
    ))
}

/// Builds the summary's query: the list's filters, `from`/`to` (another name for
/// `created_from`/`created_to`), the grouping (default `month`) and the zone (default UTC)
/// its months are in. `sort`, `limit` and `offset` are refused: a summary has no pages.
pub fn summary_query(
    pairs: Vec<(String, String)>,
) -> Result<(JobQuery, SummaryGrouping, Zone), Problem> {
    let read = read_query(&pairs, &[&FILTERS, &SUMMARY], |name| {
        ["sort", "limit", "offset"]
            .contains(&name)
            .then_some("is not supported by the summary, which has one row per group")
    })?;
    Ok((
        read.query,
        read.group_by.unwrap_or(SummaryGrouping::Month),
        read.zone.unwrap_or_default(),
    ))
}

/// Reads `limit` (1–500, default 50) and `offset` (default 0) for a paged sub-list such as a
/// job's history.
pub fn page_query(pairs: Vec<(String, String)>) -> Result<(Limit, u64), Problem> {
    let query = read_query(&pairs, &[&PAGING], |_| None)?.query;
    Ok((query.limit, query.offset))
}

/// What a query string said.
#[derive(Debug, Default)]
struct Read {
    query: JobQuery,
    /// The `tz` given, if any.
    zone: Option<Zone>,
    /// The summary's `group_by`, if given.
    group_by: Option<SummaryGrouping>,
    /// Whether `sort` was given.
    sort_given: bool,
    /// An export's `delimiter`, if given.
    delimiter: Option<char>,
    /// An export's `lang`, if given.
    lang: Option<Lang>,
}

/// The date parameters and where each goes (`from` and `to` are the summary's names for
/// the creation span).
const DATES: [(&str, End); 6] = [
    ("created_from", End::Start),
    ("created_to", End::End),
    ("completed_from", End::Start),
    ("completed_to", End::End),
    ("from", End::Start),
    ("to", End::End),
];

/// Parameters that name the same filter: at most one of each pair may be given.
const SYNONYMS: [(&str, &str); 2] = [("from", "created_from"), ("to", "created_to")];

/// Reads the `accepted` parameters into a [`JobQuery`]. `unsupported` may give a reason for a
/// parameter that is known elsewhere but not accepted here; any other unknown parameter is
/// named with the list of accepted ones.
fn read_query(
    pairs: &[(String, String)],
    accepted: &[&[&'static str]],
    unsupported: impl Fn(&str) -> Option<&'static str>,
) -> Result<Read, Problem> {
    let mut read = Read::default();
    let mut violations = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut dates: Vec<(&'static str, &str)> = Vec::new();
    let mut zone_ok = true;

    for (key, value) in pairs {
        let Some(&name) = accepted
            .iter()
            .flat_map(|group| group.iter())
            .find(|p| **p == key.as_str())
        else {
            let message = unsupported(key).map_or_else(
                || {
                    let names: Vec<&str> = accepted.concat();
                    format!("is not a known parameter (use {})", names.join(", "))
                },
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
        // Dates wait for `tz`, which may come after them.
        if DATES.iter().any(|(date, _)| *date == name) {
            dates.push((name, value));
            continue;
        }
        if name == "delimiter" {
            match value.as_str() {
                "," | "comma" => read.delimiter = Some(','),
                ";" | "semicolon" => read.delimiter = Some(';'),
                _ => violations.push(FieldViolation::new(name, "must be , or ;")),
            }
            continue;
        }
        if name == "lang" {
            match Lang::parse(value) {
                Ok(lang) => read.lang = Some(lang),
                Err(message) => violations.push(FieldViolation::new(name, message)),
            }
            continue;
        }
        read.sort_given |= name == "sort";
        if name == "group_by" {
            match value.parse() {
                Ok(grouping) => read.group_by = Some(grouping),
                Err(violation) => violations.push(violation),
            }
            continue;
        }
        if name == "tz" {
            match Zone::parse(value) {
                Ok(zone) => read.zone = Some(zone),
                Err(message) => {
                    zone_ok = false;
                    violations.push(FieldViolation::new(name, message));
                }
            }
            continue;
        }
        if let Err(message) = apply(&mut read.query, name, value) {
            violations.push(FieldViolation::new(name, message));
        }
    }

    for (synonym, name) in SYNONYMS {
        if seen.contains(&synonym) && seen.contains(&name) {
            violations.push(FieldViolation::new(
                synonym,
                format!("must not be given with {name}, which it is another name for"),
            ));
            dates.retain(|(date, _)| *date != synonym);
        }
    }

    // Without a valid zone a date has no meaning; `tz` is reported already.
    if zone_ok {
        let zone = read.zone.clone().unwrap_or_default();
        for (name, value) in dates {
            let end = DATES.iter().find(|(d, _)| *d == name).map(|(_, e)| *e);
            match time_zone::bound(value, end.expect("a date parameter"), &zone) {
                Ok(bound) => {
                    let range = if name.starts_with("completed") {
                        &mut read.query.completed
                    } else {
                        &mut read.query.created
                    };
                    match end {
                        Some(End::Start) => range.start = bound,
                        _ => range.end = bound,
                    }
                }
                Err(message) => violations.push(FieldViolation::new(name, message)),
            }
        }
        for (range, from, to) in [
            (read.query.created, "created_from", "created_to"),
            (read.query.completed, "completed_from", "completed_to"),
        ] {
            if is_empty(range) {
                violations.push(FieldViolation::new(
                    to,
                    format!("must not be before {from}"),
                ));
            }
        }
    }

    match ValidationErrors::from_violations(violations) {
        None => Ok(read),
        Some(errors) => Err(Problem::validation(&errors)),
    }
}

/// Whether a span with both ends holds no instant at all (its end before its start).
fn is_empty(range: TimeRange) -> bool {
    match (range.start, range.end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
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
        "customer" => {
            // The name as the job form stores it: trimmed, at most 200 characters.
            query.customer = match value.trim() {
                "" => None,
                name => Some(CustomerName::parse(name).map_err(|v| v.message)?),
            };
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
    fn the_exports_take_the_filters_and_the_order_and_refuse_paging() {
        let (query, options) =
            csv_export_query(pairs(&[("status", "running"), ("q", "benchy")])).unwrap();
        assert_eq!(query.status, Some(JobStatus::Running));
        assert_eq!(query.text.as_ref().map(|t| t.as_str()), Some("benchy"));
        assert_eq!(
            query.sort.to_string(),
            "created_at:asc",
            "oldest first by default"
        );
        assert_eq!(
            (options.delimiter, options.zone, options.lang),
            (',', None, None)
        );

        let (query, options) = csv_export_query(pairs(&[
            ("sort", "job_name:desc"),
            ("delimiter", ";"),
            ("lang", "de"),
            ("tz", "Europe/Berlin"),
        ]))
        .unwrap();
        assert_eq!(query.sort.to_string(), "job_name:desc");
        assert_eq!((options.delimiter, options.lang), (';', Some(Lang::De)));
        assert_eq!(options.zone.unwrap().name(), "Europe/Berlin");
        let (_, options) = xlsx_export_query(pairs(&[("lang", "en")])).unwrap();
        assert_eq!(options.lang, Some(Lang::En));

        let problem = csv_export_query(pairs(&[
            ("sort", "colour"),
            ("limit", "10"),
            ("offset", "5"),
            ("delimiter", "|"),
            ("lang", "fr"),
            ("colour", "red"),
        ]))
        .unwrap_err();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["sort", "limit", "offset", "delimiter", "lang", "colour"]
        );
        assert!(
            problem.errors()[1]
                .message
                .contains("not supported by the export")
        );
        assert!(
            problem.errors()[5]
                .message
                .contains("use status, printer_id, is_business, q, customer, created_from")
        );
        let problem = xlsx_export_query(pairs(&[("delimiter", ";")])).unwrap_err();
        assert_eq!(fields_of(&problem), ["delimiter"]);
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
        assert_eq!(documented::<FilterParams>(), FILTERS);
        assert_eq!(documented::<ListParams>(), LIST);
        assert_eq!(documented::<SummaryParams>(), SUMMARY);
        assert_eq!(documented::<CsvParams>(), CSV);
        assert_eq!(documented::<XlsxParams>(), XLSX);
        assert_eq!(documented::<PageParams>(), PAGING);
    }

    fn fields_of(problem: &Problem) -> Vec<&str> {
        fields(problem)
    }

    fn fields(problem: &Problem) -> Vec<&str> {
        problem.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_customer_filter_is_the_trimmed_name() {
        let query = job_query(pairs(&[("customer", " Müller GmbH ")])).unwrap();
        assert_eq!(query.customer.unwrap().as_str(), "Müller GmbH");
        assert_eq!(
            job_query(pairs(&[("customer", "  ")])).unwrap().customer,
            None
        );
        let problem = job_query(pairs(&[("customer", &"x".repeat(201))])).unwrap_err();
        assert_eq!(fields(&problem), ["customer"]);
    }

    #[test]
    fn dates_are_whole_days_in_tz_given_before_or_after_them() {
        use time::macros::datetime;
        for list in [
            [
                ("created_from", "2026-11-01"),
                ("created_to", "2026-11-30"),
                ("tz", "Europe/Berlin"),
            ],
            [
                ("tz", "Europe/Berlin"),
                ("created_to", "2026-11-30"),
                ("created_from", "2026-11-01"),
            ],
        ] {
            let query = job_query(pairs(&list)).unwrap();
            assert_eq!(
                query.created,
                TimeRange::new(
                    Bound::Included(datetime!(2026-10-31 23:00 UTC)),
                    Bound::Excluded(datetime!(2026-11-30 23:00 UTC)),
                )
            );
            assert_eq!(query.completed, TimeRange::default());
        }
        let query = job_query(pairs(&[
            ("completed_from", "2026-11-01T00:00:00Z"),
            ("completed_to", "2026-11-30"),
        ]))
        .unwrap();
        assert_eq!(
            query.completed,
            TimeRange::new(
                Bound::Included(datetime!(2026-11-01 00:00 UTC)),
                Bound::Excluded(datetime!(2026-12-01 00:00 UTC)),
            ),
            "UTC by default"
        );
    }

    #[test]
    fn a_bad_date_or_zone_is_named() {
        let problem = job_query(pairs(&[
            ("created_from", "01.11.2026"),
            ("completed_to", "2026-02-30"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&problem), ["created_from", "completed_to"]);
        assert!(problem.errors()[0].message.contains("YYYY-MM-DD"));

        // An unknown zone is reported once; the dates it would place are not judged.
        let problem = job_query(pairs(&[
            ("created_from", "2026-11-01"),
            ("tz", "Europe/Atlantis"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&problem), ["tz"]);
        assert!(problem.errors()[0].message.contains("IANA"));
    }

    #[test]
    fn the_summary_takes_from_and_to_for_the_creation_span() {
        let (query, grouping, zone) = summary_query(pairs(&[
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
            ("tz", "Europe/Berlin"),
            ("group_by", "customer"),
            ("is_business", "true"),
        ]))
        .unwrap();
        let list = job_query(pairs(&[
            ("created_from", "2026-11-01"),
            ("created_to", "2026-11-30"),
            ("tz", "Europe/Berlin"),
            ("is_business", "true"),
        ]))
        .unwrap();
        assert_eq!(query, list);
        assert_eq!(grouping, SummaryGrouping::Customer);
        assert_eq!(zone.name(), "Europe/Berlin");

        let (_, grouping, zone) = summary_query(vec![]).unwrap();
        assert_eq!((grouping, zone), (SummaryGrouping::Month, Zone::default()));

        let problem = summary_query(pairs(&[
            ("from", "2026-11-01"),
            ("created_from", "2026-11-02"),
            ("group_by", "week"),
            ("limit", "5"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&problem), ["group_by", "limit", "from"]);
        // The list knows no `from`.
        assert_eq!(
            fields(&job_query(pairs(&[("from", "2026-11-01")])).unwrap_err()),
            ["from"]
        );
    }

    #[test]
    fn a_span_that_ends_before_it_starts_is_refused() {
        let problem = job_query(pairs(&[
            ("created_from", "2026-12-01"),
            ("created_to", "2026-11-30"),
            ("completed_from", "2026-11-30T12:00:00Z"),
            ("completed_to", "2026-11-30T11:59:59Z"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&problem), ["created_to", "completed_to"]);
        // One day, and one instant, are spans.
        assert!(
            job_query(pairs(&[
                ("created_from", "2026-11-30"),
                ("created_to", "2026-11-30")
            ]))
            .is_ok()
        );
        let t = "2026-11-30T12:00:00Z";
        assert!(job_query(pairs(&[("completed_from", t), ("completed_to", t)])).is_ok());
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
