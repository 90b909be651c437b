//! How often a printer's live status is sent: every change at once, progress at most once a
//! second (contract: "at most one per printer per second for progress-only changes").

use time::Duration;

use super::status::PrinterStatus;
use crate::clock::Timestamp;

/// The least time between two `printer_status` messages of one printer that differ only in
/// progress. A Bambu printer reports about twice a second and an OctoPrint push socket up to
/// twice a second; a farm of them must not flood every browser.
pub const PROGRESS_INTERVAL: Duration = Duration::seconds(1);

/// Whether `next` differs from `previous` only in what moves while a print runs: progress,
/// time left and when the printer was last heard from.
pub fn is_progress_only(previous: &PrinterStatus, next: &PrinterStatus) -> bool {
    PrinterStatus {
        progress: next.progress,
        remaining_s: next.remaining_s,
        last_seen: next.last_seen,
        ..previous.clone()
    } == *next
}

/// One printer's last sent status, deciding whether the next must be sent now.
///
/// ```
/// use printdesk_domain::monitoring::{PrinterState, PrinterStatus, StatusThrottle};
/// use time::{Duration, macros::datetime};
///
/// let t0 = datetime!(2026-12-01 10:00 UTC);
/// let at = |progress| PrinterStatus { state: PrinterState::Printing, progress: Some(progress), ..PrinterStatus::default() };
/// let mut throttle = StatusThrottle::default();
/// assert!(throttle.should_send(&at(1.0), t0));
/// assert!(!throttle.should_send(&at(2.0), t0 + Duration::milliseconds(400)));
/// assert!(throttle.should_send(&at(3.0), t0 + Duration::seconds(1)));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusThrottle {
    last: Option<(PrinterStatus, Timestamp)>,
}

impl StatusThrottle {
    /// Whether `next` must be sent at `now`; when it must, it is remembered as sent.
    ///
    /// Sent: the first status, and any change beyond progress. A progress-only change is sent
    /// once [`PROGRESS_INTERVAL`] has passed since the last one sent; a status equal to the
    /// last one sent never is. Because the comparison is with the last status *sent*, a
    /// progress change held back is carried by the next one that goes out.
    pub fn should_send(&mut self, next: &PrinterStatus, now: Timestamp) -> bool {
        let send = match &self.last {
            None => true,
            Some((sent, _)) if sent == next => false,
            Some((sent, at)) if is_progress_only(sent, next) => now - *at >= PROGRESS_INTERVAL,
            Some(_) => true,
        };
        if send {
            self.last = Some((next.clone(), now));
        }
        send
    }

    /// The last status sent, if any.
    pub fn last_sent(&self) -> Option<&PrinterStatus> {
        self.last.as_ref().map(|(status, _)| status)
    }
}
