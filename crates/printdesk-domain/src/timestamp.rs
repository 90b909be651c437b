//! The one wire format for timestamps: RFC 3339, UTC, exactly three fractional digits
//! (`2026-11-28T16:34:28.123Z`). Use with `#[serde(with = "printdesk_domain::timestamp")]`.

use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
use time::{
    OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::format_description,
};

const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats a timestamp as RFC 3339 UTC with milliseconds.
///
/// ```
/// use time::macros::datetime;
/// assert_eq!(
///     printdesk_domain::timestamp::format(datetime!(2026-11-28 16:34:28.123 UTC)),
///     "2026-11-28T16:34:28.123Z"
/// );
/// ```
pub fn format(t: OffsetDateTime) -> String {
    match format_four_digit_year(t) {
        Some(ascii) => String::from_utf8(ascii.to_vec()).expect("digits and separators are ASCII"),
        None => t
            .to_offset(UtcOffset::UTC)
            .format(FORMAT)
            .expect("every UTC date in range formats"),
    }
}

/// [`format()`] by hand, into a buffer on the stack, for four-digit years (every timestamp
/// printdesk makes): `time` interprets the format description at run time, and this runs for
/// every timestamp of every job a list returns (measured: 6% of a 50-job list request's CPU).
fn format_four_digit_year(t: OffsetDateTime) -> Option<[u8; 24]> {
    let t = t.to_offset(UtcOffset::UTC);
    let year = u32::try_from(t.year()).ok().filter(|&y| y <= 9999)?;
    let mut out = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut out[0..4], year);
    put_digits(&mut out[5..7], u32::from(u8::from(t.month())));
    put_digits(&mut out[8..10], u32::from(t.day()));
    put_digits(&mut out[11..13], u32::from(t.hour()));
    put_digits(&mut out[14..16], u32::from(t.minute()));
    put_digits(&mut out[17..19], u32::from(t.second()));
    put_digits(&mut out[20..23], u32::from(t.millisecond()));
    Some(out)
}

/// Writes `n` as decimal digits filling `buf`, zero-padded (`n` fits).
fn put_digits(buf: &mut [u8], mut n: u32) {
    for digit in buf.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Parses any RFC 3339 timestamp and converts it to UTC.
pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339).map(|t| t.to_offset(UtcOffset::UTC))
}

/// Serde serializer for [`format()`].
pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    match format_four_digit_year(*t) {
        // No `String`: the bytes go from the stack into the serializer's output.
        Some(ascii) => {
            s.serialize_str(std::str::from_utf8(&ascii).expect("digits and separators are ASCII"))
        }
        None => s.serialize_str(&format(*t)),
    }
}

/// Serde deserializer for [`parse()`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(D::Error::custom)
}

/// The same for `Option<OffsetDateTime>`, with `None` as `null`.
pub mod option {
    use super::*;

    /// Serde serializer for an optional timestamp.
    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&Wire(*t)),
            None => s.serialize_none(),
        }
    }

    /// A timestamp that serializes as [`super::serialize`] does.
    struct Wire(OffsetDateTime);

    impl serde::Serialize for Wire {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(&self.0, s)
        }
    }

    /// Serde deserializer for an optional timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| super::parse(&s).map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_format_equals_the_format_description() {
        let cases = [
            OffsetDateTime::UNIX_EPOCH,
            time::macros::datetime!(0000-01-01 00:00:00.000 UTC),
            time::macros::datetime!(9999-12-31 23:59:59.999999999 UTC),
            time::macros::datetime!(2026-02-28 23:59:59.9996 +01:00),
            time::macros::datetime!(2024-02-29 12:00:00.001 -07:30),
        ];
        let stepped = (0..2_000).map(|i| {
            OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(i * 987_654_321_123 / 70)
        });
        for t in cases.into_iter().chain(stepped) {
            let expected = t.to_offset(UtcOffset::UTC).format(FORMAT).unwrap();
            assert_eq!(format(t), expected, "{t}");
        }
    }

    #[test]
    fn serializers_write_what_format_returns() {
        #[derive(serde::Serialize)]
        struct Stamps {
            #[serde(with = "super")]
            at: OffsetDateTime,
            #[serde(with = "super::option")]
            maybe: Option<OffsetDateTime>,
            #[serde(with = "super::option")]
            never: Option<OffsetDateTime>,
        }
        for t in [
            time::macros::datetime!(2026-11-28 16:34:28.123456 +02:00),
            time::macros::datetime!(-0001-06-01 00:00:00 UTC),
        ] {
            let stamps = Stamps {
                at: t,
                maybe: Some(t),
                never: None,
            };
            assert_eq!(
                serde_json::to_value(&stamps).unwrap(),
                serde_json::json!({ "at": format(t), "maybe": format(t), "never": null }),
                "{t}"
            );
        }
    }

    #[test]
    fn years_outside_four_digits_still_format() {
        let t = time::macros::datetime!(-0001-06-01 00:00:00 UTC);
        assert_eq!(format(t), t.format(FORMAT).unwrap());
    }
}
