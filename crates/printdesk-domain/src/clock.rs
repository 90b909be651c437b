use std::fmt;

use time::OffsetDateTime;

/// A point in time, always UTC and truncated to whole milliseconds.
///
/// Milliseconds are what the API shows, and truncating at the source means a value read back
/// from any store compares equal to the value that was written.
pub type Timestamp = OffsetDateTime;

/// Where the domain gets "now" from; a port so tests can freeze time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, UTC, truncated to milliseconds.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate_to_millis(OffsetDateTime::now_utc())
    }
}

/// Drops everything below a millisecond (see [`Timestamp`]).
pub(crate) fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let millis = t.millisecond();
    t.replace_millisecond(millis)
        .expect("a millisecond read from a valid time is valid")
}
