//! Reading stored timestamps quickly on SQLite.
//!
//! SQLite keeps a timestamp as text (`2026-11-28 16:34:28.123`). Diesel reads it by trying up
//! to 18 format descriptions, each interpreted at run time by `time`: with five timestamps per
//! job that was 6% of the CPU of a 50-job list. [`DbTime`] reads the one shape Diesel writes
//! by hand and hands anything else to Diesel. PostgreSQL sends a binary timestamp, which Diesel
//! reads directly.
//!
//! Used as `#[diesel(deserialize_as = …)]` on row fields, so rows keep `PrimitiveDateTime`
//! and writing is untouched.

use diesel::{
    backend::Backend,
    deserialize::{self, FromSql, FromSqlRow},
    pg::Pg,
    sql_types::{Nullable, Timestamp},
    sqlite::{Sqlite, SqliteType},
};
use time::{Date, Month, PrimitiveDateTime, Time};

type MultiBackend = <crate::connection::AnyConnection as diesel::Connection>::Backend;

/// A stored timestamp as read from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub(crate) struct DbTime(PrimitiveDateTime);

/// A stored timestamp that may be NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub(crate) struct NullableDbTime(Option<PrimitiveDateTime>);

impl From<DbTime> for PrimitiveDateTime {
    fn from(t: DbTime) -> Self {
        t.0
    }
}

impl From<NullableDbTime> for Option<PrimitiveDateTime> {
    fn from(t: NullableDbTime) -> Self {
        t.0
    }
}

impl FromSql<Timestamp, Sqlite> for DbTime {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        // Only a text value: asking SQLite for the text of a number converts it in place.
        if value.value_type() == Some(SqliteType::Text)
            && let Some(t) = parse_sqlite_text(value.read_text())
        {
            return Ok(Self(t));
        }
        <PrimitiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for DbTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <PrimitiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for DbTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB: Backend> FromSql<Nullable<Timestamp>, DB> for NullableDbTime
where
    DbTime: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        DbTime::from_sql(value).map(|t| Self(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), Self::from_sql)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits, as Diesel writes a
/// `PrimitiveDateTime` to SQLite; `None` for any other text.
fn parse_sqlite_text(s: &str) -> Option<PrimitiveDateTime> {
    let b = s.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if b.len() < 19 || separators.iter().any(|&(at, sep)| b[at] != sep) {
        return None;
    }
    let nanosecond = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    let month = Month::try_from(u8::try_from(number(&b[5..7])?).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(number(&b[8..10])?).ok()?);
    let time = Time::from_hms_nano(
        u8::try_from(number(&b[11..13])?).ok()?,
        u8::try_from(number(&b[14..16])?).ok()?,
        u8::try_from(number(&b[17..19])?).ok()?,
        nanosecond,
    );
    Some(PrimitiveDateTime::new(date.ok()?, time.ok()?))
}

/// The decimal number `digits` spells, if they are all ASCII digits (at most nine).
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use diesel::{Connection, RunQueryDsl, SqliteConnection, sql_types::Text};
    use time::macros::datetime;

    use super::*;

    #[derive(Debug, diesel::QueryableByName)]
    struct Read {
        #[diesel(sql_type = Timestamp)]
        #[diesel(deserialize_as = DbTime)]
        t: PrimitiveDateTime,
    }

    /// What Diesel itself reads from `text`, through its own `FromSql`.
    fn diesel_reads(conn: &mut SqliteConnection, text: &str) -> Option<PrimitiveDateTime> {
        #[derive(diesel::QueryableByName)]
        struct Plain {
            #[diesel(sql_type = Timestamp)]
            t: PrimitiveDateTime,
        }
        diesel::sql_query("SELECT ? AS t")
            .bind::<Text, _>(text)
            .get_result::<Plain>(conn)
            .ok()
            .map(|p| p.t)
    }

    fn db_time_reads(conn: &mut SqliteConnection, text: &str) -> Option<PrimitiveDateTime> {
        diesel::sql_query("SELECT ? AS t")
            .bind::<Text, _>(text)
            .get_result::<Read>(conn)
            .ok()
            .map(|r| r.t)
    }

    #[test]
    fn the_written_shape_is_read_by_hand_as_diesel_reads_it() {
        for text in [
            "2026-11-28 16:34:28",
            "2026-11-28 16:34:28.1",
            "2026-11-28 16:34:28.123",
            "2026-11-28 16:34:28.123456789",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
            "2024-02-29 12:00:00.5",
        ] {
            let by_hand = parse_sqlite_text(text);
            assert!(by_hand.is_some(), "{text} is the shape Diesel writes");
            let mut conn = SqliteConnection::establish(":memory:").unwrap();
            assert_eq!(by_hand, diesel_reads(&mut conn, text), "{text}");
        }
    }

    #[test]
    fn other_shapes_go_to_diesel_and_read_the_same() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        for text in [
            "2026-11-28T16:34:28.123",
            "2026-11-28 16:34:28.123Z",
            "2026-11-28 16:34:28.123+02:00",
            "2026-11-28 16:34",
            "2026-11-28 16:34:28.",
            "2026-11-28 16:34:28.1234567890",
            "2025-02-29 12:00:00",
            "2026-13-01 00:00:00",
            "2026-11-28 24:00:00",
            "2026-1x-28 16:34:28",
            "2461007.5",
            "not a time",
        ] {
            assert_eq!(
                parse_sqlite_text(text),
                None,
                "{text} is not the written shape"
            );
            assert_eq!(
                db_time_reads(&mut conn, text),
                diesel_reads(&mut conn, text),
                "{text}"
            );
        }
    }

    #[test]
    fn what_diesel_writes_takes_the_quick_path() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        for t in [
            datetime!(2026-11-28 16:34:28),
            datetime!(2026-11-28 16:34:28.123),
            datetime!(2026-11-28 16:34:28.000001),
            datetime!(1999-12-31 23:59:59.999999999),
        ] {
            #[derive(diesel::QueryableByName)]
            struct Written {
                #[diesel(sql_type = Text)]
                text: String,
            }
            let written: Written = diesel::sql_query("SELECT CAST(? AS TEXT) AS text")
                .bind::<Timestamp, _>(t)
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(
                parse_sqlite_text(&written.text),
                Some(t),
                "{}",
                written.text
            );
            let read: Read = diesel::sql_query("SELECT ? AS t")
                .bind::<Timestamp, _>(t)
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(read.t, t);
        }
    }

    #[test]
    fn a_number_is_still_read_as_a_julian_day() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let read: Read = diesel::sql_query("SELECT 2461007.5 AS t")
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(read.t, datetime!(2025-11-28 00:00:00));
    }
}
