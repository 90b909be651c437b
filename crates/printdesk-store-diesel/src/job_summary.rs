//! The summary's counts and sums (`JobRepository::summarize`): one grouped query over the
//! jobs the list's filters select, counted and summed by the database, the same statement on
//! both backends but for the two expressions each writes its own way (a timestamp literal,
//! the milliseconds between two timestamps).

use diesel::{
    dsl::sql,
    prelude::*,
    result::Error as DieselError,
    sql_types::{BigInt, Nullable, Text},
};
use printdesk_domain::{GroupValue, JobQuery, SummaryFigures, SummaryGroup, SummaryKey, Timestamp};

use crate::{connection::AnyConnection, job_queries::filter_jobs, rows::to_db_time, schema::jobs};

/// A group's key and figures: jobs, completed, failed, business, print seconds.
type Row = (Option<String>, i64, i64, i64, i64, i64);

/// The figures of the jobs `query` selects, grouped by `key`.
pub(crate) fn summarize(
    conn: &mut AnyConnection,
    query: &JobQuery,
    key: &SummaryKey,
) -> Result<Vec<SummaryGroup>, DieselError> {
    let postgres = matches!(conn, AnyConnection::Postgres(_));
    let group = match key {
        SummaryKey::Customer => "customer_name".to_owned(),
        SummaryKey::Printer => "printer_id".to_owned(),
        SummaryKey::Status => "status".to_owned(),
        SummaryKey::CreatedPeriods(starts) => periods(starts, postgres),
    };
    // A job's print time as `SummaryFigures::of` counts it: exact milliseconds (stored times
    // are whole milliseconds, so rounding the backend's difference recovers them), cut to
    // whole seconds by the integer division.
    let millis = if postgres {
        "ROUND(EXTRACT(EPOCH FROM (completed_at - started_at)) * 1000)"
    } else {
        "ROUND((julianday(completed_at) - julianday(started_at)) * 86400000.0)"
    };
    let count_where = |condition: &str| {
        format!("CAST(COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS BIGINT)")
    };
    let select = format!(
        "{group}, CAST(COUNT(*) AS BIGINT), {completed}, {failed}, {business}, \
         CAST(COALESCE(SUM(CASE WHEN completed_at > started_at \
             THEN CAST({millis} AS BIGINT) / 1000 ELSE 0 END), 0) AS BIGINT)",
        completed = count_where("status = 'completed'"),
        failed = count_where("status = 'failed'"),
        business = count_where("is_business"),
    );
    let grouped = jobs::table
        .group_by(sql::<Nullable<Text>>("1"))
        .select(sql::<(
            Nullable<Text>,
            BigInt,
            BigInt,
            BigInt,
            BigInt,
            BigInt,
        )>(&select))
        .into_boxed();
    let rows: Vec<Row> = filter_jobs(grouped, query, conn).load(conn)?;
    rows.into_iter()
        .map(
            |(value, jobs, completed, failed, business, print_seconds)| {
                let count = |n: i64| u64::try_from(n).unwrap_or_default();
                let value = match key {
                    SummaryKey::CreatedPeriods(_) => GroupValue::Period(
                        value
                            .as_deref()
                            .and_then(|v| v.parse().ok())
                            .ok_or_else(|| {
                                DieselError::DeserializationError(
                                    format!("a period number, not {value:?}").into(),
                                )
                            })?,
                    ),
                    _ => GroupValue::Value(value),
                };
                Ok(SummaryGroup {
                    value,
                    figures: SummaryFigures {
                        jobs: count(jobs),
                        completed: count(completed),
                        failed: count(failed),
                        business: count(business),
                        private: count(jobs - business),
                        print_seconds: count(print_seconds),
                    },
                })
            },
        )
        .collect()
}

/// `CASE WHEN created_at < <start 1> THEN '0' … ELSE '<n>' END`: the period number. The
/// starts are the domain's instants, written as literals (no text from a request reaches
/// this SQL): a bound parameter would make each use of the expression a different one, and
/// PostgreSQL would refuse to group by it.
fn periods(starts: &[Timestamp], postgres: bool) -> String {
    if starts.is_empty() {
        return "'0'".to_owned();
    }
    let mut case = String::from("CASE");
    for (i, start) in starts.iter().enumerate() {
        let literal = literal(*start);
        let literal = if postgres {
            format!("TIMESTAMP '{literal}'")
        } else {
            format!("'{literal}'")
        };
        case.push_str(&format!(" WHEN created_at < {literal} THEN '{i}'"));
    }
    case.push_str(&format!(" ELSE '{}' END", starts.len()));
    case
}

/// A stored timestamp's text as Diesel writes it on SQLite (`2026-11-01 00:00:00`, a
/// fraction only when there is one, without trailing zeros), so that SQLite's text comparison
/// orders it among the stored values; PostgreSQL reads the same text as a timestamp.
fn literal(t: Timestamp) -> String {
    let t = to_db_time(t);
    let whole = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.nanosecond() {
        0 => whole,
        nanos => format!("{whole}.{}", format!("{nanos:09}").trim_end_matches('0')),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn literals_are_written_as_diesel_writes_stored_times() {
        assert_eq!(
            literal(datetime!(2026-10-31 23:00 UTC)),
            "2026-10-31 23:00:00"
        );
        assert_eq!(
            literal(datetime!(2026-10-31 23:00:00.5 UTC)),
            "2026-10-31 23:00:00.5"
        );
        assert_eq!(
            literal(datetime!(2026-11-01 00:00 +1)),
            "2026-10-31 23:00:00",
            "in UTC"
        );
    }

    #[test]
    fn periods_are_numbered_from_zero() {
        let starts = [
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-12-01 00:00 UTC),
        ];
        assert_eq!(
            periods(&starts, false),
            "CASE WHEN created_at < '2026-11-01 00:00:00' THEN '0' \
             WHEN created_at < '2026-12-01 00:00:00' THEN '1' ELSE '2' END"
        );
        assert!(periods(&starts, true).contains("TIMESTAMP '2026-11-01 00:00:00'"));
        assert_eq!(periods(&[], true), "'0'");
    }
}
