//! Calendars for the wire: the `tz` a request names (an IANA name such as `Europe/Berlin`),
//! calendar dates (`2026-11-30`) turned into the instants the domain filters by, the local
//! time an export writes, and where months begin for the summary.
//!
//! The tz database is compiled into the binary (jiff's bundled copy), so a machine without
//! `/usr/share/zoneinfo` answers exactly as any other, and an update of the system's tzdata
//! never changes an answer between two releases.

use std::{fmt, ops::Bound};

use jiff::{
    civil::{Date, DateTime},
    tz::TimeZone,
};
use printdesk_domain::{MonthCalendar, PeriodStart, Timestamp, timestamp};
use time::OffsetDateTime;

/// A time zone a request named, or UTC.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }
}

/// The message for a `tz` that names no zone.
pub const UNKNOWN_ZONE: &str = "must be an IANA time zone name such as Europe/Berlin or UTC";

impl Zone {
    /// The zone with this IANA name (`Europe/Berlin`, `UTC`; case-insensitive, as the tz
    /// database's own lookups are), named by its canonical spelling.
    pub fn parse(name: &str) -> Result<Self, &'static str> {
        // Offsets such as `+01:00` are not zones: a month in them has no daylight saving
        // time, which would make a report quietly wrong for half the year.
        if name.is_empty() || name.starts_with(['+', '-']) {
            return Err(UNKNOWN_ZONE);
        }
        let tz = jiff::tz::db().get(name).map_err(|_| UNKNOWN_ZONE)?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, tz })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first instant of `date` in this zone (midnight, or the first moment after a gap
    /// when the clocks skip midnight).
    fn start_of(&self, date: Date) -> Result<Timestamp, String> {
        let zoned = date
            .to_zoned_datetime(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map_err(|e| format!("cannot be placed in {}: {e}", self.name))?;
        from_jiff(zoned.timestamp())
    }

    /// The wall-clock time in this zone at `t`.
    pub fn local(&self, t: Timestamp) -> DateTime {
        self.tz.to_datetime(to_jiff(t))
    }
}

fn to_jiff(t: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos())
        .expect("every stored timestamp is within jiff's range")
}

fn from_jiff(t: jiff::Timestamp) -> Result<Timestamp, String> {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanosecond())
        .map_err(|_| "is out of range".to_owned())
}

/// Which end of a span a date parameter gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `…_from`: from the instant, or from the start of the day.
    Start,
    /// `…_to`: up to the instant, or to the end of the day (inclusive of the whole day).
    End,
}

/// The message for a value that is neither a date nor a timestamp.
pub const NOT_A_DATE: &str =
    "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp such as 2026-11-30T18:00:00+01:00";

/// Reads a date parameter: an RFC 3339 timestamp is that instant (included); a date is the
/// whole day in `zone`: from its first instant (included), or up to the first instant of the
/// next day (excluded).
pub fn bound(value: &str, end: End, zone: &Zone) -> Result<Bound<Timestamp>, String> {
    if value.len() == 10
        && let Ok(date) = value.parse::<Date>()
    {
        return Ok(match end {
            End::Start => Bound::Included(zone.start_of(date)?),
            End::End => {
                let next = date.tomorrow().map_err(|_| "is out of range".to_owned())?;
                Bound::Excluded(zone.start_of(next)?)
            }
        });
    }
    // An unencoded `+` in a query string arrives as a space: `…T18:00:00 01:00`.
    let instant = timestamp::parse(value)
        .or_else(|e| match value.rfind(' ') {
            Some(i) if i > 10 => timestamp::parse(&format!("{}+{}", &value[..i], &value[i + 1..])),
            _ => Err(e),
        })
        .map_err(|_| NOT_A_DATE.to_owned())?;
    Ok(Bound::Included(instant))
}

impl MonthCalendar for Zone {
    fn month_containing(&self, t: Timestamp) -> PeriodStart {
        let first = self.local(t).date().first_of_month();
        PeriodStart {
            label: month_label(first),
            // Only at the very edge of the calendar can the month's start not be placed.
            start: self.start_of(first).unwrap_or(t),
        }
    }

    fn next_month(&self, month: &PeriodStart) -> Option<PeriodStart> {
        let first = self.local(month.start).date().first_of_month();
        let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
        Some(PeriodStart {
            label: month_label(next),
            start: self.start_of(next).ok()?,
        })
    }
}

/// `2026-11`.
fn month_label(first: Date) -> String {
    format!("{:04}-{:02}", first.year(), first.month())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn berlin() -> Zone {
        Zone::parse("Europe/Berlin").unwrap()
    }

    #[test]
    fn zones_are_iana_names_from_the_bundled_database() {
        assert_eq!(berlin().name(), "Europe/Berlin");
        assert_eq!(
            Zone::parse("europe/berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(Zone::parse("UTC").unwrap(), Zone::default());
        for bad in ["", "Mars/Olympus", "+01:00", "CEST+1", "../etc/passwd"] {
            assert_eq!(Zone::parse(bad).unwrap_err(), UNKNOWN_ZONE, "{bad:?}");
        }
    }

    #[test]
    fn a_date_is_the_whole_day_in_the_zone() {
        assert_eq!(
            bound("2026-11-01", End::Start, &berlin()).unwrap(),
            Bound::Included(datetime!(2026-10-31 23:00 UTC))
        );
        assert_eq!(
            bound("2026-11-30", End::End, &berlin()).unwrap(),
            Bound::Excluded(datetime!(2026-11-30 23:00 UTC))
        );
        // Summer time: the day begins at 22:00 UTC the day before.
        assert_eq!(
            bound("2026-07-01", End::Start, &berlin()).unwrap(),
            Bound::Included(datetime!(2026-06-30 22:00 UTC))
        );
        assert_eq!(
            bound("2026-11-30", End::End, &Zone::default()).unwrap(),
            Bound::Excluded(datetime!(2026-12-01 00:00 UTC))
        );
    }

    #[test]
    fn a_timestamp_is_that_instant_whatever_the_zone() {
        for value in ["2026-11-30T18:00:00+01:00", "2026-11-30T18:00:00 01:00"] {
            assert_eq!(
                bound(value, End::End, &berlin()).unwrap(),
                Bound::Included(datetime!(2026-11-30 17:00 UTC)),
                "{value}"
            );
        }
        assert_eq!(
            bound("2026-11-30T17:00:00.250Z", End::Start, &Zone::default()).unwrap(),
            Bound::Included(datetime!(2026-11-30 17:00:00.25 UTC))
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "30.11.2026",
            "2026-13-01",
            "2026-11-31",
            "2026-11-30T18:00",
            "now",
        ] {
            assert_eq!(
                bound(bad, End::Start, &berlin()).unwrap_err(),
                NOT_A_DATE,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn months_begin_at_local_midnight() {
        let zone = berlin();
        // 23:30 UTC on 31 October is 00:30 on 1 November in Berlin.
        let november = zone.month_containing(datetime!(2026-10-31 23:30 UTC));
        assert_eq!(november.label, "2026-11");
        assert_eq!(november.start, datetime!(2026-10-31 23:00 UTC));
        let december = zone.next_month(&november).unwrap();
        assert_eq!(december.label, "2026-12");
        assert_eq!(december.start, datetime!(2026-11-30 23:00 UTC));
        let january = zone.next_month(&december).unwrap();
        assert_eq!(
            (january.label.as_str(), january.start),
            ("2027-01", datetime!(2026-12-31 23:00 UTC))
        );
        // The calendar ends with year 9999.
        let last = zone.month_containing(datetime!(9999-12-15 00:00 UTC));
        assert_eq!(last.label, "9999-12");
        assert_eq!(zone.next_month(&last), None);
    }
}
