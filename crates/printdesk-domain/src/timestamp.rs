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
    t.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .expect("every UTC date in range formats")
}

/// Parses any RFC 3339 timestamp and converts it to UTC.
pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339).map(|t| t.to_offset(UtcOffset::UTC))
}

/// Serde serializer for [`format()`].
pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*t))
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
            Some(t) => s.serialize_some(&super::format(*t)),
            None => s.serialize_none(),
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
