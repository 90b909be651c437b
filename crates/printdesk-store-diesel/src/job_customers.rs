//! The customers' autocomplete (`JobRepository::customers`): one grouped query over the range
//! of the `jobs_customer_fold` index that holds the folded names beginning with the prefix,
//! the same statement on both backends but for the tie-break on the stored text (byte order,
//! which PostgreSQL is told with `COLLATE "C"`).

use diesel::{
    dsl::sql,
    prelude::*,
    result::Error as DieselError,
    sql_types::{BigInt, Nullable, Text},
};
use printdesk_domain::{CustomerCount, CustomerQuery};

use crate::{connection::AnyConnection, schema::jobs};

/// The customer names `query` asks for, with their job counts, in the port's order.
pub(crate) fn customers(
    conn: &mut AnyConnection,
    query: &CustomerQuery,
) -> Result<Vec<CustomerCount>, DieselError> {
    // The collation key orders as the domain's `collate`, names that differ only in case or
    // accents apart; equal keys (canonically equivalent spellings) by the stored bytes.
    let by_text = match conn {
        AnyConnection::Sqlite(_) => "customer_name",
        AnyConnection::Postgres(_) => "customer_name COLLATE \"C\"",
    };
    let mut q = jobs::table
        .group_by(sql::<Nullable<Text>>(
            "customer_fold, customer_key, customer_name",
        ))
        .select(sql::<(Nullable<Text>, BigInt)>(
            "customer_name, CAST(COUNT(*) AS BIGINT)",
        ))
        .order_by(sql::<BigInt>(&format!(
            "COUNT(*) DESC, customer_key ASC, {by_text} ASC"
        )))
        .limit(i64::from(query.limit()))
        .into_boxed()
        .filter(jobs::customer_fold.is_not_null());
    if let Some(range) = query.range() {
        q = q.filter(jobs::customer_fold.ge(range.prefix));
        if let Some(end) = range.end {
            q = q.filter(jobs::customer_fold.lt(end));
        }
    }
    let rows: Vec<(Option<String>, i64)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, jobs)| {
            Some(CustomerCount {
                name: name?,
                jobs: u64::try_from(jobs).unwrap_or_default(),
            })
        })
        .collect())
}
